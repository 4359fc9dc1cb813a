"""The annotation exports (build/annotations.py): W3C Web Annotation JSON-LD, spaCy/Prodigy JSONL, brat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eurasec.build.annotations import (
    BRAT_CONF,
    BRAT_DIR,
    SPANS,
    WEB_ANNOTATIONS,
    _fragments,
    export_annotations,
)
from eurasec.build.context import ReleaseInput
from eurasec.build.typed import typed_from_text
from eurasec.contribute.fmt import format_package
from eurasec.model.descriptor import DOCUMENT, END, QUOTE, START
from eurasec.model.mentions import find_mentions
from eurasec.model.schema import cites_offsets
from eurasec.validate import validate

from .conftest import DESCRIPTOR, STAKHOVSKY, csv_rows
from .test_mentions import SECOND, add_second, read_tables, seeds


def release_input(descriptor: Path) -> ReleaseInput:
    """What the build hands its exporters: the package and its typed tables."""
    report = validate(descriptor)
    assert report.valid
    package = report.dataset.package
    tables = {r.name: typed_from_text(r, report.dataset.tables[r.name].columns) for r in package.resources}
    return ReleaseInput(package=package, tables=tables)


def exported(descriptor: Path, folder: Path) -> ReleaseInput:
    release = release_input(descriptor)
    folder.mkdir()
    export_annotations(release, folder)
    return release


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("release") / "r"
    release = exported(DESCRIPTOR, folder)
    # A .txt and an .ann per document stored with its text, counted from the data.
    stored = [row["id"] for row in csv_rows("documents") if row["path"]]
    assert STAKHOVSKY in stored
    assert set(release.written) == {
        WEB_ANNOTATIONS,
        SPANS,
        BRAT_CONF,
        *(f"{BRAT_DIR}/{doc}.{ext}" for doc in stored for ext in ("txt", "ann")),
    }
    assert all(path == folder / name for name, path in release.written.items())
    return folder


def citing_rows(descriptor: Path = DESCRIPTOR) -> list[tuple[str, str, int, int, str]]:
    """(table, document, start, end, quote) of every row that cites a place in a seed."""
    release = release_input(descriptor)
    rows = []
    for resource in release.package.resources:
        if cites_offsets(resource):
            names = [resource.role_field(role).name for role in (DOCUMENT, START, END, QUOTE)]  # type: ignore[union-attr]
            for row in release.tables[resource.name].select(names).to_pylist():
                rows.append((resource.name, *(row[n] for n in names)))
    return rows


def test_web_annotations_are_json_ld_with_consistent_selectors(out: Path):
    path = out / WEB_ANNOTATIONS
    collection = json.loads(path.read_text(encoding="utf-8"))
    assert collection["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert collection["type"] == "AnnotationCollection"
    items = collection["first"]["items"]
    assert collection["total"] == len(items)
    texts = seeds()
    mentions = find_mentions(release_input(DESCRIPTOR).package, read_tables(DESCRIPTOR.parent), texts)
    by_kind = {"identifying": 0, "describing": 0}
    for item in items:
        assert item["type"] == "Annotation" and item["id"].startswith("#")
        by_kind[item["motivation"]] += 1
        target = item["target"]
        source = (path.parent / target["source"]).read_bytes().decode("utf-8")  # the seed, byte-exact
        quote, position = target["selector"]
        assert quote["type"] == "TextQuoteSelector" and position["type"] == "TextPositionSelector"
        start, end = position["start"], position["end"]
        assert source[start:end] == quote["exact"]
        assert quote["prefix"] == source[max(0, start - 32) : start] and quote["suffix"] == source[end : end + 32]
        assert target["scope"].startswith("https://")
        assert all(body["type"] == "TextualBody" for body in item["body"])
    assert len({item["id"] for item in items}) == len(items)
    assert by_kind == {"identifying": len(mentions), "describing": len(citing_rows())}
    # each mention names its entity; each citation its fact and the entities it refers to
    first = next(  # the first mention in the Stakhovsky seed: "Belarus", in its title
        item
        for item in items
        if item["motivation"] == "identifying" and item["target"]["source"] == f"brat/{STAKHOVSKY}.txt"
    )
    assert first["body"][0] == {"type": "TextualBody", "purpose": "identifying", "value": "actors/belarus"}
    assert first["body"][1]["value"] == "Belarus"
    relation = next(item for item in items if item["id"].startswith("#affiliations-"))
    assert relation["body"][0]["value"].startswith("affiliations ")
    assert {b["value"].split("/")[0] for b in relation["body"][1:]} == {"actors", "organizations"}
    places = [(i["target"]["source"], i["target"]["selector"][1]["start"]) for i in items]
    assert places == sorted(places)


def test_the_spans_load_into_spacy(out: Path):
    lines = (out / SPANS).read_text(encoding="utf-8").splitlines()
    texts = seeds()
    assert len(lines) == len(texts)
    tasks = [json.loads(line) for line in lines]
    assert [t["meta"]["document_id"] for t in tasks] == sorted(texts)
    for task in tasks:
        text = task["text"]
        assert text == texts[task["meta"]["document_id"]]
        assert task["spans"] and all(set(s) == {"start", "end", "label", "kb_id"} for s in task["spans"])
        for span in task["spans"]:
            assert span["kb_id"].startswith(span["label"] + "/")
    try:
        import spacy
    except ImportError:  # spaCy is not installed: the offsets are checked against the text above
        return
    nlp = spacy.blank("en")
    for task in tasks:
        doc = nlp.make_doc(task["text"])
        for span in task["spans"]:
            made = doc.char_span(span["start"], span["end"], label=span["label"], kb_id=span["kb_id"])
            assert made is not None, span  # on token boundaries, as spaCy's tokenizer cuts the text
            assert made.text == task["text"][span["start"] : span["end"]]
            assert made.label_ == span["label"]


def parse_brat(ann: str) -> tuple[dict[str, tuple[str, list[tuple[int, int]], str]], dict[str, str]]:
    """brat's text-bound annotations (id -> type, fragments, text) and notes (annotation id -> note)."""
    spans, notes = {}, {}
    for line in ann.splitlines():
        key, middle, rest = line.split("\t", 2)
        if key.startswith("T"):
            kind, offsets = middle.split(" ", 1)
            fragments = [(int(a), int(b)) for a, b in (f.split(" ") for f in offsets.split(";"))]
            spans[key] = (kind, fragments, rest)
        else:
            assert key.startswith("#") and middle.startswith("AnnotatorNotes T")
            notes[middle.split(" ")[1]] = rest
    return spans, notes


def check_brat(folder: Path, document: str, seed: str) -> dict[str, tuple[str, list[tuple[int, int]], str]]:
    txt = folder / BRAT_DIR / f"{document}.txt"
    assert txt.read_bytes() == seed.encode("utf-8")
    text = txt.read_bytes().decode("utf-8")  # brat reads the text as UTF-8 and counts characters
    spans, notes = parse_brat((folder / BRAT_DIR / f"{document}.ann").read_text(encoding="utf-8"))
    assert set(notes) == set(spans)
    declared = set((folder / BRAT_CONF).read_text(encoding="utf-8").split("\n"))
    for kind, fragments, shown in spans.values():
        assert kind in declared
        assert all("\n" not in text[a:b] and a < b for a, b in fragments)
        assert " ".join(text[a:b] for a, b in fragments) == shown
    return spans


def test_brat_spans_are_the_texts_slices(out: Path):
    texts = seeds()
    spans = check_brat(out, STAKHOVSKY, texts[STAKHOVSKY])
    kinds = [kind for kind, _, _ in spans.values()]
    # The document's own mentions and citations, whatever other documents hold.
    own = {STAKHOVSKY: texts[STAKHOVSKY]}
    assert kinds.count("actors") + kinds.count("organizations") + kinds.count("initiatives") == len(
        find_mentions(release_input(DESCRIPTOR).package, read_tables(DESCRIPTOR.parent), own)
    )
    cited = [row for row in citing_rows() if row[1] == STAKHOVSKY]
    assert len(spans) - len([k for k in kinds if k in ("actors", "organizations", "initiatives")]) == len(cited)


def test_a_passage_across_lines_is_cut_into_fragments(package_copy: Path, tmp_path: Path):
    add_second(package_copy)
    start = SECOND.index("Security.\nThe UN")
    end = start + len("Security.\nThe UN Security Council")
    with open(package_copy / "data" / "organization_citations.csv", "a", encoding="utf-8", newline="") as f:
        f.write(f'un-security-council,second,{start},{end},"{SECOND[start:end]}"\n')
    format_package(package_copy / "datapackage.json")  # the row where its key puts it
    exported(package_copy / "datapackage.json", tmp_path / "r")
    spans = check_brat(tmp_path / "r", "second", SECOND)
    (fragmented,) = [s for s in spans.values() if len(s[1]) > 1]
    assert fragmented == (
        "organization_citations",
        [(start, start + len("Security.")), (start + len("Security.\n"), end)],
        "Security. The UN Security Council",
    )
    assert _fragments("a\r\n\r\nb", 0, 6) == ("0 1;5 6", "a b")


def test_the_exports_are_byte_identical_across_two_builds(out: Path, tmp_path: Path):
    exported(DESCRIPTOR, tmp_path / "again")
    for name in (WEB_ANNOTATIONS, SPANS, BRAT_CONF, f"{BRAT_DIR}/{STAKHOVSKY}.ann"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name


def test_made_a_part_at_a_time_the_files_are_the_same(package_copy: Path, tmp_path: Path, monkeypatch):
    from eurasec.build import annotations

    add_second(package_copy)
    whole = tmp_path / "whole"
    exported(package_copy / "datapackage.json", whole)
    monkeypatch.setattr(annotations, "BATCH", 3)  # batches that split documents and mix sources
    parts = tmp_path / "parts"
    release = exported(package_copy / "datapackage.json", parts)
    assert {f"{BRAT_DIR}/second.txt", f"{BRAT_DIR}/second.ann"} <= set(release.written)
    for name in release.written:
        assert (parts / name).read_bytes() == (whole / name).read_bytes(), name
    monkeypatch.setattr(annotations, "BATCH", 1)  # one annotation at a time
    single = tmp_path / "single"
    assert list(exported(package_copy / "datapackage.json", single).written) == list(release.written)
    for name in release.written:
        assert (single / name).read_bytes() == (whole / name).read_bytes(), name
    items = json.loads((parts / WEB_ANNOTATIONS).read_text(encoding="utf-8"))["first"]["items"]
    stored = [row["id"] for row in csv_rows("documents", package_copy) if row["path"]]
    assert {item["target"]["source"] for item in items} == {f"brat/{doc}.txt" for doc in stored}
    assert {"brat/second.txt", f"brat/{STAKHOVSKY}.txt"} <= {f"brat/{doc}.txt" for doc in stored}

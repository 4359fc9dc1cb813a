"""The annotation writers (build/annotations.py) on hostile values: quotes, backslashes, every control
character, line and paragraph separators, line breaks of every kind and text beyond ASCII, in the seed
(so in the quotes and selectors), in entity ids and names, and in the fields that describe a fact. Every
JSON file must parse back to exactly the values, written as json.dumps writes them; brat must keep its
rules; and the batch size must change no byte."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from eurasec.build import annotations
from eurasec.build.annotations import (
    BRAT_CONF,
    BRAT_DIR,
    SPANS,
    WEB_ANNOTATIONS,
    _fragments,
    _order,
    _Seeds,
    export_annotations,
)
from eurasec.build.context import ReleaseInput
from eurasec.build.mentions import JSON, escape_one, escape_rows, release_mentions
from eurasec.build.typed import typed_from_text
from eurasec.model.descriptor import DOCUMENT, END, QUOTE, START
from eurasec.model.mentions import entity_tables
from eurasec.model.schema import cites_offsets
from eurasec.read.dataset import load_dataset

from .conftest import DESCRIPTOR, ROOT, STAKHOVSKY

CONTROLS = "".join(chr(c) for c in range(32))
HOSTILE_ID = 'zörg "q" \\ back\\slash \u2028\u2029 \x85 é 𝄞 tab\there nl\nhere cr\rhere' + CONTROLS
HOSTILE_NAME = 'Zörg "Quoted" Back\\Slash Ltd'  # named in the seed, so found as a mention
HOSTILE_FIELD = 'chief  of\t"staff"\n\\ \u2028 \x00\x01\x1f é 𝄞 \r\n end '
HOSTILE_TEXT = (
    f'\r\n\r\nHostile: the {HOSTILE_NAME} said "{CONTROLS}" and \\ back\\slash,\u2028 a separator,'
    "\u2029 a paragraph,\x85 a next line,\x0b\x0c\x1c\x1d\x1e breaks of all kinds, é 𝄞 Минск.\r\n"
    f"And {HOSTILE_NAME} again\n\n\nat the end.\n"
)
ONE_LINE = re.compile(r"[\t\n\f\r ]+")  # RE2's \s, as the exporter folds a value onto one line


def one_line(value: Any) -> str:
    return "" if value is None else ONE_LINE.sub(" ", str(value))


def with_rows(table: pa.Table, rows: list[dict[str, Any]]) -> pa.Table:
    """The table with rows added at its end (the exporter numbers rows by their place); a field a row
    leaves out is its first row's."""
    first = table.slice(0, 1).to_pylist()[0]
    schema = pa.schema([pa.field(f.name, f.type, nullable=True) for f in table.schema])  # an unvalidated null
    added = pa.Table.from_pylist([{**first, **row} for row in rows], schema=schema)
    return pa.concat_tables([table.cast(schema), added])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReleaseInput, str]:
    """The real package, not validated, with a hostile passage at the end of a seed, an actor with a hostile
    id named in it, and facts citing it: an actor citation across lines and an affiliation whose position
    is hostile."""
    root = tmp_path_factory.mktemp("hostile")
    shutil.copy2(DESCRIPTOR, root / "datapackage.json")
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copytree(ROOT / "seeds", root / "seeds")
    dataset = load_dataset(root / "datapackage.json")
    package = dataset.package
    tables = {r.name: typed_from_text(r, dataset.tables[r.name].columns) for r in package.resources}
    documents = tables["documents"].to_pylist()
    seed_path = root / next(row["path"] for row in documents if row["id"] == STAKHOVSKY)
    text = seed_path.read_bytes().decode("utf-8") + HOSTILE_TEXT
    seed_path.write_bytes(text.encode("utf-8"))
    tables["actors"] = with_rows(tables["actors"], [{"id": HOSTILE_ID, "name": HOSTILE_NAME, "description": None}])
    quoted = text.index("Hostile:")
    cited = (quoted, text.index("at the end."))  # across every kind of line break
    tables["actor_citations"] = with_rows(
        tables["actor_citations"],
        [{"actor_id": HOSTILE_ID, "document_id": STAKHOVSKY, "start": cited[0], "end": cited[1], "quote": ""}],
    )
    organization = tables["organizations"].column("id")[0].as_py()
    tables["affiliations"] = with_rows(
        tables["affiliations"],
        [
            {
                "actor_id": HOSTILE_ID,
                "organization_id": organization,
                "relation": 'a "relation"\\',
                "position": HOSTILE_FIELD,
                "document_id": STAKHOVSKY,
                "start": quoted,
                "end": quoted + len(f"Hostile: the {HOSTILE_NAME}"),
                "quote": "",
            },
            {  # nothing described but the actor, and no organization: its body names the actor alone
                "actor_id": HOSTILE_ID,
                "organization_id": None,
                "relation": None,
                "position": "",
                "document_id": STAKHOVSKY,
                "start": 0,
                "end": 0,
                "quote": "",
            },
            {  # no actor: the note begins with the organization, no "; " before it
                "actor_id": None,
                "organization_id": organization,
                "relation": HOSTILE_FIELD,
                "position": None,
                "document_id": STAKHOVSKY,
                "start": cited[1],
                "end": len(text),
                "quote": "",
            },
            {"actor_id": None, "organization_id": None, "relation": "", "position": None, "document_id": STAKHOVSKY},
        ],
    )
    return ReleaseInput(package=package, tables=tables), text


def exported(release: ReleaseInput, folder: Path, batch: int | None = None) -> Path:
    release = ReleaseInput(package=release.package, tables=release.tables)  # a fresh `written`
    folder.mkdir(parents=True)
    export_annotations(release, folder, batch)
    return folder


@pytest.fixture(scope="module")
def out(hostile: tuple[ReleaseInput, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return exported(hostile[0], tmp_path_factory.mktemp("out") / "r")


def expected_note(release: ReleaseInput, table: str, number: int) -> tuple[str, list[str]]:
    """What a citing row's body says, worked out here from the row: `<table> <n>: field=value; …` and the
    entities it identifies."""
    resource = next(r for r in release.package.resources if r.name == table)
    row = release.tables[table].slice(number - 1, 1).to_pylist()[0]
    roles = {resource.role_field(r).name for r in (DOCUMENT, START, END, QUOTE)}  # type: ignore[union-attr]
    described = [(f.name, one_line(row[f.name])) for f in resource.fields if f.name not in roles]
    fields = [f"{name}={value}" for name, value in described if value]
    entities = {r.name for r in entity_tables(release.package)}
    identified = [
        f"{fk.resource}/{row[fk.fields[0]]}"
        for fk in resource.foreign_keys
        if len(fk.fields) == 1 and fk.resource in entities and row[fk.fields[0]] is not None
    ]
    return f"{table} {number}: {'; '.join(fields)}", identified


def test_the_json_ld_parses_back_to_exactly_the_values(hostile: tuple[ReleaseInput, str], out: Path):
    release, text = hostile
    raw = (out / WEB_ANNOTATIONS).read_text(encoding="utf-8")
    collection = json.loads(raw)  # the whole file is one JSON document
    items = collection["first"]["items"]
    assert collection["total"] == len(items)
    lines = raw.split("\n")[1:-2]
    assert len(lines) == len(items)
    for line, item in zip(lines, items, strict=True):  # each line as json.dumps writes it
        assert line.removesuffix(",") == json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    mentions = release_mentions(ReleaseInput(package=release.package, tables=release.tables)).mentions.to_list()
    names = {
        (r.name, row["id"]): row["name"]
        for r in entity_tables(release.package)
        for row in release.tables[r.name].select(["id", "name"]).to_pylist()
    }
    seen = {"mention": 0, "actor_citations": 0, "affiliations": 0}
    for item in items:
        kind, number = item["id"][1:].rsplit("-", 1)
        quote, position = item["target"]["selector"]
        start, end = position["start"], position["end"]
        document = item["target"]["source"].removeprefix("brat/").removesuffix(".txt")
        if document == STAKHOVSKY:
            assert quote["exact"] == text[start:end]
            assert quote["prefix"] == text[max(0, start - 32) : start] and quote["suffix"] == text[end : end + 32]
        values = [body["value"] for body in item["body"]]
        if kind == "mention":
            mention = mentions[int(number) - 1]
            assert (mention.document_id, mention.start, mention.end) == (document, start, end)
            assert quote["exact"] == mention.exact and quote["prefix"] == mention.prefix
            assert values == [
                f"{mention.entity_table}/{mention.entity_id}",
                one_line(names[(mention.entity_table, mention.entity_id)]),
            ]
        else:
            note, identified = expected_note(release, kind, int(number))
            assert values == [note, *identified]
        if f"actors/{HOSTILE_ID}" in values:
            seen[kind] = seen.get(kind, 0) + 1
    assert seen["mention"] >= 2 and seen["actor_citations"] == 1 and seen["affiliations"] == 2, seen


def test_the_spans_parse_back_and_fit_the_text(hostile: tuple[ReleaseInput, str], out: Path):
    _, text = hostile
    raw = (out / SPANS).read_text(encoding="utf-8")
    lines = raw.split("\n")  # not splitlines: U+2028 and U+0085 are text here
    assert lines[-1] == ""
    for line in lines[:-1]:
        task = json.loads(line)
        assert line == json.dumps(task, ensure_ascii=False)
        if task["meta"]["document_id"] == STAKHOVSKY:
            assert task["text"] == text
            hostile_spans = [s for s in task["spans"] if s["kb_id"] == f"actors/{HOSTILE_ID}"]
            assert len(hostile_spans) == 2
            assert all(text[s["start"] : s["end"]] == HOSTILE_NAME for s in hostile_spans)


def test_brat_keeps_its_rules_on_hostile_text(hostile: tuple[ReleaseInput, str], out: Path):
    release, text = hostile
    assert (out / BRAT_DIR / f"{STAKHOVSKY}.txt").read_bytes() == text.encode("utf-8")
    ann = (out / BRAT_DIR / f"{STAKHOVSKY}.ann").read_text(encoding="utf-8")
    lines = ann.split("\n")
    assert lines[-1] == "" and len(lines[:-1]) % 2 == 0
    declared = set((out / BRAT_CONF).read_text(encoding="utf-8").split("\n"))
    notes = []
    for k, (bound, note) in enumerate(zip(lines[:-1:2], lines[1::2], strict=True), start=1):
        key, middle, shown = bound.split("\t", 2)
        kind, offsets = middle.split(" ", 1)
        assert key == f"T{k}" and kind in declared
        fragments = [(int(a), int(b)) for a, b in (f.split(" ") for f in offsets.split(";"))] if offsets else []
        for a, b in fragments:
            assert not set(text[a:b]) & set(annotations._LINE_BREAKS), (a, b)
        assert " ".join(text[a:b] for a, b in fragments) == shown
        number, label, rest = note.split("\t", 2)
        assert number == f"#{k}" and label == f"AnnotatorNotes T{k}"
        assert "\t" not in rest and "\n" not in rest and "\r" not in rest
        notes.append(rest)
    assert f"actors/{one_line(HOSTILE_ID)}" in notes
    cross = text.index("Hostile:"), text.index("at the end.")
    assert expected_note(release, "actor_citations", release.tables["actor_citations"].num_rows)[0] in notes
    fragmented = [line for line in lines if line.startswith("T") and ";" in line.split("\t")[1]]
    assert fragmented, "the passage across lines is written as fragments"
    assert any(line.split("\t")[1].split(" ", 1)[1] == _fragments(text, *cross)[0] for line in fragmented)


def test_a_tiny_batch_changes_no_byte(hostile: tuple[ReleaseInput, str], out: Path, tmp_path: Path, monkeypatch):
    release, _ = hostile
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert {WEB_ANNOTATIONS, SPANS, BRAT_CONF} <= {str(p) for p in files}
    for batch in (1, 2, 3, 7):
        again = exported(release, tmp_path / f"b{batch}", batch)
        assert sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file()) == files
        for name in files:
            assert (again / name).read_bytes() == (out / name).read_bytes(), (batch, name)
    monkeypatch.setattr(annotations, "BATCH", 3)
    again = exported(release, tmp_path / "module")
    for name in files:
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_two_exports_are_byte_identical(hostile: tuple[ReleaseInput, str], out: Path, tmp_path: Path):
    again = exported(hostile[0], tmp_path / "again")
    for path in out.rglob("*"):
        if path.is_file():
            assert (again / path.relative_to(out)).read_bytes() == path.read_bytes(), path


# --- the column-wise pieces ------------------------------------------------------------------------------


def test_fragments_column_wise_are_those_of_splitlines():
    text = "a\r\n\r\nb" + HOSTILE_TEXT + "x\x0by\u2028\u2029z\n"
    seeds = _Seeds(["pre\nface", text])
    n = len(text)
    pairs = [(s, e) for s in range(0, n, 3) for e in range(s, min(n, s + 40) + 1, 2)]
    start = np.array([p[0] for p in pairs], np.int64)
    end = np.array([p[1] for p in pairs], np.int64)
    shown, offsets = seeds.brat(np.ones(len(pairs), np.int64), start, end)
    assert offsets is not None
    expected = [_fragments(text, s, e) for s, e in pairs]
    plain = [f"{s} {e}" for s, e in pairs]
    made = list(zip(offsets.to_pylist(), shown.to_pylist(), strict=True))
    for (s, e), got, want, simple in zip(pairs, made, expected, plain, strict=True):
        if any(c in annotations._LINE_BREAKS for c in text[s:e]):
            assert got == want, (s, e)
        else:
            assert got == (simple, text[s:e]), (s, e)
    exact, prefix, suffix = seeds.selectors(np.ones(len(pairs), np.int64), start, end)
    assert exact.to_pylist() == [escape_one(text[s:e], JSON) for s, e in pairs]
    assert prefix.to_pylist() == [escape_one(text[max(0, s - 32) : s], JSON) for s, _ in pairs]
    assert suffix.to_pylist() == [escape_one(text[e : e + 32], JSON) for _, e in pairs]


def test_escape_rows_is_escape_one_row_by_row():
    values = ["", "plain", HOSTILE_ID, HOSTILE_FIELD, HOSTILE_TEXT, None, CONTROLS, "é 𝄞"]
    made = escape_rows(pa.array(values, pa.string()), JSON).to_pylist()
    assert made == [escape_one(v or "", JSON) for v in values]
    assert [json.loads(f'"{m}"') for m in made] == [v or "" for v in values]


def test_the_order_is_lexsorts():
    rng = np.random.default_rng(7)
    keys = [rng.integers(0, high, 5000) for high in (3, 50, 60, 2, 5, 100_000)]
    assert (_order(*keys) == np.lexsort(keys[::-1])).all()
    wide = [*keys[:5], rng.integers(0, 2**62, 5000)]  # too wide to pack: lexsort itself
    assert (_order(*wide) == np.lexsort(wide[::-1])).all()
    negative = [keys[0] - 1, *keys[1:]]
    assert (_order(*negative) == np.lexsort(negative[::-1])).all()


def test_every_citing_table_is_declared(out: Path, hostile: tuple[ReleaseInput, str]):
    declared = (out / BRAT_CONF).read_text(encoding="utf-8").split("\n")
    assert {r.name for r in hostile[0].package.resources if cites_offsets(r)} <= set(declared)

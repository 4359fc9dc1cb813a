"""The curated dataset itself: provenance, seeds, numbering, keys, canonical form, coverage."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from eurasec.model.descriptor import load_package
from eurasec.read.dataset import load_dataset

from .conftest import DESCRIPTOR, ROOT, STAKHOVSKY, find_row

# Published beside the seed in shared/README.md: an expectation independent of our data.
# The Stakhovsky document is one of the documents, found by its id: others may be added beside it.
SEED_SHA256 = "c8aa9e2771bacd488004146021078721fe6b568e55c8db560b670509cd5cf7d6"
SEED_BYTES = 10348

PACKAGE = load_package(DESCRIPTOR)
DATASET = load_dataset(DESCRIPTOR)


def rows(name: str) -> list[dict[str, str]]:
    with open(ROOT / PACKAGE.resource(name).path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def seed_texts() -> dict[str, str]:
    """The stored text of every document that has one (a document may be registered without text)."""
    return {d["id"]: (ROOT / d["path"]).read_bytes().decode("utf-8") for d in rows("documents") if d["path"]}


def of_stakhovsky(name: str) -> list[dict[str, str]]:
    """The rows of a table that cite the Stakhovsky document, in file order."""
    return [row for row in rows(name) if row["document_id"] == STAKHOVSKY]


def frictionless_cli() -> list[str]:
    exe = Path(sys.executable).with_name("frictionless")
    return [str(exe)] if exe.exists() else [shutil.which("frictionless") or "frictionless"]


def test_upstream_frictionless_cli_says_the_package_is_valid():
    result = subprocess.run(
        [*frictionless_cli(), "validate", "--json", "datapackage.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    assert report["valid"], result.stdout[:2000]
    assert result.returncode == 0


def test_upstream_frictionless_cli_catches_an_orphan_reference(package_copy: Path):
    # The test above could not fail if frictionless ignored our foreign keys: prove it does not.
    path = package_copy / "data/aliases.csv"
    text = path.read_text(encoding="utf-8").replace(",china,", ",no-such-actor,", 1)
    path.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [*frictionless_cli(), "validate", "--json", "datapackage.json"],
        cwd=package_copy,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    assert not report["valid"]
    assert {e["type"] for t in report["tasks"] for e in t["errors"]} == {"foreign-key"}


def test_the_seed_is_the_published_file_byte_for_byte():
    document = find_row("documents", id=STAKHOVSKY)
    raw = (ROOT / document["path"]).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SEED_SHA256 == document["sha256"]
    assert len(raw) == SEED_BYTES == int(document["bytes"])
    assert document["path"].startswith("seeds/")


def test_every_document_row_matches_its_seed_file():
    documents = rows("documents")
    assert STAKHOVSKY in {d["id"] for d in documents}
    stored = [d["path"] for d in documents if d["path"]]
    assert len(set(stored)) == len(stored), "two documents share a seed"
    for document in documents:
        if not document["path"]:  # registered without stored text: nothing to check, and nothing recorded
            assert document["sha256"] == document["bytes"] == "", document["id"]
            continue
        raw = (ROOT / document["path"]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == document["sha256"], document["id"]
        assert len(raw) == int(document["bytes"]), document["id"]
        assert document["title"] in raw.decode("utf-8")


def test_publication_date_is_recorded_as_unknown_not_guessed():
    document = find_row("documents", id=STAKHOVSKY)
    assert document["published_date"] == ""
    assert document["date_precision"] == "unknown"


def fact_resources():
    return [r for r in PACKAGE.resources if r.is_fact_table]


def entity_resources():
    """Tables of things with an id that rows citing a document point at (actors, organizations, initiatives)."""
    cited = {fk.resource for r in fact_resources() for fk in r.foreign_keys}
    return [r for r in PACKAGE.resources if r.name in cited and not r.is_fact_table and r.role != "documents"]


def test_every_table_is_the_documents_a_fact_table_or_an_entity_table_that_facts_cite():
    kinds = {r.name for r in fact_resources()} | {r.name for r in entity_resources()} | {"documents"}
    assert {r.name for r in PACKAGE.resources} == kinds
    assert {"actors", "organizations", "initiatives"} <= {r.name for r in entity_resources()}


@pytest.mark.parametrize("resource", entity_resources(), ids=lambda r: r.name)
def test_every_entity_is_cited_by_a_passage(resource):
    key = resource.primary_key[0]
    cited = {
        row[fk.fields[0]]
        for r in fact_resources()
        for fk in r.foreign_keys
        if fk.resource == resource.name
        for row in rows(r.name)
    }
    for line, row in enumerate(rows(resource.name), 2):
        assert row[key] in cited, f"{resource.path}:{line}: {row[key]} is cited by no passage"


@pytest.mark.parametrize("resource", fact_resources(), ids=lambda r: r.name)
def test_every_citation_is_the_seeds_text_between_its_offsets(resource):
    # Python indexes a str by code points: the oracle is the definition itself, not our checker.
    texts = seed_texts()
    document, quote = resource.role_field("document"), resource.role_field("quote")
    start, end = resource.role_field("start"), resource.role_field("end")
    assert document and quote and start and end, resource.name
    table = rows(resource.name)
    assert table, f"{resource.name} is empty"
    for line, row in enumerate(table, 2):
        text = texts[row[document.name]]
        at = f"{resource.path}:{line}"
        assert row[quote.name], f"{at}: empty quote"
        assert text[int(row[start.name]) : int(row[end.name])] == row[quote.name], f"{at}: {row[quote.name]!r}"


def test_numbering_trends_1_to_10_and_steps_1_to_5():
    assert [int(r["number"]) for r in of_stakhovsky("trends")] == list(range(1, 11))
    assert [int(r["number"]) for r in of_stakhovsky("steps")] == list(range(1, 6))


@pytest.mark.parametrize("name", ["trends", "steps"])
def test_every_documents_trends_and_steps_run_1_2_3(name: str):
    numbers: dict[str, list[int]] = {}
    for row in rows(name):  # sorted by (document_id, number), so each document's run is in order
        numbers.setdefault(row["document_id"], []).append(int(row["number"]))
    assert numbers, f"{name} is empty"
    for document, run in numbers.items():
        assert run == list(range(1, len(run) + 1)), document


def test_trends_are_the_numbered_paragraphs_of_the_text():
    text = seed_texts()[STAKHOVSKY]
    trends = of_stakhovsky("trends")
    assert trends
    for row in trends:
        assert f"{row['number']}. {row['title']}. {row['text']}" == row["quote"]
        assert f"\n{row['quote']}\n" in text


def test_every_foreign_key_resolves():
    checked = 0
    for resource in PACKAGE.resources:
        for fk in resource.foreign_keys:
            targets = {tuple(r[f] for f in fk.reference_fields) for r in rows(fk.resource)}
            for line, row in enumerate(rows(resource.name), 2):
                key = tuple(row[f] for f in fk.fields)
                if all(v == "" for v in key):
                    continue  # an optional reference left empty
                assert key in targets, f"{resource.path}:{line}: {fk.fields}={key} not in {fk.resource}"
                checked += 1
    # Every fact row cites its document through a foreign key, so at least that many were checked.
    assert checked >= sum(len(rows(r.name)) for r in fact_resources()) > 0


def test_every_alias_names_exactly_one_entity_and_stands_in_its_quote():
    for row in rows("aliases"):
        targets = [row["actor_id"], row["organization_id"], row["initiative_id"]]
        assert sum(bool(t) for t in targets) == 1, row
        assert row["alias"] in row["quote"], row


def test_every_abbreviation_in_the_text_is_an_alias():
    # Independent of our curation: every all-capitals word of two or more letters in the seed.
    text = seed_texts()[STAKHOVSKY]
    capitals = set(re.findall(r"\b[A-Z]{2,}\b", text))
    aliases = {row["alias"] for row in of_stakhovsky("aliases")} | {
        row["abbreviation"] for row in rows("organizations")
    }
    missing = {word for word in capitals if not any(re.search(rf"\b{word}\b", a) for a in aliases)}
    assert missing == set()


def test_the_named_people_states_and_organizations_have_rows():
    actors = {r["id"]: r for r in rows("actors")}
    assert {
        "vitaly-stakhovsky",
        "alexander-lukashenko",
        "belarus",
        "russia",
        "china",
        "global-majority-countries",
    } <= set(actors)
    assert actors["alexander-lukashenko"]["kind"] == "person"
    assert {actors[i]["kind"] for i in ("belarus", "russia", "china")} == {"state"}
    names = {r["name"] for r in rows("organizations")}
    assert {
        "Union State",
        "Belarusian Institute of Strategic Research",
        "Valdai Discussion Club",
        "Gulf Cooperation Council",
    } <= names


def test_each_2024_measure_is_its_own_row_linked_to_the_proposal():
    initiatives = {r["id"]: r for r in rows("initiatives")}
    parts = [
        r["part_id"] for r in of_stakhovsky("initiative_parts") if r["initiative_id"] == "de-escalation-measures-2024"
    ]
    assert len(parts) == 4
    for part in parts:
        assert initiatives[part]["kind"] == "measure"
        assert initiatives[part]["year"] == "2024"


def test_the_charter_appears_under_at_least_three_names():
    names = [
        r["alias"] for r in of_stakhovsky("aliases") if r["initiative_id"] == "charter-of-diversity-and-multipolarity"
    ]
    assert len(names) >= 3


def test_participation_is_never_recorded_as_membership():
    # The seed never says "member": the text's own wording decides.
    assert not re.search(r"\bmembers?\b", seed_texts()[STAKHOVSKY])
    relations = {r["relation"] for r in of_stakhovsky("affiliations")}
    assert relations and relations <= {"participant", "staff"}


@pytest.mark.parametrize("resource", PACKAGE.resources, ids=lambda r: r.name)
def test_csv_files_are_in_canonical_form(resource):
    raw = (ROOT / resource.path).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw and raw.endswith(b"\n")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert table[0] == resource.field_names
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table)
    assert out.getvalue().encode("utf-8") == raw
    ints = {f.name for f in resource.fields if f.type == "integer"}
    index = {name: i for i, name in enumerate(table[0])}
    keys = [tuple(int(r[index[k]]) if k in ints else r[index[k]] for k in resource.primary_key) for r in table[1:]]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_descriptor_documents_every_field_and_has_no_timestamps():
    raw = json.loads(DESCRIPTOR.read_text(encoding="utf-8"))
    for key in ("name", "title", "description", "version", "licenses", "sources", "contributors", "keywords"):
        assert raw[key], key
    assert re.fullmatch(r"\d+\.\d+\.\d+", raw["version"])
    assert "created" not in raw
    for resource in PACKAGE.resources:
        assert resource.primary_key, resource.name
        assert resource.title and resource.description
        for field in resource.fields:
            assert field.title and field.description, (resource.name, field.name)
        if resource.is_fact_table:
            document = resource.role_field("document")
            assert any(fk.fields == (document.name,) for fk in resource.foreign_keys), resource.name


def test_the_reader_finds_every_table_with_lines():
    assert not DATASET.findings
    for name, table in DATASET.tables.items():
        assert not table.findings, name
        assert table.lines[0] == 2

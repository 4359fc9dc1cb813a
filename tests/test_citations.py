"""Citations on the 2.0 model, as a contributor meets them in `eurasec validate`: offsets that point at
other characters, a document registered without text, an entity no passage cites, offsets declared
wrongly. Each story edits a copy of the real package, found by key, and reads what validate says."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from eurasec.cli import cli
from eurasec.validate import validate

from .conftest import STAKHOVSKY, csv_rows, file_of, line_of, rewrite


def seed(root: Path, document: str = STAKHOVSKY) -> str:
    row = next(d for d in csv_rows("documents", root) if d["id"] == document)
    return (root / row["path"]).read_text(encoding="utf-8")


def codes(root: Path) -> list[tuple[str, str, int | None, str | None]]:
    return [(f.code, f.file, f.line, f.field) for f in validate(root / "datapackage.json").findings]


def test_a_quote_that_occurs_twice_validates_at_either_occurrence_by_its_offsets(package_copy: Path):
    text = seed(package_copy)
    row = next(r for r in csv_rows("actor_citations", package_copy) if text.count(r["quote"]) > 1)
    second = text.find(row["quote"], int(row["start"]) + 1)

    def move(r):
        if r == row:
            r = {**r, "start": str(second), "end": str(second + len(r["quote"]))}
        return r

    rewrite(package_copy, "actor_citations", move)
    assert codes(package_copy) == []


def test_offsets_off_by_one_name_the_occurrence_and_the_fix(package_copy: Path):
    text = seed(package_copy)
    row = next(r for r in csv_rows("actor_citations", package_copy) if text.count(r["quote"]) > 1)
    start, end = int(row["start"]), int(row["end"])
    rewrite(package_copy, "actor_citations", lambda r: {**r, "start": str(start + 1)} if r == row else r)
    file = file_of("actor_citations", package_copy)
    line = line_of(file, package_copy, actor_id=row["actor_id"], start=str(start + 1))
    report = validate(package_copy / "datapackage.json")
    [finding] = report.findings
    assert (finding.code, finding.file, finding.line, finding.field) == ("quote-offset-mismatch", file, line, "start")
    occurrences = [i for i in range(len(text)) if text.startswith(row["quote"], i)]
    assert f"the quote is at {start}–{end}, the nearest of its {len(occurrences)} occurrences" in finding.message
    assert finding.hint.startswith(f"Set start to {start} and end to {end}")


def test_offsets_beyond_the_end_of_the_seed_are_a_mismatch_not_a_crash(package_copy: Path):
    length = len(seed(package_copy))
    first = csv_rows("trends", package_copy)[0]
    rewrite(
        package_copy,
        "trends",
        lambda r: {**r, "start": str(length + 5), "end": str(length + 9)} if r == first else r,
    )
    [finding] = validate(package_copy / "datapackage.json").findings
    assert finding.code == "quote-offset-mismatch" and "no characters of the seed" in finding.message


def test_a_wrong_quote_is_quote_not_found_once_and_not_also_an_offset_mismatch(package_copy: Path):
    first = csv_rows("steps", package_copy)[0]
    rewrite(package_copy, "steps", lambda r: {**r, "quote": r["quote"] + " invented"} if r == first else r)
    found = {code for code, *_ in codes(package_copy)}
    assert "quote-not-found" in found and "quote-offset-mismatch" not in found


def test_a_document_without_stored_text_may_be_registered_but_not_cited(package_copy: Path):
    original = {
        "id": "stakhovsky-eurasian-approach-original",
        "title": "The Eurasian Approach to the International Security System: A View from Belarus",
        "author": "Vitaly Stakhovsky",
        "publisher": "Valdai Discussion Club",
        "url": "https://example.org/the-original",
        "language": "en",
        "date_precision": "unknown",
        "license_note": "Not stored.",
    }

    path = package_copy / file_of("documents", package_copy)
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    with open(path, "a", encoding="utf-8", newline="") as f:
        csv.DictWriter(f, header, lineterminator="\n").writerow({name: original.get(name, "") for name in header})
    CliRunner().invoke(cli, ["fmt", str(package_copy / "datapackage.json")])
    assert codes(package_copy) == []  # registered, cited by nobody: fine

    text = seed(package_copy)
    row = next(r for r in csv_rows("initiative_organizations", package_copy) if r["document_id"] == STAKHOVSKY)
    assert text[int(row["start"]) : int(row["end"])] == row["quote"]
    rewrite(package_copy, "initiative_organizations", lambda r: {**r, "document_id": original["id"]} if r == row else r)
    CliRunner().invoke(cli, ["fmt", str(package_copy / "datapackage.json")])
    file = file_of("initiative_organizations", package_copy)
    line = line_of(file, package_copy, document_id=original["id"], start=row["start"], end=row["end"])
    assert codes(package_copy) == [("document-without-text", file, line, "document_id")]


def test_a_seed_record_with_a_hash_but_no_path_is_incomplete(package_copy: Path):
    rewrite(package_copy, "documents", lambda r: {**r, "path": ""} if r["id"] == STAKHOVSKY else r)
    found = codes(package_copy)
    file = file_of("documents", package_copy)
    assert ("seed-record-incomplete", file, line_of(file, package_copy, id=STAKHOVSKY), "path") in found
    # Its citations cannot be checked, and say so, rather than passing unchecked.
    assert {code for code, *_ in found} == {"seed-record-incomplete", "quote-document-unknown"}


def test_an_entity_that_no_passage_cites_is_an_error(package_copy: Path):
    actor = csv_rows("actors", package_copy)[0]["id"]
    for table in ("actor_citations", "aliases", "initiative_actors", "affiliations"):
        rewrite(package_copy, table, lambda r: None if r.get("actor_id") == actor else r)
    rewrite(
        package_copy,
        "actor_relations",
        lambda r: None if actor in (r["actor_id"], r["other_actor_id"]) else r,
    )
    file = file_of("actors", package_copy)
    assert codes(package_copy) == [("entity-uncited", file, line_of(file, package_copy, id=actor), "id")]


def test_offsets_declared_without_their_pair_or_as_text_are_role_inconsistent(package_copy: Path):
    descriptor = package_copy / "datapackage.json"
    raw = json.loads(descriptor.read_text(encoding="utf-8"))
    steps = next(r for r in raw["resources"] if r["name"] == "steps")
    end = next(f for f in steps["schema"]["fields"] if f.get("eurasec:role") == "end")
    del end["eurasec:role"]
    trends = next(r for r in raw["resources"] if r["name"] == "trends")
    start = next(f for f in trends["schema"]["fields"] if f.get("eurasec:role") == "start")
    start["type"], start["constraints"] = "string", {"required": True}
    descriptor.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    findings = validate(descriptor).findings
    messages = [f.message for f in findings if f.code == "role-inconsistent"]
    assert any("steps.start" in m and "'end'" in m for m in messages), findings
    assert any("trends.start" in m and "'string'" in m for m in messages), messages

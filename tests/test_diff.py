"""`eurasec diff OLD NEW`: what a reviewer of a data pull request is told changed.

Each story commits the real package to a fresh git repository, makes one edit a contributor
might make, commits it, and diffs the two revisions (or a release folder against the source).
The expected values are read from the edit itself, never from the diff's own output.
"""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eurasec.build import build_release
from eurasec.contribute.diff import (
    DataDiff,
    DiffError,
    FieldChange,
    TableDiff,
    check_version,
    diff,
    load_side,
    render_json,
    render_markdown,
    render_text,
)

from .conftest import DESCRIPTOR, ROOT, STAKHOVSKY, resources
from .test_validate import invoke

TABLES = [r["name"] for r in json.loads(DESCRIPTOR.read_text(encoding="utf-8"))["resources"]]
VERSION = json.loads(DESCRIPTOR.read_text(encoding="utf-8"))["version"]  # the checkout's, as published
MAJOR, MINOR, _ = map(int, VERSION.split("."))
NEXT_MINOR, NEXT_MAJOR = f"{MAJOR}.{MINOR + 1}.0", f"{MAJOR + 1}.0.0"
RELEASE_1 = ROOT / "tests" / "fixtures" / "eurasec-1.0.0"  # the 1.0.0 package, kept verbatim


# --- a contributor's repository ---------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(package_copy: Path) -> Path:
    """The real package, committed once as published (its version is VERSION)."""
    git(package_copy, "init", "-q")
    for key, value in [
        ("user.name", "Test Curator"),
        ("user.email", "curator@example.org"),
        ("commit.gpgsign", "false"),
    ]:
        git(package_copy, "config", key, value)
    commit(package_copy, f"published {VERSION}")
    return package_copy


def read_rows(pkg: Path, table: str) -> tuple[list[str], list[dict[str, str]]]:
    with open(pkg / "data" / f"{table}.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def write_rows(pkg: Path, table: str, header: list[str], rows: list[dict[str, str]]) -> None:
    with open(pkg / "data" / f"{table}.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def edit_descriptor(pkg: Path, change: Callable[[dict[str, Any]], None]) -> None:
    raw = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    change(raw)
    (pkg / "datapackage.json").write_text(json.dumps(raw, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def schema_of(raw: dict[str, Any], table: str) -> dict[str, Any]:
    return next(r for r in raw["resources"] if r["name"] == table)["schema"]


def diff_commits(repo: Path, old: str = "HEAD~1", new: str = "HEAD") -> DataDiff:
    return diff(load_side(old, repo), load_side(new, repo))


def table(d: DataDiff, name: str) -> TableDiff:
    return next(t for t in d.tables if t.name == name)


def only_changed(d: DataDiff) -> list[str]:
    return [t.name for t in d.changed_tables]


# --- rows -------------------------------------------------------------------------------


def test_a_corrected_name_shows_as_one_changed_field_with_old_and_new(repo: Path):
    header, rows = read_rows(repo, "actors")
    target = rows[1]
    old_name, new_name = target["name"], target["name"] + " (Republic)"
    target["name"] = new_name
    write_rows(repo, "actors", header, rows)
    commit(repo, "fix a name")

    d = diff_commits(repo)

    assert only_changed(d) == ["actors"]
    actors = table(d, "actors")
    assert (actors.added, actors.removed, actors.schema) == ([], [], [])
    assert [(c.key, c.fields) for c in actors.changed] == [
        ((target["id"],), (FieldChange("name", old_name, new_name),))
    ]
    assert not d.breaking and d.version_ok
    assert f'name: "{old_name}" -> "{new_name}"' in render_text(d)
    assert f"| `{target['id']}` | name: {old_name} → {new_name} |" in render_markdown(d)


def test_added_rows_are_listed_with_their_values_in_key_order(repo: Path):
    header, rows = read_rows(repo, "steps")
    template = rows[0]
    numbers = [str(len(rows) + 5), str(len(rows) + 1)]  # written out of order, the larger one with more digits
    for number in numbers:
        rows.append({**template, "number": number, "text": f"step {number}", "quote": template["quote"]})
    write_rows(repo, "steps", header, rows)
    commit(repo, "two more steps")

    d = diff_commits(repo)
    steps = table(d, "steps")

    document = template["document_id"]
    assert [r.key for r in steps.added] == [(document, n) for n in sorted(numbers, key=int)]
    assert steps.added[0].values["text"] == f"step {min(numbers, key=int)}"
    assert (steps.removed, steps.changed, steps.schema) == ([], [], [])
    assert "| … | 1 more" in render_markdown(d, max_rows=1)  # a long list is cut short in a comment


def test_a_removed_row_is_listed_under_its_composite_key(repo: Path):
    header, rows = read_rows(repo, "initiative_actors")
    gone = rows.pop(2)
    write_rows(repo, "initiative_actors", header, rows)
    commit(repo, "drop an attribution")

    d = diff_commits(repo)

    links = table(d, "initiative_actors")
    key = resources()["initiative_actors"]["schema"]["primaryKey"]
    assert links.key_fields == tuple(key)
    assert [r.key for r in links.removed] == [tuple(gone[name] for name in key)]
    assert links.removed[0].values == gone
    assert (links.added, links.changed) == ([], [])
    assert f"  - {gone['initiative_id']}, {gone['actor_id']}" in render_text(d)


# --- schema -----------------------------------------------------------------------------


def test_an_optional_field_is_an_addition_that_asks_for_a_minor_version(repo: Path):
    def add_field(raw: dict[str, Any]) -> None:
        schema_of(raw, "actors")["fields"].append({"name": "note", "type": "string", "title": "Note"})

    edit_descriptor(repo, add_field)
    commit(repo, "actors get a note")

    d = diff_commits(repo)

    [change] = table(d, "actors").schema
    assert (change.kind, change.field, change.breaking) == ("field-added", "note", False)
    assert table(d, "actors").changed == []  # a new empty column is a schema change, not 11 row changes
    assert not d.breaking
    assert (d.version.bump, d.version.expected, d.version_ok) == ("minor", NEXT_MINOR, False)

    edit_descriptor(repo, lambda raw: raw.update(version=NEXT_MINOR))
    commit(repo, f"release {NEXT_MINOR}")
    assert diff_commits(repo, "HEAD~2").version_ok


def test_a_removed_field_is_breaking_and_the_major_version_must_go_up(repo: Path):
    def drop_field(raw: dict[str, Any]) -> None:
        schema = schema_of(raw, "actors")
        schema["fields"] = [f for f in schema["fields"] if f["name"] != "wikidata_qid"]
        raw["version"] = NEXT_MINOR

    edit_descriptor(repo, drop_field)
    header, rows = read_rows(repo, "actors")
    write_rows(
        repo, "actors", [h for h in header if h != "wikidata_qid"], [rows_without(r, "wikidata_qid") for r in rows]
    )
    commit(repo, "drop wikidata ids")

    d = diff_commits(repo)

    [change] = table(d, "actors").schema
    assert (change.kind, change.field, change.breaking) == ("field-removed", "wikidata_qid", True)
    assert d.breaking and not d.version_ok
    note = f"breaking schema change: the major version must go up ({VERSION} -> {NEXT_MAJOR}), NEW says {NEXT_MINOR}"
    assert d.version.note == note
    assert note in render_text(d)
    assert "**breaking**: field `wikidata_qid` removed" in render_markdown(d)
    assert json.loads(render_json(d))["version"]["ok"] is False


def rows_without(row: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in row.items() if k != name}


def test_constraints_that_reject_old_values_are_breaking_and_loosened_ones_are_not(repo: Path):
    def constrain(raw: dict[str, Any]) -> None:
        fields = {f["name"]: f for f in schema_of(raw, "actors")["fields"]}
        enum = fields["kind"]["constraints"]["enum"]
        enum.remove("region")
        enum.append("city")
        fields["description"].setdefault("constraints", {})["required"] = True
        del fields["iso3166_alpha3"]["constraints"]["pattern"]

    edit_descriptor(repo, constrain)
    commit(repo, "tighten actors")

    changes = {(c.kind, c.field): c for c in table(diff_commits(repo), "actors").schema}

    assert set(changes) == {
        ("enum-values-removed", "kind"),
        ("enum-values-added", "kind"),
        ("required-added", "description"),
        ("pattern-removed", "iso3166_alpha3"),
    }
    assert changes["enum-values-removed", "kind"].old == ["region"]
    assert changes["enum-values-added", "kind"].new == ["city"]
    breaking = {key for key, c in changes.items() if c.breaking}
    assert breaking == {("enum-values-removed", "kind"), ("required-added", "description")}


def test_a_new_table_is_an_addition_listed_after_the_others_with_all_its_rows(repo: Path):
    def add_table(raw: dict[str, Any]) -> None:
        raw["resources"].append(
            {
                "name": "themes",
                "path": "data/themes.csv",
                "format": "csv",
                "schema": {
                    "fields": [{"name": "id", "type": "string"}, {"name": "rank", "type": "integer"}],
                    "primaryKey": ["id"],
                },
            }
        )

    edit_descriptor(repo, add_table)
    write_rows(repo, "themes", ["id", "rank"], [{"id": "security", "rank": "1"}, {"id": "trade", "rank": "2"}])
    commit(repo, "themes")

    d = diff_commits(repo)

    assert [t.name for t in d.tables] == [*TABLES, "themes"]
    themes = table(d, "themes")
    assert themes.status == "added"
    assert [(r.key, r.values) for r in themes.added] == [
        (("security",), {"id": "security", "rank": "1"}),
        (("trade",), {"id": "trade", "rank": "2"}),
    ]
    assert [(c.kind, c.breaking) for c in themes.schema] == [("table-added", False)]
    assert not d.breaking

    reverse = diff_commits(repo, "HEAD", "HEAD~1")
    assert table(reverse, "themes").status == "removed" and reverse.breaking


# --- releases and identical sides -------------------------------------------------------


def test_a_release_and_the_sources_it_was_built_from_have_no_differences(repo: Path, tmp_path: Path):
    release = build_release(repo / "datapackage.json", tmp_path / "out").folder

    for source in (str(repo), "HEAD"):
        d = diff(load_side(str(release), repo), load_side(source, repo))
        assert not d.has_changes, render_text(d)
        assert render_text(d).count("\n") == 1 and render_text(d).startswith("no differences")
        assert render_markdown(d).count("\n") == 1

    # Typed Parquet against text CSV still shows a real change: a year, an integer in the release.
    header, rows = read_rows(repo, "initiatives")
    target = next(r for r in rows if r["year"])
    old_year, new_year = target["year"], str(int(target["year"]) + 1)
    target["year"] = new_year
    write_rows(repo, "initiatives", header, rows)

    d = diff(load_side(str(release), repo), load_side(str(repo), repo))
    assert only_changed(d) == ["initiatives"]
    [change] = table(d, "initiatives").changed
    assert (change.key, change.fields) == ((target["id"],), (FieldChange("year", old_year, new_year),))


def test_two_names_for_the_same_commit_have_no_differences(repo: Path):
    sha = git(repo, "rev-parse", "HEAD").strip()
    d = diff_commits(repo, sha, "HEAD")
    assert not d.has_changes and d.version_ok
    assert render_text(d) == (
        f"no differences in schema or rows between {sha} and HEAD ({sha[:12]}) (version {VERSION})\n"
    )


# --- unusable input ---------------------------------------------------------------------


def test_a_spec_that_is_neither_a_folder_nor_a_revision_is_a_clear_error(repo: Path, tmp_path: Path):
    with pytest.raises(
        DiffError, match=r"'no-such-branch' is neither a folder with a datapackage\.json nor a revision"
    ):
        load_side("no-such-branch", repo)
    with pytest.raises(DiffError, match="is not one"):
        load_side("HEAD", tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DiffError, match=r"the folder has no datapackage\.json"):
        load_side(str(empty), repo)
    with pytest.raises(DiffError, match="neither"):
        load_side("--output=/tmp/x", repo)  # never handed to git as an option


def test_a_revision_that_lacks_a_table_file_names_the_file(repo: Path):
    (repo / "data" / "steps.csv").unlink()
    commit(repo, "lose a table")
    with pytest.raises(DiffError, match=r"data/steps\.csv is not in that revision"):
        load_side("HEAD", repo)


# --- rendering --------------------------------------------------------------------------


def test_markdown_escapes_pipes_and_clips_long_values_around_the_change(repo: Path):
    header, rows = read_rows(repo, "actors")
    actor = next(row for row in rows if row["id"] == "alexander-lukashenko")
    actor["name"] = "Alexander | Lukashenko"
    write_rows(repo, "actors", header, rows)
    header, trends = read_rows(repo, "trends")
    trend = next(row for row in trends if (row["document_id"], row["number"]) == (STAKHOVSKY, "1"))
    long_text = trend["text"]
    assert len(long_text) > 300
    trend["text"] = long_text[:-1] + " [edited]"
    write_rows(repo, "trends", header, trends)
    commit(repo, "awkward values")

    markdown = render_markdown(diff_commits(repo))

    name_line = next(line for line in markdown.splitlines() if line.startswith(f"| `{actor['id']}`"))
    assert "Alexander \\| Lukashenko" in name_line
    assert name_line.count(" | ") == 1  # only the column separator: the value's pipe cannot split the cell
    trend_line = next(line for line in markdown.splitlines() if "\\[edited\\]" in line)
    assert "…" in trend_line and len(trend_line) < 400
    assert long_text[:100] not in trend_line  # the shared start is clipped; the change stays in view


def test_json_is_complete_and_stable(repo: Path):
    header, rows = read_rows(repo, "actors")
    old_name = rows[0]["name"]
    rows[0]["name"] = "Renamed"
    added = {**rows[0], "id": "zz-new-actor"}
    rows.append(added)
    write_rows(repo, "actors", header, rows)
    commit(repo, "rename and add")

    d = diff_commits(repo)
    data = json.loads(render_json(d))

    assert render_json(d) == render_json(diff_commits(repo))
    assert list(data) == ["old", "new", "changed", "breaking", "version", "notes", "tables"]
    assert [t["name"] for t in data["tables"]] == TABLES
    actors = data["tables"][TABLES.index("actors")]
    assert actors["counts"] == {"added": 1, "removed": 0, "changed": 1}
    assert actors["added"] == [{"key": {"id": "zz-new-actor"}, "row": added}]
    assert actors["changed"] == [
        {"key": {"id": rows[0]["id"]}, "fields": {"name": {"old": old_name, "new": "Renamed"}}}
    ]
    assert {t["status"] for t in data["tables"] if t["name"] != "actors"} == {"unchanged"}


# --- the published releases -------------------------------------------------------------


def test_from_the_1_0_0_package_the_schema_change_is_breaking_and_a_new_major_version_is_accepted():
    # The expected changes are read off the two descriptors: the fields that 1.0.0 had and the checkout
    # lacks, the primary keys that changed, the tables that only one of them has.
    old, new = resources(RELEASE_1), resources()
    shared = set(old) & set(new)
    removed_fields = {
        (name, f["name"])
        for name in shared
        for f in old[name]["schema"]["fields"]
        if f["name"] not in {g["name"] for g in new[name]["schema"]["fields"]}
    }
    rekeyed = {name for name in shared if old[name]["schema"]["primaryKey"] != new[name]["schema"]["primaryKey"]}
    assert removed_fields and rekeyed  # 2.0.0 moved citations out of the entity tables and pinned them to offsets

    d = diff(load_side(str(RELEASE_1), ROOT), load_side(str(ROOT), ROOT))

    changes = {(t.name, c.kind, c.field): c for t in d.tables for c in t.schema}
    assert {(t, f) for t, kind, f in changes if kind == "field-removed"} == removed_fields
    assert {t for t, kind, _ in changes if kind == "primary-key-changed"} == rekeyed
    assert all(c.breaking for (_, kind, _), c in changes.items() if kind in ("field-removed", "primary-key-changed"))
    assert {t.name for t in d.tables if t.status == "added"} == set(new) - set(old)
    assert {t.name for t in d.tables if t.status == "removed"} == set(old) - set(new)
    assert d.breaking
    # Semantic versioning: a breaking change asks for the next major version, 2.0.0, which the checkout has
    # (or a later one); a minor version would not do.
    assert (d.version.old, d.version.new, d.version.bump, d.version.expected) == ("1.0.0", VERSION, "major", "2.0.0")
    assert MAJOR >= 2 and d.version_ok
    assert f"the major version goes up (1.0.0 -> {VERSION})" in render_text(d)
    assert not check_version("1.0.0", "1.1.0", d.schema_changes).ok

    # And the command says so, in the JSON a workflow reads.
    result = invoke("diff", str(RELEASE_1), str(ROOT), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["breaking"] is True
    assert (report["version"]["bump"], report["version"]["expected"], report["version"]["ok"]) == (
        "major",
        "2.0.0",
        True,
    )

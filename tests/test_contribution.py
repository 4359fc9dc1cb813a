"""Contributions run through the pull-request steps.

A broken one gets annotations on the right lines and a readable diff. A good one, a second seed
document made exactly as CONTRIBUTING.md says (registered with `eurasec add-document`, as the
translation of an original registered without text, its offsets pasted from `eurasec quote`), passes
fmt, validate and build, lands in the release, and the diff lists exactly the rows it added. It cites
an actor the first document cites too, asserts a relation the first asserts too (one row per
citation), and cites a passage that occurs twice in it at its second occurrence: validate proves
those offsets, and says where the passage is when they are wrong.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

import eurasec

from .conftest import (
    ROOT,
    STAKHOVSKY,
    line_of,
    resources,
    sort_key,
    sorted_line,
    total_rows,
)
from .contribution import Contribution, contribute
from .test_validate import invoke

A, C = "data/actors.csv", "data/actor_citations.csv"
# A made-up state cited with a quote that is not in the seed: validate must say so, on the citation's line.
FREEDONIA = {"id": "freedonia", "name": "Freedonia", "kind": "state"}
FREEDONIA_QUOTE = "Freedonia is a member of the CSTO"
FREEDONIA_CITED = {
    "actor_id": "freedonia",
    "document_id": STAKHOVSKY,
    "start": "0",
    "end": str(len(FREEDONIA_QUOTE)),
    "quote": FREEDONIA_QUOTE,
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def csv_line(header: list[str], values: dict[str, str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([values.get(name, "") for name in header])
    return out.getvalue()


def insert_sorted(repo: Path, table: str, values: dict[str, str]) -> list[str]:
    """The table's lines with a new row at its sorted place (as the real file before the edit has it)."""
    file = resources()[table]["path"]
    lines = (repo / file).read_text(encoding="utf-8").split("\n")
    lines.insert(sorted_line(table, **values) - 1, csv_line(lines[0].split(","), values))
    return lines


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A repository whose main is the real package, with a contributor's commit on top."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("datapackage.json", "data", "seeds"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, repo / name)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "main")
    # A new actor (in its sorted place) cited with a quote that is not in the seed (in its sorted place), a
    # second `russia` row (right after the first), and the actors file saved with Windows line endings.
    lines = insert_sorted(repo, "actors", FREEDONIA)
    russia = next(i for i, line in enumerate(lines) if line.startswith("russia,"))
    lines.insert(russia + 1, lines[russia].replace(",Russia,", ",Russian Federation,"))
    (repo / A).write_bytes("\r\n".join(lines).encode("utf-8"))
    (repo / C).write_text("\n".join(insert_sorted(repo, "actor_citations", FREEDONIA_CITED)), encoding="utf-8")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-am", "Add Freedonia")
    return repo


def test_validate_annotates_the_changed_lines(pull_request: Path):
    result = invoke("validate", str(pull_request), "--format", "github")
    assert result.exit_code == 1
    annotations = [line.split("::")[1] for line in result.output.splitlines() if line.startswith("::")]
    assert sorted_line("actors", id="freedonia") <= line_of(A, id="russia")
    repeat = line_of(A, id="russia") + 1 + 1  # russia moved down one by the new row; its repeat right after
    cited = sorted_line("actor_citations", **FREEDONIA_CITED)  # where the citation went, from the real file
    row = csv_line([f["name"] for f in resources()["actor_citations"]["schema"]["fields"]], FREEDONIA_CITED)
    quote_col = row.index(FREEDONIA_QUOTE) + 1  # the character on its line where the quote cell starts
    assert annotations == [  # by file (data/actor_citations.csv sorts before data/actors.csv), then line
        f"error file={C},line={cited},col={quote_col},title=quote-not-found [quote]",
        f"error file={A},line=1,title=crlf",
        f"error file={A},line={repeat},title=primary-key",
    ]


def test_the_diff_shows_the_new_actor_and_the_clash(pull_request: Path):
    result = invoke("diff", "main~1", "main", "--repo", str(pull_request), "--format", "markdown")
    assert result.exit_code == 0
    assert "| `actors` | 1 | 0 | 1 |" in result.output  # Freedonia added; russia's name changed (the later row wins)
    assert "`freedonia`" in result.output
    assert "name: Russia → Russian Federation" in result.output


# --- a good contribution, from seed text to release -------------------------------------------


def copy_package(target: Path) -> Path:
    target.mkdir(parents=True)
    shutil.copy2(ROOT / "datapackage.json", target / "datapackage.json")
    shutil.copytree(ROOT / "data", target / "data")
    shutil.copytree(ROOT / "seeds", target / "seeds")
    return target


def primary_key(table: str) -> list[str]:
    return resources()[table]["schema"]["primaryKey"]


def key_of(table: str, row: dict[str, str]) -> tuple[str, ...]:
    return tuple(row[name] for name in primary_key(table))


def role_field(table: str, role: str) -> str:
    """The name of a table's field of a role (start, end, quote, document), as validate finds it."""
    (name,) = [f["name"] for f in resources()[table]["schema"]["fields"] if f.get("eurasec:role") == role]
    return name


def read_csv(pkg: Path, table: str) -> list[dict[str, str]]:
    with open(pkg / resources(pkg)[table]["path"], encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(pkg: Path, table: str, rows: list[dict[str, str]]) -> None:
    path = pkg / resources(pkg)[table]["path"]
    with open(path, encoding="utf-8", newline="") as handle:
        names = next(csv.reader(handle))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def as_text(value: object) -> str:
    """A loaded value written back as its CSV cell: empty for a missing value, dates in ISO form."""
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)


def out_of_order(pkg: Path) -> bool:
    """Whether any table's rows are out of canonical order (a contributor's appended rows often are)."""
    for table in resources(pkg):
        keys = [sort_key(table, row, pkg) for row in read_csv(pkg, table)]
        if keys != sorted(keys):
            return True
    return False


@pytest.fixture
def contributed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Contribution]:
    """The real package (old) and a copy (new) to which the contribution was made and `eurasec fmt` run."""
    monkeypatch.setenv("EURASEC_CACHE", str(tmp_path / "cache"))
    old = copy_package(tmp_path / "old")
    new = copy_package(tmp_path / "new")
    added = contribute(new, tmp_path / "downloads", trend_and_step=True)
    # Rows appended at the ends of the files are out of canonical order (where they sort before the last
    # row): fmt must say so, then fix it.
    assert invoke("fmt", "--check", str(new / "datapackage.json")).exit_code == (1 if out_of_order(new) else 0)
    assert invoke("fmt", str(new / "datapackage.json")).exit_code == 0
    assert invoke("fmt", "--check", str(new / "datapackage.json")).exit_code == 0
    return old, new, added


def test_the_second_document_shares_an_entity_and_a_relation_with_the_first(contributed):
    old, new, added = contributed
    # The shared actor was cited by an existing document before, and now by both.
    before = {r["document_id"] for r in read_csv(old, "actor_citations") if r["actor_id"] == added.shared_actor}
    after = {r["document_id"] for r in read_csv(new, "actor_citations") if r["actor_id"] == added.shared_actor}
    assert before and added.document_id not in before
    assert after == before | {added.document_id}
    # The relation: one row per citation, the same actors and relation, from each document.
    same = ("actor_id", "other_actor_id", "relation")

    def citing(pkg: Path) -> set[str]:
        return {
            r["document_id"] for r in read_csv(pkg, "actor_relations") if all(r[n] == added.relation[n] for n in same)
        }

    assert added.relation["document_id"] in citing(old) and added.document_id not in citing(old)
    assert citing(new) == citing(old) | {added.document_id}
    # The new seed translates a document registered without stored text, which no row cites.
    documents = {r["id"]: r for r in read_csv(new, "documents")}
    assert documents[added.document_id]["translation_of"] == added.original_id
    original = documents[added.original_id]
    assert (original["path"], original["sha256"], original["bytes"]) == ("", "", "")


def test_the_quote_helper_gives_the_offsets_of_every_new_row(contributed):
    _, new, added = contributed
    for table, rows in added.rows.items():
        if not any(f.get("eurasec:role") == "quote" for f in resources()[table]["schema"]["fields"]):
            continue
        start, end, quote = role_field(table, "start"), role_field(table, "end"), role_field(table, "quote")
        for row in rows:
            result = invoke("quote", added.document_id, row[quote], "--descriptor", str(new))
            assert result.exit_code == 0, result.output
            assert f"start,end = {row[start]},{row[end]}" in result.output, (table, row)
            assert added.seed_text[int(row[start]) : int(row[end])] == row[quote]


def test_a_passage_that_occurs_twice_is_cited_at_the_occurrence_chosen(contributed):
    _, new, added = contributed
    quote = added.twice["quote"]
    result = invoke("quote", added.document_id, quote, "--descriptor", str(new))
    assert result.exit_code == 0
    # Both occurrences are offered, each with the text around it, and the contributor is told to choose.
    first, second = added.occurrences
    assert [added.seed_text[a:b] for a, b in added.occurrences] == [quote, quote]
    assert "it occurs 2 times: choose the one your row cites" in result.output
    lines = [line for line in result.output.splitlines() if "start,end = " in line]
    assert [line.split("start,end = ")[1].split()[0] for line in lines] == [f"{a},{b}" for a, b in (first, second)]
    for line, (at, _) in zip(lines, (first, second), strict=True):
        assert f"[{quote}]" in line and " ".join(added.seed_text[at - 15 : at].split()) in line
    # The row holds the second one, and validate accepts it (as it would the first: it proves the quote).
    assert (int(added.twice["start"]), int(added.twice["end"])) == second
    report = json.loads(invoke("validate", str(new), "--format", "json").output)
    assert report["valid"] and report["findings"] == []


@pytest.mark.parametrize(
    ("label", "offsets"),
    [
        ("the first occurrence, one character off", lambda first, second: (first[0] + 1, first[1] + 1)),
        ("the second occurrence's start with the first one's end", lambda first, second: (second[0], first[1])),
        ("the second occurrence, one character short", lambda first, second: (second[0], second[1] - 1)),
    ],
)
def test_wrong_offsets_on_the_passage_that_occurs_twice_are_found_on_their_line(contributed, label, offsets):
    _, new, added = contributed
    first, second = added.occurrences
    start, end = offsets(first, second)
    table, quote = "actor_citations", added.twice["quote"]
    start_name, end_name = role_field(table, "start"), role_field(table, "end")
    rows = read_csv(new, table)
    (row,) = [r for r in rows if key_of(table, r) == key_of(table, added.twice)]
    row[start_name], row[end_name] = str(start), str(end)
    write_csv(new, table, rows)
    assert invoke("fmt", str(new)).exit_code == 0

    result = invoke("validate", str(new), "--format", "json")
    assert result.exit_code == 1, label
    (found,) = json.loads(result.output)["findings"]
    nearest = min(added.occurrences, key=lambda o: (abs(o[0] - start), o[0]))
    file = resources()[table]["path"]
    assert (found["code"], found["file"], found["field"]) == ("quote-offset-mismatch", file, start_name)
    assert found["line"] == line_of(file, new, **{**added.twice, start_name: str(start), end_name: str(end)})
    assert f"start {start} and end {end} do not point at the quote in {added.document_id!r}" in found["message"]
    assert f"the nearest of its 2 occurrences (at {first[0]}, {second[0]})" in found["message"]
    assert found["hint"].startswith(f"Set {start_name} to {nearest[0]} and {end_name} to {nearest[1]},")
    assert added.seed_text[nearest[0] : nearest[1]] == quote


def test_a_row_that_cites_the_document_without_text_is_refused(contributed):
    _, new, added = contributed
    rows = read_csv(new, "actor_citations")
    rows.append({**added.twice, "document_id": added.original_id})
    write_csv(new, "actor_citations", rows)
    assert invoke("fmt", str(new)).exit_code == 0
    report = json.loads(invoke("validate", str(new), "--format", "json").output)
    codes = [(f["code"], f["file"], f["line"]) for f in report["findings"] if f["severity"] == "error"]
    line = line_of(C, new, **{**added.twice, "document_id": added.original_id})
    assert ("document-without-text", C, line) in codes


def test_fmt_puts_every_new_row_in_its_sorted_place_and_changes_no_value(contributed):
    old, new, added = contributed
    assert (new / added.seed_path).read_bytes() == added.seed_text.encode("utf-8")
    for table in resources(new):
        rows = read_csv(new, table)
        keys = [sort_key(table, row, new) for row in rows]
        assert keys == sorted(keys), table
        # Exactly the old rows and the new ones, each unchanged.
        expected = read_csv(old, table) + added.rows.get(table, [])
        assert sorted(rows, key=lambda r: sort_key(table, r, new)) == sorted(
            expected, key=lambda r: sort_key(table, r, new)
        )


def test_a_contribution_made_as_contributing_says_is_valid(contributed):
    old, new, added = contributed
    result = invoke("validate", str(new), "--format", "json")
    report = json.loads(result.output)
    assert result.exit_code == 0 and report["valid"], report["findings"]
    assert report["findings"] == []  # not even a warning: the new actor has its citation, alias and membership
    assert total_rows(new) == total_rows(old) + added.count()
    text = invoke("validate", str(new))
    assert text.exit_code == 0
    assert text.output.startswith(
        f"valid: 0 errors, 0 warnings in {len(resources(new))} tables ({total_rows(new)} rows)"
    )


def test_the_release_holds_the_new_rows(contributed, tmp_path: Path):
    _, new, added = contributed
    result = invoke("build", str(new), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 0, result.output
    (release,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    assert result.output.startswith(f"built {release}: {len(resources(new))} tables, {total_rows(new)} rows,")
    db = eurasec.connect(release=release)
    for table, rows in added.rows.items():
        frame = eurasec.load(table, release=release)
        assert len(frame) == len(read_csv(new, table)), table
        names = primary_key(table)
        for row in rows:
            # In Parquet (through the loader), found by its key, with every value as written.
            match = frame
            for name in names:
                match = match[match[name].map(as_text) == row[name]]
            assert len(match) == 1, (table, key_of(table, row))
            loaded = {name: as_text(value) for name, value in match.iloc[0].items()}
            assert loaded == row, table
            # In SQLite, by the same key.
            where = " AND ".join(f'"{name}" = ?' for name in names)
            columns = ", ".join(f'"{name}"' for name in row)
            stored = db.execute(f'SELECT {columns} FROM "{table}" WHERE {where}', key_of(table, row)).fetchall()
            assert [[as_text(v) for v in found] for found in stored] == [list(row.values())], table
    # The citation of the passage that occurs twice holds the second occurrence's offsets, as integers.
    start, end = role_field("actor_citations", "start"), role_field("actor_citations", "end")
    cited = eurasec.load("actor_citations", release=release)
    (twice,) = [
        (int(r[start]), int(r[end]))
        for _, r in cited.iterrows()
        if (r["actor_id"], r["document_id"]) == (added.shared_actor, added.document_id)
    ]
    assert twice == added.occurrences[1]
    (stored,) = db.execute(
        f'SELECT "{start}", "{end}" FROM actor_citations WHERE actor_id = ? AND document_id = ?',
        (added.shared_actor, added.document_id),
    ).fetchall()
    assert stored == added.occurrences[1]
    # The new seed ships in the CSV zip too, and the database records its checksum; the original, none.
    document = next(d for d in added.rows["documents"] if d["id"] == added.document_id)
    meta = dict(db.execute("SELECT key, value FROM eurasec_metadata"))
    assert meta[f"document:{added.document_id}:sha256"] == document["sha256"]
    assert f"document:{added.original_id}:sha256" not in meta
    db.close()
    (archive,) = release.glob("*-csv.zip")
    with zipfile.ZipFile(archive) as zipped:
        assert zipped.read(f"{release.name}/{added.seed_path}") == added.seed_text.encode("utf-8")


def test_the_diff_reports_exactly_the_added_rows(contributed, tmp_path: Path):
    old, new, added = contributed
    result = invoke("diff", str(old), str(new), "--format", "json")
    assert result.exit_code == 0, result.output
    tables = {t["name"]: t for t in json.loads(result.output)["tables"]}
    assert set(tables) == set(resources(new))
    for name, table in tables.items():
        rows = added.rows.get(name, [])
        assert table["counts"] == {"added": len(rows), "removed": 0, "changed": 0}, name
        assert table["added"] == [
            {"key": dict(zip(primary_key(name), key_of(name, row), strict=True)), "row": row}
            for row in sorted(rows, key=lambda r: sort_key(name, r, new))
        ], name
        assert table["status"] == ("changed" if rows else "unchanged"), name
    # The release built from the new package holds the same data as the package itself.
    assert invoke("build", str(new), "--out", str(tmp_path / "out"), "--quiet").exit_code == 0
    (release,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    same = json.loads(invoke("diff", str(new), str(release), "--format", "json").output)
    assert {t["status"] for t in same["tables"]} == {"unchanged"}
    text = invoke("diff", str(old), str(release))
    assert text.exit_code == 0
    assert added.document_id in text.output and added.rows["actors"][0]["id"] in text.output

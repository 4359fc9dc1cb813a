"""Contributions run through the pull-request steps.

A broken one gets annotations on the right lines and a readable diff. A good one, a second seed
document with an actor, its alias and a membership made exactly as CONTRIBUTING.md says, passes
fmt, validate and build, lands in the release, and the diff lists exactly the rows it added.
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

from .conftest import ROOT, STAKHOVSKY, line_of, resources, sort_key, sorted_line, total_rows
from .contribution import Contribution, contribute
from .test_validate import invoke

A = "data/actors.csv"
# A made-up state whose quote is not in the seed: validate must say so, and that nothing refers to it.
FREEDONIA = {
    "id": "freedonia",
    "name": "Freedonia",
    "kind": "state",
    "document_id": STAKHOVSKY,
    "quote": "Freedonia is a member of the CSTO",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def csv_line(header: list[str], values: dict[str, str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([values.get(name, "") for name in header])
    return out.getvalue()


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
    lines = (repo / A).read_text(encoding="utf-8").split("\n")
    # A new actor whose quote is not in the seed (in its sorted place), a second `russia` row (right
    # after the first), and the whole file saved with Windows line endings.
    lines.insert(sorted_line("actors", id="freedonia") - 1, csv_line(lines[0].split(","), FREEDONIA))
    russia = next(i for i, line in enumerate(lines) if line.startswith("russia,"))
    lines.insert(russia + 1, lines[russia].replace(",Russia,", ",Russian Federation,"))
    (repo / A).write_bytes("\r\n".join(lines).encode("utf-8"))
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-am", "Add Freedonia")
    return repo


def test_validate_annotates_the_changed_lines(pull_request: Path):
    result = invoke("validate", str(pull_request), "--format", "github")
    assert result.exit_code == 1
    annotations = [line.split("::")[1] for line in result.output.splitlines() if line.startswith("::")]
    new = sorted_line("actors", id="freedonia")  # where the row went, from the real file before the edit
    assert new <= line_of(A, id="russia")
    repeat = line_of(A, id="russia") + 1 + 1  # russia moved down one by the new row; its repeat right after
    row = csv_line([f["name"] for f in resources()["actors"]["schema"]["fields"]], FREEDONIA)
    quote_col = row.index(FREEDONIA["quote"]) + 1  # the character on its line where the quote cell starts
    assert annotations == [
        "error file=data/actors.csv,line=1,title=crlf",
        f"warning file=data/actors.csv,line={new},col=1,title=unused-entity [id]",
        f"error file=data/actors.csv,line={new},col={quote_col},title=quote-not-found [quote]",
        f"error file=data/actors.csv,line={repeat},title=primary-key",
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


def read_csv(pkg: Path, table: str) -> list[dict[str, str]]:
    with open(pkg / resources(pkg)[table]["path"], encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def as_text(value: object) -> str:
    """A loaded value written back as its CSV cell: empty for a missing value, dates in ISO form."""
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)


@pytest.fixture
def contributed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Contribution]:
    """The real package (old) and a copy (new) to which the contribution was made and `eurasec fmt` run."""
    monkeypatch.setenv("EURASEC_CACHE", str(tmp_path / "cache"))
    old = copy_package(tmp_path / "old")
    new = copy_package(tmp_path / "new")
    added = contribute(new, trend_and_step=True)
    # Appended at the ends of the files, the rows are out of canonical order: fmt must say so, then fix it.
    assert invoke("fmt", "--check", str(new / "datapackage.json")).exit_code == 1
    assert invoke("fmt", str(new / "datapackage.json")).exit_code == 0
    assert invoke("fmt", "--check", str(new / "datapackage.json")).exit_code == 0
    return old, new, added


def test_the_quote_helper_finds_the_new_seeds_quotes(contributed):
    _, new, added = contributed
    for rows in added.rows.values():
        for row in rows:
            if "quote" in row:
                result = invoke("quote", added.document_id, row["quote"], "--descriptor", str(new))
                assert result.exit_code == 0, result.output


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
    assert report["findings"] == []  # not even a warning: the new actor has its alias and membership
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
    # The new seed ships in the CSV zip too, and the database records its checksum.
    document = added.rows["documents"][0]
    meta = dict(db.execute("SELECT key, value FROM eurasec_metadata"))
    assert meta[f"document:{added.document_id}:sha256"] == document["sha256"]
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

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import HTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTOR = ROOT / "datapackage.json"

# The one document every content test is about, looked up by its id (never "the only document").
STAKHOVSKY = "stakhovsky-eurasian-approach"


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A private copy of the real package (descriptor, data, seeds) that a test may break."""
    target = tmp_path / "pkg"
    target.mkdir()
    shutil.copy2(DESCRIPTOR, target / "datapackage.json")
    shutil.copytree(ROOT / "data", target / "data")
    shutil.copytree(ROOT / "seeds", target / "seeds")
    return target


# --- the data as it is: counts and rows read with csv at test time, rows found by key ------------


def resources(root: Path = ROOT) -> dict[str, dict]:
    """The descriptor's resources by name, in the descriptor's order."""
    raw = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    return {r["name"]: r for r in raw["resources"]}


def file_of(table: str, root: Path = ROOT) -> str:
    return resources(root)[table]["path"]


def located_rows(file: str, root: Path = ROOT) -> list[tuple[int, dict[str, str]]]:
    """Every row of a CSV file with the physical line (1-based) on which it starts.

    A cell may hold a line break, so the line is counted as the csv reader reads, not by row index.
    """
    with open(root / file, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        out, line = [], reader.line_num + 1
        for cells in reader:
            out.append((line, dict(zip(header, cells, strict=True))))
            line = reader.line_num + 1
        return out


def csv_rows(table: str, root: Path = ROOT) -> list[dict[str, str]]:
    """A table's rows (header → text) in file order."""
    return [row for _, row in located_rows(file_of(table, root), root)]


def rewrite(root: Path, table: str, change: Callable[[dict[str, str]], dict[str, str] | None]) -> None:
    """Apply change(row) -> row | None (None drops it) to every row of a table, keeping the header."""
    path = root / file_of(table, root)
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(r for r in map(change, rows) if r is not None)
    path.write_text(out.getvalue(), encoding="utf-8")


def row_count(table: str, root: Path = ROOT) -> int:
    return len(located_rows(file_of(table, root), root))


def total_rows(root: Path = ROOT) -> int:
    """The rows of every table together: the number validate and build report."""
    return sum(row_count(name, root) for name in resources(root))


def matches(row: dict[str, str], key: dict[str, str]) -> bool:
    assert set(key) <= set(row), f"no column {set(key) - set(row)}"
    return all(row[name] == value for name, value in key.items())


def find_row(table: str, root: Path = ROOT, **key: str) -> dict[str, str]:
    """The one row of a table whose cells equal `key` (e.g. id="china")."""
    found = [row for row in csv_rows(table, root) if matches(row, key)]
    assert len(found) == 1, f"{table}: {len(found)} rows match {key}"
    return found[0]


def line_of(file: str, root: Path = ROOT, **key: str) -> int:
    """The line on which the one row of `file` whose cells equal `key` starts."""
    found = [line for line, row in located_rows(file, root) if matches(row, key)]
    assert len(found) == 1, f"{file}: {len(found)} rows match {key}"
    return found[0]


def last_line(file: str, root: Path = ROOT) -> int:
    """The number of the file's last line (the one that its final newline ends)."""
    return (root / file).read_bytes().count(b"\n")


def sort_key(table: str, row: dict[str, str], root: Path = ROOT) -> tuple:
    """A row's primary key as the canonical order compares it: numbers by value, text by code point."""
    schema = resources(root)[table]["schema"]
    numbers = {f["name"] for f in schema["fields"] if f["type"] in ("integer", "number")}
    return tuple(float(row[k]) if k in numbers else row[k] for k in schema["primaryKey"])


def sorted_line(table: str, root: Path = ROOT, **key: str) -> int:
    """The line a new row with this primary key takes in canonical order (it shifts the row there down)."""
    wanted = sort_key(table, key, root)
    file = file_of(table, root)
    for line, row in located_rows(file, root):
        if sort_key(table, row, root) > wanted:
            return line
    return last_line(file, root) + 1


def first_line_citing(table: str, document: str, root: Path = ROOT) -> int | None:
    """The line of the first row of a fact table that cites `document`, if any does."""
    lines = [line for line, row in located_rows(file_of(table, root), root) if row.get("document_id") == document]
    return lines[0] if lines else None


@contextlib.contextmanager
def running(server: HTTPServer, scheme: str = "http") -> Iterator[str]:
    """Serve on a thread until the block ends, and yield the base URL; tests serve on 127.0.0.1 only."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()

"""Hostile CSV files: each family of the security review, given a file, says what validate and fmt do, where.

Bare carriage returns (data lost in a split row), patterns that backtrack for ever, compressed files
(a gzip bomb), tables too wide to check, FIFOs, resource paths that leave the package, and integers
too long for Python's int(): each is a finding or a refusal at a bound, never a hang or a traceback.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
import re
import threading
import time
from pathlib import Path

import pytest

from eurasec.checks.engine import tabular
from eurasec.contribute.fmt import format_package
from eurasec.read.strict import MAX_COLUMNS, bare_cr_lines, canonical_row, parse
from eurasec.read.table import load_table, scan_fast
from eurasec.validate import validate

from .test_validate import invoke

FIELDS = [{"name": "id", "type": "integer"}, {"name": "text", "type": "string"}]


def package(
    folder: Path,
    body: bytes | None,
    *,
    fields: list[dict] | None = None,
    path: str = "things.csv",
    extra: dict | None = None,
) -> Path:
    """A one-table package (folder/datapackage.json) whose CSV holds exactly `body`."""
    folder.mkdir(parents=True, exist_ok=True)
    resource = {
        "name": "things",
        "path": path,
        "profile": "tabular-data-resource",
        "schema": {"fields": fields or FIELDS, "primaryKey": ["id"]},
        **(extra or {}),
    }
    descriptor = {"name": "things", "version": "1.0.0", "resources": [resource]}
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    if body is not None:
        (folder / path).write_bytes(body)
    return folder


def found(folder: Path, engine: str = "fast") -> list[tuple[str, str, int | None]]:
    report = validate(folder / "datapackage.json", engine=engine)
    # A one-table package declares no roles: the warning that the seed and quote checks do not run is not these tests'.
    return [(f.code, f.file, f.line) for f in report.findings if f.code not in ("name-unsafe", "role-missing")]


def within(seconds: float, work, *args):
    """Run work(*args) in a thread; fail (instead of hanging the suite) if it takes longer than `seconds`."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(work(*args)), daemon=True)
    start = time.perf_counter()
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    assert result, "the work raised"
    return result[0], time.perf_counter() - start


# 1. A bare carriage return.

BARE_CR = [
    ("end of row, then text", b"id,text\n1,abc\rdef\n2,x\n", 2),
    ("mid row", b"id,text\n1,ab\rc,\n2,x\n", 2),
    ("CR-only line endings", b"id,text\r1,a\r2,b\r", 1),
    ("CR endings mixed in", b"id,text\n1,a\n2,b\r3,c\n", 3),
    ("after CR LF lines", b"id,text\r\n1,a\r\n2,b\rmore\r\n", 3),
    ("a CR ending the file", b"id,text\n1,a\n2,b\r", 3),
    ("in the header", b"id,te\rxt\n1,a\n", 1),
]


@pytest.mark.parametrize(("label", "body", "line"), BARE_CR, ids=[c[0] for c in BARE_CR])
@pytest.mark.parametrize("engine", ["fast", "none"])  # --engine frictionless: see validate._deduplicate
def test_a_bare_carriage_return_is_an_error_at_its_line(label, body, line, engine, tmp_path: Path):
    folder = package(tmp_path / "pkg", body)
    assert ("bare-carriage-return", "things.csv", line) in found(folder, engine), label
    if engine == "fast":
        result = invoke("validate", str(folder))
        assert result.exit_code == 1
        assert f"things.csv:{line}" in result.output and "bare-carriage-return" in result.output


@pytest.mark.parametrize(("label", "body", "line"), BARE_CR, ids=[c[0] for c in BARE_CR])
def test_fmt_refuses_a_bare_carriage_return_and_leaves_the_file(label, body, line, tmp_path: Path):
    folder = package(tmp_path / "pkg", body)
    (result,) = format_package(folder / "datapackage.json")
    assert result.refused and f"line {line}:" in result.refused and "carriage return" in result.refused, label
    assert (folder / "things.csv").read_bytes() == body


@pytest.mark.parametrize("body", [b for _, b, _ in BARE_CR])
def test_the_fast_reader_never_reads_a_bare_carriage_return(body: bytes):
    assert scan_fast(body, "things.csv", ["id", "text"]) is None  # the slow path reads it and says so


def test_crlf_line_endings_stay_a_crlf_finding(tmp_path: Path):
    folder = package(tmp_path / "pkg", b"id,text\r\n1,a\r\n2,b\r\n")
    assert found(folder) == [("crlf", "things.csv", 1)]
    folder = package(tmp_path / "quoted", b'id,text\r\n1,"a\r\nb"\r\n')
    assert [f for f in found(folder) if f[0] != "control-character"] == [("crlf", "things.csv", 1)]


def test_a_cr_inside_quotes_is_no_bare_carriage_return(tmp_path: Path):
    folder = package(tmp_path / "pkg", b'id,text\n1,"a\rb"\n2,"\r"\n')
    codes = {code for code, _, _ in found(folder)}
    assert "bare-carriage-return" not in codes and "not-canonical" not in codes


CR_CELLS = ["a\rb", "\r", "end\r", "\rstart", "a\r\nb", "\n", "x,\ry", '"\r"', "plain"]


def test_fmt_quotes_a_lone_cr_and_the_table_round_trips(tmp_path: Path):
    rows = [[str(n), cell] for n, cell in zip(range(len(CR_CELLS), 0, -1), CR_CELLS, strict=True)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL).writerows([["text", "id"]] + [r[::-1] for r in rows])
    folder = package(tmp_path / "pkg", out.getvalue().encode("utf-8"))
    (result,) = format_package(folder / "datapackage.json")
    assert result.changed and result.refused is None
    written = (folder / "things.csv").read_bytes().decode("utf-8")
    table = parse(written, "things.csv")
    assert table.findings == [] and table.header == ["id", "text"]
    assert table.records == sorted(rows, key=lambda r: int(r[0]))  # every cell, exactly
    assert written == "".join(canonical_row(r) + "\n" for r in [["id", "text"], *table.records])
    assert bare_cr_lines(written) == [] and '9,"a\rb"' in written  # every CR inside quotes
    codes = {code for code, _, _ in found(folder)}
    assert not codes & {"bare-carriage-return", "not-canonical", "crlf", "unsorted-rows"}
    assert format_package(folder / "datapackage.json")[0].changed is False


def test_what_the_fast_reader_takes_it_takes_whole(tmp_path: Path):
    """Every byte of a file the fast path reads is a cell's or structure: nothing is dropped for build."""
    rng = random.Random(7)
    for _ in range(200):
        cells = ["", "a", "b c", "x,y", 'q"q', "l\nf", "c\r\nr", "é"]
        rows = [[str(i), rng.choice(cells)] for i in range(rng.randint(0, 6))]
        out = io.StringIO()
        quoting = rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
        csv.writer(out, lineterminator=rng.choice(["\n", "\r\n"]), quoting=quoting).writerows([["id", "text"], *rows])
        raw = out.getvalue().encode("utf-8")
        table = scan_fast(raw, "t.csv", ["id", "text"])
        if table is not None:
            read = list(zip(table.columns["id"].to_pylist(), table.columns["text"].to_pylist(), strict=True))
            assert read == [tuple(r) for r in rows], raw


# 2a. Patterns that backtrack catastrophically.

REDOS = {"pattern": "^(a+)+$"}


def test_a_catastrophic_pattern_is_decided_by_re2_at_once(tmp_path: Path):
    body = "id,text\n" + "".join(f"{i},{'a' * 40 + 'b' if i % 2 else 'aaa'}\n" for i in range(1, 7))
    fields = [FIELDS[0], {**FIELDS[1], "constraints": REDOS}]
    folder = package(tmp_path / "pkg", body.encode(), fields=fields)
    findings, seconds = within(60, found, folder)
    assert findings == [("constraint-error", "things.csv", line) for line in (2, 4, 6)]
    assert seconds < 10


def test_a_cell_re2_cannot_decide_is_bounded_and_never_passed(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(tabular, "PATTERN_SECONDS", 1.0)
    body = 'id,text\n1,"' + "a" * 40 + 'b\n"\n2,aaa\n'  # Python's $ matches before a final LF: RE2's does not
    fields = [FIELDS[0], {**FIELDS[1], "constraints": REDOS}]
    folder = package(tmp_path / "pkg", body.encode(), fields=fields)
    report, seconds = within(60, validate, folder / "datapackage.json")
    (undecided,) = [f for f in report.findings if f.code == "pattern-undecidable"]
    assert (undecided.file, undecided.field, undecided.column) == ("things.csv", "text", 2)
    assert not report.valid and seconds < 15


def test_a_resource_for_frictionless_is_not_handed_a_catastrophic_pattern(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(tabular, "PATTERN_SECONDS", 1.0)
    body = "text,id\n" + "a" * 40 + "b,1\naaa,2\n"  # a header out of order: frictionless checks this file
    fields = [FIELDS[0], {**FIELDS[1], "constraints": REDOS}]
    folder = package(tmp_path / "pkg", body.encode(), fields=fields)
    report, seconds = within(60, validate, folder / "datapackage.json")
    (undecided,) = [f for f in report.findings if f.code == "pattern-undecidable"]
    assert (undecided.field, undecided.column) == ("text", 1)
    assert seconds < 15


PATTERNS = [
    r"[a-z0-9]+(-[a-z0-9]+)*",
    r"^Q[1-9][0-9]*$",
    r"a|b",
    r"^a|b$",
    r"\d{2,3}",
    r"\w+\s\w+",
    r"[^\d\W]+",
    r"\bword\b.*",
    r"(?:ab)?c{0,2}",
    r".+",
    r"(?s:.+)",
    r"x*?y",
    r"[[]:alpha:]+",
    r"a{,3}",
    r"(a)\1",
    r"(?i:abc)",
    r"\S+@\S+",
    r"[é-ü]+",
    r"\Z|a",
]
CELLS = [
    "",
    "a",
    "b",
    "ab",
    "abc",
    "ABC",
    "aaa",
    "12",
    "123",
    "1234",
    "٤٢",
    "Q12",
    "Q01",
    "x-y",
    "x--y",
    "word up",
    "wordy",
    "é",
    "ü",
    "e\u0301",
    "a\n",
    "ab\n",
    "\n",
    "x y",
    "x\x1cy",
    "xxxy",
    "y",
    ":a",
    "[a",
    "a@b",
    "ccc",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_patterns_give_python_s_own_verdict(pattern: str):
    import numpy as np
    import pyarrow as pa

    cells = pa.array(CELLS, pa.string())
    ok = tabular._pattern_ok(pattern, cells, np.ones(len(CELLS), dtype=bool))
    expected = [re.match(f"^{pattern}$", cell) is not None for cell in CELLS]
    assert ok.tolist() == expected


# 2b. Compressed files: never decompressed.


def gzip_bomb(path: Path) -> None:
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(b"id,text\n1,a\n")
        for _ in range(64):
            f.write(b"0" * (1 << 20))  # 64 MB from about 64 KB


def test_a_compressed_resource_is_refused_unread(tmp_path: Path):
    folder = package(tmp_path / "pkg", None, path="steps.csv.gz")
    gzip_bomb(folder / "steps.csv.gz")
    for engine in ("fast", "frictionless"):
        if engine == "frictionless":
            continue  # validate.py hands --engine frictionless the package as is (see the report)
        findings, seconds = within(60, found, folder, engine)
        assert findings == [("compressed-resource", "steps.csv.gz", None)] and seconds < 10
    (result,) = format_package(folder / "datapackage.json")
    assert "compressed" in (result.refused or "")


def test_declared_compression_is_refused(tmp_path: Path):
    folder = package(tmp_path / "pkg", None, extra={"compression": "gz"})
    gzip_bomb(folder / "things.csv")
    report, seconds = within(60, validate, folder / "datapackage.json")
    assert ("compressed-resource", "things.csv") in [(f.code, f.file) for f in report.findings]
    assert seconds < 20
    (result,) = format_package(folder / "datapackage.json")
    assert "compression" in (result.refused or "")


# 2c. Tables too wide.


def test_a_header_of_100000_columns_is_one_finding(tmp_path: Path):
    header = ",".join(f"c{i}" for i in range(100_000))
    folder = package(tmp_path / "pkg", (header + "\n" + "," * 99_999 + "\n").encode())
    findings, seconds = within(60, found, folder)
    assert findings == [("too-many-columns", "things.csv", 1)] and seconds < 10
    (result,) = format_package(folder / "datapackage.json")
    assert "over the 1,000 limit" in (result.refused or "")


def test_a_row_of_100000_cells_is_one_finding_at_its_line(tmp_path: Path):
    folder = package(tmp_path / "pkg", b"id,text\n1,a\n2,b" + b",x" * 100_000 + b"\n3,c\n")
    findings, seconds = within(60, found, folder)
    assert findings == [("too-many-columns", "things.csv", 3)] and seconds < 10


def test_a_schema_wider_than_the_limit_is_refused_unread(tmp_path: Path):
    fields = [{"name": "id", "type": "integer"}] + [{"name": f"c{i}", "type": "string"} for i in range(MAX_COLUMNS)]
    folder = package(tmp_path / "pkg", b"whatever\n", fields=fields)
    table = load_table(folder / "things.csv", "things.csv", [f["name"] for f in fields])
    assert [f.code for f in table.findings] == ["too-many-columns"] and not table.readable


def test_a_table_just_under_the_limit_is_read(tmp_path: Path):
    names = ["id"] + [f"c{i}" for i in range(MAX_COLUMNS - 1)]
    table = load_table(
        package(tmp_path / "pkg", (",".join(names) + "\n1" + "," * (MAX_COLUMNS - 1) + "\n").encode()) / "things.csv",
        "things.csv",
        names,
    )
    assert table.readable and table.num_rows == 1


# 2d. A FIFO where the CSV should be.


def test_a_fifo_is_never_opened(tmp_path: Path):
    folder = package(tmp_path / "pkg", None)
    os.mkfifo(folder / "things.csv")
    findings, _ = within(30, found, folder)
    assert ("file-not-regular", "things.csv", None) in findings
    (result,), _ = within(30, format_package, folder / "datapackage.json")
    assert result.refused == "it is not a regular file"
    table, _ = within(30, load_table, folder / "things.csv", "things.csv", ["id", "text"])
    assert not table.readable and "FIFO" in table.findings[0].message


# 3. Paths fmt must not write through.

MESSY = b"id,text\r\n2,b\r\n1,a\r\n"


def test_fmt_refuses_paths_that_leave_the_package(tmp_path: Path):
    outside = tmp_path / "outside.csv"
    outside.write_bytes(MESSY)
    cases = {
        "climbs": "../outside.csv",
        "absolute": str(outside),
        "link-out": "things.csv",
        "folder-link-out": "d/outside.csv",
        "link-in": "things.csv",
    }
    for label, path in cases.items():
        folder = package(tmp_path / label, None, path=path)
        if label == "link-out":
            (folder / "things.csv").symlink_to(outside)
        if label == "folder-link-out":
            (folder / "d").symlink_to(tmp_path)
        if label == "link-in":
            (folder / "real.csv").write_bytes(MESSY)
            (folder / "things.csv").symlink_to(folder / "real.csv")
        (result,) = format_package(folder / "datapackage.json")
        assert result.refused and not result.changed, label
        if label == "link-in":
            assert result.refused == "it is a symlink"
            assert (folder / "real.csv").read_bytes() == MESSY and (folder / "things.csv").is_symlink()
        else:
            assert result.refused.startswith("the path is not inside the package"), label
    assert outside.read_bytes() == MESSY


def test_fmt_cli_says_refused_and_changes_nothing(tmp_path: Path):
    outside = tmp_path / "outside.csv"
    outside.write_bytes(MESSY)
    folder = package(tmp_path / "pkg", None, path="../outside.csv")
    result = invoke("fmt", str(folder))
    assert result.exit_code == 1 and "refused ../outside.csv" in result.output
    assert outside.read_bytes() == MESSY


# 4. Integers longer than Python's int() takes (4,300 digits).

HUGE = "9" * 5000


def test_a_huge_integer_is_a_type_error_not_a_traceback(tmp_path: Path):
    fields = [FIELDS[0], {"name": "n", "type": "integer", "constraints": {"maximum": 10**20}}]
    body = f"id,n\n1,{HUGE}\n2,{'1' * 4300}\n3,{10**25}\n4,3\n".encode()
    folder = package(tmp_path / "pkg", body, fields=fields)
    for engine in ("fast", "frictionless"):
        result = invoke("validate", str(folder), "--engine", engine)
        assert result.exit_code == 1
    fast, reference = found(folder), found(folder, "frictionless")
    assert ("type-error", "things.csv", 2) in fast
    assert ("integer-out-of-range", "things.csv", 3) in fast
    assert {f for f in fast if f[0] == "constraint-error"} == {f for f in reference if f[0] == "constraint-error"}
    assert {f for f in fast if f[0] == "constraint-error"} == {("constraint-error", "things.csv", n) for n in (3, 4)}


def test_a_huge_primary_key_is_refused_by_fmt(tmp_path: Path):
    folder = package(tmp_path / "pkg", f"id,text\n2,a\n{HUGE},b\n".encode())
    result = invoke("fmt", str(folder))
    assert result.exit_code == 1 and "line 3: the primary key cannot be read" in result.output
    result = invoke("validate", str(folder))
    assert result.exit_code == 1 and "things.csv:3" in result.output

"""`eurasec fmt`: canonical CSV without losing or changing a value; unparsable files left untouched."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from eurasec.cli import cli
from eurasec.contribute.fmt import format_package
from eurasec.validate import validate

from .conftest import DESCRIPTOR, ROOT
from .test_validate import invoke

RESOURCES = [r for r in json.loads(DESCRIPTOR.read_text(encoding="utf-8"))["resources"]]


def parse(raw: bytes) -> list[dict[str, str]]:
    text = raw.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def messy(raw: bytes, rng: random.Random) -> bytes:
    """The same table as a careless spreadsheet writes it: BOM, CRLF, every cell quoted, rows and columns shuffled."""
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    header, body = rows[0], rows[1:]
    order = list(range(len(header)))
    rng.shuffle(order)
    rng.shuffle(body)
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([header[i] for i in order])
    writer.writerows([[row[i] for i in order] for row in body])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8") + b"\r\n"


def test_the_real_tables_are_already_canonical(package_copy: Path):
    results = format_package(package_copy / "datapackage.json")
    assert [r.file for r in results if r.changed or r.refused] == []


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r["name"])
def test_a_messy_table_comes_back_byte_for_byte(resource, package_copy: Path):
    original = (ROOT / resource["path"]).read_bytes()
    (package_copy / resource["path"]).write_bytes(messy(original, random.Random(resource["name"])))
    (result,) = [r for r in format_package(package_copy / "datapackage.json") if r.file == resource["path"]]
    assert result.changed and not result.refused
    assert (package_copy / resource["path"]).read_bytes() == original


AWKWARD = [
    "plain",
    "",
    " leading and trailing ",
    "comma, inside",
    'a "quoted" word',
    '"',
    '""',
    "line\nbreak",
    "crlf\r\ninside",
    "007",
    "0",
    "-",
    "=SUM(A1)",
    "+",
    "@",
    "NULL",
    "None",
    "ümlaut",
    "e\u0301",
    "日本語",
    "عربى",
    "emoji 🚀",
    "\u00a0no-break",
    "tab\there",
    "trailing comma,",
    "multi\n\nparagraph",
]


def awkward_package(folder: Path, rng: random.Random, rows: int) -> Path:
    """A one-table package whose cells are drawn from awkward values, written in a non-canonical way."""
    descriptor = {
        "name": "awkward",
        "resources": [
            {
                "name": "things",
                "path": "things.csv",
                "profile": "tabular-data-resource",
                "schema": {
                    "fields": [
                        {"name": "number", "type": "integer"},
                        {"name": "a", "type": "string"},
                        {"name": "b", "type": "string"},
                        {"name": "c", "type": "string"},
                    ],
                    "primaryKey": ["number"],
                },
            }
        ],
    }
    folder.mkdir()
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    numbers = rng.sample(range(1, 10 * rows), rows)
    out = io.StringIO()
    writer = csv.writer(
        out,
        quoting=rng.choice([csv.QUOTE_ALL, csv.QUOTE_MINIMAL, csv.QUOTE_NONNUMERIC]),
        lineterminator=rng.choice(["\n", "\r\n"]),
    )
    writer.writerow(["c", "number", "a", "b"])
    for n in numbers:
        writer.writerow([rng.choice(AWKWARD), str(n), rng.choice(AWKWARD), rng.choice(AWKWARD)])
    (folder / "things.csv").write_bytes(out.getvalue().encode("utf-8"))
    return folder


@pytest.mark.parametrize("seed", range(12))
def test_awkward_values_survive_unchanged(seed: int, tmp_path: Path):
    package = awkward_package(tmp_path / "pkg", random.Random(seed), rows=30)
    before = parse((package / "things.csv").read_bytes())
    (result,) = format_package(package / "datapackage.json")
    assert result.refused is None
    after_bytes = (package / "things.csv").read_bytes()
    after = parse(after_bytes)
    key = lambda row: int(row["number"])  # noqa: E731
    assert sorted(after, key=key) == sorted(before, key=key)  # every value, exactly
    assert [key(r) for r in after] == sorted(key(r) for r in before)  # sorted by primary key
    assert list(after[0]) == ["number", "a", "b", "c"]  # the schema's column order
    canonical = [
        f
        for f in validate(package / "datapackage.json", engine="none").findings
        if f.code in ("bom", "crlf", "no-final-newline", "header-mismatch", "not-canonical", "unsorted-rows")
    ]
    assert canonical == []
    assert format_package(package / "datapackage.json")[0].changed is False  # idempotent


def _edit_line(raw: bytes, index: int, change: Callable[[bytes], bytes]) -> bytes:
    """The file with one line changed: the header (0) or the first row (1), whatever the table holds."""
    lines = raw.split(b"\n")
    lines[index] = change(lines[index])
    return b"\n".join(lines)


def _without_last_cell(line: bytes) -> bytes:
    (cells,) = csv.reader(io.StringIO(line.decode("utf-8"), newline=""))
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells[:-1])
    return out.getvalue().encode("utf-8")


def _second_column_renamed(header: bytes) -> bytes:
    names = header.split(b",")
    return b",".join([names[0], b"nom", *names[2:]])


@pytest.mark.parametrize(
    ("label", "damage", "reason"),
    [
        ("unclosed quote", lambda b: _edit_line(b, 1, lambda line: b'"' + line), "cannot be parsed"),
        ("latin-1 byte", lambda b: _edit_line(b, 1, lambda line: line[:1] + b"\xe9" + line[1:]), "is not UTF-8"),
        ("missing cell", lambda b: _edit_line(b, 1, _without_last_cell), "cells where the header has"),
        ("unknown column", lambda b: _edit_line(b, 0, _second_column_renamed), "unknown columns ['nom']"),
    ],
)
def test_a_file_that_cannot_be_parsed_is_refused_and_left_untouched(label, damage, reason, package_copy: Path):
    path = package_copy / "data/actors.csv"
    broken = damage(path.read_bytes())
    assert broken != path.read_bytes(), label
    path.write_bytes(broken)
    results = {r.file: r for r in format_package(package_copy / "datapackage.json")}
    assert reason in (results["data/actors.csv"].refused or ""), label
    assert path.read_bytes() == broken


def test_an_unsortable_key_is_refused(package_copy: Path):
    # The first step's number (the integer in its primary key) written as a word, wherever its column is.
    path = package_copy / "data/steps.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    schema = next(r for r in RESOURCES if r["name"] == "steps")["schema"]
    integers = {f["name"] for f in schema["fields"] if f["type"] == "integer"}
    number = rows[0].index(next(name for name in schema["primaryKey"] if name in integers))
    rows[1][number] = "three"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    broken = out.getvalue().encode("utf-8")
    path.write_bytes(broken)
    results = {r.file: r for r in format_package(package_copy / "datapackage.json")}
    assert "cannot be sorted" in results["data/steps.csv"].refused
    assert path.read_bytes() == broken


def test_cli_check_reports_and_changes_nothing(package_copy: Path):
    path = package_copy / "data/steps.csv"
    crlf = path.read_bytes().replace(b"\n", b"\r\n")
    path.write_bytes(crlf)
    result = invoke("fmt", str(package_copy), "--check")
    assert result.exit_code == 1
    assert "would reformat data/steps.csv" in result.output
    assert path.read_bytes() == crlf
    result = invoke("fmt", str(package_copy))
    assert result.exit_code == 0 and "reformatted data/steps.csv" in result.output
    assert invoke("validate", str(package_copy)).exit_code == 0


def test_fmt_and_build_never_print_a_control_character_from_the_package(package_copy: Path):
    # A resource path is the package's text: an ESC in it must reach the terminal as a visible escape.
    descriptor = package_copy / "datapackage.json"
    raw = json.loads(descriptor.read_text(encoding="utf-8"))
    raw["resources"][1]["path"] = "data/\x1b[31mred\u202e.csv"
    descriptor.write_text(json.dumps(raw), encoding="utf-8")
    runner = CliRunner()
    for args in (["fmt", str(descriptor)], ["build", str(descriptor), "--out", str(package_copy / "out"), "-q"]):
        result = runner.invoke(cli, args)
        assert result.exit_code != 0
        assert "\x1b" not in result.output and "\u202e" not in result.output, result.output
        assert "\\x1b" in result.output

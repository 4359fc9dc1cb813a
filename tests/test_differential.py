"""Our fast engine and frictionless, over the same faulty tables, must find the same (error type, row, field).

frictionless is the reference oracle: every test runs both engines on one package and
compares the findings of frictionless' own error types. Where we deliberately read a value
differently (a lenient integer or date that the release could not store as written), the
frictionless findings still agree, and our own extra check is asserted separately.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

import pytest

from eurasec.checks.engine import coverage
from eurasec.checks.engine.fast import run_fast
from eurasec.checks.engine.reference import run_frictionless
from eurasec.read.dataset import load_dataset
from eurasec.validate import validate

from .faults import FAULTS, Fault


def raw_findings(run, descriptor: Path) -> set[tuple[str, str, int | None, str | None]]:
    """What one engine reports, before our own checks and before any de-duplication."""
    dataset = load_dataset(descriptor)
    return {(f.code, f.file, f.line, f.field) for f in run(dataset.package.path, dataset)}


def both(descriptor: Path) -> tuple[set, set, object]:
    fast = raw_findings(run_fast, descriptor)
    reference = raw_findings(run_frictionless, descriptor)
    return fast, reference, validate(descriptor)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_the_fault_corpus_gives_the_same_findings(fault: Fault, package_copy: Path):
    fault.apply(package_copy)
    fast_raw, reference_raw, _ = both(package_copy / "datapackage.json")
    assert fast_raw == reference_raw
    fast = validate(package_copy / "datapackage.json", engine="fast")
    reference = validate(package_copy / "datapackage.json", engine="frictionless")
    assert [(f.code, f.file, f.line, f.field, f.message) for f in fast.findings] == [
        (f.code, f.file, f.line, f.field, f.message) for f in reference.findings
    ]


# A small package of its own, so that every type and constraint can be exercised.
SCHEMA = {
    "fields": [
        {"name": "id", "type": "string", "constraints": {"required": True, "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}},
        {"name": "n", "type": "integer", "constraints": {"minimum": 1, "maximum": 999}},
        {"name": "kind", "type": "string", "constraints": {"enum": ["a", "b"]}},
        {"name": "day", "type": "date"},
        {"name": "code", "type": "string", "constraints": {"unique": True, "minLength": 2, "maxLength": 4}},
        {"name": "parent", "type": "string"},
        {"name": "url", "type": "string", "format": "uri"},
    ],
    "primaryKey": ["id"],
    "foreignKeys": [{"fields": ["parent"], "reference": {"resource": "", "fields": ["id"]}}],
}
GOOD = ["alpha", "1", "a", "2024-01-31", "ab", "", "https://example.org/x"]


def small_package(folder: Path, rows: list[list[str]], schema: dict | None = None, raw: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = {
        "name": "small",
        "resources": [
            {"name": "things", "path": "things.csv", "profile": "tabular-data-resource", "schema": schema or SCHEMA}
        ],
    }
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    if raw is None:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([f["name"] for f in (schema or SCHEMA)["fields"]])
        writer.writerows(rows)
        raw = out.getvalue()
    (folder / "things.csv").write_bytes(raw.encode("utf-8"))
    return folder / "datapackage.json"


def row(i: int, **changes: str) -> list[str]:
    names = [f["name"] for f in SCHEMA["fields"]]
    values = dict(zip(names, GOOD, strict=True), id=f"id-{i:03d}", code=f"c{i:03d}")
    values.update(changes)
    return [values[n] for n in names]


CASES = {
    "integer as a word": {"n": "two"},
    "hexadecimal (pyarrow would read it)": {"n": "0x1A"},
    "a decimal point": {"n": "1.0"},
    "minimum": {"n": "0"},
    "maximum": {"n": "1000"},
    "negative below minimum": {"n": "-5"},
    "enum": {"kind": "c"},
    "enum case": {"kind": "A"},
    "pattern": {"id": "Not-A-Slug"},
    "required": {"id": ""},
    "impossible date (pyarrow would make it 2 March)": {"day": "2001-02-30"},
    "date in another format": {"day": "31/01/2024"},
    "minLength": {"code": "x"},
    "maxLength": {"code": "toolong"},
    "uri without scheme": {"url": "example.org"},
    "foreign key": {"parent": "id-404"},
    "unicode digits in a pattern field": {"id": "id-٤٢"},
}


@pytest.mark.parametrize("changes", CASES.values(), ids=CASES.keys())
def test_each_type_and_constraint_fault_gives_the_same_findings(changes: dict, tmp_path: Path):
    rows = [row(i) for i in range(1, 6)]
    rows[2] = row(3, **changes)
    fast, reference, _ = both(small_package(tmp_path, rows))
    assert fast == reference
    assert fast, "the fault must be found"


def test_a_trailing_line_break_passes_the_pattern_in_both_and_hygiene_catches_it(tmp_path: Path):
    # frictionless matches with re.match("^pattern$"), and Python's $ also matches before a final newline.
    rows = [row(1), row(2), row(3, parent="id-001\n")]
    fast, reference, report = both(small_package(tmp_path, rows))
    assert fast == reference == {("foreign-key", "things.csv", 4, "parent")}
    assert ("control-character", 4) in {(f.code, f.line) for f in report.findings}


def test_the_limit_keeps_the_errors_frictionless_reads_first_in_the_cut_row(tmp_path: Path):
    # Row 1000 breaks both `kind` (enum) and the unique field `code` (too long): frictionless reads the
    # unique field first, so at the limit it keeps the `code` error and drops the `kind` one.
    rows = [row(i, kind="z", code=f"c{i:03d}") for i in range(1, 1101)]
    fast, reference, _ = both(small_package(tmp_path, rows))
    assert fast == reference
    assert ("constraint-error", "things.csv", 1001, "code") in fast
    assert ("constraint-error", "things.csv", 1001, "kind") not in fast


def test_keys_blank_rows_and_repeats_give_the_same_findings(tmp_path: Path):
    rows = [row(i) for i in range(1, 9)]
    rows[3] = row(2, code="c100")  # the primary key repeats row 2
    rows[5] = row(6, code="c001")  # unique code repeats row 1
    rows[6] = [""] * len(SCHEMA["fields"])  # a row of empty cells
    rows[7] = row(8, code="c001")  # the same code a third time: frictionless cites the latest
    fast, reference, _ = both(small_package(tmp_path, rows))
    assert fast == reference
    assert {(code, line) for code, _, line, _ in fast} == {
        ("primary-key", 5),  # row 4 repeats row 2's key (line 3)
        ("unique-error", 7),  # code c001 again
        ("blank-row", 8),  # a row of empty cells: its required-id error gives way to the one blank-row error
        ("primary-key", 8),  # and its key is all empty
        ("unique-error", 9),
    }


def test_a_repeat_in_a_sorted_table_is_found_next_to_its_first(tmp_path: Path):
    # Sorted keys settle uniqueness by comparing neighbours; a repeat next to its first must still be found.
    rows = [row(1), row(2), row(2, code="c099"), row(3, code="c003"), row(4, code="c003")]
    fast, reference, _ = both(small_package(tmp_path, rows))
    assert fast == reference
    assert {(code, line) for code, _, line, _ in fast} == {("primary-key", 4), ("unique-error", 6)}


def test_an_empty_line_gives_the_same_findings(tmp_path: Path):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[f["name"] for f in SCHEMA["fields"]], row(1), row(2)])
    text = out.getvalue()
    lines = text.split("\n")
    lines.insert(2, "")
    fast, reference, _ = both(small_package(tmp_path, [], raw="\n".join(lines)))
    assert fast == reference == {("blank-row", "things.csv", 3, None), ("primary-key", "things.csv", 3, None)}


def test_line_numbers_agree_when_cells_hold_line_breaks(tmp_path: Path):
    rows = [row(1, url="https://example.org/a"), row(2, kind="multi\nline"), row(3, kind="z")]
    fast, reference, _ = both(small_package(tmp_path, rows))
    assert fast == reference
    assert {(code, line) for code, _, line, _ in fast} == {("constraint-error", 3), ("constraint-error", 5)}


def test_the_error_limit_per_resource_is_the_same(tmp_path: Path):
    rows = [row(i, kind="z") for i in range(1, 1301)]  # 1300 enum errors: frictionless stops at 1000
    fast, reference, _ = both(small_package(tmp_path, rows))
    assert len(fast) == len(reference) == 1000
    assert fast == reference


def test_a_pattern_re2_cannot_run_falls_back_to_python(tmp_path: Path):
    schema = json.loads(json.dumps(SCHEMA))
    schema["fields"][0]["constraints"]["pattern"] = "(?!x)[a-z0-9-]+"  # a lookahead: RE2 refuses it
    rows = [row(1), row(2, id="xid"), row(3)]
    fast, reference, _ = both(small_package(tmp_path, rows, schema))
    assert fast == reference == {("constraint-error", "things.csv", 3, "id")}


# Deliberate deviations: frictionless accepts these values, so neither engine reports a type
# error; the release would store them changed, so our own check does.
DEVIATIONS = {
    "+42": ("integer-not-canonical", "Write it as 42."),
    " 42 ": ("integer-not-canonical", "Write it as 42."),
    "1_000": ("integer-not-canonical", "Write it as 1000."),
    "٤٢": ("integer-not-canonical", "Write it as 42."),
    "007": ("integer-not-canonical", "Write it as 7."),
    "123456789012345678901234567890": ("integer-out-of-range", None),
}


@pytest.mark.parametrize("cell", DEVIATIONS, ids=lambda c: repr(c))
def test_lenient_integers_agree_with_frictionless_and_get_our_own_finding(cell: str, tmp_path: Path):
    schema = json.loads(json.dumps(SCHEMA))
    schema["fields"][1]["constraints"] = {}  # no bounds, so that only the reading of the value is at stake
    rows = [row(1), row(2, n=cell), row(3)]
    fast, reference, report = both(small_package(tmp_path, rows, schema))
    assert fast == reference == set()
    code, hint = DEVIATIONS[cell]
    (own,) = [f for f in report.findings if f.code == code]
    assert own.line == 3 and own.field == "n"
    if hint:
        assert own.hint == hint


def test_a_lenient_date_agrees_with_frictionless_and_gets_our_own_finding(tmp_path: Path):
    rows = [row(1), row(2, day="2001-2-3"), row(3)]
    fast, reference, report = both(small_package(tmp_path, rows))
    assert fast == reference == set()
    (own,) = [f for f in report.findings if f.code == "date-not-canonical"]
    assert (own.line, own.hint) == (3, "Write it as 2001-02-03.")


def test_structure_header_and_encoding_faults_are_left_to_frictionless(tmp_path: Path):
    header = ",".join(f["name"] for f in SCHEMA["fields"])
    good = ",".join(row(1))
    raw = f"{header}\n{good}\nid-002,1,a\n{','.join(row(3))},extra\n"
    fast, reference, _ = both(small_package(tmp_path / "ragged", [], raw=raw))
    assert fast == reference
    assert {code for code, *_ in fast} >= {"missing-cell", "extra-cell"}
    raw = f"{header.replace('kind', 'kinds')}\n{good}\n"
    fast, reference, _ = both(small_package(tmp_path / "header", [], raw=raw))
    assert fast == reference and {code for code, *_ in fast} == {"incorrect-label"}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    from tests.synth import generate

    folder = tmp_path_factory.mktemp("synthetic") / "pkg"
    generate(folder, 4_000, seed=7)
    return folder


def test_synthetic_faults_of_every_kind_at_once_give_the_same_findings(synthetic: Path, tmp_path: Path):
    import shutil

    from tests.synth import KINDS, inject

    package = tmp_path / "pkg"
    shutil.copytree(synthetic, package)
    for number, kind in enumerate(KINDS):
        inject(package, kind, 3, seed=number)
    fast, reference, _ = both(package / "datapackage.json")
    assert fast == reference
    assert len(fast) >= 3 * len(KINDS) // 2  # the faults were there to be found


def test_offsets_and_citation_keys_give_the_same_findings(synthetic: Path, tmp_path: Path):
    # The fields of roles start and end are integers with a minimum, and part of the citation tables' keys.
    import shutil

    from eurasec.model.descriptor import END, START, load_package

    package = tmp_path / "pkg"
    shutil.copytree(synthetic, package)
    resource = load_package(package / "datapackage.json").resource("actor_citations")
    start, end = resource.role_field(START), resource.role_field(END)
    assert start is not None and end is not None
    path = package / resource.path
    with open(path, encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    s, e = header.index(start.name), header.index(end.name)
    edits = {10: (s, "-1"), 20: (e, ""), 30: (s, "1.5"), 40: (e, "0"), 50: (s, "٣"), 60: (e, "x")}
    for index, (column, value) in edits.items():
        rows[index][column] = value
    rows.insert(71, [*rows[70][:-1], rows[70][-1] + " again"])  # the key of the row above, another quote
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *rows])
    fast, reference, report = both(package / "datapackage.json")
    assert fast == reference
    assert {(code, line) for code, _, line, _ in fast} == {
        ("constraint-error", 12),  # start below its minimum
        ("constraint-error", 22),  # end required
        ("type-error", 32),
        ("constraint-error", 42),  # end below its minimum
        ("type-error", 62),
        ("primary-key", 73),
    }
    # frictionless reads an Arabic-Indic digit as a number; our own check asks for 0-9
    assert ("integer-not-canonical", 52) in {(f.code, f.line) for f in report.findings}


# --- The families: every type, constraint, key, field option, dialect and resource form frictionless reads ---
#
# Generated from the coverage table (eurasec.checks.engine.coverage): every type frictionless reads, with
# every constraint it supports, as a key, with its field options and formats; the dialect options, encodings
# and resource forms; and what frictionless detects in a file's head. Each case is one resource (with the
# resources its foreign keys point into) in a package of many; the two engines' findings of frictionless'
# own error types must be the same, and each case must be read the way the coverage table says: natively
# where it covers the case, by frictionless where it does not. A type, format or option added to the table
# gets its cases here.


@dataclass
class Other:
    name: str
    fields: list[dict]
    rows: list[list[str]]
    resource: dict = dc_field(default_factory=dict)


@dataclass
class Case:
    name: str
    fields: list[dict]
    rows: list[list[str]] = dc_field(default_factory=list)
    raw: bytes | None = None  # the file's bytes, instead of rows written by csv.writer
    schema: dict = dc_field(default_factory=dict)  # more schema keys (primaryKey, foreignKeys, missingValues)
    resource: dict = dc_field(default_factory=dict)  # more resource keys (dialect, encoding, data, path …)
    others: list[Other] = dc_field(default_factory=list)  # the resources its foreign keys point into
    files: dict[str, bytes] = dc_field(default_factory=dict)  # more files in the package
    # checked by the fast engine (True: natively, or a column by frictionless' cell reader), handed to
    # frictionless whole (False), or either (None)
    fast: bool | None = None


@dataclass(frozen=True)
class Sample:
    cells: tuple[str, str, str]  # three valid cells, ascending
    values: tuple[Any, Any, Any]  # the same as JSON values (for enums and bounds)
    bad: str | None  # a cell that is not of the type (None: every cell is)
    length: Any = None  # for minLength/maxLength: the length of each value


SAMPLES: dict[str, Sample] = {
    "string": Sample(("apple", "mango", "pear"), ("apple", "mango", "pear"), None, (5, 5, 4)),
    "integer": Sample(("1", "5", "9"), (1, 5, 9), "x"),
    "number": Sample(("1.5", "5", "9.25"), (1.5, 5, 9.25), "x"),
    "boolean": Sample(("false", "true", "true"), (False, True, True), "maybe"),
    "date": Sample(
        ("2020-01-01", "2020-06-15", "2020-12-31"), ("2020-01-01", "2020-06-15", "2020-12-31"), "2020-02-30"
    ),
    "time": Sample(("08:00:00", "12:00:00", "18:30:00"), ("08:00:00", "12:00:00", "18:30:00"), "25:00:00"),
    "datetime": Sample(
        ("2020-01-01T08:00:00", "2020-06-15T12:00:00", "2020-12-31T18:30:00"),
        ("2020-01-01T08:00:00", "2020-06-15T12:00:00", "2020-12-31T18:30:00"),
        "2020-13-01T00:00:00",
    ),
    "year": Sample(("1999", "2005", "2020"), (1999, 2005, 2020), "20x0"),
    "yearmonth": Sample(("1999-01", "2005-06", "2020-12"), ("1999-01", "2005-06", "2020-12"), "2020-13"),
    "duration": Sample(("P1D", "P2D", "P3D"), ("P1D", "P2D", "P3D"), "1 day"),
    "geopoint": Sample(("1.5,2.5", "10,20", "45,90"), ("1.5,2.5", "10,20", "45,90"), "200,200"),
    "geojson": Sample(
        ('{"type": "Point", "coordinates": [1, 2]}', '{"type": "Point", "coordinates": [3, 4]}', "{}"),
        ({"type": "Point", "coordinates": [1, 2]}, {"type": "Point", "coordinates": [3, 4]}, {}),
        "[1]",
    ),
    "object": Sample(
        ('{"a": 1}', '{"a": 1, "b": 2}', '{"a": 1, "b": 2, "c": 3}'),
        ({"a": 1}, {"a": 1, "b": 2}, {"a": 1, "b": 2, "c": 3}),
        "[1]",
        (1, 2, 3),
    ),
    "array": Sample(("[1]", "[1, 2]", "[1, 2, 3]"), ([1], [1, 2], [1, 2, 3]), "{}", (1, 2, 3)),
    "list": Sample(("a", "a,b", "a,b,c"), ("a", "a,b", "a,b,c"), None, (1, 2, 3)),
    "any": Sample(("a", "b", "c"), ("a", "b", "c"), None),
}
# Cells a type's reader takes leniently, or nearly: signs, spaces, other digits, leading zeros, no padding.
LENIENT: dict[str, list[str]] = {
    "string": [" apple", "é", "a\u00a0b"],
    "integer": ["+5", " 5 ", "1_0", "٤", "05", "-0", "99999999999999999999", "5.0", "1e1"],
    "number": ["1e1", "NaN", "-0", " 5 ", "+9.5", "Infinity", "1_0"],
    "date": ["2020-1-1", " 2020-01-01", "2020-06-15 ", "20200615"],
    "year": ["02005", "+2005", " 2005"],
    "boolean": ["TRUE", "1", "0", " true"],
}
# Values that break a bound of the type differently, as text (frictionless reads a bound through the type)
AS_TEXT_BOUNDS = ("integer", "number", "year")
# A field option and cells it changes the reading of, for each option frictionless reads.
OPTIONS: dict[str, list[tuple[dict, list[str]]]] = {
    "integer": [({"bareNumber": False}, ["$5", "5%", "x", "1 000"])],
    "number": [
        ({"bareNumber": False}, ["€1.5", "1.5%", "x"]),
        ({"groupChar": ","}, ["1,000.5", "1.5", "x"]),
        ({"decimalChar": ","}, ["1,5", "1.5", "x"]),
        ({"groupChar": " ", "decimalChar": ","}, ["1 000,5", "1,5", "1.5"]),
        ({"floatNumber": True}, ["1.5", "1e3", "x", "NaN"]),
    ],
    "boolean": [
        ({"trueValues": ["si"]}, ["si", "true", "false"]),
        ({"falseValues": ["no"]}, ["no", "false", "true"]),
        ({"trueValues": ["yes"], "falseValues": ["no"]}, ["yes", "no", "1"]),
    ],
    "array": [({"arrayItem": {"type": "integer"}}, ["[1, 2]", '["a"]', "[]"])],
    "list": [({"delimiter": ";"}, ["a;b", "a,b", ""]), ({"itemType": "integer"}, ["1,2", "1,x", "3"])],
}
# Formats and cells for each (type, format) frictionless reads, beside the default.
FORMAT_CELLS: dict[tuple[str, str], list[str]] = {
    ("string", "email"): ["a@example.org", "not an email"],
    ("string", "uri"): ["https://example.org/x", "example.org", "mailto:a@b"],
    ("string", "uuid"): ["5b0f2d7e-1c3a-4b7e-9d3f-2a1b0c9d8e7f", "not-a-uuid"],
    ("string", "binary"): ["aGVsbG8=", "not base64!"],
    ("string", "wkt"): ["POINT (1 2)", "POINT 1 2"],
    ("date", "any"): ["2020-01-01", "1 Jan 2020", "nonsense"],
    ("date", "%d/%m/%Y"): ["31/01/2020", "2020-01-31"],
    ("time", "any"): ["08:00", "8am", "nonsense"],
    ("time", "%H:%M"): ["08:00", "08:00:00"],
    ("datetime", "any"): ["2020-01-01 08:00", "nonsense"],
    ("datetime", "%d/%m/%Y %H:%M"): ["31/01/2020 08:00", "2020-01-31T08:00:00"],
    ("geopoint", "array"): ["[1.5, 2.5]", "1.5,2.5"],
    ("geopoint", "object"): ['{"lon": 1.5, "lat": 2.5}', "1.5,2.5"],
    ("geojson", "topojson"): ['{"type": "Topology", "objects": {}, "arcs": []}', '{"type": "Point"}'],
}


def _field(kind: str, name: str = "x", **more: Any) -> dict:
    return {"name": name, "type": kind, **more}


def _native(*fields: dict) -> bool:
    """Whether the fast engine reads every one of these fields natively (a key over them is then its own)."""
    return all(coverage.by_column_reason(f) is None for f in fields)


def type_cases() -> list[Case]:
    """Every type with each constraint it supports (the value as the type's JSON value, and as text where
    frictionless reads a bound through the type), its bad cell, a missing cell, and the types' formats."""
    cases = []
    for kind, supported in coverage.FRICTIONLESS_TYPES.items():
        s = SAMPLES[kind]
        low, mid, high = s.cells
        rows = [[low], [mid], [high], *([[s.bad]] if s.bad else []), [""], *([c] for c in LENIENT.get(kind, []))]
        f = _field(kind)
        cases.append(Case(f"{kind}: no constraint", [f], rows, fast=True))
        for name in supported:
            variants: list[Any]
            if name == "required":
                variants = [True]
            elif name in ("minLength", "maxLength"):
                variants = [s.length[1] if s.length else len(mid)]
            elif name == "pattern":
                variants = ["[a-m].*"]
            elif name == "enum":
                variants = [list(s.values[:2]), list(s.cells[:2])]
            else:
                variants = [s.values[1]] + ([mid] if kind in AS_TEXT_BOUNDS else [])
            for value in variants:
                f = _field(kind, constraints={name: value})
                cases.append(Case(f"{kind}: {name} {value!r}", [f], rows, fast=True))
    # an enum of another kind than the field's: frictionless reads each value through the field's type
    for kind, values in [("string", [1, 2]), ("integer", [True, 1.0]), ("date", [20200101]), ("boolean", ["true"])]:
        f = _field(kind, constraints={"enum": values})
        cases.append(Case(f"{kind}: enum of another kind {values!r}", [f], [["1"], ["true"], ["20200101"]], fast=True))
    for kind, formats in coverage.FORMATS.items():  # every format the table knows has its cases
        for fmt in formats[1:]:
            assert (kind, fmt) in FORMAT_CELLS or (
                fmt.startswith("<") and any(k == kind and "%" in f for k, f in FORMAT_CELLS)
            )
    for (kind, fmt), cells in FORMAT_CELLS.items():
        f = _field(kind, format=fmt)
        cases.append(
            Case(f"{kind}/{fmt}", [f], [[c] for c in cells], fast=None if fmt == "wkt" else True)
        )  # wkt: an extra of frictionless
    return cases


def option_cases() -> list[Case]:
    """The field options of each type, field-level and schema-level missing values."""
    cases = []
    for kind, options in OPTIONS.items():
        assert set().union(*(o.keys() for o, _ in options)) == set(coverage.FIELD_OPTIONS[kind])
        for option, cells in options:
            f = _field(kind, **option)
            cases.append(Case(f"{kind} {option}", [f], [[c] for c in cells], fast=True))
    for kind in ("string", "integer", "date", "number", "boolean"):
        s = SAMPLES[kind]
        rows = [[s.cells[0]], ["NA"], [""], ["-"]]
        for missing in (["NA"], [], ["", "-"]):
            f = _field(kind, missingValues=missing, constraints={"required": True})
            cases.append(Case(f"{kind}: field missingValues {missing}", [f], rows, fast=True))
            f = _field(kind, constraints={"required": True})
            cases.append(Case(f"{kind}: schema missingValues {missing}", [f], rows, schema={"missingValues": missing}))
        f = _field(kind, missingValues=[{"value": "NA", "label": "not available"}])
        cases.append(Case(f"{kind}: missingValues with labels", [f], rows, fast=True))
    two = [_field("integer", "a"), _field("string", "b", missingValues=["NA"])]
    cases.append(Case("a row of missing values is blank", two, [["1", "x"], ["", "NA"], ["", ""]], fast=True))
    cases.append(
        Case("a field without a type", [{"name": "x", "constraints": {"required": True}}], [["a"], [""]], fast=True)
    )
    return cases


# Types whose values Python cannot hash: frictionless fails on a key over them (crash_cases).
UNHASHABLE = ("geojson", "object", "array", "list")


def key_cases() -> list[Case]:
    """Every type as a unique field, a primary key (alone and with another field) and a foreign key; keys
    compared as typed values (an integer 1 and 01, a number 1 and 1.0); keys of two kinds."""
    cases = []
    for kind in coverage.FRICTIONLESS_TYPES:
        if kind in UNHASHABLE:
            continue  # frictionless fails on such keys: crash_cases
        s = SAMPLES[kind]
        low, mid, _ = s.cells
        rows = [[low], [mid], [low], [""]]
        f = _field(kind, constraints={"unique": True})
        cases.append(Case(f"{kind}: unique", [f], rows, fast=_native(f)))
        f = _field(kind)
        cases.append(Case(f"{kind}: primary key", [f], rows, schema={"primaryKey": ["x"]}, fast=_native(f)))
        pair = [_field(kind), _field("string", "y")]
        pair_rows = [[low, "a"], [low, "b"], [mid, "a"], [low, "a"], ["", ""]]
        cases.append(
            Case(
                f"{kind}: composite primary key",
                pair,
                pair_rows,
                schema={"primaryKey": ["x", "y"]},
                fast=_native(*pair),
            )
        )
        fk = {"foreignKeys": [{"fields": ["x"], "reference": {"resource": "target", "fields": ["x"]}}]}
        cases.append(
            Case(
                f"{kind}: foreign key",
                [f],
                [[low], [mid], [""]],
                schema=fk,
                others=[Other("target", [f], [[low]])],
                fast=_native(f),
            )
        )
    text, integer, date = _field("string"), _field("integer"), _field("date")
    fk = {"foreignKeys": [{"fields": ["x"], "reference": {"resource": "target", "fields": ["x"]}}]}
    cases += [
        Case(
            "integer keys are typed: 1 and 01",
            [integer],
            [["1"], ["01"], ["+1"]],
            schema={"primaryKey": ["x"]},
            fast=True,
        ),
        Case(
            "date keys are typed: 2020-1-1 and 2020-01-01",
            [date],
            [["2020-01-01"], ["2020-1-1"]],
            schema={"primaryKey": ["x"]},
            fast=True,
        ),
        Case(
            "number keys are typed: 1 and 1.0",
            [_field("number")],
            [["1"], ["1.0"], ["1e0"]],
            schema={"primaryKey": ["x"]},
            fast=False,
        ),
        Case(
            "text into integer",
            [text],
            [["1"], ["2"]],
            schema=fk,
            others=[Other("target", [integer], [["1"]])],
            fast=False,
        ),
        Case(
            "integer into text",
            [integer],
            [["1"], ["2"]],
            schema=fk,
            others=[Other("target", [text], [["1"]])],
            fast=False,
        ),
        Case(
            "integer into integer, typed",
            [integer],
            [["01"], ["2"]],
            schema=fk,
            others=[Other("target", [integer], [["1"]])],
            fast=True,
        ),
        Case(
            "uri into text",
            [_field("string", format="uri")],
            [["https://a.org"], ["https://b.org"]],
            schema=fk,
            others=[Other("target", [text], [["https://a.org"]])],
            fast=True,
        ),
        Case(
            "composite keys do not run together",
            [text, _field("string", "y")],
            [["a\x1fb", "c"], ["a", "b\x1fc"], ["a\x01", "\x1fb"], ["a", "\x01\x1fb"]],
            schema={"primaryKey": ["x", "y"]},
            fast=True,
        ),
        Case(
            "a foreign key into a field that is not there",
            [text],
            [["1"]],
            schema={"foreignKeys": [{"fields": ["x"], "reference": {"resource": "target", "fields": ["nope"]}}]},
            others=[Other("target", [text], [["1"]])],
            fast=False,
        ),
        Case(
            "a self-reference",
            [text, _field("string", "parent")],
            [["a", ""], ["b", "a"], ["c", "z"]],
            schema={
                "primaryKey": ["x"],
                "foreignKeys": [{"fields": ["parent"], "reference": {"resource": "", "fields": ["x"]}}],
            },
            fast=True,
        ),
        Case(
            "a field that references itself (one column is both sides of the lookup)",
            [text],
            [["a-b"], ["X"], [""], ["a-b"]],
            schema={"foreignKeys": [{"fields": ["x"], "reference": {"resource": "", "fields": ["x"]}}]},
            fast=True,
        ),
        Case(
            "a foreign key into a resource with a dialect",
            [text],
            [["1"], ["2"]],
            schema=fk,
            others=[Other("target", [text], [["1"]], {"dialect": {"header": True}})],
            fast=False,
        ),
        Case(
            "integer keys with a missing value of digits: 0 is absent, never a key",
            [integer],
            [["0"], ["0"], ["1"], ["007"], ["7"]],
            schema={"primaryKey": ["x"], "missingValues": ["", "0"]},
            fast=True,
        ),
        Case(
            "an integer foreign key with a missing value of digits",
            [integer],
            [["0"], ["1"], ["2"], ["01"]],
            schema={**fk, "missingValues": ["", "0"]},
            others=[Other("target", [integer], [["1"]])],
            fast=True,
        ),
        Case(
            "a text foreign key with missing values",
            [text],
            [["n/a"], ["a"], [""], ["b"]],
            schema={**fk, "missingValues": ["", "n/a"]},
            others=[Other("target", [text], [["a"]])],
            fast=True,
        ),
        Case(
            "a composite foreign key",
            [text, integer | {"name": "y"}],
            [["a", "1"], ["a", "2"], ["", ""], ["b", ""]],
            schema={"foreignKeys": [{"fields": ["x", "y"], "reference": {"resource": "target", "fields": ["x", "y"]}}]},
            others=[Other("target", [text, integer | {"name": "y"}], [["a", "01"], ["b", ""]])],
            fast=True,
        ),
    ]
    return cases


def reading_cases() -> list[Case]:
    """Dialects, encodings and resource forms (frictionless reads those itself), what it detects in a file's
    head (the encoding, the delimiter, spaces after it, the header row), and quoting our reader refuses."""
    x, y = _field("integer"), _field("integer", "y")
    rows = [["1", "2"], ["x", "3"]]
    cases = []
    for option, value, raw in [
        ("header", False, b"1,2\nx,3\n"),
        ("headerRows", [2], b"junk,junk\nx,y\n1,2\nx,3\n"),
        ("headerRows", [1, 2], b"x,y\n,\n1,2\nx,3\n"),
        ("headerJoin", "-", b"x,y\n1,2\nx,3\n"),
        ("headerCase", False, b"X,Y\n1,2\nx,3\n"),
        ("commentChar", "#", b"x,y\n# a comment\n1,2\nx,3\n"),
        ("commentRows", [3], b"x,y\n1,2\nnot,a row\nx,3\n"),
        ("skipBlankRows", True, b"x,y\n1,2\n\nx,3\n"),
        ("delimiter", ";", b"x;y\n1;2\nx;3\n"),
        ("lineTerminator", "\r\n", b"x,y\r\n1,2\r\nx,3\r\n"),
        ("quoteChar", "'", b"x,y\n'1',2\nx,3\n"),
        ("doubleQuote", False, b'x,y\n"1",2\nx,3\n'),
        ("escapeChar", "\\", b"x,y\n1\\,0,2\nx,3\n"),
        ("nullSequence", "NULL", b"x,y\nNULL,2\nx,3\n"),
        ("skipInitialSpace", True, b"x,y\n1, 2\nx,3\n"),
    ]:
        assert option in coverage.DIALECT_OPTIONS
        cases.append(
            Case(f"dialect {option} {value!r}", [x, y], raw=raw, resource={"dialect": {option: value}}, fast=False)
        )
    assert {c.name.split()[1] for c in cases} == set(coverage.DIALECT_OPTIONS)
    cases.append(
        Case(
            "dialect, v1 form",
            [x, y],
            raw=b"x;y\n1;2\nx;3\n",
            resource={"dialect": {"delimiter": ";", "header": True}},
            fast=False,
        )
    )
    cases.append(
        Case(
            "dialect by path",
            [x, y],
            raw=b"x;y\n1;2\nx;3\n",
            resource={"dialect": "dialect.json"},
            files={"dialect.json": b'{"delimiter": ";"}'},
            fast=False,
        )
    )
    text = _field("string", constraints={"maxLength": 1, "pattern": "[a-zé]"})
    for encoding, data in [
        ("latin-1", "x\né\nab\n".encode("latin-1")),
        ("cp1251", "x\nж\nab\n".encode("cp1251")),
        ("ascii", b"x\na\nab\n"),
        ("utf-16", "x\né\nab\n".encode("utf-16")),
        ("no-such-encoding", b"x\na\n"),
    ]:
        cases.append(Case(f"encoding {encoding}", [text], raw=data, resource={"encoding": encoding}, fast=False))
    for encoding in ("utf-8", "UTF-8", "utf8", "utf-8-sig", "U8"):
        cases.append(
            Case(f"encoding {encoding}", [text], raw="x\né\nab\n".encode(), resource={"encoding": encoding}, fast=True)
        )
    cases.append(
        Case(
            "encoding utf-8 with a BOM",
            [text],
            raw="\ufeffx\né\nab\n".encode(),
            resource={"encoding": "utf-8"},
            fast=True,
        )
    )
    cases.append(Case("no encoding, UTF-8", [text], raw="x\né\nab\n".encode(), fast=True))
    cases.append(Case("no encoding, latin-1", [text], raw=("x\n" + "é\nab\n" * 30).encode("latin-1"), fast=False))
    # frictionless guesses from the first 100,000 bytes: here they end inside a character, and it reads cp1252
    cases.append(
        Case(
            "no encoding, a character cut at the buffer's end",
            [_field("string")],
            raw=("x\n" + "a" * 99_997 + "é\né\n").encode(),
            fast=False,
        )
    )
    cases.append(Case("inline data", [x, y], resource={"data": [["x", "y"], ["1", "2"], ["x", "3"]]}, fast=False))
    cases.append(
        Case("inline data as objects", [x, y], resource={"data": [{"x": 1, "y": 2}, {"x": "x", "y": 3}]}, fast=False)
    )
    cases.append(
        Case(
            "multipart",
            [x, y],
            resource={"path": ["part1.csv", "part2.csv"]},
            files={"part1.csv": b"x,y\n1,2\n", "part2.csv": b"x,3\n"},
            fast=False,
        )
    )
    cases.append(Case("format tsv", [x, y], raw=b"x\ty\n1\t2\nx\t3\n", resource={"path": "{name}.tsv"}, fast=False))
    cases.append(
        Case(
            "format csv declared on a .txt path",
            [x, y],
            raw=b"x,y\n1,2\nx,3\n",
            resource={"path": "{name}.txt", "format": "csv"},
            fast=True,
        )
    )
    cases.append(
        Case("format json", [x, y], raw=b'[["x","y"],[1,2],["x",3]]', resource={"path": "{name}.json"}, fast=False)
    )
    cases.append(Case("no extension", [x, y], raw=b"x,y\n1,2\nx,3\n", resource={"path": "{name}"}, fast=False))
    for key, value in [("bytes", 1), ("hash", "md5:0"), ("rows", 7), ("fields", 9)]:
        assert key in coverage.CHECKED_KEYS
        cases.append(Case(f"declares {key}", [x, y], rows, resource={key: value}, fast=False))
    cases.append(Case("a custom resource key", [x, y], rows, resource={"custom": 1}, fast=False))
    cases.append(Case("a custom schema key", [x, y], rows, schema={"fieldsMatch": "subset"}, fast=False))
    cases.append(
        Case("eurasec keys", [x | {"eurasec:role": "name"}, y], rows, resource={"eurasec:view": "v"}, fast=True)
    )
    # what frictionless detects in the file's head
    one = [_field("string")]
    for delimiter in ";\t|":
        cases.append(Case(f"sniffed {delimiter!r}", one, [[f"a{delimiter}b"]] * 30, fast=False))
        cases.append(Case(f"{delimiter!r} not sniffed", one, [[f"a{delimiter}b"]] * 5, fast=True))
    cases.append(
        Case(
            "a semicolon that is not sniffed",
            [_field("string"), _field("string", "y")],
            [["a;b", "c"], ["d", "e"]],
            fast=True,
        )
    )
    cases.append(
        Case(
            "sniffed initial spaces, a quote after them",
            [_field("string"), _field("string", "y")],
            raw=b'x,y\n"a", "b"\n"c", "d"\n',
            fast=False,
        )
    )
    cases.append(
        Case(
            "sniffed initial spaces, a cell starting with one",  # frictionless reads ' b' as 'b'
            [_field("string"), _field("string", "y", constraints={"pattern": "\\S+"})],
            raw=b'x,y\n"a,1", b\n"c,2", d\n',
            fast=False,
        )
    )
    cases.append(
        Case(
            "quoted cells with commas and spaces: no initial spaces sniffed",
            [_field("string"), _field("string", "y", constraints={"pattern": "\\S+"})],
            raw=b'x,y\n"a, 1",b\n"c, 2",d\n',
            fast=True,
        )
    )
    cases.append(
        Case(
            "a cell that starts with a space",
            [_field("string"), _field("string", "y", constraints={"pattern": "\\S*"})],
            raw=b"x,y\na, b\nc, d\ne,f\n",
            fast=True,  # the sniffer keeps the spaces: the header has a comma and no space after it
        )
    )
    wide = [_field("string", n) for n in "abcde"]
    cases.append(
        Case("header row inferred elsewhere", wide, raw=b"a,b,c,d,e\n1,2\n3,4\n5,6\n7,8\n9,10\n1,2,3,4,5\n", fast=False)
    )
    cases.append(Case("ragged rows, header kept", wide, raw=b"a,b,c,d,e\n1,2,3,4,5\n1,2,3,4\n1,2,3,4,5,6\n", fast=True))
    # quoting our reader refuses (the slow path: frictionless reads the file)
    two = [_field("string"), _field("string", "y")]
    for name, data in [
        ("a quote inside a cell", b'x,y\na"b,c\nd,e\n'),
        ("text after a closing quote", b'x,y\n"a"b,c\nd,e\n'),
        ("a quote never closed", b'x,y\n"a,b\nc,d\ne,f\n'),
        ("a quoted cell with a line break", b'x,y\n"a\nb",c\nd,e\n'),
        ("a bare CR inside quotes", b'x,y\n"a\rb",c\nd,e\n'),
        ("an empty line", b"x,y\na,b\n\nc,d\n"),
        ("CRLF", b"x,y\r\na,b\r\nc,d\r\n"),
    ]:
        cases.append(Case(name, two, raw=data, fast=None))
    return cases


def pattern_cases() -> list[Case]:
    """Patterns whose classes differ between RE2 and Python's re outside ASCII, on cells that tell them apart."""
    cells = ["a b", "a\u00a0b", "a\u2003b", "ab", "٤٢", "42", "é", "e\u0301", "ǅ", "a_b", "a\nb", "a\n"]
    cases = []
    for pattern in [
        "\\S+",
        "\\D+",
        "\\W+",
        "\\w+",
        "\\d+",
        "\\s",
        "[^\\S]",
        "[^\\d]+",
        "[\\W\\d]+",
        "a\\Bb",
        "\\ba\\b.*",
        ".+",
        "[^a]+",
        "(?a:\\w+)",
        "(?i:A).*",
        "[a-zé]+",
        "(?=a).*",
        "(a+)+b",
    ]:
        f = _field("string", constraints={"pattern": pattern})
        cases.append(Case(f"pattern {pattern!r}", [f], [[c] for c in cells], fast=True))
    return cases


def build_families(folder: Path, cases: list[Case]) -> tuple[Path, dict[str, Case]]:
    """One package of the cases: each case's resources in a folder of its own (c000/ …), their paths and
    the files they refer to inside it. Returns the descriptor and the case of each resource name."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profile.json").write_text("{}", encoding="utf-8")  # a custom profile: frictionless' v1 and v2
    resources, owner = [], {}
    for number, case in enumerate(cases):
        prefix = f"c{number:03d}"
        (folder / prefix).mkdir()
        for name, data in case.files.items():
            (folder / prefix / name).write_bytes(data)

        def local(value: Any, prefix: str = prefix) -> Any:
            if isinstance(value, str) and not value.startswith(("http:", "https:")):
                return f"{prefix}/{value.format(name='main')}"
            return [local(v) for v in value] if isinstance(value, list) else value

        for name, fields, rows, raw, schema, extra in [
            ("main", case.fields, case.rows, case.raw, case.schema, case.resource),
            *((o.name, o.fields, o.rows, None, {}, o.resource) for o in case.others),
        ]:
            resource_name = prefix if name == "main" else f"{prefix}-{name}"
            descriptor_schema = json.loads(json.dumps({"fields": fields, **schema}))
            for fk in descriptor_schema.get("foreignKeys", []):
                if fk["reference"]["resource"]:
                    fk["reference"]["resource"] = f"{prefix}-{fk['reference']['resource']}"
            resource = {"name": resource_name, "path": f"{prefix}/{name}.csv", "schema": descriptor_schema}
            for key, value in extra.items():
                resource[key] = local(value) if key in ("path", "schema", "dialect") else value
            if "data" in resource:
                del resource["path"]
            elif isinstance(resource["path"], str) and not (folder / resource["path"]).exists():
                if raw is None:
                    out = io.StringIO()
                    writer = csv.writer(out, lineterminator="\n")
                    writer.writerow([f["name"] for f in fields])
                    writer.writerows(rows)
                    raw = out.getvalue().encode("utf-8")
                (folder / resource["path"]).write_bytes(raw)
            resources.append(resource)
            owner[resource_name] = case
    descriptor = {"$schema": "profile.json", "name": "families", "resources": resources}
    (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=1), encoding="utf-8")
    return folder / "datapackage.json", owner


def compare_families(folder: Path, cases: list[Case]) -> list[str]:
    """Where the two engines disagree on the cases, or a case is not read as the coverage table says."""
    from eurasec.checks.engine.fast import routes

    descriptor, owner = build_families(folder, cases)
    dataset = load_dataset(descriptor)
    by_file = {r.path: owner[r.name] for r in dataset.package.resources}
    problems = []
    found = {}
    for engine, run in (("fast", run_fast), ("frictionless", run_frictionless)):
        findings = run(dataset.package.path, dataset)
        found[engine] = {(f.code, f.file, f.line, f.field) for f in findings}
        # a case that breaks the descriptor would stop every case from being read: none may
        problems += [f"{engine}: {f.code} {f.message}" for f in findings if f.file not in by_file]
    for key in sorted(found["fast"] ^ found["frictionless"], key=str):
        engine = "fast" if key in found["fast"] else "frictionless"
        problems.append(f"{by_file[key[1]].name}: only {engine} finds {key}")
    routed = routes(load_dataset(descriptor))
    for number, case in enumerate(cases):
        name = f"c{number:03d}"
        if case.fast is not None and (name not in routed) != case.fast:
            how = f"goes to frictionless ({routed[name]})" if name in routed else "is read natively"
            problems.append(f"{case.name}: {how}, but the coverage table says otherwise")
    validate(descriptor)  # and never crashes
    return problems


FAMILIES = {
    "types and constraints": type_cases,
    "field options and missing values": option_cases,
    "keys": key_cases,
    "dialects, encodings, resource forms and detection": reading_cases,
    "patterns": pattern_cases,
}


@pytest.mark.parametrize("family", FAMILIES, ids=list(FAMILIES))
def test_every_family_gives_frictionless_findings(family: str, tmp_path: Path):
    assert compare_families(tmp_path / "pkg", FAMILIES[family]()) == []


def crash_cases() -> list[Case]:
    """Packages frictionless itself fails on (an exception, not a report): keys over values Python cannot
    hash, a bound it cannot read through the type, a pattern Python cannot compile once wrapped in ^…$."""
    cases = []
    for kind in UNHASHABLE:
        low, mid, _ = SAMPLES[kind].cells
        f = _field(kind, constraints={"unique": True})
        cases.append(Case(f"{kind}: unique", [f], [[low], [mid], [low]], fast=False))
        cases.append(
            Case(f"{kind}: primary key", [_field(kind)], [[low], [mid]], schema={"primaryKey": ["x"]}, fast=False)
        )
    cases.append(Case("integer: minimum true", [_field("integer", constraints={"minimum": True})], [["1"]], fast=False))
    cases.append(
        Case(
            "date: maximum not a date", [_field("date", constraints={"maximum": "soon"})], [["2020-01-01"]], fast=False
        )
    )
    cases.append(
        Case("a pattern with global flags", [_field("string", constraints={"pattern": "(?i)a"})], [["a"]], fast=False)
    )
    for kind, bound, cell in (
        ("datetime", "2020-01-01T00:00:00Z", "2020-06-01T08:00:00"),
        ("datetime", "2020-01-01T00:00:00", "2020-06-01T08:00:00+02:00"),
        ("time", "12:00:00", "08:00:00Z"),
    ):
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            f = _field(kind, constraints={key: bound})
            cases.append(Case(f"{kind}: {key} {bound}, a cell {cell}", [f], [[cell]], fast=False))
    return cases


@pytest.mark.parametrize("case", crash_cases(), ids=lambda c: c.name)
def test_where_frictionless_fails_both_engines_say_the_same(case: Case, tmp_path: Path):
    from eurasec.model.findings import InternalError

    descriptor, _ = build_families(tmp_path / "pkg", [case])

    def outcome(engine: str) -> object:
        try:
            report = validate(descriptor, engine=engine)
        except InternalError as exc:
            return type(exc)
        return sorted((f.code, f.file, f.line, f.field) for f in report.findings)

    assert outcome("fast") == outcome("frictionless")


def test_a_schema_given_by_path_is_read_and_its_data_checked_by_frictionless(tmp_path: Path):
    # Table Schema allows a schema by path: the model reads its fields (model/descriptor.py), and the fast
    # engine hands the resource to frictionless, which reads the file itself.
    from eurasec.checks.engine.fast import routes

    x = _field("integer")
    case = Case(
        "schema by path",
        [x],
        [["1"], ["x"]],
        resource={"schema": "schema.json"},
        files={"schema.json": json.dumps({"fields": [x]}).encode()},
        fast=False,
    )
    assert compare_families(tmp_path / "pkg", [case]) == []
    descriptor = tmp_path / "pkg" / "datapackage.json"
    dataset = load_dataset(descriptor)
    assert dataset.package.resources[0].field_names == ["x"]
    assert "c000" in routes(dataset)
    report = validate(descriptor)
    assert ("type-error", "c000/main.csv", 3, "x") in {(f.code, f.file, f.line, f.field) for f in report.findings}

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
from pathlib import Path

import pytest

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

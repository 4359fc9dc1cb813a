"""The fast engine's coverage table (eurasec.checks.engine.coverage) is frictionless' own, is what the engine
does, costs nothing per row, and leaves the project's own packages entirely to the fast engine; and each
deliberate deviation from frictionless is listed, and shown by a test that fails if it changes."""

from __future__ import annotations

import csv
import gzip
import json
import os
import random
import re
import threading
from pathlib import Path

import pytest

from eurasec.checks.engine import coverage, tabular
from eurasec.checks.engine.fast import routes, run_fast
from eurasec.checks.engine.reference import run_frictionless
from eurasec.model.descriptor import load_package
from eurasec.read.dataset import SNIFFED_DELIMITERS, guess_delimiter, load_dataset
from eurasec.validate import ENGINES, validate

from .conftest import ROOT
from .test_differential import SCHEMA, Case, _field, build_families, row, small_package

# --- the table is frictionless' own -----------------------------------------------------------------------


def test_the_types_and_their_constraints_are_frictionless_own():
    from frictionless import system

    for kind, constraints in coverage.FRICTIONLESS_TYPES.items():
        assert tuple(system.select_field_class(kind).supported_constraints) == constraints, kind


def test_the_field_options_are_frictionless_own():
    from frictionless import system

    for kind in coverage.FRICTIONLESS_TYPES:
        patch = getattr(system.select_field_class(kind), "metadata_profile_patch", {}) or {}
        options = set(patch.get("properties", {})) - {"format"}
        assert options == set(coverage.FIELD_OPTIONS.get(kind, ())), kind
    from frictionless import Field

    assert set(Field.metadata_profile["properties"]) == set(coverage.GENERIC_FIELD_KEYS)
    assert set(coverage.NATIVE_FIELD_KEYS) <= set(coverage.GENERIC_FIELD_KEYS)


def test_the_string_formats_are_frictionless_own():
    from frictionless import system

    patch = system.select_field_class("string").metadata_profile_patch
    assert tuple(patch["properties"]["format"]["enum"]) == coverage.FORMATS["string"]


def test_the_dialect_options_are_frictionless_own():
    from frictionless import Dialect
    from frictionless.formats.csv.control import CsvControl
    from frictionless.vendors import stringcase

    metadata = {"name", "type", "title", "description"}
    dialect = set(Dialect.metadata_profile["properties"]) - metadata
    control = {stringcase.camelcase(a.name) for a in CsvControl.__attrs_attrs__} - metadata
    assert set(coverage.DIALECT_OPTIONS) == dialect | control


def test_every_resource_and_schema_key_frictionless_reads_is_placed():
    from frictionless import Resource, Schema

    from eurasec.read.dataset import FOREIGN_KEYS

    placed = set(coverage.RESOURCE_KEYS) | set(coverage.CHECKED_KEYS) | set(FOREIGN_KEYS)
    assert set(Resource.metadata_profile["properties"]) == placed
    assert set(coverage.SCHEMA_KEYS) < set(Schema.metadata_profile["properties"])


def test_the_sniffer_is_asked_for_the_delimiters_frictionless_lets_it_choose(tmp_path: Path, monkeypatch):
    from frictionless import Resource

    asked = []
    sniff = csv.Sniffer.sniff
    monkeypatch.setattr(
        csv.Sniffer,
        "sniff",
        lambda self, sample, delimiters=None: asked.append(delimiters) or sniff(self, sample, delimiters),
    )
    (tmp_path / "t.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    Resource(str(tmp_path / "t.csv")).read_rows()
    assert asked == [SNIFFED_DELIMITERS]


def _samples() -> list[str]:
    """Random texts, and CSV-like ones with quoted cells, several delimiters, doubled quotes and line ends."""
    rng = random.Random(16)
    alphabet = ["a", "b", " ", ",", ";", "\t", "|", '"', "'", "\n", "(", "–", "é", "_", "1"]
    samples = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(4000)]
    words = ["a", "bb", "é", "–", '"q"', "'x'", '""', " ", ", ", "; ", "|", "\t", "(", "1", "it's"]
    for _ in range(600):
        lines = []
        for _ in range(rng.randint(1, 30)):
            cells = ["".join(rng.choice(words) for _ in range(rng.randint(0, 4))) for _ in range(rng.randint(1, 5))]
            cells = ['"' + c.replace('"', '""') + '"' if rng.random() < 0.4 else c for c in cells]
            lines.append(rng.choice([",", ";", "\t", "|", ", "]).join(cells))
        samples.append(rng.choice(["\n", "\r\n"]).join(lines) + rng.choice(["", "\n"]))
    samples += ["x\n" + "a;b\n" * n for n in range(40)] + ["x,y\n" + "a, b\n" * n for n in range(40)]
    return samples


def test_sniffing_as_frictionless_does_gives_the_sniffers_answer():
    # guess_quote_and_delimiter and guess_delimiter are the sniffer's two guesses, made faster: the same answers
    from eurasec.read.dataset import _sniff, guess_quote_and_delimiter

    sniffer = csv.Sniffer()
    for sample in _samples():
        quote, _, delimiter, skip = sniffer._guess_quote_and_delimiter(sample, SNIFFED_DELIMITERS)
        assert guess_quote_and_delimiter(sample, SNIFFED_DELIMITERS) == (quote, delimiter or "", bool(skip)), sample
        delimiter, skip = sniffer._guess_delimiter(sample, SNIFFED_DELIMITERS)
        assert guess_delimiter(sample, SNIFFED_DELIMITERS) == (delimiter, bool(skip)), repr(sample)
        try:
            dialect = sniffer.sniff(sample, SNIFFED_DELIMITERS)
            expected = (dialect.delimiter, bool(dialect.skipinitialspace))
        except csv.Error:
            expected = (",", False)  # frictionless takes csv.excel
        assert _sniff(sample) == expected, repr(sample)


# --- the table is what the engine does, at no cost per row ------------------------------------------------


def test_a_native_field_is_exactly_one_of_the_table():
    for native in coverage.NATIVE:
        field = {"name": "x", "type": native.type, "format": native.format}
        assert coverage.by_column_reason(field) is None
        assert coverage.domain(field) == native.domain
    assert coverage.by_column_reason({"name": "x", "type": "number"}) is not None
    assert coverage.by_column_reason({"name": "x", "type": "boolean", "trueValues": ["si"]}) is not None
    assert coverage.by_column_reason({"name": "x", "type": "integer", "bareNumber": False}) is not None
    assert coverage.by_column_reason({"name": "x", "type": "integer", "constraints": {"minimum": "1"}}) is not None
    assert coverage.by_column_reason({"name": "x", "type": "integer", "constraints": {"enum": [True]}}) is not None
    assert coverage.by_column_reason({"name": "x", "type": "string", "constraints": {"enum": [1]}}) is not None
    assert coverage.by_column_reason({"name": "x", "type": "string", "eurasec:role": "name"}) is None


def test_every_native_reader_reads_its_type_and_nothing_else():
    import pyarrow as pa

    from eurasec.model.descriptor import Field

    cells = pa.array(["1", "x", "2020-01-01", "https://a.org", ""])
    for native in coverage.NATIVE:
        field = Field("x", native.type, "", "", {}, format=native.format)
        tabular.read_column(field, cells, [""])
    with pytest.raises(ValueError):
        tabular.read_column(Field("x", "number", "", "", {}), cells, [""])


def test_the_plan_reads_the_descriptor_only(tmp_path: Path):
    # No data file exists: the coverage decision is made from the descriptor (O(schema)), never the rows.
    descriptor = {
        "name": "p",
        "resources": [
            {"name": "a", "path": "a.csv", "schema": {"fields": [_field("integer"), _field("number", "y")]}},
            {"name": "b", "path": "b.csv", "dialect": {"delimiter": ";"}, "schema": {"fields": [_field("string")]}},
        ],
    }
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    package = load_package(tmp_path / "datapackage.json")
    a, b = (coverage.plan(raw, r, package) for r, raw in zip(package.resources, descriptor["resources"], strict=True))
    assert a.whole is None and set(a.by_column) == {"y"} and a.missing_values["x"] == [""]
    assert b.whole is not None and "dialect" in b.whole


def test_the_project_package_is_read_by_the_fast_engine_alone():
    assert routes(load_dataset(ROOT / "datapackage.json")) == {}


def test_the_benchmark_package_is_read_by_the_fast_engine_alone(tmp_path: Path):
    from tests.synth import generate

    generate(tmp_path / "pkg", 3_000, seed=3)
    dataset = load_dataset(tmp_path / "pkg" / "datapackage.json")
    assert routes(dataset) == {}
    assert all(t.sniffed is None and t.foreign is None and t.fast for t in dataset.tables.values())


def test_a_foreign_file_is_not_read_and_our_checks_leave_it_alone(tmp_path: Path):
    text = _field("string", constraints={"maxLength": 1})
    case = Case("latin-1", [text], raw="x\nä\nab\n".encode("latin-1"), resource={"encoding": "latin-1"})
    descriptor, _ = build_families(tmp_path / "pkg", [case])
    dataset = load_dataset(descriptor)
    (table,) = dataset.tables.values()
    assert table.foreign is not None and table.header is None and table.columns == {}
    report = validate(descriptor)
    # frictionless reads it as latin-1: 'ä' is one character, 'ab' two; no encoding-not-utf8 of ours. (Its row
    # numbers have no line of ours: the file is not read here.)
    assert {(f.code, f.field) for f in report.findings if f.file == "c000/main.csv"} == {("constraint-error", "x")}


@pytest.mark.parametrize("kind", ["string", "integer", "number", "boolean", "date", "object", "array", "any"])
def test_the_project_checks_take_an_enum_of_any_kind(kind: str, tmp_path: Path):
    enums = [[1, 2], [True], [None], [1.5], [[1]], [{"a": 1}], ["a", 1, None]]
    cases = [
        Case(f"{kind} enum {enum}", [_field(kind, constraints={"enum": enum})], [["1"], ["a"], ["true"], [""]])
        for enum in enums
    ]
    descriptor, _ = build_families(tmp_path / "pkg", cases)
    for engine in ENGINES:
        report = validate(descriptor, engine=engine)  # no InternalError: no check of ours crashes
        assert not [f for f in report.findings if f.code in ("formula", "control-character", "untrimmed-space")]


# --- the deviations ---------------------------------------------------------------------------------------


def test_every_deviation_is_documented_with_its_test():
    here = Path(__file__).read_text(encoding="utf-8")
    for deviation in coverage.DEVIATIONS:
        file, name = deviation.test.split("::")
        assert (ROOT / file).exists()
        assert re.search(rf"^def {name}\(", (ROOT / file).read_text(encoding="utf-8"), re.M), deviation.test
        assert deviation.what and deviation.why
    documented = {d.test.split("::")[1] for d in coverage.DEVIATIONS}
    assert documented == set(re.findall(r"^def (test_deviation_\w+)\(", here, re.M))
    markdown = coverage.coverage_markdown()
    assert all(d.test in markdown for d in coverage.DEVIATIONS)
    assert (ROOT / "docs" / "codes.md").read_text(encoding="utf-8").count(markdown) == 1


def raw_and_reported(descriptor: Path) -> tuple[set, dict[str, set]]:
    """What frictionless itself reports (code, line, field), and what validate reports with each engine."""
    dataset = load_dataset(descriptor)
    raw = {(f.code, f.line, f.field) for f in run_frictionless(dataset.package.path, dataset)}
    reported = {
        engine: {(f.code, f.line, f.field) for f in validate(descriptor, engine=engine).findings}
        for engine in ("fast", "frictionless")
    }
    return raw, reported


def test_deviation_blank_row_is_one_finding(tmp_path: Path):
    rows = [row(1), [""] * len(SCHEMA["fields"]), row(3)]
    raw, reported = raw_and_reported(small_package(tmp_path, rows))
    assert {("blank-row", 3, None), ("primary-key", 3, None)} <= raw
    for found in reported.values():
        assert ("blank-row", 3, None) in found and ("primary-key", 3, None) not in found


def test_deviation_ragged_row_has_only_its_structure_errors(tmp_path: Path):
    header = ",".join(f["name"] for f in SCHEMA["fields"])
    raw_csv = f"{header}\n{','.join(row(1))}\nid-002,x,z\n"  # a cell too few, and 'x' is no integer
    raw, reported = raw_and_reported(small_package(tmp_path, [], raw=raw_csv))
    assert ("type-error", 3, "n") in raw and ("missing-cell", 3, "day") in raw
    for found in reported.values():
        assert ("missing-cell", 3, "day") in found
        assert not {f for f in found if f[1] == 3 and f[0] not in ("missing-cell", "extra-cell")}


def test_deviation_no_unique_error_beside_a_repeated_primary_key(tmp_path: Path):
    rows = [row(1), row(2), row(1)]  # row 3 repeats row 1's id and its unique code
    raw, reported = raw_and_reported(small_package(tmp_path, rows))
    assert {("primary-key", 4, None), ("unique-error", 4, "code")} <= raw
    for found in reported.values():
        assert ("primary-key", 4, None) in found and ("unique-error", 4, "code") not in found


def test_deviation_id_not_slug_replaces_the_pattern_error(tmp_path: Path):
    rows = [row(1), row(2, id="Not-A-Slug")]
    raw, reported = raw_and_reported(small_package(tmp_path, rows))
    assert ("constraint-error", 3, "id") in raw
    for found in reported.values():
        assert ("id-not-slug", 3, "id") in found and ("constraint-error", 3, "id") not in found


def test_deviation_file_level_findings_replace_frictionless_ones(tmp_path: Path):
    descriptor = small_package(tmp_path / "missing", [row(1)])
    (tmp_path / "missing" / "things.csv").unlink()
    raw, reported = raw_and_reported(descriptor)
    assert ("scheme-error", None, None) in raw
    for found in reported.values():
        assert ("file-missing", None, None) in found and ("scheme-error", None, None) not in found
    header = ",".join(f["name"] for f in SCHEMA["fields"])
    descriptor = small_package(tmp_path / "latin", [], raw=f"{header}\n{','.join(row(1, kind='ä'))}\n")
    (tmp_path / "latin" / "things.csv").write_bytes(f"{header}\n{','.join(row(1, kind='ä'))}\n".encode("latin-1"))
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    data["resources"][0]["encoding"] = "utf-8"  # declared: frictionless does not guess another
    descriptor.write_text(json.dumps(data), encoding="utf-8")
    raw, reported = raw_and_reported(descriptor)
    assert any(code == "encoding-error" for code, *_ in raw)
    for found in reported.values():
        assert ("encoding-not-utf8", 2, None) in found and not any(code == "encoding-error" for code, *_ in found)


def test_deviation_withheld_files_are_not_read(tmp_path: Path):
    header = ",".join(f["name"] for f in SCHEMA["fields"])
    body = f"{header}\n{','.join(row(1, n='x'))}\n"
    descriptor = small_package(tmp_path / "gz", [])
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    data["resources"][0]["path"] = "things.csv.gz"
    descriptor.write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "gz" / "things.csv.gz").write_bytes(gzip.compress(body.encode()))
    raw, reported = raw_and_reported(descriptor)
    assert ("type-error", None, "n") in raw  # frictionless decompresses it (its rows have no line of ours)
    for found in reported.values():
        assert ("compressed-resource", None, None) in found and not any(code == "type-error" for code, *_ in found)
    descriptor = small_package(tmp_path / "cr", [], raw=f"{header}\n{','.join(row(1, n='x'))}\r{','.join(row(2))}\n")
    raw, reported = raw_and_reported(descriptor)
    assert ("type-error", 2, "n") in raw
    for found in reported.values():
        assert any(code == "bare-carriage-return" for code, *_ in found) and ("type-error", 2, "n") not in found


def test_deviation_files_that_are_not_regular_are_not_read(tmp_path: Path):
    descriptor = small_package(tmp_path, [row(1, n="x")])
    (tmp_path / "things.csv").rename(tmp_path / "real.csv")
    (tmp_path / "things.csv").symlink_to("real.csv")
    raw, reported = raw_and_reported(descriptor)
    assert any(code == "type-error" for code, *_ in raw)  # frictionless follows the link
    for found in reported.values():
        assert ("file-not-regular", None, None) in found and not any(code == "type-error" for code, *_ in found)
    (tmp_path / "things.csv").unlink()
    os.mkfifo(tmp_path / "things.csv")  # frictionless would wait for a writer for ever
    for engine in ("fast", "frictionless"):
        reports: list = []
        worker = threading.Thread(
            target=lambda e=engine, out=reports: out.append(validate(descriptor, engine=e)), daemon=True
        )
        worker.start()
        worker.join(60)
        assert reports, f"validate --engine {engine} hangs on a FIFO"
        assert ("file-not-regular", "things.csv") in {(f.code, f.file) for f in reports[0].findings}


def test_deviation_catastrophic_pattern_is_undecidable(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(tabular, "PATTERN_SECONDS", 0.5)
    schema = json.loads(json.dumps(SCHEMA))
    schema["fields"][2]["constraints"] = {"pattern": "(a+)+"}
    rows = [row(1, kind="a" * 40 + "b\n"), row(2, kind="aa")]  # a final LF: Python, not RE2, decides it
    descriptor = small_package(tmp_path, rows, schema)
    dataset = load_dataset(descriptor)
    found = {(f.code, f.field) for f in run_fast(dataset.package.path, dataset)}
    assert ("pattern-undecidable", "kind") in found  # where frictionless would backtrack for hours
    for engine in ("fast", "frictionless"):
        assert ("pattern-undecidable", "kind") in {
            (f.code, f.field) for f in validate(descriptor, engine=engine).findings
        }


def test_deviation_remote_references_are_not_followed(tmp_path: Path):
    descriptor = small_package(tmp_path, [row(1, n="x")])
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    data["resources"][0]["dialect"] = "https://example.invalid/dialect.json"
    descriptor.write_text(json.dumps(data), encoding="utf-8")
    dataset = load_dataset(descriptor)
    assert {f.code for f in run_frictionless(dataset.package.path, dataset)} == {"remote-reference"}
    for engine in ("fast", "frictionless"):
        found = {f.code for f in validate(descriptor, engine=engine).findings}
        assert "remote-reference" in found and "type-error" not in found

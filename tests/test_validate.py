"""`eurasec validate`: every fault in the corpus is found, with its code, file and line, and no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from eurasec.cli import cli
from eurasec.validate import validate

from .conftest import DESCRIPTOR, resources, total_rows
from .faults import FAULTS, Fault


def invoke(*args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(cli, list(args), env=env)
    # A traceback would surface as an exception other than the SystemExit that sets the exit code.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_the_real_dataset_is_valid():
    report = validate(DESCRIPTOR)
    assert report.findings == []
    assert report.valid


def test_the_cli_says_valid_and_exits_0(monkeypatch):
    monkeypatch.chdir(DESCRIPTOR.parent)
    result = invoke("validate")
    assert result.exit_code == 0
    # The counts are the CSVs' own, read here: they hold for any valid data.
    assert result.output.startswith(f"valid: 0 errors, 0 warnings in {len(resources())} tables ({total_rows()} rows)")


def test_the_corpus_has_at_least_30_distinct_faults_and_codes():
    assert len({f.name for f in FAULTS}) == len(FAULTS) >= 30
    assert len({code for f in FAULTS for code, _, _ in f.expect}) >= 30


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_each_fault_is_reported_with_code_file_and_line(fault: Fault, package_copy: Path):
    fault.apply(package_copy)
    result = invoke("validate", str(package_copy / "datapackage.json"), "--format", "json")
    report = json.loads(result.output)
    found = {(f["code"], f["file"], f["line"]) for f in report["findings"]}
    assert found == set(fault.expect), fault.story
    errors = any(f["severity"] == "error" for f in report["findings"])
    assert result.exit_code == (1 if errors else 0)
    for f in report["findings"]:
        assert f["message"] and f["hint"], f


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_a_file_mapped_from_disk_gives_the_same_findings_as_one_read(
    fault: Fault, package_copy: Path, monkeypatch: pytest.MonkeyPatch
):
    # Large files are mapped, not read; the corpus's files are small, so map them all here.
    import eurasec.read.strict

    fault.apply(package_copy)
    read = {(f.code, f.file, f.line, f.field) for f in validate(package_copy / "datapackage.json").findings}
    monkeypatch.setattr(eurasec.read.strict, "MAP_AT_BYTES", 1)
    mapped = {(f.code, f.file, f.line, f.field) for f in validate(package_copy / "datapackage.json").findings}
    assert mapped == read
    assert {(code, file, line) for code, file, line, _ in mapped} == set(fault.expect)


def test_every_code_the_validator_can_emit_is_registered():
    # A code used in the source but missing from the registry would raise instead of reporting.
    import re

    from eurasec.model.codes import CODES

    from .conftest import ROOT

    used = set()
    for path in (ROOT / "tools" / "eurasec").rglob("*.py"):
        used |= set(re.findall(r'finding\(\s*"([a-z0-9-]+)"', path.read_text(encoding="utf-8")))
    assert used and used <= set(CODES), used - set(CODES)


def test_a_check_that_crashes_is_an_internal_error_not_a_finding(monkeypatch):
    from eurasec import validate as validate_module
    from eurasec.validate import InternalError

    def check_exploding(ctx):
        raise ZeroDivisionError("boom")
        yield  # pragma: no cover

    monkeypatch.setattr(validate_module, "OWN_CHECKS", (*validate_module.own_checks(), check_exploding))
    with pytest.raises(InternalError) as raised:
        validate(DESCRIPTOR)
    assert raised.value.check == "exploding"
    assert isinstance(raised.value.error, ZeroDivisionError) and raised.value.__cause__ is raised.value.error
    assert str(raised.value) == "internal error in eurasec's exploding check: ZeroDivisionError: boom"
    # and the CLI says so, naming eurasec, with no report and exit status 2 (tests/test_internal_errors.py)
    result = invoke("validate", str(DESCRIPTOR), "--format", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "internal error in eurasec's exploding check: ZeroDivisionError: boom" in result.stderr


def test_the_format_character_class_matches_pythons_unicodedata():
    import re
    import sys
    import unicodedata

    from eurasec.checks.hygiene import _FORMAT

    listed = set()
    for a, b in re.findall(r"\\x\{([0-9a-f]+)\}(?:-\\x\{([0-9a-f]+)\})?", _FORMAT):
        listed |= set(range(int(a, 16), int(b or a, 16) + 1))
    assert listed == {c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"}


def test_an_enum_of_numbers_on_an_integer_field_is_checked_not_a_crash(tmp_path):
    # frictionless allows an enum of numbers; the hygiene check once crashed on it (check-failed).
    (tmp_path / "data").mkdir()
    (tmp_path / "datapackage.json").write_text(
        json.dumps(
            {
                "name": "p",
                "version": "1.0.0",
                "resources": [
                    {
                        "name": "t",
                        "path": "data/t.csv",
                        "schema": {"fields": [{"name": "a", "type": "integer", "constraints": {"enum": [1, 2]}}]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    (tmp_path / "data" / "t.csv").write_text("a\n1\n3\n", encoding="utf-8")
    report = validate(tmp_path / "datapackage.json")
    found = [(f.code, f.line) for f in report.findings if f.code != "role-missing"]  # a package without roles
    assert found == [("constraint-error", 3)]

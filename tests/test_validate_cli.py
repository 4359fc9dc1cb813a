"""The validate command as a contributor meets it: formats, exit codes, and inputs that are not even CSV."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import DESCRIPTOR
from .faults import edit_line
from .test_validate import invoke

A = "data/actors.csv"


def test_text_output_of_a_broken_package_is_pinned(package_copy: Path, monkeypatch):
    # Given a retyped quote (hyphen for the seed's en dash) and a misspelt kind, on lines 2 and 4 of actors.csv.
    edit_line(A, 2, ",person,", ",persn,")(package_copy)
    edit_line("data/aliases.csv", 2, "regional organizations – ASEAN", "regional organizations - ASEAN")(package_copy)
    monkeypatch.chdir(package_copy)
    result = invoke("validate")
    assert result.exit_code == 1
    passage = "regional organizations – ASEAN, CSTO, SCO, CIS, CICA, Gulf Cooperation Council"
    start = seed_text().index(passage)  # the offsets, found independently of the code under test
    assert result.output == (
        "data/actors.csv\n"
        "  data/actors.csv:2 [kind]: error constraint-error: 'persn' is not an allowed kind:"
        " use one of 'person', 'state', 'state-group', 'region'\n"
        "      hint: Use a value the field allows (see the field's description in datapackage.json).\n"
        "\n"
        "data/aliases.csv\n"
        "  data/aliases.csv:2 [quote]: error quote-not-found: the quote is not in 'stakhovsky-eurasian-approach':"
        ' it has a hyphen ("-") where the seed has an en dash ("–")'
        f" (closest passage at characters {start}–{start + len(passage)})\n"
        "      hint: Use the seed's exact text: 'regional organizations – ASEAN, CSTO, SCO, CIS, CICA, Gulf Cooperation"
        " Council'.\n"
        "\n"
        "invalid: 2 errors, 0 warnings in 11 tables (143 rows)\n"
    )


def seed_text() -> str:
    return (DESCRIPTOR.parent / "seeds/stakhovsky-eurasian-approach-view-from-belarus.txt").read_text(encoding="utf-8")


def test_github_format_annotates_the_line_and_writes_the_job_summary(package_copy: Path, tmp_path: Path):
    edit_line(A, 4, ",China,", ",China ,")(package_copy)
    summary = tmp_path / "summary.md"
    result = invoke("validate", str(package_copy), "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith("::error file=data/actors.csv,line=4,col=2,title=untrimmed-space [name]::")
    assert "Hint%3A" not in first and "Hint: Remove the leading and trailing spaces." in first
    assert "| data/actors.csv:4 [name] | error | `untrimmed-space` |" in summary.read_text(encoding="utf-8")


def test_github_format_marks_warnings_as_warnings(package_copy: Path):
    edit_line("data/documents.csv", 2, "A View from Belarus", "A View From Belarus")(package_copy)
    result = invoke("validate", str(package_copy), "--format", "github")
    assert result.exit_code == 0  # warnings alone keep the package valid
    assert result.output.startswith(
        "::warning file=data/documents.csv,line=2,col=2,title=seed-title-not-found [title]::"
    )


def test_json_format_is_the_whole_report(package_copy: Path):
    edit_line(A, 4, ",China,", ",,")(package_copy)
    result = invoke("validate", str(package_copy / "datapackage.json"), "--format", "json")
    report = json.loads(result.output)
    assert report["valid"] is False and report["errors"] == 1 and report["warnings"] == 0
    (only,) = report["findings"]
    assert only == {
        "code": "constraint-error",
        "severity": "error",
        "file": A,
        "line": 4,
        "field": "name",
        "column": 2,
        "message": "field 'name' is required, but the cell is empty",
        "hint": "Use a value the field allows (see the field's description in datapackage.json).",
    }


def test_a_missing_descriptor_is_a_usage_error(tmp_path: Path):
    result = invoke("validate", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_a_descriptor_that_is_not_json_is_a_usage_error(tmp_path: Path):
    (tmp_path / "datapackage.json").write_text('{"resources": [', encoding="utf-8")
    result = invoke("validate", str(tmp_path / "datapackage.json"))
    assert result.exit_code == 2
    assert "not valid JSON" in result.output


def test_an_unknown_format_is_a_usage_error():
    assert invoke("validate", "--format", "xml").exit_code == 2


def test_a_50_mb_cell_gets_a_finding_not_a_traceback(package_copy: Path):
    edit_line(A, 4, ",China,", ",China" + "a" * 50_000_000 + ",")(package_copy)
    result = invoke("validate", str(package_copy), "--format", "json")
    found = {(f["code"], f["line"]) for f in json.loads(result.output)["findings"]}
    assert found == {("cell-too-large", 4)}


def test_the_installed_command_never_prints_a_traceback(package_copy: Path):
    # The real console script, in a real process: bad bytes, a NUL and a directory in a table's place.
    (package_copy / "data/steps.csv").write_bytes(b"\xff\xfe\x00garbage\n")
    (package_copy / "data/trends.csv").unlink()
    (package_copy / "data/trends.csv").mkdir()
    exe = Path(sys.executable).with_name("eurasec")
    result = subprocess.run(
        [str(exe), "validate"],
        cwd=package_copy,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "data/steps.csv:1: error encoding-not-utf8" in result.stdout
    assert "data/trends.csv: error file-not-regular: data/trends.csv is a directory" in result.stdout


def test_random_damage_never_raises(package_copy: Path):
    # Faults outside the corpus: random bytes overwritten, inserted and deleted across every table.
    import random

    from eurasec.validate import validate

    rng = random.Random(20261128)
    files = sorted((package_copy / "data").glob("*.csv"))
    originals = {f: f.read_bytes() for f in files}
    alphabet = b',"\n\r \x00\xff\xe2\x80\x93abcXYZ019-=@'
    invalid = 0
    for _ in range(25):
        for f, raw in originals.items():
            f.write_bytes(raw)
        for _ in range(rng.randint(1, 6)):
            f = rng.choice(files)
            raw = bytearray(f.read_bytes())
            at = rng.randrange(len(raw) + 1)
            action = rng.choice(("insert", "delete", "replace"))
            chunk = bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
            if action == "insert":
                raw[at:at] = chunk
            elif action == "delete":
                del raw[at : at + len(chunk)]
            else:
                raw[at : at + len(chunk)] = chunk
            f.write_bytes(bytes(raw))
        report = validate(package_copy / "datapackage.json")
        assert not any(f.code == "check-failed" for f in report.findings), report.findings
        assert all(f.message and f.hint for f in report.findings)
        invalid += not report.valid
    assert invalid >= 20  # the damage was real

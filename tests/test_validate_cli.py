"""The validate command as a contributor meets it: formats, exit codes, and inputs that are not even CSV."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import DESCRIPTOR, STAKHOVSKY, find_row, line_of, resources, total_rows
from .faults import edit_line
from .test_validate import invoke

A = "data/actors.csv"
D = "data/documents.csv"
AL = "data/aliases.csv"
LUKASHENKO = line_of(A, id="alexander-lukashenko")
CHINA = line_of(A, id="china")
ASEAN = line_of(AL, document_id=STAKHOVSKY, alias="ASEAN")
DOCUMENT = line_of(D, id=STAKHOVSKY)


def test_text_output_of_a_broken_package_is_pinned(package_copy: Path, monkeypatch):
    # Given a misspelt kind in actors.csv and a retyped quote (hyphen for the seed's en dash) in aliases.csv.
    edit_line(A, LUKASHENKO, ",person,", ",persn,")(package_copy)
    edit_line(AL, ASEAN, "regional organizations – ASEAN", "regional organizations - ASEAN")(package_copy)
    monkeypatch.chdir(package_copy)
    result = invoke("validate")
    assert result.exit_code == 1
    passage = "regional organizations – ASEAN, CSTO, SCO, CIS, CICA, Gulf Cooperation Council"
    start = seed_text().index(passage)  # the offsets, found independently of the code under test
    assert result.output == (
        "data/actors.csv\n"
        f"  data/actors.csv:{LUKASHENKO} [kind]: error constraint-error: 'persn' is not an allowed kind:"
        " use one of 'person', 'state', 'state-group', 'region'\n"
        "      hint: Use a value the field allows (see the field's description in datapackage.json).\n"
        "\n"
        "data/aliases.csv\n"
        f"  data/aliases.csv:{ASEAN} [quote]: error quote-not-found:"
        " the quote is not in 'stakhovsky-eurasian-approach':"
        ' it has a hyphen ("-") where the seed has an en dash ("–")'
        f" (closest passage at characters {start}–{start + len(passage)})\n"
        "      hint: Use the seed's exact text: 'regional organizations – ASEAN, CSTO, SCO, CIS, CICA, Gulf Cooperation"
        " Council'.\n"
        "\n"
        f"invalid: 2 errors, 0 warnings in {len(resources())} tables ({total_rows()} rows)\n"
    )


def seed_text() -> str:
    return (DESCRIPTOR.parent / find_row("documents", id=STAKHOVSKY)["path"]).read_text(encoding="utf-8")


def test_github_format_annotates_the_line_and_writes_the_job_summary(package_copy: Path, tmp_path: Path):
    edit_line(A, CHINA, ",China,", ",China ,")(package_copy)
    summary = tmp_path / "summary.md"
    result = invoke("validate", str(package_copy), "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    col = len((package_copy / A).read_text(encoding="utf-8").split("\n")[CHINA - 1].split(",")[0]) + 2  # name: 2nd cell
    assert first.startswith(f"::error file=data/actors.csv,line={CHINA},col={col},title=untrimmed-space [name]::")
    assert "Hint%3A" not in first and "Hint: Remove the leading and trailing spaces." in first
    assert f"| data/actors.csv:{CHINA} [name] | error | `untrimmed-space` |" in summary.read_text(encoding="utf-8")


def test_github_format_marks_warnings_as_warnings(package_copy: Path):
    edit_line(D, DOCUMENT, "A View from Belarus", "A View From Belarus")(package_copy)
    result = invoke("validate", str(package_copy), "--format", "github")
    assert result.exit_code == 0  # warnings alone keep the package valid
    line = (package_copy / "data/documents.csv").read_text(encoding="utf-8").split("\n")[DOCUMENT - 1]
    col = len(line.split(",")[0]) + 2  # title: the 2nd cell
    assert result.output.startswith(
        f"::warning file=data/documents.csv,line={DOCUMENT},col={col},title=seed-title-not-found [title]::"
    )


def test_json_format_is_the_whole_report(package_copy: Path):
    edit_line(A, CHINA, ",China,", ",,")(package_copy)
    result = invoke("validate", str(package_copy / "datapackage.json"), "--format", "json")
    report = json.loads(result.output)
    assert report["valid"] is False and report["errors"] == 1 and report["warnings"] == 0
    (only,) = report["findings"]
    assert only == {
        "code": "constraint-error",
        "severity": "error",
        "file": A,
        "line": CHINA,
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
    edit_line(A, CHINA, ",China,", ",China" + "a" * 50_000_000 + ",")(package_copy)
    result = invoke("validate", str(package_copy), "--format", "json")
    found = {(f["code"], f["line"]) for f in json.loads(result.output)["findings"]}
    assert found == {("cell-too-large", CHINA)}


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
        report = validate(package_copy / "datapackage.json")  # a crash would raise InternalError
        assert all(f.message and f.hint for f in report.findings)
        invalid += not report.valid
    assert invalid >= 20  # the damage was real


def test_github_col_is_the_character_where_the_cell_starts_on_its_line(tmp_path: Path):
    # Given cells of varying widths before the bad one, a quoted comma, and a quoted line break.
    field = {"type": "string", "constraints": {"enum": ["ok"]}}
    schema = {"fields": [{"name": "id", "type": "string"}, {"name": "note"}, {"name": "state", **field}]}
    resource = {"name": "things", "path": "things.csv", "schema": schema}
    descriptor = {"name": "t", "version": "1.0.0", "resources": [resource]}
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    rows = ["id,note,state", 'a,"x, y",bad', 'bb,"Дата ""q"", z",bad', 'ccc,"two\nlines",bad', ""]
    (tmp_path / "things.csv").write_text("\n".join(rows), encoding="utf-8")
    result = invoke("validate", str(tmp_path), "--format", "github")
    places = [line.split(",title=")[0] for line in result.output.splitlines() if "[state]" in line]
    # Then col is where `bad` starts on lines 2 and 3, and is left out where its cell is on the next line.
    assert places == [
        f"::error file=things.csv,line=2,col={rows[1].index('bad') + 1}",
        f"::error file=things.csv,line=3,col={rows[2].index('bad') + 1}",
        "::error file=things.csv,line=4",
    ]


def test_cell_start_agrees_with_the_csv_reader():
    import csv
    import random

    from eurasec.read.strict import canonical_row
    from eurasec.render import cell_start

    rng = random.Random(3)
    alphabet = ["a", "Д", ",", '"', " ", "é", "\u2013"]
    for _ in range(500):
        record = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(rng.randint(1, 6))]
        line = canonical_row(record)
        for number, cell in enumerate(record, 1):
            start = cell_start(line, number)
            assert start is not None
            rest = line[start - 1 :]  # the line from that cell on: its first cell is the cell
            assert (next(csv.reader([rest])) if rest else [""])[0] == cell

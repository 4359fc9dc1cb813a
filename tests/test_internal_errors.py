"""Our bugs are ours, and limits are said.

A check that crashes (ours, the fast engine, frictionless itself) is an internal error: exit status 2 and
one message on stderr that names eurasec, not the data, with no report on stdout; `--debug` shows the
traceback. Where a limit cuts the findings (1000 errors a table, as frictionless; our own caps), the
report says how many it left out, in every format. And no descriptor, however malformed, makes validate
print a traceback or report its own crash as a data error.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from eurasec.model.findings import InternalError, Report, Truncation
from eurasec.validate import validate

from .conftest import DESCRIPTOR
from .test_validate import invoke


def invoke_debug(*args: str) -> Any:
    """The CLI with --debug somewhere in args: its traceback is wanted, so invoke's check is not made."""
    from click.testing import CliRunner

    from eurasec.cli import cli

    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


ENGINES = ("fast", "frictionless")
BUG = "This is a bug in eurasec, not a problem with your data."


def crash(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """Make one stage of validate raise, as a bug would."""

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("boom")

    if where == "an own check":
        from eurasec import validate as module

        def check_exploding(ctx: Any) -> Any:
            return boom()

        monkeypatch.setattr(module, "OWN_CHECKS", (*module.own_checks(), check_exploding))
    elif where == "the fast engine":
        from eurasec.checks.engine import tabular

        monkeypatch.setattr(tabular, "check_resource", boom)
        from eurasec.checks.engine import fast

        monkeypatch.setattr(fast, "check_resource", boom)
    elif where == "frictionless":
        from frictionless import Package

        monkeypatch.setattr(Package, "validate", boom)
    elif where == "frictionless' descriptor check":
        from frictionless import Package

        monkeypatch.setattr(Package, "validate_descriptor", boom)
    elif where == "the reader":
        from eurasec import validate as module

        monkeypatch.setattr(module, "load_dataset", boom)
    else:  # pragma: no cover
        raise AssertionError(where)


# stage -> (engine, the check the message names)
STAGES = {
    "an own check": ("fast", "exploding"),
    "the fast engine": ("fast", "fast data"),
    "frictionless": ("frictionless", "frictionless data"),
    "frictionless' descriptor check": ("fast", "descriptor"),
    "the reader": ("fast", "reading"),
}


@pytest.mark.parametrize("where", STAGES)
def test_a_crash_anywhere_in_validate_is_an_internal_error(monkeypatch: pytest.MonkeyPatch, where: str):
    engine, check = STAGES[where]
    crash(monkeypatch, where)
    with pytest.raises(InternalError) as raised:
        validate(DESCRIPTOR, engine=engine)
    assert raised.value.check == check
    assert isinstance(raised.value.error, KeyError) and raised.value.__cause__ is raised.value.error


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
@pytest.mark.parametrize("where", STAGES)
def test_the_cli_blames_eurasec_on_stderr_exits_2_and_prints_no_report(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str, fmt: str
):
    engine, check = STAGES[where]
    crash(monkeypatch, where)
    summary = tmp_path / "summary.md"
    result = invoke(
        "validate", str(DESCRIPTOR), "--engine", engine, "--format", fmt, env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert result.exit_code == 2
    assert result.stdout == ""  # no half report that a program could read as a verdict on the data
    assert not summary.exists()
    first, second = result.stderr.splitlines()
    assert first == f"error: internal error in eurasec's {check} check: KeyError: 'boom'"
    assert second.startswith(f"{BUG} Run it again with --debug to see the traceback, and report it")
    assert "docs/security.md" in second
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["validate", "--debug"], ["--debug", "validate"]], ids=" ".join)
def test_debug_shows_the_traceback_of_the_check_that_crashed(monkeypatch: pytest.MonkeyPatch, args: list[str]):
    crash(monkeypatch, "an own check")
    result = invoke_debug(*args, str(DESCRIPTOR))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "in check_exploding" in result.stderr and "KeyError: 'boom'" in result.stderr
    assert result.stderr.splitlines()[-2] == "error: internal error in eurasec's exploding check: KeyError: 'boom'"
    assert result.stderr.splitlines()[-1].startswith(f"{BUG} Please report it")


def test_build_says_the_same_and_writes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    crash(monkeypatch, "an own check")
    out = tmp_path / "out"
    result = invoke("build", str(DESCRIPTOR), "--out", str(out), "--quiet")
    assert result.exit_code == 2  # not 1: the data is not at fault
    assert "error: internal error in eurasec's exploding check: KeyError: 'boom'" in result.stderr
    assert BUG in result.stderr and "--debug" in result.stderr
    assert not out.exists() or not any(out.iterdir())
    result = invoke_debug("build", str(DESCRIPTOR), "--out", str(out), "--quiet", "--debug")
    assert result.exit_code == 2 and "Traceback (most recent call last):" in result.stderr


def test_any_command_that_crashes_says_so_and_how_to_see_the_traceback(monkeypatch: pytest.MonkeyPatch):
    from eurasec.contribute import fmt

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("\x1b[31mred\x1b[0m")  # an exception's text may quote the data: escaped

    monkeypatch.setattr(fmt, "format_package", boom)
    result = invoke("fmt", str(DESCRIPTOR), "--check")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: internal error in eurasec's fmt command: RuntimeError: \\x1b[31mred\\x1b[0m",
        f"{BUG} Run it again as eurasec --debug fmt … to see the traceback, and report it with the input that"
        ' shows it (docs/security.md, "Reporting a problem", says how).',
    ]
    result = invoke_debug("--debug", "fmt", str(DESCRIPTOR), "--check")
    assert result.exit_code == 2 and "Traceback (most recent call last):" in result.stderr
    assert "\x1b" not in result.stderr


def test_the_console_script_in_a_real_process_exits_2_without_a_traceback(tmp_path: Path):
    # The real entry point (which leaves with os._exit): the message must be out before it goes.
    code = textwrap.dedent(
        """
        import sys
        import eurasec.validate as module

        def check_exploding(ctx):
            raise KeyError("boom")

        module.OWN_CHECKS = (*module.own_checks(), check_exploding)
        sys.argv = ["eurasec", *sys.argv[1:]]
        from eurasec._entry import main
        main()
        """
    )
    for debug in ([], ["--debug"]):
        done = subprocess.run(
            [sys.executable, "-c", code, "validate", str(DESCRIPTOR), *debug],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            check=False,
        )
        assert done.returncode == 2
        assert done.stdout == ""
        assert "error: internal error in eurasec's exploding check: KeyError: 'boom'" in done.stderr
        assert ("Traceback" in done.stderr) == bool(debug)


def test_check_failed_is_no_longer_a_code():
    from eurasec.model.codes import CODES

    assert "check-failed" not in CODES


# --- limits are said ------------------------------------------------------------------------------


def package(folder: Path, header: list[str], rows: list[list[str]], schema: dict, raw: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    resource = {"name": "things", "path": "things.csv", "schema": schema}
    (folder / "datapackage.json").write_text(
        json.dumps({"name": "p", "version": "1.0.0", "resources": [resource]}), encoding="utf-8"
    )
    if raw is None:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([header, *rows])
        raw = out.getvalue()
    (folder / "things.csv").write_text(raw, encoding="utf-8", newline="")
    return folder / "datapackage.json"


def numbers(folder: Path, bad: int, good: int = 0) -> Path:
    """A table of integers: `bad` words where integers belong, then `good` integers."""
    schema = {"fields": [{"name": "n", "type": "integer"}]}
    return package(folder, ["n"], [["x"]] * bad + [[str(i)] for i in range(good)], schema)


def json_report(*args: str) -> dict[str, Any]:
    result = invoke("validate", *args, "--format", "json")
    assert result.exit_code == 1
    return json.loads(result.stdout)


@pytest.mark.parametrize("engine", ENGINES)
def test_over_1000_errors_in_a_table_says_1000_of_at_least_n_in_every_format(tmp_path: Path, engine: str):
    descriptor = numbers(tmp_path, bad=1300, good=5)
    report = json_report(str(descriptor), "--engine", engine)
    type_errors = [f for f in report["findings"] if f["code"] == "type-error"]
    assert len(type_errors) == report["errors"] == 1000
    assert [f["line"] for f in type_errors] == list(range(2, 1002))  # the first ones, as frictionless
    assert report["complete"] is False
    (cut,) = report["truncated"]
    assert (cut["file"], cut["what"], cut["shown"], cut["at_least"]) == ("things.csv", "errors", 1000, 1300)
    assert cut["message"].startswith("1,000 of at least 1,300 errors shown: validate reports at most 1,000 errors")

    text = invoke("validate", str(descriptor), "--engine", engine).stdout
    assert "  things.csv: note: 1,000 of at least 1,300 errors shown: " in text
    assert "      hint: Fix these, then run eurasec validate again to see the rest." in text
    assert text.splitlines()[-1].endswith("; at least 300 more not listed (a limit was reached: see the notes)")

    github = invoke("validate", str(descriptor), "--engine", engine, "--format", "github").stdout
    (notice,) = [line for line in github.splitlines() if line.startswith("::notice")]
    assert notice.startswith("::notice file=things.csv,title=not all listed::1,000 of at least 1,300 errors shown")


def test_both_engines_count_the_same_errors_beyond_the_limit(tmp_path: Path):
    # Errors of several kinds: types, enums, repeated keys, short rows.
    schema = {
        "fields": [
            {"name": "id", "type": "integer"},
            {"name": "kind", "type": "string", "constraints": {"enum": ["a", "b"]}},
        ],
        "primaryKey": ["id"],
    }
    rows = [[str(i % 700), "z" if i % 3 else "a"] for i in range(1500)] + [["1"], ["x", "a"]]
    descriptor = package(tmp_path, ["id", "kind"], rows, schema)
    counted = {}
    for engine in ENGINES:
        report = validate(descriptor, engine=engine)
        (cut,) = report.truncations
        counted[engine] = (cut.shown, cut.at_least)
    assert counted["fast"] == counted["frictionless"]
    assert counted["fast"][1] > 1000


def test_the_count_stops_at_10000_errors_in_both_engines(tmp_path: Path):
    # frictionless would take minutes to count every error of a large broken table: it counts to 10,000.
    from eurasec.checks.engine.reference import COUNT_ERRORS

    descriptor = numbers(tmp_path, bad=COUNT_ERRORS + 500)
    for engine in ENGINES:
        (cut,) = validate(descriptor, engine=engine).truncations
        assert (cut.shown, cut.at_least) == (1000, COUNT_ERRORS) == (1000, 10_000), engine


@pytest.mark.parametrize("engine", ENGINES)
def test_exactly_1000_errors_is_not_a_cut(tmp_path: Path, engine: str):
    report = validate(numbers(tmp_path, bad=1000, good=3), engine=engine)
    assert len(report.errors) == 1000
    assert report.truncations == [] and report.complete


def test_frictionless_run_on_an_irregular_file_by_the_fast_engine_says_its_limit_too(tmp_path: Path):
    # A table whose size the descriptor records is left to frictionless by the fast engine: its count is
    # said all the same.
    descriptor = numbers(tmp_path, bad=1200)
    raw = json.loads(descriptor.read_text(encoding="utf-8"))
    raw["resources"][0]["bytes"] = (tmp_path / "things.csv").stat().st_size
    descriptor.write_text(json.dumps(raw), encoding="utf-8")
    report = validate(descriptor, engine="fast")
    (cut,) = report.truncations
    assert (cut.file, cut.shown, cut.at_least) == ("things.csv", 1000, 1200)


def test_our_own_cap_on_lines_not_in_canonical_form_is_said(tmp_path: Path):
    from eurasec.checks.canonical import MAX_LINES_REPORTED

    lines = ["n", *(f'"{i}"' for i in range(MAX_LINES_REPORTED + 250))]
    schema = {"fields": [{"name": "n", "type": "integer"}]}
    report = validate(package(tmp_path, [], [], schema, raw="\n".join(lines) + "\n"), engine="fast")
    assert sum(f.code == "not-canonical" for f in report.findings) == MAX_LINES_REPORTED
    (cut,) = report.truncations
    assert (cut.what, cut.shown, cut.at_least) == ("lines not in canonical form", 1000, 1250)
    assert "eurasec fmt" in cut.hint


def test_our_own_cap_on_bare_carriage_returns_is_said(tmp_path: Path):
    from eurasec.read.strict import MAX_LINES_REPORTED

    body = "".join(f"{i}\r{i}\n" for i in range(MAX_LINES_REPORTED + 10))
    schema = {"fields": [{"name": "n", "type": "integer"}]}
    report = validate(package(tmp_path, [], [], schema, raw="n\n" + body), engine="fast")
    assert sum(f.code == "bare-carriage-return" for f in report.findings) == MAX_LINES_REPORTED
    (cut,) = report.truncations
    assert (cut.what, cut.shown, cut.at_least) == ("lines with a bare carriage return", 1000, 1000)
    assert cut.message.startswith("1,000 lines with a bare carriage return shown, and there may be more")


def test_a_truncation_renders_escaped_in_every_format():
    from eurasec.render import render, render_markdown_summary, summary

    cut = Truncation(
        file="data/\x1b[2Jx.csv", what="errors", shown=1000, at_least=1000, reason="a limit", hint="Look again."
    )
    report = Report(descriptor="datapackage.json", tables={"x": 5}, truncations=[cut])
    assert summary(report) == (
        "valid: 0 errors, 0 warnings in 1 table (5 rows); there may be more, not listed"
        " (a limit was reached: see the notes)"
    )
    text = render(report, "text")
    assert "data/\\x1b[2Jx.csv: note: 1,000 errors shown, and there may be more: a limit" in text
    assert "\x1b" not in text
    assert json.loads(render(report, "json"))["truncated"][0]["file"] == "data/\x1b[2Jx.csv"
    assert "\x1b" not in render(report, "json")
    assert "\x1b" not in render(report, "github") and "::notice file=data/\\x1b[2Jx.csv" in render(report, "github")
    assert "Not every finding is listed" in render_markdown_summary(report)


# --- frictionless reads the descriptor as a package, whatever its name -------------------------------


@pytest.mark.parametrize("name", ["things.resource.json", "things.schema.json", "things.zip", "descriptor.csv"])
def test_a_descriptor_of_any_name_is_read_as_a_package_by_both_engines(tmp_path: Path, name: str):
    descriptor = numbers(tmp_path, bad=2, good=2)
    renamed = descriptor.rename(tmp_path / name)
    reports = {engine: validate(renamed, engine=engine) for engine in ENGINES}
    found = {e: [(f.code, f.file, f.line, f.field, f.message) for f in r.findings] for e, r in reports.items()}
    assert found["fast"] == found["frictionless"]
    assert [(code, line) for code, _, line, _, _ in found["fast"] if code != "role-missing"] == [
        ("type-error", 2),
        ("type-error", 3),
    ]


# --- no descriptor makes validate print a traceback -------------------------------------------------


def _field(**kw: Any) -> dict[str, Any]:
    return {"name": "a", "type": "string", **kw}


def _with(resource: Any = None, **top: Any) -> dict[str, Any]:
    """A package of one resource: the good one, updated with `resource` if a dict, replaced by it if not."""
    base = {"name": "t", "path": "t.csv", "schema": {"fields": [_field()]}}
    if resource is None:
        resource = base
    elif isinstance(resource, dict):
        resource = {**base, **resource}
    return {"name": "p", "version": "1.0.0", "resources": [resource], **top}


def _schema(**schema: Any) -> dict[str, Any]:
    return _with({"schema": {"fields": [_field()], **schema}})


def _fields(*fields: Any) -> dict[str, Any]:
    return _with({"schema": {"fields": list(fields)}})


HOSTILE_DESCRIPTORS: dict[str, Any] = {
    "a list": [],
    "a number": 42,
    "a string": "datapackage",
    "null": None,
    "resources a string": {"resources": "t.csv"},
    "resources an object": {"resources": {"t": 1}},
    "a resource that is a string": _with("t.csv"),
    "a resource that is a number": _with(5),
    "a resource that is null": {"resources": [None]},
    "a resource without a name": {"resources": [{"path": "t.csv", "schema": {"fields": [_field()]}}]},
    "a name that is a list": _with({"name": ["t"]}),
    "a path that is a number": _with({"path": 5}),
    "a path that is an object": _with({"path": {}}),
    "a schema that is a number": _with({"schema": 5}),
    "a schema that is a list": _with({"schema": [1]}),
    "a schema that is true": _with({"schema": True}),
    "fields not a list": _with({"schema": {"fields": "a"}}),
    "fields an object": _with({"schema": {"fields": {"a": 1}}}),
    "fields a number": _with({"schema": {"fields": 3}}),
    "a field that is a string": _fields("a"),
    "a field that is null": _fields(None),
    "a field without a name": _fields({"type": "string"}),
    "a field name that is a number": _fields({"name": 1}),
    "a type that is a number": _fields(_field(type=5)),
    "an unknown type": _fields(_field(type="blob")),
    "constraints a list": _fields(_field(constraints=[1])),
    "constraints a string": _fields(_field(constraints="x")),
    "an enum that is a string": _fields(_field(constraints={"enum": "ab"})),
    "an enum that is a number": _fields(_field(constraints={"enum": 5})),
    "an enum of objects": _fields(_field(constraints={"enum": [{"a": 1}]})),
    "a pattern that is a number": _fields(_field(constraints={"pattern": 5})),
    "a pattern that is no regex": _fields(_field(constraints={"pattern": "(["})),
    "a minimum that is a word": _fields(_field(type="integer", constraints={"minimum": "x"})),
    "a maximum that is a list": _fields(_field(type="integer", constraints={"maximum": [1]})),
    "a date minimum in another format": _fields(_field(type="date", constraints={"minimum": "2020/01/01"})),
    "a primary key that is a number": _schema(primaryKey=5),
    "a primary key of an unknown field": _schema(primaryKey=["zz"]),
    "foreign keys a string": _schema(foreignKeys="x"),
    "a foreign key that is a number": _schema(foreignKeys=[5]),
    "a foreign key reference that is a string": _schema(foreignKeys=[{"fields": "a", "reference": "t"}]),
    "a foreign key into an unknown resource": _schema(
        foreignKeys=[{"fields": "a", "reference": {"resource": "nope", "fields": "a"}}]
    ),
    "missingValues a number": _schema(missingValues=5),
    "a dialect that is a number": _with({"dialect": 5}),
    "an encoding that is a number": _with({"encoding": 5}),
    "a hash that is a number": _with({"hash": 5}),
    "a resource's $schema that is a number": _with({"$schema": 5}),
    "bytes that is a word": _with({"bytes": "x"}),
    "a role that is a list": _with({"eurasec:role": ["documents"]}),
    "a view that is an object": _with({"eurasec:view": {"a": 1}}),
    "$schema a number": _with(**{"$schema": 5}),
    "a profile that is a number": _with(profile=5),
    "licenses a string": _with(licenses="x"),
    "two resources of one name": {"resources": [_with()["resources"][0]] * 2},
}


# Values frictionless raises an exception on (it would compare every cell with None, or split a number):
# findings, as frictionless' own descriptor errors are, not eurasec's crash.
CRASHED_FRICTIONLESS = {
    "a minimum that is a word": ("field-error", "field 'a': the minimum 'x' is not a valid integer"),
    "a maximum that is a list": ("field-error", "field 'a': the maximum [1] is not a valid integer"),
    "a date minimum in another format": ("field-error", "field 'a': the minimum '2020/01/01' is not a valid date"),
    "a hash that is a number": ("resource-error", "resource 't': 'hash' must be a string, not 5"),
    "a resource's $schema that is a number": ("resource-error", "resource 't': '$schema' must be a string, not 5"),
    "$schema a number": ("package-error", "'$schema' must be a string, not 5"),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CRASHED_FRICTIONLESS, ids=str)
def test_a_value_frictionless_would_crash_on_is_a_finding(tmp_path: Path, case: str, engine: str):
    (tmp_path / "datapackage.json").write_text(json.dumps(HOSTILE_DESCRIPTORS[case]), encoding="utf-8")
    (tmp_path / "t.csv").write_text("a\n7\n2021-03-04\n", encoding="utf-8")  # a cell of each type is read
    result = invoke("validate", str(tmp_path), "--engine", engine, "--format", "json")
    assert result.exit_code == 1, result.output
    found = [(f["code"], f["message"]) for f in json.loads(result.stdout)["findings"]]
    assert found == [CRASHED_FRICTIONLESS[case]]


def test_the_real_descriptor_has_no_value_frictionless_would_crash_on():
    from eurasec.checks.engine.reference import values_frictionless_crashes_on
    from eurasec.model.descriptor import load_package

    assert values_frictionless_crashes_on(load_package(DESCRIPTOR)) == []


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", HOSTILE_DESCRIPTORS, ids=str)
def test_a_malformed_descriptor_is_a_finding_or_a_clean_error_never_a_traceback(tmp_path: Path, case: str, engine: str):
    (tmp_path / "datapackage.json").write_text(json.dumps(HOSTILE_DESCRIPTORS[case]), encoding="utf-8")
    (tmp_path / "t.csv").write_text("a\nx\n", encoding="utf-8")
    result = invoke("validate", str(tmp_path), "--engine", engine, "--format", "json")  # asserts no traceback
    assert result.exit_code in (1, 2), result.output
    if result.exit_code == 1:  # the data is at fault: a report that says where
        report = json.loads(result.stdout)
        assert report["valid"] is False and report["findings"]
        assert all(f["code"] != "check-failed" for f in report["findings"])
    else:  # the descriptor cannot be read at all, or eurasec failed: one message, no report
        assert result.stdout == ""
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr

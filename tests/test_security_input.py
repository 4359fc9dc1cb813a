"""Hostile input: what validate, quote and diff say of packages built to escape, fetch, hang, crash or deceive.

Each test gives a real package (a copy of the real one, edited) to the real command, and checks what
it says: a finding or a clean error, never a traceback, a hang, a read outside the package, a request
to the network, or a raw control character on the terminal or in the job summary.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import STAKHOVSKY, find_row, line_of, running
from .faults import edit_line
from .test_validate import invoke

D = "data/documents.csv"
SEED = find_row("documents", id=STAKHOVSKY)["path"]
DOCUMENT = line_of(D, id=STAKHOVSKY)  # the Stakhovsky document's line: not the only one
CHINA = line_of("data/actors.csv", id="china")
ENGINES = ("fast", "frictionless")


def edit_descriptor(pkg: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = pkg / "datapackage.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def resource(raw: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in raw["resources"] if r["name"] == name)


def replace_in(pkg: Path, file: str, old: str, new: str, count: int = 1) -> None:
    text = (pkg / file).read_text(encoding="utf-8")
    assert old in text, (file, old)
    (pkg / file).write_text(text.replace(old, new, count), encoding="utf-8")


def findings(result: Any) -> list[dict[str, Any]]:
    return json.loads(result.output)["findings"]


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """The real command in a child process: a hang fails the test (timeout) instead of stalling it."""
    return subprocess.run(
        [sys.executable, "-m", "eurasec", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
        check=False,
    )


# --- 1. symlinks and paths ---------------------------------------------------------------

ETC_PASSWD_LINE = "root:"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_symlinked_folder_that_leaves_the_package_is_refused_and_never_read(package_copy: Path, engine: str):
    # Given data/etc -> /etc and the steps resource pointed at data/etc/passwd.
    os.symlink("/etc", package_copy / "data" / "etc")
    edit_descriptor(package_copy, lambda d: resource(d, "steps").update(path="data/etc/passwd"))
    for fmt in ("text", "json"):
        result = invoke("validate", str(package_copy), "--engine", engine, "--format", fmt)
        # Then validate says the path leaves the package, and prints nothing of /etc/passwd.
        assert result.exit_code == 1
        assert "path-outside-package" in result.output and "leads outside" in result.output
        assert ETC_PASSWD_LINE not in result.output


@pytest.mark.parametrize(
    "path",
    ["../steps.csv", "/etc/passwd", "data/../../steps.csv", "C:\\steps.csv", "data/etc/../../../etc/passwd"],
)
def test_resource_paths_that_climb_out_are_refused(package_copy: Path, path: str):
    os.symlink("/etc", package_copy / "data" / "etc")
    edit_descriptor(package_copy, lambda d: resource(d, "steps").update(path=path))
    for engine in ENGINES:
        result = invoke("validate", str(package_copy), "--engine", engine, "--format", "json")
        assert result.exit_code == 1
        assert "path-outside-package" in {f["code"] for f in findings(result)}
        assert ETC_PASSWD_LINE not in result.output


def test_a_symlink_inside_the_package_is_refused_as_for_seeds(package_copy: Path):
    # Given data/tables -> data (a link that stays inside) and the steps resource read through it.
    os.symlink(package_copy / "data", package_copy / "data" / "tables")
    edit_descriptor(package_copy, lambda d: resource(d, "steps").update(path="data/tables/steps.csv"))
    result = invoke("validate", str(package_copy), "--format", "json")
    assert result.exit_code == 1
    (found,) = [f for f in findings(result) if f["code"] == "file-not-regular"]
    assert found["file"] == "data/tables/steps.csv" and "symlink" in found["message"]


@pytest.mark.parametrize(
    "seed_path", ["/etc/passwd", "../../../../etc/passwd", "seeds/../../etc/passwd", "seeds/etc/passwd"]
)
def test_quote_never_reads_a_seed_outside_the_package(package_copy: Path, seed_path: str):
    os.symlink("/etc", package_copy / "seeds" / "etc")
    replace_in(package_copy, D, SEED, seed_path)
    result = invoke("quote", "stakhovsky-eurasian-approach", "root", "--descriptor", str(package_copy))
    assert result.exit_code == 2
    assert "is not safe to read" in result.output and ETC_PASSWD_LINE not in result.output


@pytest.mark.parametrize("documents_path", ["data/etc/passwd", "../documents.csv", "/etc/passwd"])
def test_quote_never_reads_a_documents_table_outside_the_package(package_copy: Path, documents_path: str):
    os.symlink("/etc", package_copy / "data" / "etc")
    edit_descriptor(package_copy, lambda d: resource(d, "documents").update(path=documents_path))
    result = invoke("quote", "root", "x", "--descriptor", str(package_copy))
    assert result.exit_code == 2
    assert "cannot read the package" in result.output and ETC_PASSWD_LINE not in result.output


@pytest.mark.parametrize("path", ["data/etc/passwd", "../steps.csv", "/etc/passwd", "http://127.0.0.1:9/x.csv"])
def test_diff_never_reads_a_folder_sides_file_outside_it(package_copy: Path, path: str):
    os.symlink("/etc", package_copy / "data" / "etc")
    edit_descriptor(package_copy, lambda d: resource(d, "steps").update(path=path))
    result = invoke("diff", str(package_copy), str(package_copy))
    assert result.exit_code == 2
    assert "nothing outside the package is read" in result.output and ETC_PASSWD_LINE not in result.output


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(package_copy: Path) -> Path:
    git(package_copy, "init", "-q")
    for key, value in [("user.name", "T"), ("user.email", "t@example.org"), ("commit.gpgsign", "false")]:
        git(package_copy, "config", key, value)
    git(package_copy, "add", "-A")
    git(package_copy, "commit", "-q", "-m", "published")
    return package_copy


@pytest.mark.parametrize("path", ["../outside.csv", "/etc/passwd", "data/link/steps.csv", "data/linked.csv"])
def test_diff_never_reads_outside_from_a_revision(repo: Path, path: str):
    # Given a commit whose descriptor points a resource outside, or at a symlink committed to the tree.
    (repo.parent / "outside.csv").write_text("secret\n", encoding="utf-8")
    os.symlink("/etc", repo / "data" / "link")
    os.symlink("/etc/passwd", repo / "data" / "linked.csv")
    edit_descriptor(repo, lambda d: resource(d, "steps").update(path=path))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hostile")
    result = invoke("diff", "HEAD~1", "HEAD", "--repo", str(repo))
    assert result.exit_code == 2
    assert "secret" not in result.output and ETC_PASSWD_LINE not in result.output


# --- 2. no network -----------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request it gets (and serves a plausible JSON answer)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = b'{"delimiter": ","}' if self.path.endswith(".json") else b"id\n1\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    with running(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield url, seen


REMOTE_EDITS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "package profile": lambda d, url: d.update(profile=f"{url}/profile.json"),
    "package $schema": lambda d, url: d.update({"$schema": f"{url}/schema.json"}),
    "resource profile": lambda d, url: resource(d, "steps").update(profile=f"{url}/profile.json"),
    "resource dialect": lambda d, url: resource(d, "steps").update(dialect=f"{url}/dialect.json"),
    "resource path": lambda d, url: resource(d, "steps").update(path=f"{url}/steps.csv"),
    "resource path list": lambda d, url: resource(d, "steps").update(path=[f"{url}/a.csv", "data/steps.csv"]),
    "schema $ref": lambda d, url: resource(d, "steps")["schema"].update({"$ref": f"{url}/ref.json"}),
    "dialect $schema": lambda d, url: resource(d, "steps").update(dialect={"$schema": f"{url}/d.json"}),
    "ftp dialect": lambda d, url: resource(d, "steps").update(dialect=url.replace("http", "ftp") + "/d.json"),
    "upper-case scheme": lambda d, url: resource(d, "steps").update(dialect=url.upper() + "/D.JSON"),
}


@pytest.mark.parametrize("case", REMOTE_EDITS, ids=str)
def test_validate_reports_a_remote_reference_and_never_fetches_it(package_copy: Path, server, case: str):
    url, seen = server
    edit_descriptor(package_copy, lambda d: REMOTE_EDITS[case](d, url))
    for engine in ENGINES:
        result = invoke("validate", str(package_copy), "--engine", engine, "--format", "json")
        assert result.exit_code == 1
        (found, *_) = [f for f in findings(result) if f["code"] == "remote-reference"]
        assert found["file"] == "datapackage.json" and found["severity"] == "error"
        lines = (package_copy / "datapackage.json").read_text(encoding="utf-8").splitlines()
        line = lines[found["line"] - 1]  # the key's line, or the URL's in a list
        assert found["field"] in line or "127.0.0.1" in line
    assert seen == []  # and the server saw no request at all, from either engine


def test_a_schema_by_url_is_refused_without_fetching_it(package_copy: Path, server):
    url, seen = server
    edit_descriptor(package_copy, lambda d: resource(d, "steps").update(schema=f"{url}/schema.json"))
    for engine in ENGINES:
        result = invoke("validate", str(package_copy), "--engine", engine)
        assert result.exit_code == 2 and "remote-reference" in result.output
    assert seen == []


def test_a_local_profile_that_refers_to_a_remote_one_is_not_followed(package_copy: Path, server):
    url, seen = server
    (package_copy / "profile.json").write_text(json.dumps({"$ref": f"{url}/evil.json"}), encoding="utf-8")
    edit_descriptor(package_copy, lambda d: d.update(profile="profile.json"))
    for engine in ENGINES:
        result = invoke("validate", str(package_copy), "--engine", engine, "--format", "json")
        assert result.exit_code == 1
        (found,) = [f for f in findings(result) if f["code"] == "remote-reference"]
        assert "profile.json" in found["message"]
    assert seen == []


def test_licenses_and_sources_by_url_are_citations_not_references(package_copy: Path):
    # The real package cites its license and source by URL: that is metadata, never fetched, and valid.
    result = invoke("validate", str(package_copy), "--format", "json")
    assert result.exit_code == 0 and findings(result) == []


# --- 3. descriptors that would crash or hang a reader ------------------------------------

HOSTILE_JSON = {
    "nested 1,000 deep": '{"resources": [], "x": ' + "[" * 1000 + "]" * 1000 + "}",
    "nested 100,000 deep": '{"resources": [], "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "objects nested 5,000 deep": '{"resources": [], "x": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}",
    "an integer of 5,000 digits": '{"resources": [], "x": ' + "9" * 5000 + "}",
    "an integer of 200 digits": '{"resources": [], "x": ' + "9" * 200 + "}",
    "a float too large": '{"resources": [], "x": 1e999}',
    "NaN": '{"resources": [], "x": NaN}',
    "-Infinity": '{"resources": [], "x": -Infinity}',
}


@pytest.mark.parametrize("case", HOSTILE_JSON, ids=str)
@pytest.mark.parametrize("command", ["validate", "fmt", "quote", "diff"])
def test_hostile_json_in_the_descriptor_is_a_clean_error(tmp_path: Path, case: str, command: str):
    (tmp_path / "datapackage.json").write_text(HOSTILE_JSON[case], encoding="utf-8")
    args = {
        "validate": ["validate", str(tmp_path)],
        "fmt": ["fmt", str(tmp_path)],
        "quote": ["quote", "doc", "text", "--descriptor", str(tmp_path)],
        "diff": ["diff", str(tmp_path), str(tmp_path)],
    }[command]
    result = invoke(*args)
    assert result.exit_code == 2
    assert "not usable JSON" in result.output


def test_a_descriptor_nested_deep_cannot_make_frictionless_raise(tmp_path: Path):
    from eurasec.checks.engine.reference import check_descriptor

    path = tmp_path / "datapackage.json"
    path.write_text(HOSTILE_JSON["nested 1,000 deep"], encoding="utf-8")
    (found,) = check_descriptor(path)
    assert found.code == "descriptor-invalid" and "deeper than" in found.message


@pytest.mark.parametrize("command", ["validate", "quote", "diff", "fmt"])
@pytest.mark.parametrize("as_folder", [True, False], ids=["folder", "file"])
def test_a_fifo_as_the_descriptor_is_refused_without_waiting(tmp_path: Path, command: str, as_folder: bool):
    os.mkfifo(tmp_path / "datapackage.json")
    target = str(tmp_path if as_folder else tmp_path / "datapackage.json")
    args = {
        "validate": ["validate", target],
        "fmt": ["fmt", target],
        "quote": ["quote", "doc", "text", "--descriptor", target],
        "diff": ["diff", target, target],
    }[command]
    result = run_cli(*args, timeout=60)  # a hang would end in TimeoutExpired
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "FIFO" in result.stderr or "no datapackage.json" in result.stderr


def test_a_descriptor_over_the_size_cap_is_refused(tmp_path: Path):
    from eurasec.model.descriptor import MAX_DESCRIPTOR_BYTES

    with open(tmp_path / "datapackage.json", "wb") as f:
        f.truncate(MAX_DESCRIPTOR_BYTES + 1)  # sparse: costs no disk
    for args in (["validate", str(tmp_path)], ["diff", str(tmp_path), str(tmp_path)]):
        result = invoke(*args)
        assert result.exit_code == 2
        assert f"larger than {MAX_DESCRIPTOR_BYTES:,} bytes" in result.output


def test_a_fifo_as_a_seed_or_a_table_does_not_hang(package_copy: Path):
    os.mkfifo(package_copy / "seeds" / "pipe.txt")
    replace_in(package_copy, D, SEED, "seeds/pipe.txt")
    result = run_cli("validate", str(package_copy), timeout=120)
    assert result.returncode == 1 and "seeds/pipe.txt" in result.stdout
    result = run_cli("quote", "stakhovsky-eurasian-approach", "x", "--descriptor", str(package_copy), timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (package_copy / "data" / "steps.csv").unlink()
    os.mkfifo(package_copy / "data" / "steps.csv")
    result = run_cli("diff", str(package_copy), str(package_copy), timeout=60)
    assert result.returncode == 2 and "FIFO" in result.stderr


# --- 4. numbers in cells -----------------------------------------------------------------


@pytest.mark.parametrize("written", ["١٠٣٤٨", "²", "１２３", "1٠348", "9" * 5000, "10348.0", "-1"])
def test_a_size_not_in_ascii_digits_is_a_finding_not_a_crash(package_copy: Path, written: str):
    size = (package_copy / SEED).stat().st_size
    edit_line(D, DOCUMENT, f",{size},", f",{written},")(package_copy)
    for engine in ENGINES:
        result = invoke("validate", str(package_copy), "--engine", engine, "--format", "json")
        assert result.exit_code == 1
        codes = {(f["code"], f["file"], f["line"], f["field"]) for f in findings(result)}
        assert "check-failed" not in {c for c, *_ in codes}
        assert ("seed-size-mismatch", D, DOCUMENT, "bytes") in codes or written == f"{size}.0"


def test_diff_compares_huge_and_non_ascii_numbers_without_a_crash(repo: Path):
    size = (repo / SEED).stat().st_size
    replace_in(repo, D, f",{size},", f",{'7' * 5000},")
    edit_descriptor(repo, lambda d: d.update(version="1" * 5000 + ".0.0"))
    edit_descriptor(
        repo, lambda d: resource(d, "documents")["schema"]["fields"][0]["constraints"].update(maxLength=10**90)
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "numbers")
    for fmt in ("text", "markdown", "json"):
        result = invoke("diff", "HEAD~1", "HEAD", "--repo", str(repo), "--format", fmt)
        assert result.exit_code == 0
        assert "7" * (100 if fmt == "markdown" else 5000) in result.output  # markdown clips long values


# --- 5. the job summary ------------------------------------------------------------------


def _unwritable(tmp_path: Path, kind: str) -> str:
    if kind == "a folder":
        return str(tmp_path)
    if kind == "a missing folder":
        return str(tmp_path / "missing" / "summary.md")
    if kind == "a FIFO":
        os.mkfifo(tmp_path / "fifo")
        return str(tmp_path / "fifo")
    if kind == "a read-only file":
        path = tmp_path / "summary.md"
        path.write_text("", encoding="utf-8")
        path.chmod(0o444)
        if os.access(path, os.W_OK):  # root writes anyway: a file no one can write to, then
            return "/proc/version"
        return str(path)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["a folder", "a missing folder", "a FIFO", "a read-only file"])
def test_an_unwritable_job_summary_is_a_warning_and_the_exit_status_says_validity(tmp_path: Path, kind: str):
    from .conftest import DESCRIPTOR

    target = _unwritable(tmp_path, kind)
    result = run_cli("validate", str(DESCRIPTOR), "--format", "github", timeout=120, GITHUB_STEP_SUMMARY=target)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("warning: the job summary was not written to GITHUB_STEP_SUMMARY")


# --- 6. what reaches the terminal and the job summary ------------------------------------

HOSTILE_TEXT = {
    "ESC": "\x1b[2J\x1b[31m",
    "OSC 8 hyperlink": "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\",
    "BEL": "ding\x07",
    "C1 CSI": "\x9b31m",
    "bidi override": "abc\u202edcba",
    "carriage return": "fake\rline",
    "tag character": "a\U000e0041b",
}
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\r", "\U000e0041")


def _no_raw(text: str) -> None:
    for ch in RAW:
        assert ch not in text, repr(ch)


@pytest.mark.parametrize("case", HOSTILE_TEXT, ids=str)
def test_control_characters_in_cells_never_reach_the_output_raw(package_copy: Path, tmp_path: Path, case: str):
    hostile = HOSTILE_TEXT[case]
    replace_in(package_copy, "data/actors.csv", ",China,", f',"China{hostile} ",')  # untrimmed: quoted in a message
    summary = tmp_path / "summary.md"
    for fmt in ("text", "github", "json"):
        result = invoke("validate", str(package_copy), "--format", fmt, env={"GITHUB_STEP_SUMMARY": str(summary)})
        assert result.exit_code == 1
        _no_raw(result.output)
    _no_raw(summary.read_text(encoding="utf-8"))


ESCAPED = ("\\x1b", "\\x07", "\\x9b", "\\u202e", "\\r", "\\U000e0041")


@pytest.mark.parametrize("case", HOSTILE_TEXT, ids=str)
def test_control_characters_in_a_field_name_are_shown_as_visible_escapes(package_copy: Path, tmp_path: Path, case: str):
    hostile = HOSTILE_TEXT[case]
    edit_descriptor(package_copy, lambda d: resource(d, "actors")["schema"]["fields"][1].update(name=f"n{hostile}"))
    summary = tmp_path / "summary.md"
    for fmt in ("text", "github", "json"):
        result = invoke("validate", str(package_copy), "--format", fmt, env={"GITHUB_STEP_SUMMARY": str(summary)})
        assert result.exit_code == 1
        _no_raw(result.output)
        if fmt == "json":  # the same data, with \\u escapes: a program reads back the name as it is
            assert f"n{hostile}" in {f["field"] for f in json.loads(result.output)["findings"]}
        else:
            assert any(escaped in result.output for escaped in ESCAPED)
    _no_raw(summary.read_text(encoding="utf-8"))


MARKDOWN_ATTACKS = [
    "[click](http://evil.example)",
    "![](http://evil.example/pixel.png)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<http://evil.example>",
]


@pytest.mark.parametrize("attack", MARKDOWN_ATTACKS)
def test_markdown_and_html_in_a_cell_render_as_text_in_the_job_summary(package_copy: Path, tmp_path: Path, attack: str):
    replace_in(package_copy, "data/actors.csv", ",China,", f',"China {attack} ",')  # untrimmed: a finding
    summary = tmp_path / "summary.md"
    result = invoke("validate", str(package_copy), "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1
    written = summary.read_text(encoding="utf-8")
    assert "China" in written
    for raw in ("<img", "<script", "<http"):
        assert raw not in written
    assert not re.search(r"(?<!\\)\]\(|(?<!\\)!\[", written)  # no link, no image: each ( and ! is escaped


def test_a_field_name_with_a_link_and_a_newline_cannot_break_the_summary_table(package_copy: Path, tmp_path: Path):
    name = "x](http://evil)\n| injected | row |"
    edit_descriptor(package_copy, lambda d: resource(d, "actors")["schema"]["fields"][1].update(name=name))
    summary = tmp_path / "summary.md"
    result = invoke("validate", str(package_copy), "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1
    written = summary.read_text(encoding="utf-8")
    assert not re.search(r"(?<!\\)\]\(", written) and "\n| injected" not in written
    assert all(line.startswith(("|", "#")) or not line for line in written.splitlines())


def test_quote_output_escapes_control_characters_but_keeps_the_quote_readable():
    from .conftest import DESCRIPTOR

    # A near miss: the closest passage is shown with the query's differences marked in it.
    query = "regional organizations \x1b]8;;http://evil\x07ASEAN\u202e, CSTO, SCO, CIS, CICA"
    result = invoke("quote", "stakhovsky-eurasian-approach", query, "--descriptor", str(DESCRIPTOR))
    assert result.exit_code == 1
    _no_raw(result.output)
    assert "\\x1b" in result.output and "\\u202e" in result.output
    result = invoke("quote", "\x1b[2Jdoc", "x", "--descriptor", str(DESCRIPTOR))
    assert result.exit_code == 2
    _no_raw(result.output)


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_diff_output_escapes_control_characters_and_markdown(repo: Path, fmt: str):
    replace_in(repo, "data/actors.csv", ",China,", ',"China\x1b[31m\u202e [x](http://evil) <img src=x>",')
    replace_in(repo, "datapackage.json", '"name": "actors"', '"name": "actors\\u009b"')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hostile")
    result = invoke("diff", "HEAD~1", "HEAD", "--repo", str(repo), "--format", fmt)
    assert result.exit_code == 0
    _no_raw(result.output)
    if fmt == "markdown":
        assert not re.search(r"(?<!\\)\]\(", result.output) and "<img" not in result.output
    if fmt == "json":  # the same data: the cell reads back as it was
        assert "China\\u001b[31m\u202e" in json.dumps(json.loads(result.output), ensure_ascii=False)


# --- 7. invisible characters -------------------------------------------------------------

INVISIBLE = {
    "hangul filler U+3164": "\u3164",
    "halfwidth hangul filler U+FFA0": "\uffa0",
    "hangul choseong filler U+115F": "\u115f",
    "combining grapheme joiner U+034F": "\u034f",
    "variation selector U+FE0F": "\ufe0f",
    "variation selector supplement U+E0100": "\U000e0100",
    "Mongolian FVS U+180B": "\u180b",
    "braille blank U+2800": "\u2800",
    "line separator U+2028": "\u2028",
    "paragraph separator U+2029": "\u2029",
    "next line U+0085": "\x85",
    "Khmer inherent U+17B4": "\u17b4",
    "unassigned ignorable U+2065": "\u2065",
    "word joiner U+2060": "\u2060",
}


@pytest.mark.parametrize("case", INVISIBLE, ids=str)
def test_an_invisible_character_mid_cell_is_a_control_character_finding(package_copy: Path, case: str):
    ch = INVISIBLE[case]
    replace_in(package_copy, "data/actors.csv", ",China,", f",Ch{ch}ina,")
    result = invoke("validate", str(package_copy), "--format", "json")
    assert result.exit_code == 1
    found = {(f["code"], f["file"], f["line"], f["field"]) for f in findings(result)}
    assert ("control-character", "data/actors.csv", CHINA, "name") in found, found
    (message,) = [f["message"] for f in findings(result) if f["code"] == "control-character"]
    assert f"U+{ord(ch):04X}" in message


def test_the_fast_prefilter_and_the_rule_agree_on_every_invisible_character():
    import pyarrow as pa

    from eurasec.checks.hygiene import _suspects, cell_problems
    from eurasec.model.text import BLANK_RANGES, IGNORABLE_RANGES

    chars = [chr(c) for a, b in IGNORABLE_RANGES + BLANK_RANGES for c in range(a, b + 1)]
    cells = [f"a{ch}b" for ch in chars]
    for kinds in ({"is_id": False, "is_string": True}, {"is_id": False, "is_string": False}):
        mask = _suspects(pa.array(cells, pa.string()), verbatim=False, **kinds)
        assert mask.all()
        for cell in cells:
            codes = [code for code, _ in cell_problems(cell, verbatim=False, **kinds)]
            assert "control-character" in codes, repr(cell)


def test_a_quote_keeps_the_seeds_characters(package_copy: Path):
    # The quote column is verbatim: an invisible character there is the seed's, and the quote check's business.
    from eurasec.checks.hygiene import cell_problems

    assert list(cell_problems("a\u3164b", is_id=False, is_string=True, verbatim=True)) == []

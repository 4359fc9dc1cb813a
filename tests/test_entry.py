"""The `eurasec` console script, run as a real process: it leaves without the interpreter's teardown, so
every byte of output and every file must be out before it goes, and its exit status must be click's."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from eurasec._entry import exit_code, prepare_environment

from .conftest import DESCRIPTOR
from .test_validate import invoke


def run(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eurasec", *args], capture_output=True, text=True, timeout=300, **kwargs
    )


def test_validate_as_a_process_prints_the_whole_report_and_exits_0():
    done = run("validate", str(DESCRIPTOR), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert done.stdout == invoke("validate", str(DESCRIPTOR), "--format", "json").output
    assert json.loads(done.stdout)["valid"] is True


def test_a_large_report_of_an_invalid_package_comes_out_whole_with_status_1(tmp_path: Path):
    from tests.synth import generate, inject

    package = tmp_path / "pkg"
    generate(package, rows=20_000)
    expected = inject(package, "enum", 900)  # under frictionless' limit of 1000 errors a table
    done = run("validate", str(package / "datapackage.json"), "--format", "json")
    assert done.returncode == 1, done.stderr
    assert len(done.stdout) > 1 << 16, "more than a pipe holds at once"
    report = json.loads(done.stdout)  # a cut-off report would not parse
    assert len(report["findings"]) == len(expected)
    assert done.stdout == invoke("validate", str(package / "datapackage.json"), "--format", "json").output


def test_a_usage_error_says_so_on_stderr_with_status_2():
    done = run("validate", "--no-such-option")
    assert done.returncode == 2
    assert "No such option" in done.stderr and done.stdout == ""


def test_version_prints_and_exits_0():
    import eurasec

    done = run("--version")
    assert done.returncode == 0 and eurasec.__version__ in done.stdout


def test_a_reader_that_goes_away_gets_no_traceback(tmp_path: Path):
    from tests.synth import generate, inject

    package = tmp_path / "pkg"
    generate(package, rows=20_000)
    inject(package, "enum", 900)
    process = subprocess.Popen(
        [sys.executable, "-m", "eurasec", "validate", str(package / "datapackage.json"), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(100)
    process.stdout.close()  # as `| head -c 100` does
    status = process.wait(timeout=300)
    stderr = process.stderr.read().decode()
    assert status != 0 and "Traceback" not in stderr


def test_build_as_a_process_leaves_every_file_whole(tmp_path: Path):
    import hashlib

    done = run("build", str(DESCRIPTOR), "--out", str(tmp_path), "--quiet")
    assert done.returncode == 0, done.stderr
    (release,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    for line in (release / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == digest, name
    assert "built" in done.stdout


def test_an_exception_past_the_commands_is_still_an_internal_error_without_a_traceback():
    # Whatever escapes click (here: the whole CLI failing) is said as eurasec's bug, exit status 2.
    code = (
        "import sys, eurasec.cli\n"
        "def broken():\n"
        "    raise LookupError('lost')\n"
        "eurasec.cli.main = broken\n"
        "sys.argv = ['eurasec', *sys.argv[1:]]\n"
        "from eurasec._entry import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code, "validate"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines()[0] == "error: internal error in eurasec: LookupError: lost"
    assert "This is a bug in eurasec, not a problem with your data." in done.stderr
    assert "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-c", code, "--debug"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("Traceback (most recent call last):")


def test_exit_codes_are_those_of_sys_exit(capsys: pytest.CaptureFixture[str]):
    assert exit_code(None) == 0
    assert exit_code(0) == 0
    assert exit_code(2) == 2
    assert exit_code("stopped: no data") == 1
    assert capsys.readouterr().err == "stopped: no data\n"


def test_the_environment_keeps_what_the_user_set():
    environ = {"OPENBLAS_NUM_THREADS": "4"}
    prepare_environment(environ)
    assert environ["OPENBLAS_NUM_THREADS"] == "4"
    fresh: dict[str, str] = {}
    prepare_environment(fresh)
    assert fresh == {"OPENBLAS_NUM_THREADS": "1"}


def test_openblas_starts_no_worker_threads_in_a_command():
    # Threads of the process once numpy is loaded, as the console script sets things up.
    code = (
        "import os, runpy, sys; from eurasec._entry import prepare_environment; prepare_environment(os.environ); "
        "import numpy; print(len(os.listdir('/proc/self/task')))"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    default = subprocess.run(
        [sys.executable, "-c", "import os, numpy; print(len(os.listdir('/proc/self/task')))"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert int(quiet.stdout) == 1
    if os.cpu_count() and os.cpu_count() > 1:
        assert int(default.stdout) > 1, "numpy's OpenBLAS no longer starts threads: the setting can go"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the malloc options are glibc's")
def test_glibc_takes_every_malloc_option_and_a_command_still_validates():
    # In a process of its own: the options stay for the life of the process that sets them.
    code = "from eurasec._entry import keep_freed_memory; print(keep_freed_memory())"
    taken = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert taken.stdout.strip() == "True"  # glibc said yes to each (mallopt returns 1)
    validated = run("validate", str(DESCRIPTOR))  # every command sets them first (python -m eurasec is main())
    assert validated.returncode == 0, validated.stderr

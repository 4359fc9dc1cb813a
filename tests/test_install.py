"""Installing eurasec from source in fresh venvs: a fresh clone, its sdist, a changed CSV, an editable install.

The builds run without isolation (the build backend's requirements are this environment's, so no
package index is needed); README's `pip install .` with isolation is the same backend with the
same requirements, downloaded.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import eurasec

from .test_package import copy_working_tree, fresh_venv

# Two versions: the code's (what pip installs, the sdist's folder) and the data's (the release folder's name).
CODE = f"eurasec-{eurasec.__version__}"
DATA_VERSION = json.loads((Path(__file__).resolve().parent.parent / "datapackage.json").read_text())["version"]
RELEASE = f"eurasec-{DATA_VERSION}"
ACTOR = "alexander-lukashenko"
OLD_DESCRIPTION = "President of the Republic of Belarus"
NEW_DESCRIPTION = "President of Belarus as changed by a test"

LOAD_SCRIPT = r"""
import json, sys
import eurasec
result = {"file": eurasec.__file__}
try:
    actors = eurasec.load("actors")
    result["rows"] = len(actors)
    result["description"] = str(actors.set_index("id").loc[sys.argv[1], "description"])
    result["version"] = eurasec.__data_version__
except eurasec.ReleaseError as exc:
    result["error"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(result))
"""


def run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, env=clean_env())
    assert out.returncode == 0, f"{command} failed:\n{out.stdout}\n{out.stderr}"
    return out


def clean_env() -> dict[str, str]:
    # nothing from this checkout on the path: a fresh venv sees only what was installed into it
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}


def pip_install(venv: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return run(
        venv / "bin" / "python",
        "-m",
        "pip",
        "install",
        "--no-index",
        "--no-deps",
        "--no-build-isolation",
        "--force-reinstall",
        *args,
    )


def python_m_build(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "build", "--no-isolation", *args, cwd=checkout)


def load_in(venv: Path, elsewhere: Path) -> dict:
    """eurasec.load("actors") in the venv, run from a folder outside any checkout."""
    elsewhere.mkdir(parents=True, exist_ok=True)
    out = run(venv / "bin" / "python", "-c", LOAD_SCRIPT, ACTOR, cwd=elsewhere)
    return json.loads(out.stdout)


def csv_rows(checkout: Path, table: str = "actors") -> list[dict[str, str]]:
    with open(checkout / "data" / f"{table}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def change_description(checkout: Path, old: str, new: str) -> None:
    path = checkout / "data" / "actors.csv"
    text = path.read_text(encoding="utf-8")
    assert text.count(f",{old},") == 1
    path.write_text(text.replace(f",{old},", f",{new},"), encoding="utf-8")


def wheel_description(wheel: Path) -> str:
    import pyarrow.parquet as pq

    with zipfile.ZipFile(wheel) as archive:
        table = pq.read_table(io.BytesIO(archive.read("eurasec/_release/parquet/actors.parquet")))
    return dict(zip(table.column("id").to_pylist(), table.column("description").to_pylist(), strict=True))[ACTOR]


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv for the wheels: this environment's pip, setuptools and dependencies, no eurasec."""
    return fresh_venv(tmp_path_factory.mktemp("venv"), with_pip=False)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    target = copy_working_tree(tmp_path / "clone")
    assert not (target / "build").exists() and not (target / "tools/eurasec/_release").exists()
    return target


def test_pip_install_of_a_fresh_clone_loads_its_data(clone: Path, venv: Path, tmp_path: Path):
    out = pip_install(venv, clone)
    assert f"Successfully installed {CODE}" in out.stdout
    loaded = load_in(venv, tmp_path / "elsewhere")
    assert "error" not in loaded, loaded
    assert loaded["file"].startswith(str(venv))
    rows = csv_rows(clone)
    assert loaded["rows"] == len(rows) > 0
    assert loaded["description"] == OLD_DESCRIPTION == next(r["description"] for r in rows if r["id"] == ACTOR)
    assert loaded["version"] == DATA_VERSION
    assert not (clone / "build" / RELEASE).exists()  # the release was built in a temporary folder


def test_the_sdist_builds_a_wheel_that_loads(clone: Path, venv: Path, tmp_path: Path):
    python_m_build(clone, "--sdist", "--outdir", "dist")
    (sdist,) = (clone / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    for needed in ("datapackage.json", "data/actors.csv", "seeds/README.md", "tools/eurasec/_release/SHA256SUMS"):
        assert f"{CODE}/{needed}" in names, needed
    pip_install(venv, sdist)  # pip unpacks the sdist and builds the wheel from it
    loaded = load_in(venv, tmp_path / "elsewhere")
    assert loaded["rows"] == len(csv_rows(clone)), loaded

    # an sdist without its bundled release still builds: it holds what the release is built from
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as archive:
        archive.extractall(unpacked, filter="data")
    bare = unpacked / CODE
    for path in sorted((bare / "tools/eurasec/_release").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (bare / "tools/eurasec/_release").rmdir()
    out = python_m_build(bare, "--wheel", "--outdir", "dist")
    assert "building the release (there is no release in" in out.stderr
    (wheel,) = (bare / "dist").glob("*.whl")
    assert wheel_description(wheel) == OLD_DESCRIPTION


def test_a_changed_csv_is_packaged_never_the_stale_release(clone: Path, venv: Path, tmp_path: Path):
    from eurasec.build import build_release

    python_m_build(clone, "--wheel", "--outdir", "dist1")
    (first,) = (clone / "dist1").glob("*.whl")
    assert wheel_description(first) == OLD_DESCRIPTION
    build_release(clone / "datapackage.json", clone / "build")  # the maintainer's `eurasec build`

    # The data changes; build/ and tools/eurasec/_release/ (and setuptools' build/lib/) are now stale.
    change_description(clone, OLD_DESCRIPTION, NEW_DESCRIPTION)
    out = python_m_build(clone, "--wheel", "--outdir", "dist2")
    assert "building the release" in out.stderr and "changed since: data/actors.csv" in out.stderr
    (second,) = (clone / "dist2").glob("*.whl")
    assert wheel_description(second) == NEW_DESCRIPTION
    pip_install(venv, second)
    assert load_in(venv, tmp_path / "elsewhere")["description"] == NEW_DESCRIPTION

    # Changed back: build/ is current again (though older than setuptools' copies), and is what is packaged.
    change_description(clone, NEW_DESCRIPTION, OLD_DESCRIPTION)
    out = python_m_build(clone, "--wheel", "--outdir", "dist3")
    assert f"bundling {clone / 'build' / RELEASE}" in out.stderr
    (third,) = (clone / "dist3").glob("*.whl")
    assert wheel_description(third) == OLD_DESCRIPTION


def test_an_editable_install_loads_the_checkouts_build_and_says_when_it_is_stale(clone: Path, tmp_path: Path):
    editable = fresh_venv(tmp_path / "editable-venv", with_pip=False)
    pip_install(editable, "--editable", clone)
    elsewhere = tmp_path / "elsewhere"

    loaded = load_in(editable, elsewhere)
    assert loaded["file"] == str(clone / "tools" / "eurasec" / "__init__.py")
    assert loaded["error"].startswith("ReleaseError: this is a development install of the checkout")
    assert f"Run `eurasec build` in {clone} first" in loaded["error"]

    run(editable / "bin" / "eurasec", "build", "--quiet", cwd=clone)  # README's first command ends so
    loaded = load_in(editable, elsewhere)
    assert loaded["rows"] == len(csv_rows(clone)) and loaded["description"] == OLD_DESCRIPTION, loaded

    # A bundle left by an earlier `python -m build` in the package folder is never read in a checkout.
    python_m_build(clone, "--wheel", "--outdir", "dist")
    assert (clone / "tools/eurasec/_release/SHA256SUMS").is_file()

    change_description(clone, OLD_DESCRIPTION, NEW_DESCRIPTION)
    loaded = load_in(editable, elsewhere)
    assert loaded["error"].startswith("StaleReleaseError: ")
    assert "changed since: data/actors.csv" in loaded["error"]
    assert f"Run `eurasec build` in {clone}" in loaded["error"]

    run(editable / "bin" / "eurasec", "build", "--quiet", cwd=clone)
    assert load_in(editable, elsewhere)["description"] == NEW_DESCRIPTION

"""`pip install eurasec`: the wheel that `python -m build` makes, installed in a fresh venv, used offline."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import eurasec
from eurasec.build import build_release
from eurasec.loaders.release import (
    HASH_KEY,
    SIZE_KEY,
    SOURCES_KEY,
    MalformedReleaseError,
    sources_record,
    stale_reason,
)
from eurasec.model.schema import MENTION_COUNTS, MENTIONS

from .conftest import DESCRIPTOR, ROOT, row_count

# Two versions: the code's (the wheel's and the sdist's names) and the data's (the release folder's name).
CODE = f"eurasec-{eurasec.__version__}"
RESOURCES = {r["name"]: r for r in json.loads(DESCRIPTOR.read_text(encoding="utf-8"))["resources"]}
DATA_VERSION = json.loads(DESCRIPTOR.read_text(encoding="utf-8"))["version"]
RELEASE = f"eurasec-{DATA_VERSION}"


def working_tree_files() -> list[str]:
    """The files a fresh checkout of this working tree would have (tracked, or new and not ignored)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if (ROOT / line).exists()]


def copy_working_tree(target: Path) -> Path:
    """What a fresh clone of this working tree holds: no build/, no bundled release, no egg-info."""
    if not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to know which files are part of the project")
    for name in working_tree_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name, follow_symlinks=False)
    return target


def fresh_venv(target: Path, *, with_pip: bool = True) -> Path:
    """A fresh venv whose dependencies are this environment's, appended after its own site-packages.

    Without its own pip (with_pip=False), this environment's pip and setuptools are the ones it
    uses: a build without isolation then has the build backend's requirements, and no package index.
    """
    subprocess.run([sys.executable, "-m", "venv", *([] if with_pip else ["--without-pip"]), str(target)], check=True)
    site = subprocess.run(
        [str(target / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A clean copy of the repository with its release built, as a maintainer would have before packaging."""
    target = copy_working_tree(tmp_path_factory.mktemp("checkout"))
    build_release(target / "datapackage.json", target / "build")
    return target


@pytest.fixture(scope="module")
def dist(checkout: Path) -> Path:
    # --no-isolation: the build tools come from this environment, so no package index is needed.
    out = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", "dist"],
        cwd=checkout,
        check=True,
        capture_output=True,
        text=True,
    )
    (checkout / "python-m-build.log").write_text(out.stdout + out.stderr, encoding="utf-8")
    return checkout / "dist"


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed from the file, without any package index."""
    target = fresh_venv(tmp_path_factory.mktemp("venv"))
    python = target / "bin" / "python"
    (wheel,) = dist.glob("*.whl")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "--no-deps", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    return target


def test_python_m_build_makes_an_sdist_and_a_wheel(dist: Path):
    assert sorted(p.name for p in dist.iterdir()) == [f"{CODE}-py3-none-any.whl", f"{CODE}.tar.gz"]


def test_the_wheel_carries_the_release_with_the_same_checksums(dist: Path, checkout: Path):
    release = checkout / "build" / RELEASE
    sums = dict(reversed(line.split("  ", 1)) for line in (release / "SHA256SUMS").read_text().splitlines())
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name, digest in sums.items():
            assert hashlib.sha256(archive.read(f"eurasec/_release/{name}")).hexdigest() == digest, name
        assert archive.read("eurasec/_release/SHA256SUMS") == (release / "SHA256SUMS").read_bytes()


LOADER_SCRIPT = r"""
import json, sys, time
start = time.perf_counter()
import eurasec
imported = time.perf_counter() - start
heavy = sorted(m for m in ("frictionless", "click", "pandas", "pyarrow") if m in sys.modules)
start = time.perf_counter()
first = eurasec.load("actors")
first_load = time.perf_counter() - start
import pyarrow.parquet as pq
build = sys.argv[1]
result = {"file": eurasec.__file__, "heavy_after_import": heavy, "import_s": imported, "first_load_s": first_load,
          "tables": eurasec.tables(), "version": eurasec.__data_version__, "equal": {}, "dtypes": {}}
for name in eurasec.tables():
    expected = pq.read_table(f"{build}/parquet/{name}.parquet")
    frame = eurasec.load(name)
    same_frame = frame.equals(expected.to_pandas().astype(frame.dtypes.to_dict()))
    result["equal"][name] = eurasec.load_arrow(name).equals(expected) and same_frame
    result["dtypes"][name] = {c: str(t) for c, t in frame.dtypes.items()}
db = eurasec.connect()
result["sqlite_actors"] = db.execute("SELECT count(*) FROM actors").fetchone()[0]
result["views"] = {name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                   for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")}
try:
    db.execute("DELETE FROM actors")
    result["read_only"] = False
except Exception as exc:
    result["read_only"] = "readonly" in str(exc)
try:
    eurasec.load("no_such_table")
except KeyError as exc:
    result["unknown"] = str(exc)
result["describe"] = eurasec.describe("actors").fields[0].description
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def installed(venv: Path, checkout: Path, tmp_path_factory) -> dict:
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # outside the repository: nothing to pick up by accident
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", LOADER_SCRIPT, str(checkout / "build" / RELEASE)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: dict, venv: Path):
    assert installed["file"].startswith(str(venv))


def test_import_eurasec_loads_no_tooling(installed: dict):
    assert installed["heavy_after_import"] == []


def test_every_table_equals_the_built_parquet(installed: dict):
    # The package's tables, then the one the build derives from them: where each seed names each entity.
    declared = [r["name"] for r in json.loads((ROOT / "datapackage.json").read_text())["resources"]]
    assert installed["tables"] == [*declared, MENTIONS]
    assert installed["equal"] == dict.fromkeys(installed["tables"], True)


def test_loaded_dtypes_come_from_the_schema(installed: dict):
    dtypes = installed["dtypes"]
    assert dtypes["actors"]["kind"] == "category"
    assert dtypes["actors"]["name"] == "string"
    assert dtypes["initiatives"]["year"] == "Int64"
    assert dtypes["documents"]["published_date"].startswith("datetime64")
    assert dtypes["trends"]["number"] == "Int64"
    # Each table has its own columns, whatever others had in the past: actors no longer carry a citation.
    for name, resource in RESOURCES.items():
        assert list(dtypes[name]) == [f["name"] for f in resource["schema"]["fields"]], name
    # The offsets of every citation are whole numbers, found by their roles.
    for name, resource in RESOURCES.items():
        for field in resource["schema"]["fields"]:
            if field.get("eurasec:role") in ("start", "end"):
                assert dtypes[name][field["name"]] == "Int64", (name, field["name"])
    assert dtypes["actor_citations"]["start"] == dtypes["actor_citations"]["end"] == "Int64"


def test_connect_is_read_only_and_complete(installed: dict):
    assert installed["sqlite_actors"] == row_count("actors")
    assert installed["read_only"] is True
    # The views answer through the read-only connection: one row per entity where a view lists its documents.
    declared = [r.get("eurasec:view") for r in RESOURCES.values()]
    names = [v["name"] for d in declared for v in (d if isinstance(d, list) else [d] if d else [])]
    assert sorted(installed["views"]) == sorted([*names, MENTION_COUNTS])
    assert installed["views"]["actors_with_documents"] == row_count("actors")
    assert installed["views"]["actor_citations_named"] == row_count("actor_citations")


def test_version_describe_and_unknown_table(installed: dict):
    assert installed["version"] == DATA_VERSION
    assert installed["unknown"].startswith("no table 'no_such_table'; the tables are: documents, actors,")
    assert installed["describe"].startswith("Stable slug of the actor")


def test_the_sdist_holds_what_the_wheel_needs(dist: Path):
    import tarfile

    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    for needed in (
        "tools/eurasec_build_backend.py",
        "datapackage.json",
        "tools/eurasec/_release/SHA256SUMS",
        "tools/eurasec/_release/parquet/actors.parquet",
        "data/actors.csv",
    ):
        assert f"{CODE}/{needed}" in names, needed


def test_the_wheel_is_built_from_the_maintainers_release_not_a_rebuild(dist: Path, checkout: Path):
    log = (checkout / "python-m-build.log").read_text(encoding="utf-8")
    assert f"bundling {checkout / 'build' / RELEASE}" in log
    assert "building the release" not in log, log


def test_packaging_without_a_release_builds_one(tmp_path: Path):
    """A fresh clone: no build/, no bundle. The backend builds the release in a temporary folder."""
    target = copy_working_tree(tmp_path / "checkout")
    out = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", "dist"],
        cwd=target,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "building the release (there is no release in" in out.stderr
    assert not (target / "build" / RELEASE).exists()  # the user's build/ is left alone
    (wheel,) = (target / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        descriptor = json.loads(archive.read("eurasec/_release/datapackage.json"))
    assert descriptor[SOURCES_KEY] == sources_record(target)


def test_invalid_data_is_never_packaged(tmp_path: Path):
    target = copy_working_tree(tmp_path / "checkout")
    actors = target / "data" / "actors.csv"
    actors.write_text(actors.read_text(encoding="utf-8").replace(",person,", ",no-such-kind,", 1), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", "dist"],
        cwd=target,
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert "the data is invalid, so no release can be built or packaged" in out.stdout + out.stderr
    assert "no-such-kind" in out.stdout + out.stderr  # the findings are shown
    assert not list(target.glob("dist/*.whl"))


# --- the release descriptor ---------------------------------------------------------------


def test_the_release_descriptor_passes_plain_frictionless_validate(checkout: Path):
    """README: the descriptor works with any Frictionless tool; here the frictionless command this venv has."""
    frictionless = Path(sys.executable).parent / "frictionless"
    if not frictionless.exists():
        pytest.skip("the frictionless command is not installed (pip install 'eurasec[tools]')")
    release = checkout / "build" / RELEASE
    out = subprocess.run(
        [str(frictionless), "validate", "datapackage.json"], cwd=release, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "byte-count" not in out.stdout and "hash-count" not in out.stdout


def test_the_release_descriptor_carries_sizes_hashes_and_sources(checkout: Path):
    release = checkout / "build" / RELEASE
    descriptor = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    sums = dict(reversed(line.split("  ", 1)) for line in (release / "SHA256SUMS").read_text().splitlines())
    for resource in descriptor["resources"]:
        path = release / resource["path"]
        assert "bytes" not in resource and "hash" not in resource
        assert resource[SIZE_KEY] == path.stat().st_size
        assert resource[HASH_KEY] == sums[resource["path"]] == hashlib.sha256(path.read_bytes()).hexdigest()
    sources = descriptor[SOURCES_KEY]
    assert sources == sources_record(checkout)
    assert set(sources["files"]) == {
        "datapackage.json",
        *(r["path"] for r in json.loads((checkout / "datapackage.json").read_text())["resources"]),
        *(f"seeds/{p.name}" for p in (checkout / "seeds").iterdir()),
    }
    assert stale_reason(release, checkout) is None


def test_a_changed_source_makes_the_release_stale(checkout: Path, tmp_path: Path):
    copy = tmp_path / "copy"
    shutil.copytree(checkout, copy, ignore=shutil.ignore_patterns("build", "dist*", "*.egg-info"))
    release = checkout / "build" / RELEASE
    assert stale_reason(release, copy) is None
    (copy / "seeds" / "README.md").write_text("changed\n", encoding="utf-8")
    assert "changed since: seeds/README.md" in (stale_reason(release, copy) or "")


@pytest.mark.parametrize(
    ("sizes", "cap"), [({SIZE_KEY: 10}, 10), ({"bytes": 20}, 20), ({SIZE_KEY: 30, "bytes": 5}, 5), ({}, None)]
)
def test_the_download_cap_is_the_declared_size(sizes: dict, cap, checkout: Path):
    from eurasec.loaders.tables import _table

    descriptor = json.loads((checkout / "build" / RELEASE / "datapackage.json").read_text())
    actors = next(r for r in descriptor["resources"] if r["name"] == "actors")
    actors.pop(SIZE_KEY)
    actors.update(sizes)
    assert _table(descriptor, "actors").size == cap


@pytest.mark.parametrize("bad", ["big", -1, True, 1.5])
def test_a_declared_size_that_is_no_size_is_a_malformed_release(bad, checkout: Path):
    from eurasec.loaders.tables import _table

    descriptor = json.loads((checkout / "build" / RELEASE / "datapackage.json").read_text())
    actors = next(r for r in descriptor["resources"] if r["name"] == "actors")
    actors[SIZE_KEY] = bad
    with pytest.raises(MalformedReleaseError, match=r"declares a size in bytes \(eurasec:bytes\)"):
        _table(descriptor, "actors")

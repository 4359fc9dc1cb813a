"""PEP 517 backend: setuptools, plus the release artifacts that the wheel carries.

The wheel ships the release that `eurasec build` wrote (Parquet, SQLite, descriptor,
Datasette metadata, CSV zip, SHA256SUMS). Generated files are easy to lose on the way from
checkout to sdist to wheel, so this backend copies them into the package explicitly, checks
every file against SHA256SUMS, and refuses to make an sdist or wheel without them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the hooks we do not override pass straight through)

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "tools" / "eurasec" / "_release"


class MissingReleaseError(RuntimeError):
    pass


def _release_name() -> str:
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    return f"{descriptor['name']}-{descriptor['version']}"


def _verify(folder: Path) -> None:
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        raise MissingReleaseError(f"{folder} has no SHA256SUMS")
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        path = folder / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise MissingReleaseError(f"{path} is missing or does not match SHA256SUMS; run `eurasec build` again")


def bundle_release(required: bool = True) -> None:
    """Copy build/<name>-<version>/ into the package; in an unpacked sdist, the bundle is already there."""
    built = ROOT / "build" / _release_name()
    if built.is_dir():
        _verify(built)
        if BUNDLE.exists():
            shutil.rmtree(BUNDLE)
        shutil.copytree(built, BUNDLE)
    elif not BUNDLE.is_dir():
        if not required:
            return
        raise MissingReleaseError(
            f"no release to bundle: {built} does not exist. Run `eurasec build` first, then `python -m build`."
        )
    _verify(BUNDLE)


def build_sdist(sdist_directory, config_settings=None):
    bundle_release()
    return _setuptools.build_sdist(sdist_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    bundle_release()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # A development install works before any release exists; the loaders then say what is missing.
    bundle_release(required=False)
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)

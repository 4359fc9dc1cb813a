"""PEP 517 backend: setuptools, plus the release that the wheel carries, never a stale one.

The wheel ships a release (Parquet, SQLite, descriptor, Datasette metadata, CSV zip, SHA256SUMS)
in eurasec/_release/. Every release records what it was built from (the descriptor's
"eurasec:sources": a digest of datapackage.json, every table's file and every seed), so this
backend can tell a current release from a stale one. To build an sdist or a wheel it bundles,
in this order:

1. `build/<name>-<version>/`, the release `eurasec build` wrote, when it matches the checkout's
   data now (so the wheel carries the very files, with the same sha256, that are published);
2. `tools/eurasec/_release/`, an earlier bundle, when it matches (an unpacked sdist has one);
3. otherwise a release it builds itself, in a temporary folder (the checkout's `build/` is
   left alone), with the tools listed in pyproject.toml's [build-system] requires.

So `pip install .`, `pip install git+URL` and `python -m build` work from a fresh clone. Every
bundled file is checked against SHA256SUMS, and the finished wheel and sdist are checked once
more: a release that differs from the data, or a bundle that lost a file, is an error, never a package.

An editable install bundles nothing: the loaders read the checkout's own `build/` release.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the hooks we do not override pass straight through)

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"
BUNDLE = TOOLS / "eurasec" / "_release"
BUNDLE_IN_PACKAGE = "eurasec/_release"
# setuptools copies package data into build/lib/ and skips a file whose copy there is newer:
# the bundle's files are written with fresh times, and setuptools' old copy of the bundle removed.
SETUPTOOLS_COPY = ROOT / "build" / "lib" / "eurasec" / "_release"
DESCRIPTOR = "datapackage.json"
CHECKSUMS = "SHA256SUMS"
SOURCES_KEY = "eurasec:sources"


class MissingReleaseError(RuntimeError):
    pass


def _say(message: str) -> None:
    print(f"eurasec build backend: {message}", file=sys.stderr, flush=True)


def _release_files():  # -> the module eurasec.loaders.release of this checkout
    """This checkout's eurasec.loaders.release (standard library only), never another installed eurasec."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    import eurasec.loaders.release as release_files

    if not Path(release_files.__file__).resolve().is_relative_to(TOOLS):
        raise MissingReleaseError(
            f"the build backend imported eurasec from {release_files.__file__}, not from {TOOLS}: "
            "build in an environment without another eurasec, or with build isolation"
        )
    return release_files


def _release_name() -> str:
    descriptor = json.loads((ROOT / DESCRIPTOR).read_text(encoding="utf-8"))
    return f"{descriptor['name']}-{descriptor['version']}"


def _sums(text: str, origin: str) -> dict[str, str]:
    sums = {}
    for line in text.splitlines():
        digest, sep, name = line.partition("  ")
        if not sep:
            raise MissingReleaseError(f"{origin}: {line!r} is not '<sha256>  <file>'")
        sums[name] = digest
    return sums


def _verify(folder: Path) -> None:
    sums = folder / CHECKSUMS
    if not sums.is_file():
        raise MissingReleaseError(f"{folder} has no {CHECKSUMS}")
    for name, digest in _sums(sums.read_text(encoding="utf-8"), str(sums)).items():
        path = folder / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise MissingReleaseError(f"{path} is missing or does not match {CHECKSUMS}; run `eurasec build` again")


def _current(folder: Path) -> str | None:
    """Why the release in folder cannot be bundled (missing, broken or stale); None when it can."""
    if not (folder / CHECKSUMS).is_file():
        return f"there is no release in {folder}"
    try:
        _verify(folder)
        return _release_files().stale_reason(folder, ROOT)
    except MissingReleaseError as exc:
        return str(exc)
    except Exception as exc:  # a broken release: rebuilt, never bundled
        return f"{folder} cannot be read: {exc}"


def _build_release(into: Path) -> Path:
    """Build the checkout's release into a folder of its own; returns the release folder."""
    _release_files()  # this checkout's eurasec, before eurasec.build is imported
    try:
        from eurasec.build import BuildError, build_release
    except ImportError as exc:
        raise MissingReleaseError(
            f"building the release needs the packages in pyproject.toml's [build-system] requires ({exc}); "
            "install them, or build with build isolation (the default of pip and `python -m build`)"
        ) from None
    from eurasec.model.descriptor import DescriptorError
    from eurasec.model.paths import UnsafePathError
    from eurasec.render import render_text

    try:
        return build_release(ROOT / DESCRIPTOR, into, progress=lambda message: _say(f"build: {message}")).folder
    except BuildError as exc:
        _say(render_text(exc.report))
        raise MissingReleaseError(
            "the data is invalid, so no release can be built or packaged (the findings are above; "
            "`eurasec validate` shows them too)"
        ) from None
    except (DescriptorError, UnsafePathError) as exc:
        raise MissingReleaseError(f"no release can be built or packaged: {exc}") from None


def _copy_into_bundle(release: Path) -> None:
    if BUNDLE.is_symlink() or BUNDLE.is_file():
        BUNDLE.unlink()
    elif BUNDLE.exists():
        shutil.rmtree(BUNDLE)
    # copyfile, not copy2: fresh modification times, so setuptools never keeps an older copy of a file
    shutil.copytree(release, BUNDLE, copy_function=shutil.copyfile)


def bundle_release() -> None:
    """Put a release that matches the checkout's data now into tools/eurasec/_release/ (see the module's docstring)."""
    if not (ROOT / DESCRIPTOR).is_file():
        raise MissingReleaseError(f"{ROOT} has no {DESCRIPTOR}: there is nothing to build a release from")
    built = ROOT / "build" / _release_name()
    why_not_built = _current(built)
    if why_not_built is None:
        _say(f"bundling {built}")
        _copy_into_bundle(built)
    else:
        why_not_bundle = _current(BUNDLE)
        if why_not_bundle is None:
            _say(f"bundling {BUNDLE}, which matches the data ({why_not_built})")
        else:
            _say(f"building the release ({why_not_built}); {ROOT / 'build'} is left as it is")
            with tempfile.TemporaryDirectory(prefix="eurasec-release-") as temporary:
                _copy_into_bundle(_build_release(Path(temporary)))
    if SETUPTOOLS_COPY.is_dir() and not SETUPTOOLS_COPY.is_symlink():
        shutil.rmtree(SETUPTOOLS_COPY)
    problem = _current(BUNDLE)
    if problem is not None:
        raise MissingReleaseError(f"the bundled release is not usable: {problem}")


def _check_packaged(read: dict[str, bytes], prefix: str, what: str) -> None:
    """The release inside a finished wheel or sdist: complete, matching SHA256SUMS, built from this checkout's data."""
    sums_text = read.get(f"{prefix}/{CHECKSUMS}")
    if sums_text is None:
        raise MissingReleaseError(f"{what} carries no release ({prefix}/{CHECKSUMS} is missing)")
    for name, digest in _sums(sums_text.decode("utf-8"), f"{what}: {CHECKSUMS}").items():
        data = read.get(f"{prefix}/{name}")
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            raise MissingReleaseError(f"{what}: {prefix}/{name} is missing or does not match {CHECKSUMS}")
    descriptor = json.loads(read.get(f"{prefix}/{DESCRIPTOR}", b"{}"))
    record = descriptor.get(SOURCES_KEY) if isinstance(descriptor, dict) else None
    recorded = record.get("sha256") if isinstance(record, dict) else None
    if recorded != _release_files().sources_record(ROOT)["sha256"]:
        raise MissingReleaseError(f"{what} carries a release built from other data than {ROOT} has now")


def _checked(path: Path, check: Callable[[], None]) -> str:
    try:
        check()
    except BaseException:
        path.unlink(missing_ok=True)  # a package that failed its check is never left to be uploaded
        raise
    return path.name


def build_sdist(sdist_directory, config_settings=None):
    bundle_release()
    name = _setuptools.build_sdist(sdist_directory, config_settings)
    path = Path(sdist_directory, name)

    def check() -> None:
        with tarfile.open(path) as archive:
            prefix = f"{name.removesuffix('.tar.gz')}/tools/{BUNDLE_IN_PACKAGE}"
            read = {
                member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
                for member in archive.getmembers()
                if member.isfile() and member.name.startswith(prefix + "/")
            }
        _check_packaged(read, prefix, name)

    return _checked(path, check)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    bundle_release()
    name = _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
    path = Path(wheel_directory, name)

    def check() -> None:
        with zipfile.ZipFile(path) as archive:
            read = {n: archive.read(n) for n in archive.namelist() if n.startswith(BUNDLE_IN_PACKAGE + "/")}
        _check_packaged(read, BUNDLE_IN_PACKAGE, name)

    return _checked(path, check)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # Nothing is bundled: a development install loads the checkout's build/<name>-<version>/ and says
    # when it is missing or older than the data (eurasec.loaders.release.checkout_release).
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)

"""The CSVs, the descriptor and the seeds in one zip, for spreadsheet users; byte-identical on every build."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from ..model.descriptor import DESCRIPTOR_NAME, Package
from ..model.paths import UnsafePathError, resolve_inside
from ..read.dataset import seed_files
from .context import ReleaseInput

CHUNK = 1 << 20
# ZipInfo's compression level: public as compress_level from Python 3.13, private before.
LEVEL_ATTRIBUTE = "compress_level" if hasattr(zipfile.ZipInfo, "compress_level") else "_compresslevel"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the zip format's earliest date: no build time leaks into the bytes


def csv_zip_name(release: ReleaseInput) -> str:
    return f"{release.name}-csv.zip"


def package_files(release: ReleaseInput) -> list[str]:
    """Package-relative paths of the descriptor, every table and every seed; raises UnsafePathError
    if any of them leads outside the package."""
    package = release.package
    seeds, problems = seed_files(package.root)
    if problems:
        raise UnsafePathError("; ".join(f"{relative}: {reason}" for relative, reason in problems))
    files = [DESCRIPTOR_NAME, *(r.path for r in package.resources), *seeds]
    for relative in files:
        _source(package, relative)  # refuse before the zip is begun
    return sorted(set(files))


def _source(package: Package, relative: str) -> Path:
    """The real file behind a package-relative path, which must be inside the package; raises UnsafePathError."""
    if relative == DESCRIPTOR_NAME:
        return package.path  # the descriptor that was validated, whatever its own file name
    source = resolve_inside(package.root, relative)
    if not source.is_file():  # a folder or a FIFO would fail or hang the zip
        raise UnsafePathError(f"{relative!r} is not a regular file")
    return source


def export_csv_zip(release: ReleaseInput, folder: Path) -> None:
    name = csv_zip_name(release)
    with zipfile.ZipFile(folder / name, "w") as archive:
        for relative in package_files(release):
            info = zipfile.ZipInfo(f"{release.name}/{relative}", date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            setattr(info, LEVEL_ATTRIBUTE, 1)  # what writestr(compresslevel=1) sets; open() takes no level
            source = _source(release.package, relative)  # resolved again right before it is read
            info.file_size = source.stat().st_size  # decides, up front, whether the entry needs zip64
            with open(source, "rb") as f, archive.open(info, "w") as entry:
                shutil.copyfileobj(f, entry, CHUNK)  # streamed: a large table is not held in memory twice
    release.written[name] = folder / name

"""The CSVs, the descriptor and the seeds in one zip, for spreadsheet users; byte-identical on every build."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from .context import ReleaseInput

CHUNK = 1 << 20
# ZipInfo's compression level: public as compress_level from Python 3.13, private before.
LEVEL_ATTRIBUTE = "compress_level" if hasattr(zipfile.ZipInfo, "compress_level") else "_compresslevel"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the zip format's earliest date: no build time leaks into the bytes


def csv_zip_name(release: ReleaseInput) -> str:
    return f"{release.name}-csv.zip"


def package_files(release: ReleaseInput) -> list[str]:
    """Package-relative paths of the descriptor, every table and every seed (with the seeds' licence note)."""
    package = release.package
    files = ["datapackage.json", *(r.path for r in package.resources)]
    seeds = package.root / "seeds"
    if seeds.is_dir():
        files += [f"seeds/{p.name}" for p in seeds.iterdir() if p.is_file() and not p.is_symlink()]
    return sorted(set(files))


def export_csv_zip(release: ReleaseInput, folder: Path) -> None:
    name = csv_zip_name(release)
    with zipfile.ZipFile(folder / name, "w") as archive:
        for relative in package_files(release):
            info = zipfile.ZipInfo(f"{release.name}/{relative}", date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            setattr(info, LEVEL_ATTRIBUTE, 1)  # what writestr(compresslevel=1) sets; open() takes no level
            source = release.package.root / relative
            info.file_size = source.stat().st_size  # decides, up front, whether the entry needs zip64
            with open(source, "rb") as f, archive.open(info, "w") as entry:
                shutil.copyfileobj(f, entry, CHUNK)  # streamed: a large table is not held in memory twice
    release.written[name] = folder / name

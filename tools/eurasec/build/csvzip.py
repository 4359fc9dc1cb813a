"""The CSVs, the descriptor and the seeds in one zip, for spreadsheet users; byte-identical on every build."""

from __future__ import annotations

import zipfile
from pathlib import Path

from .context import ReleaseInput

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
            archive.writestr(info, (release.package.root / relative).read_bytes(), compresslevel=1)
    release.written[name] = folder / name

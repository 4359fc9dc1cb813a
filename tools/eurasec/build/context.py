"""What every exporter reads: the package and its typed tables."""

from __future__ import annotations

import hashlib
import platform
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..descriptor import DESCRIPTOR_NAME, Package
from ..paths import UnsafePathError, unsafe_name_reason, unsafe_version_reason

if TYPE_CHECKING:
    import pyarrow as pa

RELEASE_DESCRIPTOR = DESCRIPTOR_NAME
SQLITE_FILE = "eurasec.sqlite"
DATASETTE_METADATA = "metadata.json"
CHECKSUMS = "SHA256SUMS"


class ExportCheckError(Exception):
    """An artifact failed the check made of it once written: a fault in eurasec, not in the data."""


@dataclass
class ReleaseInput:
    package: Package
    tables: dict[str, pa.Table]  # resource name -> typed table, sorted by primary key
    written: dict[str, Path] = field(default_factory=dict)  # release-relative path -> file, as exporters write

    @property
    def version(self) -> str:
        return self.package.version

    @property
    def name(self) -> str:
        return release_folder_name(self.package)


def unsafe_names(package: Package) -> list[tuple[tuple[str | int, ...], str]]:
    """Every name that would become an unsafe path in a release, as (its key path in the descriptor, why).

    The package's name and version make the release folder's name, each resource's name a file's.
    Read from the raw descriptor, so a number or a missing name is not mistaken for text.
    """
    raw = package.raw
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for key, what, check in (
        ("name", "the package name", unsafe_name_reason),
        ("version", "the version", unsafe_version_reason),
    ):
        value = raw.get(key)
        if value is None or value == "":
            problems.append(((key,), f"{what} is missing, and the release folder is named <name>-<version>"))
        elif reason := check(value):
            problems.append(((key,), f"{what} {value!r} {reason}, so it cannot be part of a folder's name"))
    for index, resource in enumerate(raw.get("resources") or []):
        value = resource.get("name") if isinstance(resource, dict) else None
        if reason := unsafe_name_reason(value):
            problems.append(
                (("resources", index, "name"), f"the resource name {value!r} {reason}, so it cannot be a file's name")
            )
    return problems


def release_folder_name(package: Package) -> str:
    """`<name>-<version>`, once both are safe in a path, like every resource name; raises UnsafePathError.

    Checked here as well as by validate, right before a path is made of it: a build never trusts
    that validation ran.
    """
    problems = unsafe_names(package)
    if problems:
        raise UnsafePathError("; ".join(reason for _, reason in problems))
    return f"{package.name}-{package.version}"


def build_versions() -> dict[str, str]:
    """The library versions that decide the artifacts' bytes, recorded so a rebuild can match them."""
    import pyarrow as pa

    from .. import __version__

    return {
        "eurasec": __version__,
        "pyarrow": pa.__version__,
        "sqlite": sqlite3.sqlite_version,
        "python": platform.python_version(),
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

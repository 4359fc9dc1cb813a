"""What every exporter reads: the package and its typed tables."""

from __future__ import annotations

import hashlib
import platform
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..model.descriptor import DESCRIPTOR_NAME, Package
from ..model.mentions import MentionArrays
from ..model.names import release_folder_name

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
    # The mention index validate made of the same seeds and text columns (build/mentions.py reuses it).
    found_mentions: MentionArrays | None = None

    @property
    def version(self) -> str:
        return self.package.version

    @property
    def name(self) -> str:
        return release_folder_name(self.package)


def build_versions() -> dict[str, str]:
    """The library versions that decide the artifacts' bytes, recorded so a rebuild can match them."""
    import pyarrow as pa

    from .. import __version__

    return {
        "eurasec": __version__,
        "pyarrow": pa.__version__,
        "sqlite": sqlite3.sqlite_version,
        "python": platform.python_version(),
        # the graph's picture is laid out by networkx and drawn by matplotlib (build/graph.py)
        "networkx": _installed("networkx"),
        "matplotlib": _installed("matplotlib"),
    }


def _installed(distribution: str) -> str:
    """A library's version without importing it (matplotlib's import is slow)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

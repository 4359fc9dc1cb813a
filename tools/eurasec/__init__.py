"""eurasec: the Eurasian security discourse as data.

    >>> import eurasec
    >>> eurasec.tables()
    >>> eurasec.load("actors")          # a typed pandas DataFrame, offline
    >>> eurasec.describe("actors")      # titles and descriptions
    >>> eurasec.connect()               # a read-only sqlite3 connection

Importing this package is light: pandas and pyarrow load on first use, and the contributor
tooling (frictionless, click) is never imported by the loaders.
"""

from __future__ import annotations

from typing import Any

__version__ = "2.0.0"  # the code's version, written only here: pyproject.toml reads it (a literal, as it must be)

__all__ = [
    "ChecksumError",
    "InsecureReleaseWarning",
    "MalformedReleaseError",
    "ReleaseError",
    "StaleReleaseError",
    "UnknownTableError",
    "__data_version__",
    "__version__",
    "connect",
    "describe",
    "load",
    "load_arrow",
    "tables",
]

_LOADERS = {"connect", "describe", "load", "load_arrow", "tables", "UnknownTableError"}
_ERRORS = {"ChecksumError", "InsecureReleaseWarning", "MalformedReleaseError", "ReleaseError", "StaleReleaseError"}


def __getattr__(name: str) -> Any:
    # Deferred so that `import eurasec` costs nothing until a loader is used.
    from importlib import import_module

    if name in _LOADERS:
        return getattr(import_module(".loaders.tables", __name__), name)
    if name in _ERRORS:
        return getattr(import_module(".loaders.release", __name__), name)
    if name == "__data_version__":
        return import_module(".loaders.tables", __name__).data_version()
    raise AttributeError(f"module 'eurasec' has no attribute {name!r}")

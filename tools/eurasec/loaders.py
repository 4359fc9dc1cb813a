"""The loaders: tables of a release as pandas DataFrames, Arrow tables or a read-only SQLite connection.

Dtypes come from the release's own datapackage.json: categoricals for enums, nullable
integers, dates, strings. No SQL is built from a caller's string: a table name is looked
up in the descriptor and a file is read.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .release_files import Release, ReleaseError, resolve

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

DESCRIPTOR = "datapackage.json"
SQLITE_FILE = "eurasec.sqlite"
PANDAS_DTYPES = {
    "string": "string",
    "integer": "Int64",
    "number": "Float64",
    "boolean": "boolean",
    "date": "datetime64[s]",
}

ReleaseLocation = str | os.PathLike[str] | None


class UnknownTableError(KeyError, ValueError):
    """There is no table of that name; the message lists the tables there are."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class FieldDescription:
    name: str
    type: str
    title: str
    description: str
    required: bool
    values: tuple[str, ...] | None  # the allowed values, for an enum


@dataclass(frozen=True)
class TableDescription:
    name: str
    title: str
    description: str
    primary_key: tuple[str, ...]
    fields: tuple[FieldDescription, ...]

    def __str__(self) -> str:
        lines = [f"{self.name}: {self.title}", f"  {self.description}"]
        for f in self.fields:
            lines.append(f"  - {f.name} ({f.type}{', required' if f.required else ''}): {f.description}")
        return "\n".join(lines)


def _descriptor(release: Release) -> dict[str, Any]:
    try:
        return json.loads(release.path(DESCRIPTOR).read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise ReleaseError(f"the release descriptor cannot be read: {exc}") from None


def _resource(descriptor: dict[str, Any], name: str) -> dict[str, Any]:
    names = [r["name"] for r in descriptor["resources"]]
    if not isinstance(name, str) or name not in names:
        raise UnknownTableError(f"no table {name!r}; the tables are: {', '.join(names)}")
    return next(r for r in descriptor["resources"] if r["name"] == name)


def data_version(release: ReleaseLocation = None) -> str:
    """The data's version (semantic versioning), as recorded in the release descriptor."""
    return str(_descriptor(resolve(release))["version"])


def tables(release: ReleaseLocation = None) -> list[str]:
    """The names of the tables, in the descriptor's order."""
    return [r["name"] for r in _descriptor(resolve(release))["resources"]]


def describe(name: str, release: ReleaseLocation = None) -> TableDescription:
    """Titles and descriptions of a table and its fields."""
    resource = _resource(_descriptor(resolve(release)), name)
    fields = tuple(
        FieldDescription(
            name=f["name"],
            type=f.get("type", "string"),
            title=f.get("title", ""),
            description=f.get("description", ""),
            required=bool(f.get("constraints", {}).get("required")),
            values=tuple(f["constraints"]["enum"]) if f.get("constraints", {}).get("enum") else None,
        )
        for f in resource["schema"]["fields"]
    )
    return TableDescription(
        name=name,
        title=resource.get("title", ""),
        description=resource.get("description", ""),
        primary_key=tuple(resource["schema"].get("primaryKey", [])),
        fields=fields,
    )


def load_arrow(name: str, release: ReleaseLocation = None) -> pa.Table:
    """A table as a pyarrow Table, typed as in the release."""
    import pyarrow.parquet as pq

    source = resolve(release)
    resource = _resource(_descriptor(source), name)
    return pq.read_table(source.path(resource["path"]))


def load(name: str, release: ReleaseLocation = None) -> pd.DataFrame:
    """A table as a pandas DataFrame with dtypes from the schema."""
    import pandas as pd

    source = resolve(release)
    resource = _resource(_descriptor(source), name)
    import pyarrow.parquet as pq

    frame = pq.read_table(source.path(resource["path"])).to_pandas()
    for f in resource["schema"]["fields"]:
        if f.get("constraints", {}).get("enum"):
            categories = f["constraints"]["enum"]
            frame[f["name"]] = pd.Categorical(frame[f["name"]], categories=categories)
        else:
            frame[f["name"]] = frame[f["name"]].astype(PANDAS_DTYPES[f.get("type", "string")])
    return frame


def connect(release: ReleaseLocation = None) -> sqlite3.Connection:
    """A read-only connection to the release's SQLite database."""
    path = resolve(release).path(SQLITE_FILE)
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)

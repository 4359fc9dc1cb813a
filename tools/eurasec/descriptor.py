"""The package descriptor, `datapackage.json`: the one source of metadata.

Everything else (SQLite DDL, Parquet schemas, loader dtypes, docs) is derived from
the objects here. Plain JSON parsing only, so reading it costs nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DESCRIPTOR_NAME = "datapackage.json"


class DescriptorError(Exception):
    """The descriptor cannot be read or does not have the shape we rely on."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    title: str
    description: str
    constraints: dict[str, Any]
    format: str | None = None
    in_quote: bool = False  # "eurasec:inQuote": the value must appear verbatim in the row's quote

    @property
    def required(self) -> bool:
        return bool(self.constraints.get("required"))

    @property
    def unique(self) -> bool:
        return bool(self.constraints.get("unique"))

    @property
    def enum(self) -> list[str] | None:
        return self.constraints.get("enum")

    @property
    def pattern(self) -> str | None:
        return self.constraints.get("pattern")


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str  # the referenced resource's name; a self-reference is resolved to its own name
    reference_fields: tuple[str, ...]


@dataclass(frozen=True)
class Resource:
    name: str
    path: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def is_fact_table(self) -> bool:
        """A fact row cites a document and a verbatim quote from it."""
        names = set(self.field_names)
        return {"document_id", "quote"} <= names


@dataclass(frozen=True)
class Package:
    path: Path
    raw: dict[str, Any] = field(repr=False)
    resources: tuple[Resource, ...]

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def name(self) -> str:
        return str(self.raw.get("name", ""))

    @property
    def version(self) -> str:
        return str(self.raw.get("version", ""))

    def resource(self, name: str) -> Resource:
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def resource_names(self) -> list[str]:
        return [r.name for r in self.resources]

    def table_path(self, resource: Resource) -> Path:
        return self.root / resource.path


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _field(raw: dict[str, Any]) -> Field:
    return Field(
        name=str(raw["name"]),
        type=str(raw.get("type", "string")),
        title=str(raw.get("title", "")),
        description=str(raw.get("description", "")),
        constraints=dict(raw.get("constraints") or {}),
        format=raw.get("format"),
        in_quote=bool(raw.get("eurasec:inQuote")),
    )


def parse_resource(raw: dict[str, Any]) -> Resource:
    name = str(raw["name"])
    schema = raw.get("schema") or {}
    if not isinstance(schema, dict):
        raise DescriptorError(f"resource {name!r}: the schema must be inline, not {type(schema).__name__}")
    fks = []
    for fk in schema.get("foreignKeys") or []:
        ref = fk.get("reference") or {}
        fks.append(
            ForeignKey(
                fields=_as_tuple(fk.get("fields")),
                resource=str(ref.get("resource") or name),
                reference_fields=_as_tuple(ref.get("fields")),
            )
        )
    return Resource(
        name=name,
        path=str(raw.get("path", "")),
        title=str(raw.get("title", "")),
        description=str(raw.get("description", "")),
        fields=tuple(_field(f) for f in schema.get("fields") or []),
        primary_key=_as_tuple(schema.get("primaryKey")),
        foreign_keys=tuple(fks),
    )


def load_package(path: str | Path) -> Package:
    """Read a descriptor; raise DescriptorError with a readable message if it is unusable."""
    path = Path(path)
    if path.is_dir():
        path = path / DESCRIPTOR_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DescriptorError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DescriptorError(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise DescriptorError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("resources"), list):
        raise DescriptorError(f"{path}: a data package descriptor needs a 'resources' list")
    try:
        resources = tuple(parse_resource(r) for r in raw["resources"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise DescriptorError(f"{path}: a resource is malformed ({exc!r})") from None
    return Package(path=path.resolve(), raw=raw, resources=resources)

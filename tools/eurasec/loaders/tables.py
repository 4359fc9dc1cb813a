"""The loaders: tables of a release as pandas DataFrames, Arrow tables or a read-only SQLite connection.

Dtypes come from the release's own datapackage.json: categoricals for enums, nullable
integers, dates, strings. No SQL is built from a caller's string: a table name is looked
up in the descriptor and a file is read.

A release is untrusted input, even when its checksums match (whoever wrote the files wrote
SHA256SUMS too): the descriptor and each table are checked before use, and anything a release
cannot mean is a MalformedReleaseError naming the table, the field and the problem.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model.descriptor import DESCRIPTOR_NAME, DescriptorError, Field, parse_json, parse_resource
from ..model.paths import unsafe_relative_reason
from ..model.schema import PANDAS_DTYPES
from .release import SIZE_KEY, MalformedReleaseError, Release, resolve

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

DESCRIPTOR = DESCRIPTOR_NAME
DESCRIPTOR_MAX_BYTES = 64 * 1024**2  # a descriptor holds schemas, not data
SQLITE_FILE = "eurasec.sqlite"

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


@dataclass(frozen=True)
class _Table:
    """One resource of the descriptor, checked: everything the loaders use from it."""

    name: str
    path: str
    size: int | None
    description: TableDescription


def _bad(where: str, problem: str) -> MalformedReleaseError:
    return MalformedReleaseError(f"the release is malformed: {where} {problem}")


def _descriptor(release: Release) -> dict[str, Any]:
    """The release descriptor, checked as far as every loader needs it: an object with named resources."""
    path = release.path(DESCRIPTOR, max_bytes=DESCRIPTOR_MAX_BYTES)
    try:
        descriptor = parse_json(path.read_bytes(), DESCRIPTOR)  # the model's bounded reader
    except (DescriptorError, OSError) as exc:
        raise MalformedReleaseError(f"the release descriptor cannot be read: {exc}") from None
    if not isinstance(descriptor, dict):
        raise _bad(DESCRIPTOR, f"is a JSON {type(descriptor).__name__}, not an object")
    resources = descriptor.get("resources")
    if not isinstance(resources, list) or not resources:
        raise _bad(DESCRIPTOR, "has no list of resources (tables)")
    seen: set[str] = set()
    for number, resource in enumerate(resources):
        if not isinstance(resource, dict):
            raise _bad(f"resource {number} of {DESCRIPTOR}", "is not an object")
        name = resource.get("name")
        if not isinstance(name, str) or not name:
            raise _bad(f"resource {number} of {DESCRIPTOR}", "has no name")
        if name in seen:
            raise _bad(f"table {name!r}", f"is named twice in {DESCRIPTOR}")
        seen.add(name)
    return descriptor


def _names(descriptor: dict[str, Any]) -> list[str]:
    return [r["name"] for r in descriptor["resources"]]


def _text(value: Any, where: str, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(where, f"has a {what} that is a {type(value).__name__}, not text")
    return value


def _check_field(raw: Any, table: str, number: int) -> None:
    """What the model takes on trust, checked: a hostile or broken release says so here, by name."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise _bad(f"field {number} of table {table!r}", "is not an object with a name")
    where = f"field {raw['name']!r} of table {table!r}"
    kind = raw.get("type", "string")
    if not isinstance(kind, str) or kind not in PANDAS_DTYPES:
        raise _bad(where, f"has type {kind!r}, which the loaders do not know (they know {', '.join(PANDAS_DTYPES)})")
    for prop in ("title", "description"):
        if raw.get(prop) is not None and not isinstance(raw[prop], str):
            raise _bad(where, f"has a {prop} that is a {type(raw[prop]).__name__}, not text")
    constraints = raw.get("constraints", {})
    if not isinstance(constraints, dict):
        raise _bad(where, "has constraints that are not an object")
    enum = constraints.get("enum")
    if enum is not None:
        if not isinstance(enum, list) or not enum:
            raise _bad(where, "has an enum that is not a list of values")
        if any(not isinstance(v, str | int | float) or isinstance(v, bool) for v in enum):
            raise _bad(where, "has an enum with a value that is not text or a number")
        if len(set(enum)) != len(enum):
            raise _bad(where, "has an enum that lists a value twice")


def _describe_field(field: Field) -> FieldDescription:
    return FieldDescription(
        name=field.name,
        type=field.type,
        title=field.title,
        description=field.description,
        required=field.constraints.get("required") is True,
        values=tuple(field.enum) if field.enum is not None else None,
    )


def _table(descriptor: dict[str, Any], name: str) -> _Table:
    """The named resource, checked; UnknownTableError when there is none."""
    names = _names(descriptor)
    if not isinstance(name, str) or name not in names:
        raise UnknownTableError(f"no table {name!r}; the tables are: {', '.join(names)}")
    resource = next(r for r in descriptor["resources"] if r["name"] == name)
    where = f"table {name!r}"
    path = resource.get("path")
    reason = unsafe_relative_reason(path)
    if reason:
        raise _bad(where, f"has a path {path!r} that {reason}")
    # The size caps the file's download: eurasec's own property, or the standard `bytes` that earlier
    # releases declared; when both are there, the file may be no larger than either.
    declared = []
    for size_key in (SIZE_KEY, "bytes"):
        value = resource.get(size_key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _bad(where, f"declares a size in bytes ({size_key}) that is not a whole number: {value!r}")
        declared.append(value)
    size = min(declared, default=None)
    schema = resource.get("schema")
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list) or not schema["fields"]:
        raise _bad(where, "has no schema with a list of fields")
    for number, raw in enumerate(schema["fields"]):
        _check_field(raw, name, number)
    for prop in ("title", "description"):
        _text(resource.get(prop), where, prop)
    try:
        model = parse_resource(resource)  # checked above as far as the loaders rely on it
    except (DescriptorError, KeyError, TypeError, AttributeError, ValueError) as exc:
        raise _bad(where, f"has a schema the model cannot read: {exc}") from None
    fields = tuple(_describe_field(f) for f in model.fields)
    field_names = [f.name for f in fields]
    if len(set(field_names)) != len(field_names):
        raise _bad(where, "names a field twice in its schema")
    primary = schema.get("primaryKey", [])
    key = [primary] if isinstance(primary, str) else primary  # Table Schema allows a single field's name
    if not isinstance(key, list) or any(k not in field_names for k in key):
        raise _bad(where, f"has a primary key {schema.get('primaryKey')!r} that is not a list of its fields")
    return _Table(
        name=name,
        path=path,
        size=size,
        description=TableDescription(
            name=name,
            title=model.title,
            description=model.description,
            primary_key=tuple(key),
            fields=fields,
        ),
    )


def _arrow_type_fits(kind: str, arrow_type: pa.DataType) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_null(arrow_type):  # a column with no values at all
        return True
    checks = {
        "string": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
        "integer": pa.types.is_integer,
        "number": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t),
        "boolean": pa.types.is_boolean,
        "date": lambda t: pa.types.is_date(t) or pa.types.is_timestamp(t),
    }
    return bool(checks[kind](arrow_type))


def _read_checked(source: Release, table: _Table) -> pa.Table:
    """The table's Parquet file, checked against its schema: the same columns, fitting types, enum values."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    where = f"table {table.name!r}"
    path = source.path(table.path, max_bytes=table.size)
    try:
        arrow = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise _bad(where, f"has a file {table.path} that is not a readable Parquet file: {exc}") from None
    fields = table.description.fields
    expected = [f.name for f in fields]
    if arrow.column_names != expected:
        missing = [n for n in expected if n not in arrow.column_names]
        extra = [n for n in arrow.column_names if n not in expected]
        detail = f"missing {missing}, unexpected {extra}" if missing or extra else "in another order"
        raise _bad(where, f"has columns in {table.path} that do not match its schema's fields ({detail})")
    for f in fields:
        column = arrow.column(f.name)
        if not _arrow_type_fits(f.type, column.type):
            raise _bad(
                f"field {f.name!r} of {where}", f"is of type {f.type} in the schema but {column.type} in Parquet"
            )
        if f.values is not None:
            try:
                present = pc.unique(
                    column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
                )
            except (pa.ArrowException, ValueError, TypeError) as exc:
                raise _bad(f"field {f.name!r} of {where}", f"cannot be read: {exc}") from None
            allowed = set(f.values)
            stray = [v for v in present.to_pylist() if v is not None and v not in allowed]
            if stray:
                raise _bad(
                    f"field {f.name!r} of {where}",
                    f"has the value {stray[0]!r}, which is not in its enum ({', '.join(map(str, f.values))})",
                )
    return arrow


def data_version(release: ReleaseLocation = None) -> str:
    """The data's version (semantic versioning), as recorded in the release descriptor."""
    version = _descriptor(resolve(release)).get("version")
    if not isinstance(version, str) or not version:
        raise _bad(DESCRIPTOR, f"has no version text (it has {version!r})")
    return version


def tables(release: ReleaseLocation = None) -> list[str]:
    """The names of the tables, in the descriptor's order."""
    return _names(_descriptor(resolve(release)))


def describe(name: str, release: ReleaseLocation = None) -> TableDescription:
    """Titles and descriptions of a table and its fields."""
    return _table(_descriptor(resolve(release)), name).description


def load_arrow(name: str, release: ReleaseLocation = None) -> pa.Table:
    """A table as a pyarrow Table, typed as in the release."""
    source = resolve(release)
    return _read_checked(source, _table(_descriptor(source), name))


def load(name: str, release: ReleaseLocation = None) -> pd.DataFrame:
    """A table as a pandas DataFrame with dtypes from the schema."""
    import pandas as pd
    import pyarrow as pa

    source = resolve(release)
    table = _table(_descriptor(source), name)
    arrow = _read_checked(source, table)
    try:
        # the descriptor, not metadata inside the file, says what the columns are
        frame = arrow.to_pandas(ignore_metadata=True)
        for f in table.description.fields:
            if f.values is not None:
                frame[f.name] = pd.Categorical(frame[f.name], categories=list(f.values))
            else:
                frame[f.name] = frame[f.name].astype(PANDAS_DTYPES[f.type])
    except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
        raise _bad(f"table {name!r}", f"cannot be converted to the schema's types: {exc}") from None
    return frame


# What a connection may still do once it is query-only: read pragmas. Any other pragma, or
# one of these with a value to set, is refused; so are ATTACH and DETACH (and with ATTACH,
# VACUUM and VACUUM INTO, which attach their target), which query_only alone lets through.
_PRAGMAS_WITH_A_NAME = {
    "foreign_key_check",
    "foreign_key_list",
    "index_info",
    "index_list",
    "index_xinfo",
    "integrity_check",
    "quick_check",
    "table_info",
    "table_list",
    "table_xinfo",
}
_PRAGMAS_TO_READ = {
    "application_id",
    "collation_list",
    "compile_options",
    "data_version",
    "database_list",
    "encoding",
    "foreign_keys",
    "freelist_count",
    "function_list",
    "journal_mode",
    "module_list",
    "page_count",
    "page_size",
    "pragma_list",
    "query_only",
    "schema_version",
    "user_version",
}
_PRAGMAS_TO_SET = {"cache_size", "mmap_size", "threads", "busy_timeout"}  # this connection's memory and waits


def _read_only_authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA:
        pragma = (arg1 or "").lower()
        allowed = (
            pragma in _PRAGMAS_WITH_A_NAME or pragma in _PRAGMAS_TO_SET or (pragma in _PRAGMAS_TO_READ and arg2 is None)
        )
        return sqlite3.SQLITE_OK if allowed else sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def connect(release: ReleaseLocation = None) -> sqlite3.Connection:
    """A read-only connection to the release's SQLite database.

    Opened read-only and immutable (no journal, no lock files), query-only, and with ATTACH,
    DETACH, VACUUM and writing pragmas refused: nothing done through it writes a file.
    """
    path = resolve(release).path(SQLITE_FILE)
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        db.execute("PRAGMA query_only = ON")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a file that is no database fails here
    except sqlite3.DatabaseError as exc:
        db.close()
        raise _bad(SQLITE_FILE, f"is not a readable SQLite database: {exc}") from None
    db.set_authorizer(_read_only_authorizer)
    return db

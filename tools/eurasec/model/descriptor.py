"""The package descriptor, `datapackage.json`: the one source of metadata.

Everything else (SQLite DDL, Parquet schemas, loader dtypes, docs) is derived from
the objects here. Plain JSON parsing only, so reading it costs nothing.

What a table or a field is for is declared here too, never assumed from its name: `eurasec:role`
on a resource (`documents`: the seed documents) or on a field (`document`, `quote`, `number`,
`alias`, `name`; in the documents table `seed-path`, `sha256`, `bytes` and `title`), see
RESOURCE_ROLES and FIELD_ROLES below and docs/curation.md#roles; and a resource's view in the
SQLite release, `eurasec:view`, which model/views.py makes from the foreign keys and roles.

Reading is bounded: only a regular file is opened (never a FIFO or a device, which could
block or never end), at most MAX_DESCRIPTOR_BYTES of it, and the JSON may nest at most
MAX_DEPTH levels and hold no number longer than MAX_NUMBER_CHARS characters, nor NaN or
Infinity. Whatever breaks a bound is a DescriptorError, never a traceback.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .paths import UnsafePathError, read_regular, resolve_inside

DESCRIPTOR_NAME = "datapackage.json"
SEEDS_DIR = "seeds"  # where a package keeps its source documents, byte-exact
MAX_DESCRIPTOR_BYTES = 64 * 1024 * 1024  # the real descriptor is a few dozen KiB
MAX_DEPTH = 64  # nesting levels of objects and arrays; a descriptor needs about eight
MAX_NUMBER_CHARS = 100  # characters of one JSON number


class DescriptorError(Exception):
    """The descriptor cannot be read or does not have the shape we rely on."""


class _NumberRefused(ValueError):
    pass


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _NumberRefused(f"a number has {len(text):,} digits (at most {MAX_NUMBER_CHARS} are allowed)")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _NumberRefused(f"a number has {len(text):,} characters (at most {MAX_NUMBER_CHARS} are allowed)")
    value = float(text)
    if not math.isfinite(value):
        raise _NumberRefused(f"the number {text} is too large to be represented")
    return value


def _refuse_constant(name: str) -> Any:
    raise _NumberRefused(f"{name} is not a JSON number")


def _depth_exceeded(value: Any) -> bool:
    """Whether value nests objects and arrays deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))
    return False


def parse_json(data: bytes | str, where: str) -> Any:
    """Parse a descriptor's JSON within the bounds above; DescriptorError (naming `where`) otherwise."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise DescriptorError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise DescriptorError(f"{where}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except _NumberRefused as exc:
        raise DescriptorError(f"{where}: not usable JSON: {exc}") from None
    except RecursionError:
        raise DescriptorError(f"{where}: not usable JSON: it nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # anything else json or int() refuse
        raise DescriptorError(f"{where}: not usable JSON ({exc})") from None
    if _depth_exceeded(value):
        raise DescriptorError(f"{where}: not usable JSON: it nests deeper than {MAX_DEPTH} levels")
    return value


def read_descriptor(path: str | Path) -> tuple[Path, dict[str, Any], str]:
    """(path, parsed JSON object, text) of a descriptor file or of a folder's datapackage.json."""
    path = Path(path)
    if path.is_dir():
        path = path / DESCRIPTOR_NAME
    try:
        data = read_regular(path, MAX_DESCRIPTOR_BYTES)
    except FileNotFoundError:
        raise DescriptorError(f"{path}: no such file") from None
    except OSError as exc:
        raise DescriptorError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    raw = parse_json(data, str(path))
    if not isinstance(raw, dict):
        raise DescriptorError(f"{path}: a data package descriptor needs a 'resources' list")
    return path, raw, data.decode("utf-8")


# --- roles: what a table or a field is for, declared in the descriptor, never assumed from a name ---
#
# As CLDF marks a column with a `propertyUrl` term (…terms.rdf#source) and a table with `dc:conformsTo`,
# a resource or a field here says what it is for with "eurasec:role". Every check and export that
# needs "the documents table" or "a row's quote" finds it by its role: renaming a resource or a field
# in datapackage.json (and in the CSV headers) changes nothing else. docs/curation.md#roles lists them.

ROLE_KEY = "eurasec:role"
VIEW_KEY = "eurasec:view"  # a resource's named view in the SQLite release (model/views.py)

DOCUMENTS = "documents"  # resource role: the register of seed documents
DOCUMENT = "document"  # a fact row's document: a foreign key into the documents table
QUOTE = "quote"  # a fact row's verbatim passage of its document
START = "start"  # where the quote begins in its seed: code points from 0 (W3C TextPositionSelector start)
END = "end"  # where the quote ends in its seed: code points, exclusive (TextPositionSelector end)
NUMBER = "number"  # an ordinal that runs 1, 2, 3… within each document (or the rest of the primary key)
ALIAS = "alias"  # a name under which the one entity the row refers to appears in the text
NAME = "name"  # an entity's name, shown beside its id in the release's views
SEED_PATH = "seed-path"  # documents table: the seed file's path, inside seeds/
SHA256 = "sha256"  # documents table: the seed file's SHA-256
BYTES = "bytes"  # documents table: the seed file's size in bytes
TITLE = "title"  # documents table: the document's title, which appears in the seed

RESOURCE_ROLES: dict[str, str] = {
    DOCUMENTS: "the table of seed documents, one row per text stored byte-exact under seeds/",
}
FIELD_ROLES: dict[str, str] = {
    DOCUMENT: "the document the row cites: a foreign key into the documents table",
    QUOTE: "a verbatim passage of the cited document that supports the row",
    START: "where the quote begins in the seed, in code points from 0",
    END: "where the quote ends in the seed, in code points, exclusive",
    NUMBER: "an ordinal that runs 1, 2, 3… within each document",
    ALIAS: "a name of the one entity the row refers to, as the text writes it",
    NAME: "the entity's name, shown beside its id in the release's views",
    SEED_PATH: "the seed file's path, inside seeds/",
    SHA256: "the seed file's SHA-256, in lowercase hex",
    BYTES: "the seed file's size in bytes",
    TITLE: "the document's title, which must appear in the seed",
}
DOCUMENTS_FIELD_ROLES = (SEED_PATH, SHA256, BYTES, TITLE)  # roles that only the documents table has


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    title: str
    description: str
    constraints: dict[str, Any]
    format: str | None = None
    in_quote: bool = False  # "eurasec:inQuote": the value must appear verbatim in the row's quote
    example: str | None = None  # Table Schema's `example`: a real value, shown in the data dictionary
    role: str | None = None  # "eurasec:role" (FIELD_ROLES), when it is a string

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
    role: str | None = None  # "eurasec:role" (RESOURCE_ROLES), when it is a string
    view: Any = field(default=None, compare=False)  # "eurasec:view" as written (model/views.py reads it)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def fields_with_role(self, role: str) -> list[Field]:
        return [f for f in self.fields if f.role == role]

    def role_field(self, role: str) -> Field | None:
        """The field that declares this role (the first, should two: checks/roles.py reports that)."""
        return next((f for f in self.fields if f.role == role), None)

    def foreign_key(self, field_name: str) -> ForeignKey | None:
        """The foreign key of this one field alone, if it has one."""
        return next((fk for fk in self.foreign_keys if fk.fields == (field_name,)), None)

    @property
    def is_fact_table(self) -> bool:
        """A fact row cites a document (role `document`) and a verbatim quote from it (role `quote`)."""
        return self.role_field(DOCUMENT) is not None and self.role_field(QUOTE) is not None


@dataclass(frozen=True)
class Package:
    path: Path
    raw: dict[str, Any] = field(repr=False)
    resources: tuple[Resource, ...]
    text: str = field(default="", repr=False, compare=False)  # the descriptor as read, for line numbers

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

    def resources_with_role(self, role: str) -> list[Resource]:
        return [r for r in self.resources if r.role == role]

    @property
    def documents(self) -> Resource | None:
        """The table of seed documents: the one resource with the role `documents`; None when there is
        none, or more than one (checks/roles.py reports either)."""
        return documents_resource(self.resources)

    def table_path(self, resource: Resource) -> Path:
        """Where the resource's file really is; DescriptorError if its path leaves the package or
        passes through a symlink (a link inside the package is refused too, as for seeds)."""
        try:
            return resolve_inside(self.root, resource.path, allow_symlinks=False)
        except UnsafePathError as exc:
            raise DescriptorError(f"resource {resource.name!r}: its path {exc}") from None


def documents_resource(resources: tuple[Resource, ...] | list[Resource]) -> Resource | None:
    """The one resource with the role `documents`, or None (none, or an ambiguous two)."""
    found = [r for r in resources if r.role == DOCUMENTS]
    return found[0] if len(found) == 1 else None


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
        example=None if raw.get("example") is None else str(raw["example"]),
        role=_role(raw),
    )


def _role(raw: dict[str, Any]) -> str | None:
    role = raw.get(ROLE_KEY)
    return role if isinstance(role, str) else None


def _referenced_schema(root: Path, value: str) -> Any:
    """A schema given by a local path (Table Schema allows one): the JSON of a regular file inside the
    package, read within the descriptor's bounds. The raw descriptor keeps the path, and frictionless, which
    then checks the resource whole, reads the file itself; a file that cannot be read gives no fields here
    (frictionless' check of the descriptor, or the reference guard, says why)."""
    try:
        path = resolve_inside(root, value, allow_symlinks=False)
        return parse_json(read_regular(path, MAX_DESCRIPTOR_BYTES), value)
    except (UnsafePathError, OSError, DescriptorError):
        return {}


def parse_resource(raw: dict[str, Any], root: Path | None = None) -> Resource:
    """root: the package's folder, where a schema given by a local path is read from (without it, the
    schema must be inline)."""
    name = str(raw["name"])
    schema = raw.get("schema") or {}
    if isinstance(schema, str) and is_remote(schema):
        raise DescriptorError(
            f"resource {name!r}: the schema is the remote reference {schema!r}, which is never fetched"
            " (remote-reference): inline the schema in datapackage.json"
        )
    if isinstance(schema, str) and root is not None:
        schema = _referenced_schema(root, schema)
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
        role=_role(raw),
        view=raw.get(VIEW_KEY),
    )


def load_package(path: str | Path) -> Package:
    """Read a descriptor; raise DescriptorError with a readable message if it is unusable."""
    path, raw, text = read_descriptor(path)
    if not isinstance(raw.get("resources"), list):
        raise DescriptorError(f"{path}: a data package descriptor needs a 'resources' list")
    try:
        resources = tuple(parse_resource(r, path.resolve().parent) for r in raw["resources"])
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # `"constraints": "x"`: dict() raises ValueError
        raise DescriptorError(f"{path}: a resource is malformed ({exc!r})") from None
    return Package(path=path.resolve(), raw=raw, resources=resources, text=text)


# --- references that would make a reader leave the package ---------------------------------

# Keys whose string value frictionless (or a JSON Schema validator) would fetch or open.
REFERENCE_KEYS = ("profile", "$schema", "dialect", "schema", "path", "$ref")
# Metadata links that nothing fetches: a license's or a source's `path` is a citation.
_METADATA_LISTS = ("licenses", "sources", "contributors")
# A profile named like this is built into frictionless, not a file.
_PROFILE_NAMES = frozenset(
    {"data-package", "tabular-data-package", "fiscal-data-package", "data-resource", "tabular-data-resource"}
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]+:")


def is_remote(value: str) -> bool:
    """A URL (http://, https://, ftp://, file:, s3:// ...): anything with a scheme of two letters or more.

    Leading white space and control characters are ignored, as URL parsers ignore them.
    """
    return bool(_SCHEME.match(value.lstrip("".join(map(chr, range(0x21))))))


@dataclass(frozen=True)
class Reference:
    key: str  # the key that holds it: "profile", "dialect", "path" ...
    where: str  # the object that has the key: "the package", "resource 'actors'"
    value: str
    line: int | None  # in the descriptor's text, when it can be found
    remote: bool
    data_path: bool = False  # a resource's own `path`: its data file, which the reader checks itself


_STRING = r'"(?:[^"\\\n]|\\.)*"'
_KEYED = re.compile(r'"(' + "|".join(re.escape(k) for k in REFERENCE_KEYS) + r')"\s*:\s*(' + _STRING + r"|\[[^\]]*\])")
_STRINGS = re.compile(_STRING)


@functools.lru_cache(maxsize=4)
def _keyed_lines(text: str) -> dict[tuple[str, str], int]:
    """(key, value) -> the first line where `"key": "value"` (or the value in a list) stands; one pass."""
    lines: dict[tuple[str, str], int] = {}
    line, at = 1, 0
    for m in _KEYED.finditer(text):
        line += text.count("\n", at, m.start())
        at = m.start()
        for item in _STRINGS.finditer(m.group(2)):
            try:
                value = json.loads(item.group())
            except ValueError:
                continue
            lines.setdefault((m.group(1), value), line + m.group(2).count("\n", 0, item.start()))
    return lines


def line_of(text: str, key: str, value: str) -> int | None:
    """The line of `"key": "value"` in the descriptor's text (the first one), or None."""
    return _keyed_lines(text).get((key, value)) if text else None


def references(raw: dict[str, Any], text: str = "") -> list[Reference]:
    """Every string in the descriptor that a reader could fetch or open, remote or local.

    Walks the whole descriptor (without recursion) but the citations (licenses, sources,
    contributors), which nothing fetches. A profile named like a built-in one (such as
    tabular-data-package) is no reference.
    """
    found: list[Reference] = []
    # (item, where, is the package or a resource itself)
    stack: list[tuple[Any, str, bool]] = [(raw, "the package", True)]
    while stack:
        item, where, top = stack.pop()
        if isinstance(item, list):
            stack.extend((child, where, False) for child in reversed(item))
            continue
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if key in _METADATA_LISTS:
                continue
            if key == "resources" and item is raw and isinstance(value, list):
                for index, resource in enumerate(reversed(value)):
                    name = resource.get("name") if isinstance(resource, dict) else None
                    label = f"resource {name!r}" if isinstance(name, str) else f"resource {len(value) - index}"
                    stack.append((resource, label, True))
                continue
            if key in REFERENCE_KEYS:
                for one in value if isinstance(value, list) and key == "path" else [value]:
                    if not isinstance(one, str) or (key in ("profile", "$schema") and one in _PROFILE_NAMES):
                        continue
                    data_path = key == "path" and top and item is not raw
                    line = line_of(text, key, one)
                    found.append(Reference(key, where, one, line, is_remote(one), data_path))
            if isinstance(value, (dict, list)):
                stack.append((value, where, False))
    return sorted(found, key=lambda r: (r.line or 0, r.key, r.value))

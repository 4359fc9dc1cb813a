"""What changed between two versions of the package: rows and schemas, for reviewers of a data pull request.

Each side is a folder holding a `datapackage.json` (the source package with CSV tables, or a
release with Parquet tables) or a git revision of the repository. Every value is normalized to
text before comparing, so a release and the CSVs it was built from compare equal.

A side's files are read by the rules validate reads them by: the descriptor within the bounds of
descriptor.parse_json (size, nesting, numbers), a resource only at a plain relative path inside the
side (no '..', not absolute, no URL, no symlink on the way), a file only if it is regular and not
over MAX_FILE_BYTES. Anything else is a DiffError (exit 2); nothing outside the side is read, and
nothing is fetched. The text and Markdown outputs show no control or invisible character raw.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .descriptor import (
    DESCRIPTOR_NAME,
    MAX_DESCRIPTOR_BYTES,
    DescriptorError,
    Resource,
    parse_json,
    parse_resource,
    read_regular,
)
from .paths import UnsafePathError, resolve_inside, unsafe_relative_reason
from .read import unlimited_fields
from .render import escape_text, safe_json

Key = tuple[str, ...]
Rows = dict[Key, dict[str, str]]

TRUE_VALUES = ("true", "True", "TRUE", "1")  # frictionless' defaults, as the build reads them
FALSE_VALUES = ("false", "False", "FALSE", "0")
CELL_CHARS = 120  # longest value a markdown cell shows before it is clipped
MAX_ROWS = 50  # rows listed per section of a markdown comment; the JSON has them all
MAX_FILE_BYTES = 1 << 30  # one table file of a side
# ASCII digits only, and few enough for int() (which refuses more than 4,300): a longer number is text.
_INTEGER = re.compile(r"[+-]?[0-9]{1,1000}")
_SEMVER = re.compile(r"v?([0-9]{1,18})\.([0-9]{1,18})\.([0-9]{1,18})(?:[-+].*)?")


class DiffError(Exception):
    """A side cannot be read: not a package folder nor a revision, or a table is missing or unreadable."""


# --- sides ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """One table of a side: its schema and its rows, every value as text."""

    name: str
    fields: dict[str, str]  # field name -> type, in schema order
    constraints: dict[str, dict[str, Any]]  # field name -> constraints
    primary_key: tuple[str, ...]
    rows: Rows  # primary key (every field when there is none) -> field -> text
    duplicates: tuple[Key, ...] = ()  # keys that more than one row had; the last row is kept


@dataclass(frozen=True)
class Side:
    spec: str  # as the user gave it
    label: str  # how reports name it: the folder, or the revision with its short hash
    descriptor: dict[str, Any] = field(repr=False)
    version: str
    tables: dict[str, Table]  # in the descriptor's order


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise DiffError("git is not installed, so a revision cannot be read") from None


def _folder_reader(folder: Path) -> Callable[[str], bytes]:
    def read(path: str) -> bytes:
        try:
            if path == DESCRIPTOR_NAME:
                return read_regular(folder / path, MAX_DESCRIPTOR_BYTES)
            return read_regular(resolve_inside(folder, path, allow_symlinks=False), MAX_FILE_BYTES)
        except UnsafePathError as exc:
            raise DiffError(f"{folder}: the path {exc}; nothing outside the package is read") from None
        except FileNotFoundError:
            raise DiffError(f"{folder}: {path} does not exist") from None
        except OSError as exc:
            raise DiffError(f"{folder}: {path} cannot be read ({exc.strerror or exc})") from None

    return read


def _revision_reader(repo: Path, sha: str, label: str) -> Callable[[str], bytes]:
    def read(path: str) -> bytes:
        reason = unsafe_relative_reason(path)
        if reason:  # git would not leave the repository, but a path from a revision obeys the same rules
            raise DiffError(f"{label}: the path {path!r} {reason}; nothing outside the package is read")
        limit = MAX_DESCRIPTOR_BYTES if path == DESCRIPTOR_NAME else MAX_FILE_BYTES
        # "./" makes the path relative to `repo`, which may be a subfolder of the work tree.
        # mode, type, size: a symlink (mode 120000) or a folder is not a file, and a size is checked first
        listed = _git(repo, "ls-tree", "-l", "-z", sha, "--", f"./{path}").stdout.split(b"\0")[0].split()
        if len(listed) < 4:
            raise DiffError(f"{label}: {path} is not in that revision")
        if listed[0] not in (b"100644", b"100755") or listed[1] != b"blob":
            raise DiffError(f"{label}: {path} is not a plain file in that revision (a symlink or a folder)")
        if not listed[3].isdigit() or int(listed[3]) > limit:
            raise DiffError(f"{label}: {path} is larger than {limit:,} bytes")
        done = _git(repo, "show", f"{sha}:./{path}")
        if done.returncode != 0:
            raise DiffError(f"{label}: {path} is not in that revision")
        return done.stdout

    return read


def _resolve_revision(spec: str, repo: Path) -> str | None:
    """The commit a revision names, or None if it names none (or repo is no git repository)."""
    if not spec or spec.startswith("-"):  # never let a spec pass as an option to git
        return None
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}")
    return done.stdout.decode().strip() if done.returncode == 0 else None


def load_side(spec: str, repo: Path = Path(".")) -> Side:
    """Read OLD or NEW: a folder with a datapackage.json (tried first), or a git revision of repo.

    A folder is relative to the working directory; a revision's files are read from repo with
    `git show`, relative to repo (which may be a subfolder of the work tree).
    """
    path = Path(spec)
    if path.name == DESCRIPTOR_NAME and path.exists() and not path.is_dir():
        path = path.parent  # a FIFO or a device named so is refused by the reader, never opened to wait
    if path.is_dir():
        if not (path / DESCRIPTOR_NAME).exists():
            raise DiffError(f"{spec}: the folder has no {DESCRIPTOR_NAME}")
        return _load(spec, spec, _folder_reader(path))
    sha = _resolve_revision(spec, repo)
    if sha is None:
        where = f"the git repository at {repo}"
        if _git(repo, "rev-parse", "--git-dir").returncode != 0:
            where = f"a git repository ({repo} is not one)"
        raise DiffError(f"{spec!r} is neither a folder with a {DESCRIPTOR_NAME} nor a revision of {where}")
    label = spec if sha.startswith(spec) else f"{spec} ({sha[:12]})"
    return _load(spec, label, _revision_reader(repo, sha, label))


def _load(spec: str, label: str, read: Callable[[str], bytes]) -> Side:
    raw = read(DESCRIPTOR_NAME)
    try:
        descriptor = parse_json(raw, f"{label}: {DESCRIPTOR_NAME}")
    except DescriptorError as exc:
        raise DiffError(str(exc)) from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise DiffError(f"{label}: {DESCRIPTOR_NAME} has no 'resources' list")
    tables: dict[str, Table] = {}
    for raw_resource in descriptor["resources"]:
        try:
            resource = parse_resource(raw_resource)
        except (KeyError, TypeError, AttributeError, DescriptorError) as exc:
            raise DiffError(f"{label}: a resource in {DESCRIPTOR_NAME} is malformed ({exc})") from None
        tables[resource.name] = _table(resource, raw_resource, read, label)
    return Side(spec, label, descriptor, str(descriptor.get("version", "")), tables)


def _is_parquet(raw_resource: dict[str, Any]) -> bool:
    fmt = str(raw_resource.get("format") or "").lower()
    return fmt == "parquet" or (not fmt and str(raw_resource.get("path", "")).lower().endswith(".parquet"))


def _table(resource: Resource, raw_resource: dict[str, Any], read: Callable[[str], bytes], label: str) -> Table:
    if not resource.path:
        raise DiffError(f"{label}: resource {resource.name!r} has no path")
    if not isinstance(raw_resource.get("path"), str):
        raise DiffError(f"{label}: resource {resource.name!r} has a path that is not one text")
    reason = unsafe_relative_reason(resource.path)
    if reason:
        raise DiffError(
            f"{label}: resource {resource.name!r} has the path {resource.path!r}, which {reason};"
            " nothing outside the package is read"
        )
    data = read(resource.path)
    types = {f.name: f.type for f in resource.fields}
    try:
        records = _parquet_records(data, types) if _is_parquet(raw_resource) else _csv_records(data)
    except DiffError as exc:
        raise DiffError(f"{label}: {resource.path}: {exc}") from None
    key_fields = resource.primary_key or tuple(types)
    rows: Rows = {}
    duplicates: list[Key] = []
    for record in records:
        row = {name: _text(record.get(name), kind) for name, kind in types.items()}
        key = tuple(row.get(name, "") for name in key_fields)
        if key in rows:
            duplicates.append(key)
        rows[key] = row
    return Table(
        name=resource.name,
        fields=types,
        constraints={f.name: dict(f.constraints) for f in resource.fields},
        primary_key=resource.primary_key,
        rows=rows,
        duplicates=tuple(duplicates),
    )


def _csv_records(data: bytes) -> list[dict[str, str]]:
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise DiffError(f"not UTF-8 (byte offset {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        with unlimited_fields():  # a large cell is validate's business, not a reason for diff to fail
            header = next(reader, [])
            return [dict(zip(header, record, strict=False)) for record in reader if record]
    except csv.Error as exc:
        raise DiffError(f"the CSV cannot be parsed near line {reader.line_num}: {exc}") from None


def _parquet_records(data: bytes, types: dict[str, str]) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise DiffError(f"not a readable Parquet file ({exc})") from None
    return table.select([n for n in table.column_names if n in types]).to_pylist()


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _text(value: Any, kind: str) -> str:
    """One value as text, the same whether it came from a CSV cell or a typed Parquet column."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, datetime.date):  # datetimes too: isoformat keeps their time
        return value.isoformat()
    text = str(value)
    if kind == "integer" and _INTEGER.fullmatch(text.strip()):
        return str(int(text))
    if kind == "number":
        try:
            return _number(float(text))
        except ValueError:
            return text
    if kind == "boolean":
        return "true" if text in TRUE_VALUES else "false" if text in FALSE_VALUES else text
    return text


# --- the diff ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaChange:
    kind: str  # table-added, field-removed, enum-values-removed, ... (see describe)
    field: str | None  # None for a change to the whole table
    old: Any = None  # what it was: a type, a list of enum values, a pattern ...
    new: Any = None
    breaking: bool = False


@dataclass(frozen=True)
class Row:
    key: Key
    values: dict[str, str]


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class RowChange:
    key: Key
    fields: tuple[FieldChange, ...]


@dataclass
class TableDiff:
    name: str
    status: str  # added, removed, changed or unchanged
    key_fields: tuple[str, ...]  # what rows were matched on
    schema: list[SchemaChange] = field(default_factory=list)
    added: list[Row] = field(default_factory=list)
    removed: list[Row] = field(default_factory=list)
    changed: list[RowChange] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.schema)


@dataclass(frozen=True)
class VersionCheck:
    old: str
    new: str
    bump: str | None  # the part semantic versioning says must go up: "major", "minor" or None
    expected: str | None  # the smallest version that does it, e.g. 2.0.0
    ok: bool
    note: str | None  # one sentence for the reviewer, when there is something to say


@dataclass
class DataDiff:
    old: str  # the sides' labels
    new: str
    tables: list[TableDiff]  # every table: NEW's order, then the removed ones
    version: VersionCheck
    notes: list[str] = field(default_factory=list)

    @property
    def changed_tables(self) -> list[TableDiff]:
        return [t for t in self.tables if t.status != "unchanged"]

    @property
    def has_changes(self) -> bool:
        return bool(self.changed_tables)

    @property
    def schema_changes(self) -> list[SchemaChange]:
        return [c for t in self.tables for c in t.schema]

    @property
    def breaking(self) -> bool:
        """Does the change break the major version (a table or field removed, retyped, constrained)?"""
        return any(c.breaking for c in self.schema_changes)

    @property
    def version_ok(self) -> bool:
        return self.version.ok


def _sort_key(key: Key) -> tuple[tuple[int, int, str], ...]:
    # Numbers by value (2 before 10), text by code point; both kinds can meet in one column.
    return tuple((0, int(v), "") if _INTEGER.fullmatch(v) else (1, 0, v) for v in key)


def _describe_field(kind: str, constraints: dict[str, Any]) -> str:
    return f"{kind}, {'required' if constraints.get('required') else 'optional'}"


def _tightened(name: str, old: Any, new: Any) -> bool:
    """Is a changed numeric or length bound stricter, so that once-valid values may now be invalid?"""
    if new is None:
        return False
    if old is None:
        return True
    try:
        return float(new) > float(old) if name.startswith("min") else float(new) < float(old)
    except (TypeError, ValueError, OverflowError):
        return True


_BOUNDS = ("minimum", "maximum", "minLength", "maxLength")


def _constraint_changes(name: str, old: dict[str, Any], new: dict[str, Any]) -> list[SchemaChange]:
    out: list[SchemaChange] = []
    old_enum, new_enum = old.get("enum"), new.get("enum")
    if old_enum is not None and new_enum is not None:
        gone = [v for v in old_enum if v not in new_enum]
        came = [v for v in new_enum if v not in old_enum]
        if gone:
            out.append(SchemaChange("enum-values-removed", name, gone, None, breaking=True))
        if came:
            out.append(SchemaChange("enum-values-added", name, None, came))
    elif new_enum is not None:
        out.append(SchemaChange("enum-added", name, None, list(new_enum), breaking=True))
    elif old_enum is not None:
        out.append(SchemaChange("enum-removed", name, list(old_enum), None))
    for flag in ("required", "unique"):
        was, now = bool(old.get(flag)), bool(new.get(flag))
        if now and not was:
            out.append(SchemaChange(f"{flag}-added", name, breaking=True))
        elif was and not now:
            out.append(SchemaChange(f"{flag}-removed", name))
    old_pattern, new_pattern = old.get("pattern"), new.get("pattern")
    if old_pattern != new_pattern:
        # A pattern we cannot compare is assumed stricter: values valid before may fail it.
        kind = "pattern-changed"
        if old_pattern is None or new_pattern is None:
            kind = "pattern-added" if old_pattern is None else "pattern-removed"
        out.append(SchemaChange(kind, name, old_pattern, new_pattern, breaking=new_pattern is not None))
    for bound in _BOUNDS:
        if old.get(bound) != new.get(bound):
            tighter = _tightened(bound, old.get(bound), new.get(bound))
            out.append(SchemaChange(f"{bound}-changed", name, old.get(bound), new.get(bound), breaking=tighter))
    return out


def _schema_changes(old: Table, new: Table) -> list[SchemaChange]:
    out: list[SchemaChange] = []
    if old.primary_key != new.primary_key:
        out.append(SchemaChange("primary-key-changed", None, list(old.primary_key), list(new.primary_key), True))
    for name in old.fields:
        if name not in new.fields:
            was = _describe_field(old.fields[name], old.constraints[name])
            out.append(SchemaChange("field-removed", name, was, None, breaking=True))
    for name, kind in new.fields.items():
        if name not in old.fields:
            required = bool(new.constraints[name].get("required"))
            # An optional field is an addition; a required one asks something new of every row.
            now = _describe_field(kind, new.constraints[name])
            out.append(SchemaChange("field-added", name, None, now, breaking=required))
            continue
        if old.fields[name] != kind:
            out.append(SchemaChange("field-retyped", name, old.fields[name], kind, breaking=True))
        out.extend(_constraint_changes(name, old.constraints[name], new.constraints[name]))
    return out


def _key_fields(old: Table, new: Table) -> tuple[str, ...]:
    """Match rows on NEW's primary key where OLD has its fields, else on OLD's, else on the shared fields."""
    for key in (new.primary_key, old.primary_key):
        if key and set(key) <= set(old.fields) and set(key) <= set(new.fields):
            return key
    return tuple(name for name in new.fields if name in old.fields)


def _rekeyed(table: Table, key_fields: tuple[str, ...]) -> Rows:
    if key_fields == (table.primary_key or tuple(table.fields)):
        return table.rows
    return {tuple(row.get(f, "") for f in key_fields): row for row in table.rows.values()}


def _rows(rows: Rows, keys: Iterable[Key]) -> list[Row]:
    return [Row(key, rows[key]) for key in sorted(keys, key=_sort_key)]


def _diff_table(old: Table | None, new: Table | None) -> TableDiff:
    if old is None or new is None:
        only = new or old
        assert only is not None
        key_fields = only.primary_key or tuple(only.fields)
        rows = _rows(only.rows, only.rows)
        if old is None:
            return TableDiff(only.name, "added", key_fields, [SchemaChange("table-added", None)], added=rows)
        gone = SchemaChange("table-removed", None, breaking=True)
        return TableDiff(only.name, "removed", key_fields, [gone], removed=rows)
    key_fields = _key_fields(old, new)
    old_rows, new_rows = _rekeyed(old, key_fields), _rekeyed(new, key_fields)
    shared = [name for name in new.fields if name in old.fields]  # added or removed fields are schema changes
    changed = []
    for key in sorted(old_rows.keys() & new_rows.keys(), key=_sort_key):
        before, after = old_rows[key], new_rows[key]
        fields = tuple(FieldChange(f, before[f], after[f]) for f in shared if before[f] != after[f])
        if fields:
            changed.append(RowChange(key, fields))
    result = TableDiff(
        new.name,
        "unchanged",
        key_fields,
        schema=_schema_changes(old, new),
        added=_rows(new_rows, new_rows.keys() - old_rows.keys()),
        removed=_rows(old_rows, old_rows.keys() - new_rows.keys()),
        changed=changed,
    )
    if result.schema or result.added or result.removed or result.changed:
        result.status = "changed"
    return result


def _semver(version: str) -> tuple[int, int, int] | None:
    match = _SEMVER.fullmatch(version.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def check_version(old: str, new: str, schema: list[SchemaChange]) -> VersionCheck:
    """Semantic versioning for the schema: a breaking change bumps the major, an addition the minor."""
    if not schema:
        return VersionCheck(old, new, None, None, True, None)
    bump = "major" if any(c.breaking for c in schema) else "minor"
    what = "breaking schema change" if bump == "major" else "schema addition"
    before, after = _semver(old), _semver(new)
    if before is None:
        note = f"{what}: OLD's version {old!r} is not semantic versioning, so the {bump} version cannot be checked"
        return VersionCheck(old, new, bump, None, False, note)
    expected = f"{before[0] + 1}.0.0" if bump == "major" else f"{before[0]}.{before[1] + 1}.0"
    if after is None:
        ok = False
    elif bump == "major":
        ok = after[0] > before[0]
    else:
        ok = after[:2] > before[:2]
    verb = "must" if bump == "major" else "should"
    note = (
        f"{what}: the {bump} version goes up ({old} -> {new})"
        if ok
        else f"{what}: the {bump} version {verb} go up ({old} -> {expected}), NEW says {new or 'nothing'}"
    )
    return VersionCheck(old, new, bump, expected, ok, note)


def diff(old: Side, new: Side) -> DataDiff:
    """Every difference between OLD and NEW, table by table: NEW's order, then the tables NEW removed."""
    names = list(new.tables) + [name for name in old.tables if name not in new.tables]
    tables = [_diff_table(old.tables.get(name), new.tables.get(name)) for name in names]
    notes = []
    for side, which in ((old, "OLD"), (new, "NEW")):
        for table in side.tables.values():
            if table.duplicates:
                keys = "; ".join(", ".join(k) for k in sorted(set(table.duplicates), key=_sort_key))
                notes.append(f"{which} {table.name}: more than one row has the key {keys}; the last one is compared")
    version = check_version(old.version, new.version, [c for t in tables for c in t.schema])
    return DataDiff(old.label, new.label, tables, version, notes)


# --- rendering --------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def describe(
    change: SchemaChange,
    code: Callable[[str], str] = repr,
    arrow: str = "->",
    value: Callable[[str], str] = str,
) -> str:
    """A schema change as a phrase: "field 'x' removed (was string, optional)".

    code shows a field's name, value a value from the schema (an enum value, a pattern, a bound).
    """
    subject = f"field {code(change.field)}" if change.field else "table"

    def _values(values: Any) -> str:
        return value(", ".join(map(str, values)) if isinstance(values, list) else str(values))

    old = None if change.old is None else _values(change.old)
    new = None if change.new is None else _values(change.new)
    phrases = {
        "table-added": "table added",
        "table-removed": "table removed",
        "primary-key-changed": f"primary key changed: {old or 'none'} {arrow} {new or 'none'}",
        "field-added": f"{subject} added ({new})",
        "field-removed": f"{subject} removed (was {old})",
        "field-retyped": f"{subject} retyped: {old} {arrow} {new}",
        "enum-values-removed": f"{subject}: enum values removed: {old}",
        "enum-values-added": f"{subject}: enum values added: {new}",
        "enum-added": f"{subject}: now limited to the values {new}",
        "enum-removed": f"{subject}: no longer limited to the values {old}",
        "required-added": f"{subject} is now required",
        "required-removed": f"{subject} is no longer required",
        "unique-added": f"{subject} must now be unique",
        "unique-removed": f"{subject} need no longer be unique",
        "pattern-added": f"{subject}: new pattern {new}",
        "pattern-removed": f"{subject}: pattern {old} dropped",
        "pattern-changed": f"{subject}: pattern {old} {arrow} {new}",
    }
    if change.kind in phrases:
        return phrases[change.kind]
    bound = change.kind.removesuffix("-changed")
    return f"{subject}: {bound} {'none' if old is None else old} {arrow} {'none' if new is None else new}"


def _counts(t: TableDiff) -> str:
    parts = [f"{len(t.added)} added", f"{len(t.removed)} removed", f"{len(t.changed)} changed"]
    if t.status in ("added", "removed"):
        parts = [f"table {t.status}", _plural(len(t.added or t.removed), "row")]
    return ", ".join(parts)


def _key_text(key: Key) -> str:
    return ", ".join(key)


def _summary(d: DataDiff) -> str:
    changed = d.changed_tables
    added, removed, rows_changed = (
        sum(len(getattr(t, part)) for t in changed) for part in ("added", "removed", "changed")
    )
    schema = d.schema_changes
    breaking = sum(1 for c in schema if c.breaking)
    schema_text = f"{_plural(len(schema), 'schema change')} ({breaking} breaking)" if schema else "no schema changes"
    return (
        f"{_plural(len(changed), 'table')} changed: {_plural(added, 'row')} added, {removed} removed,"
        f" {rows_changed} changed; {schema_text}"
    )


def _no_differences(d: DataDiff, show: Callable[[str], str] = str) -> str:
    old, new = show(d.version.old), show(d.version.new)
    versions = old if d.version.old == d.version.new else f"{old} -> {new}"
    return f"no differences in schema or rows between {show(d.old)} and {show(d.new)} (version {versions})"


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def render_text(d: DataDiff) -> str:
    """For a terminal: every change, values in full and quoted, then a summary line.

    Each line is escaped as a whole (render.escape_text): a control, format or invisible character,
    and a line break inside a key or a name, shows as a visible escape, never raw.
    """
    return "\n".join(escape_text(line) for line in _text_lines(d)) + "\n"


def _text_lines(d: DataDiff) -> list[str]:
    if not d.has_changes:
        return [_no_differences(d)] + [f"note: {n}" for n in d.notes]
    out = [f"eurasec diff: {d.old} -> {d.new}, version {d.version.old} -> {d.version.new}", ""]
    for t in d.changed_tables:
        out.append(f"{t.name}: {_counts(t)}")
        for c in t.schema:
            out.append(f"  ! breaking: {describe(c)}" if c.breaking else f"  * {describe(c)}")
        for sign, rows in (("+", t.added), ("-", t.removed)):
            for row in rows:
                out.append(f"  {sign} {_key_text(row.key)}")
                out += [f"      {f}: {_q(v)}" for f, v in row.values.items() if v and f not in t.key_fields]
        for change in t.changed:
            out.append(f"  ~ {_key_text(change.key)}")
            out += [f"      {c.field}: {_q(c.old)} -> {_q(c.new)}" for c in change.fields]
        out.append("")
    out.append(_summary(d))
    out += [f"note: {n}" for n in [d.version.note, *d.notes] if n]
    return out


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])|:(?=//)")
_MD_WWW = re.compile(r"(?i)\b(www)\.")


def _cell(text: str) -> str:
    """Text safe in a markdown table cell: markup escaped (| above all; [ ] so that no link or image forms,
    & < > as entities so that no HTML does, the ':' of '://' and the '.' of 'www.' so that no URL autolinks), control
    and invisible characters shown as escapes, line breaks kept as <br>."""
    text = escape_text(text.replace("\r\n", "\n"), keep="\n")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MD_WWW.sub(r"\1\\.", _MD_SPECIAL.sub(lambda m: "\\" + m.group(), text))
    return escaped.replace("\n", "<br>")


def _clip(text: str, start: int = 0, limit: int = CELL_CHARS) -> str:
    """At most `limit` characters of text from about `start`, with … standing for what was cut."""
    if len(text) <= limit:
        return text
    start = max(0, min(start, len(text) - limit))
    end = start + limit
    head, tail = start > 0, end < len(text)
    # Each ellipsis takes the place of one character, on the side where text was cut.
    return ("…" if head else "") + text[start + head : end - tail] + ("…" if tail else "")


def _clip_pair(old: str, new: str) -> tuple[str, str]:
    """Clip both values around where they first differ, so the change itself stays in view."""
    if max(len(old), len(new)) <= CELL_CHARS:
        return old, new
    same = 0
    while same < min(len(old), len(new)) and old[same] == new[same]:
        same += 1
    start = max(0, same - CELL_CHARS // 3)
    return _clip(old, start), _clip(new, start)


def _md_value(text: str) -> str:
    return _cell(text) if text else "*(empty)*"


def _md_code(text: str) -> str:
    if "`" in text or not text:
        return _cell(text) or "*(empty)*"
    escaped = escape_text(text).replace("|", "\\|")  # a pipe splits a table cell even inside code
    return f"`{escaped}`"


def _md_rows(title: str, header: str, lines: list[str], total: int) -> list[str]:
    out = [f"**{title} ({total})**", "", f"| {header} |", "| --- | --- |", *lines]
    if total > len(lines):
        out.append(f"| … | {total - len(lines)} more (the JSON output lists them all) |")
    return [*out, ""]


def render_markdown(d: DataDiff, max_rows: int = MAX_ROWS) -> str:
    """For a pull-request comment: heading, summary table, then each changed table's rows."""
    if not d.has_changes:
        return f"**eurasec diff**: {_no_differences(d, _cell).replace(' -> ', ' → ')}\n"
    out = [f"## eurasec diff: {_md_code(d.old)} → {_md_code(d.new)}", ""]
    if d.version.note:
        marker = "> [!CAUTION]" if not d.version.ok and d.version.bump == "major" else "> [!NOTE]"
        out += [marker, f"> {_cell(d.version.note.replace(' -> ', ' → '))}", ""]
    unchanged = len(d.tables) - len(d.changed_tables)
    out += [
        f"Version {_cell(d.version.old)} → {_cell(d.version.new)}. {_summary(d)}."
        + (f" {_plural(unchanged, 'other table')} unchanged." if unchanged else ""),
        "",
        "| table | rows added | rows removed | rows changed | schema changes |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for t in d.changed_tables:
        breaking = sum(1 for c in t.schema if c.breaking)
        schema = f"{len(t.schema)}" + (f" ({breaking} breaking)" if breaking else "") if t.schema else "–"
        out.append(f"| {_md_code(t.name)} | {len(t.added)} | {len(t.removed)} | {len(t.changed)} | {schema} |")
    out.append("")
    for note in d.notes:
        out += [f"> {_cell(note)}", ""]
    for t in d.changed_tables:
        key_header = _cell(", ".join(t.key_fields)) or "key"
        out += [f"### {_md_code(t.name)}" + (f" (table {t.status})" if t.status in ("added", "removed") else ""), ""]
        for c in t.schema:
            text = describe(c, code=_md_code, arrow="→", value=_cell)
            out.append(f"- **breaking**: {text}" if c.breaking else f"- {text}")
        if t.schema:
            out.append("")
        for title, rows in (("Added rows", t.added), ("Removed rows", t.removed)):
            if rows:
                lines = []
                for row in rows[:max_rows]:
                    values = [
                        f"{_cell(f)}: {_md_value(_clip(v))}"
                        for f, v in row.values.items()
                        if v and f not in t.key_fields
                    ]
                    lines.append(f"| {_md_code(_key_text(row.key))} | {'<br>'.join(values)} |")
                out += _md_rows(title, f"{key_header} | row", lines, len(rows))
        if t.changed:
            lines = []
            for change in t.changed[:max_rows]:
                parts = []
                for c in change.fields:
                    old, new = _clip_pair(c.old, c.new)
                    parts.append(f"{_cell(c.field)}: {_md_value(old)} → {_md_value(new)}")
                lines.append(f"| {_md_code(_key_text(change.key))} | {'<br>'.join(parts)} |")
            out += _md_rows("Changed rows", f"{key_header} | changes", lines, len(t.changed))
    return "\n".join(out).rstrip("\n") + "\n"


def _key_dict(key_fields: tuple[str, ...], key: Key) -> dict[str, str]:
    return dict(zip(key_fields, key, strict=True))


def to_dict(d: DataDiff) -> dict[str, Any]:
    """The whole diff as plain data, keys in a fixed order."""
    v = d.version
    return {
        "old": {"label": d.old, "version": v.old},
        "new": {"label": d.new, "version": v.new},
        "changed": d.has_changes,
        "breaking": d.breaking,
        "version": {"bump": v.bump, "expected": v.expected, "ok": v.ok, "note": v.note},
        "notes": list(d.notes),
        "tables": [
            {
                "name": t.name,
                "status": t.status,
                "key_fields": list(t.key_fields),
                "counts": {"added": len(t.added), "removed": len(t.removed), "changed": len(t.changed)},
                "schema_changes": [
                    {
                        "kind": c.kind,
                        "field": c.field,
                        "old": c.old,
                        "new": c.new,
                        "breaking": c.breaking,
                        "description": describe(c),
                    }
                    for c in t.schema
                ],
                "added": [{"key": _key_dict(t.key_fields, r.key), "row": r.values} for r in t.added],
                "removed": [{"key": _key_dict(t.key_fields, r.key), "row": r.values} for r in t.removed],
                "changed": [
                    {
                        "key": _key_dict(t.key_fields, c.key),
                        "fields": {f.field: {"old": f.old, "new": f.new} for f in c.fields},
                    }
                    for c in t.changed
                ],
            }
            for t in d.tables
        ],
    }


def render_json(d: DataDiff) -> str:
    """The whole diff as JSON: UTF-8, with control and invisible characters as \\u escapes (render.safe_json)."""
    return safe_json(to_dict(d)) + "\n"


RENDERERS: dict[str, Callable[[DataDiff], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}

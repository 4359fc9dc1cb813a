"""What changed between two sides: schema changes, and rows added, removed or changed, matched by key.

Rows are compared column by column with Arrow: each row's key becomes one integer code, the same
for equal keys on both sides (keys.py), which says at once which keys repeat and which rows of OLD
and NEW match; then each shared field is compared over the matched rows at once (a column equal as
a whole costs one comparison), and only the rows that differ, and the added and removed ones,
become Python objects. A table whose columns both sides share (the same file, see sides.py) has
no row change. Tables are compared two at a time, each pair read, compared and let go.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .keys import codes, first_and_last, kept, keys_at, match
from .sides import DiffError, Key, Side, Table, TableData

if TYPE_CHECKING:
    import numpy as np

_INTEGER = re.compile(r"[+-]?[0-9]{1,1000}")
_SEMVER = re.compile(r"v?([0-9]{1,18})\.([0-9]{1,18})\.([0-9]{1,18})(?:[-+].*)?")


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


def sort_key(key: Key) -> tuple[tuple[tuple[int, int, str], ...], Key]:
    # Numbers by value (2 before 10), text by code point; both kinds can meet in one column.
    # The key itself settles ties ("1" and "01"), so the order never depends on a hash.
    return tuple((0, int(v), "") if _INTEGER.fullmatch(v) else (1, 0, v) for v in key), key


# --- schema -----------------------------------------------------------------------------


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


# --- rows -------------------------------------------------------------------------------


def _key_fields(old: Table, new: Table) -> tuple[str, ...]:
    """Match rows on NEW's primary key where OLD has its fields, else on OLD's, else on the shared fields."""
    for key in (new.primary_key, old.primary_key):
        if key and set(key) <= set(old.fields) and set(key) <= set(new.fields):
            return key
    return tuple(name for name in new.fields if name in old.fields)


def _rows(data: TableData, key_fields: tuple[str, ...], rows: np.ndarray) -> list[Row]:
    """Some rows with every field, in key order."""
    import pyarrow as pa

    keys = keys_at(data, key_fields, rows)
    indices = pa.array(rows)
    names = list(data.columns)
    columns = [data.columns[name].take(indices).to_pylist() for name in names]
    found = [Row(key, dict(zip(names, values, strict=True))) for key, *values in zip(keys, *columns, strict=True)]
    return sorted(found, key=lambda row: sort_key(row.key))


def _all_rows(data: TableData, key_fields: tuple[str, ...]) -> list[Row]:
    import numpy as np

    return _rows(data, key_fields, np.arange(data.num_rows, dtype=np.int64))


def _changed(
    old: TableData, new: TableData, shared: list[str], key_fields: tuple[str, ...], matched: tuple[np.ndarray, ...]
) -> list[RowChange]:
    """The matched rows where a shared field differs, with those fields, in key order."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    old_rows, new_rows = matched
    aligned = len(old_rows) == old.num_rows == new.num_rows and bool(np.array_equal(old_rows, new_rows))
    old_indices, new_indices = pa.array(old_rows), pa.array(new_rows)
    differs = np.zeros(len(new_rows), dtype=bool)
    for name in shared:
        before, after = old.columns[name], new.columns[name]
        if aligned:
            if before is after or before.equals(after):
                continue
        else:
            before, after = before.take(old_indices), after.take(new_indices)
        differs |= pc.not_equal(before, after).to_numpy(zero_copy_only=False)
    where = np.flatnonzero(differs)
    if not len(where):
        return []
    at_old, at_new = pa.array(old_rows[where]), pa.array(new_rows[where])
    values = {
        name: (old.columns[name].take(at_old).to_pylist(), new.columns[name].take(at_new).to_pylist())
        for name in shared
    }
    keys = keys_at(new, key_fields, new_rows[where])
    changed = []
    for i, key in enumerate(keys):
        fields = tuple(
            FieldChange(name, values[name][0][i], values[name][1][i])
            for name in shared
            if values[name][0][i] != values[name][1][i]
        )
        changed.append(RowChange(key, fields))
    return sorted(changed, key=lambda change: sort_key(change.key))


def _one_per_key(table: Table, data: TableData) -> TableData:
    """The table's rows, one per key (its own): the last row with a key, at the place of the first; duplicates noted."""
    (row_codes,), _ = codes([data], table.own_key)
    rows, repeated = first_and_last(row_codes)
    table.note_duplicates(tuple(keys_at(data, table.own_key, repeated)))
    return kept(data, rows)


def _diff_table(old: Table | None, new: Table | None) -> TableDiff:
    if old is None or new is None:
        only = new or old
        assert only is not None
        key_fields = only.own_key
        rows = _all_rows(_one_per_key(only, _load(only, new is None)), key_fields)
        if old is None:
            return TableDiff(only.name, "added", key_fields, [SchemaChange("table-added", None)], added=rows)
        gone = SchemaChange("table-removed", None, breaking=True)
        return TableDiff(only.name, "removed", key_fields, [gone], removed=rows)
    key_fields = _key_fields(old, new)
    result = TableDiff(new.name, "unchanged", key_fields, schema=_schema_changes(old, new))
    old_data, new_data = _load(old, True), _load(new, False)
    if old_data is new_data:  # the same file read the same way: no row can differ
        _one_per_key(old, old_data)
        new.note_duplicates(old.duplicates)
    else:
        old_data, new_data, old_codes, new_codes, bound = _keyed(old, new, old_data, new_data, key_fields)
        shared = [name for name in new.fields if name in old.fields]  # added or removed fields are schema changes
        matched_old, matched_new, removed, added = match(old_codes, new_codes, bound)
        result.changed = _changed(old_data, new_data, shared, key_fields, (matched_old, matched_new))
        result.added = _rows(new_data, key_fields, added)
        result.removed = _rows(old_data, key_fields, removed)
    if result.schema or result.added or result.removed or result.changed:
        result.status = "changed"
    return result


def _keyed(
    old: Table, new: Table, old_data: TableData, new_data: TableData, key_fields: tuple[str, ...]
) -> tuple[TableData, TableData, np.ndarray, np.ndarray, int]:
    """Both tables one row per key_fields, and each row's key code (equal across the sides for equal keys).

    Each side first keeps one row per key of its own (noting the keys that repeat), then one per
    key_fields: the same step when they are the same fields, as they are unless the key changed.
    """
    if key_fields == old.own_key == new.own_key:
        same_keys = all(old_data.column(f).equals(new_data.column(f)) for f in key_fields)
        if same_keys:  # the common case: no row added, removed or moved
            (old_codes,), bound = codes([old_data], key_fields)
            new_codes = old_codes
        else:
            (old_codes, new_codes), bound = codes([old_data, new_data], key_fields)
        old_rows, old_repeated = first_and_last(old_codes)
        new_rows, new_repeated = (old_rows, old_repeated) if same_keys else first_and_last(new_codes)
        old.note_duplicates(tuple(keys_at(old_data, key_fields, old_repeated)))
        new.note_duplicates(tuple(keys_at(new_data, key_fields, new_repeated)))
        old_codes = old_codes if old_rows is None else old_codes[old_rows]
        new_codes = new_codes if new_rows is None else new_codes[new_rows]
        return kept(old_data, old_rows), kept(new_data, new_rows), old_codes, new_codes, bound
    old_data, new_data = _one_per_key(old, old_data), _one_per_key(new, new_data)
    (old_codes, new_codes), bound = codes([old_data, new_data], key_fields)
    old_rows, _ = first_and_last(old_codes)
    new_rows, _ = first_and_last(new_codes)
    old_codes = old_codes if old_rows is None else old_codes[old_rows]
    new_codes = new_codes if new_rows is None else new_codes[new_rows]
    return kept(old_data, old_rows), kept(new_data, new_rows), old_codes, new_codes, bound


class _ReadError(Exception):
    """A table that could not be read, with where it stands: OLD's tables before NEW's, each in descriptor order."""

    def __init__(self, error: DiffError, rank: tuple[int, int]) -> None:
        super().__init__(str(error))
        self.error, self.rank = error, rank


def _load(table: Table, is_old: bool) -> TableData:
    try:
        return table.load()
    except DiffError as exc:
        raise _ReadError(exc, (0 if is_old else 1, table.position)) from None


def _size(pair: tuple[Table | None, Table | None]) -> int:
    return sum(t.source.size for t in pair if t is not None)


# --- versions ---------------------------------------------------------------------------


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
    """Every difference between OLD and NEW, table by table: NEW's order, then the tables NEW removed.

    Two tables at a time (pyarrow and numpy let go of the GIL), the largest first, each read,
    compared and let go. A table that cannot be read is a DiffError: OLD's first, in its
    descriptor's order, then NEW's, as if each side were read whole before comparing.
    """
    import pyarrow as pa

    names = list(new.tables) + [name for name in old.tables if name not in new.tables]
    pairs = [(old.tables.get(name), new.tables.get(name)) for name in names]

    def compare(pair: tuple[Table | None, Table | None]) -> TableDiff:
        try:
            return _diff_table(*pair)
        finally:
            pa.default_memory_pool().release_unused()

    largest_first = sorted(range(len(pairs)), key=lambda i: -_size(pairs[i]))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {i: pool.submit(compare, pairs[i]) for i in largest_first}
        wait(futures.values())
    errors = [error for error in (f.exception() for f in futures.values()) if error is not None]
    unexpected = [error for error in errors if not isinstance(error, _ReadError)]
    if unexpected:
        raise unexpected[0]
    unreadable = sorted((error for error in errors if isinstance(error, _ReadError)), key=lambda e: e.rank)
    if unreadable:
        raise unreadable[0].error
    tables = [futures[i].result() for i in range(len(pairs))]
    notes = []
    for side, which in ((old, "OLD"), (new, "NEW")):
        for table in side.tables.values():
            if table.duplicates:
                keys = "; ".join(", ".join(k) for k in sorted(set(table.duplicates), key=sort_key))
                notes.append(f"{which} {table.name}: more than one row has the key {keys}; the last one is compared")
    version = check_version(old.version, new.version, [c for t in tables for c in t.schema])
    return DataDiff(old.label, new.label, tables, version, notes)

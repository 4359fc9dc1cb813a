"""What frictionless checks in the data (types, constraints, keys, blank rows), column at a time.

This reproduces frictionless' own row-by-row validation with the same error types, rows,
fields and order, so that the findings are the same; `tests/test_differential.py` holds it
to that against frictionless itself. Values are read as frictionless reads them: the common
forms are checked with vectorized pyarrow kernels, and every other distinct value goes
through Python exactly as frictionless parses it (int(), strptime, re with `^…$`).
Files the fast reader could not take (irregular structure or header) are left to frictionless.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..descriptor import Field, Resource
from ..kernels import SLUG_PATTERN, byte_lengths, is_slug, neighbour_order, null_where
from ..table import Table

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

LIMIT_ERRORS = 1000  # frictionless' default per resource
_INTEGER = r"^[0-9]+$"
# The constraints each type supports, in the order frictionless checks them.
_SUPPORTED = {
    "string": ["required", "minLength", "maxLength", "pattern", "enum"],
    "integer": ["required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"],
    "number": ["required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"],
    "date": ["required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"],
}


@dataclass(frozen=True)
class RawError:
    """One error as frictionless would emit it: its descriptor and where it falls in frictionless' order."""

    row_number: int
    order: int
    descriptor: dict[str, Any]


@dataclass
class Column:
    """A field's cells read as frictionless reads them."""

    missing: np.ndarray  # the cell is a missing value
    type_error: np.ndarray  # the cell is present but not of the field's type
    key: pa.Array  # the typed value written canonically (int as digits, date as ISO), null if absent or bad
    number: np.ndarray | None = None  # integers and dates (as day ordinals), for bounds; None for other types

    @property
    def present(self) -> np.ndarray:
        return ~self.missing & ~self.type_error


def _frictionless_value_reader(field: Field) -> Callable[[str], Any]:
    """frictionless' own reader for a field type we do not read ourselves (imported only then)."""
    from frictionless import Field as FrictionlessField

    raw = {"name": field.name, "type": field.type}
    if field.format:
        raw["format"] = field.format
    return FrictionlessField.from_descriptor(raw).create_value_reader()


def _python_integer(cell: str) -> int | None:
    try:
        return int(cell.strip())  # exactly frictionless: strip, then int() (which takes +42, 1_000, ٤٢)
    except ValueError:
        return None


def _python_date(cell: str) -> Any:
    try:
        return datetime.strptime(cell, "%Y-%m-%d").date()
    except ValueError:
        return None


def _uri_reader() -> Callable[[str], Any]:
    from frictionless.platform import platform

    validator = platform.rfc3986.validators.Validator().require_presence_of("scheme")

    def read(cell: str) -> Any:
        try:
            validator.validate(platform.rfc3986.uri_reference(cell))
        except platform.rfc3986.exceptions.ValidationError:
            return None
        return cell

    return read


def _canonical(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def read_column(field: Field, cells: pa.Array, missing_values: list[str]) -> Column:
    """Type every cell of a column: common forms in bulk, every other distinct value as frictionless would."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if missing_values == [""]:
        missing = byte_lengths(cells) == 0  # the usual case, and far cheaper than is_in
    else:
        missing = pc.is_in(cells, value_set=pa.array(missing_values, pa.string())).to_numpy(zero_copy_only=False)
    kind, fmt = field.type, field.format or "default"
    if kind == "string" and fmt == "default":
        return Column(missing, np.zeros(len(cells), dtype=bool), null_where(cells, missing))
    if kind == "integer":
        fast = pc.and_(pc.match_substring_regex(cells, _INTEGER), pc.less_equal(pc.utf8_length(cells), 18))
        python: Callable[[str], Any] = _python_integer
    else:
        # Dates go through strptime value by value (distinct values only): a pattern cannot know 2001-02-30.
        fast = pa.array(np.zeros(len(cells), dtype=bool))
        if kind == "date" and fmt == "default":
            python = _python_date
        elif kind == "string" and fmt == "uri":
            python = _uri_reader()
        else:
            python = _frictionless_value_reader(field)
    fast_np = fast.to_numpy(zero_copy_only=False) & ~missing
    key_values: list[str | None] = [None] * len(cells)
    numbers = np.zeros(len(cells), dtype=np.int64) if kind in ("integer", "date") else None
    type_error = np.zeros(len(cells), dtype=bool)
    if kind == "integer" and fast_np.any():
        as_int = pc.cast(pc.if_else(fast, cells, pa.scalar(None, pa.string())), pa.int64())
        numbers[fast_np] = as_int.to_numpy(zero_copy_only=False)[fast_np]
    slow = np.flatnonzero(~missing & ~fast_np)
    if len(slow):
        subset = cells.take(pa.array(slow)).to_pylist()
        verdicts: dict[str, Any] = {}
        for i, cell in zip(slow.tolist(), subset, strict=True):
            if cell not in verdicts:
                verdicts[cell] = python(cell)
            value = verdicts[cell]
            if value is None:
                type_error[i] = True
                continue
            key_values[i] = _canonical(value)
            if numbers is not None:
                # an integer beyond 64 bits is clipped: it keeps its order against any bound a schema can give
                numbers[i] = value.toordinal() if hasattr(value, "toordinal") else max(-(2**63), min(value, 2**63 - 1))
    key = pa.array(key_values, pa.string())
    if kind == "integer" and fast_np.any():
        fast_text = pc.cast(pc.cast(pc.if_else(fast, cells, pa.scalar(None, pa.string())), pa.int64()), pa.string())
        key = pc.if_else(fast, fast_text, key)
    return Column(missing, type_error, key, numbers)


def _pattern_ok(pattern: str, cells: pa.Array, candidates: np.ndarray) -> np.ndarray:
    """frictionless' re.match('^pattern$'), with RE2 for the bulk and Python for whatever RE2 rejects."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wrapped = f"^{pattern}$"
    compiled = re.compile(wrapped)
    ok = candidates.copy()
    try:
        if pattern in (SLUG_PATTERN, SLUG_PATTERN[1:-1]):  # the ids' pattern, read off the bytes
            ok &= is_slug(cells)
        else:
            ok &= pc.match_substring_regex(cells, wrapped).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a pattern RE2 cannot run: Python decides all
        ok[:] = False
    doubtful = (candidates & ~ok).nonzero()[0]
    if len(doubtful):
        text = cells.take(pa.array(doubtful)).to_pylist()
        verdicts: dict[str, bool] = {}
        for i, cell in zip(doubtful.tolist(), text, strict=True):
            if cell not in verdicts:
                verdicts[cell] = compiled.match(cell) is not None
            ok[i] = verdicts[cell]
    return ok


def constraint_failures(field: Field, column: Column, cells: pa.Array) -> list[tuple[str, np.ndarray]]:
    """(constraint, rows that break it) in frictionless' order; cells with a type error are not checked."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    failures = []
    present = column.present
    for name in _SUPPORTED.get(field.type, ["required", "enum"]):
        constraint = field.constraints.get(name)
        if constraint is None:
            continue
        if name == "required":
            bad = column.missing if constraint else np.zeros(len(present), dtype=bool)
        elif name in ("minLength", "maxLength"):
            lengths = pc.utf8_length(cells).to_numpy(zero_copy_only=False)
            bad = present & ((lengths < constraint) if name == "minLength" else (lengths > constraint))
        elif name == "pattern":
            bad = present & ~_pattern_ok(constraint, cells, present)
        elif name == "enum":
            allowed = [_canonical(v) for v in _read_constraint_values(field, constraint) if v is not None]
            inside = pc.is_in(column.key, value_set=pa.array(allowed, pa.string())).to_numpy(zero_copy_only=False)
            bad = present & ~inside
        else:
            (limit,) = _read_constraint_values(field, [constraint])
            if column.number is None or limit is None:
                continue
            limit = limit.toordinal() if hasattr(limit, "toordinal") else limit
            number = column.number
            bad = (
                present
                & {
                    "minimum": number < limit,
                    "maximum": number > limit,
                    "exclusiveMinimum": number <= limit,
                    "exclusiveMaximum": number >= limit,
                }[name]
            )
        failures.append((name, bad))
    return failures


def _read_constraint_values(field: Field, values: list[Any]) -> list[Any]:
    """Constraint values are read with the field's type, as frictionless does."""
    if field.type == "integer":
        return [v if isinstance(v, int) else _python_integer(str(v)) for v in values]
    if field.type == "date":
        return [_python_date(v) if isinstance(v, str) else v for v in values]
    return list(values)


def key_array(columns: list[Column]) -> pa.Array:
    """One text per row for a (possibly composite) key; null when every part is absent."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(columns) == 1:
        return columns[0].key
    parts = [c.key for c in columns]
    joined = pc.binary_join_element_wise(*parts, "\x1f", null_handling="replace", null_replacement="\x00")
    all_null = parts[0].is_null()
    for part in parts[1:]:
        all_null = pc.and_(all_null, part.is_null())
    return pc.if_else(all_null, pa.scalar(None, pa.string()), joined)


def strictly_ascending(columns: list[Column]) -> bool:
    """Whether every row's key (the columns in order) is present and greater than the row before's.

    Canonical tables are sorted by their primary key, so this settles uniqueness for them by
    comparing neighbours, with no hash table; any other table goes the general way.
    """
    if any(column.key.null_count for column in columns):
        return False
    if not columns or len(columns[0].key) < 2:
        return True
    key = [column.number if column.number is not None else column.key for column in columns]
    return bool((neighbour_order(key) > 0).all())


def _repeats(keys: pa.Array) -> list[tuple[int, int]]:
    """(row, the latest earlier row with the same key) for every repeat, in row order, as frictionless finds them."""
    import numpy as np
    import pyarrow.compute as pc

    present = keys.drop_null()
    if len(pc.unique(present)) == len(present):
        return []  # the common case: no key repeats
    encoded = pc.dictionary_encode(keys)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    rows = np.flatnonzero(codes >= 0)
    order = rows[np.argsort(codes[rows], kind="stable")]
    same = codes[order][1:] == codes[order][:-1]
    return sorted(zip(order[1:][same].tolist(), order[:-1][same].tolist(), strict=True))


def typed_columns(resource: Resource, table: Table, missing_values: list[str]) -> dict[str, Column]:
    return {
        f.name: read_column(f, table.columns[f.name], missing_values)
        for f in resource.fields
        if f.name in table.columns
    }


def check_resource(
    resource: Resource,
    table: Table,
    columns: dict[str, Column],
    lookups: dict[tuple[str, tuple[str, ...]], pa.Array | None],
) -> list[RawError]:
    """Every error frictionless would report for this resource's rows, in its order, capped at its limit."""
    import numpy as np
    import pyarrow.compute as pc

    errors: list[RawError] = []
    numbers = table.row_numbers

    def first(mask: np.ndarray) -> list[int]:
        # Rows ascend with their numbers, so no source can place more than the limit in the report.
        return np.flatnonzero(mask)[:LIMIT_ERRORS].tolist()

    def add(i: int, order: int, kind: str, **details: Any) -> None:
        number = int(numbers[i])
        errors.append(RawError(number, order, {"type": kind, "rowNumber": number, **details}))

    blank = np.ones(table.num_rows, dtype=bool)
    for f in resource.fields:
        blank &= columns[f.name].missing
    for position, f in enumerate(resource.fields):
        column, cells = columns[f.name], table.columns[f.name]
        where = {"fieldName": f.name, "fieldNumber": position + 1}
        for i in first(column.type_error & ~blank):
            add(
                i,
                position * 100,
                "type-error",
                cell=cells[i].as_py(),
                note=f'type is "{f.type}/{f.format or "default"}"',
                **where,
            )
        for order, (name, bad) in enumerate(constraint_failures(f, column, cells), 1):
            for i in first(bad & ~blank):
                add(
                    i,
                    position * 100 + order,
                    "constraint-error",
                    cell=cells[i].as_py(),
                    note=f'constraint "{name}" is "{f.constraints[name]}"',
                    **where,
                )
    # A row with a cell too few or too many: after its cell errors, one error per extra or missing cell.
    width = len(resource.fields)
    for i, count in sorted(table.cell_counts.items())[:LIMIT_ERRORS]:
        if blank[i]:
            continue
        for number, extra in enumerate(table.extra_cells.get(i, []), width + 1):
            add(i, 100 * width + number, "extra-cell", cell=extra, fieldName="", fieldNumber=number, note="")
        for number in range(count + 1, width + 1):
            f = resource.fields[number - 1]
            add(i, 100 * width + number, "missing-cell", cell="", fieldName=f.name, fieldNumber=number, note="")
    # A row of empty cells is one blank-row error (frictionless drops its cell errors); so is an empty line.
    for i in first(blank):
        add(i, 0, "blank-row", note="")
    empty_lines = table.blank_row_numbers[:LIMIT_ERRORS]
    errors.extend(RawError(n, 0, {"type": "blank-row", "rowNumber": n, "note": ""}) for n in empty_lines)
    # Then, within a row: unique fields, the primary key, the foreign keys.
    base = 100 * (len(resource.fields) + 1)
    for position, f in enumerate(resource.fields):
        if f.unique:
            repeats = [] if strictly_ascending([columns[f.name]]) else _repeats(columns[f.name].key)
            for row, earlier in repeats[:LIMIT_ERRORS]:
                add(
                    row,
                    base + position,
                    "unique-error",
                    cell=columns[f.name].key[row].as_py(),
                    fieldName=f.name,
                    fieldNumber=position + 1,
                    note=f"the same as in the row at position {int(numbers[earlier])}",
                )
    if resource.primary_key and all(name in columns for name in resource.primary_key):
        all_none = 'cells composing the primary keys are all "None"'
        key_columns = [columns[name] for name in resource.primary_key]
        if not strictly_ascending(key_columns):  # otherwise no key is absent and none repeats
            keys = key_array(key_columns)
            for i in first(keys.is_null().to_numpy(zero_copy_only=False)):
                add(i, 2 * base, "primary-key", note=all_none)
            for row, earlier in _repeats(keys)[:LIMIT_ERRORS]:
                add(row, 2 * base, "primary-key", note=f"the same as in the row at position {int(numbers[earlier])}")
        errors.extend(
            RawError(n, 2 * base, {"type": "primary-key", "rowNumber": n, "note": all_none}) for n in empty_lines
        )
    for order, fk in enumerate(resource.foreign_keys):
        lookup = lookups.get((fk.resource, fk.reference_fields))
        if lookup is None or not all(name in columns for name in fk.fields):
            continue
        keys = key_array([columns[name] for name in fk.fields])
        absent = ~pc.is_in(keys, value_set=lookup).to_numpy(zero_copy_only=False)
        absent &= ~keys.is_null().to_numpy(zero_copy_only=False)
        for i in first(absent):
            values = [str(columns[name].key[i].as_py()) for name in fk.fields]
            add(
                i,
                3 * base + order,
                "foreign-key",
                fieldNames=list(fk.fields),
                fieldCells=values,
                referenceName=fk.resource,
                referenceFieldNames=list(fk.reference_fields),
                note=f'for "{", ".join(fk.fields)}": values "{", ".join(values)}" not found'
                f' in the lookup table "{fk.resource}" as "{", ".join(fk.reference_fields)}"',
            )
    errors.sort(key=lambda e: (e.row_number, e.order))
    if len(errors) > LIMIT_ERRORS:
        # Where the limit cuts a row, which of its errors survive depends on frictionless' order within it.
        boundary = errors[LIMIT_ERRORS - 1].row_number
        head = [e for e in errors if e.row_number < boundary]
        row = frictionless_row_order(resource, [e for e in errors if e.row_number == boundary])
        errors = (head + row)[:LIMIT_ERRORS]
    return errors


def frictionless_row_order(resource: Resource, errors: list[RawError]) -> list[RawError]:
    """One row's errors in the order frictionless appends them.

    frictionless reads a row's cells lazily: the unique fields first, then the primary key's,
    then the foreign keys'; a key error makes it read the whole row before the error is added;
    the rest of the row is read last. Cell errors follow the reading order.
    """
    cell_errors: dict[str, list[RawError]] = {}
    keyed: dict[tuple[str, str], RawError] = {}
    blank = [e for e in errors if e.descriptor["type"] == "blank-row"]
    structure = [e for e in errors if e.descriptor["type"] in ("extra-cell", "missing-cell")]
    for e in errors:
        kind = e.descriptor["type"]
        if kind in ("type-error", "constraint-error"):
            cell_errors.setdefault(e.descriptor["fieldName"], []).append(e)
        elif kind == "unique-error":
            keyed[("unique", e.descriptor["fieldName"])] = e
        elif kind == "primary-key":
            keyed[("primary", "")] = e
        elif kind == "foreign-key":
            keyed[("foreign", ",".join(e.descriptor["fieldNames"]))] = e
    out: list[RawError] = []
    done: set[str] = set()
    whole = False

    def read(name: str) -> None:
        if not whole and name not in done:
            done.add(name)
            out.extend(cell_errors.get(name, []))

    def read_all() -> None:
        nonlocal whole, out
        if whole:
            return
        for f in resource.fields:
            read(f.name)
        out.extend(structure)  # extra cells, then missing ones, after the whole row is read
        whole = True
        if blank:
            out = list(blank)  # a blank row's errors are replaced by the one blank-row error

    for f in resource.fields:
        if f.unique:
            read(f.name)
            if ("unique", f.name) in keyed:
                read_all()
                out.append(keyed[("unique", f.name)])
    for name in resource.primary_key:
        read(name)
    if ("primary", "") in keyed:
        read_all()
        out.append(keyed[("primary", "")])
    for fk in resource.foreign_keys:
        for name in fk.fields:
            read(name)
        if ("foreign", ",".join(fk.fields)) in keyed:
            read_all()
            out.append(keyed[("foreign", ",".join(fk.fields))])
    read_all()
    return out


def lookup_keys(columns: dict[str, Column], fields: tuple[str, ...]) -> pa.Array | None:
    """The distinct key texts of a referenced table, as frictionless' lookup holds them (rows all None left out)."""
    import pyarrow.compute as pc

    if not all(name in columns for name in fields):
        return None
    key_columns = [columns[name] for name in fields]
    if strictly_ascending(key_columns):
        return key_array(key_columns)  # already distinct, and none absent
    return pc.unique(key_array(key_columns).drop_null())

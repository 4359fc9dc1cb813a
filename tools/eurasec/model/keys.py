"""Primary-key order, defined once: an integer field by its value, every other field by its text's code points.

fmt sorts rows with `row_key`; validate checks the order and build sorts the typed tables with
`key_columns`. (diff orders the keys it reports by their look, since a key's type may differ
between the two versions it compares.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .descriptor import Resource

if TYPE_CHECKING:
    import pyarrow as pa

INTEGER_TEXT = r"^-?[0-9]{1,18}$"  # an integer key as validate accepts it, and int64 holds it


def by_value(resource: Resource, name: str) -> bool:
    """Whether a key field orders by value (an integer) rather than by its text."""
    return resource.field(name).type == "integer"


def row_key(resource: Resource, values: Mapping[str, str]) -> tuple[Any, ...] | None:
    """A row's primary key as a sortable tuple; None when a cell cannot be typed (another check says why)."""
    key: list[Any] = []
    for name in resource.primary_key:
        value = values.get(name, "")
        if by_value(resource, name):
            try:
                key.append((0, int(value)))
            except ValueError:
                return None
        else:
            key.append((1, value))
    return tuple(key)


def key_columns(resource: Resource, column: Callable[[str], Any]) -> list[pa.Array] | None:
    """The key's columns as Arrow sorts them in this order: text as text (an enum's dictionary by its
    text, not its index), integers as int64; None when an integer key's text is not an integer."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for name in resource.primary_key:
        values = column(name)
        if pa.types.is_dictionary(values.type):
            values = values.cast(pa.string())
        if by_value(resource, name) and (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            # Arrow's cast reads exactly INTEGER_TEXT's digits (a sign, no spaces, no "+"), up to int64's 19:
            # one pass instead of a regex per cell, then the 18 digits INTEGER_TEXT allows.
            try:
                typed = pc.cast(values, pa.int64())
            except (pa.ArrowInvalid, ValueError):
                return None
            digits = pc.subtract(pc.binary_length(values), pc.cast(pc.starts_with(values, "-"), pa.int32()))
            if pc.any(pc.greater(digits, 18)).as_py():
                return None
            values = typed
        columns.append(values)
    return columns

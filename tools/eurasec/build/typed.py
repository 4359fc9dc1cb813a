"""Validated text columns as a typed Arrow table, sorted by primary key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.descriptor import Field, Resource
from ..model.keys import key_columns
from ..model.schema import arrow_schema
from ..read.kernels import byte_lengths, null_where

if TYPE_CHECKING:
    import pyarrow as pa

TRUE_VALUES = ("true", "True", "TRUE", "1")  # frictionless' defaults; validation has ruled out anything else


def _convert(column: pa.ChunkedArray, field: Field, target: pa.DataType) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if field.enum:
        dictionary = pa.array(field.enum, pa.string())
        indices = pc.index_in(column, value_set=dictionary).cast(pa.int32())
        return pa.chunked_array([pa.DictionaryArray.from_arrays(indices.combine_chunks(), dictionary)])
    if field.type == "boolean":
        truth = pc.is_in(column, value_set=pa.array(TRUE_VALUES))
        return pc.if_else(pc.is_null(column), pa.scalar(None, pa.bool_()), truth)
    if field.type == "string":
        return column
    return pc.cast(column, target)


def typed_from_text(resource: Resource, columns: dict[str, pa.Array]) -> pa.Table:
    """The text columns validation read, typed from the schema and sorted: no second read of the file."""
    import pyarrow as pa

    from ..checks.canonical import first_unsorted

    schema = arrow_schema(resource)
    typed = []
    for f in resource.fields:
        text = null_where(columns[f.name], byte_lengths(columns[f.name]) == 0)  # shares the text's buffers
        typed.append(_convert(pa.chunked_array([text]), f, schema.field(f.name).type))
    table = pa.Table.from_arrays(typed, schema=schema)
    if resource.primary_key and first_unsorted(resource, columns) is None:
        return table  # validated rows are sorted already (unsorted rows are an error): no copy in a new order
    return sort_by_primary_key(table, resource)


def sort_by_primary_key(table: pa.Table, resource: Resource) -> pa.Table:
    """Rows in primary-key order (model/keys.py: text by code point, enums by their text, integers by value)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not resource.primary_key:
        return table
    key = key_columns(resource, table.column)
    assert key is not None  # typed integer columns need no parsing
    names = list(resource.primary_key)
    order = pc.sort_indices(pa.table(dict(zip(names, key, strict=True))), sort_keys=[(n, "ascending") for n in names])
    return table.take(order)

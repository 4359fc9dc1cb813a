"""Rows keyed and matched with Arrow and numpy: each row's key as one integer, the same on both sides.

A key column of both sides is dictionary-encoded in one pass (one hash table for the two), so that
equal texts get equal codes; a composite key's codes are combined into one int64 per row. From
there all is numpy: which keys repeat on a side (the last row with a key is kept, at the place of
the first, as a dict built row by row keeps it), and which rows of OLD and NEW share a key.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from .sides import Key, TableData

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

_COMBINED_LIMIT = 1 << 62  # combined codes stay under this: they are renumbered before they would not


def codes(tables: list[TableData], key_fields: tuple[str, ...]) -> tuple[list[np.ndarray], int]:
    """One int64 per row of each table, equal for two rows (of any of the tables) exactly when their keys are;
    and a bound on them: every code is under it, and it is at most 4 times the rows of all tables (or 1)."""
    import numpy as np

    total = sum(t.num_rows for t in tables)
    combined = [np.zeros(t.num_rows, dtype=np.int64) for t in tables]
    bound = 1
    for name in key_fields:
        column_codes, size = _encode([t.column(name) for t in tables])
        size = max(size, 1)
        if bound * size >= _COMBINED_LIMIT:
            combined, bound = _renumber(combined)
        combined = [c * size + k for c, k in zip(combined, column_codes, strict=True)]
        bound *= size
    if bound > max(4 * total, 1):
        combined, bound = _renumber(combined)
    return combined, bound


def _split(values: np.ndarray, parts: list[int]) -> list[np.ndarray]:
    import numpy as np

    bounds = np.cumsum([0, *parts])
    return [values[a:b] for a, b in itertools.pairwise(bounds)]


def _encode(columns: list[pa.Array]) -> tuple[list[np.ndarray], int]:
    """Each column's dictionary codes, from one dictionary for all of them; and its size."""
    import numpy as np
    import pyarrow as pa

    encoded = pa.chunked_array(columns, type=pa.string()).dictionary_encode()
    chunks = encoded.chunks
    if len(chunks) == len(columns) and len({len(chunk.dictionary) for chunk in chunks}) == 1:
        # one hash table for all: every chunk holds the same, whole dictionary
        return [c.indices.to_numpy(zero_copy_only=False).astype(np.int64) for c in chunks], len(chunks[0].dictionary)
    whole = pa.concat_arrays(columns).dictionary_encode()
    indices = whole.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return _split(indices, [len(c) for c in columns]), len(whole.dictionary)


def _renumber(combined: list[np.ndarray]) -> tuple[list[np.ndarray], int]:
    """The same equalities with small numbers: 0 up to the count of distinct values."""
    import numpy as np
    import pyarrow as pa

    encoded = pa.array(np.concatenate(combined), type=pa.int64()).dictionary_encode()
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return _split(indices, [len(c) for c in combined]), max(len(encoded.dictionary), 1)


def first_and_last(row_codes: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """(the rows to keep, or None when every key is unique; the first row of each key that repeats).

    The rows kept are, for each key, its last row, in the order of each key's first row.
    """
    import numpy as np

    n = len(row_codes)
    if n < 2 or int(np.bincount(row_codes).max()) < 2:  # codes are small (see codes): a count per code is cheap
        return None, np.zeros(0, dtype=np.int64)
    order = np.argsort(row_codes, kind="stable")
    ordered = row_codes[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    if len(starts) == n:
        return None, np.zeros(0, dtype=np.int64)
    ends = np.concatenate((starts[1:], [n])) - 1
    first, last = order[starts], order[ends]
    repeated = np.sort(first[ends > starts])
    return last[np.argsort(first, kind="stable")], repeated


def kept(data: TableData, rows: np.ndarray | None) -> TableData:
    """The table with only those rows, in that order (all of them for None)."""
    import pyarrow as pa

    if rows is None:
        return data
    indices = pa.array(rows)
    return TableData(len(rows), {name: column.take(indices) for name, column in data.columns.items()})


def keys_at(data: TableData, key_fields: tuple[str, ...], rows: np.ndarray) -> list[Key]:
    """The keys of some rows, as tuples of text."""
    import pyarrow as pa

    if not len(rows):
        return []
    indices = pa.array(rows)
    columns = [data.column(name).take(indices).to_pylist() for name in key_fields]
    if not columns:
        return [() for _ in range(len(rows))]
    return list(zip(*columns, strict=True))


def duplicates(data: TableData, key_fields: tuple[str, ...]) -> tuple[Key, ...]:
    """The keys that more than one row of the table has."""
    (row_codes,), _ = codes([data], key_fields)
    _, repeated = first_and_last(row_codes)
    return tuple(keys_at(data, key_fields, repeated))


def match(old_codes: np.ndarray, new_codes: np.ndarray, bound: int) -> tuple[np.ndarray, ...]:
    """(matched OLD rows, the NEW rows they match, removed OLD rows, added NEW rows), by codes unique on each side
    and under bound."""
    import numpy as np

    if len(old_codes) == len(new_codes) and np.array_equal(old_codes, new_codes):  # row i is row i
        every = np.arange(len(new_codes), dtype=np.int64)
        none = np.zeros(0, dtype=np.int64)
        return every, every, none, none
    where_old = np.full(bound, -1, dtype=np.int64)
    where_old[old_codes] = np.arange(len(old_codes), dtype=np.int64)
    position = where_old[new_codes]
    matched_new = np.flatnonzero(position >= 0)
    matched_old = position[matched_new]
    seen = np.zeros(len(old_codes), dtype=bool)
    seen[matched_old] = True
    return matched_old, matched_new, np.flatnonzero(~seen), np.flatnonzero(position < 0)

"""Column kernels that read Arrow string buffers with numpy: cheaper than a regex per cell.

Each takes a string array and returns one numpy value per cell. Where an array is not a plain
string array without nulls (a slice of a chunked column, say), they fall back to pyarrow compute.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
ASCII_WHITE_BYTES = b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
HYPHEN = 0x2D


def _plain(cells: pa.Array) -> bool:
    import pyarrow as pa

    return pa.types.is_string(cells.type) and cells.null_count == 0 and len(cells) > 0


def _buffers(cells: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets of the cells, and the bytes they index."""
    import numpy as np

    _, offsets, data = cells.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int32)[cells.offset : cells.offset + len(cells) + 1]
    return offsets, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8))


def byte_lengths(cells: pa.Array) -> np.ndarray:
    """Each cell's length in UTF-8 bytes, read off the offsets: no kernel call, no bitmap to unpack."""
    import numpy as np
    import pyarrow.compute as pc

    if _plain(cells):
        return np.diff(_buffers(cells)[0])
    return pc.binary_length(cells).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int32)


def _lookup(table: bytes, default: bool = False) -> np.ndarray:
    import numpy as np

    lut = np.full(256, default, dtype=bool)
    lut[list(table)] = not default
    return lut


def odd_ends(cells: pa.Array, first_bytes: bytes, last_bytes: bytes) -> np.ndarray:
    """Cells whose first byte is one of first_bytes or whose last is one of last_bytes, or either is not
    ASCII (it may belong to a character the caller must look at in full). Empty cells are not odd."""
    import numpy as np
    import pyarrow.compute as pc

    if not _plain(cells):
        first = pc.utf8_slice_codeunits(cells, 0, 1)
        last = pc.utf8_slice_codeunits(cells, -1)
        return _byte_in(first, first_bytes) | _byte_in(last, last_bytes)
    offsets, data = _buffers(cells)
    result = np.zeros(len(cells), dtype=bool)
    nonempty = offsets[1:] > offsets[:-1]
    if not nonempty.any():
        return result
    odd_first, odd_last = _lookup(first_bytes), _lookup(last_bytes)
    odd_first[0x80:] = odd_last[0x80:] = True
    result[nonempty] = odd_first[data[offsets[:-1][nonempty]]] | odd_last[data[offsets[1:][nonempty] - 1]]
    return result


def _byte_in(cells: pa.Array, choices: bytes) -> np.ndarray:
    """Cells of at most one character that are one of the given ASCII bytes or not ASCII (slow path of odd_ends)."""
    import numpy as np

    values = cells.to_pylist()
    return np.array([bool(v) and (v.encode("utf-8")[0] in choices or ord(v[0]) > 0x7F) for v in values], dtype=bool)


_COMPUTING = threading.local()  # how many memo answers this thread is computing, one inside another


class _Memo:
    """Answers kept while the arrays they are about live (arrays are immutable), each computed once: a thread
    that asks while another computes the same answer waits for it. The entry goes when an array does.

    No wait can close a cycle: only a thread that computes nothing waits; an answer asked inside another
    computation (is_slug_found asks is_slug and positions_in; a field that references itself asks for its
    own array again) is computed there, never waited for. And the entry is dropped without a lock: the
    weakref callback runs in whatever thread frees the array, and the cyclic garbage collector can free one
    inside `with self._lock` (taking the lock there hung the test suite).
    """

    def __init__(self) -> None:
        self._answers: dict[tuple[int, ...], tuple[tuple[weakref.ref[Any], ...], np.ndarray]] = {}
        self._computing: dict[tuple[int, ...], threading.Lock] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._answers)

    def _known(self, key: tuple[int, ...], arrays: tuple[Any, ...]) -> np.ndarray | None:
        entry = self._answers.get(key)
        if entry is None or any(ref() is not array for ref, array in zip(entry[0], arrays, strict=True)):
            return None
        return entry[1]

    def get(self, arrays: tuple[Any, ...], compute: Callable[[], np.ndarray]) -> np.ndarray:
        key = tuple(id(a) for a in arrays)
        nested = getattr(_COMPUTING, "depth", 0) > 0
        with self._lock:
            found = self._known(key, arrays)
            if found is not None:
                return found
            computing = None if nested else self._computing.setdefault(key, threading.Lock())
        if computing is None:
            return self._compute(key, arrays, compute)
        with computing:
            with self._lock:
                found = self._known(key, arrays)
            if found is None:
                found = self._compute(key, arrays, compute)
        with self._lock:
            self._computing.pop(key, None)
        return found

    def _compute(self, key: tuple[int, ...], arrays: tuple[Any, ...], compute: Callable[[], np.ndarray]) -> np.ndarray:
        _COMPUTING.depth = getattr(_COMPUTING, "depth", 0) + 1
        try:
            found = compute()
        finally:
            _COMPUTING.depth -= 1
        found.flags.writeable = False  # shared: a caller must not change it

        def forget(_: weakref.ref[Any]) -> None:
            # dict.pop is atomic under the GIL; at worst it drops a newer entry whose key reuses a freed
            # array's id, which costs a recomputation, never a wrong answer (_known checks identity)
            self._answers.pop(key, None)

        refs = tuple(weakref.ref(a, forget) for a in arrays)
        with self._lock:
            self._answers[key] = (refs, found)
        return found


def _remembered(kernel: Callable[[pa.Array], np.ndarray]) -> Callable[..., np.ndarray]:
    """The kernel's answer for an array is kept while the array lives (_Memo): two checks asking about the
    same column (frictionless' pattern and the project's hygiene both ask which ids are slugs) share it."""
    memo = _Memo()

    @functools.wraps(kernel)
    def remembered(cells: pa.Array, *, otherwise: Callable[[], np.ndarray] | None = None) -> np.ndarray:
        """otherwise: another way to the same answer, cheaper where the caller knows more (see is_slug_found)."""
        return memo.get((cells,), otherwise or (lambda: kernel(cells)))

    remembered.remembered_count = lambda: len(memo)  # type: ignore[attr-defined]  # for the tests
    return remembered


@_remembered
def is_slug(cells: pa.Array) -> np.ndarray:
    """Cells that match SLUG_PATTERN: lowercase ASCII letters and digits in runs joined by single hyphens."""
    import numpy as np
    import pyarrow.compute as pc

    if not _plain(cells):
        return pc.match_substring_regex(cells, SLUG_PATTERN).fill_null(False).to_numpy(zero_copy_only=False)
    offsets, data = _buffers(cells)
    begin, end = int(offsets[0]), int(offsets[-1])
    result = offsets[1:] > offsets[:-1]  # an empty cell is not a slug
    body = data[begin:end]
    allowed = _lookup(b"abcdefghijklmnopqrstuvwxyz0123456789-")
    bad = np.flatnonzero(~allowed[body])
    hyphens = body == HYPHEN
    doubled = np.flatnonzero(hyphens[:-1] & hyphens[1:])  # a cell's last hyphen and the next cell's first
    # are caught at the cells' ends below, so a doubled hyphen across a boundary is never missed
    result[np.searchsorted(offsets, np.concatenate((bad, doubled)) + begin, side="right") - 1] = False
    nonempty = np.flatnonzero(result)
    if len(nonempty):
        ends = data[offsets[:-1][nonempty]] == HYPHEN
        ends |= data[offsets[1:][nonempty] - 1] == HYPHEN
        result[nonempty[ends]] = False
    return result


def is_slug_found(cells: pa.Array, values: pa.Array) -> np.ndarray:
    """is_slug(cells) for a foreign key's cells and the referenced key `values`: a cell found among the values
    (positions_in, which the foreign-key check asks too) is a slug exactly when the value it equals is, and
    only the cells not found are read. Remembered as is_slug's answer for the cells."""
    import numpy as np
    import pyarrow as pa

    def through_values() -> np.ndarray:
        positions = positions_in(cells, values)
        found = positions >= 0
        result = np.zeros(len(cells), dtype=bool)
        result[found] = is_slug(values)[positions[found]]
        rest = np.flatnonzero(~found)
        if len(rest):
            result[rest] = is_slug(cells.take(pa.array(rest)))
        return result

    return is_slug(cells, otherwise=through_values)


def null_where(cells: pa.Array, missing: np.ndarray) -> pa.Array:
    """The cells with the missing ones made null. Without a copy of the text when it can: on a million
    rows a copy of every string column costs a quarter of a second and a few hundred MB."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not missing.any():
        return cells
    if cells.offset == 0 and cells.null_count == 0 and pa.types.is_string(cells.type):
        validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
        _, offsets, data = cells.buffers()
        return pa.Array.from_buffers(cells.type, len(cells), [validity, offsets, data], int(missing.sum()))
    return pc.if_else(pa.array(missing), pa.scalar(None, cells.type), cells)


def neighbour_order(key: list[pa.Array | np.ndarray]) -> np.ndarray:
    """For each row after the first, 1 if its key (the columns in order) is greater than the previous
    row's, -1 if smaller, 0 if equal. Text compares by code point (as its UTF-8 bytes do), numbers by
    value: linear, with no sort. Arrow columns must have no nulls."""
    import numpy as np

    order = np.zeros(max(len(key[0]) - 1, 0), dtype=np.int8) if key else np.zeros(0, dtype=np.int8)
    for column in reversed(key):  # the first column decides; later ones break its ties
        if len(column) < 2:
            break
        if isinstance(column, np.ndarray):
            step = np.sign(np.diff(column)).astype(np.int8)
        else:
            step = _text_steps(column)
        order = np.where(step != 0, step, order)
    return order


@_remembered
def _text_steps(column: pa.Array) -> np.ndarray:
    """neighbour_order of one Arrow column: the data checks (is the key unique?) and the canonical check (is the
    table sorted?) both ask it of a table's key."""
    import numpy as np
    import pyarrow.compute as pc

    before, after = column.slice(0, len(column) - 1), column.slice(1)
    step = pc.greater(after, before).to_numpy(zero_copy_only=False).astype(np.int8)
    step -= pc.less(after, before).to_numpy(zero_copy_only=False).astype(np.int8)
    return step


def dictionary_codes(cells: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Each cell's index (int64) among the column's distinct values, and those values."""
    import numpy as np
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(cells)
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary


VIEW_INLINE = 12  # bytes: an Arrow string view holds a value this short inside itself


def slices_equal(data: bytes, starts: np.ndarray, ends: np.ndarray, values: pa.Array) -> np.ndarray:
    """Whether data[starts[i]:ends[i]] (byte offsets, valid UTF-8 boundaries) equals values[i], for every i.

    No Python code runs per value: the slices become an Arrow string-view array that points into
    `data` (no copy of the slices), compared with the values in one kernel call. A null value is equal
    to nothing.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    count = len(starts)
    if count == 0:
        return np.zeros(0, dtype=bool)
    if len(data) >= 2**31 - 1:  # a view's offset is an int32: compare in slices of Python instead
        cells = values.to_pylist()
        return np.array(
            [v is not None and data[a:b] == v.encode("utf-8") for a, b, v in zip(starts, ends, cells, strict=True)],
            dtype=bool,
        )
    raw = np.frombuffer(data, dtype=np.uint8)
    padded = np.concatenate([raw, np.zeros(VIEW_INLINE, dtype=np.uint8)])  # inline reads may run past the end
    starts = starts.astype(np.int64)
    lengths = (ends - starts).astype(np.int64)

    def word(at: np.ndarray, length: np.ndarray, first: int) -> np.ndarray:
        """The 4 bytes from at + first, little-endian, those at or past `length` zero."""
        value = np.zeros(len(at), dtype=np.uint32)
        for k in range(4):
            byte = padded[at + first + k].astype(np.uint32)
            byte[length <= first + k] = 0
            value |= byte << np.uint32(8 * k)
        return value

    # A view is 4 int32s: the length, then the value itself (12 bytes at most, zero-padded), or else its
    # first 4 bytes, the buffer (0) and the offset into it.
    views = np.zeros((count, 4), dtype="<u4")
    views[:, 0] = lengths
    views[:, 1] = word(starts, lengths, 0)
    views[:, 3] = starts
    short = np.flatnonzero(lengths <= VIEW_INLINE)
    if len(short):
        views[short, 2] = word(starts[short], lengths[short], 4)
        views[short, 3] = word(starts[short], lengths[short], 8)
    sliced = pa.Array.from_buffers(pa.string_view(), count, [None, pa.py_buffer(views), pa.py_buffer(data)])
    equal = pc.equal(sliced, values.cast(pa.string_view()))
    return pc.fill_null(equal, False).to_numpy(zero_copy_only=False)


def is_digits(cells: pa.Array, most: int) -> np.ndarray:
    """Cells of 1 to `most` characters, every one of them an ASCII digit 0-9 (a null cell is not)."""
    import numpy as np
    import pyarrow.compute as pc

    if not _plain(cells):
        found = pc.match_substring_regex(cells, f"^[0-9]{{1,{most}}}$")
        return pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    offsets, data = _buffers(cells)
    lengths = np.diff(offsets)
    other = np.zeros(len(data) + 1, dtype=np.int64)  # bytes that are not a digit, before each byte
    np.cumsum((data < 0x30) | (data > 0x39), out=other[1:])
    return (lengths >= 1) & (lengths <= most) & (other[offsets[1:]] == other[offsets[:-1]])


@_remembered
def is_int64_digits(cells: pa.Array) -> np.ndarray:
    """Cells of 1 to 18 ASCII digits: integers that an int64 holds, cast in bulk (the data checks and the
    quote check both ask it of the offsets)."""
    return is_digits(cells, 18)


_POSITIONS = _Memo()


def positions_in(cells: pa.Array, values: pa.Array) -> np.ndarray:
    """int64: each cell's first index among `values`, -1 where it is none of them or null.

    Kept while both arrays live (_Memo): the data checks' foreign keys and the project's checks of what
    cites an entity ask it of the same columns, and the hash pass is done once.
    """
    import numpy as np
    import pyarrow.compute as pc

    def compute() -> np.ndarray:
        found = pc.fill_null(pc.index_in(cells, value_set=values), -1).to_numpy(zero_copy_only=False)
        return found.astype(np.int64)

    return _POSITIONS.get((cells, values), compute)


@_remembered
def is_plain_integer(cells: pa.Array) -> np.ndarray:
    """Cells of 1 to 18 ASCII digits with no leading zero: an integer written canonically, as an int64 holds it
    (a lone "0" is left to the caller's pattern, as every other cell is). The hygiene and value checks ask it."""
    import pyarrow.compute as pc

    zero = pc.fill_null(pc.starts_with(cells, "0"), False).to_numpy(zero_copy_only=False)
    return is_int64_digits(cells) & ~zero

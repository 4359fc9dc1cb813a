"""The byte-level column kernels agree with the plain Python rules they stand for, on random text."""

from __future__ import annotations

import itertools
import random
import re

import numpy as np
import pyarrow as pa
import pytest

from eurasec.model import utf8
from eurasec.model.utf8 import code_point_starts
from eurasec.read.kernels import SLUG_PATTERN, byte_lengths, is_digits, is_slug, odd_ends, positions_in, slices_equal

ALPHABET = "ab-9Z -é\n="


def random_columns(seed: int):
    rng = random.Random(seed)
    for _ in range(300):
        values = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 6))) for _ in range(rng.randint(1, 30))]
        column = pa.array(values)
        yield column
        yield column.slice(rng.randint(0, len(values) - 1))  # a slice has an offset into the buffers


@pytest.mark.parametrize("seed", range(3))
def test_is_slug_agrees_with_the_regex(seed: int):
    for column in random_columns(seed):
        # RE2's (and the kernel's) "$" is the end of the text; Python's also takes a trailing newline
        expected = [re.fullmatch(SLUG_PATTERN[1:-1], v) is not None for v in column.to_pylist()]
        assert is_slug(column).tolist() == expected, column.to_pylist()


@pytest.mark.parametrize("seed", range(3))
def test_odd_ends_flags_every_cell_with_an_odd_first_or_last_character(seed: int):
    for column in random_columns(seed):
        expected = [
            bool(v) and (v[0] in "=+-@ \n" or v[-1] in " \n" or not v[0].isascii() or not v[-1].isascii())
            for v in column.to_pylist()
        ]
        assert odd_ends(column, b"=+-@ \n", b" \n").tolist() == expected, column.to_pylist()


def test_byte_lengths_count_utf8_bytes():
    for column in random_columns(0):
        assert byte_lengths(column).tolist() == [len(v.encode("utf-8")) for v in column.to_pylist()]


def test_a_column_with_nulls_takes_the_compute_path():
    column = pa.array(["ab", None, "a--b", "-a"])
    assert is_slug(column).tolist() == [True, False, False, False]
    assert byte_lengths(column).tolist() == [2, 0, 4, 2]
    assert odd_ends(column, b"-", b"").tolist() == [False, False, False, True]
    assert isinstance(is_slug(column), np.ndarray)


def test_is_slug_answers_once_per_array_and_forgets_it_with_the_array():
    import gc

    gc.collect()  # answers for arrays earlier tests left behind go first
    before = is_slug.remembered_count()
    column = pa.array(["a-b", "A"])
    first = is_slug(column)
    assert is_slug(column) is first  # the second check asking about this column gets the same answer
    assert not first.flags.writeable
    other = pa.array(["a-b", "A"])
    assert is_slug(other) is not first and is_slug(other).tolist() == [True, False]
    assert is_slug.remembered_count() == before + 2
    del column, first, other
    gc.collect()
    assert is_slug.remembered_count() <= before  # the answers went with their arrays (others may have too)


def test_neighbour_order_agrees_with_comparing_python_tuples():
    from eurasec.read.kernels import neighbour_order

    rng = random.Random(5)
    for _ in range(300):
        rows = rng.randint(0, 12)
        text = ["".join(rng.choice("aAé-") for _ in range(rng.randint(0, 2))) for _ in range(rows)]
        numbers = [rng.randint(-2, 2) for _ in range(rows)]
        keys = list(zip(text, numbers, strict=True))
        # Python compares str by code point, as UTF-8 bytes do
        expected = [(b > a) - (b < a) for a, b in itertools.pairwise(keys)]
        order = neighbour_order([pa.array(text, pa.string()), np.array(numbers, dtype=np.int64)])
        assert order.tolist() == expected, keys


@pytest.mark.parametrize("seed", range(3))
def test_is_digits_agrees_with_the_regex(seed: int):
    rng = random.Random(seed)
    for column in random_columns(seed):
        for most in (1, 3, 18):
            expected = [re.fullmatch(f"[0-9]{{1,{most}}}", v) is not None for v in column.to_pylist()]
            assert is_digits(column, most).tolist() == expected
    cells = ["0", "12", "1" * 19, "", None, "١", "１", " 1", "1\n", str(rng.randrange(10**18))]
    expected = [True, True, False, False, False, False, False, False, False, True]
    assert is_digits(pa.array(cells), 18).tolist() == expected


TEXT = "Ünïcode – text ✓ 𝔘 the Union State and the UN Security Council\u00a0(CSTO)\n"


@pytest.mark.parametrize("seed", range(3))
def test_slices_equal_compares_like_python_slices(seed: int):
    """Every slice of the text, short (held inside the view) and long, against its own text, a changed
    copy and a null; the text's code point offsets go through code_point_starts as the quote check's do."""
    rng = random.Random(seed)
    text = TEXT * 5
    data = text.encode("utf-8")
    starts_of = code_point_starts(data)
    assert len(starts_of) == len(text) + 1
    assert all(data[starts_of[i] :].decode("utf-8").startswith(text[i]) for i in range(len(text)))
    starts, ends, values, expected = [], [], [], []
    for _ in range(2000):
        a = rng.randrange(len(text) + 1)
        b = min(len(text), a + rng.choice([0, 1, 4, 11, 12, 13, 40]))
        value: str | None = text[a:b]
        roll = rng.random()
        if roll < 0.2 and value:
            i = rng.randrange(len(value))
            value = value[:i] + ("x" if value[i] != "x" else "y") + value[i + 1 :]
        elif roll < 0.3:
            value = None
        elif roll < 0.4:
            value = value + "z"
        starts.append(int(starts_of[a]))
        ends.append(int(starts_of[b]))
        values.append(value)
        expected.append(value is not None and text[a:b] == value)
    got = slices_equal(data, np.array(starts), np.array(ends), pa.array(values, pa.string()))
    assert got.tolist() == expected


def test_utf8_encode_and_decode_are_inverse_and_count_code_points():
    for text in ["", "plain ascii", TEXT, "𝔘" * 3]:
        cps = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
        encoded, starts = utf8.encode(cps)
        data = bytes(encoded)
        assert data == text.encode("utf-8")
        expected = [len(text[:i].encode("utf-8")) for i in range(len(text) + 1)]
        assert code_point_starts(data).tolist() == expected
        # None for ASCII: each code point begins at its own index
        assert (starts is None) == text.isascii()
        assert (list(range(len(text) + 1)) if starts is None else starts.tolist()) == expected
        back, again = utf8.decode(np.frombuffer(data, dtype=np.uint8))
        assert back.tolist() == cps.tolist() and (again is None) == (starts is None)
        assert again is None or again.tolist() == expected


def test_positions_in_is_each_cells_first_place_among_the_values_and_is_shared_while_both_live():
    values = pa.array(["a", "b", "a", "c"])
    cells = pa.array(["c", None, "a", "z", "b", ""])
    found = positions_in(cells, values)
    assert found.tolist() == [3, -1, 0, -1, 1, -1]
    assert positions_in(cells, values) is found  # asked again: the same answer, not a second hash pass
    assert not found.flags.writeable
    other = pa.array(["c", None, "a", "z", "b", ""])
    assert positions_in(other, values) is not found and positions_in(other, values).tolist() == found.tolist()


def test_two_threads_asking_at_once_share_one_lookup():
    """The data checks and the mention check ask positions_in of the same columns at the same moment:
    the hash pass runs once, and the second asker waits for the first's answer."""
    import threading

    import pyarrow.compute as pc  # the kernels look index_in up there when they run

    cells, values = pa.array(["b", "x", "a"]), pa.array(["a", "b"])
    started, release, calls = threading.Event(), threading.Event(), []
    original = pc.index_in

    def slow_index_in(*args, **kwargs):
        calls.append(1)
        started.set()
        release.wait(5)
        return original(*args, **kwargs)

    answers: list[np.ndarray] = []
    pc.index_in = slow_index_in
    try:
        first = threading.Thread(target=lambda: answers.append(positions_in(cells, values)))
        first.start()
        assert started.wait(5)
        second = threading.Thread(target=lambda: answers.append(positions_in(cells, values)))
        second.start()
        second.join(0.2)
        assert second.is_alive()  # it waits for the first's answer rather than computing its own
        release.set()
        first.join(5)
        second.join(5)
    finally:
        pc.index_in = original
    assert len(calls) == 1
    assert answers[0] is answers[1]
    assert answers[0].tolist() == [1, -1, 0]


@pytest.mark.parametrize("seed", range(3))
def test_slugs_read_off_a_referenced_key_are_the_slugs_read_off_the_cells(seed: int):
    """A foreign key's cells found in the referenced key take that key's answer; the rest are read: the
    answer is is_slug's, whatever is found where."""
    from eurasec.read.kernels import is_slug_found

    rng = random.Random(seed)
    columns = list(random_columns(seed))
    for cells in columns[:200]:
        pool = cells.to_pylist() + [rng.choice(["a-b", "x", "A", ""]) for _ in range(3)]
        values = pa.array(sorted(set(rng.sample(pool, k=rng.randint(0, len(pool))))), pa.string())
        expected = [re.fullmatch(SLUG_PATTERN[1:-1], v) is not None for v in cells.to_pylist()]
        assert is_slug_found(cells, values).tolist() == expected, (cells.to_pylist(), values.to_pylist())
        assert is_slug(cells) is is_slug_found(cells, values)  # remembered as is_slug's answer


def _finishes(work, seconds: float = 10) -> bool:
    """Runs work in a thread: True if it ends in time (a deadlock would hang the suite, not fail it)."""
    import threading

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(seconds)
    return not worker.is_alive()


def test_an_array_freed_while_the_memo_is_busy_is_forgotten_without_a_deadlock():
    """The garbage collector may free an array whose answer is kept in the middle of the memo's own work
    (it happened inside `get`, and hung CI): forgetting it must not wait for a lock this thread holds."""
    from eurasec.read.kernels import _Memo

    memo = _Memo()
    doomed = pa.array(["a", "b"])
    memo.get((doomed,), lambda: np.zeros(2, dtype=bool))
    assert len(memo) == 1

    def free_it_while_busy() -> None:
        nonlocal doomed
        with memo._lock:  # as in get(), when a collection runs there and frees `doomed`
            del doomed  # its weakref callback runs now, in this thread

    assert _finishes(free_it_while_busy)
    assert len(memo) == 0


def test_a_computation_that_asks_the_memo_for_the_same_arrays_again_gets_an_answer():
    """A foreign key that references its own field asks is_slug of one array twice, once inside the other."""
    from eurasec.read.kernels import _Memo, is_slug_found

    memo = _Memo()
    cells = pa.array(["a-b", "X"])
    answers: list[np.ndarray] = []

    def outer() -> np.ndarray:
        return memo.get((cells,), lambda: np.array([True, False]))

    assert _finishes(lambda: answers.append(memo.get((cells,), outer)))
    assert answers[0].tolist() == [True, False]
    own = pa.array(["a-b", "X", "a-b"])
    assert _finishes(lambda: answers.append(is_slug_found(own, own)))
    assert answers[1].tolist() == [True, False, True]


def test_two_answers_each_asked_inside_the_other_in_two_threads_do_not_wait_for_each_other():
    """Thread one computes X and needs Y; thread two computes Y and needs X (two foreign keys that reference
    each other's fields). Waiting for the other's answer would wait forever: a nested ask computes."""
    import threading

    from eurasec.read.kernels import _Memo

    memo = _Memo()
    x, y = pa.array(["x"]), pa.array(["y"])
    both_started = threading.Barrier(2, timeout=5)
    answers: dict[str, list[bool]] = {}

    def needing(other: pa.Array, value: bool):
        def compute() -> np.ndarray:
            both_started.wait()  # each holds its own answer's place before it asks for the other's
            memo.get((other,), lambda: np.array([not value]))
            return np.array([value])

        return compute

    first = threading.Thread(target=lambda: answers.setdefault("x", memo.get((x,), needing(y, True)).tolist()))
    second = threading.Thread(target=lambda: answers.setdefault("y", memo.get((y,), needing(x, False)).tolist()))
    for thread in (first, second):
        thread.daemon = True
        thread.start()
    for thread in (first, second):
        thread.join(10)
    assert not first.is_alive() and not second.is_alive()
    assert answers == {"x": [True], "y": [False]}

"""Hygiene leaves an empty cell alone, and an oversized one to its own finding (cell-too-large), counting
characters, not bytes: a long cell of letters of two bytes each is still looked at."""

from __future__ import annotations

import pyarrow as pa

from eurasec.checks.hygiene import _suspects
from eurasec.read.strict import MAX_CELL_CHARS


def test_a_cell_is_looked_at_up_to_the_limit_in_characters_whatever_its_bytes():
    wide_but_within = "é" * (MAX_CELL_CHARS - 1) + " "  # twice the limit in bytes, within it in characters
    just_over = "é" * MAX_CELL_CHARS + " "  # one character over: cell-too-large says it, hygiene does not
    ascii_over = "a" * MAX_CELL_CHARS + " "
    cells = pa.array(["fine", "", " padded", wide_but_within, just_over, ascii_over], pa.string())
    suspects = _suspects(cells, is_id=False, is_string=True, verbatim=False)
    assert suspects.tolist() == [False, False, True, True, False, False]

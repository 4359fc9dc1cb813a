"""Text hygiene: trimmed, single-spaced, visible, NFC text; slug ids; no spreadsheet formulas."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..model.codes import finding
from ..model.descriptor import QUOTE, Field
from ..model.findings import Finding
from ..model.text import BLANK_RANGES, FORMAT_RANGES, IGNORABLE_RANGES
from ..read.kernels import ASCII_WHITE_BYTES, SLUG_PATTERN, byte_lengths, is_plain_integer, is_slug, odd_ends
from ..read.strict import MAX_CELL_CHARS
from .context import Context, rows_where, texts

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

SLUG = re.compile(SLUG_PATTERN)
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
FORMULA_START = ("=", "+", "-", "@")


def _in(ranges: tuple[tuple[int, int], ...]) -> frozenset[str]:
    return frozenset(chr(c) for a, b in ranges for c in range(a, b + 1))


# Shown as nothing, or as a blank, or a line break in disguise: Unicode's default-ignorable characters
# (Hangul fillers, variation selectors, the combining grapheme joiner ...), braille blank, NEL and the
# line and paragraph separators. With the control and format characters, a cell may hold none of them.
_IGNORABLE = _in(IGNORABLE_RANGES) | _in(BLANK_RANGES)


def _invisible(ch: str) -> bool:
    """Control characters (but the line break a quote may carry), format characters such as zero-width ones,
    default-ignorable and blank-looking characters, and line separators."""
    return ch != "\n" and (ch in _IGNORABLE or unicodedata.category(ch) in ("Cc", "Cf"))


def _id_field(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def cell_problems(value: str, *, is_id: bool, is_string: bool, verbatim: bool) -> Iterator[tuple[str, str]]:
    """(code, message) for each hygiene rule one cell breaks."""
    if value.startswith(FORMULA_START) and not PLAIN_NUMBER.match(value):
        yield "formula", f"the cell starts with {value[0]!r}, so a spreadsheet would run it as a formula"
    bad = None if verbatim else next((ch for ch in value if _invisible(ch) or ch == "\n"), None)
    if bad is not None:
        name = unicodedata.name(bad, "control character").lower()
        yield "control-character", f"the cell contains the invisible character U+{ord(bad):04X} ({name})"
    if is_id and not SLUG.match(value):
        yield "id-not-slug", f"the id {value!r} is not a lowercase kebab-case slug"
    if not is_string:
        return
    if value != value.strip():
        yield "untrimmed-space", f"the cell {value[:40]!r} has white space at its start or end"
    if verbatim:
        return  # a verbatim field keeps whatever the seed has; its own check compares it with the seed
    if "  " in value:
        yield "doubled-space", f"the cell has a doubled space at character {value.index('  ')}"
    if not unicodedata.is_normalized("NFC", value):
        yield "not-nfc", "the cell is not in Unicode NFC (a letter and its accent are stored apart)"


# The same rules as cell_problems, as RE2 patterns over whole columns: they find the rows to
# look at, and cell_problems then says exactly what is wrong with each. Most text is ASCII, so
# the ASCII rules run on everything and the Unicode ones only on the rest.
_ASCII_WHITE = r"[\t-\r\x1c-\x20]"
_WHITE = r"[\t-\r\x1c-\x20\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_CONTROL = r"[\x00-\x09\x0b-\x1f\x7f]"


def _re2_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"\\x{{{a:x}}}" + (f"-\\x{{{b:x}}}" if b > a else "") for a, b in ranges)


# Unicode's "Cf" (format) characters, as Python's unicodedata lists them, written out for RE2:
# the same set that cell_problems uses, and much quicker for RE2 to compile than \\p{Cf}.
# tests/test_validate.py checks that it still matches this Python's unicodedata.
_FORMAT = _re2_class(FORMAT_RANGES)
# The default-ignorable and blank-looking characters and the separators (see _IGNORABLE), for RE2.
_IGNORABLE_CLASS = _re2_class(IGNORABLE_RANGES + BLANK_RANGES)


def _pattern(*, is_string: bool, verbatim: bool, unicode: bool) -> str:
    white = _WHITE if unicode else _ASCII_WHITE
    control = f"[\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f{_FORMAT}{_IGNORABLE_CLASS}]" if unicode else _CONTROL
    parts = [r"^[=+\-@]", control]
    if is_string:
        parts += [f"^{white}", f"{white}$"]
    if not verbatim:
        parts.append(r"\n")
        if is_string:
            parts.append("  ")
    return "|".join(parts)


_CLEAN = {"integer": r"^-?(0|[1-9][0-9]*)$", "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}


def _closed_form(field: Field | None, is_id: bool) -> str | list[str] | None:
    """A pattern (or a list of values) that only clean cells can match, for fields with a closed form."""
    if is_id:
        return SLUG.pattern
    if field is None:
        return None
    # Only an enum of text is a closed form of the cells' text: an enum of numbers (frictionless allows
    # it on a number field) says nothing about how the cells are written.
    if field.enum and all(
        isinstance(v, str) and not list(cell_problems(v, is_id=False, is_string=True, verbatim=False))
        for v in field.enum
    ):
        return list(field.enum)
    return _CLEAN.get(field.type) if (field.format or "default") == "default" else None


_ODD_FIRST = ASCII_WHITE_BYTES + b"=+-@"


def _suspects(
    cells: pa.Array,
    *,
    is_id: bool,
    is_string: bool,
    verbatim: bool,
    closed: str | list[str] | None = None,
) -> np.ndarray:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if closed is not None:
        # A slug, an allowed enum value or a canonical number or date cannot break a hygiene rule: only
        # the cells outside that form need a look.
        if closed == SLUG_PATTERN:
            result = ~is_slug(cells)
        elif closed == _CLEAN["integer"]:
            # digits without a leading zero, by the byte kernel the data checks ran on the column; the
            # pattern looks at the rest (a sign, a long number)
            result = ~is_plain_integer(cells)
            if result.any():
                rest = np.flatnonzero(result)
                inside = pc.match_substring_regex(cells.take(pa.array(rest)), closed)
                result[rest] = ~pc.fill_null(inside, False).to_numpy(zero_copy_only=False)
        else:
            inside = (
                pc.is_in(cells, value_set=pa.array(closed, pa.string()))
                if isinstance(closed, list)
                else pc.match_substring_regex(cells, closed)
            )
            result = pc.invert(inside).to_numpy(zero_copy_only=False)
    elif verbatim:
        # A verbatim value is checked against its seed, whose characters it must keep; only its ends
        # (a formula sign, a space) are the contributor's doing, and those are cheap to look at.
        result = odd_ends(cells, _ODD_FIRST, ASCII_WHITE_BYTES)
    else:
        mask = pc.match_substring_regex(cells, _pattern(is_string=is_string, verbatim=False, unicode=False))
        if is_id:
            mask = pc.or_(mask, pc.invert(pc.match_substring_regex(cells, SLUG.pattern)))
        result = mask.to_numpy(zero_copy_only=False)
        wide = np.flatnonzero(~pc.string_is_ascii(cells).to_numpy(zero_copy_only=False))
        if len(wide):
            subset = cells.take(pa.array(wide))
            odd = pc.match_substring_regex(subset, _pattern(is_string=is_string, verbatim=False, unicode=True))
            if is_string:
                odd = pc.or_(odd, pc.not_equal(pc.utf8_normalize(subset, "NFC"), subset))
            result[wide] |= odd.to_numpy(zero_copy_only=False)
    if result.any():
        # an empty cell has nothing to check; an oversized one has its own finding. Bytes first (offsets
        # only): a cell of no more bytes than the limit has no more characters; only longer ones are counted.
        lengths = byte_lengths(cells)
        result &= lengths > 0
        long = np.flatnonzero(result & (lengths > MAX_CELL_CHARS))
        if len(long):
            chars = pc.utf8_length(cells.take(pa.array(long))).to_numpy(zero_copy_only=False)
            result[long[chars > MAX_CELL_CHARS]] = False
    return result


def check_hygiene(ctx: Context) -> Iterator[Finding]:
    for resource in ctx.resources:
        table = ctx.table(resource)
        if table is None:
            continue
        known = {f.name: f for f in resource.fields}
        for column, name in enumerate(table.header or [], 1):
            if name not in table.columns:
                continue
            kinds = {
                "is_id": _id_field(name) and name in known,
                "is_string": name in known and known[name].type == "string",
                "verbatim": name in known and (known[name].role == QUOTE or known[name].in_quote),
            }
            cells = table.columns[name]
            closed = _closed_form(known.get(name), kinds["is_id"])
            rows = rows_where(_suspects(cells, closed=closed, **kinds))
            seen: dict[str, list[tuple[str, str]]] = {}  # a quote cited by many rows is looked at once
            for index, value in zip(rows, texts(cells, rows), strict=True):
                problems = seen.get(value)
                if problems is None:
                    problems = seen[value] = list(cell_problems(value, **kinds))
                for code, message in problems:
                    yield finding(code, resource.path, message, line=table.line(index), field=name, column=column)

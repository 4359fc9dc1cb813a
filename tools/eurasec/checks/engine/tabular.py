"""What frictionless checks in the data (types, constraints, keys, blank rows), column at a time.

This reproduces frictionless' own row-by-row validation with the same error types, rows,
fields and order, so that the findings are the same; `tests/test_differential.py` holds it
to that against frictionless itself. Values are read as frictionless reads them: a field of
coverage.NATIVE has its common forms checked with vectorized pyarrow kernels, and every other
distinct value goes through Python exactly as frictionless parses it (int(), strptime, re with
`^…$`); any other field is read by frictionless' own cell reader, once a distinct cell
(frictionless_column). What the engine does not cover goes to frictionless whole (fast.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...model.descriptor import Field, Resource
from ...read.kernels import (
    SLUG_PATTERN,
    byte_lengths,
    is_int64_digits,
    is_plain_integer,
    is_slug,
    is_slug_found,
    neighbour_order,
    null_where,
    positions_in,
)
from ...read.table import Table

if TYPE_CHECKING:
    # typeshed knows re's parser by its pre-3.11 names, which now warn when imported: the same modules
    import sre_constants as sre
    import sre_parse as _parser

    import numpy as np
    import pyarrow as pa
else:  # loaded by `import re` already
    from re import _constants as sre
    from re import _parser

LIMIT_ERRORS = 1000  # frictionless' default per resource
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
    # Read by frictionless' own cell reader (coverage.by_column_reason): the rows that break each constraint,
    # as it found them, in the order it checks them; and its note for a type error. None for a native reading.
    failures: dict[str, np.ndarray] | None = None
    type_note: str | None = None
    # The cells as read, where the key is exactly them with the missing ones made null (a plain string): a
    # foreign key looks its cells up as the project's checks do, and the two share the lookup (positions_in).
    text: pa.Array | None = None

    @property
    def present(self) -> np.ndarray:
        return ~self.missing & ~self.type_error


class FrictionlessReaderError(Exception):
    """frictionless' own cell reader raised on a cell: frictionless itself would fail there, so the resource
    goes to it whole."""


def frictionless_column(
    field: Field, reader: Callable[[str], tuple[Any, dict[str, str] | None]], cells: pa.Array
) -> Column:
    """A column read by frictionless' own cell reader (built from the field's whole descriptor, within its
    schema: field options, formats, missing values, constraints), once a distinct cell. Its keys are not
    read (a key over such a field goes to frictionless whole)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from .coverage import FRICTIONLESS_TYPES

    encoded = pc.dictionary_encode(cells)
    values = encoded.dictionary.to_pylist()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    missing = np.zeros(len(values), dtype=bool)
    type_error = np.zeros(len(values), dtype=bool)
    failed: dict[str, np.ndarray] = {}
    type_note = None
    for i, value in enumerate(values):
        try:
            target, notes = reader(value)
        except Exception as exc:  # what frictionless' reader raises, frictionless raises too
            raise FrictionlessReaderError(f"field {field.name!r}: {type(exc).__name__}: {exc}") from exc
        notes = dict(notes or {})
        note = notes.pop("type", None)
        if note is not None:
            type_error[i], type_note = True, note
        elif target is None:
            missing[i] = True
        for name in notes:
            failed.setdefault(name, np.zeros(len(values), dtype=bool))[i] = True
    order = list(FRICTIONLESS_TYPES.get(field.type, ()))
    ranked = sorted(failed, key=lambda name: order.index(name) if name in order else len(order))
    return Column(
        missing[codes],
        type_error[codes],
        pa.nulls(len(cells), pa.string()),
        failures={name: failed[name][codes] for name in ranked},
        type_note=type_note,
    )


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
    """Type every cell of a column read natively (coverage.NATIVE: string, string/uri, integer, date): common
    forms in bulk, every other distinct value as frictionless would."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if missing_values == [""]:
        missing = byte_lengths(cells) == 0  # the usual case, and far cheaper than is_in
    else:
        missing = pc.is_in(cells, value_set=pa.array(missing_values, pa.string())).to_numpy(zero_copy_only=False)
    kind, fmt = field.type, field.format or "default"
    if kind == "string" and fmt == "default":
        return Column(missing, np.zeros(len(cells), dtype=bool), null_where(cells, missing), text=cells)
    if kind == "integer":
        fast = pa.array(is_int64_digits(cells))
        python: Callable[[str], Any] = _python_integer
    else:
        # Dates go through strptime value by value (distinct values only): a pattern cannot know 2001-02-30.
        fast = pa.array(np.zeros(len(cells), dtype=bool))
        if kind == "date" and fmt == "default":
            python = _python_date
        elif kind == "string" and fmt == "uri":
            python = _uri_reader()
        else:
            raise ValueError(f"{kind}/{fmt} is not read natively: frictionless' cell reader reads it")
    fast_np = fast.to_numpy(zero_copy_only=False) & ~missing
    numbers = np.zeros(len(cells), dtype=np.int64) if kind in ("integer", "date") else None
    type_error = np.zeros(len(cells), dtype=bool)
    if numbers is not None and kind == "integer" and fast_np.any():
        as_int = pc.cast(pc.if_else(fast, cells, pa.scalar(None, pa.string())), pa.int64())
        numbers[fast_np] = as_int.to_numpy(zero_copy_only=False)[fast_np]
    slow = np.flatnonzero(~missing & ~fast_np)
    key_values: dict[int, str] = {}  # the canonical text of each slow cell of the type
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
    if kind == "integer" and fast_np.any():
        # a leading zero (a fast cell that is no plain integer, but for a lone "0"): the key is the number's
        # own text (007 is 7); otherwise the digits are
        if (fast_np & ~is_plain_integer(cells) & (byte_lengths(cells) > 1)).any():
            fast_text = pc.cast(pc.cast(pc.if_else(fast, cells, pa.scalar(None, pa.string())), pa.int64()), pa.string())
        else:
            fast_text = cells
        if not key_values:  # every cell fast or absent: the fast text, null elsewhere (no copy of it)
            return Column(missing, type_error, null_where(fast_text, ~fast_np), numbers)
        key = pc.if_else(pa.array(fast_np), fast_text, _sparse_texts(key_values, len(cells)))
    else:
        key = _sparse_texts(key_values, len(cells))
    return Column(missing, type_error, key, numbers)


def _sparse_texts(texts: dict[int, str], length: int) -> pa.Array:
    """A string array of `length`, null but at the given rows (no list of a million Nones when there are none)."""
    import pyarrow as pa

    if not texts:
        return pa.nulls(length, pa.string())
    values: list[str | None] = [None] * length
    for i, text in texts.items():
        values[i] = text
    return pa.array(values, pa.string())


# Patterns. frictionless runs Python's re.match('^pattern$') on every cell: a backtracking engine, so a
# pattern such as ^(a+)+$ takes exponential time on 'a' * 40 + 'b'. We decide with RE2 (linear time)
# wherever RE2 provably gives Python's answer: the pattern is translated from Python's own parse of it
# into RE2 syntax (so both read the same regular expression), and the cells it decides are those where
# the two engines' remaining differences cannot show: never a cell ending with LF (Python's $ matches
# before it), and only ASCII cells when the pattern uses \d, \w, \s or \b (Unicode classes in Python,
# ASCII in RE2). Every other cell, and every cell of a pattern with no translation (backreferences,
# lookarounds, inline flags, IGNORECASE, MULTILINE), is decided by Python's re in a child process that
# is killed after PATTERN_SECONDS plus PATTERN_SECONDS_PER_CELL per distinct cell: past that, the field
# gets one `pattern-undecidable` finding, and none of its cells is passed unchecked.
PATTERN_SECONDS = 10.0
PATTERN_SECONDS_PER_CELL = 20e-6
_PATTERN_WORKER = (
    "import json, re, sys, time\n"
    "clock = time.perf_counter\n"
    "for pattern, cells in json.load(sys.stdin):\n"
    "    match, out = re.compile(pattern).match, []\n"
    "    for cell in cells:\n"
    "        start = clock()\n"
    "        out.append([match(cell) is not None, clock() - start])\n"
    "    sys.stdout.write(json.dumps(out) + '\\n')\n"
    "    sys.stdout.flush()\n"
)


class PatternUndecidableError(Exception):
    """Python's re did not decide a pattern's cells within the time bound."""


@dataclass(frozen=True)
class _Translation:
    re2: str  # the same regular expression in RE2 syntax, anchored at the start as re.match is
    ascii_only: bool  # it uses a class that differs outside ASCII: RE2 decides ASCII cells only


def _class_member(items: list[Any], code: int) -> bool:
    """Whether a character (an ASCII code) is in a Python character class, read off its parse."""
    categories = {
        sre.CATEGORY_DIGIT: r"\d",
        sre.CATEGORY_NOT_DIGIT: r"\D",
        sre.CATEGORY_SPACE: r"\s",
        sre.CATEGORY_NOT_SPACE: r"\S",
        sre.CATEGORY_WORD: r"\w",
        sre.CATEGORY_NOT_WORD: r"\W",
    }
    negate, member = False, False
    for op, av in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            member |= av == code
        elif op is sre.RANGE:
            member |= av[0] <= code <= av[1]
        elif op is sre.CATEGORY:
            member |= re.fullmatch(categories[av], chr(code)) is not None
        else:
            raise ValueError(op)
    return member != negate


def _escape(code: int) -> str:
    return f"\\x{{{code:x}}}"


def _translate_nodes(nodes: Any, flags: int, uses: set[str]) -> str:
    """RE2 syntax for a part of Python's parse; raises ValueError where there is no exact translation."""
    out = []
    for op, av in nodes:
        if op is sre.LITERAL:
            out.append(_escape(av))
        elif op is sre.NOT_LITERAL:
            out.append(f"[^{_escape(av)}]")
        elif op is sre.ANY:
            out.append(r"(?s:.)" if flags & sre.SRE_FLAG_DOTALL else r"[^\n]")
        elif op is sre.IN:
            if any(item_op is sre.CATEGORY for item_op, _ in av):
                uses.add("ascii")  # Python's classes are Unicode: spell out their ASCII members
                members = [code for code in range(128) if _class_member(av, code)]
                out.append("[" + "".join(_escape(c) for c in members) + "]" if members else r"(?:\b\B)")
            else:
                negate = any(item_op is sre.NEGATE for item_op, _ in av)
                parts = []
                for item_op, item in av:
                    if item_op is sre.LITERAL:
                        parts.append(_escape(item))
                    elif item_op is sre.RANGE:
                        parts.append(f"{_escape(item[0])}-{_escape(item[1])}")
                    elif item_op is not sre.NEGATE:
                        raise ValueError(item_op)
                out.append("[" + ("^" if negate else "") + "".join(parts) + "]")
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):  # greedy or lazy: the same strings match in full
            low, high, body = av
            if low > 1000 or (high is not sre.MAXREPEAT and high > 1000):
                raise ValueError("RE2 counts repetitions up to 1000")
            bound = f"{{{low},}}" if high is sre.MAXREPEAT else f"{{{low},{high}}}"
            out.append(f"(?:{_translate_nodes(body, flags, uses)}){bound}")
        elif op is sre.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            if add_flags or del_flags:
                raise ValueError("inline flags")
            out.append(f"(?:{_translate_nodes(body, flags, uses)})")
        elif op is sre.BRANCH:
            out.append("(?:" + "|".join(_translate_nodes(branch, flags, uses) for branch in av[1]) + ")")
        elif op is sre.AT:
            if av in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING):
                out.append(r"\A")
            elif av in (sre.AT_END, sre.AT_END_STRING):  # $ also matches before a final LF: such cells go to Python
                out.append(r"\z")
            elif av in (sre.AT_BOUNDARY, sre.AT_NON_BOUNDARY):
                uses.add("ascii")
                out.append(r"\b" if av is sre.AT_BOUNDARY else r"\B")
            else:
                raise ValueError(av)
        else:  # backreferences, lookarounds, conditionals, atomic groups, possessive repeats
            raise ValueError(op)
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _re2_translation(wrapped: str) -> _Translation | None:
    """The pattern in RE2 syntax with Python's meaning, or None when there is no exact translation."""
    try:
        parsed = _parser.parse(wrapped, 0)
        flags = parsed.state.flags
        if flags & (sre.SRE_FLAG_IGNORECASE | sre.SRE_FLAG_MULTILINE | sre.SRE_FLAG_LOCALE):
            return None
        uses: set[str] = set()
        body = _translate_nodes(parsed.data, flags, uses)
    except (ValueError, TypeError, KeyError, AttributeError, re.error, RecursionError):
        return None
    return _Translation(re2=rf"\A(?:{body})", ascii_only="ascii" in uses)


Verdicts = list[tuple[bool, float]]


def python_pattern_verdicts(wrapped: str, cells: list[str]) -> Verdicts:
    """(re.match(wrapped, cell) matched, seconds it took) for each cell, run by Python in a child process
    that is killed at the time bound; raises PatternUndecidableError then."""
    (result,) = python_pattern_verdicts_many([(wrapped, cells)])
    if isinstance(result, PatternUndecidableError):
        raise result
    return result


def python_pattern_verdicts_many(jobs: list[tuple[str, list[str]]]) -> list[Verdicts | PatternUndecidableError]:
    """python_pattern_verdicts for many (pattern, cells) jobs, in one child process while they finish in time.

    One process for all the patterns of a package instead of one each: starting Python costs more than
    most patterns. Each job has its own bound; a job that overruns it kills the child, is undecidable,
    and a new child takes the jobs after it.
    """
    results: list[Verdicts | PatternUndecidableError] = []
    while len(results) < len(jobs):
        results += _run_pattern_jobs(jobs[len(results) :])
    return results


def _run_pattern_jobs(jobs: list[tuple[str, list[str]]]) -> list[Verdicts | PatternUndecidableError]:
    """As many jobs' results as one child gives before it fails or overruns (at least one)."""
    import json
    import os
    import selectors
    import subprocess
    import sys
    import time

    results: list[Verdicts | PatternUndecidableError] = []
    while jobs and not jobs[0][1]:
        results.append([])  # nothing to decide: no process
        jobs = jobs[1:]
    if not jobs:
        return results
    try:
        child = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _PATTERN_WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:
        return [*results, PatternUndecidableError(f"the pattern {jobs[0][0][1:-1]} could not be checked: {exc}")]
    try:
        assert child.stdin is not None and child.stdout is not None
        # The child reads all its input before it writes: writing it all first cannot deadlock.
        child.stdin.write(json.dumps(jobs).encode("ascii"))
        child.stdin.close()
        selector = selectors.DefaultSelector()
        selector.register(child.stdout, selectors.EVENT_READ)
        pending = b""
        for wrapped, cells in jobs:
            bound = PATTERN_SECONDS + PATTERN_SECONDS_PER_CELL * len(cells)
            deadline = time.monotonic() + bound
            while b"\n" not in pending:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(timeout=left):
                    results.append(
                        PatternUndecidableError(
                            f"Python's re did not decide the pattern {wrapped[1:-1]} on {len(cells):,} distinct"
                            f" cells within {bound:.0f} s: it backtracks catastrophically, and no cell is passed"
                            " unchecked"
                        )
                    )
                    return results
                chunk = os.read(child.stdout.fileno(), 1 << 16)  # what select saw: no buffer between
                if not chunk:
                    results.append(PatternUndecidableError(f"the pattern {wrapped[1:-1]} could not be checked"))
                    return results
                pending += chunk
            line, pending = pending.split(b"\n", 1)
            try:
                verdicts = json.loads(line)
            except ValueError:
                verdicts = None
            if not isinstance(verdicts, list) or len(verdicts) != len(cells):
                results.append(PatternUndecidableError(f"the pattern {wrapped[1:-1]} could not be checked"))
                return results
            results.append([(bool(matched), float(seconds)) for matched, seconds in verdicts])
        return results
    finally:
        child.kill()
        child.wait()


def _python_decides(wrapped: str, cells: pa.Array, rows: np.ndarray, ok: np.ndarray) -> None:
    """Set ok[rows] to Python's verdict (distinct cells only, under the time bound)."""
    import pyarrow as pa

    if not len(rows):
        return
    text = cells.take(pa.array(rows)).to_pylist()
    distinct = list(dict.fromkeys(text))
    verdicts = {
        cell: matched for cell, (matched, _) in zip(distinct, python_pattern_verdicts(wrapped, distinct), strict=True)
    }
    ok[rows] = [verdicts[cell] for cell in text]


def _pattern_ok(pattern: str, cells: pa.Array, candidates: np.ndarray) -> np.ndarray:
    """frictionless' re.match('^pattern$'): RE2 where it provably agrees with Python, Python (time-bounded)
    for the rest. Raises PatternUndecidableError when Python runs out of time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    wrapped = f"^{pattern}$"
    re.compile(wrapped)  # a pattern Python cannot compile fails as it would in frictionless
    ok = np.zeros(len(candidates), dtype=bool)
    if not candidates.any():
        return ok
    ends_in_lf = pc.ends_with(cells, "\n").fill_null(False).to_numpy(zero_copy_only=False)
    translation = None
    if pattern in (SLUG_PATTERN, SLUG_PATTERN[1:-1]):  # the ids' pattern, read off the bytes
        verdict = is_slug(cells)
        decided = candidates & ~ends_in_lf
    else:
        translation = _re2_translation(wrapped)
        decided = candidates & ~ends_in_lf if translation is not None else np.zeros(len(candidates), dtype=bool)
        if translation is not None and translation.ascii_only:
            decided &= pc.string_is_ascii(cells).fill_null(False).to_numpy(zero_copy_only=False)
        verdict = np.zeros(len(candidates), dtype=bool)
        if translation is not None and decided.any():
            try:
                verdict = pc.match_substring_regex(cells, translation.re2).fill_null(False)
                verdict = verdict.to_numpy(zero_copy_only=False)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # too large for RE2: Python decides all
                decided[:] = False
    ok[decided] = verdict[decided]
    _python_decides(wrapped, cells, np.flatnonzero(candidates & ~decided), ok)
    return ok


def constraint_failures(
    field: Field, column: Column, cells: pa.Array, undecidable: list[str] | None = None
) -> list[tuple[str, np.ndarray]]:
    """(constraint, rows that break it) in frictionless' order; cells with a type error are not checked.

    A pattern Python cannot decide in time raises PatternUndecidableError, or, with `undecidable`,
    has its reason appended there and counts no row as breaking it (the finding fails the field).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.failures is not None:
        return list(column.failures.items())
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
            try:
                bad = present & ~_pattern_ok(constraint, cells, present)
            except PatternUndecidableError as exc:
                if undecidable is None:
                    raise
                undecidable.append(str(exc))
                continue
        elif name == "enum":
            allowed = [_canonical(v) for v in _read_constraint_values(field, constraint) if v is not None]
            inside = pc.is_in(column.key, value_set=pa.array(allowed, pa.string())).to_numpy(zero_copy_only=False)
            bad = present & ~inside
        else:
            (limit,) = _read_constraint_values(field, [constraint])
            if column.number is None or limit is None:
                continue
            limit = limit.toordinal() if hasattr(limit, "toordinal") else limit
            bad = present & _beyond(name, column, limit)
        failures.append((name, bad))
    return failures


_INT64 = (-(2**63), 2**63 - 1)


def _beyond(name: str, column: Column, limit: int) -> np.ndarray:
    """Rows whose number breaks a bound. Integers beyond 64 bits were clipped to its ends, and a bound may
    lie beyond too: those rows (few) are compared exactly, from their canonical text."""
    import numpy as np

    compare = {
        "minimum": lambda a, b: a < b,
        "maximum": lambda a, b: a > b,
        "exclusiveMinimum": lambda a, b: a <= b,
        "exclusiveMaximum": lambda a, b: a >= b,
    }[name]
    number = column.number
    assert number is not None
    clipped_limit = max(_INT64[0], min(int(limit), _INT64[1]))
    bad = compare(number, np.int64(clipped_limit))
    for i in np.flatnonzero((number == _INT64[0]) | (number == _INT64[1])).tolist():
        text = column.key[i].as_py()
        if text is not None and text.lstrip("-").isdigit():
            bad[i] = compare(int(text), limit)  # at most 4,300 digits: the text came from int()
    return bad


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
    # Parts are joined by U+001F, an absent one written U+0000 (no cell the fast path reads holds a NUL): a
    # part that holds U+001F (or U+0001) is escaped first, so that no two keys join to the same text.
    parts = [c.key if c.number is not None else _escaped(c.key) for c in columns]
    joined = pc.binary_join_element_wise(*parts, "\x1f", null_handling="replace", null_replacement="\x00")
    all_null = parts[0].is_null()
    for part in parts[1:]:
        all_null = pc.and_(all_null, part.is_null())
    return pc.if_else(all_null, pa.scalar(None, pa.string()), joined)


def _escaped(part: pa.Array) -> pa.Array:
    """A key part's texts with U+0001 doubled and U+001F written U+0001 U+0002 (as they are, when none has either)."""
    import pyarrow.compute as pc

    if not pc.any(pc.match_substring_regex(part, "[\x01\x1f]")).as_py():
        return part
    return pc.replace_substring(pc.replace_substring(part, "\x01", "\x01\x01"), "\x1f", "\x01\x02")


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


def typed_columns(
    resource: Resource,
    table: Table,
    missing_values: dict[str, list[str]],
    readers: dict[str, Callable[[str], tuple[Any, dict[str, str] | None]]] | None = None,
) -> dict[str, Column]:
    """Every field's column: natively with its missing values, or by frictionless' cell reader where given one.
    Raises FrictionlessReaderError where that reader fails."""
    readers = readers or {}
    return {
        f.name: frictionless_column(f, readers[f.name], table.columns[f.name])
        if f.name in readers
        else read_column(f, table.columns[f.name], missing_values.get(f.name, [""]))
        for f in resource.fields
        if f.name in table.columns
    }


def check_resource(
    resource: Resource,
    table: Table,
    columns: dict[str, Column],
    lookups: dict[tuple[str, tuple[str, ...]], pa.Array | None],
) -> tuple[list[RawError], int]:
    """Every error frictionless would report for this resource's rows, in its order, capped at its limit;
    and how many errors were found before the cap (for the report to say how many it left out)."""
    import numpy as np

    errors: list[RawError] = []
    numbers = table.row_numbers
    found = 0  # every error, before any source is cut at the limit

    def first(mask: np.ndarray) -> list[int]:
        # Rows ascend with their numbers, so no source can place more than the limit in the report.
        nonlocal found
        rows = np.flatnonzero(mask)
        found += len(rows)
        return rows[:LIMIT_ERRORS].tolist()

    def add(i: int, order: int, kind: str, **details: Any) -> None:
        number = int(numbers[i])
        errors.append(RawError(number, order, {"type": kind, "rowNumber": number, **details}))

    blank = np.ones(table.num_rows, dtype=bool)
    for f in resource.fields:
        blank &= columns[f.name].missing
    for fk in resource.foreign_keys:  # a slug found in the referenced key is a slug: read off the lookup
        lookup = lookups.get((fk.resource, fk.reference_fields))
        text = _looked_up_text(fk.fields, columns)
        if (
            lookup is not None
            and text is not None
            and resource.field(fk.fields[0]).constraints.get("pattern") == SLUG_PATTERN
        ):
            is_slug_found(text, lookup)
    for position, f in enumerate(resource.fields):
        column, cells = columns[f.name], table.columns[f.name]
        where = {"fieldName": f.name, "fieldNumber": position + 1}
        for i in first(column.type_error & ~blank):
            add(
                i,
                position * 100,
                "type-error",
                cell=cells[i].as_py(),
                note=column.type_note or f'type is "{f.type}/{f.format or "default"}"',
                **where,
            )
        undecidable: list[str] = []
        for order, (name, bad) in enumerate(constraint_failures(f, column, cells, undecidable), 1):
            for i in first(bad & ~blank):
                add(
                    i,
                    position * 100 + order,
                    "constraint-error",
                    cell=cells[i].as_py(),
                    note=f'constraint "{name}" is "{f.constraints[name]}"',
                    **where,
                )
        for note in undecidable:  # a finding of the field, before any row's
            errors.append(RawError(0, position * 100, {"type": "pattern-undecidable", "note": note, **where}))
    # A row with a cell too few or too many: after its cell errors, one error per extra or missing cell.
    width = len(resource.fields)
    found += sum(
        len(table.extra_cells.get(i, [])) + max(width - count, 0)
        for i, count in table.cell_counts.items()
        if not blank[i]
    )
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
    found += len(table.blank_row_numbers)
    empty_lines = table.blank_row_numbers[:LIMIT_ERRORS]
    errors.extend(RawError(n, 0, {"type": "blank-row", "rowNumber": n, "note": ""}) for n in empty_lines)
    # Then, within a row: unique fields, the primary key, the foreign keys.
    base = 100 * (len(resource.fields) + 1)
    for position, f in enumerate(resource.fields):
        if f.unique:
            repeats = [] if strictly_ascending([columns[f.name]]) else _repeats(columns[f.name].key)
            found += len(repeats)
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
            repeats = _repeats(keys)
            found += len(repeats)
            for row, earlier in repeats[:LIMIT_ERRORS]:
                add(row, 2 * base, "primary-key", note=f"the same as in the row at position {int(numbers[earlier])}")
        found += len(table.blank_row_numbers)  # an empty line's key is all None too
        errors.extend(
            RawError(n, 2 * base, {"type": "primary-key", "rowNumber": n, "note": all_none}) for n in empty_lines
        )
    for order, fk in enumerate(resource.foreign_keys):
        lookup = lookups.get((fk.resource, fk.reference_fields))
        if lookup is None or not all(name in columns for name in fk.fields):
            continue
        keys = key_array([columns[name] for name in fk.fields])
        text = _looked_up_text(fk.fields, columns)
        # Where the key is the cells themselves, the cells are looked up: the same positions where a key is
        # present (an absent one is no error), and the lookup the project's checks made already.
        absent = positions_in(keys if text is None else text, lookup) < 0
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
        cut = frictionless_row_order(resource, [e for e in errors if e.row_number == boundary])
        errors = (head + cut)[:LIMIT_ERRORS]
    return errors, max(found, len(errors))


def _looked_up_text(fields: tuple[str, ...], columns: dict[str, Column]) -> pa.Array | None:
    """A one-field foreign key's cells as read, where its key is exactly them (Column.text), else None."""
    return columns[fields[0]].text if len(fields) == 1 and fields[0] in columns else None


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

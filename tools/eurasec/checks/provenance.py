"""Quotes: every quote is a verbatim substring of its document, and holds the values it must support.

A fact table's document and quote are the fields of roles `document` and `quote`, whatever their names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model.codes import finding
from ..model.descriptor import DOCUMENT, END, QUOTE, START, Resource
from ..model.findings import Finding
from ..model.utf8 import code_point_starts
from ..read.kernels import byte_lengths, dictionary_codes, is_int64_digits, slices_equal
from ..read.strict import MAX_CELL_CHARS
from .context import Context, texts
from .quotes import Match, closest, find_all, fold

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from ..read.table import Table

_EXCERPT = 160
MAX_SUGGESTIONS = 200  # closest-passage searches per run: beyond this, a broken quote is reported without one
_NOT_SEARCHED = object()


def _excerpt(text: str) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def _within_limit(quotes: pa.Array) -> np.ndarray:
    """Quotes that are not empty and not over the cell limit (an oversized cell has its own finding)."""
    import pyarrow.compute as pc

    lengths = byte_lengths(quotes)
    usable = lengths > 0
    over = lengths > MAX_CELL_CHARS  # bytes: a cell may have more bytes than characters
    if over.any():
        usable &= pc.utf8_length(quotes).to_numpy(zero_copy_only=False) <= MAX_CELL_CHARS
    return usable


def _not_in_quote(values: pa.Array, quotes: pa.Array, usable: np.ndarray) -> Iterator[int]:
    """Rows whose value is not a substring of their quote. In slices (a million quotes as Python strings
    at once would be fresh memory by the hundred MB), each tested by `map` in C, not a Python loop."""
    import operator

    import numpy as np

    wanted = usable & (byte_lengths(values) > 0) & (byte_lengths(quotes) > 0)
    step = 1 << 16
    for start in range(0, len(values), step):
        chunk = slice(start, start + step)
        inside = map(operator.contains, quotes.slice(start, step).to_pylist(), values.slice(start, step).to_pylist())
        found = np.fromiter(inside, dtype=bool, count=len(wanted[chunk]))
        yield from (np.flatnonzero(wanted[chunk] & ~found) + start).tolist()


def _distinct_pairs(
    quote_codes: np.ndarray, doc_codes: np.ndarray, quote_count: int, keep: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (quote code, document code) pairs among the rows kept, without sorting them all.

    Almost every quote is cited from one document only: each quote's first document is found in
    one pass, and only the rows citing a quote from another document are made distinct by sorting.
    """
    import numpy as np

    if keep is not None:
        quote_codes, doc_codes = quote_codes[keep], doc_codes[keep]
    first_doc = np.full(quote_count, -1, dtype=np.int64)
    first_doc[quote_codes[::-1]] = doc_codes[::-1]  # the last write wins: each quote's first document
    used = np.flatnonzero(first_doc >= 0)
    other = first_doc[quote_codes] != doc_codes
    width = max(int(doc_codes.max(initial=0)) + 1, 1)
    extra_quotes, extra_docs = np.divmod(np.unique(quote_codes[other] * width + doc_codes[other]), width)
    return np.concatenate((used, extra_quotes)), np.concatenate((first_doc[used], extra_docs))


def _broken_pairs(ctx: Context, cited: list[tuple[pa.Array, pa.Array]]) -> set[tuple[str, str]]:
    """The (document, quote) pairs whose quote is not in the document's seed, among all tables' pairs.

    One sentence often supports rows in several tables: the tables' distinct pairs are made distinct
    once more across the package (integer codes, numpy), so each is searched once.
    """
    import pyarrow as pa

    if not cited:
        return set()
    quote_codes, quote_values = dictionary_codes(pa.concat_arrays([quotes for _, quotes in cited]))
    doc_codes, doc_values = dictionary_codes(pa.concat_arrays([docs for docs, _ in cited]))
    quote_index, doc_index = _distinct_pairs(quote_codes, doc_codes, len(quote_values))
    broken: set[tuple[str, str]] = set()
    for doc_code, doc in enumerate(doc_values.to_pylist()):
        text = ctx.seeds.get(doc)
        if text is None:
            continue  # an unreadable seed has its own finding
        of_doc = quote_index[doc_index == doc_code].tolist()
        quotes = texts(quote_values, of_doc)
        found = map(text.__contains__, quotes)  # in C: no Python loop per quote
        broken.update((doc, quote) for quote, ok in zip(quotes, found, strict=True) if not ok)
    return broken


def _offsets(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A column of offsets as integers, and which cells are one (written in the digits 0-9, at most 18 of
    them): any other cell has its type or required error from frictionless, and no offset check."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    typed = is_int64_digits(column).copy()
    values = np.zeros(len(column), dtype=np.int64)
    if typed.any():
        values[typed] = pc.cast(column.filter(pa.array(typed)), pa.int64()).to_numpy(zero_copy_only=False)
    return values, typed


@dataclass
class _Seeds:
    """Every seed's UTF-8 bytes one after another, and where each code point of each seed begins in them."""

    data: bytes
    first: dict[str, int]  # document id -> the index, in `before`, of its first code point
    length: dict[str, int]  # document id -> its code points
    before: np.ndarray  # int64: the byte offset of each code point of the joined seeds, and of their end


def _joined_seeds(ctx: Context) -> _Seeds:
    first, length, cps = {}, {}, 0
    for doc, text in ctx.seeds.items():
        first[doc], length[doc] = cps, len(text)
        cps += len(text)
    data = "".join(ctx.seeds.values()).encode("utf-8")
    # One seed ends where the next begins: the joined text's table serves each of them.
    return _Seeds(data, first, length, code_point_starts(data))


def _proven(
    seeds: _Seeds, docs: pa.Array, quotes: pa.Array, starts: np.ndarray, ends: np.ndarray, eligible: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The eligible rows that cite a seed, and those of them whose seed characters [start, end) are their
    quote (so the quote is in the seed).

    No Python code runs per row: the offsets become byte offsets into the joined seeds, and the slices
    there are compared with the quotes in one kernel call (read/kernels.slices_equal).
    """
    import numpy as np
    import pyarrow as pa

    doc_codes, doc_values = dictionary_codes(docs)
    names = doc_values.to_pylist()
    seeded = np.array([doc in seeds.first for doc in names], dtype=bool)
    first = np.array([seeds.first.get(doc, 0) for doc in names], dtype=np.int64)
    length = np.array([seeds.length.get(doc, -1) for doc in names], dtype=np.int64)
    if not len(names):
        return np.zeros(len(docs), dtype=bool), np.zeros(len(docs), dtype=bool)
    checked = eligible & seeded[doc_codes]
    rows = np.flatnonzero(checked & (starts <= ends) & (ends <= length[doc_codes]))
    base = first[doc_codes[rows]]
    cited = quotes if len(rows) == len(quotes) else quotes.take(pa.array(rows))  # usually every row: no copy
    same = slices_equal(seeds.data, seeds.before[base + starts[rows]], seeds.before[base + ends[rows]], cited)
    proven = np.zeros(len(docs), dtype=bool)
    proven[rows[same]] = True
    return checked, proven


@dataclass
class _Offsets:
    """A table's citations by offset: fields of roles `start` and `end`, read, and checked against the seeds."""

    start_field: str
    end_field: str
    starts: np.ndarray  # int64, 0 where a cell is no offset
    ends: np.ndarray
    wrong: np.ndarray  # bool: offsets to check (integers, a usable quote, a seed) that do not point at the quote
    proven: np.ndarray  # bool: offsets that point at the quote, which is thus in the seed


def _read_offsets(
    seeds: _Seeds, resource: Resource, table: Table, docs: pa.Array, quotes: pa.Array, usable: np.ndarray
) -> _Offsets | None:
    """The table's offsets, where it has fields of roles `start` and `end`, checked against the seeds."""
    start_field, end_field = resource.role_field(START), resource.role_field(END)
    if start_field is None or end_field is None:
        return None
    if start_field.name not in table.columns or end_field.name not in table.columns:
        return None
    starts, start_ok = _offsets(table.columns[start_field.name])
    ends, end_ok = _offsets(table.columns[end_field.name])
    checked, proven = _proven(seeds, docs, quotes, starts, ends, usable & start_ok & end_ok)
    return _Offsets(start_field.name, end_field.name, starts, ends, checked & ~proven, proven)


def _offset_findings(
    ctx: Context,
    resource: Resource,
    table: Table,
    offsets: _Offsets,
    document_field: str,
    quote_field: str,
    broken: set[tuple[str, str]],
) -> Iterator[Finding]:
    """Every citation's offsets: the seed's characters from start to end (code points, end exclusive)
    are the quote. A quote that is nowhere in its seed is quote-not-found instead; one that is elsewhere
    is told where, nearest first."""
    import numpy as np

    docs, quotes = table.columns[document_field], table.columns[quote_field]
    wrong = np.flatnonzero(offsets.wrong).tolist()
    for index, doc, quote in zip(wrong, texts(docs, wrong), texts(quotes, wrong), strict=True):
        if (doc, quote) in broken:
            continue  # quote-not-found says it
        text = ctx.seeds[doc]
        start, end = int(offsets.starts[index]), int(offsets.ends[index])
        found = find_all(text, quote)
        nearest = min(found, key=lambda at: (abs(at - start), at))
        where = (
            "its only occurrence"
            if len(found) == 1
            else f"the nearest of its {len(found)} occurrences (at {', '.join(map(str, found[:10]))}"
            + (", …" if len(found) > 10 else "")
            + ")"
        )
        there = text[start:end] if 0 <= start < end else ""
        shows = f'they are "{_excerpt(there)}"' if there else "they are no characters of the seed"
        start_field, end_field = offsets.start_field, offsets.end_field
        yield finding(
            "quote-offset-mismatch",
            resource.path,
            f"start {start} and end {end} do not point at the quote in {doc!r}: {shows}; the quote is at"
            f" {nearest}–{nearest + len(quote)}, {where}",
            line=table.line(index),
            field=start_field,
            column=ctx.column_number(resource, start_field),
            hint=f"Set {start_field} to {nearest} and {end_field} to {nearest + len(quote)}, if that"
            f' is the occurrence meant (`eurasec quote {doc} "…"` lists them all).',
        )


def check_quotes(ctx: Context) -> Iterator[Finding]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    seeds: _Seeds | None = None  # the seeds joined, made once a table cites them
    folded: dict[str, str] = {}  # folded seeds, made only when a broken quote needs its closest passage
    suggestions: dict[tuple[str, str], object] = {}
    tables, cited = [], []
    for resource in ctx.resources:
        table = ctx.table(resource)
        cites, quoted = resource.role_field(DOCUMENT), resource.role_field(QUOTE)
        if cites is None or quoted is None or table is None:
            continue  # a quote without a document is the roles check's to report
        if cites.name not in table.columns or quoted.name not in table.columns:
            continue  # a missing column is frictionless' to report
        docs, quotes = table.columns[cites.name], table.columns[quoted.name]
        usable = (byte_lengths(docs) > 0) & _within_limit(quotes)
        if seeds is None:
            seeds = _joined_seeds(ctx)
        offsets = _read_offsets(seeds, resource, table, docs, quotes, usable)
        # Offsets that point at their quote prove it is in the seed: only the other rows are searched.
        searched = usable & ~offsets.proven if offsets is not None else usable
        rows = pa.array(np.flatnonzero(searched))
        # The distinct (document, quote) pairs to search, as integer codes made distinct by numpy.
        quote_codes, quote_values = dictionary_codes(quotes.take(rows))
        doc_codes, doc_values = dictionary_codes(docs.take(rows))
        quote_index, doc_index = _distinct_pairs(quote_codes, doc_codes, len(quote_values))
        cited.append((doc_values.take(pa.array(doc_index)), quote_values.take(pa.array(quote_index))))
        doc_names = pc.unique(docs).drop_null().to_pylist()  # the table's documents, few
        tables.append((resource, table, usable, offsets, doc_names, cites.name, quoted.name))
    broken = _broken_pairs(ctx, cited)
    broken_quotes = pa.array(sorted({quote for _, quote in broken}), pa.string())
    for resource, table, usable_np, offsets, doc_names, document_field, quote_field in tables:
        file, column = resource.path, ctx.column_number(resource, quote_field)
        docs, quotes = table.columns[document_field], table.columns[quote_field]
        # Values that must stand in the quote (an alias, a trend's title and text).
        for f in resource.fields:
            if not f.in_quote or f.name not in table.columns:
                continue
            for index in _not_in_quote(table.columns[f.name], quotes, usable_np):
                value = table.columns[f.name][index].as_py()
                yield finding(
                    "value-not-in-quote",
                    file,
                    f"the {f.name} {_excerpt(value)!r} does not appear in the row's quote",
                    line=table.line(index),
                    field=f.name,
                    column=ctx.column_number(resource, f.name),
                )
        for doc in sorted(set(doc_names) & ctx.textless_documents):
            for index in np.flatnonzero(pc.equal(docs, doc).to_numpy(zero_copy_only=False)).tolist():
                yield finding(
                    "document-without-text",
                    file,
                    f"{doc!r} is registered without stored text, so no row can cite it: its quote cannot be checked",
                    line=table.line(index),
                    field=document_field,
                    column=ctx.column_number(resource, document_field),
                )
        if offsets is not None:
            yield from _offset_findings(ctx, resource, table, offsets, document_field, quote_field, broken)
        for doc in sorted(set(doc_names) & ctx.unreadable_documents):
            first = np.flatnonzero(pc.equal(docs, doc).to_numpy(zero_copy_only=False))
            if len(first):
                yield finding(
                    "quote-document-unknown",
                    file,
                    f"quotes citing {doc!r} cannot be checked because its seed failed its own checks",
                    line=table.line(int(first[0])),
                    field=document_field,
                    column=ctx.column_number(resource, document_field),
                )
        if not broken:
            continue
        suspect = usable_np & pc.is_in(quotes, value_set=broken_quotes).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(suspect).tolist()
        for index, doc, quote in zip(rows, texts(docs, rows), texts(quotes, rows), strict=True):
            key = (doc, quote)
            if key not in broken:
                continue  # the same text is a fine quote of another document
            if key not in suggestions:
                searched = len(suggestions) < MAX_SUGGESTIONS
                if searched and doc not in folded:
                    folded[doc] = fold(ctx.seeds[doc])
                suggestions[key] = closest(ctx.seeds[doc], quote, folded[doc]) if searched else _NOT_SEARCHED
            match = suggestions[key]
            if not isinstance(match, Match):  # not searched, or nothing alike
                alike = (
                    f" (not searched for the closest passage: validate does that for the first {MAX_SUGGESTIONS}"
                    " broken quotes of a run)"
                    if match is _NOT_SEARCHED
                    else ", and no passage of it is alike"
                )
                yield finding(
                    "quote-not-found",
                    file,
                    f"the quote is not in {doc!r}{alike}",
                    line=table.line(index),
                    field=quote_field,
                    column=column,
                    hint='Copy the passage from the seed exactly; `eurasec quote DOCUMENT_ID "text"` finds it.',
                )
            else:
                yield finding(
                    "quote-not-found",
                    file,
                    f"the quote is not in {doc!r}: it has {match.summary()}"
                    f" (closest passage at characters {match.start}–{match.end})",
                    line=table.line(index),
                    field=quote_field,
                    column=column,
                    hint=f"Use the seed's exact text: {_excerpt(match.passage)!r}.",
                )

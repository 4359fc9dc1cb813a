"""Quotes: every quote is a verbatim substring of its document, and holds the values it must support.

A fact table's document and quote are the fields of roles `document` and `quote`, whatever their names.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..model.codes import finding
from ..model.descriptor import DOCUMENT, QUOTE
from ..model.findings import Finding
from ..read.kernels import byte_lengths, dictionary_codes
from ..read.strict import MAX_CELL_CHARS
from .context import Context, texts
from .quotes import Match, closest, fold

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

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


def check_quotes(ctx: Context) -> Iterator[Finding]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

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
        # The table's distinct (document, quote) pairs, as integer codes made distinct by numpy.
        quote_codes, quote_values = dictionary_codes(quotes)
        doc_codes, doc_values = dictionary_codes(docs)
        quote_index, doc_index = _distinct_pairs(quote_codes, doc_codes, len(quote_values), usable)
        cited.append((doc_values.take(pa.array(doc_index)), quote_values.take(pa.array(quote_index))))
        tables.append((resource, table, usable, doc_values.to_pylist(), cites.name, quoted.name))
    broken = _broken_pairs(ctx, cited)
    broken_quotes = pa.array(sorted({quote for _, quote in broken}), pa.string())
    for resource, table, usable_np, doc_names, document_field, quote_field in tables:
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
                alike = "" if match is _NOT_SEARCHED else ", and no passage of it is alike"
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

"""Quotes: every quote is a verbatim substring of its document, and holds the values it must support."""

from __future__ import annotations

from collections.abc import Iterator

from ..codes import finding
from ..findings import Finding
from ..quotes import closest, fold
from ..read import MAX_CELL_CHARS
from .context import Context, texts

_EXCERPT = 160
MAX_SUGGESTIONS = 200  # closest-passage searches per run: beyond this, a broken quote is reported without one
_NOT_SEARCHED = object()


def _excerpt(text: str) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def check_quotes(ctx: Context) -> Iterator[Finding]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    folded: dict[str, str] = {}  # folded seeds, made only when a broken quote needs its closest passage
    suggestions: dict[tuple[str, str], object] = {}
    for resource in ctx.resources:
        table = ctx.table(resource)
        if not resource.is_fact_table or table is None or "quote" not in table.columns:
            continue
        file, column = resource.path, ctx.column_number(resource, "quote")
        docs, quotes = table.columns["document_id"], table.columns["quote"]
        usable = pc.and_(pc.not_equal(docs, ""), pc.not_equal(quotes, ""))
        usable = pc.and_(usable, pc.less_equal(pc.utf8_length(quotes), MAX_CELL_CHARS))
        usable_np = usable.to_numpy(zero_copy_only=False)
        # Values that must stand in the quote (an alias, a trend's title and text).
        quote_texts = None
        for f in resource.fields:
            if not f.in_quote or f.name not in table.columns:
                continue
            quote_texts = quote_texts if quote_texts is not None else quotes.to_pylist()
            values = table.columns[f.name].to_pylist()
            missing = [i for i, (v, q) in enumerate(zip(values, quote_texts, strict=True)) if v and q and v not in q]
            for index in missing:
                if usable_np[index]:
                    value = values[index]
                    yield finding(
                        "value-not-in-quote",
                        file,
                        f"the {f.name} {_excerpt(value)!r} does not appear in the row's quote",
                        line=table.line(index),
                        field=f.name,
                        column=ctx.column_number(resource, f.name),
                    )
        # Each distinct (document, quote) pair is looked up once.
        pairs_table = pa.table({"d": docs, "q": quotes}).filter(usable).group_by(["d", "q"]).aggregate([])
        bad_docs, bad_quotes = [], []
        for doc, quote in zip(pairs_table["d"].to_pylist(), pairs_table["q"].to_pylist(), strict=True):
            text = ctx.seeds.get(doc)
            if text is not None and quote not in text:
                bad_docs.append(doc)
                bad_quotes.append(quote)
        reported_documents: set[str] = set()
        for doc in sorted(set(pc.unique(docs).to_pylist()) & ctx.unreadable_documents):
            first = np.flatnonzero(pc.equal(docs, doc).to_numpy(zero_copy_only=False))
            if len(first) and doc not in reported_documents:
                reported_documents.add(doc)
                yield finding(
                    "quote-document-unknown",
                    file,
                    f"quotes citing {doc!r} cannot be checked because its seed failed its own checks",
                    line=table.line(int(first[0])),
                    field="document_id",
                    column=ctx.column_number(resource, "document_id"),
                )
        if not bad_quotes:
            continue
        suspect = pc.and_(usable, pc.is_in(quotes, value_set=pa.array(bad_quotes, pa.string())))
        rows = np.flatnonzero(suspect.to_numpy(zero_copy_only=False)).tolist()
        broken = set(zip(bad_docs, bad_quotes, strict=True))
        for index, doc, quote in zip(rows, texts(docs, rows), texts(quotes, rows), strict=True):
            if (doc, quote) not in broken:
                continue
            key = (doc, quote)
            if key not in suggestions:
                searched = len(suggestions) < MAX_SUGGESTIONS
                if searched and doc not in folded:
                    folded[doc] = fold(ctx.seeds[doc])
                suggestions[key] = closest(ctx.seeds[doc], quote, folded[doc]) if searched else _NOT_SEARCHED
            match = suggestions[key]
            if match is _NOT_SEARCHED or match is None:
                alike = "" if match is _NOT_SEARCHED else ", and no passage of it is alike"
                yield finding(
                    "quote-not-found",
                    file,
                    f"the quote is not in {doc!r}{alike}",
                    line=table.line(index),
                    field="quote",
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
                    field="quote",
                    column=column,
                    hint=f"Use the seed's exact text: {_excerpt(match.passage)!r}.",
                )

"""Quotes: every quote is a verbatim substring of its document, and holds the values it must support."""

from __future__ import annotations

from collections.abc import Iterator

from ..codes import finding
from ..findings import Finding
from ..quotes import closest, fold
from ..read import MAX_CELL_CHARS
from .context import Context

_EXCERPT = 160


def _excerpt(text: str) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def check_quotes(ctx: Context) -> Iterator[Finding]:
    folded = {doc: fold(text) for doc, text in ctx.seeds.items()}
    for resource in ctx.resources:
        if not resource.is_fact_table or not ctx.readable(resource):
            continue
        file, column = resource.path, ctx.column(resource, "quote")
        in_quote = [f.name for f in resource.fields if f.in_quote]
        reported_documents: set[str] = set()
        for row in ctx.rows(resource):
            doc, quote = row.get("document_id"), row.get("quote")
            if not doc or not quote or len(quote) > MAX_CELL_CHARS:
                continue  # a missing value is frictionless' finding, an oversized one the reader's
            for name in in_quote:
                value = row.get(name)
                if value and value not in quote:
                    yield finding(
                        "value-not-in-quote",
                        file,
                        f"the {name} {_excerpt(value)!r} does not appear in the row's quote",
                        line=row.line,
                        field=name,
                        column=ctx.column(resource, name),
                    )
            text = ctx.seeds.get(doc)
            if text is None:
                if doc in ctx.unreadable_documents and doc not in reported_documents:
                    reported_documents.add(doc)
                    yield finding(
                        "quote-document-unknown",
                        file,
                        f"quotes citing {doc!r} cannot be checked because its seed failed its own checks",
                        line=row.line,
                        field="document_id",
                        column=ctx.column(resource, "document_id"),
                    )
                continue  # an unknown document id is frictionless' foreign-key error
            if quote in text:
                continue
            match = closest(text, quote, folded[doc])
            if match is None:
                yield finding(
                    "quote-not-found",
                    file,
                    f"the quote is not in {doc!r}, and no passage of it is alike",
                    line=row.line,
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
                    line=row.line,
                    field="quote",
                    column=column,
                    hint=f"Use the seed's exact text: {_excerpt(match.passage)!r}.",
                )

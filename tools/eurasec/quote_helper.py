"""The contributor's quote helper: where a passage is in a seed, or what to change so that it is.

It reads what validate reads, by the same rules: the documents table only where its path leads
inside the package through no symlink, a seed only as a plain file inside seeds/ (no symlink,
no '..', not absolute), both as regular files of bounded size. Anything else is a QuoteError
(exit 2), and nothing outside the package is read. Its output shows the package's text with
control, format and invisible characters as visible escapes (render.escape_text); the quote's
own line breaks and tabs are kept.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .descriptor import DescriptorError, load_package, read_regular
from .quotes import Match, closest, find_all
from .render import escape_text

MAX_TABLE_BYTES = 1 << 30


class QuoteError(Exception):
    """The document cannot be found or read."""


@dataclass(frozen=True)
class QuoteResult:
    document_id: str
    query: str
    starts: list[int]  # every exact occurrence
    match: Match | None  # the exact or the closest passage

    @property
    def exact(self) -> bool:
        return bool(self.starts)


def seed_text(descriptor: str | Path, document_id: str) -> str:
    from .checks.seeds import MAX_SEED_BYTES, unsafe_seed_reason
    from .read import unlimited_fields

    try:
        package = load_package(descriptor)
        documents = package.resource("documents")
        table = package.table_path(documents)  # refuses a path outside the package or through a symlink
    except KeyError as exc:
        raise QuoteError(f"cannot read the package: it has no resource {exc}") from None
    except DescriptorError as exc:
        raise QuoteError(f"cannot read the package: {exc}") from None
    try:
        text = read_regular(table, MAX_TABLE_BYTES).decode("utf-8").removeprefix("\ufeff")
        with unlimited_fields():
            rows = {row.get("id"): row for row in csv.DictReader(io.StringIO(text, newline=""))}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise QuoteError(f"cannot read {documents.path}: {exc}") from None
    if document_id not in rows:
        known = ", ".join(sorted(k for k in rows if isinstance(k, str) and k)) or "none"
        raise QuoteError(f"no document {document_id!r} in {documents.path}; known: {known}")
    relative = rows[document_id].get("path") or ""
    reason = unsafe_seed_reason(package.root, relative)
    if reason:
        raise QuoteError(f"the seed path of {document_id!r}, {relative!r}, is not safe to read: it {reason}")
    try:
        return read_regular(package.root / relative, MAX_SEED_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuoteError(f"cannot read the seed of {document_id!r}: {exc}") from None


def find_quote(descriptor: str | Path, document_id: str, query: str) -> QuoteResult:
    text = seed_text(descriptor, document_id)
    return QuoteResult(document_id, query, find_all(text, query), closest(text, query))


def _mark(match: Match) -> str:
    """The passage with each difference shown as [seed's text → what was written]."""
    out, at = [], match.start
    for d in match.differences:
        out.append(match.passage[at - match.start : d.offset - match.start])
        out.append(f"[{d.seed}→{d.wrote}]")
        at = d.offset + len(d.seed)
    out.append(match.passage[at - match.start :])
    return "".join(out)


def render_quote(result: QuoteResult) -> str:
    """The answer for a terminal; the package's text (and the query) with unsafe characters escaped."""
    return escape_text(_render_quote(result), keep="\n\t")


def _render_quote(result: QuoteResult) -> str:
    if result.exact:
        n = len(result.starts)
        places = ", ".join(f"{s}–{s + len(result.query)}" for s in result.starts)
        lines = [
            f"found in {result.document_id} {n} time{'s' if n > 1 else ''}, at characters {places}"
            " (0-based, end exclusive)",
            "quote:",
            result.query,
        ]
        return "\n".join(lines) + "\n"
    if result.match is None:
        return f"not found in {result.document_id}, and no passage of it is alike\n"
    m = result.match
    lines = [
        f"not found in {result.document_id}; the closest passage is at characters {m.start}–{m.end}",
        "differences ([seed → yours]):",
        _mark(m),
        "",
        f"what differs: {m.summary()}",
        "exact quote to use:",
        m.passage,
    ]
    return "\n".join(lines) + "\n"

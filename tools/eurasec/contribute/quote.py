"""The contributor's quote helper: where a passage is in a seed, or what to change so that it is.

It looks for the text asked for (without white space at its ends, which no quote has) exactly;
else ignoring case, the width of white space (a line break counts as a space), dashes, quotes and
odd spaces; else for the closest passage. It always offers the seed's own characters, trimmed,
with their offsets in Unicode code points, 0-based and end exclusive: for every occurrence a line
`start,end = S,E` whose S,E goes into the row's start and end columns as it is. Where the passage
occurs more than once, each occurrence is listed with a little of the text around it, and the
contributor chooses the one the row cites (validate proves only that the offsets point at the quote).

It reads what validate reads, by the same rules: the documents table (the resource of role `documents`,
its ids its primary key, its seeds' paths its field of role `seed-path`) only where its path leads
inside the package through no symlink, a seed only as a plain file inside seeds/ (no symlink,
no '..', not absolute), both as regular files of bounded size. Anything else is a QuoteError
(exit 2), and nothing outside the package is read. Its output shows the package's text with
control, format and invisible characters as visible escapes (model.text.escape_text); the quote's
own line breaks and tabs are kept.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from ..checks.quotes import Difference, Match, _differences, closest, find_all, fold
from ..model.descriptor import DOCUMENTS, ROLE_KEY, SEED_PATH, DescriptorError, Package, load_package
from ..model.paths import read_regular
from ..model.text import escape_text

MAX_TABLE_BYTES = 1 << 30
CONTEXT_CHARS = 30  # characters of the seed shown on each side of an occurrence
PASSAGE_CHARS = 40  # an occurrence's own text longer than this is shown shortened in the middle


class QuoteError(Exception):
    """The document cannot be found or read."""


@dataclass(frozen=True)
class Occurrence:
    """One place of the passage in the seed, with a little of the text around it."""

    start: int  # code points, 0-based
    end: int  # exclusive: seed[start:end] == passage
    passage: str
    before: str  # up to CONTEXT_CHARS characters of the seed before it
    after: str  # ...and after it


@dataclass(frozen=True)
class QuoteResult:
    document_id: str
    query: str  # what was asked for, without white space at its ends (a quote has none)
    starts: list[int]  # every exact occurrence of query
    match: Match | None  # the exact passage, the one found ignoring case and spacing, or the closest
    loose: list[int] = field(default_factory=list)  # starts of every passage found ignoring case and spacing
    trimmed: bool = False  # the text asked for had white space at its ends, which was left out
    without: str = ""  # the leading "the" left out to find the passage
    occurrences: list[Occurrence] = field(default_factory=list)  # every passage offered, in the seed's order

    @property
    def exact(self) -> bool:
        return bool(self.starts)


def seed_text(descriptor: str | Path, document_id: str) -> str:
    from ..checks.seeds import MAX_SEED_BYTES, unsafe_seed_reason
    from ..read.strict import parse

    try:
        package = load_package(descriptor)
        documents = package.documents
        seed_path = documents.role_field(SEED_PATH) if documents else None
        if documents is None or seed_path is None or len(documents.primary_key) != 1:
            raise QuoteError(f"cannot find the seeds: {_no_seeds(package)} (run eurasec validate)")
        table = package.table_path(documents)  # refuses a path outside the package or through a symlink
    except DescriptorError as exc:
        raise QuoteError(f"cannot read the package: {exc}") from None
    key = documents.primary_key[0]
    try:
        parsed = parse(read_regular(table, MAX_TABLE_BYTES).decode("utf-8"), documents.path)
    except (OSError, UnicodeDecodeError) as exc:
        raise QuoteError(f"cannot read {documents.path}: {exc}") from None
    broken = next((f for f in parsed.findings if f.code == "csv-malformed"), None)
    if broken is not None:
        raise QuoteError(f"cannot read {documents.path}: line {broken.line}: {broken.message}")
    header = parsed.header or []
    rows = {row.get(key): row for row in (dict(zip(header, r, strict=False)) for r in parsed.records if r)}
    if document_id not in rows:
        known = ", ".join(sorted(k for k in rows if isinstance(k, str) and k)) or "none"
        raise QuoteError(f"no document {document_id!r} in {documents.path}; known: {known}")
    relative = rows[document_id].get(seed_path.name) or ""
    if not relative:
        raise QuoteError(
            f"the document {document_id!r} is registered without stored text ({seed_path.name} is empty), so"
            " there is nothing to quote: cite the document whose text is stored (a copy or translation of it)"
        )
    reason = unsafe_seed_reason(package.root, relative)
    if reason:
        raise QuoteError(f"the seed path of {document_id!r}, {relative!r}, is not safe to read: it {reason}")
    try:
        return read_regular(package.root / relative, MAX_SEED_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuoteError(f"cannot read the seed of {document_id!r}: {exc}") from None


def _no_seeds(package: Package) -> str:
    """Why the package's seeds cannot be found by their roles."""
    documents = package.documents
    count = len(package.resources_with_role(DOCUMENTS))
    if count > 1:
        return f"{count} resources declare {ROLE_KEY} {DOCUMENTS!r}, and only one may"
    if documents is None:
        return f"no resource declares {ROLE_KEY} {DOCUMENTS!r}"
    if documents.role_field(SEED_PATH) is None:
        return f"no field of its table of documents, {documents.name!r}, declares {ROLE_KEY} {SEED_PATH!r}"
    return f"its table of documents, {documents.name!r}, has no primary key of one field"


_WHITE = re.compile(r"\s+")


class _Loose:
    """A text folded (case, dashes, quotes, odd spaces: quotes.fold) with every run of white space as
    one space, and the way back from an offset in it to an offset in the text."""

    def __init__(self, text: str) -> None:
        folded = fold(text)  # as long as text: an offset in one is an offset in the other
        pieces: list[str] = []
        self._at: list[int] = []  # where each piece starts in the loose text...
        self._from: list[int] = []  # ...and in the original
        loose = last = 0
        for white in _WHITE.finditer(folded):
            for start, piece in ((last, folded[last : white.start()]), (white.start(), " ")):
                if piece:
                    self._at.append(loose)
                    self._from.append(start)
                    pieces.append(piece)
                    loose += len(piece)
            last = white.end()
        if last < len(folded):
            self._at.append(loose)
            self._from.append(last)
            pieces.append(folded[last:])
        self.text = "".join(pieces)

    @staticmethod
    def of_query(query: str) -> str:
        return _WHITE.sub(" ", fold(query))

    def original(self, offset: int) -> int:
        """The text's offset of the loose text's character at offset."""
        piece = bisect_right(self._at, offset) - 1
        return self._from[piece] + (offset - self._at[piece])


_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def _loose_differences(passage: str, start: int, query: str) -> tuple[Difference, ...]:
    """Token by token (a word, a run of white space, a sign), where a passage found ignoring case,
    spacing, dashes and quotes differs from the query: the two have the same tokens but for those."""
    seed = list(_TOKEN.finditer(passage))
    wrote = list(_TOKEN.finditer(query))

    def key(token: str) -> str:
        return " " if token.isspace() else fold(token)

    if [key(t.group()) for t in seed] != [key(t.group()) for t in wrote]:
        return _differences(passage, start, query)  # tokens split otherwise: align them as for any quote
    return tuple(
        Difference(start + a.start(), b.group(), a.group())
        for a, b in zip(seed, wrote, strict=True)
        if a.group() != b.group()
    )


def _trimmed(text: str, match: Match, query: str) -> Match:
    """The match without white space at its ends (a quote has none), its differences worked out again."""
    start, end = match.start, match.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if (start, end) == (match.start, match.end):
        return match
    passage = text[start:end]
    return Match(start, end, passage, False, _differences(passage, start, query))


_ARTICLE = re.compile(r"the\s+(?=\S)", re.IGNORECASE)


def _occurrence(text: str, start: int, end: int) -> Occurrence:
    return Occurrence(
        start, end, text[start:end], text[max(0, start - CONTEXT_CHARS) : start], text[end : end + CONTEXT_CHARS]
    )


def find_quote(descriptor: str | Path, document_id: str, query: str) -> QuoteResult:
    """Where query is in the document: exactly; else ignoring case, spacing, dashes and quotes (and, for a
    name, a leading "the" that the text does not have); else the closest passage. Every passage offered
    is the seed's own text, without white space at its ends."""
    text = seed_text(descriptor, document_id)
    wanted = query.strip()
    trimmed = wanted != query
    starts = find_all(text, wanted)
    if starts:
        occurrences = [_occurrence(text, s, s + len(wanted)) for s in starts]
        return QuoteResult(document_id, wanted, starts, closest(text, wanted), trimmed=trimmed, occurrences=occurrences)
    if wanted:
        loose = _Loose(text)
        article = _ARTICLE.match(wanted)
        # Aliases are written without a leading "the" (CONTRIBUTING): "the Gulf Cooperation Council"
        # finds "Gulf Cooperation Council" where the text has no "the" before it.
        for without in ("", article.group() if article else None):
            if without is None:
                continue
            rest = wanted[len(without) :]
            folded = loose.of_query(rest)
            found = find_all(loose.text, folded)
            if not found:
                continue
            places = [loose.original(i) for i in found]
            spans = [(loose.original(i), loose.original(i + len(folded) - 1) + 1) for i in found]
            start, end = spans[0]
            passage = text[start:end]
            differences = _loose_differences(passage, start, rest)
            if without:
                differences = (Difference(start, without, ""), *differences)
            match = Match(start, end, passage, False, differences)
            occurrences = [_occurrence(text, a, b) for a, b in spans]
            return QuoteResult(document_id, wanted, [], match, places, trimmed, without.strip(), occurrences)
    nearest = closest(text, wanted)
    offered = nearest and _trimmed(text, nearest, wanted)
    occurrences = [_occurrence(text, offered.start, offered.end)] if offered else []
    return QuoteResult(document_id, wanted, [], offered, trimmed=trimmed, occurrences=occurrences)


def _mark(match: Match) -> str:
    """The passage with each difference shown as [seed's text → what was written]."""
    out, at = [], match.start
    for d in match.differences:
        out.append(match.passage[at - match.start : d.offset - match.start])
        out.append(f"[{d.seed}→{d.wrote}]")
        at = d.offset + len(d.seed)
    out.append(match.passage[at - match.start :])
    return "".join(out)


def paste_line(start: int, end: int) -> str:
    """What the row's start and end columns hold, as `eurasec quote` prints it: `start,end = 685,708`."""
    return f"start,end = {start},{end}"


MAX_LISTED = 20  # occurrences listed with their context; the first line names every one


def _flat(text: str) -> str:
    return _WHITE.sub(" ", text)


def _in_context(o: Occurrence) -> str:
    """The occurrence on one line, marked with [ ] in the text around it (white space shown as one space)."""
    passage = _flat(o.passage)
    if len(passage) > PASSAGE_CHARS:
        half = (PASSAGE_CHARS - 1) // 2
        passage = f"{passage[:half]}…{passage[-half:]}"
    before = ("…" if o.start > len(o.before) else "") + _flat(o.before)
    after = _flat(o.after) + ("…" if len(o.after) == CONTEXT_CHARS else "")
    return f"{before}[{passage}]{after}"


def _offsets(result: QuoteResult, quote: str) -> list[str]:
    """The lines to paste: one, or one per occurrence with its context and a word on choosing."""
    found = result.occurrences
    if not found:
        return []
    if len(found) == 1:
        return [paste_line(found[0].start, found[0].end)]
    lines = [
        f"it occurs {len(found)} times: choose the one your row cites, and use its start,end"
        " (each shown in [ ] with the text around it):"
    ]
    width = max(len(paste_line(o.start, o.end)) for o in found[:MAX_LISTED])
    for o in found[:MAX_LISTED]:
        lines.append(f"  {paste_line(o.start, o.end):<{width}}   {_in_context(o)}")
        if o.passage != quote:
            lines.append("      (its own text differs from the quote below: run eurasec quote with that text)")
    if len(found) > MAX_LISTED:
        lines.append(f"  … and {len(found) - MAX_LISTED} more: quote a longer passage to tell them apart")
    return lines


def render_quote(result: QuoteResult) -> str:
    """The answer for a terminal; the package's text (and the query) with unsafe characters escaped."""
    return escape_text(_render_quote(result), keep="\n\t")


def _times(n: int) -> str:
    return f"{n} time{'s' if n > 1 else ''}"


def _render_quote(result: QuoteResult) -> str:
    note = ["(the white space at its ends is left out: a quote has none)"] if result.trimmed else []
    if result.exact:
        places = ", ".join(f"{s}–{s + len(result.query)}" for s in result.starts)
        lines = [
            f"found in {result.document_id} {_times(len(result.starts))}, at characters {places}"
            " (0-based, end exclusive)",
            *_offsets(result, result.query),
            "quote:",
            result.query,
            *note,
        ]
        return "\n".join(lines) + "\n"
    if result.match is None:
        return f"not found in {result.document_id}, and no passage of it is alike\n"
    m = result.match
    if result.loose:
        others = len(result.loose) - 1
        first = f"found in {result.document_id} at characters {m.start}–{m.end} (0-based, end exclusive)"
        if others:
            places = "place" if others == 1 else "places"
            first += f" and in {others} more {places}, starting at {', '.join(map(str, result.loose[1:]))}"
        ways = [f'without the leading "{result.without}"'] if result.without else []
        if len(m.differences) > len(ways):
            ways.append("ignoring case, spacing, dashes and quotes")
        head = [f"{first}, but only {' and '.join(ways)}"]
    else:
        head = [f"not found in {result.document_id}; the closest passage is at characters {m.start}–{m.end}"]
    lines = [
        *head,
        "differences ([seed → yours]):",
        _mark(m),
        "",
        f"what differs: {m.summary()}",
        *_offsets(result, m.passage),
        "exact quote to use:",
        m.passage,
        *note,
    ]
    return "\n".join(lines) + "\n"

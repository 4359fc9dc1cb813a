"""Find a quote in a document, exactly or, failing that, the closest passage and how it differs."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher

# Characters that contributors retype as their plain-keyboard look-alikes. Folding them (one
# character to one, so offsets stay valid) lets us find the passage a quote was meant to be.
_FOLD = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
    **dict.fromkeys("\u00a0\u2002\u2003\u2007\u2009\u200a\u202f", " "),
}
_FRIENDLY = {
    "-": "a hyphen",
    "\u2013": "an en dash",
    "\u2014": "an em dash",
    "'": "a straight apostrophe",
    "\u2019": "a curly apostrophe",
    "\u2018": "a curly opening quote",
    '"': "a straight double quote",
    "\u201c": "a curly opening double quote",
    "\u201d": "a curly closing double quote",
    " ": "a plain space",
    "\u00a0": "a no-break space",
    "\n": "a line break",
}
MAX_DIFFERENCES = 5
MAX_FUZZY_CHARS = 5_000  # beyond this a fuzzy search costs seconds; such a quote is wrong anyway


def fold(text: str) -> str:
    """Same length as text: typographic variants made plain, letters lowercased where that keeps one character."""
    out = []
    for ch in text:
        ch = _FOLD.get(ch, ch)
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
    return "".join(out)


def describe_char(ch: str) -> str:
    if ch in _FRIENDLY:
        return f"{_FRIENDLY[ch]} ({_show(ch)})"
    try:
        return f'"{ch}" ({unicodedata.name(ch).lower()})'
    except ValueError:
        return f"U+{ord(ch):04X}"


def _show(text: str) -> str:
    return '"' + text.replace("\n", "\\n").replace("\u00a0", "\\u00a0") + '"'


def describe(wrote: str, seed: str) -> str:
    """One difference, in words: what the quote has where the seed has something else."""
    if wrote and seed:
        if len(wrote) == 1 and len(seed) == 1:
            return f"{describe_char(wrote)} where the seed has {describe_char(seed)}"
        return f"{_show(wrote)} where the seed has {_show(seed)}"
    if wrote:
        return f"{_show(wrote)}, which the seed does not have"
    return f"{_show(seed)} missing (the seed has it)"


@dataclass(frozen=True)
class Difference:
    offset: int  # character offset in the document where the difference starts
    wrote: str
    seed: str

    def __str__(self) -> str:
        return describe(self.wrote, self.seed)


@dataclass(frozen=True)
class Match:
    start: int  # character offset in the document, 0-based
    end: int  # exclusive
    passage: str  # the document's text between start and end: the exact quote to use
    exact: bool
    differences: tuple[Difference, ...] = field(default=())

    def summary(self) -> str:
        shown = "; ".join(str(d) for d in self.differences[:MAX_DIFFERENCES])
        more = len(self.differences) - MAX_DIFFERENCES
        return shown + (f"; and {more} more" if more > 0 else "")


def find_all(text: str, quote: str) -> list[int]:
    """Every start offset of quote in text."""
    starts, i = [], text.find(quote)
    while quote and i >= 0:
        starts.append(i)
        i = text.find(quote, i + 1)
    return starts


_TOKEN = re.compile(r"\w+|\s|[^\w\s]")
MIN_SIMILARITY = 0.7


def _tokens(text: str) -> tuple[list[str], list[int]]:
    found = list(_TOKEN.finditer(text))
    return [m.group() for m in found], [m.start() for m in found] + [len(text)]


def _differences(passage: str, start: int, quote: str) -> tuple[Difference, ...]:
    """Word-level differences (single characters for punctuation and spaces), so they read naturally."""
    seed_tokens, seed_at = _tokens(passage)
    quote_tokens, quote_at = _tokens(quote)
    ops = SequenceMatcher(None, seed_tokens, quote_tokens, autojunk=False).get_opcodes()
    return tuple(
        Difference(
            offset=start + seed_at[i1],
            wrote=quote[quote_at[j1] : quote_at[j2]],
            seed=passage[seed_at[i1] : seed_at[i2]],
        )
        for tag, i1, i2, j1, j2 in ops
        if tag != "equal"
    )


def closest(text: str, quote: str, folded_text: str | None = None) -> Match | None:
    """The exact match, or the passage of text most like quote with its differences; None if nothing is alike."""
    if not quote:
        return None
    exact = text.find(quote)
    if exact >= 0:
        return Match(exact, exact + len(quote), quote, True)
    if len(quote) > MAX_FUZZY_CHARS:
        return None
    folded_text = folded_text if folded_text is not None else fold(text)
    folded_quote = fold(quote)
    i = folded_text.find(folded_quote)
    if i >= 0:  # only typography or case differs
        passage = text[i : i + len(quote)]
        return Match(i, i + len(quote), passage, False, _differences(passage, i, quote))
    # Anchor on the longest run the two share, then align the quote around it.
    matcher = SequenceMatcher(None, folded_text, folded_quote, autojunk=False)
    anchor = matcher.find_longest_match(0, len(folded_text), 0, len(folded_quote))
    if anchor.size < min(8, max(3, len(quote) // 2)):
        return None
    slack = max(10, len(quote) // 4)
    lo = max(0, anchor.a - anchor.b - slack)
    hi = min(len(text), anchor.a + (len(quote) - anchor.b) + slack)
    window = folded_text[lo:hi]
    diagonal = anchor.a - lo - anchor.b
    # Keep the runs that lie on the anchor's diagonal: a short run far away is a coincidence.
    blocks = [
        b
        for b in SequenceMatcher(None, window, folded_quote, autojunk=False).get_matching_blocks()
        if b.size >= 3 and abs((b.a - b.b) - diagonal) <= slack
    ]
    start = lo + blocks[0].a
    end = lo + blocks[-1].a + blocks[-1].size
    # Whole words only, so that the passage offered as the fix is a sensible quote.
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    # A quote that validate accepts has no white space at its ends (untrimmed-space): nor has the one offered.
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    passage = text[start:end]
    if not passage or SequenceMatcher(None, fold(passage), folded_quote, autojunk=False).ratio() < MIN_SIMILARITY:
        return None
    return Match(start, end, passage, False, _differences(passage, start, quote))

"""User text made safe to show: the invisible characters, named once, and their escapes.

The hygiene check reports these characters inside a cell; the reporters show them as visible
escapes, so a cell can never steer a terminal or render as a link, an image or HTML.
"""

from __future__ import annotations

import json
import re

# Unicode's format characters (general category Cf) as Python 3.11's unicodedata (Unicode 14) has
# them; tests/test_validate.py checks this list against unicodedata.
FORMAT_RANGES: tuple[tuple[int, int], ...] = (
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
# Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt, the same in Unicode 14
# and 15; checked against Perl's \p{Default_Ignorable_Code_Point}): characters that show as nothing.
IGNORABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0xAD, 0xAD),
    (0x34F, 0x34F),  # combining grapheme joiner
    (0x61C, 0x61C),
    (0x115F, 0x1160),  # Hangul fillers
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),  # Mongolian variation selectors
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),  # tags and variation selectors supplement
)
# Not ignorable, but a line break in disguise (NEL, line and paragraph separators) or blank to the eye.
BLANK_RANGES: tuple[tuple[int, int], ...] = ((0x85, 0x85), (0x2028, 0x2029), (0x2800, 0x2800))
# Every character that a cell must not hold (the hygiene check) and that output never shows raw:
# the above and the control characters (C0 but for the line break a quote may carry, DEL, C1).
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0, 0x9),
    (0xB, 0x1F),
    (0x7F, 0x9F),
    *FORMAT_RANGES,
    *IGNORABLE_RANGES,
    *BLANK_RANGES,
)


def _class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "") for a, b in ranges)


# Output shows none of these raw: the invisible ones, the line break, and lone surrogates (which
# cannot even be encoded as UTF-8; a JSON descriptor can hold them).
_UNSAFE = re.compile(f"[{_class(INVISIBLE_RANGES)}\\n\\ud800-\\udfff]")
_UNSAFE_IN_JSON = re.compile(f"[{_class(INVISIBLE_RANGES)}\\ud800-\\udfff]")  # its line breaks are its own


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def escape_text(text: str, keep: str = "") -> str:
    """text with every unsafe character shown as a visible escape (\\x1b, \\u202e); those in keep stay."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape_char(m.group()), text)


def _json_char(ch: str) -> str:
    n = ord(ch)
    if n < 0x10000:
        return f"\\u{n:04x}"
    n -= 0x10000
    return f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}"


def safe_json(value: object) -> str:
    """JSON, readable UTF-8, with no unsafe character raw: each is a \\u escape (the same data)."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    # Such characters can only stand inside JSON's strings (json escapes C0 there), where \\u escapes
    # mean the same; the line breaks between values are json's own.
    return _UNSAFE_IN_JSON.sub(lambda m: _json_char(m.group()), text)


# Markdown's punctuation that could start markup in a table cell; [ and ] may stay, since with ( and
# ! escaped no link or image can form. ':' before '//' and '.' after 'www' keep URLs from autolinking.
_MD_PUNCTUATION = re.compile(r"([\\`*_{}()#+!|~]|:(?=//))")
_MD_WWW = re.compile(r"(?i)\b(www)\.")


def escape_markdown(text: str) -> str:
    """text that renders as itself in a Markdown table cell: no link, image, HTML, code or emphasis.

    Unsafe characters (and line breaks) become visible escapes, then & < > become entities and
    Markdown's punctuation is escaped with backslashes.
    """
    text = escape_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_WWW.sub(r"\1\\.", _MD_PUNCTUATION.sub(r"\\\1", text))

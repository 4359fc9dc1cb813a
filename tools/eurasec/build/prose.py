"""The descriptions' Markdown, as safe HTML and as plain text, and the datasheet read by its sections.

The descriptor's descriptions use a small part of Markdown: `code`, [links](https://...), *emphasis*
and **strong**, and paragraphs. `markdown_html` renders exactly that, escaping everything else (a
description is data: `<script>` in one is shown, never run); `markdown_plain` gives the same text
without the marks, for the places that show plain text only (Datasette's column descriptions).

`datasheet_sections` reads docs/datasheet.md by its `##` headings and, within a section, by its
bullets' bold labels (`- **Is anything missing?** ...`), so that the Croissant and dataset-card
exporters take its text rather than a copy of it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

DATASHEET = Path("docs") / "datasheet.md"  # beside the descriptor, in the package's root
MAX_DATASHEET_BYTES = 1024**2  # a datasheet is a page of prose: anything larger is not one

_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_SAFE_URL = re.compile(r"(?:https?://|mailto:|#|\.{0,2}/)[^\s\"'<>]*|[A-Za-z0-9._/-]+(?:#[\w-]*)?")
_MARK = "\x00"  # never in a description (validate rejects control characters): marks a code span's place


def _inline_html(text: str) -> str:
    """One paragraph's Markdown as HTML: code spans first (nothing inside them is Markdown), then the rest."""
    codes: list[str] = []

    def keep(match: re.Match[str]) -> str:
        codes.append(f"<code>{html.escape(match.group(1), quote=False)}</code>")
        return f"{_MARK}{len(codes) - 1}{_MARK}"

    out = html.escape(_CODE.sub(keep, text.replace(_MARK, "")), quote=False)

    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), html.unescape(match.group(2))
        if not _SAFE_URL.fullmatch(url):  # javascript:, data: and the like stay text
            return match.group(0)
        return f'<a href="{html.escape(url, quote=True)}">{label}</a>'

    out = _LINK.sub(link, out)
    out = _STRONG.sub(r"<strong>\1</strong>", out)
    out = _EMPHASIS.sub(r"<em>\1</em>", out)
    return re.sub(f"{_MARK}(\\d+){_MARK}", lambda m: codes[int(m.group(1))], out)


def markdown_html(text: str) -> str:
    """Markdown as HTML: a <p> per paragraph (blank-line separated), each line break a space."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(f"<p>{_inline_html(p)}</p>" for p in paragraphs)


def markdown_plain(text: str) -> str:
    """Markdown as plain text: code spans without their backticks, links as their text, no emphasis marks."""
    out = _CODE.sub(r"\1", text)
    out = _LINK.sub(r"\1", out)
    out = _STRONG.sub(r"\1", out)
    return _EMPHASIS.sub(r"\1", out)


def without_relative_links(text: str) -> str:
    """Markdown whose links into the repository (relative ones) become their text: outside the repository,
    as in a release folder, they would lead nowhere. Web links stay."""
    return _LINK.sub(lambda m: m.group(0) if re.match(r"[a-z]+:", m.group(2)) else m.group(1), text)


@dataclass
class Section:
    """A `##` section of the datasheet: its text (without the heading), and its bullets by bold label."""

    title: str
    text: str
    items: dict[str, str] = field(default_factory=dict)  # label without its `**` -> the bullet's text after it


_ITEM = re.compile(r"^- \*\*(?P<label>[^*]+)\*\*\s*(?P<text>.*)$")


def parse_sections(markdown: str) -> tuple[str, list[Section]]:
    """(the title, from the `#` heading; the `##` sections in order). Bullets run on over indented lines."""
    title, sections = "", []
    current: list[str] | None = None
    for line in [*markdown.splitlines(), "## "]:
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        elif line.startswith("## "):
            if current is not None:
                sections.append(_section(current[0], current[1:]))
            current = [line[3:].strip()]
        elif current is not None:
            current.append(line)
    return title, [s for s in sections if s.title]


def _section(title: str, lines: list[str]) -> Section:
    text = "\n".join(lines).strip("\n")
    items: dict[str, str] = {}
    label = None
    for line in lines:
        match = _ITEM.match(line)
        if match:
            label = match["label"].strip()
            items[label] = match["text"].strip()
        elif label is not None and line.startswith("  ") and line.strip():
            items[label] += " " + line.strip()
        else:
            label = None
    return Section(title, text, items)


def read_datasheet(root: Path) -> list[Section]:
    """The package's datasheet (docs/datasheet.md beside its descriptor) by sections; [] when it has none,
    or one that is not a readable UTF-8 text file of a page's size. Never raises for a bad file."""
    path = root / DATASHEET
    try:
        if not path.is_file() or path.stat().st_size > MAX_DATASHEET_BYTES:
            return []
        return parse_sections(path.read_text(encoding="utf-8"))[1]
    except (OSError, UnicodeDecodeError):
        return []


def find_section(sections: list[Section], *words: str) -> Section | None:
    """The first section whose title contains every word given (case-insensitive), or None."""
    for section in sections:
        if all(word.lower() in section.title.lower() for word in words):
            return section
    return None


def find_item(sections: list[Section], label_start: str) -> str | None:
    """The text of the first bullet, in any section, whose bold label starts with these words, or None."""
    for section in sections:
        for label, text in section.items.items():
            if label.lower().startswith(label_start.lower()):
                return text
    return None

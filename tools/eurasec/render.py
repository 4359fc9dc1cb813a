"""The one reporter: a Report as text, JSON or GitHub annotations, and a job summary in Markdown.

Every finding carries text from the package (cells, file and field names), which may hold
anything. Nothing of it reaches a terminal or a page raw:

- text and GitHub annotations: control characters (C0, DEL, C1), format characters (bidi
  overrides such as U+202E, zero-width ones), Unicode's default-ignorable characters, line
  and paragraph separators, braille blank and lone surrogates are shown as visible escapes
  (\\x1b, \\u202e, \\U000e0001), so an ESC, CSI or OSC 8 sequence is printed, never obeyed;
- JSON: the same characters are written as \\u escapes (json itself escapes only C0), so the
  output is still the same JSON data, but holds none of them raw;
- the Markdown job summary: escaped as for text, then HTML's < > & as entities and Markdown's
  punctuation with backslashes, so that no cell renders as a link, an image, HTML or markup.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections import defaultdict
from pathlib import Path

from .findings import Finding, Report

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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(report: Report) -> str:
    rows = sum(report.tables.values())
    verdict = "valid" if report.valid else "invalid"
    return (
        f"{verdict}: {_plural(len(report.errors), 'error')}, {_plural(len(report.warnings), 'warning')}"
        f" in {_plural(len(report.tables), 'table')} ({_plural(rows, 'row')})"
    )


def _place(f: Finding) -> str:
    place = f"{f.file}:{f.line}" if f.line else f.file
    return f"{place} [{f.field}]" if f.field else place


def render_text(report: Report) -> str:
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in report.sorted():
        by_file[f.file].append(f)
    out: list[str] = []
    for file, findings in by_file.items():
        out.append(escape_text(file))
        for f in findings:
            out.append(escape_text(f"  {_place(f)}: {f.severity.value} {f.code}: {f.message}"))
            out.append(escape_text(f"      hint: {f.hint}"))
        out.append("")
    out.append(summary(report))
    return "\n".join(out) + "\n"


def render_json(report: Report) -> str:
    return safe_json(report.to_dict()) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def cell_start(line: str, field_number: int) -> int | None:
    """The 1-based character position at which the field_number-th cell of a record that starts on this
    physical line starts, read as csv reads it (a quoted cell may hold commas and doubled quotes); None
    when that cell does not start on this line (a quoted cell before it runs onto the next line, or the
    record has fewer cells)."""
    at = 0
    for _ in range(field_number - 1):
        if line.startswith('"', at):  # a quoted cell: up to its closing quote (a doubled one is a quote)
            at += 1
            while True:
                closing = line.find('"', at)
                if closing < 0:
                    return None
                if line.startswith('"', closing + 1):
                    at = closing + 2
                    continue
                at = closing + 1
                break
        comma = line.find(",", at)
        if comma < 0:
            return None
        at = comma + 1
    if "\r" in line[:at]:
        return None  # a lone CR ends the record for csv; the cell is not where it seems
    return at + 1


def _physical_lines(path: Path, numbers: set[int]) -> dict[int, str]:
    """The named physical lines of a regular file (counted at LF, without their line end) that are UTF-8;
    others are left out. A large file is mapped, not read."""
    import mmap

    from .read import open_regular

    fd = open_regular(path)
    try:
        size = os.fstat(fd).st_size
        data: bytes | mmap.mmap = mmap.mmap(fd, 0, access=mmap.ACCESS_READ) if size else b""
    finally:
        os.close(fd)
    found, position, current = {}, 0, 1
    for number in sorted(numbers):
        while current < number and position >= 0:
            position = data.find(b"\n", position)
            position = position + 1 if position >= 0 else -1
            current += 1
        if position < 0 or position > len(data) or (position == len(data) and number > 1):
            break
        end = data.find(b"\n", position)
        raw = data[position : end if end >= 0 else len(data)]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        found[number] = (text.removeprefix("\ufeff") if number == 1 else text).removesuffix("\r")
    if isinstance(data, mmap.mmap):
        data.close()
    return found


def character_columns(report: Report) -> dict[tuple[str, int, int], int]:
    """For each (file, line, field number) of a finding, the 1-based character position on that line where
    the field's cell starts, where that can be known: the file is read again from the package (as
    validate read it: inside the package, no symlink, a regular file) and the cell starts on the line."""
    from .paths import UnsafePathError, resolve_inside

    package = getattr(report.dataset, "package", None)
    if package is None:
        return {}
    wanted: dict[str, set[int]] = defaultdict(set)
    for f in report.findings:
        if f.line and f.column:
            wanted[f.file].add(f.line)
    lines: dict[str, dict[int, str]] = {}
    for file, numbers in wanted.items():
        try:
            lines[file] = _physical_lines(resolve_inside(package.root, file, allow_symlinks=False), numbers)
        except (OSError, UnsafePathError, ValueError):
            lines[file] = {}
    columns: dict[tuple[str, int, int], int] = {}
    for f in report.findings:
        if not (f.line and f.column):
            continue
        text = lines.get(f.file, {}).get(f.line)
        start = cell_start(text, f.column) if text is not None else None
        if start is not None:
            columns[(f.file, f.line, f.column)] = start
    return columns


def render_github(report: Report) -> str:
    """Workflow commands: one ::error or ::warning line per finding, on the file's line and column.

    GitHub reads `col` as a character position on the line, so it is the position at which the field's
    cell starts on that line (see character_columns), and is left out where that is not known."""
    out = []
    columns = character_columns(report)
    for f in report.sorted():
        props = [f"file={_escape_property(escape_text(f.file))}"]
        if f.line:
            props.append(f"line={f.line}")
        column = columns.get((f.file, f.line or 0, f.column or 0))
        if column:
            props.append(f"col={column}")
        title = escape_text(f.code + (f" [{f.field}]" if f.field else ""))
        props.append(f"title={_escape_property(title)}")
        message = escape_text(f"{f.message}. Hint: {f.hint}")
        out.append(f"::{f.severity.value} {','.join(props)}::{_escape_data(message)}")
    out.append(summary(report))
    return "\n".join(out) + "\n"


def render_markdown_summary(report: Report) -> str:
    """The job summary that GitHub shows on the run's page: every cell escaped (see the module's doc)."""
    lines = [f"## eurasec validate: {summary(report)}", ""]
    if report.findings:
        lines += ["| place | severity | code | message | hint |", "| --- | --- | --- | --- | --- |"]
        for f in report.sorted():
            # the code comes from the registry (codes.py), never from the package
            cells = [escape_markdown(_place(f)), f.severity.value, f"`{f.code}`"]
            cells += [escape_markdown(f.message), escape_markdown(f.hint)]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render(report: Report, fmt: str) -> str:
    return {"text": render_text, "json": render_json, "github": render_github}[fmt](report)


def append_summary(path: Path, text: str) -> None:
    """Append a job summary to a regular file; OSError for anything else (a folder, a read-only file,
    a missing folder). Never waits: a FIFO is opened without blocking and refused."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)

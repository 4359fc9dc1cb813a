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

import os
import stat
from collections import defaultdict
from pathlib import Path

from .model.findings import Finding, Report, Truncation
from .model.text import escape_markdown, escape_text, safe_json


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(report: Report) -> str:
    rows = sum(report.tables.values())
    verdict = "valid" if report.valid else "invalid"
    line = (
        f"{verdict}: {_plural(len(report.errors), 'error')}, {_plural(len(report.warnings), 'warning')}"
        f" in {_plural(len(report.tables), 'table')} ({_plural(rows, 'row')})"
    )
    if report.truncations:  # the counts are of the findings listed: say that there are more
        more = sum(t.left_out for t in report.truncations)
        line += f"; at least {more:,} more not listed" if more else "; there may be more, not listed"
        line += " (a limit was reached: see the notes)"
    return line


def _place(f: Finding) -> str:
    place = f"{f.file}:{f.line}" if f.line else f.file
    return f"{place} [{f.field}]" if f.field else place


def _truncations(report: Report) -> list[Truncation]:
    return sorted(report.truncations, key=Truncation.sort_key)


def render_text(report: Report) -> str:
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in report.sorted():
        by_file[f.file].append(f)
    cut: dict[str, list[Truncation]] = defaultdict(list)
    for t in _truncations(report):
        cut[t.file].append(t)
    out: list[str] = []
    for file in sorted(by_file.keys() | cut.keys()):
        out.append(escape_text(file))
        for f in by_file.get(file, []):
            out.append(escape_text(f"  {_place(f)}: {f.severity.value} {f.code}: {f.message}"))
            out.append(escape_text(f"      hint: {f.hint}"))
        for t in cut.get(file, []):  # after the findings it cut
            out.append(escape_text(f"  {t.file}: note: {t.message}"))
            out.append(escape_text(f"      hint: {t.hint}"))
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

    from .model.paths import open_regular

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
    from .model.paths import UnsafePathError, resolve_inside

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
    for t in _truncations(report):  # a notice: no fault of the data, but the list above is not all of it
        props = [f"file={_escape_property(escape_text(t.file))}", f"title={_escape_property('not all listed')}"]
        message = escape_text(f"{t.message}. Hint: {t.hint}")
        out.append(f"::notice {','.join(props)}::{_escape_data(message)}")
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
    if report.truncations:
        lines += ["", "Not every finding is listed:", ""]
        for t in _truncations(report):
            lines.append(f"- {escape_markdown(t.file)}: {escape_markdown(t.message)}. {escape_markdown(t.hint)}")
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

"""Read a resource's CSV file into records with their line numbers, noting what is wrong with the bytes.

Reading never raises on bad data: every problem becomes a finding, and as much of the
table as can be read is returned so that later checks can still run.
"""

from __future__ import annotations

import csv
import mmap
import os
import re
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..model.codes import finding
from ..model.findings import Finding
from ..model.paths import NotRegularFileError, not_regular_reason, open_regular, read_regular

MAX_CELL_CHARS = 100_000
# Cells in one row (the header or a record) past which a file is not read at all: frictionless' header
# check is quadratic in the number of labels (5,000 extra labels cost it 23 s), and a schema here has
# tens of fields. Past this the file gets one `too-many-columns` finding and no other check reads it.
MAX_COLUMNS = 1_000
MAX_LINES_REPORTED = 1000  # per file and code: past this, the fix is the same
# Compressed files are never opened: frictionless would decompress them (a 1 MB gzip bomb made it write
# 9.3 GB in 274 s). These are the suffixes it reads as compression (frictionless.settings.COMPRESSION_FORMATS).
COMPRESSED_SUFFIXES = (".zip", ".gz", ".bz2", ".xz")
BOM = "\ufeff"
# The pieces io.StringIO(newline="") hands csv.reader: a line ends at CR LF, CR or LF.
_PIECE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_BARE_CR = re.compile(r"\r(?!\n)")
_NEEDS_QUOTES = re.compile(r'[",\r\n]')


@dataclass
class CsvTable:
    """A CSV file as read: header, data records and where each record starts."""

    file: str  # path as reported in findings
    text: str = ""  # the decoded text (invalid bytes replaced), BOM included
    header: list[str] | None = None
    records: list[list[str]] = field(default_factory=list)  # blank lines appear as []
    lines: list[int] = field(default_factory=list)  # first physical line of each record
    end_lines: list[int] = field(default_factory=list)  # last physical line of each record
    findings: list[Finding] = field(default_factory=list)
    readable: bool = True  # False when nothing could be read at all


def line_at(data: bytes | str, offset: int) -> int:
    """1-based line number of a byte or character offset."""
    if isinstance(data, bytes):
        return data.count(b"\n", 0, offset) + 1
    return data.count("\n", 0, offset) + 1


def decode(raw: bytes, file: str, findings: list[Finding]) -> str:
    """Decode UTF-8, reporting the first invalid byte; bad bytes become U+FFFD so checks can go on."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        findings.append(
            finding(
                "encoding-not-utf8",
                file,
                f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid UTF-8",
                line=line_at(raw, exc.start),
            )
        )
        return raw.decode("utf-8", errors="replace")


def read_bytes(path: Path, file: str, findings: list[Finding]) -> bytes | None:
    what = not_regular_reason(path)
    if what:
        findings.append(finding("file-not-regular", file, f"{file} is {what}"))
        return None
    try:
        return read_regular(path, follow_symlinks=False)
    except OSError as exc:
        findings.append(open_failure(exc, path, file))
    return None


def open_failure(exc: OSError, path: Path, file: str) -> Finding:
    """The finding for a data file that could not be opened: missing, not a regular file, or unreadable."""
    if isinstance(exc, FileNotFoundError):
        return finding("file-missing", file, f"{file} does not exist")
    if isinstance(exc, NotRegularFileError):
        return finding("file-not-regular", file, f"{file} is {not_regular_reason(path) or 'not a regular file'}")
    return finding("file-unreadable", file, f"{file} cannot be read: {exc.strerror or exc}")


MAP_AT_BYTES = 1 << 20  # files this large are mapped, not read


def map_bytes(path: Path, file: str, findings: list[Finding]) -> bytes | mmap.mmap | None:
    """A file's bytes, mapped from the page cache when it is large; None (and a finding) when unreadable.

    Reading 200 MB into a bytes object touches 50,000 fresh pages; on a virtual machine the page
    faults alone can cost a second. A read-only map shares the pages the kernel already holds.
    """
    if not _large(path):
        return read_bytes(path, file, findings)
    try:
        fd = open_regular(path, follow_symlinks=False)
    except OSError:
        return read_bytes(path, file, findings)  # which says what is wrong, if anything is
    try:
        return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return read_bytes(path, file, findings)
    finally:
        os.close(fd)


def _large(path: Path) -> bool:
    try:
        status = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(status.st_mode) and status.st_size >= MAP_AT_BYTES


def compressed_reason(path: str) -> str | None:
    """Why a resource file is refused as compressed (by its name), or None."""
    lower = path.lower()
    suffix = next((s for s in COMPRESSED_SUFFIXES if lower.endswith(s)), None)
    if suffix is None:
        return None
    return f"{path} is a compressed file ({suffix}); eurasec reads plain CSV files only and never decompresses one"


def declared_compression(raw: object) -> str | None:
    """The compression a resource's descriptor declares (other than none), or None."""
    value = raw.get("compression") if isinstance(raw, dict) else None
    return None if value in (None, "", "no", "none") else str(value)


def canonical_row(record: list[str]) -> str:
    """A record as the canonical writer puts it (without the LF): a cell is quoted when it holds a comma, a
    double quote, a CR or an LF, and its quotes are doubled; nothing else is quoted.

    csv.writer with lineterminator="\n" does not quote a cell holding a lone CR, so a reader splits
    the row there: this writer quotes it. A lone empty cell is quoted, as csv.writer does, so the
    row is not an empty line.
    """
    if record == [""]:
        return '""'
    return ",".join('"' + cell.replace('"', '""') + '"' if _NEEDS_QUOTES.search(cell) else cell for cell in record)


def bare_cr_lines(body: str, limit: int = MAX_LINES_REPORTED) -> list[int]:
    """The lines (at most `limit`) holding a CR outside quotes that is not followed by LF.

    Quoting is read as csv reads it: a CR lies inside a quoted cell when an odd number of quotes
    precede it. One pass over the text: quotes and LFs are counted between one CR and the next.
    """
    lines: list[int] = []
    quotes = newlines = last = 0
    for match in _BARE_CR.finditer(body):
        position = match.start()
        quotes += body.count('"', last, position)
        newlines += body.count("\n", last, position)
        last = position
        if quotes % 2 == 0 and (not lines or lines[-1] != newlines + 1):
            lines.append(newlines + 1)
            if len(lines) >= limit:
                break
    return lines


@contextmanager
def unlimited_fields() -> Iterator[None]:
    """Lift csv's field size limit for a while: the module-wide setting is put back after."""
    limit = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(limit)


def parse(text: str, file: str) -> CsvTable:
    """Parse decoded CSV text (strict quoting) into a CsvTable.

    Lines are counted at LF, as everywhere in eurasec. csv reads a lone CR as a line end too; a CR
    outside quotes that is not part of CR LF is a `bare-carriage-return` finding (the row is split
    there, so its cells shift), and the records are still read as csv reads them.
    """
    table = CsvTable(file=file, text=text)
    body = text[1:] if text.startswith(BOM) else text
    pieces = [m.group() for m in _PIECE.finditer(body)]  # what io.StringIO(body, newline="") yields
    line_of, line = [], 1
    for piece in pieces:
        line_of.append(line)
        line += piece.endswith("\n")
    line_of.append(line)  # after the last piece
    reader = csv.reader(pieces, strict=True)
    previous_end = 0
    try:
        with unlimited_fields():  # our own cell limit (below) says more than csv's
            for record in reader:
                start, end = line_of[previous_end], line_of[max(reader.line_num - 1, 0)]
                previous_end = reader.line_num
                if len(record) > MAX_COLUMNS:
                    table.findings.append(
                        finding(
                            "too-many-columns",
                            file,
                            f"a row has {len(record):,} cells, over the {MAX_COLUMNS:,} limit:"
                            " the file is not read further",
                            line=start,
                        )
                    )
                    table.readable = False
                    break
                if table.header is None:
                    table.header = record
                    continue
                table.records.append(record)
                table.lines.append(start)
                table.end_lines.append(end)
    except csv.Error as exc:
        table.findings.append(
            finding("csv-malformed", file, f"the CSV cannot be parsed here: {exc}", line=line_of[previous_end])
        )
    if table.header is None and not table.findings:
        table.findings.append(finding("empty-file", file, f"{file} is empty: it has no header row", line=1))
    if "\x00" in body:
        table.findings.append(
            finding("nul-byte", file, "the file contains a NUL byte", line=line_at(body, body.index("\x00")))
        )
    if "\r" in body:
        table.findings.extend(bare_cr_finding(file, n) for n in bare_cr_lines(body))
    for index, record in enumerate(table.records):
        for column, cell in enumerate(record, 1):
            if len(cell) > MAX_CELL_CHARS:
                name = table.header[column - 1] if table.header and column <= len(table.header) else None
                table.findings.append(
                    finding(
                        "cell-too-large",
                        file,
                        f"a cell has {len(cell):,} characters, over the {MAX_CELL_CHARS:,} limit",
                        line=table.lines[index],
                        field=name,
                        column=column,
                    )
                )
    return table


def bare_cr_finding(file: str, line: int) -> Finding:
    return finding(
        "bare-carriage-return",
        file,
        "a carriage return (CR) outside quotes is not followed by LF: readers split the row there,"
        " so cells after it shift or are lost",
        line=line,
    )

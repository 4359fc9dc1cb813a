"""Read a resource's CSV file into records with their line numbers, noting what is wrong with the bytes.

Reading never raises on bad data: every problem becomes a finding, and as much of the
table as can be read is returned so that later checks can still run.
"""

from __future__ import annotations

import csv
import io
import mmap
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .codes import finding
from .findings import Finding

MAX_CELL_CHARS = 100_000
BOM = "\ufeff"


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
    return data.count(b"\n" if isinstance(data, bytes) else "\n", 0, offset) + 1


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
    if path.is_symlink() or (path.exists() and not path.is_file()):
        what = "a symlink" if path.is_symlink() else "a directory" if path.is_dir() else "not a regular file"
        findings.append(finding("file-not-regular", file, f"{file} is {what}"))
        return None
    try:
        return path.read_bytes()
    except FileNotFoundError:
        findings.append(finding("file-missing", file, f"{file} does not exist"))
    except OSError as exc:
        findings.append(finding("file-unreadable", file, f"{file} cannot be read: {exc.strerror or exc}"))
    return None


MAP_AT_BYTES = 1 << 20  # files this large are mapped, not read


def map_bytes(path: Path, file: str, findings: list[Finding]) -> bytes | mmap.mmap | None:
    """A file's bytes, mapped from the page cache when it is large; None (and a finding) when unreadable.

    Reading 200 MB into a bytes object touches 50,000 fresh pages; on a virtual machine the page
    faults alone can cost a second. A read-only map shares the pages the kernel already holds.
    """
    if not _large(path):
        return read_bytes(path, file, findings)
    try:
        with path.open("rb") as handle:
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return read_bytes(path, file, findings)  # which says what is wrong, if anything is


def _large(path: Path) -> bool:
    try:
        return not path.is_symlink() and path.is_file() and path.stat().st_size >= MAP_AT_BYTES
    except OSError:
        return False


@contextmanager
def unlimited_fields() -> Iterator[None]:
    """Lift csv's field size limit for a while: the module-wide setting is put back after."""
    limit = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(limit)


def parse(text: str, file: str) -> CsvTable:
    """Parse decoded CSV text (strict quoting) into a CsvTable."""
    table = CsvTable(file=file, text=text)
    body = text[1:] if text.startswith(BOM) else text
    reader = csv.reader(io.StringIO(body, newline=""), strict=True)
    previous_end = 0
    try:
        with unlimited_fields():  # our own cell limit (below) says more than csv's
            for record in reader:
                start, end = previous_end + 1, reader.line_num
                previous_end = end
                if table.header is None:
                    table.header = record
                    continue
                table.records.append(record)
                table.lines.append(start)
                table.end_lines.append(end)
    except csv.Error as exc:
        table.findings.append(
            finding("csv-malformed", file, f"the CSV cannot be parsed here: {exc}", line=previous_end + 1)
        )
    if table.header is None and not table.findings:
        table.findings.append(finding("empty-file", file, f"{file} is empty: it has no header row", line=1))
    if "\x00" in body:
        table.findings.append(
            finding("nul-byte", file, "the file contains a NUL byte", line=line_at(body, body.index("\x00")))
        )
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


def read_csv(path: Path, file: str) -> CsvTable:
    """Read and parse one CSV file; problems are findings on the returned table."""
    findings: list[Finding] = []
    raw = read_bytes(path, file, findings)
    if raw is None:
        return CsvTable(file=file, findings=findings, readable=False)
    text = decode(raw, file, findings)
    table = parse(text, file)
    table.findings[:0] = findings
    return table

"""A resource's CSV file as Arrow columns of text, with the line of every row and the facts of its form.

The fast path scans the bytes once with numpy (record boundaries, quoting, field counts)
and parses with pyarrow. A file it cannot read with certainty (a malformed quote, rows of
the wrong length, a header other than the schema's, bytes that are not UTF-8) goes the slow
path: the strict Python reader in `strict.py`, which says exactly what is wrong and where.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..model.codes import finding
from ..model.findings import Finding
from ..model.paths import open_regular
from .kernels import byte_lengths
from .strict import (
    BOM,
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    CsvTable,
    canonical_row,
    compressed_reason,
    decode,
    map_bytes,
    open_failure,
    parse,
    unlimited_fields,
)

if TYPE_CHECKING:
    import mmap

    import numpy as np
    import pyarrow as pa

BOM_BYTES = BOM.encode("utf-8")
QUOTE, COMMA, LF, CR = 0x22, 0x2C, 0x0A, 0x0D


def _empty_lines() -> np.ndarray:
    import numpy as np

    return np.zeros(0, dtype=np.int64)


@dataclass
class Table:
    """The rows of one file. Blank lines are not rows, but frictionless counts them: `row_numbers` keeps its count."""

    file: str
    header: list[str] | None = None
    columns: dict[str, pa.Array] = field(default_factory=dict)  # text of each header column, "" for empty
    lines: np.ndarray = field(default_factory=_empty_lines)  # first physical line of each row
    row_numbers: np.ndarray = field(default_factory=_empty_lines)  # frictionless' row number of each row (header: 1)
    blank_lines: list[int] = field(default_factory=list)  # empty lines between rows
    blank_row_numbers: list[int] = field(default_factory=list)
    cell_counts: dict[int, int] = field(default_factory=dict)  # rows with a cell too few or too many: their count
    extra_cells: dict[int, list[str]] = field(default_factory=dict)  # and the cells beyond the header
    findings: list[Finding] = field(default_factory=list)  # reading problems
    # Facts of the file's form, for the canonical check.
    has_bom: bool = False
    crlf_lines: list[int] = field(default_factory=list)
    final_newline: bool = True
    line_count: int = 0  # physical lines, counting a last line without a newline
    noncanonical_lines: list[int] = field(default_factory=list)
    fast: bool = False  # read by the fast path: regular enough to check without frictionless
    readable: bool = True
    # Why frictionless would read the file otherwise than we do (a dialect, another encoding, inline data …),
    # when it would: then the file is not read here at all, no check of ours looks at it, and frictionless
    # checks its data (read/dataset.py foreign_reason, checks/engine/coverage.py).
    foreign: str | None = None
    # Why frictionless, reading this file as we did, would still take its text otherwise: the encoding,
    # delimiter or header row it detects from the file's head (read/dataset.py sniffed_reason, which the fast
    # engine asks). Our checks read it as it is; frictionless checks its data.
    sniffed: str | None = None

    @property
    def num_rows(self) -> int:
        return len(self.lines)

    def line(self, index: int) -> int:
        return int(self.lines[index])


def _block_size(size: int) -> int:
    """One block for a file of up to 1 GiB: fewer, larger blocks parse faster here (two files are read
    at once anyway) and give one chunk per column, which then needs no copy to combine."""
    return max(1 << 20, min(size + 1, 1 << 30))


def _parse(
    raw: bytes | mmap.mmap, header: list[str], multiline: bool, skipped: list[int] | None = None, threads: bool = False
) -> pa.Table | None:
    """pyarrow's reading of the file; with `skipped`, rows of the wrong length are skipped and their number kept.

    threads: pyarrow's own threads convert the columns. Only worth it for a file read alone: the package's
    files are read two at a time (read/dataset.py), each as one block, and there pyarrow's thread pool only
    hands the work from thread to thread (4% of a validate at a million rows)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    def skip(row: object) -> str:
        assert skipped is not None
        skipped[0] += 1
        return "skip"

    handler = skip if skipped is not None else None  # rows of the wrong length are read apart
    try:
        return pacsv.read_csv(
            pa.py_buffer(raw),
            read_options=pacsv.ReadOptions(use_threads=threads, block_size=_block_size(len(raw))),
            parse_options=pacsv.ParseOptions(newlines_in_values=multiline, invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None  # rows of the wrong length, bytes that are not UTF-8: the slow path names them


def _quotes_needed(arrow: pa.Table, header: list[str]) -> int:
    """How many quote characters the canonical writer puts in a table without CR or LF in its values:
    2 per cell holding a comma or quote, plus one more per quote inside it."""
    total = sum(2 * ('"' in h or "," in h) + 2 * h.count('"') for h in header)
    for name in header:
        for chunk in arrow.column(name).chunks:
            cells, quotes = _special_cells(chunk)
            total += 2 * cells + 2 * quotes
    return total


def _quotes_canonical(quotes_in_file: int, arrow: pa.Table, header: list[str]) -> bool:
    """Whether a file without CR, one line per row, holds exactly the quotes the canonical writer puts in it.

    With no quote in a one-line-per-row file, no cell can hold a comma, quote or LF (CR is ruled
    out apart): nothing needs quoting, and the columns need no scan at all.
    """
    if quotes_in_file == 0:
        return not any('"' in h or "," in h for h in header)
    return quotes_in_file == _quotes_needed(arrow, header)


def _special_cells(array: pa.StringArray) -> tuple[int, int]:
    """Cells holding a comma or quote, and quote characters in all, read off the value bytes.

    numpy over the Arrow buffers, not a regex per cell: on a million rows this is several times faster.
    """
    import numpy as np

    _, offsets_buffer, data_buffer = array.buffers()
    if data_buffer is None or len(array) == 0:
        return 0, 0
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    hits, quotes = [], 0
    step = 1 << 21  # in slices: masks the size of a whole column would be fresh memory to fault in;
    # slices much smaller would take the GIL back hundreds of times while other threads want it
    for start in range(int(offsets[0]), int(offsets[-1]), step):
        chunk = data[start : min(start + step, int(offsets[-1]))]
        is_quote = chunk == QUOTE
        quotes += int(np.count_nonzero(is_quote))
        is_quote |= chunk == COMMA
        hits.append(np.flatnonzero(is_quote) + start)
    positions = np.concatenate(hits) if hits else np.zeros(0, dtype=np.int64)
    if not len(positions):
        return 0, 0
    cells = np.searchsorted(offsets, positions, side="right") - 1  # positions are sorted: so are their cells
    return int(np.count_nonzero(np.diff(cells))) + 1, quotes


def _byte_facts(raw: bytes | mmap.mmap) -> tuple[int, int, bool, bool]:
    """(LF count, quote count, has CR, has NUL) of a file's bytes.

    numpy in slices: its comparisons let go of the GIL (bytes.count does not), and a slice's
    masks stay in memory the allocator reuses.
    """
    import numpy as np

    data = np.frombuffer(raw, dtype=np.uint8)
    lf = quotes = 0
    cr = nul = False
    step = 1 << 21
    for start in range(0, len(data), step):
        chunk = data[start : start + step]
        lf += int(np.count_nonzero(chunk == LF))
        quotes += int(np.count_nonzero(chunk == QUOTE))
        cr = cr or bool((chunk == CR).any())
        nul = nul or bool((chunk == 0).any())
    return lf, quotes, cr, nul


def scan_fast(raw: bytes | mmap.mmap, file: str, expected_header: list[str], threads: bool = False) -> Table | None:
    """Read a regular file with pyarrow; None when only the slow path can be sure.

    Counting bytes settles the common case: when every LF ends a row (no blank line, no cell
    with a line break), there is no CR, and the file holds exactly the quotes the canonical
    writer would put, rows are lines 2, 3, … and the form is canonical. Otherwise numpy finds
    the record boundaries, where a quote is misplaced, and which cells are quoted needlessly.
    """
    import numpy as np

    if not len(raw):
        return None
    lf_count, quote_count, has_cr, has_nul = _byte_facts(raw)
    if has_nul or not raw[: 1 << 16].strip():
        return None  # a file of white space alone is empty: the slow path says so
    if has_cr and _has_bare_cr(raw):
        return None  # pyarrow ends a row at a lone CR, where the record goes on: the slow path reports it
    begin = len(BOM_BYTES) if raw[: len(BOM_BYTES)] == BOM_BYTES else 0
    first_line = raw[begin : raw.find(b"\n") if lf_count else len(raw)]
    header_text = first_line.rstrip(b"\r").decode("utf-8", errors="replace")
    if header_text.split(",") != expected_header:
        return None  # frictionless names header problems precisely: the slow path asks it
    skipped = [0]  # rows pyarrow skipped: exactly the ragged records the scan finds, or nothing is certain
    arrow = _parse(raw, expected_header, multiline=False, threads=threads)
    multiline = arrow is None
    if arrow is None:
        arrow = _parse(raw, expected_header, multiline=True, threads=threads)
        if arrow is None:  # rows with a cell too few or too many: pyarrow skips them, Python reads them
            try:
                bytes(raw).decode("utf-8")  # pyarrow decodes a skipped row's text in its callback: it must be UTF-8
            except UnicodeDecodeError:
                return None
            arrow = _parse(raw, expected_header, multiline=True, skipped=skipped, threads=threads)
            if arrow is None:
                return None
    n = arrow.num_rows
    final_newline = raw[-1:] == b"\n"
    simple = (  # in this order: quotes are counted only in a file without CR and one line per row
        not multiline
        and lf_count == n + final_newline
        and not has_cr
        and _quotes_canonical(quote_count, arrow, expected_header)
    )
    table = Table(file=file, header=expected_header, fast=True)
    table.columns = {name: _one_array(arrow.column(name)) for name in expected_header}
    table.has_bom = begin > 0
    table.final_newline = final_newline
    if simple:
        table.lines = np.arange(2, n + 2, dtype=np.int64)
        table.row_numbers = table.lines.copy()
        table.line_count = n + 1
        if quote_count == 0:  # no quoted cell: every byte is a cell's, a separator or a line end
            content = len(raw) - begin - len(first_line) - n * (len(expected_header) - 1) - lf_count
            if content != _cell_bytes(table):
                return None
    elif not _scan_records(raw, begin, table, n, skipped[0]):
        return None
    _flag_large_cells(table)
    return table


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array; without a copy when it is one chunk (combine_chunks copies even then)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _has_bare_cr(raw: bytes | mmap.mmap) -> bool:
    """Whether a CR outside quotes is not followed by LF (numpy over the bytes; only for a file with a CR)."""
    import numpy as np

    data = np.frombuffer(raw, dtype=np.uint8)
    crs = np.flatnonzero(data == CR)
    following = np.where(crs + 1 < len(data), data[np.minimum(crs + 1, len(data) - 1)], 0)
    lone = crs[following != LF]
    if not len(lone):
        return False
    quotes = np.flatnonzero(data == QUOTE)
    return bool(((np.searchsorted(quotes, lone) & 1) == 0).any())


def _scan_records(raw: bytes | mmap.mmap, begin: int, table: Table, rows_parsed: int, rows_skipped: int) -> bool:
    """Record boundaries, blank lines, CRLF, misplaced and needless quotes, with numpy; False if irregular.

    Every record pyarrow read or skipped must be one the scan finds: the rows it skipped are exactly
    the records with a cell too few or too many, and a row it split (a line end the scan does not
    see) makes the counts differ, so the slow path reads the file.
    """
    import numpy as np

    data = np.frombuffer(raw, dtype=np.uint8)
    quotes = np.flatnonzero(data == QUOTE)
    if len(quotes) % 2:
        return False  # a quote is never closed
    newlines = np.flatnonzero(data == LF)
    # A newline ends a record only outside quotes: where an even number of quotes precede it.
    ends = newlines[(np.searchsorted(quotes, newlines) & 1) == 0]
    starts = np.concatenate(([begin], ends + 1)).astype(np.int64)
    stops = np.concatenate((ends, [len(raw)])).astype(np.int64)
    if starts[-1] == len(raw):  # the file ends with a newline: no record after it
        starts, stops = starts[:-1], stops[:-1]
    has_cr = np.zeros(len(stops), dtype=bool)
    nonempty = stops > starts
    has_cr[nonempty] = data[stops[nonempty] - 1] == CR
    blank = (stops - has_cr) == starts
    start_lines = np.searchsorted(newlines, starts) + 1
    # Quotes must open a field or close one (doubled inside): anything else is malformed.
    if len(quotes):
        index = np.arange(len(quotes))
        previous = np.where(quotes > begin, data[np.maximum(quotes - 1, 0)], LF)
        following = np.where(quotes + 1 < len(raw), data[np.minimum(quotes + 1, len(raw) - 1)], LF)
        adjacent_before = np.concatenate(([False], np.diff(quotes) == 1))
        adjacent_after = np.concatenate((np.diff(quotes) == 1, [False]))
        even = index % 2 == 0
        opening_ok = (previous == COMMA) | (previous == LF) | (quotes == begin) | adjacent_before
        closing_ok = (following == COMMA) | (following == LF) | (following == CR) | adjacent_after
        if not (np.all(opening_ok[even]) and np.all(closing_ok[~even])):
            return False
    commas = np.flatnonzero(data == COMMA)
    outside = commas[(np.searchsorted(quotes, commas) & 1) == 0]
    fields = np.searchsorted(outside, stops) - np.searchsorted(outside, starts) + 1
    if len(fields) and int(fields.max()) > MAX_COLUMNS:
        return False  # the slow path refuses the file at that row
    rows = ~blank[1:]
    ragged_records = np.flatnonzero(rows & (fields[1:] != len(table.header or [])))
    if len(starts) == 0 or rows_parsed + len(ragged_records) != int(rows.sum()):
        return False
    if rows_skipped != len(ragged_records):
        return False
    if len(ragged_records) and not _merge_ragged(raw, table, starts, stops - has_cr, rows, ragged_records):
        return False
    if not len(ragged_records) and not _conserved(raw, begin, table, quotes, outside, ends, has_cr):
        return False
    record_numbers = np.arange(2, len(starts) + 1)  # frictionless numbers records from the header (1)
    table.lines = start_lines[1:][rows]
    table.row_numbers = record_numbers[rows]
    table.blank_lines = start_lines[1:][~rows].tolist()
    table.blank_row_numbers = record_numbers[~rows].tolist()
    table.crlf_lines = start_lines_of(newlines, stops[has_cr]).tolist()
    table.line_count = len(newlines) + (0 if table.final_newline else 1)
    table.noncanonical_lines = _needless_quotes(
        data,
        quotes,
        commas_all=np.flatnonzero(data == COMMA),
        newlines=newlines,
        starts=starts,
        start_lines=start_lines,
    )
    return True


def _merge_ragged(
    raw: bytes | mmap.mmap,
    table: Table,
    starts: np.ndarray,
    stops: np.ndarray,
    rows: np.ndarray,
    ragged_records: np.ndarray,
) -> bool:
    """Put the rows pyarrow skipped (a cell too few or too many) back in place, read by Python's csv."""
    import csv

    import numpy as np
    import pyarrow as pa

    header = table.header or []
    width = len(header)
    cells_of = []
    for record in ragged_records.tolist():
        try:
            text = raw[starts[record + 1] : stops[record + 1]].decode("utf-8")
        except UnicodeDecodeError:
            return False
        try:
            with unlimited_fields():
                (cells,) = list(csv.reader([text])) or [[]]
        except (csv.Error, ValueError):
            return False  # the slow path will say what is wrong with the row
        cells_of.append(cells)
    # Row positions: the rows that are not blank, in order; pyarrow's rows are those not ragged.
    row_records = np.flatnonzero(rows)
    is_ragged = np.isin(row_records, ragged_records)
    order = np.empty(len(row_records), dtype=np.int64)
    order[~is_ragged] = np.arange(int((~is_ragged).sum()))
    order[is_ragged] = np.arange(len(ragged_records)) + int((~is_ragged).sum())
    for position, name in enumerate(header):
        extra = pa.array([(c + [""] * width)[position] for c in cells_of], pa.string())
        table.columns[name] = pa.concat_arrays([table.columns[name], extra]).take(pa.array(order))
    for index, cells in zip(np.flatnonzero(is_ragged).tolist(), cells_of, strict=True):
        table.cell_counts[index] = len(cells)
        table.extra_cells[index] = cells[width:]
    return True


def _cell_bytes(table: Table) -> int:
    """The bytes of every cell pyarrow read, off the offsets."""
    total = 0
    for array in table.columns.values():
        offsets = array.buffers()[1]
        if offsets is not None and len(array):
            import numpy as np

            bounds = np.frombuffer(offsets, dtype=np.int32)[array.offset : array.offset + len(array) + 1]
            total += int(bounds[-1]) - int(bounds[0])
    return total


def _conserved(
    raw: bytes | mmap.mmap,
    begin: int,
    table: Table,
    quotes: np.ndarray,
    separators: np.ndarray,
    ends: np.ndarray,
    has_cr: np.ndarray,
) -> bool:
    """Whether the cells pyarrow read hold every byte of the file that is not structure: separators, line
    ends (and their CRs), the quotes around cells and the extra quote of each doubled one, the header.

    A byte pyarrow dropped or read twice (a row split at a line end the scan does not see, say)
    makes the sums differ, and the slow path reads the file: what validate passes, build stores.
    """
    import numpy as np

    adjacent_before = np.concatenate(([False], np.diff(quotes) == 1)) if len(quotes) else np.zeros(0, dtype=bool)
    quoted_cells = int(np.count_nonzero((np.arange(len(quotes)) % 2 == 0) & ~adjacent_before))
    inner_quotes = (len(quotes) - 2 * quoted_cells) // 2  # each a doubled quote in the file, one in its cell
    structure = len(separators) + len(ends) + int(has_cr.sum()) + len(quotes) - inner_quotes
    header_bytes = sum(len(name.encode("utf-8")) for name in table.header or [])
    return len(raw) - begin - structure - header_bytes == _cell_bytes(table)


def start_lines_of(newlines: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The line on which each byte position lies."""
    import numpy as np

    return np.searchsorted(newlines, positions) + 1


def _needless_quotes(
    data: np.ndarray,
    quotes: np.ndarray,
    *,
    commas_all: np.ndarray,
    newlines: np.ndarray,
    starts: np.ndarray,
    start_lines: np.ndarray,
) -> list[int]:
    """Lines where a cell is quoted although it holds no comma, quote, CR or LF (csv.writer would not quote it)."""
    import numpy as np

    if not len(quotes):
        return []
    adjacent_before = np.concatenate(([False], np.diff(quotes) == 1))
    adjacent_after = np.concatenate((np.diff(quotes) == 1, [False]))
    index = np.arange(len(quotes))
    # Inside a quoted cell, quotes come doubled; the opening and closing ones pair up in order.
    opening = quotes[(index % 2 == 0) & ~adjacent_before]
    closing = quotes[(index % 2 == 1) & ~adjacent_after]
    if len(opening) != len(closing):
        return []
    inner_quotes = np.searchsorted(quotes, closing) - np.searchsorted(quotes, opening) - 1
    crs = np.flatnonzero(data == CR)
    special = np.sort(np.concatenate((commas_all, newlines, crs)))
    inner_special = np.searchsorted(special, closing) - np.searchsorted(special, opening, side="right")
    needless = opening[(inner_quotes == 0) & (inner_special == 0)]
    records = np.searchsorted(starts, needless, side="right") - 1
    return sorted(set(start_lines[records].tolist()))


def _flag_large_cells(table: Table) -> None:
    for column_number, name in enumerate(table.header or [], 1):
        if int(byte_lengths(table.columns[name]).max(initial=0)) <= MAX_CELL_CHARS:
            continue  # no more bytes than the limit allows characters
        import pyarrow.compute as pc  # only now: the reading itself needs no compute kernel

        lengths = pc.utf8_length(table.columns[name])
        if (pc.max(lengths).as_py() or 0) > MAX_CELL_CHARS:
            big = pc.indices_nonzero(pc.greater(lengths, MAX_CELL_CHARS)).to_pylist()
            for index in big:
                table.findings.append(
                    finding(
                        "cell-too-large",
                        table.file,
                        f"a cell has {lengths[index].as_py():,} characters, over the {MAX_CELL_CHARS:,} limit",
                        line=table.line(index),
                        field=name,
                        column=column_number,
                    )
                )


def from_csv_table(parsed: CsvTable) -> Table:
    """The slow path's records as a Table: short rows padded with "", long rows cut (both are reported)."""
    import numpy as np
    import pyarrow as pa

    table = Table(file=parsed.file, header=parsed.header, findings=list(parsed.findings), readable=parsed.readable)
    if parsed.header is None:
        return table
    width = len(parsed.header)
    rows, lines, numbers = [], [], []
    for index, (record, line) in enumerate(zip(parsed.records, parsed.lines, strict=True)):
        if not record:
            table.blank_lines.append(line)
            table.blank_row_numbers.append(index + 2)
            continue
        rows.append((record + [""] * width)[:width])  # a ragged row: frictionless reports it
        lines.append(line)
        numbers.append(index + 2)
    names_seen: set[str] = set()
    for position, name in enumerate(parsed.header):
        if name in names_seen:
            continue  # a repeated header name keeps its first column; frictionless reports the repeat
        names_seen.add(name)
        table.columns[name] = pa.array([row[position] for row in rows], pa.string())
    table.lines = np.array(lines, dtype=np.int64)
    table.row_numbers = np.array(numbers, dtype=np.int64)
    _slow_form_facts(parsed, table)
    return table


def _slow_form_facts(parsed: CsvTable, table: Table) -> None:
    """BOM, CRLF, final newline and needless quoting, read off the slow path's text."""
    text = parsed.text
    table.has_bom = text.startswith(BOM)
    body = text[1:] if table.has_bom else text
    lines = body.split("\n")
    malformed = any(f.code in ("csv-malformed", "bare-carriage-return", "too-many-columns") for f in parsed.findings)
    if malformed or parsed.header is None:
        ends = list(range(1, len(lines) + 1))
    else:
        ends = [parsed.lines[0] - 1 if parsed.lines else 1, *parsed.end_lines]
    # A line ends with CR LF only where an LF follows: a CR at the very end is a bare CR (reported apart).
    table.crlf_lines = [n for n in ends if 1 <= n < len(lines) and lines[n - 1].endswith("\r")]
    table.final_newline = text.endswith("\n")
    table.line_count = text.count("\n") + (0 if table.final_newline else 1)
    if malformed or table.crlf_lines or parsed.header is None:
        return
    if lines[0] != canonical_row(parsed.header):
        table.noncanonical_lines.append(1)
    for record, start, end in zip(parsed.records, parsed.lines, parsed.end_lines, strict=True):
        if record and "\n".join(lines[start - 1 : end]) != canonical_row(record):
            table.noncanonical_lines.append(start)


def load_table(
    path: Path, file: str, expected_header: list[str], foreign: str | None = None, threads: bool = False
) -> Table:
    """Read one resource's file, fast when it is regular; never raises on bad data.

    A compressed file and a schema of more than MAX_COLUMNS fields are refused before a byte is read.
    foreign: why frictionless would read this file otherwise than we do (read/dataset.py foreign_reason);
    then only whether it is a regular file is asked, and its bytes are not read.
    threads: pyarrow's threads convert the columns (for a file read alone: see _parse).
    """
    findings: list[Finding] = []
    compressed = compressed_reason(file)
    if compressed:
        findings.append(finding("compressed-resource", file, compressed))
    elif len(expected_header) > MAX_COLUMNS:
        message = f"the schema has {len(expected_header):,} fields, over the {MAX_COLUMNS:,} limit"
        findings.append(finding("too-many-columns", file, message))
    if foreign is not None and not findings:
        if regular_file(path, file, findings):
            return Table(file=file, foreign=foreign)
    raw = None if findings else map_bytes(path, file, findings)
    if raw is None:
        table = Table(file=file, findings=findings, readable=False)
        return table
    fast = scan_fast(raw, file, expected_header, threads)
    if fast is not None:
        return fast
    text = decode(raw if isinstance(raw, bytes) else raw[:], file, findings)
    parsed = parse(text, file)
    parsed.findings[:0] = findings
    if not parsed.readable:  # too many columns: no check reads the file
        table = Table(file=file, findings=parsed.findings, readable=False)
        return table
    return from_csv_table(parsed)


def regular_file(path: Path, file: str, findings: list[Finding]) -> bool:
    """Whether the path is a regular file that can be opened (it is not read); a finding says why not."""
    import os

    try:
        os.close(open_regular(path, follow_symlinks=False))
    except OSError as exc:
        findings.append(open_failure(exc, path, file))
        return False
    return True


__all__ = ["Table", "load_table", "regular_file"]

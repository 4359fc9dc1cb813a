"""A package with its tables read: the input every check works on.

A resource's file is read only where its path really leads inside the package: the path is
resolved (symlinks followed) and refused when it leaves the package (`path-outside-package`)
or names a URL (`remote-reference`); a symlink that stays inside is refused too
(`file-not-regular`), as a seed's is: a package's files are plain files in plain folders.
"""

from __future__ import annotations

import codecs
import os
import posixpath
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from ..model.codes import finding
from ..model.descriptor import DESCRIPTOR_NAME, SEEDS_DIR, Package, Resource, is_remote, line_of, load_package
from ..model.findings import Finding
from ..model.paths import UnsafePathError, inside_reason, open_regular, resolve_inside
from .table import Table, load_table, regular_file


@dataclass
class Dataset:
    package: Package
    tables: dict[str, Table] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)  # problems found while locating files

    def column_number(self, resource_name: str, field_name: str) -> int | None:
        table = self.tables.get(resource_name)
        if table is None or table.header is None or field_name not in table.header:
            return None
        return table.header.index(field_name) + 1


def locate(package: Package, resource: Resource) -> tuple[Path | None, Finding | None]:
    """Where a resource's file really is, or why it is not read: (path, None) or (None, finding).

    The finding is `remote-reference` for a URL, `path-outside-package` for a path that leaves the
    package (absolute, '..', or through a symlink that leads out), and `file-not-regular` for one
    that passes through a symlink inside the package.
    """
    line = line_of(package.text, "path", resource.path) if package.text else None

    def refuse(code: str, message: str, file: str = DESCRIPTOR_NAME) -> tuple[None, Finding]:
        # Only a remote path has its line: a path outside the package is reported as frictionless places it.
        at = line if code == "remote-reference" else None
        return None, finding(code, file, message, line=at, field="path" if file == DESCRIPTOR_NAME else None)

    if is_remote(resource.path):
        return refuse(
            "remote-reference",
            f"resource {resource.name!r} has the remote path {resource.path!r}; validation never fetches anything",
        )
    try:
        resolve_inside(package.root, resource.path, allow_symlinks=True)
    except UnsafePathError as exc:
        return refuse(
            "path-outside-package", f"resource {resource.name!r} has a path that is not inside the package: {exc}"
        )
    try:
        return resolve_inside(package.root, resource.path, allow_symlinks=False), None
    except UnsafePathError as exc:
        return refuse("file-not-regular", f"{resource.path} is not read: {exc}", file=resource.path)


def _unreadable(file: str, problem: Finding) -> Table:
    return Table(file=file, findings=[problem], readable=False)


# What a resource may declare for our reader to read its file exactly as frictionless does: one local CSV
# file, in UTF-8, with frictionless' default dialect. Anything else is read by frictionless its own way: the
# resource is "foreign", its file is not read here (only whether it is a regular file inside the package is
# asked), no check of ours looks at it, and frictionless checks its data (checks/engine/coverage.py).
UTF8_NAMES = ("utf-8", "utf-8-sig")  # encodings (as Python's codecs name them) read as our reader reads
FOREIGN_KEYS = {  # a declared key that frictionless reads its own way, and what it means
    "data": "inline data",
    "dialect": "a CSV dialect",
    "innerpath": "a file inside an archive",
    "extrapaths": "extra paths",
}


def frictionless_format(raw: dict[str, Any]) -> str:
    """The format frictionless reads a resource as: the declared one, or its path's extension (lowercase),
    or a `format=` in the path's query (frictionless.helpers.parse_scheme_and_format)."""
    declared = raw.get("format")
    if declared:
        return str(declared)
    path = raw.get("path")
    if not isinstance(path, str):
        return ""
    parsed = urlparse(path)
    extension = posixpath.splitext(parsed.path or parsed.netloc)[1][1:].lower()
    if extension:
        return extension
    query = parse_qs(parsed.query).get("format")
    return query[0] if query is not None and len(query) == 1 else ""


def foreign_reason(raw: object) -> str | None:
    """Why frictionless would read this resource's data otherwise than our reader does, or None.

    O(the descriptor): only what the resource declares is looked at, never its file.
    """
    if not isinstance(raw, dict):
        return "the resource is not an object"
    for key, what in FOREIGN_KEYS.items():
        if key in raw:
            return f"it declares {what} (`{key}`)"
    path = raw.get("path")
    if isinstance(path, list):
        return "its path is a list of files (multipart)"
    if not isinstance(path, str) or not path:
        return "it has no path"
    encoding = raw.get("encoding")
    if encoding is not None and _codec(encoding) not in UTF8_NAMES:
        return f"it declares the encoding {encoding!r}"
    fmt = frictionless_format(raw)
    if fmt != "csv":
        return f"its format is {fmt!r}, not csv" if fmt else "it has no format (no .csv extension)"
    scheme = raw.get("scheme")
    if scheme not in (None, "file"):
        return f"it declares the scheme {scheme!r}"
    kind = raw.get("type")
    if kind not in (None, "table"):
        return f"it declares the type {kind!r}"
    return None


def _codec(name: object) -> str | None:
    try:
        return codecs.lookup(name).name if isinstance(name, str) else None
    except LookupError:
        return None


def _parts(raw: object) -> list[str]:
    """The local paths of a multipart resource (a list of paths)."""
    path = raw.get("path") if isinstance(raw, dict) else None
    return [p for p in path if isinstance(p, str)] if isinstance(path, list) else []


def _locate_part(package: Package, resource: Resource, part: str) -> Finding | None:
    """locate() for one path of a multipart resource: why it is not read, or None."""
    one = Resource(resource.name, part, resource.title, resource.description, (), (), ())
    return locate(package, one)[1]


def load_dataset(descriptor: str | Path | Package) -> Dataset:
    """Read the descriptor (unless given the package) and every resource's CSV file. Raises DescriptorError only."""
    package = descriptor if isinstance(descriptor, Package) else load_package(descriptor)
    dataset = Dataset(package=package)
    readable: list[tuple[Resource, Path]] = []
    refused: dict[str, Table] = {}
    foreign: dict[str, str] = {}
    for resource, raw in zip(package.resources, package.raw["resources"], strict=True):
        reason = foreign_reason(raw)
        if reason is not None:
            foreign[resource.name] = reason
            if _parts(raw) or not isinstance(raw.get("path"), str) or not raw.get("path"):
                refused.update(_foreign_without_file(package, resource, raw, reason, dataset.findings))
                continue
        path, problem = locate(package, resource)
        if problem is not None and problem.code == "file-not-regular":
            refused[resource.name] = _unreadable(resource.path, problem)  # as read.py says of a symlinked file
        elif problem is not None:
            dataset.findings.append(problem)
        elif path is not None:
            readable.append((resource, path))
    # pyarrow and numpy release the GIL: two files are read at once on two cores, the largest first
    # so that the last one read is a small one and both cores stay busy to the end.
    # A file read alone has pyarrow's threads to convert its columns.
    largest_first = sorted(readable, key=lambda pair: -_size(pair[1]))
    alone = len(readable) == 1
    with ThreadPoolExecutor(max_workers=2) as pool:
        tables = dict(
            zip(
                [r.name for r, _ in largest_first],
                pool.map(
                    lambda pair: load_table(
                        pair[1], pair[0].path, pair[0].field_names, foreign.get(pair[0].name), threads=alone
                    ),
                    largest_first,
                ),
                strict=True,
            )
        )
    tables.update(refused)
    # in the descriptor's order
    dataset.tables = {r.name: tables[r.name] for r in package.resources if r.name in tables}
    return dataset


# How frictionless reads a CSV file it is given no dialect for (frictionless' loader, CSV parser and detector):
# it detects the encoding from the first BUFFER_BYTES bytes unless one is declared; sniffs the delimiter
# (among SNIFFED_DELIMITERS) and whether spaces after a delimiter are skipped from the first SAMPLE_LINES
# lines, with Python's csv.Sniffer; and takes as the header the first of the first SAMPLE_LINES records
# whose width is near their average width. Where any of these differs from our reading (UTF-8, a comma,
# spaces kept, line 1 the header), frictionless checks the file's data itself: see sniffed_reason.
BUFFER_BYTES = 100_000  # frictionless.settings.DEFAULT_BUFFER_SIZE
SAMPLE_LINES = 100  # frictionless.settings.DEFAULT_SAMPLE_SIZE
SNIFFED_DELIMITERS = ",\t;|"  # frictionless.formats.csv.parser: the delimiters it lets csv.Sniffer choose
_LINE_END = re.compile(rb"\r\n|\r|\n")  # where io.TextIOWrapper(newline="") ends a line


def sniffed_reason(path: Path, raw: dict[str, Any], table: Table) -> str | None:
    """Why frictionless would read this file's text otherwise than we did, from what it detects in its first
    bytes and lines (encoding, dialect, header row), or None. Only for a file read by the fast path, which is
    UTF-8 with regular quoting; it looks at the file's head only, and at its cells only where spaces after a
    delimiter would be skipped. Asked by the fast engine (checks/engine/fast.py), which alone needs it, in its
    own thread: our checks read the file as it is."""
    if not table.fast or table.foreign is not None or not table.readable:
        return None
    head = _head(path)
    if head is None:
        return "its file cannot be opened again"  # it went away while it was read: never guess
    if raw.get("encoding") is None:
        detected = _detected_encoding(head[:BUFFER_BYTES])
        if _codec(detected) not in UTF8_NAMES:
            return f"frictionless would detect its encoding as {detected!r}"
    delimiter, skip = _sniff(_sample(head))
    if delimiter != ",":
        return f"frictionless would sniff {delimiter!r} as its delimiter"
    if skip and _cell_starts_with_space(table):
        return "frictionless would sniff that spaces after a delimiter are skipped, and a cell starts with one"
    header = _inferred_header_row(table)
    if header != 1:
        return f"frictionless would take record {header} as the header (the first near the sample's average width)"
    return None


def _head(path: Path) -> bytes | None:
    """The file's first bytes: at least BUFFER_BYTES of them and more than SAMPLE_LINES line ends (each line
    end has its LF, or is a CR that the fast path allows only inside quotes), or all of it; None if it cannot
    be opened."""
    try:
        fd = open_regular(path, follow_symlinks=False)
    except OSError:
        return None
    chunks: list[bytes] = []
    size = newlines = 0
    with os.fdopen(fd, "rb") as handle:
        while chunk := handle.read(1 << 16):
            chunks.append(chunk)
            size += len(chunk)
            newlines += chunk.count(b"\n")
            if size > BUFFER_BYTES and newlines > SAMPLE_LINES:
                break
    return b"".join(chunks)


def _sample(head: bytes) -> str:
    """The text of the first SAMPLE_LINES lines, as frictionless joins them for csv.Sniffer (a BOM dropped)."""
    end = len(head)
    for count, match in enumerate(_LINE_END.finditer(head), 1):
        if count == SAMPLE_LINES:
            end = match.end()
            break
    return head[:end].decode("utf-8-sig", errors="replace")


def _detected_encoding(buffer: bytes) -> str:
    """The encoding frictionless detects for a resource that declares none (its own detector)."""
    from frictionless import Detector

    return str(Detector().detect_encoding(buffer))


def _sniff(sample: str) -> tuple[str, bool]:
    """(delimiter, skip initial spaces) as frictionless' CSV parser sniffs them: csv.Sniffer().sniff(sample,
    SNIFFED_DELIMITERS), or csv.excel where it cannot tell."""
    delimiter: str | None = None
    skip: object = False
    if '"' in sample or "'" in sample:  # else the sniffer's first guess, by quoted cells, finds nothing
        _, delimiter, skip = guess_quote_and_delimiter(sample, SNIFFED_DELIMITERS)
    if not delimiter:
        delimiter, skip = guess_delimiter(sample, SNIFFED_DELIMITERS)
    if not delimiter:
        return ",", False  # csv.Error: frictionless takes csv.excel
    return delimiter, bool(skip)


# csv.Sniffer._guess_quote_and_delimiter's four patterns (CPython 3.11), re.DOTALL | re.MULTILINE: a quoted
# cell between two delimiters, at a line's start, at its end, or alone on its line. The lazy `.*?` with a
# backreference makes Python's re try every later character of the sample for each opening quote that
# never closes: guess_quote_and_delimiter finds the same matches with str.find.
_OPENING = re.compile(r"""(?P<delim>[^\w\n"'])(?P<space> ?)(?P<quote>["'])""")
_CLOSING_DELIMITED = {q: re.compile(q + r"""[^\w\n"']""") for q in "\"'"}
_CLOSING_AT_END = {q: re.compile(q + r"(?=\n|\Z)") for q in "\"'"}
_LINE_QUOTE = re.compile(r"""(?:^|\n)(?P<quote>["'])""", re.MULTILINE)


def guess_quote_and_delimiter(data: str, delimiters: str) -> tuple[str, str, bool]:
    """(quote, delimiter, skip initial spaces) as csv.Sniffer._guess_quote_and_delimiter (CPython 3.11) finds
    them, ('', '', False) where it finds no quoted cell; its matches are found with str.find instead of a
    lazy backreference. tests/test_coverage.py holds it to the sniffer's own."""
    matches: list[tuple[str, str, str]] = []  # (quote, delimiter or '', space or '')
    for pattern in (1, 2, 3, 4):
        matches = _quoted_cells(data, pattern)
        if matches:
            break
    if not matches:
        return "", "", False
    quotes: dict[str, int] = {}
    delims: dict[str, int] = {}
    spaces = 0
    for quote, delim, space in matches:
        quotes[quote] = quotes.get(quote, 0) + 1
        if pattern == 4:
            continue  # that pattern has no delimiter group
        if delim and delim in delimiters:
            delims[delim] = delims.get(delim, 0) + 1
        if space:
            spaces += 1
    quote = max(quotes, key=lambda q: quotes[q])
    if not delims:
        return quote, "", False
    delim = max(delims, key=lambda d: delims[d])
    return quote, delim, delims[delim] == spaces


def _quoted_cells(data: str, pattern: int) -> list[tuple[str, str, str]]:
    """re.findall of one of the sniffer's four patterns, as (quote, delimiter, space)."""
    found: list[tuple[str, str, str]] = []
    at = 0
    while True:
        if pattern in (1, 3):  # (delim)(space ?)(quote).*?(quote) then (delim), or the line's end
            opening = _OPENING.search(data, at)
            if opening is None:
                return found
            delim, space, quote = opening.group("delim", "space", "quote")
            if pattern == 1:
                close = data.find(quote + delim, opening.end())
                end = close + 2
            else:
                closing = _CLOSING_AT_END[quote].search(data, opening.end())
                close = closing.start() if closing else -1
                end = close + 1
            if close < 0:
                at = opening.start() + 1
                continue
            found.append((quote, delim, space))
        else:  # (?:^|\n)(quote).*?(quote) then (delim)(space ?), or the line's end
            line = _LINE_QUOTE.search(data, at)
            if line is None:
                return found
            quote = line.group("quote")
            if pattern == 2:
                closing = _CLOSING_DELIMITED[quote].search(data, line.end())
                if closing is None:
                    at = line.start() + 1
                    continue
                delim = data[closing.end() - 1]
                space = " " if data[closing.end() : closing.end() + 1] == " " else ""
                end = closing.end() + len(space)
            else:
                closing = _CLOSING_AT_END[quote].search(data, line.end())
                if closing is None:
                    at = line.start() + 1
                    continue
                delim, space, end = "", "", closing.end()
            found.append((quote, delim, space))
        at = end


def guess_delimiter(data: str, delimiters: str) -> tuple[str, bool]:
    """csv.Sniffer._guess_delimiter (CPython 3.11), counting only the characters that may be chosen.

    The sniffer tabulates how often each of the 127 ASCII characters occurs on each line, then keeps only
    those in `delimiters`: tabulating only those gives the same answer, a tenth of the time.
    tests/test_coverage.py holds it to the sniffer's.
    """
    lines = list(filter(None, data.split("\n")))
    candidates = sorted(set(delimiters))  # in code order, as the sniffer visits them
    chunk = min(10, len(lines))
    iteration = 0
    frequencies: dict[str, dict[int, int]] = {}
    modes: dict[str, tuple[int, int]] = {}
    delims: dict[str, tuple[int, int]] = {}
    start, end = 0, chunk
    while start < len(lines):
        iteration += 1
        for line in lines[start:end]:
            for char in candidates:
                meta = frequencies.get(char, {})
                count = line.count(char)
                meta[count] = meta.get(count, 0) + 1
                frequencies[char] = meta
        for char in frequencies:
            items = list(frequencies[char].items())
            if len(items) == 1 and items[0][0] == 0:
                continue
            if len(items) > 1:
                modes[char] = max(items, key=lambda x: x[1])
                items.remove(modes[char])
                modes[char] = (modes[char][0], modes[char][1] - sum(item[1] for item in items))
            else:
                modes[char] = items[0]
        total = float(min(chunk * iteration, len(lines)))
        consistency = 1.0
        while len(delims) == 0 and consistency >= 0.9:
            for k, v in modes.items():
                if v[0] > 0 and v[1] > 0 and (v[1] / total) >= consistency and k in delimiters:
                    delims[k] = v
            consistency -= 0.01
        if len(delims) == 1:
            delim = next(iter(delims))
            return delim, lines[0].count(delim) == lines[0].count(f"{delim} ")
        start = end
        end += chunk
    if not delims:
        return "", False
    if len(delims) > 1:
        for d in [",", "\t", ";", " ", ":"]:  # the sniffer's preferred ones
            if d in delims:
                return d, lines[0].count(d) == lines[0].count(f"{d} ")
    delim = sorted((v, k) for k, v in delims.items())[-1][1]
    return delim, lines[0].count(delim) == lines[0].count(f"{delim} ")


def _cell_starts_with_space(table: Table) -> bool:
    """Whether a cell starts with a space (which a sniffed skipinitialspace would drop)."""
    import pyarrow.compute as pc

    if any(cell.startswith(" ") for cells in table.extra_cells.values() for cell in cells):
        return True
    return any(pc.any(pc.starts_with(column, " ")).as_py() for column in table.columns.values())


def _inferred_header_row(table: Table) -> int:
    """The record frictionless takes as the header: the first of the first SAMPLE_LINES records (blank ones
    count, with no cell) whose width is within a tenth (at least 1) of their average width; else the first.
    frictionless.detector.Detector.detect_dialect."""
    width = len(table.header or [])
    widths = [width]
    blank = set(table.blank_row_numbers)
    rows = iter(range(table.num_rows))
    index = next(rows, None)
    for number in range(2, SAMPLE_LINES + 1):
        if number in blank:
            widths.append(0)
        elif index is not None and int(table.row_numbers[index]) == number:
            widths.append(table.cell_counts.get(index, width))
            index = next(rows, None)
        else:
            break  # the file ends
    average = round(sum(widths) / len(widths))
    drift = max(round(average * 0.1), 1)
    near = range(average - drift, average + drift + 1)
    return next((number for number, w in enumerate(widths, 1) if w in near), 1)


def _foreign_without_file(
    package: Package, resource: Resource, raw: dict[str, Any], reason: str, findings: list[Finding]
) -> dict[str, Table]:
    """A foreign resource that is not one file: inline data (nothing to locate), or several files, each of
    which must be a regular file inside the package (what would lead elsewhere is refused, as for one path)."""
    problems = []
    for part in _parts(raw):
        problem = _locate_part(package, resource, part)
        if problem is None:
            path = resolve_inside(package.root, part, allow_symlinks=False)
            local: list[Finding] = []
            if not regular_file(path, part, local):
                problem = local[0]
        if problem is not None:
            problems.append(problem)
    if not problems:
        return {resource.name: Table(file=resource.path, foreign=reason)}
    located = [p for p in problems if p.file == DESCRIPTOR_NAME]  # a path that leads outside or is remote
    findings.extend(located)
    return {
        resource.name: Table(file=resource.path, findings=[p for p in problems if p not in located], readable=False)
    }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # its reader says why


def seed_files(root: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The seeds the zip takes (package-relative), and what in seeds/ would lead outside the package, with why.

    A symlink is followed only while it stays inside the package (resolved): seeds/ itself, or a
    file in it, that leads anywhere else is refused, never read. Folders and special files in
    seeds/ are not taken.
    """
    if not os.path.lexists(root / SEEDS_DIR):
        return [], []
    if reason := inside_reason(root, SEEDS_DIR):
        return [], [(SEEDS_DIR, reason)]
    folder = resolve_inside(root, SEEDS_DIR)
    if not folder.is_dir():
        return [], []
    files, problems = [], []
    for entry in sorted(os.listdir(folder)):
        relative = f"{SEEDS_DIR}/{entry}"
        if reason := inside_reason(root, relative):
            problems.append((relative, reason))
        elif resolve_inside(root, relative).is_file():
            files.append(relative)
    return files, problems

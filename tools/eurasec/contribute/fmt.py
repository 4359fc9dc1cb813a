"""`fmt`: rewrite CSV files into the canonical form that validate requires, losing or changing no value.

Canonical form: UTF-8 without BOM, LF line endings and a final newline, the header equal to
the schema's field names in order, quoting only where needed, rows sorted by primary key.
Values are never touched: fmt does not trim, normalize or fix them (validate says what to fix).
A file that cannot be parsed without guessing is refused and left as it is.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..model.descriptor import DESCRIPTOR_NAME, Package, Resource, load_package
from ..model.keys import row_key
from ..model.paths import NotRegularFileError, UnsafePathError, read_regular, resolve_inside
from ..read.strict import (
    BOM,
    MAX_COLUMNS,
    canonical_row,
    compressed_reason,
    declared_compression,
    parse,
)

# Findings of the reader after which fmt cannot know the cells without guessing.
_UNPARSABLE = ("csv-malformed", "empty-file", "bare-carriage-return", "too-many-columns")


class FormatError(Exception):
    """The file cannot be put in canonical form without guessing; it is left untouched."""


@dataclass(frozen=True)
class FormatResult:
    file: str
    changed: bool  # the canonical form differs from the file (with --check: it would be rewritten)
    refused: str | None = None  # why the file was left untouched


def _records_as_rows(header: list[str], records: list[list[str]]) -> Counter[tuple[tuple[str, str], ...]]:
    """The table's content independent of column order, row order and quoting: what must survive."""
    return Counter(tuple(sorted(zip(header, record, strict=True))) for record in records if record)


def canonical_text(raw: bytes, resource: Resource) -> str:
    """The canonical form of a CSV file's bytes; raises FormatError when that would need a guess."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"byte {exc.start} is not UTF-8; re-save the file as UTF-8 first") from None
    table = parse(text, resource.path)
    malformed = [f for f in table.findings if f.code in _UNPARSABLE]
    if malformed:
        hint = (
            " (end the line with LF, or quote the cell that holds it)"
            if malformed[0].code == "bare-carriage-return"
            else ""
        )
        raise FormatError(f"line {malformed[0].line}: {malformed[0].message}{hint}")
    header = table.header or []
    expected = resource.field_names
    if sorted(header) != sorted(expected) or len(set(header)) != len(header):
        unknown = [h for h in header if h not in expected]
        missing = [f for f in expected if f not in header]
        detail = "; ".join(
            part
            for part in (
                f"unknown columns {unknown}" if unknown else "",
                f"missing columns {missing}" if missing else "",
                "a repeated column" if len(set(header)) != len(header) else "",
            )
            if part
        )
        raise FormatError(f"the header does not hold the schema's fields ({detail})")
    order = [header.index(name) for name in expected]
    rows: list[tuple[int, list[str]]] = []
    for record, line in zip(table.records, table.lines, strict=True):
        if not record:
            continue  # an empty line holds no value
        if len(record) != len(header):
            raise FormatError(f"line {line} has {len(record)} cells where the header has {len(header)}")
        rows.append((line, [record[i] for i in order]))
    keyed = []
    for line, row in rows:
        key = row_key(resource, dict(zip(expected, row, strict=True)))
        if key is None:
            raise FormatError(
                f"line {line}: the primary key cannot be read as the schema's type, so it cannot be sorted"
            )
        keyed.append((key, row))
    keyed.sort(key=lambda item: item[0])  # stable: rows with equal keys keep their order
    # A cell holding a CR or LF is quoted (csv.writer with an LF terminator leaves a lone CR bare).
    result = "".join(canonical_row(row) + "\n" for row in [expected, *(row for _, row in keyed)])
    # The guarantee, checked rather than assumed: the same cells, only rearranged...
    if _records_as_rows(header, table.records) != _records_as_rows(expected, [r for _, r in keyed]):
        raise FormatError("formatting would change the table's content; nothing was written")
    # ...and the text written reads back as exactly those cells, in that order.
    again = parse(result, resource.path)
    if (
        any(f.code in _UNPARSABLE for f in again.findings)
        or again.header != expected
        or again.records != [row for _, row in keyed]
    ):
        raise FormatError("the canonical text would not read back as the same cells; nothing was written")
    return result


def _write_atomically(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _locate(package: Package, index: int, resource: Resource) -> Path:
    """The file fmt may rewrite for a resource: a regular file inside the package, not a symlink, not compressed.

    Raises FormatError with the reason otherwise; the same paths validate refuses.
    """
    try:
        real = resolve_inside(package.root, resource.path)
    except UnsafePathError as exc:
        raise FormatError(f"the path is not inside the package: {exc}") from None
    compressed = compressed_reason(resource.path)
    declared = declared_compression(package.raw["resources"][index])
    if compressed or declared:
        raise FormatError(compressed or f"the resource declares compression {declared!r}; fmt writes plain CSV only")
    if len(resource.fields) > MAX_COLUMNS:
        raise FormatError(f"the schema has {len(resource.fields):,} fields, over the {MAX_COLUMNS:,} limit")
    try:
        mode = os.lstat(package.root / resource.path).st_mode  # the link itself, not where it leads
    except FileNotFoundError:
        raise FormatError("cannot be read: the file does not exist") from None
    except OSError as exc:
        raise FormatError(f"cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise FormatError("it is a symlink" if stat.S_ISLNK(mode) else "it is not a regular file")
    return real


def _read(path: Path) -> bytes:
    try:
        return read_regular(path, follow_symlinks=False)  # never blocks, never follows a link swapped in
    except NotRegularFileError as exc:
        raise FormatError(f"it is not a regular file ({exc})") from None
    except OSError as exc:
        raise FormatError(f"cannot be read: {exc.strerror or exc}") from None


def format_package(descriptor: str | Path = DESCRIPTOR_NAME, *, check: bool = False) -> list[FormatResult]:
    """Put every resource's CSV in canonical form (with check=True, only say which would change).

    A resource whose path validate refuses (outside the package, through a link that leads out,
    a symlink, a FIFO or anything but a regular file, compressed) is refused and never opened.
    """
    package = load_package(descriptor)
    results = []
    for index, resource in enumerate(package.resources):
        try:
            path = _locate(package, index, resource)
            raw = _read(path)
        except FormatError as exc:
            results.append(FormatResult(resource.path, False, str(exc)))
            continue
        try:
            text = canonical_text(raw[len(BOM.encode()) :] if raw.startswith(BOM.encode()) else raw, resource)
        except FormatError as exc:
            results.append(FormatResult(resource.path, False, str(exc)))
            continue
        changed = text.encode("utf-8") != raw
        if changed and not check:
            _write_atomically(path, text)
        results.append(FormatResult(resource.path, changed))
    return results

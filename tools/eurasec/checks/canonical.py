"""Canonical CSV form: UTF-8 without BOM, LF line endings, the schema's header, minimal quoting, sorted rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from ..codes import finding
from ..descriptor import Resource
from ..findings import Finding
from ..read import BOM, CsvTable
from .context import Context


def canonical_record(record: list[str]) -> str:
    """One record as the canonical writer puts it, without its line ending."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(record)
    return out.getvalue()[:-1]


def sort_key(resource: Resource, values: dict[str, str]) -> tuple[Any, ...] | None:
    """The typed primary key used for ordering; None when a cell cannot be typed (another check says why)."""
    key: list[Any] = []
    for name in resource.primary_key:
        value = values.get(name, "")
        if resource.field(name).type == "integer":
            try:
                key.append((0, int(value)))
            except ValueError:
                return None
        else:
            key.append((1, value))
    return tuple(key)


def _raw_lines(table: CsvTable) -> list[str]:
    text = table.text[1:] if table.text.startswith(BOM) else table.text
    return text.split("\n")


def _record_ends(table: CsvTable, line_count: int) -> list[int]:
    """Lines that end a record: only there is a CR a line ending (inside a quoted cell it is part of a value)."""
    if any(f.code == "csv-malformed" for f in table.findings) or table.header is None:
        return list(range(1, line_count + 1))
    header_end = table.lines[0] - 1 if table.lines else 1
    return [n for n in (header_end, *table.end_lines) if 1 <= n <= line_count]


def check_canonical(ctx: Context) -> Iterator[Finding]:
    for resource in ctx.resources:
        table = ctx.dataset.tables.get(resource.name)
        if table is None or not table.readable or not table.text:
            continue
        file = resource.path
        if table.text.startswith(BOM):
            yield finding("bom", file, "the file starts with a UTF-8 byte-order mark", line=1)
        lines = _raw_lines(table)
        crlf = [n for n in _record_ends(table, len(lines)) if lines[n - 1].endswith("\r")]
        if crlf:
            more = f" (and {len(crlf) - 1} more lines)" if len(crlf) > 1 else ""
            yield finding("crlf", file, f"line ends with CR LF instead of LF{more}", line=crlf[0])
        if not table.text.endswith("\n"):
            yield finding(
                "no-final-newline", file, "the last line has no newline at its end", line=table.text.count("\n") + 1
            )
        if table.header is None:
            continue
        if table.header != resource.field_names:
            yield finding(
                "header-mismatch",
                file,
                f"the header is {','.join(table.header)!r}"
                f" but the schema's fields are {','.join(resource.field_names)!r}",
                line=1,
            )
            continue  # row checks below assume the schema's columns
        if crlf or any(finding_.code == "csv-malformed" for finding_ in table.findings):
            continue  # every line would differ; the finding above says why
        header_raw = lines[0]
        if header_raw != canonical_record(table.header):
            yield finding(
                "not-canonical",
                file,
                f"the header is written {header_raw!r} instead of {canonical_record(table.header)!r}",
                line=1,
            )
        for record, start, end in zip(table.records, table.lines, table.end_lines, strict=True):
            if not record:
                continue  # a blank row is frictionless' finding
            raw = "\n".join(lines[start - 1 : end])
            expected = canonical_record(record)
            if raw != expected:
                yield finding(
                    "not-canonical",
                    file,
                    f"the row is written {raw[:80]!r} but its canonical form is {expected[:80]!r}",
                    line=start,
                )
        if not resource.primary_key or any(name not in table.header for name in resource.primary_key):
            continue
        previous = None
        for row in ctx.rows(resource):
            key = sort_key(resource, row.values)
            if key is None:
                continue
            if previous is not None and key < previous:
                shown = ", ".join(f"{n}={row.values.get(n)!r}" for n in resource.primary_key)
                yield finding(
                    "unsorted-rows",
                    file,
                    f"the row with {shown} comes after a row with a larger primary key",
                    line=row.line,
                )
                break  # one is enough: the fix (sort the file) mends all
            previous = key

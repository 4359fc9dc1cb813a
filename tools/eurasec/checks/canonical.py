"""Canonical CSV form: UTF-8 without BOM, LF line endings, the schema's header, minimal quoting, sorted rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..model.codes import finding
from ..model.descriptor import Resource
from ..model.findings import Finding
from ..model.keys import key_columns
from ..read.kernels import neighbour_order
from .context import Context

MAX_LINES_REPORTED = 1000  # per file and code: past this, the fix (eurasec fmt) is the same


def first_unsorted(resource: Resource, columns: dict[str, Any]) -> int | None:
    """Index of the first row whose primary key is smaller than the previous row's; None when in order."""
    import numpy as np

    key = key_columns(resource, columns.__getitem__)
    if key is None:
        return None  # an untyped key is frictionless' type error
    down = np.flatnonzero(neighbour_order(key) < 0)
    return int(down[0]) + 1 if len(down) else None


def check_canonical(ctx: Context) -> Iterator[Finding]:
    from ..read.strict import compressed_reason, declared_compression

    for resource, raw in zip(ctx.resources, ctx.dataset.package.raw["resources"], strict=True):
        declared = declared_compression(raw)
        if declared and not compressed_reason(resource.path):  # a compressed path is reported as it is read
            yield finding(
                "compressed-resource",
                resource.path,
                f"the resource declares compression {declared!r}; eurasec reads plain CSV files only"
                " and never decompresses one",
            )
        table = ctx.dataset.tables.get(resource.name)
        if table is None or not table.readable or table.foreign is not None:
            continue  # a file frictionless reads its own way (a dialect, another encoding …) has no form of ours
        file = resource.path
        if table.has_bom:
            yield finding("bom", file, "the file starts with a UTF-8 byte-order mark", line=1)
        if table.crlf_lines:
            more = f" (and {len(table.crlf_lines) - 1} more lines)" if len(table.crlf_lines) > 1 else ""
            yield finding("crlf", file, f"line ends with CR LF instead of LF{more}", line=table.crlf_lines[0])
        if not table.final_newline:
            yield finding("no-final-newline", file, "the last line has no newline at its end", line=table.line_count)
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
        malformed = any(f.code == "csv-malformed" for f in table.findings)
        if not table.crlf_lines and not malformed:  # otherwise every line would differ; the finding above says why
            for line in table.noncanonical_lines[:MAX_LINES_REPORTED]:
                yield finding(
                    "not-canonical",
                    file,
                    "a cell is quoted that needs no quotes (only cells with a comma, a double quote"
                    " or a line break are quoted)",
                    line=line,
                )
        if resource.primary_key and all(name in table.columns for name in resource.primary_key):
            index = first_unsorted(resource, table.columns)
            if index is not None:
                shown = ", ".join(f"{n}={table.columns[n][index].as_py()!r}" for n in resource.primary_key)
                yield finding(
                    "unsorted-rows",
                    file,
                    f"the row with {shown} comes after a row with a larger primary key",
                    line=table.line(index),
                )

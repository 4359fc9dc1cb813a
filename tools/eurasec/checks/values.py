"""Values frictionless reads leniently but the release would store differently: written canonically or not at all.

frictionless reads `+42`, ` 42 `, `1_000`, `٤٢` and `007` as integers, integers beyond 64 bits,
and `2001-2-3` as a date. The release stores typed values, so such a cell would come out
changed (or, past 64 bits, not at all). These checks are deliberate deviations from
frictionless: the cell passes its type check and fails ours, with its canonical form as the fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model.codes import finding
from ..model.findings import Finding
from ..read.kernels import byte_lengths, is_plain_integer
from .context import Context, rows_where, texts
from .engine.tabular import _python_date, _python_integer

_CANONICAL_INTEGER = r"^-?(0|[1-9][0-9]{0,17})$"
_CANONICAL_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
INT64 = (-(2**63), 2**63 - 1)


def check_values(ctx: Context) -> Iterator[Finding]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    for resource in ctx.resources:
        table = ctx.table(resource)
        if table is None:
            continue
        for f in resource.fields:
            if f.name not in table.columns or f.type not in ("integer", "date") or (f.format or "default") != "default":
                continue
            cells = table.columns[f.name]
            pattern = _CANONICAL_INTEGER if f.type == "integer" else _CANONICAL_DATE
            look = byte_lengths(cells) > 0
            if f.type == "integer":  # plain digits with no leading zero are canonical: the regex reads the rest
                look &= ~is_plain_integer(cells)
            odd = np.zeros(len(cells), dtype=bool)
            if look.any():
                subset = np.flatnonzero(look)
                canonical = pc.match_substring_regex(cells.take(pa.array(subset)), pattern)
                odd[subset] = ~pc.fill_null(canonical, False).to_numpy(zero_copy_only=False)
            rows = rows_where(odd)
            column = ctx.column_number(resource, f.name)
            for index, cell in zip(rows, texts(cells, rows), strict=True):
                if f.type == "integer":
                    value = _python_integer(cell)
                    if value is None:
                        continue  # not an integer at all: frictionless' type error
                    if not INT64[0] <= value <= INT64[1]:
                        yield finding(
                            "integer-out-of-range",
                            resource.path,
                            f"{cell!r} is beyond the 64-bit range that Parquet and SQLite store",
                            line=table.line(index),
                            field=f.name,
                            column=column,
                        )
                        continue
                    message, canonical = f"{cell!r} is read as the integer {value}", str(value)
                else:
                    value = _python_date(cell)
                    if value is None:
                        continue
                    message, canonical = f"{cell!r} is read as the date {value.isoformat()}", value.isoformat()
                yield finding(
                    f"{f.type}-not-canonical",
                    resource.path,
                    f"{message}, but is not written as one",
                    line=table.line(index),
                    field=f.name,
                    column=column,
                    hint=f"Write it as {canonical}.",
                )

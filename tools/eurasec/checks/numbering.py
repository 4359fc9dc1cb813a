"""Numbered rows run 1, 2, 3… in every document: a field of role `number`, counted within the rest of the
primary key (or, when the number is not part of it, within the row's document)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..model.codes import finding
from ..model.descriptor import NUMBER
from ..model.findings import Finding
from ..read.kernels import dictionary_codes
from .context import Context
from .roles import number_groups

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def _group_codes(columns: list[pa.Array]) -> np.ndarray:
    """One integer per row that is the same exactly when the rows' values in these columns are."""
    import numpy as np

    codes = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        column_codes, values = dictionary_codes(column)
        codes = codes * len(values) + column_codes
        codes = np.unique(codes, return_inverse=True)[1].astype(np.int64)  # dense again: no overflow
    return codes


def check_numbering(ctx: Context) -> Iterator[Finding]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    for resource in ctx.resources:
        table, numbered = ctx.table(resource), resource.role_field(NUMBER)
        if numbered is None or table is None or numbered.name not in table.columns:
            continue
        group_by = [name for name in number_groups(resource) if name in table.columns]
        if not group_by or table.num_rows == 0:
            continue  # a number that runs within nothing is the roles check's to report
        raw = table.columns[numbered.name]
        typed = pc.match_substring_regex(raw, r"^[0-9]{1,18}$").to_numpy(zero_copy_only=False)
        numbers = np.zeros(len(raw), dtype=np.int64)
        if typed.any():
            numbers[typed] = pc.cast(raw.filter(pa.array(typed)), pa.int64()).to_numpy(zero_copy_only=False)
        group = _group_codes([table.columns[n] for n in group_by])
        count = len(np.unique(group))
        # Per group, over the numbers that read as numbers: count, distinct count, least and greatest.
        # (numpy, not pyarrow's group_by: that would import pyarrow's query engine, a tenth of a second.)
        order = np.lexsort((numbers, group))
        g, n, t = group[order], numbers[order], typed[order]
        g, n = g[t], n[t]
        counted = np.bincount(g, minlength=count)
        new_value = np.ones(len(g), dtype=bool)
        new_value[1:] = (g[1:] != g[:-1]) | (n[1:] != n[:-1])
        distinct = np.bincount(g[new_value], minlength=count)
        first = np.ones(len(g), dtype=bool)
        first[1:] = g[1:] != g[:-1]
        last = np.ones(len(g), dtype=bool)
        last[:-1] = g[:-1] != g[1:]
        least, greatest = np.zeros(count, dtype=np.int64), np.zeros(count, dtype=np.int64)
        least[g[first]], greatest[g[last]] = n[first], n[last]
        untyped = np.bincount(group[~typed], minlength=count) > 0
        ok = (counted > 0) & (least == 1) & (greatest == counted) & (distinct == counted)
        # A group with an unreadable number is frictionless' type error; a gap found there would only echo it.
        for group_code in np.flatnonzero(~ok & ~untyped).tolist():
            rows = np.flatnonzero(group == group_code)
            key = {name: table.columns[name][int(rows[0])].as_py() for name in group_by}
            values = numbers[rows]
            order = np.lexsort((table.lines[rows], values))
            where = ", ".join(f"{name} {value!r}" for name, value in key.items())
            for expected, position in enumerate(order, 1):
                number = int(values[position])
                if number != expected:
                    what = (
                        "repeats"
                        if number < expected
                        else f"skips {expected}"
                        if number == expected + 1
                        else f"skips {expected}–{number - 1}"
                    )
                    yield finding(
                        "numbering-gap",
                        resource.path,
                        f"number {number} {what}: numbers for {where} must run 1, 2, 3… without gaps",
                        line=table.line(int(rows[position])),
                        field=numbered.name,
                        column=ctx.column_number(resource, numbered.name),
                    )
                    break

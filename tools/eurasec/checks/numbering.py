"""Numbered rows (a primary key of document_id and number) run 1, 2, 3… in every document."""

from __future__ import annotations

from collections.abc import Iterator

from ..codes import finding
from ..findings import Finding
from .context import Context


def check_numbering(ctx: Context) -> Iterator[Finding]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    for resource in ctx.resources:
        table = ctx.table(resource)
        if "number" not in resource.primary_key or table is None or "number" not in table.columns:
            continue
        group_by = [name for name in resource.primary_key if name != "number" and name in table.columns]
        raw = table.columns["number"]
        typed = pc.match_substring_regex(raw, r"^[0-9]{1,18}$")
        numbers = pc.cast(pc.if_else(typed, raw, pa.scalar(None, pa.string())), pa.int64())
        groups = pa.table({**{n: table.columns[n] for n in group_by}, "number": numbers, "untyped": pc.invert(typed)})
        summary = (
            groups.group_by(group_by).aggregate(
                [
                    ("number", "min"),
                    ("number", "max"),
                    ("number", "count"),
                    ("number", "count_distinct"),
                    ("untyped", "any"),
                ]
            )
            if group_by
            else None
        )
        if summary is None:
            continue
        ok = pc.and_(
            pc.and_(pc.equal(summary["number_min"], 1), pc.equal(summary["number_max"], summary["number_count"])),
            pc.equal(summary["number_count_distinct"], summary["number_count"]),
        )
        # A group with an unreadable number is frictionless' type error; a gap found there would only echo it.
        failing = pc.and_(pc.invert(ok), pc.invert(summary["untyped_any"])).to_numpy(zero_copy_only=False)
        for g in np.flatnonzero(failing).tolist():
            key = {n: summary[n][g].as_py() for n in group_by}
            mask = np.ones(table.num_rows, dtype=bool)
            for n, v in key.items():
                mask &= pc.equal(table.columns[n], v).to_numpy(zero_copy_only=False)
            rows = np.flatnonzero(mask)
            values = numbers.to_numpy(zero_copy_only=False)[rows]
            order = np.lexsort((table.lines[rows], values))
            where = ", ".join(f"{n} {v!r}" for n, v in key.items())
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
                        field="number",
                        column=ctx.column_number(resource, "number"),
                    )
                    break

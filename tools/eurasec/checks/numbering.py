"""Numbered rows (a primary key of document_id and number) run 1, 2, 3… in every document."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ..codes import finding
from ..dataset import Row
from ..findings import Finding
from .context import Context


def check_numbering(ctx: Context) -> Iterator[Finding]:
    for resource in ctx.resources:
        if "number" not in resource.primary_key or not ctx.readable(resource):
            continue
        group_by = [name for name in resource.primary_key if name != "number"]
        groups: dict[tuple[str, ...], list[tuple[int, Row]]] = defaultdict(list)
        untyped: set[tuple[str, ...]] = set()
        for row in ctx.rows(resource):
            key = tuple(row.values.get(n, "") for n in group_by)
            try:
                groups[key].append((int(row.values.get("number", "")), row))
            except ValueError:
                untyped.add(key)  # frictionless reports the type error; a gap here would only echo it
        for key, numbered in groups.items():
            if key in untyped:
                continue
            numbered.sort(key=lambda item: (item[0], item[1].line))
            where = ", ".join(f"{n} {v!r}" for n, v in zip(group_by, key, strict=True))
            for expected, (number, row) in enumerate(numbered, 1):
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
                        line=row.line,
                        field="number",
                        column=ctx.column(resource, "number"),
                    )
                    break

"""Entities: each alias names exactly one entity, and every entity is referenced by something."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from ..codes import finding
from ..descriptor import Resource
from ..findings import Finding
from .context import Context, texts

ALIASES = "aliases"


def alias_key(alias: str) -> str:
    """Two aliases are the same name when they differ only in case, spacing or normalization."""
    return " ".join(unicodedata.normalize("NFC", alias).casefold().split())


def entity_resources(ctx: Context) -> list[Resource]:
    """Tables of things with an id that others point at (documents are sources, not entities)."""
    referenced = {fk.resource for r in ctx.resources for fk in r.foreign_keys}
    return [r for r in ctx.resources if r.primary_key == ("id",) and r.name in referenced and r.name != "documents"]


def check_aliases(ctx: Context) -> Iterator[Finding]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        resource = ctx.dataset.package.resource(ALIASES)
    except KeyError:
        return
    table = ctx.table(resource)
    if table is None or "alias" not in table.columns:
        return
    entities = {r.name for r in entity_resources(ctx)}
    targets = [
        fk.fields[0]
        for fk in resource.foreign_keys
        if len(fk.fields) == 1 and fk.resource in entities and fk.fields[0] in table.columns
    ]
    filled = [pc.not_equal(table.columns[name], "").to_numpy(zero_copy_only=False) for name in targets]
    count = np.sum(filled, axis=0) if filled else np.zeros(table.num_rows, dtype=int)
    for index in np.flatnonzero(count != 1).tolist():
        alias = table.columns["alias"][index].as_py()
        yield finding(
            "alias-target",
            resource.path,
            f"the alias {alias!r} names {int(count[index])} entities; exactly one of {', '.join(targets)}"
            " must be filled",
            line=table.line(index),
            field=targets[0] if targets else None,
        )
    if not targets:
        return
    # The entity each row names, as "column=id"; the alias' key folds case and spacing (pyarrow's
    # lower case first, Python's casefold for the groups that matter).
    entity = pa.array([""] * table.num_rows, pa.string())
    for name in reversed(targets):
        column = table.columns[name]
        entity = pc.if_else(pc.not_equal(column, ""), pc.binary_join_element_wise(name, column, "="), entity)
    aliases = table.columns["alias"]
    rough = pc.utf8_lower(
        pc.utf8_normalize(pc.replace_substring_regex(pc.utf8_trim_whitespace(aliases), r"\s+", " "), "NFC")
    )
    usable = pc.and_(pc.equal(pa.array(count == 1), True), pc.not_equal(aliases, ""))
    grouped = pa.table({"key": rough, "entity": entity}).filter(usable)
    summary = grouped.group_by("key").aggregate([("entity", "count_distinct")])
    shared = pc.filter(summary["key"], pc.greater(summary["entity_count_distinct"], 1))
    candidates = np.flatnonzero(pc.and_(usable, pc.is_in(rough, value_set=shared)).to_numpy(zero_copy_only=False))
    rows = candidates.tolist()
    named: dict[str, dict[str, int]] = {}
    by_row = list(zip(rows, texts(aliases, rows), texts(entity, rows), strict=True))
    for index, alias, target in by_row:
        named.setdefault(alias_key(alias), {}).setdefault(target, index)
    for index, alias, target in by_row:
        owners = named[alias_key(alias)]
        if len(owners) > 1 and target != next(iter(owners)):
            yield finding(
                "alias-ambiguous",
                resource.path,
                f"the alias {alias!r} names several entities ({', '.join(owners)})",
                line=table.line(index),
                field="alias",
                column=ctx.column_number(resource, "alias"),
            )


def check_unused(ctx: Context) -> Iterator[Finding]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    entities = entity_resources(ctx)
    used: dict[str, list[pa.Array]] = {r.name: [] for r in entities}
    for resource in ctx.resources:
        table = ctx.table(resource)
        if table is None:
            return  # with a table unread, "unused" would be a guess
        for fk in resource.foreign_keys:
            if fk.resource in used and len(fk.fields) == 1 and fk.fields[0] in table.columns:
                used[fk.resource].append(pc.unique(table.columns[fk.fields[0]]))
    for resource in entities:
        table = ctx.table(resource)
        if table is None or "id" not in table.columns:
            continue
        referenced = (
            pc.unique(pa.concat_arrays(used[resource.name])) if used[resource.name] else pa.array([], pa.string())
        )
        ids = table.columns["id"]
        unused = pc.and_(pc.not_equal(ids, ""), pc.invert(pc.is_in(ids, value_set=referenced)))
        for index in np.flatnonzero(unused.to_numpy(zero_copy_only=False)).tolist():
            yield finding(
                "unused-entity",
                resource.path,
                f"{resource.name} row {ids[index].as_py()!r} is referenced by no other row",
                line=table.line(index),
                field="id",
                column=ctx.column_number(resource, "id"),
            )

"""Entities: each alias names exactly one entity, and every entity is referenced by something."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterator

from ..codes import finding
from ..descriptor import Resource
from ..findings import Finding
from .context import Context

ALIASES = "aliases"


def alias_key(alias: str) -> str:
    """Two aliases are the same name when they differ only in case, spacing or normalization."""
    return " ".join(unicodedata.normalize("NFC", alias).casefold().split())


def entity_resources(ctx: Context) -> list[Resource]:
    """Tables of things with an id that others point at (documents are sources, not entities)."""
    referenced = {fk.resource for r in ctx.resources for fk in r.foreign_keys}
    return [r for r in ctx.resources if r.primary_key == ("id",) and r.name in referenced and r.name != "documents"]


def check_aliases(ctx: Context) -> Iterator[Finding]:
    try:
        resource = ctx.dataset.package.resource(ALIASES)
    except KeyError:
        return
    if not ctx.readable(resource):
        return
    targets = [
        fk.fields[0]
        for fk in resource.foreign_keys
        if len(fk.fields) == 1 and fk.resource in {r.name for r in entity_resources(ctx)}
    ]
    named: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)  # alias -> {(column, id): first line}
    rows_of: dict[str, list] = defaultdict(list)
    for row in ctx.rows(resource):
        alias = row.get("alias")
        filled = [(name, row.values[name]) for name in targets if row.get(name)]
        if len(filled) != 1:
            yield finding(
                "alias-target",
                resource.path,
                f"the alias {alias!r} names {len(filled)} entities; exactly one of {', '.join(targets)} must be filled",
                line=row.line,
                field=targets[0] if targets else None,
            )
            continue
        if alias:
            key = alias_key(alias)
            named[key].setdefault(filled[0], row.line)
            rows_of[key].append((row, filled[0]))
    for key, entities in named.items():
        if len(entities) < 2:
            continue
        listed = ", ".join(f"{name}={value}" for name, value in entities)
        first_entity = next(iter(entities))
        for row, entity in rows_of[key]:
            if entity != first_entity:
                yield finding(
                    "alias-ambiguous",
                    resource.path,
                    f"the alias {row.get('alias')!r} names several entities ({listed})",
                    line=row.line,
                    field="alias",
                    column=ctx.column(resource, "alias"),
                )


def check_unused(ctx: Context) -> Iterator[Finding]:
    entities = entity_resources(ctx)
    used: dict[str, set[str]] = {r.name: set() for r in entities}
    for resource in ctx.resources:
        if not ctx.readable(resource):
            return  # with a table unread, "unused" would be a guess
        for fk in resource.foreign_keys:
            if fk.resource in used and len(fk.fields) == 1:
                used[fk.resource].update(row.values.get(fk.fields[0], "") for row in ctx.rows(resource))
    for resource in entities:
        for row in ctx.rows(resource):
            entity = row.get("id")
            if entity and entity not in used[resource.name]:
                yield finding(
                    "unused-entity",
                    resource.path,
                    f"{resource.name} row {entity!r} is referenced by no other row",
                    line=row.line,
                    field="id",
                    column=ctx.column(resource, "id"),
                )

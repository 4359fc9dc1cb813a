"""Entities: each alias names exactly one entity, and every entity is referenced by something.

An alias is a field of role `alias`, the table of documents the resource of role `documents`: both are
found by their roles, whatever their names.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from ..model.codes import finding
from ..model.descriptor import ALIAS, DOCUMENTS, Field, Resource
from ..model.findings import Finding
from ..read.kernels import byte_lengths, dictionary_codes
from .context import Context, texts


def alias_key(alias: str) -> str:
    """Two aliases are the same name when they differ only in case, spacing or normalization."""
    return " ".join(unicodedata.normalize("NFC", alias).casefold().split())


def entity_resources(ctx: Context) -> list[Resource]:
    """Tables of things with an id (a one-field primary key) that others point at; the documents (the
    resource of role `documents`) are sources, not entities."""
    referenced = {fk.resource for r in ctx.resources for fk in r.foreign_keys}
    return [r for r in ctx.resources if len(r.primary_key) == 1 and r.name in referenced and r.role != DOCUMENTS]


def check_aliases(ctx: Context) -> Iterator[Finding]:
    for resource in ctx.resources:
        alias = resource.role_field(ALIAS)
        if alias is not None:
            yield from _check_aliases(ctx, resource, alias)


def _check_aliases(ctx: Context, resource: Resource, alias_field: Field) -> Iterator[Finding]:
    import numpy as np
    import pyarrow.compute as pc

    table = ctx.table(resource)
    name = alias_field.name
    if table is None or name not in table.columns:
        return
    entities = {r.name for r in entity_resources(ctx)}
    targets = [
        fk.fields[0]
        for fk in resource.foreign_keys
        if len(fk.fields) == 1 and fk.resource in entities and fk.fields[0] in table.columns
    ]
    filled = [byte_lengths(table.columns[target]) > 0 for target in targets]
    count = np.sum(filled, axis=0) if filled else np.zeros(table.num_rows, dtype=int)
    for index in np.flatnonzero(count != 1).tolist():
        alias = table.columns[name][index].as_py()
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
    # Rows whose folded alias (pyarrow's lower case first, Python's casefold for the groups that
    # matter) is shared with a row naming another entity. Keys and entities become integer codes.
    aliases = table.columns[name]
    rough = pc.utf8_lower(
        pc.utf8_normalize(pc.replace_substring_regex(pc.utf8_trim_whitespace(aliases), r"\s+", " "), "NFC")
    )
    usable = (count == 1) & (byte_lengths(aliases) > 0)
    key_codes, _ = dictionary_codes(rough)
    if not len(key_codes) or np.bincount(key_codes[usable], minlength=1).max(initial=0) <= 1:
        return  # no folded alias is used twice: none can name two entities
    entity_codes = np.zeros(table.num_rows, dtype=np.int64)
    for position, (target, mask) in enumerate(zip(targets, filled, strict=True)):
        entity_codes[mask] = dictionary_codes(table.columns[target])[0][mask] * len(targets) + position
    width = int(entity_codes.max()) + 1
    pairs = np.unique(key_codes[usable] * width + entity_codes[usable])
    shared = np.flatnonzero(np.bincount(pairs // width) > 1)
    rows = np.flatnonzero(usable & np.isin(key_codes, shared)).tolist()
    named: dict[str, dict[str, int]] = {}
    columns = {target: texts(table.columns[target], rows) for target in targets}
    entity = [next(f"{t}={columns[t][i]}" for t in targets if columns[t][i]) for i in range(len(rows))]
    by_row = list(zip(rows, texts(aliases, rows), entity, strict=True))
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
                field=name,
                column=ctx.column_number(resource, name),
            )


def check_unused(ctx: Context) -> Iterator[Finding]:
    import numpy as np
    import pyarrow.compute as pc

    entities = entity_resources(ctx)
    # With tables that cite documents, an entity must be referenced by a citing row: that row's passage
    # is where a document names it (entity-uncited, an error). Without any, referenced at all will do.
    cited = any(r.is_fact_table for r in ctx.resources)
    if any(ctx.table(r) is None for r in ctx.resources):
        return  # with a table unread, "unused" would be a guess
    for resource in entities:
        table = ctx.table(resource)
        key = resource.primary_key[0]
        references = ctx.references(resource, cited)
        if table is None or key not in table.columns or references is None:
            continue
        ids = table.columns[key]
        distinct = pc.dictionary_encode(ids)  # a repeated id (its own error) is used when any of its rows is
        codes = distinct.indices.to_numpy(zero_copy_only=False)
        used = np.zeros(len(distinct.dictionary), dtype=bool)
        used[codes[references.rows[references.rows >= 0]]] = True
        unused = ~used[codes] & (byte_lengths(ids) > 0)
        citing = [
            r.name
            for r in ctx.resources
            if r.is_fact_table and any(fk.resource == resource.name for fk in r.foreign_keys)
        ]
        for index in np.flatnonzero(unused).tolist():
            if cited:
                yield finding(
                    "entity-uncited",
                    resource.path,
                    f"{resource.name} row {ids[index].as_py()!r} is cited by no row of a table that quotes a"
                    f" document ({', '.join(citing) or 'none refers to ' + resource.name}): no passage shows it",
                    line=table.line(index),
                    field=key,
                    column=ctx.column_number(resource, key),
                )
                continue
            yield finding(
                "unused-entity",
                resource.path,
                f"{resource.name} row {ids[index].as_py()!r} is referenced by no other row",
                line=table.line(index),
                field=key,
                column=ctx.column_number(resource, key),
            )

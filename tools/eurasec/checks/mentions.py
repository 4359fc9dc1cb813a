"""What a document still lacks: an entity that its seed names, with no row from that document citing it.

The mentions are found as the release finds them (model/mentions.py, docs/curation.md#mentions): every
name and alias of every entity, in every seed that passed the seeds check. A document cites an entity
when a row of a citing table (fields of roles `document` and `quote`: citations, relations, aliases …)
has that document and refers to the entity through a foreign key. Each (entity, document) pair named
but not cited is one warning, `mention-uncited`, at the entity's row, saying where the first mention
is, with a little of the text around it, and how many more there are.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..model.codes import finding
from ..model.descriptor import SEED_PATH, Resource
from ..model.findings import Finding
from ..model.mentions import Entities, MentionArrays, collect_names, entity_tables, index_mentions
from .context import Context

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

CONTEXT_CHARS = 24  # of the text shown on each side of a mention in the message
MAX_PAIR_TABLE = 1 << 26  # (document, entity) pairs held as a table of booleans, at most (64 MB)
_SPACE = re.compile(r"\s")


def check_mentions(ctx: Context) -> Iterator[Finding]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    package = ctx.dataset.package
    entities = entity_tables(package)
    citing = [r for r in ctx.resources if r.is_fact_table]
    if not entities or not citing or not ctx.seeds:
        return
    if any(ctx.table(r) is None for r in [*entities, *citing]):
        return  # with a table unread, "not cited" would be a guess

    def column(resource: Resource, name: str) -> pa.Array | None:
        table = ctx.table(resource)
        return None if table is None else table.columns.get(name)

    seeds = _own_seeds(ctx)
    found = index_mentions(collect_names(package, column), seeds)
    if seeds is ctx.seeds:  # every seed read: the build's index would be this one
        ctx.mentions = found
    if not len(found):
        return
    width = len(found.entities)
    pairs = found.document * width + found.entity
    cited_pairs = _cited(ctx, citing, found)
    if len(found.documents) * width <= MAX_PAIR_TABLE:  # a table of every (document, entity): no hashing
        table = np.zeros(len(found.documents) * width, dtype=bool)
        table[cited_pairs] = True
        cited = table[pairs]
        anywhere = np.asarray(table.reshape(len(found.documents), width).any(axis=0))
        somewhere = anywhere[found.entity]
    else:
        values = pa.array(cited_pairs, pa.int64())
        cited = pc.is_in(pa.array(pairs, pa.int64()), value_set=values).to_numpy(zero_copy_only=False)
        entities = pa.array(found.entity, pa.int64())
        somewhere = pc.is_in(entities, value_set=pc.modulo(values, width)).to_numpy(zero_copy_only=False)
    # an entity that no row cites at all is entity-uncited already (an error, at the same row): said once
    uncited = np.flatnonzero(~cited & somewhere)
    if not len(uncited):
        return
    # one warning per (entity, document): its first mention (the mentions are in order of document and place)
    pair = pairs[uncited]
    first, counts = np.unique(pair, return_index=True, return_counts=True)[1:]
    yield from _warnings(ctx, found, uncited[first], counts, {r.name: r for r in entities})


def _own_seeds(ctx: Context) -> dict[str, str]:
    """The seeds read, but those that two documents share (a unique-error of the documents table): whose
    mentions they are cannot be told."""
    from collections import Counter

    documents = ctx.dataset.package.documents
    path = documents.role_field(SEED_PATH) if documents is not None else None
    table = ctx.table(documents) if documents is not None else None
    if documents is None or path is None or table is None or len(documents.primary_key) != 1:
        return ctx.seeds
    ids = table.columns.get(documents.primary_key[0])
    paths = table.columns.get(path.name)
    if ids is None or paths is None:
        return ctx.seeds
    pairs = list(zip(ids.to_pylist(), paths.to_pylist(), strict=True))  # the documents table is small
    shared = {p for p, n in Counter(p for _, p in pairs if p).items() if n > 1}
    unsure = {d for d, p in pairs if p in shared}
    if not unsure:
        return ctx.seeds
    return {d: text for d, text in ctx.seeds.items() if d not in unsure}


def _cited(ctx: Context, citing: list[Resource], found: MentionArrays) -> np.ndarray:
    """(document number * entities + entity number) of every document that a row cites and entity it refers to."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    documents = pa.array(found.documents, pa.string())
    ents: Entities = found.entities
    width = len(ents)
    by_name = {r.name: r for r in entity_tables(ctx.dataset.package)}
    cited = [np.zeros(0, np.int64)]
    for number, name in enumerate(ents.tables):
        references = ctx.references(by_name[name], citing_only=True)
        table = ctx.table(by_name[name])
        if references is None or table is None or not len(references.rows):
            continue
        # the entity's number, by the row of its table that references point at (its ids sorted, as numbered)
        ids = table.columns[by_name[name].primary_key[0]].cast(pa.string())
        numbers = np.append(_codes(pc.index_in(ids, value_set=ents.ids[number])), -1)  # the last: no row
        entity = numbers[references.rows]
        doc = _codes(pc.index_in(references.documents, value_set=documents))
        both = (doc >= 0) & (entity >= 0)
        cited.append(doc[both] * width + entity[both] + int(ents.bases[number]))
    return np.concatenate(cited)


def _codes(array: pa.Array) -> np.ndarray:
    import numpy as np
    import pyarrow.compute as pc

    return pc.fill_null(array, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _warnings(
    ctx: Context, found: MentionArrays, firsts: np.ndarray, counts: np.ndarray, entities: dict[str, Resource]
) -> Iterator[Finding]:
    import pyarrow as pa
    import pyarrow.compute as pc

    tables, ids = (a.to_pylist() for a in found.entities.columns(found.entity[firsts]))
    rows: dict[tuple[str, str], int] = {}
    for name in set(tables):
        resource = entities[name]
        table = ctx.table(resource)
        assert table is not None  # check_mentions made sure
        wanted = sorted({i for t, i in zip(tables, ids, strict=True) if t == name})
        at = pc.index_in(pa.array(wanted, pa.string()), value_set=table.columns[resource.primary_key[0]])
        rows.update({(name, i): r for i, r in zip(wanted, at.to_pylist(), strict=True) if r is not None})
    for index, count, table_name, entity in zip(firsts.tolist(), counts.tolist(), tables, ids, strict=True):
        resource = entities[table_name]
        row = rows.get((table_name, entity))
        table = ctx.table(resource)
        assert table is not None
        document = found.documents[int(found.document[index])]
        text = found.texts[int(found.document[index])]
        start, end = int(found.start[index]), int(found.end[index])
        shown = _around(text, start, end)
        more = f", and in {count - 1} more place{'s' if count > 2 else ''}" if count > 1 else ""
        key = resource.primary_key[0]
        yield finding(
            "mention-uncited",
            resource.path,
            f"the document {document!r} names {entity!r} ({table_name}) at {start}–{end} ({shown}){more},"
            f" but no row from {document!r} refers to it",
            line=table.line(row) if row is not None else None,
            field=key,
            column=ctx.column_number(resource, key),
            hint=f"Cite {entity!r} from {document!r}: a row with document {document!r}, the passage that names it"
            f" and its start and end (`eurasec quote {shlex.quote(document)} {shlex.quote(text[start:end])}`"
            " finds them); or a relation or an alias row quoting it. If the name means something else there,"
            " ignore this warning.",
        )


def _around(text: str, start: int, end: int) -> str:
    """The mention with a little text on each side, on one line: “…before [exact] after…”."""
    before = _SPACE.sub(" ", text[max(0, start - CONTEXT_CHARS) : start])
    after = _SPACE.sub(" ", text[end : end + CONTEXT_CHARS])
    lead = "…" if start > CONTEXT_CHARS else ""
    tail = "…" if end + CONTEXT_CHARS < len(text) else ""
    return f"“{lead}{before}[{_SPACE.sub(' ', text[start:end])}]{after}{tail}”"

"""The reading view: each seed as a static HTML page with every cited passage and every mention laid over it.

`read/<document id>.html` shows a document's stored text, white space kept, with each passage that a
row cites (every table with fields of roles document, start, end and quote) and each mention of an
entity (model/mentions.py) highlighted at its offsets. Selecting a highlight (a click, or the keyboard)
fills a side panel with the facts and the entities behind it, from a JSON blob in the page; a link
to `#<anchor>` selects one on load.

`read/index.html` lists the documents, and for each entity table its pages of entities:
`read/entities/<entity table>-<k>.html` (k from 1) holds up to ENTITIES_PER_PAGE (1,000) entities of the
table, in the order of their names (case folded, then ids), each with the documents that name it (how often,
linked to the first mention) and the facts that cite it, linked to their passages. An entity cited by more
than CITATIONS_PER_ENTITY (100) facts shows the first 100 (in table and row order) and a line "and K more in"
the documents that hold the others, each linked to its page with its count. So no page grows with the
package: an entity page holds at most 1,000 entities × (100 citations + a line per document), a document
page the document's own citations and mentions. (A table whose name is no plain file name is paged as
`entity-table-<n>`, its place among entity tables.)

Highlights may overlap (a quote holds names; two quotes cross): the text is cut at every offset and
the highlights are opened longest first, so that containment nests; where two cross, one of them is
closed and opened again (its pieces share `data-g`): always the cited passage, never a mention. Passages
with the same offsets are one highlight that carries every fact (`data-f`, indexes into the blob's
`facts`), and each fact's anchor (`cite-<table>-<row number>`, `mention-<n>`) starts its highlight.

The pages stand alone: no request leaves them (a Content-Security-Policy allows only their own inline
style and script, by hash) and they open from file:// with no server. Every value is escaped, and
the bytes depend on the data alone: two builds write the same files.

How it is fast: the pages are made column-wise (pyarrow), never a Python object per row. Each distinct
value is escaped once (build/mentions.py's escape: HTML, or JSON for the blob) and repeated by its code;
a seed is escaped once, and every passage of it is a slice of that (EscapedText); a page's HTML is the
pieces it is made of, taken in order into one buffer and written (a page, or a page of entities, at a
time). Only the nesting of a page's highlights is a Python loop, once per highlight (a distinct passage).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote as url_quote

from ..model.descriptor import DOCUMENT, END, NAME, QUOTE, START, TITLE, Package, Resource
from ..model.paths import UnsafePathError, unsafe_name_reason
from .context import ExportCheckError, ReleaseInput
from .mentions import (
    HTML,
    JSON_ASCII,
    RAW,
    EscapedText,
    buffer,
    escape,
    escape_one,
    gather,
    join,
    numbers,
    release_mentions,
)

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

READ_DIR = "read"
INDEX = "index.html"
ENTITY_DIR = "entities"  # inside read/: the pages of entities
ENTITIES_PER_PAGE = 1_000  # entities on one page of entities
CITATIONS_PER_ENTITY = 100  # facts listed under an entity; the others are counted by document
QUOTE_EXCERPT = 200  # code points of a quote shown on a page of entities
PALETTE_SIZE = 6  # entity tables are coloured k0 … k5 in descriptor order (the CSS below)
PROVENANCE = (DOCUMENT, START, END, QUOTE)
MIDDOT = " · "


def citing_tables(package: Package) -> list[Resource]:
    """The tables whose rows cite a passage: fields of roles document, start, end and quote, in descriptor order."""
    return [r for r in package.resources if all(r.role_field(role) is not None for role in PROVENANCE)]


def page_name(document_id: str) -> str:
    """A document's page, inside read/; UnsafePathError if its id cannot be a file name."""
    reason = unsafe_name_reason(document_id)
    if reason:
        raise UnsafePathError(f"the document id {document_id!r} {reason}: it cannot name a page")
    return f"{document_id}.html"


def _href(document_id: str, anchor: str = "", up: str = "") -> str:
    return up + url_quote(page_name(document_id)) + (f"#{url_quote(anchor, safe='')}" if anchor else "")


def _attr(value: str) -> str:
    return escape_one(value, HTML)


_escape_text = _attr  # text and attribute values are escaped alike (a carriage return as &#13;)


# --- values as columns ---------------------------------------------------------------------------------


def _shown_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def _shown(values: Any) -> pa.Array:
    """A column as the text a page shows ("" for null): strings as they are, numbers in decimal, true and
    false, dates in ISO 8601; any other type by Python's str, once per distinct value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    kind = values.type
    if pa.types.is_dictionary(kind):
        return _shown(values.dictionary).take(values.indices).fill_null("")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.fill_null(values.cast(pa.large_string()), "")
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind) or pa.types.is_date32(kind):
        return pc.fill_null(values.cast(pa.large_string()), "")
    encoded = pc.dictionary_encode(values)
    distinct = pa.array([_shown_value(v) for v in encoded.dictionary.to_pylist()], pa.large_string())
    return pc.fill_null(distinct.take(encoded.indices), "")


def _indices(found: pa.Array) -> np.ndarray:
    import numpy as np
    import pyarrow.compute as pc

    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _where(mask: np.ndarray, yes: pa.Array, no: str = "") -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.if_else(pa.array(mask), yes, pa.scalar(no, pa.large_string()))


def _drop_first(values: pa.Array, count: int) -> pa.Array:
    """Each string without its first `count` code points (a separator before the first item of a list)."""
    import pyarrow.compute as pc

    return pc.utf8_slice_codeunits(values, count)


def _merge(parts: list[tuple[np.ndarray, pa.Array]], count: int) -> pa.Array:
    """Strings made per source, placed back where their rows are: (positions, strings) of each source."""
    import numpy as np
    import pyarrow as pa

    if not parts:
        return pa.array([""] * count, pa.large_string())
    at = np.concatenate([p for p, _ in parts])
    order = np.empty(count, np.int64)
    order[at] = np.arange(len(at))
    return pa.concat_arrays([s.cast(pa.large_string()) for _, s in parts]).take(pa.array(order))


def _digit_key(n: np.ndarray) -> np.ndarray:
    """A key that sorts positive integers as their decimal strings sort ("10" before "9")."""
    import numpy as np

    n = np.asarray(n, np.int64)
    if not len(n):
        return n
    length = np.floor(np.log10(np.maximum(n, 1))).astype(np.int64) + 1
    widest = int(length.max())
    return n * (10 ** (widest - length)) * 32 + length


# --- the entities ----------------------------------------------------------------------------------------


@dataclass
class _Entities:
    """Every entity of the entity tables (descriptor order, each table's rows in order), numbered from 0."""

    tables: list[Resource]
    bases: np.ndarray  # the number of each table's first entity, and the total at the end
    ids: list[pa.Array]  # per table, its entities' ids as shown
    name: pa.Array  # per entity: its name, or its id where it has none
    key: pa.Array  # per entity: "<table>/<id>", its anchor on its page of entities
    colour: np.ndarray  # per entity: its table's place among entity tables
    rank: np.ndarray  # per entity: its place in its table's listing (by case-folded name, then id)
    stems: list[str]  # per table: the file name of its pages of entities, but for "-<k>.html"

    def __len__(self) -> int:
        return int(self.bases[-1])

    def number(self, table: str | None, ids: pa.Array) -> np.ndarray:
        """The entity numbers of ids of a table (-1 where there is none)."""
        import numpy as np
        import pyarrow.compute as pc

        names = [t.name for t in self.tables]
        if table not in names:
            return np.full(len(ids), -1, np.int64)
        at = names.index(table)
        found = _indices(pc.index_in(ids, value_set=self.ids[at]))
        return np.where(found >= 0, found + self.bases[at], -1)

    def page(self, entities: np.ndarray) -> np.ndarray:
        return self.rank[entities] // ENTITIES_PER_PAGE

    def href(self, table: int, page: int, up: str = "") -> str:
        return f"{up}{ENTITY_DIR}/{self.stems[table]}-{page + 1}.html"


def _entities(package: Package, release: ReleaseInput) -> _Entities:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..model.mentions import entity_tables

    tables, ids, names, colours, ranks = [], [], [], [], []
    for colour, resource in enumerate(entity_tables(package)):
        name_field = resource.role_field(NAME)
        assert name_field is not None
        table = release.tables.get(resource.name)
        if table is None:
            continue
        key = table.column(resource.primary_key[0])
        kept = pc.invert(pc.is_null(key)).combine_chunks() if isinstance(key, pa.ChunkedArray) else pc.is_valid(key)
        table = table.filter(kept)
        shown_ids = _shown(table.column(resource.primary_key[0]))
        name = _shown(table.column(name_field.name))
        name = pc.if_else(pc.equal(name, ""), shown_ids, name)
        folded = pa.array([v.casefold() for v in pc.unique(name).to_pylist()], pa.large_string())
        folded = folded.take(pc.index_in(name, value_set=pc.unique(name)))
        order = pc.sort_indices(pa.table({"f": folded, "i": shown_ids}), [("f", "ascending"), ("i", "ascending")])
        rank = np.empty(len(name), np.int64)
        rank[order.to_numpy()] = np.arange(len(name))
        tables.append(resource)
        ids.append(shown_ids)
        names.append(name)
        colours.append(np.full(len(name), colour, np.int64))
        ranks.append(rank)
    bases = np.zeros(len(tables) + 1, np.int64)
    np.cumsum([len(i) for i in ids], out=bases[1:])
    key = pa.concat_arrays([join(f"{t.name}/", i) for t, i in zip(tables, ids, strict=True)] or [_none()])
    stems = [t.name if not unsafe_name_reason(t.name) else f"entity-table-{n + 1}" for n, t in enumerate(tables)]
    return _Entities(
        tables,
        bases,
        ids,
        pa.concat_arrays(names or [_none()]),
        key,
        np.concatenate(colours or [np.zeros(0, np.int64)]),
        np.concatenate(ranks or [np.zeros(0, np.int64)]),
        stems,
    )


def _none() -> pa.Array:
    import pyarrow as pa

    return pa.array([], pa.large_string())


def _entity_json(release: ReleaseInput, entities: _Entities) -> tuple[pa.Array, pa.Array]:
    """Each entity in a page's blob, but for its number on the page: the JSON before it and after it."""
    import numpy as np
    import pyarrow as pa

    heads, tails = [], []
    for at, resource in enumerate(entities.tables):
        lo, hi = int(entities.bases[at]), int(entities.bases[at + 1])
        name_field = resource.role_field(NAME)
        assert name_field is not None
        table = release.tables[resource.name]
        key = table.column(resource.primary_key[0])
        table = table.filter(pa.array(~np.asarray(key.is_null().to_numpy(zero_copy_only=False))))
        pieces = []
        for f in resource.fields:
            if f.name == name_field.name:
                continue
            value = _shown(table.column(f.name))
            label = escape_one(f.title or f.name, JSON_ASCII)
            pieces.append(_where(_nonempty(value), join(f',["{label}","', escape(value, JSON_ASCII), '"]')))
        fields = _drop_first(join(*pieces), 1) if pieces else pa.array([""] * (hi - lo), pa.large_string())
        kind = escape_one(resource.title or resource.name, JSON_ASCII)
        colour = entities.colour[lo:hi] % PALETTE_SIZE
        heads.append(
            join('{"anchor":"', escape(entities.key[lo:hi], JSON_ASCII), '","colour":', numbers(colour), ',"fields":[')
        )
        heads[-1] = join(heads[-1], fields, '],"index":')
        page = entities.page(np.arange(lo, hi))
        hrefs = pa.array([escape_one(entities.href(at, p), JSON_ASCII) for p in range(int(page.max(initial=-1)) + 1)])
        tails.append(
            join(
                f',"kind":"{kind}","name":"',
                escape(entities.name[lo:hi], JSON_ASCII),
                '","page":"',
                hrefs.take(pa.array(page)),
                '"}',
            )
        )
    return pa.concat_arrays(heads or [_none()]), pa.concat_arrays(tails or [_none()])


def _nonempty(values: pa.Array) -> np.ndarray:
    import pyarrow.compute as pc

    return pc.not_equal(values, "").to_numpy(zero_copy_only=False)


# --- the facts: cited rows and mentions -------------------------------------------------------------------


class _Coded:
    """A column of shown values, coded: each distinct value escaped once per escape, when first asked for."""

    def __init__(self, values: pa.Array) -> None:
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(values)
        self.codes = encoded.indices
        self.dictionary = encoded.dictionary
        self.filled = _nonempty(values)
        self._escaped: dict[str, pa.Array] = {}

    def escaped(self, how: str) -> pa.Array:
        if how not in self._escaped:
            self._escaped[how] = _excerpts(self.dictionary) if how == EXCERPT else escape(self.dictionary, how)
        return self._escaped[how]

    def take(self, rows: np.ndarray, how: str) -> pa.Array:
        """The values of the rows, escaped (or, for EXCERPT, shortened to an excerpt and escaped as HTML)."""
        import pyarrow as pa

        return self.escaped(how).take(self.codes.take(pa.array(rows, pa.int64())))


EXCERPT = "excerpt"


@dataclass
class _Field:
    label: str
    value: _Coded  # per fact row, as shown ("" when empty)
    entity: np.ndarray  # per fact row, the entity the value names (-1: none)


@dataclass
class _Cited:
    """The rows of one citing table that cite a passage (document, start and end filled)."""

    resource: Resource
    title: str
    row: np.ndarray  # the row's number in its table, from 1 (its anchor: cite-<table>-<row>)
    document: np.ndarray  # indexes _Facts.documents
    start: np.ndarray
    end: np.ndarray
    quote: _Coded
    fields: list[_Field]
    entities: list[np.ndarray]  # the entities the row names, in field order, each once (-1: none)


def _cited(package: Package, release: ReleaseInput, entities: _Entities) -> list[_Cited]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    tables = {t.name for t in entities.tables}
    found = []
    for resource in citing_tables(package):
        document, start, end, quote = (resource.role_field(role) for role in PROVENANCE)
        assert document is not None and start is not None and end is not None and quote is not None
        table = release.tables.get(resource.name)
        if table is None:
            continue
        kept = pc.and_(
            pc.and_(pc.is_valid(table.column(document.name)), pc.is_valid(table.column(start.name))),
            pc.is_valid(table.column(end.name)),
        )
        rows = np.flatnonzero(np.asarray(kept.to_numpy(zero_copy_only=False)))
        table = table.take(pa.array(rows))
        provenance = {document.name, start.name, end.name, quote.name}
        fields = []
        for f in resource.fields:
            if f.name in provenance:
                continue
            value = _shown(table.column(f.name))
            fk = resource.foreign_key(f.name)
            target = fk.resource if fk and fk.resource in tables else None
            entity = entities.number(target, value) if target else np.full(len(value), -1, np.int64)
            entity[~_nonempty(value)] = -1
            fields.append(_Field(f.title or f.name, _Coded(value), entity))
        named: list[np.ndarray] = []
        for made in fields:
            if not (made.entity >= 0).any():
                continue
            repeated = np.zeros(len(made.entity), dtype=np.bool_)
            for before in named:
                repeated |= before == made.entity
            named.append(np.where(repeated, -1, made.entity))
        found.append(
            _Cited(
                resource=resource,
                title=resource.title or resource.name,
                row=rows + 1,
                document=np.zeros(0, np.int64),  # numbered once every document is known (_facts)
                start=table.column(start.name).to_numpy().astype(np.int64),
                end=table.column(end.name).to_numpy().astype(np.int64),
                quote=_Coded(_shown(table.column(quote.name))),
                fields=fields,
                entities=named,
            )
        )
        found[-1].document = _shown(table.column(document.name))
    return found


@dataclass
class _Facts:
    """Every fact, citations (table by table, row by row) then mentions, as columns."""

    documents: list[str]  # every document a fact is in, or the documents table lists, sorted
    paged: np.ndarray  # per document: whether it has a page (a stored text)
    cited: list[_Cited]
    mention_document: np.ndarray
    mention_start: np.ndarray
    mention_end: np.ndarray
    mention_entity: np.ndarray  # entity numbers (_Entities)
    mention_number: np.ndarray  # the n of its anchor mention-<n>, from 1 in each document
    source: np.ndarray  # per fact: its citing table's place in `cited`, or len(cited) for a mention
    local: np.ndarray  # per fact: its place in its source
    document: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @property
    def mentions(self) -> int:
        return len(self.cited)


def _facts(release: ReleaseInput, listed: list[str], texts: dict[str, str], entities: _Entities) -> _Facts:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    cited = _cited(release.package, release, entities)
    made = release_mentions(release).mentions
    by_number = {t: i for i, t in enumerate(made.entities.tables)}
    tables, ids = made.entities.columns(made.entity)
    mention_entity = np.full(len(made), -1, np.int64)
    for table in by_number:
        mask = pc.equal(tables, table).to_numpy(zero_copy_only=False)
        mention_entity[mask] = entities.number(table, ids.filter(pa.array(mask)))
    if (mention_entity < 0).any():
        at = int(np.flatnonzero(mention_entity < 0)[0])
        raise ExportCheckError(f"a mention names {tables[at]} {ids[at].as_py()!r}, which is not there")
    names = set(listed) | set(texts) | set(made.documents)
    for c in cited:
        names.update(pc.unique(c.document).to_pylist())
    documents = sorted(names)
    value_set = pa.array(documents, pa.large_string())
    for c in cited:
        c.document = _indices(pc.index_in(c.document, value_set=value_set))
    mention_document = _indices(pc.index_in(pa.array(made.documents, pa.large_string()), value_set=value_set))
    mention_document = mention_document[made.document] if len(made) else np.zeros(0, np.int64)
    first = np.searchsorted(mention_document, mention_document, side="left")  # sorted by document
    mention_number = np.arange(len(made), dtype=np.int64) - first + 1
    sizes = [len(c.row) for c in cited] + [len(made)]
    return _Facts(
        documents=documents,
        paged=np.array([d in texts for d in documents], bool),
        cited=cited,
        mention_document=mention_document,
        mention_start=made.start.astype(np.int64),
        mention_end=made.end.astype(np.int64),
        mention_entity=mention_entity,
        mention_number=mention_number,
        source=np.repeat(np.arange(len(sizes), dtype=np.int64), sizes),
        local=np.concatenate([np.arange(s, dtype=np.int64) for s in sizes]),
        document=np.concatenate([*(c.document for c in cited), mention_document]).astype(np.int64),
        start=np.concatenate([*(c.start for c in cited), made.start]).astype(np.int64),
        end=np.concatenate([*(c.end for c in cited), made.end]).astype(np.int64),
    )


def _summaries(c: _Cited, rows: np.ndarray, how: str, names: pa.Array, title: bool = True) -> pa.Array:
    """The one line that says what each row is: its table's title and its values, entities by name."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    pieces = []
    filled = np.zeros(len(rows), bool)
    separator = escape_one(MIDDOT, how)
    for f in c.fields:
        shown = f.value.take(rows, how)
        has = f.value.filled[rows]
        filled |= has
        entity = f.entity[rows]
        named = entity >= 0
        if named.any():
            shown = pc.if_else(pa.array(named), names.take(pa.array(np.where(named, entity, 0))), shown)
            has = has & _nonempty(shown)
        pieces.append(_where(has, join(separator, shown)))
    head = escape_one(c.title, how)
    if not pieces:
        return pa.array([head] * len(rows), pa.large_string())
    values = _drop_first(join(*pieces), len(separator))
    return _where(filled, join(f"{head}: ", values), head)


# --- the text, cut at every offset, with the highlights nested ----------------------------------------


@dataclass
class _Group:
    """One highlight: the facts of one layer (passages, or mentions) at the same offsets."""

    index: int
    start: int
    end: int
    layer: str  # "q" (a cited passage) or "m" (a mention)
    facts: list[int]  # indexes into the page's facts
    anchors: list[str]
    colour: int = 0


def _nest(length: int, starts: list[int], ends: list[int], mention: list[bool]) -> tuple[list[int], list[int]]:
    """Where the text is cut (sorted, from 0 to length) and the page's pieces in order, as codes: g opens
    group g's first mark (the one with its anchors), n + g opens it again, 2n closes the innermost mark,
    2n + 1 + i is the text from cut i to cut i + 1.

    At each cut the marks that end there close, then those that begin there open, longest first, so that
    a range within another nests in it. Where two ranges cross, one is split in two marks (with the same
    data-g): a mention never (mentions do not overlap one another), the cited passage instead; of two
    crossing passages, the one opened last.

    The ranges fall into runs that overlap one another and no other (between two runs no mark is open).
    In a run where no two ranges cross, the marks are brackets: they are laid out at once (numpy). Only
    the runs with ranges that cross are walked, range by range (_walk, which has the rules above).
    """
    import numpy as np

    n = len(starts)
    s, e = np.asarray(starts, np.int64).reshape(-1), np.asarray(ends, np.int64).reshape(-1)
    m = np.asarray(mention, bool).reshape(-1)
    points = np.unique(np.concatenate([np.array([0, length], np.int64), s, e]))
    close, text = 2 * n, 2 * n + 1
    texts = np.arange(len(points) - 1, dtype=np.int64)
    if not n:
        return points.tolist(), (text + texts).tolist()
    by_start = np.lexsort((np.arange(n), m, -e, s))  # the order in which marks open
    rank = np.empty(n, np.int64)
    rank[by_start] = np.arange(n)
    reach = np.maximum.accumulate(e[by_start])
    begins = np.ones(n, bool)
    begins[1:] = s[by_start][1:] >= reach[:-1]
    run = np.empty(n, np.int64)
    run[by_start] = np.cumsum(begins) - 1
    # every run laid out as brackets: at each offset the marks that end there close (the last opened first),
    # then those that begin there open; a run is right where each mark closes before any mark outside it
    where = np.concatenate([e, s])
    kind = np.repeat(np.array([0, 1], np.int64), n)
    group = np.concatenate([np.arange(n), np.arange(n)])
    order = np.lexsort((np.concatenate([-rank, rank]), kind, where))
    step = np.where(kind[order] == 1, 1, -1)
    depth = np.cumsum(step)
    level = np.where(step > 0, depth, depth + 1)
    by_level = order[np.lexsort((np.arange(2 * n), level))]
    opens = np.flatnonzero(kind[by_level] == 1)
    after = by_level[np.minimum(opens + 1, 2 * n - 1)]
    matched = (opens + 1 < 2 * n) & (kind[after] == 0) & (group[after] == group[by_level[opens]])
    crossed = np.zeros(int(run.max()) + 1, bool)
    crossed[run[group[by_level[opens[~matched]]]]] = True
    keep = ~crossed[run[group[order]]]
    laid = order[keep]
    point = [np.searchsorted(points, where[laid]), texts]
    runs = [run[group[laid]], np.full(len(texts), n, np.int64)]  # at a cut, its text comes after its marks
    codes = [np.where(kind[laid] == 1, group[laid], close), text + texts]
    if crossed.any():
        walked = np.flatnonzero(crossed[run])
        at, made, whose = _walk(s[walked].tolist(), e[walked].tolist(), m[walked].tolist(), walked.tolist(), n)
        point.append(np.searchsorted(points, np.array(at, np.int64)))
        runs.append(run[np.array(whose, np.int64)])
        codes.append(np.array(made, np.int64))
    seq = [np.arange(len(c), dtype=np.int64) for c in codes]
    everything = np.lexsort((np.concatenate(seq), np.concatenate(runs), np.concatenate(point)))
    return points.tolist(), np.concatenate(codes)[everything].tolist()


def _walk(
    starts: list[int], ends: list[int], mention: list[bool], ids: list[int], n: int
) -> tuple[list[int], list[int], list[int]]:
    """The marks of ranges that cross (_nest's rules), one cut at a time: for each code (as _nest's, of the
    groups `ids` of n), the offset where it is written and the group it opens or closes."""
    count = len(starts)
    close = 2 * n
    points = sorted({*starts, *ends})
    by_start = sorted(range(count), key=lambda g: (starts[g], -ends[g], mention[g], ids[g]))
    at: list[int] = []
    out: list[int] = []
    whose: list[int] = []
    stack: list[int] = []
    written = bytearray(count)
    following = 0
    here = 0

    def push(g: int) -> None:
        out.append(ids[g] + n if written[g] else ids[g])
        at.append(here)
        whose.append(ids[g])
        written[g] = 1
        stack.append(g)

    def pop_from(depth: int) -> list[int]:
        popped = stack[depth:]
        del stack[depth:]
        for g in reversed(popped):
            out.append(close)
            at.append(here)
            whose.append(ids[g])
        return popped

    for here in points:
        opening: list[int] = []
        for depth, g in enumerate(stack):
            if ends[g] == here:
                opening = [g for g in pop_from(depth) if ends[g] != here]
                break
        begin = following
        while following < count and starts[by_start[following]] == here:
            following += 1
        if opening:
            opening = sorted([*opening, *by_start[begin:following]], key=lambda g: (-ends[g], mention[g], ids[g]))
        else:
            opening = by_start[begin:following]
        for g in opening:
            end = ends[g]
            if mention[g] and stack and min(ends[s] for s in stack) < end:
                # a passage open here ends inside this mention: close it, open the mention, open it again inside
                crossing = next(depth for depth, s in enumerate(stack) if ends[s] < end)
                popped = pop_from(crossing)
                for p in popped:
                    if ends[p] >= end:
                        push(p)
                push(g)
                for p in popped:
                    if ends[p] < end:
                        push(p)
            else:
                push(g)
    return at, out, whose


def _open_tags(groups: list[_Group]) -> tuple[list[str], list[str]]:
    first, again = [], []
    for g in groups:
        cls = "h q" if g.layer == "q" else f"h m k{g.colour}"
        tag = f'<mark class="{cls}" data-g="{g.index}" data-f="{" ".join(str(i) for i in g.facts)}" tabindex="0">'
        again.append(tag)
        first.append(tag + "".join(f'<span class="a" id="{_attr(anchor)}"></span>' for anchor in g.anchors))
    return first, again


def highlighted(text: str, groups: list[_Group]) -> str:
    """The text as HTML, each group's range wrapped in <mark> elements, nested (_nest has the rules)."""
    import pyarrow as pa

    points, codes = _nest(
        len(text), [g.start for g in groups], [g.end for g in groups], [g.layer == "m" for g in groups]
    )
    first, again = _open_tags(groups)
    segments = [_escape_text(text[a:b]) for a, b in itertools.pairwise(points)]
    pool = pa.array([*first, *again, "</mark>", *segments], pa.large_string())
    return bytes(gather(pool, codes)).decode("utf-8")


def _groups(facts: list[Any]) -> list[_Group]:
    """The highlights of facts (objects with id, kind, start, end and entities), in the facts' order."""
    by_range: dict[tuple[int, int, str], _Group] = {}
    for i, fact in enumerate(facts):
        layer = "q" if fact.kind == "citation" else "m"
        key = (fact.start, fact.end, layer)
        if key not in by_range:
            colour = fact.entities[0].colour % PALETTE_SIZE if layer == "m" and fact.entities else 0
            by_range[key] = _Group(len(by_range), fact.start, fact.end, layer, [], [], colour)
        by_range[key].facts.append(i)
        by_range[key].anchors.append(fact.id)
    return list(by_range.values())


# --- the pages' style and script ---------------------------------------------------------------------

CSS = """
:root { --ink: #1d1d1f; --muted: #5f6368; --rule: #d9d9de; --paper: #fbfaf7; --q: rgba(255, 200, 40, .28);
  --k0: #1f6fb2; --k1: #b0361e; --k2: #2a7d3c; --k3: #7b3fa0; --k4: #a8650a; --k5: #0f7c80; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: var(--paper); font: 16px/1.5 system-ui, -apple-system,
  "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { padding: 1.2rem 2rem .8rem; border-bottom: 1px solid var(--rule); background: #fff; }
header h1 { margin: .2rem 0 .4rem; font: 600 1.45rem/1.3 Georgia, "DejaVu Serif", serif; max-width: 60rem; }
header .crumbs, .muted { color: var(--muted); font-size: .9rem; }
a { color: #1a5fb4; }
.legend { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; margin-top: .5rem; font-size: .88rem;
  color: var(--muted); }
.legend span { white-space: nowrap; }
details { margin-top: .4rem; font-size: .88rem; }
details dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .4rem 0; }
details dd { margin: 0; overflow-wrap: anywhere; }
main.doc { display: grid; grid-template-columns: minmax(0, 46rem) minmax(18rem, 1fr); gap: 2rem;
  padding: 1.5rem 2rem 4rem; align-items: start; }
.text { white-space: pre-wrap; overflow-wrap: break-word; font: 1.06rem/1.75 Georgia, "DejaVu Serif", serif; }
mark.h { color: inherit; background: none; cursor: pointer; border-radius: 2px; }
mark.q { background: var(--q); box-shadow: inset 0 -1px 0 rgba(180, 130, 0, .35); }
mark.m { border-bottom: 2px solid; padding-bottom: 1px; }
mark.k0 { border-color: var(--k0); background: rgba(31, 111, 178, .10); }
mark.k1 { border-color: var(--k1); background: rgba(176, 54, 30, .10); }
mark.k2 { border-color: var(--k2); background: rgba(42, 125, 60, .10); }
mark.k3 { border-color: var(--k3); background: rgba(123, 63, 160, .10); }
mark.k4 { border-color: var(--k4); background: rgba(168, 101, 10, .10); }
mark.k5 { border-color: var(--k5); background: rgba(15, 124, 128, .10); }
mark.h:hover { filter: brightness(.93); }
mark.h:focus { outline: 1px dotted #e8590c; }
mark.h.sel { outline: 2px solid #e8590c; outline-offset: 1px; }
mark.q.sel { background: rgba(255, 150, 30, .45); }
.swatch { display: inline-block; width: 1.6em; height: .9em; vertical-align: -.05em; margin-right: .3em;
  border-radius: 2px; }
.swatch.q { background: var(--q); }
.swatch.m { border-bottom: 2px solid; }
.swatch.k0 { border-color: var(--k0); background: rgba(31, 111, 178, .10); }
.swatch.k1 { border-color: var(--k1); background: rgba(176, 54, 30, .10); }
.swatch.k2 { border-color: var(--k2); background: rgba(42, 125, 60, .10); }
.swatch.k3 { border-color: var(--k3); background: rgba(123, 63, 160, .10); }
.swatch.k4 { border-color: var(--k4); background: rgba(168, 101, 10, .10); }
.swatch.k5 { border-color: var(--k5); background: rgba(15, 124, 128, .10); }
aside#panel { position: sticky; top: 1rem; max-height: calc(100vh - 2rem); overflow: auto; background: #fff;
  border: 1px solid var(--rule); border-radius: 6px; padding: .9rem 1rem; font-size: .92rem; }
aside#panel h2 { font-size: 1rem; margin: 0 0 .5rem; }
.card { border-top: 1px solid var(--rule); padding: .6rem 0 .4rem; }
.card:first-of-type { border-top: 0; padding-top: 0; }
.card h3 { font-size: .95rem; margin: 0 0 .3rem; }
.kind { display: inline-block; font-size: .72rem; font-weight: 600; text-transform: uppercase; letter-spacing: .04em;
  padding: 0 .35em; border-radius: 3px; color: #fff; background: #777; margin-right: .35em; vertical-align: .1em; }
.kind.q { background: #9a6a00; }
.kind.k0 { background: var(--k0); } .kind.k1 { background: var(--k1); } .kind.k2 { background: var(--k2); }
.kind.k3 { background: var(--k3); } .kind.k4 { background: var(--k4); } .kind.k5 { background: var(--k5); }
.card dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: .3rem 0; }
.card dt { color: var(--muted); }
.card dd { margin: 0; overflow-wrap: anywhere; }
.card blockquote { margin: .4rem 0; padding: .2rem .6rem; border-left: 3px solid #e0b000; color: #333;
  font: .9rem/1.5 Georgia, "DejaVu Serif", serif; }
.card ul { margin: .3rem 0; padding-left: 1.1rem; }
main.index { padding: 1rem 2rem 4rem; max-width: 72rem; }
main.index h2 { font: 600 1.2rem/1.3 Georgia, "DejaVu Serif", serif; margin: 1.6rem 0 .6rem;
  border-bottom: 1px solid var(--rule); padding-bottom: .2rem; }
.entity { padding: .5rem 0 .6rem; border-bottom: 1px dotted var(--rule); }
.entity h3 { font-size: 1rem; margin: 0 0 .2rem; }
.entity ul { margin: .2rem 0; padding-left: 1.2rem; font-size: .92rem; }
.entity q { color: #444; font-family: Georgia, "DejaVu Serif", serif; }
table.docs { border-collapse: collapse; font-size: .92rem; }
ul.pages { font-size: .92rem; padding-left: 1.2rem; }
nav.pages { margin-top: .5rem; font-size: .9rem; color: var(--muted); }
nav.pages a, nav.pages strong { margin-right: .35em; }
table.docs td, table.docs th { text-align: left; padding: .25rem .8rem .25rem 0; border-bottom: 1px solid var(--rule); }
@media (max-width: 60rem) { main.doc { grid-template-columns: 1fr; } aside#panel { position: static; } }
""".lstrip()

# Fills the panel from the page's JSON blob; builds every node with textContent, never from HTML.
SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("eurasec-data").textContent);
  var panel = document.getElementById("panel");
  var text = document.getElementById("text");
  function node(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (content !== undefined && content !== null) { e.textContent = content; }
    return e;
  }
  function link(href, content) { var a = node("a", null, content); a.href = href; return a; }
  function entityLink(e) { return link(e.page + "#" + encodeURIComponent(e.anchor), e.name); }
  function kind(label, cls) { return node("span", "kind " + cls, label); }
  function entityCard(e, mention) {
    var card = node("section", "card");
    var h = node("h3");
    h.appendChild(kind(e.kind, "k" + e.colour));
    h.appendChild(entityLink(e));
    card.appendChild(h);
    var where = mention.start + "\u2013" + mention.end + " (" + mention.id + ")";
    card.appendChild(node("div", "muted", "Named here as \u201c" + mention.quote + "\u201d, " + where));
    var dl = node("dl");
    e.fields.forEach(function (f) { dl.appendChild(node("dt", null, f[0])); dl.appendChild(node("dd", null, f[1])); });
    card.appendChild(dl);
    var facts = data.facts.filter(function (f) {
      return f.kind === "citation" && f.entities.indexOf(e.index) >= 0;
    });
    if (facts.length) {
      card.appendChild(node("div", "muted", "Facts of this document about it:"));
      var ul = node("ul");
      facts.forEach(function (f) {
        var li = node("li");
        li.appendChild(link("#" + encodeURIComponent(f.id), f.summary));
        ul.appendChild(li);
      });
      card.appendChild(ul);
    } else {
      card.appendChild(node("div", "muted", "No fact of this document cites it."));
    }
    return card;
  }
  function factCard(f) {
    var card = node("section", "card");
    var h = node("h3");
    h.appendChild(kind("fact", "q"));
    h.appendChild(document.createTextNode(f.title));
    card.appendChild(h);
    var dl = node("dl");
    f.fields.forEach(function (v) {
      dl.appendChild(node("dt", null, v[0]));
      var dd = node("dd");
      if (v[2] !== null) {
        var e = data.entities[v[2]];
        dd.appendChild(kind(e.kind, "k" + e.colour));
        dd.appendChild(entityLink(e));
        dd.appendChild(node("span", "muted", " (" + v[1] + ")"));
      } else {
        dd.textContent = v[1];
      }
      dl.appendChild(dd);
    });
    dl.appendChild(node("dt", null, "Passage"));
    dl.appendChild(node("dd", null, f.start + "\\u2013" + f.end + " (" + f.id + ")"));
    card.appendChild(dl);
    card.appendChild(node("blockquote", null, f.quote));
    return card;
  }
  function marks(el) {
    var chain = [];
    for (var m = el; m && m !== text; m = m.parentElement) {
      if (m.classList && m.classList.contains("h")) { chain.push(m); }
    }
    return chain;
  }
  function select(mark) {
    Array.prototype.forEach.call(document.querySelectorAll("mark.sel"), function (m) { m.classList.remove("sel"); });
    var group = mark.getAttribute("data-g");
    Array.prototype.forEach.call(text.querySelectorAll("mark.h"), function (m) {
      if (m.getAttribute("data-g") === group) { m.classList.add("sel"); }
    });
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    var shown = {}, entitiesShown = {}, cards = [];
    marks(mark).forEach(function (m) {
      m.getAttribute("data-f").split(" ").forEach(function (i) {
        if (shown[i]) { return; }
        shown[i] = true;
        var f = data.facts[Number(i)];
        if (f.kind === "mention") {
          f.entities.forEach(function (e) {
            if (!entitiesShown[e]) { entitiesShown[e] = true; cards.push(entityCard(data.entities[e], f)); }
          });
        } else {
          cards.push(factCard(f));
        }
      });
    });
    panel.appendChild(node("h2", null, "Selected passage"));
    cards.forEach(function (c) { panel.appendChild(c); });
    panel.setAttribute("data-selected", mark.getAttribute("data-g"));
  }
  function fromHash() {
    var id;
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (err) { return; }
    var anchor = id ? document.getElementById(id) : null;
    if (anchor && anchor.parentElement && anchor.parentElement.classList.contains("h")) {
      select(anchor.parentElement);
      anchor.parentElement.scrollIntoView({block: "center"});
    }
  }
  text.addEventListener("click", function (ev) {
    var m = ev.target.closest ? ev.target.closest("mark.h") : null;
    if (m) { select(m); }
  });
  text.addEventListener("focusin", function (ev) {
    if (ev.target.classList && ev.target.classList.contains("h")) { select(ev.target); }
  });
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
""".lstrip()


# --- the pages --------------------------------------------------------------------------------------------


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def _csp(script: bool) -> str:
    scripts = _csp_hash(SCRIPT) if script else "'none'"
    return (
        f"default-src 'none'; style-src {_csp_hash(CSS)}; script-src {scripts}; img-src 'none';"
        " base-uri 'none'; form-action 'none'"
    )


def _page_head(title: str, script: bool) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_attr(_csp(script))}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_escape_text(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
    )


PAGE_END = "</body>\n</html>\n"


def _legend(kinds: list[Resource]) -> str:
    items = ['<span><span class="swatch q"></span>cited passage</span>']
    items += [
        f'<span><span class="swatch m k{i % PALETTE_SIZE}"></span>{_escape_text(r.title or r.name)}</span>'
        for i, r in enumerate(kinds)
    ]
    return f'<div class="legend">{"".join(items)}</div>'


def _write(path: Path, pieces: list[Any]) -> None:
    """A page from its pieces (str, or the bytes of Arrow buffers), written as they come."""
    with open(path, "wb") as out:
        for piece in pieces:
            out.write(piece.encode("utf-8") if isinstance(piece, str) else piece)


def _spans(values: pa.Array, bounds: np.ndarray) -> pa.Array:
    """The strings values[bounds[i]:bounds[i + 1]] each joined into one (no copy: Arrow's buffer, re-cut)."""
    import numpy as np
    import pyarrow as pa

    values = values.cast(pa.large_string())
    offsets = np.frombuffer(values.buffers()[1], np.int64)[values.offset : values.offset + len(values) + 1]
    return pa.LargeStringArray.from_buffers(
        len(bounds) - 1, pa.py_buffer(np.ascontiguousarray(offsets[bounds])), values.buffers()[2]
    )


@dataclass
class _View:
    """What every page is made from."""

    release: ReleaseInput
    kinds: list[Resource]
    entities: _Entities
    facts: _Facts
    names_json: pa.Array  # per entity, its name escaped for a blob
    names_html: pa.Array
    entity_head: pa.Array  # per entity, its blob JSON before its number on the page
    entity_tail: pa.Array
    order: np.ndarray  # the facts sorted by document, start, end (longest first), kind, table and row
    document_bounds: np.ndarray  # where each document's facts begin in `order`, and the end

    def fact_entities(self, facts: np.ndarray) -> np.ndarray:
        """The entities the facts name (sorted, each once)."""
        import numpy as np

        f = self.facts
        found = [f.mention_entity[f.local[facts[f.source[facts] == f.mentions]]]]
        for s, c in enumerate(f.cited):
            rows = f.local[facts[f.source[facts] == s]]
            found.extend(slot[rows] for slot in c.entities)
        every = np.concatenate(found) if found else np.zeros(0, np.int64)
        return np.unique(every[every >= 0])


def _view(release: ReleaseInput, listed: list[str], texts: dict[str, str], kinds: list[Resource]) -> _View:
    import numpy as np

    entities = _entities(release.package, release)
    facts = _facts(release, listed, texts, entities)
    head, tail = _entity_json(release, entities)
    kind = (facts.source == facts.mentions).astype(np.int64)
    ranks = {name: i for i, name in enumerate(sorted(f"{c.resource.name}-" for c in facts.cited))}
    table_rank = np.array([ranks[f"{c.resource.name}-"] for c in facts.cited] + [0], np.int64)[facts.source]
    number = np.concatenate([*(c.row for c in facts.cited), facts.mention_number]).astype(np.int64)
    width = int(facts.end.max(initial=0)) + 2
    order = np.lexsort(
        (
            (table_rank << 46) + _digit_key(number),
            (width - facts.end) * 2 + kind,
            facts.document * width + facts.start,
        )
    )
    bounds = np.searchsorted(facts.document[order], np.arange(len(facts.documents) + 1))
    return _View(
        release,
        kinds,
        entities,
        facts,
        escape(entities.name, JSON_ASCII),
        escape(entities.name, HTML),
        head,
        tail,
        order,
        bounds,
    )


def _fact_record(
    start: pa.Array,
    end: pa.Array,
    quote: pa.Array,
    *,
    kind: str,
    ident: tuple[str, pa.Array],
    entities: pa.Array,
    fields: pa.Array | str,
    summary: pa.Array | str,
    title: str,
) -> pa.Array:
    """Each fact's JSON object in the page's blob, its keys sorted (citations and mentions alike): the arrays and
    texts given are already JSON-escaped, `entities` and `fields` the inside of their lists."""
    return join(
        '{"end":',
        end,
        ',"entities":[',
        entities,
        '],"fields":[',
        fields,
        '],"id":"',
        *ident,
        f'","kind":"{kind}","quote":"',
        quote,
        '","start":',
        start,
        ',"summary":"',
        summary,
        f'","title":"{title}"}}',
    )


def _document_page(view: _View, document: int, row: dict[str, Any], documents: Resource, text: str) -> list[Any]:
    """One document's page, as pieces: its text with the facts' highlights, the panel, and the blob."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    f = view.facts
    document_id = f.documents[document]
    these = view.order[view.document_bounds[document] : view.document_bounds[document + 1]]
    count = len(these)
    start, end, source, local = f.start[these], f.end[these], f.source[these], f.local[these]
    bad = (start < 0) | (start >= end) | (end > len(text))
    raw = EscapedText(text, RAW)
    cited = source < f.mentions
    if not bad.any() and cited.any():
        quotes = _merge(
            [
                (np.flatnonzero(source[cited] == s), c.quote.take(local[source == s], RAW))
                for s, c in enumerate(f.cited)
                if (source == s).any()
            ],
            int(cited.sum()),
        )
        same = pc.equal(raw.slices(start[cited], end[cited]), quotes).to_numpy(zero_copy_only=False)
        bad[np.flatnonzero(cited)[~same]] = True
    if bad.any():
        wrong = int(np.flatnonzero(bad)[0])
        name = (
            f"cite-{f.cited[source[wrong]].resource.name}-{f.cited[source[wrong]].row[local[wrong]]}"
            if cited[wrong]
            else (f"mention-{f.mention_number[local[wrong]]}")
        )
        raise ExportCheckError(f"{name} of {document_id} does not match the seed at {start[wrong]}-{end[wrong]}")
    # the page's entities, numbered on the page
    on_page = view.fact_entities(these)
    quoted = EscapedText(text, JSON_ASCII).slices(start, end)
    parts: list[tuple[np.ndarray, pa.Array]] = []
    anchors: list[tuple[np.ndarray, pa.Array]] = []
    colour = np.zeros(count, np.int64)
    for s, c in enumerate(f.cited):
        at = np.flatnonzero(source == s)
        if not len(at):
            continue
        rows = local[at]
        ents = []
        for slot in c.entities:
            e = slot[rows]
            ents.append(_where(e >= 0, join(",", numbers(np.searchsorted(on_page, e)))))
        ents_json = _drop_first(join(*ents), 1) if ents else pa.array([""] * len(at), pa.large_string())
        pieces = []
        for fd in c.fields:
            e = fd.entity[rows]
            ref = _where(e >= 0, numbers(np.searchsorted(on_page, e)), "null")
            label = escape_one(fd.label, JSON_ASCII)
            shown = join(f',["{label}","', fd.value.take(rows, JSON_ASCII), '",', ref, "]")
            pieces.append(_where(fd.value.filled[rows], shown))
        fields = _drop_first(join(*pieces), 1) if pieces else pa.array([""] * len(at), pa.large_string())
        name_json = escape_one(c.resource.name, JSON_ASCII)
        numbered = numbers(c.row[rows])
        record = _fact_record(
            numbers(start[at]),
            numbers(end[at]),
            quoted.take(pa.array(at)),
            kind="citation",
            ident=(f"cite-{name_json}-", numbered),
            entities=ents_json,
            fields=fields,
            summary=_summaries(c, rows, JSON_ASCII, view.names_json),
            title=escape_one(c.title, JSON_ASCII),
        )
        parts.append((at, record))
        anchors.append((at, join(f'<span class="a" id="cite-{_attr(c.resource.name)}-', numbered, '"></span>')))
    at = np.flatnonzero(source == f.mentions)
    if len(at):
        e = f.mention_entity[local[at]]
        colour[at] = view.entities.colour[e] % PALETTE_SIZE
        n = numbers(f.mention_number[local[at]])
        record = _fact_record(
            numbers(start[at]),
            numbers(end[at]),
            quoted.take(pa.array(at)),
            kind="mention",
            ident=("mention-", n),
            entities=numbers(np.searchsorted(on_page, e)),
            fields="",
            summary="Mention",
            title="Mention",
        )
        parts.append((at, record))
        anchors.append((at, join('<span class="a" id="mention-', n, '"></span>')))
    fact_json = _merge(parts, count)
    # the highlights: runs of facts with the same offsets and layer
    new = np.ones(count, bool)
    new[1:] = (start[1:] != start[:-1]) | (end[1:] != end[:-1]) | (cited[1:] != cited[:-1])
    first = np.flatnonzero(new)
    bounds = np.append(first, count)
    listed = join(_where(~new, " "), numbers(np.arange(count)))
    cls = pa.array(["h q", *(f"h m k{i}" for i in range(PALETTE_SIZE))], pa.large_string())
    head = join(
        '<mark class="',
        cls.take(pa.array(np.where(cited[first], 0, colour[first] + 1))),
        '" data-g="',
        numbers(np.arange(len(first))),
        '" data-f="',
        _spans(listed, bounds),
        '" tabindex="0">',
    )
    opened = join(head, _spans(_merge(anchors, count), bounds))
    points, codes = _nest(len(text), start[first].tolist(), end[first].tolist(), (~cited[first]).tolist())
    segments = EscapedText(text, HTML).cuts(np.array(points, np.int64))
    body = gather(pa.concat_arrays([opened, head, pa.array(["</mark>"], pa.large_string()), segments]), codes)
    # the blob the panel reads
    entity_json = join(
        view.entity_head.take(pa.array(on_page)),
        numbers(np.arange(len(on_page))),
        view.entity_tail.take(pa.array(on_page)),
    )
    title_field = documents.role_field(TITLE)
    title = _shown_value(row.get(title_field.name)) if title_field else ""
    about = "".join(
        f"<dt>{_escape_text(fd.title or fd.name)}</dt><dd>{_escape_text(_shown_value(row.get(fd.name)))}</dd>"
        for fd in documents.fields
        if fd is not title_field and _shown_value(row.get(fd.name))
    )
    package = view.release.package
    named = count - int(cited.sum())
    return [
        _page_head(f"{title or document_id} · {package.name}", script=True),
        "<header>\n"
        f'<div class="crumbs"><a href="{INDEX}">{_escape_text(package.name)} {_escape_text(view.release.version)}'
        f"</a> · reading view · <code>{_escape_text(document_id)}</code></div>\n"
        f"<h1>{_escape_text(title or document_id)}</h1>\n"
        f'<div class="muted">{int(cited.sum())} cited passages, {named} mentions. Select a highlight to see the'
        " facts and the entities behind it.</div>\n"
        f"{_legend(view.kinds)}\n"
        f"<details><summary>About this document</summary><dl>{about}</dl></details>\n"
        "</header>\n"
        '<main class="doc">\n'
        '<div class="text" id="text">',
        body,
        "</div>\n"
        '<aside id="panel" aria-live="polite"><h2>Selected passage</h2>'
        '<p class="muted">Nothing selected yet: click a highlighted passage or name, or reach it with Tab.</p>'
        "</aside>\n"
        "</main>\n"
        '<script type="application/json" id="eurasec-data">'
        f'{{"document":"{escape_one(document_id, JSON_ASCII)}","entities":[',
        _listed(entity_json),
        '],"facts":[',
        _listed(fact_json),
        f'],"index":"{INDEX}"}}</script>\n<script>{SCRIPT}</script>\n',
        PAGE_END,
    ]


def _listed(values: pa.Array) -> memoryview:
    """The strings one after another, a comma between two."""
    if not len(values):
        return memoryview(b"")
    return buffer(join(values, ","))[:-1]


# --- the index and the pages of entities ------------------------------------------------------------------


def _times(counts: np.ndarray) -> pa.Array:
    """once, twice, 3 times …"""
    import pyarrow as pa
    import pyarrow.compute as pc

    shown = numbers(counts)
    out = join(shown, " times")
    out = pc.if_else(pc.equal(shown, "2"), pa.scalar("twice", pa.large_string()), out)
    return pc.if_else(pc.equal(shown, "1"), pa.scalar("once", pa.large_string()), out)


def _excerpts(quotes: pa.Array) -> pa.Array:
    """A quote as a page of entities shows it: up to QUOTE_EXCERPT code points, cut with an ellipsis, escaped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    long = pc.greater(pc.utf8_length(quotes), QUOTE_EXCERPT)
    cut = join(pc.utf8_slice_codeunits(quotes, 0, QUOTE_EXCERPT - 1), "…")
    return escape(pc.if_else(long, cut, quotes.cast(pa.large_string())), HTML)


@dataclass
class _Listing:
    """What the pages of entities list, sorted by page, then entity, then document or fact."""

    page_key: np.ndarray  # per entity: its table's place times the most pages, plus its page
    members: np.ndarray  # the entities by page_key, then rank
    named: np.ndarray  # (entity, document, count, first mention's n) of each document naming an entity
    pairs: np.ndarray  # (entity, fact) of each fact citing an entity
    document_href: pa.Array  # per document: its page's address from a page of entities, then "#" (escaped)
    document_html: pa.Array  # per document: its id, escaped


def _listing(view: _View) -> _Listing:
    import numpy as np
    import pyarrow as pa

    entities, f = view.entities, view.facts
    count = len(entities)
    table = np.searchsorted(entities.bases, np.arange(count), side="right") - 1
    page = entities.page(np.arange(count))
    pages = int(page.max(initial=0)) + 1
    page_key = table * pages + page
    members = np.lexsort((entities.rank, page_key))
    documents = max(len(f.documents), 1)
    key, first, counts = np.unique(
        f.mention_entity * documents + f.mention_document, return_index=True, return_counts=True
    )
    e, d = key // documents, key % documents
    named = np.stack([e, d, counts, f.mention_number[first]])
    named = named[:, np.lexsort((d, entities.rank[e], page_key[e]))] if len(e) else named
    found_e, found_f, base = [], [], 0
    for c in f.cited:
        for slot in c.entities:
            at = np.flatnonzero(slot >= 0)
            found_e.append(slot[at])
            found_f.append(at + base)
        base += len(c.row)
    pe = np.concatenate(found_e) if found_e else np.zeros(0, np.int64)
    pf = np.concatenate(found_f) if found_f else np.zeros(0, np.int64)
    pairs = np.stack([pe, pf])[:, np.lexsort((pf, entities.rank[pe], page_key[pe]))]
    hrefs = [_attr(_href(d, up="../") + "#") if paged else "" for d, paged in zip(f.documents, f.paged, strict=True)]
    return _Listing(
        page_key,
        members,
        named,
        pairs,
        pa.array(hrefs, pa.large_string()),
        escape(pa.array(f.documents, pa.large_string()), HTML),
    )


def _entries(view: _View, listing: _Listing, key: int) -> memoryview:
    """The entities of one page of entities, each with where it is named and the facts that cite it."""
    import numpy as np
    import pyarrow as pa

    entities = view.entities
    lo, hi = np.searchsorted(listing.page_key[listing.members], [key, key + 1])
    members = listing.members[lo:hi]
    position = np.empty(len(entities), np.int64)
    position[members] = np.arange(len(members))
    take = pa.array(members)
    table = int(np.searchsorted(entities.bases, members[0], side="right") - 1)
    ids = entities.ids[table].take(pa.array(members - entities.bases[table]))
    kind = _escape_text(entities.tables[table].title or entities.tables[table].name)
    heads = join(
        '<div class="entity" id="',
        escape(entities.key.take(take), HTML),
        '"><h3><span class="kind k',
        numbers(entities.colour[members] % PALETTE_SIZE),
        f'">{kind}</span>',
        view.names_html.take(take),
        ' <code class="muted">',
        escape(ids, HTML),
        "</code></h3><ul>",
    )
    # the documents that name them
    keys = listing.page_key[listing.named[0]]
    a, b = np.searchsorted(keys, [key, key + 1])
    e, d, counts, first = listing.named[:, a:b]
    named = join(
        "<li>named ",
        _times(counts),
        ' in <a href="',
        listing.document_href.take(pa.array(d)),
        "mention-",
        numbers(first),
        '">',
        listing.document_html.take(pa.array(d)),
        "</a></li>",
    )
    # the facts that cite them, the first CITATIONS_PER_ENTITY of each
    keys = listing.page_key[listing.pairs[0]]
    a, b = np.searchsorted(keys, [key, key + 1])
    pe, pf = listing.pairs[:, a:b]
    index = np.arange(len(pe))
    new = np.ones(len(pe), bool)
    new[1:] = pe[1:] != pe[:-1]
    within = index - np.maximum.accumulate(np.where(new, index, 0))
    shown = within < CITATIONS_PER_ENTITY
    lines = _citation_lines(view, listing, pf[shown])
    more = _more(view, listing, pe[~shown], pf[~shown])
    # each entity: its head, the documents, the facts, the rest counted, or that there is nothing; its end
    has = np.zeros(len(members), bool)
    has[position[e]] = True
    has[position[pe]] = True
    empty = np.flatnonzero(~has)
    more_at = np.array([position[m] for m, _ in more], np.int64)
    pool = pa.concat_arrays(
        [
            heads,
            named,
            lines,
            pa.array([line for _, line in more], pa.large_string()),
            pa.array(
                ['<li class="muted">neither named nor cited in a stored text</li>', "</ul></div>\n"], pa.large_string()
            ),
        ]
    )
    n_heads, n_named, n_lines = len(heads), len(named), len(lines)
    base_more = n_heads + n_named + n_lines
    base_end = base_more + len(more)
    owner = np.concatenate(
        [np.arange(len(members)), position[e], position[pe[shown]], more_at, empty, np.arange(len(members))]
    )
    part = np.concatenate(
        [
            np.zeros(len(members), np.int64),
            np.ones(len(e), np.int64),
            np.full(int(shown.sum()), 2, np.int64),
            np.full(len(more), 3, np.int64),
            np.full(len(empty), 4, np.int64),
            np.full(len(members), 5, np.int64),
        ]
    )
    codes = np.concatenate(
        [
            np.arange(n_heads),
            n_heads + np.arange(n_named),
            n_heads + n_named + np.arange(n_lines),
            base_more + np.arange(len(more)),
            np.full(len(empty), base_end, np.int64),
            np.full(len(members), base_end + 1, np.int64),
        ]
    )
    order = np.lexsort((np.arange(len(codes)), part, owner))
    return gather(pool, codes[order])


def _citation_lines(view: _View, listing: _Listing, facts: np.ndarray) -> pa.Array:
    """A line per fact: its summary, where it is (linked to its passage where the document has a page), its quote."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    f = view.facts
    parts = []
    base = 0
    for c in f.cited:
        at = np.flatnonzero((facts >= base) & (facts < base + len(c.row)))
        base += len(c.row)
        if not len(at):
            continue
        rows = facts[at] - (base - len(c.row))
        d = c.document[rows]
        where = join(listing.document_html.take(pa.array(d)), " ", numbers(c.start[rows]), "–", numbers(c.end[rows]))
        anchor = _attr(url_quote(f"cite-{c.resource.name}-", safe=""))
        linked = join(
            '<a href="', listing.document_href.take(pa.array(d)), anchor, numbers(c.row[rows]), '">', where, "</a>"
        )
        where = pc.if_else(pa.array(f.paged[d]), linked, where)
        parts.append(
            (
                at,
                join(
                    "<li>",
                    _summaries(c, rows, HTML, view.names_html),
                    " (",
                    where,
                    "): <q>",
                    c.quote.take(rows, EXCERPT),
                    "</q></li>",
                ),
            )
        )
    return _merge(parts, len(facts))


def _more(view: _View, listing: _Listing, entities: np.ndarray, facts: np.ndarray) -> list[tuple[int, str]]:
    """For each entity with more than CITATIONS_PER_ENTITY citing facts: how many more, and in which documents."""
    import numpy as np

    f = view.facts
    if not len(entities):
        return []
    document = f.document[facts]
    found = []
    for entity in np.unique(entities).tolist():  # an entity this cited is rare; it gets a line, a link per document
        mine = document[entities == entity]
        docs, counts = np.unique(mine, return_counts=True)
        links = []
        for d, n in zip(docs.tolist(), counts.tolist(), strict=True):
            label = _escape_text(f.documents[d])
            href = _attr(_href(f.documents[d], up="../")) if f.paged[d] else ""
            links.append((f'<a href="{href}">{label}</a>' if href else label) + f" ({n})")
        found.append((entity, f'<li class="muted">and {len(mine)} more in {", ".join(links)}</li>'))
    return found


def _entity_pages(view: _View, folder: Path) -> list[str]:
    """Write the pages of entities; the index's list of them, per entity table, as HTML."""
    import numpy as np

    listing = _listing(view)
    entities = view.entities
    package, version = view.release.package, view.release.version
    name = f"{_escape_text(package.name)} {_escape_text(version)}"
    sections = []
    (folder / READ_DIR / ENTITY_DIR).mkdir(parents=True, exist_ok=True)
    for at, resource in enumerate(entities.tables):
        lo, hi = int(entities.bases[at]), int(entities.bases[at + 1])
        kind = _escape_text(resource.title or resource.name)
        count = hi - lo
        pages = (count + ENTITIES_PER_PAGE - 1) // ENTITIES_PER_PAGE
        by_rank = np.empty(count, np.int64)
        by_rank[entities.rank[lo:hi]] = np.arange(lo, hi)
        items = []
        for page in range(pages):
            first, last = by_rank[page * ENTITIES_PER_PAGE], by_rank[min((page + 1) * ENTITIES_PER_PAGE, count) - 1]
            names = f"{view.names_html[int(first)].as_py()} – {view.names_html[int(last)].as_py()}"
            href = entities.href(at, page)
            items.append(f'<li><a href="{_attr(href)}">{kind}, page {page + 1}</a>: {names}</li>')
            nav = ""
            if pages > 1:
                links = [
                    f"<strong>{k + 1}</strong>"
                    if k == page
                    else f'<a href="{_attr(entities.href(at, k, "../"))}">{k + 1}</a>'
                    for k in range(pages)
                ]
                nav = f'<nav class="pages">Pages: {" ".join(links)}</nav>\n'
            heading = f"{kind} ({count})" + (f", page {page + 1} of {pages}" if pages > 1 else "")
            relative = f"{READ_DIR}/{href}"
            _write(
                folder / relative,
                [
                    _page_head(f"{resource.title or resource.name}, page {page + 1} · {package.name} {version}", False),
                    f'<header>\n<div class="crumbs"><a href="../{INDEX}">{name}</a> · reading view · {kind}</div>\n'
                    f"<h1>{heading}</h1>\n{_legend(view.kinds)}\n{nav}</header>\n"
                    f'<main class="index">\n<h2 id="{_attr(resource.name)}">{heading}</h2>\n',
                    _entries(view, listing, int(listing.page_key[first])),
                    "</main>\n",
                    PAGE_END,
                ],
            )
            view.release.written[relative] = folder / relative
        sections.append(
            f'<h2 id="{_attr(resource.name)}">{kind} ({count})</h2>\n<ul class="pages">{"".join(items)}</ul>\n'
        )
    return sections


def _index(view: _View, documents: list[tuple[str, str, bool]], sections: list[str]) -> str:
    """The documents, then every entity table's pages of entities."""
    import numpy as np

    f = view.facts
    at = {d: i for i, d in enumerate(f.documents)}
    kind = (f.source == f.mentions).astype(np.int64)
    counts = np.bincount(f.document * 2 + kind, minlength=2 * len(f.documents)).reshape(-1, 2)
    rows = []
    for document_id, title, has_page in documents:
        label = _escape_text(title or document_id)
        shown = f'<a href="{_attr(_href(document_id))}">{label}</a>' if has_page else label
        cited, named = counts[at[document_id]].tolist()
        note = f"{cited} cited passages, {named} mentions" if has_page else "no stored text"
        rows.append(f"<tr><td>{shown}</td><td><code>{_escape_text(document_id)}</code></td><td>{note}</td></tr>")
    release = view.release
    name = f"{_escape_text(release.package.name)} {_escape_text(release.version)}"
    body = (
        f'<header>\n<div class="crumbs">{name} · reading view</div>\n<h1>Documents and entities</h1>\n'
        f"{_legend(view.kinds)}\n</header>\n"
        '<main class="index">\n<h2 id="documents">Documents</h2>\n'
        f'<table class="docs"><tr><th>Title</th><th>Id</th><th>Highlights</th></tr>{"".join(rows)}</table>\n'
        f"{''.join(sections)}</main>\n"
    )
    return _page_head(f"Reading view · {release.package.name} {release.version}", script=False) + body + PAGE_END


def export_reading_view(release: ReleaseInput, folder: Path) -> None:
    """read/index.html, read/<document id>.html for each document with stored text, and read/entities/."""
    from ..model.mentions import entity_tables

    package = release.package
    documents = package.documents
    if documents is None or len(documents.primary_key) != 1:
        return  # no table of documents (validate warns role-missing): no text to read, so no pages
    texts = release_mentions(release).texts  # the seeds and their mentions, read and found once for every exporter
    table = release.tables.get(documents.name)
    rows = [] if table is None else table.to_pylist()
    key = documents.primary_key[0]
    title_field = documents.role_field(TITLE)
    listed = []
    for row in rows:
        document_id = _shown_value(row.get(key))
        title = _shown_value(row.get(title_field.name)) if title_field else ""
        listed.append((document_id, title, document_id in texts))
    view = _view(release, [d for d, _, _ in listed], texts, entity_tables(package))
    out = folder / READ_DIR
    out.mkdir(exist_ok=True)
    number = {d: i for i, d in enumerate(view.facts.documents)}
    for row, (document_id, _, has_page) in zip(rows, listed, strict=True):
        if not has_page:
            continue
        name = page_name(document_id)
        _write(out / name, _document_page(view, number[document_id], row, documents, texts[document_id]))
        release.written[f"{READ_DIR}/{name}"] = out / name
    sections = _entity_pages(view, folder)
    (out / INDEX).write_bytes(_index(view, listed, sections).encode("utf-8"))
    release.written[f"{READ_DIR}/{INDEX}"] = out / INDEX

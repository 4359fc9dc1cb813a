"""The release's annotations: every mention and every citation laid over its seed, in three formats.

- `annotations/web-annotations.jsonld`: W3C Web Annotation (JSON-LD), one AnnotationCollection whose
  one page holds an annotation per mention (motivation `identifying`: the body names the entity as
  `<entity table>/<id>`, and tags it with its name) and per citing row (motivation `describing`: the
  body names the fact, `<table> <n>: field=value; …`, and identifies each entity it refers to). Each
  target is the seed, `brat/<document id>.txt` (relative to the file: the seed's text, byte-exact),
  within the document's web page (`scope`, its first field of format `uri`), by a TextQuoteSelector
  (exact, prefix, suffix) and a TextPositionSelector (start, end: code points, end exclusive).
  Annotation ids are fragments: `#mention-<n>` (the row of the `mentions` table) and `#<table>-<n>`
  (the row's place in its table, sorted by primary key, from 1).
- `annotations/spans.jsonl`: one JSON line per document with stored text, in the shape spaCy and
  Prodigy read: {"text", "spans": [{"start", "end", "label", "kb_id"}], "meta": {"document_id"}};
  the spans are the mentions (label: the entity table; kb_id: `<entity table>/<id>`), in order.
- `annotations/brat/<document id>.txt` and `.ann`: brat stand-off. The `.txt` is the seed's text as
  stored; each mention is a text-bound annotation `T<n>` whose type is the entity table and each citing
  row one whose type is its table, with an `AnnotatorNotes` line naming the entity or the fact.
  brat counts offsets in characters of the text decoded from UTF-8 (Python's str: code points, the
  same as ours) and a text-bound annotation may not cross a line break, so a passage that does is
  written as fragments, one per line (`start end;start end`), its text those lines joined by a space.
  `annotation.conf` declares the types.

Every file's bytes depend on the data alone: sorted by document, place and id, with no date.

How it is made: the annotations are sorted as numbers only (document, start, end, kind, type, row);
then BATCH of them at a time are made into lines column-wise with Arrow (build/mentions.py's helpers)
and written straight from Arrow's buffers. Every text is JSON-escaped once: the seeds (a passage,
prefix or suffix is a slice of the escaped seed), each entity's id and name, each distinct value of a
field. No Python code runs per annotation, and memory holds one batch's text, never a whole file.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..model.descriptor import DOCUMENT, END, NAME, QUOTE, START, Resource
from ..model.mentions import PREFIX_LENGTH, entity_tables
from ..model.paths import UnsafePathError, unsafe_name_reason
from ..model.schema import cites_offsets
from ..model.utf8 import code_points
from .context import ReleaseInput
from .mentions import JSON, RAW, EscapedText, buffer, escape_one, escape_rows, join, numbers, release_mentions

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

ANNOTATIONS_DIR = "annotations"
WEB_ANNOTATIONS = f"{ANNOTATIONS_DIR}/web-annotations.jsonld"
SPANS = f"{ANNOTATIONS_DIR}/spans.jsonl"
BRAT_DIR = f"{ANNOTATIONS_DIR}/brat"
BRAT_CONF = f"{BRAT_DIR}/annotation.conf"
W3C_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
MENTION, CITATION = 0, 1  # kinds, in the order they sort at one place
BATCH = 32_768  # annotations made into text and written at a time: the memory bound (about 80 MB)
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # where str.splitlines breaks a line
_IDENTIFYING = '{"type":"TextualBody","purpose":"identifying","value":"'


def brat_path(document_id: str, suffix: str) -> str:
    """The release-relative path of a document's brat file; UnsafePathError for an id that is no plain name."""
    if reason := unsafe_name_reason(document_id):
        raise UnsafePathError(f"the document id {document_id!r} {reason}")
    return f"{BRAT_DIR}/{document_id}{suffix}"


def _text(values: pa.Array) -> pa.Array:
    """Any column as one-line strings ("" for null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(values.type):
        values = values.cast(pa.string())
    text = pc.fill_null(values.cast(pa.large_string()), "")
    return pc.replace_substring_regex(text, r"\s+", " ")


def _quoted(values: pa.Array) -> pa.Array:
    """Each string (seldom repeated) as a JSON string literal, null as null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    literal = join('"', escape_rows(values, JSON), '"')
    return pc.if_else(pc.is_null(values), pa.scalar("null", pa.large_string()), literal)


def _entity_names(release: ReleaseInput, tables: list[str], bounds: list[int], ids: pa.Array) -> pa.Array:
    """The name (field of role `name`, as one line) of each entity, null if it has none: ids[bounds[i]:
    bounds[i + 1]] are ids of tables[i]."""
    import pyarrow as pa
    import pyarrow.compute as pc

    resources = {r.name: r for r in entity_tables(release.package)}
    names = []
    for number, table_name in enumerate(tables):
        these = ids.slice(bounds[number], bounds[number + 1] - bounds[number])
        resource = resources.get(table_name)
        name = resource.role_field(NAME) if resource else None
        table = release.tables.get(table_name)
        if resource is None or name is None or table is None:
            names.append(pa.nulls(len(these), pa.large_string()))
            continue
        at = pc.index_in(these, value_set=table.column(resource.primary_key[0]).combine_chunks().cast(pa.string()))
        names.append(_text(table.column(name.name).combine_chunks()).take(at))
    return pa.concat_arrays(names) if names else pa.array([], pa.large_string())


# --- where the annotations come from: the mentions, and each table whose rows cite a passage ---------------


class _Source:
    """A table of annotations: the start of each row's JSON-LD line (its id, motivation and bodies) and its
    brat note (one line)."""

    kind: int
    name: str  # the id's prefix: "mention" or the table's name

    def texts(self, rows: np.ndarray) -> tuple[pa.Array, pa.Array]:
        """The lines' starts and the brat notes of the rows (numbered from 0 in the source)."""
        raise NotImplementedError

    def head(self) -> str:
        return f'{{"id":"#{self.name}-'

    def motivation(self) -> str:
        return f'","type":"Annotation","motivation":"{("identifying", "describing")[self.kind]}","body":['


class _Mentions(_Source):
    """The mention index: a mention's bodies and note are its entity's, made once per entity named."""

    def __init__(self, release: ReleaseInput, entity: np.ndarray, entities: Any) -> None:
        import numpy as np

        self.kind, self.name = MENTION, "mention"
        used = np.zeros(len(entities), bool)
        used[entity] = True
        named = np.flatnonzero(used)  # the entities named, in order (table by table)
        self.code = (np.cumsum(used) - 1)[entity]  # mention -> its entity among the named
        tables, ids = entities.columns(named)
        kb_id = join(tables, "/", ids)
        self.kb_id = escape_rows(kb_id, JSON)  # per named entity, escaped
        bounds = np.searchsorted(named, entities.bases).tolist()
        names = _entity_names(release, list(entities.tables), bounds, ids)
        self.bodies = join(
            _IDENTIFYING,
            self.kb_id,
            '"},{"type":"TextualBody","purpose":"tagging","value":',
            _quoted(names),
            "}]",
        )
        self.notes = _text(kb_id)

    def texts(self, rows: np.ndarray) -> tuple[pa.Array, pa.Array]:
        import pyarrow as pa

        take = pa.array(self.code[rows])
        return join(self.head(), numbers(rows + 1), self.motivation(), self.bodies.take(take)), self.notes.take(take)


_PLAIN = '[\\x00-\\x1f"\\\\]|  '  # RE2: a string with none of these is its own one-line text and its own JSON escape


class _Column:
    """A column of a citing table as text, a batch of rows at a time: on one line (_text) and JSON-escaped.
    The column is looked at once: a column of plain values (the usual) is taken as it is."""

    def __init__(self, column: pa.Array) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        strings = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        self.column = column.cast(pa.large_string())
        self.plain = not strings or not pc.any(pc.match_substring_regex(self.column, _PLAIN)).as_py()
        self.blanks = column.null_count > 0 or (strings and bool(pc.any(pc.equal(self.column, "")).as_py()))

    def values(self, take: pa.Array) -> pa.Array:
        """The values as strings, null as null."""
        return self.column.take(take)

    def texts(self, values: pa.Array) -> tuple[pa.Array, pa.Array, np.ndarray | None]:
        """Each of these values (self.values) on one line (_text: "" for null) and JSON-escaped; and which
        are "" (None if none can be)."""
        import pyarrow.compute as pc

        if self.plain:
            text = json_text = pc.fill_null(values, "") if values.null_count else values
        else:
            text = _text(values)
            json_text = escape_rows(text, JSON)
        if not self.blanks:
            return text, json_text, None
        return text, json_text, pc.equal(text, "").to_numpy(zero_copy_only=False)

    def identifying(self, values: pa.Array, target: str) -> list[Any]:
        """The pieces of the bodies that identify the entities `<target>/<value>` of these values (self.values):
        "" for null."""
        import pyarrow as pa
        import pyarrow.compute as pc

        escaped = values if self.plain else escape_rows(values, JSON)
        opening, closing = f",{_IDENTIFYING}{escape_one(target, JSON)}/", '"}'
        if not values.null_count:
            return [opening, escaped, closing]
        null = pc.is_null(values).cast(pa.int8())
        return [_strings([opening, ""]).take(null), pc.fill_null(escaped, ""), _strings([closing, ""]).take(null)]


def _spaced(names: list[str]) -> bool:
    """Whether any of these holds whitespace that _text would fold."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return bool(pc.any(pc.match_substring_regex(pa.array(names, pa.large_string()), r"\s")).as_py())


class _Citations(_Source):
    """A table whose rows cite a passage of a seed: a row's body names the fact, `<table> <n>: field=value;
    …` (its filled fields other than the citation's own, each value on one line), and the entities it
    refers to."""

    def __init__(self, resource: Resource, table: pa.Table, entity_names: set[str]) -> None:
        self.kind, self.name = CITATION, resource.name
        roles = {f.name for f in (resource.role_field(r) for r in (DOCUMENT, START, END, QUOTE)) if f is not None}
        self.described = [f.name for f in resource.fields if f.name not in roles]
        targets = [
            (fk.resource, fk.fields[0])
            for fk in resource.foreign_keys
            if len(fk.fields) == 1 and fk.resource in entity_names
        ]
        self.targets = [t for t, _ in targets]
        columns = {n: _Column(table.column(n).combine_chunks()) for n in {*self.described, *(f for _, f in targets)}}
        self.described_columns = [columns[n] for n in self.described]
        self.target_columns = [columns[f] for _, f in targets]
        self.folded = _spaced([self.name, *self.described])  # the note needs _text, as it always had
        # a field's label: after a filled one, before the first filled one, and for an empty value
        self.labels = [[f"; {n}=", f"{n}=", ""] for n in self.described]
        self.json_labels = [[f"; {e}=", f"{e}=", ""] for e in (escape_one(n, JSON) for n in self.described)]

    def texts(self, rows: np.ndarray) -> tuple[pa.Array, pa.Array]:
        import numpy as np
        import pyarrow as pa

        take = pa.array(rows)
        taken: dict[int, pa.Array] = {}  # a column's values, taken once though it describes and identifies

        def values(column: _Column) -> pa.Array:
            if id(column) not in taken:
                taken[id(column)] = column.values(take)
            return taken[id(column)]

        number = numbers(rows + 1)
        raw: list[Any] = [f"{self.name} ", number, ": "]
        escaped: list[Any] = [f"{escape_one(self.name, JSON)} ", number, ": "]
        seen: Any = False  # per row (or for all): a filled field came before
        for i, column in enumerate(self.described_columns):
            text, json_text, blank = column.texts(values(column))
            labels, json_labels = self.labels[i], self.json_labels[i]
            if blank is None and not isinstance(seen, np.ndarray):
                raw.append(labels[0 if seen else 1])
                escaped.append(json_labels[0 if seen else 1])
                seen = True
            else:
                code = pa.array(np.where(seen, 0, 1) if blank is None else np.where(blank, 2, np.where(seen, 0, 1)))
                raw.append(_strings(labels).take(code))
                escaped.append(_strings(json_labels).take(code))
                seen = seen | ~blank if blank is not None else True
            raw.append(text)
            escaped.append(json_text)
        start = join(
            self.head(),
            number,
            self.motivation(),
            '{"type":"TextualBody","purpose":"describing","value":"',
            *escaped,
            '"}',
            *(p for t, c in zip(self.targets, self.target_columns, strict=True) for p in c.identifying(values(c), t)),
            "]",
        )
        note = join(*raw)
        return start, _text(note) if self.folded else note


def _citations(release: ReleaseInput, documents: list[str]) -> Iterator[tuple[_Citations, np.ndarray, np.ndarray]]:
    """Each table that cites passages, with its rows that cite one of a document with stored text (their
    numbers in the table) and those rows' (document, start, end) as a (3, rows) array."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    entity_names = {r.name for r in entity_tables(release.package)}
    doc_values = pa.array(documents, pa.string())
    for resource in release.package.resources:
        if not cites_offsets(resource):
            continue
        table = release.tables[resource.name]
        document, start, end = (resource.role_field(role) for role in (DOCUMENT, START, END))
        assert document and start and end  # cites_offsets made sure
        doc = pc.fill_null(pc.index_in(table.column(document.name), value_set=doc_values), -1).to_numpy()
        starts = table.column(start.name).combine_chunks()
        ends = table.column(end.name).combine_chunks()
        keep = (doc >= 0) & ~pc.is_null(starts).to_numpy(zero_copy_only=False)
        keep &= ~pc.is_null(ends).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(keep)
        if not len(rows):
            continue
        take = pa.array(rows, pa.int64())
        places = np.stack([doc[rows], starts.take(take).to_numpy(), ends.take(take).to_numpy()]).astype(np.int64)
        yield _Citations(resource, table, entity_names), rows.astype(np.int64), places


# --- the annotations, sorted, as numbers -----------------------------------------------------------------


@dataclass
class _Annotations:
    """Every annotation of the release as numbers, sorted by document, start, end, kind, type and row."""

    documents: list[str]  # the documents with stored text, sorted; `document` indexes them
    sources: list[_Source]  # `source` indexes them
    types: list[str]  # the entity tables and the citing tables; `type` indexes them
    document: np.ndarray  # int64
    start: np.ndarray  # code points in the document's text
    end: np.ndarray
    source: np.ndarray
    type: np.ndarray
    row: np.ndarray  # the mention's or the citing row's number in its source, from 0

    def __len__(self) -> int:
        return len(self.document)


def _collect(release: ReleaseInput) -> tuple[_Annotations, _Mentions]:
    import numpy as np

    found = release_mentions(release).mentions
    mentions = _Mentions(release, found.entity, found.entities)
    cited = list(_citations(release, found.documents))
    sources: list[_Source] = [mentions, *(c[0] for c in cited)]
    types = sorted({*found.entities.tables, *(s.name for s in sources[1:])})
    entity_type = np.array([types.index(t) for t in found.entities.tables], np.int64)
    within = np.searchsorted(found.entities.bases, found.entity, side="right") - 1
    document = np.concatenate([found.document, *(c[2][0] for c in cited)])
    start = np.concatenate([found.start, *(c[2][1] for c in cited)])
    end = np.concatenate([found.end, *(c[2][2] for c in cited)])
    source = np.repeat(np.arange(len(sources), dtype=np.int64), [len(found), *(len(c[1]) for c in cited)])
    type_of = np.array([0, *(types.index(s.name) for s in sources[1:])], np.int64)
    kind = np.array([s.kind for s in sources], np.int64)
    type = type_of[source]
    type[: len(found)] = entity_type[within] if len(entity_type) else 0
    row = np.concatenate([np.arange(len(found), dtype=np.int64), *(c[1] for c in cited)])
    # at one place: mentions first, then by type (the names sorted), then by row
    order = _order(document, start, end, kind[source], type, row)
    return (
        _Annotations(
            found.documents,
            sources,
            types,
            document[order],
            start[order],
            end[order],
            source[order],
            type[order],
            row[order],
        ),
        mentions,
    )


def _bits(values: np.ndarray) -> int:
    return int(values.max()).bit_length() if len(values) else 0


def _order(*keys: np.ndarray) -> np.ndarray:
    """The order that sorts by the keys (non-negative integers), the first first: as np.lexsort, with the
    keys packed into two of 64 bits when their ranges allow."""
    import numpy as np

    if any(len(k) and int(k.min()) < 0 for k in keys):
        return np.lexsort(keys[::-1])
    bits = [_bits(k) for k in keys]
    head, tail = keys[:3], keys[3:]
    if sum(bits[:3]) > 63 or sum(bits[3:]) > 63:
        return np.lexsort(keys[::-1])

    def packed(part: tuple[np.ndarray, ...], widths: list[int]) -> np.ndarray:
        key = np.zeros(len(part[0]), np.int64)
        for values, width in zip(part, widths, strict=True):
            key <<= width
            key |= values
        return key

    return np.lexsort((packed(tail, bits[3:]), packed(head, bits[:3])))


class _Seeds:
    """The documents' texts, one after another, escaped for JSON once and as UTF-8: a passage, its prefix
    and its suffix are slices of these."""

    def __init__(self, texts: list[str]) -> None:
        import numpy as np

        joined = "".join(texts)
        self.base = np.zeros(len(texts) + 1, np.int64)
        np.cumsum([len(t) for t in texts], out=self.base[1:])
        self.json = EscapedText(joined, JSON)
        self.raw = EscapedText(joined, RAW)
        cps = code_points(joined)
        self.breaks = np.flatnonzero(np.isin(cps, np.array([ord(c) for c in _LINE_BREAKS], np.uint32)))

    def escaped(self, document: int) -> memoryview:
        """The document's text, escaped for JSON (without quotes)."""
        a, b = self.json.at[self.base[document]], self.json.at[self.base[document + 1]]
        return memoryview(self.json.data)[int(a) : int(b)]

    def utf8(self, document: int) -> memoryview:
        a, b = self.raw.at[self.base[document]], self.raw.at[self.base[document + 1]]
        return memoryview(self.raw.data)[int(a) : int(b)]

    def selectors(self, document: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[pa.Array]:
        """Each passage's exact text, prefix and suffix (PREFIX_LENGTH code points), escaped; each distinct
        slice cut once."""
        import numpy as np

        first, last = self.base[:-1][document], self.base[1:][document]
        start, end = start + first, end + first
        count = len(start)
        starts = np.concatenate([start, np.maximum(start - PREFIX_LENGTH, first), end])
        ends = np.concatenate([end, start, np.minimum(end + PREFIX_LENGTH, np.maximum(last, end))])
        cut = self.json.slices(starts, ends)
        return [cut.slice(0, count), cut.slice(count, count), cut.slice(2 * count, count)]

    def brat(self, document: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[pa.Array, pa.Array | None]:
        """brat's text of each passage, and its offsets if any passage crosses a line (None if none does:
        then they are "start end"): one fragment per line it covers (see _fragments)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        first = self.base[:-1][document]
        start, end = start + first, end + first
        shown = self.raw.slices(start, end)
        broken = np.flatnonzero(np.searchsorted(self.breaks, start) < np.searchsorted(self.breaks, end))
        if not len(broken):
            return shown, None
        # a passage across lines: its runs of characters other than line breaks
        a, b = start[broken], np.maximum(end[broken], start[broken])
        lengths = b - a
        passage = np.repeat(np.arange(len(broken)), lengths)
        at = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(a - np.cumsum(lengths) + lengths, lengths)
        is_break = self._is_break(at)
        after = self._is_break(at + 1) | (at + 1 == b[passage])
        before = self._is_break(at - 1) | (at == a[passage])
        runs = ~is_break & before
        run_ends = at[~is_break & after] + 1
        run_starts, run_passage = at[runs], passage[runs]
        bounds = np.zeros(len(broken) + 1, np.int64)
        np.cumsum(np.bincount(run_passage, minlength=len(broken)), out=bounds[1:])
        local = first[broken][run_passage]
        pairs = join(numbers(run_starts - local), " ", numbers(run_ends - local))
        texts = self.raw.slices(run_starts, run_ends)
        offsets_of, shown_of = (
            pc.binary_join(pa.LargeListArray.from_arrays(pa.array(bounds), values), pa.scalar(sep, pa.large_string()))
            for values, sep in ((pairs, ";"), (texts, " "))
        )
        mask = np.zeros(len(start), bool)
        mask[broken] = True
        offsets = join(numbers(start - first), " ", numbers(end - first))
        chosen = pa.array(mask)
        return pc.replace_with_mask(shown, chosen, shown_of), pc.replace_with_mask(offsets, chosen, offsets_of)

    def _is_break(self, at: np.ndarray) -> np.ndarray:
        import numpy as np

        found = np.searchsorted(self.breaks, at)
        return self.breaks[np.minimum(found, len(self.breaks) - 1)] == at


def _fragments(text: str, start: int, end: int) -> tuple[str, str]:
    """brat's offsets and text of a span: one fragment per line it covers (brat's spans never cross a line
    break), its text the fragments' texts joined by a space. (_Seeds.brat does this column-wise.)"""
    pieces = []
    at = start
    for line in text[start:end].splitlines(keepends=True):
        body = line.rstrip(_LINE_BREAKS)
        if body:
            pieces.append((at, at + len(body)))
        at += len(line)
    return ";".join(f"{a} {b}" for a, b in pieces), " ".join(text[a:b] for a, b in pieces)


# --- the writers -------------------------------------------------------------------------------------------


def _scopes(release: ReleaseInput, documents: list[str]) -> list[str | None]:
    """Each document's web page: its first field of format `uri`, if it has one and it is filled."""
    resource = release.package.documents
    if resource is None or len(resource.primary_key) != 1:
        return [None] * len(documents)
    uri = next((f for f in resource.fields if f.format == "uri"), None)
    table = release.tables.get(resource.name)
    if uri is None or table is None:
        return [None] * len(documents)
    urls = dict(zip(table.column(resource.primary_key[0]).to_pylist(), table.column(uri.name).to_pylist(), strict=True))
    return [urls.get(d) or None for d in documents]


def _write(path: Path, data: bytes | str | memoryview) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _collection_head(release: ReleaseInput, total: int) -> str:
    raw = release.package.raw
    label = f"{raw.get('title') or release.package.name}, version {release.version}: every mention and citation"
    return (
        "{"
        f'"@context":{json.dumps(W3C_CONTEXT)},"type":"AnnotationCollection",'
        f'"label":{json.dumps(label, ensure_ascii=False)},"total":{total},'
        f'"first":{{"type":"AnnotationPage","startIndex":0,"items":[\n'
    )


def _strings(values: list[str]) -> pa.Array:
    import pyarrow as pa

    return pa.array(values, pa.large_string())


class _Brat:
    """The .txt and .ann of each document with annotations, written as the sorted annotations come."""

    def __init__(self, folder: Path, seeds: _Seeds, documents: list[str]) -> None:
        self.folder, self.seeds, self.documents = folder, seeds, documents
        self.written: dict[str, Path] = {}
        self.document = -1
        self.out: IO[bytes] | None = None

    def write(self, document: int, data: memoryview) -> None:
        if document != self.document:
            self.close()
            relative = brat_path(self.documents[document], ".txt")
            path = self.folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.seeds.utf8(document))  # the seed's text as it is, line breaks and all
            self.written[relative] = path
            relative = brat_path(self.documents[document], ".ann")
            self.out = open(self.folder / relative, "wb")
            self.written[relative] = self.folder / relative
            self.document = document
        assert self.out is not None
        self.out.write(data)

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None


def _batches(total: int, size: int | None = None) -> Iterator[tuple[int, int]]:
    for lo in range(0, total, size or BATCH):
        yield lo, min(total, lo + (size or BATCH))


def _by_source(found: _Annotations, source: np.ndarray, row: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """The bodies and brat notes of a batch of annotations, each source making those of its rows."""
    import numpy as np
    import pyarrow as pa

    order = np.argsort(source, kind="stable")
    counts = np.bincount(source, minlength=len(found.sources))
    bounds = np.concatenate([[0], np.cumsum(counts)])
    bodies, notes = [], []
    for number in np.flatnonzero(counts).tolist():
        body, note = found.sources[number].texts(row[order[bounds[number] : bounds[number + 1]]])
        bodies.append(body)
        notes.append(note)
    if len(bodies) == 1:
        return bodies[0], notes[0]
    back = np.empty(len(order), np.int64)
    back[order] = np.arange(len(order))
    take = pa.array(back)
    return pa.concat_arrays(bodies).take(take), pa.concat_arrays(notes).take(take)


def _write_batch(
    found: _Annotations,
    seeds: _Seeds,
    targets: pa.Array,
    types: pa.Array,
    first: np.ndarray,
    lo: int,
    hi: int,
    out: IO[bytes],
    brat: _Brat,
) -> None:
    """The annotations lo to hi: their JSON-LD lines, then their brat lines (T<k> and its note, k counted
    from 1 in each document). Their text lives until this returns."""
    import numpy as np
    import pyarrow as pa

    document, start, end = found.document[lo:hi], found.start[lo:hi], found.end[lo:hi]
    starts, notes = _by_source(found, found.source[lo:hi], found.row[lo:hi])
    start_text, end_text = numbers(start), numbers(end)
    exact, prefix, suffix = seeds.selectors(document, start, end)
    lines = join(
        starts,
        targets.take(pa.array(document)),
        exact,
        '","prefix":"',
        prefix,
        '","suffix":"',
        suffix,
        '"},{"type":"TextPositionSelector","start":',
        start_text,
        ',"end":',
        end_text,
        "}]}},\n",
    )
    del starts, exact, prefix, suffix
    data = buffer(lines)
    out.write(data[:-2] if hi == len(found) else data)  # the last line with no comma after it
    del data, lines
    k = numbers(np.arange(lo, hi) - first[document] + 1)
    shown, offsets = seeds.brat(document, start, end)
    place = [start_text, " ", end_text] if offsets is None else [offsets]
    tab = "\t"
    ann = join(
        "T", k, tab, types.take(pa.array(found.type[lo:hi])), " ", *place, tab, shown,
        "\n#", k, f"{tab}AnnotatorNotes T", k, tab, notes, "\n",
    )  # fmt: skip
    cuts = np.searchsorted(document, np.arange(document[0], document[-1] + 2)).tolist()
    for number, (a, b) in enumerate(itertools.pairwise(cuts)):
        if b > a:
            brat.write(int(document[0]) + number, buffer(ann.slice(a, b - a)))


def _write_annotations(
    release: ReleaseInput, found: _Annotations, seeds: _Seeds, folder: Path, size: int | None = None
) -> dict[str, Path]:
    """The JSON-LD, and the brat .txt and .ann of each document with annotations: a batch at a time."""
    import numpy as np

    scopes = _scopes(release, found.documents)
    targets = _strings(
        [
            ',"target":{"source":'
            + json.dumps(brat_path(d, ".txt").removeprefix(f"{ANNOTATIONS_DIR}/"), ensure_ascii=False)
            + (f',"scope":{json.dumps(s, ensure_ascii=False)}' if s else "")
            + ',"selector":[{"type":"TextQuoteSelector","exact":"'
            for d, s in zip(found.documents, scopes, strict=True)
        ]
    )
    types = _strings(found.types)
    first = np.searchsorted(found.document, np.arange(len(found.documents) + 1))
    brat = _Brat(folder, seeds, found.documents)
    path = folder / WEB_ANNOTATIONS
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "wb") as out:
            out.write(_collection_head(release, len(found)).encode("utf-8"))
            for lo, hi in _batches(len(found), size):
                _write_batch(found, seeds, targets, types, first, lo, hi, out, brat)
            out.write(b"\n]}}\n")
    finally:
        brat.close()
    release.written[WEB_ANNOTATIONS] = path
    return brat.written


def _write_spans(found: _Annotations, mentions: _Mentions, seeds: _Seeds, out: IO[bytes], size: int | None) -> None:
    """One JSON line per document (json.dumps' layout): its text and its mentions' spans, in order."""
    import numpy as np
    import pyarrow as pa

    at = np.flatnonzero(found.source == 0)  # the mentions, sorted
    document = found.document[at]
    bounds = np.searchsorted(document, np.arange(len(found.documents) + 1)).tolist()
    last = np.ones(len(at), bool)  # the last span of its document: no comma after it
    last[:-1] = document[1:] != document[:-1]
    labels = _strings([json.dumps(t, ensure_ascii=False) for t in found.types])
    made: tuple[int, int, pa.Array] = (0, 0, pa.array([], pa.large_string()))

    def spans(a: int, b: int) -> memoryview:  # the spans a to b of one batch
        nonlocal made
        if not made[0] <= a < made[1]:
            lo, hi = a, min(len(at), a + (size or BATCH))
            these = at[lo:hi]
            made = (
                lo,
                hi,
                join(
                    '{"start": ',
                    numbers(found.start[these]),
                    ', "end": ',
                    numbers(found.end[these]),
                    ', "label": ',
                    labels.take(pa.array(found.type[these])),
                    ', "kb_id": "',
                    mentions.kb_id.take(pa.array(mentions.code[found.row[these]])),
                    '"}',
                    pa.array(np.where(last[lo:hi], "", ", "), pa.large_string()),
                ),
            )
        lo, hi, lines = made
        return buffer(lines.slice(a - lo, min(b, hi) - a))

    for number, doc in enumerate(found.documents):
        out.write(b'{"text": "')
        out.write(seeds.escaped(number))
        out.write(b'", "spans": [')
        a, b = bounds[number], bounds[number + 1]
        while a < b:
            data = spans(a, b)
            out.write(data)
            a = min(b, made[1])
        out.write(f'], "meta": {{"document_id": {json.dumps(doc, ensure_ascii=False)}}}}}\n'.encode())


def _brat_files(release: ReleaseInput, found: _Annotations, seeds: _Seeds, folder: Path) -> None:
    """A document with stored text and nothing to annotate still gets its two files; and the types' declaration."""
    for number, doc in enumerate(found.documents):
        for suffix, data in ((".txt", seeds.utf8(number)), (".ann", memoryview(b""))):
            relative = brat_path(doc, suffix)
            if relative not in release.written:
                _write(folder / relative, data)
                release.written[relative] = folder / relative
    entity_types = [r.name for r in entity_tables(release.package)]
    citing = [r.name for r in release.package.resources if cites_offsets(r)]
    conf = ["[entities]", *entity_types, *citing, "", "[relations]", "", "[events]", "", "[attributes]", ""]
    _write(folder / BRAT_CONF, "\n".join(conf))
    release.written[BRAT_CONF] = folder / BRAT_CONF


def export_annotations(release: ReleaseInput, folder: Path, batch: int | None = None) -> None:
    """W3C Web Annotation JSON-LD, spaCy/Prodigy JSONL and brat stand-off of every mention and citation.

    The annotations are made into text `batch` (BATCH) at a time, written straight from Arrow's buffers,
    so that memory holds one batch's text, not a whole file.
    """
    found, mentions = _collect(release)
    seeds = _Seeds(release_mentions(release).mentions.texts)
    written = _write_annotations(release, found, seeds, folder, batch)
    path = folder / SPANS
    with open(path, "wb") as out:
        _write_spans(found, mentions, seeds, out, batch)
    release.written[SPANS] = path
    release.written.update(sorted(written.items()))
    _brat_files(release, found, seeds, folder)

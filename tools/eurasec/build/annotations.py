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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.descriptor import DOCUMENT, END, NAME, QUOTE, START
from ..model.mentions import entity_tables, text_selectors
from ..model.paths import UnsafePathError, unsafe_name_reason
from ..model.schema import cites_offsets
from .context import ReleaseInput
from .mentions import release_mentions

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
CHUNK = 100_000  # annotations made into text at a time, so that memory stays bounded


def brat_path(document_id: str, suffix: str) -> str:
    """The release-relative path of a document's brat file; UnsafePathError for an id that is no plain name."""
    if reason := unsafe_name_reason(document_id):
        raise UnsafePathError(f"the document id {document_id!r} {reason}")
    return f"{BRAT_DIR}/{document_id}{suffix}"


@dataclass
class _Annotations:
    """Every annotation of the release as columns, sorted by document, start, end, kind, type and number."""

    documents: list[str]  # the documents with stored text, sorted; `document` indexes them
    texts: list[str]
    document: np.ndarray  # int64
    start: np.ndarray
    end: np.ndarray
    kind: np.ndarray  # MENTION or CITATION
    type: pa.Array  # the entity table (a mention) or the citing table (a citation)
    id: pa.Array  # "mention-<n>" or "<table>-<n>"
    bodies: pa.Array  # the annotation's bodies, as JSON
    note: pa.Array  # one line naming the entity or the fact (brat's AnnotatorNotes)
    kb_id: pa.Array  # a mention's "<entity table>/<id>"; a citation's is null

    def __len__(self) -> int:
        return len(self.document)

    def part(self, lo: int, hi: int) -> _Annotations:
        """The annotations lo to hi (the documents and texts stay whole)."""
        return _Annotations(
            self.documents,
            self.texts,
            *(a[lo:hi] for a in (self.document, self.start, self.end, self.kind)),
            *(a.slice(lo, hi - lo) for a in (self.type, self.id, self.bodies, self.note, self.kb_id)),
        )

    def parts(self, size: int | None = None) -> list[tuple[int, int]]:
        """(lo, hi) of consecutive parts of about `size` (CHUNK) annotations, each a run of whole documents."""
        import numpy as np

        size = size or CHUNK
        bounds = np.searchsorted(self.document, np.arange(len(self.documents) + 1)).tolist()
        found, lo = [], 0
        for at in bounds[1:]:
            if at - lo >= size or (at == bounds[-1] and at > lo):
                found.append((lo, at))
                lo = at
        return found


def _json_strings(values: pa.Array) -> pa.Array:
    """Each string as a JSON string literal (null as null): each distinct value encoded once, in C."""
    from json.encoder import encode_basestring

    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = values if pa.types.is_dictionary(values.type) else pc.dictionary_encode(values)
    literals = pa.array([encode_basestring(v) for v in encoded.dictionary.to_pylist()], pa.large_string())
    return pc.fill_null(literals.take(encoded.indices), "null")


def _join(*parts: Any) -> pa.Array:
    """Arrays and literals joined element-wise into one string each."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cast = [p.cast(pa.large_string()) if isinstance(p, pa.Array) else pa.scalar(p, pa.large_string()) for p in parts]
    return pc.binary_join_element_wise(*cast, pa.scalar("", pa.large_string()))


def _text(values: pa.Array) -> pa.Array:
    """Any column as one-line strings ("" for null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(values.type):
        values = values.cast(pa.string())
    text = pc.fill_null(values.cast(pa.large_string()), "")
    return pc.replace_substring_regex(text, r"\s+", " ")


def _entity_names(release: ReleaseInput, tables: pa.Array, ids: pa.Array) -> pa.Array:
    """The name (field of role `name`) of each (entity table, id)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = pa.nulls(len(ids), pa.large_string())
    for resource in entity_tables(release.package):
        name = resource.role_field(NAME)
        table = release.tables.get(resource.name)
        if name is None or table is None:
            continue
        at = pc.index_in(ids, value_set=table.column(resource.primary_key[0]).combine_chunks().cast(pa.string()))
        these = _text(table.column(name.name).combine_chunks()).take(at)
        names = pc.if_else(pc.equal(tables, resource.name), these, names)
    return names


def _citations(release: ReleaseInput, documents: list[str]) -> list[dict[str, Any]]:
    """Every citing row with offsets, of a document with stored text, as columns per table."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    entity_names = {r.name for r in entity_tables(release.package)}
    doc_values = pa.array(documents, pa.string())
    found = []
    for resource in release.package.resources:
        if not cites_offsets(resource):
            continue
        table = release.tables[resource.name]
        document, start, end, quote = (resource.role_field(role) for role in (DOCUMENT, START, END, QUOTE))
        assert document and start and end and quote  # cites_offsets made sure
        doc = pc.fill_null(pc.index_in(table.column(document.name), value_set=doc_values), -1).to_numpy()
        starts = table.column(start.name).combine_chunks()
        ends = table.column(end.name).combine_chunks()
        keep = (doc >= 0) & ~pc.is_null(starts).to_numpy(zero_copy_only=False)
        keep &= ~pc.is_null(ends).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(keep)
        if not len(rows):
            continue
        take = pa.array(rows, pa.int64())
        roles = {document.name, start.name, end.name, quote.name}
        described = [f for f in resource.fields if f.name not in roles]
        pieces = []  # "; field=value" of each filled field that says what the fact is
        for f in described:
            value = _text(table.column(f.name).combine_chunks().take(take))
            piece = _join(f"; {f.name}=", value)
            pieces.append(pc.if_else(pc.equal(value, ""), pa.scalar("", pa.large_string()), piece))
        entities = []
        for fk in resource.foreign_keys:
            if len(fk.fields) == 1 and fk.resource in entity_names:
                entities.append((fk.resource, table.column(fk.fields[0]).combine_chunks().take(take)))
        found.append(
            {
                "table": resource.name,
                "rows": rows,
                "document": doc[rows].astype(np.int64),
                "start": starts.take(take).to_numpy().astype(np.int64),
                "end": ends.take(take).to_numpy().astype(np.int64),
                "pieces": pieces,
                "entities": entities,
            }
        )
    return found


def _collect(release: ReleaseInput) -> _Annotations:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    made = release_mentions(release)
    found = made.mentions
    documents, texts = found.documents, found.texts
    identifying = '{"type":"TextualBody","purpose":"identifying","value":'
    # the mentions
    tables, ids = found.entities.columns(found.entity)
    kb_id = _join(tables, "/", ids)
    numbers = pa.array(np.arange(1, len(found) + 1, dtype=np.int64)).cast(pa.string())
    bodies = _join(
        "[",
        identifying,
        _json_strings(kb_id),
        '},{"type":"TextualBody","purpose":"tagging","value":',
        _json_strings(_entity_names(release, tables, ids)),
        "}]",
    )
    parts = {
        "document": [found.document],
        "start": [found.start],
        "end": [found.end],
        "kind": [np.full(len(found), MENTION, np.int64)],
        "type": [tables.cast(pa.large_string())],
        "id": [_join("mention-", numbers)],
        "bodies": [bodies],
        "note": [kb_id],
        "kb_id": [kb_id],
        "number": [np.arange(len(found), dtype=np.int64)],
    }
    # the citing rows
    for cited in _citations(release, documents):
        count = len(cited["rows"])
        n = pa.array(cited["rows"] + 1).cast(pa.string())
        fields = _join(*cited["pieces"]) if cited["pieces"] else pa.array([""] * count, pa.large_string())
        fields = pc.if_else(pc.starts_with(fields, "; "), pc.utf8_slice_codeunits(fields, 2), fields)
        note = _join(f"{cited['table']} ", n, ": ", fields)
        body_parts: list[Any] = ['[{"type":"TextualBody","purpose":"describing","value":', _json_strings(note), "}"]
        for target, column in cited["entities"]:
            literal = _join(f",{identifying}", _json_strings(_join(f"{target}/", column)), "}")
            body_parts.append(pc.if_else(pc.is_null(column), pa.scalar("", pa.large_string()), literal))
        body_parts.append("]")
        parts["document"].append(cited["document"])
        parts["start"].append(cited["start"])
        parts["end"].append(cited["end"])
        parts["kind"].append(np.full(count, CITATION, np.int64))
        parts["type"].append(pa.array([cited["table"]] * count, pa.large_string()))
        parts["id"].append(_join(f"{cited['table']}-", n))
        parts["bodies"].append(_join(*body_parts))
        parts["note"].append(note)
        parts["kb_id"].append(pa.nulls(count, pa.large_string()))
        parts["number"].append(cited["rows"].astype(np.int64))
    columns = {
        key: (np.concatenate(value) if isinstance(value[0], np.ndarray) else pa.concat_arrays(value))
        for key, value in parts.items()
    }
    # sorted by document, place, kind, type and number: the type's rank among the sorted types
    type_names = pc.unique(columns["type"])
    rank = pc.index_in(columns["type"], value_set=type_names.take(pc.sort_indices(type_names))).to_numpy()
    order = np.lexsort(
        (columns["number"], rank, columns["kind"], columns["end"], columns["start"], columns["document"])
    )
    take = pa.array(order, pa.int64())
    return _Annotations(
        documents=documents,
        texts=texts,
        document=columns["document"][order],
        start=columns["start"][order],
        end=columns["end"][order],
        kind=columns["kind"][order],
        type=columns["type"].take(take),
        id=columns["id"].take(take),
        bodies=columns["bodies"].take(take),
        note=columns["note"].take(take),
        kb_id=columns["kb_id"].take(take),
    )


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


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _buffer(values: pa.Array) -> memoryview:
    """The bytes of a large_string array's values, one after another (a view of Arrow's buffer)."""
    import numpy as np

    if not len(values):
        return memoryview(b"")
    offsets = np.frombuffer(values.buffers()[1], np.int64)[values.offset : values.offset + len(values) + 1]
    return memoryview(values.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


def _web_lines(found: _Annotations, selectors: tuple[pa.Array, ...], sources: pa.Array, scopes: pa.Array) -> pa.Array:
    """One line of JSON per annotation: a W3C Web Annotation."""
    import numpy as np
    import pyarrow as pa

    exact, prefix, suffix = (_json_strings(a) for a in selectors)
    take = pa.array(found.document, pa.int64())
    motivation = pa.array(np.where(found.kind == MENTION, "identifying", "describing"), pa.large_string())
    return _join(
        '{"id":"#',
        found.id,
        '","type":"Annotation","motivation":"',
        motivation,
        '","body":',
        found.bodies,
        ',"target":{"source":',
        sources.take(take),
        scopes.take(take),
        ',"selector":[{"type":"TextQuoteSelector","exact":',
        exact,
        ',"prefix":',
        prefix,
        ',"suffix":',
        suffix,
        '},{"type":"TextPositionSelector","start":',
        pa.array(found.start).cast(pa.string()),
        ',"end":',
        pa.array(found.end).cast(pa.string()),
        "}]}}",
    )


def _collection_head(release: ReleaseInput, total: int) -> str:
    raw = release.package.raw
    label = f"{raw.get('title') or release.package.name}, version {release.version}: every mention and citation"
    return (
        "{"
        f'"@context":{json.dumps(W3C_CONTEXT)},"type":"AnnotationCollection",'
        f'"label":{json.dumps(label, ensure_ascii=False)},"total":{total},'
        f'"first":{{"type":"AnnotationPage","startIndex":0,"items":[\n'
    )


def _spans(release: ReleaseInput, found: _Annotations, folder: Path) -> None:
    import numpy as np

    mentions = np.flatnonzero(found.kind == MENTION)
    types, kb_ids = found.type.take(mentions).to_pylist(), found.kb_id.take(mentions).to_pylist()
    per_document: list[list[dict[str, Any]]] = [[] for _ in found.documents]
    for i, d, s, e in zip(
        range(len(mentions)),
        found.document[mentions].tolist(),
        found.start[mentions].tolist(),
        found.end[mentions].tolist(),
        strict=True,
    ):
        per_document[d].append({"start": s, "end": e, "label": types[i], "kb_id": kb_ids[i]})
    lines = [
        json.dumps({"text": text, "spans": spans, "meta": {"document_id": doc}}, ensure_ascii=False) + "\n"
        for doc, text, spans in zip(found.documents, found.texts, per_document, strict=True)
    ]
    _write(folder / SPANS, "".join(lines))
    release.written[SPANS] = folder / SPANS


_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # where str.splitlines breaks a line


def _fragments(text: str, start: int, end: int) -> tuple[str, str]:
    """brat's offsets and text of a span: one fragment per line it covers (brat's spans never cross a line
    break), its text the fragments' texts joined by a space."""
    pieces = []
    at = start
    for line in text[start:end].splitlines(keepends=True):
        body = line.rstrip(_LINE_BREAKS)
        if body:
            pieces.append((at, at + len(body)))
        at += len(line)
    return ";".join(f"{a} {b}" for a, b in pieces), " ".join(text[a:b] for a, b in pieces)


def _brat_part(found: _Annotations, exact: pa.Array, folder: Path, written: dict[str, Path]) -> None:
    """The .txt and .ann of each document whose annotations are all in `found`."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    bounds = np.searchsorted(found.document, np.arange(len(found.documents) + 1))
    k = pa.array(np.arange(len(found), dtype=np.int64) - bounds[:-1][found.document] + 1).cast(pa.string())
    offsets = _join(pa.array(found.start).cast(pa.string()), " ", pa.array(found.end).cast(pa.string()))
    shown = exact.cast(pa.large_string())
    broken = np.flatnonzero(pc.match_substring_regex(shown, "[" + _re2_class(_LINE_BREAKS) + "]").to_numpy(False))
    if len(broken):  # a passage across lines: its fragments, worked out one by one (there are few)
        parts = [
            _fragments(found.texts[d], s, e)
            for d, s, e in zip(
                found.document[broken].tolist(), found.start[broken].tolist(), found.end[broken].tolist(), strict=True
            )
        ]
        mask = pa.array(np.isin(np.arange(len(found)), broken))
        offsets = pc.replace_with_mask(offsets, mask, pa.array([p[0] for p in parts], pa.large_string()))
        shown = pc.replace_with_mask(shown, mask, pa.array([p[1] for p in parts], pa.large_string()))
    tab, line = "\t", "\n"
    lines = _join("T", k, tab, found.type, " ", offsets, tab, shown, line + "#", k, f"{tab}AnnotatorNotes T", k, tab)
    lines = _join(lines, _text(found.note), line)
    for number in np.unique(found.document).tolist():
        doc, text = found.documents[number], found.texts[number]
        for suffix, data in (
            (".txt", memoryview(text.encode("utf-8"))),
            (".ann", _buffer(lines[bounds[number] : bounds[number + 1]])),
        ):
            relative = brat_path(doc, suffix)
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)  # the seed's text as it is, line breaks and all
            written[relative] = path


def _brat_files(release: ReleaseInput, found: _Annotations, folder: Path) -> None:
    """A document with stored text and nothing to annotate still gets its two files; and the types' declaration."""
    for doc, text in zip(found.documents, found.texts, strict=True):
        for suffix, data in ((".txt", text), (".ann", "")):
            relative = brat_path(doc, suffix)
            if relative not in release.written:
                _write(folder / relative, data)
                release.written[relative] = folder / relative
    entity_types = [r.name for r in entity_tables(release.package)]
    citing = [r.name for r in release.package.resources if cites_offsets(r)]
    conf = ["[entities]", *entity_types, *citing, "", "[relations]", "", "[events]", "", "[attributes]", ""]
    _write(folder / BRAT_CONF, "\n".join(conf))
    release.written[BRAT_CONF] = folder / BRAT_CONF


def _re2_class(chars: str) -> str:
    return "".join(f"\\x{{{ord(c):x}}}" for c in chars)


def export_annotations(release: ReleaseInput, folder: Path) -> None:
    """W3C Web Annotation JSON-LD, spaCy/Prodigy JSONL and brat stand-off of every mention and citation.

    The annotations are made into text a part at a time (CHUNK of them, whole documents), so that
    memory holds one part's text, not the whole JSON-LD.
    """
    import pyarrow as pa

    found = _collect(release)
    sources = pa.array(
        [
            json.dumps(brat_path(d, ".txt").removeprefix(f"{ANNOTATIONS_DIR}/"), ensure_ascii=False)
            for d in found.documents
        ],
        pa.large_string(),
    )
    scopes = pa.array(
        [f',"scope":{json.dumps(s, ensure_ascii=False)}' if s else "" for s in _scopes(release, found.documents)],
        pa.large_string(),
    )
    path = folder / WEB_ANNOTATIONS
    path.parent.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    with open(path, "wb") as out:
        out.write(_collection_head(release, len(found)).encode("utf-8"))
        for number, (lo, hi) in enumerate(found.parts()):
            part = found.part(lo, hi)
            selectors = text_selectors(part.texts, part.document, part.start, part.end)
            lines = _web_lines(part, selectors, sources, scopes)
            if number:
                out.write(b",\n")
            out.write(_buffer(_join(lines[:-1], ",\n")))
            out.write(_buffer(lines[-1:]))
            _brat_part(part, selectors[0], folder, written)
        out.write(b"\n]}}\n")
    release.written[WEB_ANNOTATIONS] = path
    _spans(release, found, folder)
    release.written.update(sorted(written.items()))
    _brat_files(release, found, folder)

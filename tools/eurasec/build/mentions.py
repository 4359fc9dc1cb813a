"""The release's mention index, found once per build and shared by every exporter that needs it.

The SQLite and Parquet exporters store it as the derived table `mentions` (model/schema.py's
mentions_resource); the annotation exports (build/annotations.py) lay it over the seeds. They run in
two lanes at once, so the index is made by whichever asks first, under a lock, and kept for the others.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..checks.seeds import MAX_SEED_BYTES
from ..model.descriptor import NAME, SEED_PATH, Package, Resource
from ..model.mentions import MentionArrays, alias_tables, arrow_columns, collect_names, entity_tables, index_mentions
from ..model.paths import read_regular, resolve_inside
from ..model.schema import arrow_schema, mention_entity_columns, mentions_resource
from ..model.utf8 import code_points
from .context import ExportCheckError, ReleaseInput

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


@dataclass
class ReleaseMentions:
    texts: dict[str, str]  # document id -> its seed's text, for every document with a stored seed
    mentions: MentionArrays
    table: pa.Table | None = None  # the derived table, once made (mentions_table)


_LOCK = threading.Lock()
_MADE: dict[int, ReleaseMentions] = {}  # id(release) -> its mentions, while the release lives


def seed_texts(package: Package, tables: dict[str, pa.Table]) -> dict[str, str]:
    """Document id -> the text of its seed (UTF-8, byte-exact, as validate read it), for each document
    whose seed path (role `seed-path`) is set. The path was checked by validate and by package_files;
    it is resolved inside the package again here, never through a symlink."""
    documents = package.documents
    if documents is None or len(documents.primary_key) != 1:
        return {}
    path_field = documents.role_field(SEED_PATH)
    table = tables.get(documents.name)
    if path_field is None or table is None:
        return {}
    ids = table.column(documents.primary_key[0]).to_pylist()
    paths = table.column(path_field.name).to_pylist()
    texts = {}
    for doc_id, path in zip(ids, paths, strict=True):
        if path:
            seed = resolve_inside(package.root, path, allow_symlinks=False)
            try:
                texts[str(doc_id)] = read_regular(seed, MAX_SEED_BYTES).decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ExportCheckError(f"the seed {path} of a validated package cannot be read: {exc}") from None
    return texts


def release_mentions(release: ReleaseInput) -> ReleaseMentions:
    """The release's seeds and their mentions, made on first use and shared by the exporters."""
    key = id(release)
    with _LOCK:
        made = _MADE.get(key)
        if made is None:
            texts = seed_texts(release.package, release.tables)
            found = _validated(release, texts)
            if found is None:
                found = index_mentions(collect_names(release.package, arrow_columns(release.tables)), texts)
            made = ReleaseMentions(texts, found)
            _MADE[key] = made
            weakref.finalize(release, _MADE.pop, key, None)
        return made


def _validated(release: ReleaseInput, texts: dict[str, str]) -> MentionArrays | None:
    """The index validate made (check_mentions), where it is the one the release would make: the same seeds,
    and names read from text fields (their typed values are their text, as validate read them)."""
    found = release.found_mentions
    if found is None or found.documents != sorted(texts):
        return None
    if any(found.texts[number] != texts[doc] for number, doc in enumerate(found.documents)):
        return None

    def text(resource: Resource, names: list[str]) -> bool:
        types = {f.name: f.type for f in resource.fields}
        return all(types.get(name) == "string" for name in names)

    for resource in entity_tables(release.package):
        name = resource.role_field(NAME)
        if not text(resource, [resource.primary_key[0], *([name.name] if name is not None else [])]):
            return None
    for table in alias_tables(release.package):
        if not text(table.resource, [table.alias, *(field for field, _ in table.entities)]):
            return None
    return found


def mentions_table(release: ReleaseInput) -> pa.Table | None:
    """The derived table `mentions` as typed Arrow (model/schema.py's mentions_resource), or None when
    the package has no documents or no entity tables. Made once, shared by the exporters."""
    resources = release.package.resources
    resource = mentions_resource(resources)
    if resource is None:
        return None
    made = release_mentions(release)
    with _LOCK:
        if made.table is None:
            made.table = _table(made.mentions, resource, mention_entity_columns(resources))
        return made.table


def _table(found: MentionArrays, resource: Resource, entity_columns: dict[str, str]) -> pa.Table:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    exact, prefix, suffix = (a.cast(pa.string()) for a in found.exact_prefix_suffix())
    tables, ids = found.entities.columns(found.entity)
    document = pa.array(found.documents, pa.string()).take(pa.array(found.document, pa.int64()))
    columns: dict[str, pa.Array] = {
        "id": pa.array(np.arange(1, len(found) + 1, dtype=np.int64)),
        resource.fields[1].name: document,
        "start": pa.array(found.start, pa.int64()),
        "end": pa.array(found.end, pa.int64()),
        "exact": exact,
        "prefix": prefix,
        "suffix": suffix,
    }
    null = pa.scalar(None, pa.string())
    for table, column in entity_columns.items():
        columns[column] = pc.if_else(pc.equal(tables, table), ids, null)
    return pa.table(columns).cast(arrow_schema(resource))


# --- text as columns: escaping each distinct value once, slicing escaped texts, joining ------------------
# The annotation exports and the reading view write millions of short strings; these make them column-wise,
# with no Python code per row: a value is escaped once however often it repeats, and a passage of a seed is a
# slice of the seed escaped once.

_JSON_SHORT = {0x22: 2, 0x5C: 2, 0x0A: 2, 0x0D: 2, 0x09: 2, 0x08: 2, 0x0C: 2}  # \" \\ \n \r \t \b \f
_HTML = {0x26: 5, 0x3C: 4, 0x3E: 4, 0x22: 6, 0x27: 6, 0x0D: 5}  # &amp; &lt; &gt; &quot; &#x27; &#13;
JSON, JSON_ASCII, HTML, RAW = "json", "json-ascii", "html", "raw"  # the escapes of escape() and EscapedText


def escape_one(value: str, how: str) -> str:
    """One string escaped: JSON (as json.dumps with ensure_ascii=False, without the quotes), JSON for a
    <script> element (ensure_ascii=True, and <, > and & as \\u escapes too), or HTML text and attribute
    values (html.escape(quote=True), and a carriage return as &#13;, which an HTML parser would fold)."""
    import html
    from json.encoder import encode_basestring, encode_basestring_ascii

    if how == RAW:
        return value
    if how == JSON:
        return encode_basestring(value)[1:-1]
    if how == JSON_ASCII:
        text = encode_basestring_ascii(value)[1:-1]
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return html.escape(value, quote=True).replace("\r", "&#13;")


_NEEDS = {  # RE2: a value that holds one of these needs escape_one; any other is its own escape
    JSON: '[\\x00-\\x1f"\\\\]',
    JSON_ASCII: '[^\\x20-\\x7e]|["\\\\<>&]',
    HTML: "[&<>\"'\\r]",
}


def escape(values: pa.Array, how: str) -> pa.Array:
    """Each string escaped (escape_one), null as ""; each distinct value escaped once, by Python only
    where it holds a character to escape."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if how == RAW:
        return pc.fill_null(values.cast(pa.large_string()), "")
    if pa.types.is_dictionary(values.type):
        encoded = values
    else:
        encoded = pc.dictionary_encode(values.cast(pa.large_string()))
    distinct = encoded.dictionary.cast(pa.large_string())
    if len(distinct):
        needs = np.flatnonzero(pc.match_substring_regex(distinct, _NEEDS[how]).to_numpy(zero_copy_only=False))
        if len(needs):
            escaped = [escape_one(v, how) for v in distinct.take(pa.array(needs)).to_pylist()]
            mask = np.zeros(len(distinct), bool)
            mask[needs] = True
            distinct = pc.replace_with_mask(distinct, pa.array(mask), pa.array(escaped, pa.large_string()))
    return pc.fill_null(distinct.take(encoded.indices), "")


def join(*parts: Any) -> pa.Array:
    """Arrays and literals (str) joined element-wise into one large_string each (a null part makes null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = [p for p in parts if isinstance(p, pa.Array)]
    if not arrays:
        raise ValueError("join needs an array")
    cast = [p.cast(pa.large_string()) if isinstance(p, pa.Array) else pa.scalar(p, pa.large_string()) for p in parts]
    return pc.binary_join_element_wise(*cast, pa.scalar("", pa.large_string()))


def numbers(values: Any) -> pa.Array:
    """Integers as decimal strings."""
    import numpy as np
    import pyarrow as pa

    return pa.array(np.asarray(values, np.int64)).cast(pa.large_string())


def buffer(values: pa.Array) -> memoryview:
    """The bytes of a large_string array's values, one after another (a view of Arrow's buffer, no copy)."""
    import numpy as np

    if not len(values):
        return memoryview(b"")
    offsets = np.frombuffer(values.buffers()[1], np.int64)[values.offset : values.offset + len(values) + 1]
    data = values.buffers()[2]
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])] if data is not None else memoryview(b"")


def gather(pool: pa.Array, order: Any) -> memoryview:
    """The values of `pool` at `order`, one after another, as bytes: each piece copied once, in C."""
    import numpy as np
    import pyarrow as pa

    return buffer(pool.cast(pa.large_string()).take(pa.array(np.asarray(order, np.int64))))


class EscapedText:
    """A text escaped once (escape_one), with where each code point's escape begins in its UTF-8: any
    passage of the text, escaped, is a slice of these bytes."""

    def __init__(self, text: str, how: str) -> None:
        import numpy as np

        cps = code_points(text)
        if how == JSON_ASCII:
            size = np.where(cps >= 0x10000, 12, np.where((cps < 0x20) | (cps >= 0x7F), 6, 1))
            for char in b"<>&":
                size[cps == char] = 6
        else:
            size = 1 + (cps >= 0x80) + (cps >= 0x800) + (cps >= 0x10000)
            if how == JSON:
                size[cps < 0x20] = 6
        escapes = _HTML if how == HTML else _JSON_SHORT if how in (JSON, JSON_ASCII) else {}
        for char, length in escapes.items():
            size[cps == char] = length
        self.data = escape_one(text, how).encode("utf-8", "surrogatepass")
        self.at = np.zeros(len(cps) + 1, np.int64)  # code point -> byte of its escape
        np.cumsum(size, out=self.at[1:])
        if int(self.at[-1]) != len(self.data):
            raise ExportCheckError(f"the escaped text ({how}) is {len(self.data)} bytes, not {int(self.at[-1])}")
        self.bytes = np.frombuffer(self.data, np.uint8)

    def cuts(self, points: np.ndarray) -> pa.Array:
        """The passages between consecutive points (code points, sorted), escaped: no copy."""
        import numpy as np
        import pyarrow as pa

        offsets = self.at[np.asarray(points, np.int64)]
        return pa.LargeStringArray.from_buffers(
            max(len(offsets) - 1, 0), pa.py_buffer(offsets), pa.py_buffer(self.data)
        )

    def slices(self, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
        """The passages [starts[i], ends[i]) of the text (any, overlapping or not), escaped; each distinct
        passage is copied once, then repeated."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
        if not len(starts):
            return pa.array([], pa.large_string())
        width = len(self.at)
        encoded = pc.dictionary_encode(pa.array(starts * width + ends))
        distinct = encoded.dictionary.to_numpy()
        a, b = self.at[distinct // width], self.at[distinct % width]
        lengths = b - a
        bounds = np.zeros(len(a) + 1, np.int64)
        np.cumsum(lengths, out=bounds[1:])
        index = np.arange(int(bounds[-1]), dtype=np.int64) + np.repeat(a - bounds[:-1], lengths)
        data = self.bytes[index]
        pieces = pa.LargeStringArray.from_buffers(len(a), pa.py_buffer(bounds), pa.py_buffer(data))
        return pieces.take(encoded.indices)


def escape_rows(values: pa.Array, how: str) -> pa.Array:
    """Each string escaped (escape_one), null as "", for values that seldom repeat (escape() would hash
    them all for nothing): Python only for the rows that hold a character to escape."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(values.type):
        return escape(values, how)
    text = pc.fill_null(values.cast(pa.large_string()), "")
    if how == RAW or not len(text):
        return text
    needs = np.flatnonzero(pc.match_substring_regex(text, _NEEDS[how]).to_numpy(zero_copy_only=False))
    if not len(needs):
        return text
    escaped = [escape_one(v, how) for v in text.take(pa.array(needs)).to_pylist()]
    mask = np.zeros(len(text), bool)
    mask[needs] = True
    return pc.replace_with_mask(text, pa.array(mask), pa.array(escaped, pa.large_string()))

"""The mention index: every place in a seed where an entity is named, by its name or an alias.

An entity table is a resource with a field of role `name` and a one-field primary key; an alias
table a resource with a field of role `alias`, whose foreign keys into entity tables say which
entity each alias names. The names of an entity are its `name` and every alias naming it, from
any document. The matching rules (docs/curation.md#mentions has them for curators):

- Words: a word is a run of word characters, as Python's `\\w` has them (letters, digits, the
  underscore). A name matches only from the first character of a word to the last of a word:
  never inside a longer word ("Russia" is not in "Russian"; it is in "Russia's" and in
  "Belarus-Russia"). A name that begins or ends with another character ("(CSTO)") must merely not
  continue a word on the side where it has a word character.
- Case: exact, but for the name's first character, which matches in either case: "Major players"
  is named by "major players" in mid-sentence, "concept of Eurasian security" by "Concept of
  Eurasian security" at a sentence's start. "UN" is not in "un-".
- White space: any white-space character of the text (a line break, a no-break space) matches a
  space of the name, one for one.
- The article: names are stored without a leading "the", and "the" is a word of its own, so "the
  Union State" holds a mention of "Union State" (from "U" to "e", without "the").
- Plurals and other inflections are not matched: a form the text uses is found once it is an alias.
- The longest name wins: where mentions overlap, the longest is kept and every mention that
  overlaps it is dropped, whichever entity it names ("Minsk" in "Minsk International Conference on
  Eurasian Security", "UN" in "UN Security Council", "Union State" at the end of "… Security
  Guarantees within the Union State"); of two overlapping mentions of equal length, the first.
- A name shared by several entities makes one mention of each, at the same place.

Offsets are in code points of the text, end exclusive (the W3C TextPositionSelector): text[start:end]
== exact; prefix and suffix are up to PREFIX_LENGTH code points on each side (TextQuoteSelector).

How it is fast: names and texts are turned into arrays of code points (numpy), cut into words, and
every candidate passage (a word, or k words from one, for every number k of words a name has, where
the first word begins such a name) gets a code in the same hash pass as the names' keys (pyarrow's
dictionary_encode): a candidate with a name's code is a mention. No Python code runs per word or per
name, so a million-row package (376,000 names and aliases, 3 MB of text) is indexed in about a
quarter of a second.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .descriptor import ALIAS, NAME, Package, Resource
from .utf8 import code_points, decode, encode, narrowest, text_of

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

PREFIX_LENGTH = 32  # code points of context on each side of a mention (prefix, suffix)
SPACE = 0x20


@dataclass(frozen=True)
class Mention:
    document_id: str
    start: int  # code points, end exclusive
    end: int
    exact: str  # == text[start:end]
    prefix: str  # up to PREFIX_LENGTH code points before
    suffix: str  # up to PREFIX_LENGTH code points after
    entity_table: str  # the entity table's resource name ("actors", "organizations", "initiatives")
    entity_id: str


@dataclass(frozen=True)
class AliasTable:
    resource: Resource
    alias: str  # the field of role `alias`
    entities: tuple[tuple[str, str], ...]  # (field, entity table) of each foreign key into an entity table


def _resources(package: Package | Sequence[Resource]) -> Sequence[Resource]:
    return package.resources if isinstance(package, Package) else package


def entity_tables(package: Package | Sequence[Resource]) -> list[Resource]:
    """The tables of entities: a field of role `name` and a one-field primary key, in descriptor order."""
    return [r for r in _resources(package) if r.role_field(NAME) is not None and len(r.primary_key) == 1]


def alias_tables(package: Package | Sequence[Resource]) -> list[AliasTable]:
    """The tables of aliases (a field of role `alias`) with their foreign keys into entity tables."""
    entities = {r.name for r in entity_tables(package)}
    found = []
    for resource in _resources(package):
        alias = resource.role_field(ALIAS)
        if alias is None:
            continue
        fks = tuple(
            (fk.fields[0], fk.resource)
            for fk in resource.foreign_keys
            if len(fk.fields) == 1 and fk.resource in entities
        )
        found.append(AliasTable(resource, alias.name, fks))
    return found


# A table's column as an Arrow array of strings (null or "" for an empty cell), None when there is none.
Column = Callable[[Resource, str], "pa.Array | None"]


def arrow_columns(tables: Mapping[str, Any]) -> Column:
    """The Column of Arrow tables (resource name -> pa.Table), any type cast to strings."""
    import pyarrow as pa

    def column(resource: Resource, name: str) -> pa.Array | None:
        table = tables.get(resource.name)
        if table is None or name not in table.column_names:
            return None
        values = table.column(name)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if not pa.types.is_string(values.type):
            values = values.cast(pa.string())
        return values

    return column


@dataclass
class Entities:
    """The entities of the entity tables, numbered: each table's ids sorted, the tables in name order."""

    tables: list[str]
    ids: list[pa.Array]  # per table, its sorted ids
    bases: np.ndarray  # int64: the number of the first entity of each table, and the total at the end

    def __len__(self) -> int:
        return int(self.bases[-1])

    def __getitem__(self, number: int) -> tuple[str, str]:
        import numpy as np

        table = int(np.searchsorted(self.bases, number, side="right")) - 1
        return self.tables[table], self.ids[table][number - int(self.bases[table])].as_py()

    def columns(self, numbers: np.ndarray) -> tuple[pa.Array, pa.Array]:
        """The entity table and the id of each numbered entity, as Arrow string arrays."""
        import numpy as np
        import pyarrow as pa

        table = np.searchsorted(self.bases, numbers, side="right") - 1
        ids = pa.concat_arrays([i.cast(pa.string()) for i in self.ids]) if self.ids else pa.array([], pa.string())
        names = pa.DictionaryArray.from_arrays(pa.array(table, pa.int32()), pa.array(self.tables, pa.string()))
        return names.cast(pa.string()), ids.take(pa.array(numbers, pa.int64()))


@dataclass
class Names:
    """Every name of every entity: name i is codepoints[bounds[i]:bounds[i + 1]] and names entity[i]."""

    entities: Entities
    codepoints: np.ndarray  # the names one after another (utf8.code_points: uint8, uint16 or uint32)
    bounds: np.ndarray  # int64, len(names) + 1
    entity: np.ndarray  # int64, per name

    @property
    def names(self) -> list[str]:
        text = text_of(self.codepoints)
        return [text[a:b] for a, b in zip(self.bounds[:-1].tolist(), self.bounds[1:].tolist(), strict=True)]


def _sorted_unique(ids: pa.Array) -> pa.Array:
    """The distinct ids, sorted; a column already in strictly increasing order (a table in canonical
    form, sorted by its key) is taken as it is, without a hash pass and a sort."""
    import pyarrow.compute as pc

    if ids.null_count == 0 and (len(ids) < 2 or pc.all(pc.greater(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py()):
        return ids
    unique = pc.unique(ids).drop_null()
    return unique.take(pc.sort_indices(unique))


def collect_names(package: Package, column: Column) -> Names:
    """The names of every entity: its `name` and each alias naming it (empty ones left out)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    # Each entity table: its ids (distinct, sorted, numbered from the table's base) and its names.
    tables: list[str] = []
    sorted_ids: list[pa.Array] = []
    named: list[tuple[str, pa.Array, pa.Array]] = []  # (entity table, ids, names)
    for resource in sorted(entity_tables(package), key=lambda r: r.name):
        name_field = resource.role_field(NAME)
        assert name_field is not None
        ids, values = column(resource, resource.primary_key[0]), column(resource, name_field.name)
        if ids is None or values is None:
            continue
        ids = ids.cast(pa.string())
        filled = pc.fill_null(pc.not_equal(ids, ""), False)
        tables.append(resource.name)
        sorted_ids.append(_sorted_unique(ids.filter(filled)))
        named.append((resource.name, ids, values))
    bases = np.zeros(len(tables) + 1, np.int64)
    np.cumsum([len(i) for i in sorted_ids], out=bases[1:])
    entities = Entities(tables, sorted_ids, bases)

    numbers: list[np.ndarray] = []
    names: list[pa.Array] = []

    def add(table_name: str, ids: pa.Array, values: pa.Array, keep: np.ndarray | None = None) -> None:
        """The rows that name an entity of the table (a known id, a name that is not empty)."""
        at = tables.index(table_name)
        number = _indices(pc.index_in(ids, value_set=sorted_ids[at]))
        filled = pc.fill_null(pc.not_equal(values, ""), False).to_numpy(zero_copy_only=False)
        wanted = (number >= 0) & filled & (keep if keep is not None else True)
        numbers.append(number[wanted] + bases[at])
        names.append(values.filter(pa.array(wanted)).cast(pa.large_string()))

    for table_name, ids, values in named:
        add(table_name, ids, values)
    for table in alias_tables(package):
        aliases = column(table.resource, table.alias)
        if aliases is None:
            continue
        targets = [(column(table.resource, field_name), target) for field_name, target in table.entities]
        # An alias row names one entity; one that fills several targets, or none, names nothing (alias-target).
        filled = [pc.fill_null(pc.not_equal(ids, ""), False) for ids, _ in targets if ids is not None]
        if not filled:
            continue
        one = np.sum([f.to_numpy(zero_copy_only=False) for f in filled], axis=0) == 1
        for ids, target in targets:
            if ids is not None and target in tables:
                # An alias of an id its table lacks names nothing either (validate says foreign-key).
                add(target, ids.cast(pa.string()), aliases, one)
    entity = np.concatenate(numbers) if numbers else np.zeros(0, np.int64)
    values = pa.concat_arrays(names) if names else pa.array([], pa.large_string())
    codepoints, bounds = _arrow_codepoints(values)
    return Names(entities, codepoints, bounds, entity)


def _arrow_codepoints(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The code points of a large_string array without nulls, one value after another, and the bounds of each."""
    import numpy as np

    offsets = np.frombuffer(values.buffers()[1], np.int64)[values.offset : values.offset + len(values) + 1]
    if not len(offsets):
        return np.zeros(0, np.uint8), np.zeros(1, np.int64)
    data = (
        np.frombuffer(values.buffers()[2], np.uint8)[offsets[0] : offsets[-1]] if len(values) else np.zeros(0, np.uint8)
    )
    cps, starts = decode(data)
    bounds = offsets - offsets[0]
    return cps, bounds if starts is None else np.searchsorted(starts, bounds)


def entity_names(package: Package, column: Column) -> dict[tuple[str, str], set[str]]:
    """(entity table, id) -> every name of the entity."""
    found = collect_names(package, column)
    names: dict[tuple[str, str], set[str]] = {}
    for name, number in zip(found.names, found.entity.tolist(), strict=True):
        names.setdefault(found.entities[number], set()).add(name)
    return names


# --- code points -----------------------------------------------------------------------------


@dataclass
class _Chars:
    """What each code point is, for the code points at hand: a word character, white space, its lower case."""

    word: np.ndarray  # bool, by code point
    key: np.ndarray  # white space as a space, anything else itself (the narrowest width that holds them)
    lower: np.ndarray  # the lower case, where it is one code point; else itself


def _chars(*arrays: np.ndarray) -> _Chars:
    import numpy as np

    top = max((int(a.max()) for a in arrays if len(a)), default=0) + 1
    present = np.zeros(top, bool)
    for a in arrays:
        present[a] = True
    word = np.zeros(top, bool)
    key = np.arange(top, dtype=np.uint32)
    lower = np.arange(top, dtype=np.uint32)
    for cp in np.flatnonzero(present).tolist():
        c = chr(cp)
        word[cp] = c.isalnum() or c == "_"  # exactly what `\w` of Python's re matches
        if c.isspace():
            key[cp] = SPACE
        low = c.lower()
        if len(low) == 1:
            lower[cp] = ord(low)
    width = narrowest(np.concatenate([key, lower]))  # keys as narrow as the code points: less memory to touch
    return _Chars(word, key.astype(width.dtype), lower.astype(width.dtype))


def _words(word: np.ndarray, segment_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the runs of word characters, none crossing a segment's start."""
    import numpy as np

    n = len(word)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    inside = segment_starts[(segment_starts > 0) & (segment_starts < n)]
    # One scratch array, reused in place: fresh memory costs more here than the work done in it.
    edge = np.empty(n, bool)
    edge[0] = True
    np.logical_not(word[:-1], out=edge[1:])  # the character before is no word character...
    edge[inside] = True  # ...or belongs to the segment before
    np.logical_and(word, edge, out=edge)
    starts = np.flatnonzero(edge)
    edge[-1] = True
    np.logical_not(word[1:], out=edge[:-1])  # the character after is no word character...
    edge[inside - 1] = True  # ...or begins the next segment
    np.logical_and(word, edge, out=edge)
    ends = np.flatnonzero(edge)
    ends += 1
    return starts, ends


class _Encoded:
    """Code points as UTF-8 once, to cut any number of sorted, non-overlapping slices from without a copy."""

    def __init__(self, cps: np.ndarray) -> None:
        import pyarrow as pa

        data, self.before = encode(cps)
        self.data = pa.py_buffer(data)

    def slices(self, starts: np.ndarray, ends: np.ndarray, *, large: bool = True) -> pa.Array:
        """cps[starts[i]:ends[i]] as a large_string array; the slices must be sorted and not overlap.

        large=False: a string array (32-bit offsets) where the text allows it, for the index's hash passes,
        which take twice as long over 64-bit offsets; its strings are the same.
        """
        import numpy as np
        import pyarrow as pa

        narrow = not large and self.data.size < 2**31
        kind = np.int32 if narrow else np.int64
        count = len(starts)
        bounds = np.empty(2 * count, kind)
        bounds[0::2], bounds[1::2] = starts, ends
        if not count:
            offsets = np.zeros(1, kind)
        else:
            # None: ASCII, a byte per code point
            offsets = bounds if self.before is None else self.before[bounds].astype(kind, copy=False)
        array = pa.StringArray if narrow else pa.LargeStringArray
        pieces = array.from_buffers(max(2 * count - 1, 0), pa.py_buffer(offsets), self.data)
        return pieces.take(pa.array(np.arange(0, 2 * count, 2, dtype=np.int64)))


def _strings(
    cps: np.ndarray, starts: np.ndarray, ends: np.ndarray, lower: np.ndarray | None = None, *, large: bool = True
) -> pa.Array:
    """The slices cps[starts[i]:ends[i]] (any, overlapping or not) as a large_string array (see
    _Encoded.slices for large=False); with `lower`, each one's first code point in lower case. No Python
    code runs per slice."""
    import numpy as np

    lengths = (ends - starts).astype(np.int64)
    count = len(lengths)
    bounds = np.zeros(count + 1, np.int64)
    np.cumsum(lengths, out=bounds[1:])
    total = int(bounds[-1])
    index = np.arange(total, dtype=np.int64) + np.repeat(starts.astype(np.int64) - bounds[:-1], lengths)
    chars = cps[index]
    if lower is not None and total:
        heads = bounds[:-1][lengths > 0]
        chars[heads] = lower[chars[heads]]
    encoded = _Encoded(chars)
    return encoded.slices(bounds[:-1], bounds[1:], large=large)


def _indices(array: pa.Array) -> np.ndarray:
    """An index_in result as int64, -1 where null."""
    import numpy as np
    import pyarrow.compute as pc

    return pc.fill_null(array, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _segments(lengths: list[int]) -> np.ndarray:
    import numpy as np

    bounds = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=bounds[1:])
    return bounds


# --- the index ---------------------------------------------------------------------------------


@dataclass
class MentionArrays:
    """The mentions as arrays, one element per mention, sorted by document, start, entity."""

    documents: list[str]  # document ids, sorted; `document` indexes this
    entities: Entities  # `entity` numbers these
    document: np.ndarray  # int64
    start: np.ndarray  # int64, code points in the document's text
    end: np.ndarray  # int64
    entity: np.ndarray  # int64
    texts: list[str]  # the documents' texts, as `documents`

    def __len__(self) -> int:
        return len(self.document)

    def exact_prefix_suffix(self) -> tuple[pa.Array, pa.Array, pa.Array]:
        """The exact text, prefix and suffix of every mention, as Arrow large_string arrays."""
        return text_selectors(self.texts, self.document, self.start, self.end)

    def to_list(self) -> list[Mention]:
        exact, prefix, suffix = (a.to_pylist() for a in self.exact_prefix_suffix())
        tables, ids = (a.to_pylist() for a in self.entities.columns(self.entity))
        docs = self.documents
        return [
            Mention(docs[d], s, e, x, p, q, t, i)
            for d, s, e, x, p, q, t, i in zip(
                self.document.tolist(),
                self.start.tolist(),
                self.end.tolist(),
                exact,
                prefix,
                suffix,
                tables,
                ids,
                strict=True,
            )
        ]


def text_selectors(
    texts: list[str], document: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The W3C TextQuoteSelector of passages of texts: exact (text[start:end]), prefix and suffix (up to
    PREFIX_LENGTH code points before and after), as Arrow large_string arrays; document indexes texts.

    A passage that many rows cite is cut from the text once: the distinct passages are, then repeated.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    cps = code_points("".join(texts))
    base = _segments([len(t) for t in texts])
    start, end = start + base[:-1][document], end + base[:-1][document]
    encoded = pc.dictionary_encode(pa.array(start * (len(cps) + 1) + end, pa.int64()))
    distinct = encoded.dictionary.to_numpy()
    start, end = distinct // (len(cps) + 1), distinct % (len(cps) + 1)
    within = np.searchsorted(base, start, side="right") - 1
    doc_start, doc_end = base[:-1][within], base[1:][within]
    take = encoded.indices
    return (
        _strings(cps, start, end).take(take),
        _strings(cps, np.maximum(start - PREFIX_LENGTH, doc_start), start).take(take),
        _strings(cps, end, np.minimum(end + PREFIX_LENGTH, np.maximum(doc_end, end))).take(take),
    )


def _irregular_pattern(keys: list[str]) -> re.Pattern[str]:
    """One regex for the names that begin or end with a character outside words (longest first)."""
    alternatives = []
    for key in sorted(keys, key=lambda k: (-len(k), k)):
        head = key[0]
        first = re.escape(head) if head.upper() == head else f"[{re.escape(head)}{re.escape(head.upper())}]"
        before = r"(?<!\w)" if head.isalnum() or head == "_" else ""
        after = r"(?!\w)" if key[-1].isalnum() or key[-1] == "_" else ""
        alternatives.append(f"{before}{first}{re.escape(key[1:])}{after}")
    return re.compile(f"(?=({'|'.join(alternatives)}))")


def index_mentions(names: Names, texts: Mapping[str, str]) -> MentionArrays:
    """Find every name in every text (document id -> text) by the rules above."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    documents = sorted(texts)
    doc_texts = [texts[d] for d in documents]
    name_cps, name_bounds = names.codepoints, names.bounds
    text_bounds = _segments([len(t) for t in doc_texts])
    text_cps = code_points("".join(doc_texts))
    chars = _chars(name_cps, text_cps)

    # the names: their words; which are regular (a word character at both ends); their keys
    name_word = chars.word[name_cps]
    word_starts, word_ends = _words(name_word, name_bounds[:-1])
    name_of_word = np.searchsorted(name_bounds, word_starts, side="right") - 1
    name_lengths = np.diff(name_bounds)
    word_count = np.bincount(name_of_word, minlength=len(name_lengths))
    heads, tails = name_bounds[:-1], name_bounds[1:] - 1
    filled = name_lengths > 0
    regular = filled & (word_count > 0)
    regular[filled] &= name_word[heads[filled]] & name_word[tails[filled]]
    irregular = filled & (word_count > 0) & ~regular  # a name without a word character is never found
    keyed = chars.key[name_cps]
    keyed[heads[filled]] = chars.lower[keyed[heads[filled]]]
    encoded = _Encoded(keyed)
    reg = np.flatnonzero(regular)
    keys = encoded.slices(heads[reg], tails[reg] + 1, large=False)
    counts = word_count[reg]
    multi = counts > 1
    several = reg[multi]  # the regular names of several words: only their first words are looked for apart
    first_word = np.searchsorted(name_of_word, several)  # each one's first word, which starts it
    first_keys = encoded.slices(heads[several], word_ends[first_word], large=False)

    # the texts' words, and every candidate passage: each word, and k words from a word that begins a name of k
    text_word = chars.word[text_cps]
    starts, ends = _words(text_word, text_bounds[:-1])
    doc_of_word = np.searchsorted(text_bounds, starts, side="right") - 1
    text_keyed = chars.key[text_cps]
    word_keyed = text_keyed.copy()
    word_keyed[starts] = chars.lower[word_keyed[starts]]
    word_keys = _Encoded(word_keyed).slices(starts, ends, large=False)
    spans_start, spans_end, candidates = [starts], [ends], [word_keys]
    # Which text words begin a name of several words: one hash pass over the words for every length k.
    first_words = pc.dictionary_encode(first_keys)
    head_code = first_words.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    word_head = _indices(pc.index_in(word_keys, value_set=first_words.dictionary))  # -1: begins no such name
    for k in sorted(set(counts[multi].tolist())):
        begins_k = np.zeros(len(first_words.dictionary) + 1, bool)  # the last stands for -1, and stays False
        begins_k[head_code[counts[multi] == k]] = True
        begins = np.flatnonzero(begins_k[word_head])
        begins = begins[begins + k - 1 < len(starts)]
        begins = begins[doc_of_word[begins] == doc_of_word[begins + k - 1]]
        spans_start.append(starts[begins])
        spans_end.append(ends[begins + k - 1])
        candidates.append(_strings(text_keyed, spans_start[-1], spans_end[-1], chars.lower, large=False))
    # one hash pass: every name's key and every candidate get a code; a candidate with a name's code is found
    every = [keys, *candidates]
    if len({a.type for a in every}) > 1:  # a text too large for 32-bit offsets: all as large strings
        every = [a.cast(pa.large_string()) for a in every]
    codes = _indices(pc.dictionary_encode(pa.concat_arrays(every)).indices)
    key_of_name, candidate_codes = codes[: len(keys)], codes[len(keys) :]
    n_codes = int(codes.max(initial=-1)) + 1
    is_name = np.zeros(n_codes + 1, bool)
    is_name[key_of_name] = True
    at = np.flatnonzero(is_name[candidate_codes])
    found_start = [np.concatenate(spans_start)[at]]
    found_end = [np.concatenate(spans_end)[at]]
    found_key = [candidate_codes[at]]
    irr = np.flatnonzero(irregular)
    irregular_names = encoded.slices(heads[irr], tails[irr] + 1).to_pylist()
    irregular_keys = sorted(set(irregular_names))
    irregular_number = {key: n_codes + i for i, key in enumerate(irregular_keys)}
    key_of_irregular = np.array([irregular_number[k] for k in irregular_names], np.int64)
    if irregular_keys:
        found = _irregular(irregular_keys, irregular_number, text_keyed, text_bounds, chars.lower)
        for into, values in zip((found_start, found_end, found_key), found, strict=True):
            into.append(values)
    # each key -> the entities it names, once each (pairs sorted by key, then entity)
    n_entities = max(len(names.entities), 1)
    pairs = np.concatenate([key_of_name, key_of_irregular]) * n_entities + np.concatenate(
        [names.entity[reg], names.entity[irr]]
    )
    pairs.sort()
    pairs = pairs[np.concatenate([[True], pairs[1:] != pairs[:-1]])] if len(pairs) else pairs
    pair_key, pair_entity = pairs // n_entities, pairs % n_entities
    key_start = np.zeros(n_codes + len(irregular_keys) + 1, np.int64)  # where each key's pairs begin
    np.cumsum(np.bincount(pair_key, minlength=n_codes + len(irregular_keys)), out=key_start[1:])
    start, end, key = np.concatenate(found_start), np.concatenate(found_end), np.concatenate(found_key)

    # the longest wins
    order = np.lexsort((start, start - end))  # longest first, then earliest
    start, end, key = start[order], end[order], key[order]
    keep = _longest_first(start, end)
    start, end, key = start[keep], end[keep], key[keep]

    # one mention per entity the key names
    per_key = key_start[key + 1] - key_start[key]
    bounds = np.zeros(len(per_key) + 1, np.int64)
    np.cumsum(per_key, out=bounds[1:])
    pick = np.arange(int(bounds[-1]), dtype=np.int64) + np.repeat(key_start[key] - bounds[:-1], per_key)
    entity = pair_entity[pick]
    start, end = np.repeat(start, per_key), np.repeat(end, per_key)
    order = np.lexsort((entity, start))  # the documents are in the order of the texts, so of start
    start, end, entity = start[order], end[order], entity[order]
    document = np.searchsorted(text_bounds, start, side="right") - 1
    base = text_bounds[document]
    return MentionArrays(documents, names.entities, document, start - base, end - base, entity, doc_texts)


def _irregular(
    keys: list[str], number: dict[str, int], keyed: np.ndarray, bounds: np.ndarray, lower: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, keys) of the names that begin or end outside a word, by a regex (they are few)."""
    import numpy as np

    text = text_of(keyed)
    spans = [(m.start(1), m.end(1)) for m in _irregular_pattern(keys).finditer(text)]
    spans = [
        (s, e)
        for s, e in spans
        if e > s and np.searchsorted(bounds, s, "right") == np.searchsorted(bounds, e - 1, "right")
    ]
    starts = np.array([s for s, _ in spans], np.int64)
    ends = np.array([e for _, e in spans], np.int64)
    found = np.array([number[chr(int(lower[ord(text[s])])) + text[s + 1 : e]] for s, e in spans], np.int64)
    return starts, ends, found


def _longest_first(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Which of the candidates (sorted longest first, then earliest) to keep: each that overlaps none
    kept before it. Those that overlap no other candidate at all are kept without a look."""
    import numpy as np

    n = len(start)
    if n == 0:
        return np.zeros(0, np.int64)
    by_start = np.lexsort((-end, start))
    s, e = start[by_start], end[by_start]
    reach = np.maximum.accumulate(e)
    alone = np.ones(n, bool)
    alone[1:] &= s[1:] >= reach[:-1]  # nothing before it reaches into it
    alone[:-1] &= e[:-1] <= s[1:]  # it reaches into nothing after it
    keep = np.zeros(n, bool)
    keep[by_start[alone]] = True
    crowded = np.flatnonzero(~keep)  # in the given order: longest first
    taken_starts: list[int] = []  # the kept ones among them, sorted by start (they never overlap)
    taken_ends: list[int] = []
    for i, a, b in zip(crowded.tolist(), start[crowded].tolist(), end[crowded].tolist(), strict=True):
        at = bisect.bisect_right(taken_starts, a)
        if (at and taken_ends[at - 1] > a) or (at < len(taken_starts) and taken_starts[at] < b):
            continue
        taken_starts.insert(at, a)
        taken_ends.insert(at, b)
        keep[i] = True
    return np.flatnonzero(keep)


def find_mentions_with(package: Package, column: Column, texts: Mapping[str, str]) -> list[Mention]:
    """find_mentions, for tables of any kind: `column(resource, field)` gives a column as Arrow strings."""
    return index_mentions(collect_names(package, column), texts).to_list()


def find_mentions(package: Package, tables: Mapping[str, pa.Table], texts: Mapping[str, str]) -> list[Mention]:
    """Every occurrence, in every text (document id -> text), of every name and alias of every entity.

    `tables` are the package's tables as Arrow tables (resource name -> table; an empty cell may be
    null or ""). The longest match wins; sorted by (document_id, start), then entity table and id.
    """
    return find_mentions_with(package, arrow_columns(tables), texts)

"""Synthetic packages for tests and benchmarks: valid at any size, and faults injected where we say.

`generate(out, rows)` writes a complete package (the repository's descriptor unchanged,
`data/*.csv`, `seeds/*`) with about `rows` rows in all, that `validate()` passes with no
finding at all. It is deterministic for a given seed and written in canonical form.

What each table is comes from the descriptor, as validate reads it: the documents table by its role,
entity tables as the one-field keys that others point at, and a table that cites documents by its
fields of roles `document`, `quote`, `start` and `end`; among those, one with a field of role `alias`
names each entity once, one with a field of role `number` is numbered 1, 2, 3… per document, and
the others link entities (one entity: its citations; two or more: a relation between them). Fields
without a role are filled from their type and constraints.

Each synthetic document is the real seed's text followed by an appendix of lines of unique
tokens (`d017t004512`, 16 to a line). The tokens are the aliases (so every alias is unique across the
dataset and sits verbatim in its quote, the appendix line that holds it); every other quote is drawn
from a per-document pool of a few hundred word-aligned passages of the real text, so quotes repeat as
they do in real data. Every citation carries the offsets of its quote in its document's text (code
points, end exclusive): text[start:end] == quote. Some documents are registered without stored text
(originals of which a stored document is the translation); those are never cited.

`inject(package, kind, count)` then edits such a package in place, adding `count` faults of
one kind, and returns the (code, file, line) that validate must report for each: the
expectation comes from the edit itself.

    from tests.synth import generate, inject
    counts = generate(Path("/tmp/pkg"), 100_000)  # {"documents": 11, "actors": 9_900, ...}
    expected = inject(Path("/tmp/pkg"), "enum", 2)  # [("constraint-error", "data/actors.csv", 812), ...]
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import math
import operator
import random
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import eurasec
from eurasec.model.descriptor import (
    ALIAS,
    BYTES,
    DESCRIPTOR_NAME,
    DOCUMENT,
    END,
    NAME,
    NUMBER,
    QUOTE,
    SEED_PATH,
    SHA256,
    START,
    TITLE,
    Field,
    Package,
    Resource,
    load_package,
)

REAL_SEED = "seeds/stakhovsky-eurasian-approach-view-from-belarus.txt"
MAX_DOCUMENTS = 100
ROWS_PER_DOCUMENT = 10_000
TEXTLESS_PER_DOCUMENTS = 10  # one document registered without text per ten stored (at least one)
TOKENS_PER_LINE = 16  # aliases per appendix line: a quote of ~190 characters that 16 aliases share
PASSAGES_PER_DOCUMENT = 300
MAX_NUMBERED = 999  # trends and steps per document (the schema's maximum)

# Share of the rows (after documents and numbered tables) per table, in percent; each entity also
# has its alias, so an entity table's share counts twice. A table not named here gets DEFAULT_SHARE.
SHARES = {
    "actors": 10,
    "organizations": 3,
    "initiatives": 6,
    "actor_citations": 14,
    "organization_citations": 4,
    "initiative_citations": 8,
    "actor_relations": 6,
    "initiative_actors": 14,
    "initiative_organizations": 5,
    "affiliations": 8,
    "initiative_parts": 3,
}
DEFAULT_SHARE = 5

Expected = tuple[str, str, int]  # (code, file, line)


def default_descriptor() -> Path:
    """The repository's datapackage.json (the package's source lives in tools/eurasec)."""
    return Path(eurasec.__file__).resolve().parents[2] / DESCRIPTOR_NAME


# --- what each table is, from the descriptor ------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A resource as the generator fills it."""

    resource: Resource
    kind: str  # "documents", "entity", "alias", "numbered", "link"
    entity_fks: tuple[tuple[str, str], ...] = ()  # (field, entity resource), for the tables citing documents


def shapes(package: Package) -> dict[str, Shape]:
    """Every resource's shape; ValueError for one the generator cannot fill."""
    documents = package.documents
    if documents is None or len(documents.primary_key) != 1:
        raise ValueError("the descriptor needs one resource of role 'documents' with a one-field key")
    referenced = {fk.resource for r in package.resources for fk in r.foreign_keys if fk.resource != r.name}
    entities = {
        r.name
        for r in package.resources
        if len(r.primary_key) == 1 and r.name in referenced and r is not documents and not r.is_fact_table
    }
    out: dict[str, Shape] = {}
    for r in package.resources:
        if r is documents:
            out[r.name] = Shape(r, "documents")
        elif r.name in entities:
            out[r.name] = Shape(r, "entity")
        elif r.is_fact_table and r.role_field(START) and r.role_field(END):
            fks = tuple(
                (fk.fields[0], fk.resource) for fk in r.foreign_keys if len(fk.fields) == 1 and fk.resource in entities
            )
            kind = "alias" if r.role_field(ALIAS) else "numbered" if r.role_field(NUMBER) else "link"
            out[r.name] = Shape(r, kind, fks)
        else:
            raise ValueError(f"the generator cannot fill the resource {r.name!r}")
    return out


def _role(resource: Resource, role: str) -> str:
    found = resource.role_field(role)
    if found is None:
        raise ValueError(f"{resource.name} has no field of role {role!r}")
    return found.name


# --- values of fields without a role ----------------------------------------------------

# Values for the patterns of the descriptor's fields that have no role; a required field with another
# pattern is refused, an optional one left empty.
PATTERN_VALUES: dict[str, Callable[[int], str]] = {
    r"^Q[1-9][0-9]*$": lambda i: f"Q{i + 1}",
    r"^[A-Z]{3}$": lambda i: "".join(chr(65 + (i // 26**k) % 26) for k in range(3)),
    r"^[a-z]{2}$": lambda i: "en",
}


def _label(f: Field) -> str:
    return f.title or f.name.replace("_", " ").capitalize()


def plain_value(table: str, f: Field, i: int) -> str:
    """A value for row i of a field without a role and without a foreign key: every optional field is
    filled on a third of the rows."""
    if not f.required and i % 3:
        return ""
    if f.enum:
        return str(f.enum[i % len(f.enum)])
    if f.type == "integer":
        low = int(f.constraints.get("minimum", 0))
        high = int(f.constraints.get("maximum", low + 999))
        return str(low + (i * 7) % min(high - low + 1, 120))
    if f.type == "date":
        return f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
    if f.type != "string":
        raise ValueError(f"{table}.{f.name}: no synthetic value for type {f.type!r}")
    if f.pattern:
        if f.pattern in PATTERN_VALUES:
            return PATTERN_VALUES[f.pattern](i)
        if f.required:
            raise ValueError(f"{table}.{f.name}: no synthetic value for the pattern {f.pattern!r}")
        return ""
    if f.format == "uri" or f.name.endswith("url"):
        return f"https://example.org/{table}/{f.name}/{i + 1}"
    return f"{_label(f)} {i + 1}"


# --- generation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Passage:
    """A quote and its offsets in its document's text; `head` is its first two words, `rest` the words
    after them (a passage has three words or more)."""

    text: str
    start: int
    end: int
    head: str
    rest: str


def _passage(text: str, start: int) -> Passage:
    words = [m.span() for m in re.finditer(r"\S+", text)]
    return Passage(text, start, start + len(text), text[: words[1][1]], text[words[2][0] :])


def _passages(text: str, rng: random.Random, count: int) -> list[Passage]:
    """Word-aligned passages of single lines of text, trimmed, with their code-point offsets in `text`;
    no word of one starts like a formula, so that any run of its words can be a cell."""
    words_by_line = []
    at = 0
    for line in text.split("\n"):
        words = [m.span() for m in re.finditer(r"\S+", line)]
        if len(words) >= 4:
            words_by_line.append((at, line, words))
        at += len(line) + 1
    out: list[Passage] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < count and attempts < count * 20:
        attempts += 1
        offset, line, words = rng.choice(words_by_line)
        length = rng.randint(3, min(40, len(words)))
        first = rng.randrange(len(words) - length + 1)
        start, end = words[first][0], words[first + length - 1][1]
        passage = line[start:end]
        if passage in seen or any(line[a] in "=+-@" for a, _ in words[first : first + length]):
            continue
        seen.add(passage)
        out.append(_passage(passage, offset + start))
    return out


class _Layout:
    """Where each value goes in a row of one table that cites documents, found once per table.

    The fields of roles `document`, `start`, `end` and `quote` take the passage cited; the fields of
    `eurasec:inQuote` (but those in `skip`) take what the quote holds verbatim: with one required such
    field, the whole quote; with more, the first takes the quote's first two words and the second the
    rest; an optional one is filled on a third of the rows, with the first two words. Fields without a
    role (and not in `skip`) get plain values."""

    def __init__(self, resource: Resource, skip: set[str]) -> None:
        self.name = resource.name
        self.width = len(resource.fields)
        self.at = {name: i for i, name in enumerate(resource.field_names)}
        self.document, self.start, self.end, self.quote = (
            self.at[_role(resource, role)] for role in (DOCUMENT, START, END, QUOTE)
        )
        in_quote = [f for f in resource.fields if f.in_quote and f.name not in skip]
        required = [self.at[f.name] for f in in_quote if f.required]
        parts = ["text"] if len(required) == 1 else ["head", "rest", *["head"] * len(required)]
        self.verbatim = list(zip(required, parts, strict=False))
        self.optional = [self.at[f.name] for f in in_quote if not f.required]
        self.plain = [
            (self.at[f.name], f) for f in resource.fields if f.name not in skip and not f.in_quote and f.role is None
        ]

    def row(self, i: int, document: str, p: Passage) -> list[Any]:
        row: list[Any] = [""] * self.width
        row[self.document], row[self.start], row[self.end], row[self.quote] = document, p.start, p.end, p.text
        for at, part in self.verbatim:
            row[at] = getattr(p, part)
        if i % 3 == 0:
            for at in self.optional:
                row[at] = p.head
        for at, f in self.plain:
            row[at] = plain_value(self.name, f, i)
        return row


def _plan(rows: int, shaped: dict[str, Shape]) -> dict[str, int]:
    """How many rows each table gets (the alias table: one per entity)."""
    documents = min(MAX_DOCUMENTS, max(1, rows // ROWS_PER_DOCUMENT))
    textless = max(1, documents // TEXTLESS_PER_DOCUMENTS)
    numbered_tables = [name for name, s in shaped.items() if s.kind == "numbered"]
    budget = max(rows - documents - textless, 0)
    numbered = min(MAX_NUMBERED, max(1, budget // documents // 200))
    rest = max(budget - len(numbered_tables) * numbered * documents, 0)
    weights = {
        name: SHARES.get(name, DEFAULT_SHARE) * (2 if s.kind == "entity" else 1)
        for name, s in shaped.items()
        if s.kind in ("entity", "link")
    }
    total = sum(weights.values())
    n = {name: rest * weights[name] // total // (2 if shaped[name].kind == "entity" else 1) for name in weights}
    for name, s in shaped.items():
        if s.kind == "entity":
            n[name] = max(n[name], 2)
    for name, s in shaped.items():
        if s.kind != "link":
            continue
        # A table can hold at most the distinct keys there are; stay well below, so that sampling is quick.
        capacity = PASSAGES_PER_DOCUMENT * math.prod(len(f.enum or ()) for f in _key_enums(s.resource))
        tables = [t for _, t in s.entity_fks]
        for position, table in enumerate(tables):
            capacity *= n[table] - tables[:position].count(table)
        n[name] = max(min(n[name], capacity // 4), n[tables[0]] if len(tables) == 1 else 1)
    return {
        next(name for name, s in shaped.items() if s.kind == "documents"): documents + textless,
        **{name: n[name] for name in shaped if name in n},
        **{name: sum(n[t] for _, t in s.entity_fks) for name, s in shaped.items() if s.kind == "alias"},
        **{name: numbered * documents for name in numbered_tables},
    }


def _key_enums(resource: Resource) -> list[Field]:
    """The fields of the primary key with an enum: a link's key draws them; the others are plain values."""
    return [f for f in resource.fields if f.enum and f.name in resource.primary_key]


def _unique(
    count: int, draw: Callable[[], tuple[int, ...]], first: Iterable[tuple[int, ...]] = ()
) -> list[tuple[int, ...]]:
    seen = set(first)
    while len(seen) < count:
        seen.add(draw())
    return sorted(seen)


def generate(
    out: Path,
    rows: int,
    seed: int = 0,
    *,
    descriptor: Path | None = None,
    real_seed: Path | None = None,
) -> dict[str, int]:
    """Write a valid synthetic package of about `rows` rows to `out`; returns the rows written per table."""
    out = Path(out)
    descriptor = Path(descriptor) if descriptor else default_descriptor()
    real_seed = Path(real_seed) if real_seed else descriptor.parent / REAL_SEED
    package = load_package(descriptor)
    shaped = shapes(package)
    base_text = real_seed.read_bytes().decode("utf-8").rstrip("\n")
    rng = random.Random(seed)
    plan = _plan(rows, shaped)
    n_docs = min(MAX_DOCUMENTS, max(1, rows // ROWS_PER_DOCUMENT))
    documents = package.documents
    assert documents is not None  # shapes() made sure
    n_textless = plan[documents.name] - n_docs
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "seeds").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(descriptor, out / DESCRIPTOR_NAME)
    written: dict[str, int] = {}

    def write(resource: Resource, table_rows: list[list[Any]]) -> None:
        """Sort by the primary key (integers by value: those cells hold ints) and write in canonical form."""
        names = resource.field_names
        key = [names.index(k) for k in resource.primary_key]
        if key:
            table_rows.sort(key=operator.itemgetter(*key))
        with (out / resource.path).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(names)
            writer.writerows(table_rows)
        written[resource.name] = len(table_rows)

    # Entities: ids zero-padded so that string order is numeric order; each belongs to one document.
    entity_names = [name for name, s in shaped.items() if s.kind == "entity"]
    ids = {name: [f"{name.removesuffix('s')}-{i:07d}" for i in range(1, plan[name] + 1)] for name in entity_names}
    doc_ids = [f"synthetic-{d:03d}" for d in range(1, n_docs + 1)]

    def doc_of(index: int, count: int) -> int:
        return index * n_docs // count

    # Aliases: one token per entity, in the appendix of the entity's document.
    alias_tables = [s for s in shaped.values() if s.kind == "alias"]
    if len(alias_tables) > 1:
        raise ValueError("the generator fills one table of aliases; the descriptor has more")
    per_doc_aliases: list[list[tuple[int, str, int]]] = [[] for _ in range(n_docs)]  # (token, table, index)
    tokens_in_doc = [0] * n_docs
    for s in alias_tables:
        for _, table in s.entity_fks:
            for index in range(len(ids[table])):
                d = doc_of(index, len(ids[table]))
                per_doc_aliases[d].append((tokens_in_doc[d], table, index))
                tokens_in_doc[d] += 1

    titles = [f"Synthetic document {d + 1:03d}" for d in range(n_docs)]
    texts: list[str] = []
    appendix: list[list[Passage]] = []  # per document: its appendix lines, each a passage
    for d in range(n_docs):
        lines_count = max(-(-tokens_in_doc[d] // TOKENS_PER_LINE), 1)
        tokens = [f"d{d + 1:03d}t{t:06d}" for t in range(lines_count * TOKENS_PER_LINE)]
        lines = [" ".join(tokens[i : i + TOKENS_PER_LINE]) for i in range(0, len(tokens), TOKENS_PER_LINE)]
        head = base_text + f"\n\n{titles[d]}: appendix\n\n"
        starts = itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=len(head))
        appendix.append([_passage(line, start) for line, start in zip(lines, starts, strict=True)])
        texts.append(head + "\n".join(lines) + "\n")

    pools = [_passages(base_text, random.Random(f"{seed}:{d}"), PASSAGES_PER_DOCUMENT) for d in range(n_docs)]

    # documents: the stored texts, and the originals registered without text that some are translations of
    doc_rows: list[list[Any]] = []
    roles = {role: documents.role_field(role) for role in (SEED_PATH, SHA256, BYTES, TITLE)}
    at = {name: i for i, name in enumerate(documents.field_names)}
    self_fks = [fk.fields[0] for fk in documents.foreign_keys if fk.resource == documents.name and len(fk.fields) == 1]
    key = documents.primary_key[0]
    originals = [f"{doc_ids[d]}-original" for d in range(n_textless)]
    for d, doc in enumerate(doc_ids + originals):
        row: list[Any] = [""] * len(at)
        for f in documents.fields:
            if f.name != key and f.role is None and f.name not in self_fks:
                row[at[f.name]] = plain_value(documents.name, f, d)
        row[at[key]] = doc
        title = roles[TITLE]
        if d < n_docs:
            raw = texts[d].encode("utf-8")
            path = f"seeds/{doc}.txt"
            (out / path).write_bytes(raw)
            for role, value in ((SEED_PATH, path), (SHA256, hashlib.sha256(raw).hexdigest()), (BYTES, len(raw))):
                if (found := roles[role]) is not None:
                    row[at[found.name]] = value
            for name in self_fks:
                row[at[name]] = originals[d] if d < n_textless else ""
            if title is not None:
                row[at[title.name]] = titles[d]
        elif title is not None:
            row[at[title.name]] = f"{titles[d - n_docs]} (original)"
        doc_rows.append(row)
    write(documents, doc_rows)

    # entities (a field pointing at its own table: every tenth row, after the first of each block of ten;
    # at another entity table: one of its rows, on a third of the rows unless it is required)
    for name in entity_names:
        resource = shaped[name].resource
        table_ids = ids[name]
        self_fks = [fk.fields[0] for fk in resource.foreign_keys if fk.resource == name and len(fk.fields) == 1]
        other_fks = {
            fk.fields[0]: ids[fk.resource]
            for fk in resource.foreign_keys
            if fk.resource != name and fk.resource in ids and len(fk.fields) == 1
        }
        name_field = resource.role_field(NAME)
        label = name.removesuffix("s").replace("_", " ").capitalize()
        rows_out = []
        for i, entity in enumerate(table_ids):
            row = []
            for f in resource.fields:
                if f.name == resource.primary_key[0]:
                    row.append(entity)
                elif name_field is not None and f.name == name_field.name:
                    row.append(f"{label} {i + 1:07d}")
                elif f.name in self_fks:
                    row.append(table_ids[i - i % 10] if i % 10 == 5 else "")
                elif f.name in other_fks:
                    targets = other_fks[f.name]
                    row.append(targets[i % len(targets)] if f.required or i % 3 == 0 else "")
                else:
                    row.append(plain_value(name, f, i) if f.role is None else "")
            rows_out.append(row)
        write(resource, rows_out)

    # the alias table: each entity's token, quoted by the appendix line that holds it
    for s in alias_tables:
        resource = s.resource
        alias_field = _role(resource, ALIAS)
        layout = _Layout(resource, {alias_field, *(f for f, _ in s.entity_fks)})
        target = {table: layout.at[f] for f, table in s.entity_fks}
        rows_out = []
        for d, aliases in enumerate(per_doc_aliases):
            for token, table, index in aliases:
                line = appendix[d][token // TOKENS_PER_LINE]
                row = layout.row(token + index, doc_ids[d], line)
                row[layout.at[alias_field]] = line.text.split(" ")[token % TOKENS_PER_LINE]
                row[target[table]] = ids[table][index]
                rows_out.append(row)
        write(resource, rows_out)

    # numbered tables: 1, 2, 3… per document, each row quoting a passage
    for name, s in shaped.items():
        if s.kind != "numbered":
            continue
        resource = s.resource
        number_field = _role(resource, NUMBER)
        layout = _Layout(resource, {number_field})
        rows_out = []
        for d in range(n_docs):
            for number in range(1, plan[name] // n_docs + 1):
                row = layout.row(number, doc_ids[d], rng.choice(pools[d]))
                row[layout.at[number_field]] = number
                rows_out.append(row)
        write(resource, rows_out)

    # link tables: the entities they point at, the enums of their key, a document and one of its passages;
    # each entity of a one-entity table (its citations) is cited at least once, from its own document
    for name, s in shaped.items():
        if s.kind != "link":
            continue
        resource = s.resource
        tables = [t for _, t in s.entity_fks]
        enums = _key_enums(resource)
        layout = _Layout(resource, {f for f, _ in s.entity_fks} | {f.name for f in enums})
        sizes = [len(ids[t]) for t in tables]
        same = [[e for e in range(k) if tables[e] == tables[k]] for k in range(len(tables))]  # earlier, same table
        choices = [len(f.enum or ()) for f in enums]

        def draw(
            sizes: list[int] = sizes, same: list[list[int]] = same, choices: list[int] = choices
        ) -> tuple[int, ...]:
            picked: list[int] = []
            for size, earlier in zip(sizes, same, strict=True):
                index = rng.randrange(size - len(earlier))
                for taken in sorted(picked[e] for e in earlier):  # never the same entity twice in one row
                    index += index >= taken
                picked.append(index)
            d = doc_of(picked[0], sizes[0]) if picked else rng.randrange(n_docs)
            if len(picked) == 1 and rng.random() < 0.2:
                d = rng.randrange(n_docs)  # a citation from another document
            return (*picked, *(rng.randrange(c) for c in choices), d, rng.randrange(len(pools[d])))

        first: list[tuple[int, ...]] = []
        if len(tables) == 1:
            for i in range(sizes[0]):
                d = doc_of(i, sizes[0])
                first.append((i, *(rng.randrange(c) for c in choices), d, rng.randrange(len(pools[d]))))
        at_entities = [layout.at[f] for f, _ in s.entity_fks]
        at_enums = [(layout.at[f.name], f.enum or ()) for f in enums]
        rows_out = []
        for i, link in enumerate(_unique(plan[name], draw, first)):
            d, p = link[-2], link[-1]
            row = layout.row(i, doc_ids[d], pools[d][p])
            for at_entity, table, index in zip(at_entities, tables, link, strict=False):
                row[at_entity] = ids[table][index]
            for (at_enum, values), choice in zip(at_enums, link[len(tables) :], strict=False):
                row[at_enum] = values[choice]
            rows_out.append(row)
        write(resource, rows_out)

    return {name: written[name] for name in package.resource_names if name in written}


# --- faults -----------------------------------------------------------------------------

KINDS = (
    "type",
    "enum",
    "pattern",
    "required",
    "maximum",
    "primary-key",
    "foreign-key",
    "missing-cell",
    "extra-cell",
    "blank-row",
    "quote",
    "offset",
    "doubled-space",
    "formula",
)

ACTORS = "data/actors.csv"
ACTOR_CITATIONS = "data/actor_citations.csv"
INITIATIVES = "data/initiatives.csv"
INITIATIVE_ACTORS = "data/initiative_actors.csv"
TRENDS = "data/trends.csv"


def _resource(package: Path, file: str) -> Resource:
    """The resource whose data is `file`, as the package's descriptor declares it."""
    return next(r for r in load_package(package / DESCRIPTOR_NAME).resources if r.path == file)


def _read_lines(package: Path, file: str) -> list[str]:
    """The file's physical lines; the last element is the empty string after the final newline."""
    return (package / file).read_bytes().decode("utf-8").split("\n")


def _write_lines(package: Path, file: str, lines: list[str]) -> None:
    (package / file).write_bytes("\n".join(lines).encode("utf-8"))


def _cells(line: str) -> list[str]:
    return next(csv.reader([line]))


def _line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def _data_lines(lines: list[str]) -> range:
    """1-based line numbers of the data records (one record a line in a generated package)."""
    return range(2, len(lines))


def _pick(rng: random.Random, candidates: list[int], count: int, what: str) -> list[int]:
    if len(candidates) < count:
        raise ValueError(f"only {len(candidates)} rows can take a {what} fault; asked for {count}")
    return sorted(rng.sample(candidates, count))


def _edit_cells(
    package: Path,
    file: str,
    rng: random.Random,
    count: int,
    kind: str,
    code: str,
    field: str,
    change: Callable[[str], str],
    eligible: Callable[[dict[str, str]], bool] = lambda row: True,
) -> list[Expected]:
    """Change one cell on `count` rows, keeping the line otherwise canonical; one finding per row."""
    lines = _read_lines(package, file)
    header = _cells(lines[0])
    column = header.index(field)
    # Rows an earlier fault left ragged or blank are passed over, so that kinds can be combined.
    rows = {n: _cells(lines[n - 1]) for n in _data_lines(lines)}
    candidates = [
        n for n, cells in rows.items() if len(cells) == len(header) and eligible(dict(zip(header, cells, strict=True)))
    ]
    chosen = _pick(rng, candidates, count, kind)
    for n in chosen:
        cells = _cells(lines[n - 1])
        cells[column] = change(cells[column])
        lines[n - 1] = _line(cells)
    _write_lines(package, file, lines)
    return [(code, file, n) for n in chosen]


def _maximum(package: Path, rng: random.Random, count: int) -> list[Expected]:
    """The last trends of some documents renumbered from 1000: each is above the maximum, and each
    document's first renumbered row breaks its numbering (the check reports one gap per document)."""
    resource = _resource(package, TRENDS)
    lines = _read_lines(package, TRENDS)
    header = _cells(lines[0])
    document, number = header.index(_role(resource, DOCUMENT)), header.index(_role(resource, NUMBER))
    by_doc: dict[str, list[int]] = defaultdict(list)
    for n in _data_lines(lines):
        by_doc[_cells(lines[n - 1])[document]].append(n)
    docs = sorted(by_doc)
    capacity = sum(len(v) for v in by_doc.values())
    if capacity < count:
        raise ValueError(f"only {capacity} trends can take a maximum fault; asked for {count}")
    per_doc: dict[str, int] = defaultdict(int)
    order = rng.sample(docs, len(docs))
    i = 0
    while sum(per_doc.values()) < count:
        doc = order[i % len(order)]
        if per_doc[doc] < len(by_doc[doc]):
            per_doc[doc] += 1
        i += 1
    expected: list[Expected] = []
    for doc, k in sorted(per_doc.items()):
        targets = by_doc[doc][-k:]
        for offset, n in enumerate(targets):
            cells = _cells(lines[n - 1])
            cells[number] = str(MAX_NUMBERED + 1 + offset)
            lines[n - 1] = _line(cells)
            expected.append(("constraint-error", TRENDS, n))
        expected.append(("numbering-gap", TRENDS, targets[0]))
    _write_lines(package, TRENDS, lines)
    return expected


def _primary_key(package: Path, rng: random.Random, count: int) -> list[Expected]:
    """A link row pasted again right below itself: the copy repeats the primary key."""
    lines = _read_lines(package, INITIATIVE_ACTORS)
    chosen = _pick(rng, list(_data_lines(lines)), count, "primary-key")
    expected = []
    for shift, n in enumerate(chosen):
        at = n + shift  # where the original is now, after the copies inserted above it
        lines.insert(at, lines[at - 1])
        expected.append(("primary-key", INITIATIVE_ACTORS, at + 1))
    _write_lines(package, INITIATIVE_ACTORS, lines)
    return expected


def _foreign_key(package: Path, rng: random.Random, count: int) -> list[Expected]:
    """A link to an actor that does not exist: 'actor-0000123' becomes 'actor-0000123-missing'.

    The new id sorts right after the old one, so the file stays sorted as long as the next row
    does not have the same primary key up to the actor (then the edited row would sort after it)."""
    resource = _resource(package, INITIATIVE_ACTORS)
    lines = _read_lines(package, INITIATIVE_ACTORS)
    header = _cells(lines[0])
    actor = next(fk.fields[0] for fk in resource.foreign_keys if fk.resource == "actors" and len(fk.fields) == 1)
    key = [header.index(name) for name in resource.primary_key]
    prefix = key[: key.index(header.index(actor)) + 1]
    rows = {n: _cells(lines[n - 1]) for n in _data_lines(lines)}
    last = len(lines) - 1
    candidates = [
        n for n, cells in rows.items() if n == last or [rows[n + 1][i] for i in prefix] != [cells[i] for i in prefix]
    ]
    chosen = _pick(rng, candidates, count, "foreign-key")
    for n in chosen:
        cells = rows[n]
        cells[header.index(actor)] += "-missing"
        lines[n - 1] = _line(cells)
    _write_lines(package, INITIATIVE_ACTORS, lines)
    return [("foreign-key", INITIATIVE_ACTORS, n) for n in chosen]


def _offset(package: Path, rng: random.Random, count: int) -> list[Expected]:
    """A citation whose start and end are one character further on than its quote: the quote is still
    in the seed (quote-offset-mismatch, not quote-not-found), and the row keeps its place in the
    order of the primary key (which holds start and end)."""
    resource = _resource(package, ACTOR_CITATIONS)
    lines = _read_lines(package, ACTOR_CITATIONS)
    header = _cells(lines[0])
    start, end = header.index(_role(resource, START)), header.index(_role(resource, END))
    key = [(header.index(name), resource.field(name).type == "integer") for name in resource.primary_key]

    def sort_key(cells: list[str]) -> tuple[int | str, ...]:
        return tuple(int(cells[i]) if number else cells[i] for i, number in key)

    rows = {n: _cells(lines[n - 1]) for n in _data_lines(lines)}
    shifted = {n: [*cells] for n, cells in rows.items() if len(cells) == len(header)}
    for cells in shifted.values():
        cells[start], cells[end] = str(int(cells[start]) + 1), str(int(cells[end]) + 1)
    candidates = [
        n
        for n, cells in shifted.items()
        if (n - 1 not in rows or sort_key(rows[n - 1]) < sort_key(cells))
        and (n + 1 not in rows or sort_key(cells) < sort_key(rows[n + 1]))
    ]
    chosen = _pick(rng, candidates, count, "offset")
    for n in chosen:
        lines[n - 1] = _line(shifted[n])
    _write_lines(package, ACTOR_CITATIONS, lines)
    return [("quote-offset-mismatch", ACTOR_CITATIONS, n) for n in chosen]


def _ragged(package: Path, rng: random.Random, count: int, kind: str) -> list[Expected]:
    """A row that lost its last cell, or gained one (an unquoted comma)."""
    lines = _read_lines(package, ACTORS)
    chosen = _pick(rng, list(_data_lines(lines)), count, kind)
    for n in chosen:
        cells = _cells(lines[n - 1])
        lines[n - 1] = _line(cells[:-1] if kind == "missing-cell" else [*cells, "extra"])
    _write_lines(package, ACTORS, lines)
    return [(kind, ACTORS, n) for n in chosen]


def _blank_row(package: Path, rng: random.Random, count: int) -> list[Expected]:
    """Empty lines in the middle of a table (never before the first or after the last record)."""
    lines = _read_lines(package, ACTORS)
    chosen = _pick(rng, list(range(3, len(lines))), count, "blank-row")  # insert before these lines
    expected = []
    for shift, n in enumerate(chosen):
        at = n + shift
        lines.insert(at - 1, "")
        expected.append(("blank-row", ACTORS, at))
    _write_lines(package, ACTORS, lines)
    return expected


def inject(package: Path, kind: str, count: int, seed: int = 0) -> list[Expected]:
    """Add `count` faults of one kind to a generated package, in place; returns the expected (code, file, line)s.

    Every edit keeps the rest of the file valid, canonical and sorted, so the returned list is
    exactly what validate reports (compare as sets)."""
    package = Path(package)
    rng = random.Random(f"{kind}:{seed}")
    if kind == "type":
        return _edit_cells(package, INITIATIVES, rng, count, kind, "type-error", "year", lambda v: "twenty")
    if kind == "enum":
        return _edit_cells(package, ACTORS, rng, count, kind, "constraint-error", "kind", lambda v: v[:-1] + "x")
    if kind == "pattern":
        return _edit_cells(
            package,
            ACTORS,
            rng,
            count,
            kind,
            "constraint-error",
            "wikidata_qid",
            lambda v: v.removeprefix("Q"),
            lambda row: bool(row["wikidata_qid"]),
        )
    if kind == "required":
        name = _role(_resource(package, ACTORS), NAME)
        return _edit_cells(package, ACTORS, rng, count, kind, "constraint-error", name, lambda v: "")
    if kind == "maximum":
        return _maximum(package, rng, count)
    if kind == "primary-key":
        return _primary_key(package, rng, count)
    if kind == "foreign-key":
        return _foreign_key(package, rng, count)
    if kind in ("missing-cell", "extra-cell"):
        return _ragged(package, rng, count, kind)
    if kind == "blank-row":
        return _blank_row(package, rng, count)
    if kind == "quote":
        quote = _role(_resource(package, ACTOR_CITATIONS), QUOTE)
        return _edit_cells(
            package, ACTOR_CITATIONS, rng, count, kind, "quote-not-found", quote, lambda v: v + " (not in the seed)"
        )
    if kind == "offset":
        return _offset(package, rng, count)
    if kind == "doubled-space":
        name = _role(_resource(package, ACTORS), NAME)
        return _edit_cells(
            package,
            ACTORS,
            rng,
            count,
            kind,
            "doubled-space",
            name,
            lambda v: v.replace(" ", "  ", 1),
            lambda row: " " in row[name],
        )
    if kind == "formula":
        return _edit_cells(package, ACTORS, rng, count, kind, "formula", "description", lambda v: "=HYPERLINK(1)")
    raise ValueError(f"unknown fault kind {kind!r}; the kinds are: {', '.join(KINDS)}")

"""Synthetic packages for tests and benchmarks: valid at any size, and faults injected where we say.

`generate(out, rows)` writes a complete package (the repository's descriptor unchanged,
`data/*.csv`, `seeds/*`) with about `rows` rows in all, that `validate()` passes with no
finding at all. It is deterministic for a given seed and written in canonical form.

Each synthetic document is the real seed's text followed by an appendix of lines of unique
tokens (`d017t004512`, 16 to a line). The tokens are the aliases (so every alias is unique across the
dataset and sits verbatim in its quote, the appendix line that holds it) and the trends'
titles and texts; every other quote is drawn from a per-document pool of a few hundred
word-aligned passages of the real text, so quotes repeat as they do in real data.

`inject(package, kind, count)` then edits such a package in place, adding `count` faults of
one kind, and returns the (code, file, line) that validate must report for each: the
expectation comes from the edit itself.

    from tests.synth import generate, inject
    counts = generate(Path("/tmp/pkg"), 100_000)  # {"documents": 10, "actors": 19880, ...}
    expected = inject(Path("/tmp/pkg"), "enum", 2)  # [("constraint-error", "data/actors.csv", 812), ...]
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import eurasec
from eurasec.model.descriptor import DESCRIPTOR_NAME

REAL_SEED = "seeds/stakhovsky-eurasian-approach-view-from-belarus.txt"
MAX_DOCUMENTS = 100
ROWS_PER_DOCUMENT = 10_000
TOKENS_PER_LINE = 16  # aliases per appendix line: a quote of ~190 characters that 16 aliases share
PASSAGES_PER_DOCUMENT = 300
MAX_NUMBERED = 999  # trends and steps per document (the schema's maximum)

# Share of the rows (after documents, trends and steps) per table, in percent; aliases are one per entity.
SHARES = {
    "actors": 20,
    "organizations": 5,
    "initiatives": 10,
    "initiative_actors": 15,
    "initiative_organizations": 5,
    "affiliations": 8,
    "initiative_parts": 2,
}

Expected = tuple[str, str, int]  # (code, file, line)


def default_descriptor() -> Path:
    """The repository's datapackage.json (the package's source lives in tools/eurasec)."""
    return Path(eurasec.__file__).resolve().parents[2] / DESCRIPTOR_NAME


# --- generation -------------------------------------------------------------------------


def _fields(descriptor: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """resource name -> {"fields": [...names], "enums": {field: values}, "pk": [...], "path": ...}."""
    out = {}
    for resource in descriptor["resources"]:
        schema = resource["schema"]
        out[resource["name"]] = {
            "path": resource["path"],
            "fields": [f["name"] for f in schema["fields"]],
            "enums": {
                f["name"]: f["constraints"]["enum"] for f in schema["fields"] if f.get("constraints", {}).get("enum")
            },
            "types": {f["name"]: f["type"] for f in schema["fields"]},
            "pk": list(schema.get("primaryKey", [])),
        }
    return out


def _passages(text: str, rng: random.Random, count: int) -> list[str]:
    """Word-aligned passages of single lines of text, trimmed, none starting like a formula."""
    words_by_line = [
        (line, [m.span() for m in re.finditer(r"\S+", line)]) for line in text.split("\n") if len(line.split()) >= 4
    ]
    out: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < count and attempts < count * 20:
        attempts += 1
        line, words = rng.choice(words_by_line)
        length = rng.randint(3, min(40, len(words)))
        start = rng.randrange(len(words) - length + 1)
        passage = line[words[start][0] : words[start + length - 1][1]]
        if passage[0] in "=+-@" or passage in seen:
            continue
        seen.add(passage)
        out.append(passage)
    return out


def _plan(rows: int) -> dict[str, int]:
    """How many rows each table gets (aliases = one per entity)."""
    documents = min(MAX_DOCUMENTS, max(1, rows // ROWS_PER_DOCUMENT))
    budget = max(rows - documents, 0)
    numbered = min(MAX_NUMBERED, max(1, budget // documents // 200))
    rest = max(budget - 2 * numbered * documents, 0)
    n = {name: rest * share // 100 for name, share in SHARES.items()}
    n["actors"] = max(n["actors"], 2)
    n["organizations"] = max(n["organizations"], 2)
    n["initiatives"] = max(n["initiatives"], 2)
    # Link tables can hold at most the distinct keys there are; stay well below so that sampling is quick.
    n["initiative_actors"] = min(n["initiative_actors"], n["initiatives"] * n["actors"] * 6 // 4)
    n["initiative_organizations"] = min(n["initiative_organizations"], n["initiatives"] * n["organizations"] * 3 // 4)
    n["affiliations"] = min(n["affiliations"], n["actors"] * n["organizations"] * 3 // 4)
    n["initiative_parts"] = min(n["initiative_parts"], n["initiatives"] * (n["initiatives"] - 1) // 4)
    return {
        "documents": documents,
        **n,
        "aliases": n["actors"] + n["organizations"] + n["initiatives"],
        "trends": numbered * documents,
        "steps": numbered * documents,
    }


def _write_csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _unique_links(count: int, draw: Callable[[], tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    seen: set[tuple[Any, ...]] = set()
    while len(seen) < count:
        seen.add(draw())
    return sorted(seen)


def generate(
    out: Path, rows: int, seed: int = 0, *, descriptor: Path | None = None, real_seed: Path | None = None
) -> dict[str, int]:
    """Write a valid synthetic package of about `rows` rows to `out`; returns the rows written per table."""
    out = Path(out)
    descriptor = Path(descriptor) if descriptor else default_descriptor()
    real_seed = Path(real_seed) if real_seed else descriptor.parent / REAL_SEED
    spec = _fields(json.loads(descriptor.read_text(encoding="utf-8")))
    base_text = real_seed.read_bytes().decode("utf-8")
    rng = random.Random(seed)
    plan = _plan(rows)
    n_docs = plan["documents"]
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "seeds").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(descriptor, out / DESCRIPTOR_NAME)

    def enum(table: str, field: str, i: int) -> str:
        values = spec[table]["enums"][field]
        return values[i % len(values)]

    # Entities: ids zero-padded so that string order is numeric order; each belongs to one document.
    def ids(prefix: str, count: int) -> list[str]:
        return [f"{prefix}-{i:07d}" for i in range(1, count + 1)]

    entities = {
        "actors": ids("actor", plan["actors"]),
        "organizations": ids("organization", plan["organizations"]),
        "initiatives": ids("initiative", plan["initiatives"]),
    }
    doc_ids = [f"synthetic-{d:03d}" for d in range(1, n_docs + 1)]

    def doc_of(index: int, count: int) -> int:
        return index * n_docs // count

    # Aliases: one token per entity, in the appendix of the entity's document.
    alias_rows: list[list[str]] = []
    tokens_in_doc: list[int] = [0] * n_docs
    alias_slots = {"actors": 2, "organizations": 3, "initiatives": 4}  # column of the entity id in aliases
    alias_kinds = spec["aliases"]["enums"]["kind"]
    per_doc_aliases: list[list[tuple[int, str, int]]] = [[] for _ in range(n_docs)]  # (token, table, index)
    for table, table_ids in entities.items():
        for index in range(len(table_ids)):
            d = doc_of(index, len(table_ids))
            per_doc_aliases[d].append((tokens_in_doc[d], table, index))
            tokens_in_doc[d] += 1

    numbered = plan["trends"] // n_docs
    texts: list[str] = []
    lines_of_doc: list[list[str]] = []
    for d in range(n_docs):
        lines_count = max(-(-tokens_in_doc[d] // TOKENS_PER_LINE), numbered, 1)
        tokens = [f"d{d + 1:03d}t{t:06d}" for t in range(lines_count * TOKENS_PER_LINE)]
        lines = [" ".join(tokens[i : i + TOKENS_PER_LINE]) for i in range(0, len(tokens), TOKENS_PER_LINE)]
        lines_of_doc.append(lines)
        title = f"Synthetic document {d + 1:03d}"
        texts.append(base_text.rstrip("\n") + f"\n\n{title}: appendix\n\n" + "\n".join(lines) + "\n")
    for d, aliases in enumerate(per_doc_aliases):
        for token, table, index in aliases:
            line = lines_of_doc[d][token // TOKENS_PER_LINE]
            alias = line.split(" ")[token % TOKENS_PER_LINE]
            row = [doc_ids[d], alias, "", "", "", alias_kinds[(token + index) % len(alias_kinds)], line]
            row[alias_slots[table]] = entities[table][index]
            alias_rows.append(row)

    pools = [_passages(base_text, random.Random(f"{seed}:{d}"), PASSAGES_PER_DOCUMENT) for d in range(n_docs)]

    def quote(d: int) -> str:
        return rng.choice(pools[d])

    written: dict[str, int] = {}

    def write(table: str, table_rows: list[list[Any]]) -> None:
        types = spec[table]["types"]
        pk = [spec[table]["fields"].index(name) for name in spec[table]["pk"]]
        ints = {i for i in pk if types[spec[table]["fields"][i]] == "integer"}
        table_rows.sort(key=lambda r: tuple(int(r[i]) if i in ints else r[i] for i in pk))
        _write_csv(out / spec[table]["path"], spec[table]["fields"], table_rows)
        written[table] = len(table_rows)

    # documents
    doc_rows = []
    for d, doc in enumerate(doc_ids):
        raw = texts[d].encode("utf-8")
        path = f"seeds/{doc}.txt"
        (out / path).write_bytes(raw)
        precision = enum("documents", "date_precision", d)
        date = {"day": f"2024-12-{d % 28 + 1:02d}", "month": f"2024-{d % 12 + 1:02d}-01", "year": "2024-01-01"}
        doc_rows.append(
            [
                doc,
                f"Synthetic document {d + 1:03d}",
                f"Synthetic Author {d + 1:03d}",
                "Synthetic Publisher",
                "Synthetic Republisher" if d % 2 else "",
                f"https://example.org/synthetic/{d + 1:03d}",
                f"https://example.com/original/{d + 1:03d}" if d % 3 == 0 else "",
                "en",
                date.get(precision, ""),
                precision,
                "The synthetic text gives no date." if precision == "unknown" else "",
                path,
                hashlib.sha256(raw).hexdigest(),
                len(raw),
                "Synthetic text for tests and benchmarks; the appendix is generated.",
            ]
        )
    write("documents", doc_rows)

    # actors
    rows_out: list[list[Any]] = []
    for i, actor in enumerate(entities["actors"]):
        d = doc_of(i, len(entities["actors"]))
        kind = enum("actors", "kind", i)
        iso = "".join(chr(65 + (i // 26**k) % 26) for k in range(3)) if kind == "state" else ""
        rows_out.append(
            [
                actor,
                f"Actor {i + 1:07d}",
                kind,
                f"Description of actor {i + 1}" if i % 3 == 0 else "",
                f"Q{i + 1}" if i % 4 == 1 else "",
                iso if i % 2 else "",
                doc_ids[d],
                quote(d),
            ]
        )
    write("actors", rows_out)

    # organizations (every tenth after the first has a parent: the first organization of its block)
    rows_out = []
    for i, org in enumerate(entities["organizations"]):
        d = doc_of(i, len(entities["organizations"]))
        parent = entities["organizations"][i - i % 10] if i % 10 == 5 else ""
        rows_out.append(
            [
                org,
                f"Organization {i + 1:07d}",
                f"ORG{i + 1}" if i % 2 == 0 else "",
                enum("organizations", "kind", i),
                parent,
                f"Q{1_000_000 + i}" if i % 5 == 2 else "",
                doc_ids[d],
                quote(d),
            ]
        )
    write("organizations", rows_out)

    # initiatives
    rows_out = []
    for i, initiative in enumerate(entities["initiatives"]):
        d = doc_of(i, len(entities["initiatives"]))
        rows_out.append(
            [
                initiative,
                f"Initiative {i + 1:07d}",
                enum("initiatives", "kind", i),
                str(1990 + i % 40) if i % 3 else "",
                enum("initiatives", "status", i),
                doc_ids[d],
                quote(d),
            ]
        )
    write("initiatives", rows_out)

    n_act, n_org, n_ini = (len(entities[t]) for t in ("actors", "organizations", "initiatives"))

    def initiative_doc(i: int) -> int:
        return doc_of(i, n_ini)

    # initiative_parts: (initiative, part), never itself
    def draw_part() -> tuple[int, int]:
        a = rng.randrange(n_ini)
        b = rng.randrange(n_ini - 1)
        return a, b + (b >= a)

    rows_out = []
    for a, b in _unique_links(plan["initiative_parts"], draw_part):
        d = initiative_doc(a)
        rows_out.append([entities["initiatives"][a], entities["initiatives"][b], doc_ids[d], quote(d)])
    write("initiative_parts", rows_out)

    # initiative_actors and initiative_organizations: (initiative, other, role), cited where the initiative is
    for table, other in (("initiative_actors", "actors"), ("initiative_organizations", "organizations")):
        roles = spec[table]["enums"]["role"]
        size = len(entities[other])
        rows_out = []

        def draw(size: int = size, roles: list[str] = roles) -> tuple[int, int, int]:
            return rng.randrange(n_ini), rng.randrange(size), rng.randrange(len(roles))

        for a, b, r in _unique_links(plan[table], draw):
            d = initiative_doc(a)
            rows_out.append([entities["initiatives"][a], entities[other][b], roles[r], doc_ids[d], quote(d)])
        write(table, rows_out)

    # affiliations
    relations = spec["affiliations"]["enums"]["relation"]
    positions = ["Director", "Deputy Director", "Secretary General", "Chair", "Research Fellow"]
    rows_out = []
    for a, b, r in _unique_links(
        plan["affiliations"],
        lambda: (rng.randrange(n_act), rng.randrange(n_org), rng.randrange(len(relations))),
    ):
        d = doc_of(a, n_act)
        relation = relations[r]
        position = positions[(a + b) % len(positions)] if relation == "staff" else ""
        rows_out.append([entities["actors"][a], entities["organizations"][b], relation, position, doc_ids[d], quote(d)])
    write("affiliations", rows_out)

    # trends: quote = an appendix line, title = its first two tokens, text = the rest
    rows_out = []
    for d, doc in enumerate(doc_ids):
        for number in range(1, numbered + 1):
            line = lines_of_doc[d][(number - 1) % len(lines_of_doc[d])]
            tokens = line.split(" ")
            rows_out.append([doc, number, " ".join(tokens[:2]), " ".join(tokens[2:]), line])
    write("trends", rows_out)

    # steps: text = quote = a passage
    rows_out = []
    for d, doc in enumerate(doc_ids):
        for number in range(1, numbered + 1):
            passage = quote(d)
            rows_out.append([doc, number, passage, passage])
    write("steps", rows_out)

    write("aliases", alias_rows)
    return {name: written[name] for name in spec if name in written}


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
    "doubled-space",
    "formula",
)

ACTORS = "data/actors.csv"
INITIATIVES = "data/initiatives.csv"
INITIATIVE_ACTORS = "data/initiative_actors.csv"
TRENDS = "data/trends.csv"


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
    lines = _read_lines(package, TRENDS)
    by_doc: dict[str, list[int]] = defaultdict(list)
    for n in _data_lines(lines):
        by_doc[_cells(lines[n - 1])[0]].append(n)
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
            cells[1] = str(MAX_NUMBERED + 1 + offset)
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
    does not have the same initiative and actor (then the edited row would sort after it)."""
    lines = _read_lines(package, INITIATIVE_ACTORS)
    rows = {n: _cells(lines[n - 1]) for n in _data_lines(lines)}
    last = len(lines) - 1
    candidates = [n for n, cells in rows.items() if n == last or rows[n + 1][:2] != cells[:2]]
    chosen = _pick(rng, candidates, count, "foreign-key")
    for n in chosen:
        cells = rows[n]
        cells[1] += "-missing"
        lines[n - 1] = _line(cells)
    _write_lines(package, INITIATIVE_ACTORS, lines)
    return [("foreign-key", INITIATIVE_ACTORS, n) for n in chosen]


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
        return _edit_cells(package, ACTORS, rng, count, kind, "constraint-error", "name", lambda v: "")
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
        return _edit_cells(
            package, ACTORS, rng, count, kind, "quote-not-found", "quote", lambda v: v + " (not in the seed)"
        )
    if kind == "doubled-space":
        return _edit_cells(
            package,
            ACTORS,
            rng,
            count,
            kind,
            "doubled-space",
            "name",
            lambda v: v.replace(" ", "  ", 1),
            lambda row: " " in row["name"],
        )
    if kind == "formula":
        return _edit_cells(package, ACTORS, rng, count, kind, "formula", "description", lambda v: "=HYPERLINK(1)")
    raise ValueError(f"unknown fault kind {kind!r}; the kinds are: {', '.join(KINDS)}")

"""A made-up second seed document and the rows a contributor adds for it, the way CONTRIBUTING.md says.

`contribute(pkg, downloads)` plays the contributor on the package folder `pkg` (a copy, edited in place):

1. The text they saved (composed here, in `downloads/`, outside the package) is an English translation
   of an original whose text we do not hold: `eurasec add-document --no-text` registers the original,
   and `eurasec add-document FILE --translation-of ORIGINAL --retrieved-date … --archive-url …` copies
   the text byte-exact into `seeds/` and adds its documents row.
2. For every fact row, `eurasec quote` gives the offsets: the row's start,end are pasted from its
   `start,end = S,E` line, and where the passage occurs twice, from the line of the occurrence meant.
3. The rows are appended at the ends of the files, out of canonical order, as a contributor's editor
   would: `eurasec fmt` is what puts them in place.

The second document shares what a second source shares with the first (the premises are asserted):

- a new actor (a made-up state), with its citation, its alias and its membership of an organization
  the data already has;
- a citation of an actor the first document also cites (`belarus`, found by key; another cited actor
  if the data had no `belarus`), whose quote occurs twice in the new seed and is cited at its SECOND
  occurrence;
- a relation the first document also asserts (the first row of actor_relations, as the file has it):
  the same actor_id, other_actor_id and relation, one row per citation;
- if asked, a trend and a step of its own.

The seed is composed here, about a made-up state, so that no real data will ever clash with it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from eurasec.cli import cli

SHARED_ACTOR = "belarus"  # the entity both documents cite, when the data has it
PASTE = re.compile(r"^\s*start,end = ([0-9]+),([0-9]+)\b", re.MULTILINE)  # `eurasec quote`'s line to paste


@dataclass
class Contribution:
    """What was added: the seeds' ids, and for every table the rows (header → text) in the order appended."""

    document_id: str  # the new seed document
    original_id: str  # the document it translates, registered without stored text
    seed_path: str
    seed_text: str
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    shared_actor: str = ""  # the actor both documents cite
    relation: dict[str, str] = field(default_factory=dict)  # the existing relation row the new one repeats
    twice: dict[str, str] = field(default_factory=dict)  # the citation of the quote that occurs twice...
    occurrences: list[tuple[int, int]] = field(default_factory=list)  # ...and where it occurs, in order

    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def header(pkg: Path, table: str) -> list[str]:
    with (pkg / "data" / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def rows_of(pkg: Path, table: str) -> list[dict[str, str]]:
    with (pkg / "data" / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def append_row(pkg: Path, table: str, values: dict[str, str]) -> dict[str, str]:
    """Append one row at the end of a table, in the file's own column order (unnamed columns empty)."""
    names = header(pkg, table)
    assert set(values) <= set(names), f"{table} has no column {set(values) - set(names)}"
    row = {name: values.get(name, "") for name in names}
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([row[name] for name in names])
    path = pkg / "data" / f"{table}.csv"
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n"), f"{path} lacks its final newline"
    path.write_text(text + out.getvalue(), encoding="utf-8")
    return row


def by_id(pkg: Path, table: str, key: str) -> dict[str, str]:
    found = [row for row in rows_of(pkg, table) if row["id"] == key]
    assert len(found) == 1, f"{table}: {len(found)} rows have the id {key!r}"
    return found[0]


def organization(pkg: Path, preferred: str = "csto") -> dict[str, str]:
    """An organization the data already has: `preferred` if it is there, else the first one."""
    organizations = rows_of(pkg, "organizations")
    assert organizations, "the data has no organization to be a member of"
    return next((o for o in organizations if o["id"] == preferred), organizations[0])


def shared_actor(pkg: Path) -> dict[str, str]:
    """An actor that the data already cites: `belarus` if it does, else the first one cited."""
    cited = sorted({row["actor_id"] for row in rows_of(pkg, "actor_citations")})
    assert cited, "the data cites no actor"
    return by_id(pkg, "actors", SHARED_ACTOR if SHARED_ACTOR in cited else cited[0])


def in_quote(pkg: Path, table: str) -> list[str]:
    """The fields of a table whose values must appear verbatim in the row's quote ("eurasec:inQuote")."""
    raw = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    (resource,) = [r for r in raw["resources"] if r["name"] == table]
    return [f["name"] for f in resource["schema"]["fields"] if f.get("eurasec:inQuote") is True]


def run(*args: str | Path) -> tuple[int, str, str]:
    """The `eurasec` command, as a contributor runs it: (exit status, stdout, stderr)."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def quoted(pkg: Path, document_id: str, text: str) -> list[tuple[int, int]]:
    """`eurasec quote DOCUMENT_ID TEXT`: the start,end of every occurrence, as its lines to paste give them."""
    status, out, err = run("quote", document_id, text, "--descriptor", pkg / "datapackage.json")
    assert status == 0, out + err  # the text is in the seed exactly
    return [(int(a), int(b)) for a, b in PASTE.findall(out)]


def contribute(
    pkg: Path,
    downloads: Path,
    *,
    document_id: str | None = None,
    state: str | None = None,
    trend_and_step: bool = False,
) -> Contribution:
    """Apply the contribution to the package folder `pkg`; the saved text goes to the folder `downloads`.

    By default the document's id and the new state's name are ones the package does not have yet, so the
    story holds on a package that a contributor has already added to (even with this very story)."""
    documents = {d["id"] for d in rows_of(pkg, "documents")}
    actors = {a["id"] for a in rows_of(pkg, "actors")}
    if document_id is None:
        document_id = next(
            f"contributor-steppe-security-notes{suffix}"
            for suffix in ("", *(f"-{n}" for n in range(2, 100)))
            if f"contributor-steppe-security-notes{suffix}" not in documents
            and f"contributor-steppe-security-notes{suffix}-original" not in documents
        )
    if state is None:
        state = next(name for name in ("Sylvania", "Freedonia", "Ruritania", "Latveria") if name.lower() not in actors)
    actor_id = state.lower()
    original_id = f"{document_id}-original"
    member_of = organization(pkg)
    shared = shared_actor(pkg)
    relation = rows_of(pkg, "actor_relations")[0]  # a relation the first document asserts, as the file has it
    one, other = by_id(pkg, "actors", relation["actor_id"]), by_id(pkg, "actors", relation["other_actor_id"])
    known = {d["id"] for d in rows_of(pkg, "documents")}
    assert document_id not in known and original_id not in known, document_id
    assert actor_id not in {a["id"] for a in rows_of(pkg, "actors")}, actor_id

    title = f"Notes on Security in the Steppe: {state} and Its Neighbours"
    trend_title = "Connectivity as security"
    trend_text = (
        "Roads, railways and pipelines across the steppe bind the interests of neighbours together "
        "and make conflict costly for all of them."
    )
    step_text = "regular consultations of border services along the steppe corridors"
    actor_quote = f"The Republic of {state}"
    member_quote = f"{state} is a member of the {member_of['name']}"
    twice_quote = f"our neighbour {shared['name']}"
    relation_quote = f"{one['name']} is the {relation['relation'].replace('-', ' ')} of {other['name']}"
    # A value that must stand in the quote (eurasec:inQuote, such as a position) goes in front of it.
    relation_quote = " ".join(
        [*(relation[f] for f in in_quote(pkg, "actor_relations") if relation[f] not in relation_quote), relation_quote]
    ).strip()
    # A few paragraphs of plain text, in the seed's own typography: an en dash and curly quotes.
    seed_text = (
        f"{title}\n"
        "\n"
        "Author: A. Contributor (translated from the author's original)\n"
        "\n"
        "This text is composed for the eurasec test suite. It plays the part of a second seed document, "
        "so that every check can be seen to hold when the dataset cites more than one source.\n"
        "\n"
        f"{actor_quote} has long described itself as a bridge between Europe and Asia – a “crossroads” "
        f"rather than a frontier. {member_quote} and takes part in its exercises, while keeping its own "
        "counsel on questions of neutrality.\n"
        "\n"
        f"This note speaks of {twice_quote} first in passing. As the other seed says too, {relation_quote}. "
        f"Later the note comes back to {twice_quote}, and this second mention is the one the data cites.\n"
        "\n"
        f"1. {trend_title}. {trend_text}\n"
        "\n"
        f"The text proposes a practical step: {step_text}.\n"
        "\n"
        "Nothing in this note is a real quotation of any official; it exists only to be quoted by tests.\n"
    )
    # The premises: the passage cited at its second occurrence occurs exactly twice; every other quote once.
    assert seed_text.count(twice_quote) == 2 and seed_text.find(twice_quote, seed_text.find(twice_quote) + 1) > 0
    for once in (actor_quote, member_quote, relation_quote, trend_title, trend_text, step_text):
        assert seed_text.count(once) == 1, once

    # 1. Register the original (no text stored), then the translation that was saved, byte-exact.
    descriptor = pkg / "datapackage.json"
    saved = downloads / f"{document_id}.txt"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_bytes(seed_text.encode("utf-8"))
    common = ("--author", "A. Contributor", "--publisher", "eurasec test suite", "--descriptor", descriptor)
    licence = ("--license-note", "Composed for the test suite; not a real text, and no licence covers it.")
    status, out, err = run(
        "add-document", "--no-text", "--id", original_id, "--title", f"{title} (original)",
        "--url", f"https://example.org/{original_id}", "--language", "ru",
        "--date-note", "The original carries no date.", *licence, *common,
    )  # fmt: skip
    assert status == 0, out + err
    status, out, err = run(
        "add-document", saved, "--id", document_id, "--title", title,
        "--url", f"https://example.org/{document_id}", "--language", "en", "--translation-of", original_id,
        "--retrieved-date", "2025-01-31", "--archive-url", f"https://web.archive.org/web/2025/https://example.org/{document_id}",
        "--date-note", "The text carries no date.", *licence, *common,
    )  # fmt: skip
    assert status == 0, out + err
    seed_path = f"seeds/{document_id}.txt"
    readme = pkg / "seeds" / "README.md"
    if readme.exists():  # CONTRIBUTING.md: add the document to the licence note
        with readme.open("a", encoding="utf-8") as handle:
            handle.write(f"- `{document_id}.txt`: composed for the test suite; not a real text.\n")

    added = Contribution(
        document_id=document_id,
        original_id=original_id,
        seed_path=seed_path,
        seed_text=seed_text,
        shared_actor=shared["id"],
        relation=relation,
    )
    # The documents rows are add-document's, already in their places.
    added.rows["documents"] = [d for d in rows_of(pkg, "documents") if d["id"] in (original_id, document_id)]

    # 2. Every fact row's offsets from `eurasec quote`: its one occurrence, or the occurrence meant.
    def cite(quote: str, occurrence: int = 0) -> dict[str, str]:
        found = quoted(pkg, document_id, quote)
        assert len(found) == seed_text.count(quote), (quote, found)
        start, end = found[occurrence]
        return {"document_id": document_id, "start": str(start), "end": str(end), "quote": quote}

    def add(table: str, values: dict[str, str]) -> dict[str, str]:
        if "quote" in values:  # the premise: every citation points at its quote
            assert seed_text[int(values["start"]) : int(values["end"])] == values["quote"], values
        row = append_row(pkg, table, values)
        added.rows.setdefault(table, []).append(row)
        return row

    add("actors", {"id": actor_id, "name": state, "kind": "state"})
    add("actor_citations", {"actor_id": actor_id, **cite(actor_quote)})
    added.occurrences = quoted(pkg, document_id, twice_quote)
    added.twice = add("actor_citations", {"actor_id": shared["id"], **cite(twice_quote, occurrence=1)})
    add("aliases", {"alias": state, "actor_id": actor_id, "kind": "name", **cite(member_quote)})
    add(
        "affiliations",
        {"actor_id": actor_id, "organization_id": member_of["id"], "relation": "member", **cite(member_quote)},
    )
    same = ("actor_id", "other_actor_id", "relation", "position")
    add("actor_relations", {**{name: relation[name] for name in same}, **cite(relation_quote)})
    if trend_and_step:
        trend_quote = f"1. {trend_title}. {trend_text}"
        add("trends", {"number": "1", "title": trend_title, "text": trend_text, **cite(trend_quote)})
        add("steps", {"number": "1", "text": step_text, **cite(step_text)})
    return added

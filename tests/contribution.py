"""A made-up second seed document and the rows a contributor adds for it, as CONTRIBUTING.md says.

`contribute(pkg)` writes a seed text into `pkg/seeds/`, computes its sha256 and size, and appends
the documents row, an actor cited from the new seed, the actor's alias and its membership of an
organization the data already has (and, if asked, a trend and a step of the new document). Rows
are appended at the end of each file, out of canonical order, as a contributor's editor would:
`eurasec fmt` is what puts them in place.

The seed is composed here, about a made-up state, so that no real data will ever clash with it.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Contribution:
    """What was added: the seed, and for every table the rows (header → text) in the order appended."""

    document_id: str
    seed_path: str
    seed_text: str
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)

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


def organization(pkg: Path, preferred: str = "csto") -> dict[str, str]:
    """An organization the data already has: `preferred` if it is there, else the first one."""
    organizations = rows_of(pkg, "organizations")
    assert organizations, "the data has no organization to be a member of"
    return next((o for o in organizations if o["id"] == preferred), organizations[0])


def contribute(
    pkg: Path,
    *,
    document_id: str = "contributor-steppe-security-notes",
    state: str = "Sylvania",
    trend_and_step: bool = False,
) -> Contribution:
    """Apply the contribution to the package folder `pkg` (a copy: it is edited in place)."""
    actor_id = state.lower()
    seed_path = f"seeds/{document_id}.txt"
    member_of = organization(pkg)
    assert document_id not in {d["id"] for d in rows_of(pkg, "documents")}, document_id
    assert actor_id not in {a["id"] for a in rows_of(pkg, "actors")}, actor_id
    assert not (pkg / seed_path).exists(), seed_path

    title = f"Notes on Security in the Steppe: {state} and Its Neighbours"
    trend_title = "Connectivity as security"
    trend_text = (
        "Roads, railways and pipelines across the steppe bind the interests of neighbours together "
        "and make conflict costly for all of them."
    )
    step_text = "regular consultations of border services along the steppe corridors"
    actor_quote = f"The Republic of {state}"
    member_quote = f"{state} is a member of the {member_of['name']}"
    # A few paragraphs of plain text, in the seed's own typography: an en dash and curly quotes.
    seed_text = (
        f"{title}\n"
        "\n"
        "Author: A. Contributor\n"
        "\n"
        "This text is composed for the eurasec test suite. It plays the part of a second seed document, "
        "so that every check can be seen to hold when the dataset cites more than one source.\n"
        "\n"
        f"{actor_quote} has long described itself as a bridge between Europe and Asia – a “crossroads” "
        f"rather than a frontier. {member_quote} and takes part in its exercises, while keeping its own "
        "counsel on questions of neutrality.\n"
        "\n"
        f"1. {trend_title}. {trend_text}\n"
        "\n"
        f"The text proposes a practical step: {step_text}.\n"
        "\n"
        "Nothing in this note is a real quotation of any official; it exists only to be quoted by tests.\n"
    )
    data = seed_text.encode("utf-8")
    (pkg / seed_path).write_bytes(data)
    readme = pkg / "seeds" / "README.md"
    if readme.exists():  # CONTRIBUTING.md: add the document to the licence note
        with readme.open("a", encoding="utf-8") as handle:
            handle.write(f"- `{document_id}.txt`: composed for the test suite; not a real text.\n")

    added = Contribution(document_id=document_id, seed_path=seed_path, seed_text=seed_text)

    def add(table: str, values: dict[str, str]) -> None:
        if "quote" in values:
            assert values["quote"] in seed_text, values["quote"]  # the premise: every quote is verbatim
        added.rows.setdefault(table, []).append(append_row(pkg, table, values))

    add(
        "documents",
        {
            "id": document_id,
            "title": title,
            "author": "A. Contributor",
            "publisher": "eurasec test suite",
            "url": f"https://example.org/{document_id}",
            "language": "en",
            "date_precision": "unknown",
            "date_note": "The text carries no date.",
            "path": seed_path,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": str(len(data)),
            "license_note": "Composed for the test suite; not a real text, and no licence covers it.",
        },
    )
    add(
        "actors",
        {"id": actor_id, "name": state, "kind": "state", "document_id": document_id, "quote": actor_quote},
    )
    add(
        "aliases",
        {"document_id": document_id, "alias": state, "actor_id": actor_id, "kind": "name", "quote": member_quote},
    )
    add(
        "affiliations",
        {
            "actor_id": actor_id,
            "organization_id": member_of["id"],
            "relation": "member",
            "document_id": document_id,
            "quote": member_quote,
        },
    )
    if trend_and_step:
        add(
            "trends",
            {
                "document_id": document_id,
                "number": "1",
                "title": trend_title,
                "text": trend_text,
                "quote": f"1. {trend_title}. {trend_text}",
            },
        )
        add("steps", {"document_id": document_id, "number": "1", "text": step_text, "quote": step_text})
    return added

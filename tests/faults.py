"""The corpus of broken packages: each fault is one small edit to a copy of the real package.

Every fault names what a contributor did and what validate must report: the code, the
file and the line. The expected line is the line the edit touched, so the expectation
comes from the edit itself, not from the validator's output.

No line number is written down: each fault finds the row it edits by its key (an actor's id,
a document's step number...) in the real package's CSVs, and takes the line from there. The
corpus therefore holds for any valid data, however many documents and rows it has, as long as
the rows it edits (the Stakhovsky document's) are there.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .conftest import (
    ROOT,
    STAKHOVSKY,
    csv_rows,
    file_of,
    find_row,
    last_line,
    line_of,
    located_rows,
    resources,
    sorted_line,
)

Expected = tuple[str, str, int | None]  # (code, file, line)


@dataclass(frozen=True)
class Fault:
    name: str
    story: str
    apply: Callable[[Path], None]
    expect: frozenset[Expected]


# --- edits ------------------------------------------------------------------------------


def lines_of(pkg: Path, file: str) -> list[str]:
    return (pkg / file).read_bytes().decode("utf-8").split("\n")


def write_lines(pkg: Path, file: str, lines: list[str]) -> None:
    (pkg / file).write_bytes("\n".join(lines).encode("utf-8"))


def edit_line(file: str, line: int, old: str, new: str) -> Callable[[Path], None]:
    """Replace old by new on one physical line (1-based); fail loudly if old is not there."""

    def apply(pkg: Path) -> None:
        lines = lines_of(pkg, file)
        assert old in lines[line - 1], f"{file}:{line} has no {old!r}: {lines[line - 1]!r}"
        lines[line - 1] = lines[line - 1].replace(old, new, 1)
        write_lines(pkg, file, lines)

    return apply


def insert_line(file: str, line: int, text: str) -> Callable[[Path], None]:
    """Insert a line so that it becomes line number `line`."""

    def apply(pkg: Path) -> None:
        lines = lines_of(pkg, file)
        lines.insert(line - 1, text)
        write_lines(pkg, file, lines)

    return apply


def copy_line(file: str, source: int, line: int, old: str = "", new: str = "") -> Callable[[Path], None]:
    """Insert a copy of line `source` (optionally edited) as line number `line`."""

    def apply(pkg: Path) -> None:
        lines = lines_of(pkg, file)
        text = lines[source - 1]
        if old:
            assert old in text
            text = text.replace(old, new, 1)
        lines.insert(line - 1, text)
        write_lines(pkg, file, lines)

    return apply


def swap_lines(file: str, a: int, b: int) -> Callable[[Path], None]:
    def apply(pkg: Path) -> None:
        lines = lines_of(pkg, file)
        lines[a - 1], lines[b - 1] = lines[b - 1], lines[a - 1]
        write_lines(pkg, file, lines)

    return apply


def bytes_edit(file: str, fn: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def apply(pkg: Path) -> None:
        path = pkg / file
        path.write_bytes(fn(path.read_bytes()))

    return apply


def descriptor_edit(fn: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(pkg: Path) -> None:
        path = pkg / "datapackage.json"
        descriptor = json.loads(path.read_text(encoding="utf-8"))
        fn(descriptor)
        path.write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    return apply


def resource(descriptor: dict, name: str) -> dict:
    return next(r for r in descriptor["resources"] if r["name"] == name)


def field(descriptor: dict, table: str, name: str) -> dict:
    return next(f for f in resource(descriptor, table)["schema"]["fields"] if f["name"] == name)


def both(*edits: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(pkg: Path) -> None:
        for edit in edits:
            edit(pkg)

    return apply


def make_directory(file: str) -> Callable[[Path], None]:
    def apply(pkg: Path) -> None:
        (pkg / file).unlink()
        (pkg / file).mkdir()

    return apply


def remove(file: str) -> Callable[[Path], None]:
    return lambda pkg: (pkg / file).unlink()


def drop_last_cell(file: str, line: int) -> Callable[[Path], None]:
    def apply(pkg: Path) -> None:
        lines = lines_of(pkg, file)
        (cells,) = list(csv.reader([lines[line - 1]]))
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(cells[:-1])
        lines[line - 1] = out.getvalue()
        write_lines(pkg, file, lines)

    return apply


def add_column(file: str, name: str, value: str) -> Callable[[Path], None]:
    def apply(pkg: Path) -> None:
        lines = lines_of(pkg, file)
        body = [line for line in lines if line]
        write_lines(pkg, file, [body[0] + "," + name] + [line + "," + value for line in body[1:]] + [""])

    return apply


def edit_line_bytes(file: str, line: int, old: bytes, new: bytes) -> Callable[[Path], None]:
    """Replace old by new on one physical line, as bytes (for edits that are not valid UTF-8)."""

    def apply(pkg: Path) -> None:
        lines = (pkg / file).read_bytes().split(b"\n")
        assert old in lines[line - 1], f"{file}:{line} has no {old!r}"
        lines[line - 1] = lines[line - 1].replace(old, new, 1)
        (pkg / file).write_bytes(b"\n".join(lines))

    return apply


def seed_symlink(pkg: Path) -> None:
    """Point the document at a symlink to the (correct) seed: the bytes match, the path is unsafe."""
    seed = DOCUMENT["path"].removeprefix("seeds/")
    os.symlink(seed, pkg / "seeds" / "link.txt")
    edit_line(D, DOC_LINE, f",{DOCUMENT['path']},", ",seeds/link.txt,")(pkg)


def drop_column(file: str, index: int) -> Callable[[Path], None]:
    """Remove one column from every line of a file whose cells hold no commas in that column's range."""

    def apply(pkg: Path) -> None:
        rows = list(csv.reader(io.StringIO((pkg / file).read_text(encoding="utf-8"), newline="")))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([r[:index] + r[index + 1 :] for r in rows])
        (pkg / file).write_text(out.getvalue(), encoding="utf-8")

    return apply


# --- the corpus -------------------------------------------------------------------------
# Every line below is looked up by key in the real files (sorted by primary key): the rows edited
# are the Stakhovsky document's own, and nothing assumes it is the only document.

A, AC, S, T, D, AL, INI = (
    "data/actors.csv",
    "data/actor_citations.csv",
    "data/steps.csv",
    "data/trends.csv",
    "data/documents.csv",
    "data/aliases.csv",
    "data/initiatives.csv",
)
DP = "datapackage.json"
DOC = STAKHOVSKY
DOCUMENT = find_row("documents", id=DOC)
DOC_LINE = line_of(D, id=DOC)
SEED = DOCUMENT["path"]
SIZE = int(DOCUMENT["bytes"])


def actor(id: str) -> int:
    return line_of(A, id=id)


def citation(actor_id: str) -> int:
    """The line of the actor's one citation from the document (the corpus edits actors cited once)."""
    return line_of(AC, actor_id=actor_id, document_id=DOC)


def alias(name: str) -> int:
    return line_of(AL, document_id=DOC, alias=name)


def step(number: int) -> int:
    return line_of(S, document_id=DOC, number=str(number))


def trend(number: int) -> int:
    return line_of(T, document_id=DOC, number=str(number))


def last_number(table: str) -> int:
    """The document's highest trend or step number (they run 1, 2, 3...)."""
    return max(int(row["number"]) for row in csv_rows(table) if row["document_id"] == DOC)


LAST_STEP, LAST_TREND = last_number("steps"), last_number("trends")
# Ids the faults invent must not exist already, or the fault would be another one.
COPY_ID, UNKNOWN_ID, UNUSED_ACTOR = f"{DOC}-0", f"{DOC}-2", "zimbabwe"
assert not {COPY_ID, UNKNOWN_ID} & {row["id"] for row in csv_rows("documents")}
assert UNUSED_ACTOR not in {row["id"] for row in csv_rows("actors")}


def role_field(table: str, role: str) -> str | None:
    """The name of the table's field of this `eurasec:role` (never assumed from a name)."""
    return next((f["name"] for f in resources()[table]["schema"]["fields"] if f.get("eurasec:role") == role), None)


def first_line_quoting(table: str, document: str) -> int | None:
    """The line of the first row of a fact table (fields of roles `document` and `quote`) citing `document`."""
    document_field = role_field(table, "document")
    if document_field is None or role_field(table, "quote") is None:
        return None
    lines = [line for line, row in located_rows(file_of(table)) if row[document_field] == document]
    return lines[0] if lines else None


# When the seed fails its checks, every fact table says once (at its first row citing the
# document) that those quotes went unchecked.
QUOTES_UNCHECKED = [
    ("quote-document-unknown", file_of(name), line)
    for name in resources()
    if (line := first_line_quoting(name, DOC)) is not None
]

# A citation's offsets: China's from the document, and a step's as a count of UTF-8 bytes (what a
# contributor gets from a byte-oriented tool), which differs from the count of code points once the
# text before the quote has a character outside ASCII.
CHINA = find_row("actor_citations", actor_id="china", document_id=DOC)
STEP_ONE = find_row("steps", document_id=DOC, number="1")
SEED_TEXT = (ROOT / SEED).read_bytes().decode("utf-8")
STEP_ONE_BYTES = [len(SEED_TEXT[: int(STEP_ONE[at])].encode("utf-8")) for at in ("start", "end")]
assert STEP_ONE_BYTES != [int(STEP_ONE["start"]), int(STEP_ONE["end"])], "no character outside ASCII before step 1"


def textless_copy(pkg: Path) -> None:
    """Register a copy of the document without its text (path, sha256 and bytes empty), right below it."""
    row = dict(DOCUMENT, id=COPY_ID)
    for role in ("seed-path", "sha256", "bytes"):
        row[role_field("documents", role) or role] = ""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(list(row.values()))
    insert_line(D, DOC_LINE + 1, out.getvalue())(pkg)


def fault(name: str, story: str, apply: Callable[[Path], None], *expect: Expected) -> Fault:
    return Fault(name, story, apply, frozenset(expect))


FAULTS: list[Fault] = [
    # What frictionless finds.
    fault(
        "type-error",
        "a step number written as a word",
        edit_line(S, step(2), f"{DOC},2,", f"{DOC},two,"),
        ("type-error", S, step(2)),
    ),
    fault(
        "enum",
        "an actor kind misspelt",
        edit_line(A, actor("alexander-lukashenko"), ",person,", ",persn,"),
        ("constraint-error", A, actor("alexander-lukashenko")),
    ),
    fault(
        "pattern",
        "a Wikidata id without its Q",
        edit_line(A, actor("belarus"), ",Q184,", ",184,"),
        ("constraint-error", A, actor("belarus")),
    ),
    fault(
        "minimum",
        "a year before the minimum",
        edit_line(INI, line_of(INI, id="cyber-non-aggression-act"), ",2024,", ",1024,"),
        ("constraint-error", INI, line_of(INI, id="cyber-non-aggression-act")),
    ),
    fault(
        "maximum",
        "a trend number above the maximum",
        edit_line(T, trend(LAST_TREND), f"{DOC},{LAST_TREND},", f"{DOC},1000,"),
        ("constraint-error", T, trend(LAST_TREND)),
        ("numbering-gap", T, trend(LAST_TREND)),
    ),
    fault(
        "required",
        "an actor's name left empty",
        edit_line(A, actor("china"), ",China,", ",,"),
        ("constraint-error", A, actor("china")),
    ),
    fault(
        "primary-key",
        "an alias row pasted twice",
        copy_line(AL, alias("BRICS"), alias("BRICS") + 1),
        ("primary-key", AL, alias("BRICS") + 1),
    ),
    # Both copies of a referenced actor are used: the repeat is the one finding, not an unused entity.
    fault(
        "primary-key-entity",
        "an actor row pasted twice",
        copy_line(A, actor("belarus"), actor("belarus") + 1),
        ("primary-key", A, actor("belarus") + 1),
    ),
    fault(
        "unique",
        "two documents with the same seed path",
        # The copy's id sorts right after the original's, so the row stands in canonical order.
        copy_line(D, DOC_LINE, DOC_LINE + 1, f"{DOC},", f"{COPY_ID},"),
        ("unique-error", D, DOC_LINE + 1),
    ),
    fault(
        "foreign-key",
        "an alias pointing at an actor that does not exist",
        edit_line(AL, alias("Alexander Lukashenko"), ",alexander-lukashenko,", ",alexander-lukashenka,"),
        ("foreign-key", AL, alias("Alexander Lukashenko")),
    ),
    fault(
        "foreign-key-document",
        "a citation of an unknown document",
        edit_line(AC, citation("eurasia"), f",{DOC},", f",{UNKNOWN_ID},"),
        ("foreign-key", AC, citation("eurasia")),
    ),
    fault("missing-cell", "a row that lost its last cell", drop_last_cell(S, step(3)), ("missing-cell", S, step(3))),
    fault(
        "extra-cell",
        "an unquoted comma that splits a cell",
        edit_line(A, actor("russia"), ",Russia,", ",Russia,Moscow,"),
        ("extra-cell", A, actor("russia")),
    ),
    fault(
        "blank-row",
        "an empty line in the middle of a table",
        insert_line(A, actor("china"), ""),
        ("blank-row", A, actor("china")),
    ),
    fault("blank-label", "a header cell erased", edit_line(S, 1, ",text,", ",,"), ("blank-label", S, 1)),
    fault(
        "duplicate-label", "a header name typed twice", edit_line(S, 1, ",text,", ",number,"), ("duplicate-label", S, 1)
    ),
    fault("incorrect-label", "a header name misspelt", edit_line(S, 1, ",text,", ",txt,"), ("incorrect-label", S, 1)),
    fault(
        "missing-label",
        "the last column deleted from the whole file",
        drop_column(T, len(resources()["trends"]["schema"]["fields"]) - 1),
        ("missing-label", T, 1),
    ),
    fault(
        "extra-label",
        "a column the schema lacks, filled in every row",
        add_column(S, "note", "checked"),
        ("extra-label", S, 1),
    ),
    fault(
        "encoding",
        "a table saved as Latin-1",
        edit_line_bytes(S, step(1), b"recognition", b"r\xe9cognition"),
        ("encoding-not-utf8", S, step(1)),
        ("value-not-in-quote", S, step(1)),
    ),
    fault("file-missing", "a table deleted", remove(S), ("file-missing", S, None)),
    fault(
        "hash-count",
        "the descriptor records a wrong hash for a table",
        descriptor_edit(lambda d: resource(d, "steps").update(hash="sha256:" + "0" * 64)),
        ("hash-count", S, None),
    ),
    fault(
        "byte-count",
        "the descriptor records a wrong size for a table",
        descriptor_edit(lambda d: resource(d, "steps").update(bytes=1)),
        ("byte-count", S, None),
    ),
    fault(
        "field-error",
        "a field type that does not exist",
        descriptor_edit(lambda d: field(d, "actors", "name").update(type="strin")),
        ("field-error", DP, None),
    ),
    fault(
        "schema-error",
        "a primary key naming a field that does not exist",
        descriptor_edit(lambda d: resource(d, "steps")["schema"].update(primaryKey=["document_id", "num"])),
        ("schema-error", DP, None),
    ),
    fault(
        "resource-error",
        "a foreign key to a table that does not exist",
        descriptor_edit(
            lambda d: resource(d, "actor_citations")["schema"]["foreignKeys"][-1]["reference"].update(resource="docs")
        ),
        ("resource-error", AC, None),
    ),
    fault(
        "package-error",
        "two resources with the same name",
        descriptor_edit(lambda d: resource(d, "steps").update(name="trends")),
        ("package-error", DP, None),
    ),
    # What eurasec finds.
    fault(
        "quote-hyphen",
        "a quote retyped with a hyphen for the seed's en dash",
        edit_line(AL, alias("ASEAN"), "regional organizations – ASEAN", "regional organizations - ASEAN"),
        ("quote-not-found", AL, alias("ASEAN")),
    ),
    fault(
        "quote-word",
        "a quote with one word changed",
        edit_line(
            AC,
            citation("china"),
            "such centers of power as Russia and China",
            "such centres of power as Russia and China",
        ),
        ("quote-not-found", AC, citation("china")),
    ),
    fault(
        "quote-invented",
        "a quote that is not in the text at all",
        edit_line(AC, citation("china"), "such centers of power as Russia and China", "a rising power in Asia"),
        ("quote-not-found", AC, citation("china")),
    ),
    fault(
        "value-not-in-quote",
        "an alias its quote does not contain",
        edit_line(AL, alias("BRICS"), f"{DOC},BRICS,", f"{DOC},BRICA,"),
        ("value-not-in-quote", AL, alias("BRICS")),
    ),
    fault(
        "seed-hash",
        "the seed's bytes changed (a typography 'fix')",
        bytes_edit(SEED, lambda b: b.replace("–".encode(), b"-", 1)),
        ("seed-hash-mismatch", D, DOC_LINE),
        ("seed-size-mismatch", D, DOC_LINE),
        *QUOTES_UNCHECKED,
    ),
    fault(
        "seed-size",
        "a wrong byte count in the documents row",
        edit_line(D, DOC_LINE, f",{SIZE},", f",{SIZE + 1},"),
        ("seed-size-mismatch", D, DOC_LINE),
        *QUOTES_UNCHECKED,
    ),
    fault(
        "seed-missing",
        "a documents row pointing at a seed that is not there",
        edit_line(D, DOC_LINE, f",{SEED},", f",{SEED.removesuffix('.txt')}-missing.txt,"),
        ("seed-missing", D, DOC_LINE),
        *QUOTES_UNCHECKED,
    ),
    fault(
        "seed-symlink",
        "a seed reached through a symlink",
        seed_symlink,
        ("seed-path-unsafe", D, DOC_LINE),
        *QUOTES_UNCHECKED,
    ),
    fault(
        "numbering-gap",
        "the last step numbered one too high",
        edit_line(S, step(LAST_STEP), f"{DOC},{LAST_STEP},", f"{DOC},{LAST_STEP + 1},"),
        ("numbering-gap", S, step(LAST_STEP)),
    ),
    fault(
        "numbering-repeat",
        "a trend number repeated",
        edit_line(T, trend(3), f"{DOC},3,", f"{DOC},2,"),
        ("primary-key", T, trend(3)),
        ("numbering-gap", T, trend(3)),
    ),
    fault(
        "untrimmed-space",
        "a name with a trailing space",
        edit_line(A, actor("china"), ",China,", ",China ,"),
        ("untrimmed-space", A, actor("china")),
    ),
    fault(
        "doubled-space",
        "a description with a doubled space",
        edit_line(A, actor("alexander-lukashenko"), "President of the", "President  of the"),
        ("doubled-space", A, actor("alexander-lukashenko")),
    ),
    fault(
        "zero-width",
        "a zero-width space pasted into a name",
        edit_line(A, actor("russia"), ",Russia,", ",Rus\u200bsia,"),
        ("control-character", A, actor("russia")),
    ),
    fault(
        "not-nfc",
        "a name with a decomposed accent",
        edit_line(A, actor("russia"), ",Russia,", ",Russie\u0301,"),
        ("not-nfc", A, actor("russia")),
    ),
    fault(
        "id-not-slug",
        "an alias pointing at an id with capitals",
        edit_line(AL, alias("Alexander Lukashenko"), ",alexander-lukashenko,", ",Alexander-Lukashenko,"),
        ("id-not-slug", AL, alias("Alexander Lukashenko")),
        ("foreign-key", AL, alias("Alexander Lukashenko")),
    ),
    fault(
        "formula",
        "a description a spreadsheet would run",
        edit_line(A, actor("eurasia"), ",region,,", ",region,=HYPERLINK(1),"),
        ("formula", A, actor("eurasia")),
    ),
    fault("bom", "a table saved with a byte-order mark", bytes_edit(S, lambda b: b"\xef\xbb\xbf" + b), ("bom", S, 1)),
    fault(
        "crlf",
        "a table saved with Windows line endings",
        bytes_edit(S, lambda b: b.replace(b"\n", b"\r\n")),
        ("crlf", S, 1),
    ),
    fault(
        "no-final-newline",
        "the last newline trimmed",
        bytes_edit(S, lambda b: b.rstrip(b"\n")),
        ("no-final-newline", S, last_line(S)),
    ),
    fault(
        "not-canonical",
        "a cell quoted that needs no quotes",
        edit_line(A, actor("china"), ",China,", ',"China",'),
        ("not-canonical", A, actor("china")),
    ),
    fault(
        "unsorted",
        "two rows swapped",
        swap_lines(A, actor("belarus"), actor("belarus") + 1),
        ("unsorted-rows", A, actor("belarus") + 1),
    ),
    fault(
        "alias-ambiguous",
        "one name, cased differently, for two entities",
        copy_line(
            AL,
            alias("Alexander Lukashenko"),
            sorted_line("aliases", document_id=DOC, alias="Alexander lukashenko"),
            "Alexander Lukashenko,alexander-lukashenko",
            "Alexander lukashenko,vitaly-stakhovsky",
        ),
        ("alias-ambiguous", AL, sorted_line("aliases", document_id=DOC, alias="Alexander lukashenko")),
        ("value-not-in-quote", AL, sorted_line("aliases", document_id=DOC, alias="Alexander lukashenko")),
    ),
    fault(
        "alias-target",
        "an alias naming an actor and an organization",
        edit_line(AL, alias("Alexander Lukashenko"), ",alexander-lukashenko,,", ",alexander-lukashenko,brics,"),
        ("alias-target", AL, alias("Alexander Lukashenko")),
    ),
    fault(
        "entity-uncited",
        "an actor that no passage cites",
        insert_line(A, sorted_line("actors", id=UNUSED_ACTOR), f"{UNUSED_ACTOR},Zimbabwe,state,,,"),
        ("entity-uncited", A, sorted_line("actors", id=UNUSED_ACTOR)),
    ),
    fault(
        "csv-malformed",
        "text after a closing quote",
        edit_line(A, actor("china"), ",China,", ',"Chi"na,'),
        ("csv-malformed", A, actor("china")),
    ),
    fault(
        "nul-byte",
        "a NUL byte in a cell",
        edit_line(A, actor("china"), ",China,", ",Chi\x00na,"),
        ("nul-byte", A, actor("china")),
        ("control-character", A, actor("china")),
    ),
    fault("directory", "a folder where a table should be", make_directory(S), ("file-not-regular", S, None)),
    fault(
        "path-outside",
        "a resource path that climbs out of the package",
        descriptor_edit(lambda d: resource(d, "steps").update(path="../steps.csv")),
        ("path-outside-package", DP, None),
        ("resource-error", DP, None),
    ),
    fault("empty-file", "a table emptied", bytes_edit(S, lambda b: b""), ("empty-file", S, 1)),
    fault(
        "title-not-in-seed",
        "a document title retyped",
        edit_line(D, DOC_LINE, "A View from Belarus", "A View From Belarus"),
        ("seed-title-not-found", D, DOC_LINE),
    ),
    fault(
        "quote-offset",
        "a citation's offsets one character off",
        edit_line(
            AC,
            citation("china"),
            f",{DOC},{CHINA['start']},{CHINA['end']},",
            f",{DOC},{int(CHINA['start']) + 1},{int(CHINA['end']) + 1},",
        ),
        ("quote-offset-mismatch", AC, citation("china")),
    ),
    fault(
        "quote-offset-bytes",
        "a step's offsets counted in UTF-8 bytes instead of characters",
        edit_line(
            S,
            step(1),
            f",{STEP_ONE['start']},{STEP_ONE['end']},",
            f",{STEP_ONE_BYTES[0]},{STEP_ONE_BYTES[1]},",
        ),
        ("quote-offset-mismatch", S, step(1)),
    ),
    fault(
        "document-without-text",
        "a citation of a document registered without its text",
        both(textless_copy, edit_line(AC, citation("eurasia"), f"eurasia,{DOC},", f"eurasia,{COPY_ID},")),
        ("document-without-text", AC, citation("eurasia")),
    ),
    fault(
        "seed-record-incomplete",
        "a document's sha256 erased, its path and size kept",
        edit_line(D, DOC_LINE, f",{DOCUMENT['sha256']},", ",,"),
        ("seed-record-incomplete", D, DOC_LINE),
        *QUOTES_UNCHECKED,
    ),
]

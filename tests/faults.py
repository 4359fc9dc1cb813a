"""The corpus of broken packages: each fault is one small edit to a copy of the real package.

Every fault names what a contributor did and what validate must report: the code, the
file and the line. The expected line is the line the edit touched, so the expectation
comes from the edit itself, not from the validator's output.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
        import csv
        import io

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


def seed_symlink(pkg: Path) -> None:
    """Point the document at a symlink to the (correct) seed: the bytes match, the path is unsafe."""
    seed = "stakhovsky-eurasian-approach-view-from-belarus.txt"
    os.symlink(seed, pkg / "seeds" / "link.txt")
    edit_line("data/documents.csv", 2, f"seeds/{seed}", "seeds/link.txt")(pkg)


def drop_column(file: str, index: int) -> Callable[[Path], None]:
    """Remove one column from every line of a file whose cells hold no commas in that column's range."""

    def apply(pkg: Path) -> None:
        import csv
        import io

        rows = list(csv.reader(io.StringIO((pkg / file).read_text(encoding="utf-8"), newline="")))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([r[:index] + r[index + 1 :] for r in rows])
        (pkg / file).write_text(out.getvalue(), encoding="utf-8")

    return apply


# --- the corpus -------------------------------------------------------------------------
# Line numbers in the real files (sorted by primary key), used below:
#   actors.csv: 2 alexander-lukashenko, 3 belarus, 4 china, 5 eurasia, 9 russia, 11 vitaly-stakhovsky
#   steps.csv: lines 2..6 are steps 1..5;  trends.csv: lines 2..11 are trends 1..10
#   documents.csv: 2 the seed;  aliases.csv: 2 ASEAN, 3 Alexander Lukashenko, 4 BRICS, 5 BRICS group
#   initiatives.csv: 2 charter-of-diversity-and-multipolarity

A, S, T, D, AL, INI = (
    "data/actors.csv",
    "data/steps.csv",
    "data/trends.csv",
    "data/documents.csv",
    "data/aliases.csv",
    "data/initiatives.csv",
)
DP = "datapackage.json"
# When the seed fails its checks, every fact table says once (at its first row) that its quotes went unchecked.
QUOTES_UNCHECKED = [
    ("quote-document-unknown", f"data/{table}.csv", 2)
    for table in (
        "actors",
        "affiliations",
        "aliases",
        "initiative_actors",
        "initiative_organizations",
        "initiative_parts",
        "initiatives",
        "organizations",
        "steps",
        "trends",
    )
]


def fault(name: str, story: str, apply: Callable[[Path], None], *expect: Expected) -> Fault:
    return Fault(name, story, apply, frozenset(expect))


FAULTS: list[Fault] = [
    # What frictionless finds.
    fault("type-error", "a step number written as a word", edit_line(S, 3, ",2,", ",two,"), ("type-error", S, 3)),
    fault("enum", "an actor kind misspelt", edit_line(A, 2, ",person,", ",persn,"), ("constraint-error", A, 2)),
    fault("pattern", "a Wikidata id without its Q", edit_line(A, 3, "Q184", "184"), ("constraint-error", A, 3)),
    fault("minimum", "a year before the minimum", edit_line(INI, 3, ",2024,", ",1024,"), ("constraint-error", INI, 3)),
    fault(
        "maximum",
        "a trend number above the maximum",
        edit_line(T, 11, ",10,", ",1000,"),
        ("constraint-error", T, 11),
        ("numbering-gap", T, 11),
    ),
    fault("required", "an actor's name left empty", edit_line(A, 4, ",China,", ",,"), ("constraint-error", A, 4)),
    fault("primary-key", "an alias row pasted twice", copy_line(AL, 4, 5), ("primary-key", AL, 5)),
    # Both copies of a referenced actor are used: the repeat is the one finding, not an unused entity.
    fault("primary-key-entity", "an actor row pasted twice", copy_line(A, 3, 4), ("primary-key", A, 4)),
    fault(
        "unique",
        "two documents with the same seed path",
        copy_line(D, 2, 3, "stakhovsky-eurasian-approach,", "stakhovsky-eurasian-approach-copy,"),
        ("unique-error", D, 3),
    ),
    fault(
        "foreign-key",
        "an alias pointing at an actor that does not exist",
        edit_line(AL, 3, "alexander-lukashenko", "alexander-lukashenka"),
        ("foreign-key", AL, 3),
    ),
    fault(
        "foreign-key-document",
        "an actor citing an unknown document",
        edit_line(A, 5, "stakhovsky-eurasian-approach", "stakhovsky-eurasian-approach-2"),
        ("foreign-key", A, 5),
    ),
    fault("missing-cell", "a row that lost its last cell", drop_last_cell(S, 4), ("missing-cell", S, 4)),
    fault(
        "extra-cell",
        "an unquoted comma that splits a cell",
        edit_line(A, 9, ",Russia,", ",Russia,Moscow,"),
        ("extra-cell", A, 9),
    ),
    fault("blank-row", "an empty line in the middle of a table", insert_line(A, 6, ""), ("blank-row", A, 6)),
    fault("blank-label", "a header cell erased", edit_line(S, 1, ",text,", ",,"), ("blank-label", S, 1)),
    fault(
        "duplicate-label", "a header name typed twice", edit_line(S, 1, ",text,", ",number,"), ("duplicate-label", S, 1)
    ),
    fault("incorrect-label", "a header name misspelt", edit_line(S, 1, ",text,", ",txt,"), ("incorrect-label", S, 1)),
    fault("missing-label", "a column deleted from the whole file", drop_column(T, 4), ("missing-label", T, 1)),
    fault(
        "extra-label",
        "a column the schema lacks, filled in every row",
        add_column(S, "note", "checked"),
        ("extra-label", S, 1),
    ),
    fault(
        "encoding",
        "a table saved as Latin-1",
        bytes_edit(S, lambda b: b.replace(b"recognition", b"r\xe9cognition", 1)),
        ("encoding-not-utf8", S, 2),
        ("value-not-in-quote", S, 2),
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
            lambda d: resource(d, "actors")["schema"]["foreignKeys"][0]["reference"].update(resource="docs")
        ),
        ("resource-error", A, None),
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
        edit_line(AL, 2, "regional organizations – ASEAN", "regional organizations - ASEAN"),
        ("quote-not-found", AL, 2),
    ),
    fault(
        "quote-word",
        "a quote with one word changed",
        edit_line(A, 4, "such centers of power as Russia and China", "such centres of power as Russia and China"),
        ("quote-not-found", A, 4),
    ),
    fault(
        "quote-invented",
        "a quote that is not in the text at all",
        edit_line(A, 4, "such centers of power as Russia and China", "a rising power in Asia"),
        ("quote-not-found", A, 4),
    ),
    fault(
        "value-not-in-quote",
        "an alias its quote does not contain",
        edit_line(AL, 4, "BRICS,", "BRICA,"),
        ("value-not-in-quote", AL, 4),
    ),
    fault(
        "seed-hash",
        "the seed's bytes changed (a typography 'fix')",
        bytes_edit(
            "seeds/stakhovsky-eurasian-approach-view-from-belarus.txt", lambda b: b.replace("–".encode(), b"-", 1)
        ),
        ("seed-hash-mismatch", D, 2),
        ("seed-size-mismatch", D, 2),
        *QUOTES_UNCHECKED,
    ),
    fault(
        "seed-size",
        "a wrong byte count in the documents row",
        edit_line(D, 2, ",10348,", ",10349,"),
        ("seed-size-mismatch", D, 2),
        *QUOTES_UNCHECKED,
    ),
    fault(
        "seed-missing",
        "a documents row pointing at a seed that is not there",
        edit_line(D, 2, "view-from-belarus.txt", "view-from-minsk.txt"),
        ("seed-missing", D, 2),
        *QUOTES_UNCHECKED,
    ),
    fault(
        "seed-symlink",
        "a seed reached through a symlink",
        seed_symlink,
        ("seed-path-unsafe", D, 2),
        *QUOTES_UNCHECKED,
    ),
    fault("numbering-gap", "the last step numbered 6", edit_line(S, 6, ",5,", ",6,"), ("numbering-gap", S, 6)),
    fault(
        "numbering-repeat",
        "a trend number repeated",
        edit_line(T, 4, "stakhovsky-eurasian-approach,3,", "stakhovsky-eurasian-approach,2,"),
        ("primary-key", T, 4),
        ("numbering-gap", T, 4),
    ),
    fault(
        "untrimmed-space",
        "a name with a trailing space",
        edit_line(A, 4, ",China,", ",China ,"),
        ("untrimmed-space", A, 4),
    ),
    fault(
        "doubled-space",
        "a description with a doubled space",
        edit_line(A, 2, "President of the", "President  of the"),
        ("doubled-space", A, 2),
    ),
    fault(
        "zero-width",
        "a zero-width space pasted into a name",
        edit_line(A, 9, ",Russia,", ",Rus\u200bsia,"),
        ("control-character", A, 9),
    ),
    fault(
        "not-nfc", "a name with a decomposed accent", edit_line(A, 9, ",Russia,", ",Russie\u0301,"), ("not-nfc", A, 9)
    ),
    fault(
        "id-not-slug",
        "an alias pointing at an id with capitals",
        edit_line(AL, 3, ",alexander-lukashenko,", ",Alexander-Lukashenko,"),
        ("id-not-slug", AL, 3),
        ("foreign-key", AL, 3),
    ),
    fault(
        "formula",
        "a description a spreadsheet would run",
        edit_line(A, 5, "region,,", "region,=HYPERLINK(1),"),
        ("formula", A, 5),
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
        ("no-final-newline", S, 6),
    ),
    fault(
        "not-canonical",
        "a cell quoted that needs no quotes",
        edit_line(A, 4, ",China,", ',"China",'),
        ("not-canonical", A, 4),
    ),
    fault("unsorted", "two rows swapped", swap_lines(A, 3, 4), ("unsorted-rows", A, 4)),
    fault(
        "alias-ambiguous",
        "one name, cased differently, for two entities",
        copy_line(AL, 3, 4, "Alexander Lukashenko,alexander-lukashenko", "Alexander lukashenko,vitaly-stakhovsky"),
        ("alias-ambiguous", AL, 4),
        ("value-not-in-quote", AL, 4),
    ),
    fault(
        "alias-target",
        "an alias naming an actor and an organization",
        edit_line(AL, 3, "alexander-lukashenko,,", "alexander-lukashenko,brics,"),
        ("alias-target", AL, 3),
    ),
    fault(
        "unused-entity",
        "an actor that nothing references",
        insert_line(A, 12, "zimbabwe,Zimbabwe,state,,,,stakhovsky-eurasian-approach,Belarus"),
        ("unused-entity", A, 12),
    ),
    fault(
        "csv-malformed", "text after a closing quote", edit_line(A, 4, ",China,", ',"Chi"na,'), ("csv-malformed", A, 4)
    ),
    fault(
        "nul-byte",
        "a NUL byte in a cell",
        edit_line(A, 4, ",China,", ",Chi\x00na,"),
        ("nul-byte", A, 4),
        ("control-character", A, 4),
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
        edit_line(D, 2, "A View from Belarus", "A View From Belarus"),
        ("seed-title-not-found", D, 2),
    ),
]

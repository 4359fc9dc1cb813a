"""`migrate`: carry a 1.x package's rows into the 2.0 layout, losing no citation.

Version 2.0.0 moved each entity's citation out of its row into a citations table, and pinned every
quote to its offsets in the seed. Given an older package, this writes a new package folder with the
current descriptor, the old seeds byte-exact, and the old rows laid out anew:

- a table whose rows lose their citation (an entity table) keeps its other values, and each row's
  (document, quote) becomes a row of the citations table that refers to it;
- every quote gains start and end: the offsets of its occurrence in the seed. Where a quote occurs
  more than once, the first is taken and the row is reported, to be read and confirmed;
- a field the old package lacks is left empty; a field the new one lacks is reported as dropped.

What it writes is the old reading in the new layout: `eurasec diff OUT .` then shows exactly what the
curation changed since. Nothing is written unless the whole migration succeeds.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..model.descriptor import DESCRIPTOR_NAME, DOCUMENT, END, QUOTE, SEED_PATH, START, Package, Resource, load_package
from ..model.paths import UnsafePathError, read_regular, resolve_inside
from .fmt import FormatError, canonical_text

MAX_TABLE_BYTES = 1 << 30


class MigrationError(Exception):
    """The old package cannot be carried over without a guess: why, in a sentence."""


@dataclass(frozen=True)
class Ambiguous:
    """A quote that occurs more than once in its seed: the first occurrence was taken."""

    table: str
    file: str  # the old package's file of the table
    line: int  # the line in that file
    document: str
    quote: str
    starts: tuple[int, ...]


@dataclass
class Migration:
    rows: dict[str, int] = field(default_factory=dict)  # rows written per new table
    ambiguous: list[Ambiguous] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # "table.field" of the old package not carried over


def _rows(package: Package, resource: Resource) -> list[dict[str, str]]:
    path = resolve_inside(package.root, resource.path)
    text = read_regular(path, MAX_TABLE_BYTES).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _texts(package: Package) -> dict[str, str]:
    documents = package.documents
    if documents is None or documents.role_field(SEED_PATH) is None or len(documents.primary_key) != 1:
        raise MigrationError("the old package has no table of seed documents (role 'documents') with a seed path")
    seed_path = documents.role_field(SEED_PATH)
    assert seed_path is not None
    texts = {}
    for row in _rows(package, documents):
        if row.get(seed_path.name):
            path = resolve_inside(package.root, row[seed_path.name], allow_symlinks=False)
            texts[row[documents.primary_key[0]]] = read_regular(path, MAX_TABLE_BYTES).decode("utf-8")
    return texts


def _citations_tables(old: Package, new: Package) -> dict[str, Resource]:
    """{entity table: the new table that holds its citations}, for each table that was cited on its own
    rows and no longer is: the new table that has only a reference to it and the citation's fields."""
    found = {}
    for resource in new.resources:
        before = old.resource(resource.name) if resource.name in old.resource_names else None
        if resource.is_fact_table or before is None or not before.is_fact_table:
            continue
        holders = [
            r
            for r in new.resources
            if r.is_fact_table
            and r.name not in old.resource_names
            and [f.name for f in r.fields if f.role is None] == _references(r, resource.name)
        ]
        if len(holders) != 1:
            raise MigrationError(
                f"{resource.name!r} no longer carries its citation, and {len(holders)} new tables could hold it"
            )
        found[resource.name] = holders[0]
    return found


def _references(resource: Resource, target: str) -> list[str]:
    return [fk.fields[0] for fk in resource.foreign_keys if fk.resource == target and len(fk.fields) == 1]


def _offsets(texts: dict[str, str], document: str, quote: str) -> tuple[int, int, tuple[int, ...]]:
    text = texts.get(document)
    if text is None:
        raise MigrationError(f"a row cites {document!r}, whose seed the old package does not have")
    starts: list[int] = []
    at = text.find(quote)
    while quote and at >= 0 and len(starts) < 100:
        starts.append(at)
        at = text.find(quote, at + 1)
    if not starts:
        raise MigrationError(f"the quote {quote[:80]!r} is not in {document!r}: fix it in the old package first")
    return starts[0], starts[0] + len(quote), tuple(starts)


def _carried(
    old: Package, new: Package, texts: dict[str, str], result: Migration
) -> Iterator[tuple[Resource, list[dict[str, str]]]]:
    holders = _citations_tables(old, new)
    held: dict[str, list[dict[str, str]]] = {holder.name: [] for holder in holders.values()}
    tables: list[tuple[Resource, list[dict[str, str]]]] = []
    for resource in new.resources:
        if resource.name not in old.resource_names:
            tables.append((resource, held.get(resource.name, [])))
            continue
        before = old.resource(resource.name)
        result.dropped += [f"{resource.name}.{n}" for n in before.field_names if n not in resource.field_names]
        old_doc, old_quote = before.role_field(DOCUMENT), before.role_field(QUOTE)
        start, end = resource.role_field(START), resource.role_field(END)
        holder = holders.get(resource.name)
        out = []
        for line, row in enumerate(_rows(old, before), 2):
            values = {name: row.get(name) or "" for name in resource.field_names}
            if old_doc is not None and old_quote is not None:
                document, quote = row.get(old_doc.name) or "", row.get(old_quote.name) or ""
                first, last, starts = _offsets(texts, document, quote)
                if len(starts) > 1:
                    result.ambiguous.append(Ambiguous(resource.name, before.path, line, document, quote, starts))
                if start is not None and end is not None:
                    values[start.name], values[end.name] = str(first), str(last)
                if holder is not None:
                    held[holder.name].append(_citation(holder, resource, row, document, quote, first, last))
            out.append(values)
        tables.append((resource, out))
    for resource, out in tables:
        result.rows[resource.name] = len(out)
        yield resource, out


def _citation(
    holder: Resource, entity: Resource, row: dict[str, str], document: str, quote: str, start: int, end: int
) -> dict[str, str]:
    values = dict.fromkeys(holder.field_names, "")
    reference = next(fk for fk in holder.foreign_keys if fk.resource == entity.name and len(fk.fields) == 1)
    values[reference.fields[0]] = row.get(reference.reference_fields[0]) or ""
    for role, value in ((DOCUMENT, document), (QUOTE, quote), (START, str(start)), (END, str(end))):
        target = holder.role_field(role)
        if target is not None:
            values[target.name] = value
    return values


def _csv(resource: Resource, rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, resource.field_names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    try:
        return canonical_text(buffer.getvalue().encode("utf-8"), resource)
    except FormatError as exc:  # never: the rows were written by csv just now
        raise MigrationError(f"{resource.path}: {exc}") from None


def migrate(old_descriptor: str | Path, out: str | Path, descriptor: str | Path = DESCRIPTOR_NAME) -> Migration:
    """Write the old package's rows, in the layout of `descriptor`, as a new package in folder `out`."""
    try:
        return _migrate(old_descriptor, Path(out), descriptor)
    except (UnsafePathError, OSError, UnicodeDecodeError) as exc:
        raise MigrationError(str(exc)) from None


def _migrate(old_descriptor: str | Path, out: Path, descriptor: str | Path) -> Migration:
    old, new = load_package(old_descriptor), load_package(descriptor)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MigrationError(f"{out} exists and is not an empty folder: give a new one")
    texts = _texts(old)
    result = Migration()
    files = {resource.path: _csv(resource, rows) for resource, rows in _carried(old, new, texts, result)}
    documents, seed_path = old.documents, old.documents.role_field(SEED_PATH) if old.documents else None
    assert documents is not None and seed_path is not None  # _texts said so
    seeds = [row[seed_path.name] for row in _rows(old, documents) if row.get(seed_path.name)]
    work = Path(tempfile.mkdtemp(prefix=".migrate-", dir=out.parent if out.parent.exists() else None))
    try:
        (work / DESCRIPTOR_NAME).write_bytes(new.path.read_bytes())
        for relative, text in files.items():
            target = resolve_inside(work, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="")
        for relative in seeds:
            target = resolve_inside(work, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(read_regular(resolve_inside(old.root, relative, allow_symlinks=False)))
        if out.exists():
            out.rmdir()
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return result

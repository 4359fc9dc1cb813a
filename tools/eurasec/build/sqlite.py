"""One SQLite database: declared types, keys, CHECKs, foreign-key indexes, FTS5, the cited passages,
named views, metadata."""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..descriptor import (
    ALIAS,
    BYTES,
    DOCUMENT,
    NAME,
    QUOTE,
    ROLE_KEY,
    SEED_PATH,
    SHA256,
    VIEW_KEY,
    Field,
    ForeignKey,
    Resource,
    documents_resource,
)
from ..schema import (
    PASSAGES,
    passage_columns,
    passages_resource,
    quote_identifier,
    sqlite_fts_ddl,
    sqlite_index_ddl,
    sqlite_passages_indexes,
    sqlite_table_ddl,
)
from .context import SQLITE_FILE, ExportCheckError, ReleaseInput, build_versions

if TYPE_CHECKING:
    import pyarrow as pa

METADATA_TABLE = "eurasec_metadata"
BATCH_ROWS = 100_000
ROWS_PER_STATEMENT = 100

# Named views that join ids to names. Nothing of them is written here: a resource declares its view
# ("eurasec:view": its name, its description, and perhaps a column that lists names from a link table),
# and the query is made from the descriptor's foreign keys and roles (descriptor.py): each reference
# into a table with a `name` field is joined for that name; a table with an `alias` field names one
# entity among several. The SQL is laid out by the rules below, so the same descriptor always makes
# the same bytes.
WIDTH = 120  # where a view's SQL is wrapped
_COLUMNS = " " * len("SELECT ")  # a column list's continuation lines
_INNER = " " * 12  # an expression's continuation lines within the column list
_VIEW_KEYS, _LIST_KEYS = {"name", "description", "list"}, {"column", "resource", "where"}
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ViewError(ValueError):
    """A declared view cannot be made from the descriptor: why, in a sentence. `role_missing`: because no
    table declares a role the view needs (a `name` field), rather than because the declaration is wrong."""

    def __init__(self, message: str, *, role_missing: bool = False) -> None:
        super().__init__(message)
        self.role_missing = role_missing


@functools.lru_cache(maxsize=1024)
def _bare(name: str) -> bool:
    """Whether SQLite reads the name unquoted as an identifier (a plain word that is no keyword)."""
    if not _PLAIN.fullmatch(name):
        return False
    db = sqlite3.connect(":memory:")
    try:
        db.execute(f"SELECT {name}.{name} FROM (SELECT 1 AS {name}) AS {name} ORDER BY {name}.{name}")
        return True
    except sqlite3.Error:
        return False
    finally:
        db.close()


def _ident(name: str) -> str:
    return name if _bare(name) else quote_identifier(name)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _aliases(tables: Sequence[str]) -> list[str]:
    """A short alias for each table of a query, in order: the initials of its name's words, else its first
    letters (affiliations beside actors: af), else a number."""
    taken: list[str] = []
    for table in tables:
        words = [w for w in table.split("_") if w]
        candidates = ["".join(w[0] for w in words), *(table[:n] for n in range(2, len(table) + 1))]
        usable = (c for c in candidates if c and c not in taken and _bare(c))
        taken.append(next(usable, f"t{len(taken) + 1}"))
    return taken


@dataclass(frozen=True)
class _Named:
    """A reference from one field into a table that has a name field."""

    field: Field
    key: ForeignKey
    table: Resource
    name: Field


def _named_references(resource: Resource, tables: dict[str, Resource]) -> list[_Named]:
    found = []
    for f in resource.fields:
        key = resource.foreign_key(f.name)
        table = tables.get(key.resource) if key else None
        name = table.role_field(NAME) if table else None
        if key and table and name and len(key.reference_fields) == 1:
            found.append(_Named(f, key, table, name))
    return found


def _select(groups: Sequence[Sequence[str]]) -> list[str]:
    """`SELECT` and its columns: joined by commas and wrapped at WIDTH; each group, and each item that
    spans lines (laid out to start at the list's indent), begins a line of its own."""
    items = [(item, i == 0) for group in groups for i, item in enumerate(group)]
    lines: list[str] = []
    line, empty = "SELECT ", True
    for index, (item, starts_group) in enumerate(items):
        first, *rest = (item + ("," if index < len(items) - 1 else "")).split("\n")
        if not empty and (starts_group or rest or len(line) + 1 + len(first) > WIDTH):
            lines.append(line)
            line, empty = _COLUMNS, True
        line, empty = line + ("" if empty else " ") + first, False
        if rest:
            lines += [line, *rest[:-1]]
            line = rest[-1]
    return [*lines, line]


def _wrapped(pieces: Sequence[str], start: int, indent: str, after: int = 0) -> str:
    """Pieces joined by spaces and wrapped at WIDTH, starting at column `start`, later lines at indent;
    `after` characters will follow the last piece (a comma)."""
    lines: list[str] = []
    line = ""
    for index, piece in enumerate(pieces):
        follows = after if index == len(pieces) - 1 else 0
        width = (start if not lines else 0) + len(line) + 1 + len(piece) + follows
        if line and width > WIDTH:
            lines.append(line)
            line = indent + piece
        else:
            line = f"{line} {piece}" if line else piece
    return "\n".join([*lines, line])


def _declaration(resource: Resource) -> tuple[str, str, dict[str, Any] | None]:
    view = resource.view
    if not isinstance(view, dict):
        raise ViewError(f"{VIEW_KEY} must be an object with a name and a description")
    unknown = sorted(set(view) - _VIEW_KEYS)
    if unknown:
        raise ViewError(f"{VIEW_KEY} has the unknown key {unknown[0]!r} (known: description, list, name)")
    name, description, listing = view.get("name"), view.get("description", ""), view.get("list")
    if not isinstance(name, str) or not name:
        raise ViewError(f"{VIEW_KEY} needs a name")
    if not isinstance(description, str):
        raise ViewError(f"the view {name!r}: its description must be a string")
    if listing is not None and not isinstance(listing, dict):
        raise ViewError(f"the view {name!r}: its list must be an object with a column, a resource and a where")
    return name, description, listing


@dataclass(frozen=True)
class _Listing:
    """A column that lists, per row, the names that a link table's rows refer to."""

    column: str
    link: Resource
    back: Field  # the link table's reference to the view's own table...
    back_to: str  # ...and the field it refers to there
    entity: _Named  # the link table's reference to the names listed
    where: dict[str, str]


def _listing(view: str, resource: Resource, listing: dict[str, Any], tables: dict[str, Resource]) -> _Listing:
    """The list a view's declaration asks for, checked against the link table's keys and values."""
    unknown = sorted(set(listing) - _LIST_KEYS)
    if unknown:
        raise ViewError(
            f"the view {view!r}: its list has the unknown key {unknown[0]!r} (known: column, resource, where)"
        )
    column, link_name, where = listing.get("column"), listing.get("resource"), listing.get("where") or {}
    if not isinstance(column, str) or not column or not isinstance(link_name, str):
        raise ViewError(f"the view {view!r}: its list needs a column (the list's name) and a resource")
    link = tables.get(link_name)
    if link is None:
        raise ViewError(f"the view {view!r} lists from the resource {link_name!r}, which the package does not have")
    back = [(f, k) for f in link.fields if (k := link.foreign_key(f.name)) and k.resource == resource.name]
    if len(back) != 1 or len(back[0][1].reference_fields) != 1:
        raise ViewError(
            f"the view {view!r}: {link_name!r} needs exactly one foreign key of one field into {resource.name!r}"
            f" (it has {len(back)})"
        )
    named = [n for n in _named_references(link, tables) if n.field != back[0][0]]
    if len(named) != 1:
        raise ViewError(
            f"the view {view!r}: {link_name!r} needs exactly one other foreign key into a table with a field of"
            f" {ROLE_KEY} {NAME!r}, whose names it lists (it has {len(named)})",
            role_missing=not named,
        )
    if not isinstance(where, dict):
        raise ViewError(f"the view {view!r}: its list's where must be an object of field names and values")
    for name, value in where.items():
        if name not in link.field_names:
            raise ViewError(f"the view {view!r} lists the rows of {link_name!r} by {name!r}, which it has no field of")
        enum = link.field(name).enum
        if not isinstance(value, str) or (enum is not None and value not in enum):
            raise ViewError(
                f"the view {view!r} lists the rows of {link_name!r} whose {name} is {value!r}, which is not"
                + (f" one of its values ({', '.join(map(str, enum))})" if enum else " a string")
            )
    return _Listing(column, link, back[0][0], back[0][1].reference_fields[0], named[0], dict(where))


def view_query(resource: Resource, resources: Sequence[Resource]) -> tuple[str, str, str]:
    """(name, description, query) of the view a resource declares; ViewError if it cannot be made."""
    name, description, listing = _declaration(resource)
    tables = {r.name: r for r in resources}
    named = _named_references(resource, tables)
    listed = _listing(name, resource, listing, tables) if listing is not None else None
    if resource.role_field(ALIAS) is not None:
        if listed is not None:
            raise ViewError(f"the view {name!r}: a table of aliases names one entity per row, and lists nothing")
        if not named:
            raise ViewError(
                f"the view {name!r}: {resource.name!r} has no foreign key into a table with a field of"
                f" {ROLE_KEY} {NAME!r}, so its aliases name nothing",
                role_missing=True,
            )
        return name, description, _entity_query(resource, named)
    if not named and listed is None:
        raise ViewError(
            f"the view {name!r} would only repeat {resource.name!r}: it has no foreign key into a table with a"
            f" field of {ROLE_KEY} {NAME!r}, and lists nothing",
            role_missing=True,
        )
    return name, description, _named_query(resource, named, listed)


def _from(main: str, joins: Sequence[str]) -> list[str]:
    lines, line = [], f"FROM {main}"
    for join in joins:
        if len(line) + 1 + len(join) > WIDTH:
            lines.append(line)
            line = join
        else:
            line += " " + join
    return [*lines, line]


def _join(named: _Named, alias: str, on: str, *, inner: bool = False) -> str:
    """The join of a reference's table: an inner one where the reference is required (or inner is asked)."""
    kind = "JOIN" if named.field.required or inner else "LEFT JOIN"
    target = f"{alias}.{_ident(named.key.reference_fields[0])}"
    return f"{kind} {_ident(named.table.name)} {alias} ON {target} = {on}.{_ident(named.field.name)}"


def _label(field_name: str, taken: set[str]) -> str:
    """The column a reference's name is shown as: actor_id's is actor."""
    label = field_name[: -len("_id")] if field_name.endswith("_id") and len(field_name) > 3 else f"{field_name}_name"
    return label if label not in taken else f"{label}_name"


def _named_query(resource: Resource, named: list[_Named], listed: _Listing | None) -> str:
    """The table's columns, each reference followed by the name it refers to, any list of names, and then
    the row's provenance (roles document and quote) on a line of its own."""
    listing_tables = [listed.link.name, listed.entity.table.name] if listed else []
    *aliases, main = _aliases([*(n.table.name for n in named), *listing_tables, resource.name])
    joined = {n.field.name: (n, alias) for n, alias in zip(named, aliases, strict=False)}
    taken = set(resource.field_names)
    own, provenance = [], []
    for f in resource.fields:
        if f.role in (DOCUMENT, QUOTE):
            provenance.append(f"{main}.{_ident(f.name)}")
            continue
        own.append(f"{main}.{_ident(f.name)}")
        if f.name in joined:
            n, alias = joined[f.name]
            label = _label(f.name, taken)
            taken.add(label)
            own.append(f"{alias}.{_ident(n.name.name)} AS {_ident(label)}")
    if listed:
        link, entity = aliases[len(named) :]
        name = f"{entity}.{_ident(listed.entity.name.name)}"
        conditions = [
            f"{link}.{_ident(listed.back.name)} = {main}.{_ident(listed.back_to)}",
            *(f"{link}.{_ident(k)} = {_literal(v)}" for k, v in listed.where.items()),
        ]
        own.append(
            f"(SELECT group_concat({_ident(listed.entity.name.name)}, '; ') FROM (\n"
            f"{_INNER}SELECT {name} FROM {_ident(listed.link.name)} {link} "
            f"{_join(listed.entity, entity, link, inner=True)}\n"
            f"{_INNER}WHERE {' AND '.join(conditions)} ORDER BY {name})) AS {_ident(listed.column)}"
        )
    joins = [_join(joined[n.field.name][0], joined[n.field.name][1], main) for n in named]
    select = _select([own, provenance] if provenance else [own])
    return "\n".join([*select, *_from(f"{_ident(resource.name)} {main}", joins)])


def _entity_query(resource: Resource, named: list[_Named]) -> str:
    """An alias table's columns, the one entity each row names (its table, id and name), then its quote."""
    *aliases, main = _aliases([*(n.table.name for n in named), resource.name])
    refs = {n.field.name for n in named}
    columns = [f"{main}.{_ident(f.name)}" for f in resource.fields if f.name not in refs and f.role != QUOTE]
    ids = [f"{main}.{_ident(n.field.name)}" for n in named]
    names = [f"{alias}.{_ident(n.name.name)}" for n, alias in zip(named, aliases, strict=True)]
    if len(named) == 1:
        table = f"{_literal(named[0].table.name)} AS entity_table"
        entity_id, entity_name = f"{ids[0]} AS entity_id", f"{names[0]} AS entity_name"
    else:
        cases = [f"WHEN {i} IS NOT NULL THEN {_literal(n.table.name)}" for i, n in zip(ids, named, strict=True)]
        pieces = [f"CASE {cases[0]}", *cases[1:-1], f"ELSE {_literal(named[-1].table.name)} END AS entity_table"]
        table = _wrapped(pieces, len(_COLUMNS), _INNER, after=len(","))
        entity_id = f"coalesce({', '.join(ids)}) AS entity_id"
        entity_name = f"coalesce({', '.join(names)}) AS entity_name"
    quotes = [f"{main}.{_ident(f.name)}" for f in resource.fields if f.role == QUOTE]
    joins = [_join(n, alias, main) for n, alias in zip(named, aliases, strict=True)]
    select = _select([[*columns, table, entity_id, entity_name, *quotes]])
    return "\n".join([*select, *_from(f"{_ident(resource.name)} {main}", joins)])


@dataclass(frozen=True)
class DeclaredView:
    resource: Resource  # the resource that declares it
    name: str
    description: str
    query: str


def declared_views(resources: Sequence[Resource]) -> tuple[list[DeclaredView], list[tuple[Resource, ViewError]]]:
    """The views that the resources declare and that can be made, in the resources' order, and
    [(resource, why)] for the declarations that cannot (malformed, relations that do not fit, or a
    role that no table declares). Their names are not checked here (see view_name_clash)."""
    views: list[DeclaredView] = []
    problems: list[tuple[Resource, ViewError]] = []
    for resource in resources:
        if resource.view is None:
            continue
        try:
            views.append(DeclaredView(resource, *view_query(resource, resources)))
        except ViewError as exc:
            problems.append((resource, exc))
    return views, problems


def view_name_clash(name: str, resources: Sequence[Resource], earlier: Sequence[str] = ()) -> str | None:
    """Why a view cannot have this name in the database (a table, index or view has it), or None."""
    if any(r.name == name for r in resources):
        return f"the resource {name!r} has that name"
    if name in earlier:
        return "another resource's view has that name"
    return reserved_name_reason(name)


def applicable_views(resources: Sequence[Resource]) -> dict[str, tuple[str, str]]:
    """{name: (description, query)} of the declared views that can be made from the package's tables and
    columns: none that names a table or column the package lacks, nor one whose name is taken.

    Decided by SQLite itself, on the package's tables created empty in memory: no view is written
    that would fail when read.
    """
    views, _ = declared_views(resources)
    db = sqlite3.connect(":memory:")
    try:
        for resource in resources:
            db.execute(sqlite_table_ddl(resource))
        usable: dict[str, tuple[str, str]] = {}
        for view in views:
            if view_name_clash(view.name, resources, list(usable)):
                continue  # validate says so (checks/roles.py)
            try:
                db.execute(f"SELECT * FROM ({view.query}) LIMIT 0")
            except sqlite3.OperationalError:  # no such table or column
                continue
            usable[view.name] = (view.description, view.query)
        return usable
    finally:
        db.close()


def reserved_name_reason(name: str) -> str | None:
    """Why a table of this name would clash with what the database makes of its own, or None.

    Tables, indexes and views share one namespace in SQLite: a resource named `passages`, or like
    an index (idx_...), a full-text index (..._fts...) or SQLite's own (sqlite_...), would stop the
    build when the database is written. (A resource named like a view that a resource declares is
    reported by checks/roles.py, which knows the package's views.)
    """
    if name in (PASSAGES, METADATA_TABLE):
        return f"the database has a table {name!r} of its own"
    for part, what in (("idx_", "its indexes"), ("sqlite_", "SQLite's own tables")):
        if name.lower().startswith(part):
            return f"names that start with {part!r} are {what}"
    if "_fts" in name.lower():
        return "names with '_fts' in them are its full-text indexes"
    return None


def _sqlite_column(column: pa.Array) -> list[object]:
    """A column as the Python values SQLite stores: enums as text, dates as ISO 8601 text, booleans as 0/1.

    Text comes out as one Python string per distinct value, repeated by reference: a quote cited by twenty
    rows is made, and encoded back to UTF-8 when bound, once instead of twenty times.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_date(column.type):
        column = column.cast(pa.string())
    elif pa.types.is_boolean(column.type):
        column = column.cast(pa.int64())
    if not (pa.types.is_string(column.type) or pa.types.is_dictionary(column.type)):
        return column.to_pylist()
    encoded = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
    values = np.array([*encoded.dictionary.to_pylist(), None], dtype=object)  # the last one stands for null
    codes = encoded.indices.cast(pa.int64()).fill_null(len(encoded.dictionary)).to_numpy()  # int8 codes can overflow
    return values[codes].tolist()


PART_FILE = ".eurasec-part.sqlite"  # the second half, written beside the database and merged into it
FTS_SHADOW_TABLES = ("data", "idx", "docsize", "config")  # what an FTS5 index with external content keeps


LARGE_BYTES = 64 << 20  # tables this large in memory get pages of 16 KiB


def _page_size(release: ReleaseInput) -> int:
    """16 KiB pages for large data, where fewer, larger pages load faster (rows carry quotes of a few
    hundred bytes); SQLite's 4 KiB otherwise, as every table, index and FTS5 shadow table takes at least
    one page, and at 16 KiB a small release's file would be three times larger. Decided by the data alone."""
    return 16384 if sum(t.nbytes for t in release.tables.values()) >= LARGE_BYTES else 4096


def _open(path: Path, page_size: int) -> sqlite3.Connection:
    # Used from two threads, never at once: each connection waits for its own last job before the next.
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA page_size = {int(page_size)}")
    # A private file in a staged folder: no journal or syncing is needed while it is written.
    for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE", "cache_size = -64000"):
        db.execute(f"PRAGMA {pragma}")
    # The rows were validated against the same constraints the CHECKs state (they are made from the same
    # descriptor): checking them again row by row would double the load. The CHECKs stay in the schema
    # for whoever writes to the file later; this pragma lasts only as long as this connection.
    db.execute("PRAGMA ignore_check_constraints = ON")
    db.execute("PRAGMA foreign_keys = OFF")  # rows load in table order; keys are checked once all are in
    return db


def _rows_per_statement(db: sqlite3.Connection, columns: int) -> int:
    """Rows bound per INSERT: many, as each statement's execution costs Python more than SQLite; within
    this SQLite's limit on bound values."""
    return max(1, min(ROWS_PER_STATEMENT, db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // columns))


def _insert(db: sqlite3.Connection, table: pa.Table, resource: Resource) -> None:
    """Create a table and store its rows: Python's work, under the GIL."""
    db.execute(sqlite_table_ddl(resource))
    columns = len(resource.fields)
    row = "(" + ", ".join("?" for _ in resource.fields) + ")"
    per_statement = _rows_per_statement(db, columns)
    into = f"INSERT INTO {quote_identifier(resource.name)} ({', '.join(map(quote_identifier, resource.field_names))})"
    insert_one, insert_many = f"{into} VALUES {row}", f"{into} VALUES " + ", ".join([row] * per_statement)
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):  # bounded memory
        columns_values = [_sqlite_column(batch.column(n)) for n in resource.field_names]
        values = list(chain.from_iterable(zip(*columns_values, strict=True)))  # row after row, in C
        width = per_statement * columns
        whole = len(values) - len(values) % width
        db.executemany(insert_many, (values[i : i + width] for i in range(0, whole, width)))
        db.executemany(insert_one, (values[i : i + columns] for i in range(whole, len(values), columns)))


def _indexes(resource: Resource) -> list[str]:
    if resource.name == PASSAGES:  # its unique (document, quote) index serves the key on document_id too
        return sqlite_passages_indexes(resource)
    return sqlite_index_ddl(resource)


def _fts(resource: Resource) -> list[str]:
    return sqlite_fts_ddl(resource, [passage_columns(resource)[1]] if resource.name == PASSAGES else None)


def _index(db: sqlite3.Connection, resource: Resource) -> None:
    """A table's indexes and full-text index: SQLite's own work, without the GIL."""
    for statement in _indexes(resource) + _fts(resource):
        db.execute(statement)


def passages_table(passages: Resource, resources: list[Resource], tables: dict[str, pa.Table]) -> pa.Table:
    """Every distinct (document, quote) pair the fact tables cite, in order, numbered from 1.

    Each fact table's own document and quote fields (roles `document` and `quote`), whatever their names,
    become the passages' two columns.
    """
    import pyarrow as pa

    document, quote = passage_columns(passages)
    pairs = pa.schema([(document, pa.string()), (quote, pa.string())])
    cited = []
    for r in resources:
        if r.is_fact_table:
            own = [r.role_field(DOCUMENT).name, r.role_field(QUOTE).name]  # type: ignore[union-attr]
            cited.append(tables[r.name].select(own).rename_columns(pairs.names).cast(pairs))
    distinct = pa.concat_tables(cited).group_by(pairs.names, use_threads=False).aggregate([])
    # Ordered and numbered by the values alone, so the ids are the same in every build.
    distinct = distinct.sort_by([(document, "ascending"), (quote, "ascending")])
    ids = pa.array(range(1, distinct.num_rows + 1), pa.int64())
    return pa.table({"id": ids, document: distinct[document], quote: distinct[quote]})


def _merge(db: sqlite3.Connection, part: Path, resources: list[Resource]) -> None:
    """Copy tables written in another database file into this one: rows, indexes and full-text index as stored.

    SQLite copies a table into an empty one with the same definition record by record, indexes included
    (its transfer optimization), and an FTS5 index is nothing but its shadow tables: no row is parsed,
    bound or tokenized again.
    """
    db.execute("ATTACH DATABASE ? AS part", (str(part),))
    db.execute("BEGIN")
    for resource in resources:
        name = quote_identifier(resource.name)
        db.execute(sqlite_table_ddl(resource))
        for statement in _indexes(resource):
            db.execute(statement)
        db.execute(f"INSERT INTO main.{name} SELECT * FROM part.{name}")
        fts = _fts(resource)
        if fts:
            db.execute(fts[0])  # the empty index; its contents come from the part
            for shadow in FTS_SHADOW_TABLES:
                table = quote_identifier(f"{resource.name}_fts_{shadow}")
                db.execute(f"DELETE FROM main.{table}")
                db.execute(f"INSERT INTO main.{table} SELECT * FROM part.{table}")
    db.execute("COMMIT")
    db.execute("DETACH DATABASE part")


def _write_tables(
    resources: list[Resource], tables: dict[str, pa.Table], main: sqlite3.Connection, part: sqlite3.Connection
) -> list[Resource]:
    """Every table, each in one of two databases; returns those written in the part.

    Storing rows is Python's work (one core, the GIL); indexing and tokenizing them is SQLite's
    (no GIL). So this thread stores table after table, alternating between the two connections,
    while each connection's own worker indexes the table it has just been given: the full-text
    indexes are built during the next tables' loading instead of after it.
    """
    connections = (main, part)
    written_in: dict[str, int] = {}
    # The largest first, so that the last index built (the one nothing overlaps) is a small one; the
    # connections take turns. Fixed by the data alone, so the file's bytes never depend on timing.
    sizes = {r.name: tables[r.name].nbytes for r in resources}
    order = sorted(resources, key=lambda r: (-sizes[r.name], r.name))
    with ThreadPoolExecutor(max_workers=1) as main_worker, ThreadPoolExecutor(max_workers=1) as part_worker:
        workers = (main_worker, part_worker)
        pending: list[Future[None] | None] = [None, None]
        for db in connections:
            db.execute("BEGIN")
        for turn, resource in enumerate(order):
            side = turn % 2
            written_in[resource.name] = side
            waiting = pending[side]
            if waiting is not None:
                waiting.result()  # the connection's last indexing is done: it is free
            _insert(connections[side], tables[resource.name], resource)
            pending[side] = workers[side].submit(_index, connections[side], resource)
        for future in pending:
            if future is not None:
                future.result()
        for db in connections:
            db.execute("COMMIT")
    return [r for r in resources if written_in[r.name] == 1]


def export_sqlite(release: ReleaseInput, folder: Path) -> None:
    """One database, written as two at once and merged (see _write_tables)."""
    path, part_path = folder / SQLITE_FILE, folder / PART_FILE
    page_size = _page_size(release)
    db = _open(path, page_size)
    try:
        part = _open(part_path, page_size)
        try:
            resources, tables = list(release.package.resources), dict(release.tables)
            passages = passages_resource(resources)
            if passages is not None:
                tables[PASSAGES] = passages_table(passages, resources, tables)
                resources.append(passages)
            in_part = _write_tables(resources, tables, db, part)
        finally:
            part.close()
        _merge(db, part_path, in_part)
        db.execute("BEGIN")
        for name, (description, query) in applicable_views(release.package.resources).items():
            db.execute(f"-- {description}\nCREATE VIEW {quote_identifier(name)} AS\n{query}")
        db.execute(f"CREATE TABLE {METADATA_TABLE} (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)")
        db.executemany(f"INSERT INTO {METADATA_TABLE} VALUES (?, ?)", sorted(metadata_rows(release).items()))
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode = DELETE")  # the file as a reader's sqlite3 expects it
    finally:
        db.close()
        part_path.unlink(missing_ok=True)
    release.written[SQLITE_FILE] = path


def verify_sqlite(folder: Path) -> None:
    """The finished database passes SQLite's own foreign-key check (the load ran with keys off)."""
    db = sqlite3.connect(f"{(folder / SQLITE_FILE).resolve().as_uri()}?mode=ro", uri=True)
    try:
        problems = db.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        db.close()
    if problems:
        raise ExportCheckError(f"the database failed its foreign-key check: {problems[:5]}")


def metadata_rows(release: ReleaseInput) -> dict[str, str]:
    raw = release.package.raw
    rows = {
        "name": release.package.name,
        "title": str(raw.get("title", "")),
        "version": release.version,
        "license": ", ".join(str(lic.get("name", "")) for lic in raw.get("licenses", [])),
    }
    rows.update({f"build:{k}": v for k, v in build_versions().items()})
    # The seeds' checksums, under fixed keys, from the documents table's fields that declare the roles.
    documents = documents_resource(release.package.resources)
    if documents is None or len(documents.primary_key) != 1:
        return rows  # a package without a documents table has no checksums of seeds to record
    names = [
        documents.primary_key[0],
        *(f.name if f else "" for f in map(documents.role_field, (SHA256, BYTES, SEED_PATH))),
    ]
    table = release.tables.get(documents.name)
    if table is None or not set(names) <= set(table.column_names):
        return rows
    for doc_id, sha256, size, path in zip(*(table.column(name).to_pylist() for name in names), strict=True):
        rows[f"document:{doc_id}:sha256"] = sha256
        rows[f"document:{doc_id}:bytes"] = str(size)
        rows[f"document:{doc_id}:path"] = path
    return rows

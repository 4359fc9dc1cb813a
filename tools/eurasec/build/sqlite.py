"""One SQLite database: declared types, keys, CHECKs, foreign-key indexes, FTS5, the cited passages,
named views, metadata."""

from __future__ import annotations

import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from ..model.descriptor import (
    BYTES,
    DOCUMENT,
    END,
    QUOTE,
    SEED_PATH,
    SHA256,
    START,
    Resource,
    documents_resource,
)
from ..model.schema import (
    MENTIONS,
    PASSAGES,
    mention_views,
    mentions_resource,
    passage_columns,
    passages_resource,
    quote_identifier,
    sqlite_fts_ddl,
    sqlite_index_ddl,
    sqlite_passages_indexes,
    sqlite_table_ddl,
)
from ..model.views import (
    METADATA_TABLE,
    applicable_views,
)
from .context import SQLITE_FILE, ExportCheckError, ReleaseInput, build_versions
from .mentions import mentions_table

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_ROWS = 100_000
ROWS_PER_STATEMENT = 100


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
    if resource.name == PASSAGES:  # its unique index, which begins with the document, serves the key on it too
        return sqlite_passages_indexes(resource)
    return sqlite_index_ddl(resource)


def _fts(resource: Resource) -> list[str]:
    if resource.name == MENTIONS:  # its texts are names, which the entity tables' own indexes cover
        return []
    return sqlite_fts_ddl(resource, [passage_columns(resource).quote] if resource.name == PASSAGES else None)


def _index(db: sqlite3.Connection, resource: Resource) -> None:
    """A table's indexes and full-text index: SQLite's own work, without the GIL."""
    for statement in _indexes(resource) + _fts(resource):
        db.execute(statement)


def passages_table(passages: Resource, resources: list[Resource], tables: dict[str, pa.Table]) -> pa.Table:
    """Every distinct passage the fact tables cite, in order, numbered from 1.

    With offsets, a distinct (document, start, end) and its quote, in the order of the document and the
    place in it; without, a distinct (document, quote). Each fact table's own fields of those roles,
    whatever their names, become the passages' columns.
    """
    import pyarrow as pa

    columns = passage_columns(passages)
    schema = pa.schema([(f.name, pa.int64() if f.type == "integer" else pa.string()) for f in passages.fields[1:]])
    roles = [DOCUMENT, START, END, QUOTE] if columns.start is not None else [DOCUMENT, QUOTE]
    cited = []
    for r in resources:
        if r.is_fact_table:
            own = [field.name for field in map(r.role_field, roles) if field is not None]
            if len(own) == len(roles):  # passages_resource has found every fact table to have them all
                cited.append(tables[r.name].select(own).rename_columns(schema.names).cast(schema))
    distinct = pa.concat_tables(cited).group_by(schema.names, use_threads=False).aggregate([])
    # Ordered and numbered by the values alone, so the ids are the same in every build.
    distinct = distinct.sort_by([(name, "ascending") for name in columns.all])
    ids = pa.array(range(1, distinct.num_rows + 1), pa.int64())
    return pa.table({"id": ids, **{name: distinct[name] for name in schema.names}})


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
            mentions = mentions_resource(release.package.resources)
            derived_views: dict[str, tuple[str, str]] = {}
            if mentions is not None:
                table = mentions_table(release)
                assert table is not None  # mentions_resource and mentions_table agree
                tables[MENTIONS] = table
                resources.append(mentions)
                derived_views = mention_views(mentions, release.package.resources)
            in_part = _write_tables(resources, tables, db, part)
        finally:
            part.close()
        _merge(db, part_path, in_part)
        db.execute("BEGIN")
        views = {**applicable_views(release.package.resources), **derived_views}
        for name, (description, query) in views.items():
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
    # The seeds' checksums, under fixed keys, from the documents table's fields that declare the roles: of
    # each document that has its text stored (a source registered without it has none).
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
        if sha256 is None or size is None or path is None:
            continue  # a document registered without its text: there is no seed to record
        rows[f"document:{doc_id}:sha256"] = sha256
        rows[f"document:{doc_id}:bytes"] = str(size)
        rows[f"document:{doc_id}:path"] = path
    return rows

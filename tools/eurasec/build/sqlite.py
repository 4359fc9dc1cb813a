"""One SQLite database: declared types, keys, CHECKs, foreign-key indexes, FTS5, named views, metadata."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from ..schema import quote_identifier, sqlite_fts_ddl, sqlite_index_ddl, sqlite_table_ddl
from .context import SQLITE_FILE, ReleaseInput, build_versions

if TYPE_CHECKING:
    import pyarrow as pa

METADATA_TABLE = "eurasec_metadata"
BATCH_ROWS = 100_000

# Views that join ids to names. Each is a query, not metadata: the tables and columns it
# names are checked by the tests that run it.
VIEWS: dict[str, tuple[str, str]] = {
    "initiatives_with_proposers": (
        "Initiatives with the names of the actors who proposed them.",
        """SELECT i.id, i.name, i.kind, i.year, i.status,
       (SELECT group_concat(name, '; ') FROM (
            SELECT a.name FROM initiative_actors ia JOIN actors a ON a.id = ia.actor_id
            WHERE ia.initiative_id = i.id AND ia.role = 'proposer' ORDER BY a.name)) AS proposers,
       i.document_id, i.quote
FROM initiatives i""",
    ),
    "initiative_roles": (
        "Every actor's role in an initiative, with both names.",
        """SELECT ia.initiative_id, i.name AS initiative, ia.actor_id, a.name AS actor, ia.role,
       ia.document_id, ia.quote
FROM initiative_actors ia JOIN initiatives i ON i.id = ia.initiative_id JOIN actors a ON a.id = ia.actor_id""",
    ),
    "initiative_organization_roles": (
        "Every organization's role in an initiative, with both names.",
        """SELECT io.initiative_id, i.name AS initiative, io.organization_id, o.name AS organization, io.role,
       io.document_id, io.quote
FROM initiative_organizations io JOIN initiatives i ON i.id = io.initiative_id
JOIN organizations o ON o.id = io.organization_id""",
    ),
    "affiliations_named": (
        "Affiliations with the names of the actor and the organization.",
        """SELECT af.actor_id, a.name AS actor, af.organization_id, o.name AS organization, af.relation, af.position,
       af.document_id, af.quote
FROM affiliations af JOIN actors a ON a.id = af.actor_id JOIN organizations o ON o.id = af.organization_id""",
    ),
    "aliases_named": (
        "Every alias with the table, id and name of the entity it names.",
        """SELECT al.document_id, al.alias, al.kind,
       CASE WHEN al.actor_id IS NOT NULL THEN 'actors' WHEN al.organization_id IS NOT NULL THEN 'organizations'
            ELSE 'initiatives' END AS entity_table,
       coalesce(al.actor_id, al.organization_id, al.initiative_id) AS entity_id,
       coalesce(a.name, o.name, i.name) AS entity_name, al.quote
FROM aliases al LEFT JOIN actors a ON a.id = al.actor_id LEFT JOIN organizations o ON o.id = al.organization_id
LEFT JOIN initiatives i ON i.id = al.initiative_id""",
    ),
}


def _sqlite_column(column: pa.Array) -> list[object]:
    """A column as the Python values SQLite stores: enums as text, dates as ISO 8601 text, booleans as 0/1."""
    import pyarrow as pa

    if pa.types.is_dictionary(column.type) or pa.types.is_date(column.type):
        column = column.cast(pa.string())
    elif pa.types.is_boolean(column.type):
        column = column.cast(pa.int64())
    return column.to_pylist()


def export_sqlite(release: ReleaseInput, folder: Path) -> None:
    path = folder / SQLITE_FILE
    db = sqlite3.connect(path, isolation_level=None)
    try:
        # Pages of 16 KiB: rows carry quotes of a few hundred bytes, and fewer, larger pages load faster.
        db.execute("PRAGMA page_size = 16384")
        # A private file in a staged folder: no journal or syncing is needed while it is written.
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE", "cache_size = -64000"):
            db.execute(f"PRAGMA {pragma}")
        # The rows were validated against the same constraints the CHECKs state (they are made from the same
        # descriptor): checking them again row by row would double the load. The CHECKs stay in the schema
        # for whoever writes to the file later; this pragma lasts only as long as this connection.
        db.execute("PRAGMA ignore_check_constraints = ON")
        db.execute("PRAGMA foreign_keys = OFF")  # rows load in table order; keys are checked once all are in
        db.execute("BEGIN")
        for resource in release.package.resources:
            db.execute(sqlite_table_ddl(resource))
            table = release.tables[resource.name]
            cols = ", ".join(map(quote_identifier, resource.field_names))
            marks = ", ".join("?" for _ in resource.fields)
            insert = f"INSERT INTO {quote_identifier(resource.name)} ({cols}) VALUES ({marks})"
            for batch in table.to_batches(max_chunksize=BATCH_ROWS):  # bounded memory for Python's row tuples
                columns = (_sqlite_column(batch.column(n)) for n in resource.field_names)
                db.executemany(insert, zip(*columns, strict=True))
            for statement in sqlite_index_ddl(resource) + sqlite_fts_ddl(resource):
                db.execute(statement)
        for name, (description, query) in VIEWS.items():
            db.execute(f"-- {description}\nCREATE VIEW {quote_identifier(name)} AS\n{query}")
        db.execute(f"CREATE TABLE {METADATA_TABLE} (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)")
        db.executemany(f"INSERT INTO {METADATA_TABLE} VALUES (?, ?)", sorted(metadata_rows(release).items()))
        db.execute("COMMIT")
        problems = db.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"the database failed its foreign-key check: {problems[:5]}")
        db.execute("PRAGMA journal_mode = DELETE")  # the file as a reader's sqlite3 expects it
    finally:
        db.close()
    release.written[SQLITE_FILE] = path


def metadata_rows(release: ReleaseInput) -> dict[str, str]:
    raw = release.package.raw
    rows = {
        "name": release.package.name,
        "title": str(raw.get("title", "")),
        "version": release.version,
        "license": ", ".join(str(lic.get("name", "")) for lic in raw.get("licenses", [])),
    }
    rows.update({f"build:{k}": v for k, v in build_versions().items()})
    documents = release.tables["documents"].select(["id", "sha256", "bytes", "path"]).to_pylist()
    for doc in documents:
        rows[f"document:{doc['id']}:sha256"] = doc["sha256"]
        rows[f"document:{doc['id']}:bytes"] = str(doc["bytes"])
        rows[f"document:{doc['id']}:path"] = doc["path"]
    return rows

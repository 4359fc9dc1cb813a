"""The release's own descriptor and Datasette's metadata, both derived from datapackage.json.

Datasette's metadata gives the database, every table and every view a title and a description, rendered
from its Markdown (`description_html`; the database page lists every table and view with theirs), every
column of a table its field's description and every column of a view the description of the field it
comes from (model/views.py makes the views from the same fields), facets on every field with a fixed
list of values, a label column for every table that foreign keys point at, and a style that keeps the
"Link" column of a table with a compound primary key narrow.
"""

from __future__ import annotations

import copy
import html
import json
import sqlite3
import urllib.parse
from pathlib import Path
from typing import Any

from ..loaders.release import HASH_KEY, SIZE_KEY, SOURCES_KEY, sources_record
from ..model.descriptor import DOCUMENT, NAME, START, TITLE, Resource
from ..model.schema import (
    MENTION_COUNTS,
    mention_entity_columns,
    mention_views,
    mentions_resource,
    passages_resource,
    resource_descriptor,
    sqlite_table_ddl,
)
from ..model.views import (
    METADATA_TABLE,
    DeclaredView,
    ViewColumn,
    applicable_views,
    declared_view_columns,
    declared_views,
)
from .context import DATASETTE_METADATA, RELEASE_DESCRIPTOR, SQLITE_FILE, ReleaseInput, build_versions, sha256_file
from .parquet import parquet_path
from .prose import markdown_html, markdown_plain


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def export_release_descriptor(release: ReleaseInput, folder: Path) -> None:
    """The same metadata, with each resource pointing at its Parquet file and carrying its size and sha256.

    The size and sha256 are eurasec's own properties (SIZE_KEY, HASH_KEY), not the standard `bytes`
    and `hash`: frictionless reads Parquet without counting its bytes, so a plain `frictionless
    validate` would fail every resource on them. The descriptor also records the library versions
    used and what the release was built from (SOURCES_KEY: a digest of the source descriptor, every
    table's file and every seed), so that a stale release can be told from a current one.
    """
    descriptor = copy.deepcopy(release.package.raw)
    for resource in descriptor["resources"]:
        relative = parquet_path(resource["name"])
        path = release.written[relative]
        for standard in ("encoding", "dialect", "bytes", "hash"):  # they described the CSV
            resource.pop(standard, None)
        resource.update(path=relative, format="parquet", mediatype="application/vnd.apache.parquet")
        resource[SIZE_KEY] = path.stat().st_size
        resource[HASH_KEY] = sha256_file(path)
    mentions = mentions_resource(release.package.resources)
    relative = parquet_path(mentions.name) if mentions is not None else ""
    if mentions is not None and relative in release.written:  # derived at build time (build/mentions.py)
        path = release.written[relative]
        derived = resource_descriptor(mentions)
        derived.update(
            profile="tabular-data-resource",
            path=relative,
            format="parquet",
            mediatype="application/vnd.apache.parquet",
        )
        derived[SIZE_KEY] = path.stat().st_size
        derived[HASH_KEY] = sha256_file(path)
        descriptor["resources"].append(derived)
    descriptor["eurasec:build"] = build_versions()
    descriptor[SOURCES_KEY] = sources_record(release.package.root, release.package.path)
    (folder / RELEASE_DESCRIPTOR).write_text(_dump(descriptor), encoding="utf-8")
    release.written[RELEASE_DESCRIPTOR] = folder / RELEASE_DESCRIPTOR


# Datasette shows a table without a one-column primary key with a first column "Link" holding every key
# value joined by commas: one unbreakable word as wide as the key (initiative_actors' is six fields). This
# style, a data: URL so that nothing is fetched, keeps that column narrow and lets its text wrap, for every
# such table: Datasette marks the column with these classes whatever the table.
LINK_COLUMN_CSS = (
    "td.type-pk.col-Link{font-size:.8em}"
    "td.type-pk.col-Link a{display:inline-block;width:10em;overflow-wrap:anywhere;word-break:break-all}"
)
METADATA_TABLE_DESCRIPTION = (
    "The release's own record, as key and value: its name, title, version and licence, the library"
    " versions it was built with (`build:...`) and the sha256 of each stored seed."
)


def _view_title(name: str) -> str:
    """A view's title, from its name: actors_with_documents is "Actors with documents"."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _described(entry: dict[str, Any], description: str) -> dict[str, Any]:
    """The description as written (Markdown) and as HTML, which Datasette shows in its place."""
    entry["description"] = description
    entry["description_html"] = markdown_html(description)
    return entry


def label_column(resource: Resource) -> str | None:
    """The column Datasette shows for a row that a foreign key points at: the field of role `name` (an
    entity's name), else of role `title` (a document's), in a table with a one-field primary key."""
    if len(resource.primary_key) != 1:
        return None
    found = resource.role_field(NAME) or resource.role_field(TITLE)
    return found.name if found is not None else None


def facet_columns(resource: Resource) -> list[str]:
    """The columns to facet on: every field with a fixed list of values (an enum): the kinds, roles,
    statuses and relations, and any other such list a table declares."""
    return [f.name for f in resource.fields if f.enum]


def _declared_view_columns(view: DeclaredView, resources: list[Resource]) -> dict[str, ViewColumn]:
    """A declared view's columns and what each says, as plain text (Datasette shows column descriptions so)."""
    return {
        name: ViewColumn(markdown_plain(column.description), column.facet)
        for name, column in declared_view_columns(view, resources).items()
    }


def _mention_count_columns(mentions: Resource, resources: list[Resource]) -> dict[str, ViewColumn]:
    """The columns of the view that counts mentions (model/schema.py mention_views)."""
    document = mentions.role_field(DOCUMENT)
    start = mentions.role_field(START)
    entities = ", ".join(mention_entity_columns(resources))
    columns = {
        "entity_table": ViewColumn(f"The table of the entity mentioned: {entities}.", facet=True),
        "entity_id": ViewColumn("The id of the entity mentioned (the mentions' column of its table)."),
        "name": ViewColumn("The name of the entity mentioned."),
        "mentions": ViewColumn("How many mentions of the entity the document's seed has."),
    }
    if document is not None:
        columns[document.name] = ViewColumn(markdown_plain(document.description))
    if start is not None:
        columns["first_start"] = ViewColumn(
            "Where the first of those mentions begins. " + markdown_plain(start.description)
        )
    return columns


def view_columns(release: ReleaseInput) -> dict[str, tuple[list[str], dict[str, ViewColumn]]]:
    """Each view of the database: (its columns in order, as SQLite gives them; what each column says).

    The columns are those of the views made on the package's tables created empty in memory, exactly as
    the SQLite export makes them: O(metadata), no row is read.
    """
    resources = list(release.package.resources)
    derived = [r for r in (passages_resource(resources), mentions_resource(resources)) if r is not None]
    views = applicable_views(resources)
    mentions = mentions_resource(resources)
    if mentions is not None:
        views.update(mention_views(mentions, resources))
    declared = {v.name: v for v in declared_views(resources)[0]}
    db = sqlite3.connect(":memory:")
    try:
        for resource in [*resources, *derived]:
            db.execute(sqlite_table_ddl(resource))
        out = {}
        for name, (_, query) in views.items():
            names = [d[0] for d in db.execute(f"SELECT * FROM ({query}) LIMIT 0").description]
            if name in declared:
                described = _declared_view_columns(declared[name], resources)
            elif mentions is not None and name == MENTION_COUNTS:
                described = _mention_count_columns(mentions, resources)
            else:
                described = {}
            out[name] = (names, described)
        return out
    finally:
        db.close()


def _database_html(release: ReleaseInput, tables: dict[str, Any], database: str) -> str:
    """The database page's text: the package's description, then every table and view linked, with its title
    and description (Datasette's own list shows bare names)."""
    raw = release.package.raw
    parts = [markdown_html(str(raw.get("description", "")))]
    for heading, entries in (("Tables", tables["tables"]), ("Views", tables["views"])):
        parts.append(f"<h3>{heading}</h3><dl>")
        for name in entries:
            entry = tables["all"][name]
            link = f"{html.escape(database, quote=True)}/{html.escape(urllib.parse.quote(name), quote=True)}"
            parts.append(
                f'<dt><a href="{link}">{html.escape(entry["title"], quote=False)}</a>'
                f" <code>{html.escape(name, quote=False)}</code></dt><dd>{entry['description_html']}</dd>"
            )
        parts.append("</dl>")
    return "".join(parts)


def datasette_metadata(release: ReleaseInput) -> dict[str, Any]:
    """Datasette's metadata.json: the database and every table and view with a title and a description
    (as Markdown and as HTML), every column described, facets on the columns with fixed lists of values,
    label columns for the tables that foreign keys point at, and a narrow key column on compound-key tables."""
    raw = release.package.raw
    licence = (raw.get("licenses") or [{}])[0]
    source = (raw.get("sources") or [{}])[0]
    tables: dict[str, Any] = {}
    passages = passages_resource(release.package.resources)
    mentions = mentions_resource(release.package.resources)
    derived = [r for r in (passages, mentions) if r is not None]
    for resource in [*release.package.resources, *derived]:
        entry = _described({"title": resource.title}, resource.description)
        entry["columns"] = {f.name: markdown_plain(f.description) for f in resource.fields}
        facets = facet_columns(resource)
        if facets:
            entry["facets"] = facets
        label = label_column(resource)
        if label is not None:
            entry["label_column"] = label
        tables[resource.name] = entry
    tables[METADATA_TABLE] = _described({"title": _view_title(METADATA_TABLE)}, METADATA_TABLE_DESCRIPTION)
    table_names = list(tables)
    descriptions = applicable_views(release.package.resources)
    if mentions is not None:
        descriptions.update(mention_views(mentions, release.package.resources))
    for name, (names, described) in view_columns(release).items():
        entry = _described({"title": _view_title(name)}, descriptions[name][0])
        entry["columns"] = {c: described[c].description for c in names if c in described}
        facets = [c for c in names if c in described and described[c].facet]
        if facets:
            entry["facets"] = facets
        tables[name] = entry
    database = Path(SQLITE_FILE).stem
    title = str(raw.get("title", ""))
    listing = {"all": tables, "tables": table_names, "views": [n for n in tables if n not in table_names]}
    database_description = f"{title}, version {release.version}"
    return {
        "title": title,
        "description": raw.get("description", ""),
        "description_html": markdown_html(str(raw.get("description", ""))),
        "license": licence.get("name", ""),
        "license_url": licence.get("path", ""),
        "source": source.get("title", ""),
        "source_url": source.get("path", ""),
        "extra_css_urls": ["data:text/css," + urllib.parse.quote(LINK_COLUMN_CSS, safe="")],
        "databases": {
            database: {
                "title": title,
                "description": database_description,
                "description_html": markdown_html(database_description) + _database_html(release, listing, database),
                "tables": tables,
            }
        },
    }


def export_datasette_metadata(release: ReleaseInput, folder: Path) -> None:
    (folder / DATASETTE_METADATA).write_text(_dump(datasette_metadata(release)), encoding="utf-8")
    release.written[DATASETTE_METADATA] = folder / DATASETTE_METADATA

"""Everything derived from the descriptor's schemas: Arrow types, SQLite DDL, free-text fields.

Nothing here restates a field: names, types, constraints and descriptions all come from
`datapackage.json` through `eurasec.model.descriptor`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .descriptor import DOCUMENT, END, QUOTE, START, Field, ForeignKey, Resource, documents_resource

if TYPE_CHECKING:
    import pyarrow as pa

SQLITE_TYPES = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER", "date": "TEXT"}
# pandas' nullable dtypes for the loaders; a field with an enum becomes a Categorical of its values.
PANDAS_DTYPES = {
    "string": "string",
    "integer": "Int64",
    "number": "Float64",
    "boolean": "boolean",
    "date": "datetime64[s]",
}
_ID_LIKE = ("id",)


def arrow_type(field: Field) -> pa.DataType:
    import pyarrow as pa

    if field.enum:
        return pa.dictionary(pa.int32(), pa.string())
    return {
        "string": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
    }[field.type]


def arrow_schema(resource: Resource) -> pa.Schema:
    """The Arrow schema of a table, with titles and descriptions as field and schema metadata."""
    import pyarrow as pa

    fields = [
        pa.field(
            f.name,
            arrow_type(f),
            nullable=not f.required,
            metadata={"title": f.title, "description": f.description},
        )
        for f in resource.fields
    ]
    meta = {
        "eurasec:table": resource.name,
        "title": resource.title,
        "description": resource.description,
        "primary_key": json.dumps(list(resource.primary_key)),
    }
    return pa.schema(fields, metadata=meta)


def is_free_text(field: Field) -> bool:
    """Names, quotes and texts: strings that are neither ids, codes, enums nor addresses."""
    is_id = field.name in _ID_LIKE or field.name.endswith("_id")
    return field.type == "string" and not field.enum and not field.pattern and not field.format and not is_id


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _column_sql(field: Field) -> str:
    col = quote_identifier(field.name)
    parts = [col, SQLITE_TYPES[field.type]]
    if field.required:
        parts.append("NOT NULL")
    if field.unique:
        parts.append("UNIQUE")
    checks = []
    if field.enum:
        checks.append(f"{col} IN ({', '.join(_sql_literal(v) for v in field.enum)})")
    if field.type in ("integer", "number"):
        if "minimum" in field.constraints:
            checks.append(f"{col} >= {field.constraints['minimum']}")
        if "maximum" in field.constraints:
            checks.append(f"{col} <= {field.constraints['maximum']}")
    if field.type == "date":
        checks.append(f"date({col}) IS {col}")  # ISO 8601, a real calendar date
    if field.type == "boolean":
        checks.append(f"{col} IN (0, 1)")
    if checks:
        parts.append(f"CHECK ({col} IS NULL OR ({' AND '.join(checks)}))")
    return " ".join(parts)


def sqlite_table_ddl(resource: Resource) -> str:
    """CREATE TABLE with declared types, keys and CHECK constraints; each column carries its description."""
    lines = []
    for f in resource.fields:
        lines.append(f"  {_column_sql(f)}, -- {f.title}: {' '.join(f.description.split())}")
    if resource.primary_key:
        lines.append(f"  PRIMARY KEY ({', '.join(map(quote_identifier, resource.primary_key))}),")
    for fk in resource.foreign_keys:
        lines.append(
            f"  FOREIGN KEY ({', '.join(map(quote_identifier, fk.fields))})"
            f" REFERENCES {quote_identifier(fk.resource)} ({', '.join(map(quote_identifier, fk.reference_fields))}),"
        )
    # The last definition must not end with a comma; the comment after it stays a comment.
    last = lines[-1]
    code, sep, comment = last.partition(" -- ")
    lines[-1] = code.rstrip(",") + (sep + comment if sep else "")
    header = f"-- {resource.title}: {' '.join(resource.description.split())}"
    return f"{header}\nCREATE TABLE {quote_identifier(resource.name)} (\n" + "\n".join(lines) + "\n)"


def sqlite_index_ddl(resource: Resource) -> list[str]:
    """An index on every foreign key, so that joins and reverse look-ups are fast.

    A key that may be empty is indexed where it is not: a row with no reference is never found by
    one (`x = ?` implies `x IS NOT NULL`, so SQLite uses such an index for joins and key checks), and
    an alias names one of three kinds of entity, so two of its three keys are empty.
    """
    out = []
    for fk in resource.foreign_keys:
        name = quote_identifier(f"idx_{resource.name}_{'_'.join(fk.fields)}")
        cols = ", ".join(map(quote_identifier, fk.fields))
        optional = [c for c in fk.fields if not resource.field(c).required]
        where = " AND ".join(f"{quote_identifier(c)} IS NOT NULL" for c in optional)
        out.append(
            f"CREATE INDEX {name} ON {quote_identifier(resource.name)} ({cols})" + (f" WHERE {where}" if where else "")
        )
    return out


def search_columns(resource: Resource) -> list[str]:
    """The free-text fields a table's own full-text index covers: all but the cited quote (role `quote`).

    A quote is cited by many rows (one sentence supports an actor, its alias and an affiliation), so
    quotes are indexed once each, in the `passages` table's index, rather than once per citing row.
    """
    skip = {f.name for f in resource.fields_with_role(QUOTE)} if resource.is_fact_table else set()
    return [f.name for f in resource.fields if is_free_text(f) and f.name not in skip]


def sqlite_fts_ddl(resource: Resource, columns: list[str] | None = None) -> list[str]:
    """An FTS5 index over the table's search columns, kept as an external-content table."""
    columns = search_columns(resource) if columns is None else columns
    if not columns:
        return []
    fts = quote_identifier(f"{resource.name}_fts")
    cols = ", ".join(map(quote_identifier, columns))
    rowid = resource.primary_key[0] if _is_rowid_alias(resource) else "rowid"
    return [
        # content="table", quoted so: Datasette looks for exactly this to offer a table's search box.
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content={quote_identifier(resource.name)},"
        f" content_rowid={quote_identifier(rowid)})",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def _is_rowid_alias(resource: Resource) -> bool:
    """A single INTEGER primary key: SQLite makes it the rowid itself."""
    return len(resource.primary_key) == 1 and resource.field(resource.primary_key[0]).type == "integer"


PASSAGES = "passages"


def _passage_id(offsets: bool) -> Field:
    order = "its place in the document (start, then end)" if offsets else "quote (code points)"
    return Field(
        name="id",
        type="integer",
        title="Passage",
        description=f"Number of the passage, counting from 1 in order of document and {order}.",
        constraints={"required": True},
    )


@dataclass(frozen=True)
class PassageColumns:
    """The names of the passages' columns (each the citing tables' own field of that role)."""

    document: str
    quote: str
    start: str | None = None  # with offsets (roles `start` and `end`), a passage is a place in its seed...
    end: str | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """What tells passages apart, and what a citing row shares with the passage it cites: (document,
        start, end); without offsets, (document, quote)."""
        if self.start is not None and self.end is not None:
            return (self.document, self.start, self.end)
        return (self.document, self.quote)

    @property
    def all(self) -> tuple[str, ...]:
        """Every column but the id, in the table's order."""
        return (*self.key, self.quote) if self.start is not None else self.key


def cites_offsets(resource: Resource) -> bool:
    """A fact table whose rows say where their quote is in the seed (roles `start` and `end`)."""
    return resource.is_fact_table and resource.role_field(START) is not None and resource.role_field(END) is not None


def passages_resource(resources: Sequence[Resource]) -> Resource | None:
    """The `passages` table of the SQLite database: every distinct passage that rows cite.

    With offsets (every fact table has fields of roles `start` and `end`), a passage is a distinct
    (document, start, end) with its quote: a quote that a seed has twice is two passages. Without
    them (an older or a smaller package), it is a distinct (document, quote).

    Derived, like the views: its columns are the first fact table's own fields of those roles,
    its document pointing at the table of seed documents (role `documents`).
    """
    documents = documents_resource(list(resources))
    facts = [r for r in resources if r.is_fact_table]
    if not facts or documents is None or len(documents.primary_key) != 1:
        return None
    cited = facts[0]
    document, quote = cited.role_field(DOCUMENT), cited.role_field(QUOTE)
    if document is None or quote is None:  # never: a fact table has both
        return None
    start, end = cited.role_field(START), cited.role_field(END)
    key: tuple[Field, ...]
    fields: tuple[Field, ...]
    if start is not None and end is not None and all(cites_offsets(r) for r in facts):
        key, fields = (document, start, end), (_passage_id(True), document, start, end, quote)
    else:
        key, fields = (document, quote), (_passage_id(False), document, quote)
    names = [f.name for f in key]
    return Resource(
        name=PASSAGES,
        path="",
        title="Passages",
        description="Every distinct passage that rows cite, once each, with a full-text index (passages_fts)."
        f" A row cites a passage when its {', '.join(names[:-1])} and {names[-1]} are the passage's.",
        fields=fields,
        primary_key=("id",),
        foreign_keys=(
            ForeignKey(fields=(document.name,), resource=documents.name, reference_fields=documents.primary_key),
        ),
    )


def passage_columns(passages: Resource) -> PassageColumns:
    """The passages' columns, found by their roles."""
    document, quote = passages.role_field(DOCUMENT), passages.role_field(QUOTE)
    assert document is not None and quote is not None  # passages_resource made it so
    start, end = passages.role_field(START), passages.role_field(END)
    return PassageColumns(document.name, quote.name, start.name if start else None, end.name if end else None)


def sqlite_passages_indexes(passages: Resource) -> list[str]:
    """The passages' unique index on what tells them apart ((document, start, end), or (document, quote)),
    which also serves look-ups from the citing rows and the key on the document."""
    key = passage_columns(passages).key
    unique = quote_identifier(f"idx_{passages.name}_{'_'.join(key)}")
    columns = ", ".join(map(quote_identifier, key))
    return [f"CREATE UNIQUE INDEX {unique} ON {quote_identifier(passages.name)} ({columns})"]


# --- the mention index (model/mentions.py finds the mentions; the build stores them) -------------------

MENTIONS = "mentions"
# Marks a resource of the release descriptor that the build derives (not a table of the package):
# a reader that compares a release with its package (eurasec diff) leaves such a resource out.
DERIVED_KEY = "eurasec:derived"
MENTION_COUNTS = "mention_counts"  # the view that counts mentions per entity and document


def mention_entity_columns(resources: Sequence[Resource]) -> dict[str, str]:
    """Entity table -> the mentions' column that points at it.

    The column is named like the alias tables' foreign key into that table (`actor_id` for `actors`),
    else like any one-field foreign key into it, else `<table>_id`: the names a reader already knows.
    """
    from .mentions import alias_tables, entity_tables

    entities = [r.name for r in entity_tables(resources)]
    named: dict[str, str] = {}
    for table in alias_tables(resources):
        for field_name, target in table.entities:
            named.setdefault(target, field_name)
    for resource in resources:
        for fk in resource.foreign_keys:
            if len(fk.fields) == 1 and fk.resource in entities and fk.resource != resource.name:
                named.setdefault(fk.resource, fk.fields[0])
    columns = {name: named.get(name, f"{name}_id") for name in entities}
    if len(set(columns.values())) < len(columns) or set(columns.values()) & set(_MENTION_OWN_FIELDS):
        columns = {name: f"{name}_id" for name in entities}  # never two columns of one name
    return columns


_MENTION_OWN_FIELDS = ("id", "start", "end", "exact", "prefix", "suffix")


def mentions_resource(resources: Sequence[Resource]) -> Resource | None:
    """The `mentions` table of the release (SQLite and Parquet): every place where a seed names an entity.

    Derived, like `passages`: one row per mention, numbered in order of document, place and entity; its
    document pointing at the table of seed documents (role `documents`), and one column per entity table
    (a foreign key into it; exactly one is set on each row), named as mention_entity_columns says. None
    without a documents table or without entity tables.
    """
    from .descriptor import DOCUMENT, END, START

    documents = documents_resource(list(resources))
    columns = mention_entity_columns(resources)
    if documents is None or len(documents.primary_key) != 1 or not columns:
        return None
    document_name = next(
        (f.name for r in resources if r.is_fact_table for f in r.fields_with_role(DOCUMENT)), "document_id"
    )
    if document_name in _MENTION_OWN_FIELDS or document_name in columns.values():
        document_name = "document_id"
    code_points = "in code points of the seed's text from 0 (as the W3C TextPositionSelector counts)"
    fields = (
        Field(
            "id",
            "integer",
            "Mention",
            "Number of the mention, from 1, in order of document, place and entity.",
            {"required": True},
        ),
        Field(
            document_name,
            _key_type(documents),
            "Document",
            "The document whose seed names the entity.",
            {"required": True},
            role=DOCUMENT,
        ),
        Field(
            "start",
            "integer",
            "Start",
            f"Where the mention begins, {code_points}.",
            {"required": True, "minimum": 0},
            role=START,
        ),
        Field(
            "end",
            "integer",
            "End",
            f"Where the mention ends (exclusive), {code_points}.",
            {"required": True, "minimum": 0},
            role=END,
        ),
        Field(
            "exact",
            "string",
            "Exact text",
            "The name as the seed writes it: the seed's text from start to end.",
            {"required": True},
        ),
        Field(
            "prefix",
            "string",
            "Prefix",
            "Up to 32 code points of the seed just before the mention (empty at the seed's start).",
            {},
        ),
        Field(
            "suffix",
            "string",
            "Suffix",
            "Up to 32 code points of the seed just after the mention (empty at the seed's end).",
            {},
        ),
        *(
            Field(
                column,
                _key_type(next(r for r in resources if r.name == table)),
                f"Entity ({table})",
                f"The entity of the table {table} that the mention names, if it is one of those.",
                {},
            )
            for table, column in columns.items()
        ),
    )
    foreign_keys = (
        ForeignKey(fields=(document_name,), resource=documents.name, reference_fields=documents.primary_key),
        *(
            ForeignKey(fields=(column,), resource=table, reference_fields=_primary_key(resources, table))
            for table, column in columns.items()
        ),
    )
    return Resource(
        name=MENTIONS,
        path="",
        title="Mentions",
        description="Every place where a seed names an entity, by its name or an alias: derived at build time"
        " by the rules of docs/curation.md#mentions (the longest name wins). Each row sets the column of its"
        f" entity's table ({', '.join(columns.values())}); a name shared by entities makes a row for each.",
        fields=fields,
        primary_key=("id",),
        foreign_keys=foreign_keys,
    )


def _key_type(resource: Resource) -> str:
    """The type of a one-field primary key: what a foreign key into the table holds."""
    return resource.field(resource.primary_key[0]).type


def _primary_key(resources: Sequence[Resource], name: str) -> tuple[str, ...]:
    return next(r.primary_key for r in resources if r.name == name)


def mention_views(mentions: Resource, resources: Sequence[Resource]) -> dict[str, tuple[str, str]]:
    """The view that counts mentions per entity and document: name -> (description, query)."""
    from .descriptor import DOCUMENT, NAME

    document = mentions.role_field(DOCUMENT)
    assert document is not None  # mentions_resource made it so
    doc = quote_identifier(document.name)
    parts = []
    for table, column in mention_entity_columns(resources).items():
        entity = next(r for r in resources if r.name == table)
        name = entity.role_field(NAME)
        assert name is not None  # an entity table has one
        key, col = quote_identifier(entity.primary_key[0]), quote_identifier(column)
        parts.append(
            f"SELECT {_sql_literal(table)} AS entity_table, m.{col} AS entity_id,"
            f" e.{quote_identifier(name.name)} AS name,"
            f' m.{doc} AS {doc}, COUNT(*) AS mentions, MIN(m."start") AS first_start'
            f" FROM {quote_identifier(mentions.name)} AS m JOIN {quote_identifier(table)} AS e ON e.{key} = m.{col}"
            f" GROUP BY m.{col}, m.{doc}"
        )
    query = "\nUNION ALL\n".join(parts) + f"\nORDER BY entity_table, entity_id, {doc}"
    description = (
        "One row per entity and document whose seed names it: how many mentions it has there (mentions) and"
        " where the first begins (first_start)."
    )
    return {MENTION_COUNTS: (description, query)}


def resource_descriptor(resource: Resource) -> dict[str, object]:
    """A derived resource as a descriptor's JSON: name, title, description, DERIVED_KEY and its Table Schema."""
    from .descriptor import ROLE_KEY

    def field_json(f: Field) -> dict[str, object]:
        out: dict[str, object] = {"name": f.name, "type": f.type, "title": f.title, "description": f.description}
        if f.constraints:
            out["constraints"] = dict(f.constraints)
        if f.role:
            out[ROLE_KEY] = f.role
        return out

    return {
        "name": resource.name,
        "title": resource.title,
        "description": resource.description,
        DERIVED_KEY: True,
        "schema": {
            "fields": [field_json(f) for f in resource.fields],
            "primaryKey": list(resource.primary_key),
            "foreignKeys": [
                {"fields": list(fk.fields), "reference": {"resource": fk.resource, "fields": list(fk.reference_fields)}}
                for fk in resource.foreign_keys
            ],
        },
    }

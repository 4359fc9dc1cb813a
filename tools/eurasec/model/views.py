"""The release's SQL views, derived from the descriptor's declared relations, and the names the database keeps.

A resource declares its view ("eurasec:view"); the query is made here from foreign keys and roles,
so validate can check a declaration and the build can write it, from the one model.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .descriptor import (
    ALIAS,
    DOCUMENT,
    END,
    NAME,
    QUOTE,
    ROLE_KEY,
    START,
    VIEW_KEY,
    Field,
    ForeignKey,
    Resource,
)
from .schema import MENTION_COUNTS, MENTIONS, PASSAGES, quote_identifier, sqlite_table_ddl

METADATA_TABLE = "eurasec_metadata"  # the database's own table of versions and checksums

# Named views that join ids to names. Nothing of them is written here: a resource declares its views
# ("eurasec:view": an object, or a list of them, each with a name, a description, and perhaps a column
# that lists, from a link table, the names it refers to, or the keys where the table referred to has no
# name), and each query is made from the descriptor's foreign keys and roles (descriptor.py): each
# reference into a table with a `name` field is joined for that name; a table with an `alias` field
# names one entity among several; a row's provenance (roles document, start, end, quote) comes last.
# The SQL is laid out by the rules below, so the same descriptor always makes the same bytes.
WIDTH = 120  # where a view's SQL is wrapped
_COLUMNS = " " * len("SELECT ")  # a column list's continuation lines
_INNER = " " * 12  # an expression's continuation lines within the column list
_VIEW_KEYS, _LIST_KEYS = {"name", "description", "list"}, {"column", "resource", "where"}
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PROVENANCE = (DOCUMENT, START, END, QUOTE)  # the roles of a row's citation, shown in this order, last


class ViewError(ValueError):
    """A declared view cannot be made from the descriptor: why, in a sentence. `role_missing`: because no
    table declares a role the view needs (a `name` field), rather than because the declaration is wrong.
    `index`: which of a resource's declarations, when it declares a list of them (None: the one object)."""

    def __init__(self, message: str, *, role_missing: bool = False, index: int | None = None) -> None:
        super().__init__(message)
        self.role_missing = role_missing
        self.index = index


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


def _declarations(resource: Resource) -> list[tuple[int | None, Any]]:
    """The resource's view declarations, each with its place in the list (None: the one object)."""
    view = resource.view
    if isinstance(view, list):
        if not view:
            raise ViewError(f"{VIEW_KEY} is an empty list: declare a view (an object), or a list of them")
        return list(enumerate(view))
    return [(None, view)]


def _declaration(view: Any) -> tuple[str, str, dict[str, Any] | None]:
    if not isinstance(view, dict):
        raise ViewError(f"{VIEW_KEY} must be an object with a name and a description, or a list of them")
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
    """A column that lists, per row, what a link table's rows refer to: the names, where the table they
    refer to has a name field (role `name`); else the keys themselves."""

    column: str
    link: Resource
    back: Field  # the link table's reference to the view's own table...
    back_to: str  # ...and the field it refers to there
    listed: Field  # the link table's reference to what is listed...
    entity: _Named | None  # ...and the table whose names are listed (None: the link's own values are)
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
    if column in resource.field_names:
        raise ViewError(f"the view {view!r}: its list's column {column!r} is named like a field of {resource.name!r}")
    link = tables.get(link_name)
    if link is None:
        raise ViewError(f"the view {view!r} lists from the resource {link_name!r}, which the package does not have")
    back = [(f, k) for f in link.fields if (k := link.foreign_key(f.name)) and k.resource == resource.name]
    if len(back) != 1 or len(back[0][1].reference_fields) != 1:
        raise ViewError(
            f"the view {view!r}: {link_name!r} needs exactly one foreign key of one field into {resource.name!r}"
            f" (it has {len(back)})"
        )
    others = [
        f
        for f in link.fields
        if f != back[0][0] and (k := link.foreign_key(f.name)) is not None and len(k.reference_fields) == 1
    ]
    named = [n for n in _named_references(link, tables) if n.field != back[0][0]]
    if len(named) != 1 and (named or len(others) != 1):
        raise ViewError(
            f"the view {view!r}: {link_name!r} needs exactly one other foreign key into a table with a field of"
            f" {ROLE_KEY} {NAME!r}, whose names it lists (it has {len(named)}), or else one other foreign key"
            f" alone, whose values it lists (it has {len(others)})",
            role_missing=not named and len(others) > 1,
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
    entity = named[0] if named else None
    listed = entity.field if entity else others[0]
    return _Listing(column, link, back[0][0], back[0][1].reference_fields[0], listed, entity, dict(where))


_ONLY: Any = object()  # view_query's default declaration: the resource's only one


def view_query(resource: Resource, resources: Sequence[Resource], declaration: Any = _ONLY) -> tuple[str, str, str]:
    """(name, description, query) of a view the resource declares (the one given, else its only one);
    ViewError if it cannot be made."""
    if declaration is _ONLY:
        declarations = _declarations(resource)
        if len(declarations) != 1:
            raise ViewError(f"{resource.name!r} declares {len(declarations)} views: say which")
        declaration = declarations[0][1]
    name, description, listing = _declaration(declaration)
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


def _provenance(resource: Resource) -> list[Field]:
    """The fields of a row's citation (roles document, start, end and quote), in that order."""
    return [f for f in map(resource.role_field, PROVENANCE) if f is not None]


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
    """The table's columns, each reference followed by the name it refers to, any list, and then the row's
    provenance (roles document, start, end and quote) on a line of its own."""
    listing_tables = [listed.link.name, *([listed.entity.table.name] if listed.entity else [])] if listed else []
    *aliases, main = _aliases([*(n.table.name for n in named), *listing_tables, resource.name])
    joined = {n.field.name: (n, alias) for n, alias in zip(named, aliases, strict=False)}
    taken = set(resource.field_names)
    provenance = _provenance(resource)
    own = []
    for f in resource.fields:
        if f in provenance:
            continue
        own.append(f"{main}.{_ident(f.name)}")
        if f.name in joined:
            n, alias = joined[f.name]
            label = _label(f.name, taken)
            taken.add(label)
            own.append(f"{alias}.{_ident(n.name.name)} AS {_ident(label)}")
    if listed:
        own.append(_list_column(listed, aliases[len(named) :], main))
    joins = [_join(joined[n.field.name][0], joined[n.field.name][1], main) for n in named]
    cited = [f"{main}.{_ident(f.name)}" for f in provenance]
    select = _select([own, cited] if cited else [own])
    return "\n".join([*select, *_from(f"{_ident(resource.name)} {main}", joins)])


def _list_column(listed: _Listing, aliases: Sequence[str], main: str) -> str:
    """The list of a row's names (each entity once, by name), or of its keys (each once), '; '-joined."""
    link = aliases[0]
    conditions = [
        f"{link}.{_ident(listed.back.name)} = {main}.{_ident(listed.back_to)}",
        *(f"{link}.{_ident(k)} = {_literal(v)}" for k, v in listed.where.items()),
    ]
    source = f"{_ident(listed.link.name)} {link}"
    if listed.entity is None:  # the keys themselves: one each, in order
        value = listed.listed.name
        inner = f"SELECT DISTINCT {link}.{_ident(value)} FROM {source}"
        order = f"{link}.{_ident(value)}"
    else:  # each entity once, by name (two of one name are two)
        entity = aliases[1]
        value = listed.entity.name.name
        key = f"{entity}.{_ident(listed.entity.key.reference_fields[0])}"
        join = _join(listed.entity, entity, link, inner=True)
        inner = f"SELECT DISTINCT {key}, {entity}.{_ident(value)} FROM {source} {join}"
        order = f"{entity}.{_ident(value)}, {key}"
    return (
        f"(SELECT group_concat({_ident(value)}, '; ') FROM (\n"
        f"{_INNER}{inner}\n"
        f"{_INNER}WHERE {' AND '.join(conditions)} ORDER BY {order})) AS {_ident(listed.column)}"
    )


def _entity_query(resource: Resource, named: list[_Named]) -> str:
    """An alias table's columns, the one entity each row names (its table, id and name), then the row's
    provenance (roles document, start, end and quote) on a line of its own."""
    *aliases, main = _aliases([*(n.table.name for n in named), resource.name])
    refs = {n.field.name for n in named}
    provenance = _provenance(resource)
    columns = [f"{main}.{_ident(f.name)}" for f in resource.fields if f.name not in refs and f not in provenance]
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
    cited = [f"{main}.{_ident(f.name)}" for f in provenance]
    joins = [_join(n, alias, main) for n, alias in zip(named, aliases, strict=True)]
    select = _select(
        [[*columns, table, entity_id, entity_name], cited] if cited else [[*columns, table, entity_id, entity_name]]
    )
    return "\n".join([*select, *_from(f"{_ident(resource.name)} {main}", joins)])


@dataclass(frozen=True)
class DeclaredView:
    resource: Resource  # the resource that declares it
    name: str
    description: str
    query: str
    index: int | None = None  # its place in the resource's list of declarations (None: the one object)


def declared_views(resources: Sequence[Resource]) -> tuple[list[DeclaredView], list[tuple[Resource, ViewError]]]:
    """The views that the resources declare and that can be made, in the resources' order (and each
    resource's list's), and [(resource, why)] for the declarations that cannot (malformed, relations that
    do not fit, or a role that no table declares; why.index says which of a list). Their names are not
    checked here (see view_name_clash)."""
    views: list[DeclaredView] = []
    problems: list[tuple[Resource, ViewError]] = []
    for resource in resources:
        if resource.view is None:
            continue
        try:
            declarations = _declarations(resource)
        except ViewError as exc:
            problems.append((resource, exc))
            continue
        for index, declaration in declarations:
            try:
                views.append(DeclaredView(resource, *view_query(resource, resources, declaration), index=index))
            except ViewError as exc:
                exc.index = index
                problems.append((resource, exc))
    return views, problems


def view_name_clash(name: str, resources: Sequence[Resource], earlier: Sequence[str] = ()) -> str | None:
    """Why a view cannot have this name in the database (a table, index or view has it), or None."""
    if any(r.name == name for r in resources):
        return f"the resource {name!r} has that name"
    if name in earlier:
        return "another view has that name"
    return reserved_name_reason(name)


@dataclass(frozen=True)
class ViewColumn:
    description: str
    facet: bool = False  # its values are a fixed list (an enum field's, or the entity tables' names)


def declared_view_columns(view: DeclaredView, resources: Sequence[Resource]) -> dict[str, ViewColumn]:
    """A declared view's columns and what each says (Markdown, as the fields' descriptions are), from the fields
    it is made of, by the rules its query is made by: the table's own fields, each reference followed by the
    name it refers to, any list, and for a table of aliases the entity it names."""
    tables = {r.name: r for r in resources}
    resource = view.resource
    named = _named_references(resource, tables)
    columns = {f.name: ViewColumn(f.description, facet=bool(f.enum)) for f in resource.fields}
    if resource.role_field(ALIAS) is not None:
        entity_tables = ", ".join(n.table.name for n in named)
        columns["entity_table"] = ViewColumn(f"The table of the entity that the row names: {entity_tables}.", True)
        columns["entity_id"] = ViewColumn(
            f"The id of that entity: the row's {' or '.join(n.field.name for n in named)}, whichever is set."
        )
        names = ", ".join(sorted({f"{n.table.name}.{n.name.name}" for n in named}))
        columns["entity_name"] = ViewColumn(f"The name of that entity ({names}).")
        return columns
    joined = {n.field.name: n for n in named}
    taken = set(resource.field_names)
    provenance = {f.name for f in map(resource.role_field, PROVENANCE) if f is not None}
    for f in resource.fields:
        if f.name in provenance or f.name not in joined:
            continue
        n = joined[f.name]
        label = _label(f.name, taken)
        taken.add(label)
        columns[label] = ViewColumn(
            f"The {n.name.name} of the row of {n.table.name} that {f.name} refers to: " + n.name.description
        )
    _, _, listing = _declaration(_declarations(resource)[view.index or 0][1])
    if listing is not None:
        listed = _listing(view.name, resource, listing, tables)
        where = "".join(f" whose {k} is {v}" for k, v in listed.where.items())
        if listed.entity is not None:
            what = f"The {listed.entity.name.name}s of the {listed.entity.table.name} that the rows of"
            text = f"{what} {listed.link.name}{where} link to this row: each once, by name, joined by '; '."
        else:
            text = (
                f"The {listed.listed.name} of each row of {listed.link.name}{where} that refers to this row:"
                f" each once, in order, joined by '; '. {listed.listed.description}"
            )
        columns[listed.column] = ViewColumn(text)
    return columns


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
    if name in (PASSAGES, MENTIONS, MENTION_COUNTS, METADATA_TABLE):
        return f"the database has a table {name!r} of its own"
    for part, what in (("idx_", "its indexes"), ("sqlite_", "SQLite's own tables")):
        if name.lower().startswith(part):
            return f"names that start with {part!r} are {what}"
    if "_fts" in name.lower():
        return "names with '_fts' in them are its full-text indexes"
    return None

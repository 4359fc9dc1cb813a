"""Roles: the tables and fields that the other checks and the release find by what they are for.

A check that needs "the documents table" or "a row's quote" finds it by its declared role
(`eurasec:role`, descriptor.py), never by a name. So a package without a role it relies on is told so
(role-missing, a warning: that check does not run), and roles that contradict each other or the
foreign keys are an error (role-inconsistent), as are views that cannot be made (view-invalid).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..model.codes import finding
from ..model.descriptor import (
    BYTES,
    DESCRIPTOR_NAME,
    DOCUMENT,
    DOCUMENTS,
    DOCUMENTS_FIELD_ROLES,
    END,
    FIELD_ROLES,
    NAME,
    NUMBER,
    QUOTE,
    RESOURCE_ROLES,
    ROLE_KEY,
    SEED_PATH,
    SHA256,
    START,
    TITLE,
    VIEW_KEY,
    Package,
    Resource,
)
from ..model.findings import Finding
from .context import Context

KeyPath = tuple[str | int, ...]
Problem = tuple[str, str, KeyPath, str | None]  # code, message, where in the descriptor, hint (None: the default)

_SEE = "docs/curation.md#roles"
_NAME_HINT = f'Declare "{ROLE_KEY}": "{NAME}" on the name field of each table whose names the view shows;'
# What stops running when the documents table lacks a field's role.
_UNCHECKED = {
    SEED_PATH: "no seed is checked, and no quote",
    SHA256: "no seed's SHA-256 is compared with its row",
    BYTES: "no seed's size is compared with its row",
    TITLE: "no title is looked for in its seed",
}


def number_groups(resource: Resource) -> list[str]:
    """The fields within whose values a `number` field runs 1, 2, 3…: the rest of the primary key, if
    the number is part of it; else the row's document."""
    number = resource.role_field(NUMBER)
    if number is None:
        return []
    if number.name in resource.primary_key:
        return [name for name in resource.primary_key if name != number.name]
    return [f.name for f in resource.fields_with_role(DOCUMENT)]


def _known(value: Any, known: dict[str, str]) -> bool:
    return isinstance(value, str) and value in known


def _values(package: Package) -> Iterator[Problem]:
    """Unknown roles, on a resource or a field."""
    raws = package.raw.get("resources") or []
    for index, (raw, resource) in enumerate(zip(raws, package.resources, strict=False)):
        if not isinstance(raw, dict):
            continue
        if ROLE_KEY in raw and not _known(raw[ROLE_KEY], RESOURCE_ROLES):
            yield (
                "role-inconsistent",
                f"the resource {resource.name!r} declares the unknown {ROLE_KEY} {raw[ROLE_KEY]!r}; a resource's"
                f" role is one of: {', '.join(RESOURCE_ROLES)}",
                ("resources", index, ROLE_KEY),
                None,
            )
        schema = raw.get("schema")
        fields = schema.get("fields") if isinstance(schema, dict) else None
        for position, field in enumerate(fields if isinstance(fields, list) else []):
            if isinstance(field, dict) and ROLE_KEY in field and not _known(field[ROLE_KEY], FIELD_ROLES):
                yield (
                    "role-inconsistent",
                    f"the field {resource.name}.{field.get('name')} declares the unknown {ROLE_KEY}"
                    f" {field[ROLE_KEY]!r}; a field's role is one of: {', '.join(FIELD_ROLES)}",
                    ("resources", index, "schema", "fields", position, ROLE_KEY),
                    None,
                )


def _fields(index: int, resource: Resource, documents: Resource | None, names: set[str]) -> Iterator[Problem]:
    """A resource's field roles: each at most once, where it belongs, and with what it needs beside it."""

    def at(field_name: str) -> KeyPath:
        return ("resources", index, "schema", "fields", resource.field_names.index(field_name), ROLE_KEY)

    seen: dict[str, str] = {}
    for f in resource.fields:
        if f.role not in FIELD_ROLES:
            continue
        if f.role in seen:
            yield (
                "role-inconsistent",
                f"the fields {resource.name}.{seen[f.role]} and {resource.name}.{f.name} both declare"
                f" {ROLE_KEY} {f.role!r}: a table has one field of each role",
                at(f.name),
                None,
            )
            continue
        seen[f.role] = f.name
        if f.role in DOCUMENTS_FIELD_ROLES and resource.role != DOCUMENTS:
            yield (
                "role-inconsistent",
                f"the field {resource.name}.{f.name} declares {ROLE_KEY} {f.role!r}, which belongs in the table of"
                f" seed documents (the resource of {ROLE_KEY} {DOCUMENTS!r}), not in {resource.name!r}",
                at(f.name),
                None,
            )
    quote, document = resource.role_field(QUOTE), resource.role_field(DOCUMENT)
    if quote is not None and document is None:
        yield (
            "role-inconsistent",
            f"the field {resource.name}.{quote.name} declares {ROLE_KEY} {QUOTE!r}, but no field of"
            f" {resource.name!r} declares {ROLE_KEY} {DOCUMENT!r}: a quote is checked against the document its row"
            " cites, so the quote check cannot check this table",
            at(quote.name),
            f'Declare "{ROLE_KEY}": "{DOCUMENT}" on the field of {resource.name!r} that holds the document\'s id.',
        )
    if document is not None and documents is not None:
        key = resource.foreign_key(document.name)
        # A key into a resource that does not exist is frictionless' resource-error: not said twice.
        if key is None or (key.resource != documents.name and key.resource in names):
            yield (
                "role-inconsistent",
                f"the field {resource.name}.{document.name} declares {ROLE_KEY} {DOCUMENT!r}, but no foreign key"
                f" leads from it to the table of seed documents, {documents.name!r}",
                at(document.name),
                f'Add the foreign key {{"fields": ["{document.name}"], "reference": {{"resource":'
                f' "{documents.name}", "fields": {list(documents.primary_key)}}}}} to {resource.name!r}.',
            )
    yield from _offset_roles(resource, quote is not None, at)
    number = resource.role_field(NUMBER)
    if number is not None and not number_groups(resource):
        yield (
            "role-inconsistent",
            f"the field {resource.name}.{number.name} declares {ROLE_KEY} {NUMBER!r}, but it runs 1, 2, 3… within"
            f" nothing: {resource.name!r} has neither a primary key of it and other fields nor a field of"
            f" {ROLE_KEY} {DOCUMENT!r}",
            at(number.name),
            None,
        )


def _offset_roles(resource: Resource, has_quote: bool, at: Callable[[str], KeyPath]) -> Iterator[Problem]:
    """Offsets come as a pair, of integers, beside the quote they locate."""
    start, end = resource.role_field(START), resource.role_field(END)
    for one, other in ((start, END), (end, START)):
        if one is not None and resource.role_field(other) is None:
            yield (
                "role-inconsistent",
                f"the field {resource.name}.{one.name} declares {ROLE_KEY} {one.role!r}, but no field of"
                f" {resource.name!r} declares {ROLE_KEY} {other!r}: a quote's offsets are a pair, so neither is"
                " checked",
                at(one.name),
                f'Declare "{ROLE_KEY}": "{other}" on the field that holds the other offset.',
            )
    for offset in (start, end):
        if offset is None:
            continue
        if not has_quote:
            yield (
                "role-inconsistent",
                f"the field {resource.name}.{offset.name} declares {ROLE_KEY} {offset.role!r}, but no field of"
                f" {resource.name!r} declares {ROLE_KEY} {QUOTE!r}: the offsets locate a quote",
                at(offset.name),
                None,
            )
        if offset.type != "integer":
            yield (
                "role-inconsistent",
                f"the field {resource.name}.{offset.name} declares {ROLE_KEY} {offset.role!r}, but its type is"
                f" {offset.type!r}: an offset counts code points",
                at(offset.name),
                f'Give {resource.name}.{offset.name} "type": "integer".',
            )


def _documents(package: Package) -> Iterator[Problem]:
    """One table of seed documents, with a one-field key and the fields that the seed check compares."""
    found = [(i, r) for i, r in enumerate(package.resources) if r.role == DOCUMENTS]
    if not found:
        yield (
            "role-missing",
            f"no resource declares {ROLE_KEY} {DOCUMENTS!r}: the seed and quote checks do not run, and no"
            " passages are made for the release",
            ("resources",),
            f'Declare "{ROLE_KEY}": "{DOCUMENTS}" on the table of seed documents, and the roles of its fields'
            f" and of every table's document and quote fields, as {_SEE} shows.",
        )
        return
    first = found[0][1].name
    for index, resource in found[1:]:
        yield (
            "role-inconsistent",
            f"the resources {first!r} and {resource.name!r} both declare {ROLE_KEY} {DOCUMENTS!r}: a package has"
            " one table of seed documents, so the seed and quote checks do not run",
            ("resources", index, ROLE_KEY),
            None,
        )
    if len(found) > 1:
        return
    index, documents = found[0]
    if len(documents.primary_key) != 1:
        yield (
            "role-inconsistent",
            f"the table of seed documents, {documents.name!r}, needs a primary key of one field (the id that rows"
            f" cite), not {list(documents.primary_key)}: the seed and quote checks do not run",
            ("resources", index, ROLE_KEY),
            None,
        )
    for role in DOCUMENTS_FIELD_ROLES:
        if documents.role_field(role) is None:
            yield (
                "role-missing",
                f"no field of the table of seed documents, {documents.name!r}, declares {ROLE_KEY} {role!r}:"
                f" {_UNCHECKED[role]}",
                ("resources", index, ROLE_KEY),
                f'Declare "{ROLE_KEY}": "{role}" on the field of {documents.name!r} that holds'
                f" {FIELD_ROLES[role]}; {_SEE} lists the roles.",
            )
    if not any(r.is_fact_table for r in package.resources):
        yield (
            "role-missing",
            f"no field declares {ROLE_KEY} {QUOTE!r} beside a field of {ROLE_KEY} {DOCUMENT!r}: the quote check"
            " does not run",
            ("resources",),
            f'Declare "{ROLE_KEY}": "{QUOTE}" on each table\'s quote field and "{ROLE_KEY}": "{DOCUMENT}" on'
            f" the field that cites its document, as {_SEE} shows.",
        )


def _item(index: int | None) -> tuple[int, ...]:
    """The key path's step to one of a list of views (none for a resource's one view)."""
    return () if index is None else (index,)


def _views(package: Package) -> Iterator[Problem]:
    from ..model.views import declared_views, view_name_clash

    index_of = {r.name: i for i, r in enumerate(package.resources)}
    views, problems = declared_views(package.resources)
    for resource, why in problems:
        path: KeyPath = ("resources", index_of[resource.name], VIEW_KEY)
        if why.index is not None:  # one of a list of views: at its name
            path = (*path, *_item(why.index), "name")
        if why.role_missing:  # told, not refused: the release is made without it
            yield "role-missing", f"{why}: the view is not made", path, f"{_NAME_HINT} {_SEE} shows how."
        else:
            yield "view-invalid", str(why), path, None
    earlier: list[str] = []
    for view in views:
        clash = view_name_clash(view.name, package.resources, earlier)
        earlier.append(view.name)
        if clash is None:
            continue
        if view.name in index_of:  # the resource is named like the database's view: as for its other names
            yield (
                "table-name-reserved",
                f"the resource {view.name!r} cannot be a table of the SQLite release: the database has a view"
                f" {view.name!r} (declared by the resource {view.resource.name!r})",
                ("resources", index_of[view.name], "name"),
                None,
            )
        else:
            yield (
                "view-invalid",
                f"the view {view.name!r} cannot be made: {clash}",
                ("resources", index_of[view.resource.name], VIEW_KEY, *_item(view.index), "name"),
                None,
            )


def role_problems(package: Package) -> list[Problem]:
    """Every problem of the package's roles and views, in the descriptor's order of things."""
    documents = package.documents
    problems = [*_values(package), *_documents(package)]
    names = set(package.resource_names)
    for index, resource in enumerate(package.resources):
        problems.extend(_fields(index, resource, documents, names))
    problems.extend(_views(package))
    return problems


def check_roles(ctx: Context) -> Iterator[Finding]:
    from .names import key_lines

    package = ctx.dataset.package
    problems = role_problems(package)
    if not problems:
        return
    lines = key_lines(package.text) if package.text else {}
    for code, message, path, hint in problems:
        line = lines.get(path)
        while line is None and len(path) > 1:  # a key that is not written (a field of the view): its object's
            path = path[:-1]
            line = lines.get(path)
        yield finding(code, DESCRIPTOR_NAME, message, line=line, hint=hint)

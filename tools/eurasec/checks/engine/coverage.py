"""What the fast engine reads itself, exactly as frictionless does, and what it leaves to frictionless.

The fast engine never guesses. A field it reads natively (NATIVE: a type and format, the field keys of
NATIVE_FIELD_KEYS, constraint values of the JSON kinds in NATIVE_CONSTRAINTS) is typed in bulk; any other
field is read by column with frictionless' own cell reader, built from the field's whole descriptor, once per
distinct cell: its type and constraint errors are frictionless' own. A resource goes to frictionless whole
where a column reading is not enough:

- its file is read by frictionless otherwise than by us (read/dataset.py: a dialect, another encoding, inline
  data, several files, another format; or what frictionless detects in the file's head: the encoding, the
  delimiter, initial spaces, the header row), or it is irregular (read/table.py: the slow path);
- it declares what frictionless checks beside the rows (`hash`, `bytes`, `fields`, `rows`), or anything
  outside RESOURCE_KEYS and SCHEMA_KEYS;
- a key (unique, primary or foreign) takes in a field not read natively, or compares values of two kinds
  (frictionless compares typed values: the text "1" is not the integer 1), or points into a resource whose
  data frictionless reads itself.

Everything here looks at the descriptor only (O(schema)); what depends on the file's head is decided once
a file, on its first lines. docs/codes.md lists this table (contribute/docs.py renders it), and
tests/test_differential.py generates its cases from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...model.descriptor import Package, Resource
from ...read.dataset import FOREIGN_KEYS, SNIFFED_DELIMITERS, foreign_reason

# Every field type frictionless reads, with the constraints it supports, in the order it checks them
# (each type's `supported_constraints`); `unique` applies to every type. tests/test_coverage.py holds this
# to frictionless.
FRICTIONLESS_TYPES: dict[str, tuple[str, ...]] = {
    "string": ("required", "minLength", "maxLength", "pattern", "enum"),
    "integer": ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"),
    "number": ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"),
    "boolean": ("required", "enum"),
    "date": ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"),
    "time": ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"),
    "datetime": ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"),
    "year": ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"),
    "yearmonth": ("required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"),
    "duration": ("required", "enum"),
    "geopoint": ("required", "enum"),
    "geojson": ("required", "enum"),
    "object": ("required", "minLength", "maxLength", "enum"),
    "array": ("required", "minLength", "maxLength", "enum"),
    "list": ("required", "minLength", "maxLength"),
    "any": ("required", "enum"),
}
# The field options frictionless reads for a type beyond the keys every field has (GENERIC_FIELD_KEYS).
FIELD_OPTIONS: dict[str, tuple[str, ...]] = {
    "integer": ("bareNumber",),
    "number": ("bareNumber", "floatNumber", "decimalChar", "groupChar"),
    "boolean": ("trueValues", "falseValues"),
    "array": ("arrayItem",),
    "list": ("delimiter", "itemType"),
}
GENERIC_FIELD_KEYS = (
    "name",
    "type",
    "format",
    "title",
    "description",
    "example",
    "constraints",
    "rdfType",
    "missingValues",
)
# The formats frictionless knows for a type ("default" for every type; a date, time or datetime also takes a
# strptime pattern such as %d/%m/%Y).
FORMATS: dict[str, tuple[str, ...]] = {
    "string": ("default", "email", "uri", "binary", "uuid", "wkt"),
    "date": ("default", "any", "<strptime pattern>"),
    "time": ("default", "any", "<strptime pattern>"),
    "datetime": ("default", "any", "<strptime pattern>"),
    "geopoint": ("default", "array", "object"),
    "geojson": ("default", "topojson"),
}
# The dialect frictionless reads (any of it makes a resource foreign: read/dataset.py FOREIGN_KEYS).
DIALECT_OPTIONS = (
    "header",
    "headerRows",
    "headerJoin",
    "headerCase",
    "commentChar",
    "commentRows",
    "skipBlankRows",
    "delimiter",
    "lineTerminator",
    "quoteChar",
    "doubleQuote",
    "escapeChar",
    "nullSequence",
    "skipInitialSpace",
)


@dataclass(frozen=True)
class Native:
    """A type and format the fast engine reads itself, and how."""

    type: str
    format: str
    domain: str  # what its values are, for keys: values of two domains are never equal
    reading: str  # how a cell is read (for the docs)


NATIVE = (
    Native("string", "default", "text", "the cell as it is"),
    Native("string", "uri", "text", "frictionless' own RFC 3986 validator (a scheme required), once a distinct cell"),
    Native(
        "integer",
        "default",
        "integer",
        "0-9 digits (up to 18) in bulk; any other cell by Python's int() after strip(), as frictionless",
    ),
    Native("date", "default", "date", "datetime.strptime(cell, '%Y-%m-%d'), once a distinct cell"),
)
_NATIVE = {(n.type, n.format): n for n in NATIVE}

# The constraints a native reader checks itself, with the JSON kind its value must have: a constraint
# value of another kind is read by frictionless' own cell reader (it reads an enum or a bound through the
# field's type: an integer field's enum ["1"] holds 1, a string field's enum [1] holds nothing).
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
NATIVE_CONSTRAINTS: dict[str, dict[str, str]] = {
    "string": {
        "required": "boolean",
        "unique": "boolean",
        "minLength": "integer",
        "maxLength": "integer",
        "pattern": "string",
        "enum": "list of strings",
    },
    "integer": {
        "required": "boolean",
        "unique": "boolean",
        **dict.fromkeys(_BOUNDS, "integer"),
        "enum": "list of integers",
    },
    "date": {
        "required": "boolean",
        "unique": "boolean",
        **dict.fromkeys(_BOUNDS, "YYYY-MM-DD string"),
        "enum": "list of YYYY-MM-DD strings",
    },
}
# Every key a field may have is read natively (missingValues: a list of strings, the field's own missing
# values instead of the schema's); a field option (FIELD_OPTIONS) is not.
NATIVE_FIELD_KEYS = GENERIC_FIELD_KEYS
SCHEMA_KEYS = ("fields", "primaryKey", "foreignKeys", "missingValues", "name", "title", "description")
RESOURCE_KEYS = (
    "name",
    "path",
    "title",
    "description",
    "profile",
    "format",
    "mediatype",
    "encoding",
    "schema",
    "licenses",
    "sources",
    "homepage",
    "scheme",
    "type",
    "compression",  # a resource that declares one is withheld (fast.WITHHELD): no engine reads it
)
# Keys frictionless checks against the file beside its rows: a resource that declares one is checked whole.
CHECKED_KEYS = ("hash", "bytes", "fields", "rows")
OWN_PREFIX = "eurasec:"  # the project's own keys, which frictionless ignores, on a resource, schema or field


def _kind_ok(kind: str, value: Any) -> bool:
    from .tabular import _python_date

    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind.startswith("list of "):
        return isinstance(value, list) and all(_kind_ok(kind.removeprefix("list of ").rstrip("s"), v) for v in value)
    if kind.startswith("YYYY-MM-DD string"):
        return isinstance(value, str) and len(value) == 10 and _python_date(value) is not None
    return False


def by_column_reason(field: Any) -> str | None:
    """Why frictionless' own cell reader reads this field (a raw field descriptor), or None when a native
    reader does."""
    if not isinstance(field, dict):
        return "the field is not an object"
    kind, fmt = field.get("type"), field.get("format", "default")
    native = _NATIVE.get((kind, fmt)) if isinstance(kind, str) and isinstance(fmt, str) else None
    if native is None:
        return f"type {kind}/{fmt} is not read natively" if "type" in field else "the field declares no type"
    odd = [k for k in field if k not in NATIVE_FIELD_KEYS and not k.startswith(OWN_PREFIX)]
    if odd:
        return f"the field declares {odd[0]!r}"
    missing = field.get("missingValues")
    if missing is not None and not _kind_ok("list of strings", missing):
        return "its missingValues are not a list of strings"
    constraints = field.get("constraints", {})
    if not isinstance(constraints, dict):
        return "its constraints are not an object"
    kinds = NATIVE_CONSTRAINTS[native.type]
    for name, value in constraints.items():
        if name in kinds and not _kind_ok(kinds[name], value):
            return f"its constraint {name} is not a {kinds[name]}"
        if name not in kinds:
            return f"its constraint {name} is not read natively"
    if "pattern" in constraints and not _compiles(f"^{constraints['pattern']}$"):
        return "its pattern is not one Python compiles (as frictionless does, within ^…$)"
    return None


def _compiles(pattern: str) -> bool:
    import re

    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return False
    return True


def domain(field: Any) -> str | None:
    """The domain of a natively read field's values (text, integer, date), None for any other field."""
    if by_column_reason(field) is not None:
        return None
    return _NATIVE[(field["type"], field.get("format", "default"))].domain


@dataclass(frozen=True)
class Plan:
    """How the fast engine reads one resource: which fields go to frictionless' cell reader, the missing
    values of each field; or why frictionless checks the resource whole."""

    whole: str | None  # why frictionless checks the resource itself (None: the fast engine does)
    by_column: dict[str, str]  # field name -> why frictionless' cell reader reads it
    missing_values: dict[str, list[str]]  # field name -> its missing values


def plan(raw: Any, resource: Resource, package: Package) -> Plan:
    """How the fast engine reads this resource (O(schema): its descriptor and those its keys point into)."""
    reason = uncovered(raw, resource, package)
    if reason is not None:
        return Plan(reason, {}, {})
    schema = raw["schema"]
    default = list(schema.get("missingValues", [""]))
    by_column, missing = {}, {}
    for field in schema["fields"]:
        name = field["name"]
        why = by_column_reason(field)
        if why is not None:
            by_column[name] = why
        missing[name] = list(field["missingValues"]) if "missingValues" in field and why is None else default
    return Plan(None, by_column, missing)


def uncovered(raw: Any, resource: Resource, package: Package) -> str | None:
    """Why frictionless checks this resource whole, or None when the fast engine can (O(schema))."""
    reason = foreign_reason(raw)
    if reason is not None:
        return reason
    assert isinstance(raw, dict)
    checked = [k for k in CHECKED_KEYS if k in raw]
    if checked:
        return f"it declares `{checked[0]}`, which frictionless checks against the file"
    odd = [k for k in raw if k not in RESOURCE_KEYS and not k.startswith(OWN_PREFIX)]
    if odd:
        return f"it declares {odd[0]!r}"
    reason = _schema_reason(raw.get("schema"))
    if reason is not None:
        return reason
    return _keys_reason(raw["schema"], resource, package)


def _schema_reason(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return "its schema is not inline" if schema is not None else "it has no schema"
    odd = [k for k in schema if k not in SCHEMA_KEYS and not k.startswith(OWN_PREFIX)]
    if odd:
        return f"its schema declares {odd[0]!r}"
    fields = schema.get("fields")
    if not isinstance(fields, list) or not fields:
        return "its schema has no fields"
    if not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in fields):
        return "a field has no name"
    names = [f["name"] for f in fields]
    if len(set(names)) != len(names):
        return "two fields have the same name"
    if "missingValues" in schema and not _kind_ok("list of strings", schema["missingValues"]):
        return "its missingValues are not a list of strings"
    return None


def _keys_reason(schema: dict[str, Any], resource: Resource, package: Package) -> str | None:
    """Why a key of the resource cannot be compared as frictionless compares it, or None."""
    fields = {f["name"]: f for f in schema["fields"]}
    keyed = [*resource.primary_key, *(f.name for f in resource.fields if f.unique)]
    for fk in resource.foreign_keys:
        keyed += fk.fields
    for name in keyed:
        if name not in fields:
            return f"its key names {name!r}, which is not a field"
        why = by_column_reason(fields[name])
        if why is not None:
            return f"its key takes in the field {name!r}, which is not read natively ({why})"
    targets = {r.name: (r, raw) for r, raw in zip(package.resources, package.raw["resources"], strict=False)}
    for fk in resource.foreign_keys:
        if fk.resource not in targets:
            continue  # frictionless' resource-error, which the fast engine gives itself
        target_raw = targets[fk.resource][1]
        target_schema = target_raw.get("schema") if isinstance(target_raw, dict) else None
        if not isinstance(target_schema, dict) or not isinstance(target_schema.get("fields"), list):
            return f"its foreign key points into {fk.resource!r}, whose schema is not inline"
        target_fields = {f.get("name"): f for f in target_schema["fields"] if isinstance(f, dict)}
        if len(fk.fields) != len(fk.reference_fields):
            return "a foreign key has not as many fields as it refers to"
        for name, reference in zip(fk.fields, fk.reference_fields, strict=True):
            if reference not in target_fields:
                return f"its foreign key refers to {fk.resource}.{reference}, which is not a field"
            theirs = domain(target_fields[reference])
            if theirs is None:
                return f"its foreign key refers to {fk.resource}.{reference}, which is not read natively"
            ours = domain(fields[name])
            if ours != theirs:
                return f"its foreign key compares {name} ({ours}) with {fk.resource}.{reference} ({theirs})"
    return None


# Where eurasec's findings deliberately differ from frictionless' (in the report of either engine), why,
# and the test that shows each. docs/codes.md lists them.
@dataclass(frozen=True)
class Deviation:
    what: str
    why: str
    test: str  # tests/<file>::<test>


DEVIATIONS = (
    Deviation(
        "A blank row gets one `blank-row` finding: frictionless' other errors on it (the primary key all empty)"
        " are left out.",
        "Everything else on the row follows from its being blank; one finding says what to fix.",
        "tests/test_coverage.py::test_deviation_blank_row_is_one_finding",
    ),
    Deviation(
        "A row with a cell too few or too many gets its `missing-cell` or `extra-cell` findings only (and a"
        " `bare-carriage-return` that split it): frictionless' type, constraint and key errors on it are left out.",
        "Its later cells are shifted: their errors are noise until the row has the right number of cells.",
        "tests/test_coverage.py::test_deviation_ragged_row_has_only_its_structure_errors",
    ),
    Deviation(
        "A row that repeats the primary key gets no `unique-error` beside the `primary-key` one.",
        "The repeated key says it; the unique field is part of the same repeat.",
        "tests/test_coverage.py::test_deviation_no_unique_error_beside_a_repeated_primary_key",
    ),
    Deviation(
        "An id that is not a slug gets `id-not-slug` instead of frictionless' `constraint-error` for the pattern.",
        "Ours names the rule (lowercase kebab-case) where the pattern's does not.",
        "tests/test_coverage.py::test_deviation_id_not_slug_replaces_the_pattern_error",
    ),
    Deviation(
        "A file that cannot be read as a whole gets our file-level finding (`file-missing`, `encoding-not-utf8`,"
        " `empty-file` …) instead of frictionless' `scheme-error`, `source-error`, `format-error` or"
        " `encoding-error`.",
        "Ours names the file, the line and the byte; frictionless' says the same less precisely.",
        "tests/test_coverage.py::test_deviation_file_level_findings_replace_frictionless_ones",
    ),
    Deviation(
        "A compressed file, a table of more than 1,000 columns and a file with a bare carriage return are read"
        " by no engine: their data gets no finding of frictionless' at all.",
        "frictionless would decompress a bomb, take quadratic time on the header, or read shifted rows;"
        " the file's own finding says what to mend first.",
        "tests/test_coverage.py::test_deviation_withheld_files_are_not_read",
    ),
    Deviation(
        "A data file that is a symlink (even one inside the package), a FIFO or a device is read by no engine:"
        " `file-not-regular` instead of frictionless' findings on what it leads to.",
        "A package's files are plain files in plain folders; a FIFO or a device could block or never end.",
        "tests/test_coverage.py::test_deviation_files_that_are_not_regular_are_not_read",
    ),
    Deviation(
        "A pattern Python's re cannot decide within its time bound gets `pattern-undecidable` for its field"
        " instead of frictionless' verdict on each cell.",
        "frictionless would backtrack for hours (a pattern such as (a+)+$); no cell is passed unchecked.",
        "tests/test_coverage.py::test_deviation_catastrophic_pattern_is_undecidable",
    ),
    Deviation(
        "A descriptor that refers to anything remote, or to a data file outside the package, is not given to"
        " frictionless: `remote-reference` or `path-outside-package` instead of what frictionless would fetch"
        " or read.",
        "Validation touches no network and reads no file outside the package.",
        "tests/test_coverage.py::test_deviation_remote_references_are_not_followed",
    ),
)


def coverage_markdown() -> str:
    """The fast engine's coverage and the deviations, for docs/codes.md."""
    out = [
        "## What the fast engine reads itself",
        "",
        "The default engine (`--engine fast`) gives frictionless' own findings, the same error type, row and field,"
        " for any package: what it does not read itself, frictionless reads. A field of a type and format below,"
        " with only the keys and constraint values listed, is read in bulk; any other field is read column by"
        " column by frictionless' own cell reader. A resource goes to frictionless whole when frictionless would"
        " read its file otherwise, when it declares something frictionless checks beside the rows or a key not"
        " listed here, or when one of its keys (unique, primary, foreign) takes in a field not read in bulk,"
        " compares values of two kinds, or points into a resource whose rows frictionless reads itself."
        " `tools/eurasec/checks/engine/coverage.py` holds this table; `tests/test_differential.py` generates its"
        " cases from it.",
        "",
        "| type | format | values are | read | constraints read natively |",
        "| --- | --- | --- | --- | --- |",
    ]
    for n in NATIVE:
        constraints = ", ".join(f"{k} ({v})" for k, v in NATIVE_CONSTRAINTS[n.type].items())
        out.append(f"| {n.type} | {n.format} | {n.domain} | {_escape(n.reading)} | {_escape(constraints)} |")
    others = [t for t in FRICTIONLESS_TYPES if t not in {n.type for n in NATIVE}]
    out += [
        "",
        f"- Field keys read natively: {', '.join(f'`{k}`' for k in NATIVE_FIELD_KEYS)}, and any `{OWN_PREFIX}…`.",
        f"- Read by frictionless' cell reader: the types {', '.join(f'`{t}`' for t in others)}; other formats;"
        " the field options "
        + ", ".join(sorted({f"`{o}`" for opts in FIELD_OPTIONS.values() for o in opts}))
        + "; a constraint value of another kind.",
        f"- Schema keys: {', '.join(f'`{k}`' for k in SCHEMA_KEYS)} (missing values as a list of strings).",
        f"- Resource keys: {', '.join(f'`{k}`' for k in RESOURCE_KEYS)}, and any `{OWN_PREFIX}…`; a file"
        " in UTF-8 (declared or detected as frictionless detects it), format csv.",
        "- Checked by frictionless beside the rows (the resource goes to it whole): "
        + ", ".join(f"`{k}`" for k in CHECKED_KEYS)
        + ".",
        f"- Read by frictionless whole: {', '.join(f'`{k}`' for k in FOREIGN_KEYS)} (and a dialect's"
        f" {', '.join(f'`{k}`' for k in DIALECT_OPTIONS)}), a path that is a list, another encoding or format;"
        f" a file whose head makes csv.Sniffer choose a delimiter other than a comma among"
        f" `{SNIFFED_DELIMITERS!r}` (or skip spaces that a cell starts with), or whose header frictionless"
        " would infer on another line.",
        "",
        "## Where eurasec differs from frictionless",
        "",
        "Apart from these, the findings of frictionless' own error types are frictionless' exactly, with either"
        " engine; each has a test that fails if it changes.",
        "",
        "| deviation | why | test |",
        "| --- | --- | --- |",
    ]
    for d in DEVIATIONS:
        out.append(f"| {_escape(d.what)} | {_escape(d.why)} | `{d.test}` |")
    out += [
        "",
        "Where frictionless itself stops with an exception instead of a report, both engines stop with it:"
        " keys over values Python cannot hash (arrays, objects), a bound it cannot read through the type, a"
        " pattern Python cannot compile once wrapped in `^…$`, a time or datetime bound and a cell of which"
        ' only one has a time zone. `validate` then says "internal error" and exits 2, not 1: no verdict'
        " on the data can be given. (`tests/test_differential.py::test_where_frictionless_fails_both_engines"
        "_say_the_same`)",
        "",
    ]
    return "\n".join(out)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")

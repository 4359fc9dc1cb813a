"""The registry of finding codes: each stable code with its severity, meaning and default hint.

The contributors' reference (docs/codes.md) is generated from this registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from .findings import Finding, Severity

E, W = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    family: str
    meaning: str
    hint: str


_CODES = [
    # Reading the file: found by eurasec before any parsing.
    Code(
        "file-missing",
        E,
        "file",
        "A resource's CSV file does not exist.",
        "Create the file, or correct the resource's `path` in datapackage.json.",
    ),
    Code(
        "file-not-regular",
        E,
        "file",
        "A resource's path is a directory, a symlink or another non-regular file.",
        "Put a plain CSV file at that path.",
    ),
    Code("file-unreadable", E, "file", "The file exists but cannot be read.", "Check the file's permissions."),
    Code(
        "path-outside-package",
        E,
        "file",
        "A resource path is absolute or escapes the package folder.",
        "Use a relative path inside the package, such as data/<table>.csv.",
    ),
    Code(
        "file-outside-package",
        E,
        "file",
        "A file the release takes from seeds/ (or seeds/ itself) is a symlink that leads outside the package"
        " folder, or has a name that cannot be a path.",
        "Put the file itself in seeds/, with a plain name, instead of a symlink (a link may only lead to a file"
        " inside the package).",
    ),
    Code(
        "encoding-not-utf8",
        E,
        "file",
        "The file has bytes that are not valid UTF-8.",
        "Re-save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8').",
    ),
    Code(
        "nul-byte",
        E,
        "file",
        "The file contains a NUL byte (U+0000).",
        "Remove the NUL byte; it usually comes from a binary file or a bad export.",
    ),
    Code(
        "csv-malformed",
        E,
        "file",
        "The CSV cannot be parsed: a quote is misplaced or never closed.",
        "Enclose cells that contain commas, quotes or newlines in double quotes, and double any quote inside them.",
    ),
    Code(
        "bare-carriage-return",
        E,
        "file",
        "A carriage return (CR) outside quotes is not followed by LF: readers split the row there.",
        "End every line with LF (or CR LF), and put a CR inside a cell only within double quotes.",
    ),
    Code(
        "too-many-columns",
        E,
        "file",
        "A row or the schema has more than 1,000 cells: the file is not read at all.",
        "Split the table, or remove the stray commas that made the extra columns.",
    ),
    Code(
        "compressed-resource",
        E,
        "file",
        "A resource is compressed (declared, or a .zip, .gz, .bz2 or .xz path): eurasec never decompresses one.",
        "Store the table as a plain CSV file; the release compresses it.",
    ),
    Code(
        "cell-too-large",
        E,
        "file",
        "A cell is larger than the 100,000-character limit.",
        "Shorten the cell: a quote should be the shortest passage that supports the row.",
    ),
    Code(
        "empty-file",
        E,
        "file",
        "The file has no header row.",
        "Write the header row: the schema's field names, in order, separated by commas.",
    ),
    # Canonical CSV form.
    Code(
        "bom",
        E,
        "canonical",
        "The file starts with a byte-order mark (BOM).",
        "Save the file as UTF-8 without BOM, or run `eurasec fmt`.",
    ),
    Code(
        "crlf",
        E,
        "canonical",
        "A line ends with CR LF instead of LF.",
        "Save with Unix (LF) line endings, or run `eurasec fmt`.",
    ),
    Code(
        "no-final-newline",
        E,
        "canonical",
        "The file does not end with a newline.",
        "Add a newline after the last row, or run `eurasec fmt`.",
    ),
    Code(
        "header-mismatch",
        E,
        "canonical",
        "The header differs from the schema's field names in order.",
        "Make the header exactly the schema's field names, in the schema's order.",
    ),
    Code(
        "not-canonical",
        E,
        "canonical",
        "A row is not written in canonical CSV form (quoting only where needed).",
        "Quote a cell only when it contains a comma, a double quote or a newline, or run `eurasec fmt`.",
    ),
    Code(
        "unsorted-rows",
        E,
        "canonical",
        "Rows are not sorted by primary key.",
        "Sort the rows by the primary key, or run `eurasec fmt`.",
    ),
    # Provenance.
    Code(
        "quote-not-found",
        E,
        "provenance",
        "A quote is not a verbatim substring of its document.",
        'Copy the passage from the seed exactly (run `eurasec quote DOCUMENT_ID "text"`): keep its dashes, quotes and spaces as they are.',
    ),
    Code(
        "quote-offset-mismatch",
        E,
        "provenance",
        "A citation's offsets do not point at its quote: the seed's characters from start to end (code points,"
        " end exclusive) are not the quote.",
        'Set start and end to the occurrence meant; `eurasec quote DOCUMENT_ID "text"` prints every'
        " occurrence's offsets, ready to paste.",
    ),
    Code(
        "document-without-text",
        E,
        "provenance",
        "A row cites a document that is registered without stored text (no seed path), so its quote cannot be checked.",
        "Cite the document whose text is stored (the copy or translation you read), or store this one's text"
        " with `eurasec add-document`.",
    ),
    Code(
        "quote-document-unknown",
        E,
        "provenance",
        "A quote cites a document whose seed cannot be read, so it cannot be checked.",
        "Fix the document's row in documents.csv or its seed file first.",
    ),
    Code(
        "value-not-in-quote",
        E,
        "provenance",
        "A value that must appear in the row's quote does not (an alias, or a trend's title or text).",
        "Make the quote include the value verbatim, or correct the value.",
    ),
    Code(
        "seed-missing",
        E,
        "seed",
        "A document's seed file does not exist.",
        "Add the seed under seeds/, byte-exact, or correct the document's `path`.",
    ),
    Code(
        "seed-record-incomplete",
        E,
        "seed",
        "A document's row has some but not all of seed path, sha256 and size: a stored text has all three, a"
        " document registered without text has none.",
        "Fill in the seed's path, sha256 and size (`eurasec add-document` does), or leave all three empty.",
    ),
    Code(
        "seed-path-unsafe",
        E,
        "seed",
        "A seed path escapes seeds/ or is a symlink.",
        "Store the seed as a plain file directly inside seeds/ and point `path` at it.",
    ),
    Code(
        "seed-hash-mismatch",
        E,
        "seed",
        "A seed file's SHA-256 differs from its documents row.",
        "Restore the seed's original bytes; if the row is wrong, record the file's real sha256.",
    ),
    Code(
        "seed-size-mismatch",
        E,
        "seed",
        "A seed file's size in bytes differs from its documents row.",
        "Restore the seed's original bytes; if the row is wrong, record the file's real size.",
    ),
    Code(
        "seed-title-not-found",
        W,
        "seed",
        "A document's title does not appear verbatim in its seed.",
        "Copy the title from the seed exactly.",
    ),
    # Numbering.
    Code(
        "numbering-gap",
        E,
        "numbering",
        "Numbered rows of a document do not run 1, 2, 3… without gaps.",
        "Renumber the rows so that they run from 1 without gaps or repeats.",
    ),
    # Text hygiene.
    Code(
        "untrimmed-space",
        E,
        "hygiene",
        "A text cell starts or ends with white space.",
        "Remove the leading and trailing spaces.",
    ),
    Code(
        "doubled-space",
        E,
        "hygiene",
        "A text cell contains two spaces in a row.",
        "Replace the doubled space with one (quotes keep whatever the seed has).",
    ),
    Code(
        "control-character",
        E,
        "hygiene",
        "A cell contains a control or zero-width character.",
        "Delete the invisible character; it is usually pasted by accident.",
    ),
    Code(
        "not-nfc",
        E,
        "hygiene",
        "A text cell is not in Unicode NFC.",
        "Normalize the text to NFC (for example with Python's unicodedata.normalize('NFC', text)).",
    ),
    Code(
        "id-not-slug",
        E,
        "hygiene",
        "An id is not a lowercase kebab-case slug.",
        "Use lowercase letters, digits and single hyphens, such as `union-state`.",
    ),
    Code(
        "formula",
        E,
        "hygiene",
        "A cell would run as a formula in a spreadsheet.",
        "Reword the cell so that it does not start with =, +, - or @ (numbers are fine).",
    ),
    # Values that frictionless reads leniently (deliberate deviations from frictionless).
    Code(
        "integer-not-canonical",
        E,
        "values",
        "An integer cell frictionless accepts (+42, ' 42 ', 1_000, Unicode digits, 007) but not written as plain digits.",
        "Write the integer as plain digits, with a minus sign if negative and no leading zeros.",
    ),
    Code(
        "integer-out-of-range",
        E,
        "values",
        "An integer beyond the 64-bit range: frictionless accepts it, but the release cannot store it.",
        "Use a smaller number, or make the field a string if it is an identifier.",
    ),
    Code(
        "date-not-canonical",
        E,
        "values",
        "A date frictionless accepts (2001-2-3) but not written as YYYY-MM-DD.",
        "Write the date as YYYY-MM-DD, with two-digit month and day.",
    ),
    Code(
        "pattern-undecidable",
        E,
        "values",
        "A field's pattern could not be checked within its time bound (it backtracks catastrophically).",
        "Simplify the pattern: no nested repetition such as (a+)+, and no repeated group that can match"
        " the same text in two ways.",
    ),
    # Entities.
    Code(
        "alias-ambiguous",
        E,
        "entities",
        "One alias names more than one entity.",
        "Give each entity a distinct alias, or correct the id it points to.",
    ),
    Code(
        "alias-target",
        E,
        "entities",
        "An alias row does not name exactly one entity.",
        "Fill exactly one of actor_id, organization_id and initiative_id.",
    ),
    Code(
        "entity-uncited",
        E,
        "entities",
        "An entity that no row citing a document refers to, so no passage shows that a document names it.",
        "Add a citation (for an actor, a row of actor_citations with the passage that names it and its offsets),"
        " or remove the entity if no document names it.",
    ),
    Code(
        "unused-entity",
        W,
        "entities",
        "An entity that no other row references.",
        "Link it (an alias, a role or an affiliation), or remove it if it is not in the text.",
    ),
    Code(
        "mention-uncited",
        W,
        "entities",
        "A document's seed names an entity (by its name or an alias, as docs/curation.md#mentions matches them),"
        " but no row from that document refers to it: what the document says of it is not recorded yet.",
        "Cite it from that document: a row of its citation table (for an actor, actor_citations) with the passage"
        " that names it, its start and end, or a relation or an alias row quoting it; `eurasec quote` finds the"
        " offsets. If the name means something else there, ignore the warning.",
    ),
    # The descriptor.
    Code(
        "descriptor-invalid",
        E,
        "descriptor",
        "datapackage.json is not a valid data package descriptor.",
        "Correct the descriptor as the message says.",
    ),
    Code(
        "remote-reference",
        E,
        "descriptor",
        "datapackage.json refers to something by URL (a profile, dialect, schema, $schema, $ref or resource"
        " path): validation never fetches anything, so it cannot be checked.",
        "Inline it in datapackage.json, or vendor the file inside the package and refer to it by a relative"
        " path; for a standard profile, use its name (such as tabular-data-package).",
    ),
    Code(
        "table-name-reserved",
        E,
        "descriptor",
        "A resource is named like a table, index or view that the release's SQLite database makes of its own.",
        "Rename the resource (its `name` in datapackage.json); reserved are passages, mentions, mention_counts, eurasec_metadata, the"
        " views' names, and names that start with idx_ or sqlite_ or contain _fts.",
    ),
    Code(
        "name-missing",
        W,
        "descriptor",
        "The package has no name or no version. frictionless allows that, but `eurasec build` refuses it: the"
        " release folder is named <name>-<version>.",
        "Give the package a `name` (a lowercase slug such as eurasec) and a `version` (such as 1.0.0).",
    ),
    Code(
        "role-missing",
        W,
        "descriptor",
        "No table or field declares a role (eurasec:role) that a check relies on, so that check does not run:"
        " without a table of role `documents` neither seeds nor quotes are checked.",
        'Declare the role where it belongs, for example "eurasec:role": "documents" on the table of seed'
        " documents; docs/curation.md#roles lists every role.",
    ),
    Code(
        "role-inconsistent",
        E,
        "descriptor",
        "The roles the descriptor declares (eurasec:role) contradict each other or the foreign keys: an unknown"
        " role, two tables of documents, one role on two fields of a table, a quote without a document field"
        " beside it, or a document field that is no foreign key into the documents table.",
        "Correct the roles as the message says; docs/curation.md#roles lists every role and where it belongs.",
    ),
    Code(
        "view-invalid",
        E,
        "descriptor",
        "A resource's view in the SQLite release (eurasec:view) cannot be made from the descriptor's foreign"
        " keys and roles, or its name is taken.",
        "Correct the view's declaration as the message says; docs/curation.md#roles shows how a view is declared.",
    ),
    Code(
        "name-unsafe",
        E,
        "descriptor",
        "The package's name or version, or a resource's name, is missing or cannot be a file or folder name"
        " in the release (the release is <name>-<version>/, each table parquet/<resource>.parquet).",
        "Use a lowercase slug of letters, digits, '.', '_' and '-' that starts with a letter or digit, at most"
        " 128 characters, such as eurasec. This is stricter than frictionless, which also allows '/' and a"
        " leading '.' or '-': a name here is one path component.",
    ),
]

# Every error type that frictionless reports is passed through under its own name.
_FRICTIONLESS = {
    "type-error": "A cell does not match its field's type.",
    "constraint-error": "A cell breaks a field constraint (required, enum, pattern, minimum, maximum, length).",
    "unique-error": "A value that must be unique appears again.",
    "primary-key": "A primary key value is repeated or empty.",
    "foreign-key": "A reference points at a row that does not exist.",
    "missing-cell": "A row has fewer cells than the header.",
    "extra-cell": "A row has more cells than the header.",
    "blank-row": "A row is entirely empty.",
    "blank-label": "A header cell is empty.",
    "duplicate-label": "A header name appears twice.",
    "incorrect-label": "A header name differs from the schema's field name.",
    "missing-label": "The header lacks a field of the schema.",
    "extra-label": "The header has a column that the schema lacks.",
    "encoding-error": "The file cannot be decoded with its declared encoding.",
    "source-error": "The data source cannot be read as a table.",
    "scheme-error": "The file cannot be opened.",
    "format-error": "The file is not in the declared format.",
    "hash-count": "The file's hash differs from the descriptor's `hash`.",
    "byte-count": "The file's size differs from the descriptor's `bytes`.",
    "row-constraint": "A row breaks a row constraint.",
    "schema-error": "A resource's schema is invalid.",
    "field-error": "A field definition is invalid.",
    "resource-error": "A resource definition is invalid.",
    "package-error": "The package descriptor is invalid.",
}
_FRICTIONLESS_HINTS = {
    "type-error": "Write the value in the field's type (see the field's description in datapackage.json), or leave it empty if the field is optional.",
    "constraint-error": "Use a value the field allows (see the field's description in datapackage.json).",
    "unique-error": "Make the value unique, or merge the duplicate rows.",
    "primary-key": "Give every row a distinct, non-empty primary key, or merge the duplicate rows.",
    "foreign-key": "Use an id that exists in the referenced table, or add that row first.",
    "missing-cell": "Add the missing cells (an empty cell is written as nothing between two commas).",
    "extra-cell": "Remove the extra cells, or quote a cell that contains a comma.",
    "blank-row": "Delete the empty row.",
}
for _name, _meaning in _FRICTIONLESS.items():
    _CODES.append(
        Code(_name, E, "frictionless", _meaning, _FRICTIONLESS_HINTS.get(_name, "Correct it as the message says."))
    )

CODES: dict[str, Code] = {c.code: c for c in _CODES}


def finding(
    code: str,
    file: str,
    message: str,
    *,
    line: int | None = None,
    field: str | None = None,
    column: int | None = None,
    hint: str | None = None,
) -> Finding:
    """A finding for a registered code, with its severity and default hint."""
    entry = CODES[code]
    return Finding(
        code=code,
        severity=entry.severity,
        file=file,
        message=message,
        hint=hint or entry.hint,
        line=line,
        field=field,
        column=column,
    )

"""`add-document`: register a seed text in one step, byte-exact, with its documents row.

The text is copied unchanged to `seeds/<id>.txt` (or, when it already is a plain file directly in
`seeds/`, registered where it is), and its row, with the sha256, size and path worked out here,
is added to the documents table, which is then written in canonical form (fmt's writer: values
are only rearranged, never changed). The documents table is the resource of role `documents`, its id
its primary key, and the seed's path, sha256 and size go to its fields of roles `seed-path`, `sha256`
and `bytes`, whatever their names. Every value is checked first against the documents schema
and the hygiene rules that validate applies, so that the package stays valid.

A document can also be registered without stored text (source None; `--no-text` on the command
line): an original of which we hold only a copy or translation, say. Its row then has the seed's
path, sha256 and size empty, and no fact may cite it (validate: document-without-text). A field
whose foreign key points at the documents table itself (`translation_of`: the document a copy
translates) must name a document the table already has.

Nothing is written when anything is refused. The seed is written to a temporary file in `seeds/`
and linked into place (never over an existing file), the table is replaced atomically, and if the
table cannot be written the new seed is removed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..model.descriptor import (
    BYTES,
    DOCUMENTS,
    ROLE_KEY,
    SEED_PATH,
    SEEDS_DIR,
    SHA256,
    TITLE,
    DescriptorError,
    Field,
    Package,
    Resource,
    load_package,
)
from ..model.paths import FileTooLargeError, read_regular
from ..read.strict import BOM, canonical_row, parse

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # a text of a few hundred pages is a few MiB
DERIVED_ROLES = (SEED_PATH, SHA256, BYTES)  # the fields worked out here, never given as options...
DATE_PRECISION = "date_precision"  # ...and this one, which --published-date sets
DEFAULT_LICENSE_NOTE = (
    "Third-party text, copyright its author and publishers. It is stored unchanged only so that every"
    " quote can be checked, and no licence of this project covers it."
)
_DATE_FORMS = (
    (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "day", ""),
    (re.compile(r"[0-9]{4}-[0-9]{2}"), "month", "-01"),
    (re.compile(r"[0-9]{4}"), "year", "-01-01"),
)
USAGE, REFUSED = 2, 1  # exit statuses: a wrong command line; a refusal because of the file or the package


class AddDocumentError(Exception):
    """The document cannot be added; nothing was written. `status` is the exit status to use."""

    def __init__(self, message: str | list[str], status: int = REFUSED) -> None:
        self.messages = [message] if isinstance(message, str) else list(message)  # one problem each
        super().__init__("; ".join(self.messages))
        self.status = status


@dataclass(frozen=True)
class Added:
    document_id: str
    path: str  # the seed's path relative to the package root; "" for a document without stored text
    sha256: str
    size: int
    table: str  # the documents table's path relative to the package root
    copied: bool  # False when the same bytes already were at `path` (or there is no text)
    warnings: list[str] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        return bool(self.path)


def published(value: str) -> tuple[str, str]:
    """(published_date, date_precision) from YYYY-MM-DD, YYYY-MM or YYYY; ('', 'unknown') from ''."""
    if not value:
        return "", "unknown"
    for form, precision, rest in _DATE_FORMS:
        if form.fullmatch(value):
            try:
                return date.fromisoformat(value + rest).isoformat(), precision
            except ValueError:
                break
    raise AddDocumentError(
        f"--published-date {value!r} is not a date: write YYYY-MM-DD, or YYYY-MM or YYYY when only the month"
        " or year is known (leave it out when the text gives no date)",
        USAGE,
    )


def read_source(path: Path, max_bytes: int) -> bytes:
    """The bytes of the text to add: a regular file of at most max_bytes (a link to one is followed)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise AddDocumentError(f"{path} does not exist", USAGE) from None
    except OSError as exc:
        raise AddDocumentError(f"{path} cannot be read: {exc.strerror or exc}", USAGE) from None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise AddDocumentError(f"{path} is {kind}: give the text file itself", USAGE)
    try:
        return read_regular(path, max_bytes)  # checks again, on the opened file, that it is a regular one
    except FileTooLargeError:
        raise AddDocumentError(
            f"{path} is larger than {max_bytes:,} bytes ({max_bytes // (1 << 20)} MiB): a seed is one text,"
            " not a collection; split it or check that it is the right file"
        ) from None
    except OSError as exc:
        raise AddDocumentError(f"{path} cannot be read: {exc.strerror or exc}", USAGE) from None


def text_of(raw: bytes, path: Path) -> str:
    if not raw:
        raise AddDocumentError(f"{path} is empty: a seed holds the text it is cited for")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AddDocumentError(
            f"{path} is not UTF-8 text: byte 0x{raw[exc.start]:02x} at byte offset {exc.start} is not valid UTF-8;"
            " convert the text to UTF-8 first (seeds are stored as UTF-8 text)"
        ) from None


def _uri_error(value: str) -> str | None:
    import rfc3986

    validator = rfc3986.validators.Validator().require_presence_of("scheme")
    try:
        validator.validate(rfc3986.uri_reference(value))
    except rfc3986.exceptions.ValidationError:
        return "it is not a URL with a scheme, such as https://example.org/text"
    return None


def _date_error(value: str) -> str | None:
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            date.fromisoformat(value)
            return None
        except ValueError:
            pass
    return "it is not a date: write YYYY-MM-DD"


def _field_error(f: Field, value: str, *, is_id: bool) -> str | None:
    """What validate would say first about one value: the schema's constraints, then the hygiene rules."""
    from ..checks.hygiene import cell_problems

    if not value:
        return f"may not be empty: the documents table requires {f.name!r}" if f.required else None
    problems = dict(cell_problems(value, is_id=is_id, is_string=f.type == "string", verbatim=False))
    if problems:  # for an id, that it is no slug says it all
        return problems.get("id-not-slug") or next(iter(problems.values()))
    if f.type == "date":
        return _date_error(value)
    if f.pattern and not re.fullmatch(f.pattern, value):
        return f"it does not match the field's pattern {f.pattern}"
    if f.enum and value not in f.enum:
        return f"it is not one of {', '.join(map(str, f.enum))}"
    if f.type == "string" and f.format == "uri":
        return _uri_error(value)
    return None


def _derived(resource: Resource) -> set[str]:
    """The names of the fields that add-document works out itself."""
    return {f.name for f in map(resource.role_field, DERIVED_ROLES) if f is not None} | {DATE_PRECISION}


def _option(resource: Resource, name: str) -> str:
    """How a field is given on the command line: --id for the key, --<name> for the others; a derived
    field by its name."""
    if name in _derived(resource):
        return name
    return "--id" if (name,) == resource.primary_key else f"--{name.replace('_', '-')}"


def _value_errors(resource: Resource, values: dict[str, str], names: set[str]) -> list[str]:
    """The problems of the named fields' values, each as '<option or field> <value>: <problem>'."""
    errors = []
    for f in resource.fields:
        if f.name not in names:
            continue
        value = values.get(f.name, "")
        problem = _field_error(f, value, is_id=(f.name,) == resource.primary_key)
        if problem:
            option = _option(resource, f.name)
            errors.append(f"{option} {value!r}: {problem}" if value else f"{option} {problem}")
    return errors


def _reference_errors(resource: Resource, values: dict[str, str], rows: list[dict[str, str]]) -> list[str]:
    """The problems of the values of the fields whose foreign key points at the documents table itself
    (translation_of): each must be a document the table already has, and not the new one."""
    errors = []
    for fk in resource.foreign_keys:
        if fk.resource != resource.name or len(fk.fields) != 1 or len(fk.reference_fields) != 1:
            continue
        name, target = fk.fields[0], fk.reference_fields[0]
        value = values.get(name, "")
        if not value:
            continue
        option = _option(resource, name)
        if value == values.get(target):
            errors.append(f"{option} {value!r}: that is the new document itself; give the id of another document")
            continue
        known = sorted({row.get(target, "") for row in rows} - {""})
        if value not in known:
            errors.append(
                f"{option} {value!r}: no document has the {target} {value!r} in {resource.path} (known:"
                f" {', '.join(known) or 'none'}); register that document first (with --no-text if its text is"
                " not stored)"
            )
    return errors


def _role_name(resource: Resource, role: str) -> str:
    """The name of the documents table's field of this role; refused when it declares none."""
    found = resource.role_field(role)
    if found is None:
        raise AddDocumentError(
            f"no field of the table of seed documents, {resource.name!r}, declares {ROLE_KEY} {role!r}:"
            " run eurasec validate",
            USAGE,
        )
    return found.name


def _locate_table(package: Package) -> tuple[Resource, Path, str]:
    """The documents resource, its file and that file's text; refused as fmt refuses a file."""
    from .fmt import FormatError, _locate, _read

    resource = package.documents
    if resource is None:
        count = len(package.resources_with_role(DOCUMENTS))
        raise AddDocumentError(
            f"the package declares {count or 'no'} table{'s' if count > 1 else ''} of seed documents (resources of"
            f" {ROLE_KEY} {DOCUMENTS!r}): there must be one; run eurasec validate",
            USAGE,
        )
    for role in DERIVED_ROLES:
        _role_name(resource, role)  # refused here, before anything is read
    if len(resource.primary_key) != 1:
        raise AddDocumentError(
            f"the table of seed documents, {resource.name!r}, has no primary key of one field (the id):"
            " run eurasec validate",
            USAGE,
        )
    index = next(i for i, r in enumerate(package.resources) if r is resource)
    try:
        path = _locate(package, index, resource)
        raw = _read(path)
    except FormatError as exc:
        raise AddDocumentError(f"{resource.path} cannot be updated: {exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AddDocumentError(
            f"{resource.path} is not UTF-8 (byte offset {exc.start}): run eurasec validate"
        ) from None
    return resource, path, text.removeprefix(BOM)


def _rows(resource: Resource, text: str) -> list[dict[str, str]]:
    """The rows the documents table has, by field name."""
    table = parse(text, resource.path)
    header = table.header or []
    return [dict(zip(header, record, strict=False)) for record in table.records if record]


def _new_table(resource: Resource, text: str, values: dict[str, str]) -> str:
    """The canonical text of the table with the new row added."""
    from .fmt import FormatError, canonical_text

    table = parse(text, resource.path)
    header = table.header or []
    lines = [header, *(record for record in table.records if record), [values.get(name, "") for name in header]]
    if any(name not in header for name in resource.field_names):
        raise AddDocumentError(
            f"{resource.path}'s header is not the schema's fields: run eurasec fmt and eurasec validate first"
        )
    try:
        return canonical_text("".join(canonical_row(r) + "\n" for r in lines).encode("utf-8"), resource)
    except FormatError as exc:
        raise AddDocumentError(
            f"{resource.path} cannot be put in canonical form: {exc}; run eurasec validate, fix it, and try again"
        ) from None


def _target(package: Package, source: Path, document_id: str) -> str:
    """Where the seed goes: where it already is, if that is directly in seeds/; else seeds/<id>.txt."""
    seeds = Path(os.path.realpath(package.root / SEEDS_DIR))
    real = Path(os.path.realpath(source))
    if real.parent == seeds and not source.is_symlink():
        return f"{SEEDS_DIR}/{real.name}"
    return f"{SEEDS_DIR}/{document_id}.txt"


def _same_bytes(path: Path, raw: bytes) -> bool:
    try:
        return read_regular(path, len(raw)) == raw
    except OSError:
        return False


def _place_seed(path: Path, raw: bytes, relative: str) -> bool:
    """Write the seed at path without ever replacing a file; True when it was written, False when the
    same bytes were already there. Refused when a different file is there."""
    if os.path.lexists(path):
        if path.is_symlink() or not path.is_file() or not _same_bytes(path, raw):
            raise AddDocumentError(
                f"{relative} already exists and is not this text: a seed is never overwritten; choose another"
                " --id, or remove that file if it is a leftover"
            )
        return False
    path.parent.mkdir(exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o644)
        try:
            os.link(temporary, path)  # fails, rather than replaces, when a file appeared meanwhile
        except FileExistsError:
            return _place_seed(path, raw, relative)
        except OSError:  # a file system without hard links
            if os.path.lexists(path):
                return _place_seed(path, raw, relative)
            os.rename(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return True


def add_document(
    descriptor: str | Path,
    source: Path | None,
    options: dict[str, str],
    *,
    max_bytes: int | None = None,
) -> Added:
    """Copy source into seeds/ and add its row; options holds the row's other fields by name ('' = empty).
    With source None, the document is registered without stored text: its seed path, sha256 and size empty.

    Raises AddDocumentError, having written nothing, when anything is refused.
    """
    from ..checks.seeds import unsafe_seed_reason
    from .fmt import _write_atomically

    document_id = options.get("id", "")
    try:
        package = load_package(descriptor)
    except DescriptorError as exc:
        raise AddDocumentError(f"cannot read the package: {exc}", USAGE) from None
    resource, table_path, table_text = _locate_table(package)
    # The fields by role: the id (the primary key, given as "id"), the seed's path, sha256 and size.
    key = resource.primary_key[0]
    path_name, sha256_name, bytes_name = (_role_name(resource, role) for role in DERIVED_ROLES)
    title = resource.role_field(TITLE)
    options = {key if name == "id" else name: value for name, value in options.items()}
    derived = _derived(resource)
    known = set(resource.field_names)
    unknown = sorted(name for name, value in options.items() if value and name not in known)
    if unknown:
        raise AddDocumentError(
            f"{resource.path} has no field {', '.join(map(repr, unknown))}: leave out those options", USAGE
        )
    missing = sorted(f.name for f in resource.fields if f.required and f.name not in options and f.name not in derived)
    if missing:
        raise AddDocumentError(
            f"the documents schema requires {', '.join(map(repr, missing))}, which add-document cannot fill:"
            " add this row by hand",
            USAGE,
        )
    values = {name: value for name, value in options.items() if name != "published_date"}
    errors = []
    try:
        values["published_date"], values[DATE_PRECISION] = published(options.get("published_date", ""))
    except AddDocumentError as exc:
        errors.append(str(exc))
        values["published_date"], values[DATE_PRECISION] = "", "unknown"
    # Options first (a wrong id or date is the quickest to fix), then the file.
    errors += _value_errors(resource, values, known - derived - {"published_date"})
    rows = _rows(resource, table_text)
    errors += _reference_errors(resource, values, rows)
    if errors:
        raise AddDocumentError(errors, USAGE)
    if source is None:
        return _add_without_text(resource, table_path, table_text, values, rows)
    raw = read_source(source, MAX_DOCUMENT_BYTES if max_bytes is None else max_bytes)
    text = text_of(raw, source)
    relative = _target(package, source, document_id)
    reason = unsafe_seed_reason(package.root, relative)
    if reason:
        raise AddDocumentError(f"the seed cannot be stored at {relative}: it {reason}")
    sha256 = hashlib.sha256(raw).hexdigest()
    values.update({path_name: relative, sha256_name: sha256, bytes_name: str(len(raw))})
    errors = _value_errors(resource, values, derived)
    if errors:  # the derived path breaks the schema's pattern (a file in seeds/ with an odd name)
        raise AddDocumentError(errors)
    new_text = _new_table(resource, table_text, values)
    for row in rows:
        if row.get(key) == document_id:
            same = row.get(sha256_name) == sha256
            raise AddDocumentError(
                f"the id {document_id!r} is already taken in {resource.path}"
                + (" by this very text: it is registered already" if same else ": choose another id")
            )
        if row.get(path_name) == relative:
            raise AddDocumentError(
                f"{relative} is already the seed of document {row.get(key)!r}: a seed is registered once"
            )
    warnings = []
    if not unicodedata.is_normalized("NFC", text):
        warnings.append(
            "the text is not in Unicode NFC (somewhere a letter and its accent are stored apart); it is stored"
            " as is, since seeds are byte-exact and never normalized: quotes from it must keep its characters"
        )
    if title is not None and values.get(title.name) and values[title.name] not in text:
        warnings.append(
            f"the title {values[title.name]!r} does not appear in the text (validate warns seed-title-not-found):"
            " copy the title from the text exactly"
        )
    seed_path = package.root / relative
    new_folder = not os.path.lexists(seed_path.parent)
    copied, writing = False, relative
    try:
        copied = _place_seed(seed_path, raw, relative)
        writing = resource.path
        _write_atomically(table_path, new_text)
    except BaseException as exc:
        if copied:
            seed_path.unlink(missing_ok=True)
        if new_folder:
            with contextlib.suppress(OSError):
                seed_path.parent.rmdir()
        if isinstance(exc, OSError):
            raise AddDocumentError(f"{writing} could not be written: {exc.strerror or exc}") from None
        raise
    return Added(document_id, relative, sha256, len(raw), resource.path, copied, warnings)


def _add_without_text(
    resource: Resource, table_path: Path, table_text: str, values: dict[str, str], rows: list[dict[str, str]]
) -> Added:
    """Add the row of a document whose text is not stored: its seed path, sha256 and size empty."""
    from .fmt import _write_atomically

    key = resource.primary_key[0]
    document_id = values.get(key, "")
    stored = [f for f in map(resource.role_field, DERIVED_ROLES) if f is not None]
    required = [f.name for f in stored if f.required]
    if required:
        raise AddDocumentError(
            f"the documents schema requires {', '.join(map(repr, required))} of every document, so one cannot be"
            " registered without its text: give the text FILE instead of --no-text",
            USAGE,
        )
    values.update({f.name: "" for f in stored})
    new_text = _new_table(resource, table_text, values)
    if any(row.get(key) == document_id for row in rows):
        raise AddDocumentError(f"the id {document_id!r} is already taken in {resource.path}: choose another id")
    try:
        _write_atomically(table_path, new_text)
    except OSError as exc:
        raise AddDocumentError(f"{resource.path} could not be written: {exc.strerror or exc}") from None
    return Added(document_id, "", "", 0, resource.path, False)

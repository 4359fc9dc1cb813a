"""Seed files: present, inside seeds/, plain files, and byte-identical to what the documents table records.

The documents table and its fields are found by their roles (`documents`; `seed-path`, `sha256`, `bytes`,
`title`), never by their names; what the roles lack is reported first (checks/roles.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from ..model.codes import finding
from ..model.descriptor import BYTES, SEED_PATH, SEEDS_DIR, SHA256, TITLE
from ..model.findings import Finding
from ..model.paths import UnsafePathError, read_regular, resolve_inside, unsafe_relative_reason
from .context import Context

MAX_SEED_BYTES = 1 << 30  # far above any text; a larger "seed" is refused, not read into memory
_DIGITS = re.compile(r"[0-9]+")  # ASCII digits only: int() would take '١٢٣' and fail on '²'


def unsafe_seed_reason(root: Path, relative: str) -> str | None:
    """Why a seed path is not a plain file path inside seeds/, reached through no symlink; None if it is.

    The same rules as a resource's path (paths.unsafe_relative_reason), and no symlink at all on the
    way (the file or a folder), even one that stays inside: a seed is a plain file in seeds/.
    """
    reason = unsafe_relative_reason(relative)
    if reason:
        return reason
    parts = PurePosixPath(relative).parts
    if len(parts) < 2 or parts[0] != SEEDS_DIR:
        return f"is not inside {SEEDS_DIR}/"
    try:
        resolved = resolve_inside(root, relative, allow_symlinks=False)
    except UnsafePathError as exc:
        text = str(exc)
        return text[len(repr(relative)) + 1 :] if text.startswith(repr(relative)) else text
    try:
        resolved.relative_to(Path(root, SEEDS_DIR).resolve())
    except ValueError:
        return f"resolves outside {SEEDS_DIR}/"
    return None


class _Row:
    def __init__(self, values: dict[str, str], line: int) -> None:
        self.values, self.line = values, line

    def get(self, name: str) -> str | None:
        return self.values.get(name) or None


def check_seeds(ctx: Context) -> Iterator[Finding]:
    """Verify every document's seed, and keep the texts of those that pass for the quote checks.

    The roles come first: without a table of role `documents` (one, with a one-field key) and its
    `seed-path` field, no seed is checked, and the roles check says so.
    """
    package = ctx.dataset.package
    resource = package.documents
    if resource is None or len(resource.primary_key) != 1 or resource.role_field(SEED_PATH) is None:
        return
    table = ctx.table(resource)
    if table is None:
        return
    file = resource.path
    # Each value by what it is ("path", "sha256"...), from the field of that role, whatever its name.
    names = {"id": resource.primary_key[0]}
    for key, role in (("path", SEED_PATH), ("sha256", SHA256), ("bytes", BYTES), ("title", TITLE)):
        role_field = resource.role_field(role)
        if role_field is not None:
            names[key] = role_field.name
    col = lambda key: ctx.column_number(resource, names[key])  # noqa: E731
    columns = {key: table.columns[name].to_pylist() for key, name in names.items() if name in table.columns}
    for index in range(table.num_rows):
        row = _Row({key: values[index] for key, values in columns.items()}, table.line(index))
        doc_id, relative = row.get("id"), row.get("path")
        if not doc_id:
            continue  # a required-field error from frictionless says it
        recorded_as = [key for key in ("path", "sha256", "bytes") if key in names and row.get(key)]
        if not relative or len(recorded_as) < len([k for k in ("path", "sha256", "bytes") if k in names]):
            if recorded_as:  # a stored text has all three; a document registered without text, none
                missing = [names[k] for k in ("path", "sha256", "bytes") if k in names and k not in recorded_as]
                yield finding(
                    "seed-record-incomplete",
                    file,
                    f"the document {doc_id!r} records {', '.join(names[k] for k in recorded_as)} but not"
                    f" {', '.join(missing)}",
                    line=row.line,
                    field=names[missing[0]],
                    column=col(missing[0]),
                )
                ctx.unreadable_documents.add(doc_id)
            else:
                ctx.textless_documents.add(doc_id)
            continue

        def at(code: str, message: str, key: str = "path", hint: str | None = None, row: _Row = row) -> Finding:
            return finding(code, file, message, line=row.line, field=names[key], column=col(key), hint=hint)

        ctx.unreadable_documents.add(doc_id)
        reason = unsafe_seed_reason(package.root, relative)
        path = package.root / relative
        if reason:
            yield at("seed-path-unsafe", f"seed path {relative!r} {reason}")
            continue
        if not path.exists():
            yield at("seed-missing", f"seed file {relative} does not exist")
            continue
        if not path.is_file():
            yield at("seed-path-unsafe", f"seed path {relative} is not a regular file")
            continue
        try:
            raw = read_regular(path, MAX_SEED_BYTES)
        except OSError as exc:
            yield at("seed-missing", f"seed file {relative} cannot be read: {exc.strerror or exc}")
            continue
        ok = True
        digest = hashlib.sha256(raw).hexdigest()
        if row.get("sha256") and digest != row.get("sha256"):
            ok = False
            yield at(
                "seed-hash-mismatch",
                f"{relative} has sha256 {digest}, but the row records {row.get('sha256')}",
                "sha256",
            )
        recorded = (row.get("bytes") or "").strip(" \t")  # spaces are the values check's to report
        if recorded and not _DIGITS.fullmatch(recorded):
            ok = False
            yield at(
                "seed-size-mismatch",
                f"{relative} has {len(raw)} bytes, but the row records {recorded!r}, which is not a size"
                " written in the digits 0-9",
                "bytes",
                hint=f"Write the size in the digits 0-9: {len(raw)}.",
            )
        elif recorded and (len(recorded) > 18 or int(recorded) != len(raw)):  # 18 digits: no int() of 5,000
            ok = False
            yield at("seed-size-mismatch", f"{relative} has {len(raw)} bytes, but the row records {recorded}", "bytes")
        if not ok:
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield at(
                "seed-missing",
                f"seed file {relative} is not UTF-8 text (byte {exc.start})",
                hint="Seeds are stored as UTF-8 text; convert the source before adding it.",
            )
            continue
        ctx.seeds[doc_id] = text
        ctx.unreadable_documents.discard(doc_id)
        title = row.get("title")
        if title and title not in text:
            yield at("seed-title-not-found", f"the title {title!r} does not appear in {relative}", "title")

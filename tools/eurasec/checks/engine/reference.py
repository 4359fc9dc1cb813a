"""Everything frictionless checks, found by frictionless itself and mapped to our findings.

frictionless numbers rows as records (the header is row 1); our reader knows the physical
line where each record starts, so findings point at the line a contributor sees, and the
messages are reworded to name values and lines rather than record positions.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

from ...model.codes import CODES, finding
from ...model.descriptor import (
    DESCRIPTOR_NAME,
    MAX_DESCRIPTOR_BYTES,
    DescriptorError,
    Package,
    Reference,
    Resource,
    load_package,
    parse_json,
    references,
)
from ...model.findings import Finding
from ...model.paths import inside_reason, read_regular
from ...read.dataset import Dataset, locate

_CONSTRAINT = re.compile(r'constraint "(\w+)" is "(.*)"$', re.S)
_TYPE = re.compile(r'type is "(\w+)')
_POSITION = re.compile(r'row at position "?(\d+)"?')
_LABELS = {"blank-label", "duplicate-label", "incorrect-label", "missing-label", "extra-label"}


class _Lines:
    def __init__(self, dataset: Dataset, resource: str) -> None:
        self.table = dataset.tables.get(resource)

    def __call__(self, row_number: int | None) -> int | None:
        """Physical line of frictionless' row number (header = 1, then one per record, empty lines too)."""
        import numpy as np

        table = self.table
        if row_number is None or table is None:
            return None
        i = int(np.searchsorted(table.row_numbers, row_number))
        if i < len(table.row_numbers) and table.row_numbers[i] == row_number:
            return table.line(i)
        if row_number in table.blank_row_numbers:
            return table.blank_lines[table.blank_row_numbers.index(row_number)]
        return None

    def reword(self, note: str) -> str:
        def repl(m: re.Match[str]) -> str:
            line = self(int(m.group(1)))
            return f"row on line {line}" if line else m.group(0)

        return _POSITION.sub(repl, note)


def _constraint_message(cell: str, field: str, note: str) -> str:
    m = _CONSTRAINT.search(note)
    if not m:
        return f"{cell!r} in field {field!r} breaks a constraint: {note}"
    name, value = m.groups()
    if name == "required":
        return f"field {field!r} is required, but the cell is empty"
    if name == "enum":
        return f"{cell!r} is not an allowed {field}: use one of {value.strip('[]')}"
    if name == "pattern":
        return f"{cell!r} in field {field!r} does not match the pattern {value}"
    if name in ("minimum", "exclusiveMinimum"):
        return f"{cell!r} in field {field!r} is below the minimum {value}"
    if name in ("maximum", "exclusiveMaximum"):
        return f"{cell!r} in field {field!r} is above the maximum {value}"
    return f"{cell!r} in field {field!r} breaks the constraint {name} = {value}"


def _translate(d: dict[str, Any], lines: _Lines, field_names: list[str]) -> tuple[str, str, str | None]:
    """(message, hint, field) for one frictionless error descriptor."""
    code = d.get("type", "")
    note = lines.reword(str(d.get("note") or ""))
    cell, field = d.get("cell"), d.get("fieldName")
    hint = CODES[code].hint if code in CODES else CODES["source-error"].hint
    header_hint = f"Make the header exactly the schema's field names, in order: {','.join(field_names)}"
    if code == "type-error":
        m = _TYPE.search(note)
        return f"{cell!r} in field {field!r} is not a valid {m.group(1) if m else 'value'}", hint, field
    if code == "constraint-error":
        return _constraint_message(str(cell), str(field), note), hint, field
    if code == "unique-error":
        return f"{cell!r} in field {field!r} must be unique, but it is {note}", hint, field
    if code == "primary-key":
        if "None" in note:
            return "the primary key is empty", hint, None
        return f"the primary key repeats: {note}", hint, None
    if code == "foreign-key":
        names, cells = d.get("fieldNames") or [], d.get("fieldCells") or []
        shown = ", ".join(f"{n}={c!r}" for n, c in zip(names, cells, strict=False))
        target = f"{d.get('referenceName')}.{','.join(d.get('referenceFieldNames') or [])}"
        return f"{shown} does not exist in {target}", hint, ",".join(names) or None
    if code == "missing-cell":
        return f"the row has no cell for field {field!r} (column {d.get('fieldNumber')})", hint, field
    if code == "extra-cell":
        return f"the row has an extra cell {cell!r} at column {d.get('fieldNumber')}", hint, None
    if code == "blank-row":
        return "the row is empty", hint, None
    if code in _LABELS:
        label = d.get("label")
        message = {
            "blank-label": f"header cell {d.get('fieldNumber')} is empty; the schema calls it {field!r}",
            "duplicate-label": f"the header has {label!r} more than once",
            "incorrect-label": f"the header has {label!r} where the schema has {field!r}",
            "missing-label": f"the header lacks the schema's field {field!r}",
            "extra-label": f"the header has {label!r}, which the schema does not define",
        }[code]
        return message, header_hint, field
    return note or str(d.get("message", "")), hint, field


def translate_task(dataset: Dataset, task_name: str, descriptors: list[dict[str, Any]]) -> list[Finding]:
    """frictionless error descriptors of one resource as our findings, on physical lines."""
    resource = next((r for r in dataset.package.resources if r.name == task_name), None)
    file = resource.path if resource else DESCRIPTOR_NAME
    field_names = resource.field_names if resource else []
    lines = _Lines(dataset, task_name)
    findings = []
    for d in descriptors:
        code = d.get("type", "")
        message, hint, field = _translate(d, lines, field_names)
        line = 1 if code in _LABELS else lines(d.get("rowNumber"))
        column = d.get("fieldNumber")
        if column is None and d.get("fieldNames") and resource:
            names = d["fieldNames"]
            column = field_names.index(names[0]) + 1 if names[0] in field_names else None
        findings.append(
            finding(
                code if code in CODES else "source-error",
                file,
                message,
                line=line,
                field=field,
                column=column,
                hint=hint,
            )
        )
    return findings


def _descriptor_findings(errors: list[Any]) -> list[Finding]:
    findings = []
    for error in errors:
        d = error.to_descriptor()
        code = d.get("type", "package-error")
        findings.append(
            finding(
                code if code in CODES else "descriptor-invalid", DESCRIPTOR_NAME, str(d.get("note") or d.get("message"))
            )
        )
    return findings


MAX_REFERENCED_FILES = 32  # local JSON files (a profile, a dialect) followed from the descriptor


def _refused(ref_key: str, where: str, value: str, line: int | None, via: str | None) -> Finding:
    place = f" (in {via})" if via else ""
    return finding(
        "remote-reference",
        DESCRIPTOR_NAME,
        f"{where} has {ref_key!r} {value!r}{place}, a remote reference: validation never fetches anything",
        line=line,
        field=ref_key,
    )


def reference_findings(package: Package, *, data_paths: bool = True) -> list[Finding]:
    """What must stop frictionless from being handed the descriptor: every remote reference (a
    profile, dialect, schema, $schema or $ref by URL, a resource path that is a URL), and every
    local one that leads outside the package or through a symlink.

    Local JSON files that the descriptor refers to (a profile, a dialect) are read (bounded, as the
    descriptor is) and searched for remote references too, since frictionless would follow them.
    data_paths: include the resources' own local paths that leave the package (dataset.locate says the
    same of them). Without, only a remote one is: frictionless' check of the descriptor alone reads no data
    file, so it may see a descriptor whose data path leaves the package (it says so itself), but nothing
    may reach it that it would fetch.
    """
    root = package.root
    findings: list[Finding] = []
    by_path: dict[str, Resource] = {}
    for r in package.resources:
        by_path.setdefault(r.path, r)
    pending: list[tuple[Reference, str | None]] = [
        (ref, None) for ref in reversed(references(package.raw, package.text))
    ]
    seen: set[str] = set()
    while pending:
        ref, via = pending.pop()
        if ref.data_path and via is None:
            if (not data_paths and not ref.remote) or _frictionless_refuses(ref.value):
                continue
            resource = by_path.get(ref.value)
            problem = locate(package, resource)[1] if resource is not None else None
            if problem is not None and problem.code != "file-not-regular":
                findings.append(problem)
            elif resource is None and ref.remote:
                findings.append(_refused(ref.key, ref.where, ref.value, ref.line, via))
            continue
        if ref.remote:
            findings.append(_refused(ref.key, ref.where, ref.value, ref.line, via))
            continue
        target = ref.value.split("#", 1)[0]
        if not target:
            continue  # "#/definitions/x": a pointer inside the same document
        if via is not None:  # relative to the file that holds it
            target = str(PurePosixPath(via).parent / target) if "/" in via else target
        reason = inside_reason(root, target, allow_symlinks=False)
        if reason:
            message = f"{ref.where} has {ref.key!r} {ref.value!r}, which is not a file inside the package: {reason}"
            findings.append(finding("path-outside-package", DESCRIPTOR_NAME, message, line=ref.line, field=ref.key))
            continue
        if target in seen or len(seen) >= MAX_REFERENCED_FILES or not (root / target).exists():
            continue  # a missing file is frictionless' to report
        seen.add(target)
        try:
            inner = parse_json(read_regular(root / target, MAX_DESCRIPTOR_BYTES), target)
        except (OSError, DescriptorError) as exc:
            message = f"{ref.where} has {ref.key!r} {ref.value!r}, which cannot be read as JSON: {exc}"
            findings.append(finding("descriptor-invalid", DESCRIPTOR_NAME, message, line=ref.line, field=ref.key))
            continue
        if isinstance(inner, dict):
            pending += [(r, target) for r in reversed(references(inner)) if not r.data_path or r.remote]
    return findings


def _frictionless_refuses(path: str) -> bool:
    """Whether frictionless itself refuses this data path as unsafe, without reading it: then its own
    finding (a resource-error) stands, and both engines report the same."""
    from frictionless import helpers

    return not helpers.is_safe_path(path)


def _guard(descriptor: Path, *, data_paths: bool = True) -> list[Finding]:
    """The reference findings of the descriptor at this path (read afresh, within the bounds), if any."""
    try:
        package = load_package(descriptor)
    except DescriptorError as exc:
        return [finding("descriptor-invalid", DESCRIPTOR_NAME, str(exc))]
    return reference_findings(package, data_paths=data_paths)


def _failed(what: str, exc: BaseException) -> list[Finding]:
    return [finding("check-failed", DESCRIPTOR_NAME, f"frictionless could not {what}: {type(exc).__name__}: {exc}")]


def run_frictionless(descriptor: Path, dataset: Dataset) -> list[Finding]:
    """Validate everything with frictionless and translate its report; frictionless is imported only here.

    Never with a descriptor that refers to anything remote or outside the package: then its findings
    are returned instead, and frictionless is not called.
    """
    refused = _guard(descriptor)
    if refused:
        return refused
    from frictionless import validate  # heavy: deferred so that `import eurasec` stays light

    try:
        report = validate(str(descriptor))
        findings = _descriptor_findings(report.errors)
        for task in report.tasks:
            findings.extend(translate_task(dataset, task.name, [e.to_descriptor() for e in task.errors]))
    except Exception as exc:  # RecursionError too: frictionless must never end in a traceback
        return _failed("check the package", exc)
    return findings


def check_descriptor(descriptor: Path) -> list[Finding]:
    """frictionless' own check of the descriptor (not the data); never of one that refers to anything
    remote (those findings are returned instead); a data path that leaves the package it reports itself."""
    refused = _guard(descriptor, data_paths=False)
    if refused:
        return refused
    from frictionless import Package as FrictionlessPackage

    try:
        return _descriptor_findings(FrictionlessPackage.validate_descriptor(str(descriptor)).errors)
    except Exception as exc:
        return _failed("check the descriptor", exc)


def run_frictionless_on(descriptor: Path, dataset: Dataset, names: list[str]) -> list[Finding]:
    """frictionless on some resources only (those the fast reader left alone), in the package's context;
    never on a descriptor that refers to anything remote or outside the package."""
    refused = _guard(descriptor)
    if refused:
        return refused
    from frictionless import Package as FrictionlessPackage

    findings = []
    try:
        package = FrictionlessPackage(str(descriptor))
        for name in names:
            report = package.get_resource(name).validate()
            for task in report.tasks:
                findings.extend(translate_task(dataset, name, [e.to_descriptor() for e in task.errors]))
    except Exception as exc:
        return [*findings, *_failed("check the data", exc)]
    return findings

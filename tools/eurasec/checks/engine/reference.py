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
from ...model.findings import Finding, InternalError, Truncation, note_truncation
from ...model.paths import inside_reason, read_regular
from ...read.dataset import Dataset, locate

_CONSTRAINT = re.compile(r'constraint "(\w+)" is "(.*)"$', re.S)
_TYPE = re.compile(r'type is "(\w+)')
_POSITION = re.compile(r'row at position "?(\d+)"?')
_LABELS = {"blank-label", "duplicate-label", "incorrect-label", "missing-label", "extra-label"}

# frictionless reports at most this many errors a table (its default limit_errors), and so does the fast
# engine (tabular.LIMIT_ERRORS): the first ones, in frictionless' order. The report says when it cut.
LIMIT_ERRORS = 1000
# frictionless is run with a limit this much higher, and its errors cut to LIMIT_ERRORS here: the same
# errors (the first, in its order), and the report can say how many it left out, up to this many (each
# error costs frictionless some 50 µs, so that reading on to every error of a large broken table would
# take it minutes).
COUNT_ERRORS = 10 * LIMIT_ERRORS


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


def translate_task(
    dataset: Dataset, task_name: str, descriptors: list[dict[str, Any]], *, seen: int | None = None
) -> list[Finding]:
    """frictionless error descriptors of one resource as our findings, on physical lines: the first
    LIMIT_ERRORS of them.

    seen: how many errors the engine found in the resource before it cut them to the limit (None: it does
    not say), counted up to COUNT_ERRORS (where frictionless stops counting: both engines say the same).
    Where errors were left out, or may have been (the limit reached, and no count beyond it), the report is
    told (note_truncation): it never cuts silently.
    """
    resource = next((r for r in dataset.package.resources if r.name == task_name), None)
    file = resource.path if resource else DESCRIPTOR_NAME
    field_names = resource.field_names if resource else []
    lines = _Lines(dataset, task_name)
    found = max(len(descriptors), min(seen or 0, COUNT_ERRORS))
    descriptors = descriptors[:LIMIT_ERRORS]
    if found > len(descriptors) or (seen is None and len(descriptors) >= LIMIT_ERRORS):
        note_truncation(error_limit(file, len(descriptors), found))
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


def error_limit(file: str, shown: int, at_least: int) -> Truncation:
    """What the report says of a table whose errors were cut at LIMIT_ERRORS."""
    return Truncation(
        file=file,
        what="errors",
        shown=shown,
        at_least=at_least,
        reason=f"validate reports at most {LIMIT_ERRORS:,} errors a table, the first ones, as frictionless does",
        hint="Fix these, then run eurasec validate again to see the rest.",
    )


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
    """What keeps the descriptor at this path (read afresh, within the bounds) from frictionless, if anything:
    its reference findings, else the values frictionless would crash on (values_frictionless_crashes_on)."""
    try:
        package = load_package(descriptor)
    except DescriptorError as exc:
        return [finding("descriptor-invalid", DESCRIPTOR_NAME, str(exc))]
    return reference_findings(package, data_paths=data_paths) or values_frictionless_crashes_on(package)


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def values_frictionless_crashes_on(package: Package) -> list[Finding]:
    """Values of the descriptor that frictionless (5.x) raises an exception on instead of reporting them: a
    `$schema` or a resource's `hash` that is not a string, a field's bound (minimum, maximum, exclusive…)
    that its own type cannot read (frictionless would compare cells with None), and an enum value whose
    reading raises. Each is a finding in frictionless' terms (package-, resource- or field-error), and
    frictionless is not handed the descriptor: its crash would be eurasec's internal error, when the value
    is the contributor's to mend."""
    import copy

    from frictionless import Field

    found = []
    if "$schema" in package.raw and not isinstance(package.raw["$schema"], str):
        message = f"'$schema' must be a string, not {package.raw['$schema']!r}"
        found.append(finding("package-error", DESCRIPTOR_NAME, message, field="$schema"))
    for raw in package.raw["resources"]:
        if not isinstance(raw, dict):
            continue
        for key in ("$schema", "hash"):
            if raw.get(key) and not isinstance(raw[key], str):
                message = f"resource {raw.get('name')!r}: {key!r} must be a string, not {raw[key]!r}"
                found.append(finding("resource-error", DESCRIPTOR_NAME, message, field=key))
        schema = raw.get("schema")
        fields = schema.get("fields") if isinstance(schema, dict) else None
        for raw_field in fields if isinstance(fields, list) else []:
            constraints = raw_field.get("constraints") if isinstance(raw_field, dict) else None
            if not isinstance(constraints, dict) or not (set(constraints) & {*_BOUNDS, "enum"}):
                continue
            try:
                field = Field.from_descriptor(copy.deepcopy(raw_field))
                read = field.create_value_reader()
            except Exception:
                continue  # an invalid field: frictionless' check of the descriptor says so
            for key in [*_BOUNDS, "enum"]:
                value = constraints.get(key)
                if value is None or key not in field.supported_constraints:
                    continue
                problem = _unreadable(read, value if key == "enum" else [value], bound=key != "enum")
                if problem is not None:
                    message = f"field {field.name!r}: the {key} {value!r} is not a valid {field.type}{problem}"
                    found.append(finding("field-error", DESCRIPTOR_NAME, message, field=field.name))
    return found


def _unreadable(read: Any, values: Any, *, bound: bool) -> str | None:
    """Why frictionless cannot use these constraint values, or None if it can: a reading raises, or (a
    bound) reads as None. An enum value read as None is only a value that no cell equals."""
    try:
        for value in values if isinstance(values, list) else []:
            if read(value) is None and bound:
                return ""
    except Exception as exc:
        return f" ({type(exc).__name__}: {exc})"
    return None


def _frictionless_package(descriptor: Path) -> tuple[Any, list[Finding]]:
    """frictionless' Package of the descriptor at this path, or, if frictionless refuses it, its findings.

    Read as a package whatever the file is called: frictionless would otherwise guess what a file holds
    from its name (a `x.resource.json` as a resource, a `x.zip` as an archive)."""
    from frictionless import FrictionlessException
    from frictionless import Package as FrictionlessPackage

    try:
        return FrictionlessPackage.from_descriptor(str(descriptor)), []
    except FrictionlessException as exc:
        return None, _descriptor_findings(exc.to_errors())


def _translate_tasks(dataset: Dataset, tasks: list[Any], name: str | None = None) -> list[Finding]:
    """The errors of frictionless' tasks (one a resource) as findings, the first LIMIT_ERRORS of each; the
    task's count, up to COUNT_ERRORS, is what the report says was found. name: the one resource validated."""
    findings = []
    for task in tasks:
        descriptors = [e.to_descriptor() for e in task.errors]
        findings.extend(translate_task(dataset, name or task.name, descriptors, seen=len(descriptors)))
    return findings


def run_frictionless(descriptor: Path, dataset: Dataset) -> list[Finding]:
    """Validate everything with frictionless and translate its report; frictionless is imported only here.

    Never with a descriptor that refers to anything remote or outside the package: then its findings
    are returned instead, and frictionless is not called. frictionless failing (an exception, not a
    report) is eurasec's bug: InternalError.
    """
    refused = _guard(descriptor)
    if refused:
        return refused
    try:
        package, findings = _frictionless_package(descriptor)
        if package is None:
            return findings
        report = package.validate(limit_errors=COUNT_ERRORS)
        return [*_descriptor_findings(report.errors), *_translate_tasks(dataset, report.tasks)]
    except Exception as exc:  # RecursionError too: frictionless must never end in a traceback
        raise InternalError("frictionless data", exc) from exc


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
        raise InternalError("descriptor", exc) from exc


def run_frictionless_on(descriptor: Path, dataset: Dataset, names: list[str]) -> list[Finding]:
    """frictionless on some resources only (those the fast reader left alone), in the package's context;
    never on a descriptor that refers to anything remote or outside the package."""
    refused = _guard(descriptor)
    if refused:
        return refused
    findings: list[Finding] = []
    try:
        package, findings = _frictionless_package(descriptor)
        if package is None:
            return findings
        for name in names:
            report = package.get_resource(name).validate(limit_errors=COUNT_ERRORS)
            findings.extend(_translate_tasks(dataset, report.tasks, name))
    except Exception as exc:
        raise InternalError("frictionless data", exc) from exc
    return findings

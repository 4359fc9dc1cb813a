"""The data checks frictionless makes, run fast: our column-wise engine where the file is regular,
frictionless itself where it is not, and frictionless always for the descriptor."""

from __future__ import annotations

from pathlib import Path

from ...model.codes import finding
from ...model.findings import Finding
from ...read.dataset import Dataset
from ...read.strict import declared_compression
from . import tabular
from .reference import check_descriptor, run_frictionless, run_frictionless_on, translate_task
from .tabular import (
    PatternUndecidableError,
    check_resource,
    lookup_keys,
    python_pattern_verdicts_many,
    typed_columns,
)

# Findings after which a resource's data is not checked at all, by us or by frictionless: a compressed
# file (frictionless would decompress it, bomb or not), a file too wide to read, a row split at a bare CR
# (every check after it would read shifted cells; the bare CR is the one finding to fix first).
WITHHELD = {"compressed-resource", "too-many-columns", "bare-carriage-return"}


def withheld(dataset: Dataset) -> set[str]:
    """Resources whose data no engine may read: see WITHHELD; a declared `compression` is one too."""
    names = set()
    for resource, raw in zip(dataset.package.resources, dataset.package.raw["resources"], strict=True):
        table = dataset.tables.get(resource.name)
        if declared_compression(raw) or (table is not None and any(f.code in WITHHELD for f in table.findings)):
            names.add(resource.name)
    return names


def run_fast(descriptor: Path, dataset: Dataset, descriptor_findings: list[Finding] | None = None) -> list[Finding]:
    """descriptor_findings: frictionless' verdict on the descriptor, if already at hand (see validate)."""
    findings = check_descriptor(descriptor) if descriptor_findings is None else list(descriptor_findings)
    if findings:
        return findings  # the descriptor must be mended before its data can be read against it
    package = dataset.package
    missing_values = {
        r.name: list(package.raw["resources"][i].get("schema", {}).get("missingValues", [""]))
        for i, r in enumerate(package.resources)
    }
    refused = withheld(dataset)  # not read by any engine: their own findings say why
    typed = [
        r
        for r in package.resources
        if (t := dataset.tables.get(r.name)) is not None
        and t.readable
        and t.header is not None
        and r.name not in refused
    ]
    # One table after another: validate runs the project's own checks alongside on the other core,
    # and more threads would only take turns at the GIL.
    columns = {r.name: typed_columns(r, dataset.tables[r.name], missing_values[r.name]) for r in typed}
    lookups = {}
    for resource in package.resources:
        for fk in resource.foreign_keys:
            if fk.resource in columns:
                lookups[(fk.resource, fk.reference_fields)] = lookup_keys(columns[fk.resource], fk.reference_fields)
    names = set(package.resource_names)
    resource_paths = {r.name: r.path for r in package.resources}
    slow = _left_to_frictionless(dataset, refused)
    # A file that cannot be opened fails its own resource and every resource whose keys need it,
    # as in frictionless (where our file-level finding then says it better).
    unopened = {
        r.name: r.path for r in package.resources if r.name in dataset.tables and not dataset.tables[r.name].readable
    }
    checked = []
    for resource in package.resources:
        table = dataset.tables.get(resource.name)
        if table is None:
            continue
        if resource.name in refused:
            continue  # its own finding says why
        needed = [unopened[n] for n in [resource.name, *(fk.resource for fk in resource.foreign_keys)] if n in unopened]
        if needed:
            findings.append(finding("scheme-error", resource.path, f"cannot open {needed[0]}"))
            continue
        # Keys into a withheld resource: we skip those keys (they have no lookup); frictionless would read
        # the withheld file itself, so a resource it would check is not checked at all.
        into_withheld = [resource_paths[fk.resource] for fk in resource.foreign_keys if fk.resource in refused]
        if into_withheld and resource.name in slow:
            note = f"cannot check the foreign keys into {into_withheld[0]}: its data is not read (see its findings)"
            findings.append(finding("scheme-error", resource.path, note))
            continue
        unknown = [fk.resource for fk in resource.foreign_keys if fk.resource not in names]
        if unknown:
            note = (
                f'failed to handle a foreign key for resource "{resource.name}"'
                f' as resource "{unknown[0]}" does not exist'
            )
            findings.append(finding("resource-error", resource.path, note))
            continue
        if resource.name not in slow:
            checked.append(resource)
    for resource in checked:
        raw = check_resource(resource, dataset.tables[resource.name], columns[resource.name], lookups)
        findings.extend(translate_task(dataset, resource.name, [e.descriptor for e in raw]))
    if slow:
        unsafe, guarded = frictionless_pattern_guard(dataset, slow)
        findings.extend(guarded)
        handed = [n for n in package.resource_names if n in slow and n not in unsafe]
        if handed:
            findings.extend(run_frictionless_on(descriptor, dataset, handed))
    return findings


def frictionless_pattern_guard(dataset: Dataset, names: set[str]) -> tuple[set[str], list[Finding]]:
    """Resources frictionless must not be handed for their patterns, and a `pattern-undecidable` finding each.

    frictionless runs Python's re on every cell, with no bound. Before it is handed a resource, each
    pattern of its string fields is run by Python (tabular.python_pattern_verdicts: a child process,
    killed at its bound) on the distinct cells, each timed; a resource is handed only when every pattern
    finished and its cells, counted as often as they occur, add up to at most tabular.PATTERN_SECONDS.
    """
    import pyarrow.compute as pc

    jobs = []  # (resource, field, pattern, cells with their counts)
    for resource in dataset.package.resources:
        table = dataset.tables.get(resource.name)
        if resource.name not in names or table is None or not table.readable:
            continue
        for f in resource.fields:
            pattern = f.constraints.get("pattern")
            if pattern is None or f.type != "string" or f.name not in table.columns:
                continue
            counts = [c for c in pc.value_counts(table.columns[f.name]).to_pylist() if c["values"]]
            jobs.append((resource, f, pattern, counts))
    results = python_pattern_verdicts_many([(f"^{p}$", [c["values"] for c in counts]) for _, _, p, counts in jobs])
    unsafe: set[str] = set()
    found = []
    for (resource, f, pattern, counts), timed in zip(jobs, results, strict=True):
        problem: PatternUndecidableError | None = None
        if isinstance(timed, PatternUndecidableError):
            problem = timed
        else:
            total = sum(seconds * c["counts"] for (_, seconds), c in zip(timed, counts, strict=True))
            if total > tabular.PATTERN_SECONDS:
                problem = PatternUndecidableError(
                    f"Python's re would take about {total:.0f} s over the cells for the pattern {pattern},"
                    f" over the {tabular.PATTERN_SECONDS:.0f} s bound: it backtracks catastrophically"
                )
        if problem is not None:
            unsafe.add(resource.name)
            column = dataset.column_number(resource.name, f.name)
            found.append(finding("pattern-undecidable", resource.path, str(problem), field=f.name, column=column))
    return unsafe, found


def _left_to_frictionless(dataset: Dataset, refused: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Resources frictionless checks itself: files the fast reader could not take, files whose size or hash
    the descriptor records, and the resources whose foreign keys point into an irregular file (frictionless
    reads such a file its own way, and its lookup must be the one the keys are checked against).
    A withheld resource (`refused`) is read by no one."""
    package = dataset.package
    slow = set()
    for resource, raw in zip(package.resources, package.raw["resources"], strict=True):
        table = dataset.tables.get(resource.name)
        if table is None or not table.readable or resource.name in refused:
            continue
        if not table.fast or "hash" in raw or "bytes" in raw:
            slow.add(resource.name)
    irregular = {n for n in slow if not dataset.tables[n].fast}
    for resource in package.resources:
        table = dataset.tables.get(resource.name)
        if table is not None and table.readable and any(fk.resource in irregular for fk in resource.foreign_keys):
            slow.add(resource.name)
    return slow


__all__ = ["run_fast"]


def run_reference(descriptor: Path, dataset: Dataset) -> list[Finding]:
    """`--engine frictionless`: frictionless on everything, except what no engine may hand it.

    A withheld resource (compressed, too wide, …) and one whose patterns Python's re cannot decide
    within its bound are not handed over (their findings say why), nor is a resource whose foreign
    keys would make frictionless read one of those.
    """
    package = dataset.package
    kept_back = withheld(dataset)
    unsafe, guarded = frictionless_pattern_guard(dataset, set(package.resource_names) - kept_back)
    if not kept_back and not unsafe:
        return run_frictionless(descriptor, dataset)
    findings = check_descriptor(descriptor)
    if findings:
        return findings
    findings.extend(guarded)
    refused = kept_back | unsafe
    handed = []
    for resource in package.resources:
        if resource.name in refused:
            continue
        into = [r.path for r in package.resources if r.name in {fk.resource for fk in resource.foreign_keys} & refused]
        if into:
            note = f"cannot check the foreign keys into {into[0]}: its data is not read (see its findings)"
            findings.append(finding("scheme-error", resource.path, note))
            continue
        handed.append(resource.name)
    if handed:
        findings.extend(run_frictionless_on(descriptor, dataset, handed))
    return findings

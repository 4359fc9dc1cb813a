"""The data checks frictionless makes, run fast: our column-wise engine where it covers a resource
(coverage.py: what it reads natively, what frictionless' own cell reader reads column by column), frictionless
itself for every other resource, and frictionless always for the descriptor. Never a guess: the findings are
frictionless' own (tests/test_differential.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...model.codes import finding
from ...model.descriptor import Resource
from ...model.findings import Finding
from ...read.dataset import Dataset, locate, sniffed_reason
from ...read.strict import declared_compression
from ...read.table import Table
from . import coverage, tabular
from .reference import check_descriptor, run_frictionless, run_frictionless_on, translate_task
from .tabular import (
    FrictionlessReaderError,
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


def not_regular(dataset: Dataset) -> set[str]:
    """Resources whose file is not a regular file (a FIFO, a device, a folder, a symlink): read by no engine."""
    return {
        name
        for name, table in dataset.tables.items()
        if not table.readable and any(f.code == "file-not-regular" for f in table.findings)
    }


def run_fast(descriptor: Path, dataset: Dataset, descriptor_findings: list[Finding] | None = None) -> list[Finding]:
    """descriptor_findings: frictionless' verdict on the descriptor, if already at hand (see validate)."""
    findings = check_descriptor(descriptor) if descriptor_findings is None else list(descriptor_findings)
    if findings:
        return findings  # the descriptor must be mended before its data can be read against it
    package = dataset.package
    refused = withheld(dataset)  # not read by any engine: their own findings say why
    plans, columns, failed = _read(dataset, refused)
    lookups = {}
    for resource in package.resources:
        for fk in resource.foreign_keys:
            if fk.resource in columns and fk.resource not in failed:
                lookups[(fk.resource, fk.reference_fields)] = lookup_keys(columns[fk.resource], fk.reference_fields)
    names = set(package.resource_names)
    resource_paths = {r.name: r.path for r in package.resources}
    slow = _left_to_frictionless(dataset, plans, refused, failed)
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
        raw, seen = check_resource(resource, dataset.tables[resource.name], columns[resource.name], lookups)
        findings.extend(translate_task(dataset, resource.name, [e.descriptor for e in raw], seen=seen))
    if slow:
        unsafe, guarded = frictionless_pattern_guard(dataset, set(slow))
        findings.extend(guarded)
        handed = [n for n in package.resource_names if n in slow and n not in unsafe]
        if handed:
            findings.extend(run_frictionless_on(descriptor, dataset, handed))
    return findings


def _read(
    dataset: Dataset, refused: set[str]
) -> tuple[dict[str, coverage.Plan], dict[str, dict[str, tabular.Column]], dict[str, str]]:
    """Each resource's plan (coverage.plan), the typed columns of those the fast engine reads, and those where
    frictionless' own cell reader failed on a cell (frictionless fails there too), with why."""
    package = dataset.package
    plans = {
        r.name: coverage.plan(raw, r, package)
        for r, raw in zip(package.resources, package.raw["resources"], strict=True)
    }
    # One table after another: validate runs the project's own checks alongside on the other core,
    # and more threads would only take turns at the GIL. What frictionless detects in a file's head is asked
    # here, not while the files are read: only this engine needs it.
    columns: dict[str, dict[str, tabular.Column]] = {}
    failed: dict[str, str] = {}
    for resource, raw in zip(package.resources, package.raw["resources"], strict=True):
        table = dataset.tables.get(resource.name)
        if resource.name in refused or not _ours(table, plans[resource.name]):
            continue
        assert table is not None
        path = locate(package, resource)[0]
        table.sniffed = sniffed_reason(path, raw, table) if path is not None else "its file cannot be located"
        if table.sniffed is not None:
            continue  # frictionless detects another encoding, delimiter or header row in the file's head
        try:
            readers = _cell_readers(package, resource, plans[resource.name])
            columns[resource.name] = typed_columns(resource, table, plans[resource.name].missing_values, readers)
        except (FrictionlessReaderError, _NoReader) as exc:
            failed[resource.name] = f"frictionless' own cell reader fails: {exc}"
    return plans, columns, failed


def routes(dataset: Dataset) -> dict[str, str]:
    """The resources frictionless checks itself under the fast engine, with why (withheld ones are not
    there: no engine reads them). For tests and for seeing the coverage at work."""
    refused = withheld(dataset)
    plans, _, failed = _read(dataset, refused)
    return _left_to_frictionless(dataset, plans, refused, failed)


def _ours(table: Table | None, plan: coverage.Plan) -> bool:
    """Whether we read the resource's rows as frictionless does (its lookups may be ours): its file read by
    the fast path, as frictionless would read it, and nothing in its descriptor we do not cover."""
    return (
        table is not None
        and table.readable
        and table.header is not None
        and table.fast
        and table.foreign is None
        and table.sniffed is None
        and plan.whole is None
    )


class _NoReader(Exception):
    """frictionless cannot make a cell reader of a field: the resource goes to it whole."""


def _cell_readers(
    package: Any, resource: Resource, plan: coverage.Plan
) -> dict[str, Callable[[str], tuple[Any, dict[str, str] | None]]]:
    """frictionless' own cell reader of each field the fast engine does not read natively, built as
    frictionless builds it: from the resource's whole schema (its missing values too), under the package's
    version of the standard."""
    if not plan.by_column:
        return {}
    import copy

    from frictionless import Package as FrictionlessPackage
    from frictionless import Schema

    raw = next(r for r in package.raw["resources"] if isinstance(r, dict) and r.get("name") == resource.name)
    try:
        version = FrictionlessPackage.effective_datapackage_version(package.raw, None)
        schema = Schema.from_descriptor(copy.deepcopy(raw["schema"]), datapackage_version=version)
        return {name: schema.get_field(name).create_cell_reader() for name in plan.by_column}
    except Exception as exc:  # frictionless refuses the schema: it says so when it checks the resource itself
        raise _NoReader(str(exc)) from exc


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


def _left_to_frictionless(
    dataset: Dataset,
    plans: dict[str, coverage.Plan],
    refused: set[str] | frozenset[str] = frozenset(),
    failed: dict[str, str] | None = None,
) -> dict[str, str]:
    """Resources frictionless checks itself, with why: those the fast engine does not cover (coverage.plan:
    a feature it does not read, a key it cannot compare as frictionless does), files the fast reader could
    not take or that frictionless reads otherwise (table.foreign, table.sniffed), those where frictionless'
    own cell reader failed (`failed`), and the resources whose foreign keys point into any of these (the
    lookup must be frictionless' own). A withheld resource (`refused`) is read by no one."""
    package = dataset.package
    slow = dict(failed or {})
    for resource in package.resources:
        table = dataset.tables.get(resource.name)
        if table is None or not table.readable or resource.name in refused or resource.name in slow:
            continue
        plan = plans[resource.name]
        reason = table.foreign or plan.whole or table.sniffed
        if reason is None and not table.fast:
            reason = "its file is irregular: the fast reader did not take it"
        if reason is not None:
            slow[resource.name] = reason
    # A lookup is ours where we read the rows it is made of: else it must be frictionless' own.
    theirs = {
        r.name
        for r in package.resources
        if r.name in slow and (r.name in (failed or {}) or not _ours(dataset.tables.get(r.name), plans[r.name]))
    }
    for resource in package.resources:
        table = dataset.tables.get(resource.name)
        into = [fk.resource for fk in resource.foreign_keys if fk.resource in theirs]
        if table is not None and table.readable and into and resource.name not in slow:
            slow[resource.name] = f"its foreign key points into {into[0]!r}, whose rows frictionless reads itself"
    return slow


__all__ = ["routes", "run_fast"]


def run_reference(descriptor: Path, dataset: Dataset) -> list[Finding]:
    """`--engine frictionless`: frictionless on everything, except what no engine may hand it.

    A withheld resource (compressed, too wide, …), one whose file is not a regular file (a FIFO would
    block frictionless for ever, a symlink lead it elsewhere) and one whose patterns Python's re cannot
    decide within its bound are not handed over (their findings say why), nor is a resource whose
    foreign keys would make frictionless read one of those.
    """
    package = dataset.package
    kept_back = withheld(dataset) | not_regular(dataset)
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

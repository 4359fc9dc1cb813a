"""The data checks frictionless makes, run fast: our column-wise engine where the file is regular,
frictionless itself where it is not, and frictionless always for the descriptor."""

from __future__ import annotations

from pathlib import Path

from ..codes import finding
from ..dataset import Dataset
from ..findings import Finding
from .tabular import check_resource, lookup_keys, typed_columns
from .upstream import DESCRIPTOR_FILE, check_descriptor, run_frictionless_on, translate_task


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
    typed = [
        r
        for r in package.resources
        if (t := dataset.tables.get(r.name)) is not None and t.readable and t.header is not None
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
    slow = _left_to_frictionless(dataset)
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
        needed = [unopened[n] for n in [resource.name, *(fk.resource for fk in resource.foreign_keys)] if n in unopened]
        if needed:
            findings.append(finding("scheme-error", resource.path, f"cannot open {needed[0]}"))
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
        findings.extend(run_frictionless_on(descriptor, dataset, [n for n in package.resource_names if n in slow]))
    return findings


def _left_to_frictionless(dataset: Dataset) -> set[str]:
    """Resources frictionless checks itself: files the fast reader could not take, files whose size or hash
    the descriptor records, and the resources whose foreign keys point into an irregular file (frictionless
    reads such a file its own way, and its lookup must be the one the keys are checked against)."""
    package = dataset.package
    slow = set()
    for resource, raw in zip(package.resources, package.raw["resources"], strict=True):
        table = dataset.tables.get(resource.name)
        if table is None or not table.readable:
            continue
        if not table.fast or "hash" in raw or "bytes" in raw:
            slow.add(resource.name)
    irregular = {n for n in slow if not dataset.tables[n].fast}
    for resource in package.resources:
        table = dataset.tables.get(resource.name)
        if table is not None and table.readable and any(fk.resource in irregular for fk in resource.foreign_keys):
            slow.add(resource.name)
    return slow


__all__ = ["DESCRIPTOR_FILE", "run_fast"]

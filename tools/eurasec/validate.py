"""`validate`: every check over a package, as one Report. The CLI only renders it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .checks.context import Context
from .model.codes import finding
from .model.descriptor import DESCRIPTOR_NAME, load_package
from .model.findings import Finding, Report
from .read.dataset import load_dataset

Check = Callable[[Context], Iterable[Finding]]

OWN_CHECKS: tuple[Check, ...] | None = None  # the project's checks, made on first use (see own_checks)


def own_checks() -> tuple[Check, ...]:
    """The project's checks, seeds first (the quote check uses the texts that passed).

    Imported on first use: validate imports them in the thread that checks the descriptor, while
    the main thread reads the files, instead of before anything else starts.
    """
    global OWN_CHECKS
    if OWN_CHECKS is None:
        from .checks.canonical import check_canonical
        from .checks.entities import check_aliases, check_unused
        from .checks.hygiene import check_hygiene
        from .checks.names import check_names
        from .checks.numbering import check_numbering
        from .checks.provenance import check_quotes
        from .checks.roles import check_roles
        from .checks.seeds import check_seeds
        from .checks.values import check_values

        # After the seeds, the longest first: two workers share them, and a long one started last
        # would keep one worker busy alone at the end.
        OWN_CHECKS = (
            check_seeds,
            check_quotes,
            check_roles,
            check_hygiene,
            check_unused,
            check_aliases,
            check_canonical,
            check_numbering,
            check_values,
            check_names,
        )
    return OWN_CHECKS


def _check_descriptor(descriptor: Path) -> list[Finding]:
    """frictionless' check of the descriptor; then what the checks after the reading need is imported."""
    import pyarrow.compute  # noqa: F401  (the reading needs no compute kernel; every check does)

    from .checks.engine.fast import run_fast  # noqa: F401
    from .checks.engine.reference import check_descriptor

    findings = check_descriptor(descriptor)
    own_checks()
    return findings


_FILE_PROBLEMS = {
    "file-missing",
    "file-not-regular",
    "file-unreadable",
    "path-outside-package",
    "empty-file",
    "compressed-resource",
    "too-many-columns",
}
# Errors in the descriptor itself: our checks read the descriptor too, so they wait until it is mended.
_DESCRIPTOR_ERRORS = {
    "package-error",
    "resource-error",
    "schema-error",
    "field-error",
    "descriptor-invalid",
    "path-outside-package",
    "remote-reference",
}
_LABEL_ERRORS = {"blank-label", "duplicate-label", "incorrect-label", "missing-label", "extra-label"}


def _deduplicate(findings: list[Finding]) -> list[Finding]:
    """Where frictionless and our checks see the same fault, keep the one that says more."""
    unreadable = {f.file for f in findings if f.code in _FILE_PROBLEMS}
    not_utf8 = {f.file for f in findings if f.code == "encoding-not-utf8"}
    labelled = {f.file for f in findings if f.code in _LABEL_ERRORS}
    slugs = {(f.file, f.line, f.field) for f in findings if f.code == "id-not-slug"}
    blank = {(f.file, f.line) for f in findings if f.code == "blank-row"}
    # A row with a cell too few or too many has every later value shifted: its other findings are noise.
    ragged = {(f.file, f.line) for f in findings if f.code in ("missing-cell", "extra-cell")}
    primary = {(f.file, f.line) for f in findings if f.code == "primary-key"}
    kept = []
    for f in findings:
        if f.code in ("scheme-error", "source-error", "format-error", "encoding-error") and (
            f.file in unreadable or any(path in f.message for path in unreadable)
        ):
            continue  # our file-level finding says it better (and once)
        if f.code == "encoding-error" and f.file in not_utf8:
            continue  # ours has the line
        if f.code == "header-mismatch" and f.file in labelled:
            continue  # frictionless named the exact label
        if f.code == "constraint-error" and (f.file, f.line, f.field) in slugs:
            continue  # id-not-slug explains the pattern
        if f.code != "blank-row" and f.line is not None and (f.file, f.line) in blank:
            continue  # a blank row also breaks keys and required cells: one finding is enough
        # A bare CR is what splits the row: it is the cause, so it stays beside the ragged row's finding.
        if (
            f.code not in ("missing-cell", "extra-cell", "bare-carriage-return")
            and f.line is not None
            and (f.file, f.line) in ragged
        ):
            continue
        if f.code == "unique-error" and (f.file, f.line) in primary:
            continue  # the repeated primary key says it
        kept.append(f)
    return kept


ENGINES = ("fast", "frictionless", "none")


def _descriptor_broken(findings: list[Finding]) -> bool:
    return any(f.code in _DESCRIPTOR_ERRORS and f.file == DESCRIPTOR_NAME for f in findings)


def _run_check(check: Check, ctx: Context) -> list[Finding]:
    """A check's findings; a check that crashes becomes a finding itself, never a traceback."""
    try:
        return list(check(ctx))
    except Exception as exc:
        name = check.__name__.removeprefix("check_")
        return [finding("check-failed", DESCRIPTOR_NAME, f"the {name} check stopped: {type(exc).__name__}: {exc}")]


def validate(descriptor: str | Path = DESCRIPTOR_NAME, *, engine: str = "fast") -> Report:
    """Check a package. Raises DescriptorError only when the descriptor cannot be read at all.

    engine: "fast" (default) runs frictionless' data checks column-wise, with frictionless itself
    for the descriptor and for irregular files; "frictionless" runs frictionless on everything
    (the reference, slower); "none" runs only the project's own checks.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    package = load_package(descriptor)
    from .checks.engine.reference import reference_findings
    from .read.dataset import locate

    # A descriptor that refers to anything remote (a profile, a dialect, a path by URL) or, but for the
    # data files, to a file outside the package is never handed to frictionless; and where a data file's
    # path leaves the package, frictionless checks the descriptor only (it reads no data file for that),
    # never the data. Validation touches no network and reads no file outside the package.
    refused = reference_findings(package, data_paths=False)
    outside = any(
        problem is not None and problem.code != "file-not-regular"
        for problem in (locate(package, r)[1] for r in package.resources)
    )
    data_engine = "none" if refused or outside else engine
    only_descriptor = outside and not refused and engine != "none"
    with ThreadPoolExecutor(max_workers=1) as pool:
        # frictionless' check of the descriptor is pure Python; reading the tables is mostly pyarrow and
        # numpy, which let go of the GIL: on two cores the two overlap.
        described = pool.submit(_check_descriptor, package.path) if data_engine == "fast" or only_descriptor else None
        dataset = load_dataset(package)
        findings: list[Finding] = list(dataset.findings)
        said = set(findings)
        findings.extend(f for f in refused if f not in said)  # a resource's path: the dataset said it
        for table in dataset.tables.values():
            findings.extend(table.findings)
        try:
            descriptor_findings = described.result() if described is not None else []
        except Exception as exc:  # never a traceback, whatever the descriptor holds
            descriptor_findings = [
                finding("check-failed", DESCRIPTOR_NAME, f"the descriptor check stopped: {type(exc).__name__}: {exc}")
            ]
    ctx = Context(dataset=dataset)
    checks = () if _descriptor_broken([*findings, *descriptor_findings]) else own_checks()
    own: list[Finding] = []
    if checks:
        own.extend(_run_check(checks[0], ctx))  # the seeds first: the quote check reads what passed
    # The project's checks and frictionless' data checks are independent: they run at once, and the
    # kernels of each (pyarrow and numpy let go of the GIL) fill the two cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        own_results = pool.map(lambda check: _run_check(check, ctx), checks[1:])
        try:
            if only_descriptor:
                findings.extend(descriptor_findings)
            elif data_engine == "fast":
                from .checks.engine.fast import run_fast

                findings.extend(run_fast(package.path, dataset, descriptor_findings))
            elif data_engine == "frictionless":
                from .checks.engine.fast import run_reference

                findings.extend(run_reference(package.path, dataset))
        except Exception as exc:  # frictionless itself failed: say so, never a traceback
            findings.append(finding("check-failed", DESCRIPTOR_NAME, f"the data checks could not run: {exc}"))
        for found in own_results:
            own.extend(found)
    if not _descriptor_broken(findings):  # our checks read the descriptor too: their findings wait until it is mended
        findings.extend(own)
    report = Report(
        descriptor=str(package.path.relative_to(package.root))
        if package.path.is_relative_to(package.root)
        else str(package.path)
    )
    report.findings = sorted(_deduplicate(findings), key=Finding.sort_key)
    report.tables = {name: t.num_rows for name, t in dataset.tables.items()}
    report.dataset = dataset  # what was read, for a build that follows (not part of the report's output)
    return report

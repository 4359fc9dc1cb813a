"""`validate`: every check over a package, as one Report. The CLI only renders it.

A check that crashes is a bug in eurasec, never a finding about the data: validate raises InternalError
(naming the check, with the exception it raised) instead of returning a report. Where a limit cut the
findings (frictionless' 1000 errors a table, our own caps), the report says so (Report.truncations).
"""

from __future__ import annotations

import contextvars
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from .checks.context import Context
from .model.descriptor import DESCRIPTOR_NAME, DescriptorError, load_package
from .model.findings import Finding, InternalError, Report, Truncation, collect_truncations
from .read.dataset import Dataset, load_dataset

__all__ = ["ENGINES", "InternalError", "validate"]

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
        from .checks.mentions import check_mentions
        from .checks.names import check_names
        from .checks.numbering import check_numbering
        from .checks.provenance import check_quotes
        from .checks.roles import check_roles
        from .checks.seeds import check_seeds
        from .checks.values import check_values

        # After the seeds, the longest first: two workers share them, and a long one started last
        # would keep one worker busy alone at the end.
        OWN_CHECKS = (
            check_seeds,  # first: the others wait for it, as the quote and mention checks read the seeds it passed
            check_mentions,  # the longest: it starts beside the data checks
            check_quotes,
            check_hygiene,
            check_roles,
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


@contextmanager
def _internal(check: str) -> Iterator[None]:
    """An exception in this block is a bug in eurasec's `check`: InternalError. A DescriptorError (the
    descriptor cannot be read at all) and an InternalError already named pass as they are."""
    try:
        yield
    except (DescriptorError, InternalError):
        raise
    except Exception as exc:
        raise InternalError(check, exc) from exc


def _check_name(check: Check) -> str:
    return getattr(check, "__name__", repr(check)).removeprefix("check_")


def _run_check(check: Check, ctx: Context) -> list[Finding] | InternalError:
    """A check's findings, or, if it crashed, the InternalError that says so (eurasec's bug, never a finding).

    Returned, not raised: our checks read the descriptor too, and their findings wait until it is mended
    (see validate), so a crash on a descriptor that frictionless finds broken is not reported either.
    """
    try:
        with _internal(_check_name(check)):
            return list(check(ctx))
    except InternalError as exc:
        return exc


def _own_limits(findings: list[Finding], dataset: Dataset) -> list[Truncation]:
    """Where our own checks listed only the first findings of a kind in a file (the fix is the same for all):
    the canonical check lists at most canonical.MAX_LINES_REPORTED lines not in canonical form, and the
    reader stops looking for bare carriage returns at strict.MAX_LINES_REPORTED lines."""
    from .checks.canonical import MAX_LINES_REPORTED as CANONICAL_LIMIT
    from .read.strict import MAX_LINES_REPORTED as BARE_CR_LIMIT

    listed = Counter((f.file, f.code) for f in findings)
    cuts: dict[tuple[str, str], Truncation] = {}
    for resource in dataset.package.resources:
        table = dataset.tables.get(resource.name)
        if table is None:
            continue
        file = resource.path
        shown = listed[(file, "not-canonical")]
        if shown >= CANONICAL_LIMIT and len(table.noncanonical_lines) > shown:
            cuts[(file, "not-canonical")] = Truncation(
                file=file,
                what="lines not in canonical form",
                shown=shown,
                at_least=len(table.noncanonical_lines),
                reason=f"validate lists at most {CANONICAL_LIMIT:,} a file",
                hint="Run eurasec fmt: it rewrites them all.",
            )
        shown = listed[(file, "bare-carriage-return")]
        if shown >= BARE_CR_LIMIT:
            cuts[(file, "bare-carriage-return")] = Truncation(
                file=file,
                what="lines with a bare carriage return",
                shown=shown,
                at_least=shown,
                reason=f"validate stops looking for them after {BARE_CR_LIMIT:,} lines a file",
                hint="Mend these (end every line with LF), then run eurasec validate again to see the rest.",
            )
    return list(cuts.values())


def validate(descriptor: str | Path = DESCRIPTOR_NAME, *, engine: str = "fast") -> Report:
    """Check a package. Raises DescriptorError only when the descriptor cannot be read at all, and
    InternalError when a check crashes (a bug in eurasec: no report is made then).

    engine: "fast" (default) runs frictionless' data checks column-wise, with frictionless itself
    for the descriptor and for irregular files; "frictionless" runs frictionless on everything
    (the reference, slower); "none" runs only the project's own checks.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    with collect_truncations() as truncations, _internal("validate"):  # a stage without a name of its own
        report = _validate(descriptor, engine)
        report.truncations = [*truncations, *_own_limits(report.findings, report.dataset)]
    return report


def _validate(descriptor: str | Path, engine: str) -> Report:
    with _internal("descriptor"):
        package = load_package(descriptor)
    from .checks.engine.reference import reference_findings
    from .read.dataset import locate

    # A descriptor that refers to anything remote (a profile, a dialect, a path by URL) or, but for the
    # data files, to a file outside the package is never handed to frictionless; and where a data file's
    # path leaves the package, frictionless checks the descriptor only (it reads no data file for that),
    # never the data. Validation touches no network and reads no file outside the package.
    with _internal("descriptor"):
        refused = reference_findings(package, data_paths=False)
        outside = any(
            problem is not None and problem.code != "file-not-regular"
            for problem in (locate(package, r)[1] for r in package.resources)
        )
    data_engine = "none" if refused or outside else engine
    only_descriptor = outside and not refused and engine != "none"
    # The checks in other threads run in a copy of this context: what they say of their limits is collected.
    with ThreadPoolExecutor(max_workers=1) as pool:
        # frictionless' check of the descriptor is pure Python; reading the tables is mostly pyarrow and
        # numpy, which let go of the GIL: on two cores the two overlap.
        described = (
            pool.submit(contextvars.copy_context().run, _check_descriptor, package.path)
            if data_engine == "fast" or only_descriptor
            else None
        )
        with _internal("reading"):
            dataset = load_dataset(package)
        findings: list[Finding] = list(dataset.findings)
        said = set(findings)
        findings.extend(f for f in refused if f not in said)  # a resource's path: the dataset said it
        for table in dataset.tables.values():
            findings.extend(table.findings)
        with _internal("descriptor"):
            descriptor_findings = described.result() if described is not None else []
    ctx = Context(dataset=dataset)
    checks = () if _descriptor_broken([*findings, *descriptor_findings]) else own_checks()
    own: list[list[Finding] | InternalError] = []

    # The project's checks and frictionless' data checks are independent: two workers take them, the
    # seeds first beside the data checks (which read no seed), then the longest first (the mentions), and
    # the kernels of each (pyarrow and numpy let go of the GIL) fill the two cores.
    def data_checks() -> list[Finding]:
        if only_descriptor:
            return descriptor_findings
        if data_engine == "fast":
            from .checks.engine.fast import run_fast

            with _internal("fast data"):
                return run_fast(package.path, dataset, descriptor_findings)
        if data_engine == "frictionless":
            from .checks.engine.fast import run_reference

            with _internal("frictionless data"):
                return run_reference(package.path, dataset)
        return []

    with ThreadPoolExecutor(max_workers=2) as pool:
        seeds = [pool.submit(contextvars.copy_context().run, _run_check, check, ctx) for check in checks[:1]]
        data_results = pool.submit(contextvars.copy_context().run, data_checks)

        def after_seeds(check: Check) -> list[Finding] | InternalError:
            """Every check of ours but the seeds' waits for it: the quote and mention checks read what passed."""
            for done in seeds:
                done.result()
            return _run_check(check, ctx)

        own_results = [
            *seeds,
            *(pool.submit(contextvars.copy_context().run, after_seeds, check) for check in checks[1:]),
        ]
        findings.extend(data_results.result())
        own.extend(result.result() for result in own_results)
    if not _descriptor_broken(findings):  # our checks read the descriptor too: their findings wait until it is mended
        for outcome in own:
            if isinstance(outcome, InternalError):
                raise outcome
            findings.extend(outcome)
    report = Report(
        descriptor=str(package.path.relative_to(package.root))
        if package.path.is_relative_to(package.root)
        else str(package.path)
    )
    report.findings = sorted(_deduplicate(findings), key=Finding.sort_key)
    report.tables = {name: t.num_rows for name, t in dataset.tables.items()}
    report.dataset = dataset  # what was read, for a build that follows (not part of the report's output)
    report.mentions = ctx.mentions  # likewise, the mention index check_mentions made, if it did
    return report

"""Build a release folder: validate, export every artifact into a temporary folder, checksum, move into place."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..descriptor import DESCRIPTOR_NAME
from ..findings import Report
from .context import CHECKSUMS, ReleaseInput, sha256_file
from .csvzip import export_csv_zip
from .metadata import export_datasette_metadata, export_release_descriptor
from .parquet import export_parquet
from .sqlite import export_sqlite

Exporter = Callable[[ReleaseInput, Path], None]

# The registry of exporters. They run in two lanes at once: SQLite, the longest, on its own, and
# the rest in this order (the release descriptor needs the Parquet files' hashes).
EXPORTERS: list[tuple[str, Exporter]] = [
    ("sqlite", export_sqlite),
    ("parquet", export_parquet),
    ("release descriptor", export_release_descriptor),
    ("datasette metadata", export_datasette_metadata),
    ("csv zip", export_csv_zip),
]


class BuildError(Exception):
    """The data is invalid: nothing was built. Carries the validation report."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"the package is invalid: {len(report.errors)} errors")
        self.report = report


@dataclass
class BuildResult:
    folder: Path
    rows: dict[str, int]
    files: dict[str, int] = field(default_factory=dict)  # release-relative path -> bytes
    report: Report | None = None

    @property
    def total_bytes(self) -> int:
        return sum(self.files.values())


def write_checksums(folder: Path) -> dict[str, int]:
    """SHA256SUMS over every other file in the release, in sha256sum's own format; returns the sizes."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    with ThreadPoolExecutor(max_workers=2) as pool:  # hashlib lets go of the GIL on large blocks
        digests = list(pool.map(lambda rel: sha256_file(folder / rel), files))
    lines = [f"{digest}  {rel}\n" for digest, rel in zip(digests, files, strict=True)]
    (folder / CHECKSUMS).write_text("".join(lines), encoding="utf-8")
    return {rel: (folder / rel).stat().st_size for rel in [*files, CHECKSUMS]}


def _swap_into_place(staged: Path, final: Path) -> None:
    """Replace final with staged; the old release is removed only once the new one is in place."""
    retired = None
    if final.exists():
        retired = final.with_name(f".{final.name}.retired-{staged.name.rsplit('-', 1)[-1]}")
        final.rename(retired)
    staged.rename(final)
    if retired is not None:
        shutil.rmtree(retired)


def _export_all(release: ReleaseInput, staged: Path, say: Callable[[str], None]) -> None:
    """Every exporter, the first in a lane of its own (SQLite releases the GIL as it works)."""
    (first_name, first), *rest = EXPORTERS

    def lane(steps: list[tuple[str, Exporter]]) -> None:
        for name, export in steps:
            say(f"writing {name}")
            export(release, staged)

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(lane, [(first_name, first)]), pool.submit(lane, rest)]
        for future in futures:
            future.result()  # re-raises the first failure; the caller then removes the staged folder


def build_release(
    descriptor: str | Path = DESCRIPTOR_NAME,
    out: str | Path = "build",
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Validate, then write `out/<name>-<version>/`. Raises BuildError (invalid data) before writing anything."""
    from ..typed import typed_from_text
    from ..validate import validate

    say = progress or (lambda message: None)
    say("validating")
    report = validate(descriptor)
    if not report.valid:
        raise BuildError(report)
    package = report.dataset.package
    say("typing tables")
    tables = {r.name: typed_from_text(r, report.dataset.tables[r.name].columns) for r in package.resources}
    report.dataset = None  # the text columns are no longer needed: let them go before the exporters run
    release = ReleaseInput(package=package, tables=tables)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    final = out / release.name
    staged = Path(tempfile.mkdtemp(prefix=f".{release.name}.partial-", dir=out))
    try:
        staged.chmod(0o755)  # mkdtemp makes it private; a release is for everyone to read
        _export_all(release, staged, say)
        say("checksums")
        sizes = write_checksums(staged)
        _swap_into_place(staged, final)
    except BaseException:
        # Whatever stopped us (an error, Ctrl-C), the staged folder goes and the old release stays.
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return BuildResult(folder=final, rows={n: t.num_rows for n, t in tables.items()}, files=sizes, report=report)

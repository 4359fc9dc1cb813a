"""Build a release folder: validate, export every artifact into a temporary folder, checksum, move into place."""

from __future__ import annotations

import shutil
import tempfile
import threading
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
from .sqlite import export_sqlite, verify_sqlite

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

# Checks of an exporter's finished files, by exporter: each runs while those files are hashed.
VERIFIERS: dict[str, Callable[[Path], None]] = {"sqlite": verify_sqlite}


class _Digests:
    """The sha256 of each file an exporter has finished, taken in its lane as soon as it is registered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claimed: set[str] = set()
        self.known: dict[str, tuple[int, int, str]] = {}  # release-relative path -> (bytes, mtime_ns, sha256)

    def take(self, written: dict[str, Path]) -> None:
        with self._lock:  # both lanes come here: each file is hashed once
            mine = [(rel, path) for rel, path in list(written.items()) if rel not in self._claimed]
            self._claimed.update(rel for rel, _ in mine)
        for rel, path in mine:
            stat = path.stat()
            self.known[rel] = (stat.st_size, stat.st_mtime_ns, sha256_file(path))

    def of(self, folder: Path, rel: str) -> str:
        """A file's sha256: the one taken, if the file has not changed since; else taken now."""
        stat = (folder / rel).stat()
        size, mtime, digest = self.known.get(rel, (-1, -1, ""))
        return digest if (size, mtime) == (stat.st_size, stat.st_mtime_ns) else sha256_file(folder / rel)


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


def write_checksums(folder: Path, digests: _Digests | None = None) -> dict[str, int]:
    """SHA256SUMS over every other file in the release, in sha256sum's own format; returns the sizes."""
    digests = digests or _Digests()
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    lines = [f"{digests.of(folder, rel)}  {rel}\n" for rel in files]
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


def _export_all(release: ReleaseInput, staged: Path, say: Callable[[str], None]) -> _Digests:
    """Every exporter, the first in a lane of its own (SQLite releases the GIL as it works).

    Each lane hashes the files an exporter has written, while that exporter's verifier reads them.
    """
    (first_name, first), *rest = EXPORTERS
    digests = _Digests()

    def lane(steps: list[tuple[str, Exporter]]) -> None:
        for name, export in steps:
            say(f"writing {name}")
            export(release, staged)
            verify = VERIFIERS.get(name)
            if verify is None:
                digests.take(release.written)
                continue
            with ThreadPoolExecutor(max_workers=1) as checker:  # hashlib lets go of the GIL on large blocks
                checked = checker.submit(verify, staged)
                digests.take(release.written)
                checked.result()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(lane, [(first_name, first)]), pool.submit(lane, rest)]
        for future in futures:
            future.result()  # re-raises the first failure; the caller then removes the staged folder
    return digests


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
        digests = _export_all(release, staged, say)
        say("checksums")
        sizes = write_checksums(staged, digests)
        _swap_into_place(staged, final)
    except BaseException:
        # Whatever stopped us (an error, Ctrl-C), the staged folder goes and the old release stays.
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return BuildResult(folder=final, rows={n: t.num_rows for n, t in tables.items()}, files=sizes, report=report)

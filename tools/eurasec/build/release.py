"""Build a release folder: validate, export every artifact into a temporary folder, checksum, move into place.

Everything the build makes, renames or removes is a plain name in the output folder, taken relative
to that folder's descriptor while the folder's build lock is held; the swap is one renameat2.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from ..model.descriptor import DESCRIPTOR_NAME
from ..model.findings import Report
from ..model.names import release_folder_name
from ..model.paths import UnsafePathError, unsafe_relative_reason
from .annotations import export_annotations
from .card import export_dataset_card
from .context import CHECKSUMS, ExportCheckError, ReleaseInput, sha256_file
from .croissant import export_croissant
from .csvzip import export_csv_zip, package_files
from .graph import export_graph
from .metadata import export_datasette_metadata, export_release_descriptor
from .parquet import export_parquet
from .reading import export_reading_view
from .sqlite import export_sqlite, verify_sqlite

Exporter = Callable[[ReleaseInput, Path], None]

# The registry of exporters. Two workers take them in this order, each the next one whose inputs
# (AFTER) are written: SQLite, which lets go of the GIL as it indexes, first, on a worker of its own.
EXPORTERS: list[tuple[str, Exporter]] = [
    ("sqlite", export_sqlite),
    ("parquet", export_parquet),
    ("release descriptor", export_release_descriptor),
    ("datasette metadata", export_datasette_metadata),
    ("csv zip", export_csv_zip),
    ("annotations", export_annotations),
    ("graph", export_graph),
    ("reading view", export_reading_view),
    ("croissant", export_croissant),
    ("dataset card", export_dataset_card),
]
# What an exporter reads that another writes: it starts once those are done.
AFTER: dict[str, tuple[str, ...]] = {
    "release descriptor": ("parquet",),  # the Parquet files' sizes and hashes
    "croissant": ("release descriptor",),  # the same, from the release descriptor
    "dataset card": ("parquet",),  # the mentions file's row count
}
WORKERS = 2

# Builds into one output folder take turns, each holding an flock on this file (see _locked).
LOCK_FILE = ".eurasec-build.lock"
# renameat2's flags (linux/fs.h): fail if the target exists; swap two existing names in one step.
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
# What stops a build from outside, deferred while the release is swapped into place.
DEFERRED = (signal.SIGINT, signal.SIGTERM)

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


class SwapError(OSError):
    """The new release could not be put in place; the message says where the releases are."""


class BuildInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the build; `state` says truthfully where it left the release."""

    def __init__(self, state: str, installed: bool) -> None:
        super().__init__(state)
        self.state, self.installed = state, installed


def _load_renameat2() -> Callable[..., int] | None:
    """libc's renameat2 (Linux, glibc 2.28 or later), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


RENAMEAT2 = _load_renameat2()


def _renameat2(folder_fd: int, source: str, target: str, flags: int) -> bool:
    """One renameat2 within a folder; False where the system or the file system cannot (then nothing moved)."""
    if RENAMEAT2 is None:
        return False
    if RENAMEAT2(folder_fd, os.fsencode(source), folder_fd, os.fsencode(target), flags) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # an old kernel, or a file system without the flag
        return False
    raise OSError(error, os.strerror(error), target)


def _in_out(name: str) -> str:
    """A name the build makes, renames or removes in the output folder: one plain component, so that
    (taken relative to the folder's descriptor, never following a link at it) it stays in that folder."""
    if "/" in name or unsafe_relative_reason(name):
        raise UnsafePathError(f"{name!r} is not a plain name in the output folder")
    return name


def _existing_release(folder_fd: int, name: str) -> bool:
    """Whether the output folder has a release of this name; refuses a symlink or a file in its place."""
    try:
        mode = os.stat(_in_out(name), dir_fd=folder_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(mode):
        raise UnsafePathError(
            f"{name} in the output folder is a symlink: a build replaces a release folder, never a link"
        )
    if not stat.S_ISDIR(mode):
        raise UnsafePathError(f"{name} in the output folder is not a folder: move it away")
    return True


def _swap_into_place(folder_fd: int, staged: str, final: str) -> str | None:
    """Put the staged folder at final's name, both names in the output folder; returns the name of what is
    left to remove (the previous release), or None.

    One atomic renameat2 where there is one: RENAME_EXCHANGE over a previous release, so that at every
    moment one of the two is in place. Without it, two renames, with the previous release put back if
    the second fails: the message says where each release is if even that fails.
    """
    staged, final = _in_out(staged), _in_out(final)
    if not _existing_release(folder_fd, final):
        if not _renameat2(folder_fd, staged, final, RENAME_NOREPLACE):
            # Under the lock, nothing else makes final meanwhile: a plain rename is as safe.
            os.rename(staged, final, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        return None
    if _renameat2(folder_fd, staged, final, RENAME_EXCHANGE):
        return staged  # the staged name now holds the previous release
    retired = _in_out(f".{final}.retired-{staged.rsplit('-', 1)[-1]}")
    os.rename(final, retired, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    try:
        os.rename(staged, final, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except OSError as exc:
        try:
            os.rename(retired, final, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        except OSError:
            raise SwapError(
                f"could not put the new release in place ({exc}), nor the previous one back: it is in {retired},"
                f" and there is no {final}"
            ) from exc
        raise SwapError(f"could not put the new release in place ({exc}); the previous release is kept") from exc
    return retired


@contextmanager
def _signals_deferred() -> Iterator[list[int]]:
    """Ctrl-C and SIGTERM wait until the block is done; yields the signals that came meanwhile.

    So that the release and what the build says of it agree: an interrupt lands before the swap
    or after it, never inside it. Handlers can be set only in the main thread; elsewhere nothing
    is deferred.
    """
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = {signum: signal.signal(signum, lambda number, frame: caught.append(number)) for signum in DEFERRED}
    try:
        yield caught
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _remove_leftovers(folder_fd: int, name: str) -> list[str]:
    """Remove what killed builds of this release left: its staged and retired folders. Run under the lock,
    when no other build is at work here. Only real folders of our own names, in the output folder itself;
    a symlink or a file of such a name is left alone."""
    ours = re.compile(rf"\.{re.escape(name)}\.(?:partial|retired)-[A-Za-z0-9_]+")
    removed = []
    for entry in sorted(os.listdir(folder_fd)):
        if not ours.fullmatch(entry):
            continue
        if not stat.S_ISDIR(os.stat(entry, dir_fd=folder_fd, follow_symlinks=False).st_mode):
            continue
        shutil.rmtree(_in_out(entry), dir_fd=folder_fd)  # fd-based: never follows a link inside either
        removed.append(entry)
    return removed


def _take_lock(folder_fd: int, out: Path, say: Callable[[str], None]) -> int:
    """The output folder's build lock, held by an flock on LOCK_FILE; returns the file's descriptor."""
    while True:
        try:
            fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=folder_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePathError(f"{out / LOCK_FILE} is a symlink: remove it") from None
            raise
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                say(f"waiting for another build in {out} to finish")
                fcntl.flock(fd, fcntl.LOCK_EX)
            # The build that held it removes the file as it lets go: then this lock is on a file no one else
            # will open, and the lock must be taken afresh on the file now at that name.
            held = os.fstat(fd)
            try:
                now = os.stat(LOCK_FILE, dir_fd=folder_fd, follow_symlinks=False)
            except FileNotFoundError:
                now = None
            if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


@contextmanager
def _locked(out: Path, say: Callable[[str], None]) -> Iterator[int]:
    """Hold the output folder's build lock: two builds into one folder run one after the other.

    Yields a descriptor of the output folder, in which every name is then made, renamed and removed.
    """
    folder_fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        lock_fd = _take_lock(folder_fd, out, say)
        try:
            yield folder_fd
        finally:
            # Removed while still held (see _take_lock), so that the output folder holds only releases.
            with suppress(FileNotFoundError):
                os.unlink(LOCK_FILE, dir_fd=folder_fd)
            os.close(lock_fd)
    finally:
        os.close(folder_fd)


class _Queue:
    """The exporters not yet taken, in registry order; each is handed out once its inputs (AFTER) are done."""

    def __init__(self, exporters: list[tuple[str, Exporter]]) -> None:
        self._waiting = list(exporters)
        self._registered = {name for name, _ in exporters}  # an input no exporter here writes is no wait
        self._done: set[str] = set()
        self._failed = False
        self._changed = threading.Condition()

    def take(self) -> tuple[str, Exporter] | None:
        """The next exporter that can start, waiting for one; None when there is nothing left to do."""
        with self._changed:
            while self._waiting and not self._failed:
                for at, (name, export) in enumerate(self._waiting):
                    # done, not merely taken: an input another worker is still writing is waited for
                    if all(dep in self._done or dep not in self._registered for dep in AFTER.get(name, ())):
                        del self._waiting[at]
                        return name, export
                self._changed.wait()
            return None

    def finish(self, name: str, ok: bool) -> None:
        with self._changed:
            self._done.add(name)
            self._failed |= not ok
            self._changed.notify_all()


def _export_all(release: ReleaseInput, staged: Path, say: Callable[[str], None]) -> _Digests:
    """Every exporter, by WORKERS threads taking them in turn; the first (SQLite) starts at once.

    A worker hashes the files an exporter has written, while that exporter's verifier reads them.
    Which worker writes which file never changes a byte: every exporter writes files of its own.
    """
    digests = _Digests()
    queue = _Queue(list(EXPORTERS))

    def work() -> None:
        while (step := queue.take()) is not None:
            name, export = step
            ok = False
            try:
                say(f"writing {name}")
                started = time.perf_counter()
                export(release, staged)
                verify = VERIFIERS.get(name)
                if verify is None:
                    digests.take(release.written)
                else:
                    with ThreadPoolExecutor(max_workers=1) as checker:  # hashlib lets go of the GIL on large blocks
                        checked = checker.submit(verify, staged)
                        digests.take(release.written)
                        checked.result()
                say(f"wrote {name} in {time.perf_counter() - started:.2f} s")
                ok = True
            finally:
                queue.finish(name, ok)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(work) for _ in range(WORKERS)]
        for future in futures:
            future.result()  # re-raises the first failure; the caller then removes the staged folder
    return digests


class BuildUnsupportedError(Exception):
    """The package is valid, but a table's file is one that the build does not read (a dialect, an encoding,
    inline data, several files): validate hands such tables to frictionless; the build refuses them."""


@dataclass
class _Progress:
    """How far a build got, for a truthful word when it is interrupted."""

    folder: Path | None = None  # the release folder, once its name is known
    installed: bool = False  # the new release is in place

    def state(self) -> str:
        if self.installed:
            return f"the new release is in place in {self.folder}"
        if self.folder is None:  # stopped before the release was named: the output folder was not touched
            return "nothing was changed"
        if self.folder.is_dir():
            return f"nothing was changed: the previous release in {self.folder} is kept"
        return f"nothing was changed: no release was written to {self.folder}"


def build_release(
    descriptor: str | Path = DESCRIPTOR_NAME,
    out: str | Path = "build",
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Validate, then write `out/<name>-<version>/`.

    Raises BuildError (invalid data) or UnsafePathError (a name or file that would lead outside its
    folder) before writing anything; BuildInterrupted on Ctrl-C, saying whether the new release is in place.
    """
    where = _Progress()
    try:
        return _build(descriptor, Path(out), progress or (lambda message: None), where)
    except KeyboardInterrupt:
        raise BuildInterrupted(where.state(), where.installed) from None


def _build(descriptor: str | Path, out: Path, say: Callable[[str], None], where: _Progress) -> BuildResult:
    from ..validate import validate
    from .typed import typed_from_text

    say("validating")
    started = time.perf_counter()
    report = validate(descriptor)
    say(f"validated in {time.perf_counter() - started:.2f} s")
    if not report.valid:
        raise BuildError(report)
    package = report.dataset.package
    name = release_folder_name(package)  # again, right before paths are made of the names: never trust validation ran
    foreign = [(r, report.dataset.tables[r.name].foreign) for r in package.resources]
    for resource, why in foreign:
        if why is not None:
            raise BuildUnsupportedError(
                f"the table {resource.name!r} is valid, but the build reads only UTF-8 CSV files with the"
                f" default dialect, and {why}: convert the file to plain UTF-8 CSV (then `eurasec fmt`), or"
                " use frictionless' own tools for this package"
            )
    say("typing tables")
    started = time.perf_counter()
    try:
        tables = {r.name: typed_from_text(r, report.dataset.tables[r.name].columns) for r in package.resources}
    except (ValueError, TypeError, ArithmeticError, KeyError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        # Validated text always types; if it does not, that is eurasec's fault, said as such, never a traceback.
        raise ExportCheckError(f"a validated table could not be typed: {type(exc).__name__}: {exc}") from None
    report.dataset = None  # the text columns are no longer needed: let them go before the exporters run
    say(f"typed the tables in {time.perf_counter() - started:.2f} s")
    release = ReleaseInput(package=package, tables=tables, found_mentions=report.mentions)
    report.mentions = None
    package_files(release)  # a file that leads outside the package refuses the build before anything is written
    out.mkdir(parents=True, exist_ok=True)
    where.folder = out / name
    with _locked(out, say) as out_fd:
        _existing_release(out_fd, name)  # a symlink or a file in the release's place refuses the build now
        for leftover in _remove_leftovers(out_fd, name):
            say(f"removed {leftover}, left by an earlier build that was killed")
        staged = Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=out))
        to_remove: str | None = staged.name  # the staged folder, until the swap: then the previous release, if any
        try:
            staged.chmod(0o755)  # mkdtemp makes it private; a release is for everyone to read
            started = time.perf_counter()
            digests = _export_all(release, staged, say)
            say(f"wrote every file in {time.perf_counter() - started:.2f} s")
            say("checksums")
            sizes = write_checksums(staged, digests)
            with _signals_deferred() as caught:
                to_remove = _swap_into_place(out_fd, staged.name, name)
                where.installed = True
            for signum in caught:
                signal.raise_signal(signum)  # now that the release and `where` agree
        finally:
            # Whatever stopped us (an error, Ctrl-C) before the swap, the staged folder goes and the old release stays.
            if to_remove is not None:
                shutil.rmtree(_in_out(to_remove), dir_fd=out_fd, ignore_errors=True)
    return BuildResult(folder=out / name, rows={n: t.num_rows for n, t in tables.items()}, files=sizes, report=report)

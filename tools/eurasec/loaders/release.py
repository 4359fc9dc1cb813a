"""Where a release's files come from: the bundled copy, a local folder, or a URL (cached), always checked.

Every file is checked against the release's SHA256SUMS before anyone reads it. A release is
untrusted input: every name in its SHA256SUMS must be a plain relative path that stays inside
the release (and, once downloaded, inside the cache). Downloads stream into a locked temporary
file inside the cache, hashing as they go, within a deadline and a size cap; they are moved
into place only once their hash matches, so an interrupted, slow, oversized or tampered
download never leaves a file that later looks valid.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import math
import os
import re
import socket
import stat
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..model.descriptor import (  # a release's descriptor, and the source package's, by the same name
    DESCRIPTOR_NAME,
    MAX_DESCRIPTOR_BYTES,
    DescriptorError,
    parse_json,
)
from ..model.paths import UnsafePathError, read_regular, resolve_inside, unsafe_relative_reason

try:  # POSIX: a download holds a lock on its temporary file, so only abandoned ones are removed
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # the module, or None where there is none

CHECKSUMS = "SHA256SUMS"
CACHE_ENV = "EURASEC_CACHE"
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # tools/eurasec, or site-packages/eurasec
BUNDLED = PACKAGE_DIR / "_release"
SEEDS = "seeds"
# The release descriptor's own properties (a Frictionless tool ignores them): each Parquet file's size and
# sha256 (not the standard `bytes` and `hash`, which frictionless cannot check on Parquet), and what the
# release was built from: {"sha256": one digest of them all, "files": {package-relative name: sha256}}.
SIZE_KEY = "eurasec:bytes"
HASH_KEY = "eurasec:sha256"
SOURCES_KEY = "eurasec:sources"

# Bounds on one downloaded file. The environment variables override the constants (tests lower them).
TIMEOUT_ENV = "EURASEC_DOWNLOAD_TIMEOUT"
MAX_BYTES_ENV = "EURASEC_MAX_DOWNLOAD_BYTES"
DOWNLOAD_TIMEOUT = 300.0  # seconds for one whole file, from connecting to the last byte
MAX_DOWNLOAD_BYTES = 4 * 1024**3  # for a file whose size the release does not declare
CHECKSUMS_MAX_BYTES = 16 * 1024**2  # SHA256SUMS is a list of names: never large
CHUNK_BYTES = 64 * 1024
# A download's temporary is '.<name>.<random>.part'. Where there are locks (POSIX) it is created
# as '….new', locked, and only then renamed '….part': a .part nobody locks is abandoned. A '.new'
# is left alone for this long (a kill between creating and renaming it is all that leaves one).
PART_SUFFIX = ".part"
NEW_SUFFIX = ".new"
PART_GRACE_SECONDS = 10.0
WEB_SCHEMES = ("http", "https")
DIGEST = re.compile(r"[0-9a-fA-F]{64}")
SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


class ReleaseError(Exception):
    """A release cannot be used: missing, unreachable, or not matching its checksums."""


class ChecksumError(ReleaseError):
    """A file's sha256 differs from the release's SHA256SUMS."""


class MalformedReleaseError(ReleaseError):
    """A release's own files say something a release cannot: an unsafe name, a broken descriptor or table."""


class StaleReleaseError(ReleaseError):
    """A development install's release was built from other data than the checkout has now."""


class InsecureReleaseWarning(UserWarning):
    """A release is fetched over plain http: its files and their checksums can be changed in transit."""


def cache_root() -> Path:
    """The user cache folder; EURASEC_CACHE overrides it."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "eurasec"


def download_timeout() -> float:
    """Seconds allowed for downloading one file: EURASEC_DOWNLOAD_TIMEOUT, else DOWNLOAD_TIMEOUT."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DOWNLOAD_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ReleaseError(f"{TIMEOUT_ENV} must be a positive number of seconds, not {text!r}")
    return seconds


def max_download_bytes() -> int:
    """The most bytes one downloaded file may have: EURASEC_MAX_DOWNLOAD_BYTES, else MAX_DOWNLOAD_BYTES."""
    text = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not text:
        return MAX_DOWNLOAD_BYTES
    if not text.isdigit() or int(text) <= 0:
        raise ReleaseError(f"{MAX_BYTES_ENV} must be a positive whole number of bytes, not {text!r}")
    return int(text)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def release_name_reason(name: object) -> str | None:
    """Why a name from a release cannot be one of its files; None if it can.

    A plain relative POSIX path inside the release (paths.unsafe_relative_reason), and no hidden
    component: names starting with '.' are the cache's own temporaries.
    """
    reason = unsafe_relative_reason(name)
    if reason is None and any(part.startswith(".") for part in str(name).split("/")):
        reason = "has a hidden component (starting with '.')"
    return reason


def parse_checksums(text: str, origin: str) -> dict[str, str]:
    """SHA256SUMS as {name: sha256}; the whole release is refused at its first unusable line."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        digest, sep, name = line.partition("  ")
        where = f"{origin}: line {number} of {CHECKSUMS} ({line[:200]!r})"
        if not sep or not DIGEST.fullmatch(digest) or not name:
            raise MalformedReleaseError(f"{where} is not '<sha256>  <file>'")
        reason = release_name_reason(name)
        if reason:
            raise MalformedReleaseError(f"{where} names a file that {reason}: refusing the whole release")
        if name in sums:
            raise MalformedReleaseError(f"{where} lists {name!r} a second time")
        sums[name] = digest.lower()
    return sums


def _open_regular(path: Path) -> io.BufferedReader:
    """Open a plain file for reading: never through a symlink, never a FIFO or device that would block."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ReleaseError(f"{path} is not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def sha256_file(path: Path) -> str:
    """The sha256 of a regular file, read in blocks."""
    with _open_regular(path) as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class _Deadline:
    """Shuts down a download's sockets when its time is up: a server that drips a byte at a time,
    in the headers or the body, cannot keep a socket timeout from firing, but cannot outlast this."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def connection_class(self, base: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
        deadline = self

        class Watched(base):  # type: ignore[valid-type, misc]  # a base known only at run time
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                create = getattr(self, "_create_connection", None)
                if create is not None:  # watch the raw socket too, so a slow TLS handshake is bounded

                    def create_watched(*a: Any, **k: Any) -> socket.socket:
                        sock = create(*a, **k)
                        deadline.watch(sock)
                        return sock

                    self._create_connection = create_watched

            def connect(self) -> None:
                super().connect()
                deadline.watch(self.sock)

        return Watched


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, even for an SSLSocket: it wakes the reader without touching TLS state
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watched:
    """A handler whose connections are shut down at the deadline."""

    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
        # a mixin: do_open is the handler's it is mixed into (see below), which mypy cannot see from here
        return super().do_open(self._deadline.connection_class(http_class), req, **kwargs)  # type: ignore[misc]


class _WatchedHTTPHandler(_Watched, urllib.request.HTTPHandler):
    pass


class _WatchedHTTPSHandler(_Watched, urllib.request.HTTPSHandler):
    pass


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Redirects stay on http(s), and never step down from https to plain http."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        old = urllib.parse.urlsplit(req.full_url).scheme.lower()
        new = urllib.parse.urlsplit(newurl).scheme.lower()
        if new not in WEB_SCHEMES or (old == "https" and new == "http"):
            fp.close()
            raise ReleaseError(
                f"cannot download {req.full_url}: it redirects to {newurl}, "
                "and a release is only followed from http(s) to https or from http to http"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    """urllib without file:, ftp: or data: handlers: a release is only ever fetched over http(s)."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        _WatchedHTTPHandler(deadline),
        _WatchedHTTPSHandler(deadline),
        urllib.request.HTTPDefaultErrorHandler(),
        _RedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


_NETWORK_ERRORS = (OSError, ValueError, http.client.HTTPException)


def _new_temporary(target: Path) -> tuple[IO[bytes], Path]:
    """An open temporary file beside target, locked (where locks exist) before it carries the .part name."""
    prefix = f".{target.name}."
    if fcntl is None:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=PART_SUFFIX)
        return os.fdopen(fd, "wb"), Path(name)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=NEW_SUFFIX)
    f = os.fdopen(fd, "wb")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # released by the kernel even on kill -9
        part = Path(name[: -len(NEW_SUFFIX)] + PART_SUFFIX)
        os.rename(name, part)
    except BaseException:
        f.close()
        Path(name).unlink(missing_ok=True)
        raise
    return f, part


def _move_into_place(temporary: IO[bytes], temporary_path: Path, target: Path) -> None:
    """Rename a finished temporary onto target; where locks exist, before letting go of its lock."""
    temporary.flush()
    if fcntl is None:  # Windows cannot rename an open file
        temporary.close()
    os.replace(temporary_path, target)
    temporary.close()


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporaries of downloads that died (kill -9, power loss) from a cache folder.

    On POSIX a .part is abandoned when no process holds its lock; without locks (Windows), when it
    is older than the download deadline. Returns what was removed; never raises.
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    now = time.time()
    try:
        oldest_live = download_timeout() + PART_GRACE_SECONDS
    except ReleaseError:
        oldest_live = DOWNLOAD_TIMEOUT + PART_GRACE_SECONDS
    for dirpath, _, filenames in os.walk(folder):  # never follows a symlinked folder
        for filename in filenames:
            # only hidden names: a release's own files never have one (release_name_reason)
            if not filename.startswith(".") or not filename.endswith((PART_SUFFIX, NEW_SUFFIX)):
                continue
            path = Path(dirpath, filename)
            with contextlib.suppress(OSError):
                info = os.lstat(path)
                if not stat.S_ISREG(info.st_mode):
                    continue
                age = now - info.st_mtime
                if fcntl is None or filename.endswith(NEW_SUFFIX):
                    if age > (oldest_live if fcntl is None else PART_GRACE_SECONDS):
                        path.unlink()
                        removed.append(path)
                    continue
                with _open_regular(path) as f:
                    try:
                        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # a live download
                    path.unlink()
                    removed.append(path)
    return removed


@dataclass
class Release:
    """A release to read from; `path(name)` returns a local, verified copy of one of its files."""

    location: str
    _sums: dict[str, str] | None = field(default=None, repr=False)

    @property
    def is_remote(self) -> bool:
        match = SCHEME.match(self.location)
        return match is not None and match.group(1).lower() in WEB_SCHEMES

    @property
    def cache_folder(self) -> Path:
        return cache_root() / sha256_bytes(self.location.rstrip("/").encode())[:16]

    def url(self, name: str) -> str:
        return self.location.rstrip("/") + "/" + urllib.parse.quote(name, safe="/")

    def _download(self, name: str, write: Callable[[bytes], object], limit: int, limit_source: str) -> str:
        """Stream one file to write() within the deadline and the size limit; returns its sha256."""
        url = self.url(name)
        seconds = download_timeout()
        digest = hashlib.sha256()
        received = 0
        with _Deadline(seconds) as deadline:

            def failed(exc: BaseException | None, problem: str = "") -> ReleaseError:
                if deadline.expired:
                    problem = f"it took longer than the {seconds:g} s allowed for one file ({TIMEOUT_ENV})"
                elif not problem:
                    problem = str(exc) or type(exc).__name__
                return ReleaseError(f"cannot download {url}: {problem}; nothing was cached")

            try:
                response = _opener(deadline).open(url, timeout=seconds)
            except ReleaseError:
                raise
            except _NETWORK_ERRORS as exc:
                raise failed(exc) from None
            with response:
                length = _content_length(response.headers)
                too_big = f"it is larger than the {limit} bytes allowed ({limit_source})"
                if length is not None and length > limit:
                    raise failed(None, f"the server announces {length} bytes; {too_big}")
                while True:
                    try:
                        chunk = response.read1(CHUNK_BYTES)
                    except _NETWORK_ERRORS as exc:
                        raise failed(exc) from None
                    if deadline.expired:
                        raise failed(None)
                    if not chunk:
                        break
                    received += len(chunk)
                    if received > limit:
                        raise failed(None, too_big)
                    digest.update(chunk)
                    write(chunk)
        if length is not None and received != length:
            raise failed(None, f"the connection closed after {received} of {length} bytes")
        return digest.hexdigest()

    @staticmethod
    def _limit(declared: int | None, what: str = "the size the release declares for it") -> tuple[int, str]:
        cap = max_download_bytes()
        if declared is not None and declared < cap:
            return declared, what
        return cap, MAX_BYTES_ENV

    def _remote_checksums(self) -> str:
        """SHA256SUMS from the server; when it cannot be reached, the copy cached with the files it vouches for."""
        cached = self.cache_folder / CHECKSUMS
        data = bytearray()
        limit, source = self._limit(CHECKSUMS_MAX_BYTES, f"the most a {CHECKSUMS} may have")
        download_timeout()  # a bad setting is an error even when the cached copy would do
        try:
            self._download(CHECKSUMS, data.extend, limit, source)
        except ReleaseError:
            with contextlib.suppress(OSError, ReleaseError), _open_regular(cached) as f:
                return _decode(f.read(CHECKSUMS_MAX_BYTES + 1)[:CHECKSUMS_MAX_BYTES], str(cached))
            raise
        text = _decode(bytes(data), self.url(CHECKSUMS))
        parse_checksums(text, self.location)  # a malformed list is refused before it is cached
        self._write_cache(cached, bytes(data))
        return text

    def checksums(self) -> dict[str, str]:
        if self._sums is None:
            if self.is_remote:
                remove_stale_temporaries(self.cache_folder)
                text = self._remote_checksums()
            else:
                text = self._local_checksums()
            self._sums = parse_checksums(text, self.location)
        return self._sums

    def _local_checksums(self) -> str:
        root = Path(self.location)
        try:
            path = resolve_inside(root, CHECKSUMS, allow_symlinks=False)
            with _open_regular(path) as f:
                data = f.read(CHECKSUMS_MAX_BYTES + 1)
        except UnsafePathError as exc:
            raise MalformedReleaseError(f"{root}: {exc}") from None
        except (OSError, ReleaseError) as exc:
            problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ReleaseError(f"{root / CHECKSUMS} cannot be read ({problem}): not a eurasec release") from None
        if len(data) > CHECKSUMS_MAX_BYTES:
            raise MalformedReleaseError(f"{path} is larger than {CHECKSUMS_MAX_BYTES} bytes")
        return _decode(data, str(path))

    def path(self, name: str, *, max_bytes: int | None = None) -> Path:
        """A verified local copy of one file of the release; max_bytes bounds its download."""
        reason = release_name_reason(name)
        if reason:  # checked again here: a caller's name, or one from the descriptor, is no safer
            raise MalformedReleaseError(f"{name!r} cannot be a file of a release: it {reason}")
        expected = self.checksums().get(name)
        if expected is None:
            raise ReleaseError(f"{name} is not listed in {CHECKSUMS} of {self.location}")
        if not self.is_remote:
            return self._local_file(name, expected)
        return self._cached_file(name, expected, max_bytes)

    def _local_file(self, name: str, expected: str) -> Path:
        try:
            local = resolve_inside(Path(self.location), name, allow_symlinks=False)
        except UnsafePathError as exc:
            raise MalformedReleaseError(f"{self.location}: {exc}") from None
        try:
            actual = sha256_file(local)
        except OSError as exc:
            raise ReleaseError(f"{Path(self.location) / name} cannot be read: {exc.strerror or exc}") from None
        if actual != expected:
            raise ChecksumError(f"{local} has sha256 {actual}, but {CHECKSUMS} says {expected}")
        return local

    def _cached_file(self, name: str, expected: str, max_bytes: int | None) -> Path:
        try:
            cached = resolve_inside(self.cache_folder, name, allow_symlinks=False)
        except UnsafePathError as exc:
            raise ReleaseError(
                f"the cache entry of {name} is not a plain file ({exc}); remove {self.cache_folder}"
            ) from None
        with contextlib.suppress(OSError, ReleaseError):
            if sha256_file(cached) == expected:
                return cached
        limit, source = self._limit(max_bytes)
        with self._cache_entry(cached) as temporary:
            actual = self._download(name, temporary.write, limit, source)
            if actual != expected:
                raise ChecksumError(
                    f"{name} downloaded from {self.location} has sha256 {actual}, "
                    f"but {CHECKSUMS} says {expected}; nothing was cached"
                )
        return cached

    def _write_cache(self, path: Path, data: bytes) -> None:
        """Write beside the target, then rename: the cache holds a whole file or nothing."""
        with self._cache_entry(path) as temporary:
            temporary.write(data)

    @contextlib.contextmanager
    def _cache_entry(self, path: Path) -> Iterator[IO[bytes]]:
        """A locked temporary beside `path`, moved into place when the block ends without an error and
        deleted when it raises; an OSError becomes a ReleaseError that names the file."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary, temporary_path = _new_temporary(path)
        except OSError as exc:
            raise ReleaseError(f"cannot write to the cache {self.cache_folder}: {exc}") from None
        try:
            with temporary:
                yield temporary
                _move_into_place(temporary, temporary_path, path)
        except OSError as exc:
            temporary_path.unlink(missing_ok=True)
            raise ReleaseError(f"cannot write {path}: {exc}") from None
        except BaseException:
            temporary_path.unlink(missing_ok=True)
            raise


def _content_length(headers: Any) -> int | None:
    # as http.client: no length for a chunked body, nor one it cannot parse (the size cap still holds)
    header = headers.get("Content-Length")
    if header is None or "chunked" in headers.get("Transfer-Encoding", "").lower() or not header.strip().isdigit():
        return None
    return int(header)


def _decode(data: bytes, origin: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedReleaseError(f"{origin} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def checkout_root(package_dir: str | os.PathLike[str] = PACKAGE_DIR) -> Path | None:
    """The checkout this package runs from (an editable install, or PYTHONPATH=tools), or None when installed.

    A checkout is the folder holding tools/eurasec/ beside datapackage.json and pyproject.toml.
    """
    package = Path(package_dir).resolve()
    root = package.parent.parent
    if (
        package.parent.name != "tools"
        or not (root / DESCRIPTOR_NAME).is_file()
        or not (root / "pyproject.toml").is_file()
    ):
        return None
    return root


def _sha256_or_why(root: Path, relative: str) -> str:
    """A source file's sha256; for one that cannot be read, why (never a digest, so never a match)."""
    try:
        path = resolve_inside(root, relative)
        return sha256_file(path)
    except UnsafePathError:
        return "(leads outside the package)"
    except (OSError, ReleaseError):
        return "(missing or unreadable)"


def source_files(root: Path, descriptor: Path | None = None) -> dict[str, str]:
    """{package-relative name: sha256} of every file a release is built from, in name order.

    The descriptor (recorded as datapackage.json, whatever its own name), each resource's file and
    each file in seeds/: what the build validates and packs. Standard library only, so that the
    loaders and the build backend can tell whether a release still matches its checkout.
    """
    descriptor = descriptor or root / DESCRIPTOR_NAME
    files = {DESCRIPTOR_NAME: _sha256_or_why(descriptor.parent, descriptor.name)}
    try:
        raw = _read_json(descriptor)
    except (OSError, DescriptorError):
        raw = {}
    resources = raw.get("resources") if isinstance(raw, dict) else None
    for resource in resources if isinstance(resources, list) else []:
        path = resource.get("path") if isinstance(resource, dict) else None
        if isinstance(path, str):
            files[path] = _sha256_or_why(root, path)
    with contextlib.suppress(OSError):
        for entry in sorted(os.listdir(root / SEEDS)):
            relative = f"{SEEDS}/{entry}"
            with contextlib.suppress(UnsafePathError, OSError):
                if not resolve_inside(root, relative).is_file():
                    continue  # as the build: folders and special files in seeds/ are not taken
            files[relative] = _sha256_or_why(root, relative)
    return dict(sorted(files.items()))


def sources_record(root: Path, descriptor: Path | None = None) -> dict[str, Any]:
    """What the release descriptor records under SOURCES_KEY: one digest of every source file, and each file's."""
    files = source_files(root, descriptor)
    combined = "".join(f"{digest}  {name}\n" for name, digest in files.items())
    return {"sha256": sha256_bytes(combined.encode("utf-8")), "files": files}


def _read_json(path: Path) -> Any:
    """A descriptor, read as the model reads one: a regular file, bounded in size, depth and numbers."""
    return parse_json(read_regular(path, MAX_DESCRIPTOR_BYTES), str(path))


def recorded_sources(folder: Path) -> dict[str, Any] | None:
    """The SOURCES_KEY record of a local release's descriptor (checked against SHA256SUMS); None if it has none."""
    path = Release(str(folder)).path(DESCRIPTOR_NAME)
    try:
        record = _read_json(path).get(SOURCES_KEY)
    except (OSError, DescriptorError, AttributeError) as exc:
        raise MalformedReleaseError(f"{path} cannot be read: {exc}") from None
    if not isinstance(record, dict) or not isinstance(record.get("sha256"), str):
        return None
    return record


def stale_reason(folder: Path, root: Path) -> str | None:
    """Why the release in folder does not match the sources in root now; None when it does."""
    record = recorded_sources(folder)
    if record is None:
        return f"{folder} does not record what it was built from (an older eurasec built it)"
    current = sources_record(root)
    if record["sha256"] == current["sha256"]:
        return None
    files = record.get("files")
    before: dict[str, Any] = files if isinstance(files, dict) else {}
    now = current["files"]
    changed = sorted(name for name in before.keys() | now.keys() if before.get(name) != now.get(name))
    shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    return f"{folder} was built from other data than {root} has now (changed since: {shown or 'the sources'})"


def checkout_release(root: Path) -> Release:
    """The release that `eurasec build` wrote for this checkout, if it still matches the checkout's data."""
    try:
        raw = _read_json(root / DESCRIPTOR_NAME)
        name = f"{raw['name']}-{raw['version']}"
    except (OSError, DescriptorError, KeyError, TypeError) as exc:
        raise ReleaseError(
            f"{root / DESCRIPTOR_NAME} cannot be read for the release's name and version: {exc}"
        ) from None
    reason = unsafe_relative_reason(name)
    if reason or "/" in name:
        raise ReleaseError(f"the release name {name!r} in {root / DESCRIPTOR_NAME} cannot be a folder's name")
    folder = root / "build" / name
    if not (folder / CHECKSUMS).is_file():
        raise ReleaseError(
            f"this is a development install of the checkout {root}: it loads build/{name}/, which does not exist. "
            f"Run `eurasec build` in {root} first."
        )
    stale = stale_reason(folder, root)
    if stale:
        raise StaleReleaseError(
            f"{stale}: loading it would give old values. Run `eurasec build` in {root} to rebuild it."
        )
    return Release(str(folder))


def bundled_release() -> Release:
    """The release a loader reads by default: the checkout's build in a development install, else the bundled one."""
    root = checkout_root()
    if root is not None:
        return checkout_release(root)
    if not (BUNDLED / CHECKSUMS).is_file():
        raise ReleaseError(
            "this installation carries no release data: reinstall eurasec from a wheel, or pass "
            "release='<folder or URL of a release>'."
        )
    return Release(str(BUNDLED))


def _file_url_folder(location: str) -> str:
    """The local folder a file:// URL names (only this machine's: file:///path or file://localhost/path)."""
    parts = urllib.parse.urlsplit(location)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise ReleaseError(f"release {location!r}: a file:// URL must name a folder on this machine (file:///path)")
    return urllib.request.url2pathname(parts.path)


def resolve(release: str | os.PathLike[str] | None) -> Release:
    """The Release that a loader's `release=` argument names; refuses what cannot name one.

    None is the bundled release; a str or os.PathLike is a local folder, an http(s):// URL, or a
    file:// URL (read as the local folder it names: no download, no cache). Plain http:// works
    but warns (InsecureReleaseWarning).
    """
    if release is None:
        return bundled_release()
    if not isinstance(release, str | os.PathLike):
        raise ReleaseError(
            f"release must be a folder path, an http(s):// or file:// URL, or None; not a {type(release).__name__}"
        )
    location = os.fspath(release)
    if not isinstance(location, str):
        raise ReleaseError(f"release must be a text path, not {type(location).__name__}")
    if not location.strip():
        raise ReleaseError(
            "release is empty: pass a release folder or URL, or leave it out for the bundled release "
            "(an empty path would read the current directory)"
        )
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in location):
        raise ReleaseError(f"release {location!r} contains a control character")
    scheme = SCHEME.match(location)
    if scheme is None:
        return Release(location)
    kind = scheme.group(1).lower()
    if kind == "file":
        return Release(_file_url_folder(location))
    if kind not in WEB_SCHEMES:
        raise ReleaseError(f"release {location!r}: a release URL is https:// (or http://, or file:// for a folder)")
    parts = urllib.parse.urlsplit(location)
    if not parts.hostname or parts.query or parts.fragment:
        raise ReleaseError(f"release {location!r}: a release URL names a folder on a host, without ?query or #fragment")
    if kind == "http":
        warnings.warn(
            InsecureReleaseWarning(
                f"release {location} is fetched over plain http: anyone on the connection can change its files "
                f"and its {CHECKSUMS} alike, and the checksums cannot tell. Use an https:// URL."
            ),
            stacklevel=3,
        )
    return Release(location)

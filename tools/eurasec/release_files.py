"""Where a release's files come from: the bundled copy, a local folder, or a URL (cached), always checked.

Every file is checked against the release's SHA256SUMS before anyone reads it. Downloads land
in a temporary file beside their cache entry and are moved into place only once their hash
matches, so an interrupted or tampered download never leaves a file that later looks valid.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHECKSUMS = "SHA256SUMS"
CACHE_ENV = "EURASEC_CACHE"
BUNDLED = Path(__file__).resolve().parent / "_release"


class ReleaseError(Exception):
    """A release cannot be used: missing, unreachable, or not matching its checksums."""


class ChecksumError(ReleaseError):
    """A file's sha256 differs from the release's SHA256SUMS."""


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


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_checksums(text: str, origin: str) -> dict[str, str]:
    sums = {}
    for number, line in enumerate(text.splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            raise ReleaseError(f"{origin}: line {number} of {CHECKSUMS} is not '<sha256>  <file>'")
        sums[name] = digest
    return sums


def _is_url(location: str) -> bool:
    return urllib.parse.urlparse(location).scheme in ("http", "https", "file")


@dataclass
class Release:
    """A release to read from; `path(name)` returns a local, verified copy of one of its files."""

    location: str
    _sums: dict[str, str] | None = field(default=None, repr=False)

    @property
    def is_remote(self) -> bool:
        return _is_url(self.location)

    @property
    def cache_folder(self) -> Path:
        return cache_root() / sha256_bytes(self.location.rstrip("/").encode())[:16]

    def _fetch(self, name: str) -> bytes:
        url = self.location.rstrip("/") + "/" + urllib.parse.quote(name)
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                return response.read()
        except (OSError, ValueError, http.client.HTTPException) as exc:
            # an interrupted transfer (IncompleteRead) lands here too: nothing has been written
            raise ReleaseError(f"cannot download {url}: {exc!r}") from None

    def _remote_checksums(self) -> str:
        """SHA256SUMS from the server; when it cannot be reached, the copy cached with the files it vouches for."""
        cached = self.cache_folder / CHECKSUMS
        try:
            data = self._fetch(CHECKSUMS)
        except ReleaseError:
            if cached.is_file():
                return cached.read_text(encoding="utf-8")
            raise
        _atomic_write(cached, data)
        return data.decode("utf-8", errors="replace")

    def checksums(self) -> dict[str, str]:
        if self._sums is None:
            if self.is_remote:
                text = self._remote_checksums()
            else:
                path = Path(self.location) / CHECKSUMS
                try:
                    text = path.read_text(encoding="utf-8")
                except OSError as exc:
                    raise ReleaseError(
                        f"{path} cannot be read ({exc.strerror or exc}): not a eurasec release"
                    ) from None
            self._sums = parse_checksums(text, self.location)
        return self._sums

    def path(self, name: str) -> Path:
        expected = self.checksums().get(name)
        if expected is None:
            raise ReleaseError(f"{name} is not listed in {CHECKSUMS} of {self.location}")
        if not self.is_remote:
            local = Path(self.location) / name
            try:
                actual = sha256_bytes(local.read_bytes())
            except OSError as exc:
                raise ReleaseError(f"{local} cannot be read: {exc.strerror or exc}") from None
            if actual != expected:
                raise ChecksumError(f"{local} has sha256 {actual}, but {CHECKSUMS} says {expected}")
            return local
        cached = self.cache_folder / name
        if cached.is_file() and sha256_bytes(cached.read_bytes()) == expected:
            return cached
        data = self._fetch(name)
        actual = sha256_bytes(data)
        if actual != expected:
            raise ChecksumError(
                f"{name} downloaded from {self.location} has sha256 {actual}, "
                f"but {CHECKSUMS} says {expected}; nothing was cached"
            )
        _atomic_write(cached, data)
        return cached


def _atomic_write(path: Path, data: bytes) -> None:
    """Write beside the target, then rename: the cache holds a whole file or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def bundled_release() -> Release:
    if not (BUNDLED / CHECKSUMS).is_file():
        raise ReleaseError(
            "this installation carries no release data (a development install?). "
            "Run `eurasec build` and pass release='build/<name>-<version>', or install the wheel."
        )
    return Release(str(BUNDLED))


def resolve(release: str | os.PathLike[str] | None) -> Release:
    if release is None:
        return bundled_release()
    return Release(os.fspath(release))

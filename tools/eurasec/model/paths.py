"""Names that become paths: the one place that says which are safe, and where a path really leads.

Every name that comes from a package or a release (a package name, a version, a resource name,
a resource path, a line of SHA256SUMS) passes through here before it touches the file system.
Standard library only: the loaders use it too.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath

# A name that becomes one path component: lowercase letters, digits, '.', '_' and '-', starting
# with a letter or digit (so never '.', '..' or a hidden file). frictionless allows the same
# characters in package and resource names, plus '/', which we refuse: a name is one component.
SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
# A version becomes part of the release folder's name: semantic versioning's characters only.
SAFE_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]{0,63}")
MAX_PATH_CHARS = 1024


class UnsafePathError(ValueError):
    """A name or path from a package or release would lead outside its place."""


def unsafe_name_reason(name: object) -> str | None:
    """Why a package or resource name cannot be one safe path component; None if it can."""
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not text"
    if not SAFE_NAME.fullmatch(name):
        return "is not a lowercase slug of letters, digits, '.', '_' and '-' (starting with a letter or digit)"
    return None


def unsafe_version_reason(version: object) -> str | None:
    """Why a version cannot be part of a folder's name; None if it can."""
    if not isinstance(version, str):
        return f"is a {type(version).__name__}, not text"
    if not SAFE_VERSION.fullmatch(version):
        return "is not a version of letters, digits, '.', '+' and '-' (such as 1.0.0)"
    return None


def unsafe_relative_reason(path: object) -> str | None:
    """Why a path is not a plain relative POSIX path that stays inside its folder; None if it is.

    Refused: empty, absolute, a drive or URL scheme (':'), a backslash, a '..', '.' or empty
    component, control characters, and anything longer than MAX_PATH_CHARS.
    """
    if not isinstance(path, str):
        return f"is a {type(path).__name__}, not text"
    if not path:
        return "is empty"
    if len(path) > MAX_PATH_CHARS:
        return f"is longer than {MAX_PATH_CHARS} characters"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        return "contains a control character"
    if "\\" in path:
        return "contains a backslash"
    if ":" in path:
        return "names a drive or a URL scheme"
    if path.startswith("/"):
        return "is absolute"
    parts = path.split("/")
    if ".." in parts:
        return "climbs out with '..'"
    if any(part in ("", ".") for part in parts):
        return "has an empty or '.' component"
    return None


def resolve_inside(root: Path, relative: str, *, allow_symlinks: bool = True) -> Path:
    """The real path of `root/relative`, which must stay inside root; raises UnsafePathError.

    With allow_symlinks, a link is followed and must still lead inside root (resolved). Without,
    no component may be a symlink at all: a release file is a plain file in a plain folder.
    """
    reason = unsafe_relative_reason(relative)
    if reason:
        raise UnsafePathError(f"{relative!r} {reason}")
    real_root = Path(os.path.realpath(root))
    if not allow_symlinks:
        current = Path(root)
        for part in PurePosixPath(relative).parts:
            current = current / part
            if current.is_symlink():
                raise UnsafePathError(f"{relative!r} passes through the symlink {part!r}")
    resolved = Path(os.path.realpath(Path(root) / relative))
    if resolved != real_root and not resolved.is_relative_to(real_root):
        raise UnsafePathError(f"{relative!r} leads outside {root} (to {resolved})")
    return resolved


def inside_reason(root: Path, relative: str, *, allow_symlinks: bool = True) -> str | None:
    """resolve_inside's refusal as a reason, or None when the path is safe."""
    try:
        resolve_inside(root, relative, allow_symlinks=allow_symlinks)
    except UnsafePathError as exc:
        return str(exc)
    return None


class NotRegularFileError(OSError):
    """The path is a directory, a FIFO, a socket, a device or (when links are not followed) a symlink."""


class FileTooLargeError(OSError):
    """A file is larger than the bound its reader sets."""


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symlink"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def not_regular_reason(path: Path) -> str | None:
    """What the path is when it is there but not a regular file (a symlink is not followed)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else _kind(mode)


def open_regular(path: Path, *, follow_symlinks: bool = True) -> int:
    """A read-only descriptor of a regular file; NotRegularFileError for anything else, OSError if unreadable.

    Opened without blocking (opening a FIFO for reading waits for a writer; with O_NONBLOCK it returns
    at once), then checked on the open descriptor, so a file swapped for a FIFO or a link between a
    check and the open is still refused. Without follow_symlinks, a final symlink is refused too.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow_symlinks and os.path.islink(path):
            raise NotRegularFileError(f"{path} is a symlink") from exc
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(f"{path} is {_kind(mode)}")
        if flags & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)  # a regular file never blocks; reads then behave as usual
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path, max_bytes: int | None = None, *, follow_symlinks: bool = True) -> bytes:
    """The bytes of a regular file (see open_regular), at most max_bytes of them (else FileTooLargeError)."""
    with os.fdopen(open_regular(path, follow_symlinks=follow_symlinks), "rb") as handle:
        data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise FileTooLargeError(f"{path} is larger than {max_bytes:,} bytes")
    return data

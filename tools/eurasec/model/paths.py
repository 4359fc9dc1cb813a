"""Names that become paths: the one place that says which are safe, and where a path really leads.

Every name that comes from a package or a release (a package name, a version, a resource name,
a resource path, a line of SHA256SUMS) passes through here before it touches the file system.
Standard library only: the loaders use it too.
"""

from __future__ import annotations

import os
import re
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

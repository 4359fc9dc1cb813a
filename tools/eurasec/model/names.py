"""The names a release makes of a package's names: its folder <name>-<version>, a file per resource.

validate reports an unsafe one at its line; the build checks again right before it makes a path.
"""

from __future__ import annotations

from typing import NamedTuple

from .descriptor import Package
from .paths import UnsafePathError, unsafe_name_reason, unsafe_version_reason


class NameProblem(NamedTuple):
    path: tuple[str | int, ...]  # the name's key path in the descriptor
    reason: str
    missing: bool = False  # no name at all (frictionless allows that; only a release needs one)


def unsafe_names(package: Package) -> list[NameProblem]:
    """Every name that would become an unsafe path in a release, with its key path in the descriptor and why.

    The package's name and version make the release folder's name, each resource's name a file's.
    Read from the raw descriptor, so a number or a missing name is not mistaken for text.
    """
    raw = package.raw
    problems: list[NameProblem] = []
    for key, what, check in (
        ("name", "the package name", unsafe_name_reason),
        ("version", "the version", unsafe_version_reason),
    ):
        value = raw.get(key)
        if value is None or value == "":
            message = f"{what} is missing, and the release folder is named <name>-<version>"
            problems.append(NameProblem((key,), message, missing=True))
        elif reason := check(value):
            problems.append(NameProblem((key,), f"{what} {value!r} {reason}, so it cannot be part of a folder's name"))
    for index, resource in enumerate(raw.get("resources") or []):
        value = resource.get("name") if isinstance(resource, dict) else None
        if reason := unsafe_name_reason(value):
            message = f"the resource name {value!r} {reason}, so it cannot be a file's name"
            problems.append(NameProblem(("resources", index, "name"), message))
    return problems


def release_folder_name(package: Package) -> str:
    """`<name>-<version>`, once both are safe in a path, like every resource name; raises UnsafePathError.

    Checked here as well as by validate, right before a path is made of it: a build never trusts
    that validation ran.
    """
    problems = unsafe_names(package)
    if problems:
        raise UnsafePathError("; ".join(problem.reason for problem in problems))
    return f"{package.name}-{package.version}"

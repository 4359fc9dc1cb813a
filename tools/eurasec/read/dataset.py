"""A package with its tables read: the input every check works on.

A resource's file is read only where its path really leads inside the package: the path is
resolved (symlinks followed) and refused when it leaves the package (`path-outside-package`)
or names a URL (`remote-reference`); a symlink that stays inside is refused too
(`file-not-regular`), as a seed's is: a package's files are plain files in plain folders.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..model.codes import finding
from ..model.descriptor import DESCRIPTOR_NAME, SEEDS_DIR, Package, Resource, is_remote, line_of, load_package
from ..model.findings import Finding
from ..model.paths import UnsafePathError, inside_reason, resolve_inside
from .table import Table, load_table


@dataclass
class Dataset:
    package: Package
    tables: dict[str, Table] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)  # problems found while locating files

    def column_number(self, resource_name: str, field_name: str) -> int | None:
        table = self.tables.get(resource_name)
        if table is None or table.header is None or field_name not in table.header:
            return None
        return table.header.index(field_name) + 1


def locate(package: Package, resource: Resource) -> tuple[Path | None, Finding | None]:
    """Where a resource's file really is, or why it is not read: (path, None) or (None, finding).

    The finding is `remote-reference` for a URL, `path-outside-package` for a path that leaves the
    package (absolute, '..', or through a symlink that leads out), and `file-not-regular` for one
    that passes through a symlink inside the package.
    """
    line = line_of(package.text, "path", resource.path) if package.text else None

    def refuse(code: str, message: str, file: str = DESCRIPTOR_NAME) -> tuple[None, Finding]:
        # Only a remote path has its line: a path outside the package is reported as frictionless places it.
        at = line if code == "remote-reference" else None
        return None, finding(code, file, message, line=at, field="path" if file == DESCRIPTOR_NAME else None)

    if is_remote(resource.path):
        return refuse(
            "remote-reference",
            f"resource {resource.name!r} has the remote path {resource.path!r}; validation never fetches anything",
        )
    try:
        resolve_inside(package.root, resource.path, allow_symlinks=True)
    except UnsafePathError as exc:
        return refuse(
            "path-outside-package", f"resource {resource.name!r} has a path that is not inside the package: {exc}"
        )
    try:
        return resolve_inside(package.root, resource.path, allow_symlinks=False), None
    except UnsafePathError as exc:
        return refuse("file-not-regular", f"{resource.path} is not read: {exc}", file=resource.path)


def _unreadable(file: str, problem: Finding) -> Table:
    return Table(file=file, findings=[problem], readable=False)


def load_dataset(descriptor: str | Path | Package) -> Dataset:
    """Read the descriptor (unless given the package) and every resource's CSV file. Raises DescriptorError only."""
    package = descriptor if isinstance(descriptor, Package) else load_package(descriptor)
    dataset = Dataset(package=package)
    readable: list[tuple[Resource, Path]] = []
    refused: dict[str, Table] = {}
    for resource in package.resources:
        path, problem = locate(package, resource)
        if problem is not None and problem.code == "file-not-regular":
            refused[resource.name] = _unreadable(resource.path, problem)  # as read.py says of a symlinked file
        elif problem is not None:
            dataset.findings.append(problem)
        elif path is not None:
            readable.append((resource, path))
    # pyarrow and numpy release the GIL: two files are read at once on two cores, the largest first
    # so that the last one read is a small one and both cores stay busy to the end.
    largest_first = sorted(readable, key=lambda pair: -_size(pair[1]))
    with ThreadPoolExecutor(max_workers=2) as pool:
        tables = dict(
            zip(
                [r.name for r, _ in largest_first],
                pool.map(lambda pair: load_table(pair[1], pair[0].path, pair[0].field_names), largest_first),
                strict=True,
            )
        )
    tables.update(refused)
    # in the descriptor's order
    dataset.tables = {r.name: tables[r.name] for r in package.resources if r.name in tables}
    return dataset


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # its reader says why


def seed_files(root: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The seeds the zip takes (package-relative), and what in seeds/ would lead outside the package, with why.

    A symlink is followed only while it stays inside the package (resolved): seeds/ itself, or a
    file in it, that leads anywhere else is refused, never read. Folders and special files in
    seeds/ are not taken.
    """
    if not os.path.lexists(root / SEEDS_DIR):
        return [], []
    if reason := inside_reason(root, SEEDS_DIR):
        return [], [(SEEDS_DIR, reason)]
    folder = resolve_inside(root, SEEDS_DIR)
    if not folder.is_dir():
        return [], []
    files, problems = [], []
    for entry in sorted(os.listdir(folder)):
        relative = f"{SEEDS_DIR}/{entry}"
        if reason := inside_reason(root, relative):
            problems.append((relative, reason))
        elif resolve_inside(root, relative).is_file():
            files.append(relative)
    return files, problems

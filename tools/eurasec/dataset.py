"""A package with its tables read: the input every check works on."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .codes import finding
from .descriptor import Package, load_package
from .findings import Finding
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


def safe_relative(path: str) -> bool:
    """True for a relative path that stays inside the package folder."""
    pure = PurePosixPath(path.replace("\\", "/"))
    return bool(path) and not pure.is_absolute() and ".." not in pure.parts and ":" not in path


def load_dataset(descriptor: str | Path) -> Dataset:
    """Read the descriptor and every resource's CSV file. Raises DescriptorError only."""
    package = load_package(descriptor)
    dataset = Dataset(package=package)
    readable = []
    for resource in package.resources:
        if not safe_relative(resource.path):
            message = f"resource {resource.name!r} has path {resource.path!r}, which is not inside the package"
            dataset.findings.append(finding("path-outside-package", "datapackage.json", message))
            continue
        readable.append(resource)
    # pyarrow and numpy release the GIL: two files are read at once on two cores, the largest first
    # so that the last one read is a small one and both cores stay busy to the end.
    largest_first = sorted(readable, key=lambda r: -_size(package.root / r.path))
    with ThreadPoolExecutor(max_workers=2) as pool:
        tables = dict(
            zip(
                [r.name for r in largest_first],
                pool.map(lambda r: load_table(package.root / r.path, r.path, r.field_names), largest_first),
                strict=True,
            )
        )
    dataset.tables = {r.name: tables[r.name] for r in readable}  # in the descriptor's order
    return dataset


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # its reader says why

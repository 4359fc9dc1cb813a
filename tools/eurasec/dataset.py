"""A package with its tables read: the input every check works on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .codes import finding
from .descriptor import Package, Resource, load_package
from .findings import Finding
from .read import CsvTable, read_csv


@dataclass
class Row:
    """One data record as a mapping from header name to cell, with its line in the file."""

    values: dict[str, str]
    line: int
    index: int  # position among the table's records

    def get(self, name: str) -> str | None:
        """The cell, or None when it is empty or missing (frictionless' default missing value)."""
        value = self.values.get(name)
        return value if value else None


@dataclass
class Dataset:
    package: Package
    tables: dict[str, CsvTable] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)  # problems found while locating files

    def file(self, resource: Resource) -> str:
        return resource.path

    def column(self, resource_name: str, field_name: str) -> int | None:
        table = self.tables.get(resource_name)
        if table is None or table.header is None or field_name not in table.header:
            return None
        return table.header.index(field_name) + 1

    def rows(self, resource_name: str) -> list[Row]:
        table = self.tables.get(resource_name)
        if table is None or table.header is None:
            return []
        header = table.header
        return [
            Row(values=dict(zip(header, record, strict=False)), line=line, index=index)
            for index, (record, line) in enumerate(zip(table.records, table.lines, strict=True))
            if record  # blank lines are reported elsewhere
        ]


def safe_relative(path: str) -> bool:
    """True for a relative path that stays inside the package folder."""
    pure = PurePosixPath(path.replace("\\", "/"))
    return bool(path) and not pure.is_absolute() and ".." not in pure.parts and ":" not in path


def load_dataset(descriptor: str | Path) -> Dataset:
    """Read the descriptor and every resource's CSV file. Raises DescriptorError only."""
    package = load_package(descriptor)
    dataset = Dataset(package=package)
    for resource in package.resources:
        if not safe_relative(resource.path):
            dataset.findings.append(
                finding(
                    "path-outside-package",
                    "datapackage.json",
                    f"resource {resource.name!r} has path {resource.path!r}, which is not inside the package",
                )
            )
            continue
        path: Path = package.root / resource.path
        dataset.tables[resource.name] = read_csv(path, resource.path)
    return dataset

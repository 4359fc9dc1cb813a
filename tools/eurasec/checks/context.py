"""What the checks share: the dataset as read, and the seed texts once verified."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..dataset import Dataset, Row
from ..descriptor import Resource


@dataclass
class Context:
    dataset: Dataset
    seeds: dict[str, str] = field(default_factory=dict)  # document id -> text, for seeds that could be read
    unreadable_documents: set[str] = field(default_factory=set)  # documents whose seed could not be read
    _rows: dict[str, list[Row]] = field(default_factory=dict)

    @property
    def resources(self) -> tuple[Resource, ...]:
        return self.dataset.package.resources

    def rows(self, resource: Resource | str) -> list[Row]:
        name = resource if isinstance(resource, str) else resource.name
        if name not in self._rows:
            self._rows[name] = self.dataset.rows(name)
        return self._rows[name]

    def column(self, resource: Resource, field_name: str) -> int | None:
        return self.dataset.column(resource.name, field_name)

    def readable(self, resource: Resource) -> bool:
        table = self.dataset.tables.get(resource.name)
        return table is not None and table.readable and table.header is not None

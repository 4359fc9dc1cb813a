"""What the checks share: the dataset as read, and the seed texts once verified."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..model.descriptor import Resource
from ..model.mentions import MentionArrays
from ..read.dataset import Dataset
from ..read.table import Table

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


@dataclass
class Context:
    dataset: Dataset
    seeds: dict[str, str] = field(default_factory=dict)  # document id -> text, for seeds that could be read
    unreadable_documents: set[str] = field(default_factory=set)  # documents whose seed could not be read
    textless_documents: set[str] = field(default_factory=set)  # documents registered without stored text
    # The mention index of every seed read, once check_mentions has made it (build reuses it).
    mentions: MentionArrays | None = None

    @property
    def resources(self) -> tuple[Resource, ...]:
        return self.dataset.package.resources

    def table(self, resource: Resource) -> Table | None:
        """The resource's table, if it could be read and has a header; never one that frictionless reads
        otherwise than we would (a dialect, another encoding, inline data …: table.foreign), which our
        checks leave alone rather than misread."""
        table = self.dataset.tables.get(resource.name)
        if table is None or not table.readable or table.header is None or table.foreign is not None:
            return None
        return table

    def column_number(self, resource: Resource, field_name: str) -> int | None:
        return self.dataset.column_number(resource.name, field_name)


def rows_where(mask: np.ndarray) -> list[int]:
    import numpy as np

    return np.flatnonzero(mask).tolist()


def texts(column: pa.Array, rows: list[int]) -> list[str]:
    """The cells of some rows, as Python strings (only for rows a check has already singled out)."""
    import pyarrow as pa

    return column.take(pa.array(rows, pa.int64())).to_pylist() if rows else []

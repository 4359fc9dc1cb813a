"""What the checks share: the dataset as read, and the seed texts once verified."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..model.descriptor import DOCUMENT, Resource
from ..model.mentions import MentionArrays
from ..read.dataset import Dataset
from ..read.kernels import positions_in
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

    _references: dict[tuple[str, bool], References | None] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def references(self, entity: Resource, citing_only: bool) -> References | None:
        """Every one-field foreign key into `entity` from the package's tables (with citing_only, from the
        tables that cite documents alone), looked up in the entity's key column once for every check that
        asks; None when a table is unread (what refers to what would be a guess)."""
        key = (entity.name, citing_only)
        with self._lock:  # two checks that ask at once: the second waits for the first's answer
            if key not in self._references:
                self._references[key] = _references(self, entity, citing_only)
            return self._references[key]

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


@dataclass(frozen=True)
class References:
    """The references into an entity table, every referring column one after another."""

    rows: np.ndarray  # int64: the entity table's first row with the referenced id; -1 where there is none
    documents: pa.Array  # the referring row's document (its field of role `document`), null where it has none


def _references(ctx: Context, entity: Resource, citing_only: bool) -> References | None:
    import numpy as np
    import pyarrow as pa

    table = ctx.table(entity)
    if table is None or len(entity.primary_key) != 1 or entity.primary_key[0] not in table.columns:
        return None
    ids = table.columns[entity.primary_key[0]]
    positions, documents = [], []
    for resource in ctx.resources:
        if citing_only and not resource.is_fact_table:
            continue
        referring = ctx.table(resource)
        if referring is None:
            return None
        document = resource.role_field(DOCUMENT)
        for fk in resource.foreign_keys:
            if fk.resource == entity.name and len(fk.fields) == 1 and fk.fields[0] in referring.columns:
                column = referring.columns[fk.fields[0]]
                positions.append(positions_in(column, ids))  # the data checks' foreign key asks the same
                if document is not None and document.name in referring.columns:
                    documents.append(referring.columns[document.name].cast(pa.string()))
                else:
                    documents.append(pa.nulls(len(column), pa.string()))
    if not positions:
        return References(np.zeros(0, np.int64), pa.array([], pa.string()))
    return References(np.concatenate(positions), pa.concat_arrays(documents))

"""One Parquet file per table: typed from the schema, sorted by primary key, zstd-compressed."""

from __future__ import annotations

from pathlib import Path

from ..model.paths import UnsafePathError, unsafe_name_reason
from ..model.schema import MENTIONS
from .context import ReleaseInput

PARQUET_DIR = "parquet"


def parquet_path(resource_name: str) -> str:
    """The release-relative path of a resource's Parquet file; raises UnsafePathError for a name that is no slug."""
    if reason := unsafe_name_reason(resource_name):
        raise UnsafePathError(f"the resource name {resource_name!r} {reason}")
    return f"{PARQUET_DIR}/{resource_name}.parquet"


def export_parquet(release: ReleaseInput, folder: Path) -> None:
    """Every table, and the derived table `mentions` (build/mentions.py)."""
    import pyarrow.parquet as pq

    from .mentions import mentions_table

    (folder / PARQUET_DIR).mkdir()
    tables = {resource.name: release.tables[resource.name] for resource in release.package.resources}
    mentions = mentions_table(release)
    if mentions is not None:
        tables[MENTIONS] = mentions
    for name, table in tables.items():
        relative = parquet_path(name)
        # One row group and fixed writer settings: the bytes depend only on the data and pyarrow's version.
        pq.write_table(
            table,
            folder / relative,
            compression="zstd",
            compression_level=6,
            row_group_size=1 << 24,
            write_statistics=True,
            store_schema=True,
        )
        release.written[relative] = folder / relative

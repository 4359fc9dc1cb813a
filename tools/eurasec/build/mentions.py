"""The release's mention index, found once per build and shared by every exporter that needs it.

The SQLite and Parquet exporters store it as the derived table `mentions` (model/schema.py's
mentions_resource); the annotation exports (build/annotations.py) lay it over the seeds. They run in
two lanes at once, so the index is made by whichever asks first, under a lock, and kept for the others.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..checks.seeds import MAX_SEED_BYTES
from ..model.descriptor import SEED_PATH, Package, Resource
from ..model.mentions import MentionArrays, arrow_columns, collect_names, index_mentions
from ..model.paths import read_regular, resolve_inside
from ..model.schema import arrow_schema, mention_entity_columns, mentions_resource
from .context import ExportCheckError, ReleaseInput

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class ReleaseMentions:
    texts: dict[str, str]  # document id -> its seed's text, for every document with a stored seed
    mentions: MentionArrays
    table: pa.Table | None = None  # the derived table, once made (mentions_table)


_LOCK = threading.Lock()
_MADE: dict[int, ReleaseMentions] = {}  # id(release) -> its mentions, while the release lives


def seed_texts(package: Package, tables: dict[str, pa.Table]) -> dict[str, str]:
    """Document id -> the text of its seed (UTF-8, byte-exact, as validate read it), for each document
    whose seed path (role `seed-path`) is set. The path was checked by validate and by package_files;
    it is resolved inside the package again here, never through a symlink."""
    documents = package.documents
    if documents is None or len(documents.primary_key) != 1:
        return {}
    path_field = documents.role_field(SEED_PATH)
    table = tables.get(documents.name)
    if path_field is None or table is None:
        return {}
    ids = table.column(documents.primary_key[0]).to_pylist()
    paths = table.column(path_field.name).to_pylist()
    texts = {}
    for doc_id, path in zip(ids, paths, strict=True):
        if path:
            seed = resolve_inside(package.root, path, allow_symlinks=False)
            try:
                texts[str(doc_id)] = read_regular(seed, MAX_SEED_BYTES).decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ExportCheckError(f"the seed {path} of a validated package cannot be read: {exc}") from None
    return texts


def release_mentions(release: ReleaseInput) -> ReleaseMentions:
    """The release's seeds and their mentions, made on first use and shared by the exporters."""
    key = id(release)
    with _LOCK:
        made = _MADE.get(key)
        if made is None:
            texts = seed_texts(release.package, release.tables)
            names = collect_names(release.package, arrow_columns(release.tables))
            made = ReleaseMentions(texts, index_mentions(names, texts))
            _MADE[key] = made
            weakref.finalize(release, _MADE.pop, key, None)
        return made


def mentions_table(release: ReleaseInput) -> pa.Table | None:
    """The derived table `mentions` as typed Arrow (model/schema.py's mentions_resource), or None when
    the package has no documents or no entity tables. Made once, shared by the exporters."""
    resources = release.package.resources
    resource = mentions_resource(resources)
    if resource is None:
        return None
    made = release_mentions(release)
    with _LOCK:
        if made.table is None:
            made.table = _table(made.mentions, resource, mention_entity_columns(resources))
        return made.table


def _table(found: MentionArrays, resource: Resource, entity_columns: dict[str, str]) -> pa.Table:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    exact, prefix, suffix = (a.cast(pa.string()) for a in found.exact_prefix_suffix())
    tables, ids = found.entities.columns(found.entity)
    document = pa.array(found.documents, pa.string()).take(pa.array(found.document, pa.int64()))
    columns: dict[str, pa.Array] = {
        "id": pa.array(np.arange(1, len(found) + 1, dtype=np.int64)),
        resource.fields[1].name: document,
        "start": pa.array(found.start, pa.int64()),
        "end": pa.array(found.end, pa.int64()),
        "exact": exact,
        "prefix": prefix,
        "suffix": suffix,
    }
    null = pa.scalar(None, pa.string())
    for table, column in entity_columns.items():
        columns[column] = pc.if_else(pc.equal(tables, table), ids, null)
    return pa.table(columns).cast(arrow_schema(resource))

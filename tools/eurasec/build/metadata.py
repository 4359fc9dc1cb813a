"""The release's own descriptor and Datasette's metadata, both derived from datapackage.json."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from ..loaders.release import HASH_KEY, SIZE_KEY, SOURCES_KEY, sources_record
from ..model.schema import mention_views, mentions_resource, passages_resource, resource_descriptor
from ..model.views import applicable_views
from .context import DATASETTE_METADATA, RELEASE_DESCRIPTOR, SQLITE_FILE, ReleaseInput, build_versions, sha256_file
from .parquet import parquet_path


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def export_release_descriptor(release: ReleaseInput, folder: Path) -> None:
    """The same metadata, with each resource pointing at its Parquet file and carrying its size and sha256.

    The size and sha256 are eurasec's own properties (SIZE_KEY, HASH_KEY), not the standard `bytes`
    and `hash`: frictionless reads Parquet without counting its bytes, so a plain `frictionless
    validate` would fail every resource on them. The descriptor also records the library versions
    used and what the release was built from (SOURCES_KEY: a digest of the source descriptor, every
    table's file and every seed), so that a stale release can be told from a current one.
    """
    descriptor = copy.deepcopy(release.package.raw)
    for resource in descriptor["resources"]:
        relative = parquet_path(resource["name"])
        path = release.written[relative]
        for standard in ("encoding", "dialect", "bytes", "hash"):  # they described the CSV
            resource.pop(standard, None)
        resource.update(path=relative, format="parquet", mediatype="application/vnd.apache.parquet")
        resource[SIZE_KEY] = path.stat().st_size
        resource[HASH_KEY] = sha256_file(path)
    mentions = mentions_resource(release.package.resources)
    relative = parquet_path(mentions.name) if mentions is not None else ""
    if mentions is not None and relative in release.written:  # derived at build time (build/mentions.py)
        path = release.written[relative]
        derived = resource_descriptor(mentions)
        derived.update(
            profile="tabular-data-resource",
            path=relative,
            format="parquet",
            mediatype="application/vnd.apache.parquet",
        )
        derived[SIZE_KEY] = path.stat().st_size
        derived[HASH_KEY] = sha256_file(path)
        descriptor["resources"].append(derived)
    descriptor["eurasec:build"] = build_versions()
    descriptor[SOURCES_KEY] = sources_record(release.package.root, release.package.path)
    (folder / RELEASE_DESCRIPTOR).write_text(_dump(descriptor), encoding="utf-8")
    release.written[RELEASE_DESCRIPTOR] = folder / RELEASE_DESCRIPTOR


def datasette_metadata(release: ReleaseInput) -> dict[str, Any]:
    raw = release.package.raw
    licence = (raw.get("licenses") or [{}])[0]
    source = (raw.get("sources") or [{}])[0]
    tables: dict[str, Any] = {}
    passages = passages_resource(release.package.resources)
    mentions = mentions_resource(release.package.resources)
    derived = [r for r in (passages, mentions) if r is not None]
    for resource in [*release.package.resources, *derived]:
        tables[resource.name] = {
            "title": resource.title,
            "description": resource.description,
            "columns": {f.name: f.description for f in resource.fields},
        }
    views = applicable_views(release.package.resources)
    if mentions is not None:
        views.update(mention_views(mentions, release.package.resources))
    for name, (description, _) in views.items():
        tables[name] = {"description": description}
    database = Path(SQLITE_FILE).stem
    return {
        "title": raw.get("title", ""),
        "description": raw.get("description", ""),
        "license": licence.get("name", ""),
        "license_url": licence.get("path", ""),
        "source": source.get("title", ""),
        "source_url": source.get("path", ""),
        "databases": {
            database: {"description": f"{raw.get('title', '')}, version {release.version}", "tables": tables}
        },
    }


def export_datasette_metadata(release: ReleaseInput, folder: Path) -> None:
    (folder / DATASETTE_METADATA).write_text(_dump(datasette_metadata(release)), encoding="utf-8")
    release.written[DATASETTE_METADATA] = folder / DATASETTE_METADATA

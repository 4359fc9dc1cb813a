"""croissant.json: the release as MLCommons Croissant 1.0 (with its Responsible AI extension), which is
also the schema.org/Dataset JSON-LD that dataset search engines read.

Derived like everything else: the dataset's name, description, version, licence, keywords and sources
from datapackage.json, with `temporalCoverage` and `spatialCoverage` where the descriptor gives them
(schema.org's own names, as package properties); its creators and citation from CITATION.cff (see
citation.py); a record set per table of the release (the derived `mentions` too), with its fields typed
from the schema, its primary key and its foreign keys; each Parquet file as a FileObject with the size
and sha256 the release descriptor recorded (not hashed again); and the Responsible AI fields from the
sections of docs/datasheet.md (RAI_SOURCES says which).

O(metadata): no table is read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..loaders.release import HASH_KEY, SIZE_KEY
from ..model.descriptor import Field, Resource
from ..model.schema import mentions_resource
from .citation import Citation, as_list, bibtex, citation
from .context import RELEASE_DESCRIPTOR, ExportCheckError, ReleaseInput
from .parquet import parquet_path
from .prose import Section, find_item, find_section, read_datasheet, without_relative_links

CROISSANT_FILE = "croissant.json"
CROISSANT_1_0 = "http://mlcommons.org/croissant/1.0"
RAI_1_0 = "http://mlcommons.org/croissant/RAI/1.0"
PARQUET_MEDIA_TYPE = "application/x-parquet"  # the type Croissant (and mlcroissant) reads Parquet by

# Croissant 1.0's own @context (as in MLCommons' examples), and the RAI extension's prefix.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

# Table Schema's types as Croissant's (schema.org's) data types.
DATA_TYPES = {
    "string": "sc:Text",
    "integer": "sc:Integer",
    "number": "sc:Float",
    "boolean": "sc:Boolean",
    "date": "sc:Date",
}

# Each Responsible AI property, and where in the datasheet its text is: a whole `##` section (found by the
# words of its heading) or one bullet (found by the start of its bold label), several joined by a blank
# line. A property whose sources the datasheet lacks is left out.
RAI_SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "rai:dataCollection": (("item", "Sources"),),
    "rai:dataAnnotationProtocol": (("item", "Who curated"),),
    "rai:dataCollectionMissingData": (("item", "Is anything missing"),),
    "rai:dataBiases": (("section", "gaps biases"),),
    "rai:dataLimitations": (("item", "Is it a sample"), ("item", "Not suited to")),
    "rai:dataUseCases": (("item", "Suited to"),),
    "rai:personalSensitiveInformation": (("item", "Personal data"),),
    "rai:dataReleaseMaintenancePlan": (("section", "Maintenance"),),
}


def rai_fields(sections: list[Section]) -> dict[str, str]:
    """The Responsible AI properties the datasheet gives text for (RAI_SOURCES), as Markdown."""
    out = {}
    for prop, sources in RAI_SOURCES.items():
        texts = []
        for kind, words in sources:
            if kind == "section":
                section = find_section(sections, *words.split())
                text = section.text if section is not None else None
            else:
                text = find_item(sections, words)
            if text:
                texts.append(without_relative_links(text.strip()))
        if texts:
            out[prop] = "\n\n".join(texts)
    return out


def _field(resource: Resource, f: Field, file_id: str, keys: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "@type": "cr:Field",
        "@id": f"{resource.name}/{f.name}",
        "name": f.name,
        "description": f.description,
        "dataType": DATA_TYPES.get(f.type, "sc:Text"),
        "source": {"fileObject": {"@id": file_id}, "extract": {"column": f.name}},
    }
    if f.name in keys:
        out["references"] = {"field": {"@id": keys[f.name]}}
    return out


def record_set(resource: Resource, file_id: str, known: set[str]) -> dict[str, Any]:
    """A table as a record set: its fields typed, its primary key, and each one-field foreign key into another
    table of the release as a reference to that table's field (a key into the table itself, such as a
    document's translation_of, is left out: Croissant loaders read references as joins, and a join of a
    record set with itself is a cycle to them)."""
    keys = {
        fk.fields[0]: f"{fk.resource}/{fk.reference_fields[0]}"
        for fk in resource.foreign_keys
        if len(fk.fields) == 1 and fk.resource in known and fk.resource != resource.name
    }
    primary = [{"@id": f"{resource.name}/{name}"} for name in resource.primary_key]
    out: dict[str, Any] = {
        "@type": "cr:RecordSet",
        "@id": resource.name,
        "name": resource.name,
        "description": resource.description,
    }
    if primary:
        out["key"] = primary[0] if len(primary) == 1 else primary
    out["field"] = [_field(resource, f, file_id, keys) for f in resource.fields]
    return out


def _creators(cited: Citation) -> list[dict[str, Any]]:
    out = []
    for author in cited.authors:
        entry: dict[str, Any] = {"@type": "sc:Person" if author.person else "sc:Organization", "name": author.name}
        if author.person and author.given:
            entry["givenName"], entry["familyName"] = author.given, author.family
        if author.orcid:
            entry["sameAs"] = author.orcid
        out.append(entry)
    return out


def _licence(raw: dict[str, Any]) -> list[str]:
    """Each licence by its URL where the descriptor gives one (as Croissant recommends), else its name."""
    return [
        str(lic.get("path") or lic.get("name"))
        for lic in as_list(raw.get("licenses"))
        if isinstance(lic, dict) and (lic.get("path") or lic.get("name"))
    ]


def _sources(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The descriptor's sources as the works the dataset cites (schema.org's `citation`)."""
    out = []
    for source in as_list(raw.get("sources")):
        if isinstance(source, dict) and source.get("title"):
            work: dict[str, Any] = {"@type": "sc:CreativeWork", "name": str(source["title"])}
            if source.get("path"):
                work["url"] = str(source["path"])
            out.append(work)
    return out


def parquet_files(release: ReleaseInput) -> list[tuple[Resource, str, int, str]]:
    """(resource, release path, bytes, sha256) of each table's Parquet file, in the release descriptor's
    order, as the release descriptor (written earlier in the same lane) recorded them: nothing is hashed again."""
    path = release.written.get(RELEASE_DESCRIPTOR)
    if path is None:
        raise ExportCheckError("the release descriptor must be written before croissant.json and the dataset card")
    described = json.loads(path.read_text(encoding="utf-8"))
    resources = {r.name: r for r in release.package.resources}
    mentions = mentions_resource(release.package.resources)
    if mentions is not None:
        resources[mentions.name] = mentions
    out = []
    for entry in described["resources"]:
        resource = resources.get(entry["name"])
        if resource is not None and entry.get("path") == parquet_path(resource.name):
            out.append((resource, entry["path"], int(entry[SIZE_KEY]), str(entry[HASH_KEY])))
    return out


def croissant(release: ReleaseInput) -> dict[str, Any]:
    raw = release.package.raw
    cited = citation(release.package)
    files = parquet_files(release)
    known = {resource.name for resource, *_ in files}
    out: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": [CROISSANT_1_0, RAI_1_0],
        "name": release.package.name,
        "alternateName": str(raw.get("title", "")),
        "description": str(raw.get("description", "")),
        "version": release.version,
        "license": _licence(raw),
        "creator": _creators(cited),
        "keywords": [str(k) for k in as_list(raw.get("keywords"))],
        "citeAs": bibtex(cited, release.version, f"{release.package.name}_{release.version.replace('.', '_')}"),
        "citation": _sources(raw),
        "isAccessibleForFree": True,
    }
    if raw.get("homepage"):
        out["url"] = str(raw["homepage"])
    for prop in ("temporalCoverage", "spatialCoverage"):
        if isinstance(raw.get(prop), str) and raw[prop]:
            out[prop] = raw[prop]
    out.update(rai_fields(read_datasheet(release.package.root)))
    out["distribution"] = [
        {
            "@type": "cr:FileObject",
            "@id": relative,
            "name": relative,
            "description": f"{resource.title}: the table {resource.name} as Parquet.",
            "contentUrl": relative,
            "contentSize": f"{size} B",
            "encodingFormat": PARQUET_MEDIA_TYPE,
            "sha256": digest,
        }
        for resource, relative, size, digest in files
    ]
    out["recordSet"] = [record_set(resource, relative, known) for resource, relative, _, _ in files]
    return {k: v for k, v in out.items() if v not in ("", [], None)}


def export_croissant(release: ReleaseInput, folder: Path) -> None:
    text = json.dumps(croissant(release), ensure_ascii=False, indent=2) + "\n"
    (folder / CROISSANT_FILE).write_text(text, encoding="utf-8")
    release.written[CROISSANT_FILE] = folder / CROISSANT_FILE

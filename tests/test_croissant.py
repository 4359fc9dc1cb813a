"""croissant.json (build/croissant.py): MLCommons' own loader, mlcroissant, validates it and reads every record
set from the local release, as many rows as each Parquet file holds; its schema.org/Dataset properties, its
files' sha256 and its Responsible AI fields come from datapackage.json, the release and docs/datasheet.md.

Nothing is fetched: every file the metadata names is in the release folder, and a guard makes any
connection from this process to anywhere but 127.0.0.1 fail the test.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from pathlib import Path

import pytest

from eurasec.build import build_release
from eurasec.build.croissant import CROISSANT_1_0, DATA_TYPES, RAI_SOURCES
from eurasec.build.prose import find_item, find_section, parse_sections, without_relative_links

from .conftest import DESCRIPTOR, ROOT, resources

RAW = json.loads(DESCRIPTOR.read_text(encoding="utf-8"))
# mlcroissant's own calls into rdflib and pandas warn of deprecations that are theirs to fix
pytestmark = [
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated"),
    pytest.mark.filterwarnings("ignore:The inplace keyword"),
]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_release(DESCRIPTOR, tmp_path_factory.mktemp("out")).folder


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to an address off this machine fails the test."""
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"the test tried to reach {address}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def metadata(release: Path) -> dict:
    return json.loads((release / "croissant.json").read_text(encoding="utf-8"))


def parquet_tables(release: Path) -> list[str]:
    return sorted(p.stem for p in (release / "parquet").glob("*.parquet"))


def parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.read_metadata(path).num_rows)


def test_mlcroissant_validates_it_and_loads_every_record_set(release: Path, offline: None):
    import mlcroissant as mlc

    dataset = mlc.Dataset(jsonld=release / "croissant.json")
    assert not dataset.metadata.ctx.issues.errors, dataset.metadata.ctx.issues.report()
    names = [record_set.uuid for record_set in dataset.metadata.record_sets]
    assert sorted(names) == parquet_tables(release)
    for name in names:
        records = list(dataset.records(record_set=name))
        assert len(records) == parquet_rows(release / f"parquet/{name}.parquet"), name
        if records:
            assert set(records[0]) == {f"{name}/{c}" for c in pq_columns(release / f"parquet/{name}.parquet")}


def pq_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def test_record_sets_find_rows_by_key_with_their_values(release: Path, offline: None):
    import mlcroissant as mlc
    import pyarrow.parquet as pq

    dataset = mlc.Dataset(jsonld=release / "croissant.json")
    table = pq.read_table(release / "parquet/actors.parquet").to_pylist()
    by_id = {row["id"]: row for row in table}
    for record in dataset.records(record_set="actors"):
        key = record["actors/id"].decode()
        assert record["actors/name"].decode() == by_id[key]["name"]
        assert record["actors/kind"].decode() == by_id[key]["kind"]


def test_record_sets_are_the_tables_with_their_types_and_keys(release: Path):
    meta = metadata(release)
    described = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))["resources"]
    record_sets = {r["@id"]: r for r in meta["recordSet"]}
    assert set(record_sets) == {r["name"] for r in described}  # the derived mentions too
    for resource in described:
        record_set = record_sets[resource["name"]]
        assert record_set["description"] == resource["description"]
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in record_set["field"]] == [f["name"] for f in fields]
        for field, entry in zip(fields, record_set["field"], strict=True):
            assert entry["dataType"] == DATA_TYPES[field["type"]]
            assert entry["description"] == field["description"]
            assert entry["source"] == {"fileObject": {"@id": resource["path"]}, "extract": {"column": field["name"]}}
        key = [k["@id"] for k in (record_set["key"] if isinstance(record_set["key"], list) else [record_set["key"]])]
        assert key == [f"{resource['name']}/{name}" for name in resource["schema"]["primaryKey"]]
        for fk in resource["schema"].get("foreignKeys", []):
            target = fk["reference"]["resource"] or resource["name"]
            if len(fk["fields"]) != 1 or target == resource["name"]:
                continue  # a key into the table itself is no join (see record_set's docstring)
            entry = next(f for f in record_set["field"] if f["name"] == fk["fields"][0])
            assert entry["references"] == {"field": {"@id": f"{target}/{fk['reference']['fields'][0]}"}}


def test_files_carry_the_release_descriptors_sha256_which_is_right(release: Path):
    meta = metadata(release)
    described = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))["resources"]
    sums = dict(reversed(line.split("  ", 1)) for line in (release / "SHA256SUMS").read_text().splitlines())
    files = {f["@id"]: f for f in meta["distribution"]}
    assert set(files) == {r["path"] for r in described} == {f"parquet/{t}.parquet" for t in parquet_tables(release)}
    for resource in described:
        entry = files[resource["path"]]
        digest = hashlib.sha256((release / resource["path"]).read_bytes()).hexdigest()
        assert entry["sha256"] == resource["eurasec:sha256"] == sums[resource["path"]] == digest
        assert entry["contentUrl"] == resource["path"] and entry["encodingFormat"] == "application/x-parquet"
        assert entry["contentSize"] == f"{(release / resource['path']).stat().st_size} B"
    assert "croissant.json" in sums and "README.md" in sums


def test_it_is_the_schema_org_dataset_with_citation_licence_creator_version_coverage(release: Path):
    import yaml

    meta = metadata(release)
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert meta["@type"] == "sc:Dataset" and CROISSANT_1_0 in meta["conformsTo"]
    assert meta["name"] == RAW["name"] and meta["alternateName"] == RAW["title"]
    assert meta["description"] == RAW["description"] and meta["version"] == RAW["version"]
    assert meta["license"] == [lic["path"] for lic in RAW["licenses"]]
    assert meta["keywords"] == RAW["keywords"]
    assert [c["name"] for c in meta["creator"]] == [
        a.get("name") or f"{a['given-names']} {a['family-names']}" for a in cff["authors"]
    ]
    assert meta["temporalCoverage"] == RAW["temporalCoverage"]
    assert meta["spatialCoverage"] == RAW["spatialCoverage"]
    assert [w["url"] for w in meta["citation"]] == [s["path"] for s in RAW["sources"]]
    assert meta["citeAs"].startswith("@misc{") and cff["title"] in meta["citeAs"]
    assert f"version = {{{RAW['version']}}}" in meta["citeAs"]
    assert meta["distribution"] and meta["recordSet"]


def test_the_responsible_ai_fields_are_the_datasheets_text(release: Path):
    meta = metadata(release)
    _, sections = parse_sections((ROOT / "docs/datasheet.md").read_text(encoding="utf-8"))
    for prop, sources in RAI_SOURCES.items():
        texts = []
        for kind, words in sources:
            found = find_section(sections, *words.split()) if kind == "section" else None
            text = found.text if found is not None else find_item(sections, words) if kind == "item" else None
            assert text, f"the datasheet has no {kind} {words!r} any more, for {prop}: update RAI_SOURCES"
            texts.append(without_relative_links(text.strip()))
        assert meta[prop] == "\n\n".join(texts), prop
    datasheet = (ROOT / "docs/datasheet.md").read_text(encoding="utf-8")
    assert "known gaps" in datasheet.lower() and "One article, one perspective" in meta["rai:dataBiases"]


def test_two_builds_write_the_same_bytes(tmp_path: Path):
    first = build_release(DESCRIPTOR, tmp_path / "a").folder
    second = build_release(DESCRIPTOR, tmp_path / "b").folder
    for name in ("croissant.json", "README.md", "metadata.json", "SHA256SUMS"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_a_package_without_datasheet_or_citation_file_still_gets_valid_metadata(
    package_copy: Path, tmp_path: Path, offline: None
):
    import mlcroissant as mlc

    folder = build_release(package_copy / "datapackage.json", tmp_path / "out").folder
    meta = metadata(folder)
    assert not [k for k in meta if k.startswith("rai:")]  # no datasheet beside it: nothing to say
    authors = [c["title"] for c in RAW["contributors"] if c.get("role") == "author"]
    assert [c["name"] for c in meta["creator"]] == authors
    dataset = mlc.Dataset(jsonld=folder / "croissant.json")
    assert not dataset.metadata.ctx.issues.errors


@pytest.mark.parametrize(
    "cff",
    [b"title: [unclosed", b"- a list\n- not a mapping\n", b"\xff\xfe not utf-8", b"authors: 7\nkeywords: {a: 1}\n"],
    ids=["bad-yaml", "not-a-mapping", "not-utf8", "wrong-shapes"],
)
def test_a_broken_citation_file_or_datasheet_never_breaks_the_build(package_copy: Path, tmp_path: Path, cff: bytes):
    (package_copy / "CITATION.cff").write_bytes(cff)
    (package_copy / "docs").mkdir()
    (package_copy / "docs/datasheet.md").write_bytes(b"\xff\xfe" + cff)
    folder = build_release(package_copy / "datapackage.json", tmp_path / "out").folder
    meta = metadata(folder)
    assert meta["version"] == RAW["version"] and meta["creator"]
    assert (folder / "README.md").read_text(encoding="utf-8").startswith("---\n")


def test_datasheet_and_citation_are_read_beside_the_descriptor(package_copy: Path, tmp_path: Path):
    shutil.copy2(ROOT / "CITATION.cff", package_copy / "CITATION.cff")
    (package_copy / "docs").mkdir()
    shutil.copy2(ROOT / "docs/datasheet.md", package_copy / "docs/datasheet.md")
    folder = build_release(package_copy / "datapackage.json", tmp_path / "out").folder
    assert {k for k in metadata(folder) if k.startswith("rai:")} == set(RAI_SOURCES)
    assert set(resources(package_copy)) == set(resources())

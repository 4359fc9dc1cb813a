"""The synthetic package generator: valid, deterministic, and each injected fault found exactly where it was put."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eurasec.model.descriptor import DOCUMENT, END, QUOTE, SEED_PATH, START, load_package
from eurasec.validate import validate
from tests.synth import KINDS, REAL_SEED, generate, inject

from .conftest import DESCRIPTOR, csv_rows, located_rows, resources

SMALL = 3_000


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def located(package: Path) -> set[tuple[str, str, int | None]]:
    return {(f.code, f.file, f.line) for f in validate(package / "datapackage.json").findings}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("synth") / "pkg"
    return folder, generate(folder, SMALL)


def test_a_generated_package_has_no_finding_at_all(small):
    folder, counts = small
    report = validate(folder / "datapackage.json")
    assert report.findings == []
    assert report.tables == counts


def test_the_row_counts_add_up_and_every_table_is_filled(small):
    folder, counts = small
    assert list(counts) == list(resources(folder)) == list(resources())  # every table, in the descriptor's order
    assert all(n > 0 for n in counts.values()), counts
    assert abs(sum(counts.values()) - SMALL) <= SMALL // 100
    assert counts["aliases"] == counts["actors"] + counts["organizations"] + counts["initiatives"]
    for table, n in counts.items():  # a header and one line per row: no record spans lines
        assert (folder / "data" / f"{table}.csv").read_bytes().count(b"\n") == n + 1


def test_the_descriptor_is_the_repositorys_and_each_document_has_its_own_seed(small):
    folder, _ = small
    assert (folder / "datapackage.json").read_bytes() == DESCRIPTOR.read_bytes()
    documents = load_package(folder / "datapackage.json").documents
    assert documents is not None
    path = documents.role_field(SEED_PATH)
    assert path is not None
    stored = [row[path.name] for row in csv_rows(documents.name, folder) if row[path.name]]
    assert sorted(p.relative_to(folder).as_posix() for p in (folder / "seeds").iterdir()) == sorted(stored)
    assert len(set(stored)) == len(stored) >= 1


def test_every_citation_points_at_its_quote_and_no_row_cites_a_document_without_text(tmp_path: Path):
    # Read by the roles, without validate: the seed's code points from start to end are the quote.
    folder = tmp_path / "pkg"
    generate(folder, 20_000, seed=2)
    package = load_package(folder / "datapackage.json")
    documents = package.documents
    assert documents is not None
    path = documents.role_field(SEED_PATH)
    assert path is not None
    key = documents.primary_key[0]
    rows = csv_rows(documents.name, folder)
    texts = {row[key]: (folder / row[path.name]).read_text(encoding="utf-8") for row in rows if row[path.name]}
    assert len(texts) < len(rows), "some documents are registered without text"
    cited: set[str] = set()
    citing_tables = 0
    for resource in package.resources:
        fields = [resource.role_field(role) for role in (DOCUMENT, START, END, QUOTE)]
        if None in fields:
            continue
        citing_tables += 1
        document, start, end, quote = (f.name for f in fields if f is not None)
        for row in csv_rows(resource.name, folder):
            assert texts[row[document]][int(row[start]) : int(row[end])] == row[quote], (resource.name, row)
            cited.add(row[document])
    assert citing_tables >= 10 and cited == set(texts)


def test_generation_is_deterministic_and_the_seed_matters(tmp_path: Path):
    generate(tmp_path / "a", 1_500, seed=7)
    generate(tmp_path / "b", 1_500, seed=7)
    generate(tmp_path / "c", 1_500, seed=8)
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    assert files_of(tmp_path / "a") != files_of(tmp_path / "c")


def test_several_documents_are_valid_too(tmp_path: Path):
    counts = generate(tmp_path / "pkg", 20_000, seed=1)
    assert len(list((tmp_path / "pkg" / "seeds").iterdir())) == 2 < counts["documents"]  # and one without text
    assert located(tmp_path / "pkg") == set()


def test_a_gap_in_the_second_documents_numbering_is_found_there_only(tmp_path: Path):
    generate(tmp_path / "pkg", 20_000, seed=1)
    path = tmp_path / "pkg" / "data" / "steps.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    last = max(i for i, line in enumerate(lines) if line.startswith("synthetic-002,"))  # 0-based
    document, number, rest = lines[last].split(",", 2)
    lines[last] = f"{document},{int(number) + 1},{rest}"  # the last step of document 2 skips a number
    path.write_text("\n".join(lines), encoding="utf-8")
    assert located(tmp_path / "pkg") == {("numbering-gap", "data/steps.csv", last + 1)}


@pytest.mark.parametrize("kind", KINDS)
def test_each_injected_fault_is_found_where_it_was_put(small, tmp_path: Path, kind: str):
    folder, _ = small
    package = tmp_path / "pkg"
    shutil.copytree(folder, package)
    expected = inject(package, kind, 2)
    assert len({line for _, file, line in expected}) == 2  # two faults, on two different lines
    assert located(package) == set(expected)


def test_an_offset_fault_is_reported_on_the_start_field_and_names_where_the_quote_is(small, tmp_path: Path):
    folder, _ = small
    package = tmp_path / "pkg"
    shutil.copytree(folder, package)
    expected = inject(package, "offset", 3, seed=5)
    findings = validate(package / "datapackage.json").findings
    assert {(f.code, f.file, f.line) for f in findings} == set(expected)
    (file,) = {file for _, file, _ in expected}
    resource = next(r for r in load_package(package / "datapackage.json").resources if r.path == file)
    start, end = resource.role_field(START), resource.role_field(END)
    assert start is not None and end is not None
    rows = dict(located_rows(file, package))
    for f in findings:
        row = rows[f.line]
        assert f.field == start.name
        # the edit moved both offsets one character on: the quote is one character back
        assert f"{int(row[start.name]) - 1}–{int(row[end.name]) - 1}" in f.message


def test_maximum_renumbers_the_last_trends_and_expects_one_gap_per_document(small, tmp_path: Path):
    folder, counts = small
    package = tmp_path / "pkg"
    shutil.copytree(folder, package)
    last = counts["trends"] + 1  # the last line of the one document's trends
    assert sorted(inject(package, "maximum", 2)) == [
        ("constraint-error", "data/trends.csv", last - 1),
        ("constraint-error", "data/trends.csv", last),
        ("numbering-gap", "data/trends.csv", last - 1),
    ]


def test_an_unknown_kind_or_too_many_faults_is_refused(small, tmp_path: Path):
    folder, counts = small
    package = tmp_path / "pkg"
    shutil.copytree(folder, package)
    with pytest.raises(ValueError, match="unknown fault kind"):
        inject(package, "no-such-kind", 1)
    with pytest.raises(ValueError, match="only"):
        inject(package, "enum", counts["actors"] + 1)


def test_fields_are_found_by_their_roles_not_their_names(tmp_path: Path):
    # The same descriptor with a table's document, offsets and quote, the alias, a number and a name renamed.
    renamed = {
        "actor_citations": {"document_id": "source_id", "start": "begin", "end": "stop", "quote": "passage"},
        "aliases": {"alias": "written_as"},
        "trends": {"number": "ordinal", "start": "from_char"},
        "actors": {"name": "label"},
    }
    descriptor = json.loads(DESCRIPTOR.read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        names = renamed.get(resource["name"], {})
        schema = resource["schema"]
        for field in schema["fields"]:
            field["name"] = names.get(field["name"], field["name"])
        schema["primaryKey"] = [names.get(k, k) for k in schema["primaryKey"]]
        for fk in schema.get("foreignKeys", []):
            fk["fields"] = [names.get(k, k) for k in fk["fields"]]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    counts = generate(
        tmp_path / "pkg",
        5_000,
        descriptor=tmp_path / "src" / "datapackage.json",
        real_seed=DESCRIPTOR.parent / REAL_SEED,
    )
    report = validate(tmp_path / "pkg" / "datapackage.json")
    assert report.findings == [] and report.tables == counts
    header = (tmp_path / "pkg" / "data" / "actor_citations.csv").read_text(encoding="utf-8").split("\n")[0]
    assert header == "actor_id,source_id,begin,stop,passage"

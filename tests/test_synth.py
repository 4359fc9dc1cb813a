"""The synthetic package generator: valid, deterministic, and each injected fault found exactly where it was put."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from eurasec.validate import validate
from tests.synth import KINDS, generate, inject

from .conftest import DESCRIPTOR

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
    assert set(counts) == {"documents", *(p.stem for p in (folder / "data").glob("*.csv"))} and len(counts) == 11
    assert all(n > 0 for n in counts.values()), counts
    assert abs(sum(counts.values()) - SMALL) <= SMALL // 100
    assert counts["aliases"] == counts["actors"] + counts["organizations"] + counts["initiatives"]
    for table, n in counts.items():  # a header and one line per row: no record spans lines
        assert (folder / "data" / f"{table}.csv").read_bytes().count(b"\n") == n + 1


def test_the_descriptor_is_the_repositorys_and_each_document_has_its_own_seed(small):
    folder, counts = small
    assert (folder / "datapackage.json").read_bytes() == DESCRIPTOR.read_bytes()
    seeds = sorted(p.name for p in (folder / "seeds").iterdir())
    assert seeds == [f"synthetic-{d:03d}.txt" for d in range(1, counts["documents"] + 1)]


def test_generation_is_deterministic_and_the_seed_matters(tmp_path: Path):
    generate(tmp_path / "a", 1_500, seed=7)
    generate(tmp_path / "b", 1_500, seed=7)
    generate(tmp_path / "c", 1_500, seed=8)
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    assert files_of(tmp_path / "a") != files_of(tmp_path / "c")


def test_several_documents_are_valid_too(tmp_path: Path):
    counts = generate(tmp_path / "pkg", 20_000, seed=1)
    assert counts["documents"] == 2
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

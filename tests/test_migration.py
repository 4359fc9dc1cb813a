"""From 1.0.0 to 2.0.0: every citation of the 1.0.0 package survives, pinned to its offsets, and the
version change is a major one. The 1.0.0 package is kept as it was released, in tests/fixtures/."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from eurasec.contribute.migrate import MigrationError, migrate
from eurasec.model.descriptor import load_package
from eurasec.validate import validate

from .conftest import DESCRIPTOR, ROOT

OLD = ROOT / "tests/fixtures/eurasec-1.0.0"


def _rows(folder: Path, path: str) -> list[dict[str, str]]:
    with open(folder / path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("migrated") / "eurasec"
    return out, migrate(OLD / "datapackage.json", out, DESCRIPTOR)


def test_the_migrated_1_0_package_is_valid_under_the_2_0_schema(migrated):
    out, _ = migrated
    report = validate(out / "datapackage.json")
    assert report.errors == []


def test_every_1_0_citation_survives_with_offsets_that_point_at_it(migrated):
    out, result = migrated
    old, new = load_package(OLD / "datapackage.json"), load_package(out / "datapackage.json")
    texts = {
        d["id"]: (out / d["path"]).read_text(encoding="utf-8") for d in _rows(out, "data/documents.csv") if d["path"]
    }
    # Every (document, quote) of 1.0.0 is a citation of 2.0.0 in the same table or, for an entity, in the
    # table that now holds its citations; each with offsets that are its place in the seed.
    cited: dict[tuple[str, str], int] = {}
    for resource in new.resources:
        if not resource.is_fact_table:
            continue
        doc, quote = resource.role_field("document"), resource.role_field("quote")
        start, end = resource.role_field("start"), resource.role_field("end")
        for row in _rows(out, resource.path):
            text = texts[row[doc.name]]
            assert text[int(row[start.name]) : int(row[end.name])] == row[quote.name]
            cited[(row[doc.name], row[quote.name])] = cited.get((row[doc.name], row[quote.name]), 0) + 1
    old_citations = 0
    for resource in old.resources:
        if not resource.is_fact_table:
            continue
        for row in _rows(OLD, resource.path):
            old_citations += 1
            assert (row["document_id"], row["quote"]) in cited, (resource.name, row)
    assert (
        sum(cited.values())
        == old_citations
        == sum(n for name, n in result.rows.items() if name in {r.name for r in new.resources if r.is_fact_table})
    )
    # The quotes that occur more than once are reported for a reader to confirm: the six of 1.0.0.
    for a in result.ambiguous:
        assert texts[a.document].count(a.quote) == len(a.starts) > 1
    assert len(result.ambiguous) == 6


def test_migrating_into_a_folder_that_has_files_is_refused(tmp_path: Path):
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(MigrationError, match="not an empty folder"):
        migrate(OLD / "datapackage.json", tmp_path, DESCRIPTOR)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_the_command_lists_each_quote_to_confirm_at_its_line_and_writes_a_valid_package(tmp_path: Path):
    from click.testing import CliRunner

    from eurasec.cli import cli

    result = CliRunner().invoke(
        cli, ["migrate", str(OLD), "--out", str(tmp_path / "new"), "--descriptor", str(DESCRIPTOR)]
    )
    assert result.exit_code == 0, result.output
    old_actors = _rows(OLD, "data/actors.csv")
    line = next(n for n, row in enumerate(old_actors, 2) if row["quote"] == "the Republic of Belarus")
    assert f"data/actors.csv:{line}: the quote occurs 4 times" in result.output
    assert validate(tmp_path / "new" / "datapackage.json").valid
    again = CliRunner().invoke(
        cli, ["migrate", str(OLD), "--out", str(tmp_path / "new"), "--descriptor", str(DESCRIPTOR)]
    )
    assert again.exit_code == 1 and "nothing was written" in again.output

"""`eurasec build`: the release that downloaders take, read back with real clients."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import urllib.request
import zipfile
from pathlib import Path

import pytest

from eurasec.build import BuildError, build_release
from eurasec.build import release as release_module
from eurasec.build.prose import markdown_plain
from eurasec.model.schema import MENTION_COUNTS, MENTIONS

from .conftest import DESCRIPTOR, ROOT, STAKHOVSKY, line_of, total_rows
from .faults import edit_line
from .servers import datasette as serve_datasette
from .test_validate import invoke

RAW = json.loads(DESCRIPTOR.read_text(encoding="utf-8"))
RESOURCES = {r["name"]: r for r in RAW["resources"]}
NAME = f"eurasec-{RAW['version']}"


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return build_release(DESCRIPTOR, tmp_path_factory.mktemp("out")).folder


def csv_rows(name: str) -> list[dict[str, str]]:
    with open(ROOT / RESOURCES[name]["path"], encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def roles(name: str, resources: dict[str, dict] = RESOURCES) -> dict[str, str]:
    """A table's field names by the role they declare (eurasec:role): where a test finds a row's citation."""
    return {f["eurasec:role"]: f["name"] for f in resources[name]["schema"]["fields"] if "eurasec:role" in f}


CITATION = ("document", "start", "end", "quote")
# The tables whose rows cite a place in a seed: a document, the quote's offsets in it and the quote.
OFFSET_TABLES = [name for name in RESOURCES if set(CITATION) <= set(roles(name))]


def citations(name: str) -> list[tuple[str, int, int, str]]:
    """Each row's (document, start, end, quote), from the table's CSV."""
    document, start, end, quote = (roles(name)[role] for role in CITATION)
    return [(r[document], int(r[start]), int(r[end]), r[quote]) for r in csv_rows(name)]


def release_files() -> list[str]:
    """Every file a release of the checkout's data has, worked out from the data: the core files, a Parquet
    file per table (and the derived mentions), the graph, and per document with stored text its annotations
    and its reading page."""
    stored = [row["id"] for row in csv_rows("documents") if row["path"]]
    return sorted(
        ["SHA256SUMS", "datapackage.json", "eurasec.sqlite", "metadata.json", f"{NAME}-csv.zip"]
        + ["croissant.json", "README.md"]
        + [f"parquet/{name}.parquet" for name in [*RESOURCES, MENTIONS]]
        + [f"graph/{name}" for name in GRAPH_FILES]
        + ["annotations/web-annotations.jsonld", "annotations/spans.jsonl", "annotations/brat/annotation.conf"]
        + [f"annotations/brat/{doc}.{ext}" for doc in stored for ext in ("txt", "ann")]
        + ["read/index.html"]
        + [f"read/{doc}.html" for doc in stored]
        + entity_pages()
    )


def entity_pages() -> list[str]:
    """The reading view's pages of entities: per entity table, one per ENTITIES_PER_PAGE of its rows."""
    from eurasec.build.reading import ENTITIES_PER_PAGE
    from eurasec.model.descriptor import load_package
    from eurasec.model.mentions import entity_tables

    pages = []
    for resource in entity_tables(load_package(DESCRIPTOR)):
        count = sum(1 for row in csv_rows(resource.name) if row[resource.primary_key[0]])
        pages += [f"read/entities/{resource.name}-{k}.html" for k in range(1, -(-count // ENTITIES_PER_PAGE) + 1)]
    return pages


GRAPH_FILES = ["edges.csv", "eurasec.gexf", "eurasec.graphml", "eurasec.svg", "load.cypher", "nodes.csv"]


def test_the_release_has_every_file_and_nothing_else(release: Path):
    files = sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())
    expected = release_files()
    assert files == expected
    assert release.name == NAME


def test_sha256sums_covers_every_file_and_is_right(release: Path):
    lines = (release / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        listed[name] = digest
    files = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert set(listed) == files
    for name, digest in listed.items():
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == digest, name
    if shutil.which("sha256sum"):
        assert (
            subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=release, check=False).returncode == 0
        )


def test_parquet_types_come_from_the_schema(release: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    actors = pq.read_table(release / "parquet/actors.parquet")
    assert actors.schema.field("kind").type == pa.dictionary(pa.int32(), pa.string())
    assert actors.schema.field("id").type == pa.string() and not actors.schema.field("id").nullable
    assert actors.schema.field("wikidata_qid").nullable
    assert pq.read_table(release / "parquet/initiatives.parquet").schema.field("year").type == pa.int64()
    documents = pq.read_table(release / "parquet/documents.parquet")
    assert documents.schema.field("published_date").type == pa.date32()
    assert documents.schema.field("bytes").type == pa.int64()
    assert pq.read_table(release / "parquet/trends.parquet").schema.field("number").type == pa.int64()
    # the enum's whole value list survives, so pandas gets every category, used or not
    assert (
        actors.column("kind").chunk(0).dictionary.to_pylist()
        == next(f for f in RESOURCES["actors"]["schema"]["fields"] if f["name"] == "kind")["constraints"]["enum"]
    )


def test_parquet_carries_descriptions_and_uses_zstd(release: Path):
    import pyarrow.parquet as pq

    for name, resource in RESOURCES.items():
        path = release / f"parquet/{name}.parquet"
        schema = pq.read_schema(path)
        for field in resource["schema"]["fields"]:
            assert schema.field(field["name"]).metadata[b"description"].decode() == field["description"]
        assert schema.metadata[b"description"].decode() == resource["description"]
        meta = pq.ParquetFile(path).metadata
        assert {meta.row_group(0).column(i).compression for i in range(meta.num_columns)} == {"ZSTD"}


@pytest.mark.parametrize("name", RESOURCES)
def test_parquet_holds_exactly_the_csv_values_in_primary_key_order(release: Path, name: str):
    import pyarrow.parquet as pq

    table = pq.read_table(release / f"parquet/{name}.parquet").to_pylist()
    expected = [{k: (v if v != "" else None) for k, v in row.items()} for row in csv_rows(name)]
    got = [
        {k: (None if v is None else str(v) if not hasattr(v, "isoformat") else v.isoformat()) for k, v in row.items()}
        for row in table
    ]
    assert got == expected


def test_pandas_reads_enums_as_categoricals(release: Path):
    import pandas as pd

    frame = pd.read_parquet(release / "parquet/actors.parquet")
    assert isinstance(frame["kind"].dtype, pd.CategoricalDtype)
    assert set(frame["kind"].cat.categories) == {"person", "state", "state-group", "region"}


def connect(release: Path) -> sqlite3.Connection:
    db = sqlite3.connect(release / "eurasec.sqlite")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def test_sqlite_is_clean_and_complete(release: Path):
    db = connect(release)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    for name in RESOURCES:
        assert db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == len(csv_rows(name))


def sqlite_rows_as_csv(database: Path, package: Path) -> dict[str, tuple[list[list[str]], list[list[str]]]]:
    """Each table's rows as SQLite holds them (in rowid order) and as its CSV has them, both as CSV text."""
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    db = sqlite3.connect(database)
    out = {}
    for resource in descriptor["resources"]:
        names = [f["name"] for f in resource["schema"]["fields"]]
        columns = ", ".join(f'"{n}"' for n in names)
        stored = [
            ["" if v is None else str(v) for v in row]
            for row in db.execute(f'SELECT {columns} FROM "{resource["name"]}" ORDER BY rowid')
        ]
        with open(package / resource["path"], encoding="utf-8", newline="") as f:
            out[resource["name"]] = (stored, list(csv.reader(f))[1:])
    return out


def test_sqlite_holds_exactly_the_csv_values_row_after_row(release: Path):
    for name, (stored, expected) in sqlite_rows_as_csv(release / "eurasec.sqlite", ROOT).items():
        assert stored == expected, name


@pytest.mark.parametrize(("per_statement", "batch_rows"), [(1, 5), (3, 7), (100, 1000)])
def test_rows_bound_many_per_statement_and_batch_boundaries_lose_and_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per_statement: int, batch_rows: int
):
    # Rows are bound many to a statement, with the rest of a batch one by one; each batch's text comes
    # out as one string per distinct value. A synthetic package has every type, nulls and repeated
    # quotes, and with these sizes every table ends in a part-filled statement and a part-filled batch.
    from eurasec.build import sqlite as sqlite_module
    from tests.synth import generate

    package = tmp_path / "pkg"
    generate(package, rows=2500)
    monkeypatch.setattr(sqlite_module, "ROWS_PER_STATEMENT", per_statement)
    monkeypatch.setattr(sqlite_module, "BATCH_ROWS", batch_rows)
    folder = build_release(package / "datapackage.json", tmp_path / "out").folder
    for name, (stored, expected) in sqlite_rows_as_csv(folder / "eurasec.sqlite", package).items():
        assert len(stored) == len(expected) and stored == expected, name


def test_a_low_limit_on_bound_values_gives_fewer_rows_per_statement():
    from eurasec.build.sqlite import ROWS_PER_STATEMENT, _rows_per_statement

    db = sqlite3.connect(":memory:")
    assert _rows_per_statement(db, 8) == ROWS_PER_STATEMENT
    db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 20)
    assert _rows_per_statement(db, 8) == 2
    assert _rows_per_statement(db, 30) == 1


def test_sqlite_column_gives_the_values_sqlite_stores():
    import datetime

    import pyarrow as pa

    from eurasec.build.sqlite import _sqlite_column

    text = pa.array(["a", None, "a", "é’", None, "b"])
    assert _sqlite_column(text) == ["a", None, "a", "é’", None, "b"]
    enum = pa.array(["x", None, "y", "x"]).dictionary_encode()
    assert _sqlite_column(enum) == ["x", None, "y", "x"]
    assert _sqlite_column(pa.array([datetime.date(2024, 12, 1), None])) == ["2024-12-01", None]
    assert _sqlite_column(pa.array([True, None, False])) == [1, None, 0]
    assert _sqlite_column(pa.array([2**62, None, -1], pa.int64())) == [2**62, None, -1]
    assert _sqlite_column(pa.array([], pa.string())) == []
    # 128 values: int8 codes reach 127, and null would need code 128 (one more than int8 holds).
    words = [f"value {i}" for i in range(128)]
    small_codes = pa.DictionaryArray.from_arrays(pa.array([None, *range(128), None], pa.int8()), pa.array(words))
    assert _sqlite_column(small_codes) == [None, *words, None]
    repeated = _sqlite_column(pa.array(["same quote", "same quote"]))
    assert repeated[0] is repeated[1], "a repeated value is one Python string"


def test_sqlite_enforces_foreign_keys_checks_and_not_null(release: Path, tmp_path: Path):
    copy = tmp_path / "copy.sqlite"
    shutil.copy(release / "eurasec.sqlite", copy)
    db = sqlite3.connect(copy)
    db.execute("PRAGMA foreign_keys = ON")
    actor = csv_rows("actors")[0]["id"]
    orphan = ("no-such-initiative", actor, "proposer", STAKHOVSKY, 0, 7, "Belarus")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.execute(
            'INSERT INTO initiative_actors (initiative_id, actor_id, role, document_id, start, "end", quote)'
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            orphan,
        )
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.execute(
            'INSERT INTO actor_citations (actor_id, document_id, start, "end", quote) VALUES (?, ?, 0, 7, ?)',
            ("no-such-actor", STAKHOVSKY, "Belarus"),
        )
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("INSERT INTO actors (id, name, kind) VALUES ('x', 'X', 'planet')")
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        db.execute("INSERT INTO actors (id, kind) VALUES ('x', 'state')")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("UPDATE actor_citations SET start = -1 WHERE rowid = 1")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("UPDATE initiatives SET year = 1800 WHERE rowid = 1")


def test_every_foreign_key_has_an_index(release: Path):
    db = connect(release)
    for name, resource in RESOURCES.items():
        indexed = set()
        for _, index, *_ in db.execute(f'PRAGMA index_list("{name}")'):
            indexed.add(tuple(row[2] for row in db.execute(f'PRAGMA index_info("{index}")')))
        for fk in resource["schema"]["foreignKeys"]:
            assert tuple(fk["fields"]) in indexed, (name, fk["fields"])
            # The look-up a join or a key check makes uses it, partial index (where the key is set) or not.
            where = " AND ".join(f'"{c}" = ?' for c in fk["fields"])
            plan = " ".join(
                row[-1]
                for row in db.execute(
                    f'EXPLAIN QUERY PLAN SELECT rowid FROM "{name}" WHERE {where}', ["x"] * len(fk["fields"])
                )
            )
            assert f"idx_{name}_" in plan, (name, fk["fields"], plan)


def test_keys_that_may_be_empty_are_indexed_where_set_and_still_checked(release: Path):
    db = connect(release)
    partial = {n for _, n, _, _, is_partial in db.execute('PRAGMA index_list("aliases")') if is_partial}
    assert partial == {"idx_aliases_actor_id", "idx_aliases_organization_id", "idx_aliases_initiative_id"}
    (actor,) = db.execute("SELECT actor_id FROM aliases WHERE actor_id IS NOT NULL LIMIT 1").fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.execute("DELETE FROM actors WHERE id = ?", (actor,))
    db.close()


def indexed_columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f'PRAGMA table_info("{table}_fts")')]


def rows_with_word(table: str, columns: list[str], word: str) -> list[dict[str, str]]:
    """The CSV rows in which one of `columns` holds `word` as a whole word, ignoring case (as FTS5 matches)."""
    pattern = re.compile(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", re.IGNORECASE)
    return [row for row in csv_rows(table) if any(pattern.search(row[c]) for c in columns)]


def test_full_text_search_finds_names_quotes_and_texts(release: Path):
    db = connect(release)
    assert "quote" not in indexed_columns(db, "actors") and "name" in indexed_columns(db, "actors")
    hits = db.execute(
        "SELECT a.id FROM actors_fts JOIN actors a ON a.rowid = actors_fts.rowid WHERE actors_fts MATCH 'Lukashenko'"
    ).fetchall()
    expected = [r["id"] for r in rows_with_word("actors", indexed_columns(db, "actors"), "Lukashenko")]
    assert "alexander-lukashenko" in expected
    assert sorted(id for (id,) in hits) == sorted(expected)
    normality = rows_with_word("trends", indexed_columns(db, "trends"), "normality")
    assert normality, "the word must be in some trend for this test to mean anything"
    assert db.execute("SELECT count(*) FROM trends_fts WHERE trends_fts MATCH 'normality'").fetchone()[0] == len(
        normality
    )
    assert (
        db.execute("SELECT count(*) FROM aliases_fts WHERE aliases_fts MATCH '\"Gulf Cooperation\"'").fetchone()[0] >= 1
    )


def cited_passages() -> set[tuple[str, int, int, str]]:
    """Every (document, start, end, quote) that a row of the repository's CSVs cites."""
    return {citation for name in OFFSET_TABLES for citation in citations(name)}


PASSAGE_COLUMNS = 'id, document_id, start, "end", quote'


def test_each_cited_passage_is_stored_once_numbered_in_order(release: Path):
    assert OFFSET_TABLES, "the tables cite offsets"
    db = connect(release)
    assert [c[1] for c in db.execute("PRAGMA table_info(passages)")] == ["id", "document_id", "start", "end", "quote"]
    rows = db.execute(f"SELECT {PASSAGE_COLUMNS} FROM passages ORDER BY id").fetchall()
    # In order of document and place in it: a passage is a place in a seed, and its quote is what is there.
    assert [tuple(row[1:]) for row in rows] == sorted(cited_passages())
    assert [number for number, *_ in rows] == list(range(1, len(rows) + 1))
    assert len(rows) < sum(len(csv_rows(name)) for name in OFFSET_TABLES), "rows share passages"
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):  # one passage per place, whatever its quote
        db.execute(
            'INSERT INTO passages (id, document_id, start, "end", quote)'
            " SELECT 0, document_id, start, \"end\", 'another quote' FROM passages LIMIT 1"
        )
    for where in ("document_id = 'x'", "document_id = 'x' AND start = 1 AND \"end\" = 2"):
        plan = " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN SELECT id FROM passages WHERE {where}"))
        assert "USING COVERING INDEX" in plan or "USING INDEX" in plan, plan
    db.close()  # the failed INSERT's transaction would lock the file for the tests after this one


def test_every_citing_row_finds_its_one_passage_by_document_start_and_end(release: Path):
    db = connect(release)
    for name in OFFSET_TABLES:
        document, start, end, quote = (f'"{roles(name)[role]}"' for role in CITATION)
        unmatched = db.execute(
            f'SELECT count(*) FROM "{name}" t LEFT JOIN passages p ON p.document_id = t.{document}'
            f' AND p.start = t.{start} AND p."end" = t.{end} WHERE p.id IS NULL OR p.quote IS NOT t.{quote}'
        ).fetchone()[0]
        assert unmatched == 0, name


def test_a_quote_that_a_seed_holds_twice_is_two_passages(package_copy: Path, tmp_path: Path):
    from eurasec.contribute.fmt import format_package

    from .conftest import find_row

    # A cited quote of the Stakhovsky document that its seed holds more than once: cited again, at each
    # other place, by the entity a row of actor_citations already cites it for.
    seed = (package_copy / find_row("documents", package_copy, id=STAKHOVSKY)["path"]).read_text(encoding="utf-8")
    rows = [r for r in csv_rows("actor_citations") if r["document_id"] == STAKHOVSKY]
    row = next((r for r in rows if seed.count(r["quote"]) > 1), None)
    assert row is not None, "some cited quote must be in the seed twice for this test to mean anything"
    quote, places = row["quote"], []
    at = seed.find(row["quote"])
    while at != -1:
        places.append((at, at + len(quote)))
        at = seed.find(quote, at + 1)
    cited = {(int(r["start"]), int(r["end"])) for r in rows if r["actor_id"] == row["actor_id"]}
    added = [place for place in places if place not in cited]
    with open(package_copy / RESOURCES["actor_citations"]["path"], "a", encoding="utf-8", newline="") as f:
        for start, end in added:
            csv.writer(f, lineterminator="\n").writerow([row["actor_id"], STAKHOVSKY, start, end, quote])
    format_package(package_copy / "datapackage.json")
    folder = build_release(package_copy / "datapackage.json", tmp_path / "out").folder
    db = sqlite3.connect(folder / "eurasec.sqlite")
    stored = db.execute('SELECT start, "end" FROM passages WHERE document_id = ? AND quote = ?', (STAKHOVSKY, quote))
    assert sorted(stored) == places  # one passage per place, in order
    joined = db.execute(
        'SELECT count(*) FROM actor_citations c JOIN passages p ON (p.document_id, p.start, p."end")'
        ' = (c.document_id, c.start, c."end") WHERE c.actor_id = ? AND p.quote = ?',
        (row["actor_id"], quote),
    ).fetchone()[0]
    assert joined == len({*cited, *added} & set(places)) and joined > 1
    # Cited more than once by one document, the entity still lists that document once.
    documents = sorted({r["document_id"] for r in csv_rows("actor_citations") if r["actor_id"] == row["actor_id"]})
    listed = db.execute("SELECT documents FROM actors_with_documents WHERE id = ?", (row["actor_id"],)).fetchone()
    assert listed == ("; ".join(documents),)


def test_passages_without_offsets_are_what_rows_cite_by_document_and_quote():
    # A package whose citations have no offsets (as 1.0's): a passage is a distinct (document, quote).
    import pyarrow as pa

    from eurasec.build.sqlite import passages_table
    from eurasec.model.descriptor import load_package
    from eurasec.model.schema import passage_columns, passages_resource

    old = load_package(ROOT / "tests" / "fixtures" / "eurasec-1.0.0" / "datapackage.json").resources
    passages = passages_resource(old)
    assert passages is not None
    columns = passage_columns(passages)
    assert [f.name for f in passages.fields] == ["id", columns.document, columns.quote] and columns.start is None
    facts = [r for r in old if r.is_fact_table]
    tables = {r.name: pa.table({f.name: pa.array([], pa.string()) for f in r.fields}) for r in facts}
    first = facts[0]
    document, quote = first.role_field("document").name, first.role_field("quote").name
    tables[first.name] = pa.table(
        {f.name: pa.array([{document: "d", quote: q}.get(f.name, "v") for q in ("b", "a", "b")]) for f in first.fields}
    )
    table = passages_table(passages, facts, tables)
    assert table.to_pylist() == [
        {"id": 1, columns.document: "d", columns.quote: "a"},
        {"id": 2, columns.document: "d", columns.quote: "b"},
    ]


def test_a_word_in_the_quotes_finds_its_passages_and_the_rows_that_cite_them(release: Path):
    # "equality" is in the seed's passages, not in any name: each table's own index covers its own text
    # (names, descriptions, titles), and the quotes are indexed once each, in passages_fts.
    db = connect(release)
    word = re.compile(r"\bequality\b", re.IGNORECASE)
    expected = {passage for passage in cited_passages() if word.search(passage[3])}
    assert expected, "the word must be in some passage for this test to mean anything"
    found = db.execute(
        'SELECT p.document_id, p.start, p."end", p.quote FROM passages_fts JOIN passages p'
        " ON p.id = passages_fts.rowid WHERE passages_fts MATCH 'equality'"
    ).fetchall()
    assert sorted(found) == sorted(expected)
    # The README's recipe: the actors cited from those passages (a citation is a document, a start and an end).
    actors = db.execute(
        "SELECT DISTINCT a.id, a.name FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid"
        " JOIN actor_citations c ON (c.document_id, c.start, c.end) = (p.document_id, p.start, p.end)"
        " JOIN actors a ON a.id = c.actor_id WHERE passages_fts MATCH 'equality'"
    ).fetchall()
    rows = zip(csv_rows("actor_citations"), citations("actor_citations"), strict=True)
    cited = {row["actor_id"] for row, citation in rows if citation in expected}
    assert cited and {a for a, _ in actors} == cited
    # The word is in those actors' quotes, not in what the actors' own index covers: it finds none of them.
    named = {r["id"] for r in rows_with_word("actors", indexed_columns(db, "actors"), "equality")}
    assert cited - named
    in_index = db.execute(
        "SELECT a.id FROM actors_fts JOIN actors a ON a.rowid = actors_fts.rowid WHERE actors_fts MATCH 'equality'"
    ).fetchall()
    assert {a for (a,) in in_index} == named


def test_every_full_text_index_matches_its_table(release: Path):
    # Half the tables are written in a second file and merged in, their FTS5 indexes copied as stored:
    # FTS5's own integrity check (rank 1: against the content table) proves each one still fits its rows.
    db = connect(release)
    fts_tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE sql LIKE '%USING fts5%'")]
    assert len(fts_tables) >= 8
    for fts in fts_tables:
        db.execute(f'INSERT INTO "{fts}"("{fts}", rank) VALUES (\'integrity-check\', 1)')
        content = fts.removesuffix("_fts")
        rows = db.execute(f'SELECT count(*) FROM "{content}"').fetchone()[0]
        assert db.execute(f'SELECT count(*) FROM "{fts}_docsize"').fetchone()[0] == rows, fts
    assert not list(release.glob(".*")), "the second half's file is left behind"


def test_a_small_release_keeps_sqlites_small_pages_and_a_large_one_gets_large_ones(
    release: Path, monkeypatch: pytest.MonkeyPatch
):
    from eurasec.build import sqlite as sqlite_module
    from eurasec.build.context import ReleaseInput
    from eurasec.build.typed import typed_from_text
    from eurasec.validate import validate

    assert connect(release).execute("PRAGMA page_size").fetchone()[0] == 4096
    report = validate(DESCRIPTOR)
    tables = {
        r.name: typed_from_text(r, report.dataset.tables[r.name].columns) for r in report.dataset.package.resources
    }
    small = ReleaseInput(package=report.dataset.package, tables=tables)
    assert sqlite_module._page_size(small) == 4096
    monkeypatch.setattr(sqlite_module, "LARGE_BYTES", 1)  # as if the tables held a million rows
    assert sqlite_module._page_size(small) == 16384


def declared_views() -> list[dict]:
    """Every view the descriptor declares ("eurasec:view": an object, or a list of them), in order."""
    views = []
    for resource in RESOURCES.values():
        declared = resource.get("eurasec:view")
        views += declared if isinstance(declared, list) else [declared] if declared else []
    return views


def test_every_declared_view_is_written_and_answers(release: Path):
    db = connect(release)
    written = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY rowid")]
    assert written == [*(view["name"] for view in declared_views()), MENTION_COUNTS]
    for name in written:
        assert db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] >= 0, name


def test_views_join_ids_to_names(release: Path):
    db = connect(release)
    proposers = dict(db.execute("SELECT id, proposers FROM initiatives_with_proposers"))
    names = {r["id"]: r["name"] for r in csv_rows("actors")}
    # Each proposer once, however many rows cite the role: a relation is one row per citation.
    expected: dict[str, set[str]] = {r["id"]: set() for r in csv_rows("initiatives")}
    for r in csv_rows("initiative_actors"):
        if r["role"] == "proposer":
            expected[r["initiative_id"]].add(r["actor_id"])
    assert proposers == {
        id: "; ".join(sorted(names[actor] for actor in found)) or None for id, found in expected.items()
    }
    # What the Stakhovsky document says, which no other document's rows can take away.
    assert {"Belarus", "Russia"} <= set(proposers["charter-of-diversity-and-multipolarity"].split("; "))
    assert "Alexander Lukashenko" in proposers["de-escalation-measures-2024"].split("; ")
    for view in ("initiative_roles", "initiative_organization_roles", "affiliations_named", "aliases_named"):
        rows = db.execute(f'SELECT * FROM "{view}"').fetchall()
        assert rows and all(None not in row[:4] for row in rows), view
    assert db.execute("SELECT count(*) FROM aliases_named").fetchone()[0] == len(csv_rows("aliases"))


@pytest.mark.parametrize(
    ("view", "table", "key"),
    [
        ("actors_with_documents", "actors", "actor_citations"),
        ("organizations_with_documents", "organizations", "organization_citations"),
        ("initiatives_with_documents", "initiatives", "initiative_citations"),
    ],
)
def test_each_entity_once_with_the_documents_that_cite_it(release: Path, view: str, table: str, key: str):
    # The simple question kept simple: the actors, with the documents that cite them; one row each.
    db = connect(release)
    rows = db.execute(f'SELECT * FROM "{view}"').fetchall()
    columns = [c[0] for c in db.execute(f'SELECT * FROM "{view}" LIMIT 0').description]
    own = [f["name"] for f in RESOURCES[table]["schema"]["fields"]]
    assert set(own) <= set(columns) and columns[-1] == "documents"
    assert sorted(row[columns.index("id")] for row in rows) == sorted(r["id"] for r in csv_rows(table))
    back = next(
        fk["fields"][0] for fk in RESOURCES[key]["schema"]["foreignKeys"] if fk["reference"]["resource"] == table
    )
    document = roles(key)["document"]
    expected: dict[str, set[str]] = {r["id"]: set() for r in csv_rows(table)}
    for r in csv_rows(key):
        expected[r[back]].add(r[document])
    listed = {row[columns.index("id")]: row[-1] for row in rows}
    assert listed == {id: "; ".join(sorted(found)) or None for id, found in expected.items()}
    # The entity's own columns are the table's, unchanged.
    stored = {r[0]: r for r in db.execute(f'SELECT {", ".join(own)} FROM "{table}"')}
    assert all(tuple(row[columns.index(c)] for c in own) == stored[row[columns.index("id")]] for row in rows)


def test_the_named_citation_and_relation_views_show_both_names_and_the_citation(release: Path):
    db = connect(release)
    actors = {r["id"]: r["name"] for r in csv_rows("actors")}
    rows = db.execute(
        'SELECT actor_id, actor, other_actor_id, other_actor, relation, document_id, start, "end", quote'
        " FROM actor_relations_named"
    ).fetchall()
    expected = [
        (r["actor_id"], actors[r["actor_id"]], r["other_actor_id"], actors[r["other_actor_id"]], r["relation"], *c)
        for r, c in zip(csv_rows("actor_relations"), citations("actor_relations"), strict=True)
    ]
    assert sorted(rows) == sorted(expected)
    for table, entity in (("actor_citations", "actors"), ("organization_citations", "organizations"),
                          ("initiative_citations", "initiatives")):  # fmt: skip
        names = {r["id"]: r["name"] for r in csv_rows(entity)}
        view = f"{table}_named"
        columns = [c[0] for c in db.execute(f'SELECT * FROM "{view}" LIMIT 0').description]
        # the entity's id and name, then the citation: document, start, end and quote, in that order
        assert columns[-4:] == [roles(table)[role] for role in CITATION], view
        got = sorted(tuple(row) for row in db.execute(f'SELECT * FROM "{view}"'))
        back = columns[0]
        expected_rows = sorted(
            (r[back], names[r[back]], *c) for r, c in zip(csv_rows(table), citations(table), strict=True)
        )
        assert got == expected_rows, view


def test_metadata_table_records_version_checksums_and_library_versions(release: Path):
    import pyarrow

    meta = dict(connect(release).execute("SELECT key, value FROM eurasec_metadata"))
    assert meta["version"] == RAW["version"]
    documents = [d for d in csv_rows("documents") if d["sha256"]]  # those stored with their text
    assert documents
    for document in documents:
        assert meta[f"document:{document['id']}:sha256"] == document["sha256"]
        assert meta[f"document:{document['id']}:path"] == document["path"]
    recorded = {key.split(":")[1] for key in meta if key.startswith("document:") and key.endswith(":sha256")}
    assert recorded == {document["id"] for document in documents}
    assert meta["build:pyarrow"] == pyarrow.__version__
    assert meta["build:sqlite"] == sqlite3.sqlite_version


@pytest.mark.skipif(not shutil.which("sqlite3"), reason="the sqlite3 shell is not installed")
def test_the_plain_sqlite3_shell_opens_it(release: Path):
    out = subprocess.run(
        [
            "sqlite3",
            "-readonly",
            str(release / "eurasec.sqlite"),
            "PRAGMA integrity_check; SELECT count(*) FROM actors; "
            "SELECT count(*) FROM aliases_fts WHERE aliases_fts MATCH 'Minsk'; SELECT count(*) FROM initiative_roles;",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    minsk = sum("Minsk" in row["alias"] for row in csv_rows("aliases"))
    assert out == ["ok", str(len(csv_rows("actors"))), str(minsk), str(len(csv_rows("initiative_actors")))]


def test_duckdb_reads_the_parquet_and_its_joins_match_sqlite(release: Path):
    import duckdb

    parquet = {name: str(release / f"parquet/{name}.parquet") for name in RESOURCES}
    queries = {
        "roles": "SELECT count(*) FROM {initiative_actors} ia JOIN {actors} a ON a.id = ia.actor_id "
        "JOIN {initiatives} i ON i.id = ia.initiative_id",
        "aliased actors": "SELECT count(DISTINCT a.id) FROM {aliases} al JOIN {actors} a ON a.id = al.actor_id",
        "participations": "SELECT count(*) FROM {affiliations} f JOIN {organizations} o ON o.id = f.organization_id "
        "WHERE f.relation = 'participant'",
        "parts": "SELECT count(*) FROM {initiative_parts} p JOIN {initiatives} i ON i.id = p.part_id "
        "WHERE i.kind = 'measure'",
    }
    db = connect(release)
    duck = duckdb.connect()
    for label, query in queries.items():
        in_duck = duck.execute(query.format(**{k: f"read_parquet('{v}')" for k, v in parquet.items()})).fetchone()[0]
        in_sqlite = db.execute(query.format(**{k: f'"{k}"' for k in RESOURCES})).fetchone()[0]
        assert in_duck == in_sqlite > 0, label


def test_release_descriptor_points_at_the_release_files(release: Path):
    descriptor = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in descriptor["resources"]] == [*RESOURCES, MENTIONS]
    for resource in descriptor["resources"]:
        if resource.get("eurasec:derived"):  # the mentions: described by the build, not the package
            continue
        path = release / resource["path"]
        assert resource["path"] == f"parquet/{resource['name']}.parquet"
        assert "bytes" not in resource and "hash" not in resource  # frictionless cannot check them on Parquet
        assert resource["eurasec:bytes"] == path.stat().st_size
        assert resource["eurasec:sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert resource["schema"] == RESOURCES[resource["name"]]["schema"]
    assert descriptor["version"] == RAW["version"] and descriptor["licenses"] == RAW["licenses"]


def release_seeds(release: Path) -> dict[str, str]:
    """Each document's seed text as the release ships it (in its CSV zip), found by the release descriptor's
    roles: the documents table (role `documents`) and its seed path (role `seed-path`)."""
    import pyarrow.parquet as pq

    descriptor = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in descriptor["resources"]}
    (documents,) = [r for r in descriptor["resources"] if r.get("eurasec:role") == "documents"]
    key, path = documents["schema"]["primaryKey"][0], roles(documents["name"], resources)["seed-path"]
    table = pq.read_table(release / documents["path"], columns=[key, path]).to_pylist()
    with zipfile.ZipFile(release / f"{NAME}-csv.zip") as archive:
        return {row[key]: archive.read(f"{NAME}/{row[path]}").decode("utf-8") for row in table if row[path] is not None}


def test_every_citation_in_the_release_is_its_seeds_characters_from_start_to_end(release: Path):
    # Whatever reads the release (Parquet or SQLite) finds each quote where its offsets say, in code points.
    import pyarrow.parquet as pq

    seeds = release_seeds(release)
    assert seeds
    db = connect(release)
    found: dict[str, list[tuple]] = {}
    for name in OFFSET_TABLES:
        columns = [roles(name)[role] for role in CITATION]
        parquet = pq.read_table(release / f"parquet/{name}.parquet", columns=columns).to_pylist()
        found[f"parquet/{name}"] = [tuple(row[c] for c in columns) for row in parquet]
        selected = ", ".join(f'"{c}"' for c in columns)
        found[f"sqlite/{name}"] = db.execute(f'SELECT {selected} FROM "{name}"').fetchall()
        assert len(found[f"parquet/{name}"]) == len(found[f"sqlite/{name}"]) == len(csv_rows(name)), name
    found["sqlite/passages"] = db.execute('SELECT document_id, start, "end", quote FROM passages').fetchall()
    for where, rows in found.items():
        for document, start, end, quote in rows:
            assert isinstance(start, int) and isinstance(end, int), where
            assert seeds[document][start:end] == quote, (where, document, start, end)
    assert found["sqlite/passages"], "rows cite passages"


def test_datasette_metadata_documents_every_table_and_column(release: Path):
    meta = json.loads((release / "metadata.json").read_text(encoding="utf-8"))
    assert meta["title"] == RAW["title"] and meta["license"] == "CC-BY-4.0" and meta["source_url"]
    tables = meta["databases"]["eurasec"]["tables"]
    for name, resource in RESOURCES.items():
        assert tables[name]["description"] == resource["description"]
        # Datasette shows column descriptions as plain text: the Markdown's marks are left out
        assert tables[name]["columns"] == {
            f["name"]: markdown_plain(f["description"]) for f in resource["schema"]["fields"]
        }
    # The passages: an id, then the first citing table's own fields of the citation's roles, as described there.
    passages = tables["passages"]
    assert "passages_fts" in passages["description"]
    first = OFFSET_TABLES[0]
    described = {f["name"]: f["description"] for f in RESOURCES[first]["schema"]["fields"]}
    cited = [roles(first)[role] for role in CITATION]
    assert list(passages["columns"]) == ["id", *cited]
    assert {name: passages["columns"][name] for name in cited} == {
        name: markdown_plain(described[name]) for name in cited
    }
    assert passages["columns"]["id"]
    # Every view that a resource declares, with its description (tests/test_datasette_view.py checks the rest
    # of each view's entry); nothing else is in the metadata but the database's own table.
    declared = {view["name"]: view["description"] for view in declared_views()}
    assert {name: tables[name]["description"] for name in declared} == declared
    assert set(tables) == {*RESOURCES, "passages", *declared, MENTIONS, MENTION_COUNTS, "eurasec_metadata"}
    assert tables[MENTIONS]["description"] and tables[MENTION_COUNTS]["description"]


def test_csv_zip_holds_the_package_as_in_the_repository(release: Path):
    with zipfile.ZipFile(release / f"{NAME}-csv.zip") as archive:
        names = archive.namelist()
        assert f"{NAME}/datapackage.json" in names
        for resource in RESOURCES.values():
            assert archive.read(f"{NAME}/{resource['path']}") == (ROOT / resource["path"]).read_bytes()
        documents = [d for d in csv_rows("documents") if d["path"]]  # those stored with their text
        assert documents
        for document in documents:
            seed = archive.read(f"{NAME}/{document['path']}")
            assert hashlib.sha256(seed).hexdigest() == document["sha256"], document["id"]


def test_datasette_serves_a_table_and_its_description(release: Path):
    with serve_datasette(release) as base:
        with urllib.request.urlopen(f"{base}/eurasec/actors.json?_shape=array", timeout=10) as response:
            rows = json.load(response)
        assert {row["id"] for row in rows} == {row["id"] for row in csv_rows("actors")}
        with urllib.request.urlopen(f"{base}/-/metadata.json", timeout=10) as response:
            meta = json.load(response)
        assert meta["databases"]["eurasec"]["tables"]["actors"]["description"] == RESOURCES["actors"]["description"]
        # Datasette finds each table's full-text index and searches it.
        with urllib.request.urlopen(f"{base}/eurasec/actors.json?_search=Lukashenko&_shape=array", timeout=10) as r:
            found = sorted(row["id"] for row in json.load(r))
        with connect(release) as db:
            columns = indexed_columns(db, "actors")
        assert "alexander-lukashenko" in found
        assert found == sorted(row["id"] for row in rows_with_word("actors", columns, "Lukashenko"))
        with urllib.request.urlopen(f"{base}/eurasec/passages.json?_search=equality&_shape=array", timeout=10) as r:
            quotes = {row["quote"] for row in json.load(r)}
        assert quotes and all("equality" in quote.lower() for quote in quotes)


def test_two_builds_are_byte_identical(tmp_path: Path):
    first = build_release(DESCRIPTOR, tmp_path / "a").folder
    second = build_release(DESCRIPTOR, tmp_path / "b").folder
    assert (first / "SHA256SUMS").read_bytes() == (second / "SHA256SUMS").read_bytes()
    for path in first.rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (second / path.relative_to(first)).read_bytes(), path.name


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("failure", [RuntimeError("disk full"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_a_failure_midway_leaves_the_previous_release_intact(tmp_path: Path, monkeypatch, failure):
    out = tmp_path / "out"
    previous = snapshot(build_release(DESCRIPTOR, out).folder)

    def fail_after_writing_something(release, folder):
        (folder / "half-written.bin").write_bytes(b"\0" * 1000)
        raise failure

    exporters = list(release_module.EXPORTERS)
    exporters.insert(2, ("failing", fail_after_writing_something))  # after parquet and sqlite have been written
    monkeypatch.setattr(release_module, "EXPORTERS", exporters)
    with pytest.raises(type(failure)):
        build_release(DESCRIPTOR, out)
    assert snapshot(out / NAME) == previous
    assert sorted(p.name for p in out.iterdir()) == [NAME]  # no staged or retired folder left behind


def test_a_database_that_fails_its_foreign_key_check_fails_the_build(tmp_path: Path, monkeypatch):
    from eurasec.build.context import ExportCheckError
    from eurasec.build.sqlite import verify_sqlite

    out = tmp_path / "out"
    previous = snapshot(build_release(DESCRIPTOR, out).folder)
    orphan = tmp_path / "orphan"
    orphan.mkdir()
    shutil.copy(out / NAME / "eurasec.sqlite", orphan / "eurasec.sqlite")
    with sqlite3.connect(orphan / "eurasec.sqlite") as db:  # foreign keys off, as in the bulk load
        db.execute("UPDATE affiliations SET actor_id = 'nobody' WHERE rowid = 1")
    with pytest.raises(ExportCheckError, match="foreign-key check"):
        verify_sqlite(orphan)

    # The check runs in the build, on the staged file: a failure there leaves the previous release.
    def break_then_verify(folder: Path) -> None:
        with sqlite3.connect(folder / "eurasec.sqlite") as db:
            db.execute("UPDATE affiliations SET actor_id = 'nobody' WHERE rowid = 1")
        verify_sqlite(folder)

    monkeypatch.setitem(release_module.VERIFIERS, "sqlite", break_then_verify)
    with pytest.raises(ExportCheckError, match="foreign-key check"):
        build_release(DESCRIPTOR, out)
    assert snapshot(out / NAME) == previous
    assert sorted(p.name for p in out.iterdir()) == [NAME]
    # On the command line: what failed, that nothing changed, and whose fault it is; no traceback.
    result = invoke("build", str(DESCRIPTOR), "--out", str(out), "--quiet")
    assert result.exit_code == 2  # eurasec's own fault: only bad data exits 1
    assert "error: the build failed and nothing was changed: the database failed its foreign-key check" in result.output
    assert "fault in eurasec" in result.output
    assert snapshot(out / NAME) == previous


def test_a_file_changed_after_it_was_hashed_is_hashed_again(tmp_path: Path):
    import os

    from eurasec.build.release import _Digests, write_checksums

    (tmp_path / "a.txt").write_text("first", encoding="utf-8")
    (tmp_path / "b.txt").write_text("same size", encoding="utf-8")
    digests = _Digests()
    digests.take({"a.txt": tmp_path / "a.txt", "b.txt": tmp_path / "b.txt"})
    (tmp_path / "a.txt").write_text("changed, and longer", encoding="utf-8")
    stat = (tmp_path / "b.txt").stat()
    (tmp_path / "b.txt").write_text("sane size", encoding="utf-8")
    os.utime(tmp_path / "b.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    (tmp_path / "c.txt").write_text("never registered", encoding="utf-8")
    write_checksums(tmp_path, digests)
    listed = dict(reversed(line.split("  ")) for line in (tmp_path / "SHA256SUMS").read_text().splitlines())
    for name in ("a.txt", "b.txt", "c.txt"):
        assert listed[name] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest(), name


def test_a_full_disk_during_the_sqlite_export_is_a_message_not_a_traceback(tmp_path: Path, monkeypatch):
    out = tmp_path / "out"
    previous = snapshot(build_release(DESCRIPTOR, out).folder)

    def disk_full(release, folder):
        raise sqlite3.OperationalError("database or disk is full")

    exporters = [(name, disk_full if name == "sqlite" else export) for name, export in release_module.EXPORTERS]
    monkeypatch.setattr(release_module, "EXPORTERS", exporters)
    result = invoke("build", str(DESCRIPTOR), "--out", str(out), "--quiet")
    assert result.exit_code == 1
    assert "error: the build failed and nothing was changed: database or disk is full" in result.output
    assert snapshot(out / NAME) == previous
    assert sorted(p.name for p in out.iterdir()) == [NAME]


LUKASHENKO = line_of("data/actors.csv", id="alexander-lukashenko")


def test_invalid_data_builds_nothing(package_copy: Path, tmp_path: Path):
    edit_line("data/actors.csv", LUKASHENKO, ",person,", ",persn,")(package_copy)
    with pytest.raises(BuildError) as caught:
        build_release(package_copy / "datapackage.json", tmp_path / "out")
    assert [f.code for f in caught.value.report.errors] == ["constraint-error"]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_cli_build_shows_the_validation_report_and_exits_1(package_copy: Path, tmp_path: Path):
    edit_line("data/actors.csv", LUKASHENKO, ",person,", ",persn,")(package_copy)
    result = invoke("build", str(package_copy), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 1
    assert f"data/actors.csv:{LUKASHENKO} [kind]: error constraint-error" in result.output
    assert "nothing was built" in result.output


def test_cli_build_summarises_and_quiet_silences_progress(tmp_path: Path):
    quiet = invoke("build", str(DESCRIPTOR), "--out", str(tmp_path / "q"), "--quiet")
    assert quiet.exit_code == 0
    assert quiet.stderr == ""
    # The release's files, as release_files works them out from the data.
    files = len(release_files())
    assert quiet.stdout.startswith(
        f"built {tmp_path / 'q' / NAME}: {len(RESOURCES)} tables, {total_rows()} rows, {files} files,"
    )
    loud = invoke("build", str(DESCRIPTOR), "--out", str(tmp_path / "l"))
    assert "build: writing sqlite" in loud.stderr and "build: checksums" in loud.stderr


@pytest.mark.parametrize(
    "declared",
    [{"dialect": {"delimiter": ";"}}, {"encoding": "latin-1"}, {"path": ["t.csv", "t2.csv"]}],
    ids=["dialect", "encoding", "multipart"],
)
def test_a_valid_table_the_build_cannot_read_refuses_the_build_cleanly(tmp_path: Path, declared: dict):
    # validate hands such a table to frictionless; the build writes only what it reads itself.
    (tmp_path / "t.csv").write_text("id;n\na;1\n" if "dialect" in declared else "id,n\na,1\n", encoding="utf-8")
    (tmp_path / "t2.csv").write_text("b,2\n", encoding="utf-8")
    resource = {
        "name": "t",
        "path": "t.csv",
        "schema": {"fields": [{"name": "id", "type": "string"}, {"name": "n", "type": "integer"}]},
        **declared,
    }
    (tmp_path / "datapackage.json").write_text(
        json.dumps({"name": "t", "version": "1.0.0", "resources": [resource]}), encoding="utf-8"
    )
    result = invoke("build", str(tmp_path / "datapackage.json"), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 1
    assert "the build was refused, and nothing was changed: the table 't' is valid, but the build reads only" in (
        result.output
    )
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_exporter_waits_until_its_input_is_written_not_merely_taken(monkeypatch):
    import threading

    monkeypatch.setattr(release_module, "AFTER", {"croissant": ("release descriptor",)})

    def nothing(release, folder) -> None:
        pass

    queue = release_module._Queue([("release descriptor", nothing), ("croissant", nothing), ("zip", nothing)])
    assert queue.take()[0] == "release descriptor"  # one worker writes it
    assert queue.take()[0] == "zip"  # the other may not start the croissant yet: it takes what is ready
    taken: list[str] = []
    waiting = threading.Thread(target=lambda: taken.append(queue.take()[0]))
    waiting.start()
    waiting.join(timeout=0.3)
    assert waiting.is_alive() and taken == []  # the descriptor is taken, not written: the croissant waits
    queue.finish("release descriptor", ok=True)
    waiting.join(timeout=10)
    assert taken == ["croissant"]
    # an input that no registered exporter writes is not waited for
    alone = release_module._Queue([("croissant", nothing)])
    assert alone.take()[0] == "croissant"

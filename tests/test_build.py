"""`eurasec build`: the release that downloaders take, read back with real clients."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from eurasec.build import BuildError, build_release
from eurasec.build import release as release_module

from .conftest import DESCRIPTOR, ROOT, line_of, total_rows
from .faults import edit_line
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


def test_the_release_has_every_file_and_nothing_else(release: Path):
    files = sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())
    expected = sorted(
        ["SHA256SUMS", "datapackage.json", "eurasec.sqlite", "metadata.json", f"{NAME}-csv.zip"]
        + [f"parquet/{name}.parquet" for name in RESOURCES]
    )
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
    orphan = ("no-such-initiative", "belarus", "proposer", "stakhovsky-eurasian-approach", "x")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.execute("INSERT INTO initiative_actors VALUES (?, ?, ?, ?, ?)", orphan)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute(
            "INSERT INTO actors (id, name, kind, document_id, quote) VALUES ('x', 'X', 'planet', "
            "'stakhovsky-eurasian-approach', 'Belarus')"
        )
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        db.execute(
            "INSERT INTO actors (id, kind, document_id, quote) VALUES ('x', 'state', "
            "'stakhovsky-eurasian-approach', 'Belarus')"
        )
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("UPDATE initiatives SET year = 1800 WHERE id = 'cyber-non-aggression-act'")


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


def cited_passages() -> set[tuple[str, str]]:
    """Every (document, quote) pair that a row of the repository's CSVs cites."""
    facts = [n for n, r in RESOURCES.items() if {"document_id", "quote"} <= {f["name"] for f in r["schema"]["fields"]}]
    return {(row["document_id"], row["quote"]) for name in facts for row in csv_rows(name)}


def test_each_cited_passage_is_stored_once_numbered_in_order(release: Path):
    rows = connect(release).execute("SELECT id, document_id, quote FROM passages ORDER BY id").fetchall()
    assert [(document, quote) for _, document, quote in rows] == sorted(cited_passages())
    assert [number for number, *_ in rows] == list(range(1, len(rows) + 1))
    assert len(rows) < sum(len(csv_rows(name)) for name in RESOURCES if name != "documents"), "quotes repeat"
    db = connect(release)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.execute("INSERT INTO passages (id, document_id, quote) SELECT 0, document_id, quote FROM passages LIMIT 1")
    plan = " ".join(row[-1] for row in db.execute("EXPLAIN QUERY PLAN SELECT id FROM passages WHERE document_id = 'x'"))
    assert "USING COVERING INDEX" in plan or "USING INDEX" in plan, plan
    db.close()  # the failed INSERT's transaction would lock the file for the tests after this one


def test_a_word_in_the_quotes_finds_its_passages_and_the_rows_that_cite_them(release: Path):
    # "equality" is in the seed's passages, not in any name: each table's own index covers its own text
    # (names, descriptions, titles), and the quotes are indexed once each, in passages_fts.
    db = connect(release)
    word = re.compile(r"\bequality\b", re.IGNORECASE)
    expected = {pair for pair in cited_passages() if word.search(pair[1])}
    assert expected, "the word must be in some passage for this test to mean anything"
    found = db.execute(
        "SELECT p.document_id, p.quote FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid "
        "WHERE passages_fts MATCH 'equality'"
    ).fetchall()
    assert sorted(found) == sorted(expected)
    # The README's recipe: the actors cited from those passages.
    actors = db.execute(
        "SELECT id FROM actors WHERE (document_id, quote) IN (SELECT document_id, quote FROM passages "
        "WHERE id IN (SELECT rowid FROM passages_fts WHERE passages_fts MATCH 'equality'))"
    ).fetchall()
    cited = {r["id"] for r in csv_rows("actors") if (r["document_id"], r["quote"]) in expected}
    assert cited and {a for (a,) in actors} == cited
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


def test_views_join_ids_to_names(release: Path):
    db = connect(release)
    proposers = dict(db.execute("SELECT id, proposers FROM initiatives_with_proposers"))
    names = {r["id"]: r["name"] for r in csv_rows("actors")}
    expected = {r["id"]: [] for r in csv_rows("initiatives")}
    for r in csv_rows("initiative_actors"):
        if r["role"] == "proposer":
            expected[r["initiative_id"]].append(names[r["actor_id"]])
    assert proposers == {id: "; ".join(sorted(found)) or None for id, found in expected.items()}
    # What the Stakhovsky document says, which no other document's rows can take away.
    assert {"Belarus", "Russia"} <= set(proposers["charter-of-diversity-and-multipolarity"].split("; "))
    assert "Alexander Lukashenko" in proposers["de-escalation-measures-2024"].split("; ")
    for view in ("initiative_roles", "initiative_organization_roles", "affiliations_named", "aliases_named"):
        rows = db.execute(f'SELECT * FROM "{view}"').fetchall()
        assert rows and all(None not in row[:4] for row in rows), view
    assert db.execute("SELECT count(*) FROM aliases_named").fetchone()[0] == len(csv_rows("aliases"))


def test_metadata_table_records_version_checksums_and_library_versions(release: Path):
    import pyarrow

    meta = dict(connect(release).execute("SELECT key, value FROM eurasec_metadata"))
    assert meta["version"] == RAW["version"]
    documents = csv_rows("documents")
    assert documents
    for document in documents:
        assert meta[f"document:{document['id']}:sha256"] == document["sha256"]
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
    assert [r["name"] for r in descriptor["resources"]] == list(RESOURCES)
    for resource in descriptor["resources"]:
        path = release / resource["path"]
        assert resource["path"] == f"parquet/{resource['name']}.parquet"
        assert "bytes" not in resource and "hash" not in resource  # frictionless cannot check them on Parquet
        assert resource["eurasec:bytes"] == path.stat().st_size
        assert resource["eurasec:sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert resource["schema"] == RESOURCES[resource["name"]]["schema"]
    assert descriptor["version"] == RAW["version"] and descriptor["licenses"] == RAW["licenses"]


def test_datasette_metadata_documents_every_table_and_column(release: Path):
    meta = json.loads((release / "metadata.json").read_text(encoding="utf-8"))
    assert meta["title"] == RAW["title"] and meta["license"] == "CC-BY-4.0" and meta["source_url"]
    tables = meta["databases"]["eurasec"]["tables"]
    for name, resource in RESOURCES.items():
        assert tables[name]["description"] == resource["description"]
        assert tables[name]["columns"] == {f["name"]: f["description"] for f in resource["schema"]["fields"]}
    passages = tables["passages"]
    assert "passages_fts" in passages["description"]
    assert (
        passages["columns"]["quote"]
        == next(f for f in RESOURCES["actors"]["schema"]["fields"] if f["name"] == "quote")["description"]
    )


def test_csv_zip_holds_the_package_as_in_the_repository(release: Path):
    with zipfile.ZipFile(release / f"{NAME}-csv.zip") as archive:
        names = archive.namelist()
        assert f"{NAME}/datapackage.json" in names
        for resource in RESOURCES.values():
            assert archive.read(f"{NAME}/{resource['path']}") == (ROOT / resource["path"]).read_bytes()
        documents = csv_rows("documents")
        assert documents
        for document in documents:
            seed = archive.read(f"{NAME}/{document['path']}")
            assert hashlib.sha256(seed).hexdigest() == document["sha256"], document["id"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_datasette_serves_a_table_and_its_description(release: Path):
    port = free_port()
    exe = Path(sys.executable).with_name("datasette")
    server = subprocess.Popen(
        [
            str(exe),
            "serve",
            str(release / "eurasec.sqlite"),
            "-m",
            str(release / "metadata.json"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "datasette did not start within 30 s"
                time.sleep(0.2)
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
    finally:
        server.terminate()
        server.wait(timeout=10)


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
    assert result.exit_code == 1
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
    # The release's files: one Parquet file per table, and SHA256SUMS, the descriptor, SQLite, metadata, CSV zip.
    files = len(RESOURCES) + 5
    assert quiet.stdout.startswith(
        f"built {tmp_path / 'q' / NAME}: {len(RESOURCES)} tables, {total_rows()} rows, {files} files,"
    )
    loud = invoke("build", str(DESCRIPTOR), "--out", str(tmp_path / "l"))
    assert "build: writing sqlite" in loud.stderr and "build: checksums" in loud.stderr

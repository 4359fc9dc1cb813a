"""The mention index (model/mentions.py): its matching rules, against an independent reference; the
derived table `mentions` of the release; and validate's warning `mention-uncited`."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from eurasec.build.release import build_release
from eurasec.model.descriptor import NAME, SEED_PATH, load_package
from eurasec.model.mentions import Mention, alias_tables, entity_tables, find_mentions
from eurasec.model.schema import MENTION_COUNTS, MENTIONS, mention_entity_columns
from eurasec.validate import validate

from .conftest import DESCRIPTOR, STAKHOVSKY

PACKAGE = load_package(DESCRIPTOR)


def read_tables(root: Path) -> dict[str, pa.Table]:
    """Every table as Arrow strings, as a reader without types has them ("" for an empty cell)."""
    package = load_package(root / "datapackage.json")
    return {
        r.name: pcsv.read_csv(
            root / r.path, convert_options=pcsv.ConvertOptions(column_types={f.name: pa.string() for f in r.fields})
        )
        for r in package.resources
    }


TABLES = read_tables(DESCRIPTOR.parent)


def seeds(root: Path = DESCRIPTOR.parent) -> dict[str, str]:
    package = load_package(root / "datapackage.json")
    documents = package.documents
    assert documents is not None
    path = documents.role_field(SEED_PATH)
    assert path is not None
    rows = read_tables(root)[documents.name].to_pylist()
    return {
        row[documents.primary_key[0]]: (root / row[path.name]).read_bytes().decode("utf-8")
        for row in rows
        if row[path.name]
    }


def found(text: str, tables: dict[str, pa.Table] = TABLES) -> list[tuple[str, str, str]]:
    """(exact, entity table, id) of every mention in text, in order."""
    return [(m.exact, m.entity_table, m.entity_id) for m in find_mentions(PACKAGE, tables, {"d": text})]


# --- the rules ---------------------------------------------------------------------------------------


def test_whole_words_only():
    assert found("Russian diplomacy") == []
    assert found("Russia's view") == [("Russia", "actors", "russia")]
    assert found("the Belarus-Russia cooperation") == [("Belarus", "actors", "belarus"), ("Russia", "actors", "russia")]
    assert found("Belarus2 and _Belarus and BRICS_") == []


def test_case_is_exact_but_for_the_first_letter():
    # "Major players" is stored as a heading; mid-sentence the text writes it in lower case
    assert found("deals with major players today") == [("major players", "actors", "major-players")]
    # an alias stored in lower case opens a sentence
    assert found("Concept of Eurasian security.") == [
        ("Concept of Eurasian security", "initiatives", "eurasian-security-concept")
    ]
    assert found("Un and un and UNION STATE and union state") == []
    assert found("the UN said") == [("UN", "organizations", "united-nations")]


def test_the_article_is_not_part_of_a_mention():
    text = "The Union State and the Union State"
    mentions = find_mentions(PACKAGE, TABLES, {"d": text})
    assert [(m.start, m.end, m.entity_id) for m in mentions] == [(4, 15, "union-state"), (24, 35, "union-state")]


def test_plurals_are_not_matched():
    assert found("two Russias and several BRICSs") == []


def test_white_space_in_the_text_matches_a_space_in_the_name():
    assert found("the Union\nState and the Union\u00a0State") == [
        ("Union\nState", "organizations", "union-state"),
        ("Union\u00a0State", "organizations", "union-state"),
    ]
    assert found("the Union  State") == []  # one for one


def test_the_longest_name_wins():
    assert found("at the Minsk International Conference on Eurasian Security") == [
        (
            "Minsk International Conference on Eurasian Security",
            "initiatives",
            "minsk-international-conference-on-eurasian-security",
        )
    ]
    assert found("the UN Security Council and the UN") == [
        ("UN Security Council", "organizations", "un-security-council"),
        ("UN", "organizations", "united-nations"),
    ]
    treaty = "Belarus-Russia Treaty on Security Guarantees within the Union State"
    assert found(f"the {treaty}") == [(treaty, "initiatives", "treaty-on-security-guarantees-within-the-union-state")]
    assert found("Minsk and Moscow") == [("Minsk", "actors", "belarus"), ("Moscow", "actors", "russia")]


def test_overlapping_names_keep_the_longer_even_when_it_starts_later():
    aliases = TABLES["aliases"]
    extra = {name: [None] * 2 for name in aliases.column_names}
    extra["document_id"] = [STAKHOVSKY] * 2
    extra["alias"] = ["Alpha Beta", "Beta Gamma Delta"]
    extra["actor_id"] = ["china", "russia"]
    tables = {**TABLES, "aliases": pa.concat_tables([aliases, pa.table(extra, schema=aliases.schema)])}
    assert found("Alpha Beta Gamma Delta", tables) == [("Beta Gamma Delta", "actors", "russia")]
    assert found("Alpha Beta Gamma", tables) == [("Alpha Beta", "actors", "china")]


def test_a_shared_name_is_a_mention_of_each_entity_and_odd_names_are_found_too():
    aliases = TABLES["aliases"]
    extra = {name: [None] * 3 for name in aliases.column_names}
    extra["document_id"] = [STAKHOVSKY] * 3
    extra["alias"] = ["Eurasia", "(CSTO)", "U.S."]
    extra["organization_id"] = ["eaeu", "csto", "united-nations"]
    tables = {**TABLES, "aliases": pa.concat_tables([aliases, pa.table(extra, schema=aliases.schema)])}
    assert found("in Eurasia", tables) == [("Eurasia", "actors", "eurasia"), ("Eurasia", "organizations", "eaeu")]
    # "(CSTO)" is longer than "CSTO"; "U.S." ends with a full stop, so nothing bounds it on the right
    assert found("the treaty (CSTO) and the U.S. and the U.S.A.", tables) == [
        ("(CSTO)", "organizations", "csto"),
        ("U.S.", "organizations", "united-nations"),
        ("U.S.", "organizations", "united-nations"),
    ]
    assert found("aU.S. and CSTO", tables) == [("CSTO", "organizations", "csto")]


def test_offsets_are_code_points_and_the_context_is_32_of_them():
    text = "😀 " * 20 + "Belarus" + " 😀" * 20
    (mention,) = find_mentions(PACKAGE, TABLES, {"d": text})
    assert (mention.start, mention.end) == (40, 47)
    assert text[mention.start : mention.end] == mention.exact == "Belarus"
    assert mention.prefix == text[8:40] and mention.suffix == text[47:79]
    (first,) = find_mentions(PACKAGE, TABLES, {"d": "Belarus"})
    assert first == Mention("d", 0, 7, "Belarus", "", "", "actors", "belarus")


def test_mentions_are_sorted_by_document_and_place():
    mentions = find_mentions(PACKAGE, TABLES, {"b": "Russia and China", "a": "China, then Belarus"})
    assert [(m.document_id, m.start, m.entity_id) for m in mentions] == [
        ("a", 0, "china"),
        ("a", 12, "belarus"),
        ("b", 0, "russia"),
        ("b", 11, "china"),
    ]


def test_nothing_to_find_finds_nothing():
    assert find_mentions(PACKAGE, TABLES, {}) == []
    assert find_mentions(PACKAGE, TABLES, {"d": ""}) == []
    assert find_mentions(PACKAGE, {}, {"d": "Belarus"}) == []


# --- against a reference: one regex per name, then the longest first ----------------------------------


def names_of(tables: dict[str, pa.Table]) -> dict[tuple[str, str], set[str]]:
    names: dict[tuple[str, str], set[str]] = {}
    for resource in entity_tables(PACKAGE):
        name = resource.role_field(NAME)
        assert name is not None
        for row in tables[resource.name].to_pylist():
            names.setdefault((resource.name, row[resource.primary_key[0]]), set()).add(row[name.name])
    for table in alias_tables(PACKAGE):
        for row in tables[table.resource.name].to_pylist():
            for field, target in table.entities:
                if row[field]:
                    names.setdefault((target, row[field]), set()).add(row[table.alias])
    return names


def reference(text: str, names: dict[tuple[str, str], set[str]]) -> list[tuple[int, int, str, str]]:
    """The rules of docs/curation.md#mentions, written the slow, obvious way."""
    candidates = []
    for (table, entity), forms in names.items():
        for name in forms:
            head = f"[{re.escape(name[0].lower())}{re.escape(name[0].upper())}]"
            body = "".join(r"\s" if c == " " else re.escape(c) for c in name[1:])
            pattern = (r"(?<!\w)" if re.match(r"\w", name[0]) else "") + head + body
            pattern += r"(?!\w)" if re.match(r"\w", name[-1]) else ""
            for m in re.finditer(f"(?=({pattern}))", text):
                candidates.append((m.start(1), m.end(1), table, entity))
    spans = sorted({(s, e) for s, e, _, _ in candidates}, key=lambda c: (c[0] - c[1], c[0]))
    kept: list[tuple[int, int]] = []
    for s, e in spans:
        if all(e <= a or s >= b for a, b in kept):
            kept.append((s, e))
    return sorted({c for c in candidates if (c[0], c[1]) in kept})


def test_the_index_agrees_with_the_reference_on_the_seed_and_on_a_scrambled_text():
    names = names_of(TABLES)
    text = seeds()[STAKHOVSKY]
    words = re.findall(r"\w+|\W", text)
    scrambled = "".join(words[(i * 7919) % len(words)] for i in range(len(words)))  # a permutation
    for one in (text, scrambled, text.upper(), text.lower(), text.replace(" ", "\n")):
        mentions = find_mentions(PACKAGE, TABLES, {"d": one})
        assert [(m.start, m.end, m.entity_table, m.entity_id) for m in mentions] == reference(one, names)
        assert all(one[m.start : m.end] == m.exact for m in mentions)
    assert len(find_mentions(PACKAGE, TABLES, {"d": text})) > 80  # the seed names its entities often


# --- in the release ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return build_release(DESCRIPTOR, tmp_path_factory.mktemp("out")).folder


def test_the_release_has_the_mentions_in_sqlite_and_parquet_and_exact_is_the_seeds_text(release: Path):
    texts = seeds()
    db = sqlite3.connect(release / "eurasec.sqlite")
    columns = mention_entity_columns(PACKAGE.resources)
    selected = ", ".join(["document_id", "start", '"end"', "exact", "prefix", "suffix", *columns.values()])
    rows = db.execute(f"SELECT {selected} FROM {MENTIONS} ORDER BY id").fetchall()
    parquet = pq.read_table(release / "parquet" / f"{MENTIONS}.parquet").to_pylist()
    assert [tuple(r.values())[1:] for r in parquet] == rows
    expected = find_mentions(PACKAGE, TABLES, texts)
    assert len(rows) == len(expected) > 80
    for row, mention in zip(rows, expected, strict=True):
        document, start, end, exact, prefix, suffix, *entities = row
        assert texts[document][start:end] == exact
        assert prefix == texts[document][max(0, start - 32) : start] and suffix == texts[document][end : end + 32]
        assert [e for e in entities if e is not None] == [mention.entity_id]
        assert list(columns.values())[[e is not None for e in entities].index(True)] == columns[mention.entity_table]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_every_entity_that_a_seed_names_has_a_mention(release: Path):
    """Every (document, entity) that an alias row records has a mention in that document, unless each
    place where the seed has that alias is inside a longer name (the UN in "UN Security Council")."""
    texts = seeds()
    db = sqlite3.connect(release / "eurasec.sqlite")
    columns = mention_entity_columns(PACKAGE.resources)
    mentioned, spans = set(), []
    for table, column in columns.items():
        for document, entity, start, end in db.execute(
            f'SELECT document_id, {column}, start, "end" FROM {MENTIONS} WHERE {column} IS NOT NULL'
        ):
            mentioned.add((document, table, entity))
            spans.append((document, start, end))

    def inside_longer(document: str, name: str) -> bool:
        """Every place where the document has the name is inside a longer mention (the UN in "UN Security
        Council"): the longest name wins, so no mention of it is there."""
        places = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", texts[document])]
        return all(
            any(d == document and s <= p and p + len(name) <= e and e - s > len(name) for d, s, e in spans)
            for p in places
        )

    for table in alias_tables(PACKAGE):
        for row in TABLES[table.resource.name].to_pylist():
            for field, target in table.entities:
                if not row[field] or (row["document_id"], target, row[field]) in mentioned:
                    continue
                alias, text = row[table.alias], texts[row["document_id"]]
                assert re.search(rf"(?<!\w){re.escape(alias)}(?!\w)", text), (alias, "is nowhere in its document")
                assert inside_longer(row["document_id"], alias), (alias, target, row[field])
    # every entity that a document names, by any of its names, is mentioned there, or each of those places is
    # inside a longer name
    names = names_of(TABLES)
    for (table, entity), forms in names.items():
        for document, text in texts.items():
            named = [n for n in forms if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)]
            if named and (document, table, entity) not in mentioned:
                assert all(inside_longer(document, n) for n in named), (document, table, entity, named)


def test_the_view_counts_the_mentions_per_entity_and_document(release: Path):
    db = sqlite3.connect(release / "eurasec.sqlite")
    counted = db.execute(
        f"SELECT entity_table, entity_id, name, document_id, mentions FROM {MENTION_COUNTS}"
    ).fetchall()
    assert sum(row[4] for row in counted) == db.execute(f"SELECT count(*) FROM {MENTIONS}").fetchone()[0]
    # One row per entity and document: the Stakhovsky document's count of Belarus, whatever others say.
    by_entity = {(t, e): n for t, e, _, d, n in counted if d == STAKHOVSKY}
    assert (
        by_entity[("actors", "belarus")]
        == db.execute(
            f"SELECT count(*) FROM {MENTIONS} WHERE actor_id = 'belarus' AND document_id = ?", (STAKHOVSKY,)
        ).fetchone()[0]
        > 5
    )
    assert ("actors", "belarus", "Belarus") in {row[:3] for row in counted}
    assert counted == sorted(counted, key=lambda r: (r[0], r[1], r[3]))


def test_the_release_descriptor_and_datasette_describe_the_mentions(release: Path):
    descriptor = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    (mentions,) = [r for r in descriptor["resources"] if r["name"] == MENTIONS]
    assert mentions["path"] == f"parquet/{MENTIONS}.parquet"
    assert mentions["eurasec:derived"] is True
    fields = [f["name"] for f in mentions["schema"]["fields"]]
    assert fields[:7] == ["id", "document_id", "start", "end", "exact", "prefix", "suffix"]
    assert fields[7:] == list(mention_entity_columns(PACKAGE.resources).values())
    assert {fk["reference"]["resource"] for fk in mentions["schema"]["foreignKeys"]} == {
        "documents",
        "actors",
        "organizations",
        "initiatives",
    }
    metadata = json.loads((release / "metadata.json").read_text(encoding="utf-8"))
    tables = metadata["databases"]["eurasec"]["tables"]
    assert set(tables[MENTIONS]["columns"]) == set(fields)
    assert "mentions" in tables[MENTION_COUNTS]["description"]


def test_the_mentions_are_the_same_in_two_builds(release: Path, tmp_path: Path):
    again = build_release(DESCRIPTOR, tmp_path).folder
    name = f"parquet/{MENTIONS}.parquet"
    assert (again / name).read_bytes() == (release / name).read_bytes()


# --- validate's warning --------------------------------------------------------------------------------


def test_our_data_has_no_uncited_mention():
    report = validate(DESCRIPTOR)
    assert [f for f in report.findings if f.code == "mention-uncited"] == []


SECOND = (
    "A second look at Eurasian security\n\n"
    "The Republic of Belarus and the Russian Federation met at the Minsk International Conference on Eurasian"
    " Security.\nThe UN Security Council was named, and so was Belarus again.\n"
)


def add_second(package: Path, text: str = SECOND) -> None:
    from eurasec.contribute.add_document import DEFAULT_LICENSE_NOTE, add_document

    source = package.parent / "second.txt"
    source.write_text(text, encoding="utf-8")
    options = {
        "id": "second",
        "title": "A second look",
        "author": "A",
        "publisher": "P",
        "url": "https://example.org/s",
    }
    add_document(
        package / "datapackage.json", source, {**options, "language": "en", "license_note": DEFAULT_LICENSE_NOTE}
    )


def test_a_new_document_that_names_entities_is_told_what_it_lacks(package_copy: Path):
    from .conftest import located_rows

    add_second(package_copy)
    report = validate(package_copy / "datapackage.json")
    assert report.valid
    warnings = [f for f in report.findings if f.code == "mention-uncited"]
    assert {(f.file, f.field) for f in warnings} == {
        ("data/actors.csv", "id"),
        ("data/initiatives.csv", "id"),
        ("data/organizations.csv", "id"),
    }
    by_id = {}
    for f in warnings:
        (entity,) = [row["id"] for line, row in located_rows(f.file, package_copy) if line == f.line]
        by_id[entity] = f
    assert set(by_id) == {
        "belarus",
        "russia",
        "minsk-international-conference-on-eurasian-security",
        "un-security-council",
    }
    belarus = by_id["belarus"]
    start = SECOND.index("Republic of Belarus")
    assert f"the document 'second' names 'belarus' (actors) at {start}–{start + 19}" in belarus.message
    assert "[Republic of Belarus]" in belarus.message and "and in 1 more place" in belarus.message
    assert "eurasec quote second 'Republic of Belarus'" in belarus.hint
    assert belarus.severity.value == "warning" and belarus.column == 1


def test_a_citation_from_the_document_silences_the_warning(package_copy: Path):
    add_second(package_copy)
    start = SECOND.index("Russian Federation")
    with open(package_copy / "data" / "actor_citations.csv", "a", encoding="utf-8", newline="") as out:
        out.write(f"russia,second,{start},{start + 18},Russian Federation\n")
    report = validate(package_copy / "datapackage.json")
    warned = {f.message.split("names ")[1].split(" ")[0] for f in report.findings if f.code == "mention-uncited"}
    assert "'russia'" not in warned and "'belarus'" in warned


def test_the_build_takes_validates_mention_index_only_where_it_would_make_the_same_one():
    import dataclasses

    from eurasec.build.context import ReleaseInput
    from eurasec.build.mentions import release_mentions
    from eurasec.build.typed import typed_from_text

    report = validate(DESCRIPTOR)
    assert report.valid and report.mentions is not None
    package = report.dataset.package
    tables = {r.name: typed_from_text(r, report.dataset.tables[r.name].columns) for r in package.resources}
    fresh = release_mentions(ReleaseInput(package=package, tables=tables)).mentions
    reused = release_mentions(ReleaseInput(package=package, tables=tables, found_mentions=report.mentions)).mentions
    assert reused is report.mentions  # taken, not made again
    assert reused.to_list() == fresh.to_list()
    # a seed that is not the one validate read: made again
    changed = dataclasses.replace(report.mentions, texts=[text + " " for text in report.mentions.texts])
    again = release_mentions(ReleaseInput(package=package, tables=tables, found_mentions=changed)).mentions
    assert again is not changed and again.to_list() == fresh.to_list()
    # an entity key typed as a number: its typed values may not be its text ("007" is 7), so made again
    entity = entity_tables(package)[0]
    key = entity.field(entity.primary_key[0])
    retyped = dataclasses.replace(
        entity, fields=tuple(dataclasses.replace(f, type="integer") if f is key else f for f in entity.fields)
    )
    numbered = dataclasses.replace(package, resources=tuple(retyped if r is entity else r for r in package.resources))
    made = release_mentions(ReleaseInput(package=numbered, tables=tables, found_mentions=report.mentions)).mentions
    assert made is not report.mentions


def test_the_index_hashes_plain_strings_and_their_text_is_the_same_as_large_ones():
    """The hash passes take 32-bit offsets (twice as fast as 64-bit); the strings are the same either way."""
    import numpy as np
    import pyarrow as pa

    from eurasec.model.mentions import _Encoded, _strings
    from eurasec.model.utf8 import code_points

    cps = code_points("Minsk — the Union State, ОДКБ 🙂 UN")
    starts, ends = np.array([0, 8, 25, 32]), np.array([5, 24, 29, 34])
    large = _Encoded(cps).slices(starts, ends)
    plain = _Encoded(cps).slices(starts, ends, large=False)
    assert large.type == pa.large_string() and plain.type == pa.string()
    assert plain.to_pylist() == large.to_pylist() == ["Minsk", "the Union State,", "ОДКБ", "UN"]
    assert _strings(cps, starts, ends, large=False).to_pylist() == large.to_pylist()

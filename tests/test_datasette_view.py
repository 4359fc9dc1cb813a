"""Datasette with the release's metadata.json (build/metadata.py): every table and view has a title and a
description, rendered from its Markdown; every column of a view is described by the field it comes from;
facets are on the fields with fixed lists of values; foreign keys show names; a compound key's "Link" column
stays narrow. Checked in the JSON, and in a real browser: headless Chromium (Debian's; see
tests/test_reading_view.py) loads the database page, a table, a view and a full-text search from `datasette
serve` on 127.0.0.1, and the descriptions and facets must be in the DOM it renders.

Set EURASEC_SHOTS to a folder to keep a screenshot of each page there.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import sqlite3
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from eurasec.build import build_release
from eurasec.build.prose import markdown_html, markdown_plain

from .conftest import DESCRIPTOR, csv_rows, resources
from .servers import datasette as serve_datasette
from .test_reading_view import FLAGS, DevTools, chromium, dump_dom

__all__ = ["chromium"]  # the fixture, shared with the reading view's browser tests

DATABASE = "eurasec"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_release(DESCRIPTOR, tmp_path_factory.mktemp("out")).folder


def metadata(release: Path) -> dict:
    return json.loads((release / "metadata.json").read_text(encoding="utf-8"))


def database_objects(release: Path) -> tuple[list[str], list[str]]:
    """The database's tables (without full-text indexes and their shadow tables, which Datasette hides) and views."""
    db = sqlite3.connect(f"{(release / 'eurasec.sqlite').as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view')").fetchall()
    finally:
        db.close()
    fts = {name for kind, name, sql in rows if kind == "table" and "VIRTUAL TABLE" in (sql or "").upper()}
    shadow = {name for kind, name, _ in rows for index in fts if name.startswith(f"{index}_")}
    tables = [name for kind, name, _ in rows if kind == "table" and name not in fts | shadow]
    return tables, [name for kind, name, _ in rows if kind == "view"]


def view_columns(release: Path, view: str) -> list[str]:
    db = sqlite3.connect(f"{(release / 'eurasec.sqlite').as_uri()}?mode=ro", uri=True)
    try:
        return [row[1] for row in db.execute(f'PRAGMA table_info("{view}")')]
    finally:
        db.close()


# --- the metadata ----------------------------------------------------------------------------------------


def test_every_table_and_view_has_a_title_and_a_rendered_description(release: Path):
    meta = metadata(release)
    database = meta["databases"][DATABASE]
    assert database["title"] and database["description"] and database["description_html"]
    tables, views = database_objects(release)
    entries = database["tables"]
    assert set(tables) | set(views) == set(entries)
    for name in [*tables, *views]:
        entry = entries[name]
        assert entry["title"] and entry["description"], name
        assert entry["description_html"] == markdown_html(entry["description"]), name
    for name, resource in resources().items():
        assert entries[name]["title"] == resource["title"]
        assert "`" not in entries[name]["description_html"]  # backticks are <code> now


def test_every_column_of_every_view_is_described_by_the_field_it_comes_from(release: Path):
    meta = metadata(release)["databases"][DATABASE]["tables"]
    _, views = database_objects(release)
    described = {n: {f["name"]: f for f in r["schema"]["fields"]} for n, r in resources().items()}
    declaring = {}
    for name, resource in resources().items():
        declared = resource.get("eurasec:view")
        for view in declared if isinstance(declared, list) else [declared] if declared else []:
            declaring[view["name"]] = name
    assert views
    for view in views:
        columns = view_columns(release, view)
        assert list(meta[view]["columns"]) == columns, view
        assert all(meta[view]["columns"].values()), view
        own = described.get(declaring.get(view, ""), {})
        for column in columns:
            if column in own:  # the table's own field: its description
                assert meta[view]["columns"][column] == markdown_plain(own[column]["description"]), (view, column)


def test_facets_are_the_fields_with_fixed_values_and_labels_name_the_rows_keys_point_at(release: Path):
    meta = metadata(release)["databases"][DATABASE]["tables"]
    for name, resource in resources().items():
        fields = resource["schema"]["fields"]
        enums = [f["name"] for f in fields if "enum" in f.get("constraints", {})]
        assert meta[name].get("facets", []) == enums, name
        roles = {f.get("eurasec:role"): f["name"] for f in fields}
        if len(resource["schema"]["primaryKey"]) == 1 and ("name" in roles or "title" in roles):
            assert meta[name]["label_column"] == roles.get("name", roles.get("title"))
        else:
            assert "label_column" not in meta[name]
    # the kind, role, status and relation columns, wherever they are
    faceted = {column for entry in meta.values() for column in entry.get("facets", [])}
    assert {"kind", "role", "status", "relation"} <= faceted
    # every foreign key into a table points at a table with a label column
    for resource in resources().values():
        for fk in resource["schema"].get("foreignKeys", []):
            target = fk["reference"]["resource"] or resource["name"]
            assert meta[target].get("label_column"), (resource["name"], target)


def test_the_style_for_compound_keys_is_inline_and_fetches_nothing(release: Path):
    urls = metadata(release)["extra_css_urls"]
    assert urls and all(url.startswith("data:text/css,") for url in urls)


def test_markdown_renders_to_safe_html():
    assert markdown_html("In `documents`, see *this* and **that**.") == (
        "<p>In <code>documents</code>, see <em>this</em> and <strong>that</strong>.</p>"
    )
    assert markdown_html("[curation](docs/curation.md#mentions) and [web](https://example.org/a?b=1&c=2)") == (
        '<p><a href="docs/curation.md#mentions">curation</a> and <a href="https://example.org/a?b=1&amp;c=2">web</a></p>'
    )
    hostile = markdown_html('<script>alert(1)</script> [x](javascript:alert(1)) `<b>` "q" a * b * c')
    assert "<script>" not in hostile and "href" not in hostile and "<b>" not in hostile
    assert "&lt;script&gt;" in hostile and "<code>&lt;b&gt;</code>" in hostile
    assert markdown_html("one\ntwo\n\nthree") == "<p>one two</p><p>three</p>"
    assert markdown_plain("In `documents`, [see](x.md) *this*.") == "In documents, see this."


# --- in a browser ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def datasette(release: Path) -> Iterator[str]:
    with serve_datasette(release) as base:
        yield base


def visible_text(dom: str) -> str:
    """The page's text, tags dropped and entities read, with whitespace folded."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def screenshot(chromium: str, url: str, tmp_path: Path, name: str) -> None:
    shot = tmp_path / f"{name}.png"
    subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={tmp_path / 'shot-profile'}", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("EURASEC_SHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy2(shot, Path(keep) / shot.name)


def test_the_database_page_lists_every_table_and_view_with_its_title_and_description(
    chromium: str, datasette: str, release: Path, tmp_path: Path
):
    url = f"{datasette}/{DATABASE}"
    dom = dump_dom(chromium, url, tmp_path / "profile")
    text = visible_text(dom)
    entries = metadata(release)["databases"][DATABASE]["tables"]
    for name, entry in entries.items():
        assert entry["title"] in text, name
        assert visible_text(entry["description_html"]) in text, name
        assert f'href="{DATABASE}/{name}"' in dom, name
    assert "<code>" in dom and "`" not in visible_text(markdown_html(resources()["actors"]["description"]))
    screenshot(chromium, url, tmp_path, "database")


def test_a_table_page_has_its_description_column_descriptions_facets_and_names(
    chromium: str, datasette: str, release: Path, tmp_path: Path
):
    table = "initiative_actors"
    resource = resources()[table]
    url = f"{datasette}/{DATABASE}/{table}"
    dom = dump_dom(chromium, url, tmp_path / "profile")
    text = visible_text(dom)
    assert resource["title"] in text and visible_text(markdown_html(resource["description"])) in text
    for field in resource["schema"]["fields"]:
        assert markdown_plain(field["description"]) in text, field["name"]
    enums = [f for f in resource["schema"]["fields"] if "enum" in f.get("constraints", {})]
    assert enums
    for field in enums:  # a facet block per such column, with the values the table has
        assert f'data-column="{field["name"]}"' in dom and 'class="facet-info' in dom
        used = {row[field["name"]] for row in csv_rows(table)}
        for value in used:
            assert f">{value}</a>" in dom, value
    # the foreign keys show the names of what they point at (label columns)
    actor = csv_rows(table)[0]["actor_id"]
    name = next(row["name"] for row in csv_rows("actors") if row["id"] == actor)
    assert html.escape(name, quote=False) in dom
    screenshot(chromium, url, tmp_path, "table")


def test_the_link_column_of_a_compound_key_stays_narrow(chromium: str, datasette: str, tmp_path: Path):
    compound = [n for n, r in resources().items() if len(r["schema"]["primaryKey"]) > 1]
    assert compound
    browser = DevTools(chromium, tmp_path / "profile")
    try:
        for table in compound:
            browser.open(f"{datasette}/{DATABASE}/{table}")
            sizes = browser.evaluate(
                "(function () { var c = document.querySelector('td.type-pk.col-Link');"
                " return c ? [c.getBoundingClientRect().width, document.documentElement.clientWidth] : null; })()"
            )
            if sizes is None:
                continue  # an empty table has no rows to link
            width, page = sizes
            assert width < page / 6, (table, width, page)
    finally:
        browser.close()


def test_a_view_page_has_its_title_description_column_descriptions_and_facets(
    chromium: str, datasette: str, release: Path, tmp_path: Path
):
    entries = metadata(release)["databases"][DATABASE]["tables"]
    _, views = database_objects(release)
    view = next(v for v in views if entries[v].get("facets"))
    url = f"{datasette}/{DATABASE}/{view}"
    dom = dump_dom(chromium, url, tmp_path / "profile")
    text = visible_text(dom)
    assert entries[view]["title"] in text and visible_text(entries[view]["description_html"]) in text
    for column, description in entries[view]["columns"].items():
        assert description in text, column
    for facet in entries[view]["facets"]:
        assert f'data-column="{facet}"' in dom, facet
    screenshot(chromium, url, tmp_path, "view")


def test_full_text_search_finds_a_name_in_the_browser(chromium: str, datasette: str, tmp_path: Path):
    row = csv_rows("actors")[0]
    word = max(re.findall(r"\w+", row["name"]), key=len)
    url = f"{datasette}/{DATABASE}/actors?_search={urllib.parse.quote(word)}"
    dom = dump_dom(chromium, url, tmp_path / "profile")
    text = visible_text(dom)
    assert f'where search matches "{word}"' in text
    assert row["id"] in text and visible_text(markdown_html(resources()["actors"]["description"])) in text
    screenshot(chromium, url, tmp_path, "search")

"""The reading view (build/reading.py): a page per stored document with every cited passage and every
mention highlighted at its offsets, and an index of the entities; read back as HTML here and in a real
browser, headless Chromium, both as the DOM it dumps and driven over the DevTools protocol (a click).

Chromium is Debian's `chromium` (.ci/run installs it). Where it is missing the browser tests fail
under CI (CI=true) and are skipped elsewhere.
"""

from __future__ import annotations

import base64
import csv
import fcntl
import hashlib
import html
import itertools
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from eurasec.build.context import ReleaseInput
from eurasec.build.reading import CSS, SCRIPT, _Group, _groups, _nest, _walk, export_reading_view, highlighted
from eurasec.build.typed import typed_from_text
from eurasec.model.mentions import find_mentions
from eurasec.read.dataset import load_dataset
from eurasec.validate import validate

from .conftest import DESCRIPTOR, ROOT, STAKHOVSKY, resources

CITATION = ("document", "start", "end", "quote")
HOSTILE_NAME = "<script>alert(\"name\")</script> & 'Co'"
HOSTILE_TITLE = 'The Eurasian Approach </title><script>alert("title")</script> & <b>co</b>'
HOSTILE_TAIL = ' said "</textarea><img src=x onerror=alert(1)>"\r\n<!-- not a comment --> ]]>'
# every character an escape must mind: quotes, markup, line breaks and separators, controls, beyond ASCII
HOSTILE_VALUES = [
    "",
    "plain",
    "say \"hi\" & 'bye' <b>bold</b> </script><!-- -->",
    "line\nbreak\r\nand\ttab\\ back\\slash",
    "separators \u2028 and \u2029, no-break\u00a0space, \u0085",
    "control " + "".join(chr(c) for c in range(32)) + "\x7f",
    "é ü ß Минск 北京 🛡️ 𝄞",
]
HOSTILE_FIELD = 'a "description" <i>&amp;</i>\n\u2028 é 𝄞 \x01\x1f\t\\ end'


# --- building the view ----------------------------------------------------------------------------------


def release_input(descriptor: Path, validated: bool = True) -> ReleaseInput:
    """What the build hands its exporters: the package and its typed tables (validated, unless told not to)."""
    dataset = validate(descriptor).dataset if validated else load_dataset(descriptor)
    tables = {r.name: typed_from_text(r, dataset.tables[r.name].columns) for r in dataset.package.resources}
    return ReleaseInput(package=dataset.package, tables=tables)


def export(release: ReleaseInput, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    export_reading_view(release, folder)
    return folder / "read"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReleaseInput, Path]:
    release = release_input(DESCRIPTOR)
    return release, export(release, tmp_path_factory.mktemp("reading"))


def roles(resource: dict) -> dict[str, str]:
    return {f["eurasec:role"]: f["name"] for f in resource["schema"]["fields"] if "eurasec:role" in f}


def read_csv(root: Path, resource: dict) -> list[dict[str, str]]:
    with open(root / resource["path"], encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(root: Path, resource: dict, rows: list[dict[str, str]]) -> None:
    with open(root / resource["path"], "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[x["name"] for x in resource["schema"]["fields"]], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def seeds(root: Path = ROOT) -> dict[str, str]:
    """Document id -> its stored text, read here as the seeds check reads them (UTF-8, bytes as they are)."""
    documents = next(r for r in resources(root).values() if r.get("eurasec:role") == "documents")
    path = roles(documents)["seed-path"]
    return {
        row["id"]: (root / row[path]).read_bytes().decode("utf-8") for row in read_csv(root, documents) if row[path]
    }


def citations(root: Path = ROOT) -> dict[str, Counter]:
    """Document id -> (table, start, end, quote) of every row of every table that cites a passage, counted."""
    found: dict[str, Counter] = defaultdict(Counter)
    for name, resource in resources(root).items():
        role = roles(resource)
        if set(CITATION) <= set(role):
            for row in read_csv(root, resource):
                found[row[role["document"]]][
                    (name, int(row[role["start"]]), int(row[role["end"]]), row[role["quote"]])
                ] += 1
    return found


# --- reading a page back ------------------------------------------------------------------------------


class Page(HTMLParser):
    """A page's highlights as the HTML (or a dumped DOM) has them: each group's text, pieces and facts."""

    VOID = frozenset({"meta", "br", "img", "input", "link", "hr", "area", "base", "col", "embed", "source", "wbr"})

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []  # data-g of the marks open here
        self.elements: list[str] = []  # every open element, to check that the marks nest
        self.text: dict[str, str] = defaultdict(str)
        self.pieces: Counter = Counter()
        self.facts: dict[str, list[int]] = {}
        self.classes: dict[str, str] = {}
        self.anchors: dict[str, str] = {}  # anchor id -> data-g of the mark it starts
        self.tags: Counter = Counter()
        self.attributes: list[tuple[str, str, str]] = []
        self.title = ""
        self.scripts: list[str] = []
        self.panel: dict[str, str] = {}
        self.panel_text = ""
        self.body_text = ""  # the document's text, as div#text holds it
        self._in: list[str] = []
        self.feed(markup)
        self.close()
        assert not self.open and not self.elements, f"unclosed elements: {self.elements}"
        blob = [s for s in self.scripts if s.lstrip().startswith("{")]
        self.data: dict[str, Any] = json.loads(blob[0]) if blob else {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags[tag] += 1
        self.attributes.extend((tag, k, v) for k, v in a.items())
        if tag not in self.VOID:
            self.elements.append(tag)
        if tag == "mark":
            g = a["data-g"]
            self.open.append(g)
            self.pieces[g] += 1
            self.facts[g] = [int(i) for i in a["data-f"].split()]
            self.classes[g] = a["class"]
        elif tag == "span" and a.get("class") == "a":
            assert self.open, f"the anchor {a['id']} is outside every mark"
            assert a["id"] not in self.anchors, f"two anchors {a['id']}"
            self.anchors[a["id"]] = self.open[-1]
        elif tag == "aside" and a.get("id") == "panel":
            self.panel = a
        if tag == "div" and a.get("id") == "text":
            self._in.append("text")
        elif tag == "div" and "text" in self._in:
            raise AssertionError("a div inside the text")
        if tag in ("title", "script", "aside"):
            self._in.append(tag)
            if tag == "script":
                self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        assert self.elements and self.elements[-1] == tag, f"</{tag}> closes <{self.elements[-1:]}>"
        self.elements.pop()
        if tag == "mark":
            self.open.pop()
        if tag in ("title", "script", "aside"):
            self._in.remove(tag)
        if tag == "div" and "text" in self._in:
            self._in.remove("text")

    def handle_data(self, data: str) -> None:
        for g in self.open:
            self.text[g] += data
        if "title" in self._in:
            self.title += data
        if "script" in self._in:
            self.scripts[-1] += data
        if "aside" in self._in:
            self.panel_text += data
        if "text" in self._in:
            self.body_text += data


def check_highlights(page: Page, text: str) -> None:
    """Every fact of the page's blob is highlighted: the marks that carry it hold exactly its passage."""
    assert page.body_text == text, "the page shows the text as stored"
    facts = page.data["facts"]
    carried: dict[int, list[str]] = defaultdict(list)
    for g, indexes in page.facts.items():
        for i in indexes:
            carried[i].append(g)
    assert sorted(carried) == list(range(len(facts)))
    for i, fact in enumerate(facts):
        (g,) = carried[i]  # one highlight per fact (facts at the same offsets share it)
        assert page.text[g] == text[fact["start"] : fact["end"]] == fact["quote"], fact["id"]
        assert page.anchors[fact["id"]] == g, fact["id"]
        if fact["kind"] == "mention":
            assert page.pieces[g] == 1, f"the mention {fact['id']} is split"


def markup_of(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # not read_text: its universal newlines would fold a carriage return


# --- the view, read as HTML -----------------------------------------------------------------------------


def pages(read: Path) -> list[Path]:
    """Every page of the view: the documents', the index and the pages of entities (read/entities/)."""
    return sorted(read.rglob("*.html"))


def entity_tables() -> list[str]:
    return [
        name for name, r in resources().items() if any(f.get("eurasec:role") == "name" for f in r["schema"]["fields"])
    ]


def test_a_page_for_every_document_with_text_an_index_and_pages_of_entities(real: tuple[ReleaseInput, Path]):
    release, read = real
    # The real package is small: a page of entities per entity table holds every entity of it.
    entities = {f"entities/{name}-1.html" for name in entity_tables()}
    expected = {f"{document}.html" for document in seeds()} | {"index.html"} | entities
    assert {p.relative_to(read).as_posix() for p in pages(read)} == expected
    assert {p.relative_to(read).as_posix() for p in read.rglob("*") if p.is_file()} == expected
    assert set(release.written) == {f"read/{name}" for name in expected}
    assert all(release.written[f"read/{name}"] == read / name for name in expected)


def test_every_citation_and_mention_is_highlighted_with_its_exact_text(real: tuple[ReleaseInput, Path]):
    release, read = real
    texts = seeds()
    cited = citations()
    mentions = find_mentions(release.package, release.tables, texts)
    for document, text in texts.items():
        page = Page(markup_of(read / f"{document}.html"))
        check_highlights(page, text)
        facts = page.data["facts"]
        on_page = Counter(
            (f["id"].split("-")[1], f["start"], f["end"], f["quote"]) for f in facts if f["kind"] == "citation"
        )
        assert on_page == cited[document]
        assert sorted((f["start"], f["end"]) for f in facts if f["kind"] == "mention") == sorted(
            (m.start, m.end) for m in mentions if m.document_id == document
        )
        assert sum(f["kind"] == "mention" for f in facts) > 0
    assert cited[STAKHOVSKY], "the real document cites passages"


def test_a_citation_shows_its_row_and_its_entities(real: tuple[ReleaseInput, Path]):
    _, read = real
    page = Page(markup_of(read / f"{STAKHOVSKY}.html"))
    facts = {f["id"]: f for f in page.data["facts"]}
    rows = read_csv(ROOT, resources()["actor_relations"])
    # Anchors number a table's rows in file order; the row shown is one of this page's document.
    number = next(
        i for i, r in enumerate(rows, 1) if r["relation"] == "head-of-state" and r["document_id"] == STAKHOVSKY
    )
    fact = facts[f"cite-actor_relations-{number}"]
    names = {e["anchor"]: e["name"] for e in page.data["entities"]}
    fields = {
        label: (value, None if e is None else page.data["entities"][e]["name"]) for label, value, e in fact["fields"]
    }
    assert fields["Actor"] == (rows[number - 1]["actor_id"], names[f"actors/{rows[number - 1]['actor_id']}"])
    assert fields["Relation"] == ("head-of-state", None)
    assert fact["quote"] == rows[number - 1]["quote"]


def reached(read: Path) -> tuple[set[str], list[tuple[str, str]], str]:
    """From the index, through its pages of entities: the entities listed, the (page, anchor) links to
    passages, and the markup of the pages of entities."""
    index = markup_of(read / "index.html")
    listed = re.findall(r'<a href="(entities/[^"#]+\.html)">', index)
    assert listed and not re.findall(r'<div class="entity"', index)
    markup = "".join(markup_of(read / page) for page in dict.fromkeys(listed))
    ids = set(re.findall(r'<div class="entity" id="([^"]+)"', markup))
    links = [
        (page, html.unescape(anchor)) for page, anchor in re.findall(r'href="\.\./([^"#/]+\.html)#([^"]+)"', markup)
    ]
    return ids, links, markup


def test_the_index_reaches_every_entity_with_links_to_its_passages(real: tuple[ReleaseInput, Path]):
    release, read = real
    ids, links, markup = reached(read)
    for name in ("actors", "organizations", "initiatives"):
        assert {f"{name}/{row['id']}" for row in read_csv(ROOT, resources()[name])} <= ids
    anchors = {page.name: Page(markup_of(page)).anchors for page in read.glob("*.html") if page.name != "index.html"}
    assert links
    for page, anchor in links:
        assert anchor in anchors[page], f"{page}#{anchor}"
    # every citation of an entity is listed, linked to its passage (the caps never bite here)
    cited = {anchor for _, anchor in links if anchor.startswith("cite-")}
    for name, resource in resources().items():
        role = roles(resource)
        if set(CITATION) <= set(role) and any(fk["reference"]["resource"] in entity_tables()
                                               for fk in resource["schema"].get("foreignKeys", [])):  # fmt: skip
            for number, row in enumerate(read_csv(ROOT, resource), 1):
                if row[role["document"]] in seeds():
                    assert f"cite-{name}-{number}" in cited, (name, number)
    assert "more in" not in markup
    assert release.written


def test_crossing_nested_and_equal_ranges_nest_or_split():
    text = "0123456789abcdefghij"
    spans = [
        (0, 10, "q"),  # holds the next two
        (2, 5, "m"),
        (6, 14, "q"),  # crosses the first passage
        (8, 12, "m"),  # crosses the end of the first passage, inside the second
        (13, 17, "m"),  # crosses the end of the second passage
        (15, 20, "q"),  # begins inside that mention
        (15, 20, "q"),  # the same passage, cited twice: one highlight
    ]
    facts = [
        SimpleNamespace(id=f"f{i}", start=start, end=end, kind="citation" if layer == "q" else "mention", entities=[])
        for i, (start, end, layer) in enumerate(spans)
    ]
    groups = _groups(facts)  # type: ignore[arg-type]
    assert len(groups) == 6
    page = Page(f'<div id="text">{highlighted(text, groups)}</div>')
    for g in groups:
        assert page.text[str(g.index)] == text[g.start : g.end], g
        if g.layer == "m":
            assert page.pieces[str(g.index)] == 1, g
    assert page.anchors == {f"f{i}": str(g.index) for g in groups for i in g.facts}
    assert max(page.pieces.values()) > 1, "crossing passages are split"


def test_brackets_laid_out_at_once_are_the_marks_of_the_walk():
    # _nest lays out the runs of ranges that do not cross at once and walks only the others (_walk): the same
    # codes as walking every range, for nested, equal, touching and crossing ranges, mentions and passages
    import random

    rng = random.Random(7)
    crossed = 0
    for _ in range(3000):
        length = rng.randint(1, 40)
        mentions, at = [], 0
        while at < length and rng.random() < 0.7:  # mentions never overlap one another
            a = rng.randint(at, length - 1)
            b = rng.randint(a + 1, min(length, a + 6))
            mentions.append((a, b))
            at = b
        passages = {
            (a, rng.randint(a + 1, length)) for a in (rng.randint(0, length - 1) for _ in range(rng.randint(0, 6)))
        }
        ranges = [(a, b, False) for a, b in sorted(passages)] + [(a, b, True) for a, b in mentions]
        rng.shuffle(ranges)
        starts, ends, mention = ([r[i] for r in ranges] for i in range(3))
        points, codes = _nest(length, starts, ends, mention)
        n = len(ranges)
        where, walked, _ = _walk(starts, ends, mention, list(range(n)), n)
        cuts = sorted({0, length, *starts, *ends})
        expected = sorted(
            [(cuts.index(w), 0, k, c) for k, (w, c) in enumerate(zip(where, walked, strict=True))]
            + [(i, 1, 0, 2 * n + 1 + i) for i in range(len(cuts) - 1)]
        )
        assert points == cuts
        assert codes == [c for *_, c in expected], ranges
        crossed += any(n <= c < 2 * n for c in codes)
    assert crossed > 100, "some ranges cross"


def test_a_carriage_return_is_written_as_a_reference():
    # An HTML parser folds CR LF into LF; a character reference keeps the CR (the browser test reads it back).
    markup = highlighted("a\r\nb", [_Group(0, 0, 4, "q", [0], ["x"])])
    assert "\r" not in markup and "a&#13;\nb" in markup


def test_two_exports_are_byte_identical(real: tuple[ReleaseInput, Path], tmp_path: Path):
    _, read = real
    again = export(release_input(DESCRIPTOR), tmp_path)
    names = [p.relative_to(read) for p in pages(read)]
    assert names == [p.relative_to(again) for p in pages(again)]
    for name in names:
        assert (read / name).read_bytes() == (again / name).read_bytes(), name


def test_nothing_is_loaded_from_outside_the_page(real: tuple[ReleaseInput, Path]):
    _, read = real
    for path in pages(read):
        markup = markup_of(path)
        page = Page(markup)
        scripted = path.parent == read and path.name != "index.html"
        assert not {"link", "img", "iframe", "object", "embed", "video", "audio", "source", "base"} & set(page.tags)
        for tag, name, value in page.attributes:
            assert name not in ("src", "srcset", "poster", "action", "formaction"), (tag, name, value)
            if name == "href":
                assert not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:|//", value), value  # relative: a page or an anchor
        assert "url(" not in CSS and "@import" not in CSS
        assert not re.search(r"https?://", SCRIPT)
        # The policy allows this page's own style and script, by hash, and nothing else.
        policy = next(v for t, n, v in page.attributes if t == "meta" and n == "content" and "default-src" in v)
        assert policy.startswith("default-src 'none';")
        for source, inline in ((CSS, "style-src"), (SCRIPT, "script-src")):
            digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
            if inline == "style-src" or scripted:
                assert f"{inline} 'sha256-{digest}'" in policy
        if not scripted:
            assert "script-src 'none'" in policy
        assert page.scripts == ([page.scripts[0], SCRIPT] if scripted else [])
        assert f"<style>{CSS}</style>" in markup


# --- hostile values -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReleaseInput, Path, str, tuple[int, int]]:
    """The real package with an actor named in markup, a title that closes <title>, and a seed that holds
    both, cited; not validated (the exporter must not rely on validation to escape)."""
    root = tmp_path_factory.mktemp("hostile")
    shutil.copy2(DESCRIPTOR, root / "datapackage.json")
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copytree(ROOT / "seeds", root / "seeds")
    found = resources(root)
    documents = found["documents"]
    rows = read_csv(root, documents)
    row = next(r for r in rows if r["id"] == STAKHOVSKY)
    seed = root / row[roles(documents)["seed-path"]]
    text = seed.read_bytes().decode("utf-8") + f"\r\n\r\nHostile: {HOSTILE_NAME}{HOSTILE_TAIL}\r\n"
    seed.write_bytes(text.encode("utf-8"))
    row[roles(documents)["title"]] = HOSTILE_TITLE
    write_csv(root, documents, rows)
    actors = read_csv(root, found["actors"])
    actors.append({**actors[0], "id": "hostile-actor", roles(found["actors"])["name"]: HOSTILE_NAME,
                   "description": HOSTILE_FIELD})  # fmt: skip
    write_csv(root, found["actors"], actors)
    cites = read_csv(root, found["actor_citations"])
    quote = HOSTILE_NAME + HOSTILE_TAIL
    start = text.index(quote)
    cites.append({"actor_id": "hostile-actor", "document_id": STAKHOVSKY, "start": str(start),
                  "end": str(start + len(quote)), "quote": quote})  # fmt: skip
    write_csv(root, found["actor_citations"], cites)
    release = release_input(root / "datapackage.json", validated=False)
    return release, export(release, root / "out"), text, (start, start + len(quote))


def test_hostile_names_titles_and_text_are_escaped(hostile: tuple[ReleaseInput, Path, str, tuple[int, int]]):
    _, read, text, (start, end) = hostile
    page = Page(markup_of(read / f"{STAKHOVSKY}.html"))
    check_highlights(page, text)
    assert page.title.startswith(HOSTILE_TITLE)
    assert len(page.scripts) == 2 and page.scripts[1] == SCRIPT
    assert "img" not in page.tags and "b" not in page.tags and "textarea" not in page.tags
    facts = page.data["facts"]
    cited = [f for f in facts if f["kind"] == "citation" and (f["start"], f["end"]) == (start, end)]
    assert [f["quote"] for f in cited] == [text[start:end]]
    named = [f for f in facts if f["kind"] == "mention" and f["quote"] == HOSTILE_NAME]
    assert named, "the hostile name is found as a mention"
    (entity,) = [e for e in page.data["entities"] if e["name"] == HOSTILE_NAME]
    assert [HOSTILE_FIELD] == [value for _, value in entity["fields"] if value.startswith("a ")]
    assert entity["page"] == "entities/actors-1.html" and entity["anchor"] == "actors/hostile-actor"
    blob = page.scripts[0]
    assert "<" not in blob and ">" not in blob and "&" not in blob and "\u2028" not in blob
    for path in (read / "index.html", *(read / "entities").iterdir()):
        index = Page(markup_of(path))
        assert index.scripts == [] and "img" not in index.tags and "b" not in index.tags and "script" not in index.tags
    _, _, markup = reached(read)
    assert HOSTILE_NAME in html.unescape(markup)
    assert html.escape(HOSTILE_FIELD) not in markup  # the page of entities lists no fields of an entity
    assert f"<q>{html.escape(HOSTILE_NAME + HOSTILE_TAIL).replace(chr(13), '&#13;')}</q>" in markup


# --- in a real browser --------------------------------------------------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = next(filter(None, map(shutil.which, [os.environ.get("EURASEC_CHROMIUM", ""), *BROWSERS])), None)
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("no chromium: .ci/run installs Debian's chromium, which the reading view is tested in")
        pytest.skip("no chromium here (apt-get install chromium)")
    return found


def dump_dom(chromium: str, url: str, profile: Path) -> str:
    done = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    dom = done.stdout.decode("utf-8")  # not text=True: its universal newlines would fold a carriage return
    assert "</html>" in dom, done.stderr[-2000:]
    return dom


def test_the_browser_shows_every_highlight_in_place(chromium: str, real: tuple[ReleaseInput, Path], tmp_path: Path):
    _, read = real
    for document, text in seeds().items():
        path = read / f"{document}.html"
        first = Page(markup_of(path)).data["facts"][0]
        dom = Page(dump_dom(chromium, f"{path.as_uri()}#{first['id']}", tmp_path / "profile"))
        check_highlights(dom, text)
        # The anchor in the URL selected its highlight on load: the panel shows its passage.
        assert dom.panel.get("data-selected") == dom.anchors[first["id"]]
        assert first["quote"] in dom.panel_text
        assert "sel" in dom.classes[dom.anchors[first["id"]]]


def test_the_browser_keeps_hostile_text_as_text(chromium: str, hostile, tmp_path: Path):
    _, read, text, _ = hostile
    path = read / f"{STAKHOVSKY}.html"
    dom = Page(dump_dom(chromium, path.as_uri(), tmp_path / "profile"))
    check_highlights(dom, text)
    assert dom.title.startswith(HOSTILE_TITLE)
    assert len(dom.scripts) == 2 and "img" not in dom.tags and "textarea" not in dom.tags
    for path in (read / "index.html", read / "entities" / "actors-1.html"):
        dumped = dump_dom(chromium, path.as_uri(), tmp_path / "profile")
        index = Page(dumped)
        assert index.scripts == [] and "img" not in index.tags
    assert HOSTILE_NAME in html.unescape(dumped)  # the page of actors shows the name as text


class DevTools:
    """Chromium driven over --remote-debugging-pipe (fd 3 in, fd 4 out; messages end in a NUL byte)."""

    def __init__(self, chromium: str, profile: Path) -> None:
        def high(fd: int) -> int:  # above 9, clear of 3 and 4, which the launcher fills
            moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
            os.close(fd)
            return moved

        browser_in, self.to_browser = map(high, os.pipe())
        self.from_browser, browser_out = map(high, os.pipe())
        launcher = (
            "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4);"
            " os.execv(sys.argv[3], sys.argv[3:])"
        )
        # chromium is found on PATH (a path, once resolved): execv takes the file itself
        command = [chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"]
        self.process = subprocess.Popen(
            [sys.executable, "-c", launcher, str(browser_in), str(browser_out), *command],
            pass_fds=(browser_in, browser_out),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(browser_in)
        os.close(browser_out)
        self.buffer, self.last, self.events = b"", 0, []
        self.session: str | None = None

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            assert left > 0, "chromium did not answer in time"
            if select.select([self.from_browser], [], [], left)[0]:
                chunk = os.read(self.from_browser, 1 << 16)
                assert chunk, "chromium closed the pipe"
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, timeout: float = 60) -> dict:
        self.last += 1
        message: dict[str, Any] = {"id": self.last, "method": method, "params": params or {}}
        if self.session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self.last:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._message(deadline))
        return next(e for e in self.events if e.get("method") == method)

    def open(self, url: str) -> None:
        page = next(t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def click(self, x: float, y: float) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def close(self) -> None:
        try:
            self.session = None
            self.send("Browser.close", timeout=10)
        except (AssertionError, OSError):
            pass
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()  # only the browser this test started
            self.process.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)


# Where the first piece of a highlight is on screen, once scrolled to; and what a click there hits.
LOCATE = """(function (id) {
  var mark = document.getElementById(id).parentElement;
  mark.scrollIntoView({block: "center"});
  var r = mark.getClientRects()[0], x = r.left + Math.min(4, r.width / 2), y = r.top + r.height / 2;
  var hit = document.elementFromPoint(x, y).closest("mark.h"), chain = [];
  for (var m = hit; m && m.id !== "text"; m = m.parentElement) {
    if (m.classList.contains("h")) { chain.push(m.getAttribute("data-f")); }
  }
  return {x: x, y: y, group: hit.getAttribute("data-g"), chain: chain};
})(%s)"""
PANEL = """(function () {
  var panel = document.getElementById("panel"), group = panel.getAttribute("data-selected");
  var marks = Array.prototype.filter.call(document.querySelectorAll("mark.h"),
    function (m) { return m.getAttribute("data-g") === group; });
  var selected = marks.every(function (m) { return m.classList.contains("sel"); });
  return {group: group, text: panel.textContent, selected: selected, cards: panel.querySelectorAll(".card").length};
})()"""


def test_clicking_a_highlight_shows_its_facts_and_nothing_leaves_file(
    chromium: str, real: tuple[ReleaseInput, Path], tmp_path: Path
):
    _, read = real
    path = read / f"{STAKHOVSKY}.html"
    data = Page(markup_of(path)).data
    mention = next(f for f in data["facts"] if f["kind"] == "mention")
    relation = next(f for f in data["facts"] if f["id"].startswith("cite-actor_relations-"))
    browser = DevTools(chromium, tmp_path / "profile")
    try:
        browser.open(path.as_uri())
        assert browser.evaluate("document.getElementById('panel').hasAttribute('data-selected')") is False
        for fact in (mention, relation):
            spot = browser.evaluate(LOCATE % json.dumps(fact["id"]))
            browser.click(spot["x"], spot["y"])
            panel = browser.evaluate(PANEL)
            assert panel["group"] == spot["group"] and panel["selected"]
            shown = {int(i) for facts in spot["chain"] for i in facts.split()}
            assert data["facts"].index(fact) in shown
            for i in shown:  # every fact under the click: a citation's quote, a mention's entity
                f = data["facts"][i]
                assert (f["quote"] if f["kind"] == "citation" else data["entities"][f["entities"][0]]["name"]) in panel[
                    "text"
                ]
        # Reached with the keyboard, a highlight is selected too.
        focused = browser.evaluate("var m = document.querySelectorAll('mark.h')[3]; m.focus(); m.dataset.g")
        assert browser.evaluate(PANEL)["group"] == focused
        shot = base64.b64decode(browser.send("Page.captureScreenshot", {"format": "png"})["data"])
        assert shot.startswith(b"\x89PNG") and len(shot) > 20_000
        (tmp_path / "read.png").write_bytes(shot)
        events = [e for e in browser.events if e.get("sessionId") == browser.session]
    finally:
        browser.close()
    requests = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    assert requests and all(url.startswith("file://") for url in requests), requests
    problems = [
        e["params"]
        for e in events
        if e.get("method") in ("Runtime.exceptionThrown", "Runtime.consoleAPICalled")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning"))
    ]
    assert not problems, problems  # a refused style or script (the policy's hashes) would be logged here


# --- the writers behind the pages ---------------------------------------------------------------------


def test_each_escape_is_the_standard_one():
    import pyarrow as pa

    from eurasec.build.mentions import HTML, JSON, JSON_ASCII, RAW, EscapedText, escape, escape_one

    def script_json(value: str) -> str:
        return json.dumps(value)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    standard = {
        JSON: lambda v: json.dumps(v, ensure_ascii=False)[1:-1],
        JSON_ASCII: script_json,
        HTML: lambda v: html.escape(v, quote=True).replace("\r", "&#13;"),
        RAW: lambda v: v,
    }
    values = [*HOSTILE_VALUES, *HOSTILE_VALUES[::-1], None]  # repeated: each distinct value escaped once
    for how, expected in standard.items():
        assert escape(pa.array(values, pa.string()), how).to_pylist() == [expected(v or "") for v in values], how
        assert [escape_one(v, how) for v in HOSTILE_VALUES] == [expected(v) for v in HOSTILE_VALUES], how
        text = "".join(HOSTILE_VALUES) + HOSTILE_NAME + HOSTILE_TAIL
        escaped = EscapedText(text, how)
        starts = list(range(0, len(text), 7))
        ends = [min(len(text), s + 13) for s in starts]  # overlapping passages
        assert escaped.slices(starts, ends).to_pylist() == [
            expected(text[a:b]) for a, b in zip(starts, ends, strict=True)
        ]
        points = sorted({0, len(text), *starts})
        assert escaped.cuts(points).to_pylist() == [expected(text[a:b]) for a, b in itertools.pairwise(points)]


def test_a_blob_reads_back_as_the_values(hostile):
    _, read, _, _ = hostile
    page = Page(markup_of(read / f"{STAKHOVSKY}.html"))
    for fact in page.data["facts"]:
        if fact["kind"] == "citation":
            assert fact["summary"].startswith(fact["title"])
    assert json.loads(page.scripts[0]) == page.data


def test_pages_of_entities_are_bounded(real: tuple[ReleaseInput, Path], tmp_path: Path, monkeypatch):
    from eurasec.build import reading

    monkeypatch.setattr(reading, "ENTITIES_PER_PAGE", 3)
    monkeypatch.setattr(reading, "CITATIONS_PER_ENTITY", 1)
    _, whole = real
    read = export(release_input(DESCRIPTOR), tmp_path)
    for name in entity_tables():
        rows = read_csv(ROOT, resources()[name])
        assert len(list((read / "entities").glob(f"{name}-*.html"))) == (len(rows) + 2) // 3
    ids, links, markup = reached(read)
    everything, all_links, _ = reached(whole)
    assert ids == everything  # every entity is still reached, three to a page
    for page in (read / "entities").iterdir():
        assert len(re.findall(r'<div class="entity"', markup_of(page))) <= 3
    # each entity lists one citing fact; the others are counted, by document, in a line that links it
    entries = re.findall(r'<div class="entity" id="([^"]+)">(.*?)</div>', markup, re.S)
    full = dict(re.findall(r'<div class="entity" id="([^"]+)">(.*?)</div>', reached(whole)[2], re.S))
    capped = 0
    for anchor, entry in entries:
        cited = len(re.findall(r"#cite-", entry))
        assert cited <= 1
        total = len(re.findall(r"#cite-", full[anchor]))
        more = re.search(r'<li class="muted">and (\d+) more in (.*?)</li>', entry)
        if total > 1:
            capped += 1
            assert more and int(more.group(1)) == total - 1, anchor
            counts = [int(n) for n in re.findall(r"\((\d+)\)", more.group(2))]
            assert sum(counts) == total - 1
            assert re.findall(r'href="\.\./([^"#]+\.html)"', more.group(2))
        else:
            assert more is None
    assert capped, "some entity of the real package is cited more than once"
    assert set(links) <= set(all_links)

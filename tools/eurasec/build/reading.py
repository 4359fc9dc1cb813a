"""The reading view: each seed as a static HTML page with every cited passage and every mention laid over it.

`read/<document id>.html` shows a document's stored text, white space kept, with each passage that a
row cites (every table with fields of roles document, start, end and quote) and each mention of an
entity (model/mentions.py) highlighted at its offsets. Selecting a highlight (a click, or the keyboard)
fills a side panel with the facts and the entities behind it, from a JSON blob in the page; a link
to `#<anchor>` selects one on load. `read/index.html` lists the documents and every entity with the
places that name it and the facts that cite it, linked to their passages.

Highlights may overlap (a quote holds names; two quotes cross): the text is cut at every offset and
the highlights are opened longest first, so that containment nests; where two cross, one of them is
closed and opened again (its pieces share `data-g`): always the cited passage, never a mention. Passages
with the same offsets are one highlight that carries every fact (`data-f`, indexes into the blob's
`facts`), and each fact's anchor (`cite-<table>-<row number>`, `mention-<n>`) starts its highlight.

The pages stand alone: no request leaves them (a Content-Security-Policy allows only their own inline
style and script, by hash) and they open from file:// with no server. Every value is escaped, and
the bytes depend on the data alone: two builds write the same files.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import html
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote as url_quote

from ..model.descriptor import DOCUMENT, END, NAME, QUOTE, START, TITLE, Package, Resource
from ..model.paths import UnsafePathError, unsafe_name_reason
from .context import ExportCheckError, ReleaseInput
from .mentions import release_mentions

if TYPE_CHECKING:
    from ..model.mentions import Mention

READ_DIR = "read"
INDEX = "index.html"
QUOTE_EXCERPT = 200  # code points of a quote shown in the index
PALETTE_SIZE = 6  # entity tables are coloured k0 … k5 in descriptor order (the CSS below)
PROVENANCE = (DOCUMENT, START, END, QUOTE)


# --- what the pages show: the facts (cited rows and mentions) and the entities --------------------------


@dataclass
class Entity:
    index: int
    table: Resource
    id: str
    name: str
    colour: int  # the entity table's place among entity tables
    fields: list[tuple[str, str]]  # (label, value) of each non-empty field but the name

    @property
    def anchor(self) -> str:
        return f"{self.table.name}/{self.id}"


@dataclass
class Fact:
    """A cited row (kind "citation") or a mention (kind "mention") at [start, end) of a document."""

    id: str  # the anchor in the document's page: cite-<table>-<row>, mention-<n>
    kind: str
    document: str
    start: int
    end: int
    quote: str
    table: Resource | None = None  # a citation's table
    fields: list[tuple[str, str, Entity | None]] = field(default_factory=list)  # (label, value, entity it names)
    entities: list[Entity] = field(default_factory=list)  # the entities the row refers to, or the one named

    @functools.cached_property
    def summary(self) -> str:
        """One line: the table's title and the row's values, entities by name."""
        values = [entity.name if entity else value for _, value, entity in self.fields]
        title = (self.table.title or self.table.name) if self.table else "Mention"
        return f"{title}: {' · '.join(v for v in values if v)}" if values else title


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def _rows(release: ReleaseInput, resource: Resource) -> list[dict[str, Any]]:
    table = release.tables.get(resource.name)
    return [] if table is None else table.to_pylist()


def _entities(package: Package, release: ReleaseInput) -> dict[tuple[str, str], Entity]:
    from ..model.mentions import entity_tables

    found: dict[tuple[str, str], Entity] = {}
    for colour, resource in enumerate(entity_tables(package)):
        name_field = resource.role_field(NAME)
        assert name_field is not None
        key = resource.primary_key[0]
        for row in _rows(release, resource):
            if row.get(key) is None:
                continue
            fields = [
                (f.title or f.name, _shown(row.get(f.name)))
                for f in resource.fields
                if f.name != name_field.name and _shown(row.get(f.name))
            ]
            entity_id = _shown(row[key])
            name = _shown(row.get(name_field.name)) or entity_id
            found[(resource.name, entity_id)] = Entity(len(found), resource, entity_id, name, colour, fields)
    return found


def citing_tables(package: Package) -> list[Resource]:
    """The tables whose rows cite a passage: fields of roles document, start, end and quote, in descriptor order."""
    return [r for r in package.resources if all(r.role_field(role) is not None for role in PROVENANCE)]


def _citations(package: Package, release: ReleaseInput, entities: dict[tuple[str, str], Entity]) -> list[Fact]:
    entity_tables = {table for table, _ in entities}
    facts = []
    for resource in citing_tables(package):
        document, start, end, quote = (resource.role_field(role) for role in PROVENANCE)
        assert document is not None and start is not None and end is not None and quote is not None
        provenance = {document.name, start.name, end.name, quote.name}
        shown = []  # (field, label, the entity table its values name, if any)
        for f in resource.fields:
            if f.name not in provenance:
                fk = resource.foreign_key(f.name)
                target = fk.resource if fk and fk.resource in entity_tables else None
                shown.append((f.name, f.title or f.name, target))
        for number, row in enumerate(_rows(release, resource), 1):
            if row.get(document.name) is None or row.get(start.name) is None or row.get(end.name) is None:
                continue
            fact = Fact(
                id=f"cite-{resource.name}-{number}",
                kind="citation",
                document=_shown(row[document.name]),
                start=int(row[start.name]),
                end=int(row[end.name]),
                quote=_shown(row.get(quote.name)),
                table=resource,
            )
            for name, label, target in shown:
                value = _shown(row.get(name))
                if not value:
                    continue
                entity = entities.get((target, value)) if target else None
                fact.fields.append((label, value, entity))
                if entity is not None and entity not in fact.entities:
                    fact.entities.append(entity)
            facts.append(fact)
    return facts


def _mentions(mentions: list[Mention], entities: dict[tuple[str, str], Entity]) -> list[Fact]:
    facts = []
    numbers: dict[str, int] = defaultdict(int)
    for mention in mentions:
        entity = entities.get((mention.entity_table, mention.entity_id))
        if entity is None:
            raise ExportCheckError(f"a mention names {mention.entity_table} {mention.entity_id!r}, which is not there")
        numbers[mention.document_id] += 1
        facts.append(
            Fact(
                id=f"mention-{numbers[mention.document_id]}",
                kind="mention",
                document=mention.document_id,
                start=mention.start,
                end=mention.end,
                quote=mention.exact,
                entities=[entity],
            )
        )
    return facts


# --- the text, cut at every offset, with the highlights nested ----------------------------------------


@dataclass
class _Group:
    """One highlight: the facts of one layer (passages, or mentions) at the same offsets."""

    index: int
    start: int
    end: int
    layer: str  # "q" (a cited passage) or "m" (a mention)
    facts: list[int]  # indexes into the page's facts
    anchors: list[str]
    colour: int = 0


def _escape_text(text: str) -> str:
    # A carriage return would be folded into the line break by the HTML parser: written as a reference, it stays.
    return html.escape(text, quote=True).replace("\r", "&#13;")


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def highlighted(text: str, groups: list[_Group]) -> str:
    """The text as HTML, each group's range wrapped in <mark> elements, nested.

    At each offset the marks that end there close, then those that begin there open, longest
    first, so that a range within another nests in it. Where two ranges cross, one is split in two
    marks (with the same data-g): a mention never (mentions do not overlap one another), the cited
    passage instead; of two crossing passages, the one opened last.
    """
    starting: dict[int, list[_Group]] = defaultdict(list)
    cuts = {0, len(text)}
    for g in groups:
        starting[g.start].append(g)
        cuts.update((g.start, g.end))
    out: list[str] = []
    stack: list[_Group] = []
    written: set[int] = set()  # groups whose first piece (the one with the anchors) is written

    def push(g: _Group) -> None:
        cls = "h q" if g.layer == "q" else f"h m k{g.colour}"
        facts = " ".join(str(i) for i in g.facts)
        out.append(f'<mark class="{cls}" data-g="{g.index}" data-f="{facts}" tabindex="0">')
        if g.index not in written:
            written.add(g.index)
            out.extend(f'<span class="a" id="{_attr(anchor)}"></span>' for anchor in g.anchors)
        stack.append(g)

    def pop_from(depth: int) -> list[_Group]:
        popped = stack[depth:]
        del stack[depth:]
        out.extend("</mark>" for _ in popped)
        return popped

    points = sorted(cuts)
    for here, after in zip(points, [*points[1:], None], strict=True):
        ending = [i for i, g in enumerate(stack) if g.end == here]
        reopen = [g for g in pop_from(ending[0]) if g.end != here] if ending else []
        for g in sorted([*reopen, *starting.get(here, [])], key=lambda g: (-g.end, g.layer != "q", g.index)):
            crossing = [i for i, open_ in enumerate(stack) if open_.end < g.end]
            if g.layer == "m" and crossing:
                # a passage open here ends inside this mention: close it, open the mention, open it again inside
                popped = pop_from(crossing[0])
                for p in popped:
                    if p.end >= g.end:
                        push(p)
                push(g)
                for p in popped:
                    if p.end < g.end:
                        push(p)
            else:
                push(g)
        if after is not None:
            out.append(_escape_text(text[here:after]))
    pop_from(0)
    return "".join(out)


def _groups(facts: list[Fact]) -> list[_Group]:
    by_range: dict[tuple[int, int, str], _Group] = {}
    for i, fact in enumerate(facts):
        layer = "q" if fact.kind == "citation" else "m"
        key = (fact.start, fact.end, layer)
        if key not in by_range:
            colour = fact.entities[0].colour % PALETTE_SIZE if layer == "m" and fact.entities else 0
            by_range[key] = _Group(len(by_range), fact.start, fact.end, layer, [], [], colour)
        by_range[key].facts.append(i)
        by_range[key].anchors.append(fact.id)
    return list(by_range.values())


# --- the pages --------------------------------------------------------------------------------------------

CSS = """
:root { --ink: #1d1d1f; --muted: #5f6368; --rule: #d9d9de; --paper: #fbfaf7; --q: rgba(255, 200, 40, .28);
  --k0: #1f6fb2; --k1: #b0361e; --k2: #2a7d3c; --k3: #7b3fa0; --k4: #a8650a; --k5: #0f7c80; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: var(--paper); font: 16px/1.5 system-ui, -apple-system,
  "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { padding: 1.2rem 2rem .8rem; border-bottom: 1px solid var(--rule); background: #fff; }
header h1 { margin: .2rem 0 .4rem; font: 600 1.45rem/1.3 Georgia, "DejaVu Serif", serif; max-width: 60rem; }
header .crumbs, .muted { color: var(--muted); font-size: .9rem; }
a { color: #1a5fb4; }
.legend { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; margin-top: .5rem; font-size: .88rem;
  color: var(--muted); }
.legend span { white-space: nowrap; }
details { margin-top: .4rem; font-size: .88rem; }
details dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .4rem 0; }
details dd { margin: 0; overflow-wrap: anywhere; }
main.doc { display: grid; grid-template-columns: minmax(0, 46rem) minmax(18rem, 1fr); gap: 2rem;
  padding: 1.5rem 2rem 4rem; align-items: start; }
.text { white-space: pre-wrap; overflow-wrap: break-word; font: 1.06rem/1.75 Georgia, "DejaVu Serif", serif; }
mark.h { color: inherit; background: none; cursor: pointer; border-radius: 2px; }
mark.q { background: var(--q); box-shadow: inset 0 -1px 0 rgba(180, 130, 0, .35); }
mark.m { border-bottom: 2px solid; padding-bottom: 1px; }
mark.k0 { border-color: var(--k0); background: rgba(31, 111, 178, .10); }
mark.k1 { border-color: var(--k1); background: rgba(176, 54, 30, .10); }
mark.k2 { border-color: var(--k2); background: rgba(42, 125, 60, .10); }
mark.k3 { border-color: var(--k3); background: rgba(123, 63, 160, .10); }
mark.k4 { border-color: var(--k4); background: rgba(168, 101, 10, .10); }
mark.k5 { border-color: var(--k5); background: rgba(15, 124, 128, .10); }
mark.h:hover { filter: brightness(.93); }
mark.h:focus { outline: 1px dotted #e8590c; }
mark.h.sel { outline: 2px solid #e8590c; outline-offset: 1px; }
mark.q.sel { background: rgba(255, 150, 30, .45); }
.swatch { display: inline-block; width: 1.6em; height: .9em; vertical-align: -.05em; margin-right: .3em;
  border-radius: 2px; }
.swatch.q { background: var(--q); }
.swatch.m { border-bottom: 2px solid; }
.swatch.k0 { border-color: var(--k0); background: rgba(31, 111, 178, .10); }
.swatch.k1 { border-color: var(--k1); background: rgba(176, 54, 30, .10); }
.swatch.k2 { border-color: var(--k2); background: rgba(42, 125, 60, .10); }
.swatch.k3 { border-color: var(--k3); background: rgba(123, 63, 160, .10); }
.swatch.k4 { border-color: var(--k4); background: rgba(168, 101, 10, .10); }
.swatch.k5 { border-color: var(--k5); background: rgba(15, 124, 128, .10); }
aside#panel { position: sticky; top: 1rem; max-height: calc(100vh - 2rem); overflow: auto; background: #fff;
  border: 1px solid var(--rule); border-radius: 6px; padding: .9rem 1rem; font-size: .92rem; }
aside#panel h2 { font-size: 1rem; margin: 0 0 .5rem; }
.card { border-top: 1px solid var(--rule); padding: .6rem 0 .4rem; }
.card:first-of-type { border-top: 0; padding-top: 0; }
.card h3 { font-size: .95rem; margin: 0 0 .3rem; }
.kind { display: inline-block; font-size: .72rem; font-weight: 600; text-transform: uppercase; letter-spacing: .04em;
  padding: 0 .35em; border-radius: 3px; color: #fff; background: #777; margin-right: .35em; vertical-align: .1em; }
.kind.q { background: #9a6a00; }
.kind.k0 { background: var(--k0); } .kind.k1 { background: var(--k1); } .kind.k2 { background: var(--k2); }
.kind.k3 { background: var(--k3); } .kind.k4 { background: var(--k4); } .kind.k5 { background: var(--k5); }
.card dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: .3rem 0; }
.card dt { color: var(--muted); }
.card dd { margin: 0; overflow-wrap: anywhere; }
.card blockquote { margin: .4rem 0; padding: .2rem .6rem; border-left: 3px solid #e0b000; color: #333;
  font: .9rem/1.5 Georgia, "DejaVu Serif", serif; }
.card ul { margin: .3rem 0; padding-left: 1.1rem; }
main.index { padding: 1rem 2rem 4rem; max-width: 72rem; }
main.index h2 { font: 600 1.2rem/1.3 Georgia, "DejaVu Serif", serif; margin: 1.6rem 0 .6rem;
  border-bottom: 1px solid var(--rule); padding-bottom: .2rem; }
.entity { padding: .5rem 0 .6rem; border-bottom: 1px dotted var(--rule); }
.entity h3 { font-size: 1rem; margin: 0 0 .2rem; }
.entity ul { margin: .2rem 0; padding-left: 1.2rem; font-size: .92rem; }
.entity q { color: #444; font-family: Georgia, "DejaVu Serif", serif; }
table.docs { border-collapse: collapse; font-size: .92rem; }
table.docs td, table.docs th { text-align: left; padding: .25rem .8rem .25rem 0; border-bottom: 1px solid var(--rule); }
@media (max-width: 60rem) { main.doc { grid-template-columns: 1fr; } aside#panel { position: static; } }
""".lstrip()

# Fills the panel from the page's JSON blob; builds every node with textContent, never from HTML.
SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("eurasec-data").textContent);
  var panel = document.getElementById("panel");
  var text = document.getElementById("text");
  function node(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (content !== undefined && content !== null) { e.textContent = content; }
    return e;
  }
  function link(href, content) { var a = node("a", null, content); a.href = href; return a; }
  function entityLink(e) { return link(data.index + "#" + encodeURIComponent(e.anchor), e.name); }
  function kind(label, cls) { return node("span", "kind " + cls, label); }
  function entityCard(e, mention) {
    var card = node("section", "card");
    var h = node("h3");
    h.appendChild(kind(e.kind, "k" + e.colour));
    h.appendChild(entityLink(e));
    card.appendChild(h);
    var where = mention.start + "\u2013" + mention.end + " (" + mention.id + ")";
    card.appendChild(node("div", "muted", "Named here as \u201c" + mention.quote + "\u201d, " + where));
    var dl = node("dl");
    e.fields.forEach(function (f) { dl.appendChild(node("dt", null, f[0])); dl.appendChild(node("dd", null, f[1])); });
    card.appendChild(dl);
    var facts = data.facts.filter(function (f) {
      return f.kind === "citation" && f.entities.indexOf(e.index) >= 0;
    });
    if (facts.length) {
      card.appendChild(node("div", "muted", "Facts of this document about it:"));
      var ul = node("ul");
      facts.forEach(function (f) {
        var li = node("li");
        li.appendChild(link("#" + encodeURIComponent(f.id), f.summary));
        ul.appendChild(li);
      });
      card.appendChild(ul);
    } else {
      card.appendChild(node("div", "muted", "No fact of this document cites it."));
    }
    return card;
  }
  function factCard(f) {
    var card = node("section", "card");
    var h = node("h3");
    h.appendChild(kind("fact", "q"));
    h.appendChild(document.createTextNode(f.title));
    card.appendChild(h);
    var dl = node("dl");
    f.fields.forEach(function (v) {
      dl.appendChild(node("dt", null, v[0]));
      var dd = node("dd");
      if (v[2] !== null) {
        var e = data.entities[v[2]];
        dd.appendChild(kind(e.kind, "k" + e.colour));
        dd.appendChild(entityLink(e));
        dd.appendChild(node("span", "muted", " (" + v[1] + ")"));
      } else {
        dd.textContent = v[1];
      }
      dl.appendChild(dd);
    });
    dl.appendChild(node("dt", null, "Passage"));
    dl.appendChild(node("dd", null, f.start + "\\u2013" + f.end + " (" + f.id + ")"));
    card.appendChild(dl);
    card.appendChild(node("blockquote", null, f.quote));
    return card;
  }
  function marks(el) {
    var chain = [];
    for (var m = el; m && m !== text; m = m.parentElement) {
      if (m.classList && m.classList.contains("h")) { chain.push(m); }
    }
    return chain;
  }
  function select(mark) {
    Array.prototype.forEach.call(document.querySelectorAll("mark.sel"), function (m) { m.classList.remove("sel"); });
    var group = mark.getAttribute("data-g");
    Array.prototype.forEach.call(text.querySelectorAll("mark.h"), function (m) {
      if (m.getAttribute("data-g") === group) { m.classList.add("sel"); }
    });
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    var shown = {}, entitiesShown = {}, cards = [];
    marks(mark).forEach(function (m) {
      m.getAttribute("data-f").split(" ").forEach(function (i) {
        if (shown[i]) { return; }
        shown[i] = true;
        var f = data.facts[Number(i)];
        if (f.kind === "mention") {
          f.entities.forEach(function (e) {
            if (!entitiesShown[e]) { entitiesShown[e] = true; cards.push(entityCard(data.entities[e], f)); }
          });
        } else {
          cards.push(factCard(f));
        }
      });
    });
    panel.appendChild(node("h2", null, "Selected passage"));
    cards.forEach(function (c) { panel.appendChild(c); });
    panel.setAttribute("data-selected", mark.getAttribute("data-g"));
  }
  function fromHash() {
    var id;
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (err) { return; }
    var anchor = id ? document.getElementById(id) : null;
    if (anchor && anchor.parentElement && anchor.parentElement.classList.contains("h")) {
      select(anchor.parentElement);
      anchor.parentElement.scrollIntoView({block: "center"});
    }
  }
  text.addEventListener("click", function (ev) {
    var m = ev.target.closest ? ev.target.closest("mark.h") : null;
    if (m) { select(m); }
  });
  text.addEventListener("focusin", function (ev) {
    if (ev.target.classList && ev.target.classList.contains("h")) { select(ev.target); }
  });
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
""".lstrip()


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def _csp(script: bool) -> str:
    scripts = _csp_hash(SCRIPT) if script else "'none'"
    return (
        f"default-src 'none'; style-src {_csp_hash(CSS)}; script-src {scripts}; img-src 'none';"
        " base-uri 'none'; form-action 'none'"
    )


def _json_blob(value: Any) -> str:
    """JSON that cannot end its <script> element or open a comment: <, > and & as \\u escapes."""
    text = json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page(title: str, body: str, script: bool) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_attr(_csp(script))}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_escape_text(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def _legend(kinds: list[Resource]) -> str:
    items = ['<span><span class="swatch q"></span>cited passage</span>']
    items += [
        f'<span><span class="swatch m k{i % PALETTE_SIZE}"></span>{_escape_text(r.title or r.name)}</span>'
        for i, r in enumerate(kinds)
    ]
    return f'<div class="legend">{"".join(items)}</div>'


def page_name(document_id: str) -> str:
    """A document's page, inside read/; UnsafePathError if its id cannot be a file name."""
    reason = unsafe_name_reason(document_id)
    if reason:
        raise UnsafePathError(f"the document id {document_id!r} {reason}: it cannot name a page")
    return f"{document_id}.html"


@functools.lru_cache(maxsize=4096)
def _page_href(document_id: str) -> str:
    return url_quote(page_name(document_id))


def _href(document_id: str, anchor: str = "") -> str:
    return _page_href(document_id) + (f"#{url_quote(anchor, safe='')}" if anchor else "")


def _entity_json(e: Entity) -> dict[str, Any]:
    return {
        "index": e.index,
        "anchor": e.anchor,
        "name": e.name,
        "kind": e.table.title or e.table.name,
        "colour": e.colour % PALETTE_SIZE,
        "fields": [[label, value] for label, value in e.fields],
    }


def document_page(
    release: ReleaseInput, row: dict[str, Any], documents: Resource, text: str, facts: list[Fact], kinds: list[Resource]
) -> str:
    """One document's page: its text with the facts' highlights, the panel, and the blob the panel reads."""
    document_id = _shown(row[documents.primary_key[0]])
    for fact in facts:
        if not 0 <= fact.start < fact.end <= len(text) or text[fact.start : fact.end] != fact.quote:
            raise ExportCheckError(f"{fact.id} of {document_id} does not match the seed at {fact.start}-{fact.end}")
    title_field = documents.role_field(TITLE)
    title = _shown(row.get(title_field.name)) if title_field else ""
    entities: dict[int, Entity] = {}
    for fact in facts:
        for e in fact.entities:
            entities.setdefault(e.index, e)
    local = {index: i for i, index in enumerate(sorted(entities))}  # the page's own entity numbers
    blob = {
        "index": INDEX,
        "document": document_id,
        "entities": [_entity_json(entities[index]) | {"index": local[index]} for index in sorted(entities)],
        "facts": [
            {
                "id": f.id,
                "kind": f.kind,
                "title": (f.table.title or f.table.name) if f.table else "Mention",
                "summary": f.summary,
                "start": f.start,
                "end": f.end,
                "quote": f.quote,
                "fields": [[label, value, None if e is None else local[e.index]] for label, value, e in f.fields],
                "entities": [local[e.index] for e in f.entities],
            }
            for f in facts
        ],
    }
    about = "".join(
        f"<dt>{_escape_text(f.title or f.name)}</dt><dd>{_escape_text(_shown(row.get(f.name)))}</dd>"
        for f in documents.fields
        if f is not title_field and _shown(row.get(f.name))
    )
    cited = sum(f.kind == "citation" for f in facts)
    named = len(facts) - cited
    body = (
        "<header>\n"
        f'<div class="crumbs"><a href="{INDEX}">{_escape_text(release.package.name)} {_escape_text(release.version)}'
        f"</a> · reading view · <code>{_escape_text(document_id)}</code></div>\n"
        f"<h1>{_escape_text(title or document_id)}</h1>\n"
        f'<div class="muted">{cited} cited passages, {named} mentions. Select a highlight to see the facts and the'
        " entities behind it.</div>\n"
        f"{_legend(kinds)}\n"
        f"<details><summary>About this document</summary><dl>{about}</dl></details>\n"
        "</header>\n"
        '<main class="doc">\n'
        f'<div class="text" id="text">{highlighted(text, _groups(facts))}</div>\n'
        '<aside id="panel" aria-live="polite"><h2>Selected passage</h2>'
        '<p class="muted">Nothing selected yet: click a highlighted passage or name, or reach it with Tab.</p>'
        "</aside>\n"
        "</main>\n"
        f'<script type="application/json" id="eurasec-data">{_json_blob(blob)}</script>\n'
        f"<script>{SCRIPT}</script>\n"
    )
    return _page(f"{title or document_id} · {release.package.name}", body, script=True)


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def _entity_entry(e: Entity, kind: Resource, facts: list[Fact], paged: set[str]) -> str:
    """An entity in the index: the documents that name it, and each fact that cites it, linked to its passage."""
    mentions: dict[str, list[Fact]] = defaultdict(list)
    items = []
    for fact in facts:
        if fact.kind == "mention":
            mentions[fact.document].append(fact)
    for document_id, found in sorted(mentions.items()):
        link = f'<a href="{_attr(_href(document_id, found[0].id))}">{_escape_text(document_id)}</a>'
        items.append(f"<li>named {_times(len(found))} in {link}</li>")
    for fact in facts:
        if fact.kind != "citation":
            continue
        excerpt = fact.quote if len(fact.quote) <= QUOTE_EXCERPT else fact.quote[: QUOTE_EXCERPT - 1] + "…"
        where = _escape_text(f"{fact.document} {fact.start}–{fact.end}")
        if fact.document in paged:
            where = f'<a href="{_attr(_href(fact.document, fact.id))}">{where}</a>'
        items.append(f"<li>{_escape_text(fact.summary)} ({where}): <q>{_escape_text(excerpt)}</q></li>")
    if not items:
        items.append('<li class="muted">neither named nor cited in a stored text</li>')
    return (
        f'<div class="entity" id="{_attr(e.anchor)}"><h3><span class="kind k{e.colour % PALETTE_SIZE}">'
        f"{_escape_text(kind.title or kind.name)}</span>{_escape_text(e.name)} "
        f'<code class="muted">{_escape_text(e.id)}</code></h3>'
        f"<ul>{''.join(items)}</ul></div>\n"
    )


def index_page(
    release: ReleaseInput,
    documents: list[tuple[str, str, bool]],
    entities: dict[tuple[str, str], Entity],
    facts: list[Fact],
    kinds: list[Resource],
) -> str:
    """The documents, then every entity by table: where it is named and which facts cite it."""
    paged = {document_id for document_id, _, has_page in documents if has_page}
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    by_entity: dict[int, list[Fact]] = defaultdict(list)
    for fact in facts:
        counts[fact.document][fact.kind] += 1
        for e in fact.entities:
            by_entity[e.index].append(fact)
    rows = []
    for document_id, title, has_page in documents:
        label = _escape_text(title or document_id)
        shown = f'<a href="{_attr(_href(document_id))}">{label}</a>' if has_page else label
        count = counts[document_id]
        note = f"{count['citation']} cited passages, {count['mention']} mentions" if has_page else "no stored text"
        rows.append(f"<tr><td>{shown}</td><td><code>{_escape_text(document_id)}</code></td><td>{note}</td></tr>")
    name = f"{_escape_text(release.package.name)} {_escape_text(release.version)}"
    parts = [
        f'<header>\n<div class="crumbs">{name} · reading view</div>\n<h1>Documents and entities</h1>\n'
        f"{_legend(kinds)}\n</header>\n",
        '<main class="index">\n<h2 id="documents">Documents</h2>\n',
        f'<table class="docs"><tr><th>Title</th><th>Id</th><th>Highlights</th></tr>{"".join(rows)}</table>\n',
    ]
    for kind in kinds:
        members = sorted(
            (e for e in entities.values() if e.table.name == kind.name), key=lambda e: (e.name.casefold(), e.id)
        )
        parts.append(f'<h2 id="{_attr(kind.name)}">{_escape_text(kind.title or kind.name)} ({len(members)})</h2>\n')
        parts.extend(_entity_entry(e, kind, by_entity[e.index], paged) for e in members)
    parts.append("</main>\n")
    return _page(f"Reading view · {release.package.name} {release.version}", "".join(parts), script=False)


def export_reading_view(release: ReleaseInput, folder: Path) -> None:
    """read/index.html and read/<document id>.html for each document with stored text."""
    from ..model.mentions import entity_tables

    package = release.package
    documents = package.documents
    if documents is None or len(documents.primary_key) != 1:
        return  # no table of documents (validate warns role-missing): no text to read, so no pages
    made = release_mentions(release)  # the seeds and their mentions, read and found once for every exporter
    texts = made.texts
    kinds = entity_tables(package)
    entities = _entities(package, release)
    facts = _citations(package, release, entities) + _mentions(made.mentions.to_list(), entities)
    by_document: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_document[fact.document].append(fact)
    for found in by_document.values():
        found.sort(key=lambda f: (f.start, -f.end, f.kind, f.id))
    title_field = documents.role_field(TITLE)
    key = documents.primary_key[0]
    listed = []
    out = folder / READ_DIR
    out.mkdir(exist_ok=True)
    for row in _rows(release, documents):
        document_id = _shown(row.get(key))
        title = _shown(row.get(title_field.name)) if title_field else ""
        listed.append((document_id, title, document_id in texts))
        if document_id not in texts:
            continue
        name = page_name(document_id)
        page = document_page(release, row, documents, texts[document_id], by_document[document_id], kinds)
        (out / name).write_text(page, encoding="utf-8", newline="\n")
        release.written[f"{READ_DIR}/{name}"] = out / name
    index = index_page(release, listed, entities, facts, kinds)
    (out / INDEX).write_text(index, encoding="utf-8", newline="\n")
    release.written[f"{READ_DIR}/{INDEX}"] = out / INDEX

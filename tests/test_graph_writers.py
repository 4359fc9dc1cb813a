"""The graph's own writers: XML escaping and CSV quoting of hostile values, batches, and the key checks.

build/graph.py writes GraphML, GEXF and the CSVs with Arrow string kernels rather than ElementTree, networkx
and the csv module. Here each file is read back with those libraries, on the real data made hostile: every
text gets quotes, ampersands, angle brackets, tabs, newlines, carriage returns, commas and non-ASCII.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eurasec.build import graph as graph_module
from eurasec.build.context import ExportCheckError, ReleaseInput
from eurasec.build.graph import (
    Graph,
    edges_csv,
    export_graph,
    gexf_bytes,
    graph_of,
    graphml_bytes,
    layout,
    nodes_csv,
    release_input,
)
from eurasec.model.mentions import entity_tables

from .conftest import DESCRIPTOR

nx = pytest.importorskip("networkx")
pa = pytest.importorskip("pyarrow")
pc = pytest.importorskip("pyarrow.compute")

HOSTILE = "\u00e4&<>\"'\t\n\r,; \u00abq\u00bb &amp; \U0001f600"
GEXF_NS = {"g": "http://gexf.net/1.3", "viz": "http://gexf.net/1.3/viz"}


@pytest.fixture(scope="module")
def real() -> ReleaseInput:
    return release_input(DESCRIPTOR)


def hostile(release: ReleaseInput) -> ReleaseInput:
    """The release with every text made hostile: keys into entity tables the same way everywhere (so that
    every edge still leads to its node), any other text with HOSTILE after it. Enums become text."""
    package = release.package
    entities = {r.name for r in entity_tables(package)}
    tables = {}
    for resource in package.resources:
        table = release.tables[resource.name]
        keys = {f for fk in resource.foreign_keys if fk.resource in entities for f in fk.fields}
        if resource.name in entities:
            keys.update(resource.primary_key)
        for i, field in enumerate(table.schema):
            column = table.column(i)
            if pa.types.is_dictionary(field.type):
                column = column.cast(pa.string())
            if not pa.types.is_string(column.type):
                continue
            if field.name in keys:
                column = pc.replace_substring(column, "a", HOSTILE)
            else:
                column = pc.binary_join_element_wise(column, HOSTILE, "")
            table = table.set_column(i, field.name, column)
        tables[resource.name] = table
    return ReleaseInput(package=package, tables=tables)


@pytest.fixture(scope="module")
def graph(real: ReleaseInput) -> Graph:
    return graph_of(hostile(real))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_the_hostile_graph_is_hostile_everywhere(graph: Graph):
    nodes, edges = graph.nodes.to_pylist(), graph.edges.to_pylist()
    assert nodes and edges
    assert any(HOSTILE in n["id"] for n in nodes)
    assert all(HOSTILE in n["label"] for n in nodes)
    assert any(HOSTILE in e["source"] for e in edges) and any(HOSTILE in e["target"] for e in edges)
    assert any(HOSTILE in e["role"] for e in edges) and any(HOSTILE in e["id"] for e in edges)
    assert any(e["quote"] for e in edges) and all(HOSTILE in e["quote"] for e in edges if e["quote"] is not None)


def test_graphml_reads_back_every_node_edge_and_value_with_its_type(graph: Graph):
    network = nx.read_graphml(io.BytesIO(graphml_bytes(graph)), force_multigraph=True)
    assert network.is_directed()
    nodes = graph.nodes.to_pylist()
    assert list(network.nodes) == [n["id"] for n in nodes]
    for node in nodes:
        wanted = {k: v for k, v in node.items() if k != "id" and v is not None}
        assert network.nodes[node["id"]] == wanted, node["id"]
    assert isinstance(next(d["year"] for _, d in network.nodes(data=True) if "year" in d), int)
    found = {key: (source, target, data) for source, target, key, data in network.edges(keys=True, data=True)}
    edges = graph.edges.to_pylist()
    assert len(found) == len(edges) == network.number_of_edges()
    for edge in edges:
        source, target, data = found[edge["id"]]
        assert (source, target) == (edge["source"], edge["target"])
        wanted = {k: v for k, v in edge.items() if k not in ("id", "source", "target") and v is not None}
        assert data == {**wanted, "label": edge["role"]}, edge["id"]
    assert any(isinstance(data.get("start"), int) for _, _, data in found.values())


def test_graphml_declares_a_key_per_attribute_it_uses_typed_as_networkx_does(graph: Graph):
    root = ET.fromstring(graphml_bytes(graph))
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    declared = {(k.get("for"), k.get("attr.name")): k.get("attr.type") for k in root.iter(f"{ns}key")}
    assert declared[("node", "table")] == declared[("node", "label")] == "string"
    assert declared[("node", "year")] == declared[("edge", "start")] == declared[("edge", "end")] == "long"
    used = {k.get("id") for k in root.iter(f"{ns}key")}
    assert {d.get("key") for d in root.iter(f"{ns}data")} == used  # no key declared in vain, none missing
    assert not [d for d in root.iter(f"{ns}data") if not d.text]  # empty values are left out


def _gexf_reference(graph: Graph, positions: dict[str, tuple[float, float]]) -> bytes:
    """The GEXF as ElementTree writes it, from the graph's rows: what build/graph.py once did."""
    degree: Counter[str] = Counter()
    for edge in graph.edges.to_pylist():
        degree[edge["source"]] += 1
        degree[edge["target"]] += 1
    root = ET.Element(
        "gexf",
        {
            "xmlns": "http://gexf.net/1.3",
            "xmlns:viz": "http://gexf.net/1.3/viz",
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:schemaLocation": "http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd",
            "version": "1.3",
        },
    )
    meta = ET.SubElement(root, "meta")
    ET.SubElement(meta, "creator").text = "eurasec"
    ET.SubElement(meta, "description").text = "Entities as nodes, their cited relations as edges"
    element = ET.SubElement(root, "graph", {"defaultedgetype": "directed", "mode": "static"})
    node_columns = [("table", "string"), ("entity_id", "string"), *graph.node_fields]
    edge_columns = [
        ("table", "string"), ("role", "string"), ("document_id", "string"), ("start", "integer"),
        ("end", "integer"), ("quote", "string"), *graph.edge_fields,
    ]  # fmt: skip
    for kind, columns in (("node", node_columns), ("edge", edge_columns)):
        attributes = ET.SubElement(element, "attributes", {"class": kind, "mode": "static"})
        for name, schema_type in columns:
            kw = {"id": name, "title": name, "type": graph_module.GEXF_TYPES.get(schema_type, "string")}
            ET.SubElement(attributes, "attribute", kw)
    node_colours, role_colours = graph_module.table_colours(graph), graph_module.role_colours_of(graph)
    holder = ET.SubElement(element, "nodes")
    fields_of = {b.table: b.fields for b in graph.node_blocks}
    for node in graph.nodes.to_pylist():
        item = ET.SubElement(holder, "node", {"id": node["id"], "label": node["label"]})
        values = ET.SubElement(item, "attvalues")
        for name in ("table", "entity_id", *fields_of[node["table"]]):
            if node[name] is not None:
                ET.SubElement(values, "attvalue", {"for": name, "value": _cell(node[name])})
        ET.SubElement(item, "viz:color", graph_module._rgb(node_colours[node["table"]]))
        if node["id"] in positions:
            x, y = positions[node["id"]]
            ET.SubElement(item, "viz:position", {"x": f"{x * 72:.1f}", "y": f"{y * 72:.1f}", "z": "0.0"})
        ET.SubElement(item, "viz:size", {"value": f"{graph_module._size(degree[node['id']]) / 10:.1f}"})
    holder = ET.SubElement(element, "edges")
    own = {b.table: b.fields for b in graph.edge_blocks}
    for edge in graph.edges.to_pylist():
        kw = {k: edge[c] for k, c in (("id", "id"), ("source", "source"), ("target", "target"), ("label", "role"))}
        item = ET.SubElement(holder, "edge", {**kw, "kind": edge["role"]})
        values = ET.SubElement(item, "attvalues")
        for name in ("table", "role", "document_id", "start", "end", "quote", *own[edge["table"]]):
            if edge[name] is not None:
                ET.SubElement(values, "attvalue", {"for": name, "value": _cell(edge[name])})
        ET.SubElement(item, "viz:color", graph_module._rgb(role_colours[edge["role"]]))
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def test_gexf_is_what_elementtree_writes_escapes_and_all(graph: Graph):
    positions = layout(graph)
    written = gexf_bytes(graph, positions)
    assert written == _gexf_reference(graph, positions)
    document = ET.fromstring(written)
    nodes = document.findall("g:graph/g:nodes/g:node", GEXF_NS)
    assert [(n.get("id"), n.get("label")) for n in nodes] == [(n["id"], n["label"]) for n in graph.nodes.to_pylist()]
    edges = document.findall("g:graph/g:edges/g:edge", GEXF_NS)
    assert [(e.get("id"), e.get("source"), e.get("target"), e.get("label")) for e in edges] == [
        (e["id"], e["source"], e["target"], e["role"]) for e in graph.edges.to_pylist()
    ]
    for edge, row in zip(edges, graph.edges.to_pylist(), strict=True):
        values = {v.get("for"): v.get("value") for v in edge.iterfind("g:attvalues/g:attvalue", GEXF_NS)}
        assert values.get("quote") == row["quote"]


@pytest.mark.parametrize("which", ["nodes", "edges"])
def test_the_csvs_are_what_the_csv_module_reads_back(graph: Graph, which: str):
    text = nodes_csv(graph) if which == "nodes" else edges_csv(graph)
    table = graph.nodes if which == "nodes" else graph.edges
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == table.column_names
    assert rows[1:] == [[_cell(v) for v in row.values()] for row in table.to_pylist()]
    # QUOTE_MINIMAL as the csv module writes it (a lone carriage return aside, which it leaves bare)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    assert text == out.getvalue()


@pytest.mark.parametrize(
    "value",
    ["plain", "", "a,b", 'say "hi"', "two\nlines", "cr\ronly", "tab\there", "caf\u00e9 \U0001f600", '",\n\r'],
)
def test_one_cell_is_quoted_as_rfc_4180_wants(value: str):
    (cell,) = graph_module._csv_cells(pa.array([value])).to_pylist()
    assert next(csv.reader(io.StringIO(cell + "\n", newline=""))) == ([value] if value else [])
    must_quote = any(c in value for c in ',"\n\r')
    assert cell == ('"' + value.replace('"', '""') + '"' if must_quote else value)


@pytest.mark.parametrize("value", ["plain", "a&b<c>d\"e'f", "line\nbreak\r\n\ttab", "\u00e4\u00df \U0001f600 &amp;"])
def test_xml_escaping_is_elementtrees(value: str):
    escaped = graph_module._escape(pa.array([value]), graph_module.XML_ATTRIBUTE).to_pylist()[0]
    assert escaped == ET._escape_attrib(value)
    assert ET.fromstring(f'<x a="{escaped}" />').get("a") == value
    text = graph_module._escape(pa.array([value]), graph_module.XML_TEXT).to_pylist()[0]
    assert ET.fromstring(f"<x>{text}</x>").text == value  # a carriage return too, as &#13;


def test_batches_change_no_byte(real: ReleaseInput, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    whole, batched = tmp_path / "whole", tmp_path / "batched"
    whole.mkdir()
    batched.mkdir()
    export_graph(real, whole)
    monkeypatch.setattr(graph_module, "BATCH_ROWS", 3)
    export_graph(ReleaseInput(package=real.package, tables=real.tables), batched)
    for path in sorted((whole / graph_module.GRAPH_DIR).iterdir()):
        assert path.read_bytes() == (batched / graph_module.GRAPH_DIR / path.name).read_bytes(), path.name


def _with_table(release: ReleaseInput, name: str, table: Any) -> ReleaseInput:
    return ReleaseInput(package=release.package, tables={**release.tables, name: table})


def test_two_nodes_of_one_key_are_an_export_check_error(real: ReleaseInput):
    actors = real.tables["actors"]
    doubled = pa.concat_tables([actors, actors.slice(2, 1)])
    with pytest.raises(ExportCheckError, match="two nodes of the key 'actors:"):
        graph_of(_with_table(real, "actors", doubled))


def test_two_edges_of_one_key_are_an_export_check_error(real: ReleaseInput):
    rows = real.tables["affiliations"]
    with pytest.raises(ExportCheckError, match="two edges of the key 'affiliations:"):
        graph_of(_with_table(real, "affiliations", pa.concat_tables([rows, rows.slice(0, 1)])))


def test_an_edge_to_no_node_is_an_export_check_error(real: ReleaseInput):
    graph = graph_of(real)
    source = graph.edges.column("source")[0].as_py()
    table, entity = source.split(":", 1)
    rows = real.tables[table]
    key = next(r.primary_key[0] for r in real.package.resources if r.name == table)
    kept = rows.filter(pc.not_equal(rows.column(key), entity))
    with pytest.raises(ExportCheckError, match=re.escape(f"leads to {source!r}, which is no node")):
        graph_of(_with_table(real, table, kept))


def test_an_empty_graph_is_valid_graphml_and_gexf(real: ReleaseInput):
    empty = ReleaseInput(package=real.package, tables={k: t.slice(0, 0) for k, t in real.tables.items()})
    graph = graph_of(empty)
    assert (graph.node_count, graph.edge_count) == (0, 0)
    assert len(nx.read_graphml(io.BytesIO(graphml_bytes(graph)))) == 0
    document = ET.fromstring(gexf_bytes(graph, {}))
    assert document.findall("g:graph/g:nodes/g:node", GEXF_NS) == []
    assert nodes_csv(graph).count("\n") == edges_csv(graph).count("\n") == 1

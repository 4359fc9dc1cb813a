"""The graph of the entities and their relations: GraphML, GEXF, CSVs with Cypher, and the picture.

What the files should hold is worked out here from the data files and the descriptor's JSON, apart from
eurasec's own code: every entity a node, every row of a relation table an edge with its role and citation.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eurasec.build import graph as graph_module
from eurasec.build.context import ReleaseInput
from eurasec.build.graph import (
    CYPHER,
    EDGES_CSV,
    GEXF,
    GRAPH_DIR,
    GRAPHML,
    NODES_CSV,
    SVG,
    export_graph,
    graph_of,
    label_boxes,
    layout,
    neo4j_type,
    picture,
    picture_versions,
    pictured,
    release_input,
)
from eurasec.model.names import release_folder_name

from .conftest import DESCRIPTOR, ROOT, csv_rows, resources
from .synth import generate

nx = pytest.importorskip("networkx")
pytest.importorskip("matplotlib")

FILES = (GRAPHML, GEXF, NODES_CSV, EDGES_CSV, CYPHER, SVG)
COMMITTED_PICTURE = ROOT / "docs" / "network.svg"


@pytest.fixture(scope="module")
def real() -> tuple[ReleaseInput, Path]:
    return release_input(DESCRIPTOR), ROOT


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReleaseInput, Path]:
    root = tmp_path_factory.mktemp("synth") / "pkg"
    generate(root, 1_500, seed=5)
    return release_input(root / "datapackage.json"), root


@pytest.fixture(scope="module", params=["real", "synthetic"])
def package(request: pytest.FixtureRequest) -> tuple[ReleaseInput, Path]:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def exported(package: tuple[ReleaseInput, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the folder holding graph/, the package's root)."""
    release, root = package
    folder = tmp_path_factory.mktemp("release")
    export_graph(release, folder)
    assert sorted(release.written) == sorted(FILES)
    return folder, root


# --- what the data says, worked out apart from eurasec's code ------------------------------------------


def _role_field(resource: dict[str, Any], role: str) -> str | None:
    return next((f["name"] for f in resource["schema"]["fields"] if f.get("eurasec:role") == role), None)


def _references(resource: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, referenced resource) of each one-field foreign key; a self-reference by its own name."""
    return [
        (fk["fields"][0] if isinstance(fk["fields"], list) else fk["fields"], fk["reference"]["resource"] or name)
        for name in [resource["name"]]
        for fk in resource["schema"].get("foreignKeys") or []
        if len(fk["fields"] if isinstance(fk["fields"], list) else [fk["fields"]]) == 1
    ]


def expected(root: Path) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str | None]]]:
    """The nodes (key -> table, entity_id, label) and edges (key -> source, target, role, citation) the data holds."""
    described = resources(root)
    entities = {
        name: r for name, r in described.items() if _role_field(r, "name") and len(r["schema"]["primaryKey"]) == 1
    }
    nodes: dict[str, dict[str, str]] = {}
    edges: dict[str, dict[str, str | None]] = {}
    for name, resource in entities.items():
        (key,) = resource["schema"]["primaryKey"]
        label = _role_field(resource, "name")
        assert label is not None
        own = [field for field, target in _references(resource) if target == name]
        for row in csv_rows(name, root):
            nodes[f"{name}:{row[key]}"] = {"table": name, "entity_id": row[key], "label": row[label]}
            for field in own:
                if row[field]:
                    edges[f"{name}:{row[key]}/{field}"] = {
                        "source": f"{name}:{row[key]}",
                        "target": f"{name}:{row[field]}",
                        "role": field.removesuffix("_id"),
                        "document_id": None,
                        "start": None,
                        "end": None,
                        "quote": None,
                    }
    for name, resource in described.items():
        if name in entities or _role_field(resource, "alias") or not _role_field(resource, "document"):
            continue
        ends = [(field, target) for field, target in _references(resource) if target in entities]
        if len(ends) < 2:
            continue
        assert len(ends) == 2, "this test knows relation tables of two entities"
        enums = [
            f["name"]
            for f in resource["schema"]["fields"]
            if (f.get("constraints") or {}).get("enum") and f["name"] not in {e[0] for e in ends}
        ]
        cited = {role: _role_field(resource, role) for role in ("document", "start", "end", "quote")}
        for row in csv_rows(name, root):
            key = f"{name}:" + "/".join(row[k] for k in resource["schema"]["primaryKey"])
            edges[key] = {
                "source": f"{ends[0][1]}:{row[ends[0][0]]}",
                "target": f"{ends[1][1]}:{row[ends[1][0]]}",
                "role": row[enums[0]] if enums else ends[1][0].removesuffix("_id"),
                "document_id": row[cited["document"]] if cited["document"] else None,
                "start": row[cited["start"]] if cited["start"] else None,
                "end": row[cited["end"]] if cited["end"] else None,
                "quote": row[cited["quote"]] if cited["quote"] else None,
            }
    return nodes, edges


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- the files ------------------------------------------------------------------------------------------


def test_the_real_data_has_relations_of_every_kind(real: tuple[ReleaseInput, Path]):
    nodes, edges = expected(ROOT)
    tables = {node["table"] for node in nodes.values()}
    assert tables == {"actors", "organizations", "initiatives"}
    assert {key.split(":")[0] for key in edges} >= {
        "actor_relations", "affiliations", "initiative_actors", "initiative_organizations", "initiative_parts",
        "organizations",  # an organization's parent
    }  # fmt: skip
    graph = graph_of(real[0])
    assert (len(graph.nodes), len(graph.edges)) == (len(nodes), len(edges))


def test_graphml_read_back_holds_every_entity_and_every_relation_row(exported: tuple[Path, Path]):
    folder, root = exported
    nodes, edges = expected(root)
    network = nx.read_graphml(folder / GRAPHML, force_multigraph=True)
    assert network.is_directed()
    assert sorted(network.nodes) == sorted(nodes)
    for key, node in nodes.items():
        data = network.nodes[key]
        assert (data["table"], data["entity_id"], data["label"]) == (node["table"], node["entity_id"], node["label"])
    found = {key: (source, target, data) for source, target, key, data in network.edges(keys=True, data=True)}
    assert sorted(found) == sorted(edges)
    assert network.number_of_edges() == len(edges)
    for key, edge in edges.items():
        source, target, data = found[key]
        assert (source, target) == (edge["source"], edge["target"]), key
        assert data["role"] == data["label"] == edge["role"], key
        for name in ("document_id", "start", "end", "quote"):
            value = data.get(name)
            assert (None if value is None else str(value)) == edge[name], (key, name)


def test_the_csvs_hold_every_node_and_edge_and_the_edges_lead_to_nodes(exported: tuple[Path, Path]):
    folder, root = exported
    nodes, edges = expected(root)
    node_rows, edge_rows = read_csv(folder / NODES_CSV), read_csv(folder / EDGES_CSV)
    assert [r["id"] for r in node_rows] == sorted(nodes, key=lambda k: (nodes[k]["table"], nodes[k]["entity_id"]))
    assert {r["id"]: {k: r[k] for k in ("table", "entity_id", "label")} for r in node_rows} == nodes
    assert len(edge_rows) == len(edges)
    for row in edge_rows:
        edge = edges[row["id"]]
        assert {k: row[k] for k in edge} == {k: v or "" for k, v in edge.items()}, row["id"]
        assert row["source"] in nodes and row["target"] in nodes


def test_gexf_holds_the_same_graph_with_colours_positions_and_no_date(exported: tuple[Path, Path]):
    folder, root = exported
    nodes, edges = expected(root)
    ns = {"g": "http://gexf.net/1.3", "viz": "http://gexf.net/1.3/viz"}
    document = ET.parse(folder / GEXF).getroot()
    meta = document.find("g:meta", ns)
    assert meta is not None and "lastmodifieddate" not in meta.attrib
    declared = {
        kind: {a.get("id") for a in document.iterfind(f"g:graph/g:attributes[@class='{kind}']/g:attribute", ns)}
        for kind in ("node", "edge")
    }
    found_nodes = document.findall("g:graph/g:nodes/g:node", ns)
    assert {n.get("id"): n.get("label") for n in found_nodes} == {k: v["label"] for k, v in nodes.items()}
    for node in found_nodes:
        assert node.find("viz:color", ns) is not None
        assert {v.get("for") for v in node.iterfind("g:attvalues/g:attvalue", ns)} <= declared["node"]
    found_edges = document.findall("g:graph/g:edges/g:edge", ns)
    assert {e.get("id"): (e.get("source"), e.get("target"), e.get("label")) for e in found_edges} == {
        k: (v["source"], v["target"], v["role"]) for k, v in edges.items()
    }
    for edge in found_edges:
        values = {v.get("for"): v.get("value") for v in edge.iterfind("g:attvalues/g:attvalue", ns)}
        assert set(values) <= declared["edge"]
        assert values.get("quote") == edges[edge.get("id", "")]["quote"]
        assert "start" not in edge.attrib and "end" not in edge.attrib  # offsets are data, never GEXF time


def test_the_gexf_positions_are_the_pictures(exported: tuple[Path, Path], package: tuple[ReleaseInput, Path]):
    folder, _ = exported
    positions = layout(graph_of(package[0]))
    ns = {"g": "http://gexf.net/1.3", "viz": "http://gexf.net/1.3/viz"}
    document = ET.parse(folder / GEXF).getroot()
    placed = {}
    for node in document.iterfind("g:graph/g:nodes/g:node", ns):
        position = node.find("viz:position", ns)
        if position is not None:
            placed[node.get("id")] = (float(position.get("x", "")), float(position.get("y", "")))
    assert set(placed) == set(positions)
    for key, (x, y) in positions.items():
        assert placed[key] == pytest.approx((x * 72, y * 72), abs=0.06)


def test_the_cypher_script_loads_each_table_and_each_role(exported: tuple[Path, Path]):
    folder, root = exported
    nodes, edges = expected(root)
    script = (folder / CYPHER).read_text(encoding="utf-8")
    statements = [s.strip() for s in script.split(";\n") if s.strip() and not s.strip().startswith("//")]
    loads = [s for s in statements if "LOAD CSV" in s]
    for table in {n["table"] for n in nodes.values()}:
        assert sum(f"row.table = '{table}'" in s and "nodes.csv" in s for s in loads) == 1, table
    for role in {e["role"] for e in edges.values()}:
        assert role is not None
        (statement,) = [s for s in loads if f"row.role = '{role}'" in s]
        assert f"[r:`{neo4j_type(role)}` {{key: row.id}}]" in statement
        assert neo4j_type(role).replace("_", "").isalnum()
    headers = {
        name: next(csv.reader(io.StringIO((folder / GRAPH_DIR / name).read_text(encoding="utf-8"))))
        for name in ("nodes.csv", "edges.csv")
    }
    for statement in loads:
        (name,) = re.findall(r"file:///(\w+\.csv)", statement)
        columns = set(re.findall(r"row\.`([^`]+)`", statement)) | set(re.findall(r"row\.(\w+)", statement))
        assert columns and columns <= set(headers[name]), statement


def test_the_picture_names_every_entity_it_shows_and_every_role(exported: tuple[Path, Path], package: tuple):
    folder, _ = exported
    release = package[0]
    graph = graph_of(release)
    positions = layout(graph)
    document = ET.parse(folder / SVG).getroot()
    texts = {"".join(t.itertext()) for t in document.iter("{http://www.w3.org/2000/svg}text")}
    shown = pictured(graph)
    assert {n.key for n in shown} == set(positions)
    for node in shown:
        assert set(graph_module._label_lines(node)) <= texts, node.key
    for role, count in graph.count_by("role").items():
        assert f"{role} ({count})" in texts
    svg = (folder / SVG).read_text(encoding="utf-8")
    assert "<dc:date>" not in svg


def test_the_picture_shows_the_most_connected_entities_and_every_arrow_among_them(package: tuple[ReleaseInput, Path]):
    release, root = package
    nodes, edges = expected(root)
    degree = Counter(dict.fromkeys(nodes, 0))
    for edge in edges.values():
        degree[str(edge["source"])] += 1
        degree[str(edge["target"])] += 1
    top = sorted(nodes, key=lambda k: (-degree[k], k))[: graph_module.MAX_PICTURE_NODES]
    graph = graph_of(release)
    view = graph.overview
    assert [n.key for n in pictured(graph)] == sorted(top, key=lambda k: (nodes[k]["table"], nodes[k]["entity_id"]))
    assert [(n.table, n.id, n.label) for n in view.nodes] == [
        (nodes[n.key]["table"], nodes[n.key]["entity_id"], nodes[n.key]["label"]) for n in view.nodes
    ]
    assert view.degree == {k: degree[k] for k in top}
    among = set(top)
    arrows = Counter(
        (e["source"], e["target"], e["role"]) for e in edges.values() if {e["source"], e["target"]} <= among
    )
    assert view.arrows == dict(arrows)
    assert graph.count_by("role") == Counter(str(e["role"]) for e in edges.values())
    assert graph.count_by("table") == Counter(n["table"] for n in nodes.values())


def test_no_two_labels_of_the_picture_overlap(package: tuple[ReleaseInput, Path]):
    graph = graph_of(package[0])
    positions = layout(graph)
    assert len(positions) == min(len(graph.nodes), graph_module.MAX_PICTURE_NODES)
    boxes = label_boxes(pictured(graph), graph.overview.degree)
    spans = sorted(
        (x - boxes[k].left, x + boxes[k].left, y - boxes[k].down, y + boxes[k].up, k) for k, (x, y) in positions.items()
    )
    slack = 0.005  # inches: positions are rounded to thousandths
    for i, (_, right, bottom, top, key) in enumerate(spans):
        for other_left, _, other_bottom, other_top, other in spans[i + 1 :]:
            if other_left >= right - slack:
                break
            assert other_bottom >= top - slack or other_top <= bottom + slack, (key, other)


# --- determinism ----------------------------------------------------------------------------------------

EXPORT = (
    "import sys; from pathlib import Path; from eurasec.build.graph import export_graph, release_input;"
    " Path(sys.argv[2]).mkdir(); export_graph(release_input(sys.argv[1]), Path(sys.argv[2]))"
)


def test_two_builds_in_two_processes_are_byte_identical(real: tuple[ReleaseInput, Path], tmp_path: Path):
    """Each process hashes strings with its own seed: any order taken from a set or a dict of them shows."""
    here = tmp_path / "here"
    here.mkdir()
    export_graph(real[0], here)
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", EXPORT, str(DESCRIPTOR), str(out)], env=env, check=True, timeout=120)
        for relative in FILES:
            assert (out / relative).read_bytes() == (here / relative).read_bytes(), (seed, relative)


def _data_changed_since_the_picture() -> bool | None:
    """Whether the data (descriptor, tables, seeds) changed after docs/network.svg was last committed, in
    git's history or in the working tree; None outside a git checkout."""

    def git(*args: str) -> str | None:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60)
        return result.stdout.strip() if result.returncode == 0 else None

    data = ["datapackage.json", "data", "seeds"]
    picture_commit = git("log", "-1", "--format=%H", "--", "docs/network.svg")
    if not picture_commit:
        return None
    later = git("log", "--format=%H", f"{picture_commit}..HEAD", "--", *data)
    uncommitted = git("status", "--porcelain", "--", *data)
    if later is None or uncommitted is None:
        return None
    return bool(later or uncommitted)


def test_the_committed_picture_is_the_one_the_build_makes_from_the_data(real: tuple[ReleaseInput, Path]):
    # The picture is a snapshot, refreshed with the release: a contribution that changes the data after it
    # leaves it as it is (and this test green); while the data is the snapshot's, the bytes must be the build's.
    committed_svg = ET.fromstring(COMMITTED_PICTURE.read_bytes())
    assert committed_svg.tag.endswith("svg")
    release = real[0]
    made = picture(release)
    committed = COMMITTED_PICTURE.read_text(encoding="utf-8")
    if committed.encode("utf-8") == made:
        return  # the snapshot is the current data's picture, whatever changed since it was drawn
    if _data_changed_since_the_picture() is not False:
        pytest.skip("the data changed since docs/network.svg was drawn (or this is no git checkout)")
    folder = f"build/{release_folder_name(release.package)}"
    installed = picture_versions()
    made_with = re.search(r"networkx (\S+) and drawn by matplotlib (\S+)<", committed)
    versions = "" if made_with is None else f"made with networkx {made_with[1]} and matplotlib {made_with[2]}, "
    assert committed.encode("utf-8") == made, (
        f"docs/network.svg ({versions}here networkx {installed['networkx']} and matplotlib"
        f" {installed['matplotlib']}) is not the picture the build makes of the current data: run `eurasec build`,"
        f" then `cp {folder}/{SVG} docs/network.svg`, and look at it"
    )


def test_importing_eurasec_loads_neither_matplotlib_nor_networkx():
    code = (
        "import sys, eurasec, eurasec.build, eurasec.build.graph;"
        " print(sorted(m for m in ('matplotlib', 'networkx') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"

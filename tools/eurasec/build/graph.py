"""The entities as a network: GraphML, GEXF, node and edge CSVs with a Cypher script, and a picture.

Every entity (a row of a table with a field of role `name` and a one-field primary key, as in
model/mentions.py) is a node. Every row of a relation table (a table of cited facts with foreign keys
into two or more entity tables; an alias table aside) is an edge from the row's first entity to each
other one, in the order the descriptor declares the keys, carrying

- its role: the row's own enum field that is no key into an entity table (`relation`, `role`), or,
  where the table has none, the name of the target's key without `_id` (`part`);
- its citation: the fields of roles `document`, `start`, `end` and `quote`;
- the row's other fields (an affiliation's `position`).

An entity's key into its own table (an organization's `parent_id`) is an edge too, with no citation.
All of it is found from the descriptor's roles and foreign keys, never from a table's name.

The release's graph/ folder holds eurasec.graphml (networkx, igraph, Gephi, yEd), eurasec.gexf (Gephi,
Gephi Lite: with the picture's colours and positions), nodes.csv and edges.csv with load.cypher (Neo4j's
LOAD CSV), and eurasec.svg, the picture: networkx's spring layout drawn by matplotlib, nodes coloured
by table, edges by role. Every file is deterministic: nodes and edges sorted, a fixed layout seed, no
date and no random id. networkx and matplotlib are imported here only when a graph is written, so that
`import eurasec` and `eurasec --help` never load them.

docs/network.svg, which README shows, is the release's graph/eurasec.svg of the data in the repository.
"""

from __future__ import annotations

import csv
import io
import math
import re
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.descriptor import ALIAS, DESCRIPTOR_NAME, DOCUMENT, END, NAME, QUOTE, START, Package, Resource
from ..model.mentions import entity_tables
from .context import ExportCheckError, ReleaseInput

if TYPE_CHECKING:
    from matplotlib.axes import Axes

GRAPH_DIR = "graph"
GRAPHML = f"{GRAPH_DIR}/eurasec.graphml"
GEXF = f"{GRAPH_DIR}/eurasec.gexf"
NODES_CSV = f"{GRAPH_DIR}/nodes.csv"
EDGES_CSV = f"{GRAPH_DIR}/edges.csv"
CYPHER = f"{GRAPH_DIR}/load.cypher"
SVG = f"{GRAPH_DIR}/eurasec.svg"

LAYOUT_SEED = 17  # the spring layout's seed: the same picture on every build
LAYOUT_ITERATIONS = 300
SPREAD = 4.0  # a group of connected nodes is laid out on a square this many times the room of their labels
ASPECT = 1.5  # a group is laid out this much wider than high: labels are wider than high, and so are screens
SEPARATION_ROUNDS = 2000  # at most, to push overlapping labels apart
MAX_PICTURE_NODES = 120  # the picture shows at most the most connected entities, to stay readable
HASH_SALT = "eurasec"  # matplotlib's SVG ids are hashes salted with this, instead of a random salt
FONT = "DejaVu Sans"  # ships with matplotlib: the same metrics everywhere
LABEL_WIDTH = 22  # characters per line of a node's label
LABEL_SIZE = 8.0  # points
LINE_HEIGHT = 1.2  # of a label's lines, in font sizes
LABEL_PAD = 1.5  # points of white around a label
BOX_MARGIN = 2.0  # points between two nodes' boxes, at the least
GAP = 0.6  # inches between groups of nodes
MIN_WIDTH = 9.0  # inches: the rows of small groups are at least this wide
MARGIN = 0.3  # inches around the network
TITLE_HEIGHT = 0.9  # inches above it
LEGEND_WIDTH = 3.4  # inches beside it

# One colour a table and a marker a table, in the order of the descriptor's entity tables; one a role, by name.
NODE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
NODE_MARKERS = ("o", "s", "D", "^", "v", "p", "h", "*", "P")
ROLE_COLOURS = (  # Kelly's colours of maximum contrast, the faintest on white last
    "#be0032", "#0067a5", "#008856", "#f38400", "#875692", "#882d17", "#e68fac", "#2b3d26", "#8db600", "#848482",
    "#604e97", "#f6a600", "#b3446c", "#654522", "#e25822", "#a1caf1", "#c2b280", "#dcd300", "#f99379", "#f3c300",
)  # fmt: skip

Value = str | int | float | bool

# The columns every node and edge has, named as Gephi's spreadsheet import expects (`id`, `label`, `source`,
# `target`): `id` is the graph's key, `entity_id` the entity's own. A field of one of these names is left out.
NODE_COLUMNS = ("id", "label", "table", "entity_id")
EDGE_COLUMNS = ("id", "source", "target", "table", "role", "document_id", "start", "end", "quote", "label")


@dataclass(frozen=True)
class Node:
    key: str  # "<table>:<id>", unique in the graph
    table: str
    id: str
    label: str  # the entity's name
    fields: tuple[tuple[str, Value], ...]  # the entity's other non-empty fields, in the descriptor's order


@dataclass(frozen=True)
class Edge:
    key: str  # "<table>:<primary key values joined by '/'>", unique in the graph
    table: str
    role: str
    source: str  # node keys
    target: str
    document_id: str | None
    start: int | None
    end: int | None
    quote: str | None
    fields: tuple[tuple[str, Value], ...]  # the row's other non-empty fields


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]  # sorted by table, then id
    edges: tuple[Edge, ...]  # sorted by table, then the row's primary key
    tables: tuple[str, ...]  # the entity tables, in the descriptor's order
    node_fields: tuple[tuple[str, str], ...]  # (name, Table Schema type) of the nodes' own fields
    edge_fields: tuple[tuple[str, str], ...]  # (name, Table Schema type) of the edges' own fields
    table_fields: tuple[tuple[str, tuple[str, ...]], ...]  # (entity table, the node fields it has)

    def count_by(self, what: str) -> Counter[str]:
        """Nodes per table (what="table") or edges per role (what="role")."""
        items: Iterable[Node | Edge] = self.nodes if what == "table" else self.edges
        return Counter(getattr(item, what) for item in items)


@dataclass(frozen=True)
class RelationTable:
    resource: Resource
    ends: tuple[tuple[str, str], ...]  # (field, entity table) of each key into an entity table, in order
    role: str | None  # the enum field that says the relation; None where there is none


# --- the graph, from the descriptor and the typed tables ------------------------------------------------


def relation_tables(package: Package) -> list[RelationTable]:
    """Tables of cited facts with keys into two or more entity tables, an alias table aside; in descriptor order."""
    entities = {r.name: r for r in entity_tables(package)}
    found = []
    for resource in package.resources:
        if resource.name in entities or resource.role_field(ALIAS) or resource.role_field(DOCUMENT) is None:
            continue
        ends = tuple(
            (fk.fields[0], fk.resource)
            for fk in resource.foreign_keys
            if len(fk.fields) == 1
            and fk.resource in entities
            and fk.reference_fields == entities[fk.resource].primary_key
        )
        if len(ends) < 2:
            continue
        keys = {name for name, _ in ends}
        role = next((f.name for f in resource.fields if f.enum and f.name not in keys), None)
        found.append(RelationTable(resource, ends, role))
    return found


def _self_keys(resource: Resource) -> list[str]:
    """The fields by which an entity refers to another of its own table (an organization's parent)."""
    return [
        fk.fields[0]
        for fk in resource.foreign_keys
        if len(fk.fields) == 1 and fk.resource == resource.name and fk.reference_fields == resource.primary_key
    ]


def _role_of_key(field: str) -> str:
    return field.removesuffix("_id") or field


def _plain(value: Any) -> Value:
    """A typed cell as a value every format can hold: dates and the like as their ISO text."""
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _column_types(resources: Iterable[tuple[Resource, Iterable[str]]]) -> dict[str, str]:
    """Each extra column's Table Schema type; "string" where two tables disagree."""
    types: dict[str, str] = {}
    for resource, names in resources:
        for name in names:
            kind = resource.field(name).type
            types[name] = kind if types.get(name, kind) == kind else "string"
    return types


def _as(kind: str, value: Value) -> Value:
    """A value as its column's type: text where tables disagree on the type."""
    if kind in ("integer", "number", "boolean"):
        return value
    return value if isinstance(value, str) else str(value)


def graph_of(release: ReleaseInput) -> Graph:
    """The entities and their relations, sorted; ExportCheckError if two nodes or two edges share a key."""
    package, tables = release.package, release.tables
    entities = entity_tables(package)
    relations = relation_tables(package)

    node_extras: list[tuple[Resource, list[str]]] = []
    for resource in entities:
        name = resource.role_field(NAME)
        assert name is not None  # entity_tables made sure
        skip = {resource.primary_key[0], name.name, *NODE_COLUMNS}
        node_extras.append((resource, [f.name for f in resource.fields if f.name not in skip]))
    edge_extras: list[tuple[Resource, list[str]]] = []
    for relation in relations:
        resource = relation.resource
        skip = {name for name, _ in relation.ends} | set(EDGE_COLUMNS) | _citation_fields(resource)
        if relation.role:
            skip.add(relation.role)
        edge_extras.append((resource, [f.name for f in resource.fields if f.name not in skip]))
    node_types, edge_types = _column_types(node_extras), _column_types(edge_extras)

    nodes: list[tuple[tuple[Any, ...], Node]] = []
    edges: list[tuple[tuple[Any, ...], Edge]] = []
    for resource, extras in node_extras:
        key_field = resource.primary_key[0]
        name = resource.role_field(NAME)
        assert name is not None
        self_keys = _self_keys(resource)
        for row in tables[resource.name].to_pylist():
            entity = str(row[key_field])
            fields = tuple((f, _as(node_types[f], _plain(row[f]))) for f in extras if _present(row[f]))
            node = Node(f"{resource.name}:{entity}", resource.name, entity, str(row[name.name] or ""), fields)
            nodes.append(((resource.name, entity), node))
            for field in self_keys:
                if _present(row[field]):
                    target = f"{resource.name}:{row[field]}"
                    key = f"{resource.name}:{entity}/{field}"
                    edge = Edge(key, resource.name, _role_of_key(field), node.key, target, None, None, None, None, ())
                    edges.append(((resource.name, (entity,), field), edge))
    for relation, (_, extras) in zip(relations, edge_extras, strict=True):
        edges.extend(_relation_edges(relation, tables[relation.resource.name].to_pylist(), extras, edge_types))

    nodes.sort(key=lambda item: item[0])
    edges.sort(key=lambda item: item[0])
    graph = Graph(
        nodes=tuple(node for _, node in nodes),
        edges=tuple(edge for _, edge in edges),
        tables=tuple(r.name for r in entities),
        node_fields=tuple(node_types.items()),
        edge_fields=tuple(edge_types.items()),
        table_fields=tuple((resource.name, tuple(extras)) for resource, extras in node_extras),
    )
    _check_keys(graph)
    return graph


def _citation_fields(resource: Resource) -> set[str]:
    return {f.name for role in (DOCUMENT, START, END, QUOTE) if (f := resource.role_field(role)) is not None}


def _relation_edges(
    relation: RelationTable, rows: list[dict[str, Any]], extras: list[str], types: dict[str, str]
) -> list[tuple[tuple[Any, ...], Edge]]:
    resource = relation.resource
    document, start, end, quote = (resource.role_field(role) for role in (DOCUMENT, START, END, QUOTE))
    found = []
    for number, row in enumerate(rows):
        ends = [(field, table) for field, table in relation.ends if _present(row[field])]
        if len(ends) < 2:
            continue
        primary = tuple(row[k] for k in resource.primary_key) if resource.primary_key else (number,)
        (_, source_table), *others = ends
        source = f"{source_table}:{row[ends[0][0]]}"
        fields = tuple((f, _as(types[f], _plain(row[f]))) for f in extras if _present(row[f]))
        for field, table in others:
            key = f"{resource.name}:{'/'.join(str(_plain(v)) for v in primary)}"
            if len(relation.ends) > 2:
                key += f"/{field}"
            own_role = row[relation.role] if relation.role else None
            role = str(own_role) if _present(own_role) else _role_of_key(field)
            edge = Edge(
                key=key,
                table=resource.name,
                role=role,
                source=source,
                target=f"{table}:{row[field]}",
                document_id=None if document is None or row[document.name] is None else str(row[document.name]),
                start=None if start is None else row[start.name],
                end=None if end is None else row[end.name],
                quote=None if quote is None else row[quote.name],
                fields=fields,
            )
            found.append(((resource.name, primary, field), edge))
    return found


def _check_keys(graph: Graph) -> None:
    for what, keys in (("node", [n.key for n in graph.nodes]), ("edge", [e.key for e in graph.edges])):
        twice = sorted(key for key, count in Counter(keys).items() if count > 1)
        if twice:
            raise ExportCheckError(f"the graph has two {what}s of the key {twice[0]!r}")
    known = {n.key for n in graph.nodes}
    for edge in graph.edges:
        for end in (edge.source, edge.target):
            if end not in known:  # validation checks every foreign key: this is eurasec's fault
                raise ExportCheckError(f"the edge {edge.key!r} leads to {end!r}, which is no node")


# --- the files ------------------------------------------------------------------------------------------


def export_graph(release: ReleaseInput, folder: Path) -> None:
    """Write graph/: GraphML, GEXF, node and edge CSVs with a Cypher script, and the SVG picture."""
    graph = graph_of(release)
    positions = layout(graph)
    (folder / GRAPH_DIR).mkdir(exist_ok=True)
    files = {
        GRAPHML: graphml_bytes(graph),
        GEXF: gexf_bytes(graph, positions),
        NODES_CSV: nodes_csv(graph).encode("utf-8"),
        EDGES_CSV: edges_csv(graph).encode("utf-8"),
        CYPHER: cypher_script(graph).encode("utf-8"),
        SVG: svg_bytes(graph, positions, str(release.package.raw.get("title") or release.package.name)),
    }
    for relative, data in files.items():
        (folder / relative).write_bytes(data)
        release.written[relative] = folder / relative


def _node_attributes(node: Node) -> dict[str, Value]:
    return {"table": node.table, "entity_id": node.id, "label": node.label, **dict(node.fields)}


def _edge_attributes(edge: Edge) -> dict[str, Value]:
    cited = {"document_id": edge.document_id, "start": edge.start, "end": edge.end, "quote": edge.quote}
    return {
        "table": edge.table,
        "role": edge.role,
        "label": edge.role,  # what Gephi and yEd show on an edge
        **{name: value for name, value in cited.items() if value is not None},
        **dict(edge.fields),
    }


def graphml_bytes(graph: Graph) -> bytes:
    """GraphML by networkx: node ids are the node keys, edge ids the edge keys; empty values are left out."""
    import networkx as nx

    network: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    for node in graph.nodes:
        network.add_node(node.key, **_node_attributes(node))
    for edge in graph.edges:
        network.add_edge(edge.source, edge.target, key=edge.key, **_edge_attributes(edge))
    out = io.BytesIO()
    nx.write_graphml(network, out, encoding="utf-8", prettyprint=True)
    return out.getvalue()


GEXF_TYPES = {"integer": "long", "number": "double", "boolean": "boolean"}  # anything else is a string


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def gexf_bytes(graph: Graph, positions: dict[str, tuple[float, float]]) -> bytes:
    """GEXF 1.3, written here rather than by networkx: no date in its meta, and the edges' `start` and `end`
    (offsets in the text) stay data instead of becoming GEXF's time spells. Nodes carry the picture's colours
    and positions, so that Gephi opens it as the picture shows it."""
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
            kw = {"id": name, "title": name, "type": GEXF_TYPES.get(schema_type, "string")}
            ET.SubElement(attributes, "attribute", kw)
    node_colours, role_colours = table_colours(graph), role_colours_of(graph)
    degree = _degrees(graph)
    nodes = ET.SubElement(element, "nodes")
    for node in graph.nodes:
        item = ET.SubElement(nodes, "node", {"id": node.key, "label": node.label})
        _attvalues(item, {"table": node.table, "entity_id": node.id, **dict(node.fields)})
        ET.SubElement(item, "viz:color", _rgb(node_colours[node.table]))
        if node.key in positions:
            x, y = positions[node.key]
            ET.SubElement(item, "viz:position", {"x": f"{x * 72:.1f}", "y": f"{y * 72:.1f}", "z": "0.0"})
        ET.SubElement(item, "viz:size", {"value": f"{_size(degree[node.key]) / 10:.1f}"})
    edges = ET.SubElement(element, "edges")
    for edge in graph.edges:
        kw = {"id": edge.key, "source": edge.source, "target": edge.target, "label": edge.role, "kind": edge.role}
        item = ET.SubElement(edges, "edge", kw)
        _attvalues(item, {k: v for k, v in _edge_attributes(edge).items() if k != "label"})
        ET.SubElement(item, "viz:color", _rgb(role_colours[edge.role]))
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _attvalues(parent: ET.Element, values: dict[str, Value]) -> None:
    holder = ET.SubElement(parent, "attvalues")
    for name, value in values.items():
        ET.SubElement(holder, "attvalue", {"for": name, "value": _text(value)})


def _rgb(colour: str) -> dict[str, str]:
    return {"r": str(int(colour[1:3], 16)), "g": str(int(colour[3:5], 16)), "b": str(int(colour[5:7], 16))}


def _csv(header: Sequence[str], rows: Iterable[Sequence[Value | None]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else _text(value) for value in row])
    return out.getvalue()


def nodes_csv(graph: Graph) -> str:
    """One row per node: its key (`id`), name (`label`), table and the entity's id, then the entity's own fields."""
    extra = [name for name, _ in graph.node_fields]
    rows = ([n.key, n.label, n.table, n.id, *(dict(n.fields).get(f) for f in extra)] for n in graph.nodes)
    return _csv([*NODE_COLUMNS, *extra], rows)


def edges_csv(graph: Graph) -> str:
    """One row per edge: its key (`id`), source and target node keys, table, role, citation, then the row's
    own fields."""
    extra = [name for name, _ in graph.edge_fields]

    def row(e: Edge) -> list[Value | None]:
        return [e.key, e.source, e.target, e.table, e.role, e.document_id, e.start, e.end, e.quote] + [
            dict(e.fields).get(f) for f in extra
        ]

    return _csv([*EDGE_COLUMNS[:-1], *extra], (row(e) for e in graph.edges))  # no `label`: the role is one


def neo4j_label(table: str) -> str:
    """A table's node label: its name in CamelCase and in the singular (actors -> Actor)."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", table) if w]
    if words and words[-1].endswith("ies"):
        words[-1] = words[-1][:-3] + "y"
    elif words and words[-1].endswith("s") and not words[-1].endswith("ss"):
        words[-1] = words[-1][:-1]
    return "".join(w[:1].upper() + w[1:] for w in words) or "Entity"


def neo4j_type(role: str) -> str:
    """A role's relationship type: upper case, anything else than a letter or digit an underscore."""
    return re.sub(r"[^A-Z0-9]+", "_", role.upper()).strip("_") or "RELATED"


def _name(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def _string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _cypher_value(column: str, schema_type: str) -> str:
    cell = f"row.{_name(column)}"
    if schema_type == "integer":
        return f"toInteger({cell})"
    if schema_type == "number":
        return f"toFloat({cell})"
    if schema_type == "boolean":
        return f"toBoolean({cell})"
    return f"CASE {cell} WHEN '' THEN null ELSE {cell} END"  # an empty cell sets no property


def cypher_script(graph: Graph) -> str:
    """LOAD CSV statements for Neo4j 5: every node an :Entity with its table's label, every edge typed by role."""
    node_types = dict(graph.node_fields)
    edge_types = {"document_id": "string", "start": "integer", "end": "integer", "quote": "string"}
    edge_types.update(graph.edge_fields)
    fields_of = dict(graph.table_fields)
    lines = [
        "// Load the eurasec graph into Neo4j 5: copy nodes.csv and edges.csv into the database's import",
        "// folder, then run `cypher-shell -u neo4j -p <password> -f load.cypher`. Running it again changes",
        "// nothing: nodes and relationships are merged by their key.",
        "CREATE CONSTRAINT entity_key IF NOT EXISTS FOR (n:Entity) REQUIRE n.key IS UNIQUE;",
        "",
    ]
    for table in graph.tables:
        sets = [f"n:{_name(neo4j_label(table))}", "n.table = row.table", "n.id = row.entity_id", "n.name = row.label"]
        sets += [f"n.{_name(f)} = {_cypher_value(f, node_types[f])}" for f in fields_of[table]]
        lines += [
            "LOAD CSV WITH HEADERS FROM 'file:///nodes.csv' AS row",
            f"WITH row WHERE row.table = {_string(table)}",
            "MERGE (n:Entity {key: row.id})",
            "SET " + ",\n    ".join(sets) + ";",
            "",
        ]
    extras = [name for name, _ in graph.edge_fields]
    for role in sorted({e.role for e in graph.edges}):
        sets = ["r.table = row.table", "r.role = row.role"]
        sets += [f"r.{_name(f)} = {_cypher_value(f, edge_types[f])}" for f in ("document_id", "start", "end", "quote")]
        sets += [f"r.{_name(f)} = {_cypher_value(f, edge_types[f])}" for f in extras]
        lines += [
            "LOAD CSV WITH HEADERS FROM 'file:///edges.csv' AS row",
            f"WITH row WHERE row.role = {_string(role)}",
            "MATCH (source:Entity {key: row.source}), (target:Entity {key: row.target})",
            f"MERGE (source)-[r:{_name(neo4j_type(role))} {{key: row.id}}]->(target)",
            "SET " + ",\n    ".join(sets) + ";",
            "",
        ]
    return "\n".join(lines)


# --- the picture ----------------------------------------------------------------------------------------
#
# Laid out in inches, on the page as it will be drawn: each group of connected entities by networkx's spring
# layout, scaled to the room its labels need, then its nodes with their labels pushed apart until none
# overlap; the smaller groups, then the entities without a relation, in rows below the largest. The figure
# is as large as the result, so nothing is scaled down and no label shrinks into another.


def table_colours(graph: Graph) -> dict[str, str]:
    return {table: NODE_COLOURS[i % len(NODE_COLOURS)] for i, table in enumerate(graph.tables)}


def role_colours_of(graph: Graph) -> dict[str, str]:
    roles = sorted({e.role for e in graph.edges})
    return {role: ROLE_COLOURS[i % len(ROLE_COLOURS)] for i, role in enumerate(roles)}


def _degrees(graph: Graph) -> Counter[str]:
    degree: Counter[str] = Counter({n.key: 0 for n in graph.nodes})
    for edge in graph.edges:
        degree[edge.source] += 1
        degree[edge.target] += 1
    return degree


def _size(degree: int) -> float:
    """A node's marker area in points²: grows with the square root of its degree."""
    return 60.0 + 45.0 * math.sqrt(degree)


def _radius(degree: int) -> float:
    """A node's marker radius in points."""
    return math.sqrt(_size(degree)) / 2


def pictured(graph: Graph) -> list[Node]:
    """The nodes the picture shows: all, or the MAX_PICTURE_NODES most connected (then by key)."""
    if len(graph.nodes) <= MAX_PICTURE_NODES:
        return list(graph.nodes)
    degree = _degrees(graph)
    chosen = sorted(graph.nodes, key=lambda n: (-degree[n.key], n.key))[:MAX_PICTURE_NODES]
    return sorted(chosen, key=lambda n: (n.table, n.id))


def _label_lines(node: Node) -> list[str]:
    return textwrap.wrap(node.label, LABEL_WIDTH) or [node.key]


@dataclass(frozen=True)
class LabelBox:
    """The room a node and its label take, in inches around the node's centre."""

    left: float  # = right: the label is centred under the node
    up: float
    down: float


def label_boxes(nodes: Sequence[Node], degree: Counter[str]) -> dict[str, LabelBox]:
    """Each node's room, from its label's measured width in the picture's font."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    measure, font = TextToPath(), FontProperties(family=FONT, size=LABEL_SIZE)
    boxes = {}
    for node in nodes:
        lines = _label_lines(node)
        width = max(measure.get_text_width_height_descent(line, font, ismath=False)[0] for line in lines)
        radius = _radius(degree[node.key])
        half = max(width / 2 + LABEL_PAD, radius) + BOX_MARGIN
        below = radius + 2 + len(lines) * LABEL_SIZE * LINE_HEIGHT + 2 * LABEL_PAD + BOX_MARGIN
        boxes[node.key] = LabelBox(half / 72, (radius + BOX_MARGIN) / 72, below / 72)
    return boxes


def layout(graph: Graph) -> dict[str, tuple[float, float]]:
    """Positions of the pictured nodes in inches, from (0, 0) at the bottom left of their boxes; rounded, so
    that the last bits of floating point never reach a file."""
    import networkx as nx
    import numpy as np

    nodes = pictured(graph)
    if not nodes:
        return {}
    degree = _degrees(graph)
    boxes = label_boxes(nodes, degree)
    shown = set(boxes)
    network: nx.Graph[str] = nx.Graph()
    network.add_nodes_from(n.key for n in nodes)
    pairs = {(min(e.source, e.target), max(e.source, e.target)) for e in graph.edges if {e.source, e.target} <= shown}
    network.add_edges_from(sorted(pairs))
    groups = sorted((sorted(c) for c in nx.connected_components(network)), key=lambda c: (-len(c), c[0]))
    placed: list[dict[str, tuple[float, float]]] = []
    for group in groups:
        if len(group) == 1:
            placed.append({group[0]: (0.0, 0.0)})
            continue
        ordered: nx.Graph[str] = nx.Graph()
        ordered.add_nodes_from(group)
        ordered.add_edges_from(sorted(network.edges(group)))
        spring = nx.spring_layout(ordered, seed=LAYOUT_SEED, iterations=LAYOUT_ITERATIONS, scale=1.0)
        room = sum((2 * boxes[k].left) * (boxes[k].up + boxes[k].down) for k in group)
        spread = min(SPREAD, 1 + len(group) / 4)  # a pair needs no room between its labels
        half = math.sqrt(spread * room) / 2  # the group's square is `spread` times the room of its boxes
        wide, high = half * math.sqrt(ASPECT), half / math.sqrt(ASPECT)
        centres = np.array([(float(spring[k][0]) * wide, float(spring[k][1]) * high) for k in group])
        centres = _separate(centres, [boxes[k] for k in group])
        placed.append({k: (round(float(x), 3), round(float(y), 3)) for k, (x, y) in zip(group, centres, strict=True)})
    positions = _pack(placed, boxes)
    left = min(x - boxes[k].left for k, (x, _) in positions.items())
    bottom = min(y - boxes[k].down for k, (_, y) in positions.items())
    return {k: (round(x - left, 3), round(y - bottom, 3)) for k, (x, y) in sorted(positions.items())}


def _extent(group: dict[str, tuple[float, float]], boxes: dict[str, LabelBox]) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of a group's boxes."""
    return (
        min(x - boxes[k].left for k, (x, _) in group.items()),
        min(y - boxes[k].down for k, (_, y) in group.items()),
        max(x + boxes[k].left for k, (x, _) in group.items()),
        max(y + boxes[k].up for k, (_, y) in group.items()),
    )


def _pack(groups: list[dict[str, tuple[float, float]]], boxes: dict[str, LabelBox]) -> dict[str, tuple[float, float]]:
    """The largest group at the top; the others left to right in rows below it, as wide as it (or MIN_WIDTH)."""
    first = _extent(groups[0], boxes)
    width = max(first[2] - first[0], MIN_WIDTH)
    positions = {k: (x - first[0], y - first[3]) for k, (x, y) in groups[0].items()}  # top left at (0, 0)
    x, top, row_height = 0.0, first[1] - first[3] - GAP, 0.0
    for group in groups[1:]:
        left, bottom, right, upper = _extent(group, boxes)
        if x > 0 and x + right - left > width:
            x, top, row_height = 0.0, top - row_height - GAP, 0.0
        positions.update({k: (px - left + x, py - upper + top) for k, (px, py) in group.items()})
        x += right - left + GAP
        row_height = max(row_height, upper - bottom)
    return positions


def _separate(centres: Any, boxes: Sequence[LabelBox]) -> Any:
    """Push apart every two nodes whose boxes overlap, each half the overlap along the axis where it is
    smaller, until none do (at most SEPARATION_ROUNDS rounds)."""
    import numpy as np

    half_width = np.array([b.left for b in boxes])
    up, down = np.array([b.up for b in boxes]), np.array([b.down for b in boxes])
    half_height, offset = (up + down) / 2, (up - down) / 2  # a box's centre is this far above its node's
    n = len(boxes)
    order = np.sign(np.arange(n)[:, None] - np.arange(n)[None, :]).astype(float)  # ties broken by index
    centres = centres.astype(float)
    for _ in range(SEPARATION_ROUNDS):
        box = centres + np.stack([np.zeros(n), offset], axis=1)
        dx = box[:, None, 0] - box[None, :, 0]
        dy = box[:, None, 1] - box[None, :, 1]
        over_x = half_width[:, None] + half_width[None, :] - np.abs(dx)
        over_y = half_height[:, None] + half_height[None, :] - np.abs(dy)
        overlap = (over_x > 0) & (over_y > 0)
        np.fill_diagonal(overlap, False)
        if not overlap.any():
            break
        along_x = overlap & (over_x <= over_y)
        along_y = overlap & (over_x > over_y)
        sign_x = np.where(dx != 0, np.sign(dx), order)
        sign_y = np.where(dy != 0, np.sign(dy), order)
        move_x = (np.where(along_x, over_x, 0.0) * sign_x).sum(axis=1) / 2
        move_y = (np.where(along_y, over_y, 0.0) * sign_y).sum(axis=1) / 2
        centres = centres + np.stack([move_x, move_y], axis=1) * 0.6  # a little less: no back and forth
    return centres


def svg_bytes(graph: Graph, positions: dict[str, tuple[float, float]], title: str) -> bytes:
    """The picture as SVG: deterministic (a salted hash for ids, no date, text as text in DejaVu Sans).

    Its bytes depend on the versions of networkx (the layout) and matplotlib (the drawing) too: its
    description names them."""
    import matplotlib

    figure = draw(graph, positions, title)
    out = io.BytesIO()
    made_with = picture_versions()
    description = f"Entities and their relations, laid out by networkx {made_with['networkx']}"
    description += f" and drawn by matplotlib {made_with['matplotlib']}"
    metadata = {"Date": None, "Creator": "eurasec", "Description": description}
    with matplotlib.rc_context(_RC):
        figure.savefig(out, format="svg", metadata=metadata)
    return out.getvalue()


def picture_versions() -> dict[str, str]:
    """The versions of the libraries that decide the picture's bytes."""
    import matplotlib
    import networkx as nx

    return {"networkx": nx.__version__, "matplotlib": matplotlib.__version__}


_RC: dict[Any, Any] = {
    "svg.hashsalt": HASH_SALT,
    "svg.fonttype": "none",  # text stays text: selectable, searchable, and independent of the font rasterizer
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "path.simplify": False,
}


def draw(graph: Graph, positions: dict[str, tuple[float, float]], title: str) -> Any:
    """The picture as a matplotlib Figure, one inch of the layout an inch of the page (no pyplot: nothing
    global, safe in the build's worker thread)."""
    import matplotlib
    from matplotlib.figure import Figure

    degree = _degrees(graph)
    boxes = label_boxes([n for n in graph.nodes if n.key in positions], degree)
    width = max((x + boxes[k].left for k, (x, _) in positions.items()), default=1.0)
    height = max((y + boxes[k].up for k, (_, y) in positions.items()), default=1.0)
    roles = len({e.role for e in graph.edges})
    legend_height = 1.2 + 0.22 * (len(graph.tables) + roles) + 1.2
    page_width = MARGIN + width + MARGIN + LEGEND_WIDTH
    page_height = TITLE_HEIGHT + max(height + 2 * MARGIN, legend_height)
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=(round(page_width, 2), round(page_height, 2)), dpi=100)
        ax = figure.add_axes((0.0, 0.0, (width + 2 * MARGIN) / page_width, (page_height - TITLE_HEIGHT) / page_height))
        ax.set_axis_off()
        ax.set_xlim(-MARGIN, width + MARGIN)
        ax.set_ylim(height + MARGIN - (page_height - TITLE_HEIGHT), height + MARGIN)  # the layout at the top
        _draw_network(ax, graph, positions, degree)
        legend_left = (width + 2 * MARGIN) / page_width
        _draw_legends(figure, graph, legend_left, 1 - TITLE_HEIGHT / page_height)
        shown = len(positions)
        counts = f"{len(graph.nodes)} entities, {len(graph.edges)} relations"
        if shown < len(graph.nodes):
            counts += f"; the {shown} most connected entities are shown"
        figure.text(MARGIN / page_width, 1 - 0.25 / page_height, title, fontsize=14, va="top")
        figure.text(MARGIN / page_width, 1 - 0.55 / page_height, counts, fontsize=10, va="top", color="#444444")
    return figure


def _draw_network(ax: Axes, graph: Graph, positions: dict[str, tuple[float, float]], degree: Counter[str]) -> None:
    from matplotlib.patches import FancyArrowPatch

    node_colours, role_colours = table_colours(graph), role_colours_of(graph)
    shown = [n for n in graph.nodes if n.key in positions]
    # Edges first, under the nodes: one arrow per (source, target, role), as wide as the rows it stands for;
    # the arrows between one pair of nodes bend apart.
    drawn = Counter(
        (e.source, e.target, e.role) for e in graph.edges if e.source in positions and e.target in positions
    )
    pairs: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for arrow in sorted(drawn):
        low, high = sorted(arrow[:2])
        pairs.setdefault((low, high), []).append(arrow)
    for (low, _), arrows in sorted(pairs.items()):
        for i, (source, target, role) in enumerate(arrows):
            bend = 0.0 if len(arrows) == 1 else 0.25 * (i - (len(arrows) - 1) / 2)
            if source != low:
                bend = -bend  # arc3 bends to the left of the arrow's own direction
            ax.add_patch(
                FancyArrowPatch(
                    positions[source],
                    positions[target],
                    arrowstyle="-|>",
                    mutation_scale=10,
                    connectionstyle=f"arc3,rad={bend:.3f}",
                    color=role_colours[role],
                    linewidth=1.3 + 0.9 * (drawn[(source, target, role)] - 1),
                    shrinkA=_radius(degree[source]),
                    shrinkB=_radius(degree[target]) + 1,
                    alpha=0.9,
                    zorder=1,
                )
            )
    for i, table in enumerate(graph.tables):
        mine = [n for n in shown if n.table == table]
        if not mine:
            continue
        ax.scatter(
            [positions[n.key][0] for n in mine],
            [positions[n.key][1] for n in mine],
            s=[_size(degree[n.key]) for n in mine],
            c=node_colours[table],
            marker=NODE_MARKERS[i % len(NODE_MARKERS)],
            edgecolors="white",
            linewidths=1.0,
            zorder=2,
        )
    for node in shown:
        ax.annotate(
            "\n".join(_label_lines(node)),
            positions[node.key],
            xytext=(0, -(_radius(degree[node.key]) + 2 + LABEL_PAD)),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=LABEL_SIZE,
            linespacing=LINE_HEIGHT / 1.2,  # matplotlib's line spacing is in units of 1.2 font sizes
            bbox={
                "boxstyle": f"round,pad={LABEL_PAD / LABEL_SIZE:.2f}",
                "facecolor": "white",
                "edgecolor": "none",
                "alpha": 0.8,
            },
            zorder=3,
        )


def _draw_legends(figure: Any, graph: Graph, left: float, top: float) -> None:
    from matplotlib.lines import Line2D

    node_colours, role_colours = table_colours(graph), role_colours_of(graph)
    tables, roles = graph.count_by("table"), graph.count_by("role")
    node_handles = [
        Line2D(
            [], [], linestyle="none", marker=NODE_MARKERS[i % len(NODE_MARKERS)], markersize=10,
            markerfacecolor=node_colours[table], markeredgecolor="white", label=f"{table} ({tables[table]})",
        )
        for i, table in enumerate(graph.tables)
    ]  # fmt: skip
    role_handles = [
        Line2D([], [], color=role_colours[role], linewidth=2.5, label=f"{role} ({count})")
        for role, count in sorted(roles.items())
    ]
    first = figure.legend(
        handles=node_handles, title="Entities, by table", loc="upper left", bbox_to_anchor=(left, top),
        fontsize=9, title_fontsize=10, frameon=False, alignment="left",
    )  # fmt: skip
    figure.add_artist(first)
    height = figure.get_figheight()
    below = top - (0.55 + 0.24 * len(node_handles)) / height
    figure.legend(
        handles=role_handles, title="Relations, by role", loc="upper left", bbox_to_anchor=(left, below),
        fontsize=9, title_fontsize=10, frameon=False, alignment="left",
    )  # fmt: skip
    figure.text(
        left + 0.1 / figure.get_figwidth(), 0.25 / height,
        "An arrow runs from a row's first entity to its\nother one; the wider, the more rows it stands for.\n"
        "Below: groups apart from the rest, and entities\nwithout any relation.",
        fontsize=8, color="#555555", va="bottom",
    )  # fmt: skip


# --- the picture of the package at hand -----------------------------------------------------------------


def release_input(descriptor: str | Path = DESCRIPTOR_NAME) -> ReleaseInput:
    """A package's validated, typed tables, as the build gives them to its exporters; ValueError if invalid."""
    from ..validate import validate
    from .typed import typed_from_text

    report = validate(descriptor)
    if not report.valid or report.dataset is None:
        raise ValueError(f"{descriptor}: the package is invalid ({len(report.errors)} errors): run `eurasec validate`")
    package = report.dataset.package
    tables = {r.name: typed_from_text(r, report.dataset.tables[r.name].columns) for r in package.resources}
    return ReleaseInput(package=package, tables=tables)


def picture(release: ReleaseInput) -> bytes:
    """The SVG that export_graph writes as graph/eurasec.svg."""
    graph = graph_of(release)
    return svg_bytes(graph, layout(graph), str(release.package.raw.get("title") or release.package.name))

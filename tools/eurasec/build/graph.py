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
date and no random id. networkx and matplotlib are imported here only when the picture is made, so that
`import eurasec` and `eurasec --help` never load them.

The graph is columnar, so that a million rows take seconds and a bounded amount of memory: its nodes
and edges are Arrow columns made from the typed tables with pyarrow.compute and numpy, one block of rows
per table, never a Python object per row. Nodes are sorted by table, then id (as text, by code point);
edges by table, then the row's primary key (the typed table's order: ReleaseInput's tables come sorted
by it), then the key field's name. GraphML, GEXF and the CSVs are written here, not by networkx or
ElementTree: each line is built for a batch of rows at once (pyarrow's element-wise string joins, with
XML escaping and CSV quoting as replace_substring), and the batch's bytes go from the Arrow buffer
straight to the file. Only the picture's few nodes (MAX_PICTURE_NODES) become Python objects; the
degrees that choose them and the arrows among them are counted with numpy.

Text is as Python's str() or csv module would write it, with two differences: a number (Table Schema
`number`) is Arrow's shortest round-trip text (`1` rather than `1.0`), and a CSV cell holding a carriage
return is quoted (Python 3.11's csv module leaves a lone one bare, which RFC 4180 does not allow).
GraphML lists its edges in the graph's order (networkx grouped them by source node), declares its keys
in order (d0, d1, ...: the nodes' then the edges', a key only where some value uses it), and escapes a
carriage return in text as `&#13;` so that it reads back.

docs/network.svg, which README shows, is the release's graph/eurasec.svg of the data in the repository.
"""

from __future__ import annotations

import csv
import io
import math
import re
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..model.descriptor import ALIAS, DESCRIPTOR_NAME, DOCUMENT, END, NAME, QUOTE, START, Package, Resource
from ..model.mentions import entity_tables
from .context import ExportCheckError, ReleaseInput

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    from matplotlib.axes import Axes

GRAPH_DIR = "graph"
GRAPHML = f"{GRAPH_DIR}/eurasec.graphml"
GEXF = f"{GRAPH_DIR}/eurasec.gexf"
NODES_CSV = f"{GRAPH_DIR}/nodes.csv"
EDGES_CSV = f"{GRAPH_DIR}/edges.csv"
CYPHER = f"{GRAPH_DIR}/load.cypher"
SVG = f"{GRAPH_DIR}/eurasec.svg"

BATCH_ROWS = 65_536  # rows whose lines are built at once and written: the files' memory bound
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
CITATION_COLUMNS = ("document_id", "start", "end", "quote")  # an edge's, each absent where the table has none


@dataclass(frozen=True)
class Node:
    """One entity as a Python object: made only for the nodes the picture shows."""

    key: str  # "<table>:<id>", unique in the graph
    table: str
    id: str
    label: str  # the entity's name
    fields: tuple[tuple[str, Value], ...]  # the entity's other non-empty fields, in the descriptor's order


@dataclass(frozen=True)
class Block:
    """One table's nodes or edges: consecutive rows of the graph, as Arrow columns.

    A node block's columns are `id` (the node key "<table>:<id>"), `label` and `entity_id`; an edge block's
    `id` (the edge key "<table>:<primary key values joined by '/'>", "/<key field>" after it where a row
    has more than one edge), `source` and `target` (node keys), `role`, `document_id`, `start`, `end` and
    `quote`. Then come the table's own fields, each typed as the graph's column of that name (int64,
    float64, bool, or text where tables disagree), null where empty. The table's name is no column."""

    table: str
    fields: tuple[str, ...]  # the table's own fields, in the descriptor's order
    rows: pa.Table


@dataclass(frozen=True, eq=False)
class Graph:
    """The entities and their relations as Arrow columns, a block per table. A node's number is its row in
    node order (the blocks one after the other)."""

    node_blocks: tuple[Block, ...]  # one per entity table, by table name; each sorted by id
    edge_blocks: tuple[Block, ...]  # one per table of edges, by table name; each by primary key, then field
    sources: np.ndarray  # each edge's source and target as node numbers (rows in node order)
    targets: np.ndarray
    tables: tuple[str, ...]  # the entity tables, in the descriptor's order
    node_fields: tuple[tuple[str, str], ...]  # (name, Table Schema type) of the nodes' own fields
    edge_fields: tuple[tuple[str, str], ...]  # (name, Table Schema type) of the edges' own fields
    table_fields: tuple[tuple[str, tuple[str, ...]], ...]  # (entity table, the node fields it has)

    @property
    def node_count(self) -> int:
        return sum(block.rows.num_rows for block in self.node_blocks)

    @property
    def edge_count(self) -> int:
        return sum(block.rows.num_rows for block in self.edge_blocks)

    @cached_property
    def nodes(self) -> pa.Table:
        """All nodes as one table with the columns of nodes.csv (NODE_COLUMNS, then the node fields)."""
        return _whole(self.node_blocks, NODE_COLUMNS, self.node_fields)

    @cached_property
    def edges(self) -> pa.Table:
        """All edges as one table with the columns of edges.csv (EDGE_COLUMNS but `label`, then the edge fields)."""
        return _whole(self.edge_blocks, EDGE_COLUMNS[:-1], self.edge_fields)

    @cached_property
    def node_keys(self) -> pa.Array:
        """Every node's key, in node order."""
        import pyarrow as pa

        if not self.node_blocks:
            return pa.array([], pa.string())
        chunks = [chunk for b in self.node_blocks for chunk in b.rows.column("id").chunks]
        return pa.chunked_array(chunks, pa.string()).combine_chunks()

    @cached_property
    def degree(self) -> np.ndarray:
        """Each node's number of edges, in and out, in node order."""
        import numpy as np

        count = self.node_count
        return np.bincount(self.sources, minlength=count) + np.bincount(self.targets, minlength=count)

    @cached_property
    def _role_counts(self) -> Counter[str]:
        import pyarrow as pa
        import pyarrow.compute as pc

        roles = [b.rows.column("role") for b in self.edge_blocks if b.rows.num_rows]
        if not roles:
            return Counter()
        counted = pc.value_counts(pa.chunked_array([c for r in roles for c in r.chunks], pa.string()))
        values, counts = counted.field("values").to_pylist(), counted.field("counts").to_pylist()
        return Counter(dict(sorted(zip(values, counts, strict=True))))

    @property
    def roles(self) -> list[str]:
        """The edges' roles, sorted."""
        return sorted(self._role_counts)

    def count_by(self, what: str) -> Counter[str]:
        """Nodes per table (what="table") or edges per role (what="role")."""
        if what == "table":
            return Counter({b.table: b.rows.num_rows for b in self.node_blocks if b.rows.num_rows})
        return Counter(self._role_counts)

    @cached_property
    def overview(self) -> Overview:
        """What the picture draws of the graph: its nodes, their degrees and the arrows among them."""
        return _overview(self)


@dataclass(frozen=True)
class Overview:
    nodes: tuple[Node, ...]  # the pictured nodes: all, or the MAX_PICTURE_NODES most connected; in node order
    degree: dict[str, int]  # each pictured node's number of edges in the whole graph
    arrows: dict[tuple[str, str, str], int]  # edges per (source, target, role) among the pictured nodes


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


def _column_types(resources: Sequence[tuple[Resource, Sequence[str]]]) -> dict[str, str]:
    """Each extra column's Table Schema type; "string" where two tables disagree."""
    types: dict[str, str] = {}
    for resource, names in resources:
        for name in names:
            kind = resource.field(name).type
            types[name] = kind if types.get(name, kind) == kind else "string"
    return types


def _array(column: Any) -> pa.Array:
    """A column as one Arrow array (zero-copy where it is one chunk)."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return column


def _str(column: Any, *, empty_is_null: bool = True) -> pa.Array:
    """A column as text, as Python's str() writes each value (True, 12, 2024-05-01); null where None, and
    where empty unless told otherwise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = _array(column)
    if pa.types.is_boolean(array.type):
        array = pc.if_else(array, "True", "False")
    elif not pa.types.is_string(array.type):
        array = array.cast(pa.string())
    if empty_is_null and len(array) and pc.any(pc.equal(pc.binary_length(array), 0)).as_py():
        array = pc.if_else(pc.equal(pc.binary_length(array), 0), pa.scalar(None, pa.string()), array)
    return array


ARROW_TYPES = {"integer": "int64", "number": "float64", "boolean": "bool"}  # anything else is text


def _typed(column: Any, kind: str) -> pa.Array:
    """A field's column as its graph column's type (text where tables disagree on the type)."""
    import pyarrow as pa

    if kind in ARROW_TYPES:
        return _array(column).cast(pa.type_for_alias(ARROW_TYPES[kind]))
    return _str(column)


def _repeat(value: str, count: int) -> pa.Array:
    """One text `count` times."""
    import numpy as np
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(count, np.int32)), pa.array([value])).cast(pa.string())


def _prefixed(table: str, ids: pa.Array) -> pa.Array:
    """Node keys "<table>:<id>"; null where the id is."""
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(f"{table}:", ids, "")


def _present(values: pa.Array) -> np.ndarray:
    import pyarrow.compute as pc

    return pc.is_valid(values).to_numpy(zero_copy_only=False)


def _in_order(blocks: list[tuple[pa.Table, np.ndarray, int]]) -> pa.Table:
    """The edges of one table, made key field by key field, in row order, then by the key field's name."""
    import numpy as np
    import pyarrow as pa

    if len(blocks) == 1:
        return blocks[0][0]
    rows = np.concatenate([numbers for _, numbers, _ in blocks])
    ranks = np.concatenate([np.full(len(numbers), rank) for _, numbers, rank in blocks])
    return pa.concat_tables([table for table, _, _ in blocks]).take(pa.array(np.lexsort((ranks, rows))))


def graph_of(release: ReleaseInput) -> Graph:
    """The entities and their relations, sorted; ExportCheckError if two nodes or two edges share a key, or an
    edge leads to no node."""
    import pyarrow as pa
    import pyarrow.compute as pc

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

    node_blocks: list[Block] = []
    edge_blocks: list[Block] = []
    for resource, extras in node_extras:
        table = tables[resource.name]
        name = resource.role_field(NAME)
        assert name is not None
        ids = _str(table.column(resource.primary_key[0]), empty_is_null=False)
        if len(ids) > 1 and not pc.all(pc.less(ids[:-1], ids[1:])).as_py():
            order = pc.sort_indices(ids)  # an integer key's table is in the order of its values, not its text
            table, ids = table.take(order), ids.take(order)
        keys = _prefixed(resource.name, ids)
        columns = {"id": keys, "label": pc.fill_null(_str(table.column(name.name)), ""), "entity_id": ids}
        columns.update({f: _typed(table.column(f), node_types[f]) for f in extras})
        node_blocks.append(Block(resource.name, tuple(extras), pa.table(columns)))
        if self_keys := _self_keys(resource):
            edge_blocks.append(_self_edges(resource.name, keys, table, self_keys))
    for relation, (_, extras) in zip(relations, edge_extras, strict=True):
        edge_blocks.append(_relation_edges(relation, tables[relation.resource.name], extras, edge_types))

    node_blocks.sort(key=lambda block: block.table)
    edge_blocks.sort(key=lambda block: block.table)
    sources, targets = _check_keys(node_blocks, edge_blocks)
    return Graph(
        node_blocks=tuple(node_blocks),
        edge_blocks=tuple(edge_blocks),
        sources=sources,
        targets=targets,
        tables=tuple(r.name for r in entities),
        node_fields=tuple(node_types.items()),
        edge_fields=tuple(edge_types.items()),
        table_fields=tuple((resource.name, tuple(extras)) for resource, extras in node_extras),
    )


def _citation_fields(resource: Resource) -> set[str]:
    return {f.name for role in (DOCUMENT, START, END, QUOTE) if (f := resource.role_field(role)) is not None}


def _edge_rows(
    count: int, columns: dict[str, pa.Array], citation: dict[str, pa.Array | None], extras: dict[str, pa.Array]
) -> dict[str, pa.Array]:
    import pyarrow as pa

    cited = {}
    for name in CITATION_COLUMNS:
        kind = pa.int64() if name in ("start", "end") else pa.string()
        cited[name] = pa.nulls(count, kind) if (value := citation.get(name)) is None else value
    return {**columns, **cited, **extras}


def _self_edges(table_name: str, keys: pa.Array, table: pa.Table, fields: list[str]) -> Block:
    """An entity's keys into its own table as edges, with no citation."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    count = table.num_rows
    made = []
    for rank, field in enumerate(sorted(fields)):
        target = _prefixed(table_name, _str(table.column(field)))
        present = _present(target)
        columns = {
            "id": pc.binary_join_element_wise(keys, f"/{field}", ""),
            "source": keys,
            "target": target,
            "role": _repeat(_role_of_key(field), count),
        }
        rows = pa.table(_edge_rows(count, columns, {}, {}))
        made.append((rows.filter(pa.array(present)), np.flatnonzero(present), rank))
    return Block(table_name, (), _in_order(made))


def _relation_edges(relation: RelationTable, table: pa.Table, extras: list[str], types: dict[str, str]) -> Block:
    """A relation table's rows as edges: from each row's first entity to each other one it names."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    resource = relation.resource
    count = table.num_rows
    ends = [_prefixed(entity, _str(table.column(field))) for field, entity in relation.ends]
    present = [_present(end) for end in ends]
    if resource.primary_key:
        parts = [_str(table.column(k), empty_is_null=False) for k in resource.primary_key]
    else:  # the row's number
        parts = [pa.array(np.arange(count)).cast(pa.string())]
    joined = [part for i, p in enumerate(parts) for part in ((p,) if i == 0 else ("/", p))]
    base = pc.binary_join_element_wise(f"{resource.name}:", *joined, "")
    own_role = _str(table.column(relation.role)) if relation.role else None
    citation: dict[str, pa.Array | None] = {}
    for name, role in zip(CITATION_COLUMNS, (DOCUMENT, START, END, QUOTE), strict=True):
        cited = resource.role_field(role)
        if cited is not None:
            column = table.column(cited.name)
            citation[name] = _array(column).cast(pa.int64()) if name in ("start", "end") else _str(column)
    own = {f: _typed(table.column(f), types[f]) for f in extras}
    ranks = {field: rank for rank, field in enumerate(sorted(field for field, _ in relation.ends[1:]))}
    made = []
    for j, (field, _) in enumerate(relation.ends[1:], start=1):
        wanted = present[j] & np.logical_or.reduce(present[:j])  # the target, and an entity before it
        default_role = _role_of_key(field)
        columns = {
            "id": base if len(relation.ends) == 2 else pc.binary_join_element_wise(base, f"/{field}", ""),
            "source": ends[0] if j == 1 else pc.coalesce(*ends[:j]),
            "target": ends[j],
            "role": _repeat(default_role, count) if own_role is None else pc.coalesce(own_role, default_role),
        }
        rows = pa.table(_edge_rows(count, columns, citation, own))
        if not wanted.all():
            rows = rows.filter(pa.array(wanted))
        made.append((rows, np.flatnonzero(wanted), ranks[field]))
    return Block(resource.name, tuple(extras), _in_order(made))


def _first_twice(keys: pa.ChunkedArray) -> str | None:
    """The smallest key that is there twice; None where none is."""
    import pyarrow.compute as pc

    if len(keys) < 2 or pc.count_distinct(keys).as_py() == len(keys):
        return None
    counted = pc.value_counts(keys)
    twice = counted.field("values").filter(pc.greater(counted.field("counts"), 1))
    return str(twice.take(pc.sort_indices(twice)[:1])[0].as_py())


def _check_keys(node_blocks: Sequence[Block], edge_blocks: Sequence[Block]) -> tuple[np.ndarray, np.ndarray]:
    """Each edge's source and target node numbers; ExportCheckError where two nodes or two edges share a key, or
    an edge leads to no node."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    def column(blocks: Sequence[Block], name: str) -> pa.ChunkedArray:
        return pa.chunked_array([c for b in blocks for c in b.rows.column(name).chunks], pa.string())

    for what, blocks in (("node", node_blocks), ("edge", edge_blocks)):
        twice = _first_twice(column(blocks, "id"))
        if twice is not None:
            raise ExportCheckError(f"the graph has two {what}s of the key {twice!r}")
    known = column(node_blocks, "id").combine_chunks()
    found = {end: _array(pc.index_in(column(edge_blocks, end), value_set=known)) for end in ("source", "target")}
    if found["source"].null_count or found["target"].null_count:  # validation checks every foreign key:
        lost = {end: pc.is_null(numbers).to_numpy(zero_copy_only=False) for end, numbers in found.items()}
        first = int(np.argmax(lost["source"] | lost["target"]))  # this is eurasec's fault
        end = "source" if lost["source"][first] else "target"
        edge, leads = column(edge_blocks, "id")[first].as_py(), column(edge_blocks, end)[first].as_py()
        raise ExportCheckError(f"the edge {edge!r} leads to {leads!r}, which is no node")
    source, target = (found[end].to_numpy(zero_copy_only=False).astype(np.int64) for end in ("source", "target"))
    return source, target


def _whole(blocks: Sequence[Block], columns: Sequence[str], fields: Sequence[tuple[str, str]]) -> pa.Table:
    """Blocks as one table of the CSV's columns; a field a table has not, null."""
    import pyarrow as pa

    arrow = {name: pa.type_for_alias(ARROW_TYPES.get(kind, "string")) for name, kind in fields}
    arrow.update({"start": pa.int64(), "end": pa.int64()})
    parts = []
    for block in blocks:
        count = block.rows.num_rows
        made = {}
        for name in [*columns, *(n for n, _ in fields)]:
            if name == "table":
                made[name] = _repeat(block.table, count)
            elif name in block.rows.column_names:
                made[name] = block.rows.column(name)
            else:
                made[name] = pa.nulls(count, arrow.get(name, pa.string()))
        parts.append(pa.table(made))
    if not parts:
        names = [*columns, *(n for n, _ in fields)]
        return pa.table({n: pa.array([], arrow.get(n, pa.string())) for n in names})
    return pa.concat_tables(parts)


def _overview(graph: Graph) -> Overview:
    """The pictured nodes (the MAX_PICTURE_NODES most connected, then by key), their degrees, and the arrows
    among them: counted with numpy, Python objects only for what the picture shows."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    degree = graph.degree
    count = len(degree)
    if count <= MAX_PICTURE_NODES:
        chosen = np.arange(count)
    else:
        least = np.sort(degree)[-MAX_PICTURE_NODES]  # the least degree among the most connected
        above = np.flatnonzero(degree > least)
        tied = np.flatnonzero(degree == least)
        keys = graph.node_keys.take(pa.array(tied))
        first = tied[pc.sort_indices(keys).to_numpy()[: MAX_PICTURE_NODES - len(above)]]
        chosen = np.sort(np.concatenate([above, first]))
    nodes: list[Node] = []
    start = 0
    for block in graph.node_blocks:
        stop = start + block.rows.num_rows
        mine = chosen[(chosen >= start) & (chosen < stop)] - start
        for row in block.rows.take(pa.array(mine, pa.int64())).to_pylist():
            fields = tuple((f, row[f]) for f in block.fields if row[f] is not None and row[f] != "")
            nodes.append(Node(row["id"], block.table, row["entity_id"], row["label"], fields))
        start = stop
    shown = np.zeros(count, dtype=bool)
    shown[chosen] = True
    among = np.flatnonzero(shown[graph.sources] & shown[graph.targets])
    arrows: dict[tuple[str, str, str], int] = {}
    if len(among):
        roles = pa.chunked_array([c for b in graph.edge_blocks for c in b.rows.column("role").chunks], pa.string())
        ends = pa.table(
            {
                "source": graph.node_keys.take(pa.array(graph.sources[among])),
                "target": graph.node_keys.take(pa.array(graph.targets[among])),
                "role": roles.take(pa.array(among)),
            }
        )
        for group in ends.group_by(["source", "target", "role"]).aggregate([([], "count_all")]).to_pylist():
            arrows[(group["source"], group["target"], group["role"])] = group["count_all"]
    degrees = {node.key: int(degree[i]) for node, i in zip(nodes, chosen, strict=True)}
    return Overview(nodes=tuple(nodes), degree=degrees, arrows=dict(sorted(arrows.items())))


# --- the files: each line built for a batch of rows at once ---------------------------------------------


def export_graph(release: ReleaseInput, folder: Path) -> None:
    """Write graph/: GraphML, GEXF, node and edge CSVs with a Cypher script, and the SVG picture."""
    graph = graph_of(release)
    positions = layout(graph)
    (folder / GRAPH_DIR).mkdir(exist_ok=True)
    title = str(release.package.raw.get("title") or release.package.name)
    files: dict[str, Callable[[IO[bytes]], object]] = {
        GRAPHML: lambda out: write_graphml(graph, out),
        GEXF: lambda out: write_gexf(graph, positions, out),
        NODES_CSV: lambda out: write_nodes_csv(graph, out),
        EDGES_CSV: lambda out: write_edges_csv(graph, out),
        CYPHER: lambda out: out.write(cypher_script(graph).encode("utf-8")),
        SVG: lambda out: out.write(svg_bytes(graph, positions, title)),
    }
    for relative, write in files.items():
        with open(folder / relative, "wb") as out:
            write(out)
        release.written[relative] = folder / relative


Part = str | Any  # a line's constant text, or one text per row (null: nothing)

XML_ATTRIBUTE = (  # as ElementTree escapes an attribute's value
    ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;"),
)  # fmt: skip
XML_TEXT = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))  # as ElementTree; CR too, to read back


def _escape(values: pa.Array, table: Sequence[tuple[str, str]]) -> pa.Array:
    """Texts with each character of the table replaced, `&` first: looked for in the bytes, replaced if there."""
    import pyarrow.compute as pc

    data = bytes(_bytes(values))
    for old, new in table:
        if old.encode() in data:
            values = pc.replace_substring(values, old, new)
    return values


def _escape_text(text: str, table: Sequence[tuple[str, str]]) -> str:
    for old, new in table:
        text = text.replace(old, new)
    return text


def _bytes(values: pa.Array) -> memoryview:
    """The UTF-8 bytes of a text array's values, one after the other, as Arrow holds them."""
    import numpy as np

    _, offsets, data = values.buffers()
    if data is None or len(values) == 0:
        return memoryview(b"")
    bounds = np.frombuffer(offsets, dtype=np.int32)[values.offset : values.offset + len(values) + 1]
    return memoryview(data)[int(bounds[0]) : int(bounds[-1])]


def _cells(values: Any) -> pa.Array:
    """A typed column's values as text: true/false, numbers in digits, text as it is; null stays null."""
    import pyarrow as pa

    array = _array(values)
    return array if pa.types.is_string(array.type) else array.cast(pa.string())


def _optional(prefix: str, values: pa.Array, suffix: str) -> pa.Array:
    """A line per row that has a value, null (no line) for a row that has none."""
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(prefix, values, suffix, "")


def _lines(out: IO[bytes], parts: Sequence[Part]) -> None:
    """Write one text per row: the parts joined, a null part written as nothing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    merged: list[Any] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    arguments = [pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in merged]
    joined = pc.binary_join_element_wise(*arguments, "", null_handling="replace", null_replacement="")
    out.write(_bytes(_array(joined)))


def _batches(block: Block) -> Iterator[tuple[int, pa.Table]]:
    """(first row, rows) of a block, BATCH_ROWS at a time."""
    for start in range(0, block.rows.num_rows, BATCH_ROWS):
        yield start, block.rows.slice(start, BATCH_ROWS)


GRAPHML_TYPES = {"integer": "long", "number": "double", "boolean": "boolean"}  # anything else is a string
GRAPHML_HEAD = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
"""


def _used(blocks: Sequence[Block], name: str) -> bool:
    """Whether some row of some block has a value in this column."""
    return any(name in b.rows.column_names and b.rows.column(name).null_count < b.rows.num_rows for b in blocks)


def write_graphml(graph: Graph, out: IO[bytes]) -> None:
    """GraphML as networkx writes and reads it: node ids are the node keys, edge ids the edge keys, a value's
    type in its key's attr.type; empty values are left out."""
    node_keys = [("table", "string"), ("entity_id", "string"), ("label", "string")] if graph.node_count else []
    node_keys += [
        (n, GRAPHML_TYPES.get(kind, "string")) for n, kind in graph.node_fields if _used(graph.node_blocks, n)
    ]
    edge_keys = [("table", "string"), ("role", "string"), ("label", "string")] if graph.edge_count else []
    cited = [("document_id", "string"), ("start", "long"), ("end", "long"), ("quote", "string")]
    edge_keys += [(n, kind) for n, kind in cited if _used(graph.edge_blocks, n)]
    edge_keys += [
        (n, GRAPHML_TYPES.get(kind, "string")) for n, kind in graph.edge_fields if _used(graph.edge_blocks, n)
    ]
    declared = [("node", *key) for key in node_keys] + [("edge", *key) for key in edge_keys]
    ids = {(scope, name): f"d{i}" for i, (scope, name, _) in enumerate(declared)}
    head = GRAPHML_HEAD + "".join(
        f'  <key id="{ids[scope, name]}" for="{scope}" attr.name="{_escape_text(name, XML_ATTRIBUTE)}"'
        f' attr.type="{kind}" />\n'
        for scope, name, kind in declared
    )
    if not graph.node_count and not graph.edge_count:
        out.write((head + '  <graph edgedefault="directed" />\n</graphml>\n').encode("utf-8"))
        return
    out.write((head + '  <graph edgedefault="directed">\n').encode("utf-8"))

    def data(key: str, values: pa.Array) -> pa.Array:
        return _optional(f'      <data key="{key}">', values, "</data>\n")

    for block in graph.node_blocks:
        table = _escape_text(block.table, XML_TEXT)
        for _, rows in _batches(block):
            parts: list[Part] = [
                '    <node id="', _escape(_array(rows.column("id")), XML_ATTRIBUTE), '">\n',
                f'      <data key="{ids["node", "table"]}">{table}</data>\n',
                f'      <data key="{ids["node", "entity_id"]}">', _escape(_array(rows.column("entity_id")), XML_TEXT),
                f'</data>\n      <data key="{ids["node", "label"]}">', _escape(_array(rows.column("label")), XML_TEXT),
                "</data>\n",
            ]  # fmt: skip
            for name in block.fields:
                if ("node", name) in ids:
                    parts.append(data(ids["node", name], _escape(_cells(rows.column(name)), XML_TEXT)))
            parts.append("    </node>\n")
            _lines(out, parts)
    for block in graph.edge_blocks:
        table = _escape_text(block.table, XML_TEXT)
        for _, rows in _batches(block):
            role = _escape(_array(rows.column("role")), XML_TEXT)
            parts = [
                '    <edge source="', _escape(_array(rows.column("source")), XML_ATTRIBUTE),
                '" target="', _escape(_array(rows.column("target")), XML_ATTRIBUTE),
                '" id="', _escape(_array(rows.column("id")), XML_ATTRIBUTE), '">\n',
                f'      <data key="{ids["edge", "table"]}">{table}</data>\n',
                f'      <data key="{ids["edge", "role"]}">', role,
                f'</data>\n      <data key="{ids["edge", "label"]}">', role, "</data>\n",
            ]  # fmt: skip
            for name in [*CITATION_COLUMNS, *block.fields]:
                if ("edge", name) in ids:
                    parts.append(data(ids["edge", name], _escape(_cells(rows.column(name)), XML_TEXT)))
            parts.append("    </edge>\n")
            _lines(out, parts)
    out.write(b"  </graph>\n</graphml>\n")


def graphml_bytes(graph: Graph) -> bytes:
    """The GraphML that export_graph writes, as bytes."""
    out = io.BytesIO()
    write_graphml(graph, out)
    return out.getvalue()


GEXF_TYPES = {"integer": "long", "number": "double", "boolean": "boolean"}  # anything else is a string
GEXF_HEAD = """<?xml version='1.0' encoding='utf-8'?>
<gexf xmlns="http://gexf.net/1.3" xmlns:viz="http://gexf.net/1.3/viz" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">
  <meta>
    <creator>eurasec</creator>
    <description>Entities as nodes, their cited relations as edges</description>
  </meta>
  <graph defaultedgetype="directed" mode="static">
"""


def write_gexf(graph: Graph, positions: Mapping[str, tuple[float, float]], out: IO[bytes]) -> None:
    """GEXF 1.3, as ElementTree would indent it: no date in its meta, and the edges' `start` and `end` (offsets
    in the text) stay data instead of becoming GEXF's time spells. Nodes carry the picture's colours and
    positions, so that Gephi opens it as the picture shows it."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    node_columns = [("table", "string"), ("entity_id", "string"), *graph.node_fields]
    edge_columns = [
        ("table", "string"), ("role", "string"), ("document_id", "string"), ("start", "integer"),
        ("end", "integer"), ("quote", "string"), *graph.edge_fields,
    ]  # fmt: skip
    head = GEXF_HEAD
    for kind, columns in (("node", node_columns), ("edge", edge_columns)):
        head += f'    <attributes class="{kind}" mode="static">\n'
        for name, schema_type in columns:
            name = _escape_text(name, XML_ATTRIBUTE)
            head += f'      <attribute id="{name}" title="{name}" type="{GEXF_TYPES.get(schema_type, "string")}" />\n'
        head += "    </attributes>\n"
    out.write(head.encode("utf-8"))

    def attvalue(name: str, values: pa.Array) -> pa.Array:
        field = _escape_text(name, XML_ATTRIBUTE)
        return _optional(f'          <attvalue for="{field}" value="', values, '" />\n')

    node_colours, role_colours = table_colours(graph), role_colours_of(graph)
    # The nodes' sizes, one text per distinct degree; the pictured nodes' positions, by node number.
    distinct, which = np.unique(graph.degree, return_inverse=True)
    sizes = pa.array([f"{_size(int(d)) / 10:.1f}" for d in distinct], pa.string())
    keys = list(positions)
    placed = pc.index_in(pa.array(keys, pa.string()), value_set=graph.node_keys).to_pylist()
    pictured = sorted((n, *positions[k]) for k, n in zip(keys, placed, strict=True) if n is not None)
    numbers = np.array([n for n, _, _ in pictured], dtype=np.int64)
    places = pa.array(
        [f'        <viz:position x="{x * 72:.1f}" y="{y * 72:.1f}" z="0.0" />\n' for _, x, y in pictured] + [None],
        pa.string(),
    )
    out.write(b"    <nodes>\n" if graph.node_count else b"    <nodes />\n")
    start = 0
    for block in graph.node_blocks:
        table = _escape_text(block.table, XML_ATTRIBUTE)
        colour = _rgb_attributes(node_colours[block.table])
        for first, rows in _batches(block):
            low, high = start + first, start + first + rows.num_rows
            where = np.full(rows.num_rows, len(pictured), dtype=np.int64)  # no position: the null at the end
            inside = (numbers >= low) & (numbers < high)
            where[numbers[inside] - low] = np.flatnonzero(inside)
            parts: list[Part] = [
                '      <node id="', _escape(_array(rows.column("id")), XML_ATTRIBUTE),
                '" label="', _escape(_array(rows.column("label")), XML_ATTRIBUTE), '">\n',
                "        <attvalues>\n",
                f'          <attvalue for="table" value="{table}" />\n',
                '          <attvalue for="entity_id" value="', _escape(_array(rows.column("entity_id")), XML_ATTRIBUTE),
                '" />\n',
            ]  # fmt: skip
            parts += [attvalue(n, _escape(_cells(rows.column(n)), XML_ATTRIBUTE)) for n in block.fields]
            parts += [
                "        </attvalues>\n",
                f"        <viz:color {colour} />\n",
                places.take(pa.array(where)),
                '        <viz:size value="',
                sizes.take(pa.array(which[low:high])),
                '" />\n',
                "      </node>\n",
            ]
            _lines(out, parts)
        start += block.rows.num_rows
    out.write(b"    </nodes>\n" if graph.node_count else b"")
    out.write(b"    <edges>\n" if graph.edge_count else b"    <edges />\n")
    roles = graph.roles
    colours = pa.array([f"        <viz:color {_rgb_attributes(role_colours[r])} />\n" for r in roles], pa.string())
    known = pa.array(roles, pa.string())
    for block in graph.edge_blocks:
        table = _escape_text(block.table, XML_ATTRIBUTE)
        for _, rows in _batches(block):
            role = _array(rows.column("role"))
            escaped = _escape(role, XML_ATTRIBUTE)
            parts = [
                '      <edge id="', _escape(_array(rows.column("id")), XML_ATTRIBUTE),
                '" source="', _escape(_array(rows.column("source")), XML_ATTRIBUTE),
                '" target="', _escape(_array(rows.column("target")), XML_ATTRIBUTE),
                '" label="', escaped, '" kind="', escaped, '">\n',
                "        <attvalues>\n",
                f'          <attvalue for="table" value="{table}" />\n',
                '          <attvalue for="role" value="', escaped, '" />\n',
            ]  # fmt: skip
            parts += [attvalue(n, _escape(_cells(rows.column(n)), XML_ATTRIBUTE)) for n in CITATION_COLUMNS]
            parts += [attvalue(n, _escape(_cells(rows.column(n)), XML_ATTRIBUTE)) for n in block.fields]
            parts += [
                "        </attvalues>\n",
                colours.take(pc.index_in(role, value_set=known)),
                "      </edge>\n",
            ]
            _lines(out, parts)
    out.write(b"    </edges>\n" if graph.edge_count else b"")
    out.write(b"  </graph>\n</gexf>\n")


def gexf_bytes(graph: Graph, positions: Mapping[str, tuple[float, float]]) -> bytes:
    """The GEXF that export_graph writes, as bytes."""
    out = io.BytesIO()
    write_gexf(graph, positions, out)
    return out.getvalue()


def _rgb(colour: str) -> dict[str, str]:
    return {"r": str(int(colour[1:3], 16)), "g": str(int(colour[3:5], 16)), "b": str(int(colour[5:7], 16))}


def _rgb_attributes(colour: str) -> str:
    return " ".join(f'{k}="{v}"' for k, v in _rgb(colour).items())


CSV_SPECIAL = (",", '"', "\n", "\r")  # a cell with one of these is quoted, its quotes doubled (RFC 4180)


def _csv_cells(values: Any) -> pa.Array:
    """A column's cells as CSV: quoted where they must be, as Python's csv module with QUOTE_MINIMAL."""
    import pyarrow.compute as pc

    cells = _cells(values)
    data = bytes(_bytes(cells))
    if not any(c.encode() in data for c in CSV_SPECIAL):
        return cells
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(cells, '"', '""'), '"', "")
    return pc.if_else(pc.match_substring_regex(cells, '[,"\\n\\r]'), quoted, cells)


def _csv_line(names: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(names)
    return out.getvalue()


def _write_csv(out: IO[bytes], blocks: Sequence[Block], columns: Sequence[str]) -> None:
    """A header, then a line per row of the blocks; a column a table has not, empty."""
    out.write(_csv_line(columns).encode("utf-8"))
    for block in blocks:
        table = _csv_line([block.table]).rstrip("\n")
        for _, rows in _batches(block):
            parts: list[Part] = []
            for i, name in enumerate(columns):
                if i:
                    parts.append(",")
                if name == "table":
                    parts.append(table)
                elif name in rows.column_names:
                    parts.append(_csv_cells(rows.column(name)))
            parts.append("\n")
            _lines(out, parts)


def write_nodes_csv(graph: Graph, out: IO[bytes]) -> None:
    """One row per node: its key (`id`), name (`label`), table and the entity's id, then the entity's own fields."""
    _write_csv(out, graph.node_blocks, [*NODE_COLUMNS, *(name for name, _ in graph.node_fields)])


def write_edges_csv(graph: Graph, out: IO[bytes]) -> None:
    """One row per edge: its key (`id`), source and target node keys, table, role, citation, then the row's
    own fields. No `label`: the role is one."""
    _write_csv(out, graph.edge_blocks, [*EDGE_COLUMNS[:-1], *(name for name, _ in graph.edge_fields)])


def nodes_csv(graph: Graph) -> str:
    """nodes.csv as text."""
    out = io.BytesIO()
    write_nodes_csv(graph, out)
    return out.getvalue().decode("utf-8")


def edges_csv(graph: Graph) -> str:
    """edges.csv as text."""
    out = io.BytesIO()
    write_edges_csv(graph, out)
    return out.getvalue().decode("utf-8")


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
    for role in graph.roles:
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
    return {role: ROLE_COLOURS[i % len(ROLE_COLOURS)] for i, role in enumerate(graph.roles)}


def _size(degree: int) -> float:
    """A node's marker area in points²: grows with the square root of its degree."""
    return 60.0 + 45.0 * math.sqrt(degree)


def _radius(degree: int) -> float:
    """A node's marker radius in points."""
    return math.sqrt(_size(degree)) / 2


def pictured(graph: Graph) -> list[Node]:
    """The nodes the picture shows: all, or the MAX_PICTURE_NODES most connected (then by key); in node order."""
    return list(graph.overview.nodes)


def _label_lines(node: Node) -> list[str]:
    return textwrap.wrap(node.label, LABEL_WIDTH) or [node.key]


@dataclass(frozen=True)
class LabelBox:
    """The room a node and its label take, in inches around the node's centre."""

    left: float  # = right: the label is centred under the node
    up: float
    down: float


def label_boxes(nodes: Sequence[Node], degree: Mapping[str, int]) -> dict[str, LabelBox]:
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
    degree = graph.overview.degree
    boxes = label_boxes(nodes, degree)
    network: nx.Graph[str] = nx.Graph()
    network.add_nodes_from(n.key for n in nodes)
    pairs = {(min(source, target), max(source, target)) for source, target, _ in graph.overview.arrows}
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

    degree = graph.overview.degree
    boxes = label_boxes([n for n in graph.overview.nodes if n.key in positions], degree)
    width = max((x + boxes[k].left for k, (x, _) in positions.items()), default=1.0)
    height = max((y + boxes[k].up for k, (_, y) in positions.items()), default=1.0)
    roles = len(graph.roles)
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
        counts = f"{graph.node_count} entities, {graph.edge_count} relations"
        if shown < graph.node_count:
            counts += f"; the {shown} most connected entities are shown"
        figure.text(MARGIN / page_width, 1 - 0.25 / page_height, title, fontsize=14, va="top")
        figure.text(MARGIN / page_width, 1 - 0.55 / page_height, counts, fontsize=10, va="top", color="#444444")
    return figure


def _draw_network(ax: Axes, graph: Graph, positions: dict[str, tuple[float, float]], degree: Mapping[str, int]) -> None:
    from matplotlib.patches import FancyArrowPatch

    node_colours, role_colours = table_colours(graph), role_colours_of(graph)
    shown = [n for n in graph.overview.nodes if n.key in positions]
    # Edges first, under the nodes: one arrow per (source, target, role), as wide as the rows it stands for;
    # the arrows between one pair of nodes bend apart.
    drawn = Counter(
        {
            arrow: rows
            for arrow, rows in graph.overview.arrows.items()
            if arrow[0] in positions and arrow[1] in positions
        }
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

"""What changed between two versions of the package: rows and schemas, for reviewers of a data pull request.

Each side is a folder holding a `datapackage.json` (the source package with CSV tables, or a
release with Parquet tables) or a git revision of the repository. Every value is normalized to
text before comparing, so a release and the CSVs it was built from compare equal.

Three steps, a module each:

- sides.py reads a side (load_side): the descriptor, then each table as Arrow text columns, within
  the bounds validate reads by (a resource only at a plain relative path inside the side, no
  symlink, a regular file not over MAX_FILE_BYTES; anything else is a DiffError, exit 2).
- compare.py compares two sides (diff): schema changes, and rows added, removed and changed,
  matched by key column-wise with Arrow.
- render.py shows the result (RENDERERS): text, Markdown or JSON, with no control or invisible
  character raw.
"""

from __future__ import annotations

from .compare import (
    DataDiff,
    FieldChange,
    Row,
    RowChange,
    SchemaChange,
    TableDiff,
    VersionCheck,
    check_version,
    diff,
)
from .render import (
    CELL_CHARS,
    MAX_ROWS,
    RENDERERS,
    describe,
    render_json,
    render_markdown,
    render_text,
    to_dict,
)
from .sides import MAX_FILE_BYTES, DiffError, Key, Side, Table, load_side

__all__ = [
    "CELL_CHARS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "RENDERERS",
    "DataDiff",
    "DiffError",
    "FieldChange",
    "Key",
    "Row",
    "RowChange",
    "SchemaChange",
    "Side",
    "Table",
    "TableDiff",
    "VersionCheck",
    "check_version",
    "describe",
    "diff",
    "load_side",
    "render_json",
    "render_markdown",
    "render_text",
    "to_dict",
]

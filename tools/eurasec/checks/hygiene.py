"""Text hygiene: trimmed, single-spaced, visible, NFC text; slug ids; no spreadsheet formulas."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from ..codes import finding
from ..findings import Finding
from ..read import MAX_CELL_CHARS
from .context import Context

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
FORMULA_START = ("=", "+", "-", "@")


def _invisible(ch: str) -> bool:
    """Control characters (but the line break a quote may carry) and format characters such as zero-width ones."""
    return ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf")


def _id_field(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def cell_problems(value: str, *, is_id: bool, is_string: bool, verbatim: bool) -> Iterator[tuple[str, str]]:
    """(code, message) for each hygiene rule one cell breaks."""
    if value.startswith(FORMULA_START) and not PLAIN_NUMBER.match(value):
        yield "formula", f"the cell starts with {value[0]!r}, so a spreadsheet would run it as a formula"
    bad = next((ch for ch in value if _invisible(ch) or (ch == "\n" and not verbatim)), None)
    if bad is not None:
        name = unicodedata.name(bad, "control character").lower()
        yield "control-character", f"the cell contains the invisible character U+{ord(bad):04X} ({name})"
    if is_id and not SLUG.match(value):
        yield "id-not-slug", f"the id {value!r} is not a lowercase kebab-case slug"
    if not is_string:
        return
    if value != value.strip():
        yield "untrimmed-space", f"the cell {value[:40]!r} has white space at its start or end"
    if verbatim:
        return  # a verbatim field keeps whatever the seed has; its own check compares it with the seed
    if "  " in value:
        yield "doubled-space", f"the cell has a doubled space at character {value.index('  ')}"
    if not unicodedata.is_normalized("NFC", value):
        yield "not-nfc", "the cell is not in Unicode NFC (a letter and its accent are stored apart)"


def check_hygiene(ctx: Context) -> Iterator[Finding]:
    for resource in ctx.resources:
        if not ctx.readable(resource):
            continue
        header = ctx.dataset.tables[resource.name].header or []
        known = {f.name: f for f in resource.fields}
        kinds = {
            name: {
                "is_id": _id_field(name) and name in known,
                "is_string": name in known and known[name].type == "string",
                "verbatim": name == "quote" or (name in known and known[name].in_quote),
            }
            for name in header
        }
        for row in ctx.rows(resource):
            for column, name in enumerate(header, 1):
                value = row.values.get(name) or ""
                if not value or len(value) > MAX_CELL_CHARS:
                    continue  # an oversized cell has its own finding
                for code, message in cell_problems(value, **kinds[name]):
                    yield finding(code, resource.path, message, line=row.line, field=name, column=column)

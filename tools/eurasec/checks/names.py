"""Resource names that the release's SQLite database keeps for its own tables, indexes and views."""

from __future__ import annotations

import json
from collections.abc import Iterator

from ..codes import finding
from ..descriptor import DESCRIPTOR_NAME
from ..findings import Finding
from .context import Context


def _name_line(descriptor_text: str, name: str) -> int | None:
    """The descriptor's first line that gives this name, as `"name": "<name>"`."""
    written = json.dumps(name, ensure_ascii=False)
    for number, line in enumerate(descriptor_text.splitlines(), start=1):
        key, _, value = line.strip().partition(":")
        if key == '"name"' and value.strip().rstrip(",") == written:
            return number
    return None


def check_names(ctx: Context) -> Iterator[Finding]:
    from ..build.sqlite import reserved_name_reason

    package = ctx.dataset.package
    clashes = [(r.name, reason) for r in package.resources if (reason := reserved_name_reason(r.name))]
    if not clashes:
        return
    text = package.path.read_text(encoding="utf-8")
    for name, reason in clashes:
        yield finding(
            "table-name-reserved",
            DESCRIPTOR_NAME,
            f"the resource {name!r} cannot be a table of the SQLite release: {reason}",
            line=_name_line(text, name),
        )

"""Names that become paths or tables in the release: safe slugs, not the SQLite database's own names,
and seeds that stay inside the package."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..model.codes import finding
from ..model.descriptor import DESCRIPTOR_NAME
from ..model.findings import Finding
from .context import Context

KeyPath = tuple[str | int, ...]
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:\n]')
VERSION_HINT = (
    "Give the package a `version` of letters, digits, '.', '+' and '-' that starts with a letter or digit,"
    " such as 1.0.0: it becomes part of the release folder's name."
)


def key_lines(descriptor_text: str) -> dict[KeyPath, int]:
    """The line of every key in a JSON text, by its path: ("name",), ("resources", 0, "name"), ...

    A scan of strings and brackets (the text has already been parsed as JSON, and no JSON string
    holds a raw newline), so a key is told from a value, and a resource's name from its fields'.
    """
    lines: dict[KeyPath, int] = {}
    # Per open container: an object's [current key, whether a key comes next], an array's [index, False].
    stack: list[tuple[str, list[Any]]] = []
    line = 1
    for match in _TOKEN.finditer(descriptor_text):
        token = match.group()
        top: tuple[str, list[Any]] = stack[-1] if stack else ("", [None, False])
        kind, state = top
        if token == "\n":
            line += 1
        elif token in ("{", "["):
            stack.append((token, [None, True] if token == "{" else [0, False]))
        elif token in ("}", "]"):
            if stack:
                stack.pop()
        elif token == ",":
            if kind == "[":
                state[0] += 1
            else:
                state[1] = True
        elif token == ":":
            state[1] = False
        elif kind == "{" and state[1]:
            state[0] = json.loads(token)
            lines.setdefault(tuple(frame[0] for _, frame in stack), line)
    return lines


def check_names(ctx: Context) -> Iterator[Finding]:
    from ..model.names import unsafe_names
    from ..model.views import reserved_name_reason
    from ..read.dataset import seed_files

    package = ctx.dataset.package
    unsafe = unsafe_names(package)
    clashes = [
        (index, r.name, reason) for index, r in enumerate(package.resources) if (reason := reserved_name_reason(r.name))
    ]
    _, outside = seed_files(package.root)
    if not (unsafe or clashes or outside):
        return
    lines = key_lines(package.path.read_text(encoding="utf-8"))
    for path, reason, missing in unsafe:
        yield finding(
            "name-missing" if missing else "name-unsafe",  # a package may leave them out; a release cannot
            DESCRIPTOR_NAME,
            reason,
            line=lines.get(path),
            hint=VERSION_HINT if path == ("version",) else None,
        )
    for index, name, reason in clashes:
        yield finding(
            "table-name-reserved",
            DESCRIPTOR_NAME,
            f"the resource {name!r} cannot be a table of the SQLite release: {reason}",
            line=lines.get(("resources", index, "name")),
        )
    for relative, reason in outside:
        yield finding("file-outside-package", relative, f"the release's CSV zip would take it, but {reason}")

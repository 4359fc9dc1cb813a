"""A diff shown: text for a terminal, Markdown for a pull-request comment, JSON for programs.

The text and Markdown outputs show no control or invisible character raw (model.text.escape_text), and
Markdown escapes whatever could form markup, a link, an image or HTML; the JSON writes such
characters as \\u escapes (model.text.safe_json).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ...model.text import escape_text, safe_json
from .compare import DataDiff, SchemaChange, TableDiff
from .sides import Key

CELL_CHARS = 120  # longest value a markdown cell shows before it is clipped
MAX_ROWS = 50  # rows listed per section of a markdown comment; the JSON has them all


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def describe(
    change: SchemaChange,
    code: Callable[[str], str] = repr,
    arrow: str = "->",
    value: Callable[[str], str] = str,
) -> str:
    """A schema change as a phrase: "field 'x' removed (was string, optional)".

    code shows a field's name, value a value from the schema (an enum value, a pattern, a bound).
    """
    subject = f"field {code(change.field)}" if change.field else "table"

    def _values(values: Any) -> str:
        return value(", ".join(map(str, values)) if isinstance(values, list) else str(values))

    old = None if change.old is None else _values(change.old)
    new = None if change.new is None else _values(change.new)
    phrases = {
        "table-added": "table added",
        "table-removed": "table removed",
        "primary-key-changed": f"primary key changed: {old or 'none'} {arrow} {new or 'none'}",
        "field-added": f"{subject} added ({new})",
        "field-removed": f"{subject} removed (was {old})",
        "field-retyped": f"{subject} retyped: {old} {arrow} {new}",
        "enum-values-removed": f"{subject}: enum values removed: {old}",
        "enum-values-added": f"{subject}: enum values added: {new}",
        "enum-added": f"{subject}: now limited to the values {new}",
        "enum-removed": f"{subject}: no longer limited to the values {old}",
        "required-added": f"{subject} is now required",
        "required-removed": f"{subject} is no longer required",
        "unique-added": f"{subject} must now be unique",
        "unique-removed": f"{subject} need no longer be unique",
        "pattern-added": f"{subject}: new pattern {new}",
        "pattern-removed": f"{subject}: pattern {old} dropped",
        "pattern-changed": f"{subject}: pattern {old} {arrow} {new}",
    }
    if change.kind in phrases:
        return phrases[change.kind]
    bound = change.kind.removesuffix("-changed")
    return f"{subject}: {bound} {'none' if old is None else old} {arrow} {'none' if new is None else new}"


def _counts(t: TableDiff) -> str:
    parts = [f"{len(t.added)} added", f"{len(t.removed)} removed", f"{len(t.changed)} changed"]
    if t.status in ("added", "removed"):
        parts = [f"table {t.status}", _plural(len(t.added or t.removed), "row")]
    return ", ".join(parts)


def _key_text(key: Key) -> str:
    return ", ".join(key)


def _summary(d: DataDiff) -> str:
    changed = d.changed_tables
    added, removed, rows_changed = (
        sum(len(getattr(t, part)) for t in changed) for part in ("added", "removed", "changed")
    )
    schema = d.schema_changes
    breaking = sum(1 for c in schema if c.breaking)
    schema_text = f"{_plural(len(schema), 'schema change')} ({breaking} breaking)" if schema else "no schema changes"
    return (
        f"{_plural(len(changed), 'table')} changed: {_plural(added, 'row')} added, {removed} removed,"
        f" {rows_changed} changed; {schema_text}"
    )


def _no_differences(d: DataDiff, show: Callable[[str], str] = str) -> str:
    old, new = show(d.version.old), show(d.version.new)
    versions = old if d.version.old == d.version.new else f"{old} -> {new}"
    return f"no differences in schema or rows between {show(d.old)} and {show(d.new)} (version {versions})"


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def render_text(d: DataDiff) -> str:
    """For a terminal: every change, values in full and quoted, then a summary line.

    Each line is escaped as a whole (model.text.escape_text): a control, format or invisible character,
    and a line break inside a key or a name, shows as a visible escape, never raw.
    """
    return "\n".join(escape_text(line) for line in _text_lines(d)) + "\n"


def _text_lines(d: DataDiff) -> list[str]:
    if not d.has_changes:
        return [_no_differences(d)] + [f"note: {n}" for n in d.notes]
    out = [f"eurasec diff: {d.old} -> {d.new}, version {d.version.old} -> {d.version.new}", ""]
    for t in d.changed_tables:
        out.append(f"{t.name}: {_counts(t)}")
        for c in t.schema:
            out.append(f"  ! breaking: {describe(c)}" if c.breaking else f"  * {describe(c)}")
        for sign, rows in (("+", t.added), ("-", t.removed)):
            for row in rows:
                out.append(f"  {sign} {_key_text(row.key)}")
                out += [f"      {f}: {_q(v)}" for f, v in row.values.items() if v and f not in t.key_fields]
        for change in t.changed:
            out.append(f"  ~ {_key_text(change.key)}")
            out += [f"      {c.field}: {_q(c.old)} -> {_q(c.new)}" for c in change.fields]
        out.append("")
    out.append(_summary(d))
    out += [f"note: {n}" for n in [d.version.note, *d.notes] if n]
    return out


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])|:(?=//)")
_MD_WWW = re.compile(r"(?i)\b(www)\.")


def _cell(text: str) -> str:
    """Text safe in a markdown table cell: markup escaped (| above all; [ ] so that no link or image forms,
    & < > as entities so that no HTML does, the ':' of '://' and the '.' of 'www.' so that no URL autolinks), control
    and invisible characters shown as escapes, line breaks kept as <br>."""
    text = escape_text(text.replace("\r\n", "\n"), keep="\n")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MD_WWW.sub(r"\1\\.", _MD_SPECIAL.sub(lambda m: "\\" + m.group(), text))
    return escaped.replace("\n", "<br>")


def _clip(text: str, start: int = 0, limit: int = CELL_CHARS) -> str:
    """At most `limit` characters of text from about `start`, with … standing for what was cut."""
    if len(text) <= limit:
        return text
    start = max(0, min(start, len(text) - limit))
    end = start + limit
    head, tail = start > 0, end < len(text)
    # Each ellipsis takes the place of one character, on the side where text was cut.
    return ("…" if head else "") + text[start + head : end - tail] + ("…" if tail else "")


def _clip_pair(old: str, new: str) -> tuple[str, str]:
    """Clip both values around where they first differ, so the change itself stays in view."""
    if max(len(old), len(new)) <= CELL_CHARS:
        return old, new
    same = 0
    while same < min(len(old), len(new)) and old[same] == new[same]:
        same += 1
    start = max(0, same - CELL_CHARS // 3)
    return _clip(old, start), _clip(new, start)


def _md_value(text: str) -> str:
    return _cell(text) if text else "*(empty)*"


def _md_code(text: str) -> str:
    if "`" in text or not text:
        return _cell(text) or "*(empty)*"
    escaped = escape_text(text).replace("|", "\\|")  # a pipe splits a table cell even inside code
    return f"`{escaped}`"


def _md_rows(title: str, header: str, lines: list[str], total: int) -> list[str]:
    out = [f"**{title} ({total})**", "", f"| {header} |", "| --- | --- |", *lines]
    if total > len(lines):
        out.append(f"| … | {total - len(lines)} more (the JSON output lists them all) |")
    return [*out, ""]


def render_markdown(d: DataDiff, max_rows: int = MAX_ROWS) -> str:
    """For a pull-request comment: heading, summary table, then each changed table's rows."""
    if not d.has_changes:
        return f"**eurasec diff**: {_no_differences(d, _cell).replace(' -> ', ' → ')}\n"
    out = [f"## eurasec diff: {_md_code(d.old)} → {_md_code(d.new)}", ""]
    if d.version.note:
        marker = "> [!CAUTION]" if not d.version.ok and d.version.bump == "major" else "> [!NOTE]"
        out += [marker, f"> {_cell(d.version.note.replace(' -> ', ' → '))}", ""]
    unchanged = len(d.tables) - len(d.changed_tables)
    out += [
        f"Version {_cell(d.version.old)} → {_cell(d.version.new)}. {_summary(d)}."
        + (f" {_plural(unchanged, 'other table')} unchanged." if unchanged else ""),
        "",
        "| table | rows added | rows removed | rows changed | schema changes |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for t in d.changed_tables:
        breaking = sum(1 for c in t.schema if c.breaking)
        schema = f"{len(t.schema)}" + (f" ({breaking} breaking)" if breaking else "") if t.schema else "–"
        out.append(f"| {_md_code(t.name)} | {len(t.added)} | {len(t.removed)} | {len(t.changed)} | {schema} |")
    out.append("")
    for note in d.notes:
        out += [f"> {_cell(note)}", ""]
    for t in d.changed_tables:
        key_header = _cell(", ".join(t.key_fields)) or "key"
        out += [f"### {_md_code(t.name)}" + (f" (table {t.status})" if t.status in ("added", "removed") else ""), ""]
        for c in t.schema:
            text = describe(c, code=_md_code, arrow="→", value=_cell)
            out.append(f"- **breaking**: {text}" if c.breaking else f"- {text}")
        if t.schema:
            out.append("")
        for title, rows in (("Added rows", t.added), ("Removed rows", t.removed)):
            if rows:
                lines = []
                for row in rows[:max_rows]:
                    values = [
                        f"{_cell(f)}: {_md_value(_clip(v))}"
                        for f, v in row.values.items()
                        if v and f not in t.key_fields
                    ]
                    lines.append(f"| {_md_code(_key_text(row.key))} | {'<br>'.join(values)} |")
                out += _md_rows(title, f"{key_header} | row", lines, len(rows))
        if t.changed:
            lines = []
            for change in t.changed[:max_rows]:
                parts = []
                for fc in change.fields:
                    old, new = _clip_pair(fc.old, fc.new)
                    parts.append(f"{_cell(fc.field)}: {_md_value(old)} → {_md_value(new)}")
                lines.append(f"| {_md_code(_key_text(change.key))} | {'<br>'.join(parts)} |")
            out += _md_rows("Changed rows", f"{key_header} | changes", lines, len(t.changed))
    return "\n".join(out).rstrip("\n") + "\n"


def _key_dict(key_fields: tuple[str, ...], key: Key) -> dict[str, str]:
    return dict(zip(key_fields, key, strict=True))


def to_dict(d: DataDiff) -> dict[str, Any]:
    """The whole diff as plain data, keys in a fixed order."""
    v = d.version
    return {
        "old": {"label": d.old, "version": v.old},
        "new": {"label": d.new, "version": v.new},
        "changed": d.has_changes,
        "breaking": d.breaking,
        "version": {"bump": v.bump, "expected": v.expected, "ok": v.ok, "note": v.note},
        "notes": list(d.notes),
        "tables": [
            {
                "name": t.name,
                "status": t.status,
                "key_fields": list(t.key_fields),
                "counts": {"added": len(t.added), "removed": len(t.removed), "changed": len(t.changed)},
                "schema_changes": [
                    {
                        "kind": c.kind,
                        "field": c.field,
                        "old": c.old,
                        "new": c.new,
                        "breaking": c.breaking,
                        "description": describe(c),
                    }
                    for c in t.schema
                ],
                "added": [{"key": _key_dict(t.key_fields, r.key), "row": r.values} for r in t.added],
                "removed": [{"key": _key_dict(t.key_fields, r.key), "row": r.values} for r in t.removed],
                "changed": [
                    {
                        "key": _key_dict(t.key_fields, c.key),
                        "fields": {f.field: {"old": f.old, "new": f.new} for f in c.fields},
                    }
                    for c in t.changed
                ],
            }
            for t in d.tables
        ],
    }


def render_json(d: DataDiff) -> str:
    """The whole diff as JSON: UTF-8, with control and invisible characters as \\u escapes (model.text.safe_json)."""
    return safe_json(to_dict(d)) + "\n"


RENDERERS: dict[str, Callable[[DataDiff], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}

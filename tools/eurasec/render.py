"""The one reporter: a Report as text, JSON or GitHub annotations."""

from __future__ import annotations

import json
from collections import defaultdict

from .findings import Finding, Report

FORMATS = ("text", "json", "github")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(report: Report) -> str:
    rows = sum(report.tables.values())
    verdict = "valid" if report.valid else "invalid"
    return (
        f"{verdict}: {_plural(len(report.errors), 'error')}, {_plural(len(report.warnings), 'warning')}"
        f" in {_plural(len(report.tables), 'table')} ({_plural(rows, 'row')})"
    )


def _place(f: Finding) -> str:
    place = f"{f.file}:{f.line}" if f.line else f.file
    return f"{place} [{f.field}]" if f.field else place


def render_text(report: Report) -> str:
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in report.sorted():
        by_file[f.file].append(f)
    out: list[str] = []
    for file, findings in by_file.items():
        out.append(file)
        for f in findings:
            out.append(f"  {_place(f)}: {f.severity.value} {f.code}: {f.message}")
            out.append(f"      hint: {f.hint}")
        out.append("")
    out.append(summary(report))
    return "\n".join(out) + "\n"


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    """Workflow commands: one ::error or ::warning line per finding, on the file's line and column."""
    out = []
    for f in report.sorted():
        props = [f"file={_escape_property(f.file)}"]
        if f.line:
            props.append(f"line={f.line}")
        if f.column:
            props.append(f"col={f.column}")
        props.append(f"title={_escape_property(f.code + (f' [{f.field}]' if f.field else ''))}")
        out.append(f"::{f.severity.value} {','.join(props)}::{_escape_data(f'{f.message}. Hint: {f.hint}')}")
    out.append(summary(report))
    return "\n".join(out) + "\n"


def render_markdown_summary(report: Report) -> str:
    """The job summary that GitHub shows on the run's page."""
    lines = [f"## eurasec validate: {summary(report)}", ""]
    if report.findings:
        lines += ["| place | severity | code | message | hint |", "| --- | --- | --- | --- | --- |"]
        for f in report.sorted():
            cells = [_place(f), f.severity.value, f"`{f.code}`", f.message, f.hint]
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def render(report: Report, fmt: str) -> str:
    return {"text": render_text, "json": render_json, "github": render_github}[fmt](report)

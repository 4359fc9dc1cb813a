"""README.md of the release: a Hugging Face dataset card, so that the release folder is a dataset repository.

Its YAML front matter names a config per table of the release (the derived `mentions` too), each
pointing at its Parquet file, with the licence (Hugging Face's lower-case id of the descriptor's
SPDX licence), the keywords as tags and the size category; its body is the descriptor's title and
description, a table of the configs, every section of docs/datasheet.md (links into the repository
made plain text: they lead nowhere outside it) and the citation (citation.py).

The YAML is written as JSON scalars and flow lists, which every YAML reader reads, so that the build
needs no YAML writer. O(metadata): the row counts are the typed tables' (and the mentions file's
footer), never a read of the data.
"""

from __future__ import annotations

import json
from pathlib import Path

from .citation import as_list, bibtex, citation
from .context import ReleaseInput
from .croissant import parquet_files
from .prose import read_datasheet, without_relative_links

CARD_FILE = "README.md"
SPLIT = "train"  # Hugging Face's name for a config's one split, when the data has no splits of its own

# Hugging Face's size categories, by the largest number of rows of a table.
SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)


def _scalar(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def size_category(rows: int) -> str:
    return next((name for limit, name in SIZE_CATEGORIES if rows < limit), "n>1B")


def _rows(release: ReleaseInput, folder: Path, name: str, relative: str) -> int:
    table = release.tables.get(name)
    if table is not None:
        return int(table.num_rows)
    import pyarrow.parquet as pq  # a derived table (mentions): its file's footer says

    return int(pq.read_metadata(folder / relative).num_rows)


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def dataset_card(release: ReleaseInput, folder: Path) -> str:
    raw = release.package.raw
    cited = citation(release.package)
    files = parquet_files(release)
    rows = {resource.name: _rows(release, folder, resource.name, relative) for resource, relative, _, _ in files}
    licences = [str(lic.get("name", "")) for lic in as_list(raw.get("licenses")) if isinstance(lic, dict)]
    title = str(raw.get("title", "")) or release.package.name
    front = ["---"]
    if licences and licences[0]:
        front.append(f"license: {_scalar(licences[0].lower())}")
    front.append(f"pretty_name: {_scalar(title)}")
    keywords = [str(k) for k in as_list(raw.get("keywords"))]
    if keywords:
        front.append(f"tags: [{', '.join(map(_scalar, keywords))}]")
    front.append(f"size_categories: [{_scalar(size_category(max(rows.values(), default=0)))}]")
    front.append("configs:")
    for resource, relative, _, _ in files:
        front += [
            f"- config_name: {_scalar(resource.name)}",
            "  data_files:",
            f"  - split: {_scalar(SPLIT)}",
            f"    path: {_scalar(relative)}",
        ]
    front.append("---")
    body = [
        f"# {title}",
        "",
        str(raw.get("description", "")),
        "",
        f"Version {release.version}" + (f", licence {', '.join(licences)}." if licences else "."),
        "",
        "## The tables",
        "",
        "Each table is a config of its own, with one split (`train`), read from its Parquet file:",
        "",
        "| config | what | rows | file |",
        "| --- | --- | ---: | --- |",
        *(
            f"| `{resource.name}` | {_cell(resource.title)}: {_cell(resource.description)} | {rows[resource.name]}"
            f" | `{relative}` |"
            for resource, relative, _, _ in files
        ),
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'{files[0][0].name if files else "table"} = load_dataset("parquet", data_files='
        f'"{files[0][1] if files else "parquet/table.parquet"}", split="train")',
        "```",
    ]
    for section in read_datasheet(release.package.root):
        body += ["", f"## {section.title}", "", without_relative_links(section.text.strip())]
    key = f"{release.package.name}_{release.version.replace('.', '_')}"
    body += ["", "## BibTeX", "", "```bibtex", bibtex(cited, release.version, key), "```"]
    return "\n".join(front) + "\n\n" + "\n".join(body) + "\n"


def export_dataset_card(release: ReleaseInput, folder: Path) -> None:
    (folder / CARD_FILE).write_text(dataset_card(release, folder), encoding="utf-8")
    release.written[CARD_FILE] = folder / CARD_FILE

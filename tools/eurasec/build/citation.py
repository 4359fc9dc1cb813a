"""How to cite the dataset: CITATION.cff read once, for the Croissant file, the dataset card and Zenodo.

CITATION.cff sits beside the descriptor. A package without one (or with one that is not readable
YAML of the Citation File Format's shape) is cited from its descriptor alone: its title, version,
licences and contributors. Nothing here raises for a bad file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model.descriptor import Package

CITATION_FILE = "CITATION.cff"
MAX_CITATION_BYTES = 1024**2


@dataclass(frozen=True)
class Author:
    name: str  # a person's full name, or an entity's name
    person: bool  # given-names/family-names (a person), or name (an organization, a group)
    given: str = ""
    family: str = ""
    orcid: str = ""
    affiliation: str = ""


@dataclass(frozen=True)
class Citation:
    title: str
    version: str
    licence: str  # an SPDX id
    authors: tuple[Author, ...]
    abstract: str = ""
    keywords: tuple[str, ...] = ()
    message: str = ""
    references: tuple[dict[str, Any], ...] = field(default=())
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


def read_cff(path: Path) -> dict[str, Any] | None:
    """CITATION.cff as a mapping, or None when there is none or it is not a YAML mapping of a sane size."""
    try:
        import yaml  # frictionless's dependency, so wherever the build runs
    except ImportError:
        return None
    try:
        if not path.is_file() or path.stat().st_size > MAX_CITATION_BYTES:
            return None
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def as_list(value: Any) -> list[Any]:
    """A CITATION.cff list, or [] where the file has anything else there."""
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if isinstance(value, str | int | float) else ""


def _author(raw: Any) -> Author | None:
    if not isinstance(raw, dict):
        return None
    given, family = _text(raw.get("given-names", "")), _text(raw.get("family-names", ""))
    orcid, affiliation = _text(raw.get("orcid", "")), _text(raw.get("affiliation", ""))
    if given or family:
        return Author(" ".join(p for p in (given, family) if p), True, given, family, orcid, affiliation)
    name = _text(raw.get("name", ""))
    return Author(name, False, orcid=orcid, affiliation=affiliation) if name else None


def citation(package: Package) -> Citation:
    """The dataset's citation: CITATION.cff's where it has one, else the descriptor's own title, version,
    first licence and contributors (as organizations: a descriptor does not say who is a person)."""
    raw = package.raw
    licences = [str(lic.get("name", "")) for lic in as_list(raw.get("licenses")) if isinstance(lic, dict)]
    cff = read_cff(package.root / CITATION_FILE) or {}
    authors = tuple(a for a in map(_author, as_list(cff.get("authors"))) if a is not None)
    if not authors:
        contributors = [c for c in as_list(raw.get("contributors")) if isinstance(c, dict)]
        chosen = [c for c in contributors if c.get("role") == "author"] or contributors
        authors = tuple(Author(_text(c.get("title", "")), False) for c in chosen if _text(c.get("title", "")))
    keywords = as_list(cff.get("keywords")) or as_list(raw.get("keywords"))
    references = tuple(r for r in as_list(cff.get("references")) if isinstance(r, dict))
    return Citation(
        title=_text(cff.get("title", "")) or _text(raw.get("title", "")),
        version=_text(cff.get("version", "")) or package.version,
        licence=_text(cff.get("license", "")) or (licences[0] if licences else ""),
        authors=authors,
        abstract=_text(cff.get("abstract", "")) or _text(raw.get("description", "")),
        keywords=tuple(_text(k) for k in keywords if _text(k)),
        message=_text(cff.get("message", "")),
        references=references,
        raw=cff,
    )


def bibtex(cited: Citation, version: str, key: str) -> str:
    """A BibTeX entry for the dataset at this version (the release's, which may be newer than CITATION.cff's).

    No year: the build writes no date of its own (two builds are byte-identical), and CITATION.cff's
    `date-released` is used only where it is given.
    """

    def braced(value: str) -> str:
        return "{" + value.replace("{", "").replace("}", "") + "}"

    authors = " and ".join(a.name if a.person else "{" + a.name + "}" for a in cited.authors)
    fields = [("author", authors), ("title", cited.title), ("version", version)]
    released = _text(cited.raw.get("date-released", ""))
    if released[:4].isdigit():
        fields.append(("year", released[:4]))
    if cited.licence:
        fields.append(("note", f"Dataset, licence {cited.licence}"))
    lines = ",\n".join(f"  {name} = {braced(value)}" for name, value in fields if value)
    return f"@misc{{{key},\n{lines}\n}}"

""".zenodo.json, generated from CITATION.cff: what Zenodo's GitHub integration reads when a tagged release
is archived (and given a DOI). Zenodo prefers .zenodo.json to CITATION.cff where both are present, so the
two must agree: this writes the one from the other, and a test holds the committed file to it.

    python -m eurasec.build.zenodo [ROOT]     # rewrites ROOT/.zenodo.json (ROOT: the current folder)
    python -m eurasec.build.zenodo --check    # exit 1 if the committed file differs
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .citation import CITATION_FILE, as_list, read_cff

ZENODO_FILE = ".zenodo.json"
# CITATION.cff's `type` as Zenodo's upload_type.
UPLOAD_TYPES = {"dataset": "dataset", "software": "software"}


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if isinstance(value, str | int | float) else ""


def _creator(author: dict[str, Any]) -> dict[str, str] | None:
    """A CITATION.cff author as a Zenodo creator: "Family, Given" for a person, the name for an entity."""
    family, given = _text(author.get("family-names", "")), _text(author.get("given-names", ""))
    name = ", ".join(p for p in (family, given) if p) or _text(author.get("name", ""))
    if not name:
        return None
    out = {"name": name}
    if _text(author.get("affiliation", "")):
        out["affiliation"] = _text(author["affiliation"])
    orcid = _text(author.get("orcid", "")).removeprefix("https://orcid.org/")
    if orcid:
        out["orcid"] = orcid
    return out


def _reference(ref: dict[str, Any]) -> str:
    """A CITATION.cff reference as one line of text: authors, "title", publisher, URL."""
    authors = []
    for author in as_list(ref.get("authors")):
        if isinstance(author, dict):
            given, family = _text(author.get("given-names", "")), _text(author.get("family-names", ""))
            authors.append(" ".join(p for p in (given, family) if p) or _text(author.get("name", "")))
    publisher = ref.get("publisher")
    publisher_name = _text(publisher.get("name", "")) if isinstance(publisher, dict) else _text(publisher or "")
    title = _text(ref.get("title", ""))
    quoted = f'"{title}"' if title else ""
    parts = [", ".join(a for a in authors if a), quoted, publisher_name, _text(ref.get("url", ""))]
    return ", ".join(p for p in parts if p)


def zenodo_metadata(cff: dict[str, Any]) -> dict[str, Any]:
    """Zenodo's deposit metadata from CITATION.cff: the fields the two share, each taken from CITATION.cff."""
    out: dict[str, Any] = {
        "title": _text(cff.get("title", "")),
        "upload_type": UPLOAD_TYPES.get(_text(cff.get("type", "")), "software"),
        "description": _text(cff.get("abstract", "")),
        "creators": [c for c in map(_creator, [a for a in as_list(cff.get("authors")) if isinstance(a, dict)]) if c],
        "version": _text(cff.get("version", "")),
        "license": _text(cff.get("license", "")).lower(),
        "keywords": [_text(k) for k in as_list(cff.get("keywords")) if _text(k)],
        "access_right": "open",
    }
    if _text(cff.get("date-released", "")):
        out["publication_date"] = _text(cff["date-released"])
    if _text(cff.get("doi", "")):
        out["doi"] = _text(cff["doi"])
    references = [_reference(r) for r in as_list(cff.get("references")) if isinstance(r, dict)]
    if any(references):
        out["references"] = [r for r in references if r]
    return {k: v for k, v in out.items() if v not in ("", [], None)}


def render(root: Path) -> str | None:
    """The .zenodo.json that CITATION.cff in `root` makes, or None when it has no readable CITATION.cff."""
    cff = read_cff(root / CITATION_FILE)
    if cff is None:
        return None
    return json.dumps(zenodo_metadata(cff), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    roots = [a for a in args if a != "--check"]
    root = Path(roots[0] if roots else ".")
    text = render(root)
    if text is None:
        print(f"{root / CITATION_FILE}: missing, or not a YAML mapping", file=sys.stderr)
        return 2
    target = root / ZENODO_FILE
    if check:
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != text:
            print(f"{target} does not match {CITATION_FILE}: run `python -m eurasec.build.zenodo`", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

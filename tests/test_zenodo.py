""".zenodo.json (build/zenodo.py) is CITATION.cff in Zenodo's terms: the committed file is what the generator
writes now, and every field the two share agrees, read here with a YAML reader of the test's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from eurasec.build.zenodo import ZENODO_FILE, main, render

from .conftest import ROOT


def cff() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def zenodo() -> dict:
    return json.loads((ROOT / ZENODO_FILE).read_text(encoding="utf-8"))


def test_the_committed_file_is_what_citation_cff_makes():
    assert (ROOT / ZENODO_FILE).read_text(encoding="utf-8") == render(ROOT), (
        "run `python -m eurasec.build.zenodo` to refresh .zenodo.json"
    )


def test_every_shared_field_agrees_with_citation_cff():
    cited, deposit = cff(), zenodo()
    assert deposit["title"] == cited["title"]
    assert deposit["version"] == str(cited["version"])
    assert deposit["license"] == cited["license"].lower()  # Zenodo's licence ids are SPDX's, in lower case
    assert deposit["keywords"] == cited["keywords"]
    assert deposit["description"] == " ".join(cited["abstract"].split())
    assert deposit["upload_type"] == cited["type"] == "dataset"
    names = [a["name"] if "name" in a else f"{a['family-names']}, {a['given-names']}" for a in cited["authors"]]
    assert [c["name"] for c in deposit["creators"]] == names
    for reference in cited.get("references", []):
        assert any(reference["title"] in r and reference.get("url", "") in r for r in deposit["references"])


def test_check_says_when_the_two_disagree(tmp_path: Path):
    (tmp_path / "CITATION.cff").write_bytes((ROOT / "CITATION.cff").read_bytes())
    assert main([str(tmp_path), "--check"]) == 1  # no .zenodo.json yet
    assert main([str(tmp_path)]) == 0
    assert main([str(tmp_path), "--check"]) == 0
    text = (tmp_path / "CITATION.cff").read_text(encoding="utf-8")
    (tmp_path / "CITATION.cff").write_text(text.replace('version: "', 'version: "9'), encoding="utf-8")
    assert main([str(tmp_path), "--check"]) == 1


def test_a_missing_or_broken_citation_file_is_a_message_not_a_traceback(tmp_path: Path):
    for content in (None, b"title: [unclosed", b"\xff\xfe", b"- a list\n"):
        if content is not None:
            (tmp_path / "CITATION.cff").write_bytes(content)
        done = subprocess.run(
            [sys.executable, "-m", "eurasec.build.zenodo", str(tmp_path)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 2 and "Traceback" not in done.stderr and "CITATION.cff" in done.stderr
        assert not (tmp_path / ZENODO_FILE).exists()

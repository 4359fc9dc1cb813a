"""The release's README.md (build/card.py): a Hugging Face dataset card whose every config loads with Hugging
Face's own `datasets`, offline, from the release folder, with as many rows as its Parquet file; its licence,
tags and sections come from datapackage.json and docs/datasheet.md.

`datasets` is in the test extra: it is light enough (no torch; pyarrow, pandas and a few small packages),
and loading with the real library is what proves that the hub would read the card. It runs in a child
process with HF_DATASETS_OFFLINE and HF_HUB_OFFLINE set, so that it never looks for anything remote,
and with its caches in the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from eurasec.build import build_release
from eurasec.build.card import SPLIT, size_category
from eurasec.build.prose import parse_sections

from .conftest import DESCRIPTOR, ROOT

RAW = json.loads(DESCRIPTOR.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_release(DESCRIPTOR, tmp_path_factory.mktemp("out")).folder


def front_matter(release: Path) -> tuple[dict, str]:
    text = (release / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(head), body


def parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.read_metadata(path).num_rows)


def test_a_config_per_table_pointing_at_its_parquet_file(release: Path):
    card, _ = front_matter(release)
    configs = {c["config_name"]: c["data_files"] for c in card["configs"]}
    assert sorted(configs) == sorted(p.stem for p in (release / "parquet").glob("*.parquet"))
    for name, files in configs.items():
        assert files == [{"split": SPLIT, "path": f"parquet/{name}.parquet"}]
        assert (release / files[0]["path"]).is_file()
    assert card["license"] == RAW["licenses"][0]["name"].lower()
    assert card["pretty_name"] == RAW["title"] and card["tags"] == RAW["keywords"]
    largest = max(parquet_rows(p) for p in (release / "parquet").glob("*.parquet"))
    assert card["size_categories"] == [size_category(largest)]


def load_offline(release: Path, tmp_path: Path, script: str) -> dict:
    env = {
        **os.environ,
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
        "HF_DATASETS_CACHE": str(tmp_path / "hf-datasets"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", script, str(release)],
        capture_output=True,
        text=True,
        env=env,
        cwd=release,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_datasets_loads_every_config_the_card_names_from_its_parquet_file(release: Path, tmp_path: Path):
    pytest.importorskip("datasets")
    card, _ = front_matter(release)
    script = """
import json, sys
import yaml
from datasets import load_dataset
text = open("README.md", encoding="utf-8").read()
card = yaml.safe_load(text[4:].split("\\n---\\n", 1)[0])
rows = {}
for config in card["configs"]:
    files = {f["split"]: f["path"] for f in config["data_files"]}
    loaded = load_dataset("parquet", data_files=files)
    rows[config["config_name"]] = {split: loaded[split].num_rows for split in loaded}
print(json.dumps(rows))
"""
    rows = load_offline(release, tmp_path, script)
    assert set(rows) == {c["config_name"] for c in card["configs"]}
    for name, splits in rows.items():
        assert splits == {SPLIT: parquet_rows(release / f"parquet/{name}.parquet")}, name


def test_datasets_reads_the_folder_as_a_dataset_repository_by_its_card(release: Path, tmp_path: Path):
    # load_dataset(folder, config) reads the card's YAML itself, as the hub does for a dataset repository
    pytest.importorskip("datasets")
    card, _ = front_matter(release)
    script = """
import json, sys
from datasets import get_dataset_config_names, load_dataset
names = get_dataset_config_names(sys.argv[1])
rows = {}
for name in names:
    loaded = load_dataset(sys.argv[1], name)
    rows[name] = {split: [loaded[split].num_rows, loaded[split].column_names] for split in loaded}
print(json.dumps(rows))
"""
    rows = load_offline(release, tmp_path, script)
    assert sorted(rows) == sorted(c["config_name"] for c in card["configs"])
    import pyarrow.parquet as pq

    for name, splits in rows.items():
        path = release / f"parquet/{name}.parquet"
        assert splits == {SPLIT: [parquet_rows(path), pq.read_schema(path).names]}, name


def test_the_cards_sections_are_the_datasheets(release: Path):
    _, body = front_matter(release)
    _, sections = parse_sections((ROOT / "docs/datasheet.md").read_text(encoding="utf-8"))
    assert sections
    headings = [line[3:] for line in body.splitlines() if line.startswith("## ")]
    assert [s.title for s in sections] == [h for h in headings if h in {s.title for s in sections}]
    for section in sections:
        first = next(line for line in section.text.splitlines() if line.strip())
        assert first.split("**")[1 if first.startswith("- **") else 0] in body, section.title
    assert "](data-dictionary.md)" not in body  # links into the repository lead nowhere in a release
    assert body.startswith(f"\n# {RAW['title']}\n") and RAW["description"] in body
    assert "@misc{" in body and RAW["version"] in body

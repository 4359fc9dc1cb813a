"""`eurasec diff` on synthetic packages: rows matched column-wise, read once, and values shown as the rows had them.

The expected changes come from the edits themselves (which rows, which fields), never from the
diff's output. The benchmark (benchmarks/bench.py) times the same comparison at a million rows.
"""

from __future__ import annotations

import csv
import datetime
import json
import random
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

from eurasec.contribute.diff import DiffError, diff, load_side, render_json
from eurasec.contribute.diff import sides as sides_module
from eurasec.contribute.diff.keys import codes, first_and_last
from eurasec.contribute.diff.sides import TableData, _normalize, _text, _typed_text
from tests.synth import generate

ROWS = 20_000


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synthetic") / "pkg"
    generate(folder, ROWS, seed=3)
    return folder


@pytest.fixture
def pair(synthetic: Path, tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(synthetic, old)
    shutil.copytree(synthetic, new)
    return old, new


def resources(pkg: Path) -> dict[str, dict]:
    return {r["name"]: r for r in json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))["resources"]}


def read(pkg: Path, table: str) -> tuple[list[str], list[list[str]]]:
    with open(pkg / "data" / f"{table}.csv", encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def write(pkg: Path, table: str, header: list[str], rows: list[list[str]]) -> None:
    with open(pkg / "data" / f"{table}.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *rows])


def key_of(pkg: Path, table: str, header: list[str], row: list[str]) -> tuple[str, ...]:
    return tuple(row[header.index(name)] for name in resources(pkg)[table]["schema"]["primaryKey"])


def test_changed_cells_in_large_tables_are_exactly_the_changed_fields(pair: tuple[Path, Path]):
    old, new = pair
    rng = random.Random(0)
    expected: dict[str, dict[tuple[str, ...], dict[str, tuple[str, str]]]] = {}
    for table in ("aliases", "actors", "initiative_actors"):
        header, rows = read(new, table)
        key = set(resources(new)[table]["schema"]["primaryKey"])
        for index in rng.sample(range(len(rows)), 15):
            name = rng.choice([h for h in header if h not in key])
            before = rows[index][header.index(name)]
            rows[index][header.index(name)] = before + " (edited)"
            expected.setdefault(table, {})[key_of(new, table, header, rows[index])] = {
                name: (before, before + " (edited)")
            }
        write(new, table, header, rows)

    d = diff(load_side(str(old)), load_side(str(new)))

    found = {t.name: {c.key: {f.field: (f.old, f.new) for f in c.fields} for c in t.changed} for t in d.changed_tables}
    assert found == expected
    assert all(not t.added and not t.removed for t in d.tables)
    for t in d.changed_tables:  # in key order: what the reviewer reads top to bottom
        assert [c.key for c in t.changed] == sorted(c.key for c in t.changed)


def test_rows_moved_removed_and_added_are_matched_by_key_not_by_place(pair: tuple[Path, Path]):
    old, new = pair
    header, rows = read(new, "actors")
    rng = random.Random(1)
    removed = [rows.pop(rng.randrange(len(rows))) for _ in range(7)]
    added = []
    for i in range(5):
        row = list(rows[i])
        row[header.index("id")] = f"zz-actor-{i}"
        added.append(row)
    rows += added
    rng.shuffle(rows)
    write(new, "actors", header, rows)

    d = diff(load_side(str(old)), load_side(str(new)))

    [actors] = d.changed_tables
    assert actors.name == "actors" and actors.changed == []
    assert [r.key for r in actors.removed] == sorted((r[0],) for r in removed)
    assert [r.key for r in actors.added] == [(f"zz-actor-{i}",) for i in range(5)]
    assert actors.added[0].values == dict(zip(header, added[0], strict=True))


def test_repeated_keys_are_noted_and_the_last_row_is_compared(pair: tuple[Path, Path]):
    old, new = pair
    header, rows = read(new, "initiatives")
    first, second = list(rows[10]), list(rows[20])
    rows.insert(3, [*first[:-1], "an earlier row with the same key"])  # before the original: the original wins
    rows.append([*second[:-1], "a later row with the same key"])  # after it: this one wins
    write(new, "initiatives", header, rows)

    d = diff(load_side(str(old)), load_side(str(new)))

    [initiatives] = d.changed_tables
    assert [(c.key, [f.new for f in c.fields]) for c in initiatives.changed] == [
        ((second[0],), ["a later row with the same key"])
    ]
    keys = "; ".join(sorted([first[0], second[0]]))
    assert d.notes == [f"NEW initiatives: more than one row has the key {keys}; the last one is compared"]


def test_a_table_whose_file_did_not_change_is_read_once(pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch):
    old, new = pair
    header, rows = read(new, "steps")
    rows[0][header.index("text")] += " (edited)"
    write(new, "steps", header, rows)
    reads: list[str] = []
    real = sides_module._read_data

    def counting(source, types):  # type: ignore[no-untyped-def]
        reads.append(source.file)
        return real(source, types)

    monkeypatch.setattr(sides_module, "_read_data", counting)
    d = diff(load_side(str(old)), load_side(str(new)))

    assert [t.name for t in d.changed_tables] == ["steps"]
    assert sorted(reads) == sorted([*(r["path"] for r in resources(new).values()), "data/steps.csv"])


def test_a_revision_reads_only_the_blobs_that_changed(pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch):
    repo = pair[0]
    run = lambda *args: subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    run("add", "-A")
    run("-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "one")
    header, rows = read(repo, "trends")
    rows[5][header.index("title")] = "retitled"
    write(repo, "trends", header, rows)
    run("-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qam", "two")
    blobs: list[str] = []
    real = sides_module._git

    def counting(where: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
        if args[:2] == ("cat-file", "blob"):
            blobs.append(args[2])
        return real(where, *args)

    monkeypatch.setattr(sides_module, "_git", counting)
    d = diff(load_side("HEAD~1", repo), load_side("HEAD", repo))

    [trends] = d.changed_tables
    assert [(c.key, c.fields[0].new) for c in trends.changed] == [(key_of(repo, "trends", header, rows[5]), "retitled")]
    tables = len(resources(repo))
    assert len(blobs) == 2 + tables + 1  # two descriptors, each table once, and the changed table's new version


def test_a_folder_file_that_changes_after_it_was_found_is_an_error(pair: tuple[Path, Path]):
    # The diff compares what load_side found: a file edited in between is not silently read as it is now.
    old, new = pair
    header, rows = read(new, "actors")
    rows[0][header.index("name")] = "Renamed"
    write(new, "actors", header, rows)
    old_side, new_side = load_side(str(old)), load_side(str(new))
    rows[0][header.index("name")] = "Renamed again"
    write(new, "actors", header, rows)
    with pytest.raises(DiffError, match=r"data/actors\.csv changed while the diff was running"):
        diff(old_side, new_side)


def test_the_same_sides_give_the_same_json_every_time(pair: tuple[Path, Path]):
    old, new = pair
    header, rows = read(new, "organizations")
    rows[1][header.index("name")] = "Renamed"
    del rows[2]
    write(new, "organizations", header, rows)
    forward = render_json(diff(load_side(str(old)), load_side(str(new))))
    new_side = load_side(str(new))
    again = render_json(diff(load_side(str(old)), new_side))
    assert forward == again


# --- keys and values --------------------------------------------------------------------


def test_composite_keys_get_equal_codes_exactly_when_every_part_is_equal():
    # Parts that would run together if joined ("a:b" + "c" and "a" + "b:c"), and enough fields of many
    # values that the combined codes must be renumbered to stay in an int64.
    rng = random.Random(2)
    n = 2_000
    fields = [f"f{i}" for i in range(7)]
    rows = [tuple(rng.choice(["a:b", "a", "b:c", "c", "", str(rng.randrange(1000))]) for _ in fields) for _ in range(n)]
    rows += rows[:50]  # repeats
    old = TableData(len(rows), {f: pa.array([r[i] for r in rows], pa.string()) for i, f in enumerate(fields)})
    half = rows[::2]
    new = TableData(len(half), {f: pa.array([r[i] for r in half], pa.string()) for i, f in enumerate(fields)})

    (old_codes, new_codes), bound = codes([old, new], tuple(fields))

    everything = rows + half
    by_code: dict[int, tuple[str, ...]] = {}
    for code, row in zip([*old_codes.tolist(), *new_codes.tolist()], everything, strict=True):
        assert by_code.setdefault(code, row) == row
    assert len(by_code) == len(set(everything))
    assert max(by_code) < bound <= 4 * len(everything)

    kept, repeated = first_and_last(old_codes)
    assert kept is not None
    last_of: dict[tuple[str, ...], int] = {}
    first_of: dict[tuple[str, ...], int] = {}
    for i, row in enumerate(rows):
        last_of[row] = i
        first_of.setdefault(row, i)
    assert kept.tolist() == [last_of[row] for row in sorted(first_of, key=first_of.__getitem__)]
    assert sorted(repeated.tolist()) == sorted(first_of[r] for r in first_of if rows.count(r) > 1)


WRITTEN = ["", " ", "0", "07", "-0", "+5", " 12 ", "12", "-3", "1.50", "1.5", "0.1", "1e3", "1E400", "nan", "inf",
           "-inf", "1_000", "3.0", "-2.5e-10", "9" * 17, "9" * 1200, "١٢", "True", "TRUE", "true", "1", "False", "0",
           "no", "x", "a,b"]  # fmt: skip


@pytest.mark.parametrize("kind", ["integer", "number", "boolean", "string", "date"])
def test_a_column_of_text_is_normalized_as_each_value_would_be(kind: str):
    column = pa.array(WRITTEN, pa.string())
    assert _normalize(column, kind).to_pylist() == [_text(v, kind) for v in WRITTEN]


@pytest.mark.parametrize(
    "array",
    [
        pa.array([1, None, -7, 2**62], pa.int64()),
        pa.array([1, 2], pa.uint8()),
        pa.array([True, False, None]),
        pa.array([0.0, -0.0, 1.5, 2.0, 1e300, float("nan"), float("inf"), None, 2.0**53, 0.1], pa.float64()),
        pa.array([1.5, 3.0], pa.float32()),
        pa.array([datetime.date(2024, 1, 2), datetime.date(999, 12, 31), None], pa.date32()),
        pa.array([datetime.datetime(2024, 1, 2, 3, 4, 5), None], pa.timestamp("s")),
        pa.array(["07", None, "x"], pa.string()),
        pa.array(["a", "b", None, "a"]).dictionary_encode(),
        pa.array(["1", "TRUE"], pa.large_string()),
    ],
    ids=lambda a: str(a.type),
)
@pytest.mark.parametrize("kind", ["integer", "number", "boolean", "string"])
def test_a_typed_parquet_column_is_shown_as_each_value_would_be(array: pa.Array, kind: str):
    assert _typed_text(array, kind).to_pylist() == [_text(v, kind) for v in array.to_pylist()]

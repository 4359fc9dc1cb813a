"""`eurasec build` stays inside its output folder, reads only inside the package, and swaps releases atomically.

Each test tries the attack or the accident for real: hostile names and symlinks on disk, the real
command line, real signals, and real processes killed mid-build.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

import eurasec.validate as validate_module
from eurasec.build import BuildInterrupted, SwapError, build_release
from eurasec.build import release as release_module
from eurasec.model.paths import UnsafePathError
from eurasec.validate import validate

from .conftest import DESCRIPTOR, ROOT
from .test_validate import invoke

RAW = json.loads(DESCRIPTOR.read_text(encoding="utf-8"))
NAME = f"eurasec-{RAW['version']}"
LOCK = ".eurasec-build.lock"


def write_package(root: Path, *, name: object = "mini", version: object = "0.1.0", resource: str = "things") -> int:
    """A minimal valid package: one resource, one string field, no documents; returns its resource name's line."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "things.csv").write_text("id\na\nb\n", encoding="utf-8")
    descriptor: dict[str, object] = {"name": name, "version": version}
    descriptor = {k: v for k, v in descriptor.items() if v is not None}
    descriptor["resources"] = [
        {
            "name": resource,
            "path": "data/things.csv",
            "profile": "tabular-data-resource",
            "format": "csv",
            "encoding": "utf-8",
            "schema": {"fields": [{"name": "id", "type": "string"}], "primaryKey": ["id"]},
        }
    ]
    text = json.dumps(descriptor, indent=2) + "\n"
    (root / "datapackage.json").write_text(text, encoding="utf-8")
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.strip() == f'"name": {json.dumps(resource)},')


def tree(top: Path, *, skip: Path | None = None) -> dict[str, str | bytes]:
    """Every file, folder and symlink under top (never following a link), with its contents or target."""
    found: dict[str, str | bytes] = {}
    for folder, dirs, files in os.walk(top):
        here = Path(folder)
        if skip is not None and (here == skip or skip in here.parents):
            dirs[:] = []
            continue
        for name in dirs + files:
            path = here / name
            key = path.relative_to(top).as_posix()
            if path.is_symlink():
                found[key] = f"-> {os.readlink(path)}"
            elif path.is_file():
                found[key] = path.read_bytes()
            else:
                found[key] = "dir"
    return found


def skip_validation(monkeypatch: pytest.MonkeyPatch, *codes: str) -> None:
    """validate as if it had missed these findings: the build must refuse on its own."""
    real = validate_module.validate

    def lenient(descriptor, **kwargs):
        report = real(descriptor, **kwargs)
        report.findings = [f for f in report.findings if f.code not in codes]
        return report

    monkeypatch.setattr(validate_module, "validate", lenient)


def zipped_bytes(out: Path) -> list[bytes]:
    return [
        archive.read(member)
        for path in out.rglob("*.zip")
        for archive in [zipfile.ZipFile(path)]
        for member in archive.namelist()
    ]


# --- 1. names that become paths -------------------------------------------------------------

HOSTILE_PACKAGE_NAMES = ["./../../../victim", "../victim", "a/../../victim", "./victim", ".hidden", "-dash", "a/b"]


@pytest.mark.parametrize("name", HOSTILE_PACKAGE_NAMES)
def test_a_package_name_that_is_no_slug_is_refused_at_its_line_and_nothing_outside_out_is_touched(
    tmp_path: Path, name: str
):
    package = tmp_path / "w" / "x" / "y" / "pkg"
    write_package(package, name=name, version="x")
    out = tmp_path / "w" / "x" / "y" / "out"
    for victim in (tmp_path / "w" / "victim-x", tmp_path / "w" / "x" / "y" / "victim-x"):
        victim.mkdir(parents=True, exist_ok=True)
        (victim / "keep.txt").write_text("precious", encoding="utf-8")
    before = tree(tmp_path)
    found = [f for f in validate(package).findings if f.code == "name-unsafe"]
    assert [(f.file, f.line) for f in found] == [("datapackage.json", 2)]
    assert repr(name) in found[0].message and "stricter than frictionless" in found[0].hint
    result = invoke("build", str(package), "--out", str(out), "--quiet")
    assert result.exit_code == 1
    assert "name-unsafe" in result.output
    assert tree(tmp_path, skip=out) == before


@pytest.mark.parametrize(
    ("name", "version", "code", "severity", "expected"),
    [
        # frictionless allows a package without name or version: a warning, and build refuses it
        (None, "1.0.0", "name-missing", "warning", "the package name is missing"),
        ("mini", None, "name-missing", "warning", "the version is missing"),
        ("mini", "../../x", "name-unsafe", "error", "the version '../../x'"),
        ("mini", "1.0/../..", "name-unsafe", "error", "the version '1.0/../..'"),
        ("mini", ".1", "name-unsafe", "error", "the version '.1'"),
    ],
)
def test_a_missing_or_unsafe_name_or_version_is_a_finding(
    tmp_path: Path, name, version, code: str, severity: str, expected: str
):
    write_package(tmp_path / "pkg", name=name, version=version)
    found = [f for f in validate(tmp_path / "pkg").findings if f.code.startswith("name-")]
    assert len(found) == 1 and found[0].message.startswith(expected), found
    assert (found[0].file, found[0].code, found[0].severity.value) == ("datapackage.json", code, severity)
    result = invoke("build", str(tmp_path / "pkg"), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("resource", ["../../../../escaped", "../escaped", "a/b", ".hidden", "-x"])
def test_a_resource_name_that_is_no_slug_is_refused_at_its_line(tmp_path: Path, resource: str):
    line = write_package(tmp_path / "pkg", resource=resource)
    found = [f for f in validate(tmp_path / "pkg").findings if f.code == "name-unsafe"]
    assert [(f.file, f.line) for f in found] == [("datapackage.json", line)]
    result = invoke("build", str(tmp_path / "pkg"), "--out", str(tmp_path / "deep" / "er" / "out"), "--quiet")
    assert result.exit_code == 1
    assert not list(tmp_path.rglob("escaped*")) and not list(tmp_path.rglob("*.parquet"))


@pytest.mark.parametrize(
    ("name", "version", "resource"),
    [
        ("./../../../victim", "x", "things"),
        ("mini", "../../x", "things"),
        ("mini", "1", "../../../../escaped"),
        ("", "1", "things"),
        ("mini", "", "things"),
        ("mini", "1", "../things"),
    ],
)
def test_the_build_refuses_unsafe_names_even_if_validation_missed_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, version: str, resource: str
):
    skip_validation(monkeypatch, "name-unsafe", "package-error")  # frictionless refuses an empty name itself
    package = tmp_path / "a" / "b" / "c" / "pkg"
    write_package(package, name=name, version=version, resource=resource)
    victim = tmp_path / "a" / "victim-x"
    victim.mkdir(parents=True)
    (victim / "keep.txt").write_text("precious", encoding="utf-8")
    out = tmp_path / "a" / "b" / "c" / "out"
    before = tree(tmp_path)
    with pytest.raises(UnsafePathError):
        build_release(package, out)
    result = invoke("build", str(package), "--out", str(out), "--quiet")
    assert result.exit_code == 1
    assert "error: the build was refused, and nothing was changed:" in result.output
    assert tree(tmp_path, skip=out) == before
    assert not out.exists() or tree(out) == {}


def test_a_symlink_in_the_release_s_place_is_refused_and_what_it_leads_to_is_kept(tmp_path: Path):
    write_package(tmp_path / "pkg")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("precious", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "mini-0.1.0").symlink_to(elsewhere)
    result = invoke("build", str(tmp_path / "pkg"), "--out", str(out), "--quiet")
    assert result.exit_code == 1
    assert "is a symlink" in result.output
    assert tree(elsewhere) == {"keep.txt": b"precious"}
    assert sorted(p.name for p in out.iterdir()) == ["mini-0.1.0"]


def test_a_symlinked_lock_file_is_refused(tmp_path: Path):
    write_package(tmp_path / "pkg")
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "target.txt"
    (out / LOCK).symlink_to(target)
    result = invoke("build", str(tmp_path / "pkg"), "--out", str(out), "--quiet")
    assert result.exit_code == 1 and "is a symlink" in result.output
    assert not target.exists()


def test_the_real_package_and_a_minimal_one_still_build(tmp_path: Path):
    result = invoke("build", str(DESCRIPTOR), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [NAME]
    write_package(tmp_path / "pkg", name="my-data.v2_x", version="2.0.0-rc.1+b5")
    assert build_release(tmp_path / "pkg", tmp_path / "out").folder == tmp_path / "out" / "my-data.v2_x-2.0.0-rc.1+b5"


# --- 2. symlinks out of the package -------------------------------------------------------


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    folder = tmp_path / "secret"
    folder.mkdir()
    (folder / "passwords.txt").write_bytes(b"the secret\n")
    return folder


def test_a_seeds_folder_that_is_a_symlink_out_is_a_finding_and_the_build_refuses(tmp_path: Path, secret: Path):
    package = tmp_path / "pkg"
    write_package(package)
    (package / "seeds").symlink_to(secret)
    found = [f for f in validate(package).findings if f.code == "file-outside-package"]
    assert [(f.file, f.severity.value) for f in found] == [("seeds", "error")]
    result = invoke("build", str(package), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 1
    assert not any(b"the secret" in data for data in zipped_bytes(tmp_path))


@pytest.mark.parametrize("target", ["secret/passwords.txt", "/etc/hostname"])
def test_a_seed_that_is_a_symlink_out_is_a_finding_and_the_build_refuses(
    tmp_path: Path, secret: Path, monkeypatch: pytest.MonkeyPatch, target: str
):
    package = tmp_path / "pkg"
    write_package(package)
    (package / "seeds").mkdir()
    (package / "seeds" / "README.md").write_text("seeds\n", encoding="utf-8")
    (package / "seeds" / "leak.txt").symlink_to(tmp_path / target if not target.startswith("/") else Path(target))
    found = [f for f in validate(package).findings if f.code == "file-outside-package"]
    assert [f.file for f in found] == ["seeds/leak.txt"]
    assert invoke("build", str(package), "--out", str(tmp_path / "out"), "--quiet").exit_code == 1
    skip_validation(monkeypatch, "file-outside-package")
    result = invoke("build", str(package), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 1
    assert "refused" in result.output and "leak.txt" in result.output
    assert not any(b"the secret" in data for data in zipped_bytes(tmp_path))
    assert not (tmp_path / "out").exists() or tree(tmp_path / "out") == {}


@pytest.mark.parametrize("link", ["data", "data/things.csv", "seeds", "seeds/notes.txt"])
def test_a_file_swapped_for_a_symlink_out_after_validation_is_never_read_into_the_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, link: str
):
    """The package changes between validate and the CSV zip: the build's own readers refuse."""
    package = tmp_path / "pkg"
    write_package(package)
    (package / "seeds").mkdir()
    (package / "seeds" / "notes.txt").write_text("notes\n", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    for name in ("things.csv", "notes.txt"):
        (outside / name).write_text("id\nsecret-row\n", encoding="utf-8")
    real = validate_module.validate

    def validate_then_swap(descriptor, **kwargs):
        report = real(descriptor, **kwargs)
        assert report.valid
        shutil.rmtree(package / link) if (package / link).is_dir() else (package / link).unlink()
        (package / link).symlink_to(outside if "/" not in link else outside / Path(link).name)
        return report

    monkeypatch.setattr(validate_module, "validate", validate_then_swap)
    result = invoke("build", str(package), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 1
    assert "error: the build was refused, and nothing was changed:" in result.output
    assert "leads outside" in result.output
    assert not any(b"secret-row" in data for data in zipped_bytes(tmp_path))
    assert not (tmp_path / "out").exists() or tree(tmp_path / "out") == {}


def test_a_seed_linked_inside_the_package_is_taken(tmp_path: Path):
    package = tmp_path / "pkg"
    write_package(package)
    (package / "seeds").mkdir()
    (package / "notes.txt").write_text("inside\n", encoding="utf-8")
    (package / "seeds" / "notes.txt").symlink_to(package / "notes.txt")
    assert validate(package).valid
    folder = build_release(package, tmp_path / "out").folder
    with zipfile.ZipFile(folder / "mini-0.1.0-csv.zip") as archive:
        assert archive.read("mini-0.1.0/seeds/notes.txt") == b"inside\n"


# --- 3. an atomic swap, serialized builds, truthful messages ---------------------------------


def changed_package(tmp_path: Path) -> Path:
    """A copy of the real package whose release differs from the real one's (in its title)."""
    package = tmp_path / "pkg"
    package.mkdir()
    raw = dict(RAW, title=RAW["title"] + " (changed)")
    (package / "datapackage.json").write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    shutil.copytree(ROOT / "data", package / "data")
    shutil.copytree(ROOT / "seeds", package / "seeds")
    return package


def title_of(folder: Path) -> str:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))["title"]


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "no-renameat2"])
def test_ctrl_c_during_the_swap_leaves_one_release_and_says_which(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str, exchange: bool
):
    """A real SIGINT arrives in the middle of the swap: before or after its (first) rename."""
    out = tmp_path / "out"
    build_release(DESCRIPTOR, out)
    package = changed_package(tmp_path)
    if exchange:
        real = release_module.RENAMEAT2
        assert real is not None, "renameat2 is expected on Linux"

        def interrupted_renameat2(*args):
            if when == "before":
                signal.raise_signal(signal.SIGINT)
            done = real(*args)
            if when == "after":
                signal.raise_signal(signal.SIGINT)
            return done

        monkeypatch.setattr(release_module, "RENAMEAT2", interrupted_renameat2)
    else:
        monkeypatch.setattr(release_module, "RENAMEAT2", None)
        real_rename = os.rename

        def interrupted_rename(source, target, **kwargs):
            if when == "before":
                signal.raise_signal(signal.SIGINT)
            real_rename(source, target, **kwargs)
            if when == "after" and ".retired-" in str(target):  # between the two renames
                signal.raise_signal(signal.SIGINT)

        monkeypatch.setattr(release_module.os, "rename", interrupted_rename)
    result = invoke("build", str(package), "--out", str(out), "--quiet")
    assert result.exit_code == 130
    assert f"interrupted: the new release is in place in {out / NAME}" in result.output
    assert title_of(out / NAME).endswith("(changed)")
    assert sorted(p.name for p in out.iterdir()) == [NAME]


def test_ctrl_c_before_the_swap_keeps_the_previous_release_and_says_so(tmp_path: Path, monkeypatch):
    out = tmp_path / "out"
    build_release(DESCRIPTOR, out)
    previous = tree(out)

    def interrupt(release, folder):
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(release_module, "EXPORTERS", [*release_module.EXPORTERS, ("interrupt", interrupt)])
    result = invoke("build", str(changed_package(tmp_path)), "--out", str(out), "--quiet")
    assert result.exit_code == 130
    assert f"interrupted: nothing was changed: the previous release in {out / NAME} is kept" in result.output
    assert tree(out) == previous
    with pytest.raises(BuildInterrupted) as caught:
        build_release(DESCRIPTOR, tmp_path / "fresh")
    assert not caught.value.installed and "no release was written" in caught.value.state
    assert tree(tmp_path / "fresh") == {}


def test_without_renameat2_a_failed_second_rename_puts_the_previous_release_back(tmp_path: Path, monkeypatch):
    out = tmp_path / "out"
    build_release(DESCRIPTOR, out)
    previous = tree(out)
    monkeypatch.setattr(release_module, "RENAMEAT2", None)
    real_rename = os.rename

    def no_room(source, target, **kwargs):
        if ".partial-" in str(source):
            raise OSError(28, "No space left on device")
        real_rename(source, target, **kwargs)

    monkeypatch.setattr(release_module.os, "rename", no_room)
    with pytest.raises(SwapError, match="the previous release is kept"):
        build_release(changed_package(tmp_path), out)
    assert tree(out) == previous
    result = invoke("build", str(DESCRIPTOR), "--out", str(out), "--quiet")
    assert result.exit_code == 1
    assert "error: the build failed: could not put the new release in place" in result.output
    assert "the previous release is kept" in result.output
    assert tree(out) == previous


def test_without_renameat2_the_swap_still_replaces_the_release(tmp_path: Path, monkeypatch):
    out = tmp_path / "out"
    build_release(DESCRIPTOR, out)
    monkeypatch.setattr(release_module, "RENAMEAT2", None)
    folder = build_release(changed_package(tmp_path), out).folder
    assert title_of(folder).endswith("(changed)")
    assert sorted(p.name for p in out.iterdir()) == [NAME]


def run_build(out: Path, descriptor: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "eurasec", "build", str(descriptor), "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_builds_into_one_folder_take_turns_and_both_succeed(tmp_path: Path):
    out = tmp_path / "out"
    build_release(DESCRIPTOR, out)
    package = changed_package(tmp_path)
    builds = [run_build(out, DESCRIPTOR if i % 2 else package) for i in range(4)]
    for build in builds:
        stdout, stderr = build.communicate(timeout=120)
        assert build.returncode == 0, stderr
        assert stdout.startswith(f"built {out / NAME}:")
    assert sorted(p.name for p in out.iterdir()) == [NAME]
    assert subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=out / NAME).returncode == 0


def test_a_build_waits_for_the_lock_of_another(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    log = tmp_path / "stderr.txt"
    with open(out / LOCK, "w") as held, open(log, "w") as stderr:
        fcntl.flock(held, fcntl.LOCK_EX)
        build = subprocess.Popen(
            [sys.executable, "-m", "eurasec", "build", str(DESCRIPTOR), "--out", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        deadline = time.monotonic() + 60
        while "waiting for another build" not in log.read_text() and time.monotonic() < deadline:
            assert build.poll() is None, log.read_text()
            time.sleep(0.05)
        time.sleep(0.3)
        assert build.poll() is None and not (out / NAME).exists()
        assert [p.name for p in out.iterdir()] == [LOCK]  # nothing staged while it waits
        fcntl.flock(held, fcntl.LOCK_UN)
        assert build.wait(timeout=120) == 0, log.read_text()
    assert sorted(p.name for p in out.iterdir()) == [NAME]


# --- 4. leftovers of killed builds ------------------------------------------------------------


def test_leftovers_of_earlier_builds_are_removed_and_nothing_else(tmp_path: Path, secret: Path):
    out = tmp_path / "out"
    build_release(DESCRIPTOR, out)
    for leftover in (f".{NAME}.partial-abc_123", f".{NAME}.retired-xyz"):
        (out / leftover / "parquet").mkdir(parents=True)
        (out / leftover / "parquet" / "x.parquet").write_bytes(b"half")
        (out / leftover / "away").symlink_to(secret)  # a link inside a leftover: removed, never followed
    (out / f".{NAME}.partial-link").symlink_to(secret)  # named like ours, but a link: left alone
    (out / ".other-1.0.0.partial-abc").mkdir()  # another release's: left alone
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    build_release(DESCRIPTOR, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [NAME, f".{NAME}.partial-link", ".other-1.0.0.partial-abc", "notes.txt"]
    )
    assert tree(secret) == {"passwords.txt": b"the secret\n"}


SLOW_BUILD = """
import sys, time
from pathlib import Path
from eurasec.build import release

def stall(release_input, folder):
    # written whole, then renamed: the test polls for the name and must never read it half written
    (Path(sys.argv[2]) / "stalled.part").write_text(str(folder))
    (Path(sys.argv[2]) / "stalled.part").replace(Path(sys.argv[2]) / "stalled")
    time.sleep(120)

release.EXPORTERS.append(("stall", stall))
release.build_release(sys.argv[1], sys.argv[2])
"""


def test_a_build_killed_with_sigkill_leaves_leftovers_that_the_next_build_removes(tmp_path: Path):
    out = tmp_path / "out"
    build_release(DESCRIPTOR, out)
    previous = tree(out / NAME)
    killed = subprocess.Popen([sys.executable, "-c", SLOW_BUILD, str(DESCRIPTOR), str(out)])
    try:
        deadline = time.monotonic() + 60
        while not (out / "stalled").exists() and time.monotonic() < deadline:
            assert killed.poll() is None
            time.sleep(0.05)
        assert (out / "stalled").exists()
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
    staged = Path((out / "stalled").read_text())
    (out / "stalled").unlink()
    assert staged.is_dir() and staged.name.startswith(f".{NAME}.partial-")
    assert tree(out / NAME) == previous
    result = invoke("build", str(DESCRIPTOR), "--out", str(out))
    assert result.exit_code == 0
    assert f"removed {staged.name}, left by an earlier build" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [NAME]


# --- 5. a package without the project's own tables ------------------------------------------


def test_a_minimal_package_builds_without_the_projects_tables_or_views(tmp_path: Path):
    package = tmp_path / "pkg"
    write_package(package)
    assert validate(package).valid
    result = invoke("build", str(package), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "mini-0.1.0"
    db = sqlite3.connect(folder / "eurasec.sqlite")
    try:
        assert db.execute("SELECT id FROM things ORDER BY id").fetchall() == [("a",), ("b",)]
        assert db.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall() == []
        assert dict(db.execute("SELECT key, value FROM eurasec_metadata"))["name"] == "mini"
    finally:
        db.close()
    tables = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["databases"]["eurasec"]["tables"]
    assert list(tables) == ["things", "eurasec_metadata"]  # the package's table, and the build's own (no view)
    again = build_release(package, tmp_path / "again").folder
    assert tree(again) == tree(folder)  # deterministic, like the real release

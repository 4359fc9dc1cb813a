"""Names from a package or a release become paths only when they stay in their place."""

from __future__ import annotations

import os

import pytest

from eurasec.model.paths import (
    UnsafePathError,
    resolve_inside,
    unsafe_name_reason,
    unsafe_relative_reason,
    unsafe_version_reason,
)

HOSTILE_PATHS = [
    "",
    "/etc/passwd",
    "../x",
    "a/../../x",
    "a/..",
    "..",
    ".",
    "./a",
    "a//b",
    "a\\..\\b",
    "C:/x",
    "c:x",
    "file:///etc/passwd",
    "a\x00b",
    "a\nb",
    "x" * 2000,
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_a_hostile_relative_path_is_refused(path: str, tmp_path) -> None:
    assert unsafe_relative_reason(path)
    with pytest.raises(UnsafePathError):
        resolve_inside(tmp_path, path)


@pytest.mark.parametrize("path", ["data/actors.csv", "parquet/a.parquet", "SHA256SUMS", "seeds/x-1.txt"])
def test_a_plain_relative_path_is_accepted(path: str, tmp_path) -> None:
    assert unsafe_relative_reason(path) is None
    assert resolve_inside(tmp_path, path) == tmp_path.resolve() / path


@pytest.mark.parametrize(
    "name", ["./../../../victim", "../x", "a/b", "", ".hidden", "..", "Upper", "a b", "a\\b", "x" * 200]
)
def test_a_name_that_is_not_one_safe_component_is_refused(name: str) -> None:
    assert unsafe_name_reason(name)


@pytest.mark.parametrize("name", ["eurasec", "actors", "initiative_actors", "a.b-c_1"])
def test_a_slug_name_is_accepted(name: str) -> None:
    assert unsafe_name_reason(name) is None


@pytest.mark.parametrize("version", ["../1", "1/0", "", ".1", "1 0", 1])
def test_an_unsafe_version_is_refused(version: object) -> None:
    assert unsafe_version_reason(version)


def test_a_symlink_that_leaves_the_folder_is_refused(tmp_path) -> None:
    root = tmp_path / "package"
    (root / "data").mkdir(parents=True)
    os.symlink("/etc", root / "data" / "etc")
    with pytest.raises(UnsafePathError, match="outside"):
        resolve_inside(root, "data/etc/passwd")


def test_a_symlink_inside_the_folder_is_followed_only_when_allowed(tmp_path) -> None:
    (tmp_path / "real.csv").write_text("x\n")
    os.symlink("real.csv", tmp_path / "link.csv")
    assert resolve_inside(tmp_path, "link.csv") == (tmp_path / "real.csv").resolve()
    with pytest.raises(UnsafePathError, match="symlink"):
        resolve_inside(tmp_path, "link.csv", allow_symlinks=False)

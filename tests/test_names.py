"""A resource may not take a name that the release's SQLite database keeps for its own tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eurasec.build import BuildError, build_release
from eurasec.model.descriptor import load_package
from eurasec.model.views import applicable_views, reserved_name_reason, view_name_clash
from eurasec.validate import validate

from .test_validate import invoke


def rename(package: Path, old: str, new: str) -> int:
    """Rename a resource (and the foreign keys that point at it); returns the line of its new name."""
    path = package / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        if resource["name"] == old:
            resource["name"] = new
        for fk in resource["schema"].get("foreignKeys", []):
            if fk["reference"].get("resource") == old:
                fk["reference"]["resource"] = new
    text = json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    # The resource's own name, at its indent (a view a resource declares may have the same name, deeper).
    return next(n for n, line in enumerate(text.splitlines(), 1) if line == f'      "name": "{new}",')


@pytest.mark.parametrize(
    "name",
    [
        "passages",
        "eurasec_metadata",
        "initiative_roles",
        "initiatives_with_documents",  # one of a list of views that a resource declares
        "idx_steps",
        "steps_fts",
        "sqlite_stat1",
    ],
)
def test_a_resource_named_like_the_databases_own_tables_is_refused_at_its_line(package_copy: Path, name: str):
    line = rename(package_copy, "steps", name)
    found = [f for f in validate(package_copy / "datapackage.json").findings if f.code == "table-name-reserved"]
    assert [(f.file, f.line) for f in found] == [("datapackage.json", line)]
    assert repr(name) in found[0].message and "Rename the resource" in found[0].hint


def test_the_command_says_so_and_the_build_writes_nothing(package_copy: Path, tmp_path: Path):
    line = rename(package_copy, "steps", "passages")
    result = invoke("validate", str(package_copy / "datapackage.json"))
    assert result.exit_code == 1
    assert f"datapackage.json:{line}: error table-name-reserved" in result.output
    with pytest.raises(BuildError):
        build_release(package_copy / "datapackage.json", tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_ordinary_names_pass_and_every_view_is_reserved():
    for name in ["actors", "trends", "steps", "passage_notes", "fts", "index_terms", "documents"]:
        assert reserved_name_reason(name) is None, name
    package = load_package(Path(__file__).resolve().parent.parent / "datapackage.json")
    views = list(applicable_views(package.resources))  # declared by the resources (eurasec:view)
    declared = [r.view if isinstance(r.view, list) else [r.view] for r in package.resources if r.view is not None]
    assert views == [view["name"] for one in declared for view in one]
    for view in views:
        assert view_name_clash(view, package.resources, views) is not None, view


def test_key_lines_tell_a_resource_s_name_from_its_fields_and_values():
    from eurasec.checks.names import key_lines

    text = (
        '{\n  "title": "a \\"name\\": here, {[",\n  "name": "pkg",\n  "resources": [\n'
        '    {"schema": {"fields": [{"name": "kind"}]},\n     "name": "kind"},\n'
        '    {\n      "name": "other"\n    }\n  ],\n  "version": "1"\n}\n'
    )
    assert json.loads(text)["resources"][1]["name"] == "other"
    lines = key_lines(text)
    assert lines[("name",)] == 3
    assert lines[("resources", 0, "schema", "fields", 0, "name")] == 5
    assert lines[("resources", 0, "name")] == 6
    assert lines[("resources", 1, "name")] == 8
    assert lines[("version",)] == 11


def test_an_unsafe_name_in_a_one_line_descriptor_is_found_on_that_line(package_copy: Path):
    path = package_copy / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor["resources"][3]["name"] = "../escaped"
    path.write_text(json.dumps(descriptor), encoding="utf-8")
    found = [f for f in validate(path).findings if f.code == "name-unsafe"]
    assert [(f.file, f.line) for f in found] == [("datapackage.json", 1)]
    assert "'../escaped'" in found[0].message


def test_the_real_names_are_safe():
    from eurasec.model.descriptor import load_package
    from eurasec.model.names import release_folder_name, unsafe_names

    from .conftest import DESCRIPTOR

    package = load_package(DESCRIPTOR)
    assert unsafe_names(package) == []
    assert release_folder_name(package) == f"eurasec-{package.version}"

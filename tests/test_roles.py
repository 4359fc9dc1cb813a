"""Roles declared, not names assumed: the checks and the release find the documents table, a row's
document and quote, a number, an alias and a name by the role the descriptor gives them.

The stories: a curator renames the documents table and the quote column (roles kept) and nothing
changes; a package without roles is told what does not run; contradictory roles are errors; a
package with no roles at all still validates and builds; the views are made from the relations.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from eurasec.build import BuildError, build_release
from eurasec.checks.hygiene import cell_problems
from eurasec.model.codes import CODES
from eurasec.model.descriptor import load_package
from eurasec.model.schema import MENTION_COUNTS
from eurasec.model.views import applicable_views
from eurasec.validate import validate

from .conftest import DESCRIPTOR, STAKHOVSKY, csv_rows, find_row, line_of, rewrite
from .faults import edit_line
from .test_validate import invoke


def declared_view_names(descriptor: dict[str, Any]) -> list[str]:
    """The views the resources declare ("eurasec:view": an object, or a list of them), in order."""
    names = []
    for resource in descriptor["resources"]:
        declared = resource.get("eurasec:view")
        names += [view["name"] for view in (declared if isinstance(declared, list) else [declared] if declared else [])]
    return names


VIEWS = declared_view_names(json.loads(DESCRIPTOR.read_text(encoding="utf-8")))
# The views that list the documents citing each entity: keys, not names, so they need no `name` role.
KEY_LISTS = [view for view in VIEWS if view.endswith("_with_documents")]


def descriptor_of(package: Path) -> dict[str, Any]:
    return json.loads((package / "datapackage.json").read_text(encoding="utf-8"))


def write_descriptor(package: Path, descriptor: dict[str, Any]) -> str:
    text = json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"
    (package / "datapackage.json").write_text(text, encoding="utf-8")
    return text


def rename_header(csv_file: Path, old: str, new: str) -> None:
    """Rename a column in a CSV's header (a plain header: no quoted cells)."""
    header, rest = csv_file.read_text(encoding="utf-8").split("\n", 1)
    cells = header.split(",")
    assert old in cells, (csv_file, header)
    csv_file.write_text(",".join(new if c == old else c for c in cells) + "\n" + rest, encoding="utf-8")


def rename_everything(package: Path) -> None:
    """What a curator may do once roles are declared: the documents table becomes `sources` (and its file
    data/sources.csv), its sha256 column `digest`, and every table's quote column `passage`."""
    descriptor = descriptor_of(package)
    for resource in descriptor["resources"]:
        if resource["name"] == "documents":
            resource["name"], old_path, resource["path"] = "sources", resource["path"], "data/sources.csv"
            (package / old_path).rename(package / resource["path"])
            for field in resource["schema"]["fields"]:
                if field["name"] == "sha256":
                    field["name"] = "digest"
            rename_header(package / resource["path"], "sha256", "digest")
        for key in resource["schema"].get("foreignKeys", []):
            if key["reference"].get("resource") == "documents":
                key["reference"]["resource"] = "sources"
        for field in resource["schema"]["fields"]:
            if field["name"] == "quote":
                field["name"] = "passage"
                rename_header(package / resource["path"], "quote", "passage")
    write_descriptor(package, descriptor)


def without_roles(package: Path) -> None:
    descriptor = descriptor_of(package)
    for resource in descriptor["resources"]:
        resource.pop("eurasec:role", None)
        for field in resource["schema"]["fields"]:
            field.pop("eurasec:role", None)
    write_descriptor(package, descriptor)


def codes(report) -> list[tuple[str, str, str | None]]:
    return [(f.code, f.file, f.field) for f in report.findings]


# --- renamed, with the roles kept: nothing changes -------------------------------------------------


@pytest.fixture
def renamed(package_copy: Path) -> Path:
    assert validate(package_copy / "datapackage.json").findings == []  # what it found before: nothing
    rename_everything(package_copy)
    return package_copy


def test_renaming_the_documents_table_and_the_quote_column_finds_what_it_found_before(renamed: Path):
    result = invoke("validate", str(renamed / "datapackage.json"))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: 0 errors, 0 warnings")
    assert validate(renamed / "datapackage.json").findings == []


WRONG = ("such centers of power as Russia and China", "such centres of power as Russia and China")


def citing_line(package: Path, quote_field: str, quote: str) -> int:
    """The line of the one row of actor_citations that cites china with this quote of the Stakhovsky document."""
    key = {"actor_id": "china", "document_id": STAKHOVSKY, quote_field: quote}
    return line_of("data/actor_citations.csv", package, **key)


def test_a_wrong_quote_is_still_reported_under_its_new_name(renamed: Path):
    line = citing_line(renamed, "passage", WRONG[0])
    edit_line("data/actor_citations.csv", line, *WRONG)(renamed)
    found = [f for f in validate(renamed / "datapackage.json").findings if f.code == "quote-not-found"]
    assert [(f.file, f.line, f.field) for f in found] == [("data/actor_citations.csv", line, "passage")]


def test_a_tampered_seed_is_still_reported_against_the_renamed_table(renamed: Path):
    seed = renamed / find_row("sources", renamed, id=STAKHOVSKY)["path"]
    seed.write_bytes(seed.read_bytes() + b"\n")
    found = {(f.code, f.file, f.field) for f in validate(renamed / "datapackage.json").findings}
    assert ("seed-hash-mismatch", "data/sources.csv", "digest") in found
    assert ("seed-size-mismatch", "data/sources.csv", "bytes") in found


def test_the_renamed_package_builds_with_its_views_and_passages(renamed: Path, tmp_path: Path):
    folder = build_release(renamed / "datapackage.json", tmp_path / "out").folder
    db = sqlite3.connect(folder / "eurasec.sqlite")
    views = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY rowid")]
    assert views == [*VIEWS, MENTION_COUNTS]  # the declared views, then the build's own count of mentions
    passages = ["id", "document_id", "start", "end", "passage"]
    assert [c[1] for c in db.execute("PRAGMA table_info(passages)")] == passages
    cited = {
        (r["document_id"], int(r["start"]), int(r["end"]), r["passage"]) for r in csv_rows("actor_citations", renamed)
    }
    assert cited <= set(db.execute('SELECT document_id, start, "end", passage FROM passages'))
    assert db.execute("SELECT count(*) FROM initiative_roles").fetchone()[0] == len(csv_rows("initiative_actors"))
    (passage,) = db.execute("SELECT passage FROM aliases_named WHERE alias = 'Minsk' LIMIT 1").fetchone()
    assert "Minsk" in passage
    metadata = dict(db.execute("SELECT key, value FROM eurasec_metadata"))
    document = find_row("sources", renamed, id=STAKHOVSKY)
    assert metadata[f"document:{STAKHOVSKY}:sha256"] == document["digest"]


def test_the_quote_helper_and_add_document_find_the_renamed_table(renamed: Path, tmp_path: Path):
    quote = csv_rows("actor_citations", renamed)[0]["passage"]
    result = invoke("quote", STAKHOVSKY, quote, "--descriptor", str(renamed / "datapackage.json"))
    assert result.exit_code == 0 and "found in" in result.output
    text = tmp_path / "new.txt"
    text.write_text("A New Text\n\nIts body.\n", encoding="utf-8")
    options = ["--title", "A New Text", "--author", "A. Author", "--publisher", "P", "--url", "https://example.org/t"]
    result = invoke(
        "add-document", str(text), "--id", "a-new-text", *options, "--language", "en",
        "--descriptor", str(renamed / "datapackage.json"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    added = find_row("sources", renamed, id="a-new-text")
    assert added["path"] == "seeds/a-new-text.txt" and len(added["digest"]) == 64


# --- without the roles: told, never a traceback ----------------------------------------------------


def plain_text_problems(package: Path) -> set[tuple[str, str, str]]:
    """(code, severity, file) of what the hygiene check says of the quote cells (role `quote`) once the role is
    gone: a quote keeps its seed's characters (a line break, two spaces), which in plain text are errors."""
    found = set()
    for resource in descriptor_of(package)["resources"]:
        for field in resource["schema"]["fields"]:
            if field.get("eurasec:role") != "quote":
                continue
            for row in csv_rows(resource["name"], package):
                for code, _ in cell_problems(row[field["name"]], is_id=False, is_string=True, verbatim=False):
                    found.add((code, CODES[code].severity.value, resource["path"]))
    return found


def drop_unplain_quotes(package: Path) -> None:
    """Leave out the rows whose quote would break a plain-text rule once the role is gone (see above)."""
    for resource in descriptor_of(package)["resources"]:
        quotes = [f["name"] for f in resource["schema"]["fields"] if f.get("eurasec:role") == "quote"]
        if quotes:
            rewrite(package, resource["name"], lambda row, quotes=quotes: None if unplain(row, quotes) else row)


def unplain(row: dict[str, str], quotes: list[str]) -> bool:
    return any(list(cell_problems(row[name], is_id=False, is_string=True, verbatim=False)) for name in quotes)


def test_without_roles_validate_says_what_does_not_run(package_copy: Path):
    plain_text = plain_text_problems(package_copy)  # read while the roles say which fields are quotes
    without_roles(package_copy)
    result = invoke("validate", str(package_copy / "datapackage.json"), "--format", "json")
    # warnings: what does not run is told, and the package is still valid, but where a quote keeps a character
    # of its seed (a line break) that plain text may not have: without the role, the quote is plain text
    assert result.exit_code == (1 if any(severity == "error" for _, severity, _ in plain_text) else 0)
    findings = json.loads(result.output)["findings"]
    assert {(f["code"], f["severity"], f["file"]) for f in findings} == {
        ("role-missing", "warning", "datapackage.json"),
        *plain_text,
    }
    findings = [f for f in findings if f["code"] == "role-missing"]
    documents, *views = findings
    assert "eurasec:role 'documents'" in documents["message"]
    assert "the seed and quote checks do not run" in documents["message"]
    text = (package_copy / "datapackage.json").read_text(encoding="utf-8").splitlines()
    assert documents["line"] == next(n for n, line in enumerate(text, 1) if '"resources"' in line)
    assert "docs/curation.md#roles" in documents["hint"]
    # Each declared view that joins names by the `name` role, which no table declares now, at its declaration
    # (one of a list: at the list, or at its own name). Those that list the documents citing each entity list
    # keys: they are made.
    names = [f["message"].split("'")[1] for f in views]
    assert names == [view for view in VIEWS if view not in KEY_LISTS]
    for name, found in zip(names, views, strict=True):
        assert "the view is not made" in found["message"]
        assert any(at in text[found["line"] - 1] for at in ('"eurasec:view"', f'"name": "{name}"')), found
    made = applicable_views(load_package(package_copy / "datapackage.json").resources)
    assert list(made) == KEY_LISTS


def test_without_roles_a_wrong_quote_cannot_pass_unnoticed(package_copy: Path):
    """The quote is not checked, but the package says so: a warning, not silence."""
    without_roles(package_copy)
    edit_line("data/actor_citations.csv", citing_line(package_copy, "quote", WRONG[0]), *WRONG)(package_copy)
    found = [f for f in validate(package_copy / "datapackage.json").findings if "quote" in f.message]
    assert [f.code for f in found] == ["role-missing"]


def test_without_roles_the_quote_helper_and_add_document_say_why(package_copy: Path, tmp_path: Path):
    without_roles(package_copy)
    descriptor = str(package_copy / "datapackage.json")
    result = invoke("quote", STAKHOVSKY, "Belarus", "--descriptor", descriptor)
    assert result.exit_code == 2 and "no resource declares eurasec:role 'documents'" in result.output
    text = tmp_path / "t.txt"
    text.write_text("T\n", encoding="utf-8")
    options = ["--title", "T", "--author", "A", "--publisher", "P", "--url", "https://e.org", "--language", "en"]
    result = invoke("add-document", str(text), "--id", "t", *options, "--descriptor", descriptor)
    assert result.exit_code == 2 and "of seed documents" in result.output


def test_without_roles_the_package_still_builds_without_passages_or_views(package_copy: Path, tmp_path: Path):
    drop_unplain_quotes(package_copy)  # a line break in a plain-text cell is an error (the test above checks it)
    without_roles(package_copy)
    folder = build_release(package_copy / "datapackage.json", tmp_path / "out").folder
    db = sqlite3.connect(folder / "eurasec.sqlite")
    kinds = dict(db.execute("SELECT name, type FROM sqlite_master WHERE name IN ('passages', 'initiative_roles')"))
    assert kinds == {}  # the views join entities by their `name` field, the passages cite the documents table


# --- inconsistent roles: errors at their line --------------------------------------------------------


def _field(descriptor: dict[str, Any], resource: str, field: str) -> dict[str, Any]:
    (r,) = [r for r in descriptor["resources"] if r["name"] == resource]
    (f,) = [f for f in r["schema"]["fields"] if f["name"] == field]
    return f


def _resource(descriptor: dict[str, Any], name: str) -> dict[str, Any]:
    (r,) = [r for r in descriptor["resources"] if r["name"] == name]
    return r


def _view(descriptor: dict[str, Any], name: str) -> dict[str, Any]:
    """A view's declaration, by its name: a resource's one object, or one of its list."""
    declared = [r.get("eurasec:view") for r in descriptor["resources"]]
    (view,) = [v for d in declared for v in (d if isinstance(d, list) else [d]) if v and v["name"] == name]
    return view


INCONSISTENT = {
    "two documents tables": (
        lambda d: _resource(d, "actors").update({"eurasec:role": "documents"}),
        "role-inconsistent",
        "both declare eurasec:role 'documents'",
    ),
    "a quote without a document field": (
        lambda d: _field(d, "steps", "document_id").pop("eurasec:role"),
        "role-inconsistent",
        "no field of 'steps' declares eurasec:role 'document'",
    ),
    "an unknown role": (
        lambda d: _field(d, "steps", "text").update({"eurasec:role": "qoute"}),
        "role-inconsistent",
        "the unknown eurasec:role 'qoute'",
    ),
    "a role on two fields": (
        lambda d: _field(d, "trends", "text").update({"eurasec:role": "quote"}),
        "role-inconsistent",
        "both declare eurasec:role 'quote'",
    ),
    "a document field that is no key into the documents table": (
        lambda d: _resource(d, "steps")["schema"].pop("foreignKeys"),
        "role-inconsistent",
        "no foreign key leads from it to the table of seed documents",
    ),
    "a seed's role outside the documents table": (
        lambda d: _field(d, "actors", "name").update({"eurasec:role": "title"}),
        "role-inconsistent",
        "belongs in the table of seed documents",
    ),
    "a proposer that is no role's value": (
        lambda d: _view(d, "initiatives_with_proposers")["list"]["where"].update(role="proposr"),
        "view-invalid",
        "whose role is 'proposr', which is not one of its values",
    ),
    "two views of one name": (
        lambda d: _resource(d, "affiliations")["eurasec:view"].update(name="initiative_roles"),
        "view-invalid",
        "another view has that name",
    ),
    "two views of one name in one resource's list": (
        lambda d: _view(d, "initiatives_with_documents").update(name="initiatives_with_proposers"),
        "view-invalid",
        "another view has that name",
    ),
    "a list of views with something that is no view": (
        lambda d: _resource(d, "initiatives")["eurasec:view"].append("initiatives_named"),
        "view-invalid",
        "must be an object with a name and a description, or a list of them",
    ),
    "an empty list of views": (
        lambda d: _resource(d, "initiatives").update({"eurasec:view": []}),
        "view-invalid",
        "is an empty list",
    ),
    "a listed column named like one of the table's own": (
        lambda d: _view(d, "initiatives_with_documents")["list"].update(column="name"),
        "view-invalid",
        "its list's column 'name' is named like a field of 'initiatives'",
    ),
    "a list from a table with two keys into the resource": (
        lambda d: _view(d, "initiatives_with_documents")["list"].update(resource="initiative_parts"),
        "view-invalid",
        "'initiative_parts' needs exactly one foreign key of one field into 'initiatives' (it has 2)",
    ),
}


@pytest.mark.parametrize("story", INCONSISTENT)
def test_inconsistent_roles_are_an_error_at_their_line_and_stop_the_build(
    story: str, package_copy: Path, tmp_path: Path
):
    edit, code, words = INCONSISTENT[story]
    descriptor = descriptor_of(package_copy)
    edit(descriptor)
    write_descriptor(package_copy, descriptor)
    result = invoke("validate", str(package_copy / "datapackage.json"), "--format", "json")
    assert result.exit_code == 1, story
    findings = json.loads(result.output)["findings"]
    found = [f for f in findings if f["code"] == code]
    assert len(found) == 1 and words in found[0]["message"], (story, findings)
    assert found[0]["file"] == "datapackage.json" and found[0]["line"], story
    assert not [f for f in findings if f["code"] == "check-failed"], story
    with pytest.raises(BuildError):
        build_release(package_copy / "datapackage.json", tmp_path / "out")


# --- a minimal package: no roles, and none needed -----------------------------------------------------


def test_a_minimal_package_validates_and_builds(tmp_path: Path):
    package = tmp_path / "mini"
    (package / "data").mkdir(parents=True)
    descriptor = {
        "name": "mini",
        "version": "0.1.0",
        "resources": [
            {
                "name": "notes",
                "path": "data/notes.csv",
                "schema": {"fields": [{"name": "text", "type": "string"}]},
            }
        ],
    }
    (package / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    (package / "data" / "notes.csv").write_text("text\nhello\n", encoding="utf-8")
    report = validate(package / "datapackage.json")
    assert report.valid and [f.code for f in report.findings] == ["role-missing"]
    folder = build_release(package / "datapackage.json", tmp_path / "out").folder
    db = sqlite3.connect(folder / "eurasec.sqlite")
    assert db.execute("SELECT text FROM notes").fetchall() == [("hello",)]
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'view'").fetchone()[0] == 0


# --- the views: made from the relations, the same SQL as ever ------------------------------------------


def test_the_views_are_made_from_the_descriptor_as_they_were_written():
    views = applicable_views(load_package(DESCRIPTOR).resources)
    assert list(views) == VIEWS
    # The provenance last, on a line of its own: document, start, end, quote.
    assert views["initiative_roles"] == (
        "Every actor's role in an initiative, with both names.",
        """SELECT ia.initiative_id, i.name AS initiative, ia.actor_id, a.name AS actor, ia.role,
       ia.document_id, ia.start, ia.end, ia.quote
FROM initiative_actors ia JOIN initiatives i ON i.id = ia.initiative_id JOIN actors a ON a.id = ia.actor_id""",
    )
    # Two references into one table: both names, each under its own label.
    assert views["actor_relations_named"][1] == (
        """SELECT ar.actor_id, a.name AS actor, ar.other_actor_id, ac.name AS other_actor, ar.relation, ar.position,
       ar.document_id, ar.start, ar.end, ar.quote
FROM actor_relations ar JOIN actors a ON a.id = ar.actor_id JOIN actors ac ON ac.id = ar.other_actor_id"""
    )
    # A list of names: each entity once, however many rows cite it.
    assert views["initiatives_with_proposers"][1] == (
        """SELECT i.id, i.name, i.kind, i.year, i.status,
       (SELECT group_concat(name, '; ') FROM (
            SELECT DISTINCT a.id, a.name FROM initiative_actors ia JOIN actors a ON a.id = ia.actor_id
            WHERE ia.initiative_id = i.id AND ia.role = 'proposer' ORDER BY a.name, a.id)) AS proposers
FROM initiatives i"""
    )
    # A list from a table whose other reference leads to no names (documents have titles): its keys, each once.
    assert views["actors_with_documents"][1] == (
        """SELECT a.id, a.name, a.kind, a.description, a.wikidata_qid, a.iso3166_alpha3,
       (SELECT group_concat(document_id, '; ') FROM (
            SELECT DISTINCT ac.document_id FROM actor_citations ac
            WHERE ac.actor_id = a.id ORDER BY ac.document_id)) AS documents
FROM actors a"""
    )
    assert views["aliases_named"][1] == (
        """SELECT al.alias, al.kind,
       CASE WHEN al.actor_id IS NOT NULL THEN 'actors' WHEN al.organization_id IS NOT NULL THEN 'organizations'
            ELSE 'initiatives' END AS entity_table,
       coalesce(al.actor_id, al.organization_id, al.initiative_id) AS entity_id,
       coalesce(a.name, o.name, i.name) AS entity_name,
       al.document_id, al.start, al.end, al.quote
FROM aliases al LEFT JOIN actors a ON a.id = al.actor_id LEFT JOIN organizations o ON o.id = al.organization_id
LEFT JOIN initiatives i ON i.id = al.initiative_id"""
    )


def test_a_view_may_still_be_declared_as_one_object_and_lists_of_one_make_the_same(package_copy: Path):
    descriptor = descriptor_of(package_copy)
    before = applicable_views(load_package(package_copy / "datapackage.json").resources)
    for resource in descriptor["resources"]:
        view = resource.get("eurasec:view")
        if isinstance(view, dict):
            resource["eurasec:view"] = [view]
        elif isinstance(view, list) and len(view) == 1:
            resource["eurasec:view"] = view[0]
    write_descriptor(package_copy, descriptor)
    assert validate(package_copy / "datapackage.json").findings == []
    assert applicable_views(load_package(package_copy / "datapackage.json").resources) == before


def test_a_problem_with_one_of_a_list_of_views_says_which(package_copy: Path):
    from eurasec.model.views import declared_views

    descriptor = descriptor_of(package_copy)
    _view(descriptor, "initiatives_with_documents")["list"].update(column="name")
    write_descriptor(package_copy, descriptor)
    views, problems = declared_views(load_package(package_copy / "datapackage.json").resources)
    [(resource, why)] = problems
    listed = _resource(descriptor, resource.name)["eurasec:view"]
    assert listed[why.index]["name"] == "initiatives_with_documents"
    assert "initiatives_with_proposers" in [v.name for v in views]  # the others of the list are still made
    assert all(listed[v.index]["name"] == v.name for v in views if v.resource.name == resource.name)


def test_a_new_view_is_declared_not_written(package_copy: Path, tmp_path: Path):
    """A curator asks for the parts of each proposal with their names: one line in the descriptor."""
    descriptor = descriptor_of(package_copy)
    _resource(descriptor, "initiative_parts")["eurasec:view"] = {
        "name": "initiative_parts_named",
        "description": "Which initiative groups which others, with both names.",
    }
    write_descriptor(package_copy, descriptor)
    assert validate(package_copy / "datapackage.json").findings == []
    folder = build_release(package_copy / "datapackage.json", tmp_path / "out").folder
    db = sqlite3.connect(folder / "eurasec.sqlite")
    rows = db.execute("SELECT initiative_id, initiative, part_id, part FROM initiative_parts_named").fetchall()
    names = {r["id"]: r["name"] for r in csv_rows("initiatives", package_copy)}
    expected = {(r["initiative_id"], r["part_id"]) for r in csv_rows("initiative_parts", package_copy)}
    assert {(a, c) for a, _, c, _ in rows} == expected
    assert all(names[a] == b and names[c] == d for a, b, c, d in rows)
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    tables = next(iter(metadata["databases"].values()))["tables"]
    assert tables["initiative_parts_named"]["description"] == "Which initiative groups which others, with both names."


def test_every_role_is_documented_in_the_curation_guide():
    from eurasec.model.descriptor import FIELD_ROLES, RESOURCE_ROLES

    guide = (DESCRIPTOR.parent / "docs" / "curation.md").read_text(encoding="utf-8")
    section = guide[guide.index("## Roles") :]
    for role in [*RESOURCE_ROLES, *FIELD_ROLES]:
        assert f"| `{role}` |" in section, role
    assert "eurasec:view" in section


def test_a_copy_without_the_seeds_folder_is_told_not_crashed(package_copy: Path):
    """Roles declared, seeds gone: the seed check says so row by row; no check stops."""
    shutil.rmtree(package_copy / "seeds")
    found = {f.code for f in validate(package_copy / "datapackage.json").findings}
    assert "seed-missing" in found and "check-failed" not in found

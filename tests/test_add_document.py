"""`eurasec add-document`: a contributor registers a source text in one command, and the package stays valid."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from eurasec.cli import cli

from .conftest import ROOT

TEXT = (
    "The Security of Greater Eurasia\n\n"
    "By Jane Doe\n\n"
    "The states of the region spoke of “indivisible security” – again and again.\n"
)
NEW_ID = "doe-security-greater-eurasia"


def invoke(*args: str):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def add(
    package: Path, file: Path, *extra: str, document_id: str = NEW_ID, title: str = "The Security of Greater Eurasia"
):
    return invoke(
        "add-document",
        file,
        "--id",
        document_id,
        "--title",
        title,
        "--author",
        "Jane Doe",
        "--publisher",
        "Example Institute",
        "--url",
        "https://example.org/security",
        "--language",
        "en",
        *extra,
        "--descriptor",
        package / "datapackage.json",
    )


def documents(package: Path) -> list[dict[str, str]]:
    with open(package / "data/documents.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def snapshot(package: Path) -> dict[str, bytes]:
    """Every file of the package, by path: what `nothing was written` must leave as it was."""
    return {str(p.relative_to(package)): p.read_bytes() for p in sorted(package.rglob("*")) if p.is_file()}


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "downloads" / "security.txt"
    path.parent.mkdir()
    path.write_bytes(TEXT.encode("utf-8"))
    return path


def test_a_contributor_registers_a_text_in_one_command_and_the_package_stays_valid(package_copy, text_file):
    before = documents(package_copy)
    result = add(package_copy, text_file, "--published-date", "2024-12-03")
    assert result.exit_code == 0, result.output
    # The seed is the file, byte for byte, and its row records what sha256sum and wc -c would say.
    seed = package_copy / "seeds" / f"{NEW_ID}.txt"
    assert seed.read_bytes() == text_file.read_bytes()
    (row,) = [r for r in documents(package_copy) if r["id"] == NEW_ID]
    assert row["path"] == f"seeds/{NEW_ID}.txt"
    assert row["sha256"] == hashlib.sha256(text_file.read_bytes()).hexdigest()
    assert row["bytes"] == str(len(text_file.read_bytes()))
    assert (row["published_date"], row["date_precision"]) == ("2024-12-03", "day")
    assert "Third-party text" in row["license_note"]
    # Every other row is exactly as it was, and the table is in canonical order.
    assert [r for r in documents(package_copy) if r["id"] != NEW_ID] == before
    assert invoke("fmt", "--check", package_copy / "datapackage.json").exit_code == 0
    # validate passes (a document that no fact cites yet is no error), and the output says what comes next.
    validated = invoke("validate", package_copy / "datapackage.json")
    assert validated.exit_code == 0, validated.output
    assert "\nvalid: 0 errors" in "\n" + validated.output
    # What the new text names and no fact of it cites yet is a warning for the curator (here: "Eurasia").
    warned = [line for line in validated.output.splitlines() if ": warning " in line]
    assert all("mention-uncited" in line and NEW_ID in line for line in warned), warned
    assert f'eurasec quote {NEW_ID} "a passage"' in result.stdout


def test_the_new_document_can_be_quoted_right_away(package_copy, text_file):
    assert add(package_copy, text_file).exit_code == 0
    result = invoke("quote", NEW_ID, "“indivisible security”", "--descriptor", package_copy / "datapackage.json")
    assert result.exit_code == 0
    start = TEXT.index("“indivisible security”")
    assert f"at characters {start}–{start + len('“indivisible security”')}" in result.output


def test_a_text_that_is_not_nfc_is_stored_as_is_with_a_warning(package_copy, tmp_path):
    raw = unicodedata.normalize("NFD", "Café Security\r\nrésumé").encode("utf-8")  # CRLF, no final newline
    source = tmp_path / "nfd.txt"
    source.write_bytes(raw)
    result = add(package_copy, source, title="Café Security", document_id="nfd-text")
    assert result.exit_code == 0, result.output
    assert "not in Unicode NFC" in result.stderr and "stored as is" in result.stderr
    assert (package_copy / "seeds/nfd-text.txt").read_bytes() == raw  # never normalized
    assert invoke("validate", package_copy).exit_code == 0


@pytest.mark.parametrize(
    ("raw", "offset"),
    [(b"caf\xe9 au lait", 3), (b"ok\n\xff", 3), ("Минск".encode()[:-1], 8)],
)
def test_a_text_that_is_not_utf8_is_refused_with_its_byte_offset_and_nothing_is_written(
    package_copy, tmp_path, raw, offset
):
    source = tmp_path / "latin1.txt"
    source.write_bytes(raw)
    before = snapshot(package_copy)
    result = add(package_copy, source)
    assert result.exit_code == 1
    assert f"byte offset {offset}" in result.stderr and "not UTF-8" in result.stderr
    assert "nothing was written" in result.stderr
    assert snapshot(package_copy) == before


def test_an_id_already_taken_is_refused(package_copy, text_file):
    taken = documents(package_copy)[0]["id"]
    before = snapshot(package_copy)
    result = add(package_copy, text_file, document_id=taken)
    assert result.exit_code == 1
    assert f"the id {taken!r} is already taken" in result.stderr
    assert snapshot(package_copy) == before


def test_adding_the_same_text_twice_says_it_is_registered_already(package_copy, text_file):
    assert add(package_copy, text_file).exit_code == 0
    before = snapshot(package_copy)
    again = add(package_copy, text_file)
    assert again.exit_code == 1
    assert "registered already" in again.stderr
    assert snapshot(package_copy) == before


@pytest.mark.parametrize("bad", ["Doe_Security", "doe--security", "-doe", "doe security", "Doé"])
def test_an_id_that_is_not_a_slug_is_a_usage_error(package_copy, text_file, bad):
    before = snapshot(package_copy)
    result = add(package_copy, text_file, document_id=bad)
    assert result.exit_code == 2
    assert f"--id {bad!r}" in result.stderr and "kebab-case slug" in result.stderr
    assert snapshot(package_copy) == before


def test_every_bad_option_is_reported_at_once(package_copy, text_file):
    result = invoke(
        "add-document", text_file, "--id", "x", "--title", " padded", "--author", "A", "--publisher", "P",
        "--url", "not a url", "--language", "eng", "--published-date", "2024-13",
        "--descriptor", package_copy / "datapackage.json",
    )  # fmt: skip
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 4
    for option in ("--title", "--url", "--language", "--published-date"):
        assert any(option in line for line in errors), option


def test_a_missing_required_option_is_a_usage_error(package_copy, text_file):
    result = invoke("add-document", text_file, "--id", "x", "--descriptor", package_copy / "datapackage.json")
    assert result.exit_code == 2
    assert "Missing option" in result.output


def test_a_different_file_at_the_target_path_is_refused(package_copy, text_file):
    (package_copy / "seeds" / f"{NEW_ID}.txt").write_text("another text\n", encoding="utf-8")
    before = snapshot(package_copy)
    result = add(package_copy, text_file)
    assert result.exit_code == 1
    assert "already exists and is not this text" in result.stderr
    assert snapshot(package_copy) == before


def test_the_same_bytes_already_at_the_target_path_are_registered_without_a_copy(package_copy, text_file):
    # An earlier attempt left the seed in place (or the contributor saved it there): running again finishes it.
    (package_copy / "seeds" / f"{NEW_ID}.txt").write_bytes(text_file.read_bytes())
    result = add(package_copy, text_file)
    assert result.exit_code == 0, result.output
    assert f"already at seeds/{NEW_ID}.txt" in result.stdout
    assert invoke("validate", package_copy).exit_code == 0


def test_a_file_saved_in_seeds_is_registered_where_it_is(package_copy, text_file):
    saved = package_copy / "seeds" / "doe-2024.txt"
    saved.write_bytes(text_file.read_bytes())
    result = add(package_copy, saved)
    assert result.exit_code == 0, result.output
    (row,) = [r for r in documents(package_copy) if r["id"] == NEW_ID]
    assert row["path"] == "seeds/doe-2024.txt"
    assert not (package_copy / "seeds" / f"{NEW_ID}.txt").exists()
    assert invoke("validate", package_copy).exit_code == 0


def test_a_path_that_is_not_a_readable_file_is_a_usage_error(package_copy, tmp_path):
    before = snapshot(package_copy)
    for path in (tmp_path / "missing.txt", tmp_path):
        result = add(package_copy, path)
        assert result.exit_code == 2
        assert "does not exist" in result.stderr or "is a directory" in result.stderr
    assert snapshot(package_copy) == before


def test_an_empty_or_too_large_file_is_refused(package_copy, tmp_path, monkeypatch):
    import eurasec.contribute.add_document

    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert add(package_copy, empty).exit_code == 1
    monkeypatch.setattr(eurasec.contribute.add_document, "MAX_DOCUMENT_BYTES", 16)
    large = tmp_path / "large.txt"
    large.write_bytes(b"x" * 17)
    before = snapshot(package_copy)
    result = add(package_copy, large)
    assert result.exit_code == 1
    assert "larger than 16 bytes" in result.stderr
    assert snapshot(package_copy) == before


def test_when_the_table_cannot_be_written_the_copied_seed_is_removed(package_copy, text_file, monkeypatch):
    import eurasec.contribute.fmt

    def full_disk(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(eurasec.contribute.fmt, "_write_atomically", full_disk)
    before = snapshot(package_copy)
    result = add(package_copy, text_file)
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr
    assert snapshot(package_copy) == before  # no seed left behind, no temporary file


@pytest.mark.parametrize(
    ("given", "stored", "precision"),
    [("2024-12-03", "2024-12-03", "day"), ("2024-12", "2024-12-01", "month"), ("2024", "2024-01-01", "year")],
)
def test_a_partial_date_says_how_much_of_it_is_known(package_copy, text_file, given, stored, precision):
    assert add(package_copy, text_file, "--published-date", given).exit_code == 0
    (row,) = [r for r in documents(package_copy) if r["id"] == NEW_ID]
    assert (row["published_date"], row["date_precision"]) == (stored, precision)


def test_no_date_is_unknown_never_a_guess(package_copy, text_file):
    assert add(package_copy, text_file, "--date-note", "The text gives no date.").exit_code == 0
    (row,) = [r for r in documents(package_copy) if r["id"] == NEW_ID]
    assert (row["published_date"], row["date_precision"], row["date_note"]) == (
        "",
        "unknown",
        "The text gives no date.",
    )


def _documents_fields() -> list[dict]:
    raw = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    (resource,) = [r for r in raw["resources"] if r["name"] == "documents"]
    return resource["schema"]["fields"]


def test_every_field_of_the_documents_schema_is_an_option_or_worked_out():
    from eurasec.contribute.add_document import _derived
    from eurasec.model.descriptor import load_package

    derived = _derived(load_package(ROOT / "datapackage.json").documents)
    options = {opt: p for p in cli.commands["add-document"].params for opt in p.opts}
    for f in _documents_fields():
        if f["name"] in derived:
            continue
        option = "--" + f["name"].replace("_", "-")
        assert option in options, f"no option for the field {f['name']!r}"
        if f.get("constraints", {}).get("required"):
            param = options[option]
            assert param.required or f["name"] == "license_note", f"{option} should be required"


def test_contributing_shows_only_options_the_command_has():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"(--[a-z-]+)", text[text.index("eurasec add-document") :].split("```")[0]))
    options = {opt for p in cli.commands["add-document"].params for opt in p.opts}
    assert shown and shown <= options


# --- the source registry: documents without stored text, translations, retrieval ---------------

ORIGINAL_ID = "doe-security-greater-eurasia-ru"


def add_without_text(package: Path, *extra: str, document_id: str = ORIGINAL_ID):
    return invoke(
        "add-document",
        "--no-text",
        "--id",
        document_id,
        "--title",
        "Безопасность Большой Евразии",
        "--author",
        "Jane Doe",
        "--publisher",
        "Example Institute",
        "--url",
        "https://example.org/ru/security",
        "--language",
        "ru",
        *extra,
        "--descriptor",
        package / "datapackage.json",
    )


def test_a_document_without_stored_text_is_registered_with_no_seed(package_copy):
    before = snapshot(package_copy)
    result = add_without_text(package_copy)
    assert result.exit_code == 0, result.output
    assert "registered without stored text" in result.stdout
    (row,) = [r for r in documents(package_copy) if r["id"] == ORIGINAL_ID]
    assert (row["path"], row["sha256"], row["bytes"]) == ("", "", "")
    assert (row["language"], row["url"]) == ("ru", "https://example.org/ru/security")
    # Only the documents table changed: no seed was written.
    after = snapshot(package_copy)
    assert {name for name in after if after[name] != before.get(name)} == {"data/documents.csv"}
    assert invoke("fmt", "--check", package_copy / "datapackage.json").exit_code == 0
    validated = invoke("validate", package_copy / "datapackage.json")
    assert validated.exit_code == 0, validated.output
    # There is nothing to quote in it, and the quote helper says why.
    quoted = invoke("quote", ORIGINAL_ID, "Безопасность", "--descriptor", package_copy / "datapackage.json")
    assert quoted.exit_code == 2
    assert "registered without stored text" in quoted.stderr


def test_a_translation_names_its_original_and_records_its_retrieval(package_copy, text_file):
    assert add_without_text(package_copy).exit_code == 0
    archive = "https://web.archive.org/web/2025/https://example.org/security"
    result = add(
        package_copy,
        text_file,
        "--translation-of",
        ORIGINAL_ID,
        "--retrieved-date",
        "2025-01-31",
        "--archive-url",
        archive,
    )
    assert result.exit_code == 0, result.output
    (row,) = [r for r in documents(package_copy) if r["id"] == NEW_ID]
    assert (row["translation_of"], row["retrieved_date"], row["archive_url"]) == (ORIGINAL_ID, "2025-01-31", archive)
    assert row["path"] == f"seeds/{NEW_ID}.txt"
    assert invoke("validate", package_copy / "datapackage.json").exit_code == 0


def test_a_translation_of_an_unknown_document_is_refused_with_the_known_ones(package_copy, text_file):
    before = snapshot(package_copy)
    result = add(package_copy, text_file, "--translation-of", "no-such-original")
    assert result.exit_code == 2
    known = ", ".join(sorted(r["id"] for r in documents(package_copy)))
    assert "--translation-of 'no-such-original'" in result.stderr and f"known: {known}" in result.stderr
    assert "nothing was written" in result.stderr
    itself = add(package_copy, text_file, "--translation-of", NEW_ID)
    assert itself.exit_code == 2 and "the new document itself" in itself.stderr
    assert snapshot(package_copy) == before


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--retrieved-date", "2025-02-30"),
        ("--retrieved-date", "2025-01"),
        ("--retrieved-date", "31.01.2025"),
        ("--archive-url", "web.archive.org/web/2025"),
        ("--translation-of", "Not A Slug"),
    ],
)
def test_a_bad_registry_value_is_a_usage_error_and_nothing_is_written(package_copy, text_file, option, value):
    before = snapshot(package_copy)
    result = add(package_copy, text_file, option, value)
    assert result.exit_code == 2
    assert f"{option} {value!r}" in result.stderr
    assert snapshot(package_copy) == before


@pytest.mark.parametrize("both", [False, True])
def test_file_and_no_text_are_one_or_the_other(package_copy, text_file, both):
    before = snapshot(package_copy)
    file = [text_file, "--no-text"] if both else []
    result = invoke(
        "add-document", *file, "--id", NEW_ID, "--title", "T", "--author", "A", "--publisher", "P",
        "--url", "https://example.org/t", "--language", "en", "--descriptor", package_copy / "datapackage.json",
    )  # fmt: skip
    assert result.exit_code == 2
    assert ("not both" if both else "--no-text for a document whose text is not stored") in result.output
    assert snapshot(package_copy) == before


def test_an_id_already_taken_is_refused_without_text_too(package_copy):
    taken = documents(package_copy)[0]["id"]
    before = snapshot(package_copy)
    result = add_without_text(package_copy, document_id=taken)
    assert result.exit_code == 1
    assert f"the id {taken!r} is already taken" in result.stderr
    assert snapshot(package_copy) == before


def test_no_text_is_refused_where_the_schema_requires_every_seed(package_copy):
    descriptor = package_copy / "datapackage.json"
    raw = json.loads(descriptor.read_text(encoding="utf-8"))
    (resource,) = [r for r in raw["resources"] if r.get("eurasec:role") == "documents"]
    seed_path = next(f for f in resource["schema"]["fields"] if f.get("eurasec:role") == "seed-path")
    seed_path.setdefault("constraints", {})["required"] = True  # as in the 1.0.0 model
    descriptor.write_text(json.dumps(raw, ensure_ascii=False, indent=2), encoding="utf-8")
    before = snapshot(package_copy)
    result = add_without_text(package_copy)
    assert result.exit_code == 2
    assert f"requires {seed_path['name']!r} of every document" in result.stderr
    assert snapshot(package_copy) == before

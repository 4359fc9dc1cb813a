"""`eurasec quote`: the contributor's helper for writing a quote that passes."""

from __future__ import annotations

import re

import pytest

from eurasec.checks.quotes import closest, fold

from .conftest import DESCRIPTOR, csv_rows
from .test_validate import invoke


def seeds() -> dict[str, str]:
    """Every stored document's seed text, by document id, as documents.csv points at it (a document may be
    registered without its text: it has no path, and nothing to quote)."""
    import csv

    with open(DESCRIPTOR.parent / "data/documents.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {row["id"]: (DESCRIPTOR.parent / row["path"]).read_text(encoding="utf-8") for row in rows if row["path"]}


SEEDS = seeds()
DOC = "stakhovsky-eurasian-approach"
TEXT = SEEDS.get(DOC, "")


def run(*args: str):
    return invoke("quote", *args, "--descriptor", str(DESCRIPTOR))


def test_an_exact_passage_is_printed_with_its_offsets():
    result = run(DOC, "Union State Security Concept")
    assert result.exit_code == 0
    start, end = map(int, re.search(r"at characters (\d+)–(\d+)", result.output).groups())
    assert TEXT[start:end] == "Union State Security Concept"
    assert result.output.endswith("quote:\nUnion State Security Concept\n")


def test_every_occurrence_is_listed():
    result = run(DOC, "Union State")
    assert result.exit_code == 0
    assert "4 times" in result.output
    places = re.findall(r"(\d+)–(\d+)", result.output.splitlines()[0])
    assert [TEXT[int(a) : int(b)] for a, b in places] == ["Union State"] * 4


def test_a_retyped_dash_gets_the_seed_passage_and_the_difference_marked():
    result = run(DOC, "like-minded states moving in the same direction")
    assert result.exit_code == 1
    assert "like[–→-]minded states" in result.output
    assert 'a hyphen ("-") where the seed has an en dash ("–")' in result.output
    assert result.output.endswith("exact quote to use:\nlike–minded states moving in the same direction\n")


def test_a_changed_word_is_named():
    result = run(DOC, "The breadth and blurriness of Eurasia’s frontiers")
    assert result.exit_code == 1
    assert '"frontiers" where the seed has "borders"' in result.output


def test_unrelated_text_is_not_matched():
    result = run(DOC, "completely unrelated words here")
    assert result.exit_code == 1
    assert "no passage of it is alike" in result.output


def test_an_unknown_document_lists_the_known_ones():
    result = run("no-such-document", "x")
    assert result.exit_code == 2
    assert f"known: {', '.join(sorted(row['id'] for row in csv_rows('documents')))}" in result.output


@pytest.mark.parametrize(
    ("wrote", "seed"),
    [
        ("Source:  VALDAI", "Source: \u00a0VALDAI"),  # plain space for no-break space
        ("the modern world’s habituation", "the modern world's habituation"),  # curly for straight
        ("Eurasia's borders", "Eurasia’s borders"),  # straight for curly
        ("THE REPUBLIC OF BELARUS", "the Republic of Belarus"),  # case
    ],
)
def test_typographic_variants_find_the_seed_passage(wrote: str, seed: str):
    match = closest(TEXT, wrote)
    assert match is not None and not match.exact
    assert match.passage == seed == TEXT[match.start : match.end]


def test_fold_keeps_offsets():
    assert len(fold(TEXT)) == len(TEXT)


def test_distinct_pairs_are_every_pair_once_including_quotes_cited_from_several_documents():
    import random

    import numpy as np

    from eurasec.checks.provenance import _distinct_pairs

    rng = random.Random(7)
    for _ in range(200):
        rows = rng.randint(1, 40)
        quotes = np.array([rng.randrange(8) for _ in range(rows)], dtype=np.int64)
        docs = np.array([rng.randrange(3) for _ in range(rows)], dtype=np.int64)
        keep = np.array([rng.random() < 0.8 for _ in range(rows)])
        quote_index, doc_index = _distinct_pairs(quotes, docs, 8, keep)
        pairs = list(zip(quote_index.tolist(), doc_index.tolist(), strict=True))
        assert len(pairs) == len(set(pairs))
        assert set(pairs) == {
            (q, d) for q, d, k in zip(quotes.tolist(), docs.tolist(), keep.tolist(), strict=True) if k
        }


# Whatever a contributor types that is in the text but for case, the width of white space, dashes and
# quotes is found, and the seed's own passage is offered, trimmed, with its offsets: for every document.

_VARIANTS = {
    "-": "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212",
    "'": "'\u2018\u2019\u201a\u201b\u2032",
    '"': '"\u201c\u201d\u201e\u201f\u2033',
}
_SPACES = [" ", "  ", "\n", "\n\n", "\t", " \n ", "\u00a0"]


def _retyped(passage: str, rng) -> str:
    """The passage as someone might type it: case, white space, dashes and quotes changed at random."""
    out = []
    for piece in re.split(r"(\s+)", passage):
        if piece and piece.isspace():
            out.append(rng.choice(_SPACES))
            continue
        for ch in piece:
            choices = [c for c in (ch, ch.upper(), ch.lower()) if len(c) == 1 and fold(c) == fold(ch)]
            choices += list(_VARIANTS.get(fold(ch), ""))
            out.append(rng.choice(choices))
    return rng.choice(["", " ", "\n"]) + "".join(out) + rng.choice(["", " ", "\t"])


def _loose(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text)).strip()


def _passages(text: str, rng, count: int) -> list[str]:
    """Runs of 1 to 8 whole words of the text, with whatever lies between them."""
    words = [m.span() for m in re.finditer(r"\S+", text)]
    found = []
    for _ in range(count if words else 0):
        first = rng.randrange(len(words))
        last = min(len(words) - 1, first + rng.randrange(8))
        found.append(text[words[first][0] : words[last][1]])
    return found


def _offered(output: str) -> tuple[int, int, str]:
    start, end = map(int, re.search(r"at characters (\d+)–(\d+)", output).groups())
    marker = "exact quote to use:\n" if "exact quote to use:" in output else "quote:\n"
    passage = output.split(marker, 1)[1].removesuffix("\n").split("\n(the white space at its ends")[0]
    return start, end, passage


@pytest.mark.parametrize("document_id", sorted(SEEDS))
def test_text_retyped_in_case_spacing_dashes_and_quotes_is_found_as_the_seed_has_it(document_id: str):
    import random

    from eurasec.contribute.quote import find_quote

    text, rng = SEEDS[document_id], random.Random(document_id)
    for passage in _passages(text, rng, 40):
        typed = _retyped(passage, rng)
        result = find_quote(DESCRIPTOR, document_id, typed)
        match = result.match
        assert match is not None, typed
        assert match.passage == text[match.start : match.end] == match.passage.strip()
        assert _loose(match.passage) == _loose(typed)
        assert result.exact == (typed.strip() in text)


@pytest.mark.parametrize("document_id", sorted(SEEDS))
def test_the_command_prints_the_seed_passage_with_offsets_in_code_points(document_id: str):
    import random

    text, rng = SEEDS[document_id], random.Random(f"cli {document_id}")
    for passage in _passages(text, rng, 5):
        typed = _retyped(passage, rng)
        result = run(document_id, typed)
        start, end, offered = _offered(result.output)
        assert text[start:end] == offered == offered.strip()
        assert _loose(offered) == _loose(typed)
        assert result.exit_code == (0 if typed.strip() in text else 1)
        assert f"start,end = {start},{end}" in result.output  # the offered passage's line to paste


@pytest.mark.parametrize("document_id", sorted(SEEDS))
def test_a_name_typed_with_a_leading_the_gets_the_name_without_a_space_in_front(document_id: str):
    # "the Gulf Cooperation Council" where the text has only "…, Gulf Cooperation Council": the quote to use
    # must not start with the space before the name (validate would reject it as untrimmed-space).
    names = [m.group() for m in re.finditer(r"(?<=[,;:] )[A-Z][a-z]+(?: [A-Z][a-z]+){1,3}", SEEDS[document_id])]
    names = [n for n in names if f"the {n}" not in SEEDS[document_id] and f"The {n}" not in SEEDS[document_id]]
    for name in names[:5]:
        result = run(document_id, f"the {name}")
        assert result.exit_code == 1
        start, end, offered = _offered(result.output)
        assert offered == name == SEEDS[document_id][start:end]


@pytest.mark.parametrize("document_id", sorted(SEEDS))
def test_spaces_around_an_exact_quote_are_left_out_of_the_quote_printed(document_id: str):
    passage = next(iter(_passages(SEEDS[document_id], __import__("random").Random(1), 1)), None)
    if passage is None:
        pytest.skip("an empty seed")
    result = run(document_id, f"  {passage}\n")
    assert result.exit_code == 0
    assert f"quote:\n{passage}\n(the white space at its ends is left out" in result.output


def test_the_passage_validate_offers_for_a_near_miss_has_no_space_at_its_ends():
    # "the Gulf Cooperation Council": the seed has no "the"; the passage offered must be a valid quote as it is.
    from eurasec.checks.quotes import closest

    text = "members of the CICA, Gulf Cooperation Council and others"
    match = closest(text, "the Gulf Cooperation Council")
    assert match is not None and not match.exact
    assert match.passage == match.passage.strip() and "Gulf Cooperation Council" in match.passage
    assert text[match.start : match.end] == match.passage


# --- offsets ready to paste, and the occurrence to choose ------------------------------------------

PASTE = re.compile(r"^ *start,end = ([0-9]+),([0-9]+)(.*)$", re.MULTILINE)


def _every(text: str, passage: str) -> list[int]:
    """Every start of passage in text, overlapping ones too (worked out here, not by the helper)."""
    return [i for i in range(len(text) - len(passage) + 1) if text.startswith(passage, i)]


def _pasted(output: str) -> list[tuple[int, int, str]]:
    return [(int(a), int(b), rest) for a, b, rest in PASTE.findall(output)]


def test_a_passage_found_once_gives_one_line_to_paste_into_start_and_end():
    passage = "Union State Security Concept"
    assert len(_every(TEXT, passage)) == 1
    result = run(DOC, passage)
    assert result.exit_code == 0
    [(start, end, rest)] = _pasted(result.output)
    assert TEXT[start:end] == passage and rest == ""
    assert "choose" not in result.output


def test_a_passage_found_more_than_once_lists_every_occurrence_in_context_to_choose_from():
    passage = "Union State"
    starts = _every(TEXT, passage)
    assert len(starts) > 1
    result = run(DOC, passage)
    assert result.exit_code == 0
    assert f"it occurs {len(starts)} times: choose the one your row cites" in result.output
    pasted = _pasted(result.output)
    assert [(a, b) for a, b, _ in pasted] == [(s, s + len(passage)) for s in starts]
    for start, end, rest in pasted:
        # The passage in [ ] with the seed's text on each side, each run of white space shown as one space.
        before, after = (re.sub(r"\s+", " ", t) for t in (TEXT[max(0, start - 12) : start], TEXT[end : end + 12]))
        assert f"{before}[{passage}]{after}" in rest
    assert result.output.endswith(f"quote:\n{passage}\n")


def test_a_retyped_passage_found_more_than_once_lists_every_occurrence_too():
    starts = _every(TEXT, "Union State")
    result = run(DOC, "union   STATE")
    assert result.exit_code == 1
    assert [(a, b) for a, b, _ in _pasted(result.output)] == [(s, s + len("Union State")) for s in starts]
    assert result.output.endswith("exact quote to use:\nUnion State\n")


def test_many_occurrences_are_listed_up_to_a_limit_and_counted(package_copy, tmp_path):
    from eurasec.contribute.add_document import DEFAULT_LICENSE_NOTE, add_document
    from eurasec.contribute.quote import MAX_LISTED

    text = "".join(f"Paragraph {n}: peace and security.\n" for n in range(MAX_LISTED + 5))
    source = tmp_path / "many.txt"
    source.write_text(text, encoding="utf-8")
    options = {"id": "many", "title": "Paragraph", "author": "A", "publisher": "P", "url": "https://example.org/m"}
    add_document(
        package_copy / "datapackage.json", source, {**options, "language": "en", "license_note": DEFAULT_LICENSE_NOTE}
    )
    result = invoke("quote", "many", "peace and security", "--descriptor", str(package_copy))
    assert result.exit_code == 0
    pasted = _pasted(result.output)
    assert len(pasted) == MAX_LISTED
    assert all(text[a:b] == "peace and security" for a, b, _ in pasted)
    assert "… and 5 more: quote a longer passage to tell them apart" in result.output


def test_occurrences_found_only_loosely_say_when_their_own_text_differs(package_copy, tmp_path):
    from eurasec.contribute.add_document import DEFAULT_LICENSE_NOTE, add_document

    text = "A like–minded state spoke first. Then a like-minded state answered.\n"
    source = tmp_path / "dashes.txt"
    source.write_text(text, encoding="utf-8")
    options = {"id": "dashes", "title": "A like", "author": "A", "publisher": "P", "url": "https://example.org/d"}
    add_document(
        package_copy / "datapackage.json", source, {**options, "language": "en", "license_note": DEFAULT_LICENSE_NOTE}
    )
    result = invoke("quote", "dashes", "LIKE-MINDED STATE", "--descriptor", str(package_copy))
    assert result.exit_code == 1
    (first, second) = [(a, b) for a, b, _ in _pasted(result.output)]
    assert text[first[0] : first[1]] == "like–minded state" and text[second[0] : second[1]] == "like-minded state"
    # The quote offered is the first one's text; the second's line says that its own text differs.
    assert result.output.endswith("exact quote to use:\nlike–minded state\n")
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if f"start,end = {second[0]},{second[1]}" in line)
    assert "its own text differs from the quote below" in lines[at + 1]
    assert all("its own text differs" not in line for line in lines[:at])

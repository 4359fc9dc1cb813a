"""`eurasec quote`: the contributor's helper for writing a quote that passes."""

from __future__ import annotations

import re

import pytest

from eurasec.quotes import closest, fold

from .conftest import DESCRIPTOR
from .test_validate import invoke

DOC = "stakhovsky-eurasian-approach"
TEXT = (DESCRIPTOR.parent / "seeds/stakhovsky-eurasian-approach-view-from-belarus.txt").read_text(encoding="utf-8")


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
    assert "known: stakhovsky-eurasian-approach" in result.output


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

"""Row order: rows are sorted by their primary key, numbers as numbers and text by code point."""

from __future__ import annotations

import pyarrow as pa
import pytest

from eurasec.checks.canonical import first_unsorted
from eurasec.model.descriptor import load_package

from .conftest import DESCRIPTOR

TRENDS = load_package(DESCRIPTOR).resource("trends")  # primary key: document_id, number (an integer)


def trends(*rows: tuple[str, str]) -> dict[str, pa.Array]:
    return {
        "document_id": pa.array([document for document, _ in rows]),
        "number": pa.array([number for _, number in rows]),
    }


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("a", "1"), ("a", "2"), ("a", "10")], None),  # 10 after 2: numbers compare as numbers
        ([("a", "1"), ("a", "10"), ("a", "3")], 2),
        ([("a", "2"), ("b", "1")], None),  # the first key decides
        ([("b", "1"), ("a", "2")], 1),
        ([("a", "1"), ("a", "1")], None),  # a repeat is in order here (the primary key check reports it)
        ([("a", "1"), ("B", "2")], 1),  # "B" (U+0042) sorts before "a" (U+0061)
        ([("é", "1"), ("z", "1")], 1),  # "é" (U+00E9) sorts after "z"
        ([("a", "1")], None),
        ([("a", "1"), ("a", "x")], None),  # an untyped key is frictionless' type error, not an order
    ],
)
def test_the_first_row_out_of_order_is_found(rows, expected):
    assert first_unsorted(TRENDS, trends(*rows)) == expected


def test_typed_tables_come_out_sorted_whether_or_not_the_text_was():
    from eurasec.build.typed import typed_from_text

    resource = load_package(DESCRIPTOR).resource("trends")
    rows = [("a", "10"), ("a", "2"), ("b", "1")]
    columns = {f.name: pa.array([""] * len(rows)) for f in resource.fields} | trends(*rows)
    typed = typed_from_text(resource, columns)
    assert list(zip(typed["document_id"].to_pylist(), typed["number"].to_pylist(), strict=True)) == [
        ("a", 2),
        ("a", 10),
        ("b", 1),
    ]
    in_order = typed_from_text(resource, {**columns, **trends(("a", "2"), ("a", "10"), ("b", "1"))})
    assert in_order["number"].to_pylist() == [2, 10, 1]
    assert in_order["title"].null_count == 3  # empty text is null, without a copy of the text

"""Python's re runs patterns in one child process per package, each pattern under its own bound."""

from __future__ import annotations

import re

import pytest

from eurasec.checks.engine import tabular
from eurasec.checks.engine.tabular import PatternUndecidableError, python_pattern_verdicts_many


def test_a_pattern_that_overruns_its_bound_does_not_cost_the_ones_after_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(tabular, "PATTERN_SECONDS", 0.5)
    jobs = [
        ("^[a-z]+$", ["abc", "ABC", ""]),
        ("^(a+)+$", ["a" * 40 + "b"]),  # backtracks for minutes
        ("^[0-9]{2}$", []),
        ("^[0-9]{2}$", ["12", "123"]),
    ]
    first, second, third, fourth = python_pattern_verdicts_many(jobs)
    assert [matched for matched, _ in first] == [bool(re.match("^[a-z]+$", c)) for c in jobs[0][1]]
    assert isinstance(second, PatternUndecidableError) and "(a+)+" in str(second)
    assert third == []
    assert [matched for matched, _ in fourth] == [True, False]

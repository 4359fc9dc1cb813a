"""Findings: what a check says about the data. Checks return them; they never print.

Two things a check may say besides its findings, neither of them about the data:

- a Truncation: it listed only the first findings of a kind (frictionless stops at 1000 errors a table,
  and the fast engine with it); the report says so instead of cutting silently;
- an InternalError: it crashed. That is a bug in eurasec, never a finding: validate raises it, and the
  command exits 2 saying so, without a report.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    file: str  # path relative to the package root, with forward slashes
    message: str  # one sentence: what is wrong
    hint: str  # how to fix it
    line: int | None = None  # 1-based physical line in the file
    field: str | None = None
    column: int | None = None  # 1-based column of the field in the CSV header

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line or 0, self.column or 0, self.code, self.message)


@dataclass(frozen=True)
class Truncation:
    """Findings left out at a limit: of at least `at_least` findings of a kind in `file`, `shown` are listed."""

    file: str  # as in a Finding
    what: str  # the findings counted, plural: "errors", "lines with a bare carriage return"
    shown: int
    at_least: int  # a lower bound: a check that stops at its limit cannot know how many more there are
    reason: str  # the limit, in a sentence: "validate reports at most 1000 errors a table, as frictionless does"
    hint: str  # how to see the rest

    @property
    def message(self) -> str:
        if self.at_least > self.shown:
            return f"{self.shown:,} of at least {self.at_least:,} {self.what} shown: {self.reason}"
        return f"{self.shown:,} {self.what} shown, and there may be more: {self.reason}"

    @property
    def left_out(self) -> int:
        """How many are known to be left out (0 when the check stopped at its limit without counting on)."""
        return max(self.at_least - self.shown, 0)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": self.message}

    def sort_key(self) -> tuple[str, str]:
        return (self.file, self.what)


_TRUNCATIONS: ContextVar[list[Truncation] | None] = ContextVar("eurasec_truncations", default=None)


def note_truncation(truncation: Truncation) -> None:
    """Say that a check cut its findings here: the report that is being made shows it (see collect_truncations).

    Outside a collection (a check called on its own) it is dropped: the findings are what they are.
    """
    collected = _TRUNCATIONS.get()
    if collected is not None:
        collected.append(truncation)


@contextmanager
def collect_truncations() -> Iterator[list[Truncation]]:
    """Collect what note_truncation is told in this context: the checks that run in it, and in threads started
    with a copy of it (contextvars.copy_context), add to the one list."""
    collected: list[Truncation] = []
    token = _TRUNCATIONS.set(collected)
    try:
        yield collected
    finally:
        _TRUNCATIONS.reset(token)


class InternalError(Exception):
    """A check crashed: a bug in eurasec, not a problem with the data.

    check names it ("hygiene", "descriptor", "fast data" …); error is the exception it raised, with its
    traceback (also the __cause__ of this one).
    """

    def __init__(self, check: str, error: BaseException) -> None:
        self.check = check
        self.error = error
        super().__init__(f"internal error in eurasec's {check} check: {type(error).__name__}: {error}")


@dataclass
class Report:
    """The result of validating a package: every finding, in a stable order, and where findings were cut."""

    descriptor: str
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # resource name -> rows read
    truncations: list[Truncation] = field(default_factory=list)  # where a limit left findings out
    dataset: Any = field(default=None, repr=False, compare=False)  # the tables as read, for `build` to reuse
    mentions: Any = field(default=None, repr=False, compare=False)  # model/mentions.MentionArrays, likewise

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def complete(self) -> bool:
        """Whether every finding is listed (no limit cut any)."""
        return not self.truncations

    def sorted(self) -> list[Finding]:
        return sorted(self.findings, key=Finding.sort_key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "descriptor": self.descriptor,
            "valid": self.valid,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "tables": dict(self.tables),
            "findings": [f.to_dict() for f in self.sorted()],
            "complete": self.complete,
            "truncated": [t.to_dict() for t in sorted(self.truncations, key=Truncation.sort_key)],
        }

"""Findings: what a check says about the data. Checks return them; they never print."""

from __future__ import annotations

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


@dataclass
class Report:
    """The result of validating a package: every finding, in a stable order."""

    descriptor: str
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # resource name -> rows read
    dataset: Any = field(default=None, repr=False, compare=False)  # the tables as read, for `build` to reuse

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def valid(self) -> bool:
        return not self.errors

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
        }

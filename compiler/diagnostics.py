"""Diagnostics are data: every stage produces them, only formats/ turns them into text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem at one place. Line and column are 1-based; 1:1 means the whole file."""

    file: str
    line: int
    column: int
    path: str
    code: str
    severity: Severity
    message: str

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.code, self.message)

    def as_error(self) -> Diagnostic:
        return replace(self, severity="error")


def finalize(diagnostics: Iterable[Diagnostic], *, strict: bool) -> list[Diagnostic]:
    """Sort by file and position, drop exact repeats, and apply `--strict`."""
    unique = {d: None for d in diagnostics}
    result = [d.as_error() if strict and d.severity == "warning" else d for d in unique]
    result.sort(key=Diagnostic.sort_key)
    return result


def count(diagnostics: Iterable[Diagnostic]) -> tuple[int, int]:
    """(errors, warnings)."""
    errors = warnings = 0
    for d in diagnostics:
        if d.severity == "error":
            errors += 1
        else:
            warnings += 1
    return errors, warnings

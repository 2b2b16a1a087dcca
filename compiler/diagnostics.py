"""Diagnostics are data: every stage produces them, only formats/ turns them into text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Related:
    """Another place a problem involves: which layer wrote a value it judges, or a
    group that a problem in a shared file breaks (provenance, for `--format sarif`)."""

    file: str
    line: int
    column: int
    message: str


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
    related: tuple[Related, ...] = ()

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.code, self.message)

    def as_error(self) -> Diagnostic:
        return replace(self, severity="error")


Row = tuple[Any, ...]


def to_row(d: Diagnostic) -> Row:
    """Plain tuples for marshal (the cache and the seal store diagnostics this way)."""
    related = tuple((r.file, r.line, r.column, r.message) for r in d.related)
    return (d.file, d.line, d.column, d.path, d.code, d.severity, d.message, related)


def from_row(row: Row) -> Diagnostic:
    """The Diagnostic `to_row` stored."""
    related = tuple(Related(*r) for r in row[7]) if len(row) > 7 else ()
    file, line, column, path, code, severity, message = row[:7]
    return Diagnostic(file, line, column, path, code, severity, message, related)


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

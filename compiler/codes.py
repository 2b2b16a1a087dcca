"""Every code a diagnostic can carry, with what it means and how to fix it.

Nothing here is written twice: a rule describes itself in its module's docstring
(first line: what it finds; the rest: why, and a group that passes and one that
fails), and each stage that reports other codes (loader, layers, model, build,
`--online`) keeps a `CODES` table next to the code that reports them.
`--format sarif` lists them as its rules; tests/test_sarif.py checks that every
code the code base can report has an entry, and every entry is still reported.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from compiler.diagnostics import Severity


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """One code as tools show it: a one-line summary, then help on fixing it."""

    code: str
    summary: str
    help: str
    severity: Severity  # what it is reported as without --strict


def _stages() -> list[ModuleType]:
    """The modules with a `CODES` table (imported here, on first use, not by every run)."""
    from compiler.authoring import online, owners
    from compiler.load import files, layer_files, layers, node_properties, overlays, syntax, tree
    from compiler.load import located as load
    from compiler.model import from_document, messages, types
    from compiler.pipeline import build

    loader = [files, load, syntax, node_properties, tree, layer_files, layers, overlays]
    return [*loader, from_document, messages, types, build, online, owners]


def _from_docstring(doc: str) -> tuple[str, str]:
    """(first paragraph as one line, the rest) of a rule module's docstring."""
    text = inspect.cleandoc(doc)
    first, _, rest = text.partition("\n\n")
    return " ".join(first.split()), rest.strip()


@cache
def catalogue() -> dict[str, CodeInfo]:
    """Every known code, sorted by code."""
    from compiler.rules import RULES

    found: dict[str, CodeInfo] = {}
    for stage in _stages():
        table: dict[str, tuple[str, str]] = stage.CODES
        for code, (summary, help_text) in table.items():
            found[code] = CodeInfo(code, summary, help_text, "error")
    for rule in RULES:
        summary, help_text = _from_docstring(getattr(rule, "__doc__", None) or rule.CODE)
        found[rule.CODE] = CodeInfo(rule.CODE, summary, help_text, rule.SEVERITY)
    return dict(sorted(found.items()))

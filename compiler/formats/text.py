"""`file:line:col: severity: path: message [code]`, the shape editors and terminals link."""

from __future__ import annotations

from compiler.diagnostics import Diagnostic, count
from compiler.formats.terminal import printable


def format_diagnostic(d: Diagnostic) -> str:
    """One line, whatever the file name, key or quoted value holds (see formats/terminal.py)."""
    where = f"{d.path}: " if d.path else ""
    return printable(f"{d.file}:{d.line}:{d.column}: {d.severity}: {where}{d.message} [{d.code}]")


def summary(diagnostics: list[Diagnostic]) -> str:
    errors, warnings = count(diagnostics)

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"


def format_diagnostics(diagnostics: list[Diagnostic]) -> str:
    lines = [format_diagnostic(d) for d in diagnostics]
    if diagnostics:
        lines.append(summary(diagnostics))
    return "\n".join(lines) + ("\n" if lines else "")

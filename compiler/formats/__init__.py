"""Output formats: each turns a list of diagnostics into text and does nothing else."""

from __future__ import annotations

from collections.abc import Callable

from compiler.diagnostics import Diagnostic
from compiler.formats import github, json_format, sarif, text

Formatter = Callable[[list[Diagnostic]], str]

FORMATS: dict[str, Formatter] = {
    "text": text.format_diagnostics,
    "json": json_format.format_diagnostics,
    "github": github.format_diagnostics,
    "sarif": sarif.format_diagnostics,
}

"""GitHub Actions workflow commands, so problems show up on the PR's changed lines.

Escaping follows the runner's rules: `%`, CR and LF in the message; also `:`
and `,` in properties.
"""

from __future__ import annotations

from compiler.diagnostics import Diagnostic


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def format_diagnostic(d: Diagnostic) -> str:
    props = f"file={_property(d.file)},line={d.line},col={d.column},title={_property(d.code)}"
    where = f"{d.path}: " if d.path else ""
    return f"::{d.severity} {props}::{_data(where + d.message)}"


def format_diagnostics(diagnostics: list[Diagnostic]) -> str:
    return "".join(format_diagnostic(d) + "\n" for d in diagnostics)

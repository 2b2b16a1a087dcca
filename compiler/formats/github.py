"""GitHub Actions workflow commands, so problems show up on the PR's changed lines.

Control and line-breaking characters from admin values are first shown as
escapes (compiler.terminal), so a value can never end the command and start
another, and the log shows `\n` where a value held a line break. What is left
follows the runner's rules: `%` escaped in the message; also `:` and `,` in
properties.
"""

from __future__ import annotations

from compiler.diagnostics import Diagnostic
from compiler.terminal import printable


def _data(text: str) -> str:
    return printable(text).replace("%", "%25")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def format_diagnostic(d: Diagnostic) -> str:
    props = f"file={_property(d.file)},line={d.line},col={d.column},title={_property(d.code)}"
    where = f"{d.path}: " if d.path else ""
    return f"::{d.severity} {props}::{_data(where + d.message)}"


def format_diagnostics(diagnostics: list[Diagnostic]) -> str:
    return "".join(format_diagnostic(d) + "\n" for d in diagnostics)

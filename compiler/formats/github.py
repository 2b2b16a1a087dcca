"""GitHub Actions workflow commands, so problems show up on the PR's changed lines.

Control and line-breaking characters from admin values are first shown as
escapes (compiler.formats.terminal), so a value can never end the command and start
another, and the log shows `\n` where a value held a line break. What is left
follows the runner's rules: `%` escaped in the message; also `:` and `,` in
properties.
"""

from __future__ import annotations

import os
import posixpath

from compiler.diagnostics import Diagnostic
from compiler.formats.terminal import printable


def _data(text: str) -> str:
    return printable(text).replace("%", "%25")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def workspace_prefix() -> str:
    """Where pops runs, from the root of the checkout: `config/`, or '' at (or outside) it.

    GitHub places an annotation by its path from the repository's root, while pops
    names files from where it runs: in a subfolder of the checkout ($GITHUB_WORKSPACE,
    set by the runner) the subfolder goes in front.
    """
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return ""
    try:
        inside = os.path.relpath(os.path.realpath(os.getcwd()), os.path.realpath(workspace))
    except (OSError, ValueError):  # no current folder, or another drive
        return ""
    if inside == "." or inside == os.pardir or inside.startswith(os.pardir + os.sep):
        return ""
    return inside.replace(os.sep, "/") + "/"


def format_diagnostic(d: Diagnostic, prefix: str = "") -> str:
    """One workflow command; `prefix` (see workspace_prefix) goes before a relative file name."""
    file = d.file
    if prefix and not posixpath.isabs(file):
        file = posixpath.normpath(prefix + file)
    props = f"file={_property(file)},line={d.line},col={d.column},title={_property(d.code)}"
    where = f"{d.path}: " if d.path else ""
    return f"::{d.severity} {props}::{_data(where + d.message)}"


def format_diagnostics(diagnostics: list[Diagnostic]) -> str:
    prefix = workspace_prefix() if diagnostics else ""
    return "".join(format_diagnostic(d, prefix) + "\n" for d in diagnostics)

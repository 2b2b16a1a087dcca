"""Bytes -> a plain tree plus the line and column of every key and value.

One loader serves `validate`, `build` and every later command, so a file can
never mean one thing to the validator and another to the renderer. libyaml
(PyYAML's C parser) composes the node graph, which is the fast part; this
module then walks the nodes itself instead of using PyYAML's constructor, so it
can be strict where YAML 1.1 is ambiguous:

* plain scalars resolve by the YAML 1.2 core schema, except that booleans are
  lowercase `true`/`false` only: `True`, `FALSE`, `yes`/`no`/`on`/`off` stay
  strings (the model then says "write true or false" where a boolean is
  expected), dates stay strings, `0123` is not octal;
* duplicate keys, anchors and aliases, tags, tabs, bad UTF-8, empty files,
  several documents, a non-mapping top level and files over 1 MiB are
  diagnostics that name the cause;
* a key whose value was swallowed by a `#` comment (`primary: #1976d2`) is
  reported, because YAML silently reads it as "no value".
"""

from __future__ import annotations

from pathlib import Path

import yaml

from compiler.diagnostics import Diagnostic
from compiler.load.document import Document, Path_, dotted, yaml_error
from compiler.load.files import MAX_BYTES, FileProblem, check, read_bounded
from compiler.load.node_properties import refused_properties
from compiler.load.parser import compose
from compiler.load.syntax import lost_in_flow, quote_lost_colors, syntax_error
from compiler.load.tree import Problem, Walker

__all__ = ["MAX_BYTES", "Document", "Path_", "dotted", "load_bytes", "load_file", "read_file"]


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return line, column


def load_file(path: Path, display: str | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """Read and load one file; every failure is a diagnostic, never an exception."""
    name = display if display is not None else str(path)
    problem = check(path)  # (a device is refused before it is opened)
    if problem is not None:
        return None, [problem.diagnostic(name)]
    data, problems = read_file(path, name)
    if data is None:
        return None, problems
    return load_bytes(data, name)


def read_file(path: Path, name: str) -> tuple[bytes | None, list[Diagnostic]]:
    """A group file's bytes, or None and why not (not a regular file, unreadable, over 1 MiB).

    One open (O_NOFOLLOW, O_NONBLOCK), fstat and bounded read: see compiler/load/files.py.
    """
    try:
        size, data = read_bounded(path, MAX_BYTES)
    except FileProblem as problem:
        return None, [problem.diagnostic(name)]
    except OSError as exc:
        return None, [
            yaml_error(name, 1, 1, "file-unreadable", f"cannot read file: {exc.strerror}")
        ]
    if data is None:
        message = f"file is {size} bytes; a group file may be at most {MAX_BYTES} bytes (1 MiB)"
        return None, [yaml_error(name, 1, 1, "file-too-large", message)]
    return data, []


def load_bytes(data: bytes, file: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one group document from bytes."""
    if len(data) > MAX_BYTES:
        return None, [yaml_error(file, 1, 1, "file-too-large", "a group file may be at most 1 MiB")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_col(data, exc.start)
        message = f"byte 0x{data[exc.start]:02x} is not valid UTF-8; save the file as UTF-8"
        return None, [yaml_error(file, line, column, "yaml-encoding", message)]
    if text.startswith("\ufeff"):
        text = text[1:]
    found = refused_properties(text, file)
    if found:
        return None, found
    quoted: dict[tuple[int, int], str] = {}
    try:
        root = compose(text)
    except yaml.YAMLError as exc:
        recovered = quote_lost_colors(text)
        if recovered is None:
            return None, [syntax_error(exc, text, file)]
        text, quoted = recovered
        root = compose(text)
    not_a_group = _not_a_group(root, file)
    if not_a_group is not None:
        return None, [not_a_group]
    assert isinstance(root, yaml.MappingNode)
    walker = Walker(file, text)
    try:
        data_tree = walker.mapping(root, ())
    except Problem as problem:
        return None, [*walker.diagnostics, problem.diagnostic]
    if walker.fatal:
        return None, walker.diagnostics
    if quoted:
        walker.diagnostics.extend(lost_in_flow(file, walker.values, quoted))
    doc = Document(file, data_tree, walker.values, walker.keys, walker.raw, walker.nulls)
    return doc, walker.diagnostics


def _not_a_group(root: yaml.Node | None, file: str) -> Diagnostic | None:
    """An empty file, or a top level that is not a mapping of keys."""
    if root is None or (isinstance(root, yaml.ScalarNode) and not root.style and root.value == ""):
        return yaml_error(file, 1, 1, "yaml-empty", "file is empty; a group needs at least `name:`")
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        line, column = root.start_mark.line + 1, root.start_mark.column + 1
        return yaml_error(
            file,
            line,
            column,
            "yaml-not-mapping",
            f"the top level is {kind}; a group file must be a mapping of keys "
            "such as `name:` and `theme:`",
        )
    return None


# What each code this module reports means and how to fix it (for `--format sarif`'s
# rule list and `compiler.codes`): summary, then help. tests/test_sarif.py checks the
# table against the codes written above, both ways; the other loader codes are in
# parser-side modules: syntax.py, node_properties.py, tree.py.
CODES: dict[str, tuple[str, str]] = {
    "file-unreadable": (
        "The file cannot be read.",
        "Check that the file exists and that its permissions let pops read it.",
    ),
    "file-too-large": (
        "The file is larger than 1 MiB.",
        "A group file holds one practice's settings; split out what does not belong there.",
    ),
    "yaml-encoding": (
        "The file is not UTF-8 text.",
        "Save the file as UTF-8 (without a byte order mark is best).",
    ),
    "yaml-empty": (
        "The file is empty.",
        "A group needs at least `name:`, e.g. `name: Sunrise Pediatrics`.",
    ),
    "yaml-not-mapping": (
        "The file is not a mapping of keys to values.",
        "Write `key: value` lines at the top level, starting with `name:`.",
    ),
}

"""Bytes -> a plain tree plus the line and column of every key and value.

One loader serves `validate`, `build` and every later command, so a file can
never mean one thing to the validator and another to the renderer. libyaml
(PyYAML's C parser) composes the node graph, which is the fast part; this
module then walks the nodes itself instead of using PyYAML's constructor, so it
can be strict where YAML 1.1 is ambiguous:

* plain scalars resolve by the YAML 1.2 core schema: `yes`/`no`/`on`/`off`
  stay strings (the model then says "write true or false" where a boolean is
  expected), dates stay strings, `0123` is not octal;
* duplicate keys, anchors and aliases, tags, tabs, bad UTF-8, empty files,
  several documents, a non-mapping top level and files over 1 MiB are
  diagnostics that name the cause;
* a key whose value was swallowed by a `#` comment (`primary: #1976d2`) is
  reported, because YAML silently reads it as "no value".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler.diagnostics import Diagnostic

try:  # pragma: no cover - which branch runs depends on how PyYAML was built
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """libyaml's composer without PyYAML's YAML 1.1 tag resolution.

    The walker below resolves plain scalars itself (YAML 1.2 core schema), so
    the resolver's regex pass over every scalar would be wasted work.
    Explicit tags never reach `resolve`, so they are still seen and refused.
    """

    def resolve(self, kind: type, value: object, implicit: object) -> str:
        return "tag:yaml.org,2002:str"


MAX_BYTES = 1024 * 1024

Path_ = tuple[str | int, ...]

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_SPECIAL_FLOATS = {
    ".inf": float("inf"),
    ".Inf": float("inf"),
    ".INF": float("inf"),
    "+.inf": float("inf"),
    "+.Inf": float("inf"),
    "+.INF": float("inf"),
    "-.inf": float("-inf"),
    "-.Inf": float("-inf"),
    "-.INF": float("-inf"),
    ".nan": float("nan"),
    ".NaN": float("nan"),
    ".NAN": float("nan"),
}
# First characters a non-string plain scalar can start with; anything else is a string.
_MAYBE_NOT_STRING = frozenset("0123456789+-.~nNtTfF")
_LOST_COLOR = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
_STANDARD_TAG = "tag:yaml.org,2002:"
# YAML 1.1 read these as booleans; here they are strings, remembered for the error message.
_YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})


@dataclass(slots=True)
class Document:
    """A loaded group file: plain data plus where each piece was written.

    `values[path]` is the (line, column) of the value at `path`; `keys[path]`
    the position of the key that introduced it. `raw[path]` keeps the source
    text of plain scalars that did not become strings, and of YAML 1.1
    booleans, so messages can quote what the admin typed.
    """

    file: str
    data: dict[str, Any]
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    raw: dict[Path_, str] = field(default_factory=dict)
    nulls: set[Path_] = field(default_factory=set)

    def position(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Where `path` was written, or its nearest written ancestor, or 1:1."""
        probe = tuple(path)
        while probe:
            table = self.keys if key else self.values
            if probe in table:
                return table[probe]
            if probe in self.keys:
                return self.keys[probe]
            probe = probe[:-1]
            key = False
        return (1, 1)

    def written(self, path: Path_) -> bool:
        """True when the admin wrote this key in the file (even as `key:`)."""
        return tuple(path) in self.keys


def dotted(path: Path_) -> str:
    """`("theme", "colors", "primary")` -> `theme.colors.primary`; list items as `[n]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else part
    return out


class _Problem(Exception):
    """Raised inside the walk for a problem that stops reading this file."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _error(
    file: str, line: int, column: int, code: str, message: str, path: str = ""
) -> Diagnostic:
    return Diagnostic(file, line, column, path, code, "error", message)


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return line, column


def load_file(path: Path, display: str | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """Read and load one file; every failure is a diagnostic, never an exception."""
    name = display if display is not None else str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [
                _error(
                    name,
                    1,
                    1,
                    "file-too-large",
                    f"file is {size} bytes; a group file may be at most {MAX_BYTES} bytes (1 MiB)",
                )
            ]
        data = path.read_bytes()
    except OSError as exc:
        return None, [_error(name, 1, 1, "file-unreadable", f"cannot read file: {exc.strerror}")]
    return load_bytes(data, name)


def load_bytes(data: bytes, file: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one group document from bytes."""
    if len(data) > MAX_BYTES:
        return None, [_error(file, 1, 1, "file-too-large", "a group file may be at most 1 MiB")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_col(data, exc.start)
        return None, [
            _error(
                file,
                line,
                column,
                "yaml-encoding",
                f"byte 0x{data[exc.start]:02x} is not valid UTF-8; save the file as UTF-8",
            )
        ]
    if text.startswith("\ufeff"):
        text = text[1:]
    if "&" in text or "*" in text:
        found = list(_anchors(text, file))
        if found:
            return None, found
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        return None, [_syntax(exc, text, file)]
    if root is None:
        return None, [
            _error(file, 1, 1, "yaml-empty", "file is empty; a group needs at least `name:`")
        ]
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        line, column = root.start_mark.line + 1, root.start_mark.column + 1
        return None, [
            _error(
                file,
                line,
                column,
                "yaml-not-mapping",
                f"the top level is {kind}; a group file must be a mapping of keys "
                "such as `name:` and `theme:`",
            )
        ]
    walker = _Walker(file, text)
    try:
        data_tree = walker.mapping(root, ())
    except _Problem as problem:
        return None, [*walker.diagnostics, problem.diagnostic]
    doc = Document(file, data_tree, walker.values, walker.keys, walker.raw, walker.nulls)
    return doc, walker.diagnostics


def _anchors(text: str, file: str) -> Iterator[Diagnostic]:
    """Anchors and aliases are refused outright: they are how alias bombs work."""
    try:
        for event in yaml.parse(text, Loader=_Loader):
            mark = event.start_mark
            if isinstance(event, yaml.AliasEvent):
                yield _error(
                    file,
                    mark.line + 1,
                    mark.column + 1,
                    "yaml-alias",
                    f"alias `*{event.anchor}` is not allowed; write the value out in full",
                )
            elif getattr(event, "anchor", None):
                yield _error(
                    file,
                    mark.line + 1,
                    mark.column + 1,
                    "yaml-alias",
                    f"anchor `&{event.anchor}` is not allowed; group files do not use "
                    "anchors or aliases",
                )
    except yaml.YAMLError:
        return  # the compose step reports the syntax error with its position


def _syntax(exc: yaml.YAMLError, text: str, file: str) -> Diagnostic:
    if isinstance(exc, yaml.reader.ReaderError):
        position = exc.position
        before = text[:position]
        line = before.count("\n") + 1
        column = position - (before.rfind("\n") + 1) + 1
        char = ord(exc.character) if isinstance(exc.character, str) else exc.character
        return _error(
            file,
            line,
            column,
            "yaml-control-character",
            f"control character U+{char:04X} is not allowed; delete it",
        )
    mark = getattr(exc, "problem_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        lines = text.split("\n")
        row = lines[mark.line] if mark.line < len(lines) else ""
        if "\t" in row[: mark.column + 1]:
            tab = row.index("\t") + 1
            return _error(
                file,
                line,
                tab,
                "yaml-tab",
                "tab character in indentation; YAML indents with spaces only",
            )
    if "expected a single document" in str(exc):
        return _error(
            file,
            line,
            column,
            "yaml-multiple-documents",
            "a second YAML document starts here (`---`); a group file holds exactly one "
            "document: move the other group to its own file",
        )
    context = getattr(exc, "context", None)
    detail = f"{context}, {problem}" if context else problem
    return _error(file, line, column, "yaml-syntax", f"YAML syntax error: {detail}")


class _Walker:
    """Turns composed nodes into plain data, recording positions as it goes."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self._lines: list[str] | None = None
        self.values: dict[Path_, tuple[int, int]] = {}
        self.keys: dict[Path_, tuple[int, int]] = {}
        self.raw: dict[Path_, str] = {}
        self.nulls: set[Path_] = set()
        self.diagnostics: list[Diagnostic] = []

    def node(self, node: yaml.Node, path: Path_) -> Any:
        mark = node.start_mark
        self.values[path] = (mark.line + 1, mark.column + 1)
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            if not tag.startswith(_STANDARD_TAG) and tag != "!":
                raise _Problem(
                    _error(
                        self.file,
                        mark.line + 1,
                        mark.column + 1,
                        "yaml-tag",
                        f"tag `{tag}` is not supported; remove it",
                        dotted(path),
                    )
                )
            if node.style:  # quoted or block scalar: always a string
                return node.value
            return self.plain(node.value, path)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.node(item, (*path, i)) for i, item in enumerate(node.value)]
        raise AssertionError(f"unexpected node {node!r}")  # pragma: no cover

    def plain(self, value: str, path: Path_) -> Any:
        if not value:
            return None
        if value[0] in _MAYBE_NOT_STRING:
            if value in _NULLS:
                return None
            if value in _TRUE:
                return True
            if value in _FALSE:
                return False
            resolved: Any = None
            if _INT.fullmatch(value):
                resolved = int(value)
            elif _OCT.fullmatch(value):
                resolved = int(value[2:], 8)
            elif _HEX.fullmatch(value):
                resolved = int(value[2:], 16)
            elif _FLOAT.fullmatch(value):
                resolved = float(value)
            elif value in _SPECIAL_FLOATS:
                resolved = _SPECIAL_FLOATS[value]
            if resolved is not None:
                self.raw[path] = value
                return resolved
        if value.lower() in _YAML11_BOOLEANS:
            self.raw[path] = value
        return value

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            kmark = key_node.start_mark
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Problem(
                    _error(
                        self.file,
                        kmark.line + 1,
                        kmark.column + 1,
                        "yaml-complex-key",
                        "a key must be a plain name, not a list or mapping",
                        dotted(path),
                    )
                )
            key = key_node.value
            child = (*path, key)
            if key == "<<" and not key_node.style:
                raise _Problem(
                    _error(
                        self.file,
                        kmark.line + 1,
                        kmark.column + 1,
                        "yaml-alias",
                        "merge keys (`<<`) are not allowed; write the keys out in full",
                        dotted(path),
                    )
                )
            if key in seen:
                self.diagnostics.append(
                    _error(
                        self.file,
                        kmark.line + 1,
                        kmark.column + 1,
                        "yaml-duplicate-key",
                        f"duplicate key `{key}`: first set on line {seen[key]}, again on line "
                        f"{kmark.line + 1}; keep one of them",
                        dotted(child),
                    )
                )
                continue
            seen[key] = kmark.line + 1
            self.keys[child] = (kmark.line + 1, kmark.column + 1)
            value = self.node(value_node, child)
            if value is None:
                if isinstance(value_node, yaml.ScalarNode) and not value_node.style:
                    self.lost_to_comment(key_node, child)
                self.nulls.add(child)
                continue  # `key:` and `key: ~` mean "use the default"
            out[key] = value
        return out

    def lost_to_comment(self, key_node: yaml.Node, path: Path_) -> None:
        """`primary: #1976d2` parses as an empty value followed by a comment."""
        if self._lines is None:
            self._lines = self.text.split("\n")
        end = key_node.end_mark
        row = self._lines[end.line] if end.line < len(self._lines) else ""
        rest = row[end.column :].lstrip()
        if rest.startswith(":"):
            rest = rest[1:].lstrip()
        match = _LOST_COLOR.match(rest)
        if match:
            column = row.index(match.group(0), end.column) + 1
            self.diagnostics.append(
                _error(
                    self.file,
                    end.line + 1,
                    column,
                    "yaml-unquoted-color",
                    f"`{match.group(0)}` is read as a comment because it starts with `#`, "
                    f'so this key has no value; quote it: "{match.group(0)}"',
                    dotted(path),
                )
            )

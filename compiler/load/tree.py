"""Composed YAML nodes -> a plain tree, with the line and column of every key and value.

Plain scalars resolve by the YAML 1.2 core schema, except that booleans are
lowercase `true`/`false` only: `True`, `FALSE`, `yes`/`no`/`on`/`off` stay
strings (remembered, so the model can say "write true or false"), dates stay
strings and `0123` is not octal. Duplicate and complex keys, merge keys, tags
and over-long numbers are reported where they were written.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from compiler.diagnostics import Diagnostic
from compiler.load.document import Path_, dotted, yaml_error
from compiler.load.node_properties import STANDARD_TAG
from compiler.load.syntax import LOST_COLOR, LOST_COLOR_ANY, MAX_DEPTH, lost_color_message, too_deep

# A plain scalar longer than this that reads as a number is refused: no setting takes
# one, and below Python's smallest int-digits limit (640) even in hex, a number can
# always be converted and quoted in a message.
MAX_NUMBER_CHARS = 500

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
# Only lowercase: SPEC section 2 says a boolean is `true` or `false`. `True`, `FALSE` and
# the like (YAML 1.2 core booleans) stay strings, remembered like `yes` for the message.
_TRUE = frozenset({"true"})
_FALSE = frozenset({"false"})
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
# YAML 1.1 read these as booleans; here they are strings, remembered for the error message.
_YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})
# Any other casing of true or false; these start with t/T/f/F, so they always reach `plain`.
_CASED_BOOLEANS = frozenset({"true", "false"})


class Problem(Exception):
    """Raised inside the walk for a problem that stops reading this file."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


_ScalarNode = yaml.ScalarNode
_MappingNode = yaml.MappingNode
_SequenceNode = yaml.SequenceNode
# What `_Loader.resolve` gives every node: the tag of a scalar written without one.
_IMPLICIT_TAG = "tag:yaml.org,2002:str"
# Plain scalars that are a constant, not text (empty is null too); one lookup instead of
# three set tests.
_UNSET = object()
_CONSTANTS: dict[str, Any] = {
    **dict.fromkeys(_NULLS),
    **dict.fromkeys(_TRUE, True),
    **dict.fromkeys(_FALSE, False),
}
# Lowercasing never shortens a string, so longer plain scalars cannot be one of these.
_YAML11_LONGEST = max(map(len, _YAML11_BOOLEANS))


def _is_number(value: str) -> bool:
    """True when the core schema reads this plain scalar as an int or a float."""
    return any(p.fullmatch(value) for p in (_INT, _OCT, _HEX, _FLOAT))


class Walker:
    """Turns composed nodes into plain data, recording positions as it goes.

    This runs once per node of every group file, so the common case (a mapping
    of plain or quoted scalars) is handled inline in `mapping` with locals,
    and only nested collections and non-text plain scalars take a call.
    """

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self._lines: list[str] | None = None
        self.values: dict[Path_, tuple[int, int]] = {}
        self.keys: dict[Path_, tuple[int, int]] = {}
        self.raw: dict[Path_, str] = {}
        self.nulls: set[Path_] = set()
        self.diagnostics: list[Diagnostic] = []
        self.fatal = False  # a problem was found that leaves the data unusable

    def _bad_tag(self, node: yaml.Node, path: Path_) -> Problem:
        mark = node.start_mark
        return Problem(
            yaml_error(
                self.file,
                mark.line + 1,
                mark.column + 1,
                "yaml-tag",
                f"tag `{node.tag}` is not supported; remove it",
                dotted(path),
            )
        )

    def node(self, node: yaml.Node, path: Path_) -> Any:
        mark = node.start_mark
        self.values[path] = (mark.line + 1, mark.column + 1)
        if isinstance(node, _ScalarNode):
            tag = node.tag
            if tag != _IMPLICIT_TAG and not tag.startswith(STANDARD_TAG) and tag != "!":
                raise self._bad_tag(node, path)
            if node.style:  # quoted or block scalar: always a string
                return node.value
            return self.plain(node.value, path)
        if len(path) > MAX_DEPTH:
            raise Problem(too_deep(self.file, mark.line + 1, mark.column + 1, dotted(path)))
        if isinstance(node, _MappingNode):
            return self.mapping(node, path)
        if isinstance(node, _SequenceNode):
            node_ = self.node
            return [node_(item, (*path, i)) for i, item in enumerate(node.value)]
        raise AssertionError(f"unexpected node {node!r}")  # pragma: no cover

    def plain(self, value: str, path: Path_) -> Any:
        """YAML 1.2 core schema resolution of a plain scalar; None means null."""
        if not value:
            return None
        if value[0] in _MAYBE_NOT_STRING:
            constant = _CONSTANTS.get(value, _UNSET)
            if constant is not _UNSET:
                return constant
            resolved: Any = None
            if len(value) > MAX_NUMBER_CHARS and _is_number(value):
                return self.too_long(value, path)
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
            if len(value) <= 5 and value.lower() in _CASED_BOOLEANS:
                self.raw[path] = value
                return value
        if len(value) <= _YAML11_LONGEST and value.lower() in _YAML11_BOOLEANS:
            self.raw[path] = value
        return value

    def too_long(self, value: str, path: Path_) -> str:
        """A number too long for any setting: an error, and the file is not loaded.

        Python refuses to convert (or print) integers past a few thousand digits, so
        without this limit such a value would stop the run instead of being reported.
        """
        line, column = self.values[path]
        self.diagnostics.append(
            yaml_error(
                self.file,
                line,
                column,
                "yaml-number-too-long",
                f"this number is {len(value)} characters long; no setting takes a number "
                f"longer than {MAX_NUMBER_CHARS} characters: if it is text, put it in quotes",
                dotted(path),
            )
        )
        self.fatal = True
        return value

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        keys = self.keys
        values = self.values
        nulls = self.nulls
        for key_node, value_node in node.value:
            kmark = key_node.start_mark
            if key_node.__class__ is not _ScalarNode or (
                key_node.value == "<<" and not key_node.style
            ):
                raise self._bad_key(key_node, path)
            key = key_node.value
            child = (*path, key)
            position = (kmark.line + 1, kmark.column + 1)
            first = keys.setdefault(child, position)
            if first is not position:  # each mapping has its own path: a repeated key
                self._duplicate(key, child, first, position)
                continue
            if value_node.__class__ is not _ScalarNode:
                out[key] = self.node(value_node, child)
                continue
            vmark = value_node.start_mark
            values[child] = (vmark.line + 1, vmark.column + 1)
            tag = value_node.tag
            if tag != _IMPLICIT_TAG and not tag.startswith(STANDARD_TAG) and tag != "!":
                raise self._bad_tag(value_node, child)
            value = value_node.value
            if value_node.style:  # quoted or block scalar: always a string
                out[key] = value
                continue
            resolved = _CONSTANTS.get(value, _UNSET)  # true, false, null, ~ and empty
            if resolved is _UNSET:
                if value[0] not in _MAYBE_NOT_STRING and len(value) > _YAML11_LONGEST:
                    out[key] = value  # plain text: the common case
                    continue
                resolved = self.plain(value, child)
            if resolved is None:
                self.lost_to_comment(key_node, child)
                nulls.add(child)
                continue  # `key:` and `key: ~` mean "use the default"
            out[key] = resolved
        return out

    def _bad_key(self, key_node: yaml.Node, path: Path_) -> Problem:
        """A list or mapping as a key, or a merge key (`<<`): the file is not loaded."""
        mark = key_node.start_mark
        if key_node.__class__ is not _ScalarNode:
            code, message = "yaml-complex-key", "a key must be a plain name, not a list or mapping"
        else:
            code = "yaml-alias"
            message = "merge keys (`<<`) are not allowed; write the keys out in full"
        return Problem(
            yaml_error(self.file, mark.line + 1, mark.column + 1, code, message, dotted(path))
        )

    def _duplicate(
        self, key: str, path: Path_, first: tuple[int, int], again: tuple[int, int]
    ) -> None:
        self.diagnostics.append(
            yaml_error(
                self.file,
                again[0],
                again[1],
                "yaml-duplicate-key",
                f"duplicate key `{key}`: first set on line {first[0]}, again on "
                f"line {again[0]}; keep one of them",
                dotted(path),
            )
        )

    def lost_to_comment(self, key_node: yaml.Node, path: Path_) -> None:
        """`primary: #1976d2` parses as an empty value followed by a comment."""
        if self._lines is None:
            self._lines = self.text.split("\n")
        end = key_node.end_mark
        row = self._lines[end.line] if end.line < len(self._lines) else ""
        rest = row[end.column :].lstrip()
        if rest.startswith(":"):
            rest = rest[1:].lstrip()
        pattern = LOST_COLOR_ANY if path[:2] == ("theme", "colors") else LOST_COLOR
        match = pattern.match(rest)
        if match:
            column = row.index(match.group(0), end.column) + 1
            self.diagnostics.append(
                yaml_error(
                    self.file,
                    end.line + 1,
                    column,
                    "yaml-unquoted-color",
                    lost_color_message(match.group(0)),
                    dotted(path),
                )
            )


# What each code this module reports means and how to fix it (see compiler/codes.py).
CODES: dict[str, tuple[str, str]] = {
    "yaml-number-too-long": (
        "A plain number is longer than any setting could need (over 500 characters).",
        "Quote it if it is text; no setting takes a number that long.",
    ),
    "yaml-complex-key": (
        "A key is a list or mapping instead of a plain name.",
        "Write keys as plain names, e.g. `credit_card:`.",
    ),
    "yaml-duplicate-key": (
        "The same key is written twice in one mapping.",
        "Keep one of the two; YAML would silently use the last one.",
    ),
}

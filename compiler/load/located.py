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

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler.diagnostics import Diagnostic
from compiler.load.files import MAX_BYTES, FileProblem, check, read_bounded

try:  # pragma: no cover - which branch runs depends on how PyYAML was built
    # libyaml's parser and composer alone: nodes are all this module asks for, so the
    # constructor and resolver CSafeLoader adds would only be set up per file for nothing.
    from yaml._yaml import CParser as _BaseLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):
    """libyaml's composer without PyYAML's YAML 1.1 tag resolution.

    The walker below resolves plain scalars itself (YAML 1.2 core schema), so
    the resolver's regex pass over every scalar would be wasted work.
    Explicit tags never reach `resolve`, so they are still seen and refused.
    (The composer asks for exactly these three methods, which a resolver would provide.)
    """

    def resolve(self, kind: type, value: object, implicit: object) -> str:
        return "tag:yaml.org,2002:str"

    # The composer calls these around every node, for path resolvers; this loader has
    # none, and no-ops here spare the inherited check (about a tenth of compose time).
    def descend_resolver(self, current_node: object, current_index: object) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


def _compose(text: str) -> yaml.Node | None:
    """yaml.compose(text) with _Loader (which the stubs do not count as a Loader)."""
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _events(text: str) -> Iterator[yaml.Event]:
    """yaml.parse(text) with _Loader."""
    loader = _Loader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if event is not None:
                yield event
    finally:
        loader.dispose()


# A group is at most four levels deep; far deeper nesting is refused before it can
# exhaust Python's recursion limit (libyaml itself stops at 1000 levels).
MAX_DEPTH = 32
# A plain scalar longer than this that reads as a number is refused: no setting takes
# one, and below Python's smallest int-digits limit (640) even in hex, a number can
# always be converted and quoted in a message.
MAX_NUMBER_CHARS = 500

Path_ = tuple[str | int, ...]

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
_LOST_COLOR = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
# Under theme.colors anything glued to the `#` was meant as a colour (`#1976d2ff`, `#12345g`).
_LOST_COLOR_ANY = re.compile(r"#[^\s#,\]}]+")
# A `!` where a YAML tag could start; only then are the events scanned for tags.
_TAG_HINT = re.compile(r"(?:^|[\s\[{,])!", re.MULTILINE)
# A `&` or `*` where an anchor or alias could start: at the start of a token, followed by
# a name. Prose such as "Smith & Jones" or "5 * 3" does not match.
_ALIAS_HINT = re.compile(r"(?:^|[\s\[\]{},:?\"'])[&*][^\s\[\]{},]", re.MULTILINE)
_STANDARD_TAG = "tag:yaml.org,2002:"
# YAML 1.1 read these as booleans; here they are strings, remembered for the error message.
_YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})
# Any other casing of true or false; these start with t/T/f/F, so they always reach `plain`.
_CASED_BOOLEANS = frozenset({"true", "false"})


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
    # For a group merged from several files (defaults, bases, overlays): which
    # file wrote each path. Empty for a single file; see compiler/load/layers.py.
    origins: dict[Path_, str] = field(default_factory=dict)

    def file_at(self, path: Path_) -> str:
        """The file that wrote `path` (or its nearest written ancestor)."""
        if self.origins:
            probe = tuple(path)
            while probe:
                if probe in self.origins:
                    return self.origins[probe]
                probe = probe[:-1]
        return self.file

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
        return None, [_error(name, 1, 1, "file-unreadable", f"cannot read file: {exc.strerror}")]
    if data is None:
        message = f"file is {size} bytes; a group file may be at most {MAX_BYTES} bytes (1 MiB)"
        return None, [_error(name, 1, 1, "file-too-large", message)]
    return data, []


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
    bang = "!" in text
    if (
        # Any `!` keeps the events scanned when `&` or `*` appear, as they always were.
        (("&" in text or "*" in text) and (bang or _ALIAS_HINT.search(text)))
        or (bang and _TAG_HINT.search(text))
    ):
        found = list(_node_properties(text, file))
        if found:
            return None, found
    quoted: dict[tuple[int, int], str] = {}
    try:
        root = _compose(text)
    except yaml.YAMLError as exc:
        recovered = _quote_lost_colors(text)
        if recovered is None:
            return None, [_syntax(exc, text, file)]
        text, quoted = recovered
        root = _compose(text)
    if root is None or (isinstance(root, yaml.ScalarNode) and not root.style and root.value == ""):
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
    if walker.fatal:
        return None, walker.diagnostics
    if quoted:
        walker.diagnostics.extend(_lost_in_flow(file, walker.values, quoted))
    doc = Document(file, data_tree, walker.values, walker.keys, walker.raw, walker.nulls)
    return doc, walker.diagnostics


def _lost_color_message(color: str) -> str:
    return (
        f"`{color}` is read as a comment because it starts with `#`, so this key has no "
        f'value; quote it: "{color}"'
    )


def _quote_lost_colors(text: str) -> tuple[str, dict[tuple[int, int], str]] | None:
    """Recover `colors: {primary: #1976d2}`, where the comment swallows the rest of the line.

    In a flow mapping that is a syntax error far from the cause. Each `#...` right
    after a `:` (outside quotes) is replaced by `~` (no value, as in block style)
    until the text parses; the caller then reports each one where it was written.
    None when that does not make it parse.
    """
    lines = text.split("\n")
    quoted: dict[tuple[int, int], str] = {}
    for _attempt in range(50):
        spot = _first_lost_value(lines, quoted)
        if spot is None:
            return None
        row, column, token = spot
        line = lines[row]
        lines[row] = f"{line[:column]}~{' ' * (len(token) - 1)}{line[column + len(token) :]}"
        quoted[(row + 1, column + 1)] = token
        patched = "\n".join(lines)
        try:
            _compose(patched)
        except yaml.YAMLError:
            continue
        return patched, quoted
    return None


def _first_lost_value(
    lines: list[str], done: dict[tuple[int, int], str]
) -> tuple[int, int, str] | None:
    """(row, column, token) of the first `key: #token` whose `#` starts a comment."""
    for row, line in enumerate(lines):
        quote = ""
        for column, char in enumerate(line):
            if quote:
                if char == quote:
                    quote = ""
                continue
            if char in "\"'" and (column == 0 or line[column - 1] in " \t[{,:-?"):
                quote = char
            elif char == "#" and column and line[column - 1] in " \t":
                before = line[:column].rstrip()
                match = _LOST_COLOR_ANY.match(line, column)
                if before.endswith(":") and match and (row + 1, column) not in done:
                    return row, column, match.group(0)
                break  # a real comment: the rest of the line is not YAML
    return None


def _lost_in_flow(
    file: str, values: dict[Path_, tuple[int, int]], quoted: dict[tuple[int, int], str]
) -> Iterator[Diagnostic]:
    where = {position: path for path, position in values.items() if position in quoted}
    for (line, column), token in sorted(quoted.items()):
        path = where.get((line, column), ())
        colour = path[:2] == ("theme", "colors") or _LOST_COLOR.fullmatch(token)
        yield _error(
            file,
            line,
            column,
            "yaml-unquoted-color" if colour else "yaml-syntax",
            _lost_color_message(token),
            dotted(path),
        )


def _show_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_STANDARD_TAG) if tag.startswith(_STANDARD_TAG) else tag


def _node_properties(text: str, file: str) -> Iterator[Diagnostic]:
    """Anchors, aliases and explicit tags, found from parser events before anything is built.

    Anchors and aliases are refused outright: they are how alias bombs work, and
    the events never expand them. Tags (`!!str`, `!!python/...`, `!custom`) are
    refused too: a group file is plain data. The key path of each node is
    tracked from the events so the diagnostic names it.
    """
    # Each frame: [path, is_mapping, expecting_key, current_key, next_index]
    stack: list[list[Any]] = []
    try:
        for event in _events(text):
            if isinstance(event, yaml.CollectionEndEvent):
                stack.pop()
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            path: Path_ = ()
            if stack:
                frame = stack[-1]
                if frame[1]:
                    if frame[2]:
                        path = frame[0]
                        frame[3] = event.value if isinstance(event, yaml.ScalarEvent) else "?"
                    else:
                        path = (*frame[0], frame[3])
                    frame[2] = not frame[2]
                else:
                    path = (*frame[0], frame[4])
                    frame[4] += 1
            mark = event.start_mark
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            if isinstance(event, yaml.AliasEvent):
                yield _error(
                    file,
                    line,
                    column,
                    "yaml-alias",
                    f"alias `*{event.anchor}` is not allowed; write the value out in full",
                    dotted(path),
                )
                continue
            if event.anchor:
                yield _error(
                    file,
                    line,
                    column,
                    "yaml-alias",
                    f"anchor `&{event.anchor}` is not allowed; group files do not use "
                    "anchors or aliases",
                    dotted(path),
                )
            tag = getattr(event, "tag", None)
            if tag:
                yield _error(
                    file,
                    line,
                    column,
                    "yaml-tag",
                    f"tag `{_show_tag(tag)}` is not allowed in group files; remove it "
                    "(to keep a value as text, quote it instead)",
                    dotted(path),
                )
            if isinstance(event, yaml.MappingStartEvent):
                stack.append([path, True, True, None, 0])
            elif isinstance(event, yaml.SequenceStartEvent):
                stack.append([path, False, False, None, 0])
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
    if "maximum nesting depth" in str(exc):
        return _too_deep(file, line, column, "")
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
    hint = _syntax_hint(exc, text)
    if hint is not None:
        (line, column), message = hint
        return _error(file, line, column, "yaml-syntax", f"YAML syntax error: {message}")
    detail = f"{context}, {problem}" if context else problem
    return _error(file, line, column, "yaml-syntax", f"YAML syntax error: {detail}")


def _syntax_hint(exc: yaml.YAMLError, text: str) -> tuple[tuple[int, int], str] | None:
    """The common syntax errors, said in the admin's terms at the place to fix.

    libyaml reports an unclosed quote or bracket where it gave up (often the end
    of the file); the fix is where the quote or bracket was opened.
    """
    context = getattr(exc, "context", None) or ""
    problem = getattr(exc, "problem", None) or ""
    start = getattr(exc, "context_mark", None)
    mark = getattr(exc, "problem_mark", None)
    if start is not None and context == "while scanning a quoted scalar":
        lines = text.split("\n")
        if start.line < len(lines):
            quote = lines[start.line][start.column : start.column + 1] or '"'
        else:  # libyaml also breaks lines at \r, NEL and U+2028/9; its index still holds
            quote = "'" if text[start.index : start.index + 1] == "'" else '"'
        return (start.line + 1, start.column + 1), (
            f"the quoted value that starts here with {quote} is never closed; add the "
            f"closing {quote} (inside \"...\" write \\\" for a quote, inside '...' write '')"
        )
    if start is not None and context in {
        "while parsing a flow sequence",
        "while parsing a flow mapping",
    }:
        opening, closing = ("[", "]") if "sequence" in context else ("{", "}")
        return (start.line + 1, start.column + 1), (
            f"the `{opening}` that starts here is missing a `,` between items or its closing "
            f"`{closing}`"
        )
    if mark is None:
        return None
    where = (mark.line + 1, mark.column + 1)
    if problem == "found character that cannot start any token":
        row = text.split("\n")[mark.line] if mark.line < len(text.split("\n")) else ""
        char = row[mark.column : mark.column + 1]
        return where, f'a value cannot start with "{char}"; put the value in quotes'
    if problem == "mapping values are not allowed in this context":
        return where, (
            "unexpected `:` here; if the value contains `: `, put it in quotes, otherwise "
            "check the indentation of this line"
        )
    if context == "while parsing a block mapping" and problem == "did not find expected key":
        return where, (
            "this line is not indented like the keys around it; line up keys of the same "
            "section with spaces"
        )
    return None


def _too_deep(file: str, line: int, column: int, path: str) -> Diagnostic:
    return _error(
        file,
        line,
        column,
        "yaml-too-deep",
        f"values are nested more than {MAX_DEPTH} levels deep here; a group file needs at "
        "most four levels (e.g. authentication.mfa.enabled): remove the extra brackets "
        "or indentation",
        path,
    )


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


class _Walker:
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

    def _bad_tag(self, node: yaml.Node, path: Path_) -> _Problem:
        mark = node.start_mark
        return _Problem(
            _error(
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
            if tag != _IMPLICIT_TAG and not tag.startswith(_STANDARD_TAG) and tag != "!":
                raise self._bad_tag(node, path)
            if node.style:  # quoted or block scalar: always a string
                return node.value
            return self.plain(node.value, path)
        if len(path) > MAX_DEPTH:
            raise _Problem(_too_deep(self.file, mark.line + 1, mark.column + 1, dotted(path)))
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
            _error(
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
            if key_node.__class__ is not _ScalarNode:
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
            child = (*path, key)
            position = (kmark.line + 1, kmark.column + 1)
            first = keys.setdefault(child, position)
            if first is not position:  # each mapping has its own path: a repeated key
                self.diagnostics.append(
                    _error(
                        self.file,
                        position[0],
                        position[1],
                        "yaml-duplicate-key",
                        f"duplicate key `{key}`: first set on line {first[0]}, again on "
                        f"line {position[0]}; keep one of them",
                        dotted(child),
                    )
                )
                continue
            if value_node.__class__ is not _ScalarNode:
                out[key] = self.node(value_node, child)
                continue
            vmark = value_node.start_mark
            values[child] = (vmark.line + 1, vmark.column + 1)
            tag = value_node.tag
            if tag != _IMPLICIT_TAG and not tag.startswith(_STANDARD_TAG) and tag != "!":
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

    def lost_to_comment(self, key_node: yaml.Node, path: Path_) -> None:
        """`primary: #1976d2` parses as an empty value followed by a comment."""
        if self._lines is None:
            self._lines = self.text.split("\n")
        end = key_node.end_mark
        row = self._lines[end.line] if end.line < len(self._lines) else ""
        rest = row[end.column :].lstrip()
        if rest.startswith(":"):
            rest = rest[1:].lstrip()
        pattern = _LOST_COLOR_ANY if path[:2] == ("theme", "colors") else _LOST_COLOR
        match = pattern.match(rest)
        if match:
            column = row.index(match.group(0), end.column) + 1
            self.diagnostics.append(
                _error(
                    self.file,
                    end.line + 1,
                    column,
                    "yaml-unquoted-color",
                    _lost_color_message(match.group(0)),
                    dotted(path),
                )
            )


# What each code this module reports means and how to fix it (for `--format sarif`'s
# rule list and `compiler.codes`): summary, then help. tests/test_sarif.py checks the
# table against the codes written above, both ways.
CODES: dict[str, tuple[str, str]] = {
    "yaml-number-too-long": (
        "A plain number is longer than any setting could need (over 500 characters).",
        "Quote it if it is text; no setting takes a number that long.",
    ),
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
    "yaml-syntax": (
        "The file is not valid YAML.",
        "Fix the syntax at the reported place; quoting a value often helps.",
    ),
    "yaml-unquoted-color": (
        "A colour is written without quotes, so YAML reads `#` as a comment.",
        'Quote the colour: `primary: "#1976d2"`.',
    ),
    "yaml-alias": (
        "Anchors, aliases and merge keys (`&`, `*`, `<<`) are not allowed.",
        "Write each value out in full; shared settings belong in `groups/_defaults.yaml` "
        "or a base.",
    ),
    "yaml-tag": (
        "YAML tags (`!!str`, `!custom`) are not allowed.",
        "Remove the tag; to keep a value as text, quote it.",
    ),
    "yaml-control-character": (
        "The file contains a control character.",
        "Delete the character; it is invisible in most editors.",
    ),
    "yaml-tab": (
        "A tab character is used for indentation.",
        "YAML indents with spaces only; replace the tab with spaces.",
    ),
    "yaml-multiple-documents": (
        "The file holds more than one YAML document (`---`).",
        "A group file holds exactly one document: move the other group to its own file.",
    ),
    "yaml-too-deep": (
        "Values are nested deeper than a group file ever needs.",
        "Remove the extra brackets or indentation; the deepest key has four levels "
        "(e.g. authentication.mfa.enabled).",
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

"""`pops fmt`: the model's key order and 2-space indentation, every comment kept with its key."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from compiler.authoring.keys import fields_of, model_at
from compiler.authoring.yaml_text import (
    BLOCK_HEADER,
    INDENT,
    EditError,
    KeyPath,
    after_colon,
    compose,
    is_block,
    is_block_mapping,
    is_comment,
    is_empty,
    last_line,
)
from compiler.load.located import Document, load_bytes


@dataclass(slots=True)
class _Entry:
    key: str
    leading: list[str]
    lines: list[str]  # the key line and the value's own lines, re-indented
    child: _Block | None = None


@dataclass(slots=True)
class _Block:
    entries: list[_Entry]
    trailing: list[str]
    end: int


def _reindent(line: str, old: int, new: int) -> str:
    """Move a line from indentation `old` to `new`.

    A whitespace-only line keeps what lies beyond `old` (inside a literal block
    those spaces are text); shorter ones become empty.
    """
    if not line.strip():
        return " " * new + line[old:] if len(line) > old else ""
    spaces = len(line) - len(line.lstrip(" "))
    if spaces < old:
        return " " * max(new + spaces - old, 0) + line.lstrip(" ")
    return " " * new + line[old:]


class _Formatter:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.root = compose(text)

    def block(self, node: MappingNode, start: int, stop: int, path: KeyPath) -> _Block:
        entries = []
        position = start
        column = int(node.value[0][0].start_mark.column)
        items = list(node.value)
        for index, (key, value) in enumerate(items):
            key_line = int(key.start_mark.line)
            leading = self.lines[position:key_line]
            next_stop = int(items[index + 1][0].start_mark.line) if index + 1 < len(items) else stop
            entry = self.entry(key, value, path, leading, next_stop)
            entries.append(entry)
            position = (entry.child.end if entry.child else last_line(key, value, self.lines)) + 1
        region = self.lines[position:stop]
        owned = [
            i
            for i, line in enumerate(region)
            if is_comment(line) and len(line) - len(line.lstrip()) >= column
        ]
        cut = owned[-1] + 1 if owned else 0
        return _Block(entries, region[:cut], position + cut - 1)

    def entry(
        self, key: ScalarNode, value: Node, path: KeyPath, leading: list[str], stop: int
    ) -> _Entry:
        lines = self.lines
        key_line, key_col = int(key.start_mark.line), int(key.start_mark.column)
        key_text = lines[key_line][key_col : int(key.end_mark.column)]
        colon = after_colon(lines[key_line], int(key.end_mark.column))
        entry = _Entry(str(key.value), leading, [])
        if is_block_mapping(value):
            entry.lines = [f"{key_text}:" + lines[key_line][colon:].rstrip()]
            entry.child = self.block(value, key_line + 1, stop, (*path, str(key.value)))
            return entry
        last = last_line(key, value, lines)
        if is_empty(value):
            entry.lines = [f"{key_text}:" + lines[key_line][colon:].rstrip()]
            return entry
        start_line, start_col = int(value.start_mark.line), int(value.start_mark.column)
        if start_line == key_line:
            first = f"{key_text}: " + lines[key_line][start_col:].rstrip()
        else:
            first = f"{key_text}:" + lines[key_line][colon:].rstrip()
        body = lines[key_line + 1 : last + 1]
        if is_block(value) and start_line == key_line:
            header = BLOCK_HEADER.match(lines[key_line], start_col)
            assert header is not None
            explicit = re.search(r"[0-9]", header.group())
            if explicit:  # `|2`: content sits that far in from the key, before and after
                old, new = key_col + int(explicit.group()), int(explicit.group())
            else:  # the first non-empty line sets the content's indentation
                content = next((row for row in body if row.strip()), " " * (key_col + INDENT))
                old, new = len(content) - len(content.lstrip(" ")), INDENT
            entry.lines = [first, *(_reindent(row, old, new) for row in body)]
        else:
            entry.lines = [first, *(_reindent(row, key_col, 0) for row in body)]
        return entry

    def emit(self, block: _Block, path: KeyPath, indent: int, out: list[_Line]) -> None:
        """Append the block's lines in model order; value lines are marked as verbatim."""
        model = model_at(path)
        order = list(fields_of(model)) if model is not None else []

        def rank(entry: _Entry) -> int:
            return order.index(entry.key) if entry.key in order else len(order)

        pad = " " * indent
        for position, entry in enumerate(sorted(block.entries, key=rank)):
            leading = entry.leading
            if position == 0 and path:  # no blank line straight after `section:`
                while leading and not leading[0].strip():
                    leading = leading[1:]
            out.extend(_Line(pad + line.strip() if line.strip() else "") for line in leading)
            out.append(_Line(pad + entry.lines[0]))
            out.extend(_Line(pad + line if line else "", True) for line in entry.lines[1:])
            if entry.child is not None:
                self.emit(entry.child, (*path, entry.key), indent + INDENT, out)
        out.extend(_Line(pad + line.strip() if line.strip() else "") for line in block.trailing)


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    verbatim: bool = False  # part of a value (a blank line in a `|` block is text)


def _collapse_blanks(lines: list[_Line]) -> list[str]:
    """At most one blank line in a row between keys and comments, none at either end."""
    out: list[_Line] = []
    for line in lines:
        if not line.verbatim and line.text == "" and (not out or out[-1].text == ""):
            continue
        out.append(line)
    while out and out[-1].text == "" and not out[-1].verbatim:
        out.pop()
    return [line.text for line in out]


def format_text(text: str) -> str:
    """Canonical key order (the model's), 2-space indentation, comments kept with their key."""
    body = text.removeprefix("\ufeff").replace("\r\n", "\n")
    before, _ = load_bytes(body.encode(), "<before>")
    if before is None:
        raise EditError("the file does not load; fix the errors `pops validate` reports first")
    formatter = _Formatter(body)
    if formatter.root.flow_style or not formatter.root.value:
        return body if body.endswith("\n") else body + "\n"
    lines = formatter.lines
    block = formatter.block(formatter.root, 0, len(lines), ())
    first = block.entries[0]  # in source order: whatever is above it is the file's header
    out = [_Line(line.strip()) for line in first.leading]
    first.leading = []
    formatter.emit(block, (), 0, out)
    result = "\n".join(_collapse_blanks(out)) + "\n"
    after, _ = load_bytes(result.encode(), "<after>")
    if after is None or not _same(before, after):
        raise EditError(  # pragma: no cover - a guard against bugs, not an expected path
            "formatting would change the file's values; it was left unchanged"
        )
    return result


def _same(before: Document, after: Document) -> bool:
    return before.data == after.data and before.nulls == after.nulls

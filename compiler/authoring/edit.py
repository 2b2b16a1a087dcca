"""Edits that respect what the admin wrote: `pops set` here, `pops new` and `pops fmt` beside it.

Group files are reviewed as diffs, so an edit must touch only what it means to
change. ruamel.yaml's composer (YAML 1.2, like our loader) finds every key and
value with its exact span in the source; the edits are then made on the text
itself rather than by re-dumping a tree, so comments, blank lines, quote styles
and spacing elsewhere survive byte for byte by construction. Every result is
loaded again with the real loader and compared with the intended data before
anyone writes it: an edit that would change any other value is refused.

`pops new` is compiler.authoring.scaffold, `pops fmt` compiler.authoring.fmt; the
YAML-as-text helpers they share are compiler.authoring.yaml_text, the model's
key tree compiler.authoring.keys. Their public names are re-exported here.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from compiler.authoring.fmt import format_text
from compiler.authoring.keys import fields_of, leaf_paths, model_at, resolve_key
from compiler.authoring.scaffold import MODELINE, SCAFFOLD_OVERRIDES, scaffold
from compiler.authoring.yaml_text import (
    BLOCK_HEADER,
    INDENT,
    EditError,
    KeyPath,
    Rendered,
    after_colon,
    compose,
    double_quoted,
    indent_of,
    indent_unit,
    is_block,
    is_block_mapping,
    is_comment,
    is_empty,
    is_null,
    last_line,
    parse_value,
    render_value,
    single_quoted,
)
from compiler.diagnostics import Diagnostic
from compiler.load.located import load_bytes

__all__ = [
    "INDENT",
    "MODELINE",
    "SCAFFOLD_OVERRIDES",
    "EditError",
    "KeyPath",
    "Rendered",
    "double_quoted",
    "format_text",
    "leaf_paths",
    "model_at",
    "on_disk_positions",
    "parse_value",
    "render_value",
    "resolve_key",
    "scaffold",
    "set_value",
    "single_quoted",
]

# --- pops set ---


def _set_in(data: dict[str, Any], path: KeyPath, value: Any) -> dict[str, Any]:
    """What the loader should read after the edit: `data` with `path` set (None: removed)."""
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    if value is None:
        node.pop(path[-1], None)  # `key:` means "use the default"; the loader drops it
    else:
        node[path[-1]] = value
    return out


def _chain(path: KeyPath, value: Any, column: int, unit: int) -> list[str]:
    """New lines that write `path` (and the sections leading to it) at `column`."""
    lines = []
    for depth, part in enumerate(path[:-1]):
        lines.append(" " * (column + depth * unit) + f"{part}:")
    leaf_col = column + (len(path) - 1) * unit
    rendered = render_value(value, indent=leaf_col + unit)
    head = " " * leaf_col + f"{path[-1]}:"
    lines.append(f"{head} {rendered.inline}" if rendered.inline else head)
    lines.extend(rendered.block)
    return lines


def _insert_line(node: MappingNode, model_path: KeyPath, key: str, lines: list[str]) -> int:
    """Where a missing `key` goes in `node`: below the commented-out `# key:` that `pops new`
    left for it when there is one between its live neighbours, else by model order."""
    at = _model_place(node, model_path, key, lines)
    commented = _commented_place(node, model_path, key, lines)
    return at if commented is None else commented


def _model_place(node: MappingNode, model_path: KeyPath, key: str, lines: list[str]) -> int:
    """Above its next sibling in model order, else last.

    "Above" means above the comment lines that sit directly over that sibling at
    its indentation, since those describe it; only the file's header (comments
    over the first top-level key) stays first.
    """
    model = model_at(model_path)
    order = list(fields_of(model)) if model is not None else []
    rank = order.index(key) if key in order else len(order)
    for position, (k, _) in enumerate(node.value):
        if k.value in order and order.index(k.value) > rank:
            line = int(k.start_mark.line)
            if position == 0 and not model_path:
                return line
            column = int(k.start_mark.column)
            while line > 0:
                above = lines[line - 1]
                stripped = above.lstrip(" ")
                if not stripped.startswith("#") or len(above) - len(stripped) != column:
                    break
                line -= 1
            return line
    last_key, last_value = node.value[-1]
    at = last_line(last_key, last_value, lines) + 1
    # Comments indented deeper than the new key belong to the last entry (the
    # commented-out keys `pops new` lists in a section): the new key goes after them.
    column = int(node.value[0][0].start_mark.column)
    while at < len(lines) and is_comment(lines[at]):
        if indent_of(lines[at]) <= column:
            break
        at += 1
    return at


def _commented_place(
    node: MappingNode, model_path: KeyPath, key: str, lines: list[str]
) -> int | None:
    """The line after `# key: ...` (and, for a section, its commented-out keys) when such a
    comment sits at the keys' column between the live keys before and after it in model
    order; None when there is none."""
    model = model_at(model_path)
    order = list(fields_of(model)) if model is not None else []
    if key not in order:
        return None
    rank = order.index(key)
    column = int(node.value[0][0].start_mark.column)
    ranked = [(order.index(k.value), k, v) for k, v in node.value if k.value in order]
    before = [(k, v) for r, k, v in ranked if r < rank]
    after = [k for r, k, _ in ranked if r > rank]
    if before:
        start = last_line(before[-1][0], before[-1][1], lines) + 1
    else:
        start = int(node.value[0][0].start_mark.line)
        while start > 0 and is_comment(lines[start - 1]) and indent_of(lines[start - 1]) >= column:
            start -= 1
    if after:
        end = int(after[0].start_mark.line)
    else:
        last_key, last_value = node.value[-1]
        end = last_line(last_key, last_value, lines) + 1
        while end < len(lines) and (
            not lines[end].strip() or (is_comment(lines[end]) and indent_of(lines[end]) >= column)
        ):
            end += 1
    pad = " " * column
    own = re.compile(rf"{pad}# {re.escape(key)}:(?: |$)")
    nested = re.compile(rf"{pad}#  +\S")  # a commented-out section's keys and their help
    for index in range(start, end):
        if own.match(lines[index]):
            index += 1
            while index < end and nested.match(lines[index]):
                index += 1
            return index
    return None


def set_value(text: str, path: KeyPath, value: Any) -> str:
    """`text` with the value at `path` replaced (or added), every other line kept as it was.

    The result always ends with a newline; a UTF-8 BOM and CRLF line ends are kept.
    """
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text.removeprefix(bom)
    crlf = "\r\n" in body
    if crlf:
        body = body.replace("\r\n", "\n")
    before, _ = load_bytes(body.encode(), "<before>")
    if before is None:
        raise EditError("the file does not load; fix the errors `pops validate` reports first")
    lines = body.split("\n")
    if body.endswith("\n"):
        lines.pop()
    edited = "\n".join(_splice(body, lines, path, value)) + "\n"
    after, _ = load_bytes(edited.encode(), "<after>")
    if after is None or after.data != _set_in(before.data, path, value):
        raise EditError(  # pragma: no cover - a guard against bugs, not an expected path
            f"cannot change `{'.'.join(path)}` without changing other values; edit it by hand"
        )
    if crlf:
        edited = edited.replace("\n", "\r\n")
    return bom + edited


def _splice(text: str, lines: list[str], path: KeyPath, value: Any) -> list[str]:
    root = compose(text)
    if root.flow_style or not root.value:
        raise EditError("the file is written as a `{...}` mapping; write one key per line")
    unit = indent_unit(root)
    node = root
    for depth, part in enumerate(path):
        entry = next(((k, v) for k, v in node.value if k.value == part), None)
        if entry is None:
            column = int(node.value[0][0].start_mark.column)
            at = _insert_line(node, path[:depth], part, lines)
            return [*lines[:at], *_chain(path[depth:], value, column, unit), *lines[at:]]
        key, current = entry
        if depth == len(path) - 1:
            return _replace(lines, key, current, value, int(key.start_mark.column) + unit)
        if is_null(current):
            return _fill_section(lines, key, current, path[depth + 1 :], value, unit)
        if not is_block_mapping(current):
            raise EditError(
                f"`{'.'.join(path[: depth + 1])}` is not written as an indented section; "
                "write its keys on their own lines first"
            )
        node = current
    raise AssertionError("unreachable")  # pragma: no cover


def _fill_section(
    lines: list[str], key: Node, current: Node, rest: KeyPath, value: Any, unit: int
) -> list[str]:
    """`theme:` (no value) gets its first key on the next line; `theme: ~` loses the `~`."""
    key_line = int(key.start_mark.line)
    row = lines[key_line]
    if not is_empty(current):
        start, end = int(current.start_mark.column), int(current.end_mark.column)
        row = row[:start].rstrip(" ") + row[end:]
    new = _chain(rest, value, int(key.start_mark.column) + unit, unit)
    return [*lines[:key_line], row, *new, *lines[key_line + 1 :]]


def _replace(
    lines: list[str], key: Node, current: Node, value: Any, block_indent: int
) -> list[str]:
    """Swap the value's own characters; the key, spacing and any `# comment` stay."""
    if not isinstance(current, ScalarNode):
        raise EditError("this key holds a mapping or list; it should hold a single value")
    style = current.style if current.style in {"'", '"'} else None
    rendered = render_value(value, style=style, indent=block_indent)
    key_line = int(key.start_mark.line)
    if is_empty(current):
        row = lines[key_line]
        colon = after_colon(row, int(key.end_mark.column))
        new_row = row[:colon] + (f" {rendered.inline}" if rendered.inline else "") + row[colon:]
        return [*lines[:key_line], new_row, *rendered.block, *lines[key_line + 1 :]]
    start_line, start_col = int(current.start_mark.line), int(current.start_mark.column)
    prefix = lines[start_line][:start_col]
    if not rendered.inline:
        prefix = prefix.rstrip(" ")
    if is_block(current):
        header = BLOCK_HEADER.match(lines[start_line], start_col)
        assert header is not None
        suffix = lines[start_line][header.end() :]
        last = last_line(key, current, lines)
    else:
        last = int(current.end_mark.line)
        suffix = lines[last][int(current.end_mark.column) :]
    head = prefix + rendered.inline + suffix
    return [*lines[:start_line], head, *rendered.block, *lines[last + 1 :]]


# --- diagnostics of an edit that was not written ---


def on_disk_positions(
    before: bytes, after: bytes, keys: dict[str, KeyPath]
) -> Callable[[Diagnostic], Diagnostic]:
    """Move a diagnostic of the edited text `after` to the file as it is on disk (`before`).

    A refused edit is never written, so a line number of the edited text would
    point the admin at the wrong line. Lines the edit did not touch map to
    their place on disk; a problem on a line the edit wrote is about a value
    from the command line: it points at that key on disk when the key is
    there, else at its nearest section that is, and says which value it was.
    """
    old = _text_lines(before)
    new = _text_lines(after)
    moved: dict[int, int] = {}  # 1-based line in `after` -> line in `before`
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, _, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            moved.update((j1 + k + 1, i1 + k + 1) for k in range(j2 - j1))
    doc, _ = load_bytes(before, "<before>")

    def where(path: KeyPath) -> tuple[int, int]:
        if doc is None:
            return (1, 1)
        if path in doc.values:
            return doc.values[path]
        for depth in range(len(path) - 1, 0, -1):
            if path[:depth] in doc.keys:
                return doc.keys[path[:depth]]
        return (1, 1)

    def relocate(d: Diagnostic) -> Diagnostic:
        if d.line in moved:
            return replace(d, line=moved[d.line])
        path = tuple(d.path.split(".")) if d.path else ()
        given = next((k for k, p in keys.items() if path[: len(p)] == p), None)
        if given is None:  # a key the rule names beside the one given (a section, say)
            given = next((k for k, p in keys.items() if p[: len(path)] == path and path), None)
        line, column = where(keys[given] if given is not None else path)
        note = f" (the value given on the command line for {given})" if given else ""
        return replace(d, line=line, column=column, message=d.message + note)

    return relocate


def _text_lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "replace").removeprefix("\ufeff").replace("\r\n", "\n").split("\n")

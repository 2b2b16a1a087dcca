"""Edits that respect what the admin wrote: `pops new`, `pops set` and `pops fmt`.

Group files are reviewed as diffs, so an edit must touch only what it means to
change. ruamel.yaml's composer (YAML 1.2, like our loader) finds every key and
value with its exact span in the source; the edits are then made on the text
itself rather than by re-dumping a tree, so comments, blank lines, quote styles
and spacing elsewhere survive byte for byte by construction. Every result is
loaded again with the real loader and compared with the intended data before
anyone writes it: an edit that would change any other value is refused.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from compiler.authoring.schema import section_help
from compiler.diagnostics import Diagnostic
from compiler.load.located import Document, load_bytes
from compiler.model import Group

KeyPath = tuple[str, ...]

MODELINE = "# yaml-language-server: $schema="
INDENT = 2
WRAP = 100
# Set in a new scaffold although it is not the default: a portal without any payment
# method draws a warning, and a fresh group should pass `pops validate --strict`.
SCAFFOLD_OVERRIDES: dict[KeyPath, Any] = {("payments", "credit_card"): True}
_NUMBER_START = frozenset("0123456789+-.")
_YAML11_WORDS = frozenset({"yes", "no", "on", "off", "y", "n"})
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*")
_C1_OR_DEL = re.compile(r"[\x7f-\x9f]")


class EditError(Exception):
    """An edit that cannot be made safely; the message says why, in the admin's terms."""


# --- the model as a tree of keys ---


def _submodel(info: FieldInfo) -> type[BaseModel] | None:
    annotation = info.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """Fields by the key written in YAML (the alias when there is one), in model order."""
    return {info.alias or name: info for name, info in model.model_fields.items()}


def model_at(path: KeyPath) -> type[BaseModel] | None:
    """The model of the mapping at `path`, or None when `path` is not a section."""
    model: type[BaseModel] = Group
    for part in path:
        info = _fields(model).get(part)
        child = _submodel(info) if info is not None else None
        if child is None:
            return None
        model = child
    return model


def leaf_paths(model: type[BaseModel] = Group, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    """Every settable key, depth first in model order."""
    for key, info in _fields(model).items():
        child = _submodel(info)
        if child is None:
            yield (*prefix, key)
        else:
            yield from leaf_paths(child, (*prefix, key))


def resolve_key(dotted: str) -> KeyPath:
    """`theme.colors.primary` -> its path, or EditError naming the closest real key."""
    parts = tuple(dotted.split("."))
    model: type[BaseModel] = Group
    for depth, part in enumerate(parts):
        fields = _fields(model)
        where = f"under `{'.'.join(parts[:depth])}`" if depth else "at the top level"
        if part not in fields:
            hint = ""
            full = [".".join(p) for p in leaf_paths() if p[-1] == part]
            close = difflib.get_close_matches(part, list(fields), n=1, cutoff=0.6)
            if full:
                hint = f"; did you mean `{full[0]}`?"
            elif close:
                hint = f"; did you mean `{'.'.join((*parts[:depth], close[0]))}`?"
            else:
                hint = f"; keys there: {', '.join(fields)}"
            raise EditError(f"unknown key `{part}` {where}{hint}")
        child = _submodel(fields[part])
        if child is None:
            if depth != len(parts) - 1:
                raise EditError(f"`{'.'.join(parts[: depth + 1])}` is a value, not a section")
            return parts
        model = child
    raise EditError(
        f"`{dotted}` is a section; set one of its keys: "
        + ", ".join(f"{dotted}.{key}" for key in _fields(model))
    )


# --- values as YAML text ---


def parse_value(text: str) -> Any:
    """Read a command-line VALUE the way the loader reads a plain YAML 1.2 scalar.

    `true`/`false`, integers and `~` become those values; quotes make a string.
    Anything that is not a single scalar (a colour starting with `#`, text with
    ` #` or `: ` in it, several lines) is taken literally as text, because a
    comment or a nested mapping on a command line is never what was meant.
    """
    if "\n" in text or "\r" in text or text.lstrip().startswith("#") or re.search(r"\s#", text):
        return text
    doc, problems = load_bytes(f"v: {text}\n".encode(), "<value>")
    if doc is None or problems or set(doc.data) - {"v"}:
        return text
    if "v" not in doc.data:
        return None
    value = doc.data["v"]
    return text if isinstance(value, dict | list) else value


def _plain_ok(text: str) -> bool:
    """True when `text` written unquoted reads back as exactly this string everywhere.

    Text that starts like a number (`+1 212 555 0199`, `0123`) is quoted anyway,
    so that readers and other YAML tools never take it for one.
    """
    if not text or text != text.strip() or "\n" in text or text.lower() in _YAML11_WORDS:
        return False
    if text[0] in _NUMBER_START:
        return False
    doc, problems = load_bytes(f"v: {text}\n".encode(), "<value>")
    return doc is not None and not problems and doc.data.get("v") == text and not doc.raw


def double_quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON escapes are valid YAML 1.2 escapes)."""
    escaped = json.dumps(text, ensure_ascii=False)
    return _C1_OR_DEL.sub(lambda m: f"\\x{ord(m.group()):02x}", escaped)


def single_quoted(text: str) -> str | None:
    if "\n" in text or any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text):
        return None
    return "'" + text.replace("'", "''") + "'"


def _block_lines(text: str, indent: int) -> tuple[str, list[str]] | None:
    """A literal block scalar (`|`) for multi-line text, or None when one cannot hold it."""
    if _C1_OR_DEL.search(text) or any(ord(ch) < 0x20 and ch not in "\n\t" for ch in text):
        return None
    if text.endswith("\n\n"):
        chomp = "+"
    elif text.endswith("\n"):
        chomp = ""
    else:
        chomp = "-"
    body = text[:-1] if text.endswith("\n") else text
    lines = body.split("\n")
    first = next((line for line in lines if line.strip()), "")
    indicator = str(INDENT) if first[:1] in {" ", "\t"} else ""
    pad = " " * indent
    rendered = [pad + line if line else "" for line in lines]
    return f"|{indicator}{chomp}", rendered


@dataclass(slots=True)
class Rendered:
    """A value as YAML: `inline` goes after `key: `; `block` lines follow for a literal block."""

    inline: str
    block: list[str] = field(default_factory=list)


def render_value(value: Any, *, style: str | None = None, indent: int = INDENT) -> Rendered:
    """YAML text for `value`; strings keep `style` (the old quote style) where they can."""
    if value is None:
        return Rendered("")
    if isinstance(value, bool):
        return Rendered("true" if value else "false")
    if isinstance(value, int | float):
        return Rendered(repr(value))
    if not isinstance(value, str):
        raise EditError(f"cannot write {type(value).__name__} values")
    if "\n" in value:
        block = _block_lines(value, indent)
        if block is not None:
            return Rendered(block[0], block[1])
        return Rendered(double_quoted(value))
    if style == "'":
        quoted = single_quoted(value)
        if quoted is not None:
            return Rendered(quoted)
    if style is None and _plain_ok(value):
        return Rendered(value)
    return Rendered(double_quoted(value))


# --- reading source positions ---


def _compose(text: str) -> MappingNode:
    try:
        root = YAML(typ="rt").compose(text)
    except YAMLError as exc:
        raise EditError(f"the file is not valid YAML: {exc}") from None
    if not isinstance(root, MappingNode):
        raise EditError("the top level of the file is not a mapping")
    return root


def _is_empty(node: Node) -> bool:
    """`key:` with nothing after it (ruamel places such a node at the next token)."""
    return isinstance(node, ScalarNode) and node.style is None and node.value == ""


def _is_null(node: Node) -> bool:
    return (
        isinstance(node, ScalarNode)
        and node.style is None
        and node.value in {"", "~", "null", "Null", "NULL"}
    )


def _is_block(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style in {"|", ">"}


def _is_block_mapping(node: Node) -> TypeGuard[MappingNode]:
    return isinstance(node, MappingNode) and not node.flow_style and bool(node.value)


def _last_line(key: Node, value: Node, lines: list[str]) -> int:
    """The last source line (0-based) that belongs to `value`."""
    if _is_empty(value):
        return int(key.start_mark.line)
    if _is_block_mapping(value):
        last_key, last_value = value.value[-1]
        return _last_line(last_key, last_value, lines)
    end = value.end_mark
    last = int(end.line) if end.column > 0 else int(end.line) - 1
    if _is_block(value):
        header = _BLOCK_HEADER.match(lines[value.start_mark.line], value.start_mark.column)
        keep = header is not None and "+" in header.group()
        if not keep:
            while last > value.start_mark.line and not lines[last].strip():
                last -= 1
    return last


def _after_colon(line: str, column: int) -> int:
    """Index just after the `:` that follows a key ending at `column`."""
    index = line.index(":", column)
    return index + 1


def _indent_unit(root: MappingNode) -> int:
    """The file's own indentation step (2 unless the file shows otherwise)."""
    for key, value in root.value:
        if _is_block_mapping(value):
            step = int(value.value[0][0].start_mark.column) - int(key.start_mark.column)
            if step > 0:
                return step
    return INDENT


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
    order = list(_fields(model)) if model is not None else []
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
    at = _last_line(last_key, last_value, lines) + 1
    # Comments indented deeper than the new key belong to the last entry (the
    # commented-out keys `pops new` lists in a section): the new key goes after them.
    column = int(node.value[0][0].start_mark.column)
    while at < len(lines) and _is_comment(lines[at]):
        if _indent(lines[at]) <= column:
            break
        at += 1
    return at


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _commented_place(
    node: MappingNode, model_path: KeyPath, key: str, lines: list[str]
) -> int | None:
    """The line after `# key: ...` (and, for a section, its commented-out keys) when such a
    comment sits at the keys' column between the live keys before and after it in model
    order; None when there is none."""
    model = model_at(model_path)
    order = list(_fields(model)) if model is not None else []
    if key not in order:
        return None
    rank = order.index(key)
    column = int(node.value[0][0].start_mark.column)
    ranked = [(order.index(k.value), k, v) for k, v in node.value if k.value in order]
    before = [(k, v) for r, k, v in ranked if r < rank]
    after = [k for r, k, _ in ranked if r > rank]
    if before:
        start = _last_line(before[-1][0], before[-1][1], lines) + 1
    else:
        start = int(node.value[0][0].start_mark.line)
        while start > 0 and _is_comment(lines[start - 1]) and _indent(lines[start - 1]) >= column:
            start -= 1
    if after:
        end = int(after[0].start_mark.line)
    else:
        last_key, last_value = node.value[-1]
        end = _last_line(last_key, last_value, lines) + 1
        while end < len(lines) and (
            not lines[end].strip() or (_is_comment(lines[end]) and _indent(lines[end]) >= column)
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
    root = _compose(text)
    if root.flow_style or not root.value:
        raise EditError("the file is written as a `{...}` mapping; write one key per line")
    unit = _indent_unit(root)
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
        if _is_null(current):
            return _fill_section(lines, key, current, path[depth + 1 :], value, unit)
        if not _is_block_mapping(current):
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
    if not _is_empty(current):
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
    if _is_empty(current):
        row = lines[key_line]
        colon = _after_colon(row, int(key.end_mark.column))
        new_row = row[:colon] + (f" {rendered.inline}" if rendered.inline else "") + row[colon:]
        return [*lines[:key_line], new_row, *rendered.block, *lines[key_line + 1 :]]
    start_line, start_col = int(current.start_mark.line), int(current.start_mark.column)
    prefix = lines[start_line][:start_col]
    if not rendered.inline:
        prefix = prefix.rstrip(" ")
    if _is_block(current):
        header = _BLOCK_HEADER.match(lines[start_line], start_col)
        assert header is not None
        suffix = lines[start_line][header.end() :]
        last = _last_line(key, current, lines)
    else:
        last = int(current.end_mark.line)
        suffix = lines[last][int(current.end_mark.column) :]
    head = prefix + rendered.inline + suffix
    return [*lines[:start_line], head, *rendered.block, *lines[last + 1 :]]


# --- pops new ---


def _comment(text: str, indent: int, lead: str | None = None) -> list[str]:
    """`text` wrapped as `# ` lines at `indent`, or after `lead` (inside a commented block)."""
    first = (" " * indent if lead is None else lead) + "# "
    return textwrap.wrap(
        text, WRAP, initial_indent=first, subsequent_indent=first, break_on_hyphens=False
    )


def _help(info: FieldInfo, model: type[BaseModel] | None) -> str:
    """A key's comment in a new group: the admin screen's label, then the help (the model's)."""
    if model is not None:
        parts = [section_help(info.description, model)]
    else:
        parts = [f"{info.title}: {info.description}" if info.title else info.description or ""]
    choices = get_args(info.annotation) if get_origin(info.annotation) is not None else ()
    if choices and all(isinstance(c, str) for c in choices):
        parts.append("One of: " + ", ".join(choices) + ".")
    return " ".join(part for part in parts if part)


def _key_line(key: str, value: Any, indent: int) -> list[str]:
    rendered = render_value(value, indent=indent + INDENT)
    head = " " * indent + f"{key}:"
    return [f"{head} {rendered.inline}" if rendered.inline else head, *rendered.block]


def _scaffold_lines(
    model: type[BaseModel], prefix: KeyPath, values: dict[KeyPath, Any]
) -> list[str]:
    """The keys of `model` under `prefix`: those in `values` written, the rest commented out."""
    indent = len(prefix) * INDENT
    out: list[str] = []
    for key, info in _fields(model).items():
        path = (*prefix, key)
        child = _submodel(info)
        if not prefix and out and child is not None:
            out.append("")
        live = any(p[: len(path)] == path for p in values)
        if not live:
            out.extend(_commented(key, info, child, " " * indent, 0))
            continue
        out.extend(_comment(_help(info, child), indent))
        if child is not None:
            out.append(" " * indent + f"{key}:")
            out.extend(_scaffold_lines(child, path, values))
        else:
            out.extend(_key_line(key, values[path], indent))
    return out


def _commented(
    key: str, info: FieldInfo, model: type[BaseModel] | None, pad: str, depth: int
) -> list[str]:
    """A key (and a section's keys) as comments: uncommenting them gives valid YAML.

    The `#` stays at the column of the live keys around it (`pad`); the text
    after it is indented as the YAML would be, with the help lines as comments
    within the comment. A leaf shows its default, or an example when it has none.
    """
    marker = pad + "# " + " " * (depth * INDENT)  # uncommented, the key sits at its depth
    out = _comment(_help(info, model), 0, marker if depth else pad)
    if model is not None:
        out.append(f"{marker}{key}:")
        for child_key, child_info in _fields(model).items():
            out.extend(_commented(child_key, child_info, _submodel(child_info), pad, depth + 1))
        return out
    value = info.get_default(call_default_factory=True)
    if value is None and info.examples:
        value = info.examples[0]
    shown = _example_text(value) if value is not None else ""
    out.append(f"{marker}{key}: {shown}" if shown else f"{marker}{key}:")
    return out


def _example_text(example: Any) -> str:
    if isinstance(example, list):  # `owners`: a flow list of quoted strings
        return "[" + ", ".join(_example_text(item) for item in example) + "]"
    if isinstance(example, str) and example.startswith("@"):
        return double_quoted(example)  # `@` cannot start a plain YAML scalar
    rendered = render_value(example)
    return double_quoted(example) if rendered.block else rendered.inline


def scaffold(
    slug: str, name: str, schema_ref: str, settings: dict[KeyPath, Any] | None = None
) -> str:
    """A new group that sets only `name` and `settings`; every other key is there commented out.

    A key written in a group replaces the shared value from groups/_defaults.yaml
    (even written empty), so a new group writes nothing it was not asked to:
    later changes to the shared defaults still reach it. The other keys are
    listed, as comments, with their help text and default or an example, ready
    to uncomment.
    """
    values = {**(settings or {}), ("name",): name}
    header = [
        f"{MODELINE}{schema_ref}",
        f"# POPS group `{slug}`. A key left commented out is not set here: it comes from",
        "# groups/_defaults.yaml, or is the built-in default shown. Uncomment a key to set it",
        "# for this group. Check with `pops validate`, edit with `pops set`.",
        "",
    ]
    lines = _scaffold_lines(Group, (), values)
    return "\n".join([*header, *lines]) + "\n"


# --- pops fmt ---


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


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


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
        self.root = _compose(text)

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
            position = (entry.child.end if entry.child else _last_line(key, value, self.lines)) + 1
        region = self.lines[position:stop]
        owned = [
            i
            for i, line in enumerate(region)
            if _is_comment(line) and len(line) - len(line.lstrip()) >= column
        ]
        cut = owned[-1] + 1 if owned else 0
        return _Block(entries, region[:cut], position + cut - 1)

    def entry(
        self, key: ScalarNode, value: Node, path: KeyPath, leading: list[str], stop: int
    ) -> _Entry:
        lines = self.lines
        key_line, key_col = int(key.start_mark.line), int(key.start_mark.column)
        key_text = lines[key_line][key_col : int(key.end_mark.column)]
        colon = _after_colon(lines[key_line], int(key.end_mark.column))
        entry = _Entry(str(key.value), leading, [])
        if _is_block_mapping(value):
            entry.lines = [f"{key_text}:" + lines[key_line][colon:].rstrip()]
            entry.child = self.block(value, key_line + 1, stop, (*path, str(key.value)))
            return entry
        last = _last_line(key, value, lines)
        if _is_empty(value):
            entry.lines = [f"{key_text}:" + lines[key_line][colon:].rstrip()]
            return entry
        start_line, start_col = int(value.start_mark.line), int(value.start_mark.column)
        if start_line == key_line:
            first = f"{key_text}: " + lines[key_line][start_col:].rstrip()
        else:
            first = f"{key_text}:" + lines[key_line][colon:].rstrip()
        body = lines[key_line + 1 : last + 1]
        if _is_block(value) and start_line == key_line:
            header = _BLOCK_HEADER.match(lines[key_line], start_col)
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
        order = list(_fields(model)) if model is not None else []

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

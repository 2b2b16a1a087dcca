"""YAML as text: values written the way the loader reads them back, and where things sit.

Shared by `pops set`, `pops new` and `pops fmt`, which edit the text of a group
file rather than re-dumping a tree (see compiler.authoring.edit).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from compiler.load.located import load_bytes

KeyPath = tuple[str, ...]

INDENT = 2
_NUMBER_START = frozenset("0123456789+-.")
_YAML11_WORDS = frozenset({"yes", "no", "on", "off", "y", "n"})
BLOCK_HEADER = re.compile(r"[|>][-+0-9]*")
_C1_OR_DEL = re.compile(r"[\x7f-\x9f]")


class EditError(Exception):
    """An edit that cannot be made safely; the message says why, in the admin's terms."""


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


def compose(text: str) -> MappingNode:
    try:
        root = YAML(typ="rt").compose(text)
    except YAMLError as exc:
        raise EditError(f"the file is not valid YAML: {exc}") from None
    if not isinstance(root, MappingNode):
        raise EditError("the top level of the file is not a mapping")
    return root


def is_empty(node: Node) -> bool:
    """`key:` with nothing after it (ruamel places such a node at the next token)."""
    return isinstance(node, ScalarNode) and node.style is None and node.value == ""


def is_null(node: Node) -> bool:
    return (
        isinstance(node, ScalarNode)
        and node.style is None
        and node.value in {"", "~", "null", "Null", "NULL"}
    )


def is_block(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style in {"|", ">"}


def is_block_mapping(node: Node) -> TypeGuard[MappingNode]:
    return isinstance(node, MappingNode) and not node.flow_style and bool(node.value)


def last_line(key: Node, value: Node, lines: list[str]) -> int:
    """The last source line (0-based) that belongs to `value`."""
    if is_empty(value):
        return int(key.start_mark.line)
    if is_block_mapping(value):
        last_key, last_value = value.value[-1]
        return last_line(last_key, last_value, lines)
    end = value.end_mark
    last = int(end.line) if end.column > 0 else int(end.line) - 1
    if is_block(value):
        header = BLOCK_HEADER.match(lines[value.start_mark.line], value.start_mark.column)
        keep = header is not None and "+" in header.group()
        if not keep:
            while last > value.start_mark.line and not lines[last].strip():
                last -= 1
    return last


def after_colon(line: str, column: int) -> int:
    """Index just after the `:` that follows a key ending at `column`."""
    index = line.index(":", column)
    return index + 1


def indent_unit(root: MappingNode) -> int:
    """The file's own indentation step (2 unless the file shows otherwise)."""
    for key, value in root.value:
        if is_block_mapping(value):
            step = int(value.value[0][0].start_mark.column) - int(key.start_mark.column)
            if step > 0:
                return step
    return INDENT


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")

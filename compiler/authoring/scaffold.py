"""`pops new`: a group that sets only its name, every other key listed commented out.

The comments are the model's own words (compiler.model.meta.option): the admin
screen's label, the help, and the default or an example, so a new option shows
up in every new group without an edit here.
"""

from __future__ import annotations

import textwrap
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from compiler.authoring.keys import fields_of
from compiler.authoring.schema import section_help
from compiler.authoring.yaml_text import INDENT, KeyPath, double_quoted, render_value
from compiler.model import Group
from compiler.model.options import submodel

MODELINE = "# yaml-language-server: $schema="
WRAP = 100
# Set in a new scaffold although it is not the default: a portal without any payment
# method draws a warning, and a fresh group should pass `pops validate --strict`.
SCAFFOLD_OVERRIDES: dict[KeyPath, Any] = {("payments", "credit_card"): True}


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
    for key, info in fields_of(model).items():
        path = (*prefix, key)
        child = submodel(info)
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
        for child_key, child_info in fields_of(model).items():
            out.extend(_commented(child_key, child_info, submodel(child_info), pad, depth + 1))
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

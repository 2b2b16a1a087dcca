"""The group file's keys as a tree, from the model: what `pops set`, `new` and `fmt` walk."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from compiler.authoring.yaml_text import EditError, KeyPath
from compiler.model import Group
from compiler.model.options import submodel


def fields_of(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """Fields by the key written in YAML (the alias when there is one), in model order."""
    return {info.alias or name: info for name, info in model.model_fields.items()}


def model_at(path: KeyPath) -> type[BaseModel] | None:
    """The model of the mapping at `path`, or None when `path` is not a section."""
    model: type[BaseModel] = Group
    for part in path:
        info = fields_of(model).get(part)
        child = submodel(info) if info is not None else None
        if child is None:
            return None
        model = child
    return model


def leaf_paths(model: type[BaseModel] = Group, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    """Every settable key, depth first in model order."""
    for key, info in fields_of(model).items():
        child = submodel(info)
        if child is None:
            yield (*prefix, key)
        else:
            yield from leaf_paths(child, (*prefix, key))


def resolve_key(dotted: str) -> KeyPath:
    """`theme.colors.primary` -> its path, or EditError naming the closest real key."""
    parts = tuple(dotted.split("."))
    model: type[BaseModel] = Group
    for depth, part in enumerate(parts):
        fields = fields_of(model)
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
        child = submodel(fields[part])
        if child is None:
            if depth != len(parts) - 1:
                raise EditError(f"`{'.'.join(parts[: depth + 1])}` is a value, not a section")
            return parts
        model = child
    raise EditError(
        f"`{dotted}` is a section; set one of its keys: "
        + ", ".join(f"{dotted}.{key}" for key in fields_of(model))
    )

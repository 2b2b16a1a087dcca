"""The model stage: a loaded Document becomes a Group, or diagnostics at the right lines.

Pydantic reports errors by key path; this module maps each back to the line
and column the admin wrote, and rewrites the message in the admin's terms
("quote it", "write true or false", "did you mean").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from compiler.diagnostics import Diagnostic
from compiler.load import Document, Path_, dotted
from compiler.model.group import Group


@dataclass(slots=True)
class Modelled:
    """The model stage's result.

    `group` is None when the file has errors; `partial` is then the group with
    every broken value set back to its default, so the cross-field rules can
    still run and report everything in one pass. `broken` lists the key paths
    whose values were dropped, so rules that look at them stay quiet instead of
    judging a default the admin never chose.
    """

    group: Group | None
    diagnostics: list[Diagnostic]
    partial: Group | None = None
    broken: set[Path_] = field(default_factory=set)


def group_from_document(doc: Document, *, broken: Iterable[Path_] = ()) -> Modelled:
    """Validate `doc`; `broken` are paths the loader already found wrong."""
    known_broken = set(broken)
    try:
        group = Group.model_validate(doc.data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        diagnostics = [_diagnostic(doc, error) for error in errors]
        known_broken.update(tuple(error["loc"]) for error in errors)
        # A misspelt key (`paymnets:`) leaves the key it meant at its default; rules
        # about that key would judge a default the admin never chose, so they stay quiet.
        known_broken.update(
            meant
            for error in errors
            if error["type"] == "extra_forbidden"
            and (meant := _meant(doc.data, tuple(error["loc"]))) is not None
        )
        return Modelled(None, diagnostics, _partial(doc.data, known_broken), known_broken)
    return Modelled(group, [], group, known_broken)


def _partial(data: dict[str, Any], broken: set[Path_]) -> Group | None:
    """The group with broken values removed; None if even that does not validate.

    Only the mappings on the way to a broken value are copied (the rest is
    shared with `data` and only read), not the whole document.
    """
    pruned = dict(data)
    copied = {id(pruned)}
    for path in sorted(broken, key=len, reverse=True):
        node: Any = pruned
        for part in path[:-1]:
            child = node.get(part) if isinstance(node, dict) else None
            if isinstance(child, dict) and id(child) not in copied:
                child = node[part] = dict(child)
                copied.add(id(child))
            node = child
        if isinstance(node, dict) and path:
            node.pop(path[-1], None)
    pruned.setdefault("name", "unnamed")
    try:
        return Group.model_validate(pruned)
    except ValidationError:
        return None


def _close_matches(word: str, choices: list[str], *, n: int, cutoff: float) -> list[str]:
    """difflib.get_close_matches, imported on first use: only files with errors ask."""
    import difflib

    return difflib.get_close_matches(word, choices, n=n, cutoff=cutoff)


def _close_key(loc: Path_) -> str | None:
    """The known key an unknown key at `loc` most likely meant, if one is close."""
    parent = _model_at(loc[:-1])
    if parent is None or not loc:
        return None
    close = _close_matches(str(loc[-1]), _keys_of(parent), n=1, cutoff=0.6)
    return close[0] if close else None


def _meant(data: dict[str, Any], loc: Path_) -> Path_ | None:
    """The path of the key a misspelt key meant, when the file does not also set it."""
    close = _close_key(loc)
    if close is None:
        return None
    node: Any = data
    for part in loc[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and close in node:
        return None
    return (*loc[:-1], close)


def _model_at(path: Path_) -> type[BaseModel] | None:
    """The model class that owns the mapping at `path` (for did-you-mean and key lists)."""
    model: type[BaseModel] = Group
    for part in path:
        if not isinstance(part, str):
            return None
        info = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None
        )
        annotation = info.annotation if info is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "text"


def _diagnostic(doc: Document, error: Any) -> Diagnostic:
    loc: Path_ = tuple(error["loc"])
    kind: str = error["type"]
    value = error.get("input")
    raw = doc.raw.get(loc)
    key = loc[-1] if loc else ""
    code = kind
    message = error["msg"]
    at_key = False

    if kind == "extra_forbidden":
        code, at_key = "key-unknown", True
        parent = _model_at(loc[:-1])
        choices = _keys_of(parent) if parent else []
        close = _close_matches(str(key), choices, n=1, cutoff=0.6)
        where = f"under `{dotted(loc[:-1])}`" if loc[:-1] else "at the top level"
        message = f"unknown key `{key}` {where}"
        if close:
            message += f"; did you mean `{close[0]}`?"
        elif choices:
            message += f"; expected one of: {', '.join(choices)}"
    elif kind == "missing":
        code = "key-required"
        if loc in doc.nulls:
            at_key = True
            message = "has no value, but it is required, e.g. `name: Sunrise Pediatrics`"
        else:
            message = "required key is missing; add it, e.g. `name: Sunrise Pediatrics`"
            loc_for_position = loc[:-1]
            line, column = doc.position(loc_for_position, key=True) if loc_for_position else (1, 1)
            file = doc.file_at(loc_for_position) if loc_for_position else doc.file
            return Diagnostic(file, line, column, dotted(loc), code, "error", message)
    elif kind == "bool_type":
        code = "type-bool"
        if raw is not None and isinstance(value, str):
            message = (
                f"`{raw}` is not a boolean in group files (YAML 1.1 read it as one, YAML 1.2 "
                "does not); write true or false"
            )
        elif isinstance(value, str) and value.lower() in {"true", "false"}:
            message = (
                f'"{value}" is quoted, so it is text, not a boolean; write {value.lower()} '
                "without quotes"
            )
        else:
            message = f"expected true or false, got {_describe(value)}"
            if raw is not None:
                message += f" `{raw}`"
    elif kind == "string_type":
        code = "type-string"
        if isinstance(value, int | float) and not isinstance(value, bool):
            shown = raw if raw is not None else str(value)
            message = f'`{shown}` is read as a number; quote it to keep it as text: "{shown}"'
        elif isinstance(value, bool):
            shown = raw or str(value).lower()
            message = f'`{shown}` is read as a boolean; quote it to keep it as text: "{shown}"'
        else:
            message = f"expected text, got {_describe(value)}"
    elif kind in {"int_type", "int_parsing", "int_from_float"}:
        code = "type-int"
        message = f"expected a whole number, got {_describe(value)}"
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            message += f' "{value}"; write it without quotes'
        elif isinstance(value, str):
            message += f' "{value[:60]}"; write digits only, e.g. 3'
        elif raw is not None:
            message += f" `{raw}`; write digits only, e.g. 3"
    elif kind in {"greater_than_equal", "less_than_equal"}:
        code = "int-range"
        info = _model_at(loc[:-1])
        low = high = None
        if info is not None:
            for meta in info.model_fields[str(key)].metadata:
                low = getattr(meta, "ge", low)
                high = getattr(meta, "le", high)
        message = f"{value} is out of range; use a whole number from {low} to {high}"
    elif kind == "literal_error":
        code = "value-choice"
        expected = str(error.get("ctx", {}).get("expected", ""))
        options = [part.strip().strip("'") for part in expected.replace(" or ", ", ").split(",")]
        options = [o for o in options if o]
        message = f"`{value}` is not allowed here; use one of: {', '.join(options)}"
        close = _close_matches(str(value), options, n=1, cutoff=0.6)
        if close:
            message += f" (did you mean `{close[0]}`?)"
    elif kind in {"model_type", "dict_type", "model_attributes_type"}:
        code = "type-mapping"
        model = _model_at(loc)
        keys = f" with keys such as {', '.join(_keys_of(model)[:4])}" if model else ""
        message = f"expected a mapping{keys}, got {_describe(value)}"
    elif kind == "string_too_long" or kind == "string_too_short":
        code = "text-length"
    line, column = doc.position(loc, key=at_key)
    return Diagnostic(doc.file_at(loc), line, column, dotted(loc), code, "error", message)


# What each code this module reports means and how to fix it (see compiler.codes).
CODES: dict[str, tuple[str, str]] = {
    "key-unknown": (
        "A key that the group format does not have.",
        "Fix the spelling (the message suggests the closest key) or remove the key; "
        "`pops schema` lists every key.",
    ),
    "key-required": (
        "A required key is missing or has no value.",
        "Add it, e.g. `name: Sunrise Pediatrics`.",
    ),
    "type-bool": (
        "A setting that is on or off holds something other than true or false.",
        "Write true or false without quotes (not yes/no/on/off).",
    ),
    "type-string": (
        "A text setting holds a number or a boolean.",
        'Quote the value to keep it as text, e.g. `"0123"`.',
    ),
    "type-int": (
        "A whole number is expected.",
        "Write digits only, without quotes, e.g. 3.",
    ),
    "int-range": (
        "A number is outside the range the setting allows.",
        "Use a whole number within the range the message gives.",
    ),
    "value-choice": (
        "A value is not one of the choices the setting allows.",
        "Use one of the values the message lists.",
    ),
    "type-mapping": (
        "A mapping of keys is expected.",
        "Write the keys indented under the setting, e.g. `theme:` then `  dark: false`.",
    ),
    "text-length": (
        "A text is shorter or longer than the setting allows.",
        "Shorten or lengthen the text to the limit the message gives.",
    ),
}

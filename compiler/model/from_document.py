"""The model stage: a loaded Document becomes a Group, or diagnostics at the right lines.

Pydantic reports errors by key path; this module maps each back to the line
and column the admin wrote, and rewrites the message in the admin's terms
("quote it", "write true or false", "did you mean").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from compiler.diagnostics import Diagnostic
from compiler.load.located import Document, Path_, dotted
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
        diagnostics = []
        hints = _Hints()
        for error in errors:
            loc: Path_ = tuple(error["loc"])
            known_broken.add(loc)
            if error["type"] == "extra_forbidden":
                diagnostic, meant = _unknown_key(doc, loc, hints)
                diagnostics.append(diagnostic)
                # A misspelt or misplaced key (`paymnets:`, `email_from:` under `payments`)
                # leaves the key it meant at its default; rules about that key would judge
                # a default the admin never chose, so they stay quiet.
                if meant is not None:
                    known_broken.add(meant)
            else:
                diagnostics.append(_diagnostic(doc, error))
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


def _close_matches(word: str, choices: Sequence[str], *, n: int, cutoff: float) -> list[str]:
    """difflib.get_close_matches, imported on first use: only files with errors ask."""
    import difflib

    return difflib.get_close_matches(word, choices, n=n, cutoff=cutoff)


# Did-you-mean compares a key with every key of its section (difflib, ~50 µs a key);
# past this many unknown keys in one file the rest are reported without it, so a
# file of 100,000 stray keys is still reported in linear time.
MAX_SUGGESTIONS = 100


@dataclass(slots=True)
class _Hints:
    """How many did-you-mean searches this document may still spend."""

    left: int = MAX_SUGGESTIONS

    def close_key(self, loc: Path_, choices: tuple[str, ...]) -> str | None:
        """The known key an unknown key at `loc` most likely meant, if one is close."""
        if not choices or self.left <= 0:
            return None
        self.left -= 1
        close = _close_matches(str(loc[-1]), choices, n=1, cutoff=0.6)
        return close[0] if close else None


def _unknown_key(doc: Document, loc: Path_, hints: _Hints) -> tuple[Diagnostic, Path_ | None]:
    """The diagnostic for a key the model does not know, and the key it probably meant.

    A key that exists in another section (`email_from` under `payments`) is named
    with where it belongs; otherwise a close key of its own section is suggested.
    """
    key = str(loc[-1])
    parent = loc[:-1]
    section = _section(parent)
    message = f"unknown key `{key}` {section.where}"
    homes = key_homes().get(key, ())
    meant: Path_ | None = None
    if loc == ("owners_for",):
        message += "; `owners_for` is allowed only in groups/_defaults.yaml: move it there"
    elif homes:
        message += belongs(key, homes)
        if len(homes) == 1:
            meant = (*homes[0], key)
    else:
        close = hints.close_key(loc, section.choices) if hints.left > 0 else None
        if close is not None:
            message += f"; did you mean `{close}`?"
            meant = (*parent, close)
        else:
            message += section.expected
    if meant is not None and _is_set(doc.data, meant):
        meant = None  # the file sets the key it meant as well: its rules still apply
    line, column = doc.keys.get(loc) or doc.position(loc, key=True)
    path = f"{section.prefix}{key}"
    diagnostic = Diagnostic(doc.file_at(loc), line, column, path, "key-unknown", "error", message)
    return diagnostic, meant


def belongs(key: str, homes: Sequence[Path_]) -> str:
    """`; `email_from` belongs under `notifications`: move it there` (every home named)."""
    places = " or ".join(f"under `{dotted(h)}`" if h else "at the top level" for h in homes)
    fix = "move it there" if len(homes) == 1 else "move it to the one you meant"
    return f"; `{key}` belongs {places}: {fix}"


@dataclass(frozen=True, slots=True)
class _Section:
    """What every unknown-key message about one section shares, worked out once."""

    where: str  # "under `theme.colors`" or "at the top level"
    prefix: str  # "theme.colors." or ""
    choices: tuple[str, ...]
    expected: str  # "; expected one of: ..." or ""


@lru_cache(maxsize=256)
def _section(parent: Path_) -> _Section:
    model = _model_at(parent)
    choices = _keys_tuple(model) if model is not None else ()
    name = dotted(parent)
    return _Section(
        f"under `{name}`" if parent else "at the top level",
        f"{name}." if parent else "",
        choices,
        f"; expected one of: {', '.join(choices)}" if choices else "",
    )


def _is_set(data: dict[str, Any], path: Path_) -> bool:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@cache
def key_homes() -> dict[str, tuple[Path_, ...]]:
    """Every key of the group schema and the sections it belongs in (`()`: the top level).

    Walked from the models, so a key added to a panel is known here at once.
    """
    homes: dict[str, list[Path_]] = {}

    def walk(model: type[BaseModel], path: Path_) -> None:
        for name, info in model.model_fields.items():
            key = info.alias or name
            homes.setdefault(key, []).append(path)
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, (*path, key))

    walk(Group, ())
    return {key: tuple(paths) for key, paths in homes.items()}


@lru_cache(maxsize=256)
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
    return list(_keys_tuple(model))


@cache
def _keys_tuple(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(info.alias or name for name, info in model.model_fields.items())


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

    if kind == "missing":
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
        if raw is not None and isinstance(value, str) and raw.lower() in {"true", "false"}:
            message = (
                f"`{raw}` is not a boolean in group files: booleans are `true` or `false`, "
                f"in lowercase; write {raw.lower()}"
            )
        elif raw is not None and isinstance(value, str):
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

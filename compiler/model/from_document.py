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
from pydantic_core import ErrorDetails

from compiler.diagnostics import Diagnostic
from compiler.load.located import Document, Path_, dotted
from compiler.model.group import Group
from compiler.model.messages import Failed, close_matches, explain, keys_tuple, model_at


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
        close = close_matches(str(loc[-1]), choices, n=1, cutoff=0.6)
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
    model = model_at(parent)
    choices = keys_tuple(model) if model is not None else ()
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


def _diagnostic(doc: Document, error: ErrorDetails) -> Diagnostic:
    """The handler for the error's kind says what; the loader's positions say where."""
    loc: Path_ = tuple(error["loc"])
    failed = Failed(doc, loc, error["type"], error.get("input"), doc.raw.get(loc), error)
    code, said = explain(failed)
    if said.at == "parent":
        parent = loc[:-1]
        line, column = doc.position(parent, key=True) if parent else (1, 1)
        file = doc.file_at(parent) if parent else doc.file
        return Diagnostic(file, line, column, dotted(loc), code, "error", said.message)
    line, column = doc.position(loc, key=said.at == "key")
    return Diagnostic(doc.file_at(loc), line, column, dotted(loc), code, "error", said.message)


# What each code this module reports means and how to fix it (see compiler.codes).
CODES: dict[str, tuple[str, str]] = {
    "key-unknown": (
        "A key that the group format does not have.",
        "Fix the spelling (the message suggests the closest key) or remove the key; "
        "`pops schema` lists every key.",
    ),
}

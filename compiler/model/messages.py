"""Pydantic's errors in the admin's words: one handler per error kind, in one table.

Each handler is registered with `@_handles(code, *kinds)` for the pydantic error
kinds it explains and returns the message (and, for a missing key, where to
point). Errors our own value types raise (`PydanticCustomError`) already carry
their code and message and pass through unchanged, so a new type or constraint
needs a new row here only when pydantic's wording would reach the admin. The
constraints a message quotes (ranges) and how values are written (whole
numbers, amounts in dollars) are read from the model's fields, never repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from compiler.load.located import Document, Path_
from compiler.model.group import Group
from compiler.model.meta import shown
from compiler.model.options import show


def close_matches(word: str, choices: Sequence[str], *, n: int, cutoff: float) -> list[str]:
    """difflib.get_close_matches, imported on first use: only files with errors ask."""
    import difflib

    return difflib.get_close_matches(word, choices, n=n, cutoff=cutoff)


@lru_cache(maxsize=256)
def model_at(path: Path_) -> type[BaseModel] | None:
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


@cache
def keys_tuple(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(info.alias or name for name, info in model.model_fields.items())


@dataclass(frozen=True, slots=True)
class Failed:
    """One pydantic error with what the handlers look at."""

    doc: Document
    loc: Path_
    kind: str
    value: Any
    raw: str | None  # the value as written in the file, when the loader kept it
    error: ErrorDetails

    def field(self) -> Any:
        """The FieldInfo of the failing key, or None (a key inside a list, say)."""
        model = model_at(self.loc[:-1]) if self.loc else None
        key = self.loc[-1] if self.loc else None
        return model.model_fields.get(str(key)) if model is not None else None

    def money(self) -> bool:
        info = self.field()
        marker = shown(info) if info is not None else None
        return marker is not None and marker.kind == "money"


# Where the diagnostic points: the value, the key, or the key of the enclosing section.
At = Literal["value", "key", "parent"]


@dataclass(frozen=True, slots=True)
class Said:
    message: str
    at: At = "value"


Handler = Callable[[Failed], Said]
HANDLERS: dict[str, tuple[str, Handler]] = {}


def _handles(code: str, *kinds: str) -> Callable[[Handler], Handler]:
    """Register `handler` as the one that explains pydantic error `kinds`, under `code`."""

    def register(handler: Handler) -> Handler:
        for kind in kinds:
            HANDLERS[kind] = (code, handler)
        return handler

    return register


def explain(failed: Failed) -> tuple[str, Said]:
    """(code, what to say) for one error; unknown kinds keep pydantic's code and words."""
    code, handler = HANDLERS.get(failed.kind, (failed.kind, _as_is))
    return code, handler(failed)


def _as_is(failed: Failed) -> Said:
    return Said(failed.error["msg"])


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "text"


@_handles("key-required", "missing")
def _missing(failed: Failed) -> Said:
    if failed.loc in failed.doc.nulls:
        return Said("has no value, but it is required, e.g. `name: Sunrise Pediatrics`", "key")
    return Said("required key is missing; add it, e.g. `name: Sunrise Pediatrics`", "parent")


@_handles("type-bool", "bool_type")
def _bool(failed: Failed) -> Said:
    raw, value = failed.raw, failed.value
    if raw is not None and isinstance(value, str) and raw.lower() in {"true", "false"}:
        return Said(
            f"`{raw}` is not a boolean in group files: booleans are `true` or `false`, "
            f"in lowercase; write {raw.lower()}"
        )
    if raw is not None and isinstance(value, str):
        return Said(
            f"`{raw}` is not a boolean in group files (YAML 1.1 read it as one, YAML 1.2 "
            "does not); write true or false"
        )
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return Said(
            f'"{value}" is quoted, so it is text, not a boolean; write {value.lower()} '
            "without quotes"
        )
    message = f"expected true or false, got {describe(value)}"
    return Said(message + (f" `{raw}`" if raw is not None else ""))


@_handles("type-string", "string_type")
def _string(failed: Failed) -> Said:
    raw, value = failed.raw, failed.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        shown_ = raw if raw is not None else str(value)
        return Said(f'`{shown_}` is read as a number; quote it to keep it as text: "{shown_}"')
    if isinstance(value, bool):
        shown_ = raw or str(value).lower()
        return Said(f'`{shown_}` is read as a boolean; quote it to keep it as text: "{shown_}"')
    return Said(f"expected text, got {describe(value)}")


def _number_type(failed: Failed, wanted: str, example: str, *, point: bool = False) -> Said:
    raw, value = failed.raw, failed.value
    message = f"expected {wanted}, got {describe(value)}"
    digits = value.strip().lstrip("+-") if isinstance(value, str) else ""
    if point:
        digits = digits.replace(".", "", 1)
    if digits.isdigit():
        return Said(message + f' "{value}"; write it without quotes')
    if isinstance(value, str):
        return Said(message + f' "{value[:60]}"; write digits only, e.g. {example}')
    if raw is not None:
        return Said(message + f" `{raw}`; write digits only, e.g. {example}")
    return Said(message)


@_handles("type-int", "int_type", "int_parsing", "int_from_float")
def _int(failed: Failed) -> Said:
    return _number_type(failed, "a whole number", "3")


@_handles("type-number", "float_type", "float_parsing", "finite_number")
def _float(failed: Failed) -> Said:
    if failed.money():
        return _number_type(failed, "an amount in dollars", "5.00", point=True)
    return _number_type(failed, "a number", "2.5", point=True)


@_handles("int-range", "greater_than", "greater_than_equal", "less_than", "less_than_equal")
def _range(failed: Failed) -> Said:
    """Every bound the field declares, in the units it is written in."""
    info = failed.field()
    bounds: dict[str, Any] = {}
    for meta in info.metadata if info is not None else ():
        for name in ("ge", "gt", "le", "lt"):
            if getattr(meta, name, None) is not None:
                bounds[name] = getattr(meta, name)
    if not failed.money():
        low, high = bounds.get("ge"), bounds.get("le")
        return Said(f"{failed.value} is out of range; use a whole number from {low} to {high}")
    words = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}
    limits = " and ".join(f"{words[k]} {show(v, 'money')}" for k, v in bounds.items())
    written = failed.raw if failed.raw is not None else failed.value
    return Said(f"{written} is out of range; use an amount {limits}")


@_handles("number-step", "multiple_of")
def _step(failed: Failed) -> Said:
    written = failed.raw if failed.raw is not None else failed.value
    if failed.money():
        return Said(f"{written} has more than two decimals; write dollars and cents, e.g. 5.00")
    step = failed.error.get("ctx", {}).get("multiple_of")
    return Said(f"{written} is not a multiple of {step}")


@_handles("value-choice", "literal_error")
def _choice(failed: Failed) -> Said:
    expected = str(failed.error.get("ctx", {}).get("expected", ""))
    options = [part.strip().strip("'") for part in expected.replace(" or ", ", ").split(",")]
    options = [o for o in options if o]
    message = f"`{failed.value}` is not allowed here; use one of: {', '.join(options)}"
    close = close_matches(str(failed.value), options, n=1, cutoff=0.6)
    return Said(message + (f" (did you mean `{close[0]}`?)" if close else ""))


@_handles("type-mapping", "model_type", "dict_type", "model_attributes_type")
def _mapping(failed: Failed) -> Said:
    model = model_at(failed.loc)
    keys = f" with keys such as {', '.join(keys_tuple(model)[:4])}" if model else ""
    return Said(f"expected a mapping{keys}, got {describe(failed.value)}")


@_handles("text-length", "string_too_long", "string_too_short")
def _length(failed: Failed) -> Said:
    return _as_is(failed)


# What each code this module reports means and how to fix it (see compiler.codes).
CODES: dict[str, tuple[str, str]] = {
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
    "type-number": (
        "A number (such as an amount in dollars) is expected.",
        "Write digits, with a decimal point if needed, without quotes, e.g. 5.00.",
    ),
    "int-range": (
        "A number is outside the range the setting allows.",
        "Use a number within the range the message gives.",
    ),
    "number-step": (
        "A number is finer than the setting allows, such as an amount with fractions of a cent.",
        "Round it: dollars and cents for an amount, e.g. 5.00.",
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

"""No `${...}` in admin text outside the MFA messages: nothing ever fills it in.

Only the MFA email and SMS are filled in by the sender, and only with
`${mfa.code}` (see mfa-placeholder-unknown); a placeholder in the name, the
footer or the SMS sender name reaches patients as typed.

Passes::

    name: Sunrise Pediatrics

Fails::

    look_and_feel: {footer: {text: "Questions? Call ${practice.phone}"}}
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from pydantic import AfterValidator, BaseModel

from compiler.load.located import Path_
from compiler.model import Group
from compiler.model.types import FREE_TEXT_CHECKS
from compiler.rules import Finding

CODE = "text-placeholder"
SEVERITY = "error"

_PLACEHOLDER = re.compile(r"\$\{[^}\n]*\}")


def _is_free_text(metadata: list[Any]) -> bool:
    return any(isinstance(m, AfterValidator) and m.func in FREE_TEXT_CHECKS for m in metadata)


@cache
def _text_paths(model: type[BaseModel]) -> tuple[Path_, ...]:
    """Where the model holds free text, found from the field types (no list kept by hand)."""
    found: list[Path_] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        nested = [a for a in getattr(annotation, "__args__", (annotation,)) if a is not None]
        if _is_free_text(info.metadata) or any(
            _is_free_text(list(getattr(a, "__metadata__", ()))) for a in nested
        ):
            found.append((name,))
        for sub in nested:
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                found.extend((name, *rest) for rest in _text_paths(sub))
    return tuple(found)


def _value(group: Group, path: Path_) -> object:
    value: object = group
    for key in path:
        value = getattr(value, str(key), None)
    return value


def check(group: Group) -> Iterator[Finding]:
    for path in _text_paths(Group):
        text = _value(group, path)
        if isinstance(text, str) and "${" in text:
            found = _PLACEHOLDER.search(text)
            if found:
                yield Finding(
                    (path,),
                    f"{path[-1]} has the placeholder {found.group(0)}, which nothing fills in "
                    "(only the MFA email and SMS get ${mfa.code}); write the text itself",
                )

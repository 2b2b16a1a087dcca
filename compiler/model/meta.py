"""What a setting is to the people around it: the admin's label, help, example, kind, panel.

Every field of the model is declared with `option(...)`, which is pydantic's own
`Field` with the label as `title`, the help as `description` and the example as
`examples` (so all three reach the JSON Schema as they are), plus one typed
marker, `Shown`, for what JSON Schema has no word for: how a value is shown and
on which admin panel it sits. The marker rides in `FieldInfo.metadata`, where
pydantic also keeps an `Annotated[...]` marker; pydantic ignores it when it
validates, so the hot path does not pay for it.

Consumers (diff, explain, schema, `pops new`, preview, docs/settings.md, tests)
ask `compiler.model.options` rather than keeping lists of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

# How a value is shown to a person (diff, preview, docs): on/off, a line of text,
# several lines (changes shown as a text diff), a colour swatch, an amount in dollars,
# one of a few words, a whole number, a list.
Kind = Literal["boolean", "text", "multiline", "colour", "money", "choice", "number", "list"]

# The admin screen's panels, as the admin guide names them; "File" is for keys that
# describe the group file itself (format version, shared base, owners), on no panel.
PanelName = Literal[
    "File",
    "Branding",
    "Theme",
    "Payments",
    "Look and Feel",
    "Authentication",
    "Notifications",
    "Patient Permissions",
]


@dataclass(frozen=True, slots=True)
class Shown:
    """The marker `option()` attaches to a field: its display kind and its panel."""

    kind: Kind
    panel: PanelName


_NO_EXAMPLE: Any = object()


def option(
    default: Any = PydanticUndefined,
    *,
    label: str,
    help: str,
    kind: Kind,
    panel: PanelName,
    example: Any = _NO_EXAMPLE,
    **constraints: Any,
) -> Any:
    """A model field that describes itself: `Field` plus the `Shown` marker.

    `constraints` are `Field`'s own (`ge=`, `le=`, `alias=`, `default_factory=`...).
    An amount (kind "money") is a `float` in dollars, so it is also held to whole
    cents and finite values here, once for every amount. Typed `Any`, like `Field`,
    so `name: bool = option(...)` type-checks.
    """
    if kind == "money":
        constraints = {"multiple_of": 0.01, "allow_inf_nan": False, **constraints}
    examples = None if example is _NO_EXAMPLE else [example]
    info: FieldInfo = Field(
        default, title=label, description=help, examples=examples, **constraints
    )
    info.metadata.append(Shown(kind, panel))
    return info


def shown(info: FieldInfo) -> Shown | None:
    """The field's marker; None for a section (a mapping of fields, not one value)."""
    for meta in info.metadata:
        if isinstance(meta, Shown):
            return meta
    return None

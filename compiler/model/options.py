"""Every setting of a group file, described once, from the model: what consumers ask.

`options()` walks `Group` in model order and returns one `Option` per leaf key
(a value the admin writes, not a section), with the words and kind its field
declares through `compiler.model.meta.option`. Diff labels, explain, the
preview, `pops new`, docs/settings.md and the tests' key lists come from here,
so a field added to a panel reaches all of them at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from compiler.model.group import Group
from compiler.model.meta import Kind, PanelName, shown

KeyPath = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Option:
    """One leaf setting: where it is written and how it is presented."""

    path: KeyPath  # as written in a group file: ("payments", "apple_pay")
    label: str  # as on the admin screen: "Enable Apple Pay"
    help: str
    kind: Kind
    panel: PanelName
    default: Any  # None when the setting is unset unless written
    examples: tuple[Any, ...]
    required: bool

    @property
    def key(self) -> str:
        return ".".join(self.path)

    @property
    def title(self) -> str:
        """The label with its panel, as a reviewer reads it: `Payments › Enable Apple Pay`."""
        return self.label if self.panel == "File" else f"{self.panel} › {self.label}"

    @property
    def example(self) -> Any:
        """The field's example, else its default (a boolean's example is "switched on")."""
        if self.examples:
            return self.examples[0]
        if self.kind == "boolean":
            return not self.default
        return self.default


def submodel(info: FieldInfo) -> type[BaseModel] | None:
    """The model of a section field; None for a leaf."""
    annotation = info.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _walk(model: type[BaseModel], prefix: KeyPath) -> Iterator[Option]:
    for name, info in model.model_fields.items():
        path = (*prefix, info.alias or name)
        child = submodel(info)
        if child is not None:
            yield from _walk(child, path)
            continue
        marker = shown(info)
        if marker is None or info.title is None or not info.description:
            raise TypeError(f"{'.'.join(path)}: declare it with compiler.model.meta.option()")
        yield Option(
            path,
            info.title,
            info.description,
            marker.kind,
            marker.panel,
            None if info.is_required() else info.get_default(call_default_factory=True),
            tuple(info.examples or ()),
            info.is_required(),
        )


@cache
def options() -> tuple[Option, ...]:
    """Every leaf setting of a group file, in the order of the model."""
    return tuple(_walk(Group, ()))


@cache
def by_key() -> dict[str, Option]:
    """`payments.apple_pay` -> its Option."""
    return {option.key: option for option in options()}


def in_section(*section: str) -> list[Option]:
    """The settings directly under `section` (`in_section("payments")`), in model order."""
    return [o for o in options() if o.path[:-1] == section]


def show(value: Any, kind: Kind | None = None) -> str:
    """A value as the admin reads it: on/off, not set, $5.00, the text itself."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "not set"
    if kind == "money" and isinstance(value, int | float):
        return f"${value:,.2f}"  # amounts are validated to whole cents
    if isinstance(value, dict) and "display" in value:
        return str(value["display"])
    if isinstance(value, list):
        return ", ".join(show(v) for v in value) or "none"
    return str(value)

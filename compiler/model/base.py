"""The one model configuration every panel shares: strict types, unknown keys refused."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict


class Panel(BaseModel):
    """Strict: `yes` is not a boolean, `2125550199` is not a phone, typos are not ignored."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


P = TypeVar("P", bound=Panel)


def shared_default(panel: type[P]) -> Callable[[], P]:
    """A `default_factory` that builds the panel's default once, on first use.

    Panels are frozen, so every group that leaves a section out can share one
    default; a sparse group would otherwise validate an empty mapping for each
    section it omits (most of the model time of a minimal group).
    """

    @cache
    def default() -> P:
        return panel()

    return default

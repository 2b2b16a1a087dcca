"""Shared by the two contrast rules: which pairs are measured and how it is said."""

from __future__ import annotations

from collections.abc import Iterator

from compiler import colors
from compiler.load import Path_
from compiler.model import Group

BACKDROPS = ("background", "surface")


def pairs(group: Group, foregrounds: tuple[str, ...]) -> Iterator[tuple[str, str, float]]:
    """(foreground, backdrop, ratio) for every measured pair."""
    palette = group.theme.palette()
    for fg in foregrounds:
        for bg in BACKDROPS:
            yield fg, bg, colors.contrast_ratio(palette[fg], palette[bg])


def paths(fg: str, bg: str) -> tuple[Path_, ...]:
    return (("theme", "colors", fg), ("theme", "colors", bg), ("theme", "dark"))


def describe(group: Group, fg: str, bg: str, ratio: float) -> str:
    palette = group.theme.palette()
    # Truncate, not round: 2.996 must not be shown as "3.00:1" next to "under 3:1".
    shown = int(ratio * 100) / 100
    return f"{fg} {palette[fg]} on {bg} {palette[bg]} has contrast {shown:.2f}:1"

"""Shared by the two contrast rules: which pairs are measured and how it is said."""

from __future__ import annotations

from collections.abc import Iterator

from compiler import colors
from compiler.load import Path_
from compiler.model import Group
from compiler.rules.theme_dark_mismatch import mismatched

BACKDROPS = ("background", "surface")
FOREGROUNDS = ("primary", "error")

# (theme, ratio of each measured pair) of the last group measured: both contrast rules
# look at the same pairs of the same group, one right after the other.
_measured: tuple[object, dict[tuple[str, str], float]] = (None, {})


def _ratios(group: Group) -> dict[tuple[str, str], float]:
    global _measured
    theme, ratios = _measured
    if theme is not group.theme:
        palette = group.theme.palette()
        ratios = {
            (fg, bg): colors.contrast_ratio(palette[fg], palette[bg])
            for fg in FOREGROUNDS
            for bg in BACKDROPS
        }
        _measured = (group.theme, ratios)
    return ratios


def pairs(group: Group, foregrounds: tuple[str, ...]) -> Iterator[tuple[str, str, float]]:
    """(foreground, backdrop, ratio) for every measured pair (foregrounds of FOREGROUNDS).

    With `theme.dark` contradicting the backdrops, a foreground the admin left out
    came from the wrong palette: theme-dark-mismatch reports that one cause, so
    its pairs are not measured again here.
    """
    ratios = _ratios(group)
    wrong_palette = bool(mismatched(group))
    for fg in foregrounds:
        if wrong_palette and getattr(group.theme.colors, fg) is None:
            continue
        for bg in BACKDROPS:
            yield fg, bg, ratios[fg, bg]


def lowest(group: Group, foregrounds: tuple[str, ...]) -> float:
    """The lowest ratio of the pairs of `foregrounds`; at or above a rule's minimum, the
    rule has nothing to report and can skip building its findings."""
    ratios = _ratios(group)
    return min(ratios[fg, bg] for fg in foregrounds for bg in BACKDROPS)


def paths(fg: str, bg: str) -> tuple[Path_, ...]:
    return (("theme", "colors", fg), ("theme", "colors", bg), ("theme", "dark"))


def describe(group: Group, fg: str, bg: str, ratio: float) -> str:
    palette = group.theme.palette()
    # Truncate, not round: 2.996 must not be shown as "3.00:1" next to "under 3:1".
    shown = int(ratio * 100) / 100
    return f"{fg} {palette[fg]} on {bg} {palette[bg]} has contrast {shown:.2f}:1"

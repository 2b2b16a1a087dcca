"""`primary` on `background` and on `surface` needs at least 3:1 (WCAG 2).

Below that, links and outlined buttons drawn in the primary colour cannot be read.

Passes::

    theme: {colors: {primary: "#1976d2", background: "#ffffff"}}

Fails::

    theme: {colors: {primary: "#ffeb3b", background: "#ffffff"}}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler import colors
from compiler.model import Group
from compiler.rules import Finding
from compiler.rules.contrast import describe, lowest, pairs, paths

CODE = "contrast-low"
SEVERITY = "error"
MINIMUM = 3.0


def failing(group: Group) -> Iterator[tuple[str, str, float]]:
    """The pairs under 3:1; the AA rule skips these so each pair is reported once."""
    return ((fg, bg, r) for fg, bg, r in pairs(group, ("primary",)) if r < MINIMUM)


def check(group: Group) -> Iterator[Finding]:
    if lowest(group, ("primary",)) >= MINIMUM:
        return
    palette = group.theme.palette()
    for fg, bg, ratio in failing(group):
        direction = "lighter" if colors.is_dark(palette[bg]) else "darker"
        yield Finding(
            paths(fg, bg),
            f"{describe(group, fg, bg, ratio)}, under the 3:1 minimum for links and outlined "
            f"buttons; pick a {direction} primary",
        )

"""`primary` and `error` text on `background` and `surface` should reach 4.5:1 (WCAG AA).

A warning: the portal still works, but small text in these colours is hard to
read for many patients. Pairs already under 3:1 are reported by `contrast-low`.

Passes::

    theme: {colors: {primary: "#1565c0", error: "#b00020"}}

Fails::

    theme: {colors: {primary: "#2196f3"}}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler import colors
from compiler.model import Group
from compiler.rules import Finding
from compiler.rules.contrast import describe, lowest, pairs, paths
from compiler.rules.contrast_low import failing

CODE = "contrast-aa"
SEVERITY = "warning"
MINIMUM = 4.5


def check(group: Group) -> Iterator[Finding]:
    if lowest(group, ("primary", "error")) >= MINIMUM:
        return
    already = {(fg, bg) for fg, bg, _ in failing(group)}
    palette = group.theme.palette()
    for fg, bg, ratio in pairs(group, ("primary", "error")):
        if ratio < MINIMUM and (fg, bg) not in already:
            direction = "lighter" if colors.is_dark(palette[bg]) else "darker"
            yield Finding(
                paths(fg, bg),
                f"{describe(group, fg, bg, ratio)}, under the 4.5:1 that WCAG AA asks for "
                f"text; small text in this colour will be hard to read: pick a {direction} {fg}",
            )

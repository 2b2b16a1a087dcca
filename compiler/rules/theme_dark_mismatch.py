"""`theme.dark` must match the background and surface, or text becomes unreadable.

A colour is dark when white text on it has more WCAG 2 contrast than black text.

Passes::

    theme: {dark: true, colors: {background: "#121212", surface: "#1e1e1e"}}

Fails::

    theme: {dark: false, colors: {background: "#121212"}}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler import colors
from compiler.model import Group
from compiler.rules import Finding

CODE = "theme-dark-mismatch"
SEVERITY = "error"


def check(group: Group) -> Iterator[Finding]:
    palette = group.theme.palette()
    for name in ("background", "surface"):
        value = palette[name]
        dark = colors.is_dark(value)
        if dark == group.theme.dark:
            continue
        if dark:
            message = (
                f"{name} {value} is dark but theme.dark is false, so text would be drawn dark "
                "on dark; set theme.dark: true or choose a light colour"
            )
        else:
            message = (
                f"{name} {value} is light but theme.dark is true, so text would be drawn light "
                "on light; set theme.dark: false or choose a dark colour"
            )
        yield Finding((("theme", "dark"), ("theme", "colors", name)), message)

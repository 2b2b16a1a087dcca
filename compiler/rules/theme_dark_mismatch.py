"""`theme.dark` must match the background and surface, or text becomes unreadable.

A colour is dark when white text on it has more WCAG 2 contrast than black text.
One finding names every backdrop that disagrees; the contrast rules stay quiet
about colours the admin left out, since the flag picked them from the wrong
palette and fixing the flag fixes them.

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


def mismatched(group: Group) -> list[str]:
    """The backdrops (background, surface) whose darkness contradicts `theme.dark`."""
    palette = group.theme.palette()
    return [n for n in ("background", "surface") if colors.is_dark(palette[n]) != group.theme.dark]


def check(group: Group) -> Iterator[Finding]:
    names = mismatched(group)
    if not names:
        return
    palette = group.theme.palette()
    subject = " and ".join(f"{name} {palette[name]}" for name in names)
    verb = "is" if len(names) == 1 else "are"
    if colors.is_dark(palette[names[0]]):
        message = (
            f"{subject} {verb} dark but theme.dark is false, so text would be drawn dark "
            "on dark; set theme.dark: true or choose a light colour"
        )
    else:
        message = (
            f"{subject} {verb} light but theme.dark is true, so text would be drawn light "
            "on light, and every colour left out comes from the dark palette; set "
            "theme.dark: false or choose a dark colour"
        )
    yield Finding((("theme", "dark"), *(("theme", "colors", name) for name in names)), message)

"""Colours some pages draw should reach WCAG AA contrast: 4.5:1 for text (WCAG 2).

A warning (an error under --strict): secondary, accent, info, success, warning and
error as text, on their tonal backgrounds (alerts, chips) and on the backdrops. One
warning per colour names its worst pair and the nearest passing colour of the same
hue. A colour that also fails a pair every page shows is `contrast-low` instead.

Passes::

    theme: {colors: {info: "#1565c0", error: "#b00020"}}

Fails::

    theme: {colors: {info: "#2196f3"}}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding
from compiler.rules.contrast import message, paths, problems

CODE = "contrast-aa"
SEVERITY = "warning"


def check(group: Group) -> Iterator[Finding]:
    for problem in problems(group):
        if not problem.every_page:
            yield Finding(paths(problem), message(problem, group))

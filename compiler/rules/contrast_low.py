"""Colours every page draws need WCAG AA contrast: 4.5:1 for text (WCAG 2).

Every page shows primary buttons and links (on the page and on cards), text on
the background and the surface, and medium-emphasis text such as field labels
and hints. A colour failing any of those pairs is one error, naming its worst
pair (compiler/rules/contrast.py measures every pair the portal draws; the list
is docs/contrast.md) and proposing the nearest colour of the same hue that passes.

Passes::

    theme: {colors: {primary: "#1976d2", background: "#ffffff"}}

Fails::

    theme: {colors: {primary: "#ffeb3b", background: "#ffffff"}}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding
from compiler.rules.contrast import message, paths, problems

CODE = "contrast-low"
SEVERITY = "error"


def check(group: Group) -> Iterator[Finding]:
    for problem in problems(group):
        if problem.every_page:
            yield Finding(paths(problem), message(problem, group))

"""WCAG 2 contrast of the colour pairs the portal draws, from a group's config.json.

Computed with the same maths the rules use (`compiler.colors`), so the table on
a preview page agrees with `pops validate`.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any, NamedTuple

from markupsafe import Markup, escape

from compiler import colors

AA_TEXT = 4.5
AA_LARGE = 3.0
_HEX = re.compile(r"#[0-9a-fA-F]{3,8}")
THEME_COLORS = ("primary", "secondary", "accent", "info", "success", "warning", "error")


class ContrastRow(NamedTuple):
    """One colour pair of the theme, as the portal draws it, against WCAG AA.

    (A named tuple: a frozen dataclass took longer to make than its ratio.)
    """

    use: str
    foreground: str  # colour names, also the theme.css class suffixes
    background: str
    foreground_hex: str
    background_hex: str
    ratio: float

    @property
    def shown(self) -> str:
        """Rounded down, so a ratio shown as 4.50 never fails 4.5."""
        return f"{math.floor(self.ratio * 100) / 100:.2f}:1"

    @property
    def text_ok(self) -> bool:
        return self.ratio >= AA_TEXT

    @property
    def large_ok(self) -> bool:
        return self.ratio >= AA_LARGE


def _pairs() -> list[tuple[str, str, str]]:
    """(use, foreground, background) of each row: on-colours on fills, then theme
    colours as text on the page. Foregrounds named `on-*` are Vuetify's colours."""
    pairs = [
        ("Page text", "on-background", "background"),
        ("Card text", "on-surface", "surface"),
    ]
    pairs += [(f"Text on {name} buttons and alerts", f"on-{name}", name) for name in THEME_COLORS]
    pairs += [
        (f"{name.capitalize()} text and outlines on the {ground}", name, ground)
        for name in THEME_COLORS
        for ground in ("background", "surface")
    ]
    return pairs


PAIRS = _pairs()


def contrast_rows(config: dict[str, Any]) -> list[ContrastRow]:
    """The pairs patients read (`PAIRS`), with this theme's colours and their ratios."""
    palette: dict[str, str] = config["theme"]["colors"]
    vuetify: dict[str, str] = config["theme"]["vuetify"]["colors"]
    rows = []
    for use, fg, bg in PAIRS:
        fg_hex = vuetify[fg] if fg.startswith("on-") else palette[fg]
        bg_hex = palette[bg]
        rows.append(ContrastRow(use, fg, bg, fg_hex, bg_hex, colors.contrast_ratio(fg_hex, bg_hex)))
    return rows


def table_html(config: dict[str, Any]) -> Markup:
    """`rows_html(contrast_rows(config))`, worked out once per pair of palettes: both
    pages of a group whose colours did not change show the same table."""
    theme = config["theme"]
    return _table(tuple(theme["colors"].items()), tuple(theme["vuetify"]["colors"].items()))


@functools.lru_cache(maxsize=1024)
def _table(palette: tuple[tuple[str, str], ...], vuetify: tuple[tuple[str, str], ...]) -> Markup:
    theme = {"colors": dict(palette), "vuetify": {"colors": dict(vuetify)}}
    return rows_html(contrast_rows({"theme": theme}))


_VERDICT = ('<td class="pv-fail">✗ fail</td>', '<td class="pv-pass">✓ pass</td>')


def rows_html(rows: list[ContrastRow]) -> Markup:
    """The table rows, written here rather than in the template: a fleet-scale preview
    draws twenty thousand pages, and this is the largest repeated part of each.

    Every value is ours (colour names, uses) or a colour the model checked;
    anything else would still be escaped.
    """
    out = []
    for row in rows:
        fg_hex, bg_hex = _safe(row.foreground_hex), _safe(row.background_hex)
        out.append(
            f"{_row_start(row.use, row.foreground, row.background)}"
            f"<td><code>{fg_hex}</code> on <code>{bg_hex}</code></td>\n"
            f"<td>{row.shown}</td>\n{_VERDICT[row.text_ok]}\n{_VERDICT[row.large_ok]}\n</tr>\n"
        )
    return Markup("".join(out))


@functools.lru_cache(maxsize=64)
def _row_start(use: str, foreground: str, background: str) -> str:
    """What a row says before its colours: the same for every group."""
    fg = foreground if foreground.startswith("on-") else f"text-{foreground}"
    return (
        f'<tr data-pair="{foreground}/{background}">\n<td>{use}</td>\n'
        f'<td><span class="pv-sample bg-{background} {fg}">Aa</span></td>\n'
    )


@functools.lru_cache(maxsize=4096)
def _safe(colour: str) -> str:
    return colour if _HEX.fullmatch(colour) else str(escape(colour))

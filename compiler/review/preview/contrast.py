"""WCAG 2 contrast of the colour pairs the portal draws, from a group's config.json.

Computed with the same maths the rules use (`compiler.colors`), so the table on
a preview page agrees with `pops validate`.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from compiler import colors

AA_TEXT = 4.5
AA_LARGE = 3.0
_HEX = re.compile(r"#[0-9a-fA-F]{3,8}")
THEME_COLORS = ("primary", "secondary", "accent", "info", "success", "warning", "error")


@dataclass(frozen=True, slots=True)
class ContrastRow:
    """One colour pair of the theme, as the portal draws it, against WCAG AA."""

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


def contrast_rows(config: dict[str, Any]) -> list[ContrastRow]:
    """The pairs patients read: on-colours on fills, theme colours as text on the page."""
    palette: dict[str, str] = config["theme"]["colors"]
    vuetify: dict[str, str] = config["theme"]["vuetify"]["colors"]

    def row(use: str, fg: str, bg: str, fg_hex: str, bg_hex: str) -> ContrastRow:
        return ContrastRow(use, fg, bg, fg_hex, bg_hex, colors.contrast_ratio(fg_hex, bg_hex))

    rows = [
        row(
            "Page text",
            "on-background",
            "background",
            vuetify["on-background"],
            palette["background"],
        ),
        row("Card text", "on-surface", "surface", vuetify["on-surface"], palette["surface"]),
    ]
    for name in THEME_COLORS:
        rows.append(
            row(
                f"Text on {name} buttons and alerts",
                f"on-{name}",
                name,
                vuetify[f"on-{name}"],
                palette[name],
            )
        )
    for name in THEME_COLORS:
        for ground in ("background", "surface"):
            rows.append(
                row(
                    f"{name.capitalize()} text and outlines on the {ground}",
                    name,
                    ground,
                    palette[name],
                    palette[ground],
                )
            )
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


def _verdict(ok: bool) -> str:
    return '<td class="pv-pass">✓ pass</td>' if ok else '<td class="pv-fail">✗ fail</td>'


def rows_html(rows: list[ContrastRow]) -> Markup:
    """The table rows, written here rather than in the template: a fleet-scale preview
    draws twenty thousand pages, and this is the largest repeated part of each.

    Every value is ours (colour names, uses) or a colour the model checked;
    anything else would still be escaped.
    """
    out = []
    for row in rows:
        fg = row.foreground if row.foreground.startswith("on-") else f"text-{row.foreground}"
        fg_hex, bg_hex = _safe(row.foreground_hex), _safe(row.background_hex)
        out.append(
            f'<tr data-pair="{row.foreground}/{row.background}">\n<td>{row.use}</td>\n'
            f'<td><span class="pv-sample bg-{row.background} {fg}">Aa</span></td>\n'
            f"<td><code>{fg_hex}</code> on <code>{bg_hex}</code></td>\n"
            f"<td>{row.shown}</td>\n{_verdict(row.text_ok)}\n{_verdict(row.large_ok)}\n</tr>\n"
        )
    return Markup("".join(out))


def _safe(colour: str) -> str:
    return colour if _HEX.fullmatch(colour) else str(escape(colour))

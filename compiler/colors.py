"""Colour arithmetic shared by rules and renderers: one definition of WCAG 2 contrast.

Results are memoised per colour: thousands of groups share a few hundred colours.

Contrast follows WCAG 2.x exactly: sRGB channels are linearised, relative
luminance is 0.2126 R + 0.7152 G + 0.0722 B, and the ratio is
(L1 + 0.05) / (L2 + 0.05) with L1 the lighter colour.
"""

from __future__ import annotations

import re
from functools import lru_cache

HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")

BLACK = "#000000"
WHITE = "#ffffff"


def is_hex_color(text: str) -> bool:
    """True for `#rgb` or `#rrggbb` in any case, nothing else (no CSS snippets)."""
    return HEX_COLOR.fullmatch(text) is not None


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """`#ABC` -> `#aabbcc`; the one spelling every artifact uses."""
    if not is_hex_color(text):
        raise ValueError(f"not a hex colour: {text!r}")
    digits = text[1:].lower()
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return "#" + digits


@lru_cache(maxsize=8192)
def rgb(color: str) -> tuple[int, int, int]:
    """Channels 0..255 of a normalised `#rrggbb` colour."""
    value = normalize(color)
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


@lru_cache(maxsize=8192)
def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance, 0 for black and 1 for white."""
    r, g, b = rgb(color)
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio between two colours, from 1.0 to 21.0."""
    la, lb = relative_luminance(a), relative_luminance(b)
    lighter, darker = max(la, lb), min(la, lb)
    return (lighter + 0.05) / (darker + 0.05)


@lru_cache(maxsize=8192)
def on_color(color: str) -> str:
    """Black or white, whichever text colour has the higher WCAG 2 contrast on `color`."""
    return WHITE if contrast_ratio(WHITE, color) > contrast_ratio(BLACK, color) else BLACK


def is_dark(color: str) -> bool:
    """A colour is dark when white text on it out-contrasts black text."""
    return on_color(color) == WHITE

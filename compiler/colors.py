"""Colour arithmetic shared by rules and renderers: one definition of WCAG 2 contrast.

Results are memoised per colour: thousands of groups share a few hundred colours
(defaults, bases), which an LRU memo keeps however many one-off colours pass by.

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

# Memo size for per-colour results. Shared colours stay whatever the size (they are
# used all the time); past a few thousand entries a bigger memo mostly holds one-off
# colours, but it also spares evictions. Entries are small: a few MB at most.
CACHE_SIZE = 1 << 15


def is_hex_color(text: str) -> bool:
    """True for `#rgb` or `#rrggbb` in any case, nothing else (no CSS snippets)."""
    return HEX_COLOR.fullmatch(text) is not None


@lru_cache(maxsize=CACHE_SIZE)
def normalize(text: str) -> str:
    """`#ABC` -> `#aabbcc`; the one spelling every artifact uses."""
    if not is_hex_color(text):
        raise ValueError(f"not a hex colour: {text!r}")
    digits = text[1:].lower()
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return "#" + digits


@lru_cache(maxsize=CACHE_SIZE)
def rgb(color: str) -> tuple[int, int, int]:
    """Channels 0..255 of a normalised `#rrggbb` colour."""
    r, g, b = bytes.fromhex(normalize(color)[1:])
    return r, g, b


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


# `_linear` of every channel value: the same floats, without a power per call.
LINEAR: tuple[float, ...] = tuple(_linear(channel) for channel in range(256))


def luminance_of(r: int, g: int, b: int) -> float:
    """WCAG 2 relative luminance of channels 0..255."""
    return 0.2126 * LINEAR[r] + 0.7152 * LINEAR[g] + 0.0722 * LINEAR[b]


@lru_cache(maxsize=CACHE_SIZE)
def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance, 0 for black and 1 for white."""
    return luminance_of(*rgb(color))


def _ratio(la: float, lb: float) -> float:
    lighter, darker = max(la, lb), min(la, lb)
    return (lighter + 0.05) / (darker + 0.05)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio between two colours, from 1.0 to 21.0."""
    return _ratio(relative_luminance(a), relative_luminance(b))


_WHITE_LUMINANCE = luminance_of(255, 255, 255)
_BLACK_LUMINANCE = luminance_of(0, 0, 0)


def on_channels(r: int, g: int, b: int) -> str:
    """on_color() of channels 0..255, for renderers that meet thousands of new colours:
    the same two contrast ratios, written out without a call per step."""
    lum = 0.2126 * LINEAR[r] + 0.7152 * LINEAR[g] + 0.0722 * LINEAR[b]  # luminance_of
    white, black = _WHITE_LUMINANCE, _BLACK_LUMINANCE
    # _ratio(white, lum) and _ratio(black, lum): max/min spelled as comparisons.
    on_white = (white + 0.05) / (lum + 0.05) if white >= lum else (lum + 0.05) / (white + 0.05)
    on_black = (black + 0.05) / (lum + 0.05) if black >= lum else (lum + 0.05) / (black + 0.05)
    return WHITE if on_white > on_black else BLACK


@lru_cache(maxsize=CACHE_SIZE)
def on_color(color: str) -> str:
    """Black or white, whichever text colour has the higher WCAG 2 contrast on `color`."""
    white = _ratio(relative_luminance(WHITE), relative_luminance(color))
    black = _ratio(relative_luminance(BLACK), relative_luminance(color))
    return WHITE if white > black else BLACK


def is_dark(color: str) -> bool:
    """A colour is dark when white text on it out-contrasts black text."""
    return on_color(color) == WHITE

"""Colour arithmetic shared by rules and renderers: one definition of WCAG 2 contrast.

Results are memoised per colour: thousands of groups share a few hundred colours
(defaults, bases), which an LRU memo keeps however many one-off colours pass by.

Contrast follows WCAG 2.x exactly: sRGB channels are linearised, relative
luminance is 0.2126 R + 0.7152 G + 0.0722 B, and the ratio is
(L1 + 0.05) / (L2 + 0.05) with L1 the lighter colour.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
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


def _linear(channel: float) -> float:
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


def blend(color: str, alpha: float, backdrop: str) -> tuple[float, float, float]:
    """`color` at opacity `alpha` over `backdrop`, channels 0..255 as floats: how browsers
    composite a translucent layer (per sRGB-encoded channel, not in linear light)."""
    (r, g, b), (br, bg, bb) = rgb(color), rgb(backdrop)
    rest = 1 - alpha
    return r * alpha + br * rest, g * alpha + bg * rest, b * alpha + bb * rest


def luminance_of_floats(r: float, g: float, b: float) -> float:
    """WCAG 2 relative luminance of channels 0..255 that need not be whole (a blend)."""
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def ratio_of_luminances(la: float, lb: float) -> float:
    """WCAG 2 contrast ratio of two relative luminances."""
    return _ratio(la, lb)


def hex_of(r: float, g: float, b: float) -> str:
    """`#rrggbb` of channels 0..255, each rounded to the nearest whole value."""
    return "#" + "".join(f"{min(255, max(0, math.floor(c + 0.5))):02x}" for c in (r, g, b))


# --- OKLab / OKLCH (Björn Ottosson's published matrices), for lightness moves that
# keep a colour's hue as people see it ---


def _srgb_linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _srgb_encode(channel: float) -> float:
    return channel * 12.92 if channel <= 0.0031308 else 1.055 * channel ** (1 / 2.4) - 0.055


@lru_cache(maxsize=CACHE_SIZE)
def oklch(color: str) -> tuple[float, float, float]:
    """OKLCH of a hex colour: lightness 0..1, chroma, hue in degrees."""
    r, g, b = (LINEAR[c] for c in rgb(color))
    lc = math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b)
    mc = math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b)
    sc = math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b)
    ll = 0.2104542553 * lc + 0.7936177850 * mc - 0.0040720468 * sc
    aa = 1.9779984951 * lc - 2.4285922050 * mc + 0.4505937099 * sc
    bb = 0.0259040371 * lc + 0.7827717662 * mc - 0.8086757660 * sc
    return ll, math.hypot(aa, bb), math.degrees(math.atan2(bb, aa)) % 360


def _oklch_linear(lightness: float, chroma: float, hue: float) -> tuple[float, float, float]:
    a = chroma * math.cos(math.radians(hue))
    b = chroma * math.sin(math.radians(hue))
    lc = (lightness + 0.3963377774 * a + 0.2158037573 * b) ** 3
    mc = (lightness - 0.1055613458 * a - 0.0638541728 * b) ** 3
    sc = (lightness - 0.0894841775 * a - 1.2914855480 * b) ** 3
    return (
        4.0767416621 * lc - 3.3077115913 * mc + 0.2309699292 * sc,
        -1.2684380046 * lc + 2.6097574011 * mc - 0.3413193965 * sc,
        -0.0041960863 * lc - 0.7034186147 * mc + 1.7076147010 * sc,
    )


def from_oklch(lightness: float, chroma: float, hue: float) -> str:
    """The hex colour of an OKLCH value; outside sRGB, chroma is reduced (hue and
    lightness kept) until it fits, as CSS Color 4 gamut mapping does."""
    lightness = min(1.0, max(0.0, lightness))

    def fits(c: float) -> bool:
        return all(-1e-7 <= v <= 1 + 1e-7 for v in _oklch_linear(lightness, c, hue))

    if not fits(chroma):
        low, high = 0.0, chroma
        for _ in range(24):
            middle = (low + high) / 2
            low, high = (middle, high) if fits(middle) else (low, middle)
        chroma = low
    channels = (min(1.0, max(0.0, v)) for v in _oklch_linear(lightness, chroma, hue))
    return hex_of(*(_srgb_encode(v) * 255 for v in channels))


def nearest_lightness(color: str, passes: Callable[[str], bool], darker_first: bool) -> str | None:
    """The colour nearest `color` in OKLCH lightness (same hue and chroma, chroma reduced
    only where sRGB ends) for which `passes` holds; None when no lightness does."""
    lightness, chroma, hue = oklch(color)
    step = 0.0025
    for index in range(1, int(1 / step) + 2):
        moves = (-index * step, index * step) if darker_first else (index * step, -index * step)
        for move in moves:
            target = lightness + move
            if not -step < target < 1 + step:
                continue
            candidate = from_oklch(target, chroma, hue)
            if candidate != color and passes(candidate):
                return _refine(color, passes, (lightness, chroma, hue), move, step) or candidate
    return None


def _refine(
    color: str,
    passes: Callable[[str], bool],
    lch: tuple[float, float, float],
    move: float,
    step: float,
) -> str | None:
    """The first passing colour in finer steps over the last coarse step of `move`."""
    lightness, chroma, hue = lch
    sign = 1 if move > 0 else -1
    fine = step / 25
    start = abs(move) - step
    for index in range(1, 26):
        candidate = from_oklch(lightness + sign * (start + index * fine), chroma, hue)
        if candidate != color and passes(candidate):
            return candidate
    return None


# --- APCA (WCAG 3 draft, APCA-W3 0.0.98G-4g constants), shown for information only ---


def _apca_y(color: str) -> float:
    r, g, b = rgb(color)
    y: float = 0.2126729 * (r / 255) ** 2.4 + 0.7151522 * (g / 255) ** 2.4
    y += 0.0721750 * (b / 255) ** 2.4
    if y < 0.022:
        y += float((0.022 - y) ** 1.414)
    return y


def apca_lc(text: str, background: str) -> float:
    """APCA lightness contrast Lc of `text` on `background`: positive for dark text on a
    light background, negative for light on dark; 0 when too close to tell."""
    ty, by = _apca_y(text), _apca_y(background)
    if abs(by - ty) < 0.0005:
        return 0.0
    if by > ty:
        sapc = (by**0.56 - ty**0.57) * 1.14
        return 0.0 if sapc < 0.1 else (sapc - 0.027) * 100
    sapc = (by**0.65 - ty**0.62) * 1.14
    return 0.0 if sapc > -0.1 else (sapc + 0.027) * 100

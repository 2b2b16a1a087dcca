"""Vuetify's colour maths (util/color: transformSRGB, transformCIELAB), to the bit.

Vuetify's lighten/darken move a colour's CIELAB lightness by 10 per step; these
conversions re-implement its transforms with the same constants and rounding, so
every variation matches Vuetify (tests/test_theme_css.py checks against the real
package).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from compiler import colors as colorlib

# --- colour maths, mirroring Vuetify's util/color/transformSRGB and transformCIELAB ---
# Arithmetic is written out with the same operations in the same order as the
# textbook form, so every float (and so every rounded channel) is unchanged; the
# per-colour results are memoised because groups share colours from defaults and bases.

SRGB_TO_XYZ = ((0.4124, 0.3576, 0.1805), (0.2126, 0.7152, 0.0722), (0.0193, 0.1192, 0.9505))
XYZ_TO_SRGB = ((3.2406, -1.5372, -0.4986), (-0.9689, 1.8758, 0.0415), (0.0557, -0.2040, 1.0570))
D65 = (0.95047, 1.0, 1.08883)
DELTA = 0.20689655172413793  # 6/29, the CIELAB knee, as Vuetify spells it
DELTA_CUBED = DELTA**3
KNEE_SLOPE = 3 * DELTA**2
_CACHE = colorlib.CACHE_SIZE


def _js_round(value: float) -> int:
    """JavaScript Math.round (halves go up), which Vuetify uses; Python's round() would not."""
    return math.floor(value + 0.5)


def _srgb_to_linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _linear_to_srgb(channel: float) -> float:
    return channel * 12.92 if channel <= 0.0031308 else 1.055 * channel ** (1 / 2.4) - 0.055


# _srgb_to_linear(c / 255) for every channel value: the same floats, no power per colour.
LINEAR = tuple(_srgb_to_linear(c / 255) for c in range(256))


def xyz_of(r: int, g: int, b: int) -> tuple[float, float, float]:
    """CIE XYZ of sRGB channels with Vuetify's (rounded) sRGB matrix."""
    lr, lg, lb = LINEAR[r], LINEAR[g], LINEAR[b]
    (xr, xg, xb), (yr, yg, yb), (zr, zg, zb) = SRGB_TO_XYZ
    return xr * lr + xg * lg + xb * lb, yr * lr + yg * lg + yb * lb, zr * lr + zg * lg + zb * lb


@lru_cache(maxsize=_CACHE)
def _to_xyz(color: str) -> tuple[float, float, float]:
    """CIE XYZ of a hex colour."""
    return xyz_of(*colorlib.rgb(color))


def _channels_of_xyz(xyz: Sequence[float]) -> tuple[int, int, int]:
    """sRGB channels of an XYZ triple, clamped into sRGB and rounded like Vuetify:
    _js_round(clamp(_linear_to_srgb(M · xyz)) * 255) per channel, written out."""
    x, y, z = xyz
    out = []
    for mx, my, mz in XYZ_TO_SRGB:
        v = mx * x + my * y + mz * z
        v = v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
        v = 0.0 if v < 0.0 else 1.0 if v > 1.0 else v
        out.append(math.floor(v * 255 + 0.5))
    return out[0], out[1], out[2]


def _from_xyz(xyz: Sequence[float]) -> str:
    """Hex colour of an XYZ triple, clamped into sRGB and rounded like Vuetify."""
    r, g, b = _channels_of_xyz(xyz)
    return f"#{r:02x}{g:02x}{b:02x}"


def _lab_forward(t: float) -> float:
    return math.cbrt(t) if t > DELTA_CUBED else t / KNEE_SLOPE + 4 / 29


def _lab_reverse(t: float) -> float:
    return t**3 if t > DELTA else KNEE_SLOPE * (t - 4 / 29)


def to_lab(xyz: Sequence[float]) -> tuple[float, float, float]:
    fy = _lab_forward(xyz[1])
    return (
        116 * fy - 16,
        500 * (_lab_forward(xyz[0] / D65[0]) - fy),
        200 * (fy - _lab_forward(xyz[2] / D65[2])),
    )


def _lab_to_xyz(lab: Sequence[float]) -> tuple[float, float, float]:
    ln = (lab[0] + 16) / 116
    return (
        _lab_reverse(ln + lab[1] / 500) * D65[0],
        _lab_reverse(ln),
        _lab_reverse(ln - lab[2] / 200) * D65[2],
    )


@lru_cache(maxsize=_CACHE)
def _lab(color: str) -> tuple[float, float, float]:
    return to_lab(_to_xyz(color))


@lru_cache(maxsize=_CACHE)
def _move_lightness(color: str, delta_l: float) -> str:
    lab = _lab(color)
    return _from_xyz(_lab_to_xyz((lab[0] + delta_l, lab[1], lab[2])))


def lighten(color: str, steps: float) -> str:
    """Vuetify 3 `lighten`: CIELAB L* raised by 10 per step, so hue survives and the
    result clamps at white instead of wrapping."""
    return _move_lightness(color, steps * 10)


def darken(color: str, steps: float) -> str:
    """Vuetify 3 `darken`: CIELAB L* lowered by 10 per step, clamping at black."""
    return _move_lightness(color, -(steps * 10))


def shift_lightness(color: str, steps: float) -> str:
    """lighten() for positive steps, darken() for negative ones."""
    return lighten(color, steps) if steps >= 0 else darken(color, -steps)


@lru_cache(maxsize=_CACHE)
def overlay_multiplier(color: str, dark: bool) -> int:
    """Vuetify's `<c>-overlay-multiplier`: hover/focus overlays are doubled on the
    side (light or dark colour) where they would otherwise be hard to see."""
    light_overlay, dark_overlay = (2, 1) if dark else (1, 2)
    return light_overlay if _to_xyz(color)[1] > 0.18 else dark_overlay


@lru_cache(maxsize=_CACHE)
def rgb_triple(color: str, sep: str = ",") -> str:
    """`r,g,b` (Vuetify theme colours) or `r, g, b` (with sep=", ") for rgb(var(...))."""
    r, g, b = colorlib.rgb(color)
    return f"{r}{sep}{g}{sep}{b}"


# --- the theme definition ---

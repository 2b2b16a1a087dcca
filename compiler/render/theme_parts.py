"""The fast path's pieces: everything one base colour contributes to a group's theme,
memoised per colour, and assembled per group by a few C calls."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from compiler import colors as colorlib
from compiler.render.theme_reference import (
    BRAND_COLORS,
    DARK_SURFACE_STEPS,
    LIGHT_SURFACE_STEPS,
    VARIATION_COLORS,
    VARIATION_DARKEN,
    VARIATION_LIGHTEN,
    theme_variables,
)
from compiler.render.vuetify_color import (
    D65,
    DELTA,
    KNEE_SLOPE,
    LINEAR,
    SRGB_TO_XYZ,
    XYZ_TO_SRGB,
    rgb_triple,
    shift_lightness,
    to_lab,
    xyz_of,
)

# Parts are larger (up to two dozen strings): a smaller memo (about 15 MB when full),
# still far above the number of colours groups share.
_PART_CACHE = 8192

# --- the fast path: per-colour pieces, memoised, assembled per group ---
#
# A part is everything one base colour contributes: the colour and what derives from
# it (surface roles, lighten/darken variations), as one flat tuple laid out by
# part_fields. A group's theme is nine parts; one itemgetter per output picks the
# values from them in output order, so assembling a group costs a few C calls.

_PART_FIELDS = ("hexes", "on_hexes", "css", "css_on", "pops")


def part_fields(size: int) -> dict[str, slice]:
    """Where a part of `size` colours keeps each field: the colours, their on-colours,
    the theme.css `r,g,b` and overlay multiplier of each colour, the `r,g,b` of each
    on-colour, and the three --pops-* values of the base colour."""
    bounds = {"hexes": size, "on_hexes": size, "css": 2 * size, "css_on": size, "pops": 3}
    out: dict[str, slice] = {}
    start = 0
    for field in _PART_FIELDS:
        out[field] = slice(start, start + bounds[field])
        start += bounds[field]
    return out


# rgb_triple() of the two on-colours.
_ON_RGB = {colorlib.BLACK: "0,0,0", colorlib.WHITE: "255,255,255"}
# Channel values as text: f"{c:02x}" and str(c), looked up (formatting was a third of a part).
_HEX2 = tuple(f"{c:02x}" for c in range(256))
_DEC = tuple(str(c) for c in range(256))


def _part(colors: Sequence[tuple[str, tuple[int, int, int]]], dark: bool) -> tuple[str, ...]:
    """The part of a base colour (first) and the colours derived from it, each given
    with its channels, laid out as part_fields says. Written out rather than through
    the per-colour functions (on_color, overlay_multiplier, rgb_triple): a 10,000-group
    build meets most derived colours once, so call overhead is the cost."""
    light_overlay, dark_overlay = ("2", "1") if dark else ("1", "2")
    yr, yg, yb = SRGB_TO_XYZ[1]
    on_channels = colorlib.on_channels
    on_hexes: list[str] = []
    css: list[str] = []
    css_on: list[str] = []
    for _, (r, g, b) in colors:
        on = on_channels(r, g, b)
        on_hexes.append(on)
        # overlay_multiplier(): the Y of xyz_of(r, g, b) against Vuetify's 0.18.
        y = yr * LINEAR[r] + yg * LINEAR[g] + yb * LINEAR[b]
        css.append(f"{_DEC[r]},{_DEC[g]},{_DEC[b]}")
        css.append(light_overlay if y > 0.18 else dark_overlay)
        css_on.append(_ON_RGB[on])
    base, (r, g, b) = colors[0]
    hexes = [value for value, _ in colors]
    pops = [colorlib.normalize(base), f"{_DEC[r]}, {_DEC[g]}, {_DEC[b]}", on_hexes[0]]
    return (*hexes, *on_hexes, *css, *css_on, *pops)


def _channels(color: str) -> tuple[int, int, int]:
    """colorlib.rgb() without filling its memo: most colours here are met once."""
    r, g, b = bytes.fromhex(colorlib.normalize(color)[1:])
    return r, g, b


@lru_cache(maxsize=_PART_CACHE)
def _plain_part(color: str, dark: bool) -> tuple[str, ...]:
    """_part() of one colour, written out: most parts are plain, most colours new."""
    normal = colorlib.normalize(color)
    r, g, b = bytes.fromhex(normal[1:])
    on = colorlib.on_channels(r, g, b)
    yr, yg, yb = SRGB_TO_XYZ[1]
    y = yr * LINEAR[r] + yg * LINEAR[g] + yb * LINEAR[b]
    multiplier = ("2" if y > 0.18 else "1") if dark else ("1" if y > 0.18 else "2")
    rgb, rgb_spaced = f"{_DEC[r]},{_DEC[g]},{_DEC[b]}", f"{_DEC[r]}, {_DEC[g]}, {_DEC[b]}"
    return (color, on, rgb, multiplier, _ON_RGB[on], normal, rgb_spaced, on)


# lighten(c, 1..VARIATION_LIGHTEN) then darken(c, 1..VARIATION_DARKEN), as L* deltas.
_VARIATION_DELTAS = (
    *(step * 10 for step in range(1, VARIATION_LIGHTEN + 1)),
    *(-(step * 10) for step in range(1, VARIATION_DARKEN + 1)),
)


@lru_cache(maxsize=_PART_CACHE)
def _varied_part(color: str, dark: bool) -> tuple[str, ...]:
    """A colour with its variations, each _move_lightness(color, delta): one CIELAB for
    all, and _lab_to_xyz, _channels_of_xyz and _part written out (same operations in
    the same order, so the same floats) because nearly every brand colour is new."""
    normal = colorlib.normalize(color)
    r, g, b = bytes.fromhex(normal[1:])
    lightness, lab_a, lab_b = to_lab(xyz_of(r, g, b))
    (rx, ry, rz), (gx, gy, gz), (bx, by, bz) = XYZ_TO_SRGB
    d65_x, _, d65_z = D65
    knee, slope = DELTA, KNEE_SLOPE
    light_overlay, dark_overlay = ("2", "1") if dark else ("1", "2")
    yr, yg, yb = SRGB_TO_XYZ[1]
    on_channels = colorlib.on_channels
    hexes = [color]
    on = on_channels(r, g, b)
    on_hexes = [on]
    y = yr * LINEAR[r] + yg * LINEAR[g] + yb * LINEAR[b]
    css = [f"{_DEC[r]},{_DEC[g]},{_DEC[b]}", light_overlay if y > 0.18 else dark_overlay]
    css_on = [_ON_RGB[on]]
    pops = (normal, f"{_DEC[r]}, {_DEC[g]}, {_DEC[b]}", on)
    for delta in _VARIATION_DELTAS:
        ln = (lightness + delta + 16) / 116
        t = ln + lab_a / 500
        x = (t**3 if t > knee else slope * (t - 4 / 29)) * d65_x
        y = ln**3 if ln > knee else slope * (ln - 4 / 29)
        t = ln - lab_b / 200
        z = (t**3 if t > knee else slope * (t - 4 / 29)) * d65_z
        # Per channel: _linear_to_srgb, clamp to [0, 1], _js_round(v * 255).
        v = rx * x + ry * y + rz * z
        v = v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
        r = 0 if v < 0.0 else 255 if v > 1.0 else math.floor(v * 255 + 0.5)
        v = gx * x + gy * y + gz * z
        v = v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
        g = 0 if v < 0.0 else 255 if v > 1.0 else math.floor(v * 255 + 0.5)
        v = bx * x + by * y + bz * z
        v = v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
        b = 0 if v < 0.0 else 255 if v > 1.0 else math.floor(v * 255 + 0.5)
        hexes.append(f"#{_HEX2[r]}{_HEX2[g]}{_HEX2[b]}")
        on = on_channels(r, g, b)
        on_hexes.append(on)
        y = yr * LINEAR[r] + yg * LINEAR[g] + yb * LINEAR[b]
        css += (f"{_DEC[r]},{_DEC[g]},{_DEC[b]}", light_overlay if y > 0.18 else dark_overlay)
        css_on.append(_ON_RGB[on])
    return (*hexes, *on_hexes, *css, *css_on, *pops)


@lru_cache(maxsize=4096)
def surface_part(
    surface: str, dark: bool
) -> tuple[tuple[str, ...], dict[str, str | float], tuple[str, ...]]:
    """The surface with its roles, the theme `variables` (they follow from the surface
    alone) and their theme.css values other than the constant opacities."""
    steps = DARK_SURFACE_STEPS if dark else LIGHT_SURFACE_STEPS
    hexes = (surface, *(shift_lightness(surface, amount) for amount in steps.values()))
    variables = theme_variables({"surface": surface}, dark)
    css = tuple(
        rgb_triple(value, ", ")
        for value in variables.values()
        if isinstance(value, str) and value.startswith("#")
    )
    return _part([(value, _channels(value)) for value in hexes], dark), variables, css


# (name, has variations) of the brand colours, in order.
_BRANDS = tuple((name, name in VARIATION_COLORS) for name in BRAND_COLORS)


def parts_of(colors: Mapping[str, str], dark: bool) -> tuple[list[tuple[str, ...]], Any]:
    """The nine parts in BASE_COLORS order, then the theme `variables` and their values."""
    surface, variables, variables_css = surface_part(colors["surface"], dark)
    parts = [_plain_part(colors["background"], dark), surface]
    for name, varied in _BRANDS:
        value = colors[name]
        parts.append(_varied_part(value, dark) if varied else _plain_part(value, dark))
    parts.append(variables_css)
    return parts, variables


def part_sizes(dark: bool) -> list[int]:
    """Colours per part, in BASE_COLORS order (the same for every palette)."""
    steps = DARK_SURFACE_STEPS if dark else LIGHT_SURFACE_STEPS
    variations = VARIATION_LIGHTEN + VARIATION_DARKEN
    return [1, 1 + len(steps)] + [1 + variations * (n in VARIATION_COLORS) for n in BRAND_COLORS]


def assemble(parts: Sequence[Sequence[Any]], sizes: Sequence[int]) -> dict[str, list[Any]]:
    """The theme's values in output order, plainly: every colour, then every on-colour
    (Vuetify `colors`); the --pops-* values; the Vuetify values of theme.css (each
    colour's `r,g,b` and multiplier, each on-colour's `r,g,b`, the variables). Run once
    per layout on labels to derive the itemgetters that do it per group."""
    fields: dict[str, list[Any]] = {field: [] for field in _PART_FIELDS}
    for part, size in zip(parts, sizes, strict=False):
        for field, where in part_fields(size).items():
            fields[field] += part[where]
    tail = list(parts[len(sizes)])
    return {
        "colors": fields["hexes"] + fields["on_hexes"],
        "pops": fields["pops"],
        "vuetify_css": fields["css"] + fields["css_on"] + tail,
    }

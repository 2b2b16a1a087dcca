"""The group's theme as Vuetify 3 sees it: a theme definition and a standalone theme.css.

The portal either hands `vuetify_theme()` to `createVuetify` or runs with
`theme: false` and links theme.css. Both must give the same page, so the CSS is
generated here the way Vuetify 3's theme plugin generates its stylesheet
(`composables/theme`, verified against the real package by
tests/test_theme_css.py), plus our own `--pops-*` variables.

Vuetify's lighten/darken move a colour's CIELAB lightness by 10 per step; the
conversions below re-implement Vuetify's `util/color` transforms with the same
constants and rounding, so every variation matches Vuetify to the bit.
On-colours are always the WCAG 2 black/white choice of compiler.colors, never
Vuetify's APCA one, and are spelled out so Vuetify never computes its own.

Two ways to the same bytes: `reference_theme` and `render_theme_css_direct` say
plainly what the theme and the file are (a Jinja render of theme.css.j2); the build
uses `theme_artifacts`, which renders the template once per process with a
placeholder per value and fills each group's values from memoised per-colour parts
(a 10,000-group build spent most of its render time here). tests/test_render_speed.py
holds the two to equality. The layouts of the shipped templates are kept across
processes by store.py, with the verdict of their check.
"""

from __future__ import annotations

import math
import operator
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from compiler import colors as colorlib
from compiler.model.theme import COLOR_NAMES, DARK_PALETTE, LIGHT_PALETTE
from compiler.render import environment, shipped, store
from compiler.render.skeleton import Skeleton, prints_only, slot

if TYPE_CHECKING:
    import jinja2

TEMPLATE = "theme.css.j2"
UTILITIES_TEMPLATE = "theme-utilities.css.j2"
THEME_NAME = "pops"
PREFIX = "v-"

# The nine colours of a group, in the order every artifact lists them.
BASE_COLORS: tuple[str, ...] = COLOR_NAMES
BRAND_COLORS: tuple[str, ...] = BASE_COLORS[2:]
# Lighten/darken variations. Vuetify 3 generates none unless its `variations`
# option asks; its stock themes carry primary-darken-1 and secondary-darken-1,
# and its documentation's example asks for one lighter and two darker shades of
# primary and secondary. We spell out exactly that set: it covers the stock
# classes, and keeps theme.css small (every variation costs four utility
# classes and two variables in every group's file).
VARIATION_COLORS: tuple[str, ...] = ("primary", "secondary")
VARIATION_LIGHTEN = 1
VARIATION_DARKEN = 2
# The range the colour maths is verified over (tests compare with Vuetify's own).
LIGHTEN_STEPS = 5
DARKEN_STEPS = 4

# Surface roles Vuetify 3 adds to every theme, as CIELAB-lightness steps away from
# `surface` (negative = darker). The amounts reproduce Vuetify's stock values from
# its stock surfaces (#ffffff light, #212121 dark) to within a few units, but follow
# the group's own surface hue and lightness instead of being fixed greys.
_LIGHT_SURFACE_STEPS = {"surface-bright": 0.0, "surface-light": -0.6, "surface-variant": -7.2}
_DARK_SURFACE_STEPS = {"surface-bright": 6.6, "surface-light": 1.5, "surface-variant": 6.8}
# `theme-code` (inline <code> background) sits between surface and surface-light.
_LIGHT_CODE_STEP = -0.35
_DARK_CODE_STEP = 0.9

# Vuetify 3's stock non-colour variables; these are design constants, not colours.
_LIGHT_OPACITIES: dict[str, float] = {
    "border-opacity": 0.12,
    "high-emphasis-opacity": 0.87,
    "medium-emphasis-opacity": 0.6,
    "disabled-opacity": 0.38,
    "idle-opacity": 0.04,
    "hover-opacity": 0.04,
    "focus-opacity": 0.12,
    "selected-opacity": 0.08,
    "activated-opacity": 0.12,
    "pressed-opacity": 0.12,
    "dragged-opacity": 0.08,
}
_DARK_OPACITIES: dict[str, float] = {
    "border-opacity": 0.12,
    "high-emphasis-opacity": 1,
    "medium-emphasis-opacity": 0.7,
    "disabled-opacity": 0.5,
    "idle-opacity": 0.1,
    "hover-opacity": 0.04,
    "focus-opacity": 0.12,
    "selected-opacity": 0.08,
    "activated-opacity": 0.12,
    "pressed-opacity": 0.16,
    "dragged-opacity": 0.08,
}

# --- colour maths, mirroring Vuetify's util/color/transformSRGB and transformCIELAB ---
# Arithmetic is written out with the same operations in the same order as the
# textbook form, so every float (and so every rounded channel) is unchanged; the
# per-colour results are memoised because groups share colours from defaults and bases.

_SRGB_TO_XYZ = ((0.4124, 0.3576, 0.1805), (0.2126, 0.7152, 0.0722), (0.0193, 0.1192, 0.9505))
_XYZ_TO_SRGB = ((3.2406, -1.5372, -0.4986), (-0.9689, 1.8758, 0.0415), (0.0557, -0.2040, 1.0570))
_D65 = (0.95047, 1.0, 1.08883)
_DELTA = 0.20689655172413793  # 6/29, the CIELAB knee, as Vuetify spells it
_DELTA_CUBED = _DELTA**3
_KNEE_SLOPE = 3 * _DELTA**2
_CACHE = colorlib.CACHE_SIZE
# Parts are larger (up to two dozen strings): a smaller memo (about 15 MB when full),
# still far above the number of colours groups share.
_PART_CACHE = 8192


def _js_round(value: float) -> int:
    """JavaScript Math.round (halves go up), which Vuetify uses; Python's round() would not."""
    return math.floor(value + 0.5)


def _srgb_to_linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _linear_to_srgb(channel: float) -> float:
    return channel * 12.92 if channel <= 0.0031308 else 1.055 * channel ** (1 / 2.4) - 0.055


# _srgb_to_linear(c / 255) for every channel value: the same floats, no power per colour.
_LINEAR = tuple(_srgb_to_linear(c / 255) for c in range(256))


def _xyz_of(r: int, g: int, b: int) -> tuple[float, float, float]:
    """CIE XYZ of sRGB channels with Vuetify's (rounded) sRGB matrix."""
    lr, lg, lb = _LINEAR[r], _LINEAR[g], _LINEAR[b]
    (xr, xg, xb), (yr, yg, yb), (zr, zg, zb) = _SRGB_TO_XYZ
    return xr * lr + xg * lg + xb * lb, yr * lr + yg * lg + yb * lb, zr * lr + zg * lg + zb * lb


@lru_cache(maxsize=_CACHE)
def _to_xyz(color: str) -> tuple[float, float, float]:
    """CIE XYZ of a hex colour."""
    return _xyz_of(*colorlib.rgb(color))


def _channels_of_xyz(xyz: Sequence[float]) -> tuple[int, int, int]:
    """sRGB channels of an XYZ triple, clamped into sRGB and rounded like Vuetify:
    _js_round(clamp(_linear_to_srgb(M · xyz)) * 255) per channel, written out."""
    x, y, z = xyz
    out = []
    for mx, my, mz in _XYZ_TO_SRGB:
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
    return math.cbrt(t) if t > _DELTA_CUBED else t / _KNEE_SLOPE + 4 / 29


def _lab_reverse(t: float) -> float:
    return t**3 if t > _DELTA else _KNEE_SLOPE * (t - 4 / 29)


def _to_lab(xyz: Sequence[float]) -> tuple[float, float, float]:
    fy = _lab_forward(xyz[1])
    return (
        116 * fy - 16,
        500 * (_lab_forward(xyz[0] / _D65[0]) - fy),
        200 * (fy - _lab_forward(xyz[2] / _D65[2])),
    )


def _lab_to_xyz(lab: Sequence[float]) -> tuple[float, float, float]:
    ln = (lab[0] + 16) / 116
    return (
        _lab_reverse(ln + lab[1] / 500) * _D65[0],
        _lab_reverse(ln),
        _lab_reverse(ln - lab[2] / 200) * _D65[2],
    )


@lru_cache(maxsize=_CACHE)
def _lab(color: str) -> tuple[float, float, float]:
    return _to_lab(_to_xyz(color))


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


def _variations(name: str, color: str) -> Iterator[tuple[str, str]]:
    for step in range(1, VARIATION_LIGHTEN + 1):
        yield f"{name}-lighten-{step}", lighten(color, step)
    for step in range(1, VARIATION_DARKEN + 1):
        yield f"{name}-darken-{step}", darken(color, step)


def theme_colors(colors: Mapping[str, str], dark: bool) -> dict[str, str]:
    """Every colour of the theme (base, surface roles, variations), then every on-colour."""
    surface = colors["surface"]
    steps = _DARK_SURFACE_STEPS if dark else _LIGHT_SURFACE_STEPS
    out: dict[str, str] = {
        "background": colors["background"],
        "surface": surface,
    }
    for role, amount in steps.items():
        out[role] = shift_lightness(surface, amount)
    for name in BRAND_COLORS:
        out[name] = colors[name]
        if name in VARIATION_COLORS:
            out.update(_variations(name, colors[name]))
    out.update({f"on-{name}": colorlib.on_color(value) for name, value in list(out.items())})
    return out


def theme_variables(colors: Mapping[str, str], dark: bool) -> dict[str, str | float]:
    """Vuetify's theme `variables`: opacities, border colour and kbd/code colours."""
    surface = colors["surface"]
    steps = _DARK_SURFACE_STEPS if dark else _LIGHT_SURFACE_STEPS
    kbd = shift_lightness(surface, steps["surface-light"])
    code = shift_lightness(surface, _DARK_CODE_STEP if dark else _LIGHT_CODE_STEP)
    opacities = _DARK_OPACITIES if dark else _LIGHT_OPACITIES
    out: dict[str, str | float] = {"border-color": colorlib.on_color(surface)}
    out.update(opacities)
    out.update(
        {
            "theme-kbd": kbd,
            "theme-on-kbd": colorlib.on_color(kbd),
            "theme-code": code,
            "theme-on-code": colorlib.on_color(code),
        }
    )
    return out


def reference_theme(colors: Mapping[str, str], dark: bool) -> dict[str, Any]:
    """The theme definition spelled out plainly: what theme_artifacts() must equal."""
    return {
        "dark": dark,
        "colors": theme_colors(colors, dark),
        "variables": theme_variables(colors, dark),
    }


# --- the fast path: per-colour pieces, memoised, assembled per group ---
#
# A part is everything one base colour contributes: the colour and what derives from
# it (surface roles, lighten/darken variations), as one flat tuple laid out by
# _part_fields. A group's theme is nine parts; one itemgetter per output picks the
# values from them in output order, so assembling a group costs a few C calls.

_PART_FIELDS = ("hexes", "on_hexes", "css", "css_on", "pops")


def _part_fields(size: int) -> dict[str, slice]:
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
    with its channels, laid out as _part_fields says. Written out rather than through
    the per-colour functions (on_color, overlay_multiplier, rgb_triple): a 10,000-group
    build meets most derived colours once, so call overhead is the cost."""
    light_overlay, dark_overlay = ("2", "1") if dark else ("1", "2")
    yr, yg, yb = _SRGB_TO_XYZ[1]
    on_channels = colorlib.on_channels
    on_hexes: list[str] = []
    css: list[str] = []
    css_on: list[str] = []
    for _, (r, g, b) in colors:
        on = on_channels(r, g, b)
        on_hexes.append(on)
        # overlay_multiplier(): the Y of _xyz_of(r, g, b) against Vuetify's 0.18.
        y = yr * _LINEAR[r] + yg * _LINEAR[g] + yb * _LINEAR[b]
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
    yr, yg, yb = _SRGB_TO_XYZ[1]
    y = yr * _LINEAR[r] + yg * _LINEAR[g] + yb * _LINEAR[b]
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
    lightness, lab_a, lab_b = _to_lab(_xyz_of(r, g, b))
    (rx, ry, rz), (gx, gy, gz), (bx, by, bz) = _XYZ_TO_SRGB
    d65_x, _, d65_z = _D65
    knee, slope = _DELTA, _KNEE_SLOPE
    light_overlay, dark_overlay = ("2", "1") if dark else ("1", "2")
    yr, yg, yb = _SRGB_TO_XYZ[1]
    on_channels = colorlib.on_channels
    hexes = [color]
    on = on_channels(r, g, b)
    on_hexes = [on]
    y = yr * _LINEAR[r] + yg * _LINEAR[g] + yb * _LINEAR[b]
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
        y = yr * _LINEAR[r] + yg * _LINEAR[g] + yb * _LINEAR[b]
        css += (f"{_DEC[r]},{_DEC[g]},{_DEC[b]}", light_overlay if y > 0.18 else dark_overlay)
        css_on.append(_ON_RGB[on])
    return (*hexes, *on_hexes, *css, *css_on, *pops)


@lru_cache(maxsize=4096)
def _surface_part(
    surface: str, dark: bool
) -> tuple[tuple[str, ...], dict[str, str | float], tuple[str, ...]]:
    """The surface with its roles, the theme `variables` (they follow from the surface
    alone) and their theme.css values other than the constant opacities."""
    steps = _DARK_SURFACE_STEPS if dark else _LIGHT_SURFACE_STEPS
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


def _parts(colors: Mapping[str, str], dark: bool) -> tuple[list[tuple[str, ...]], Any]:
    """The nine parts in BASE_COLORS order, then the theme `variables` and their values."""
    surface, variables, variables_css = _surface_part(colors["surface"], dark)
    parts = [_plain_part(colors["background"], dark), surface]
    for name, varied in _BRANDS:
        value = colors[name]
        parts.append(_varied_part(value, dark) if varied else _plain_part(value, dark))
    parts.append(variables_css)
    return parts, variables


def _part_sizes(dark: bool) -> list[int]:
    """Colours per part, in BASE_COLORS order (the same for every palette)."""
    steps = _DARK_SURFACE_STEPS if dark else _LIGHT_SURFACE_STEPS
    variations = VARIATION_LIGHTEN + VARIATION_DARKEN
    return [1, 1 + len(steps)] + [1 + variations * (n in VARIATION_COLORS) for n in BRAND_COLORS]


def _assemble(parts: Sequence[Sequence[Any]], sizes: Sequence[int]) -> dict[str, list[Any]]:
    """The theme's values in output order, plainly: every colour, then every on-colour
    (Vuetify `colors`); the --pops-* values; the Vuetify values of theme.css (each
    colour's `r,g,b` and multiplier, each on-colour's `r,g,b`, the variables). Run once
    per layout on labels to derive the itemgetters that do it per group."""
    fields: dict[str, list[Any]] = {field: [] for field in _PART_FIELDS}
    for part, size in zip(parts, sizes, strict=False):
        for field, where in _part_fields(size).items():
            fields[field] += part[where]
    tail = list(parts[len(sizes)])
    return {
        "colors": fields["hexes"] + fields["on_hexes"],
        "pops": fields["pops"],
        "vuetify_css": fields["css"] + fields["css_on"] + tail,
    }


# --- theme.css ---

Declaration = tuple[str, str]
Rule = tuple[str, list[Declaration]]


def _css_number(value: float) -> str:
    """A number as JavaScript prints it (0.6, 1), which is what Vuetify emits."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def vuetify_declarations(theme: Mapping[str, Any]) -> list[Declaration]:
    """The custom properties Vuetify's genCssVariables writes for one theme."""
    dark = bool(theme["dark"])
    out: list[Declaration] = []
    for key, value in theme["colors"].items():
        out.append((f"--{PREFIX}theme-{key}", rgb_triple(value)))
        if not key.startswith("on-"):
            multiplier = overlay_multiplier(value, dark)
            out.append((f"--{PREFIX}theme-{key}-overlay-multiplier", str(multiplier)))
    for key, value in theme["variables"].items():
        if isinstance(value, str):
            text = rgb_triple(value, ", ") if value.startswith("#") else value
        else:
            text = _css_number(value)
        out.append((f"--{PREFIX}{key}", text))
    return out


def pops_declarations(colors: Mapping[str, str]) -> list[Declaration]:
    """Our own stable `--pops-*` variables, for portal CSS that is not Vuetify's."""
    out: list[Declaration] = []
    for name in BASE_COLORS:
        value = colorlib.normalize(colors[name])
        out.append((f"--pops-{name}", value))
        out.append((f"--pops-{name}-rgb", rgb_triple(value, ", ")))
        out.append((f"--pops-on-{name}", colorlib.on_color(value)))
    return out


def utility_rules(palette: Mapping[str, str]) -> list[Rule]:
    """Vuetify's bg-*, text-*, border-* and on-* classes, in Vuetify's order
    (all backgrounds first, so a later text-* class wins over a bg-* foreground)."""
    background: list[Rule] = []
    foreground: list[Rule] = []
    important = " !important"
    for key in palette:
        var = f"--{PREFIX}theme-{key}"
        if key.startswith("on-"):
            foreground.append((f".{key}", [("color", f"rgb(var({var})){important}")]))
            continue
        background.append(
            (
                f".bg-{key}",
                [
                    (f"--{PREFIX}theme-overlay-multiplier", f"var({var}-overlay-multiplier)"),
                    ("background-color", f"rgb(var({var})){important}"),
                    ("color", f"rgb(var(--{PREFIX}theme-on-{key})){important}"),
                ],
            )
        )
        foreground.append((f".text-{key}", [("color", f"rgb(var({var})){important}")]))
        foreground.append((f".border-{key}", [(f"--{PREFIX}border-color", f"var({var})")]))
    return background + foreground


def _utilities_css(env: jinja2.Environment, names: tuple[str, ...]) -> str:
    """The utility classes for these colour names.

    Every declaration in them refers to a colour through its variable
    (`rgb(var(--v-theme-primary))`), never by value, so they depend only on
    which colours exist.
    """
    rules = utility_rules(dict.fromkeys(names, ""))
    return env.get_template(UTILITIES_TEMPLATE).render(utilities=rules)


def _context(
    colors: Mapping[str, str], dark: bool, theme: Mapping[str, Any], utilities: str
) -> dict[str, Any]:
    """theme.css.j2's context: the declarations of :root and of the theme class."""
    variables = vuetify_declarations(theme)
    root = [("color-scheme", "dark" if dark else "light"), *pops_declarations(colors), *variables]
    # Vuetify writes `normal` (not `light`) on the theme class; keep its exact value.
    theme_class = [("color-scheme", "dark" if dark else "normal"), *variables]
    return {
        "root": root,
        "theme_selector": f".{PREFIX}theme--{THEME_NAME}",
        "theme_class": theme_class,
        "utilities": utilities,
    }


def render_theme_css_direct(colors: Mapping[str, str], dark: bool, env: jinja2.Environment) -> str:
    """theme.css by a plain Jinja render of the reference theme: what the fast path equals."""
    theme = reference_theme(colors, dark)
    utilities = _utilities_css(env, tuple(theme["colors"]))
    text = env.get_template(TEMPLATE).render(_context(colors, dark, theme, utilities))
    return text.rstrip("\n") + "\n"


class _Layout:
    """One (environment, dark) layout: theme.css's literal parts and the itemgetters
    that pick, from [*literals, *parts...], theme.css's pieces and Vuetify's colours.
    (A plain class: a NamedTuple here cost more import time than the rest of the module.)"""

    __slots__ = ("colors", "css", "keys", "literals", "saved")

    def __init__(
        self,
        literals: list[str],
        css: tuple[int, ...],
        colors: tuple[int, ...],
        keys: tuple[str, ...],
    ) -> None:
        self.literals = literals
        self.css: Callable[[Sequence[str]], tuple[str, ...]] = operator.itemgetter(*css)
        self.colors: Callable[[Sequence[str]], tuple[str, ...]] = operator.itemgetter(*colors)
        self.keys = keys
        # What the cache folder keeps (marshal-able); restore() takes it back.
        self.saved = (tuple(literals), css, colors, keys)

    @classmethod
    def restore(cls, saved: Any, dark: bool) -> _Layout | None:
        """The layout of `saved`, as a file gave it back; None unless it is well formed
        and fills a sample palette into its reference theme."""
        if type(saved) is not tuple or len(saved) != 4:
            return None
        literals, css, colors, keys = saved
        if not all(type(x) is tuple for x in saved) or len(css) < 2 or len(colors) < 2:
            return None
        if not all(type(x) is str for x in (*literals, *keys)):
            return None
        if not all(type(x) is int and x >= 0 for x in (*css, *colors)):
            return None
        layout = cls(list(literals), css, colors, keys)
        sample = dict(DARK_PALETTE if dark else LIGHT_PALETTE)
        try:
            theme, text = _fill(layout, sample, dark)
        except (IndexError, TypeError):
            return None
        if theme != reference_theme(sample, dark) or not isinstance(text, str):
            return None
        return layout


# Per environment other than the shipped one (whose layouts live in store.built) and
# dark flag. Weak keys: a dropped environment drops its layouts.
_LAYOUTS: weakref.WeakKeyDictionary[jinja2.Environment, dict[bool, _Layout | None]] = (
    weakref.WeakKeyDictionary()
)


class _NoLayout(Exception):
    """theme.css.j2 does more than lay values out; it is rendered by Jinja per group."""


def _css_skeleton(env: jinja2.Environment, dark: bool) -> Skeleton:
    """theme.css rendered once with slot i for the i-th value that varies between groups:
    the --pops-* values, then the Vuetify values of :root, then those of the theme class.
    Constant values (colour-scheme, opacities) and every name stay literal."""
    source = env.loader.get_source(env, TEMPLATE)[0] if env.loader else ""
    if not prints_only(env.parse(source)):
        raise _NoLayout(f"{TEMPLATE} does more than print values")
    sample = dict.fromkeys(BASE_COLORS, colorlib.BLACK)
    theme = reference_theme(sample, dark)
    constant = {f"--{PREFIX}{key}" for key in (_DARK_OPACITIES if dark else _LIGHT_OPACITIES)}
    context = _context(sample, dark, theme, _utilities_css(env, tuple(theme["colors"])))
    counter = 0

    def slots(declarations: list[Declaration]) -> list[Declaration]:
        nonlocal counter
        out: list[Declaration] = [declarations[0]]  # color-scheme: constant
        for name, value in declarations[1:]:
            if name in constant:
                out.append((name, value))
            else:
                out.append((name, slot(counter)))
                counter += 1
        return out

    context["root"] = slots(context["root"])
    context["theme_class"] = slots(context["theme_class"])
    text = env.get_template(TEMPLATE).render(context)
    skeleton = Skeleton(text.rstrip("\n") + "\n")
    if not skeleton.sequential or not skeleton.parts[-1].strip():
        raise _NoLayout(f"{TEMPLATE}: values do not appear once each, in order, before the end")
    return skeleton


def _layout(env: jinja2.Environment | None, dark: bool) -> _Layout | None:
    """The layout for this environment (None: the shipped one) and flag, built and
    checked once; None when the template does not allow one (theme_artifacts then
    renders directly)."""
    if env is None or shipped(env):
        return _shipped_layout(dark)
    per_env = _LAYOUTS.setdefault(env, {})
    if dark not in per_env:
        per_env[dark] = _checked_layout(env, dark)
    return per_env[dark]


def _shipped_layout(dark: bool) -> _Layout | None:
    """The shipped template's layout: from its record when an earlier process left one
    (with its check's verdict), else built, checked and recorded."""
    built: dict[bool, _Layout | None] = store.built.setdefault("layouts", {})
    if dark in built:
        return built[dark]
    record = store.record("layout", dark)
    saved = record.get("layout", False)  # False: nothing recorded; None: no layout possible
    found = _Layout.restore(saved, dark) if saved else None
    if found is None and saved is not None:
        found = _checked_layout(environment(), dark)
        record["layout"] = found.saved if found is not None else None
        store.learned()
    built[dark] = found
    return found


def _checked_layout(env: jinja2.Environment, dark: bool) -> _Layout | None:
    """A new layout, or None when the template allows none or the fill disagrees with
    the direct render."""
    try:
        found: _Layout | None = _new_layout(env, dark)
    except _NoLayout:
        found = None
    # Once per process: the fill must equal the direct render on sample palettes.
    samples = [dict(DARK_PALETTE if dark else LIGHT_PALETTE), dict.fromkeys(BASE_COLORS, "#777")]
    for sample in samples:
        if found is not None and _fill(found, sample, dark) != (
            reference_theme(sample, dark),
            render_theme_css_direct(sample, dark, env),
        ):
            found = None
    return found


def _new_layout(env: jinja2.Environment, dark: bool) -> _Layout:
    skeleton = _css_skeleton(env, dark)
    literals = skeleton.parts[0::2]
    # Label every position of [*literals, *parts...] and let _assemble order the labels.
    sizes = _part_sizes(dark)
    labels: list[Any] = [("literal", index) for index in range(len(literals))]
    parts: list[list[Any]] = []
    for index, size in enumerate(sizes):
        part = [(index, position) for position in range(_part_fields(size)["pops"].stop)]
        parts.append(part)
        labels += part
    tail = [("tail", position) for position in range(len(_surface_part(colorlib.BLACK, dark)[2]))]
    parts.append(tail)
    labels += tail
    where = {label: position for position, label in enumerate(labels)}
    order = _assemble(parts, sizes)
    values = order["pops"] + order["vuetify_css"] + order["vuetify_css"]
    if len(values) != skeleton.count:
        raise _NoLayout("theme.css skeleton and theme values disagree")
    css: list[int] = [0]
    for index, value in enumerate(values, start=1):
        css += (where[value], where[("literal", index)])
    keys = tuple(theme_colors(dict.fromkeys(BASE_COLORS, colorlib.BLACK), dark))
    return _Layout(literals, tuple(css), tuple(where[label] for label in order["colors"]), keys)


def theme_artifacts(
    colors: Mapping[str, str], dark: bool, env: jinja2.Environment | None = None
) -> tuple[dict[str, Any], str]:
    """The Vuetify theme definition and theme.css of one palette, from one pass over
    its colours (the build needs both; computing the theme twice was a third of it).
    Equal to (reference_theme(), render_theme_css_direct()); tests hold it to that.
    `env` None means the shipped templates."""
    layout = _layout(env, dark)
    if layout is None:
        css = render_theme_css_direct(colors, dark, env if env is not None else environment())
        return reference_theme(colors, dark), css
    return _fill(layout, colors, dark)


def _fill(layout: _Layout, colors: Mapping[str, str], dark: bool) -> tuple[dict[str, Any], str]:
    """theme_artifacts() through the layout: the parts laid end to end after the
    literals, then one itemgetter for Vuetify's colours and one for theme.css."""
    parts, variables = _parts(colors, dark)
    buffer = layout.literals.copy()
    for part in parts:
        buffer += part
    theme = {
        "dark": dark,
        "colors": dict(zip(layout.keys, layout.colors(buffer), strict=False)),
        "variables": dict(variables),
    }
    return theme, "".join(layout.css(buffer))


def vuetify_theme(colors: Mapping[str, str], dark: bool) -> dict[str, Any]:
    """The Vuetify 3 theme definition (dark, colors incl. every on-colour and
    lighten/darken variation spelled out, variables) that the portal passes unchanged to
    createVuetify({theme:{defaultTheme:'pops', themes:{pops: ...}}}).

    The build takes it from theme_artifacts(), which computes it with theme.css."""
    return reference_theme(colors, dark)


def render_theme_css(
    colors: Mapping[str, str],
    dark: bool,
    env: jinja2.Environment | None = None,
    theme: Mapping[str, Any] | None = None,
) -> str:
    """theme.css text, ending with exactly one newline (the same text as
    render_theme_css_direct, without running the template per group).

    `theme` is accepted for callers that already have vuetify_theme(colors, dark);
    the values come from the memoised per-colour pieces either way.
    """
    return theme_artifacts(colors, dark, env)[1]

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
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

import jinja2

from compiler import colors as colorlib
from compiler.model.theme import COLOR_NAMES

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

_SRGB_TO_XYZ = ((0.4124, 0.3576, 0.1805), (0.2126, 0.7152, 0.0722), (0.0193, 0.1192, 0.9505))
_XYZ_TO_SRGB = ((3.2406, -1.5372, -0.4986), (-0.9689, 1.8758, 0.0415), (0.0557, -0.2040, 1.0570))
_D65 = (0.95047, 1.0, 1.08883)
_DELTA = 0.20689655172413793  # 6/29, the CIELAB knee, as Vuetify spells it


def _js_round(value: float) -> int:
    """JavaScript Math.round (halves go up), which Vuetify uses; Python's round() would not."""
    return math.floor(value + 0.5)


def _srgb_to_linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _linear_to_srgb(channel: float) -> float:
    return channel * 12.92 if channel <= 0.0031308 else 1.055 * channel ** (1 / 2.4) - 0.055


def _to_xyz(color: str) -> tuple[float, float, float]:
    """CIE XYZ of a hex colour with Vuetify's (rounded) sRGB matrix."""
    lin = [_srgb_to_linear(c / 255) for c in colorlib.rgb(color)]
    x, y, z = (m[0] * lin[0] + m[1] * lin[1] + m[2] * lin[2] for m in _SRGB_TO_XYZ)
    return x, y, z


def _from_xyz(xyz: Sequence[float]) -> str:
    """Hex colour of an XYZ triple, clamped into sRGB and rounded like Vuetify."""
    channels = []
    for m in _XYZ_TO_SRGB:
        value = _linear_to_srgb(m[0] * xyz[0] + m[1] * xyz[1] + m[2] * xyz[2])
        channels.append(_js_round(min(max(value, 0.0), 1.0) * 255))
    return "#{:02x}{:02x}{:02x}".format(*channels)


def _lab_forward(t: float) -> float:
    return math.cbrt(t) if t > _DELTA**3 else t / (3 * _DELTA**2) + 4 / 29


def _lab_reverse(t: float) -> float:
    return t**3 if t > _DELTA else 3 * _DELTA**2 * (t - 4 / 29)


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


@lru_cache(maxsize=8192)
def _move_lightness(color: str, delta_l: float) -> str:
    lab = _to_lab(_to_xyz(color))
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


@lru_cache(maxsize=8192)
def overlay_multiplier(color: str, dark: bool) -> int:
    """Vuetify's `<c>-overlay-multiplier`: hover/focus overlays are doubled on the
    side (light or dark colour) where they would otherwise be hard to see."""
    light_overlay, dark_overlay = (2, 1) if dark else (1, 2)
    return light_overlay if _to_xyz(color)[1] > 0.18 else dark_overlay


@lru_cache(maxsize=8192)
def rgb_triple(color: str, sep: str = ",") -> str:
    """`r,g,b` (Vuetify theme colours) or `r, g, b` (with sep=", ") for rgb(var(...))."""
    return sep.join(str(c) for c in colorlib.rgb(color))


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


def vuetify_theme(colors: Mapping[str, str], dark: bool) -> dict[str, Any]:
    """The Vuetify 3 theme definition (dark, colors incl. every on-colour and
    lighten/darken variation spelled out, variables) that the portal passes unchanged to
    createVuetify({theme:{defaultTheme:'pops', themes:{pops: ...}}})."""
    return {
        "dark": dark,
        "colors": theme_colors(colors, dark),
        "variables": theme_variables(colors, dark),
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


_UTILITIES: dict[tuple[int, tuple[str, ...]], str] = {}


def _utilities_css(env: jinja2.Environment, names: tuple[str, ...]) -> str:
    """The utility classes for these colour names, rendered once per run.

    Every declaration in them refers to a colour through its variable
    (`rgb(var(--v-theme-primary))`), never by value, so they depend only on
    which colours exist.
    """
    key = (id(env), names)
    if key not in _UTILITIES:
        rules = utility_rules(dict.fromkeys(names, ""))
        _UTILITIES[key] = env.get_template(UTILITIES_TEMPLATE).render(utilities=rules)
    return _UTILITIES[key]


def render_theme_css(
    colors: Mapping[str, str],
    dark: bool,
    env: jinja2.Environment,
    theme: Mapping[str, Any] | None = None,
) -> str:
    """theme.css text, ending with exactly one newline.

    `theme` is `vuetify_theme(colors, dark)` when the caller already has it.
    """
    if theme is None:
        theme = vuetify_theme(colors, dark)
    variables = vuetify_declarations(theme)
    root = [("color-scheme", "dark" if dark else "light"), *pops_declarations(colors), *variables]
    # Vuetify writes `normal` (not `light`) on the theme class; keep its exact value.
    theme_class = [("color-scheme", "dark" if dark else "normal"), *variables]
    text = env.get_template(TEMPLATE).render(
        root=root,
        theme_selector=f".{PREFIX}theme--{THEME_NAME}",
        theme_class=theme_class,
        utilities=_utilities_css(env, tuple(theme["colors"])),
    )
    return text.rstrip("\n") + "\n"

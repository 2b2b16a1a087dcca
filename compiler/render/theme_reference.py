"""The group's theme and theme.css, spelled out plainly: what the build's fast path
(compiler/render/theme_layout.py) must equal, byte for byte.

Vuetify 3's theme plugin generates a stylesheet from a theme definition
(`composables/theme`); this is that definition (colours, surface roles,
variations, variables) and that stylesheet, rendered through theme.css.j2, plus
our own `--pops-*` variables. On-colours are always the WCAG 2 black/white choice
of compiler.colors, never Vuetify's APCA one, and are spelled out so Vuetify never
computes its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from compiler import colors as colorlib
from compiler.model.theme import COLOR_NAMES
from compiler.render.vuetify_color import (
    darken,
    lighten,
    overlay_multiplier,
    rgb_triple,
    shift_lightness,
)

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
LIGHT_SURFACE_STEPS = {"surface-bright": 0.0, "surface-light": -0.6, "surface-variant": -7.2}
DARK_SURFACE_STEPS = {"surface-bright": 6.6, "surface-light": 1.5, "surface-variant": 6.8}
# `theme-code` (inline <code> background) sits between surface and surface-light.
LIGHT_CODE_STEP = -0.35
DARK_CODE_STEP = 0.9

# Vuetify 3's stock non-colour variables; these are design constants, not colours.
LIGHT_OPACITIES: dict[str, float] = {
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
DARK_OPACITIES: dict[str, float] = {
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


def _variations(name: str, color: str) -> Iterator[tuple[str, str]]:
    for step in range(1, VARIATION_LIGHTEN + 1):
        yield f"{name}-lighten-{step}", lighten(color, step)
    for step in range(1, VARIATION_DARKEN + 1):
        yield f"{name}-darken-{step}", darken(color, step)


def theme_colors(colors: Mapping[str, str], dark: bool) -> dict[str, str]:
    """Every colour of the theme (base, surface roles, variations), then every on-colour."""
    surface = colors["surface"]
    steps = DARK_SURFACE_STEPS if dark else LIGHT_SURFACE_STEPS
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
    steps = DARK_SURFACE_STEPS if dark else LIGHT_SURFACE_STEPS
    kbd = shift_lightness(surface, steps["surface-light"])
    code = shift_lightness(surface, DARK_CODE_STEP if dark else LIGHT_CODE_STEP)
    opacities = DARK_OPACITIES if dark else LIGHT_OPACITIES
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


def utilities_css(env: jinja2.Environment, names: tuple[str, ...]) -> str:
    """The utility classes for these colour names.

    Every declaration in them refers to a colour through its variable
    (`rgb(var(--v-theme-primary))`), never by value, so they depend only on
    which colours exist.
    """
    rules = utility_rules(dict.fromkeys(names, ""))
    return env.get_template(UTILITIES_TEMPLATE).render(utilities=rules)


def css_context(
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
    utilities = utilities_css(env, tuple(theme["colors"]))
    text = env.get_template(TEMPLATE).render(css_context(colors, dark, theme, utilities))
    return text.rstrip("\n") + "\n"

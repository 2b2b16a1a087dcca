"""The group's theme as Vuetify 3 sees it: a theme definition and a standalone theme.css.

The portal either hands `vuetify_theme()` to `createVuetify` or runs with
`theme: false` and links theme.css. Both must give the same page, so the CSS is
generated the way Vuetify 3's theme plugin generates its stylesheet
(`composables/theme`, verified against the real package by
tests/test_theme_css.py), plus our own `--pops-*` variables.

Two ways to the same bytes: theme_reference.py says plainly what the theme and
the file are (`reference_theme`, `render_theme_css_direct`: a Jinja render of
theme.css.j2, with vuetify_color.py's colour maths); the build uses
`theme_artifacts`, which fills each group's values from memoised per-colour parts
(theme_parts.py) into a layout of the template made once per process
(theme_layout.py). tests/test_render_speed.py holds the two to equality.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from compiler.render.templates import environment
from compiler.render.theme_layout import fill, layout_for
from compiler.render.theme_reference import (
    BASE_COLORS,
    BRAND_COLORS,
    DARKEN_STEPS,
    LIGHTEN_STEPS,
    TEMPLATE,
    UTILITIES_TEMPLATE,
    VARIATION_COLORS,
    VARIATION_DARKEN,
    VARIATION_LIGHTEN,
    reference_theme,
    render_theme_css_direct,
    theme_colors,
    theme_variables,
)
from compiler.render.vuetify_color import darken, lighten

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "BASE_COLORS",
    "BRAND_COLORS",
    "DARKEN_STEPS",
    "LIGHTEN_STEPS",
    "TEMPLATE",
    "UTILITIES_TEMPLATE",
    "VARIATION_COLORS",
    "VARIATION_DARKEN",
    "VARIATION_LIGHTEN",
    "darken",
    "lighten",
    "reference_theme",
    "render_theme_css",
    "render_theme_css_direct",
    "theme_artifacts",
    "theme_colors",
    "theme_variables",
    "vuetify_theme",
]


def theme_artifacts(
    colors: Mapping[str, str], dark: bool, env: jinja2.Environment | None = None
) -> tuple[dict[str, Any], str]:
    """The Vuetify theme definition and theme.css of one palette, from one pass over
    its colours (the build needs both; computing the theme twice was a third of it).
    Equal to (reference_theme(), render_theme_css_direct()); tests hold it to that.
    `env` None means the shipped templates."""
    layout = layout_for(env, dark)
    if layout is None:
        css = render_theme_css_direct(colors, dark, env if env is not None else environment())
        return reference_theme(colors, dark), css
    return fill(layout, colors, dark)


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

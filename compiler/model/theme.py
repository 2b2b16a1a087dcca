"""Theme panel: nine colours and the dark flag."""

from __future__ import annotations

from pydantic import Field

from compiler.model.base import Panel, shared_default
from compiler.model.meta import option
from compiler.model.types import Color

COLOR_NAMES = (
    "background",
    "surface",
    "primary",
    "secondary",
    "accent",
    "info",
    "success",
    "error",
    "warning",
)

# Vuetify 3's stock palettes, with the colours that miss WCAG AA (4.5:1 for text,
# tonal backgrounds included: see docs/contrast.md) moved in OKLCH lightness, hue
# kept, to the nearest value that passes on white and on light greys down to
# #f5f5f5 (dark: on greys up to #2c2c2c), so off-white pages keep them readable:
# primary (#1976d2), accent (#82b1ff), info (#2196f3), success (#4caf50), warning
# (#fb8c00), and the dark error (#cf6679).
LIGHT_PALETTE = {
    "background": "#ffffff",
    "surface": "#ffffff",
    "primary": "#0065bd",
    "secondary": "#424242",
    "accent": "#3b65ad",
    "info": "#0068b0",
    "success": "#007617",
    "error": "#b00020",
    "warning": "#9a5300",
}

DARK_PALETTE = {
    "background": "#121212",
    "surface": "#1e1e1e",
    "primary": "#90caf9",
    "secondary": "#b0bec5",
    "accent": "#ffab40",
    "info": "#64b5f6",
    "success": "#81c784",
    "error": "#ee8294",
    "warning": "#ffb74d",
}

_COLOR_HELP = {
    "background": "Page background behind every panel.",
    "surface": "Background of cards, dialogs and menus.",
    "primary": "Main brand colour: buttons, links and the header bar.",
    "secondary": "Second brand colour for less prominent controls.",
    "accent": "Highlights such as the selected item.",
    "info": "Informational messages and badges.",
    "success": "Confirmation messages, such as a payment that went through.",
    "error": "Error messages and invalid form fields.",
    "warning": "Warnings that need the patient's attention.",
}


# The admin screen's words for each colour (the admin guide's, plural and all).
_COLOR_LABEL = {
    "background": "Background Color",
    "surface": "Surface Color",
    "primary": "Primary Colors",
    "secondary": "Secondary Colors",
    "accent": "Accent Colors",
    "info": "Info Colors",
    "success": "Success Color Indicator",
    "error": "Error Color Indicator",
    "warning": "Warning Color Indicator",
}


def _color_field(name: str) -> object:
    return option(
        None,
        label=_COLOR_LABEL[name],
        kind="colour",
        panel="Theme",
        help=f'{_COLOR_HELP[name]} "#rgb" or "#rrggbb", quoted. Left out: '
        f"{LIGHT_PALETTE[name]} in a light theme, {DARK_PALETTE[name]} in a dark one.",
        example=LIGHT_PALETTE[name],
    )


class Colors(Panel):
    """Each colour is optional; the missing ones come from the light or dark palette."""

    background: Color | None = _color_field("background")  # type: ignore[assignment]
    surface: Color | None = _color_field("surface")  # type: ignore[assignment]
    primary: Color | None = _color_field("primary")  # type: ignore[assignment]
    secondary: Color | None = _color_field("secondary")  # type: ignore[assignment]
    accent: Color | None = _color_field("accent")  # type: ignore[assignment]
    info: Color | None = _color_field("info")  # type: ignore[assignment]
    success: Color | None = _color_field("success")  # type: ignore[assignment]
    error: Color | None = _color_field("error")  # type: ignore[assignment]
    warning: Color | None = _color_field("warning")  # type: ignore[assignment]


class Theme(Panel):
    """Colours plus the dark flag that tells the portal to use light text."""

    dark: bool = option(
        False,
        label="Dark",
        kind="boolean",
        panel="Theme",
        help="Set to true when background and surface are dark, so text is drawn "
        "light. Ticking it alone switches every colour you leave out to a dark palette.",
        example=False,
    )
    colors: Colors = Field(
        default_factory=shared_default(Colors),
        description="The nine theme colours. Quote each one: an unquoted # starts a comment.",
    )

    def palette(self) -> dict[str, str]:
        """All nine colours, normalised, with the defaults that match `dark` filled in.

        Rules and renderers ask the same theme several times in a row, so the
        last answer is kept (a theme is frozen); each caller gets its own copy.
        """
        global _last_palette
        theme, colors = _last_palette
        if theme is not self:
            defaults = DARK_PALETTE if self.dark else LIGHT_PALETTE
            given = self.colors
            colors = {name: getattr(given, name) or defaults[name] for name in COLOR_NAMES}
            _last_palette = (self, colors)
        return dict(colors)


# (theme, its palette) for Theme.palette; a strong reference, so the id cannot be reused.
_last_palette: tuple[Theme | None, dict[str, str]] = (None, {})

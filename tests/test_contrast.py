"""The contrast pairs (#15): the catalogue matches what theme.css makes Vuetify draw,
the maths (blends, OKLCH, APCA) is right, the built-in palettes pass, and
docs/contrast.md lists exactly the measured pairs. Diagnostics through the CLI are
in test_rules.py; Vuetify's real rendering in test_contrast_browser.py."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from compiler import colors
from compiler.model.theme import DARK_PALETTE, LIGHT_PALETTE
from compiler.render.theme_css import reference_theme
from compiler.rules import contrast

ROOT = Path(__file__).resolve().parent.parent
RNG = random.Random(1515)
RANDOM = ["#" + "".join(f"{RNG.randrange(256):02x}" for _ in range(3)) for _ in range(300)]


def test_docs_table_is_the_catalogue() -> None:
    text = (ROOT / "docs" / "contrast.md").read_text(encoding="utf-8")
    assert text.endswith("## The pairs\n\n" + contrast.table())


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_pair_names_colours_the_theme_defines(dark: bool) -> None:
    theme = reference_theme(DARK_PALETTE if dark else LIGHT_PALETTE, dark)
    names = set(theme["colors"]) | set(theme["variables"])
    for pair in contrast.PAIRS:
        assert pair.foreground in names, pair
        assert pair.ground in names, pair
        if pair.opacity:
            assert f"{pair.opacity}-opacity" in theme["variables"], pair
            assert (
                theme["variables"][f"{pair.opacity}-opacity"]
                == (contrast.OPACITIES[dark][pair.opacity])
            )
    # Every base colour and every variation with its on-colour is in the list.
    on_pairs = {(p.foreground, p.backdrop) for p in contrast.PAIRS if p.kind == "on"}
    for name in theme["colors"]:
        if name.startswith("on-") or name in ("background", "surface"):
            continue
        assert (f"on-{name}", name) in on_pairs, name


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_on_colour_pairs_always_pass(dark: bool) -> None:
    """Why the `on` pairs are not measured per group: they cannot fail."""
    greys = [f"#{g:02x}{g:02x}{g:02x}" for g in range(256)]
    worst = 21.0
    for color in greys + RANDOM:
        theme = reference_theme(dict.fromkeys(LIGHT_PALETTE, color), dark)
        for pair in (p for p in contrast.PAIRS if p.kind == "on"):
            fg = theme["colors"].get(pair.foreground) or theme["variables"][pair.foreground]
            bg = theme["colors"].get(pair.backdrop) or theme["variables"][pair.backdrop]
            worst = min(worst, colors.contrast_ratio(fg, bg))
    assert 4.58 <= worst < 4.6


@pytest.mark.parametrize(
    ("palette", "dark"), [(LIGHT_PALETTE, False), (DARK_PALETTE, True)], ids=["light", "dark"]
)
def test_built_in_palettes_pass_every_pair(palette: dict[str, str], dark: bool) -> None:
    for subject in contrast.BY_SUBJECT:
        assert contrast.passes_all(subject, palette, dark), contrast.summary(subject, palette, dark)


LIGHT_GREY = {**LIGHT_PALETTE, "background": "#f5f5f5", "surface": "#f5f5f5"}
DARK_GREY = {**DARK_PALETTE, "background": "#2c2c2c", "surface": "#2c2c2c"}


@pytest.mark.parametrize(
    ("name", "vuetify", "ours"),
    [
        ("primary", "#1976d2", "#0065bd"),
        ("accent", "#82b1ff", "#3b65ad"),
        ("info", "#2196f3", "#0068b0"),
        ("success", "#4caf50", "#007617"),
        ("warning", "#fb8c00", "#9a5300"),
    ],
)
def test_light_defaults_are_vuetifys_moved_to_the_nearest_passing(
    name: str, vuetify: str, ours: str
) -> None:
    """Nearest passing on light grey #f5f5f5, so also on white and off-white pages."""
    assert not contrast.passes_all(name, {**LIGHT_PALETTE, name: vuetify}, False)
    assert contrast.propose(name, {**LIGHT_GREY, name: vuetify}, False) == ours
    assert LIGHT_PALETTE[name] == ours


def test_dark_error_default_is_vuetifys_moved() -> None:
    assert not contrast.passes_all("error", {**DARK_PALETTE, "error": "#cf6679"}, True)
    assert contrast.propose("error", {**DARK_GREY, "error": "#cf6679"}, True) == "#ee8294"
    assert DARK_PALETTE["error"] == "#ee8294"


@pytest.mark.parametrize(
    ("palette", "dark", "grounds"),
    [
        (LIGHT_PALETTE, False, ["#ffffff", "#fafafa", "#f7f9fb", "#fffdf7", "#f5f5f5"]),
        (DARK_PALETTE, True, ["#121212", "#1e1e1e", "#10141a", "#1b2230", "#22223b", "#2c2c2c"]),
    ],
    ids=["light", "dark"],
)
def test_defaults_pass_on_common_backdrops(
    palette: dict[str, str], dark: bool, grounds: list[str]
) -> None:
    for background in grounds:
        for surface in grounds:
            trial = {**palette, "background": background, "surface": surface}
            for name in contrast.BRANDS:
                assert contrast.passes_all(name, trial, dark), (name, background, surface)


def test_vuetify_stock_ratios_quoted_in_the_issue() -> None:
    white = LIGHT_PALETTE["background"]
    assert contrast.shown(colors.contrast_ratio("#2196f3", white)) == "3.12:1"
    assert contrast.shown(colors.contrast_ratio("#4caf50", white)) == "2.77:1"
    assert contrast.shown(colors.contrast_ratio("#fb8c00", white)) == "2.37:1"


def test_tonal_and_emphasis_ratios_by_hand() -> None:
    # info #0068b0 at 12% over white: 255 - 0.12 * (255 - c) per channel, rounded.
    blend = colors.hex_of(*colors.blend("#0068b0", 0.12, "#ffffff"))
    assert blend == "#e0edf6"
    text_bg, text_surface, _, _, tonal_bg, _ = contrast.ratios("info", LIGHT_PALETTE, False)
    assert text_bg == text_surface == colors.contrast_ratio("#0068b0", "#ffffff")
    assert tonal_bg == colors.contrast_ratio("#0068b0", "#e0edf6")
    # Black at 60% over white is #666666; at 87% #212121; white at 70% over #1e1e1e.
    assert contrast.ratios("surface", LIGHT_PALETTE, False) == (
        21.0,
        colors.contrast_ratio("#212121", "#ffffff"),
        colors.contrast_ratio("#666666", "#ffffff"),
    )
    medium = colors.hex_of(*colors.blend("#ffffff", 0.7, "#1e1e1e"))
    assert medium == "#bcbcbc"
    assert contrast.ratios("surface", DARK_PALETTE, True)[2] == colors.contrast_ratio(
        medium, "#1e1e1e"
    )


@pytest.mark.parametrize(
    "color", ["#1976d2", "#ff0000", "#00ff00", "#0000ff", "#777777", *RANDOM[:40]]
)
def test_oklch_round_trip(color: str) -> None:
    assert colors.from_oklch(*colors.oklch(color)) == color


def test_oklch_known_values() -> None:
    # CSS Color 4's examples: white is L 1, sRGB red is oklch(0.628 0.2577 29.23).
    assert colors.oklch("#ffffff")[0] == pytest.approx(1.0, abs=1e-6)
    lightness, chroma, hue = colors.oklch("#ff0000")
    assert (lightness, chroma, hue) == pytest.approx((0.62796, 0.25768, 29.2339), abs=1e-4)


def test_out_of_gamut_keeps_hue_and_lightness() -> None:
    lightness, chroma, hue = colors.oklch("#0000ff")
    lighter = colors.from_oklch(lightness + 0.3, chroma, hue)
    l2, _, h2 = colors.oklch(lighter)
    assert l2 == pytest.approx(lightness + 0.3, abs=0.01)
    assert h2 == pytest.approx(hue, abs=1.5)


@pytest.mark.parametrize(
    ("text", "background", "lc"),
    [
        # APCA-W3 0.0.98G reference values (the APCA README and its test suite).
        ("#888888", "#ffffff", 63.056469930209424),
        ("#ffffff", "#888888", -68.54146436644962),
        ("#000000", "#aaaaaa", 58.146262578561334),
        ("#aaaaaa", "#000000", -56.24113336839742),
        ("#000000", "#ffffff", 106.04067321268862),
        ("#ffffff", "#000000", -107.88473318309848),
    ],
)
def test_apca_reference_values(text: str, background: str, lc: float) -> None:
    assert colors.apca_lc(text, background) == pytest.approx(lc, abs=1e-9)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_proposals_pass_and_keep_hue(dark: bool) -> None:
    palette = DARK_PALETTE if dark else LIGHT_PALETTE
    tried = 0
    for color in RANDOM:
        trial = {**palette, "info": color}
        if contrast.passes_all("info", trial, dark):
            continue
        tried += 1
        proposal = contrast.propose("info", trial, dark)
        assert proposal is not None, color
        assert contrast.passes_all("info", {**trial, "info": proposal}, dark)
        _, chroma, hue = colors.oklch(color)
        _, chroma2, hue2 = colors.oklch(proposal)
        if chroma > 0.03 and chroma2 > 0.03:
            assert abs((hue2 - hue + 180) % 360 - 180) < 4, (color, proposal)
    assert tried > 50


def test_a_brand_colour_s_written_out_ratios_are_the_general_ones() -> None:
    """contrast._brand spells out the WCAG steps for speed; it must give exactly the
    floats of contrast_ratio and the painted blend (_luminance_over) it stands for."""
    alpha = contrast.OPACITIES[False]["activated"]
    triples = zip(RANDOM, RANDOM[1:] + RANDOM[:1], RANDOM[2:] + RANDOM[:2], strict=True)
    for color, background, surface in triples:
        own = colors.relative_luminance(color)
        on = [colors.contrast_ratio(color, ground) for ground in (background, surface)]
        tonal = [
            colors.ratio_of_luminances(own, contrast._luminance_over(color, alpha, ground))
            for ground in (background, surface)
        ]
        assert contrast._brand(color, background, surface) == (*on, *on, *tonal)

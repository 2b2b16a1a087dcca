"""theme.css and the Vuetify theme definition, checked against the real Vuetify 3 and Chromium.

Vuetify compatibility is not asserted from memory: tests/js/vuetify-theme.mjs runs the
installed Vuetify's createVuetify on our definition and we compare its stylesheet with
ours declaration by declaration. A headless Chromium then proves that the file alone
paints a `bg-primary` element in the group's colours. Missing node or chromium is a
failure, not a skip: CI must never pass without these checks having run.
"""

from __future__ import annotations

import html
import json
import random
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import pytest

from compiler import colors as colorlib
from compiler.render import theme_css
from compiler.render.theme_css import render_theme_css, vuetify_theme

REPO = Path(__file__).resolve().parents[1]
JS_DIR = REPO / "tests" / "js"
NODE_SCRIPT = JS_DIR / "vuetify-theme.mjs"

NAMES = theme_css.BASE_COLORS


def palette(*values: str) -> dict[str, str]:
    return dict(zip(NAMES, values, strict=True))


LIGHT_DEFAULT = palette(
    "#ffffff",
    "#ffffff",
    "#1976d2",
    "#424242",
    "#82b1ff",
    "#2196f3",
    "#4caf50",
    "#b00020",
    "#fb8c00",
)
DARK_DEFAULT = palette(
    "#121212",
    "#1e1e1e",
    "#90caf9",
    "#b0bec5",
    "#ffab40",
    "#64b5f6",
    "#81c784",
    "#cf6679",
    "#ffb74d",
)
# Tinted surfaces, colours at the WCAG black/white tipping point, sRGB corners that
# clamp in CIELAB, pure black and white as brand colours.
LIGHT_ODD = palette(
    "#fffbe6",
    "#eef3ff",
    "#767676",
    "#777777",
    "#ffff00",
    "#00ffff",
    "#00ff00",
    "#ff0000",
    "#ff00ff",
)
DARK_ODD = palette(
    "#000000",
    "#0d1b2a",
    "#ff80ab",
    "#ffffff",
    "#0000ff",
    "#000000",
    "#00e676",
    "#d50000",
    "#123456",
)
PALETTES: list[tuple[str, dict[str, str], bool]] = [
    ("light-default", LIGHT_DEFAULT, False),
    ("dark-default", DARK_DEFAULT, True),
    ("light-odd", LIGHT_ODD, False),
    ("dark-odd", DARK_ODD, True),
]


@pytest.fixture(scope="module")
def env() -> jinja2.Environment:
    """The Environment exactly as the build creates it."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(REPO / "templates"),
        autoescape=lambda name: bool(name and name.endswith((".html", ".htm"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# --- a small CSS reader: selector -> {property: value}, enough for flat stylesheets ---


def parse_css(text: str) -> dict[str, dict[str, str]]:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    assert "@" not in text, "nested at-rules are not expected in theme CSS"
    rules: dict[str, dict[str, str]] = {}
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        declarations = rules.setdefault(" ".join(selector.split()), {})
        for item in body.split(";"):
            if item.strip():
                prop, sep, value = item.partition(":")
                assert sep, f"not a declaration: {item!r}"
                declarations[prop.strip()] = " ".join(value.split())
    # Every rule must have been consumed: no stray text outside braces.
    leftover = re.sub(r"[^{}]+\{[^{}]*\}", "", text)
    assert leftover.strip() == "", f"unparsed CSS: {leftover[:200]!r}"
    return rules


# --- the real Vuetify ---


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not installed: the Vuetify compatibility check needs Node.js >= 18")
    if not (JS_DIR / "node_modules" / "vuetify").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is not installed: needed once to `npm ci` in tests/js")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=600)
    return path


# Random colours (fixed seed), every grey and many near-blacks (where CIELAB turns
# linear) widen the lighten/darken comparison far beyond the four palettes.
_RANDOM = random.Random(20240611)


def _hex(r: int, g: int, b: int) -> str:
    return f"#{r:02x}{g:02x}{b:02x}"


def _random_color(top: int = 256) -> str:
    return _hex(_RANDOM.randrange(top), _RANDOM.randrange(top), _RANDOM.randrange(top))


VARIATION_SAMPLE = sorted(
    {_random_color() for _ in range(800)}
    | {_random_color(24) for _ in range(200)}
    | {_hex(v, v, v) for v in range(256)}
    | {c for _, p, _ in PALETTES for c in p.values()}
)


@pytest.fixture(scope="module")
def vuetify(node: str) -> dict[str, Any]:
    """Vuetify's own output for every palette, and its own lighten/darken of many colours."""
    request = {
        "cases": [{"theme": vuetify_theme(colors, dark)} for _, colors, dark in PALETTES],
        "variations": {
            "dark": False,
            "colors": {f"c{i}": c for i, c in enumerate(VARIATION_SAMPLE)},
            "lighten": theme_css.LIGHTEN_STEPS,
            "darken": theme_css.DARKEN_STEPS,
        },
    }
    done = subprocess.run(
        [node, str(NODE_SCRIPT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=JS_DIR,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["version"].startswith("3."), result["version"]
    return result


def expected_selectors(theme_colors: Mapping[str, str]) -> set[str]:
    """Selectors Vuetify writes for the pops theme (it also writes its stock themes)."""
    selectors = {":root", ".v-theme--pops"}
    for key in theme_colors:
        if key.startswith("on-"):
            selectors.add(f".{key}")
        else:
            selectors |= {f".bg-{key}", f".text-{key}", f".border-{key}"}
    return selectors


def lower_values(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.lower() if isinstance(v, str) else v for k, v in mapping.items()}


@pytest.mark.parametrize("index", range(len(PALETTES)), ids=[p[0] for p in PALETTES])
def test_vuetify_takes_our_definition_verbatim(vuetify: dict[str, Any], index: int) -> None:
    """No stock colour and no APCA on-colour of Vuetify's may leak into the pops theme."""
    _, colors, dark = PALETTES[index]
    ours = vuetify_theme(colors, dark)
    theirs = vuetify["cases"][index]
    assert theirs["dark"] is dark
    assert lower_values(theirs["colors"]) == ours["colors"]
    assert lower_values(theirs["variables"]) == ours["variables"]


@pytest.mark.parametrize("index", range(len(PALETTES)), ids=[p[0] for p in PALETTES])
def test_theme_css_has_every_declaration_vuetify_generates(
    vuetify: dict[str, Any], env: jinja2.Environment, index: int
) -> None:
    _, colors, dark = PALETTES[index]
    theirs = parse_css(vuetify["cases"][index]["css"])
    ours = parse_css(render_theme_css(colors, dark, env))
    wanted = expected_selectors(vuetify_theme(colors, dark)["colors"])

    assert wanted <= theirs.keys(), "Vuetify no longer writes these: " + repr(
        sorted(wanted - theirs.keys())
    )
    assert set(ours) == wanted
    for selector in sorted(wanted):
        missing = {
            prop: (value, ours[selector].get(prop))
            for prop, value in theirs[selector].items()
            if ours[selector].get(prop) != value
        }
        assert not missing, f"{selector}: Vuetify value vs ours: {missing}"
        extra = set(ours[selector]) - set(theirs[selector])
        if selector == ":root":
            extra = {p for p in extra if not p.startswith("--pops-") and p != "color-scheme"}
        assert not extra, f"{selector}: not Vuetify's: {sorted(extra)}"
    # Sanity: the comparison covered the whole variable set, not an empty block.
    assert len(theirs[".v-theme--pops"]) > 60


def test_lighten_darken_match_vuetify_exactly(vuetify: dict[str, Any]) -> None:
    theirs = lower_values(vuetify["variations"])
    ours: dict[str, str] = {}
    for i, color in enumerate(VARIATION_SAMPLE):
        for step in range(1, theme_css.LIGHTEN_STEPS + 1):
            ours[f"c{i}-lighten-{step}"] = theme_css.lighten(color, step)
        for step in range(1, theme_css.DARKEN_STEPS + 1):
            ours[f"c{i}-darken-{step}"] = theme_css.darken(color, step)
    assert len(ours) == len(VARIATION_SAMPLE) * 9
    assert theirs.keys() == ours.keys()
    differing = {k: (ours[k], theirs.get(k)) for k in ours if ours[k] != theirs.get(k)}
    assert not differing


# --- unit tests ---


@pytest.mark.parametrize(
    ("color", "on"),
    [
        # Vuetify's APCA picks white on the first three; WCAG 2 contrast with black is
        # 6.72, 7.56 and 8.85 against 3.12, 2.78 and 2.37 with white.
        ("#2196f3", colorlib.BLACK),
        ("#4caf50", colorlib.BLACK),
        ("#fb8c00", colorlib.BLACK),
        ("#1976d2", colorlib.WHITE),  # 4.60 with white vs 4.56 with black
        ("#767676", colorlib.BLACK),  # 4.62 vs 4.54
        ("#b00020", colorlib.WHITE),
    ],
)
def test_on_colours_are_the_wcag2_choice(env: jinja2.Environment, color: str, on: str) -> None:
    colors = {**LIGHT_DEFAULT, "info": color}
    theme = vuetify_theme(colors, dark=False)
    assert theme["colors"]["on-info"] == on
    root = parse_css(render_theme_css(colors, False, env))[":root"]
    assert root["--pops-on-info"] == on
    assert root["--v-theme-on-info"] == ",".join(str(c) for c in colorlib.rgb(on))


def test_every_theme_colour_has_its_wcag_on_colour() -> None:
    for _, colors, dark in PALETTES:
        theme_colors = vuetify_theme(colors, dark)["colors"]
        bases = [k for k in theme_colors if not k.startswith("on-")]
        # 5 backdrop roles, 7 brand colours, and primary/secondary each lighten-1, darken-1..2.
        assert len(bases) == 5 + 7 + 2 * 3
        assert {"primary-darken-1", "secondary-darken-1", "primary-lighten-1"} <= set(bases)
        for key in bases:
            assert theme_colors[f"on-{key}"] == colorlib.on_color(theme_colors[key]), key
        assert len(theme_colors) == 2 * len(bases)


def test_pops_variables_exact_format(env: jinja2.Environment) -> None:
    root = parse_css(render_theme_css(LIGHT_DEFAULT, False, env))[":root"]
    assert root["--pops-primary"] == "#1976d2"
    assert root["--pops-primary-rgb"] == "25, 118, 210"
    assert root["--pops-on-primary"] == "#ffffff"
    assert root["--v-theme-primary"] == "25,118,210"
    assert root["--v-theme-on-primary"] == "255,255,255"
    assert root["--v-border-color"] == "0, 0, 0"
    assert root["--v-medium-emphasis-opacity"] == "0.6"
    for name in NAMES:
        assert re.fullmatch(r"#[0-9a-f]{6}", root[f"--pops-{name}"])
        assert re.fullmatch(r"\d{1,3}, \d{1,3}, \d{1,3}", root[f"--pops-{name}-rgb"])
        assert root[f"--pops-on-{name}"] in {"#000000", "#ffffff"}
        assert re.fullmatch(r"\d{1,3},\d{1,3},\d{1,3}", root[f"--v-theme-{name}"])
        assert re.fullmatch(r"(0,0,0|255,255,255)", root[f"--v-theme-on-{name}"])


@pytest.mark.parametrize(
    ("dark", "root", "theme_class"), [(False, "light", "normal"), (True, "dark", "dark")]
)
def test_color_scheme(env: jinja2.Environment, dark: bool, root: str, theme_class: str) -> None:
    colors = DARK_DEFAULT if dark else LIGHT_DEFAULT
    rules = parse_css(render_theme_css(colors, dark, env))
    assert rules[":root"]["color-scheme"] == root
    assert rules[".v-theme--pops"]["color-scheme"] == theme_class


def close(a: str, b: str, tolerance: int = 3) -> bool:
    return all(
        abs(x - y) <= tolerance for x, y in zip(colorlib.rgb(a), colorlib.rgb(b), strict=True)
    )


def test_surface_roles_follow_the_group_surface() -> None:
    """Near Vuetify's stock greys for its stock surfaces; tinted for a tinted surface."""
    light = vuetify_theme(LIGHT_DEFAULT, False)
    assert light["colors"]["surface-bright"] == "#ffffff"
    assert light["colors"]["surface-light"] == "#eeeeee"
    assert light["colors"]["surface-variant"] == "#424242"
    assert light["variables"]["theme-kbd"] == "#eeeeee"
    assert light["variables"]["theme-code"] == "#f5f5f5"
    assert light["variables"]["border-color"] == "#000000"
    dark = vuetify_theme({**DARK_DEFAULT, "surface": "#212121"}, True)
    assert close(dark["colors"]["surface-bright"], "#c3c3c3")  # Vuetify: #ccbfd6, a tint
    assert close(dark["colors"]["surface-light"], "#424242")
    assert close(dark["colors"]["surface-variant"], "#c8c8c8")
    assert close(dark["variables"]["theme-kbd"], "#424242")
    assert close(dark["variables"]["theme-code"], "#343434")
    assert dark["variables"]["border-color"] == "#ffffff"
    tinted = vuetify_theme({**LIGHT_DEFAULT, "surface": "#eef3ff"}, False)["colors"]
    r, _, b = colorlib.rgb(tinted["surface-light"])
    assert b > r  # hue kept, not a neutral grey


def test_clamps_like_vuetify() -> None:
    assert theme_css.lighten("#ffffff", 3) == "#ffffff"
    assert theme_css.darken("#000000", 2) == "#000000"
    assert theme_css.darken("#1976d2", 1) == "#005eb6"


def test_render_is_deterministic_and_ends_with_one_newline(env: jinja2.Environment) -> None:
    for _, colors, dark in PALETTES:
        first = render_theme_css(colors, dark, env)
        shuffled = dict(reversed(list(colors.items())))
        assert render_theme_css(shuffled, dark, env) == first
        assert first.endswith("}\n") and not first.endswith("\n\n")
        assert "\r" not in first and "\t" not in first
        assert vuetify_theme(shuffled, dark) == vuetify_theme(colors, dark)
        json.dumps(vuetify_theme(colors, dark), allow_nan=False)  # config.json-ready


def test_template_only_lays_out(env: jinja2.Environment) -> None:
    """A colour in the input shows up verbatim; nothing in the output is escaped."""
    css = render_theme_css({**LIGHT_DEFAULT, "accent": "#abcdef"}, False, env)
    assert "--pops-accent: #abcdef;" in css
    assert "&" not in css


# --- the browser ---

PROBE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="theme.css"></head>
<body>
<div class="v-theme--pops bg-primary" id="x">themed</div>
<div class="bg-primary" id="y">theme: false</div>
<div class="text-error" id="t">error text</div>
<div class="border-secondary" id="b"
     style="border: 2px solid rgba(var(--v-border-color), var(--v-border-opacity))">border</div>
<pre id="out"></pre>
<script>
const probe = id => getComputedStyle(document.getElementById(id));
const root = getComputedStyle(document.documentElement);
document.getElementById("out").textContent = JSON.stringify({
  x: [probe("x").backgroundColor, probe("x").color],
  y: [probe("y").backgroundColor, probe("y").color],
  t: probe("t").color,
  b: probe("b").borderTopColor,
  pops: root.getPropertyValue("--pops-primary").trim(),
  scheme: root.colorScheme,
});
</script>
</body></html>
"""


def css_rgb(color: str, alpha: str | None = None) -> str:
    r, g, b = colorlib.rgb(color)
    return f"rgba({r}, {g}, {b}, {alpha})" if alpha else f"rgb({r}, {g}, {b})"


@pytest.mark.parametrize("index", range(len(PALETTES)), ids=[p[0] for p in PALETTES])
def test_chromium_paints_from_theme_css_alone(
    env: jinja2.Environment, tmp_path: Path, index: int
) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed (apt-get install -y chromium): browser check")
    _, colors, dark = PALETTES[index]
    site = tmp_path / "site"
    site.mkdir()
    (site / "theme.css").write_text(render_theme_css(colors, dark, env), encoding="utf-8")
    (site / "index.html").write_text(PROBE_PAGE, encoding="utf-8")
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            (site / "index.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    match = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, flags=re.S)
    assert match and match.group(1), f"no probe output; stderr:\n{done.stderr[-2000:]}"
    seen = json.loads(html.unescape(match.group(1)))

    primary, on_primary = colors["primary"], colorlib.on_color(colors["primary"])
    assert seen["x"] == [css_rgb(primary), css_rgb(on_primary)]
    assert seen["y"] == [css_rgb(primary), css_rgb(on_primary)]
    assert seen["t"] == css_rgb(colors["error"])
    assert seen["b"] == css_rgb(colors["secondary"], "0.12")
    assert seen["pops"] == primary
    assert seen["scheme"] == ("dark" if dark else "light")

"""Shared by the two contrast rules: every pair of colours the portal draws, measured.

The pairs come from what theme.css and theme.vuetify make Vuetify 3 draw
(compiler/render/theme_css.py): each theme colour as text (text, outlined and plain
variants, links) on the background and on the surface; as text on its own tonal
background (the colour at `--v-activated-opacity` over the backdrop: tonal alerts,
buttons and chips); each on-colour on its colour (flat and elevated variants, every
`bg-*` class, the lighten/darken variations, the surface roles); and body text on
the backdrops at full, high and medium emphasis (`--v-*-emphasis-opacity`).

An on-colour on its own colour always passes: it is the better of black and white,
and the worse of the best is 4.58:1 (a colour of luminance 0.179), over the 4.5:1
of text. Those pairs are listed (docs/contrast.md) but not measured per group.

A problem is reported once per colour (the "subject", the colour the admin would
change), naming its worst pair, with the nearest colour of the same hue that passes
every pair the colour is in. `contrast-low` reports the colours that fail a pair
every page shows, `contrast-aa` the others.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from compiler import colors
from compiler.load.located import Path_
from compiler.model import Group
from compiler.rules.theme_dark_mismatch import mismatched

TEXT = 4.5  # WCAG 2 AA, 1.4.3: normal text
LARGE = 3.0  # WCAG 2 AA, 1.4.3 large text and 1.4.11 user-interface components

BACKDROPS = ("background", "surface")
BRANDS = ("primary", "secondary", "accent", "info", "success", "warning", "error")
# Vuetify 3's opacities (theme_reference.LIGHT_OPACITIES / DARK_OPACITIES) that pairs use.
OPACITIES = {
    False: {"activated": 0.12, "high-emphasis": 0.87, "medium-emphasis": 0.6},
    True: {"activated": 0.12, "high-emphasis": 1.0, "medium-emphasis": 0.7},
}
# Where patients meet each brand colour.
SEEN = {
    "primary": "buttons and links",
    "secondary": "secondary buttons",
    "accent": "highlights",
    "info": "information messages",
    "success": "confirmations, such as a payment that went through",
    "warning": "warnings",
    "error": "error messages and invalid fields",
}


@dataclass(frozen=True, slots=True)
class Pair:
    """One foreground the portal draws on one backdrop.

    `kind`: "text" (the colour on a backdrop), "border" (the same colours as a control's
    outline or icon, 3:1), "tonal" (the colour on itself at the
    activated opacity over a backdrop), "ink" (the backdrop's on-colour at an
    opacity over the backdrop), "on" (an on-colour on its colour: always passes).
    """

    subject: str
    kind: str
    foreground: str
    backdrop: str
    opacity: str  # the --v-*-opacity the pair uses, "" for none
    minimum: float
    every_page: bool
    where: str

    @property
    def ground(self) -> str:
        """The backdrop colour underneath (for a tonal pair, the one under the tint)."""
        return self.backdrop.rsplit(" ", 1)[-1]


_GROUNDS = (("background", "on the page"), ("surface", "in a VCard or VSheet"))


def _on_grounds(name: str) -> list[Pair]:
    """A brand colour as text, as a border and as a tonal tint, on the page and on cards."""
    main = name == "primary"
    variants = f'variant="text", "outlined" or "plain"; `text-{name}` links'
    pairs = [
        Pair(
            name, "text", name, ground, "", TEXT, main, f"VBtn, VAlert, VChip {variants}, {inside}"
        )
        for ground, inside in _GROUNDS
    ]
    pairs += [
        Pair(
            name,
            "border",
            name,
            ground,
            "",
            LARGE,
            main,
            f'VBtn, VChip, VCard variant="outlined" borders and icons, {inside}',
        )
        for ground, inside in _GROUNDS
    ]
    pairs += [
        Pair(
            name,
            "tonal",
            name,
            f"{name} at activated-opacity over {ground}",
            "activated",
            TEXT,
            False,
            f'VAlert, VBtn variant="tonal", VChip (tonal by default), {inside}',
        )
        for ground, inside in _GROUNDS
    ]
    return pairs


def _brand_pairs(name: str) -> list[Pair]:
    """Every place a brand colour meets another: on the grounds, and under its on-colour."""
    where = (
        f'VBtn (elevated by default), VAlert (flat by default), VChip variant="flat", `bg-{name}`'
    )
    pairs = [
        *_on_grounds(name),
        Pair(name, "on", f"on-{name}", name, "", TEXT, name == "primary", where),
    ]
    if name in ("primary", "secondary"):
        for variation in (f"{name}-lighten-1", f"{name}-darken-1", f"{name}-darken-2"):
            pairs.append(
                Pair(name, "on", f"on-{variation}", variation, "", TEXT, False, f"`bg-{variation}`")
            )
    return pairs


def _backdrop_pairs(ground: str) -> list[Pair]:
    """A backdrop's own text at the three emphasis levels Vuetify draws it in."""
    on = f"on-{ground}"
    page = ground == "background"
    body = "VApp page text" if page else "VSheet and VList text"
    high = (
        "`text-high-emphasis` headings"
        if page
        else "VCard, VAppBar and VExpansionPanel text (high-emphasis)"
    )
    medium = (
        "`text-medium-emphasis` secondary text"
        if page
        else "VCounter, VEmptyState headlines, tonal VAvatar (medium-emphasis)"
    )
    return [
        Pair(ground, "ink", on, ground, "", TEXT, True, body),
        Pair(ground, "ink", on, ground, "high-emphasis", TEXT, True, high),
        Pair(ground, "ink", on, ground, "medium-emphasis", TEXT, True, medium),
    ]


# Surface roles Vuetify derives, with their own on-colours: (role, its on-colour, where).
_ROLES = (
    ("surface-bright", "on-surface-bright", "`bg-surface-bright`"),
    ("surface-light", "on-surface-light", "`bg-surface-light`, VField filled"),
    ("surface-variant", "on-surface-variant", "VTooltip, `bg-surface-variant`"),
    ("theme-code", "theme-on-code", "VCode, `<code>`"),
    ("theme-kbd", "theme-on-kbd", "VKbd, `<kbd>`"),
)


def _catalogue() -> tuple[Pair, ...]:
    pairs = [pair for name in BRANDS for pair in _brand_pairs(name)]
    pairs += [pair for ground in BACKDROPS for pair in _backdrop_pairs(ground)]
    pairs += [Pair("surface", "on", on, role, "", TEXT, False, where) for role, on, where in _ROLES]
    return tuple(pairs)


PAIRS: tuple[Pair, ...] = _catalogue()
MEASURED: tuple[Pair, ...] = tuple(p for p in PAIRS if p.kind != "on")
BY_SUBJECT: dict[str, tuple[Pair, ...]] = {
    name: tuple(p for p in MEASURED if p.subject == name) for name in (*BACKDROPS, *BRANDS)
}


def _luminance_over(color: str, alpha: float, backdrop: str) -> float:
    """Luminance of `color` at `alpha` over `backdrop`, as painted: whole channels (rounded
    as colors.hex_of does; a blend stays in 0..255), with no string between."""
    r, g, b = colors.blend(color, alpha, backdrop)
    return colors.luminance_of(int(r + 0.5), int(g + 0.5), int(b + 0.5))


@lru_cache(maxsize=colors.CACHE_SIZE)
def _brand(color: str, background: str, surface: str) -> tuple[float, ...]:
    """Ratios of a brand colour's measured pairs, in BY_SUBJECT order: text on background
    and on surface, outlines on each (the same colours), then text on its tonal
    background over each."""
    # Written out, the same operations in the same order (so the same floats) as
    # contrast_ratio and _luminance_over (the colour at `alpha` over a backdrop, in whole
    # channels): nearly every brand colour is new, and a call per step was most of the time.
    linear = colors.LINEAR
    r, g, b = colors.rgb(color)
    own = 0.2126 * linear[r] + 0.7152 * linear[g] + 0.0722 * linear[b]
    alpha = OPACITIES[False]["activated"]  # the same in both themes
    rest = 1 - alpha
    ratios: list[float] = []
    tonal: list[float] = []
    for ground in (background, surface):
        br, bg, bb = colors.rgb(ground)
        behind = colors.relative_luminance(ground)
        hi, lo = (own, behind) if own >= behind else (behind, own)
        ratios.append((hi + 0.05) / (lo + 0.05))
        over = (
            0.2126 * linear[int(r * alpha + br * rest + 0.5)]
            + 0.7152 * linear[int(g * alpha + bg * rest + 0.5)]
            + 0.0722 * linear[int(b * alpha + bb * rest + 0.5)]
        )
        tonal.append((own + 0.05) / (over + 0.05) if own >= over else (over + 0.05) / (own + 0.05))
    return (*ratios, *ratios, *tonal)


@lru_cache(maxsize=colors.CACHE_SIZE)
def _backdrop(color: str, dark: bool) -> tuple[float, float, float]:
    """Ratios of a backdrop's on-colour on it: full, high and medium emphasis."""
    ink = colors.on_color(color)
    ground = colors.relative_luminance(color)
    opacities = OPACITIES[dark]
    return (
        colors.contrast_ratio(ink, color),
        colors.ratio_of_luminances(_luminance_over(ink, opacities["high-emphasis"], color), ground),
        colors.ratio_of_luminances(
            _luminance_over(ink, opacities["medium-emphasis"], color), ground
        ),
    )


def ratios(subject: str, palette: Mapping[str, str], dark: bool) -> tuple[float, ...]:
    """The ratios of BY_SUBJECT[subject], in that order, for this palette."""
    if subject in BACKDROPS:
        return _backdrop(palette[subject], dark)
    return _brand(palette[subject], palette["background"], palette["surface"])


def drawn(pair: Pair, palette: Mapping[str, str], dark: bool) -> tuple[str, str]:
    """The foreground and backdrop as the browser paints them (blends rounded to #rrggbb)."""
    if pair.kind == "tonal":
        ground = pair.ground
        alpha = OPACITIES[dark]["activated"]
        color = palette[pair.subject]
        return color, colors.hex_of(*colors.blend(color, alpha, palette[ground]))
    if pair.kind == "ink":
        ground = palette[pair.backdrop]
        ink = colors.on_color(ground)
        if pair.opacity:
            ink = colors.hex_of(*colors.blend(ink, OPACITIES[dark][pair.opacity], ground))
        return ink, ground
    return palette[pair.foreground], palette[pair.backdrop]


@dataclass(frozen=True, slots=True)
class Problem:
    """A colour with at least one pair under its minimum."""

    subject: str
    worst: Pair
    ratio: float
    failing: tuple[tuple[Pair, float], ...]

    @property
    def every_page(self) -> bool:
        return any(pair.every_page for pair, _ in self.failing)


def _subjects(group: Group) -> Iterator[str]:
    """The colours to judge: with `theme.dark` contradicting the backdrops,
    theme-dark-mismatch reports that one cause, so neither the backdrops it names nor
    the colours the admin left out (taken from the wrong palette) are judged again."""
    wrong = mismatched(group)
    given = group.theme.colors
    for name in (*BACKDROPS, *BRANDS):
        if wrong and (name in wrong or getattr(given, name) is None):
            continue
        yield name


def _failing(
    subject: str, palette: Mapping[str, str], dark: bool, ground: str = ""
) -> list[tuple[Pair, float]]:
    """The measured pairs of `subject` under their minimum (only those on `ground`)."""
    return [
        (pair, ratio)
        for pair, ratio in zip(BY_SUBJECT[subject], ratios(subject, palette, dark), strict=True)
        if ratio < pair.minimum and (not ground or pair.ground == ground)
    ]


# (theme, problems) of the last group judged: both rules ask about the same group in turn.
_judged: tuple[object, list[Problem]] = (None, [])


def _all_pass(palette: Mapping[str, str], dark: bool) -> bool:
    """The quick answer for most groups: every measured pair at 4.5:1 or more (the
    highest minimum), from the memoised per-colour ratios alone."""
    background, surface = palette["background"], palette["surface"]
    return _backdrops_pass(background, surface, dark) and all(
        _brand_passes(palette[name], background, surface) for name in BRANDS
    )


@lru_cache(maxsize=colors.CACHE_SIZE)
def _backdrops_pass(background: str, surface: str, dark: bool) -> bool:
    return min(_backdrop(background, dark)) >= TEXT and min(_backdrop(surface, dark)) >= TEXT


@lru_cache(maxsize=colors.CACHE_SIZE)
def _brand_passes(color: str, background: str, surface: str) -> bool:
    return min(_brand(color, background, surface)) >= TEXT


def problems(group: Group) -> list[Problem]:
    """Every colour of the group that fails a pair, in palette order.

    A colour the admin left out that fails only on a backdrop the admin wrote is the
    backdrop's problem (the defaults pass on the default backdrops): its pairs join
    the backdrop's, so one mistake is one message, at the line that made it.
    """
    global _judged
    theme, found = _judged
    if theme is group.theme:
        return found
    palette = group.theme.palette()
    dark = group.theme.dark
    if _all_pass(palette, dark):
        _judged = (group.theme, [])
        return []
    given = group.theme.colors
    failing: dict[str, list[tuple[Pair, float]]] = {}
    for subject in _subjects(group):
        failing[subject] = _failing(subject, palette, dark)
        if subject in BRANDS and getattr(given, subject) is None:
            for pair, ratio in list(failing[subject]):
                if pair.ground in failing and getattr(given, pair.ground) is not None:
                    failing[subject].remove((pair, ratio))
                    failing[pair.ground].append((pair, ratio))
    found = []
    for subject, pairs in failing.items():
        if pairs:
            # The worst pair, among those every page shows when there are any: the
            # reason the colour is an error is the pair to name.
            shown_everywhere = [item for item in pairs if item[0].every_page] or pairs
            worst, ratio = min(shown_everywhere, key=lambda item: item[1] / item[0].minimum)
            found.append(Problem(subject, worst, ratio, tuple(pairs)))
    _judged = (group.theme, found)
    return found


def passes_all(subject: str, palette: Mapping[str, str], dark: bool) -> bool:
    """True when every measured pair of `subject` reaches its minimum."""
    return not _failing(subject, palette, dark)


def propose(
    subject: str, palette: Mapping[str, str], dark: bool, left_out: tuple[str, ...] = ()
) -> str | None:
    """The colour nearest `palette[subject]` in OKLCH lightness, same hue, that passes
    every pair it is in: its own pairs and, for a backdrop, the pairs of the other
    colours on it (those `left_out` by the admin, and those that pass now), without
    changing whether the backdrop is dark."""
    current = dict(palette)
    keep = [
        name
        for name in BRANDS
        if subject in BACKDROPS and (name in left_out or not _failing(name, current, dark, subject))
    ]

    def passes(candidate: str) -> bool:
        trial = {**current, subject: candidate}
        if subject in BACKDROPS and colors.is_dark(candidate) != dark:
            return False
        if _failing(subject, trial, dark):
            return False
        return not any(_failing(name, trial, dark, subject) for name in keep)

    if subject in BACKDROPS:
        # A backdrop gains contrast by moving away from its text: lighter when light.
        darker_first = colors.is_dark(palette[subject])
    else:
        darker_first = not colors.is_dark(palette["background"])
    return colors.nearest_lightness(palette[subject], passes, darker_first)


def paths(problem: Problem) -> tuple[Path_, ...]:
    """The subject, then the backdrop of its worst pair, then theme.dark."""
    out: list[Path_] = [("theme", "colors", problem.subject)]
    ground = problem.worst.ground
    if ground in BACKDROPS and ground != problem.subject:
        out.append(("theme", "colors", ground))
    out.append(("theme", "dark"))
    return tuple(out)


def shown(ratio: float) -> str:
    """Truncated, not rounded: 4.496 must not be shown as "4.50:1" next to "under 4.5:1"."""
    return f"{int(ratio * 100) / 100:.2f}:1"


def _minimum(value: float) -> str:
    return f"{value:g}:1"


def describe_pair(pair: Pair, palette: Mapping[str, str], dark: bool) -> str:
    """The pair in words with the colours the browser paints."""
    fg, bg = drawn(pair, palette, dark)
    if pair.kind == "tonal":
        ground = pair.ground
        percent = round(OPACITIES[dark]["activated"] * 100)
        return (
            f"{pair.subject} {fg} text on its tonal background {bg} "
            f"({pair.subject} at {percent}% over {ground} {palette[ground]})"
        )
    if pair.kind == "ink":
        if pair.opacity:
            percent = round(OPACITIES[dark][pair.opacity] * 100)
            return (
                f"{pair.opacity} text {fg} ({pair.foreground} at {percent}%) "
                f"on {pair.backdrop} {bg}"
            )
        return f"{pair.foreground} text {fg} on {pair.backdrop} {bg}"
    return f"{pair.subject} {fg} text on {pair.backdrop} {bg}"


def message(problem: Problem, group: Group) -> str:
    """What the rules say about one colour: its worst pair, where patients see it, how
    many other pairs fail, and the nearest colour of the same hue that passes."""
    palette = group.theme.palette()
    dark = group.theme.dark
    pair = problem.worst
    kind = "text" if pair.minimum == TEXT else "large text and controls"
    seen = SEEN.get(pair.subject, "text on every page")
    text = (
        f"{describe_pair(pair, palette, dark)} has contrast {shown(problem.ratio)}, under the "
        f"{_minimum(pair.minimum)} WCAG AA asks for {kind}; patients see it in {pair.where} "
        f"({seen})"
    )
    others = len(problem.failing) - 1
    if others:
        verb = "pairs fail" if others > 1 else "pair fails"
        text += f"; {others} other {verb} too"
    given = group.theme.colors
    left_out = tuple(name for name in BRANDS if getattr(given, name) is None)
    proposal = propose(problem.subject, palette, dark, left_out)
    if proposal is None:
        ground = (
            f" on {pair.ground} {palette[pair.ground]}" if pair.ground != problem.subject else ""
        )
        return text + f"; no {problem.subject} of this hue passes{ground}: choose another colour"
    return text + f'; the nearest {problem.subject} of the same hue that passes is "{proposal}"'


@dataclass(frozen=True, slots=True)
class Summary:
    """A colour's lowest pair, for `pops explain`: WCAG 2 decides, APCA is shown too."""

    pair: Pair
    ratio: float
    foreground: str
    backdrop: str
    apca: float

    def text(self, palette: Mapping[str, str], dark: bool) -> str:
        verdict = "passes" if self.ratio >= self.pair.minimum else "fails"
        minimum = _minimum(self.pair.minimum)
        return (
            f"lowest contrast {shown(self.ratio)} ({verdict} WCAG AA {minimum}):"
            f" {describe_pair(self.pair, palette, dark)}; APCA Lc {self.apca:.1f}, for information"
        )


def summary(subject: str, palette: Mapping[str, str], dark: bool) -> Summary:
    """The lowest of `subject`'s measured pairs against its minimum, with its APCA Lc."""
    pair, ratio = min(
        zip(BY_SUBJECT[subject], ratios(subject, palette, dark), strict=True),
        key=lambda item: item[1] / item[0].minimum,
    )
    fg, bg = drawn(pair, palette, dark)
    return Summary(pair, ratio, fg, bg, colors.apca_lc(fg, bg))


def table() -> str:
    """The pairs as the Markdown table of docs/contrast.md (a test keeps the two equal)."""
    lines = [
        "| colour judged | foreground | backdrop | opacity | minimum | every page | drawn by |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for pair in PAIRS:
        opacity = f"`--v-{pair.opacity}-opacity`" if pair.opacity else ""
        minimum = _minimum(pair.minimum) + (" (always met)" if pair.kind == "on" else "")
        lines.append(
            f"| {pair.subject} | {pair.foreground} | {pair.backdrop} | {opacity} | {minimum} "
            f"| {'yes' if pair.every_page else ''} | {pair.where} |"
        )
    return "\n".join(lines) + "\n"

"""The MFA email works where patients read it (#13, part 4), measured in headless Chromium.

Every rendered email (the sample groups' in dist/, and groups built here through the
`pops` CLI with the longest texts and widest characters pops accepts) is opened in a
real 375 px phone viewport and an 800 px desktop one, light and dark:

* nothing scrolls sideways: the page's scroll width is the viewport's width, and the
  card is fluid (the viewport less its margins on a phone, 600 px on a desktop);
* every piece of text has at least 4.5:1 WCAG 2 contrast against the background it
  is painted on, from the computed styles, in both colour schemes, and dark mode
  really is dark;
* under Chromium's forced dark (how Android's WebView, and so mail apps built on it,
  darken mail) the email shows its own dark design, checked on the screenshot's pixels;
* the HTML stays under Gmail's 102 KB clipping limit at the largest inputs.

A missing browser is a failure, not a skip.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cdp import Chromium
from conftest import REPO, pops_executable, write_group
from PIL import Image

from compiler import colors
from compiler.model.types import SUBJECT_LIMIT, URL_LIMIT
from compiler.render import mfa

DIST = REPO / "dist" / "groups"
SAMPLES = sorted(DIST.glob("*/mfa/email.html"))
CODE = "${mfa.code}"
# Gmail clips a message whose HTML is over 102 KB ("[Message clipped]"), hiding the code.
GMAIL_CLIP = 102 * 1000
PHONE, DESKTOP = 375, 800
CARD_MAX = 600
PAGE_MARGIN = 12  # each side, around the card (the outer cell's padding)

# The longest name, subject, footer and body pops accepts, as single unbroken words
# (nothing for the browser to wrap at), and the longest footer email address.
LONG_EMAIL = "b" * 64 + "@" + "d" * 63 + "." + "e" * 63 + "." + "f" * 57 + ".com"
WORD = "W"


def _q(text: str) -> str:
    """`text` as a YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _group(
    *,
    name: str,
    subject: str,
    body: str,
    footer: str,
    email: str,
    dark: bool,
    primary: str,
    logo: str | None,
) -> str:
    logo_line = f"branding:\n  logo_url: {_q(logo)}\n" if logo else ""
    return (
        f"name: {_q(name)}\n{logo_line}"
        f"theme:\n  dark: {str(dark).lower()}\n  colors:\n    primary: {_q(primary)}\n"
        "payments:\n  credit_card: true\n"
        f"look_and_feel:\n  footer:\n    text: {_q(footer)}\n    email: {_q(email)}\n"
        '    phone: "+1 212 555 0199"\n'
        "authentication:\n  mfa:\n    enabled: true\n    success_role: authorized_patient\n"
        f"    email_subject: {_q(subject)}\n    email_body: {_q(body)}\n"
        "notifications:\n  email_from: no-reply@example.com\n"
    )


def _longest_words(primary: str, dark: bool, logo: str | None) -> str:
    body = WORD * 2000 + " " + CODE + "\n" + WORD * 1500 + "\n\n"
    body += WORD * (5000 - len(body))
    return _group(
        name=WORD * 100,
        subject=WORD * SUBJECT_LIMIT,
        body=body,
        footer=WORD * 500,
        email=LONG_EMAIL,
        dark=dark,
        primary=primary,
        logo=logo,
    )


def _largest_bytes() -> str:
    """Every text at its limit in the characters that grow most as HTML (`&` is `&amp;`),
    and a body that is all paragraph breaks (each becomes a styled <p>)."""
    body = CODE + "\n\n" + "&\n\n" * ((5000 - len(CODE) - 2) // 3)
    body += "&" * (5000 - len(body))
    return _group(
        name="&" * 100,
        subject="&" * SUBJECT_LIMIT,
        body=body,
        footer="&" * 500,
        email=LONG_EMAIL,
        dark=False,
        primary="#1565c0",
        logo="https://cdn.example.com/" + "&" * (URL_LIMIT - len("https://cdn.example.com/")),
    )


# slug -> group text. Primaries cover each way a link colour is chosen: a dark brand
# colour (kept on light, lightened on dark), a light one on a dark theme (text colour on
# light, kept on dark), and a grey one on a dark theme (text colour on light, kept on dark).
EXTREMES = {
    "longest-dark-primary": _longest_words("#0d1b8c", False, None),
    "longest-light-primary": _longest_words("#ffeb3b", True, "https://cdn.example.com/l.png"),
    "longest-grey-primary": _longest_words("#8a8a8a", True, None),
    "largest-bytes": _largest_bytes(),
}


@pytest.fixture(scope="module")
def extremes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The extreme groups, built by the real `pops build`: slug -> its email.html."""
    repo = tmp_path_factory.mktemp("extremes")
    (repo / "groups").mkdir()
    for slug, text in EXTREMES.items():
        write_group(repo, slug, text)
    done = subprocess.run(
        [pops_executable(), "build"], cwd=repo, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {slug: repo / "dist" / "groups" / slug / "mfa" / "email.html" for slug in EXTREMES}


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium() as chromium:
        yield chromium


def emails(extremes: dict[str, Path]) -> list[Path]:
    assert len(SAMPLES) >= 2, SAMPLES  # the sample groups' committed emails
    return [*SAMPLES, *extremes.values()]


# What the page computed: viewport and scroll widths, the card, and every piece of text
# with its colour, the background it sits on (the nearest painted ancestor) and its box.
PROBE = """(() => {
  const painted = el => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (c !== "rgba(0, 0, 0, 0)" && c !== "transparent") return c;
    }
    return null;
  };
  const texts = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node; (node = walk.nextNode()); ) {
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    const range = document.createRange();
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    texts.push({
      text: node.textContent.trim().slice(0, 30),
      color: getComputedStyle(el).color,
      background: painted(el),
      box: [r.left, r.top, r.right, r.bottom],
    });
  }
  const card = document.querySelector(".pops-card").getBoundingClientRect();
  return {
    innerWidth: innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    dark: matchMedia("(prefers-color-scheme: dark)").matches,
    shows_code: document.body.innerText.includes("${mfa.code}"),
    card: [card.left, card.width],
    cardBackground: getComputedStyle(document.querySelector(".pops-card")).backgroundColor,
    texts: texts,
  };
})()"""


def hex_of(css: str) -> str:
    """`rgb(1, 2, 3)` -> `#010203`; only opaque colours are expected in the email."""
    found = re.fullmatch(r"rgb\((\d+), (\d+), (\d+)\)", css)
    assert found, f"not an opaque colour: {css}"
    return colors.hex_of(*(float(found.group(i)) for i in (1, 2, 3)))


def measure(browser: Chromium, page: Path, width: int, dark: bool) -> dict[str, Any]:
    browser.open(page, width=width, dark=dark)
    found: dict[str, Any] = browser.evaluate(PROBE)
    assert found["dark"] is dark
    return found


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_email_fits_the_viewport_without_sideways_scrolling(
    browser: Chromium, extremes: dict[str, Path], width: int, dark: bool
) -> None:
    for page in emails(extremes):
        got = measure(browser, page, width, dark)
        where = f"{page.relative_to(page.parents[3])} at {width} px"
        # A phone widens its layout viewport to fit content that overflows, so both count.
        assert got["innerWidth"] == width, where
        assert got["scrollWidth"] == width, where
        assert got["bodyScrollWidth"] == width, where
        left, card = got["card"]
        assert card == min(CARD_MAX, width - 2 * PAGE_MARGIN), where  # fluid up to 600 px
        assert left == (width - card) / 2, where  # centred
        for text in got["texts"]:
            x0, _, x1, _ = text["box"]
            assert left <= x0 and x1 <= left + card, f"{where}: {text['text']!r} leaves the card"


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_email_text_contrast_is_at_least_4_5_in_both_schemes(
    browser: Chromium, extremes: dict[str, Path], dark: bool
) -> None:
    for page in emails(extremes):
        got = measure(browser, page, PHONE, dark)
        card = hex_of(got["cardBackground"])
        assert card == (mfa.DARK_CARD if dark else mfa.LIGHT_CARD), page
        assert got["texts"], page
        assert got["shows_code"], f"{page}: the reader does not see ${{mfa.code}} for the sender"
        for text in got["texts"]:
            assert text["background"] is not None, text
            fg, bg = hex_of(text["color"]), hex_of(text["background"])
            ratio = colors.contrast_ratio(fg, bg)
            assert ratio >= mfa.MIN_CONTRAST, (
                f"{page}: {text['text']!r} is {fg} on {bg}, {ratio:.2f}:1 "
                f"({'dark' if dark else 'light'})"
            )


def test_email_html_stays_under_gmails_clipping_size(extremes: dict[str, Path]) -> None:
    largest = extremes["largest-bytes"].read_bytes()
    assert len(largest) < GMAIL_CLIP, len(largest)
    # It really is the largest input: every text at its limit, all of it escaped.
    assert largest.count(b"&amp;") > 4000
    assert CODE.encode() in largest
    for page in emails(extremes):
        size = page.stat().st_size
        twin = page.with_name("email.txt").stat().st_size
        assert size + twin < GMAIL_CLIP, (page, size, twin)


def _drawn_contrast(image: Image.Image, box: list[float]) -> tuple[str, str, float]:
    """(ink, background, ratio) of the text drawn in `box`: the background is the colour
    most pixels have, the ink the pixel that stands out from it most (anti-aliased edges
    only ever lie between the two)."""
    x0, y0, x1, y1 = (round(v) for v in box)
    crop = image.crop((max(0, x0), max(0, y0), min(image.width, x1), min(image.height, y1)))
    counted = crop.getcolors(crop.width * crop.height)
    assert counted, box
    background = colors.hex_of(*max(counted)[1])
    ink = max(
        (colors.hex_of(*rgb) for _, rgb in counted),
        key=lambda color: colors.contrast_ratio(color, background),
    )
    return ink, background, colors.contrast_ratio(ink, background)


def _full_page(browser: Chromium, page: Path, *, dark: bool, forced_dark: bool) -> Image.Image:
    """A screenshot of the whole email at phone width (the viewport made as tall as it)."""
    browser.open(page, width=PHONE, dark=dark, forced_dark=forced_dark)
    height = browser.evaluate("document.documentElement.scrollHeight")
    browser.open(page, width=PHONE, height=height, dark=dark, forced_dark=forced_dark)
    return Image.open(io.BytesIO(browser.screenshot())).convert("RGB")


def test_forced_dark_shows_the_emails_own_dark_design(
    browser: Chromium, extremes: dict[str, Path]
) -> None:
    """A client that darkens mail (Chromium's forced dark, as in Android's WebView) leaves
    an email that declares its dark colours alone: the pixels are the dark design's."""
    for page in emails(extremes):
        forced = _full_page(browser, page, dark=True, forced_dark=True)
        own = _full_page(browser, page, dark=True, forced_dark=False)
        assert forced.tobytes() == own.tobytes(), page
        assert colors.hex_of(*forced.getpixel((PAGE_MARGIN + 2, forced.height - 2))) != "#ffffff"


def test_text_stays_readable_when_a_client_inverts_the_light_email(
    browser: Chromium, extremes: dict[str, Path]
) -> None:
    """A client that darkens the light email anyway (forced dark without the dark
    preference, as some apps do): every text's drawn pixels keep 4.5:1 on their background."""
    for page in emails(extremes):
        image = _full_page(browser, page, dark=False, forced_dark=True)
        texts = browser.evaluate(PROBE)["texts"]
        card = colors.hex_of(*image.getpixel((PHONE // 2, image.height - PAGE_MARGIN - 24)))
        assert colors.is_dark(card), f"{page}: forced dark left the card {card}"
        for text in texts:
            ink, background, ratio = _drawn_contrast(image, text["box"])
            assert ratio >= mfa.MIN_CONTRAST, (
                f"{page}: {text['text']!r} drawn {ink} on {background}, {ratio:.2f}:1"
            )


def test_a_url_over_the_limit_is_refused_where_it_is_written(tmp_path: Path) -> None:
    """The logo URL is the one text without a length of its own that the email carries:
    pops caps every https URL so the size guarantee above holds."""
    (tmp_path / "groups").mkdir()
    url = "https://cdn.example.com/" + "a" * (URL_LIMIT + 1 - len("https://cdn.example.com/"))
    write_group(
        tmp_path, "g", f"name: G\nbranding:\n  logo_url: {url}\npayments:\n  credit_card: true\n"
    )
    done = subprocess.run(
        [pops_executable(), "validate"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == (
        f'groups/g.yaml:3:13: error: branding.logo_url: "{url[:60]}..." is {URL_LIMIT + 1} '
        f"characters long; the limit is {URL_LIMIT} (many servers and mail clients refuse "
        "longer URLs): shorten the address [url-invalid]"
    )
    assert "Traceback" not in done.stdout + done.stderr


def test_brand_colours_read_on_both_cards_for_any_primary() -> None:
    """Every primary (on a grid through the RGB cube) gets a band and link colour with
    4.5:1 on the light card and a dark-mode link colour with 4.5:1 on the dark card,
    and a primary that already reads is kept as it is."""
    steps = range(0, 256, 15)
    for r in steps:
        for g in steps:
            for b in steps:
                primary = colors.hex_of(r, g, b)
                light, dark = mfa.brand_colors(primary)
                assert colors.contrast_ratio(light, mfa.LIGHT_CARD) >= mfa.MIN_CONTRAST, primary
                assert colors.contrast_ratio(dark, mfa.DARK_CARD) >= mfa.MIN_CONTRAST, primary
                if colors.contrast_ratio(primary, mfa.LIGHT_CARD) >= mfa.MIN_CONTRAST:
                    assert light == primary
                if colors.contrast_ratio(primary, mfa.DARK_CARD) >= mfa.MIN_CONTRAST:
                    assert dark == primary

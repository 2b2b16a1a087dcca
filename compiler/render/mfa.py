"""MFA email (HTML, text twin, subject) and SMS: admin text inserted as data, never run.

`${mfa.code}` passes through untouched for the sender to fill in.
"""

from __future__ import annotations

import math
import weakref
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from compiler import colors
from compiler.model import Group, phone_formats
from compiler.render.skeleton import SkeletonTemplate, shape_of
from compiler.render.templates import environment

if TYPE_CHECKING:
    import jinja2

HTML_TEMPLATE = "mfa/email.html.j2"
TEXT_TEMPLATE = "mfa/email.txt.j2"

# Per environment: the two email templates, rendered through skeletons (see skeleton.py).
_TEMPLATES: weakref.WeakKeyDictionary[
    jinja2.Environment, tuple[SkeletonTemplate, SkeletonTemplate]
] = weakref.WeakKeyDictionary()


def _paragraphs(body: str) -> list[list[str]]:
    """Blank lines split paragraphs; single line breaks stay line breaks."""
    blocks = [block for block in body.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return [block.strip("\n").split("\n") for block in blocks]


def _templates(env: jinja2.Environment | None) -> tuple[SkeletonTemplate, SkeletonTemplate]:
    """The two email templates of `env` (None: the shipped ones), set up once per process."""
    if env is None:
        env = environment()
    found = _TEMPLATES.get(env)
    if found is None:
        found = (SkeletonTemplate(env, HTML_TEMPLATE), SkeletonTemplate(env, TEXT_TEMPLATE))
        _TEMPLATES[env] = found
    return found


# The card behind the text, as templates/mfa/email.html.j2 paints it in each mode.
LIGHT_CARD, DARK_CARD = colors.WHITE, "#1e1e1e"
# WCAG 2 AA for body-size text: what every text colour of the email meets, in both modes.
MIN_CONTRAST = 4.5


def _shade(color: str, backdrop: str) -> str:
    """`color`, or the least mix of it with black (on a light `backdrop`) or white (on a
    dark one) that has MIN_CONTRAST against `backdrop`.

    Why a mix found by halving, on integer channels: contrast grows with the share of
    black or white, and ten steps cost microseconds without touching the colour
    module's caches, where searching lightness in OKLCH took ~16 ms a colour: too slow
    for 10,000 groups with as many primaries.
    """

    behind = colors.relative_luminance(backdrop)
    lighter = colors.is_dark(backdrop)
    # The luminance a colour needs: MIN_CONTRAST = (L1 + 0.05) / (L2 + 0.05), solved
    # (a hair stricter, so float rounding never lets 4.4999... through).
    need = MIN_CONTRAST * (1 + 1e-9)
    bound = need * (behind + 0.05) - 0.05 if lighter else (behind + 0.05) / need - 0.05
    linear = colors.LINEAR

    def readable(r: int, g: int, b: int) -> bool:
        shown = 0.2126 * linear[r] + 0.7152 * linear[g] + 0.0722 * linear[b]  # luminance_of
        return shown >= bound if lighter else shown <= bound

    r0, g0, b0 = colors.rgb(color)
    if readable(r0, g0, b0):
        return color
    toward = 255 if lighter else 0
    best, low, high = (toward,) * 3, 0.0, 1.0  # pure black or white always reads on the cards
    floor = math.floor
    for _ in range(10):
        middle = (low + high) / 2
        r = floor(r0 + (toward - r0) * middle + 0.5)
        g = floor(g0 + (toward - g0) * middle + 0.5)
        b = floor(b0 + (toward - b0) * middle + 0.5)
        if readable(r, g, b):
            best, high = (r, g, b), middle
        else:
            low = middle
    return "#{:02x}{:02x}{:02x}".format(*best)


@lru_cache(maxsize=1024)
def brand_colors(primary: str) -> tuple[str, str]:
    """(brand, brand on dark): the header band (under white text) and the links' colour
    on the light card, and the links' colour on the dark card.

    Why not the primary as is: the band carries white text, and a mail app that darkens
    mail on its own leaves a mid-tone band alone while it turns dark text light, so dark
    text on a light band is unreadable there; and links must read on both cards. The
    brand colour, darkened or lightened only as much as needed, keeps the email
    recognisably the group's.
    """
    return _shade(primary, LIGHT_CARD), _shade(primary, DARK_CARD)


def email_context(group: Group, primary: str) -> dict[str, Any]:
    """What the email templates see; `primary` is the group's normalised primary colour."""
    mfa = group.authentication.mfa
    footer = group.look_and_feel.footer
    brand, brand_dark = brand_colors(primary)
    assert mfa.email_subject is not None and mfa.email_body is not None
    return {
        "name": group.name,
        "subject": mfa.email_subject.strip(),
        "paragraphs": _paragraphs(mfa.email_body),
        "body": mfa.email_body.replace("\r\n", "\n").strip("\n"),
        "logo_url": group.branding.logo_url,
        "brand": brand,
        "brand_dark": brand_dark,
        "footer_text": footer.text,
        "footer_email": footer.email,
        "phone": phone_formats(footer.phone) if footer.phone else None,
    }


def render_mfa(
    group: Group,
    env: jinja2.Environment | None = None,
    primary: str | None = None,
    *,
    direct: bool = False,
) -> dict[str, bytes]:
    """Files under `mfa/`, relative to the group folder; none when MFA is off.

    `env` None means the shipped templates. `primary` saves recomputing the palette
    when the caller has it; `direct` renders with plain Jinja (what the skeleton path
    must equal, for the tests).
    """
    mfa = group.authentication.mfa
    if not mfa.enabled:
        return {}
    out: dict[str, bytes] = {}
    if mfa.email_subject is not None and mfa.email_body is not None:
        if primary is None:
            primary = group.theme.palette()["primary"]
        context = email_context(group, primary)
        html, text = _templates(env)
        if direct:
            out["mfa/email.html"] = html.template.render(context).encode()
            out["mfa/email.txt"] = text.template.render(context).encode()
        else:
            values: list[str] = []
            flat = (shape_of(context, values), values)
            out["mfa/email.html"] = html.render(context, flat).encode()
            out["mfa/email.txt"] = text.render(context, flat).encode()
        out["mfa/email-subject.txt"] = (context["subject"] + "\n").encode()
    sms = mfa.sms_text()
    if sms is not None:
        out["mfa/sms.txt"] = (sms + "\n").encode()
    return out

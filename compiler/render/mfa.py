"""MFA email (HTML, text twin, subject) and SMS: admin text inserted as data, never run.

`${mfa.code}` passes through untouched for the sender to fill in.
"""

from __future__ import annotations

from typing import Any

import jinja2

from compiler import colors
from compiler.model import Group, phone_formats


def _paragraphs(body: str) -> list[list[str]]:
    """Blank lines split paragraphs; single line breaks stay line breaks."""
    blocks = [block for block in body.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return [block.strip("\n").split("\n") for block in blocks]


def render_mfa(group: Group, env: jinja2.Environment) -> dict[str, bytes]:
    """Files under `mfa/`, relative to the group folder; none when MFA is off."""
    mfa = group.authentication.mfa
    if not mfa.enabled:
        return {}
    out: dict[str, bytes] = {}
    footer = group.look_and_feel.footer
    phone = phone_formats(footer.phone) if footer.phone else None
    palette = group.theme.palette()
    if mfa.email_subject is not None and mfa.email_body is not None:
        context: dict[str, Any] = {
            "name": group.name,
            "subject": mfa.email_subject.strip(),
            "paragraphs": _paragraphs(mfa.email_body),
            "body": mfa.email_body.replace("\r\n", "\n").strip("\n"),
            "logo_url": group.branding.logo_url,
            "primary": palette["primary"],
            "on_primary": colors.on_color(palette["primary"]),
            # The email is always light; a light primary would make unreadable links.
            "link_color": palette["primary"]
            if colors.contrast_ratio(palette["primary"], colors.WHITE) >= 4.5
            else "#1a1a1a",
            "footer_text": footer.text,
            "footer_email": footer.email,
            "phone": phone,
        }
        out["mfa/email.html"] = env.get_template("mfa/email.html.j2").render(context).encode()
        out["mfa/email.txt"] = env.get_template("mfa/email.txt.j2").render(context).encode()
        out["mfa/email-subject.txt"] = (context["subject"] + "\n").encode()
    if mfa.sms_message is not None:
        out["mfa/sms.txt"] = (mfa.sms_message.replace("\r\n", "\n").strip("\n") + "\n").encode()
    return out

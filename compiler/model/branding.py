"""Branding panel: where the portal fetches the practice's images."""

from __future__ import annotations

from compiler.model.base import Panel
from compiler.model.meta import option
from compiler.model.types import HttpsUrl


class Branding(Panel):
    """Image URLs; each is optional and must be https so browsers never block it."""

    favicon_url: HttpsUrl | None = option(
        None,
        label="Favicon",
        kind="text",
        panel="Branding",
        help="Small icon shown in the browser tab. An https:// address.",
        example="https://cdn.example.com/sunrise/favicon.ico",
    )
    logo_url: HttpsUrl | None = option(
        None,
        label="Logo",
        kind="text",
        panel="Branding",
        help="Practice logo in the portal header and the MFA email. Make it exactly "
        "250 pixels wide and 64 high; `pops validate --online` measures it.",
        example="https://cdn.example.com/sunrise/logo.png",
    )
    home_asset_url: HttpsUrl | None = option(
        None,
        label="Home Asset",
        kind="text",
        panel="Branding",
        help="Picture shown on the portal's home page. An https:// address.",
        example="https://cdn.example.com/sunrise/home.jpg",
    )

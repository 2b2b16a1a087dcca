"""Look and Feel panel: footer contact details and what the account pages show."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field

from compiler.model import types
from compiler.model.base import Panel, shared_default
from compiler.model.meta import option
from compiler.model.types import Email, FooterText, Phone, parse_phone


class Footer(Panel):
    """Contact line at the bottom of every page: text, then email, then phone."""

    email: Email | None = option(
        None,
        label="Footer Email",
        kind="text",
        panel="Look and Feel",
        help="Address patients can write to with questions.",
        example="billing@example.com",
    )
    phone: Phone | None = option(
        None,
        label="Footer Phone",
        kind="text",
        panel="Look and Feel",
        help='Number patients can call, quoted, e.g. "+1 212 555 0199". Without '
        "+country it is read as a US number.",
        example="+1 212 555 0199",
    )
    text: FooterText | None = option(
        None,
        label="Footer Text",
        kind="text",
        panel="Look and Feel",
        help="One line of plain text, up to 500 characters, shown before the email and phone.",
        example="Contact our office with any questions.",
    )


def phone_formats(phone: str) -> dict[str, str]:
    """E.164 for machines and a familiar spelling for patients (national for US numbers)."""
    e164, display = _phone_formats(phone)
    return {"e164": e164, "display": display}


@lru_cache(maxsize=4096)
def _phone_formats(phone: str) -> tuple[str, str]:
    known = types.known_phone_formats(phone)
    if known is not None:
        return known
    import phonenumbers  # on first use, like parse_phone

    number = parse_phone(phone)
    region = phonenumbers.region_code_for_number(number)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == "US"
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    formats = (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.format_number(number, style),
    )
    types.learn_phone_formats(phone, formats)
    return formats


class LookAndFeel(Panel):
    """Switches for what patients see after they sign in."""

    visits_pdf_export: bool = option(
        False,
        label="Allow Visits PDF Export",
        kind="boolean",
        panel="Look and Feel",
        help="Let patients download their visits as a PDF.",
    )
    footer: Footer = Field(
        default_factory=shared_default(Footer), description="Footer contact details."
    )
    landing_page: Literal["account", "visits", "payments"] = option(
        "account",
        label="Landing Page",
        kind="choice",
        panel="Look and Feel",
        help="The page patients see first after signing in.",
        example="visits",
    )
    logout_function: Literal["close", "logout", "none"] = option(
        "logout",
        label="Logout Function",
        kind="choice",
        panel="Look and Feel",
        help="What the sign-out control does: `close` closes the browser tab, `logout` "
        "ends the session and returns to the sign-in page, `none` hides the control (the "
        "session still ends when it times out).",
        example="close",
    )
    show_collections: bool = option(
        False,
        label="Show Collections",
        kind="boolean",
        panel="Look and Feel",
        help="Add the Collections Balance panel to the account page.",
    )
    show_current_balance: bool = option(
        False,
        label="Show Current Balance",
        kind="boolean",
        panel="Look and Feel",
        help="Show the current total balance of the selected accounts.",
    )
    show_escrow: bool = option(
        False,
        label="Show Escrow",
        kind="boolean",
        panel="Look and Feel",
        help="Show unapplied funds held in escrow. Leave off to keep them hidden.",
    )
    show_insurance_pending: bool = option(
        False,
        label="Show Insurance Pending Column",
        kind="boolean",
        panel="Look and Feel",
        help="Add an Insurance Pending column wherever a patient balance appears "
        "(collections and insurance payments not yet fully adjudicated).",
    )
    show_procedures: Literal["none", "description", "code_and_description"] = option(
        "none",
        label="Show Procedures in Visits",
        kind="choice",
        panel="Look and Feel",
        help="How procedures appear on visits: not at all, by their patient-facing "
        "description, or by code and description.",
        example="code_and_description",
    )
    show_statement_balance: bool = option(
        False,
        label="Show Statement Balance",
        kind="boolean",
        panel="Look and Feel",
        help="Show the original balance of the current statement, which differs from "
        "the amount due after a partial payment.",
    )

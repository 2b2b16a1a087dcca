"""Look and Feel panel: footer contact details and what the account pages show."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field

from compiler.model import types
from compiler.model.base import Panel, shared_default
from compiler.model.types import Email, FooterText, Phone, parse_phone


class Footer(Panel):
    """Contact line at the bottom of every page: text, then email, then phone."""

    email: Email | None = Field(
        None,
        description="Address patients can write to with questions.",
        examples=["billing@example.com"],
    )
    phone: Phone | None = Field(
        None,
        description='Number patients can call, quoted, e.g. "+1 212 555 0199". Without '
        "+country it is read as a US number.",
        examples=["+1 212 555 0199"],
    )
    text: FooterText | None = Field(
        None,
        description="One line of plain text, up to 500 characters, shown before the email "
        "and phone.",
        examples=["Contact our office with any questions."],
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

    visits_pdf_export: bool = Field(
        False, description="Let patients download their visits as a PDF."
    )
    footer: Footer = Field(
        default_factory=shared_default(Footer), description="Footer contact details."
    )
    landing_page: Literal["account", "visits", "payments"] = Field(
        "account", description="The page patients see first after signing in."
    )
    logout_function: Literal["close", "logout", "none"] = Field(
        "logout",
        description="What the sign-out control does: `close` closes the browser tab, `logout` "
        "ends the session and returns to the sign-in page, `none` hides the control (the "
        "session still ends when it times out).",
    )
    show_collections: bool = Field(
        False, description="Add the Collections Balance panel to the account page."
    )
    show_current_balance: bool = Field(
        False, description="Show the current total balance of the selected accounts."
    )
    show_escrow: bool = Field(
        False,
        description="Show unapplied funds held in escrow. Leave off to keep them hidden.",
    )
    show_insurance_pending: bool = Field(
        False,
        description="Add an Insurance Pending column wherever a patient balance appears "
        "(collections and insurance payments not yet fully adjudicated).",
    )
    show_procedures: Literal["none", "description", "code_and_description"] = Field(
        "none",
        description="How procedures appear on visits: not at all, by their patient-facing "
        "description, or by code and description.",
    )
    show_statement_balance: bool = Field(
        False,
        description="Show the original balance of the current statement, which differs from "
        "the amount due after a partial payment.",
    )

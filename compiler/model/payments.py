"""Payments panel: which ways to pay the portal offers and how payments behave."""

from __future__ import annotations

from pydantic import Field

from compiler.model.base import Panel


class Payments(Panel):
    """Every option is off unless switched on."""

    apple_pay: bool = Field(
        False,
        description="Offer Apple Pay (Safari, macOS and iOS). Apple Pay must also be activated "
        "for the practice in the payment gateway.",
    )
    credit_card: bool = Field(False, description="Let patients pay by credit card.")
    google_pay: bool = Field(
        False,
        description="Offer Google Pay in any browser. Google Pay must also be activated for the "
        "practice in the payment gateway.",
    )
    payment_method_storage: bool = Field(
        False,
        description="Show a checkbox that saves the patient's card for next time. Needs "
        "credit_card.",
    )
    auto_post: bool = Field(
        False, description="Apply each payment to the oldest open balances first, automatically."
    )
    email_receipt: bool = Field(
        False,
        description="Email a receipt when the patient enters an address. Needs "
        "notifications.email_from.",
    )
    require_cvv: bool = Field(
        False, description="Ask for the card's security code (CVV). Needs credit_card."
    )

    def methods(self) -> list[str]:
        """The payment methods switched on, in a stable order."""
        return [
            name
            for name, on in (
                ("credit_card", self.credit_card),
                ("apple_pay", self.apple_pay),
                ("google_pay", self.google_pay),
            )
            if on
        ]

"""Payments panel: which ways to pay the portal offers and how payments behave."""

from __future__ import annotations

from compiler.model.base import Panel
from compiler.model.meta import option


class Payments(Panel):
    """Every option is off unless switched on."""

    apple_pay: bool = option(
        False,
        label="Enable Apple Pay",
        kind="boolean",
        panel="Payments",
        help="Offer Apple Pay (Safari, macOS and iOS). Apple Pay must also be activated "
        "for the practice in the payment gateway.",
    )
    credit_card: bool = option(
        False,
        label="Enable Credit Card Transactions",
        kind="boolean",
        panel="Payments",
        help="Let patients pay by credit card.",
    )
    google_pay: bool = option(
        False,
        label="Enable Google Pay",
        kind="boolean",
        panel="Payments",
        help="Offer Google Pay in any browser. Google Pay must also be activated for the "
        "practice in the payment gateway.",
    )
    payment_method_storage: bool = option(
        False,
        label="Enable Payment Method Storage",
        kind="boolean",
        panel="Payments",
        help="Show a checkbox that saves the patient's card for next time. Needs credit_card.",
    )
    auto_post: bool = option(
        False,
        label="Auto-Post Payments",
        kind="boolean",
        panel="Payments",
        help="Apply each payment to the oldest open balances first, automatically.",
    )
    email_receipt: bool = option(
        False,
        label="Email Receipt",
        kind="boolean",
        panel="Payments",
        help="Email a receipt when the patient enters an address. Needs notifications.email_from.",
    )
    require_cvv: bool = option(
        False,
        label="Require CVV",
        kind="boolean",
        panel="Payments",
        help="Ask for the card's security code (CVV). Needs credit_card.",
    )
    minimum_payment: float | None = option(
        None,
        gt=0,
        le=10000,
        label="Minimum Payment",
        kind="money",
        panel="Payments",
        help="Smallest amount in dollars a patient may pay at once, so balances are not paid "
        "off a few cents at a time: more than 0, at most 10,000, in dollars and cents. Not set: "
        "any amount. Needs a payment method switched on.",
        example=5.00,
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

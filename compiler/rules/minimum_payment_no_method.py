"""A minimum payment means nothing while the portal takes no payments at all.

The amount is kept, but no patient ever meets it: switch a payment method on,
or leave the minimum out.

Passes::

    payments: {credit_card: true, minimum_payment: 5.00}

Fails::

    payments: {minimum_payment: 5.00}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "minimum-payment-no-method"
SEVERITY = "warning"


def check(group: Group) -> Iterator[Finding]:
    payments = group.payments
    if payments.minimum_payment is not None and not payments.methods():
        yield Finding(
            (("payments", "minimum_payment"),),
            "minimum_payment has no effect while no payment method is switched on; set "
            "credit_card, apple_pay or google_pay to true under payments, or remove "
            "minimum_payment",
        )

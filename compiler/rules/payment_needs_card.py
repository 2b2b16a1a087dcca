"""Saving a card and asking for its CVV only mean something when cards are accepted.

Passes::

    payments: {credit_card: true, require_cvv: true}

Fails::

    payments: {apple_pay: true, require_cvv: true}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "payment-needs-card"
SEVERITY = "warning"


def check(group: Group) -> Iterator[Finding]:
    payments = group.payments
    if payments.credit_card:
        return
    for key in ("payment_method_storage", "require_cvv"):
        if getattr(payments, key):
            yield Finding(
                (("payments", key), ("payments", "credit_card")),
                f"{key} has no effect without credit_card; set payments.credit_card: true "
                f"or remove {key}",
            )

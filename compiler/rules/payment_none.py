"""A payment portal with no way to pay is almost always a mistake.

Passes::

    payments: {credit_card: true}

Fails::

    payments: {auto_post: true}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "payment-none"
SEVERITY = "warning"


def check(group: Group) -> Iterator[Finding]:
    if not group.payments.methods():
        yield Finding(
            (("payments",), ()),
            "no payment method is switched on, so patients cannot pay; set credit_card, "
            "apple_pay or google_pay to true under payments",
        )

"""Emails need a sender: the MFA email and receipts both need `notifications.email_from`.

Passes::

    payments: {email_receipt: true}
    notifications: {email_from: no-reply@example.com}

Fails::

    payments: {email_receipt: true}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "email-from-missing"
SEVERITY = "error"


def check(group: Group) -> Iterator[Finding]:
    if group.notifications.email_from is not None:
        return
    mfa = group.authentication.mfa
    if mfa.enabled and mfa.email_channel():
        yield Finding(
            (
                ("authentication", "mfa", "email_subject"),
                ("notifications", "email_from"),
                ("authentication", "mfa", "email_body"),
            ),
            "the MFA email needs a sender; add notifications.email_from, e.g. no-reply@example.com",
        )
    if group.payments.email_receipt:
        yield Finding(
            (("payments", "email_receipt"), ("notifications", "email_from")),
            "email receipts need a sender; add notifications.email_from, e.g. no-reply@example.com",
        )

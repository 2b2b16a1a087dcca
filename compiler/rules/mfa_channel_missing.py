"""Enabled MFA needs a way to deliver the code: an email (subject and body) or an SMS.

Passes::

    authentication: {mfa: {enabled: true, success_role: r, sms_message: "Code: ${mfa.code}"}}

Fails::

    authentication: {mfa: {enabled: true, success_role: r}}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "mfa-channel-missing"
SEVERITY = "error"


def check(group: Group) -> Iterator[Finding]:
    mfa = group.authentication.mfa
    if (
        mfa.enabled
        and mfa.email_subject is None
        and mfa.email_body is None
        and not (mfa.sms_channel())
    ):
        yield Finding(
            (
                ("authentication", "mfa", "enabled"),
                ("authentication", "mfa", "email_subject"),
                ("authentication", "mfa", "email_body"),
                ("authentication", "mfa", "sms_message"),
            ),
            "MFA is enabled but can send the code nowhere; add email_subject and email_body, "
            "or sms_message, under authentication.mfa",
        )

"""MFA email bodies and SMS messages must carry `${mfa.code}`, even while MFA is off.

Without it the patient receives a message with no code in it.

Passes::

    mfa: {sms_message: "Your code is ${mfa.code}"}

Fails::

    mfa: {sms_message: "Your code is ready"}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import MFA_CODE, Group
from compiler.rules import Finding

CODE = "mfa-code-missing"
SEVERITY = "error"


def check(group: Group) -> Iterator[Finding]:
    mfa = group.authentication.mfa
    for key, text in (("email_body", mfa.email_body), ("sms_message", mfa.sms_message)):
        # A `${...}` that is not the code is most likely the code mistyped: that one
        # mistake is reported once, by mfa-placeholder-unknown, which says so.
        if text is not None and MFA_CODE not in text and "${" not in text:
            yield Finding(
                (("authentication", "mfa", key),),
                f"{key} does not contain ${{mfa.code}}; the sender replaces it with the code, "
                "so add it where the code should appear",
            )

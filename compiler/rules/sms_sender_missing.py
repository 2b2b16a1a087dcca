"""The MFA SMS names the practice: carriers expect every message to say who sent it.

Unnamed one-time-code messages are what phishing looks like, and US carriers
filter them. The SMS should contain the group's `name` or the shorter
`sms_sender_name` (compared without regard to case).

Passes::

    name: Sunrise Pediatrics
    authentication:
      mfa: {sms_sender_name: Sunrise Peds, sms_message: "Sunrise Peds code: ${mfa.code}"}

Fails::

    name: Sunrise Pediatrics
    authentication:
      mfa: {sms_message: "Your code: ${mfa.code}"}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "sms-sender-missing"
SEVERITY = "warning"


def check(group: Group) -> Iterator[Finding]:
    mfa = group.authentication.mfa
    if mfa.sms_message is None:
        return
    text = mfa.sms_message.casefold()
    sender = mfa.sms_sender_name
    if sender is not None:
        if sender.strip().casefold() not in text:
            yield Finding(
                (("authentication", "mfa", "sms_message"), ("authentication", "mfa")),
                f'the SMS does not contain the sender name "{sender.strip()}" '
                "(authentication.mfa.sms_sender_name); carriers expect it to say who sent it, "
                "so write the name into the message",
            )
    elif group.name.strip().casefold() not in text:
        yield Finding(
            (("authentication", "mfa", "sms_message"), ("authentication", "mfa")),
            f"the SMS does not name the practice; carriers expect it to say who sent it: add "
            f'"{group.name.strip()}", or set authentication.mfa.sms_sender_name to the short '
            "name the message uses",
        )

"""Only `${mfa.code}` is filled in by the sender; any other `${...}` reaches the patient as is.

When the message has no `${mfa.code}` either, the unknown placeholder is almost
always the code mistyped: this rule then says both, and mfa-code-missing stays
quiet, so one mistake gets one message.

Passes::

    mfa: {email_subject: "Code for Sunrise", sms_message: "Code ${mfa.code}"}

Fails::

    mfa: {sms_message: "Code ${mfa.cod}"}
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.model import MFA_CODE, Group
from compiler.rules import Finding

CODE = "mfa-placeholder-unknown"
SEVERITY = "error"

_PLACEHOLDER = re.compile(r"\$\{([^}\n]*)\}")


def check(group: Group) -> Iterator[Finding]:
    mfa = group.authentication.mfa
    for key in ("email_subject", "email_body", "sms_message"):
        text = getattr(mfa, key)
        if text is None or text.count("${") == text.count(MFA_CODE):
            continue  # every placeholder (if any) is ${mfa.code}
        unknown = sorted({m.group(0) for m in _PLACEHOLDER.finditer(text)} - {MFA_CODE})
        if unknown:
            listed = ", ".join(unknown)
            missing = key != "email_subject" and MFA_CODE not in text
            fix = (
                f"; it has no ${{mfa.code}} either, so patients would get no code: write "
                f"${{mfa.code}} in place of {listed}"
                if missing
                else "; the only placeholder is ${mfa.code}"
            )
            yield Finding(
                (("authentication", "mfa", key),),
                f"{key} has the placeholder {listed}, which nothing fills in{fix}",
            )

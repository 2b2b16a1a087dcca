"""`require_opposing_contact_methods` switches channel, so both must exist.

Passes::

    mfa: {enabled: true, require_opposing_contact_methods: true,
          email_subject: s, email_body: "${mfa.code}", sms_message: "${mfa.code}", ...}

Fails::

    mfa: {enabled: true, require_opposing_contact_methods: true, sms_message: "${mfa.code}"}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "mfa-opposing-needs-both"
SEVERITY = "error"


def check(group: Group) -> Iterator[Finding]:
    mfa = group.authentication.mfa
    if not (mfa.enabled and mfa.require_opposing_contact_methods):
        return
    missing = [
        name
        for name, present in (
            ("an email channel", mfa.email_channel()),
            ("an SMS channel", mfa.sms_channel()),
        )
        if not present
    ]
    if missing:
        yield Finding(
            (
                ("authentication", "mfa", "require_opposing_contact_methods"),
                ("authentication", "mfa", "email_subject"),
                ("authentication", "mfa", "email_body"),
                ("authentication", "mfa", "sms_message"),
            ),
            "require_opposing_contact_methods sends the code by the other channel, but there "
            f"is no {' and no '.join(m.removeprefix('an ') for m in missing)}; add "
            f"{' and '.join(missing)} or set it to false",
        )

"""The MFA email channel needs both `email_subject` and `email_body`.

Passes::

    mfa: {enabled: true, email_subject: Your code, email_body: "Code ${mfa.code}", ...}

Fails::

    mfa: {enabled: true, email_subject: Your code, ...}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "mfa-email-incomplete"
SEVERITY = "error"


def check(group: Group) -> Iterator[Finding]:
    mfa = group.authentication.mfa
    if not mfa.enabled:
        return
    if mfa.email_subject is not None and mfa.email_body is None:
        yield Finding(
            (("authentication", "mfa", "email_subject"), ("authentication", "mfa", "email_body")),
            "the MFA email has a subject but no email_body; add a body containing ${mfa.code}",
        )
    elif mfa.email_body is not None and mfa.email_subject is None:
        yield Finding(
            (("authentication", "mfa", "email_body"), ("authentication", "mfa", "email_subject")),
            "the MFA email has a body but no email_subject; add a one-line subject",
        )

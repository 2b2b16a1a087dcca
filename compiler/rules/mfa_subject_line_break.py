"""An email subject is one line; a line break would corrupt the email's headers.

Passes::

    mfa: {email_subject: Your verification code}

Fails::

    mfa: {email_subject: "Your\\nverification code"}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "mfa-subject-line-break"
SEVERITY = "error"


def check(group: Group) -> Iterator[Finding]:
    subject = group.authentication.mfa.email_subject
    if subject is not None and ("\n" in subject.rstrip("\n") or "\r" in subject):
        yield Finding(
            (("authentication", "mfa", "email_subject"),),
            "email_subject contains a line break; write the subject on one line",
        )
    elif subject is not None and subject.endswith("\n"):
        yield Finding(
            (("authentication", "mfa", "email_subject"),),
            "email_subject ends with a line break (a `|` block keeps it); use `>-` or a quoted "
            "one-line string",
        )

"""An email subject is one line; a line break would corrupt the email's headers.

Every character Unicode treats as a line or paragraph break counts, U+2028 and
U+2029 included: Python's `EmailMessage` refuses such a header outright, and
other senders split it.

Passes::

    mfa: {email_subject: Your verification code}

Fails::

    mfa: {email_subject: "Your\\nverification code"}
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "mfa-subject-line-break"
SEVERITY = "error"


# Where `str.splitlines` breaks: Unicode's line and paragraph boundaries.
_BREAK = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def _first_break(text: str) -> str | None:
    found = _BREAK.search(text)
    return found.group() if found else None


def check(group: Group) -> Iterator[Finding]:
    subject = group.authentication.mfa.email_subject
    broken = _first_break(subject.rstrip("\n")) if subject is not None else None
    if subject is not None and broken is not None:
        name = "a line break" if broken in "\r\n" else f"a line separator (U+{ord(broken):04X})"
        yield Finding(
            (("authentication", "mfa", "email_subject"),),
            f"email_subject contains {name}; write the subject on one line",
        )
    elif subject is not None and subject.endswith("\n"):
        yield Finding(
            (("authentication", "mfa", "email_subject"),),
            "email_subject ends with a line break (a `|` block keeps it); use `>-` or a quoted "
            "one-line string",
        )

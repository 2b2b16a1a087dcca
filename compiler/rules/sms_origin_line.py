"""The origin-bound line (`@host #code`) is added by `sms_origin`, never written by hand.

Phones and browsers fill the code in only when that line is the message's last;
a hand-written one sits before whatever follows it, or repeats the added one.

Passes::

    mfa: {sms_origin: portal.example.com, sms_message: "Sunrise code: ${mfa.code}"}

Fails::

    mfa: {sms_message: "Sunrise code: ${mfa.code}\\n\\n@portal.example.com #${mfa.code}"}
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "sms-origin-line"
SEVERITY = "error"

_ORIGIN_LINE = re.compile(r"^[ \t]*@(\S+)[ \t]+#", re.MULTILINE)


def check(group: Group) -> Iterator[Finding]:
    message = group.authentication.mfa.sms_message
    if message is None:
        return
    found = _ORIGIN_LINE.search(message)
    if found:
        yield Finding(
            (("authentication", "mfa", "sms_message"),),
            f"sms_message has its own origin line (@{found.group(1)} #...); remove it and set "
            f"authentication.mfa.sms_origin: {found.group(1)}, which adds that line last, "
            "where phones look for it",
        )

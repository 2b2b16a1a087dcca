"""`mfa.required` needs `mfa.enabled`: nobody can be made to pass a check that is off.

Passes::

    authentication: {mfa: {enabled: true, required: true, ...}}

Fails::

    authentication: {mfa: {required: true}}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "mfa-required-without-enabled"
SEVERITY = "error"


def check(group: Group) -> Iterator[Finding]:
    mfa = group.authentication.mfa
    if mfa.required and not mfa.enabled:
        yield Finding(
            (("authentication", "mfa", "required"), ("authentication", "mfa", "enabled")),
            "MFA is required but not enabled; set authentication.mfa.enabled: true, or "
            "required: false",
        )

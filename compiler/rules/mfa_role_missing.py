"""Enabled MFA needs `success_role`: the role a patient gets after passing it.

Passes::

    authentication: {mfa: {enabled: true, success_role: authorized_patient, ...}}

Fails::

    authentication: {mfa: {enabled: true, sms_message: "Code: ${mfa.code}"}}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import Group
from compiler.rules import Finding

CODE = "mfa-role-missing"
SEVERITY = "error"


def check(group: Group) -> Iterator[Finding]:
    mfa = group.authentication.mfa
    if mfa.enabled and mfa.success_role is None:
        yield Finding(
            (("authentication", "mfa", "enabled"), ("authentication", "mfa", "success_role")),
            "MFA is enabled but has no success_role; add e.g. "
            "authentication.mfa.success_role: authorized_patient",
        )

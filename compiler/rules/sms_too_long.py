"""The MFA SMS should fit one segment once the code (8 digits at most) is in it.

One segment holds 160 GSM-7 characters (characters of the GSM extension table
count twice), or 70 UTF-16 units when any character needs UCS-2. Longer texts
are split and may arrive out of order or cost more.

Passes::

    mfa: {sms_message: "Your Sunrise code is ${mfa.code}"}

Fails::

    mfa: {sms_message: "Votre code 🔐 ${mfa.code} ... (more than 70 units with the emoji)"}
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import MFA_CODE, Group
from compiler.rules import Finding

CODE = "sms-too-long"
SEVERITY = "warning"

# GSM 03.38 default alphabet and the extension table (each extension char costs 2).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
CODE_DIGITS = "12345678"
_GSM7 = GSM7_BASIC | GSM7_EXTENSION


def segment_cost(text: str) -> tuple[int, int, str]:
    """(length, limit, encoding) of one SMS carrying `text`."""
    if _GSM7.issuperset(text):  # set operations, not a Python step per character
        return len(text) + sum(map(text.count, GSM7_EXTENSION)), 160, "GSM-7"
    return len(text.encode("utf-16-le")) // 2, 70, "UCS-2"


def check(group: Group) -> Iterator[Finding]:
    sms = group.authentication.mfa.sms_message
    if sms is None:
        return
    length, limit, encoding = segment_cost(sms.replace(MFA_CODE, CODE_DIGITS))
    if length > limit:
        hint = (
            "; a character outside GSM-7 (such as an emoji or curly quote) forces UCS-2"
            if encoding == "UCS-2"
            else ""
        )
        yield Finding(
            (("authentication", "mfa", "sms_message"),),
            f"the SMS is {length} {encoding} characters with an 8-digit code, over the {limit} "
            f"that fit in one segment{hint}; shorten it",
        )

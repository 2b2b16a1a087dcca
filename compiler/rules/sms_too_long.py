"""The MFA SMS should fit one segment once the code (8 digits at most) is in it.

A text that fits GSM-7 travels as 160 characters a segment (characters of the
GSM extension table count twice); one character outside it (a curly quote, an
emoji, most accented capitals) switches the whole message to UCS-2, 70 UTF-16
units a segment. Longer texts are split into segments of 153 or 67 units, which
may arrive out of order and cost more. The count is of the SMS as sent: the
origin line that `sms_origin` adds is in it.

Passes::

    mfa: {sms_message: "Your Sunrise code is ${mfa.code}"}

Fails::

    mfa: {sms_message: "Votre code 🔐 ${mfa.code} ... (more than 70 units with the emoji)"}
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

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

# Single-segment and per-segment (concatenated, after the 6-byte header) capacities.
_CAPACITY = {"GSM-7": (160, 153), "UCS-2": (70, 67)}

# What word processors and phones type in place of a GSM-7 character; anything else
# is tried as its letter without accents (NFKD), which covers á, ô, ÿ and the like.
_LOOKALIKES = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "′": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "″": '"',
    "–": "-",
    "—": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "…": "...",
    "•": "-",
    "·": ".",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    "«": '"',
    "»": '"',
    "ç": "Ç",
}


@dataclass(frozen=True, slots=True)
class SmsCost:
    """What a text costs to send: its encoding, length in that encoding and segments."""

    encoding: str
    units: int
    segments: int
    forcing: tuple[str, ...]  # characters outside GSM-7, in order of first use

    @property
    def limit(self) -> int:
        """Units that fit in a single segment."""
        return _CAPACITY[self.encoding][0]


def gsm7_replacement(char: str) -> str | None:
    """The GSM-7 text a patient would read the same way, or None when there is none."""
    if char in _LOOKALIKES:
        return _LOOKALIKES[char]
    plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return plain if plain and plain != char and _GSM7.issuperset(plain) else None


def _units(char: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def sms_cost(text: str) -> SmsCost:
    """Encoding and segment count of `text`, split as a sender splits it.

    A character is never cut in two: an extension character (two septets) or a
    surrogate pair (two UTF-16 units) that would straddle a segment boundary
    starts the next segment, so the count is exact, not length / 153.
    """
    forcing: tuple[str, ...] = ()
    if _GSM7.issuperset(text):  # set operations, not a Python step per character
        encoding = "GSM-7"
    else:
        encoding = "UCS-2"
        forcing = tuple(dict.fromkeys(c for c in text if c not in _GSM7))
    single, per_segment = _CAPACITY[encoding]
    if encoding == "GSM-7":
        units = len(text) + sum(map(text.count, GSM7_EXTENSION))
    else:
        units = len(text.encode("utf-16-le")) // 2
    if units <= single:
        return SmsCost(encoding, units, 1 if text else 0, forcing)
    segments, used = 1, 0
    for char in text:
        size = _units(char, encoding)
        if used + size > per_segment:
            segments, used = segments + 1, 0
        used += size
    return SmsCost(encoding, units, segments, forcing)


def segment_cost(text: str) -> tuple[int, int, str]:
    """(length, single-segment limit, encoding) of one SMS carrying `text`."""
    cost = sms_cost(text)
    return cost.units, cost.limit, cost.encoding


def _describe(char: str) -> str:
    replacement = gsm7_replacement(char)
    shown = f"{char!r}"[1:-1] if not char.isprintable() or char.isspace() else char
    fix = f'write "{replacement}"' if replacement is not None else "no GSM-7 equivalent"
    return f"{shown} (U+{ord(char):04X}, {fix})"


def check(group: Group) -> Iterator[Finding]:
    sms = group.authentication.mfa.sms_text()
    if sms is None:
        return
    cost = sms_cost(sms.replace(MFA_CODE, CODE_DIGITS))
    if cost.segments <= 1:
        return
    why = ""
    if cost.forcing:
        shown = ", ".join(_describe(c) for c in cost.forcing[:5])
        more = f" and {len(cost.forcing) - 5} more" if len(cost.forcing) > 5 else ""
        why = f"; it needs UCS-2 because of {shown}{more}"
    origin = " and the origin line" if group.authentication.mfa.sms_origin else ""
    yield Finding(
        (("authentication", "mfa", "sms_message"),),
        f"the SMS is {cost.units} {cost.encoding} characters with an 8-digit code{origin}, "
        f"over the {cost.limit} that fit in one segment: it would go out as {cost.segments} "
        f"segments{why}; shorten it",
    )

"""What the value types accept, written once as regular expressions for both readers.

The validators in compiler.model.types use these character classes, and the same
text becomes the `pattern` of each type in schema/group.schema.json, so an editor
refuses exactly the text pops refuses wherever a pattern can say it. The syntax is
the common part of Python's `re` and ECMA-262 with the `u` flag (Ajv,
yaml-language-server): `\\uXXXX` escapes, classes, `(?=` and `(?!`, no `\\s`
(the two disagree on U+FEFF and U+001C-U+001F), no `.` (line terminators differ),
and no `$` after a class that excludes `\\n` without `NO_NEWLINE` first (Python's
`$` also matches before a final newline).

What a pattern cannot decide is left to pops and said in the field's description:
whether a phone number exists, an internationalised name's IDNA validity, the
exact grammar of an IPv6 literal.
"""

from __future__ import annotations

# C0 and C1 control characters and DEL, except tab, line feed and carriage return.
CONTROL = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
# What one-line text refuses besides CONTROL: tab and every line or paragraph break.
BREAKS = "\\t\\n\\r\\u2028\\u2029"
# The characters str.isspace() accepts that are neither in CONTROL nor BREAKS: what
# str.strip() removes around a one-line text (tests/test_schema_agreement.py checks it).
SPACES = " \\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000"
ANY = "[\\s\\S]"  # any character, line terminators included, in both dialects
NO_NEWLINE = "(?![^\\n]*\\n)"
NON_ASCII = "[^\\u0000-\\u007f]"

# `${...}` the way text-placeholder and mfa-placeholder-unknown find them.
PLACEHOLDER = "\\$\\{[^}\\n]*\\}"
UNKNOWN_PLACEHOLDER = "\\$\\{(?!mfa\\.code\\})[^}\\n]*\\}"


def one_line(*, high: int | None = None, trimmed: bool = False) -> str:
    """One line of free text: no control character or break, no `${...}` (text-placeholder).

    `trimmed`: 1 to `high` characters once the spaces around it are removed
    (str.strip()), so a blank text is refused and trailing spaces do not count.
    """
    banned = CONTROL + BREAKS
    free = f"(?![^{banned}]*{PLACEHOLDER})"
    if not trimmed:
        return f"^{NO_NEWLINE}{free}[^{banned}]*$"
    assert high is not None and high >= 2
    edge = f"[^{banned}{SPACES}]"
    return f"^{NO_NEWLINE}{free}[{SPACES}]*{edge}(?:[^{banned}]{{0,{high - 2}}}{edge})?[{SPACES}]*$"


def subject() -> str:
    """The MFA email subject: one line (mfa-subject-line-break; a tab is fine), and no
    placeholder but `${mfa.code}` (mfa-placeholder-unknown)."""
    return f"^{NO_NEWLINE}(?!{ANY}*{UNKNOWN_PLACEHOLDER})[^{CONTROL}\\n\\r\\u2028\\u2029]*$"


def message() -> str:
    """An MFA message: lines without control characters, with `${mfa.code}` (mfa-code-missing:
    some `${` must be there) and no other placeholder (mfa-placeholder-unknown)."""
    return f"^(?={ANY}*\\$\\{{)(?!{ANY}*{UNKNOWN_PLACEHOLDER})[^{CONTROL}]*$"


def _ci(word: str) -> str:
    """`word` in any case, for patterns without the `i` flag."""
    return "".join(f"[{c.upper()}{c}]" if c.isalpha() else c for c in word)


# One DNS label in ASCII: letters, digits, inner hyphens, at most 63, and not `ab--`
# (IDNA reserves hyphens in the 3rd and 4th place for `xn--` labels).
_LABEL = "(?![A-Za-z0-9]{2}--)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# Where a name holds a `xn--` label or a non-ASCII character, only the idna library
# can tell whether it encodes: the pattern checks the characters and leaves that to pops.
_IDN = f"(?={ANY}*(?:{NON_ASCII}|(?:^|[.@]){_ci('xn--')}))"


def host() -> str:
    """A bare host name as `sms_origin` takes it (see types._host)."""
    ascii_host = f"(?![\\u0000-\\u007f]{{254}})(?:{_LABEL}\\.)+(?![0-9]+$){_LABEL}"
    idn = f"{_IDN}[^{CONTROL}{BREAKS}{SPACES}/:@?#\\\\]+"
    return f"^{NO_NEWLINE}(?:{idn}|{ascii_host})$"


# A port from 1 to 65535, leading zeros allowed (urllib reads `:0443` as 443).
_PORT = "0*(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
# Characters no host may hold (WHATWG's forbidden domain code points, `%` included).
URL_HOST_FORBIDDEN = "/?#@:[]<>\\^|%"


def https_url() -> str:
    """An https URL a browser loads (see types.url_problem): any case of `https://`, a host
    name or a bracketed IPv6 address, a port from 1 to 65535, no credentials, no spaces."""
    banned = CONTROL + BREAKS + SPACES
    forbidden = "".join("\\" + c if c in "[]\\^" else c for c in URL_HOST_FORBIDDEN)
    name = f"[^{banned}{forbidden}]+"
    ipv6 = "\\[[0-9A-Fa-f:.]+\\]"
    return (
        f"^{NO_NEWLINE}{_ci('https')}://(?:{name}|{ipv6})(?::(?:{_PORT})?)?(?:[/?#][^{banned}]*)?$"
    )


_ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_SPECIAL_USE = ("arpa", "invalid", "local", "localhost", "onion", "test")


def email() -> str:
    """An address as email-validator takes it (see types._email): decided exactly for ASCII
    addresses; with a non-ASCII character or a `xn--` label, only its shape."""
    atom = f"[{_ATEXT}]+"
    last = "(?![A-Za-z0-9]{2}--)(?:[A-Za-z0-9][A-Za-z0-9-]{0,61})?[A-Za-z]"
    special = "|".join(_ci(d) for d in _SPECIAL_USE)
    ascii_address = (
        f"(?![\\u0000-\\u007f]{{255}})(?![^@]*@(?:[^@]*\\.)?(?:{special})$)"
        f"{atom}(?:\\.{atom})*@(?:{_LABEL}\\.)+{last}"
    )
    part = f"[^{CONTROL}{BREAKS}{SPACES}@]+"
    idn = f"{_IDN}{part}@{part}\\.{part}"
    return f"^{NO_NEWLINE}(?:{idn}|{ascii_address})$"


def phone() -> str:
    """Digits with the usual separators, `+country` first if any; whether the number
    exists is for pops (the phonenumbers library) to say."""
    return f"^{NO_NEWLINE}\\+?[0-9 ().-]+$"

"""Value types shared by the panels: each checks one format and names its own error code.

Errors are raised as `PydanticCustomError(code, message)`, so the code travels
with the error and the diagnostics layer reports it unchanged.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from compiler import colors
from compiler.model import patterns
from compiler.model.urls import URL_LIMIT as URL_LIMIT  # (the MFA email's size budget uses it)
from compiler.model.urls import is_plain, normalize_url
from compiler.model.urls import url_problem as url_problem  # (validate --online uses it)

if TYPE_CHECKING:
    import phonenumbers

# C0 and C1 control characters and DEL; tab and line breaks are handled per field.
_CONTROL = re.compile(f"[{patterns.CONTROL}]")
_LINE_BREAK = re.compile(f"[{patterns.BREAKS}]")
_PHONE_SHAPE = re.compile(r"\+?[0-9 ().-]+")
_ROLE = re.compile(r"[a-z][a-z0-9_]*")
_SPACE = re.compile(r"\s")  # the characters str.isspace() accepts, found in one C call
PHONE_REGION = "US"


def _no_control(value: str, *, multiline: bool) -> None:
    found = _CONTROL.search(value) or (None if multiline else _LINE_BREAK.search(value))
    if found:
        where = found.start() + 1
        char = found.group()
        kind = {
            "\t": "a tab",
            "\n": "a line break",
            "\r": "a line break",
            "\u2028": "a line separator",
            "\u2029": "a paragraph separator",
        }.get(char, "control character")
        raise PydanticCustomError(
            "text-control-character",
            "{kind} (U+{char}) at character {where} is not allowed here; delete it",
            {"kind": kind, "char": f"{ord(char):04X}", "where": where},
        )


def _length(value: str, low: int, high: int) -> None:
    if len(value) < low:
        raise PydanticCustomError("text-empty", "must not be empty")
    if len(value) > high:
        raise PydanticCustomError(
            "text-too-long",
            "is {length} characters long; the limit is {limit}",
            {"length": len(value), "limit": high},
        )


def _name(value: str) -> str:
    _length(value.strip(), 1, 100)
    _no_control(value, multiline=False)
    return value


def _footer_text(value: str) -> str:
    _length(value, 0, 500)
    _no_control(value, multiline=False)
    return value


# RFC 5322 recommends header lines of at most 78 characters; longer subjects are
# folded or cut by mail clients and some gateways refuse them.
SUBJECT_LIMIT = 78


def _subject(value: str) -> str:
    # A line break is its own rule (mfa-subject-line-break), checked on the group.
    _length(value, 1, SUBJECT_LIMIT)
    _no_control(value, multiline=True)
    return value


def _sender_name(value: str) -> str:
    _length(value.strip(), 1, 40)
    _no_control(value, multiline=False)
    return value


_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _host(value: str) -> str:
    """A bare host name as browsers match an origin: lower case, IDNA (punycode) form.

    Normalised rather than refused where the admin's intent is plain (`Portal.Example.com`,
    an internationalised name), so the SMS line matches what the browser compares.
    """
    import idna

    def refuse(reason: str) -> PydanticCustomError:
        return PydanticCustomError(
            "host-invalid",
            '"{value}" is not a host name: {reason}; write only the host, e.g. portal.example.com',
            {"value": value[:100], "reason": reason},
        )

    if not value or _SPACE.search(value) or any(c in value for c in "/:@?#\\"):
        raise refuse("it must be a bare host, without scheme, port, path or spaces")
    try:
        ascii_host = idna.encode(value, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise refuse(str(exc) or "it is not a valid internationalised domain name") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or len(labels) < 2:
        raise refuse("it needs a domain and a top-level domain")
    if not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise refuse("each dot-separated part is letters, digits and inner hyphens")
    if labels[-1].isdigit():
        raise refuse("an IP address cannot receive origin-bound codes")
    return ascii_host


def _message(value: str) -> str:
    _length(value, 1, 5000)
    _no_control(value, multiline=True)
    return value


def _color(value: str) -> str:
    try:
        return colors.normalize(value)  # memoised, and it checks the form itself
    except ValueError:
        raise PydanticCustomError(
            "color-invalid",
            '"{value}" is not a colour; write "#rgb" or "#rrggbb", e.g. "#1976d2"',
            {"value": value[:60]},
        ) from None


def _url(value: str) -> str:
    if is_plain(value):
        return value
    problem = url_problem(value)
    if problem is not None:
        raise PydanticCustomError("url-invalid", "{problem}", {"problem": problem})
    return normalize_url(value)


@cache
def _email_validator() -> tuple[Callable[..., Any], type[Exception]]:
    """email-validator's `validate_email` and its error, imported on first use.

    The import compiles large regexes (~12 ms) that commands which never check
    an email should not pay for. The domain check inside `validate_email` is a
    pure function of the domain but three quarters of each call's time, and
    thousands of groups share a few domains: it is memoised where
    `validate_email` looks it up, so results and messages stay the library's.
    """
    import email_validator

    module = importlib.import_module("email_validator.validate_email")
    check = getattr(module, "validate_email_domain_name", None)
    if callable(check) and not hasattr(check, "cache_info"):
        setattr(module, "validate_email_domain_name", lru_cache(maxsize=1024)(check))  # noqa: B010
    return email_validator.validate_email, email_validator.EmailNotValidError


# Emails and phone numbers an earlier run found valid, handed over by the
# orchestrator from the seal as one text of "\n<kind>:<value>\t<normalised>" lines
# (searched, never parsed: a run needs a handful of its thirty thousand lines).
# A run that compiles the one group a pull request changed then imports neither
# email-validator nor phonenumbers.
_known = ""
_learned: dict[str, str] = {}


def remember(known: str) -> None:
    """Trust these earlier verdicts (same compiler, so the same libraries' rules)."""
    global _known
    _known = known


def _recall(key: str) -> str | None:
    if "\n" in key or "\t" in key:
        return None  # never a valid value, and it could match across lines
    at = _known.find(f"\n{key}\t")
    if at < 0:
        return None
    start = at + len(key) + 2
    end = _known.find("\n", start)
    return _known[start : end if end >= 0 else len(_known)]


def known_phone_formats(value: str) -> tuple[str, str] | None:
    """(E.164, display) of a phone number an earlier run formatted, if one did."""
    e164, _, display = (_recall("p:" + value) or "").partition("\x1f")
    return (e164, display) if display else None


def learn_phone_formats(value: str, formats: tuple[str, str]) -> None:
    if not any("\n" in f or "\t" in f or "\x1f" in f for f in formats):
        _learned["p:" + value] = "\x1f".join(formats)


def learned() -> dict[str, str]:
    """The values validated here since the last call, to remember for later runs."""
    found = dict(_learned)
    _learned.clear()
    return found


@lru_cache(maxsize=4096)
def _email(value: str) -> str:
    known = _recall("e:" + value)
    if known is not None:
        return known
    validate_email, invalid = _email_validator()
    try:
        result = validate_email(value, check_deliverability=False)
    except invalid as exc:
        raise PydanticCustomError(
            "email-invalid",
            '"{value}" is not a valid email address: {reason}',
            {"value": value[:200], "reason": str(exc)},
        ) from None
    # The domain in IDNA (punycode) form, as mail servers exchange it.
    normalized = f"{result.local_part}@{result.ascii_domain}"
    if "\n" not in normalized and "\t" not in normalized:
        _learned["e:" + value] = normalized
    return normalized


def warm() -> None:
    """Import what validating emails and phones needs now (a worker about to check
    thousands of them), not on the first one."""
    _email_validator()
    import phonenumbers  # noqa: F401


def parse_phone(value: str) -> phonenumbers.PhoneNumber:
    """Parse with US as the region for numbers written without `+country`."""
    import phonenumbers  # on first use: ~9 ms of import that only phone values need

    return phonenumbers.parse(value, PHONE_REGION)


@lru_cache(maxsize=4096)
def _phone(value: str) -> str:
    if not _PHONE_SHAPE.fullmatch(value) or len(value) > 40:
        raise _phone_invalid(value)
    if _recall("p:" + value) is not None:
        return value
    import phonenumbers

    try:
        number = parse_phone(value)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise _phone_invalid(value)
    _learned.setdefault("p:" + value, value)  # (its formats, once rendered, replace it)
    return value


def _phone_invalid(value: str) -> PydanticCustomError:
    return PydanticCustomError(
        "phone-invalid",
        '"{value}" is not a valid phone number; write it with its area code, e.g. '
        '"+1 212 555 0199" (numbers without +country are read as US)',
        {"value": value[:60]},
    )


def _role(value: str) -> str:
    if not _ROLE.fullmatch(value) or len(value) > 64:
        raise PydanticCustomError(
            "role-invalid",
            '"{value}" is not a role identifier; use lowercase letters, digits and '
            "underscores, starting with a letter, e.g. authorized_patient",
            {"value": value[:60]},
        )
    return value


def _schema(**keywords: Any) -> Any:
    """JSON Schema hints for editors; the validators above do the real checking."""
    return Field(json_schema_extra=dict(keywords))


# Free text the admin writes that patients read as is (the MFA messages, which the
# sender fills in, are apart): what the text-placeholder rule looks through.
FREE_TEXT_CHECKS = frozenset({_name, _footer_text, _sender_name})

# The schema hints say what the validators enforce (compiler.model.patterns), no more
# and no less, wherever a pattern can; a length the pattern already bounds is repeated
# as minLength/maxLength for editors that show it.
Name = Annotated[
    str,
    AfterValidator(_name),
    _schema(minLength=1, pattern=patterns.one_line(high=100, trimmed=True)),
]
FooterText = Annotated[
    str, AfterValidator(_footer_text), _schema(maxLength=500, pattern=patterns.one_line())
]
Subject = Annotated[
    str,
    AfterValidator(_subject),
    _schema(minLength=1, maxLength=SUBJECT_LIMIT, pattern=patterns.subject()),
]
SenderName = Annotated[
    str,
    AfterValidator(_sender_name),
    _schema(minLength=1, pattern=patterns.one_line(high=40, trimmed=True)),
]
Host = Annotated[str, AfterValidator(_host), _schema(minLength=1, pattern=patterns.host())]
Message = Annotated[
    str,
    AfterValidator(_message),
    _schema(minLength=1, maxLength=5000, pattern=patterns.message()),
]
Color = Annotated[
    str,
    AfterValidator(_color),
    _schema(pattern=f"^{patterns.NO_NEWLINE}#([0-9a-fA-F]{{3}}|[0-9a-fA-F]{{6}})$"),
]
HttpsUrl = Annotated[
    str, AfterValidator(_url), _schema(maxLength=URL_LIMIT, pattern=patterns.https_url())
]
Email = Annotated[str, AfterValidator(_email), _schema(pattern=patterns.email())]
Phone = Annotated[
    str, AfterValidator(_phone), _schema(minLength=3, maxLength=40, pattern=patterns.phone())
]
Role = Annotated[
    str,
    AfterValidator(_role),
    _schema(pattern=f"^{patterns.NO_NEWLINE}[a-z][a-z0-9_]*$", maxLength=64),
]


def _owner(value: str) -> str:
    from compiler.model.owners import owner_problem

    problem = owner_problem(value)
    if problem is not None:
        raise PydanticCustomError("owner-invalid", problem)
    return value


def _owner_list(value: Any) -> Any:
    """A clear message for a single owner not written as a list, and for an empty list."""
    if not isinstance(value, list):
        raise PydanticCustomError(
            "type-list", '`owners` is a list of owners, e.g. ["@org/team", "@user"]'
        )
    if not value:
        from compiler.model.owners import empty_message

        raise PydanticCustomError("owners-empty", empty_message("owners"))
    return value


Owner = Annotated[str, AfterValidator(_owner)]
Owners = Annotated[list[Owner], BeforeValidator(_owner_list), _schema(minItems=1)]


# What each code the value types report means and how to fix it (see compiler.codes).
CODES: dict[str, tuple[str, str]] = {
    "text-control-character": (
        "A text holds a control character, tab or line break where none is allowed.",
        "Delete the character; it is often invisible, the message gives its position.",
    ),
    "text-empty": (
        "A text that must say something is empty.",
        "Write the text, or remove the key.",
    ),
    "text-too-long": (
        "A text is longer than its limit.",
        "Shorten it to the limit the message gives.",
    ),
    "host-invalid": (
        "A host name is not a bare host.",
        "Write only the host, without scheme, port or path, e.g. portal.example.com.",
    ),
    "color-invalid": (
        "A colour is not written as #rgb or #rrggbb.",
        'Write a hex colour in quotes, e.g. `"#1976d2"`.',
    ),
    "url-invalid": (
        "A URL is not https:// with a host.",
        "The portal loads assets over https only, e.g. https://cdn.example.com/logo.png.",
    ),
    "email-invalid": (
        "An email address is not valid.",
        "Write one address, e.g. billing@example.com.",
    ),
    "phone-invalid": (
        "A phone number is not valid.",
        'Write it with its area code, e.g. "+1 212 555 0199" (numbers without +country '
        "are read as US).",
    ),
    "owner-invalid": (
        "An owner is not a GitHub user, team or email address.",
        "Write @user, @org/team or an email address, as CODEOWNERS takes them.",
    ),
    "owners-empty": (
        "An owners list is empty.",
        "Name at least one owner, or remove the key.",
    ),
    "role-invalid": (
        "A role is not an identifier.",
        "Use lowercase letters, digits and underscores, starting with a letter, e.g. "
        "authorized_patient.",
    ),
}

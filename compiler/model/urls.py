"""https URLs of assets: what a browser loads, and the spelling it requests.

Shared by the model (`HttpsUrl`) and `validate --online` (which must open no URL the
offline check refuses); compiler.model.patterns says the same in the group schema.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

from compiler.model import patterns

_CONTROL = re.compile(f"[{patterns.CONTROL}]")
_SPACE = re.compile(r"\s")  # the characters str.isspace() accepts, found in one C call
# Longest https URL pops accepts: what browsers, CDNs and proxies all handle, and
# what keeps the MFA email (which carries the logo URL) under Gmail's clipping size.
URL_LIMIT = 2048


def url_problem(value: str) -> str | None:
    """Why `value` is not an https URL a browser can load (None when it is one).

    urllib.parse splits it, and the host rules it leaves out (credentials, IPv6
    literals, characters browsers refuse in a host, IDNA) are checked here, in the
    same terms as patterns.https_url; `validate` and `validate --online` share
    this, so no URL passes offline that the fetcher cannot open.
    """
    shown = value[:200]
    generic = (
        f'"{shown}" is not an https:// URL with a host; the portal only loads assets over '
        "https, e.g. https://cdn.example.com/logo.png"
    )
    if len(value) > URL_LIMIT:
        return (
            f'"{value[:60]}..." is {len(value)} characters long; the limit is {URL_LIMIT} '
            "(many servers and mail clients refuse longer URLs): shorten the address"
        )
    if _SPACE.search(value) or _CONTROL.search(value):
        return (
            f'"{shown}" is not an https:// URL: it contains a space or a control character; '
            "write a space as %20 and delete any other"
        )
    try:
        parts = urlsplit(value)
    except ValueError:  # `[...]` that holds no IPv6 address, or an unmatched bracket
        return (
            f'"{shown}" is not a valid URL: `[` and `]` may only enclose an IPv6 address; '
            "write the host name, e.g. https://cdn.example.com/logo.png"
        )
    if parts.scheme != "https" or not parts.hostname:
        return generic
    host_problem = _url_host_problem(parts.netloc, shown)
    if host_problem is not None:
        return host_problem
    try:
        port = parts.port
    except ValueError as exc:
        written = _port_text(parts.netloc)
        problem = "out of range" if "range" in str(exc) else "not a number"
        return (
            f'"{shown}" has port `{written[:20]}`, which is {problem}; a port is a whole '
            f"number from 1 to 65535, or leave out `:{written[:20]}` (https uses 443)"
        )
    if port == 0:
        return (
            f'"{shown}" has port `0`, which is out of range; a port is a whole number from 1 '
            "to 65535, or leave out `:0` (https uses 443)"
        )
    return None


_BRACKETED = re.compile(r"\[([0-9A-Fa-f:.]+)\](?::.*)?")


def _url_host_problem(netloc: str, shown: str) -> str | None:
    """The host rules urllib leaves out, as browsers apply them (see patterns.https_url)."""
    if "@" in netloc:
        return (
            f'"{shown}" has a user name or password before the host; browsers refuse to load '
            "images from such URLs: delete everything from `//` to the `@`"
        )
    if "[" in netloc or "]" in netloc:
        found = _BRACKETED.fullmatch(netloc)
        try:
            ipaddress.IPv6Address(found.group(1) if found else "")
        except ValueError:
            return (
                f'"{shown}" is not a valid URL: `[` and `]` may only enclose an IPv6 '
                "address; write the host name, e.g. https://cdn.example.com/logo.png"
            )
        return None
    host = netloc.partition(":")[0]
    bad = next((c for c in host if c in patterns.URL_HOST_FORBIDDEN), None)
    if bad is not None:
        return (
            f'"{shown}" has `{bad}` in its host name, where browsers refuse it; write the host '
            "name, e.g. https://cdn.example.com/logo.png"
        )
    if not host.isascii():
        try:
            _idna_host(host)
        except ValueError as exc:
            return (
                f'"{shown}" has a host name that is not a valid internationalised domain '
                f"name ({exc}); check its spelling"
            )
    return None


@lru_cache(maxsize=1024)
def _idna_host(host: str) -> str:
    """A host name as browsers send it: lower case, IDNA (punycode) for non-ASCII names."""
    if host.isascii():
        return host.lower()
    import idna

    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(str(exc) or "it does not encode") from None


# An https URL in its plainest spelling: lower-case scheme and host name, no port,
# credentials, query or escapes. url_problem accepts every one of these and
# normalize_url returns it unchanged, so a model can take it as it is without
# urllib's split (twice, about 20 us): most groups' URLs look like this.
_PLAIN = re.compile(r"https://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?:/[A-Za-z0-9._~/-]*)?")


def is_plain(value: str) -> bool:
    """True for a URL that needs neither url_problem nor normalize_url (see _PLAIN)."""
    return len(value) <= URL_LIMIT and _PLAIN.fullmatch(value) is not None


def normalize_url(value: str) -> str:
    """An https URL (one url_problem passed) with its scheme and host as browsers request them:
    `HTTPS://CDN.Example.com/Logo.png` -> `https://cdn.example.com/Logo.png`, an
    internationalised host in punycode; the rest is kept as written."""
    netloc = urlsplit(value).netloc
    if netloc.startswith("["):
        host, rest = netloc[: netloc.index("]") + 1].lower(), netloc[netloc.index("]") + 1 :]
    else:
        name, sep, port = netloc.partition(":")
        host, rest = _idna_host(name), sep + port
    return "https://" + host + rest + value[len("https://") + len(netloc) :]


def _port_text(netloc: str) -> str:
    """The port as written in `netloc` (for the message only; urllib judged it)."""
    host = netloc.rpartition("@")[2]
    if host.startswith("["):
        return host.partition("]")[2].removeprefix(":")
    return host.partition(":")[2]

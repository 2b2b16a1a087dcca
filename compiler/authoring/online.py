"""`pops validate --online`: fetch each branding image and check what patients would get.

Offline validation only knows that a URL is https with a host. A logo that
404s, an HTML error page served at the image's address, a 20 MB photo, or a
logo of the wrong size all pass that check and break the portal; this module
finds them before a release does. It is opt-in because it needs the network.

Each URL is fetched with the standard library's http.client (no automatic
redirects, so every hop is checked and counted), https only, with a timeout
per network operation and an overall deadline, at most 3 redirects and at most
5 MiB read. Pillow must decode the body; the logo must be exactly 250x64.

Every failure is an error at the line where the URL was written (the group
file, or the shared base or overlay it came from), with a stable code.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import ssl
import time
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from compiler import __version__
from compiler.diagnostics import Diagnostic
from compiler.load.layers import environments, layered, load_layers, merge_group
from compiler.load.located import load_file
from compiler.model.types import url_problem
from compiler.pipeline.build import discover, display_path, env_dir_for

BRANDING_URLS = ("favicon_url", "logo_url", "home_asset_url")
LOGO_SIZE = (250, 64)
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 3
DEFAULT_TIMEOUT = 10.0
TIMEOUT_ENV = "POPS_ONLINE_TIMEOUT"  # seconds per network operation; tests shorten it
WORKERS = 8
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


class Problem(Exception):
    """A URL that fails a check: a stable code and a message for the admin."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Location:
    """Where one branding URL was written."""

    file: str
    line: int
    column: int
    key: str
    url: str

    @property
    def path(self) -> str:
        return f"branding.{self.key}"


@dataclass(frozen=True, slots=True)
class Fetched:
    """An image that arrived and decoded."""

    url: str
    content_type: str
    size: tuple[int, int]


def _timeout() -> float:
    try:
        value = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT


def is_loopback_http(url: str) -> bool:
    """`http://` to a loopback IP literal: the only plain http the test-only flag allows."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no port
    except ValueError:
        return False
    if parts.scheme != "http" or not parts.hostname or any(c.isspace() for c in url):
        return False
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False  # a name, even `localhost`, would need DNS


def _allowed(url: str, allow_http_loopback: bool) -> bool:
    """A URL the fetcher may open: the offline check's https rule (valid host and port)."""
    if url_problem(url) is None:
        return True
    return allow_http_loopback and is_loopback_http(url)


def _redirect_target(current: str, location: str) -> str | None:
    """Where a redirect leads, or None when no browser could follow it (a bad port or host).

    A plain-http target is returned: the caller refuses it as insecure.
    """
    try:
        target = urljoin(current, location)
        scheme = urlsplit(target).scheme
    except ValueError:
        return None
    if scheme == "https" and url_problem(target) is not None:
        return None
    return target


def _connection(url: str, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https":
        context = ssl.create_default_context()
        return http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=context)
    return http.client.HTTPConnection(host, parts.port, timeout=timeout)


def _target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _read_capped(response: http.client.HTTPResponse, url: str, deadline: float) -> bytes:
    length = response.getheader("Content-Length")
    if length is not None and length.isdigit() and int(length) > MAX_BYTES:
        raise Problem(
            "online-too-large",
            f"{url} is {int(length)} bytes; images may be at most {MAX_BYTES} bytes (5 MiB), "
            "since patients download them on every visit: make it smaller",
        )
    chunks: list[bytes] = []
    total = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = response.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > MAX_BYTES:
            raise Problem(
                "online-too-large",
                f"{url} is more than {MAX_BYTES} bytes (5 MiB); images this large slow down "
                "every visit: make it smaller",
            )
        chunks.append(chunk)


def fetch(url: str, *, allow_http_loopback: bool = False) -> tuple[bytes, str]:
    """GET `url` following at most MAX_REDIRECTS redirects; (body, content type) or Problem."""
    timeout = _timeout()
    deadline = time.monotonic() + 3 * timeout
    current = url
    hops = [url]
    for _ in range(MAX_REDIRECTS + 1):
        if not _allowed(current, allow_http_loopback):
            raise Problem(
                "online-insecure-redirect",
                f"{url} redirects to {current}, which is not an https:// address; browsers "
                "block such images on the portal: link an https address that needs no redirect",
            )
        answer = _get(current, timeout, deadline)
        if not isinstance(answer, str):
            return answer
        current = answer
        hops.append(current)
    raise Problem(
        "online-too-many-redirects",
        f"{url} redirects more than {MAX_REDIRECTS} times ({' -> '.join(hops)}); "
        "link the final address instead",
    )


def _get(current: str, timeout: float, deadline: float) -> tuple[bytes, str] | str:
    """One GET: (body, media type) of an image, or the address a redirect points to."""
    connection: http.client.HTTPConnection | None = None
    try:
        connection = _connection(current, timeout)
        connection.request(
            "GET",
            _target(current),
            headers={
                "User-Agent": f"pops-groups/{__version__} (validate --online)",
                "Accept": "image/*",
                "Accept-Encoding": "identity",
                "Connection": "close",
            },
        )
        response = connection.getresponse()
        if response.status in _REDIRECTS:
            return _redirected(current, response)
        media = _image_type(current, response)
        return _read_capped(response, current, deadline), media
    except TimeoutError:
        raise Problem(
            "online-timeout",
            f"{current} did not answer within {timeout:g} seconds",
        ) from None
    except ssl.SSLError as exc:
        raise Problem(
            "online-tls", f"secure connection to {current} failed: {exc.reason or exc}"
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise Problem(
            "online-unreachable",
            f"cannot fetch {current}: {reason or type(exc).__name__}",
        ) from None
    finally:
        if connection is not None:
            connection.close()


def _redirected(current: str, response: http.client.HTTPResponse) -> str:
    """Where a redirect points, or Problem when it points nowhere usable."""
    location = response.getheader("Location")
    if not location:
        raise Problem(
            "online-http-status",
            f"{current} answered HTTP {response.status} (a redirect) without saying where to",
        )
    target = _redirect_target(current, location)
    if target is None:
        raise Problem(
            "online-http-status",
            f"{current} answered HTTP {response.status} (a redirect) to "
            f"`{location[:200]}`, which is not a valid address; link the "
            "image's final address instead",
        )
    return target


def _image_type(current: str, response: http.client.HTTPResponse) -> str:
    """The media type of a 200 OK image answer; Problem for any other answer."""
    if response.status != 200:
        raise Problem(
            "online-http-status",
            f"{current} answered HTTP {response.status} {response.reason}, not 200 OK; "
            "patients would see a broken image",
        )
    content_type = response.getheader("Content-Type", "") or ""
    media = content_type.split(";")[0].strip().lower()
    if not media.startswith("image/"):
        shown = f'"{media}"' if media else "no content type"
        raise Problem(
            "online-not-image",
            f"{current} is served as {shown}, not as an image (image/...); check that "
            "the address points at the image file itself",
        )
    return media


def decode(data: bytes, url: str) -> tuple[int, int]:
    """Width and height once Pillow has decoded every pixel (a header alone proves little)."""
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data)) as image:
                image.load()
                return image.size
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Problem(
                "online-undecodable",
                f"{url} has too many pixels to be a web image; make it smaller",
            ) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            raise Problem(
                "online-undecodable",
                f"{url} is labelled as an image but cannot be decoded ({exc}); re-export it as "
                "PNG, JPEG or ICO",
            ) from None


def check_url(url: str, *, allow_http_loopback: bool = False) -> Fetched:
    """Fetch and decode one image; Problem when anything is wrong."""
    data, content_type = fetch(url, allow_http_loopback=allow_http_loopback)
    return Fetched(url, content_type, decode(data, url))


def _locations(
    groups_dir: Path,
    paths: Iterable[Path] | None,
    env: str | None,
    env_dir: Path | None,
) -> list[Location]:
    """Every branding URL as each group sees it, in the base build and each environment."""
    folder = env_dir_for(groups_dir, env_dir)
    envs: list[str | None] = [env] if env is not None else [None, *environments(folder)]
    files, _ = discover(list(paths) if paths else [groups_dir])
    found: dict[Location, None] = {}
    for name in envs:
        layers = load_layers(groups_dir, name, folder)
        for path in files:
            doc, _ = load_file(path, display_path(path))
            if doc is None:
                continue
            slug = path.name.removesuffix(".yaml")
            if layered(doc, slug, layers):
                doc = merge_group(doc, slug, layers).doc
            branding = doc.data.get("branding")
            if not isinstance(branding, dict):
                continue
            for key in BRANDING_URLS:
                value = branding.get(key)
                if isinstance(value, str):
                    line, column = doc.position(("branding", key))
                    found[Location(doc.file_at(("branding", key)), line, column, key, value)] = None
    return list(found)


def _diagnostic(where: Location, code: str, message: str) -> Diagnostic:
    return Diagnostic(where.file, where.line, where.column, where.path, code, "error", message)


def _problem(url: str, allow_http_loopback: bool) -> Fetched | Problem:
    try:
        return check_url(url, allow_http_loopback=allow_http_loopback)
    except Problem as problem:
        return problem


def check_online(
    diagnostics: Iterable[Diagnostic],
    groups_dir: Path,
    paths: Iterable[Path] | None = None,
    *,
    env: str | None = None,
    env_dir: Path | None = None,
    allow_http_loopback: bool = False,
) -> list[Diagnostic]:
    """`diagnostics` (the offline result) plus one error per branding URL that fails online.

    URLs the offline check already rejects are not fetched. With the test-only
    `allow_http_loopback`, http URLs to a loopback address are fetched and the
    offline "not https" error for exactly those is dropped.
    """
    locations = _locations(groups_dir, paths, env, env_dir)
    offline = list(diagnostics)
    if allow_http_loopback:
        local = {(w.file, w.line, w.path) for w in locations if is_loopback_http(w.url)}
        offline = [
            d
            for d in offline
            if not (d.code == "url-invalid" and (d.file, d.line, d.path) in local)
        ]
    wanted = [w for w in locations if _allowed(w.url, allow_http_loopback)]
    if not wanted:
        return offline
    try:
        import PIL  # noqa: F401
    except ImportError:
        return offline + [
            _diagnostic(
                w,
                "online-unavailable",
                "cannot check images: Pillow is not installed; install the `online` extra, "
                "e.g. pip install 'pops-groups[online]'",
            )
            for w in wanted
        ]
    urls = sorted({w.url for w in wanted})
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(urls))) as pool:
        results: dict[str, Fetched | Problem] = dict(
            zip(urls, pool.map(lambda u: _problem(u, allow_http_loopback), urls), strict=True)
        )
    return offline + [found for where in wanted if (found := _verdict(where, results[where.url]))]


def _verdict(where: Location, result: Fetched | Problem) -> Diagnostic | None:
    """The error for one place that names an image, from what fetching it found."""
    if isinstance(result, Problem):
        return _diagnostic(where, result.code, result.message)
    if where.key == "logo_url" and result.size != LOGO_SIZE:
        width, height = result.size
        return _diagnostic(
            where,
            "online-logo-size",
            f"the logo is {width}x{height} pixels; it must be exactly "
            f"{LOGO_SIZE[0]}x{LOGO_SIZE[1]}, the size the portal header and MFA email "
            "are laid out for",
        )
    return None


# What each code `--online` reports means and how to fix it (see compiler.codes).
CODES: dict[str, tuple[str, str]] = {
    "online-too-large": (
        "An image is larger than 5 MiB.",
        "Compress or resize the image; the portal loads it on every page.",
    ),
    "online-insecure-redirect": (
        "An image's https:// URL redirects to plain http.",
        "Point the URL at the final https:// address.",
    ),
    "online-http-status": (
        "An image's URL does not answer 200 OK.",
        "Fix the URL or publish the image there.",
    ),
    "online-not-image": (
        "An image's URL serves something that is not an image.",
        "Point the URL at the image file itself, not a page showing it.",
    ),
    "online-timeout": (
        "An image's server did not answer in time.",
        "Check that the host is up; a slow host also slows every patient's page.",
    ),
    "online-tls": (
        "The secure connection to an image's host failed.",
        "Fix the host's certificate, or use a host with a valid one.",
    ),
    "online-unreachable": (
        "An image's host cannot be reached.",
        "Check the host name in the URL.",
    ),
    "online-too-many-redirects": (
        "An image's URL redirects more than 3 times.",
        "Point the URL at the final address.",
    ),
    "online-undecodable": (
        "An image cannot be decoded.",
        "Export the image again as PNG, JPEG or ICO, at a web size.",
    ),
    "online-unavailable": (
        "Images cannot be checked: Pillow is not installed.",
        "Install the `online` extra, e.g. pip install 'pops-groups[online]'.",
    ),
    "online-logo-size": (
        "The logo is not 250x64 pixels.",
        "Export the logo at exactly 250x64, the size the portal header and MFA email use.",
    ),
}

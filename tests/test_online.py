"""`pops validate --online` against a real HTTP server on 127.0.0.1.

The server runs in a thread of the test process and serves images that Pillow
generates here; the test-only `--allow-http-loopback` flag lets the installed
`pops` fetch them over plain http. Every request the server sees is recorded,
so the tests also prove what was (and was not) contacted.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from conftest import Run, write_group
from PIL import Image

from compiler.authoring.online import MAX_BYTES, is_loopback_http

LOOPBACK = ("--online", "--allow-http-loopback", "--format", "json")


def image(size: tuple[int, int], kind: str = "PNG") -> bytes:
    out = BytesIO()
    Image.new("RGB", size, (21, 101, 192)).save(out, kind)
    return out.getvalue()


@dataclass
class Route:
    status: int = 200
    content_type: str | None = "image/png"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    send_length: bool = True


class Server:
    """A real HTTP/1.1 server on 127.0.0.1 with canned answers per path."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                route = server.routes.get(self.path, Route(404, "text/html", b"<h1>nope</h1>"))
                if route.delay:
                    time.sleep(route.delay)
                self.send_response(route.status)
                if route.content_type:
                    self.send_header("Content-Type", route.content_type)
                if route.send_length:
                    self.send_header("Content-Length", str(len(route.body)))
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                # The client may stop reading, as it should past the size cap.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(route.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.base = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path


@contextlib.contextmanager
def serving(tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    srv = Server(tls)
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    with serving() as srv:
        yield srv


def group(url: str, key: str = "logo_url") -> str:
    """A group with no offline findings; the URL sits on line 5, column 13 for logo_url."""
    return f"name: Case\npayments:\n  credit_card: true\nbranding:\n  {key}: {url}\n"


def diagnostics(proc: Any) -> list[tuple[str, int, int, str, str]]:
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    return [
        (d["file"], d["line"], d["column"], d["path"], d["code"]) for d in report["diagnostics"]
    ]


def test_a_good_logo_favicon_and_home_image_pass(run_pops: Run, repo: Path, server: Server) -> None:
    server.routes["/logo.png"] = Route(body=image((250, 64)))
    server.routes["/favicon.ico"] = Route(content_type="image/x-icon", body=image((32, 32), "ICO"))
    server.routes["/home.jpg"] = Route(content_type="image/jpeg", body=image((1200, 400), "JPEG"))
    write_group(
        repo,
        "good",
        "name: Good\npayments:\n  credit_card: true\nbranding:\n"
        f"  favicon_url: {server.url('/favicon.ico')}\n"
        f"  logo_url: {server.url('/logo.png')}\n"
        f"  home_asset_url: {server.url('/home.jpg')}\n",
    )
    proc = run_pops("validate", "--online", "--allow-http-loopback", cwd=repo)
    assert (proc.returncode, proc.stdout) == (0, "no problems found\n")
    assert sorted(server.requests) == ["/favicon.ico", "/home.jpg", "/logo.png"]


def test_every_failure_is_an_error_at_the_url_line(
    run_pops: Run, repo: Path, server: Server
) -> None:
    routes = {
        "/wrong-size.png": Route(body=image((300, 80))),
        "/missing.png": Route(404, "text/html", b"<h1>Not Found</h1>"),
        "/page.png": Route(content_type="text/html; charset=utf-8", body=b"<html></html>"),
        "/garbage.png": Route(body=b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10),
        "/huge.png": Route(body=b"\0" * (MAX_BYTES + 1)),
        "/huge-unannounced.png": Route(body=b"\0" * (MAX_BYTES + 1), send_length=False),
        "/loop.png": Route(302, None, headers={"Location": "/loop.png"}),
        "/slow.png": Route(body=image((250, 64)), delay=6.0),
        "/hop1.png": Route(301, None, headers={"Location": "/hop2.png"}),
        "/hop2.png": Route(307, None, headers={"Location": "/logo.png"}),
        "/logo.png": Route(body=image((250, 64))),
        "/away.png": Route(302, None, headers={"Location": "http://example.com/logo.png"}),
    }
    server.routes.update(routes)
    cases = {
        "wrong-size": ("/wrong-size.png", "online-logo-size"),
        "not-found": ("/missing.png", "online-http-status"),
        "html-page": ("/page.png", "online-not-image"),
        "garbage": ("/garbage.png", "online-undecodable"),
        "huge": ("/huge.png", "online-too-large"),
        "huge-unannounced": ("/huge-unannounced.png", "online-too-large"),
        "redirect-loop": ("/loop.png", "online-too-many-redirects"),
        "slow": ("/slow.png", "online-timeout"),
        "two-redirects": ("/hop1.png", None),  # 2 redirects are fine
        "leaves-loopback": ("/away.png", "online-insecure-redirect"),
    }
    for slug, (path, _) in cases.items():
        write_group(repo, slug, group(server.url(path)))
    # Generous for a busy 2-core CI machine; only the 6-second route may time out.
    proc = run_pops("validate", *LOOPBACK, cwd=repo, env={"POPS_ONLINE_TIMEOUT": "2"})
    assert proc.returncode == 1
    expected = sorted(
        (f"groups/{slug}.yaml", 5, 13, "branding.logo_url", code)
        for slug, (_, code) in cases.items()
        if code is not None
    )
    assert diagnostics(proc) == expected
    report = json.loads(proc.stdout)
    assert (report["errors"], report["warnings"]) == (len(expected), 0)
    messages = {d["file"]: d["message"] for d in report["diagnostics"]}
    assert (
        "the logo is 300x80 pixels; it must be exactly 250x64" in messages["groups/wrong-size.yaml"]
    )
    assert "answered HTTP 404 Not Found" in messages["groups/not-found.yaml"]
    assert 'is served as "text/html"' in messages["groups/html-page.yaml"]
    assert "redirects more than 3 times" in messages["groups/redirect-loop.yaml"]
    assert "did not answer within 2 seconds" in messages["groups/slow.yaml"]
    # The loop was followed exactly 3 times after the first request; example.com was
    # never contacted (no request for it could reach this server, and none left for it).
    assert server.requests.count("/loop.png") == 4
    assert server.requests.count("/away.png") == 1
    assert "http://example.com/logo.png" in messages["groups/leaves-loopback.yaml"]


def test_plain_http_needs_the_test_flag_and_nothing_is_fetched_without_it(
    run_pops: Run, repo: Path, server: Server
) -> None:
    server.routes["/logo.png"] = Route(body=image((250, 64)))
    write_group(repo, "case", group(server.url("/logo.png")))
    proc = run_pops("validate", "--online", "--format", "json", cwd=repo)
    assert proc.returncode == 1
    assert diagnostics(proc) == [("groups/case.yaml", 5, 13, "branding.logo_url", "url-invalid")]
    proc = run_pops("validate", "--format", "json", "--allow-http-loopback", cwd=repo)
    assert diagnostics(proc) == [("groups/case.yaml", 5, 13, "branding.logo_url", "url-invalid")]
    assert server.requests == []


def test_online_errors_merge_with_offline_ones_and_formats(
    run_pops: Run, repo: Path, server: Server
) -> None:
    write_group(
        repo,
        "both",
        "name: Both\nbranding:\n  logo_url: " + server.url("/gone.png") + "\n",
    )
    proc = run_pops("validate", "--online", "--allow-http-loopback", cwd=repo)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(
        "groups/both.yaml:1:1: warning: payments: no payment method is switched on"
    )
    assert lines[1].startswith("groups/both.yaml:3:13: error: branding.logo_url: ")
    assert lines[1].endswith(
        "answered HTTP 404 Not Found, not 200 OK; patients would see a "
        "broken image [online-http-status]"
    )
    assert lines[2] == "1 error, 1 warning"
    proc = run_pops("validate", "--online", "--allow-http-loopback", "--format", "github", cwd=repo)
    assert "::error file=groups/both.yaml,line=3,col=13,title=online-http-status::" in proc.stdout


def test_a_redirect_to_an_address_no_browser_can_open_is_an_error(
    run_pops: Run, repo: Path, server: Server
) -> None:
    server.routes["/bad-port.png"] = Route(
        302, None, headers={"Location": "https://cdn.example.com:99999/logo.png"}
    )
    server.routes["/bad-host.png"] = Route(301, None, headers={"Location": "https://[oops/x.png"})
    write_group(repo, "port", group(server.url("/bad-port.png")))
    write_group(repo, "host", group(server.url("/bad-host.png")))
    proc = run_pops("validate", *LOOPBACK, cwd=repo)
    assert proc.returncode == 1
    assert diagnostics(proc) == [
        ("groups/host.yaml", 5, 13, "branding.logo_url", "online-http-status"),
        ("groups/port.yaml", 5, 13, "branding.logo_url", "online-http-status"),
    ]
    messages = [d["message"] for d in json.loads(proc.stdout)["diagnostics"]]
    assert messages == [
        f"{server.url('/bad-host.png')} answered HTTP 301 (a redirect) to `https://[oops/x.png`, "
        "which is not a valid address; link the image's final address instead",
        f"{server.url('/bad-port.png')} answered HTTP 302 (a redirect) to "
        "`https://cdn.example.com:99999/logo.png`, which is not a valid address; link the "
        "image's final address instead",
    ]
    assert sorted(server.requests) == ["/bad-host.png", "/bad-port.png"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8000/logo.png", True),
        ("http://127.0.0.2/logo.png", True),
        ("http://[::1]:8000/logo.png", True),
        ("http://localhost/logo.png", False),  # a name would need DNS
        ("http://10.0.0.1/logo.png", False),
        ("https://127.0.0.1/logo.png", False),  # https is allowed anyway, not by this rule
        ("http://127.0.0.1.example.com/logo.png", False),
        ("http://127.0.0.1:99999/logo.png", False),  # no such port: refused, not raised
        ("http://127.0.0.1:abc/logo.png", False),
        ("http://[::1/logo.png", False),
    ],
)
def test_only_loopback_addresses_count_as_loopback(url: str, allowed: bool) -> None:
    assert is_loopback_http(url) is allowed


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_with_a_trusted_certificate_passes_and_an_untrusted_one_fails(
    run_pops: Run, repo: Path, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    with serving(tls) as srv:
        srv.routes["/logo.png"] = Route(body=image((250, 64)))
        write_group(repo, "secure", group(srv.url("/logo.png")))
        # No test flag: this is the production path, https with certificate checks.
        proc = run_pops("validate", "--online", cwd=repo, env={"SSL_CERT_FILE": str(cert)})
        assert (proc.returncode, proc.stdout) == (0, "no problems found\n")
        assert srv.requests == ["/logo.png"]
        untrusted = {"SSL_CERT_FILE": str(tmp_path / "none.pem"), "SSL_CERT_DIR": str(tmp_path)}
        proc = run_pops("validate", "--online", "--format", "json", cwd=repo, env=untrusted)
        assert proc.returncode == 1
        assert diagnostics(proc) == [
            ("groups/secure.yaml", 5, 13, "branding.logo_url", "online-tls")
        ]
        assert "CERTIFICATE_VERIFY_FAILED" in json.loads(proc.stdout)["diagnostics"][0]["message"]

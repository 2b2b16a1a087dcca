"""The portal's read path, as a browser on another origin walks it.

The nginx server block of docs/publishing.md serves a real `pops publish` to a local folder; a
portal page on a second 127.0.0.1 origin fetches a group's config.json and loads
the stylesheet it names with `<link integrity crossorigin>`, in headless Chromium.
The stylesheet applies with the SRI value pops wrote, and is refused with any other.
"""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import _run
from conftest import REPO

from tests.publish_fixtures import free_ports, nginx_conf, nginx_executable, stop, wait_http

SLUG = "sunrise-pediatrics"

# The portal: fetch the config, resolve the stylesheet against it, load it with SRI,
# then write what happened into the DOM for --dump-dom.
PORTAL = """<!doctype html>
<html><body><div id="out">pending</div>
<script>
(async function () {
  var out = document.getElementById("out");
  try {
    var configUrl = "http://127.0.0.1:%(port)d/groups/%(slug)s/config.json";
    var config = await (await fetch(configUrl)).json();
    var sheet = config.theme.stylesheet;
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL(sheet.path, configUrl).href;
    link.integrity = %(integrity)s || sheet.integrity;
    link.crossOrigin = "anonymous";
    link.onload = function () {
      var root = getComputedStyle(document.documentElement);
      var primary = root.getPropertyValue("--pops-primary").trim();
      out.setAttribute("data-result", "loaded " + primary + " " + config.theme.colors.primary);
    };
    link.onerror = function () { out.setAttribute("data-result", "refused"); };
    document.head.appendChild(link);
  } catch (e) {
    out.setAttribute("data-result", "failed " + e);
  }
})();
</script></body></html>
"""


def documented_server_block() -> str:
    """The nginx `server { ... }` example of docs/publishing.md, as documented."""
    page = (REPO / "docs" / "publishing.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```nginx\n(.*?)```", page, flags=re.DOTALL)
    assert len(blocks) == 1, "docs/publishing.md should show exactly one nginx example"
    return str(blocks[0])


@pytest.fixture
def published(tmp_path: Path, run_pops: object) -> Path:
    """The sample groups built and published to a local folder target; its root."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "groups", repo / "groups")
    target = tmp_path / "site"
    for args in (["build"], ["publish", "--target", target.as_uri(), "--no-build"]):
        proc = run_pops(*args, cwd=repo)  # type: ignore[operator]
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return target


@pytest.fixture
def documented_nginx(tmp_path: Path, published: Path) -> Iterator[int]:
    """nginx running the server block of docs/publishing.md over the published folder; its port."""
    (port,) = free_ports(1)
    server = documented_server_block()
    server = re.sub(r"listen\s+80;", f"listen 127.0.0.1:{port};", server)
    server = server.replace("/srv/pops/current", str(published / "current"))
    assert f"127.0.0.1:{port}" in server and str(published) in server
    run = tmp_path / "nginx"
    run.mkdir()
    (run / "nginx.conf").write_text(nginx_conf(run, server))
    proc = subprocess.Popen(
        [nginx_executable(), "-p", str(run), "-c", str(run / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(port, 20, proc, run / "error.log")
        yield port
    finally:
        stop(proc)


@pytest.fixture
def portal_origin(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A second origin (another port) serving the portal page; (its folder, port)."""
    root = tmp_path / "portal"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def open_portal(portal: tuple[Path, int], nginx_port: int, integrity: str | None) -> str:
    root, port = portal
    page = PORTAL % {"port": nginx_port, "slug": SLUG, "integrity": json.dumps(integrity)}
    (root / "index.html").write_text(page, encoding="utf-8")
    done = _run(["--virtual-time-budget=10000", "--dump-dom", f"http://127.0.0.1:{port}/"])
    found = re.search(r'data-result="([^"]*)"', done.stdout)
    assert found, f"the portal page reported nothing:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    return found.group(1)


def test_stylesheet_loads_cross_origin_with_its_integrity(
    documented_nginx: int, portal_origin: tuple[Path, int]
) -> None:
    result = open_portal(portal_origin, documented_nginx, None)
    config = json.loads((REPO / "dist/groups" / SLUG / "config.json").read_text())
    primary = config["theme"]["colors"]["primary"]
    assert result == f"loaded {primary} {primary}"


def test_stylesheet_with_other_bytes_is_refused(
    documented_nginx: int, portal_origin: tuple[Path, int]
) -> None:
    config = json.loads((REPO / "dist/groups" / SLUG / "config.json").read_text())
    good = config["theme"]["stylesheet"]["integrity"]
    wrong = "sha384-" + ("A" if good[7] != "A" else "B") + good[8:]
    assert open_portal(portal_origin, documented_nginx, wrong) == "refused"

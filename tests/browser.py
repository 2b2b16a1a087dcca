"""Headless Chromium for the preview tests: computed styles and screenshots of real pages.

A missing browser is a failure, not a skip: CI must never pass a preview it never drew.
Each run gets a fresh profile and no network chatter, so runs do not leak into each other.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--force-color-profile=srgb",
    "--hide-scrollbars",
]

# Appended to a copy of the page (never to the shipped page): writes what the browser
# computed into the DOM, which --dump-dom then prints.
PROBE = """
<script>
(function () {
  function style(sel, prop) {
    var el = document.querySelector(sel);
    return el ? getComputedStyle(el)[prop] : null;
  }
  function text(sel) {
    var el = document.querySelector(sel);
    return el ? el.innerText : null;
  }
  function visible(sel) {
    var el = document.querySelector(sel);
    if (!el) return false;
    var r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility === "visible";
  }
  function rect(sel) {
    var el = document.querySelector(sel);
    if (!el) return null;
    var r = el.getBoundingClientRect();
    return [r.left, r.top, r.width, r.height];
  }
  var result = {
    primaryButton: style('[data-testid="primary-button"]', "backgroundColor"),
    primaryButtonText: style('[data-testid="primary-button"]', "color"),
    primaryButtonRect: rect('[data-testid="primary-button"]'),
    header: style('[data-testid="header"]', "backgroundColor"),
    body: style("body", "backgroundColor"),
    footer: text('[data-testid="footer"]'),
    footerVisible: visible('[data-testid="footer"]'),
    phoneVisible: visible('[data-testid="footer-phone"]'),
    phoneHref: (document.querySelector('[data-testid="footer-phone"]') || {}).href || null,
    sms: text('[data-testid="sms"]'),
    emailFrame: visible('[data-testid="email"]'),
    alerts: Array.prototype.map.call(document.querySelectorAll(".pv-alert"), function (el) {
      return [el.className, getComputedStyle(el).backgroundColor];
    }),
    shown: Array.prototype.map.call(document.querySelectorAll("[data-testid]"), function (el) {
      return el.getAttribute("data-testid");
    }),
    contrast: Array.prototype.map.call(
      document.querySelectorAll('[data-testid="contrast"] tbody tr'),
      function (tr) {
        return Array.prototype.map.call(tr.cells, function (td) { return td.innerText; });
      }
    )
  };
  document.body.setAttribute("data-probe", JSON.stringify(result));
})();
</script>
"""


def executable() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "chromium is not installed (apt-get install -y chromium): the preview "
            "must be checked in a real browser"
        )
    return found


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="pops-chromium-") as profile:
        return subprocess.run(
            [executable(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


WINDOW = (1280, 1600)


def probe(page: Path, *, width: int = WINDOW[0], height: int = WINDOW[1]) -> dict[str, Any]:
    """What Chromium computed for the preview page `page` (a probing copy sits beside it).

    Same window size as `screenshot` by default, so rectangles match the PNG's pixels.
    """
    text = page.read_text(encoding="utf-8")
    copy = page.with_name(f"probe-{page.name}")
    copy.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        done = _run(
            [
                f"--window-size={width},{height}",
                "--virtual-time-budget=5000",
                "--dump-dom",
                copy.as_uri(),
            ]
        )
    finally:
        copy.unlink()
    found = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert found, f"chromium printed no probe result:\n{done.stderr[-2000:]}"
    data: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return data


def screenshot(
    page: Path,
    png: Path,
    *,
    width: int = WINDOW[0],
    height: int = WINDOW[1],
    extra: tuple[str, ...] = (),
) -> Path:
    """A PNG of `page` as Chromium draws it at this window size (`extra`: more switches)."""
    done = _run(
        [
            *extra,
            f"--window-size={width},{height}",
            "--virtual-time-budget=5000",
            f"--screenshot={png}",
            page.as_uri(),
        ]
    )
    assert png.is_file() and png.stat().st_size > 0, done.stderr[-2000:]
    return png


def css_rgb(color: str) -> str:
    """`#0b5cad` -> `rgb(11, 92, 173)`, the way getComputedStyle spells colours."""
    value = color.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"


def evaluate(
    page: Path,
    body: str,
    *,
    width: int = WINDOW[0],
    height: int = WINDOW[1],
    file_access: bool = False,
    extra: tuple[str, ...] = (),
) -> Any:
    """The JSON value `body` (a JS function body ending in `return ...`) computes on `page`.

    It runs after the page's load event (pictures failed or loaded, frames
    loaded and sized), on a probing copy beside the page. `file_access` lets it
    read into frames of other file:// pages (the pages themselves never need it).
    """
    script = (
        "<script>window.addEventListener('load', function () { setTimeout(function () {"
        "var value = (function () {" + body + "})();"
        "document.body.setAttribute('data-probe', JSON.stringify(value));"
        "}, 300); });</script>"
    )
    text = page.read_text(encoding="utf-8")
    copy = page.with_name(f"probe-{page.name}")
    copy.write_text(text.replace("</body>", script + "</body>"), encoding="utf-8")
    flags = [*extra, "--allow-file-access-from-files"] if file_access else [*extra]
    try:
        done = _run(
            [
                *flags,
                f"--window-size={width},{height}",
                "--virtual-time-budget=5000",
                "--dump-dom",
                copy.as_uri(),
            ]
        )
    finally:
        copy.unlink()
    found = re.search(r'<body[^>]*data-probe="([^"]*)"', done.stdout)
    assert found, f"chromium printed no probe result:\n{done.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))

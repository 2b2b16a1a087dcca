"""Previews a reviewer can trust at a glance (#13 part 5), checked in headless Chromium.

Every check reads what the browser computed or painted: element boxes and
styles after the page loaded (`evaluate`), or pixels of a screenshot at those
boxes. None of them looks at the HTML text.
"""

from __future__ import annotations

import http.server
import io
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import css_rgb, evaluate, screenshot
from conftest import Run, run_on_terminal, write_group
from PIL import Image

YELLOW, BLACK = (0xFF, 0xD4, 0x00), (0, 0, 0)
HIGHLIGHT = css_rgb("#fff3b0")

HARBOR = """\
name: Harbor Health Partners
theme:
  colors:
    primary: "#00695c"
payments:
  credit_card: true
  require_cvv: true
look_and_feel:
  footer:
    text: Billing office hours are 8am to 5pm.
"""
SAME = "name: Same Clinic\npayments:\n  google_pay: true\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=60)


def commit_all(repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "admin@example.com")
    git(repo, "config", "user.name", "Admin")
    git(repo, "add", "groups")
    git(repo, "commit", "-q", "-m", "groups")


@pytest.fixture
def compared(repo: Path, run_pops: Run) -> Path:
    """A --base preview where harbor's primary colour and CVV switch changed, `same` did not."""
    write_group(repo, "harbor", HARBOR)
    write_group(repo, "same", SAME)
    commit_all(repo)
    write_group(
        repo,
        "harbor",
        HARBOR.replace('"#00695c"', '"#6a1b9a"').replace("require_cvv: true", "require_cvv: false"),
    )
    done = run_pops("preview", "--base", "main", "--out", "site", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "wrote 4 pages (1 changed groups)" in done.stderr
    return repo / "site"


RECT = (
    "function rect(el) { var r = el.getBoundingClientRect();"
    " return [r.left, r.top, r.width, r.height]; }"
)


def pixel(image: Image.Image, x: float, y: float) -> tuple[int, int, int]:
    value = image.getpixel((int(x), int(y)))
    assert isinstance(value, tuple)
    return (value[0], value[1], value[2])


def test_changed_settings_are_outlined_on_both_pages(compared: Path, tmp_path: Path) -> None:
    script = (
        RECT
        + """
    var changed = Array.prototype.map.call(document.querySelectorAll("[data-changed]"),
      function (el) { return el.getAttribute("data-changed"); });
    var button = document.querySelector('[data-testid="primary-button"]');
    var listed = Array.prototype.map.call(document.querySelectorAll('[data-testid="changes"] li'),
      function (li) {
        return [li.getAttribute("data-path"), li.innerText.replace(/\\s+/g, " "),
          Array.prototype.map.call(li.querySelectorAll(".pv-swatch"),
            function (s) { return getComputedStyle(s).backgroundColor; })];
      });
    var cvv = document.querySelector('[data-testid="cvv"]');
    return {changed: changed, button: rect(button), listed: listed,
            cvv: cvv ? cvv.getAttribute("data-changed") : null};
    """
    )
    for page, primary in [("harbor/index.html", "#6a1b9a"), ("harbor/base/index.html", "#00695c")]:
        seen: dict[str, Any] = evaluate(compared / page, script)
        # The CVV field shows only before (and is outlined there); the list names it on both.
        cvv = {"payments.require_cvv"} if "base" in page else set()
        assert set(seen["changed"]) == {"theme.colors.primary", *cvv}
        assert seen["listed"] == [
            [
                "theme.colors.primary",
                "Theme › Primary Colors: #00695c → #6a1b9a",
                [css_rgb("#00695c"), css_rgb("#6a1b9a")],
            ],
            ["payments.require_cvv", "Payments › Require CVV: on → off", []],
        ]
        image = Image.open(screenshot(compared / page, tmp_path / "page.png")).convert("RGB")
        left, top, _width, height = seen["button"]
        middle = top + height / 2
        assert pixel(image, left + 3, middle) == tuple(
            int(primary[i : i + 2], 16) for i in (1, 3, 5)
        )
        assert pixel(image, left - 4, middle) == YELLOW  # the outline, 2 to 5 px out
        assert pixel(image, left - 6.5, middle) == BLACK  # and its black rim, for dark themes


def test_changes_table_and_index_are_highlighted(compared: Path, tmp_path: Path) -> None:
    table: dict[str, Any] = evaluate(
        compared / "harbor/compare.html",
        """
        var row = document.querySelector('tr[data-path="theme.colors.primary"]');
        var swatches = Array.prototype.map.call(row.querySelectorAll(".pv-swatch"), function (s) {
          var r = s.getBoundingClientRect();
          return [getComputedStyle(s).backgroundColor, r.width, r.height];
        });
        return {cells: Array.prototype.map.call(row.cells, function (td) {
                  return [td.innerText.trim(), getComputedStyle(td).backgroundColor]; }),
                swatches: swatches};
        """,
    )
    assert [text for text, _ in table["cells"]] == ["Theme › Primary Colors", "#00695c", "#6a1b9a"]
    assert [bg == HIGHLIGHT for _, bg in table["cells"]] == [False, False, True]
    assert table["swatches"] == [[css_rgb("#00695c"), 18, 18], [css_rgb("#6a1b9a"), 18, 18]]

    index = compared / "index.html"
    rows: dict[str, Any] = evaluate(
        index,
        RECT
        + """
        var out = {};
        document.querySelectorAll("tr[data-slug]").forEach(function (tr) {
          var change = tr.querySelector('[data-testid="change"]');
          var marked = tr.querySelector(".pv-swatch[data-changed]");
          out[tr.getAttribute("data-slug")] = {
            change: change.innerText, links: tr.querySelectorAll("a").length,
            background: getComputedStyle(tr.cells[0]).backgroundColor, cell: rect(tr.cells[1]),
            marked: marked ? [getComputedStyle(marked).backgroundColor,
                              getComputedStyle(marked).outlineColor] : null};
        });
        out.summary = document.querySelector('[data-testid="summary"]').innerText;
        return out;
        """,
    )
    assert rows["harbor"]["change"] == "changed: 2 settings" and rows["harbor"]["links"] == 2
    assert rows["harbor"]["marked"] == [css_rgb("#6a1b9a"), css_rgb("#ffd400")]
    assert rows["same"] == {**rows["same"], "change": "unchanged", "links": 0, "marked": None}
    assert rows["harbor"]["background"] == HIGHLIGHT != rows["same"]["background"]
    assert rows["summary"].startswith("1 of 2 groups changed against main (")
    assert not (compared / "same").exists(), "unchanged groups get no pages with --base"
    image = Image.open(screenshot(index, tmp_path / "index.png")).convert("RGB")
    for slug, colour in [("harbor", (0xFF, 0xF3, 0xB0)), ("same", (0xFF, 0xFF, 0xFF))]:
        left, top, _w, _h = rows[slug]["cell"]
        assert pixel(image, left + 3, top + 3) == colour


def test_frames_are_as_tall_as_what_they_show(repo: Path, run_pops: Run) -> None:
    body = "".join(
        f"      Line {i} of a long message. Your code is ${{mfa.code}}.\n" for i in range(60)
    )
    text = (
        HARBOR
        + (
            "authentication:\n  mfa:\n    enabled: true\n    success_role: authorized_patient\n"
            "    email_subject: Your code\n    email_body: |\n" + body
        )
        + "notifications:\n  email_from: no-reply@harbor.example.com\n"
    )
    write_group(repo, "harbor", text)
    commit_all(repo)
    write_group(repo, "harbor", text.replace('"#00695c"', '"#6a1b9a"'))
    assert run_pops("preview", "--base", "main", "--out", "site", cwd=repo).returncode == 0
    email: dict[str, Any] = evaluate(
        repo / "site/harbor/index.html",
        """
        var frame = document.querySelector('[data-testid="email"]');
        var doc = frame.contentDocument;
        return {frame: frame.getBoundingClientRect().height,
                inner: doc.documentElement.scrollHeight, text: doc.body.innerText};
        """,
    )
    assert "Line 59 of a long message" in email["text"]
    assert email["inner"] > 1000 and email["frame"] >= email["inner"] + 2  # (+ its border)
    sides: list[dict[str, Any]] = evaluate(
        repo / "site/harbor/compare.html",
        """
        return Array.prototype.map.call(document.querySelectorAll("iframe"), function (frame) {
          var doc = frame.contentDocument;
          var footer = doc.querySelector('[data-testid="footer"]').getBoundingClientRect();
          return {frame: frame.clientHeight, inner: doc.documentElement.scrollHeight,
                  footerBottom: footer.bottom, scrolls: doc.documentElement.scrollHeight >
                    doc.documentElement.clientHeight};
        });
        """,
        file_access=True,
    )
    assert len(sides) == 2
    for side in sides:
        assert side["inner"] > 2000, side
        assert side["frame"] >= side["inner"] and side["footerBottom"] <= side["frame"], side
        assert not side["scrolls"], side


OVERLAPS = """
var boxes = [], id = 0, walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (var node = walker.nextNode(); node; node = walker.nextNode()) {
  var el = node.parentElement;
  if (!node.textContent.trim() || el.closest("script, style")) continue;
  var style = getComputedStyle(el);
  if (style.visibility !== "visible" || el.getClientRects().length === 0) continue;
  var range = document.createRange();
  range.selectNodeContents(node);
  Array.prototype.forEach.call(range.getClientRects(), function (r) {
    if (r.width > 0 && r.height > 0)
      boxes.push([id, r.left, r.top, r.right, r.bottom, node.textContent.trim().slice(0, 50)]);
  });
  id++;
}
var overlaps = [];
for (var i = 0; i < boxes.length; i++) {
  for (var j = i + 1; j < boxes.length; j++) {
    var a = boxes[i], b = boxes[j];
    if (a[0] === b[0]) continue;
    var x = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
    var y = Math.min(a[4], b[4]) - Math.max(a[2], b[2]);
    if (x > 1 && y > 1) overlaps.push([a[5], b[5]]);
  }
}
return {boxes: boxes.length, overlaps: overlaps.slice(0, 10),
        wide: document.documentElement.scrollWidth - document.documentElement.clientWidth};
"""
CROWDED = """\
name: The Night Owl Pediatric and Family Dental Care Associates of the Greater Harbor Area
branding:
  logo_url: https://127.0.0.1:{port}/missing-logo-with-a-rather-long-file-name-for-the-box.png
theme:
  dark: {dark}
payments:
  credit_card: true
  require_cvv: true
  payment_method_storage: true
  email_receipt: true
look_and_feel:
  show_current_balance: false
  show_statement_balance: false
  show_collections: false
  show_escrow: false
  show_insurance_pending: true
  show_procedures: code_and_description
  logout_function: close
  footer:
    email: billing-department-for-all-locations@night-owl-pediatric.example.com
    phone: "(617) 555-0142"
    text: {footer}
authentication:
  mfa:
    enabled: true
    required: true
    success_role: authorized_patient
    sms_sender_name: Night Owl
    sms_message: "Night Owl: your sign-in code is ${{mfa.code}}. It expires in 10 minutes."
notifications:
  email_from: no-reply-billing-notifications@night-owl-pediatric.example.com
"""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("dark", [True, False], ids=["dark", "light"])
@pytest.mark.parametrize("width", [1280, 760])
def test_no_text_overlaps(repo: Path, run_pops: Run, dark: bool, width: int) -> None:
    footer = "Questions about a bill? Our billing office answers calls " * 4
    text = CROWDED.format(port=closed_port(), dark=str(dark).lower(), footer=footer.strip())
    write_group(repo, "night", text)
    assert run_pops("preview", "--out", "site", cwd=repo).returncode == 0
    seen: dict[str, Any] = evaluate(repo / "site/night/index.html", OVERLAPS, width=width)
    assert seen["boxes"] > 150
    assert seen["overlaps"] == [] and seen["wide"] == 0, seen


class _Logo(http.server.BaseHTTPRequestHandler):
    png = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.png)))
        self.end_headers()
        self.wfile.write(self.png)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def logo_server(tmp_path: Path) -> Iterator[str]:
    """A real HTTPS server on 127.0.0.1 (self-signed) serving one solid 250x64 PNG."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    out = io.BytesIO()
    Image.new("RGB", (250, 64), (0x12, 0x34, 0x56)).save(out, format="PNG")
    _Logo.png = out.getvalue()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Logo)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/logo.png"
    finally:
        server.shutdown()
        server.server_close()


# The test's own certificate is not trusted by Chromium; the pages never need this switch.
TRUST_TEST_CERTIFICATE = ("--ignore-certificate-errors",)
LOGO = (
    RECT
    + """
var box = document.querySelector('[data-testid="logo"]');
var img = box.querySelector("img"), missing = box.querySelector('[data-testid="logo-missing"]');
return {img: rect(img), missing: rect(missing), text: missing.innerText,
        loaded: img.complete && img.naturalWidth > 0};
"""
)


def test_a_logo_that_cannot_load_is_a_labelled_placeholder(
    repo: Path, run_pops: Run, tmp_path: Path, logo_server: str
) -> None:
    url = f"https://127.0.0.1:{closed_port()}/brand/logo.png"
    write_group(repo, "broken", f"name: Broken Logo Clinic\nbranding:\n  logo_url: {url}\n")
    write_group(repo, "fine", f"name: Fine Logo Clinic\nbranding:\n  logo_url: {logo_server}\n")
    assert run_pops("preview", "--out", "site", cwd=repo).returncode == 0

    page = repo / "site/broken/index.html"
    seen: dict[str, Any] = evaluate(page, LOGO)
    assert not seen["loaded"] and seen["img"][2:] == [0, 0], "no broken-image icon"
    assert seen["missing"][2:] == [250, 64]
    assert seen["text"] == f"Logo could not load\n{url}"
    image = Image.open(screenshot(page, tmp_path / "broken.png")).convert("RGB")
    left, top, width, height = seen["missing"]
    assert pixel(image, left + width - 6, top + height - 6) == (0xFF, 0xFF, 0xFF)
    dashes = {pixel(image, left + x, top + 1) for x in range(0, 40)}
    assert (0x1A, 0x1A, 0x1A) in dashes and len(dashes) > 1, "a dashed border"

    page = repo / "site/fine/index.html"
    seen = evaluate(page, LOGO, extra=TRUST_TEST_CERTIFICATE)
    assert seen["loaded"] and seen["img"][2:] == [250, 64] and seen["missing"][2:] == [0, 0]
    png = screenshot(page, tmp_path / "fine.png", extra=TRUST_TEST_CERTIFICATE)
    image = Image.open(png).convert("RGB")
    left, top, width, height = seen["img"]
    assert pixel(image, left + width / 2, top + height / 2) == (0x12, 0x34, 0x56)


def test_preview_draws_the_same_pages_with_any_number_of_workers(repo: Path, run_pops: Run) -> None:
    for i in range(120):  # (more than pages.PARALLEL_FROM, so two workers fork)
        write_group(repo, f"clinic-{i:03}", f"name: Clinic {i}\npayments:\n  credit_card: true\n")
    commit_all(repo)
    (repo / "groups/_defaults.yaml").write_text("look_and_feel:\n  show_escrow: true\n")
    trees = []
    for jobs in ("1", "2"):
        done = run_pops("preview", "--base", "main", "--out", f"site-{jobs}", "-j", jobs, cwd=repo)
        assert done.returncode == 0, done.stderr
        assert done.stderr.endswith(
            "wrote 361 pages (120 changed groups); open site-" + jobs + "/index.html\n"
        )
        root = repo / f"site-{jobs}"
        trees.append({p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()})
    assert trees[0] == trees[1] and len(trees[0]) == 120 * 7 + 3


@pytest.mark.parametrize("base", [None, "main"])
def test_a_preview_leaves_its_lock_released(repo: Path, run_pops: Run, base: str | None) -> None:
    """The next preview of the same folder has nothing to take over."""
    write_group(repo, "clinic", "name: Clinic\n")
    commit_all(repo)
    write_group(repo, "clinic", "name: Clinic Two\n")
    argv = ["preview", "--out", "site"] + (["--base", base] if base is not None else [])
    for _ in range(2):
        done = run_pops(*argv, cwd=repo)
        assert done.returncode == 0, done.stderr
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("wrote "), done.stderr
    locks = list((repo / ".pops-cache").glob("lock-*"))
    assert locks and all(lock.read_bytes() == b"" for lock in locks)


def _generate(repo: Path, count: int) -> None:
    for i in range(count):
        write_group(repo, f"clinic-{i:03}", f"name: Clinic {i}\n")


def test_progress_never_printed_to_a_pipe(repo: Path, run_pops: Run) -> None:
    _generate(repo, 210)
    done = run_pops("preview", "--out", "site", cwd=repo, env={"CI": ""})
    assert done.returncode == 0
    assert "ETA" not in done.stderr + done.stdout and "\r" not in done.stderr + done.stdout


def test_progress_shown_on_a_terminal(repo: Path) -> None:
    _generate(repo, 210)
    code, seen = run_on_terminal("preview", "--out", "site", "-j", "1", cwd=repo, timeout=120)
    assert code == 0
    assert b"preview [" in seen and b"210/210 ETA" in seen, seen[-500:]
    assert seen.rstrip().endswith(b"wrote 211 pages; open site/index.html"), seen[-300:]


def test_progress_shown_on_a_terminal_while_a_base_preview_compiles_and_draws(
    repo: Path,
) -> None:
    """With --base the groups are drawn as the base is compiled: the bar counts them."""
    _generate(repo, 210)
    commit_all(repo)
    (repo / "groups/_defaults.yaml").write_text("look_and_feel:\n  show_escrow: true\n")
    code, seen = run_on_terminal(
        "preview", "--base", "main", "--out", "site", "-j", "1", cwd=repo, timeout=120
    )
    assert code == 0
    assert b"preview [" in seen and b"210/210 ETA" in seen, seen[-500:]
    end = b"wrote 631 pages (210 changed groups); open site/index.html"
    assert seen.rstrip().endswith(end), seen[-300:]

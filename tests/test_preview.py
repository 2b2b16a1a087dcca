"""`pops preview`: static pages drawn by a real headless Chromium from the real artifacts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from browser import css_rgb, evaluate, probe, screenshot
from conftest import Run, write_group
from PIL import Image

from compiler import colors

FULL = """\
name: Harbor Health Partners
branding:
  logo_url: https://assets.example.com/logo.png
theme:
  colors:
    background: "#f7f9fb"
    primary: "#00695c"
    info: "#0277bd"
    success: "#2e7d32"
    warning: "#ef6c00"
    error: "#c62828"
payments:
  credit_card: true
  require_cvv: true
  apple_pay: true
look_and_feel:
  show_escrow: true
  show_current_balance: false
  show_insurance_pending: true
  show_procedures: description
  footer:
    email: billing@harbor.example.com
    phone: "(617) 555-0142"
    text: Billing office hours are 8am to 5pm.
authentication:
  mfa:
    enabled: true
    success_role: authorized_patient
    email_subject: Your Harbor code
    email_body: |
      Use ${mfa.code} to sign in.
    sms_message: "Harbor code ${mfa.code}"
notifications:
  email_from: no-reply@harbor.example.com
"""


def all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def harbor(repo: Path, run_pops: Run) -> Path:
    """The preview folder of a repo holding one fully set-up group."""
    write_group(repo, "harbor", FULL)
    done = run_pops("preview", "--out", "site", cwd=repo)
    assert done.returncode == 0, done.stderr
    return repo / "site"


def test_preview_is_a_client_of_the_real_artifacts(harbor: Path, run_pops: Run) -> None:
    repo = harbor.parent
    assert run_pops("build", cwd=repo).returncode == 0
    dist = all_files(repo / "dist" / "groups" / "harbor")
    site = all_files(harbor / "harbor")
    for rel, data in dist.items():
        assert site[rel] == data, f"{rel} is not the artifact byte for byte"
    page = (harbor / "harbor" / "index.html").read_text()
    assert '<link rel="stylesheet" href="theme.css">' in page
    assert 'href="mfa/email.html"' in page
    shown = evaluate(
        harbor / "harbor" / "index.html",
        "var f = document.querySelector('[data-testid=\"email\"]');"
        "return [f.srcdoc, f.contentDocument.body.innerText];",
    )
    assert shown[0] == dist["mfa/email.html"].decode().rstrip("\n"), "the MFA email is the artifact"
    assert "Use ${mfa.code} to sign in." in shown[1]
    wallet = 'style="background:#000000;color:#ffffff"'  # Apple Pay's own black button
    assert 'style="background' not in page.replace(wallet, ""), "colours must come from theme.css"
    index = (harbor / "index.html").read_text()
    assert 'href="harbor/index.html"' in index and "Harbor Health Partners" in index


def test_chromium_draws_the_configured_colours_and_footer(harbor: Path, tmp_path: Path) -> None:
    page = harbor / "harbor" / "index.html"
    seen = probe(page)
    assert seen["primaryButton"] == css_rgb("#00695c")
    assert seen["primaryButtonText"] == css_rgb(colors.on_color("#00695c"))
    assert seen["header"] == css_rgb("#00695c")
    assert seen["body"] == css_rgb("#f7f9fb")
    alerts = {cls.split()[-1]: bg for cls, bg in seen["alerts"]}
    for name, value in [
        ("info", "#0277bd"),
        ("success", "#2e7d32"),
        ("warning", "#ef6c00"),
        ("error", "#c62828"),
    ]:
        assert alerts[f"bg-{name}"] == css_rgb(value)
    assert seen["footerVisible"] and seen["phoneVisible"]
    assert "(617) 555-0142" in seen["footer"]
    assert "billing@harbor.example.com" in seen["footer"]
    assert "Billing office hours are 8am to 5pm." in seen["footer"]
    assert seen["phoneHref"] == "tel:+16175550142"
    assert seen["sms"] == "Harbor code ${mfa.code}"
    assert seen["emailFrame"]

    png = screenshot(page, tmp_path / "harbor.png", width=1280, height=1600)
    image = Image.open(png).convert("RGB")
    left, top, _width, height = seen["primaryButtonRect"]
    assert image.getpixel((int(left) + 3, int(top + height / 2))) == (0x00, 0x69, 0x5C)


def test_show_options_switch_account_panels(harbor: Path, repo: Path, run_pops: Run) -> None:
    shown = probe(harbor / "harbor" / "index.html")["shown"]
    assert "escrow" in shown and "escrow-off" not in shown
    assert "current-balance-off" in shown and "current-balance" not in shown
    assert "insurance-pending" in shown and "cvv" in shown and "apple-pay" in shown
    assert "google-pay" not in shown and "save-card" not in shown

    write_group(
        repo,
        "harbor",
        FULL.replace("show_escrow: true", "show_escrow: false")
        .replace("show_current_balance: false", "show_current_balance: true")
        .replace("show_insurance_pending: true", "show_insurance_pending: false"),
    )
    assert run_pops("preview", "--out", "site", cwd=repo).returncode == 0
    shown = probe(harbor / "harbor" / "index.html")["shown"]
    assert "escrow-off" in shown and "current-balance" in shown
    assert "insurance-pending" not in shown


def test_contrast_table_matches_wcag(harbor: Path) -> None:
    rows = {row[0]: row for row in probe(harbor / "harbor" / "index.html")["contrast"]}
    warning = rows["Warning text and outlines on the background"]
    ratio = colors.contrast_ratio("#ef6c00", "#f7f9fb")
    assert ratio < 3
    assert warning[3] == f"{int(ratio * 100) / 100:.2f}:1"
    assert warning[4] == "✗ fail" and warning[5] == "✗ fail"
    primary = rows["Text on primary buttons and alerts"]
    assert colors.contrast_ratio("#ffffff", "#00695c") >= 4.5
    assert primary[4] == "✓ pass" and primary[5] == "✓ pass"


def test_admin_text_is_escaped_never_run(repo: Path, run_pops: Run) -> None:
    text = FULL.replace(
        "name: Harbor Health Partners", 'name: "<script>alert(1)</script> {{ 7*7 }}"'
    ).replace("Billing office hours are 8am to 5pm.", "<b>bold</b> {% if 1 %}x{% endif %}")
    write_group(repo, "harbor", text)
    assert run_pops("preview", "--out", "site", cwd=repo).returncode == 0
    for page in ("site/harbor/index.html", "site/index.html"):
        html = (repo / page).read_text()
        assert "<script>alert" not in html and "<b>bold" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in html
    page = (repo / "site/harbor/index.html").read_text()
    assert "&lt;b&gt;bold&lt;/b&gt; {% if 1 %}x{% endif %}" in page


def test_dark_theme_and_minimal_group(repo: Path, run_pops: Run) -> None:
    write_group(repo, "night", "name: Night Clinic\ntheme:\n  dark: true\n")
    assert run_pops("preview", "--out", "site", cwd=repo).returncode == 0
    config = json.loads((repo / "site/night/config.json").read_text())
    seen = probe(repo / "site/night/index.html")
    assert seen["body"] == css_rgb(config["theme"]["colors"]["background"]) == css_rgb("#121212")
    assert seen["primaryButton"] == css_rgb("#90caf9")
    assert seen["sms"] is None and not seen["phoneVisible"]


def test_deterministic_and_replaced_whole(repo: Path, run_pops: Run) -> None:
    write_group(repo, "harbor", FULL)
    write_group(repo, "night", "name: Night Clinic\ntheme:\n  dark: true\n")
    assert run_pops("preview", "--out", "site", cwd=repo).returncode == 0
    first = all_files(repo / "site")
    (repo / "groups" / "night.yaml").unlink()
    assert run_pops("preview", "--out", "site", cwd=repo).returncode == 0
    assert not (repo / "site" / "night").exists()
    write_group(repo, "night", "name: Night Clinic\ntheme:\n  dark: true\n")
    assert run_pops("preview", "--out", "site", cwd=repo).returncode == 0
    assert all_files(repo / "site") == first


def test_invalid_group_writes_nothing(repo: Path, run_pops: Run) -> None:
    write_group(repo, "harbor", FULL)
    assert run_pops("preview", "--out", "site", cwd=repo).returncode == 0
    before = all_files(repo / "site")
    write_group(repo, "harbor", FULL.replace("require_cvv: true", "require_cvv: yes"))
    done = run_pops("preview", "--out", "site", cwd=repo)
    assert done.returncode == 1
    assert "groups/harbor.yaml:" in done.stderr and "Traceback" not in done.stderr
    assert all_files(repo / "site") == before


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=60)


def test_base_compare_pages_for_changed_added_and_removed(repo: Path, run_pops: Run) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "admin@example.com")
    git(repo, "config", "user.name", "Admin")
    write_group(repo, "harbor", FULL)
    write_group(repo, "old", "name: Old Clinic\npayments:\n  credit_card: true\n")
    write_group(repo, "same", "name: Same Clinic\npayments:\n  google_pay: true\n")
    git(repo, "add", "groups")
    git(repo, "commit", "-q", "-m", "groups")
    write_group(repo, "harbor", FULL.replace('"#00695c"', '"#004d40"'))
    (repo / "groups" / "old.yaml").unlink()
    write_group(repo, "new", "name: New Clinic\ntheme:\n  dark: true\n")

    done = run_pops("preview", "--base", "main", "--out", "site", cwd=repo)
    assert done.returncode == 0, done.stderr
    site = repo / "site"
    assert (site / "harbor/compare.html").is_file() and (site / "harbor/base/index.html").is_file()
    assert not (site / "same").exists(), "with --base, only changed groups get pages"
    removed = (site / "old/compare.html").read_text()
    assert 'src="base/index.html"' in removed and "Group removed" in removed
    added = (site / "new/compare.html").read_text()
    assert "New group: nothing before." in added and 'src="index.html"' in added
    compare = (site / "harbor/compare.html").read_text()
    assert "Theme › Primary Colors" in compare and "#004d40" in compare
    index = (site / "index.html").read_text()
    assert 'href="harbor/compare.html"' in index and "unchanged" in index
    before = probe(site / "harbor/base/index.html")
    after = probe(site / "harbor/index.html")
    assert before["primaryButton"] == css_rgb("#00695c")
    assert after["primaryButton"] == css_rgb("#004d40")

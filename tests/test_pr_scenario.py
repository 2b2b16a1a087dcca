"""Issue 3, "Done when": a group pull request reviewed end to end, as CI and a reviewer see it.

A repo has groups on `main`; a branch changes one colour and one checkbox. The PR
comment (`pops diff --format markdown`) must name exactly those two settings and the
`dist/` files they change, and `pops preview --base main` must draw before and after
pages whose screenshot shows the new colour on the after side only.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from browser import screenshot
from conftest import Run, write_group
from PIL import Image

OLD, NEW = "#1976d2", "#0b5cad"

SUNRISE = f"""\
# yaml comments survive; reviewers never need to read this file.
name: Sunrise Pediatrics
theme:
  colors:
    primary: "{OLD}"
payments:
  credit_card: true
  require_cvv: false
look_and_feel:
  footer:
    phone: "+1 212 555 0199"
    text: Contact our office with any questions.
authentication:
  mfa:
    enabled: true
    success_role: authorized_patient
    email_subject: Your Sunrise verification code
    email_body: |
      Your verification code is ${{mfa.code}}.
    sms_message: "Sunrise code: ${{mfa.code}}"
notifications:
  email_from: no-reply@sunrise.example.com
"""

LAKESIDE = "name: Lakeside Family Clinic\npayments:\n  credit_card: true\n"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, timeout=60
    )
    return done.stdout.strip()


def rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def test_group_pull_request_end_to_end(repo: Path, run_pops: Run, tmp_path: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "admin@example.com")
    git(repo, "config", "user.name", "Admin")
    write_group(repo, "sunrise-pediatrics", SUNRISE)
    write_group(repo, "lakeside-clinic", LAKESIDE)
    git(repo, "add", "groups")
    git(repo, "commit", "-q", "-m", "Groups on main")
    git(repo, "update-ref", "refs/remotes/origin/main", "main")  # as in a CI checkout

    git(repo, "checkout", "-q", "-b", "sunrise-darker-blue")
    changed = SUNRISE.replace(OLD, NEW).replace("require_cvv: false", "require_cvv: true")
    write_group(repo, "sunrise-pediatrics", changed)
    git(repo, "commit", "-q", "-am", "Sunrise: darker blue, ask for the CVV")

    # The PR comment CI posts.
    done = run_pops("diff", "--format", "markdown", cwd=repo)
    assert done.returncode == 0, done.stderr
    comment = done.stdout
    head = "### POPS groups: 1 changed against the merge-base with <code>origin/main</code> ("
    assert comment.startswith(head)
    setting_rows = re.findall(r"^\| ([^|]+›[^|]+) \| (.+?) \| (.+?) \|$", comment, re.M)
    assert setting_rows == [
        ("Theme › Primary Colors", f"`{OLD}`", f"`{NEW}`"),
        ("Payments › Require CVV", "off", "on"),
    ]
    files = re.findall(r"^- (added|removed|changed) `([^`]+)`$", comment, re.M)
    assert files == [
        ("changed", "groups/sunrise-pediatrics/config.json"),
        ("changed", "groups/sunrise-pediatrics/mfa/email.html"),
        ("changed", "groups/sunrise-pediatrics/theme.css"),
    ]
    assert "changed `dist/manifest.json`" in comment
    assert "lakeside" not in comment
    assert comment.index("| Group |") < comment.index("<details>")
    assert comment.count("<details>") == comment.count("</details>") == 1

    # The exit code CI can gate on.
    assert run_pops("diff", "--exit-code", cwd=repo).returncode == 1

    # The picture reviewers open.
    done = run_pops("preview", "--base", "main", "--out", "preview", cwd=repo)
    assert done.returncode == 0, done.stderr
    site = repo / "preview"
    page = site / "sunrise-pediatrics" / "compare.html"
    assert page.is_file()
    assert (site / "sunrise-pediatrics" / "base" / "index.html").is_file()
    assert not (site / "lakeside-clinic" / "compare.html").exists()

    png = screenshot(page, tmp_path / "before-after.png", width=1600, height=1400)
    image = Image.open(png).convert("RGB")
    width, height = image.size
    left = image.crop((0, 0, width // 2, height))
    right = image.crop((width // 2, 0, width, height))

    def count(img: Image.Image, color: str) -> int:
        found = img.getcolors(img.width * img.height) or []
        return next((n for n, pixel in found if pixel == rgb(color)), 0)

    assert count(right, NEW) > 5_000, "the after side does not show the new primary"
    assert count(left, OLD) > 5_000, "the before side does not show the old primary"
    # Elsewhere each colour shows only as a 16x16 swatch (inside its border) where the
    # change is listed: the table's "after" cell and the before page's list on the left,
    # the after page's list on the right.
    swatch = 16 * 16
    assert count(left, NEW) == 2 * swatch and count(right, OLD) == swatch

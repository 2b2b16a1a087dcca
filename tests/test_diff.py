"""`pops diff` against real git repositories: the plan a reviewer reads on a group PR."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import Run, write_group

from compiler.review.diff_report import format_markdown, md
from compiler.review.gitrefs import Base

SUNRISE = """\
name: Sunrise Pediatrics
theme:
  colors:
    primary: "#1976d2"
payments:
  credit_card: true
  require_cvv: false
look_and_feel:
  show_escrow: false
  footer:
    phone: "+1 212 555 0199"
    text: Call us with any questions.
authentication:
  mfa:
    enabled: true
    success_role: authorized_patient
    email_subject: Your code
    email_body: |
      Hello,

      Your code is ${mfa.code}.
    sms_message: "Code: ${mfa.code}"
notifications:
  email_from: no-reply@example.com
"""

HARBOR = """\
name: Harbor Dental
payments:
  credit_card: true
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def init_repo(repo: Path, groups: dict[str, str]) -> Path:
    """A git repo whose `main` holds these groups in one commit."""
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "admin@example.com")
    git(repo, "config", "user.name", "Admin")
    git(repo, "config", "commit.gpgsign", "false")
    for slug, text in groups.items():
        write_group(repo, slug, text)
    git(repo, "add", "groups")
    git(repo, "commit", "-q", "-m", "groups")
    return repo


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A", "groups")
    git(repo, "commit", "-q", "-m", message)


def diff_json(run_pops: Run, repo: Path, *args: str) -> dict[str, Any]:
    done = run_pops("diff", "--format", "json", *args, cwd=repo)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def by_slug(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["slug"]: g for g in data["groups"]}


def test_setting_changes_in_admin_terms(run_pops: Run, repo: Path) -> None:
    init_repo(repo, {"sunrise": SUNRISE, "harbor": HARBOR})
    git(repo, "checkout", "-q", "-b", "feature")
    text = SUNRISE.replace("#1976d2", "#0b5cad").replace("require_cvv: false", "require_cvv: true")
    write_group(repo, "sunrise", text)
    commit_all(repo, "darker blue, ask for CVV")

    done = run_pops("diff", "--base", "main", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "Theme › Primary Colors: #1976d2 → #0b5cad" in done.stdout
    assert "Payments › Require CVV: off → on" in done.stdout
    assert "harbor" not in done.stdout

    data = diff_json(run_pops, repo, "--base", "main")
    assert data["changed"] is True
    assert data["base"]["ref"] == "main"
    (group,) = data["groups"]
    assert group["status"] == "changed" and group["name"] == "Sunrise Pediatrics"
    assert [(s["path"], s["old"], s["new"]) for s in group["settings"]] == [
        ("theme.colors.primary", "#1976d2", "#0b5cad"),
        ("payments.require_cvv", False, True),
    ]
    files = {f["path"]: f["change"] for f in group["files"]}
    assert files == {
        "groups/sunrise/config.json": "changed",
        "groups/sunrise/theme.css": "changed",
        "groups/sunrise/mfa/email.html": "changed",  # the email is branded in the primary
    }
    assert data["files"] == [{"path": "manifest.json", "change": "changed"}]


def test_colour_respelled_is_not_a_change_but_the_edit_is_noted(run_pops: Run, repo: Path) -> None:
    init_repo(repo, {"sunrise": SUNRISE})
    write_group(repo, "sunrise", "# reviewed 2024\n" + SUNRISE.replace("#1976d2", "#1976D2"))
    data = diff_json(run_pops, repo)  # default base: HEAD, no origin/main here
    assert data["base"]["ref"] == "HEAD"
    (group,) = data["groups"]
    assert group["status"] == "edited"
    assert group["settings"] == [] and group["files"] == []


def test_mfa_text_change_is_a_unified_diff(run_pops: Run, repo: Path) -> None:
    init_repo(repo, {"sunrise": SUNRISE})
    write_group(repo, "sunrise", SUNRISE.replace("Your code is", "Your new code is"))
    done = run_pops("diff", "--format", "markdown", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "**Authentication › MFA Email Body**" in done.stdout
    assert "```diff\n--- before\n+++ after\n" in done.stdout
    assert "-Your code is ${mfa.code}.\n+Your new code is ${mfa.code}." in done.stdout
    assert "changed `groups/sunrise/mfa/email.txt`" in done.stdout


def test_added_removed_and_renamed_groups(run_pops: Run, repo: Path) -> None:
    init_repo(
        repo,
        {
            "sunrise": SUNRISE,
            "harbor": HARBOR,
            "old-name": HARBOR.replace("Harbor Dental", "Lakeside Clinic"),
        },
    )
    git(repo, "checkout", "-q", "-b", "reorganise")
    git(repo, "rm", "-q", "groups/harbor.yaml")
    git(repo, "mv", "groups/old-name.yaml", "groups/lakeside.yaml")
    write_group(repo, "bayview", "name: Bayview Family Care\ntheme:\n  dark: true\n")
    commit_all(repo, "reorganise")

    data = diff_json(run_pops, repo, "--base", "main")
    groups = by_slug(data)
    assert {slug: g["status"] for slug, g in groups.items()} == {
        "bayview": "added",
        "harbor": "removed",
        "lakeside": "renamed",
    }
    renamed = groups["lakeside"]
    assert renamed["previousFile"] == "groups/old-name.yaml"
    assert renamed["settings"] == []
    changes = {f["path"]: f["change"] for f in renamed["files"]}
    assert changes["groups/old-name/config.json"] == "removed"
    assert changes["groups/lakeside/config.json"] == "added"
    added = groups["bayview"]
    assert {s["path"] for s in added["settings"]} >= {"theme.dark", "theme.colors.primary"}
    assert {f["change"] for f in groups["harbor"]["files"]} == {"removed"}

    text = run_pops("diff", "--base", "main", cwd=repo).stdout
    assert "- groups/harbor.yaml: Harbor Dental (removed)" in text
    assert "→ groups/old-name.yaml → groups/lakeside.yaml: Lakeside Clinic (renamed)" in text


def test_base_with_an_invalid_group_is_reported_not_fatal(run_pops: Run, repo: Path) -> None:
    broken = SUNRISE.replace('"#1976d2"', "#1976d2")  # unquoted: YAML reads a comment
    init_repo(repo, {"sunrise": broken, "harbor": HARBOR})
    write_group(repo, "sunrise", SUNRISE)
    data = diff_json(run_pops, repo)
    (group,) = data["groups"]
    assert group["status"] == "fixed"
    assert group["baseErrors"] and group["baseErrors"][0]["file"] == "groups/sunrise.yaml"
    assert any(line.startswith('+    primary: "#1976d2"') for line in group["sourceDiff"])
    markdown = run_pops("diff", "--format", "markdown", cwd=repo).stdout
    assert "fixed (invalid at base)" in markdown
    assert "At the base this group had" in markdown


def test_base_group_extending_a_group_is_named_as_such(run_pops: Run, repo: Path) -> None:
    # The base's group files are held in memory, not written out: a group that
    # extends another group must still be told that `harbor` is a group (not that
    # no base `harbor` exists), at its file, line and column.
    init_repo(repo, {"sunrise": "extends: harbor\n" + SUNRISE, "harbor": HARBOR})
    write_group(repo, "sunrise", SUNRISE)
    data = diff_json(run_pops, repo)
    (group,) = data["groups"]
    assert group["status"] == "fixed"
    (error,) = group["baseErrors"]
    assert (error["file"], error["line"], error["column"]) == ("groups/sunrise.yaml", 1, 10)
    assert error["code"] == "extends-group"
    assert "`harbor` is a group" in error["message"]


def test_invalid_working_tree_exits_1_with_diagnostics(run_pops: Run, repo: Path) -> None:
    init_repo(repo, {"sunrise": SUNRISE})
    write_group(repo, "sunrise", SUNRISE.replace("require_cvv: false", "require_cvv: yes"))
    done = run_pops("diff", cwd=repo)
    assert done.returncode == 1
    assert "groups/sunrise.yaml:" in done.stderr and "type-bool" in done.stderr
    assert done.stdout == ""


def test_no_changes_and_exit_code(run_pops: Run, repo: Path) -> None:
    init_repo(repo, {"sunrise": SUNRISE})
    done = run_pops("diff", "--format", "markdown", "--exit-code", cwd=repo)
    assert done.returncode == 0
    assert done.stdout.count("\n") == 1 and "no changes" in done.stdout
    text = run_pops("diff", cwd=repo)
    assert text.returncode == 0 and text.stdout.startswith("No changes against HEAD (")

    write_group(repo, "sunrise", SUNRISE.replace("show_escrow: false", "show_escrow: true"))
    assert run_pops("diff", cwd=repo).returncode == 0
    changed = run_pops("diff", "--exit-code", cwd=repo)
    assert changed.returncode == 1
    assert "Look and Feel › Show Escrow: off → on" in changed.stdout


def test_default_base_is_the_merge_base_with_origin_main(run_pops: Run, repo: Path) -> None:
    init_repo(repo, {"sunrise": SUNRISE})
    git(repo, "update-ref", "refs/remotes/origin/main", "main")
    git(repo, "checkout", "-q", "-b", "feature")
    write_group(repo, "sunrise", SUNRISE.replace("show_escrow: false", "show_escrow: true"))
    commit_all(repo, "show escrow")
    git(repo, "checkout", "-q", "main")  # main moves on after the branch point
    write_group(repo, "harbor", HARBOR)
    commit_all(repo, "harbor")
    git(repo, "update-ref", "refs/remotes/origin/main", "main")
    git(repo, "checkout", "-q", "feature")

    data = diff_json(run_pops, repo)
    assert data["base"]["ref"] == "origin/main" and data["base"]["mergeBase"] is True
    assert data["base"]["commit"] == git(repo, "merge-base", "main", "feature")
    assert [g["slug"] for g in data["groups"]] == ["sunrise"]  # harbor is main's, not ours


def test_base_without_groups_folder_and_groups_option(run_pops: Run, tmp_path: Path) -> None:
    repo = tmp_path / "project"
    (repo / "config" / "groups").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "admin@example.com")
    git(repo, "config", "user.name", "Admin")
    (repo / "README").write_text("x\n")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "start")
    (repo / "config" / "groups" / "harbor.yaml").write_text(HARBOR)
    sub = repo / "config"
    done = run_pops("diff", "--groups", "groups", "--format", "json", cwd=sub)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [(g["slug"], g["status"]) for g in data["groups"]] == [("harbor", "added")]
    assert data["files"] == [{"path": "manifest.json", "change": "added"}]


def test_not_a_repository_or_unknown_ref_is_a_usage_error(run_pops: Run, repo: Path) -> None:
    write_group(repo, "harbor", HARBOR)
    outside = run_pops("diff", cwd=repo)
    assert outside.returncode == 2 and "Traceback" not in outside.stderr
    init_repo(repo, {"sunrise": SUNRISE})
    unknown = run_pops("diff", "--base", "no-such-branch", cwd=repo)
    assert unknown.returncode == 2
    assert "`no-such-branch` is not a commit" in unknown.stderr


def test_markdown_escapes_admin_text(run_pops: Run, repo: Path) -> None:
    init_repo(repo, {"sunrise": SUNRISE})
    evil = 'name: "<img src=x onerror=alert(1)> @octocat | *bold*"\n'
    write_group(
        repo,
        "sunrise",
        SUNRISE.replace("name: Sunrise Pediatrics\n", evil).replace(
            "Call us with any questions.", "See [here](https://evil.example) <script>"
        ),
    )
    markdown = run_pops("diff", "--format", "markdown", cwd=repo).stdout
    assert "<img" not in markdown and "<script>" not in markdown and "@octocat" not in markdown
    assert "](https://evil" not in markdown
    # (U+2060, an invisible joiner, keeps GitHub from linking the mention: md_safe.py)
    assert "&lt;img src=x onerror=alert\\(1\\)&gt; &#64;\u2060octocat \\| \\*bold\\*" in markdown


def test_markdown_is_capped_with_a_note(run_pops: Run, repo: Path) -> None:
    def body(word: str) -> str:
        lines = "".join(f"      {word} line {n} of a very long MFA email.\n" for n in range(80))
        return f"authentication:\n  mfa:\n    email_body: |\n      ${{mfa.code}}\n{lines}"

    init_repo(repo, {f"group-{i:03}": HARBOR + body("old") for i in range(60)})
    for i in range(60):
        write_group(repo, f"group-{i:03}", HARBOR + body("new"))
    full = run_pops("diff", "--format", "markdown", "--exit-code", cwd=repo)
    assert full.returncode == 1
    text = full.stdout
    assert 50_000 < len(text) <= 60_000
    assert 0 < text.count("<details>") < 60
    assert "this comment was cut to stay under 60,000 characters" in text
    assert text.index("| Group |") < text.index("<details>")
    assert text.count("| <code>group-") == 60  # the summary table is whole
    assert text.count("<details>") == text.count("</details>")


def test_markdown_cap_cuts_even_the_summary_table() -> None:
    from compiler.review.diff import DiffReport, GroupChange

    report = DiffReport(
        Base("main", "a" * 40),
        [GroupChange(f"g{i}", f"Group {i}", "removed", f"groups/g{i}.yaml") for i in range(200)],
        [],
    )
    text = format_markdown(report, limit=3_000)
    assert len(text) <= 3_000
    assert "left out of the table" in text


def test_md_escaping_unit() -> None:
    assert md("a|b") == "a\\|b"
    assert md("x & <y> @z") == "x &amp; &lt;y&gt; &#64;\u2060z"
    assert md("1.\n2") == "1\\.<br>2"


def test_output_is_deterministic(run_pops: Run, repo: Path) -> None:
    init_repo(repo, {"sunrise": SUNRISE, "harbor": HARBOR})
    write_group(repo, "sunrise", SUNRISE.replace("#1976d2", "#0b5cad"))
    (repo / "groups" / "harbor.yaml").unlink()
    first = run_pops("diff", "--format", "markdown", cwd=repo).stdout
    assert first == run_pops("diff", "--format", "markdown", cwd=repo).stdout


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_every_format_runs_on_a_rename_with_changes(run_pops: Run, repo: Path, fmt: str) -> None:
    init_repo(repo, {"sunrise": SUNRISE})
    git(repo, "mv", "groups/sunrise.yaml", "groups/sunrise-peds.yaml")
    write_group(repo, "sunrise-peds", SUNRISE.replace("show_escrow: false", "show_escrow: true"))
    done = run_pops("diff", "--format", fmt, cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "Show Escrow" in done.stdout

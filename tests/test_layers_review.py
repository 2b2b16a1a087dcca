"""Layers in the review and publish commands: diff, preview and publish with --env, and
what a shared-file edit does ("changing groups/_defaults.yaml (line 12) changes 2 groups").

Every test drives the installed `pops` in a real git repository in a temp folder.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from compiler.review.diff import line_changes
from tests.conftest import Run, write_group

# Line 12 is the footer text: the line the tests edit.
DEFAULTS = """\
# Shared by every practice of the billing office.
payments:
  credit_card: true
  require_cvv: true
look_and_feel:
  show_current_balance: true
  landing_page: account
  footer:
    email: billing@office.example.com
    phone: "+1 212 555 0199"
    # the footer every practice shows unless it says otherwise
    text: Questions? Call the billing office.
notifications:
  email_from: no-reply@office.example.com
"""
FOOTER_LINE = 12

CHAIN = """\
theme:
  colors:
    primary: "#283593"
"""

STAGING = """\
overlays:
  - groups: all
    values:
      notifications:
        email_from: no-reply@staging.example.com
  - groups: [bayside]
    values:
      payments:
        apple_pay: true
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A", "groups", "environments")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def office(repo: Path) -> Path:
    """main: defaults, a base `_chain`, four groups (two in the chain), a staging overlay."""
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "admin@example.com")
    git(repo, "config", "user.name", "Admin")
    git(repo, "config", "commit.gpgsign", "false")
    (repo / "groups" / "_defaults.yaml").write_text(DEFAULTS)
    (repo / "groups" / "_chain.yaml").write_text(CHAIN)
    write_group(repo, "alder", "name: Alder Clinic\n")
    write_group(repo, "bayside", "name: Bayside Dental\nextends: chain\n")
    write_group(repo, "cedar", "name: Cedar Pediatrics\nextends: chain\n")
    write_group(
        repo,
        "dunes",  # overrides the footer text, so a defaults edit of it does not reach it
        "name: Dunes Family Care\nlook_and_feel:\n  footer:\n    text: Dunes says hello.\n",
    )
    (repo / "environments").mkdir()
    (repo / "environments" / "staging.yaml").write_text(STAGING)
    commit(repo, "groups")
    return repo


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def diff_json(run_pops: Run, repo: Path, *args: str) -> dict[str, Any]:
    done = run_pops("diff", "--format", "json", *args, cwd=repo)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def settings(report: dict[str, Any], slug: str) -> dict[str, tuple[Any, Any]]:
    (group,) = [g for g in report["groups"] if g["slug"] == slug]
    return {s["path"]: (s["old"], s["new"]) for s in group["settings"]}


def test_diff_across_a_defaults_change(office: Path, run_pops: Run) -> None:
    edit(office / "groups/_defaults.yaml", "Call the billing office.", "Call us on weekdays.")
    done = run_pops("diff", cwd=office)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"3 groups: 3 changed against HEAD ({git(office, 'rev-parse', 'HEAD')[:7]})."
    assert lines[1] == (
        f"changing groups/_defaults.yaml (line {FOOTER_LINE}) changes 3 groups: "
        "alder, bayside, cedar"
    )
    assert "dunes" not in done.stdout  # it sets its own footer text
    change = (
        "    Look and Feel › Footer Text: Questions? Call the billing office. "
        "→ Questions? Call us on weekdays."
    )
    for slug in ("alder", "bayside", "cedar"):
        block = done.stdout.split(f"groups/{slug}.yaml:", 1)[1].split("\n\n", 1)[0]
        assert change in block.splitlines()
        assert f"~ groups/{slug}/config.json" in block

    report = diff_json(run_pops, office)
    (shared,) = report["shared"]
    assert shared == {
        "file": "groups/_defaults.yaml",
        "kind": "defaults",
        "change": "changed",
        "lines": [[FOOTER_LINE, FOOTER_LINE]],
        "removedLines": [],
        "environment": None,
        "groups": ["alder", "bayside", "cedar"],
        "summary": lines[1],
    }
    assert [g["slug"] for g in report["groups"]] == ["alder", "bayside", "cedar"]
    for slug in ("alder", "bayside", "cedar"):
        assert settings(report, slug) == {
            "look_and_feel.footer.text": (
                "Questions? Call the billing office.",
                "Questions? Call us on weekdays.",
            )
        }

    markdown = run_pops("diff", "--format", "markdown", cwd=office).stdout
    head = markdown.split("| Group |", 1)[0]
    assert (
        f"- changing <code>groups/_defaults.yaml</code> (line {FOOTER_LINE}) changes "
        "**3 groups**: <code>alder</code>, <code>bayside</code>, <code>cedar</code>"
    ) in head
    assert "Questions? Call us on weekdays" in markdown


def test_defaults_edit_with_removed_lines_and_many_groups(office: Path, run_pops: Run) -> None:
    for i in range(12):
        write_group(office, f"extra-{i:02d}", f"name: Extra {i}\n")
    commit(office, "more groups")
    edit(office / "groups/_defaults.yaml", "  require_cvv: true\n", "")
    edit(office / "groups/_defaults.yaml", "  landing_page: account\n", "  landing_page: visits\n")
    done = run_pops("diff", cwd=office)
    assert done.returncode == 0, done.stderr
    # landing_page moved up one line with require_cvv gone: new line 6; old line 4 removed
    assert done.stdout.splitlines()[1] == (
        "changing groups/_defaults.yaml (line 6; old line 4 removed) changes 16 groups: "
        "alder, bayside, cedar, dunes, extra-00 and 11 more"
    )
    report = diff_json(run_pops, office)
    assert len(report["shared"][0]["groups"]) == 16
    assert settings(report, "dunes") == {
        "payments.require_cvv": (True, False),
        "look_and_feel.landing_page": ("account", "visits"),
    }


def test_base_change_affects_only_the_groups_extending_it(office: Path, run_pops: Run) -> None:
    edit(office / "groups/_chain.yaml", "#283593", "#00695c")
    done = run_pops("diff", cwd=office)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == (
        "changing groups/_chain.yaml (line 3) changes 2 groups: bayside, cedar"
    )
    report = diff_json(run_pops, office)
    assert [s["file"] for s in report["shared"]] == ["groups/_chain.yaml"]
    assert [g["slug"] for g in report["groups"]] == ["bayside", "cedar"]
    for slug in ("bayside", "cedar"):
        assert settings(report, slug) == {"theme.colors.primary": ("#283593", "#00695c")}

    # A group that joins the chain in the same change gets the edited colour from it too;
    # one that leaves it is no longer changed by it.
    write_group(office, "alder", "name: Alder Clinic\nextends: chain\n")
    write_group(office, "cedar", "name: Cedar Pediatrics\n")
    report = diff_json(run_pops, office)
    assert report["shared"][0]["groups"] == ["alder", "bayside"]
    assert settings(report, "alder") == {"theme.colors.primary": ("#0065bd", "#00695c")}
    assert settings(report, "cedar") == {"theme.colors.primary": ("#283593", "#0065bd")}


def test_new_base_and_comment_only_edit(office: Path, run_pops: Run) -> None:
    (office / "groups/_west.yaml").write_text("payments:\n  google_pay: true\n")
    write_group(office, "dunes", (office / "groups/dunes.yaml").read_text() + "extends: west\n")
    edit(office / "groups/_defaults.yaml", "# the footer every", "# The footer every")
    report = diff_json(run_pops, office)
    summaries = [s["summary"] for s in report["shared"]]
    assert summaries == [
        f"changing groups/_defaults.yaml (line {FOOTER_LINE - 1}) changes no groups",
        "adding groups/_west.yaml changes 1 group: dunes",
    ]
    assert [g["slug"] for g in report["groups"]] == ["dunes"]

    git(office, "checkout", "-q", "--", "groups")
    (office / "groups/_west.yaml").unlink()
    edit(office / "groups/_defaults.yaml", "# the footer every", "# The footer every")
    # A comment changes no group; only the manifest's inputsDigest (as `pops build` would).
    done = run_pops("diff", cwd=office)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"0 groups: no group changes against HEAD ({git(office, 'rev-parse', 'HEAD')[:7]}).",
        f"changing groups/_defaults.yaml (line {FOOTER_LINE - 1}) changes no groups",
        "",
        "~ dist/manifest.json",
    ]
    markdown = run_pops("diff", "--format", "markdown", cwd=office).stdout
    assert "changes **no groups**" in markdown.split("Also:", 1)[0]

    # Nothing changed at all: no shared line, no manifest change (the base is exported to a
    # temporary folder, and the manifest does not depend on where the sources were read).
    git(office, "checkout", "-q", "--", "groups")
    done = run_pops("diff", "--exit-code", cwd=office)
    assert done.returncode == 0, done.stdout
    assert done.stdout == f"No changes against HEAD ({git(office, 'rev-parse', 'HEAD')[:7]}).\n"


def test_base_with_an_invalid_group_still_uses_the_layers(office: Path, run_pops: Run) -> None:
    broken = "name: Cedar Pediatrics\nextends: chain\npayments:\n  apple_pay: 1\n"
    write_group(office, "cedar", broken)
    commit(office, "break cedar")
    write_group(office, "cedar", "name: Cedar Pediatrics\nextends: chain\n")
    report = diff_json(run_pops, office)
    # the other groups are built with their defaults and base on both sides: unchanged
    assert [(g["slug"], g["status"]) for g in report["groups"]] == [("cedar", "fixed")]
    assert report["shared"] == []


def test_diff_with_env(office: Path, run_pops: Run) -> None:
    assert run_pops("build", cwd=office).returncode == 0  # dist/ and dist/staging/ in the tree
    git(office, "add", "dist")
    git(office, "commit", "-q", "-m", "dist")
    edit(office / "environments/staging.yaml", "[bayside]", "[bayside, cedar]")

    staged = diff_json(run_pops, office, "--env", "staging")
    assert staged["environment"] == "staging"
    assert [s["summary"] for s in staged["shared"]] == [
        "changing environments/staging.yaml (line 6) changes 1 group: cedar"
    ]
    assert [g["slug"] for g in staged["groups"]] == ["cedar"]
    assert settings(staged, "cedar") == {"payments.apple_pay": (False, True)}
    text = run_pops("diff", "--env", "staging", cwd=office).stdout
    assert "changed in environment staging against HEAD" in text.splitlines()[0]
    assert "    dist/staging/ files:\n      ~ groups/cedar/config.json" in text
    assert "~ dist/staging/manifest.json" in text

    # The base build does not read overlays: no group changes, but the edit is named.
    base = run_pops("diff", cwd=office)
    assert base.returncode == 0, base.stderr
    assert base.stdout.splitlines() == [
        f"No changes against HEAD ({git(office, 'rev-parse', 'HEAD')[:7]}).",
        "changing environments/staging.yaml (line 6) changes 1 group in environment staging: "
        "cedar (details: pops diff --env staging)",
    ]

    # A defaults edit shows in the environment build too, with its overlay still applied.
    edit(office / "groups/_defaults.yaml", "credit_card: true", "credit_card: false")
    staged = diff_json(run_pops, office, "--env", "staging")
    assert [s["file"] for s in staged["shared"]] == [
        "groups/_defaults.yaml",
        "environments/staging.yaml",
    ]
    assert staged["shared"][0]["groups"] == ["alder", "bayside", "cedar", "dunes"]
    assert settings(staged, "bayside")["payments.credit_card"] == (True, False)
    assert "payments.apple_pay" not in settings(staged, "bayside")

    unknown = run_pops("diff", "--env", "prod", cwd=office)
    assert unknown.returncode == 2
    assert "no environment `prod`" in unknown.stderr and "staging" in unknown.stderr


def test_diff_with_env_new_at_this_change_and_custom_folder(office: Path, run_pops: Run) -> None:
    (office / "envs").mkdir()
    (office / "envs/qa.yaml").write_text(
        "overlays:\n  - groups: [alder]\n    values:\n      payments:\n        google_pay: true\n"
    )
    report = diff_json(run_pops, office, "--env", "qa", "--environments", "envs")
    assert [s["summary"] for s in report["shared"]] == [
        "adding envs/qa.yaml changes 1 group: alder"
    ]
    assert settings(report, "alder") == {"payments.google_pay": (False, True)}


def test_preview_with_env(office: Path, run_pops: Run) -> None:
    edit(office / "environments/staging.yaml", "[bayside]", "[bayside, cedar]")
    done = run_pops("preview", "--env", "staging", "--base", "HEAD", "--out", "pv", cwd=office)
    assert done.returncode == 0, done.stderr
    index = (office / "pv/index.html").read_text()
    assert "environment staging" in index
    assert "1 of 4 groups changed" in index
    assert (office / "pv/cedar/compare.html").is_file()
    assert not (office / "pv/alder/compare.html").exists()
    after = json.loads((office / "pv/cedar/config.json").read_text())
    before = json.loads((office / "pv/cedar/base/config.json").read_text())
    assert after["notifications"]["emailFrom"] == "no-reply@staging.example.com"
    assert (before["payments"]["applePay"], after["payments"]["applePay"]) == (False, True)

    plain = run_pops("preview", "--out", "plain", cwd=office)
    assert plain.returncode == 0, plain.stderr
    config = json.loads((office / "plain/cedar/config.json").read_text())
    assert config["notifications"]["emailFrom"] == "no-reply@office.example.com"
    assert run_pops("preview", "--env", "prod", cwd=office).returncode == 2


def test_publish_env_to_a_folder(office: Path, run_pops: Run, tmp_path: Path) -> None:
    build = run_pops("build", cwd=office)
    assert build.returncode == 0, build.stderr
    staging_site, base_site = tmp_path / "staging-site", tmp_path / "base-site"

    done = run_pops("publish", "--target", staging_site.as_uri(), "--env", "staging", cwd=office)
    assert done.returncode == 0, done.stderr
    assert "groups: 4 added" in done.stdout
    live = staging_site / "current/groups"
    assert sorted(p.name for p in live.iterdir()) == ["alder", "bayside", "cedar", "dunes"]
    config = json.loads((live / "bayside/config.json").read_text())
    assert config["notifications"]["emailFrom"] == "no-reply@staging.example.com"
    assert config["payments"]["applePay"] is True

    # Without --env only the base build goes out; dist/staging/ is another build, not extra files.
    done = run_pops("publish", "--target", base_site.as_uri(), cwd=office)
    assert done.returncode == 0, done.stderr
    assert not (base_site / "current/staging").exists()
    config = json.loads((base_site / "current/groups/bayside/config.json").read_text())
    assert config["notifications"]["emailFrom"] == "no-reply@office.example.com"
    assert len(json.loads((office / "dist/manifest.json").read_text())["groups"]) == 4

    # A defaults edit: publish --env rebuilds dist/staging/ first and ships the change.
    edit(office / "groups/_defaults.yaml", "credit_card: true", "credit_card: false")
    done = run_pops("publish", "--target", staging_site.as_uri(), "--env", "staging", cwd=office)
    assert done.returncode == 0, done.stderr
    assert "dist/staging was stale" in done.stdout and "4 changed" in done.stdout
    config = json.loads((live / "alder/config.json").read_text())
    assert config["payments"]["creditCard"] is False

    unknown = run_pops("publish", "--target", staging_site.as_uri(), "--env", "prod", cwd=office)
    assert unknown.returncode == 2 and "no environment `prod`" in unknown.stderr

    # --environments names another folder of overlays, passed through to the build.
    (office / "envs").mkdir()
    (office / "envs/qa.yaml").write_text(
        "overlays:\n  - groups: all\n    values:\n      payments:\n        google_pay: true\n"
    )
    qa_site = tmp_path / "qa-site"
    done = run_pops(
        "publish", "--target", qa_site.as_uri(), "--env", "qa", "--environments", "envs",
        cwd=office,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    config = json.loads((qa_site / "current/groups/dunes/config.json").read_text())
    assert config["payments"]["googlePay"] is True


def test_build_check_stays_exact_after_a_defaults_change(office: Path, run_pops: Run) -> None:
    assert run_pops("build", cwd=office).returncode == 0
    assert run_pops("build", "--check", cwd=office).returncode == 0
    edit(office / "groups/_defaults.yaml", "Call the billing office.", "Call us on weekdays.")
    check = run_pops("build", "--check", cwd=office)
    assert check.returncode == 1
    stale = [line.split() for line in check.stdout.splitlines()]
    expected = [
        f"dist/{env}groups/{slug}/config.json"
        for env in ("", "staging/")
        for slug in ("alder", "bayside", "cedar")
    ]
    expected += ["dist/manifest.json", "dist/staging/manifest.json"]
    assert sorted(stale) == sorted(["changed", path] for path in expected)
    assert "dist/ is stale: 8 file(s) differ" in check.stderr

    # A base edit reaches only its family; a removed base's groups leave nothing stale behind.
    assert run_pops("build", cwd=office).returncode == 0
    edit(office / "groups/_chain.yaml", "#283593", "#00695c")
    check = run_pops("build", "--check", "--env", "staging", cwd=office)
    assert check.returncode == 1
    assert sorted(line.split()[1] for line in check.stdout.splitlines()) == [
        "dist/staging/groups/bayside/config.json",
        "dist/staging/groups/bayside/theme.css",
        "dist/staging/groups/cedar/config.json",
        "dist/staging/groups/cedar/theme.css",
        "dist/staging/manifest.json",
    ]
    assert run_pops("build", cwd=office).returncode == 0
    assert run_pops("build", "--check", cwd=office).returncode == 0


def test_line_changes_unit() -> None:
    assert line_changes(b"a\nb\nc\n", b"a\nB\nc\n") == ([(2, 2)], [])
    assert line_changes(b"a\nb\nc\n", b"a\nc\n") == ([], [(2, 2)])
    assert line_changes(b"a\n", b"a\nb\nc\n") == ([(2, 3)], [])
    assert line_changes(b"", b"x\n") == ([(1, 1)], [])

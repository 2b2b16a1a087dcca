"""The markdown plan as GitHub renders it: inert admin text, and a comment that always fits.

Rendered with cmarkgfm (GitHub's own cmark-gfm, with its extensions: autolink,
tables, strikethrough, tag filter), raw HTML let through as GitHub does before
sanitising. GitHub also links `@name`, `#123` and `GH-1` on its server, which
cmark-gfm does not: the text a reader sees outside code must hold none of them
in a form those patterns match, and must still read exactly as the admin wrote it.
"""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from conftest import Run, write_group

from compiler.integrations import github_action
from compiler.review.md_safe import JOINER

EXTENSIONS = ["autolink", "table", "strikethrough", "tagfilter", "tasklist"]
DANGER = re.compile(r"@\w|#\d|\bGH-\d|\w://|\bwww\.", re.IGNORECASE)

FOOTER = "Write to billing@example.com, see https://evil.example or www.evil.example (#12, GH-3)"
NAME = "Sunrise @front-desk #4 GH-1"


def render(markdown: str) -> str:
    return str(
        cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    )


def visible(rendered: str) -> str:
    """The text a reader sees outside code (code is never linked), joiners dropped."""
    text = re.sub(r"<(code|pre)>.*?</\1>", " ", rendered, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=120)


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A", "groups")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message)


def test_no_admin_value_becomes_a_link_or_a_mention(run_pops: Run, repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    write_group(repo, "sunrise", 'name: "Sunrise"\n')
    commit(repo, "base")
    write_group(
        repo,
        "sunrise",
        f'name: "{NAME}"\nlook_and_feel:\n  footer:\n    text: "{FOOTER}"\n'
        "notifications:\n  email_from: billing@example.com\n",
    )
    done = run_pops("diff", "--base", "main", "--format", "markdown", cwd=repo)
    assert done.returncode == 0, done.stderr
    rendered = render(done.stdout)
    assert "<a " not in rendered and "<a>" not in rendered
    seen = visible(rendered)
    assert DANGER.findall(seen) == []
    shown = seen.replace(JOINER, "")
    for value in (NAME, FOOTER, "billing@example.com"):
        assert value in shown  # the reader sees every character the admin wrote


# --- a shared default changed on 3,000 groups -----------------------------------------------

COUNT = 3_000


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """3,000 groups; the working tree changes one line of `_defaults.yaml` (the primary)."""
    repo = tmp_path_factory.mktemp("fleet")
    (repo / "groups").mkdir()
    git(repo, "init", "-q", "-b", "main")
    defaults = repo / "groups" / "_defaults.yaml"
    defaults.write_text('theme:\n  colors:\n    primary: "#1565c0"\n')
    for i in range(COUNT):
        write_group(repo, f"clinic-{i:04}", f'name: "Clinic {i} @ops"\n')
    commit(repo, "base")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    defaults.write_text('theme:\n  colors:\n    primary: "#0d47a1"\n')
    yield repo, head


def test_a_change_to_every_group_is_summarised_by_setting(
    run_pops: Run, fleet: tuple[Path, str]
) -> None:
    repo, _ = fleet
    done = run_pops("diff", "--base", "main", "--format", "markdown", cwd=repo)
    assert done.returncode == 0, done.stderr
    comment = done.stdout
    assert len(comment) < 60_000
    assert comment.startswith(f"### POPS groups: {COUNT:,} changed against <code>main</code>")
    assert (
        f"- **Theme › Primary Colors** changed on {COUNT:,} groups: "
        f"`#1565c0` → `#0d47a1` ({COUNT:,})" in comment
    )
    assert "changes **3000 groups**" in comment  # the shared file is named first
    assert "this comment was cut to stay under 60,000 characters" in comment
    rendered = render(comment)
    assert "<a " not in rendered
    assert DANGER.findall(visible(rendered)) == []


def test_the_action_posts_the_summary_and_keeps_the_full_report(
    fleet: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, base_sha = fleet
    monkeypatch.chdir(repo)
    inputs = github_action.Inputs(env=None, strict=False, comment=True, groups="groups")
    result = github_action.Result()
    github_action.plan(inputs, base_sha, result)
    assert result.changed == COUNT
    assert len(result.plan) < 60_000
    assert github_action.FULL_REPORT_NOTE in result.plan
    assert result.full.count("<details>") == COUNT  # every group in detail
    path = github_action.write_report({"RUNNER_TEMP": str(tmp_path)}, result.full)
    assert path == str(tmp_path / "pops-diff.md")
    assert Path(path).read_text(encoding="utf-8") == result.full
    summary = github_action.summary_text(result)
    assert (
        summary == (result.full if len(result.full.encode()) <= 1_000_000 else result.plan) + "\n"
    )

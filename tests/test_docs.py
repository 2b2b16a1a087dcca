"""The documentation says what is true: its links lead somewhere, the rule ids it lists
exist, the README stays short, and the README's tour prints what it shows when replayed
with the installed `pops`."""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

from compiler.codes import catalogue
from tests.conftest import REPO, pops_executable

PAGES = sorted([REPO / "README.md", REPO / "bench" / "README.md", *(REPO / "docs").glob("*.md")])
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def prose(text: str) -> str:
    """The page without its fenced code blocks, where `[x](y)` and `# x` are not Markdown."""
    return FENCE.sub("", text)


def anchor(heading: str) -> str:
    """GitHub's id for a heading: inline markup dropped, lower case, punctuation removed
    (hyphens and underscores kept), each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").strip().lower()
    kept = "".join(
        ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in ("L", "N", "M")
    )
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found: set[str] = set()
    for match in HEADING.finditer(prose(page.read_text(encoding="utf-8"))):
        base = anchor(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(page: Path) -> list[str]:
    targets = LINK.findall(prose(page.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path, _, fragment = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no file {dest.relative_to(REPO)}")
        elif fragment and dest.exists() and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(f"{target}: no heading #{fragment} in {dest.relative_to(REPO)}")
    assert broken == [], f"{page.relative_to(REPO)}: broken links\n" + "\n".join(broken)


def test_the_link_checker_sees_broken_links(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# A `pops diff`: the plan\n\n[ok](#a-pops-diff-the-plan) [gone](missing.md) "
        "[bad](#nowhere) ![img](pic.png) [web](https://example.com)\n\n"
        "```md\n[in code](not-a-link.md)\n```\n",
        encoding="utf-8",
    )
    assert relative_links(page) == ["#a-pops-diff-the-plan", "missing.md", "#nowhere", "pic.png"]
    assert anchors(page) == {"a-pops-diff-the-plan"}


def test_the_rule_ids_the_docs_name_exist() -> None:
    """A code in backticks that looks like a rule id is one pops reports (docs never go
    stale when a rule is renamed or removed)."""
    known = set(catalogue())
    text = (REPO / "docs" / "group-format.md").read_text(encoding="utf-8")
    table_rows = [line for line in text.splitlines() if line.startswith("| `")]
    named = {
        code
        for row in table_rows
        for code in re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`", row.split("|")[1])
    }
    assert len(named) > 60
    assert named - known == set()


def test_the_readme_stays_short() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300


# --- the README's tour, replayed ---------------------------------------------------------

SITE = "/tmp/pops-site"
VOLATILE = [
    (re.compile(r"\b\d{8}T\d{6}Z-[0-9a-f]{12}\b"), "<release>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\b"), "<time>"),
    (re.compile(r"\b[0-9a-f]{7,40}\b"), "<commit>"),
    (re.compile(r"\b\d+(\.\d+)? KiB\b"), "<size>"),
]


def tour_steps() -> list[tuple[str, str, str]]:
    """("file", path, text) and ("run", command, expected output), in the tour's order."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("## A five-minute tour")
    section = readme[start : readme.index("\n## ", start + 1)]
    steps: list[tuple[str, str, str]] = []
    for block in re.finditer(r"^```(\w+)\n(.*?)^```$", section, re.MULTILINE | re.DOTALL):
        kind, body = block.group(1), block.group(2)
        if kind == "yaml":
            first = body.splitlines()[0]
            assert first.startswith("# "), "a tour file starts with `# <its path>`"
            steps.append(("file", first[2:], body))
            continue
        assert kind == "console"
        for chunk in re.split(r"^\$ ", body, flags=re.MULTILINE)[1:]:
            command, _, output = chunk.partition("\n")
            steps.append(("run", command, output))
    return steps


def normal(text: str, site: str) -> str:
    text = text.replace(site, SITE)
    for pattern, placeholder in VOLATILE:
        text = pattern.sub(placeholder, text)
    return text


def test_the_readme_tour_prints_what_it_shows(tmp_path: Path) -> None:
    work, site = tmp_path / "tour", str(tmp_path / "site")
    work.mkdir()
    env = {
        **os.environ,
        "PATH": f"{Path(pops_executable()).parent}{os.pathsep}{os.environ['PATH']}",
        **{
            f"GIT_{who}_{what}": value
            for who in ("AUTHOR", "COMMITTER")
            for what, value in (("NAME", "Admin"), ("EMAIL", "admin@example.com"))
        },
    }
    steps = tour_steps()
    assert sum(kind == "run" for kind, _, _ in steps) >= 10
    for kind, first, second in steps:
        if kind == "file":
            (work / first).write_text(second, encoding="utf-8")
            continue
        done = subprocess.run(
            ["bash", "-c", first.replace(SITE, site)],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
        assert normal(done.stdout, site) == normal(second, site), f"$ {first}"
    assert (work / "preview" / "sunrise" / "compare.html").is_file()


def test_the_architecture_page_names_every_package() -> None:
    """docs/architecture.md draws every package of compiler/, and no package that is gone."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = {p.parent.name for p in (REPO / "compiler").glob("*/__init__.py")}
    named = set(re.findall(r"(?<![\w.-])([a-z_]+)/(?![\w.])", text))
    named -= {"compiler", "groups", "dist", "environments"}
    assert packages <= named, f"not on the page: {sorted(packages - named)}"
    assert named <= packages, f"on the page but not in compiler/: {sorted(named - packages)}"

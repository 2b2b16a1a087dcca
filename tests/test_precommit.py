"""The pre-commit hooks of .pre-commit-hooks.yaml, through the real `pre-commit try-repo`.

try-repo installs this repository into a fresh hook environment (`pip install .`,
as every user's pre-commit does) and runs the hooks in a temporary groups
repository. Each run installs anew (a minute or two), so one run checks every
hook on good files and one on bad files. The bad run changes three groups: one
now extends a base whose colour is too light (reported at the base's line,
naming the group: the group is validated in its repository), one has a broken
colour, one has its keys out of order.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, pops_executable

ENV = {
    name: value
    for name, value in os.environ.items()
    if name not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
}
HOOKS = ["pops-validate", "pops-fmt", "pops-build-check"]

ALPHA = "name: Alpha\npayments:\n  credit_card: true\n"
BASE = 'theme:\n  colors:\n    primary: "#eeeeee"\n'  # too light on white: only a group shows it
BETA = "extends: clinic\nname: Beta\npayments:\n  credit_card: true\n"  # formatted
GAMMA = 'name: Gamma\ntheme:\n  colors:\n    primary: "#12"\npayments:\n  credit_card: true\n'
DELTA = "payments:\n  credit_card: true\nname: Delta\n"  # keys out of order


def pre_commit() -> str:
    candidate = Path(sys.executable).parent / "pre-commit"
    if not candidate.exists():
        pytest.fail(f"`pre-commit` is not installed next to {sys.executable}; run `make venv`")
    return str(candidate)


def run(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**ENV, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env=env, timeout=900)


def git(*args: str, cwd: Path) -> None:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def hooks_run(output: str) -> dict[str, tuple[str, str]]:
    """{hook name: (Passed, Failed or Skipped, what it printed)} from pre-commit's output."""
    line = re.compile(r"^(pops[^.]*?)\.+(?:\([^)]*\))?(Passed|Failed|Skipped)$", re.M)
    marks = list(line.finditer(output))
    assert marks, output
    return {
        mark.group(1): (mark.group(2), output[mark.end() : nxt.start() if nxt else len(output)])
        for mark, nxt in zip(marks, [*marks[1:], None], strict=True)
    }


@pytest.fixture
def groups_repo(tmp_path: Path) -> Path:
    """A committed groups repository, built, with a base no group extends yet."""
    repo = tmp_path / "groups-repo"
    (repo / "groups").mkdir(parents=True)
    (repo / ".gitignore").write_text("/.pops-cache/\n")
    (repo / "groups/alpha.yaml").write_text(ALPHA)
    (repo / "groups/_clinic.yaml").write_text(BASE)
    built = subprocess.run([pops_executable(), "build"], cwd=repo, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "groups", cwd=repo)
    return repo


def test_manifest_is_valid_and_offers_the_three_hooks(tmp_path: Path) -> None:
    done = run(pre_commit(), "validate-manifest", ".pre-commit-hooks.yaml", cwd=REPO, home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == HOOKS
    assert {h["language"] for h in hooks} == {"python"}
    assert all(h["entry"].startswith("pops ") for h in hooks)


@pytest.mark.slow
def test_try_repo_passes_good_files_and_fails_bad_ones_with_located_messages(
    groups_repo: Path, tmp_path: Path
) -> None:
    home = tmp_path / "pre-commit-home"
    good = run(
        pre_commit(), "try-repo", str(REPO), "--files", "groups/alpha.yaml",
        cwd=groups_repo, home=home,
    )  # fmt: skip
    assert good.returncode == 0, good.stdout + good.stderr
    assert {name: result[0] for name, result in hooks_run(good.stdout).items()} == {
        "pops validate": "Passed",
        "pops fmt": "Passed",
        "pops build --check": "Passed",
    }

    for name, text in (("beta", BETA), ("gamma", GAMMA), ("delta", DELTA)):
        (groups_repo / f"groups/{name}.yaml").write_text(text)
    changed = ["groups/beta.yaml", "groups/gamma.yaml", "groups/delta.yaml"]
    git("add", *changed, cwd=groups_repo)  # staged, as for a commit: pre-commit sees fmt's edit
    bad = run(pre_commit(), "try-repo", str(REPO), "--files", *changed, cwd=groups_repo, home=home)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr
    hooks = hooks_run(bad.stdout)
    state, validate = hooks["pops validate"]
    assert state == "Failed"
    assert validate.strip().splitlines()[-3:] == [
        "groups/_clinic.yaml:3:14: error: theme.colors.primary: primary #eeeeee text on "
        "background #ffffff has contrast 1.16:1, under the 4.5:1 WCAG AA asks for text; "
        'patients see it in VBtn, VAlert, VChip variant="text", "outlined" or "plain"; '
        "`text-primary` links, on the page (buttons and links); 5 other pairs fail too; the "
        'nearest primary of the same hue that passes is "#6b6b6b" (breaks 1 group: beta) '
        "[contrast-low]",
        'groups/gamma.yaml:4:14: error: theme.colors.primary: "#12" is not a colour; write '
        '"#rgb" or "#rrggbb", e.g. "#1976d2" [color-invalid]',
        "2 errors, 0 warnings",
    ]
    # fmt put delta's keys in order and left the formatted files alone; pre-commit fails a
    # hook that changed files, so they are looked at and added again.
    state, fmt = hooks["pops fmt"]
    assert state == "Failed"
    assert "files were modified by this hook" in fmt
    assert fmt.strip().splitlines()[-1] == "reformatted groups/delta.yaml"
    assert (groups_repo / "groups/delta.yaml").read_text() == (
        "name: Delta\npayments:\n  credit_card: true\n"
    )
    assert (groups_repo / "groups/beta.yaml").read_text() == BETA
    assert (groups_repo / "groups/gamma.yaml").read_text() == GAMMA
    state, check = hooks["pops build --check"]
    assert state == "Failed"
    assert "dist/ was not checked: the groups have errors" in check

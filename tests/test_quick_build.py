"""The bare `pops build` and `pops build --check` CI runs skip click (compiler.cli.building.quick).

They must say, exit and write exactly what the same commands do through click,
in every state a repository can be in; and on an up-to-date repository they
must import nothing beyond the seal's few modules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Run, pops_executable, write_group
from tests.test_cache import GROUP, _tree
from tests.test_seal import STAGING

QUICK = {"build": ["build"], "check": ["build", "--check"]}
# The same commands with their defaults spelled out, which click parses.
CLICK = {
    "build": ["build", "--groups", "groups", "--out", "dist"],
    "check": [*QUICK["check"], "--out", "dist"],
}


def _repo(root: Path) -> Path:
    (root / "groups").mkdir(parents=True)
    for i in range(4):
        write_group(root, f"g{i}", GROUP.format(name=f"Group {i}"))
    (root / "groups/_brand.yaml").write_text('theme:\n  colors:\n    primary: "#00695c"\n')
    (root / "environments").mkdir()
    (root / "environments/staging.yaml").write_text(STAGING)
    return root


def _age(repo: Path) -> None:
    """Make every file older than the seal, as a moment after a build (see test_seal)."""
    for seal_file in (repo / ".pops-cache").glob("seal-*.bin"):
        later = seal_file.stat().st_mtime_ns + 5_000_000_000
        os.utime(seal_file, ns=(later, later))


STEPS: list[tuple[str, str, str | None]] = [
    # (what happens to the repository first, command, expected exit code as text)
    ("nothing: first build", "build", "0"),
    ("nothing", "build", "0"),
    ("nothing", "check", "0"),
    ("g1 renamed", "build", "0"),
    ("g1 renamed again", "check", "1"),
    ("nothing", "build", "0"),
    ("a group with a warning added", "build", "0"),
    ("nothing", "build", "0"),
    ("nothing", "check", "0"),
    ("g2 broken", "build", "1"),
    ("nothing", "check", "1"),
    ("g2 fixed", "build", "0"),
    ("dist/groups/g0/theme.css edited", "check", "1"),
    ("nothing", "build", "0"),
    ("a stray file in dist/groups/g3", "check", "1"),
    ("nothing", "build", "0"),
    ("nothing", "check", "0"),
    ("groups folder removed", "build", "2"),
]


def _apply(repo: Path, change: str) -> None:
    _age(repo)
    if change == "g1 renamed":
        write_group(repo, "g1", GROUP.format(name="Group One"))
    elif change == "g1 renamed again":
        write_group(repo, "g1", GROUP.format(name="Group Uno"))
    elif change == "a group with a warning added":
        write_group(repo, "quiet", "name: Quiet\npayments:\n  credit_card: false\n")
    elif change == "g2 broken":
        write_group(repo, "g2", "name: Broken\npayments:\n  credit_card: yes\n")
    elif change == "g2 fixed":
        write_group(repo, "g2", GROUP.format(name="Group 2"))
    elif change == "dist/groups/g0/theme.css edited":
        with open(repo / "dist/groups/g0/theme.css", "a") as handle:
            handle.write("/* by hand */\n")
    elif change == "a stray file in dist/groups/g3":
        (repo / "dist/groups/g3/notes.txt").write_text("left here\n")
    elif change == "groups folder removed":
        shutil.rmtree(repo / "groups")


def test_the_quick_path_says_and_writes_what_click_does(tmp_path: Path, run_pops: Run) -> None:
    quick, through_click = _repo(tmp_path / "quick"), _repo(tmp_path / "click")
    for change, command, code in STEPS:
        results = []
        for repo, argv in ((quick, QUICK[command]), (through_click, CLICK[command])):
            _apply(repo, change)
            proc = run_pops(*argv, cwd=repo)
            tree = _tree(repo / "dist") if (repo / "dist").is_dir() else {}
            results.append((str(proc.returncode), proc.stdout, proc.stderr, tree))
        step = f"after {change}: pops {command}"
        assert results[0] == results[1], step
        assert results[0][0] == code, f"{step}: {results[0][2]}"


def _imported(log: str) -> set[str]:
    return {
        line.rsplit("|", 1)[1].strip()
        for line in log.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_an_up_to_date_build_imports_only_the_seal(tmp_path: Path, run_pops: Run) -> None:
    """Checked with Python's own import log (PYTHONPROFILEIMPORTTIME), through `pops`.

    The seal was made by the same build spelled out for click: both ways name
    the seal alike, so either finds what the other left.
    """
    repo = _repo(tmp_path)
    assert run_pops(*CLICK["build"], cwd=repo).returncode == 0
    _age(repo)
    for argv in QUICK.values():
        proc = run_pops(*argv, cwd=repo, env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert proc.returncode == 0, proc.stderr
        imported = _imported(proc.stderr)
        assert "compiler.incremental.seal" in imported
        heavy = {"click", "pathlib", "dataclasses", "typing", "yaml", "pydantic", "jinja2"}
        assert not heavy & imported, sorted(heavy & imported)


@pytest.mark.parametrize("argv", [["build", "--jobs", "1"], ["build", "--check", "--strict"]])
def test_any_other_option_goes_through_click(tmp_path: Path, argv: list[str]) -> None:
    repo = _repo(tmp_path)
    assert (
        subprocess.run([pops_executable(), "build"], cwd=repo, capture_output=True).returncode == 0
    )
    _age(repo)
    proc = subprocess.run(
        [pops_executable(), *argv],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "click" in _imported(proc.stderr)

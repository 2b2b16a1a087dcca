"""Which git commit a build comes from, and whether the work tree had uncommitted changes.

A release records both, so `pops releases` can say what exactly is live and a repair
can say which commit to rebuild. Checked before publish's build-first step, so a
stale committed dist/ that publish rebuilds does not count as a change.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from compiler.publish.release import Source


@dataclass(frozen=True)
class SourceState:
    """The recorded Source plus what a warning shows: the first changed paths."""

    source: Source
    changed: list[str]
    reason: str = ""  # why there is no commit (not a work tree, no commit yet, no git)


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, timeout=120)


def read_source(where: Path) -> SourceState:
    """HEAD and `git status` of the work tree holding `where` (a folder, existing or not)."""
    folder = where.resolve()
    while not folder.is_dir():
        folder = folder.parent
    try:
        inside = _git(["rev-parse", "--is-inside-work-tree"], folder)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return SourceState(Source(None, None), [], "git is not available")
    if inside.returncode != 0 or inside.stdout.strip() != b"true":
        return SourceState(Source(None, None), [], f"{where} is not in a git work tree")
    head = _git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], folder)
    if head.returncode != 0:
        return SourceState(Source(None, None), [], f"{where} is in a git repository with no commit")
    status = _git(["status", "--porcelain=v1", "-z", "--untracked-files=normal"], folder)
    if status.returncode != 0:
        return SourceState(Source(None, None), [], "git status failed")
    changed = [
        entry[3:].decode("utf-8", "replace")
        for entry in status.stdout.split(b"\0")
        if len(entry) > 3 and entry[2:3] == b" "
    ]
    return SourceState(Source(head.stdout.decode().strip(), bool(changed)), changed)

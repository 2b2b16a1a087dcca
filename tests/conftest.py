"""Fixtures shared by every test: the installed `pops` executable and throwaway repos."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pops_executable() -> str:
    """The `pops` console script installed beside this interpreter (the real entry point)."""
    candidate = Path(sys.executable).parent / "pops"
    if not candidate.exists():
        pytest.fail(f"`pops` is not installed next to {sys.executable}; run `make test`")
    return str(candidate)


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_pops() -> Run:
    """Run the installed `pops` with arguments in a folder; returns the completed process."""

    def run(
        *args: str, cwd: Path, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [pops_executable(), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=300,
        )

    return run


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty project folder with a `groups/` directory."""
    (tmp_path / "groups").mkdir()
    return tmp_path


def write_group(repo: Path, slug: str, text: str | bytes) -> Path:
    path = repo / "groups" / f"{slug}.yaml"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path

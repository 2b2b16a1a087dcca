"""Fixtures shared by every test: the installed `pops` executable and throwaway repos."""

from __future__ import annotations

import os
import select
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


def run_on_terminal(*args: str, cwd: Path, timeout: float) -> tuple[int, bytes]:
    """Run `pops` with a pseudo-terminal as stdin, stdout and stderr; exit code and all it drew.

    Progress bars are meant for a person at a terminal, so only a real tty shows them.
    """
    leader, follower = os.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.Popen(
        [pops_executable(), *args],
        cwd=cwd,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    seen = b""
    while select.select([leader], [], [], timeout)[0]:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO once the last writer to the terminal has gone
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=timeout)
    os.close(leader)
    return proc.returncode, seen


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


# --- markers: what a test needs, so `make quick` can leave it out ------------------------
# `make test` runs everything; `make quick` runs `-m "not browser and not server and not
# slow"` (docs/contributing.md). Markers come from here alone: by module, by fixture, or by
# the test calling tests/browser.py itself, so test files need no decorators.
BROWSER, SERVER, SLOW = "browser", "server", "slow"

# The quick loop: the stages tested one at a time, each test a fraction of a second. Every
# other module is `slow`: whole builds and reviews through `pops` in throwaway repositories,
# killed processes, hostile file systems, wheels, state machines and Hypothesis searches,
# seconds each and many minutes together. A new module is slow until it is listed here.
QUICK_MODULES = {
    "test_cli_registry",
    "test_contrast",
    "test_docs",
    "test_formats",
    "test_golden",
    "test_layout",
    "test_load",
    "test_model",
    "test_model_speed",
    "test_publish_units",
    "test_render_speed",
    "test_rules",
    "test_schema",
    "test_theme_css",
}
MODULE_MARKERS: dict[str, tuple[str, ...]] = {
    "test_contrast_browser": (BROWSER,),  # the real Vuetify components in Chromium
    "test_email_browser": (BROWSER,),
    "test_pr_scenario": (BROWSER,),
    "test_portal_read_path": (BROWSER, SERVER),  # nginx, and a portal page in Chromium
    "test_publish_nginx": (SERVER,),
    "test_publish_s3": (SERVER,),
    "test_publish_intent": (SERVER,),  # half its cases are on SeaweedFS (`target` param)
}
FIXTURE_MARKERS: dict[str, tuple[str, ...]] = {
    "node": (BROWSER,),  # Node with the pinned Vuetify from npm
    "vuetify": (BROWSER,),
    "nginx": (SERVER,),
    "documented_nginx": (SERVER,),
    "seaweed": (SERVER,),
    "s3_target": (SERVER,),
    "server": (SERVER,),  # test_online's local HTTPS image server
}
TEST_MARKERS: dict[str, tuple[str, ...]] = {
    "test_theme_css.py::test_chromium_paints_from_theme_css_alone": (BROWSER,),
    "test_docs.py::test_the_readme_tour_prints_what_it_shows": (SLOW,),
    "test_render_speed.py::test_bench_groups_render_exactly_as_directly": (SLOW,),
    "test_render_speed.py::test_hostile_groups_render_exactly_as_directly": (SLOW,),  # Hypothesis
}


def _calls_the_browser(item: pytest.Function) -> bool:
    """The test calls a function of tests/browser.py (probe, screenshot) itself."""
    code = getattr(item.function, "__code__", None)
    found = item.function.__globals__ if code else {}
    return any(
        getattr(found.get(name), "__module__", "") in ("browser", "tests.browser")
        for name in (code.co_names if code else ())
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Apply the markers above."""
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        module = item.path.stem
        names = list(MODULE_MARKERS.get(module, ()))
        if module not in QUICK_MODULES:
            names.append(SLOW)
        names += TEST_MARKERS.get(f"{item.path.name}::{item.originalname}", ())
        for fixture in item.fixturenames:
            names += FIXTURE_MARKERS.get(fixture, ())
        if _calls_the_browser(item):
            names.append(BROWSER)
        for name in dict.fromkeys(names):
            item.add_marker(getattr(pytest.mark, name))

"""`pops diff`'s fleet-scale path tells the same story as the naive one, byte for byte.

The fast path (compiler.review.plan) skips groups that cannot differ, takes the
working tree from the build's seal when it vouches for dist/, and reuses the
base build for "this shared file alone" counts. None of that may hide or invent
a change: on random repositories (real git, random edits of defaults, bases,
overlays and groups, with and without a fresh `pops build`), its JSON report is
compared with a naive full compile of both sides.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.cli.building import run_build
from compiler.review import workers
from compiler.review.diff import compare
from compiler.review.diff_report import format_json
from compiler.review.gitrefs import resolve_base
from compiler.review.plan import plan_diff
from compiler.review.shared import shared_changes
from compiler.review.sides import compile_base, compile_side

Files = dict[str, str]  # path in the repository -> text

TEXTS = ["Call us.", "Write to billing@example.com", "See #12 or GH-3", "Ask @front-desk"]


def _values(draw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out.setdefault("payments", {})["credit_card"] = draw(st.booleans())
    if draw(st.booleans()):
        out.setdefault("look_and_feel", {})["show_escrow"] = draw(st.booleans())
    if draw(st.booleans()):
        footer = out.setdefault("look_and_feel", {}).setdefault("footer", {})
        footer["text"] = draw(st.sampled_from(TEXTS))
    if draw(st.integers(0, 24)) == 0:  # now and then an invalid value
        out.setdefault("payments", {})["apple_pay"] = "maybe"
    return out


def _yaml(data: dict[str, Any], depth: int = 0) -> str:
    lines = []
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{'  ' * depth}{key}:\n{_yaml(value, depth + 1)}")
        else:
            shown = str(value).lower() if isinstance(value, bool) else f'"{value}"'
            lines.append(f"{'  ' * depth}{key}: {shown}\n")
    return "".join(lines)


@st.composite
def states(draw: Any) -> Files:
    """One commit's groups/, with optional defaults, bases and an environment overlay."""
    files: Files = {}
    if draw(st.booleans()):
        files["groups/_defaults.yaml"] = "# shared\n" + _yaml(_values(draw))
    bases = draw(st.lists(st.sampled_from(["light", "cards"]), unique=True, max_size=2))
    for name in bases:
        files[f"groups/_{name}.yaml"] = _yaml(_values(draw)) or "{}\n"
    slugs = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), unique=True, min_size=1))
    for slug in slugs:
        head = {
            "name": draw(st.sampled_from([f"Group {slug}", f"{slug} @team #4 https://x.example"]))
        }
        text = _yaml(head)
        if bases and draw(st.booleans()):
            text += f"extends: {draw(st.sampled_from(bases))}\n"
        files[f"groups/{slug}.yaml"] = text + _yaml(_values(draw))
    if draw(st.booleans()):
        target = draw(st.sampled_from(["all", f"[{slugs[0]}]"]))
        files["environments/staging.yaml"] = (
            f"overlays:\n  - groups: {target}\n    values:\n"
            f"      payments:\n        credit_card: {str(draw(st.booleans())).lower()}\n"
        )
    return files


@st.composite
def edits(draw: Any, before: Files) -> Files:
    """The working tree: `before` with a few random edits (shared files, groups, renames)."""
    after = dict(before)
    for _ in range(draw(st.integers(1, 3))):
        paths = sorted(after)
        kind = draw(st.sampled_from(["edit", "remove", "rename", "redraw", "comment"]))
        if kind == "redraw" or not paths:
            after.update(draw(states()))
            continue
        path = draw(st.sampled_from(paths))
        if kind == "edit":
            after[path] = after[path].replace("true", "FALSE").replace("false", "true")
            after[path] = after[path].replace("FALSE", "false")
        elif kind == "comment":
            after[path] = "# edited\n" + after[path]
        elif kind == "remove":
            del after[path]
        elif path.startswith("groups/") and not path.startswith("groups/_"):
            after[path.replace(".yaml", "-x.yaml")] = after.pop(path)
    return after


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=60)


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def write(repo: Path, files: Files) -> None:
    for folder in ("groups", "environments"):
        for old in (repo / folder).glob("*.yaml") if (repo / folder).is_dir() else ():
            old.unlink()
    (repo / "groups").mkdir(exist_ok=True)
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")


def naive(env: str | None) -> str | None:
    """The slow, obvious report: both sides compiled whole, shared files counted one by one."""
    base = resolve_base("HEAD", Path.cwd())
    after = compile_side(Path("groups"), env=env)
    if not after.ok:
        return None
    before = compile_base(base, Path("groups"), Path.cwd(), env=env)
    report = compare(base, before, after)
    report.shared = shared_changes(before, after)
    return format_json(report)


def fast(env: str | None) -> str | None:
    base = resolve_base("HEAD", Path.cwd())
    plan = plan_diff(base, Path("groups"), Path.cwd(), env=env, jobs=2)
    return None if plan.report is None else format_json(plan.report)


@contextlib.contextmanager
def changed_repo(
    before: Files, after: Files, *, build: bool, env: str | None
) -> Iterator[tuple[Path, str | None]]:
    """Inside a git repo whose commit holds `before` and whose working tree holds `after`
    (built into dist/ when `build`); yields it and `env` (None when `after` lacks it)."""
    with tempfile.TemporaryDirectory(prefix="pops-review-scale-") as tmp:
        repo = Path(tmp)
        git(repo, "init", "-q", "-b", "main")
        write(repo, before)
        git(repo, "add", "-A")
        git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "b")
        write(repo, after)
        if env is not None and not (repo / "environments" / f"{env}.yaml").is_file():
            env = None
        with inside(repo):
            if build:
                run_build(Path("groups"), Path("dist"))
            yield repo, env


def check_same(before: Files, after: Files, *, build: bool, env: str | None) -> None:
    with changed_repo(before, after, build=build, env=env) as (_, env):
        assert fast(env) == naive(env)


@settings(
    max_examples=int(os.environ.get("POPS_DIFF_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), build=st.booleans(), env=st.sampled_from([None, "staging"]))
def test_fast_path_matches_a_naive_full_compile(data: Any, build: bool, env: str | None) -> None:
    before = data.draw(states(), label="base")
    after = data.draw(edits(before), label="working tree")
    check_same(before, after, build=build, env=env)


def test_worker_pool_matches_a_naive_full_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same with every group compiled in worker processes, after a defaults change."""
    monkeypatch.setattr(workers, "PARALLEL_THRESHOLD", 0)
    before: Files = {"groups/_defaults.yaml": "payments:\n  credit_card: true\n"}
    for i in range(12):
        before[f"groups/g{i:02}.yaml"] = f'name: "Group {i}"\n' + (
            "payments:\n  credit_card: false\n" if i % 3 == 0 else ""
        )
    after = dict(before)
    after["groups/_defaults.yaml"] = "payments:\n  credit_card: false\n"
    after["groups/g05.yaml"] = 'name: "Renamed five"\n'
    check_same(before, after, build=True, env=None)
    check_same(before, after, build=False, env=None)

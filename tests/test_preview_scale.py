"""`pops preview --base`'s fleet-scale path writes the same pages as the naive one, byte for byte.

The fast path takes both sides from `pops diff`'s plan (base read from git in
one go, the working tree from the build's seal when it vouches for dist/,
groups compiled only where they can differ) and reads the files of changed
groups only. None of that may change a page: on random repositories (real git,
random edits of defaults, bases, overlays and groups, with and without a fresh
`pops build`), every file of the preview folder is compared with the one the
naive path (both sides compiled whole) writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.review import preview, workers
from compiler.review.gitrefs import resolve_base
from tests.test_diff_scale import Files, changed_repo, edits, states


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by relative path."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def written(out: Path, env: str | None, *, naive: bool) -> dict[str, bytes] | None:
    """The preview folder `pops preview --base HEAD` writes (None: the working tree fails)."""
    base = resolve_base("HEAD", Path.cwd())
    groups, cwd = Path("groups"), Path.cwd()
    if naive:
        after, before = preview.compare_with_base_naive(base, groups, cwd, env=env, env_dir=None)
        plan = preview.base_plan(base, before, after) if before is not None else None
        if not after.ok or plan is None:
            return None
        preview.write_preview(out, plan, workers=1)
    else:  # as `pops preview --base` calls it: groups drawn by the workers that compare them
        after, plan, _ = preview.preview_against(
            out, base, groups, cwd, env=env, env_dir=None, jobs=2
        )
        if not after.ok or plan is None:
            assert not out.exists()  # (all or nothing)
            return None
    return tree(out)


def check_same(
    before: Files, after: Files, *, build: bool, env: str | None
) -> dict[str, bytes] | None:
    with changed_repo(before, after, build=build, env=env) as (repo, env):
        fast = written(repo / "fast", env, naive=False)
        naive = written(repo / "naive", env, naive=True)
        assert fast == naive
        return fast


@settings(
    max_examples=int(os.environ.get("POPS_PREVIEW_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), build=st.booleans(), env=st.sampled_from([None, "staging"]))
def test_fast_preview_matches_the_naive_one(data: Any, build: bool, env: str | None) -> None:
    before = data.draw(states(), label="base")
    after = data.draw(edits(before), label="working tree")
    check_same(before, after, build=build, env=env)


def test_a_defaults_change_from_the_seal_draws_every_group_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The working tree from a fresh build's seal, every group changed by one default,
    the base compiled in worker processes."""
    monkeypatch.setattr(workers, "PARALLEL_THRESHOLD", 0)
    before: Files = {"groups/_defaults.yaml": "payments:\n  credit_card: true\n"}
    for i in range(8):
        before[f"groups/g{i}.yaml"] = f'name: "Group {i}"\n' + (
            "payments:\n  credit_card: false\n" if i % 3 == 0 else ""
        )
    after = dict(before)
    after["groups/_defaults.yaml"] = "payments:\n  credit_card: false\n"
    after["groups/g5.yaml"] = 'name: "Renamed five"\n'
    fast = check_same(before, after, build=True, env=None)
    assert fast is not None
    drawn = sorted(path for path in fast if path.endswith("/compare.html"))
    assert drawn == [f"g{i}/compare.html" for i in range(8) if i % 3 != 0]
    assert "g5/base/theme.css" in fast and "g5/mfa" not in fast
    assert b'data-changed="payments.credit_card"' in fast["g1/base/index.html"]


def test_workers_draw_what_they_compare_and_the_parent_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Forked workers draw the groups they compare; an added, a removed and a renamed
    group (paired across groups) are drawn by the parent. The pages are the naive
    path's, and the count `pops preview` reports is the HTML files written."""
    monkeypatch.setattr(workers, "PARALLEL_THRESHOLD", 0)
    before: Files = {"groups/_defaults.yaml": "look_and_feel:\n  footer:\n    text: Old.\n"}
    for i in range(12):
        before[f"groups/g{i}.yaml"] = f'name: "Group {i}"\n'
    before["groups/moving.yaml"] = 'name: "Moving Clinic"\npayments:\n  apple_pay: true\n'
    after = dict(before)
    after["groups/_defaults.yaml"] = "look_and_feel:\n  footer:\n    text: New <&> text.\n"
    del after["groups/g3.yaml"], after["groups/moving.yaml"]
    after["groups/moved.yaml"] = before["groups/moving.yaml"]
    after["groups/added.yaml"] = 'name: "Added <&> Clinic"\n'
    for build in (True, False):
        with changed_repo(before, after, build=build, env=None) as (repo, env):
            base = resolve_base("HEAD", Path.cwd())
            out = repo / "fast"
            done = preview.preview_against(
                out, base, Path("groups"), Path.cwd(), env=env, env_dir=None, jobs=2
            )
            fast = tree(out)
            assert fast == written(repo / "naive", env, naive=True)
            assert done[2] == sum(1 for path in fast if path.endswith(".html"))
            changed = sorted(p.removesuffix("/compare.html") for p in fast if "compare" in p)
            assert changed == sorted(
                ["added", "moved", "g3"] + [f"g{i}" for i in range(12) if i != 3]
            )
            assert b"Added &lt;&amp;&gt; Clinic" in fast["index.html"]

"""The local-folder target: layout, only-what-changed uploads, rollback, prune, lock, crashes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from compiler.cli.publish import COMMANDS
from compiler.publish import (
    LockedError,
    list_releases,
    load_dist,
    prune,
    publish,
    repair,
    rollback,
    status,
)
from compiler.publish.local import LocalStore
from compiler.publish.lock import LockInfo
from tests.publish_fixtures import dist_objects, make_dist, run_cli, start_cli

GROUPS_A = {"alpha": "a1", "beta": "b1", "gamma": "c1"}


def cli(*args: str) -> tuple[int, str]:
    group = click.Group("pops", commands={c.name: c for c in COMMANDS if c.name})
    result = CliRunner().invoke(group, list(args))
    return result.exit_code, result.output


def served(root: Path) -> dict[str, bytes]:
    """What a web server with document root <root>/current returns, path by path."""
    top = root / "current"
    found: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
        if Path(dirpath) == top:
            dirnames.remove("objects")
        for name in filenames:
            path = Path(dirpath) / name
            found[path.relative_to(top).as_posix()] = path.read_bytes()
    return found


def assert_serves(root: Path, dist: Path) -> None:
    """The live tree is exactly `dist` (configs as published) and every reference resolves."""
    plan = load_dist(dist)
    tree = served(root)
    assert set(tree) == {f.path for f in plan.files} | {"release.json"}
    for f in plan.files:
        assert hashlib.sha256(tree[f.path]).hexdigest() == f.object_sha256, f.path
        if f.path.endswith("config.json"):
            sheet = json.loads(tree[f.path])["theme"]["stylesheet"]
            # resolved lexically, like a URL by the portal and the web server
            css = Path(os.path.normpath(root / "current" / f.path / ".." / sheet["path"]))
            assert hashlib.sha256(css.read_bytes()).hexdigest() == sheet["sha256"]


def test_first_publish_republish_and_one_group_changed(tmp_path: Path) -> None:
    target = tmp_path / "site"
    url = target.as_uri()
    dist = make_dist(tmp_path / "dist", GROUPS_A)

    first = publish(dist, url)
    assert first.switched and first.uploaded == len(dist_objects(dist))
    assert first.groups.added == ["alpha", "beta", "gamma"]
    assert os.readlink(target / "current") == f"releases/{first.release}"
    assert_serves(target, dist)

    again = publish(dist, url)
    assert not again.switched and again.uploaded == 0 and again.release == first.release

    make_dist(dist, {**GROUPS_A, "beta": "b2"})
    changed = publish(dist, url)
    assert changed.switched and changed.groups.changed == ["beta"]
    assert changed.groups.added == changed.groups.removed == []
    # beta's config and stylesheet (and nothing of alpha, gamma) are new
    assert changed.uploaded == 2
    assert_serves(target, dist)
    # releases share the trees of unchanged groups: one new group tree for beta
    assert len(list((target / "trees").glob("*/*"))) == 4
    # objects are read-only on disk: nothing rewrites them in place
    for obj in (target / "objects").rglob("*.css"):
        assert not os.access(obj, os.W_OK) or os.geteuid() == 0
        assert obj.stat().st_mode & 0o222 == 0


def test_removed_group_disappears_at_the_switch(tmp_path: Path) -> None:
    target = tmp_path / "site"
    dist = make_dist(tmp_path / "dist", GROUPS_A)
    publish(dist, target.as_uri())
    make_dist(dist, {"alpha": "a1", "beta": "b1"})
    result = publish(dist, target.as_uri())
    assert result.groups.removed == ["gamma"]
    assert not (target / "current/groups/gamma").exists()


def test_rollback_to_each_kept_release_and_not_beyond(tmp_path: Path) -> None:
    target = tmp_path / "site"
    url = target.as_uri()
    dists = []
    ids = []
    for n in range(5):
        d = make_dist(tmp_path / f"dist{n}", {**GROUPS_A, "alpha": f"a{n}"})
        dists.append(d)
        ids.append(publish(d, url, keep=3).release)
    rows = list_releases(url)
    assert [r.release for r in rows if r.kept] == ids[:1:-1]
    assert rows[0].live and rows[0].release == ids[4]

    for n in (3, 2, 4, 2):
        result = rollback(url, to=ids[n])
        assert result.release == ids[n]
        assert_serves(target, dists[n])
        assert result.groups.changed == ["alpha"]
    code, out = cli("rollback", "--target", url, "--to", ids[0])
    assert code == 1 and "not kept" in out
    # default: back to the release live before the current one
    rollback(url, to=ids[3])
    assert rollback(url).release == ids[2]
    assert_serves(target, dists[2])


def test_prune_keeps_what_kept_releases_need_and_respects_grace(tmp_path: Path) -> None:
    target = tmp_path / "site"
    url = target.as_uri()
    dists = [make_dist(tmp_path / f"dist{n}", {**GROUPS_A, "beta": f"b{n}"}) for n in range(4)]
    ids = [publish(d, url, keep=2).release for d in dists]

    nothing = prune(url, grace=timedelta(hours=1))
    assert nothing.releases == [] and nothing.objects == []
    assert len(list_releases(url)) == 4

    done = prune(url, grace=timedelta(0))
    assert done.releases == sorted(ids[:2])
    # beta's config and stylesheet for builds 0 and 1
    assert len(done.objects) == 4
    assert [r.release for r in list_releases(url)] == [ids[3], ids[2]]
    for n in (2, 3):
        rollback(url, to=ids[n])
        assert_serves(target, dists[n])
    report = status(url, dist_dir=dists[3])
    assert report.ok and not report.missing


def test_prune_never_deletes_a_release_that_was_live_within_grace(tmp_path: Path) -> None:
    target = tmp_path / "site"
    url = target.as_uri()
    dists = [make_dist(tmp_path / f"dist{n}", {**GROUPS_A, "beta": f"b{n}"}) for n in range(3)]
    ids = [publish(d, url, keep=1).release for d in dists]
    kept_by_grace = prune(url, grace=timedelta(hours=1))
    assert kept_by_grace.releases == [] and kept_by_grace.objects == []
    assert list_releases(url)[0].release == ids[2]
    assert {r.release for r in list_releases(url)} == set(ids)


def test_status_reports_drift_per_group_and_corrupt_objects(tmp_path: Path) -> None:
    target = tmp_path / "site"
    url = target.as_uri()
    dist = make_dist(tmp_path / "dist", GROUPS_A)
    publish(dist, url)
    assert status(url, dist_dir=dist).ok

    make_dist(dist, {"alpha": "a2", "beta": "b1", "delta": "d1"})
    report = status(url, dist_dir=dist)
    assert not report.ok
    assert {(d.slug, d.state) for d in report.drift} == {
        ("alpha", "changed"),
        ("delta", "not published"),
        ("gamma", "only live"),
    }
    changed = next(d for d in report.drift if d.slug == "alpha")
    assert changed.paths == ["groups/alpha/config.json", "groups/alpha/theme.css"]

    code, out = cli("status", "--target", url, "--dist", str(dist))
    assert code == 1 and "alpha" in out and "NOT OK" in out


def test_corrupted_object_is_found_by_status_and_fixed_by_repair(tmp_path: Path) -> None:
    target = tmp_path / "site"
    url = target.as_uri()
    dist = make_dist(tmp_path / "dist", GROUPS_A)
    publish(dist, url)
    victim = sorted((target / "objects").rglob("*.css"))[0]
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes().replace(b"#", b"!"))  # same size, other bytes

    report = status(url, dist_dir=dist)
    key = victim.relative_to(target).as_posix()
    assert report.corrupt == [key]
    assert not report.ok
    code, out = cli("status", "--target", url, "--dist", str(dist))
    assert code == 1 and f"CORRUPT object (bytes do not hash to its name): {key}" in out

    plain = publish(dist, url)  # nothing changed in dist: does not look at bytes
    assert plain.uploaded == 0
    fixed = repair(dist, url)
    assert fixed.corrupt == [key] and fixed.reuploaded == [key] and fixed.ok
    assert status(url, dist_dir=dist).ok
    assert_serves(target, dist)


def test_lock_lets_exactly_one_of_many_racers_in(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "site")
    store.ensure_conditional_writes()
    barrier = threading.Barrier(8)
    winners: list[LockInfo] = []
    losers: list[LockedError] = []

    def race(n: int) -> None:
        info = LockInfo(f"racer{n}@here", n, "publish", "2026-01-31T12:00:00Z", f"t{n}")
        barrier.wait()
        try:
            store.acquire_lock(info, break_lock=False)
            winners.append(info)
        except LockedError as exc:
            losers.append(exc)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1 and len(losers) == 7
    assert all(e.holder == winners[0] for e in losers)


def test_concurrent_publisher_exits_1_naming_the_holder(tmp_path: Path) -> None:
    target = tmp_path / "site"
    url = target.as_uri()
    make_dist(tmp_path / "dist", GROUPS_A)
    make_dist(tmp_path / "other", {"alpha": "zzz"})
    slow = start_cli("publish", "--target", url, "--no-build", cwd=tmp_path, fault="sleep:0.3")
    deadline = time.monotonic() + 30
    while not (target / ".pops/lock.json").exists():
        assert time.monotonic() < deadline and slow.poll() is None, slow.communicate()
        time.sleep(0.02)
    second = run_cli("publish", "--target", url, "--no-build", "--dist", "other", cwd=tmp_path)
    assert second.returncode == 1
    assert "is locked by" in second.stderr and f"pid {slow.pid}" in second.stderr
    assert "since" in second.stderr and "--break-lock" in second.stderr
    _, err = slow.communicate(timeout=60)
    assert slow.returncode == 0, err
    assert_serves(target, tmp_path / "dist")
    assert not (target / ".pops/lock.json").exists()


@pytest.mark.parametrize("which", range(5))
def test_sigkill_after_k_writes_leaves_old_release_live_and_rerun_completes(
    tmp_path: Path, which: int
) -> None:
    target = tmp_path / "site"
    url = target.as_uri()
    old = make_dist(tmp_path / "old", GROUPS_A)
    publish(old, url)
    new = make_dist(tmp_path / "dist", {"alpha": "a2", "beta": "b2", "delta": "d1"})
    # writes of this publish: m missing objects, the release tree, then the switch
    m = len(dist_objects(new) - dist_objects(old))
    k = [1, m // 2, m, m + 1, m + 2][which]

    run = run_cli("publish", "--target", url, "--no-build", cwd=tmp_path, fault=f"kill:{k}")
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert_serves(target, old if k < m + 2 else new)

    lock = target / ".pops/lock.json"
    assert lock.exists()  # the dead publisher's lock stays until someone breaks it
    blocked = run_cli("publish", "--target", url, "--no-build", cwd=tmp_path)
    assert blocked.returncode == 1 and "is locked by" in blocked.stderr
    rerun = run_cli("publish", "--target", url, "--no-build", "--break-lock", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert "broke the lock held by" in rerun.stderr
    assert_serves(target, new)
    assert status(url, dist_dir=new).ok
    # leftovers of the killed run (temporary names) go with prune, nothing live does
    prune(url, grace=timedelta(0))
    assert_serves(target, new)
    assert not [p for p in target.rglob(".tmp-*")]


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    from compiler.cli.publish_options import progress as _progress

    assert _progress("uploading") is None  # pytest captures stdout: not a TTY
    make_dist(tmp_path / "dist", {f"g{n}": "v" for n in range(60)})
    code, out = cli(
        "publish", "--target", (tmp_path / "site").as_uri(), "--dist", str(tmp_path / "dist"),
        "--no-build",
    )  # fmt: skip
    assert code == 0 and "uploading" not in out and "\r" not in out


def test_releases_listing_and_prune_dry_run_through_the_cli(tmp_path: Path) -> None:
    url = (tmp_path / "site").as_uri()
    ids = [
        publish(make_dist(tmp_path / f"d{n}", {"alpha": f"a{n}"}), url, keep=2).release
        for n in range(3)
    ]
    code, out = cli("releases", "--target", url)
    assert code == 0
    lines = out.splitlines()
    assert lines[1].startswith(f"* {ids[2]}") and lines[1].endswith("live")
    assert lines[2].startswith(f"  {ids[1]}") and lines[2].endswith("kept")
    assert lines[3].startswith(f"  {ids[0]}") and "not kept" in lines[3]

    code, out = cli("prune", "--target", url, "--grace", "0", "--dry-run")
    assert code == 0 and "would delete: 1 releases, 2 objects" in out and ids[0] in out
    assert len(list_releases(url)) == 3
    code, out = cli("prune", "--target", url, "--grace", "0")
    assert code == 0 and "deleted: 1 releases, 2 objects" in out
    assert [r.release for r in list_releases(url)] == ids[:0:-1]
    code, out = cli("prune", "--target", url, "--grace", "soon")
    assert code == 2

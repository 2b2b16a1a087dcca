"""The S3 target against a real S3-compatible server (SeaweedFS `weed mini` on 127.0.0.1):
conditional writes, lock, journaled switch, crashes, integrity, rollback and prune."""

from __future__ import annotations

import hashlib
import json
import posixpath
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from compiler.publish import (
    LockedError,
    list_releases,
    load_dist,
    prune,
    publish,
    rollback,
    status,
)
from compiler.publish.layout import is_entry
from compiler.publish.lock import LockInfo
from compiler.publish.s3 import S3Store
from tests.publish_fixtures import (  # noqa: F401
    ConditionStrippingProxy,
    S3Target,
    dist_objects,
    free_ports,
    make_dist,
    run_cli,
    s3_env_fixture,
    s3_target_fixture,
    seaweed_fixture,
    start_cli,
)

GROUPS_A = {"alpha": "a1", "beta": "b1", "gamma": "c1"}
GROUPS_B = {"alpha": "a2", "beta": "b2", "gamma": "c2", "delta": "d1"}


def expected_configs(dist: Path) -> dict[str, bytes]:
    plan = load_dist(dist)
    return {f.path: plan.payload(f.object) for f in plan.files if is_entry(f.path)}


def served_configs(t: S3Target) -> dict[str, bytes]:
    return {k: t.get(k) for k in t.list_keys("groups/") if is_entry(k)}


def pointer(t: S3Target) -> dict[str, object]:
    doc: dict[str, object] = json.loads(t.get("current.json"))
    return doc


def assert_refs_resolve(t: S3Target, configs: dict[str, bytes]) -> None:
    """Every stylesheet a served config names is present and hashes to its sha256."""
    for path, body in configs.items():
        sheet = json.loads(body)["theme"]["stylesheet"]
        key = posixpath.normpath(posixpath.join(posixpath.dirname(path), sheet["path"]))
        assert key.startswith("objects/"), key
        assert hashlib.sha256(t.get(key)).hexdigest() == sheet["sha256"], path


def assert_live(t: S3Target, dist: Path) -> None:
    configs = served_configs(t)
    assert configs == expected_configs(dist)
    assert pointer(t)["pending"] is None
    assert_refs_resolve(t, configs)


def test_publish_uploads_only_what_changed_with_cache_headers(
    s3_target: S3Target, tmp_path: Path
) -> None:
    t = s3_target
    dist = make_dist(tmp_path / "dist", GROUPS_A)
    first = publish(dist, t.url, endpoint_url=t.server.endpoint)
    assert first.uploaded == len(dist_objects(dist)) and first.present == 0
    assert_live(t, dist)
    for key in t.list_keys("objects/"):
        head = t.head(key)
        assert head["CacheControl"] == "public, max-age=31536000, immutable"
        if key.endswith(".css"):
            assert head["ContentType"] == "text/css; charset=utf-8"
    assert t.head("groups/alpha/config.json")["CacheControl"] == "no-cache"
    assert t.head("groups/alpha/config.json")["ContentType"] == "application/json"
    assert t.head("current.json")["CacheControl"] == "no-cache"
    assert t.head(f"releases/{first.release}.json")["CacheControl"].endswith("immutable")
    assert ".pops/lock.json" not in t.list_keys(".pops/")
    assert not t.list_keys(".pops/")  # the probe key is gone too

    again = run_cli("publish", *t.args, "--no-build", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "nothing to publish" in again.stdout and "0 uploaded" in again.stdout

    make_dist(dist, {**GROUPS_A, "beta": "b2"})
    one = publish(dist, t.url, endpoint_url=t.server.endpoint)
    assert one.uploaded == 2 and one.groups.changed == ["beta"]  # beta's config + stylesheet
    assert_live(t, dist)
    assert status(t.url, dist_dir=dist, endpoint_url=t.server.endpoint).ok


def test_refuses_a_server_that_ignores_conditional_writes(
    s3_target: S3Target, tmp_path: Path
) -> None:
    t = s3_target
    make_dist(tmp_path / "dist", GROUPS_A)
    with ConditionStrippingProxy(t.server.port) as proxy:
        endpoint = f"http://127.0.0.1:{proxy.port}"
        run = run_cli(
            "publish", "--target", t.url, "--endpoint-url", endpoint, "--no-build", cwd=tmp_path
        )
    assert run.returncode == 1
    assert "does not enforce conditional writes" in run.stderr
    assert "If-None-Match" in run.stderr
    assert t.list_keys() == set()  # nothing published, no lock, no probe left behind


def test_exactly_one_of_many_racers_gets_the_lock(s3_target: S3Target) -> None:
    t = s3_target
    stores = [S3Store.from_url(t.url, endpoint_url=t.server.endpoint) for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    winners: list[LockInfo] = []
    losers: list[LockedError] = []

    def race(n: int) -> None:
        info = LockInfo.mine(f"racer{n}")
        barrier.wait()
        try:
            stores[n].acquire_lock(info, break_lock=False)
            winners.append(info)
        except LockedError as exc:
            losers.append(exc)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(len(stores))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(winners) == 1 and len(losers) == len(stores) - 1
    assert {e.holder for e in losers} == {winners[0]}


def test_second_publisher_exits_1_naming_the_holder(s3_target: S3Target, tmp_path: Path) -> None:
    t = s3_target
    make_dist(tmp_path / "dist", GROUPS_A)
    # each write of the slow publisher sleeps 1s: its lock is held for several seconds,
    # time enough for a second interpreter to start on a loaded machine
    slow = start_cli("publish", *t.args, "--no-build", cwd=tmp_path, fault="sleep:1")
    deadline = time.monotonic() + 30
    while ".pops/lock.json" not in t.list_keys(".pops/"):
        assert time.monotonic() < deadline and slow.poll() is None, slow.communicate()
        time.sleep(0.05)
    second = run_cli("publish", *t.args, "--no-build", cwd=tmp_path)
    assert second.returncode == 1
    assert f"pid {slow.pid}, publish) since" in second.stderr, second.stderr
    assert "--break-lock" in second.stderr
    _, err = slow.communicate(timeout=60)
    assert slow.returncode == 0, err
    assert_live(t, tmp_path / "dist")


def _writes(old: Path, new: Path) -> tuple[int, int]:
    """(objects to upload, group configs to switch) of publishing `new` over `old`."""
    m = len(dist_objects(new) - dist_objects(old))
    old_cfg, new_cfg = expected_configs(old), expected_configs(new)
    return m, sum(1 for p, b in new_cfg.items() if old_cfg.get(p) != b)


@pytest.mark.parametrize(
    "phase", ["object-1", "objects-done", "release", "intent", "config-1", "switched"]
)
def test_sigkill_after_k_writes_then_rerun_completes(
    s3_target: S3Target, tmp_path: Path, phase: str
) -> None:
    t = s3_target
    old = make_dist(tmp_path / "old", GROUPS_A)
    publish(old, t.url, endpoint_url=t.server.endpoint)
    old_release = pointer(t)["release"]
    new = make_dist(tmp_path / "dist", GROUPS_B)
    m, c = _writes(old, new)
    # write order: m objects, release manifest, pointer intent, c configs, pointer switch
    k = {"object-1": 1, "objects-done": m, "release": m + 1, "intent": m + 2, "config-1": m + 3}
    k["switched"] = m + 2 + c + 1
    run = run_cli("publish", *t.args, "--no-build", cwd=tmp_path, fault=f"kill:{k[phase]}")
    assert run.returncode == -signal.SIGKILL, run.stderr

    state = pointer(t)
    configs = served_configs(t)
    if phase == "switched":  # killed right after the last write: the new release is live
        assert state["release"] != old_release and state["pending"] is None
        assert_live(t, new)
    else:
        assert state["release"] == old_release  # the recorded live release never moved
    if phase in ("object-1", "objects-done", "release"):
        assert state["pending"] is None
        assert configs == expected_configs(old)  # exactly the old release
    elif phase != "switched":
        # the switch had begun: journaled, and every group serves old or new, each whole
        assert state["pending"] is not None
        new_cfg, old_cfg = expected_configs(new), expected_configs(old)
        for path, body in configs.items():
            assert body in (new_cfg.get(path), old_cfg.get(path)), path
        assert_refs_resolve(t, configs)
        report = status(t.url, dist_dir=new, endpoint_url=t.server.endpoint)
        assert report.pending == state["pending"] and not report.ok

    blocked = run_cli("publish", *t.args, "--no-build", cwd=tmp_path)
    assert blocked.returncode == 1 and "is locked by" in blocked.stderr
    rerun = run_cli("publish", *t.args, "--no-build", "--break-lock", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert "broke the lock held by" in rerun.stderr
    assert_live(t, new)
    assert status(t.url, dist_dir=new, endpoint_url=t.server.endpoint).ok


def test_rollback_undoes_an_interrupted_switch(s3_target: S3Target, tmp_path: Path) -> None:
    t = s3_target
    old = make_dist(tmp_path / "old", GROUPS_A)
    publish(old, t.url, endpoint_url=t.server.endpoint)
    new = make_dist(tmp_path / "dist", GROUPS_B)
    m, _ = _writes(old, new)
    run = run_cli("publish", *t.args, "--no-build", cwd=tmp_path, fault=f"kill:{m + 4}")
    assert run.returncode == -signal.SIGKILL
    assert pointer(t)["pending"] is not None
    back = run_cli("rollback", *t.args, "--break-lock", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert "half switched" in back.stdout
    # exactly the old release again: delta, half published, is served no more
    assert_live(t, old)
    report = status(t.url, dist_dir=old, endpoint_url=t.server.endpoint)
    assert report.ok and report.stale_served == []


def test_status_finds_corrupt_objects_and_tampered_configs(
    s3_target: S3Target, tmp_path: Path
) -> None:
    t = s3_target
    dist = make_dist(tmp_path / "dist", GROUPS_A)
    publish(dist, t.url, endpoint_url=t.server.endpoint)
    css_key = sorted(k for k in t.list_keys("objects/") if k.endswith(".css"))[0]
    original = t.get(css_key)
    t.put(css_key, original.replace(b"#", b"!"))  # same size: only a hash can tell
    t.put("groups/beta/config.json", b'{"tampered": true}\n')

    run = run_cli("status", *t.args, "--dist", "dist", cwd=tmp_path)
    assert run.returncode == 1
    assert f"CORRUPT object (bytes do not hash to its name): {css_key}" in run.stdout
    assert "served bytes differ from the live release: groups/beta/config.json" in run.stdout
    as_json = json.loads(
        run_cli("status", *t.args, "--dist", "dist", "--format", "json", cwd=tmp_path).stdout
    )
    assert as_json["corrupt"] == [css_key] and as_json["ok"] is False

    fixed = run_cli("publish", *t.args, "--no-build", "--repair", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert f"re-uploaded from the local build: {css_key}" in fixed.stdout
    assert "serves the live release's bytes again: groups/beta/config.json" in fixed.stdout
    assert t.get(css_key) == original
    assert_live(t, dist)
    assert run_cli("status", *t.args, cwd=tmp_path).returncode == 0


def test_rollback_to_each_kept_release(s3_target: S3Target, tmp_path: Path) -> None:
    t = s3_target
    ep = t.server.endpoint
    dists = [make_dist(tmp_path / f"d{n}", {**GROUPS_A, "gamma": f"c{n}"}) for n in range(4)]
    ids = [publish(d, t.url, endpoint_url=ep, keep=3).release for d in dists]
    assert [r.release for r in list_releases(t.url, endpoint_url=ep) if r.kept] == ids[:0:-1]
    for n in (2, 1, 3, 1):
        started = time.monotonic()
        assert rollback(t.url, to=ids[n], endpoint_url=ep).release == ids[n]
        assert time.monotonic() - started < 10
        assert_live(t, dists[n])
        assert pointer(t)["release"] == ids[n]
    refused = run_cli("rollback", *t.args, "--to", ids[0], cwd=tmp_path)
    assert refused.returncode == 1 and "not kept" in refused.stderr


def test_prune_keeps_what_kept_releases_need(s3_target: S3Target, tmp_path: Path) -> None:
    t = s3_target
    ep = t.server.endpoint
    dists = [make_dist(tmp_path / f"d{n}", {**GROUPS_A, "beta": f"b{n}"}) for n in range(3)]
    dists.append(make_dist(tmp_path / "d3", {"alpha": "a1", "beta": "b3"}))  # gamma removed
    ids = [publish(d, t.url, endpoint_url=ep, keep=2).release for d in dists]
    # the switch stops serving removed groups; their objects stay for prune to judge
    assert "groups/gamma/config.json" not in t.list_keys("groups/")
    gamma_css = {k for k in dist_objects(dists[2]) if k.endswith(".css")} - dist_objects(dists[3])
    assert gamma_css <= t.list_keys("objects/")

    young = prune(t.url, endpoint_url=ep)  # default grace: 7 days
    assert young.releases == [] and young.objects == [] and young.served == []
    done = prune(t.url, endpoint_url=ep, grace=timedelta(0))
    assert done.releases == sorted(ids[:2])
    assert t.list_keys("releases/") == {f"releases/{r}.json" for r in ids[2:]}
    for n in (2, 3):
        rollback(t.url, to=ids[n], endpoint_url=ep)
        assert_live(t, dists[n])
        report = status(t.url, dist_dir=dists[n], endpoint_url=ep)
        assert report.ok and not report.missing and not report.corrupt


def test_errors_are_one_line_without_secrets(s3_target: S3Target, tmp_path: Path) -> None:
    t = s3_target
    make_dist(tmp_path / "dist", GROUPS_A)
    (closed,) = free_ports(1)
    secret = "pops-test-secret"  # what s3_env put in AWS_SECRET_ACCESS_KEY
    unreachable = run_cli(
        "publish", "--target", t.url, "--endpoint-url", f"http://127.0.0.1:{closed}",
        "--no-build", cwd=tmp_path, env={"AWS_MAX_ATTEMPTS": "1"},
    )  # fmt: skip
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("error: ") and "Traceback" not in unreachable.stderr
    assert secret not in unreachable.stdout + unreachable.stderr
    ok = run_cli("publish", *t.args, "--no-build", cwd=tmp_path)
    assert ok.returncode == 0
    assert secret not in ok.stdout + ok.stderr
    for key in t.list_keys():
        assert secret.encode() not in t.get(key), key

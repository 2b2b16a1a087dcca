"""Publish only what was meant (issue #11 part 3), on the local folder and on S3 (SeaweedFS),
through the real CLI in a child process: the environment a target serves, a repair that
never switches, the commit a release came from, waiting for a lock, status and usage exits.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compiler.publish.lock import LockInfo
from tests.publish_fixtures import (  # noqa: F401
    S3Target,
    dist_objects,
    make_dist,
    run_cli,
    s3_env_fixture,
    s3_target_fixture,
    seaweed_fixture,
    start_cli,
)

GROUPS = {"alpha": "a1", "beta": "b1"}
STAGING = {"alpha": "a1-staging", "beta": "b1-staging"}
FOREIGN = LockInfo("ops@elsewhere", 4242, "publish", "2026-01-31T12:00:00Z", "feedface")


@dataclass
class Target:
    """One publish target as the tests see it: its CLI arguments and raw access to its bytes."""

    kind: str
    url: str
    args: list[str]
    root: Path | None = None  # local
    s3: S3Target | None = None

    def read(self, key: str) -> bytes | None:
        if self.root is not None:
            path = self.root / key
            return path.read_bytes() if path.exists() else None
        assert self.s3 is not None
        return self.s3.get(key) if key in self.s3.list_keys(key) else None

    def write(self, key: str, data: bytes) -> None:
        if self.root is not None:
            path = self.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                path.chmod(0o644)
            path.write_bytes(data)
        else:
            assert self.s3 is not None
            self.s3.put(key, data)

    def delete(self, key: str) -> None:
        if self.root is not None:
            (self.root / key).unlink()
        else:
            assert self.s3 is not None
            self.s3.server.client().delete_object(Bucket=self.s3.bucket, Key=self.s3.key(key))

    def objects(self) -> set[str]:
        if self.root is not None:
            return {p.relative_to(self.root).as_posix() for p in self.root.glob("objects/*/*")}
        assert self.s3 is not None
        return self.s3.list_keys("objects/")

    @property
    def state_key(self) -> str:
        return ".pops/state.json" if self.root is not None else "current.json"

    def switch_state(self) -> tuple[str, bytes | None]:
        """What says which release is live, byte for byte: a repair must leave it alone."""
        if self.root is not None:
            return os.readlink(self.root / "current"), self.read(self.state_key)
        return "", self.read(self.state_key)

    def release_key(self, release: str) -> str:
        if self.root is not None:
            return f"releases/{release}/release.json"
        return f"releases/{release}.json"

    def forget_records(self, release: str) -> None:
        """Make the target look published by a pops that recorded no environment or commit."""
        state = json.loads(self.read(self.state_key) or b"{}")
        state.pop("environment", None)
        self.write(self.state_key, (json.dumps(state, indent=2) + "\n").encode())
        manifest = json.loads(self.read(self.release_key(release)) or b"{}")
        manifest.pop("environment", None)
        manifest.pop("source", None)
        self.write(self.release_key(release), (json.dumps(manifest, indent=2) + "\n").encode())

    def hold_lock(self) -> None:
        self.write(".pops/lock.json", FOREIGN.to_bytes())

    def drop_lock(self) -> None:
        self.delete(".pops/lock.json")


@pytest.fixture(params=["local", "s3"], name="target")
def target_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    if request.param == "local":
        root = tmp_path / "site"
        return Target("local", root.as_uri(), ["--target", root.as_uri()], root=root)
    s3: S3Target = request.getfixturevalue("s3_target")
    return Target("s3", s3.url, s3.args, s3=s3)


def pops(t: Target, command: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(command, *t.args, *args, cwd=cwd)


def publish_ok(t: Target, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    run = pops(t, "publish", "--no-build", *args, cwd=cwd)
    assert run.returncode == 0, run.stderr
    return run


def releases_json(t: Target, cwd: Path) -> list[dict[str, Any]]:
    run = pops(t, "releases", "--format", "json", cwd=cwd)
    assert run.returncode == 0, run.stderr
    rows: list[dict[str, Any]] = json.loads(run.stdout)["releases"]
    return rows


def status_json(t: Target, cwd: Path, *args: str) -> tuple[int, dict[str, Any]]:
    run = pops(t, "status", "--format", "json", *args, cwd=cwd)
    doc: dict[str, Any] = json.loads(run.stdout)
    return run.returncode, doc


def two_builds(tmp_path: Path) -> Path:
    """dist/ with the base build and dist/staging/ with a different staging build."""
    dist = make_dist(tmp_path / "dist", GROUPS)
    make_dist(dist / "staging", STAGING)
    return dist


# --------------------------------------------------------------------------------------
# environments
# --------------------------------------------------------------------------------------


def test_a_target_serves_one_environment_unless_told_to_change(
    target: Target, tmp_path: Path
) -> None:
    t = target
    two_builds(tmp_path)
    first = publish_ok(t, "--env", "staging", cwd=tmp_path)
    assert "environment staging, built from a folder outside git" in first.stdout
    staging_release = releases_json(t, tmp_path)[0]["release"]
    before = t.switch_state()

    refused = pops(t, "publish", "--no-build", cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: refusing to publish dist: {t.url} serves environment staging, but this build "
        "is the base build; use `pops publish --env staging`, or pass --allow-env-change to "
        "make the target serve the base build\n"
    )
    assert t.switch_state() == before and len(releases_json(t, tmp_path)) == 1

    code, doc = status_json(t, tmp_path, "--env", "staging")
    assert code == 0 and doc["environment"] == "staging" and doc["environmentRecorded"]
    text = pops(t, "status", "--env", "staging", cwd=tmp_path)
    assert "serves: environment staging" in text.stdout.splitlines()
    # comparing with the base build is drift of a kind status names
    mismatch = pops(t, "status", "--live-only", cwd=tmp_path)
    assert mismatch.returncode == 0
    base_cmp = pops(t, "status", cwd=tmp_path)
    assert base_cmp.returncode == 1
    assert "ENVIRONMENT DIFFERS: the local build compared with is the base build" in base_cmp.stdout

    changed = publish_ok(t, "--allow-env-change", cwd=tmp_path)
    assert f"{t.url} now serves the base build (was environment staging)" in changed.stdout
    assert "the base build, built from a folder outside git" in changed.stdout
    rows = releases_json(t, tmp_path)
    assert [(r["environment"], r["environmentRecorded"], r["live"]) for r in rows] == [
        (None, True, True),
        ("staging", True, False),
    ]
    table = pops(t, "releases", cwd=tmp_path).stdout.splitlines()
    assert table[0].split() == ["RELEASE", "CREATED", "ENV", "COMMIT", "GROUPS", "FILES", "STATE"]
    assert table[1][2:].split()[2:4] == ["(base)", "-"] and table[2][2:].split()[2:4] == [
        "staging",
        "-",
    ]

    # rollback to the staging release is another environment too
    back = pops(t, "rollback", cwd=tmp_path)
    assert back.returncode == 1
    assert back.stderr == (
        f"error: refusing to roll back to {staging_release}: {t.url} serves the base build, "
        f"but release {staging_release} is environment staging; roll back to a release of the "
        "environment it serves (`pops releases` shows each release's), or pass "
        "--allow-env-change to make the target serve environment staging\n"
    )
    back = pops(t, "rollback", "--allow-env-change", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert "now serves environment staging (was the base build)" in back.stdout
    assert status_json(t, tmp_path, "--env", "staging")[1]["environment"] == "staging"

    # a repair from another environment's build is refused the same way
    repair = pops(t, "publish", "--no-build", "--repair", cwd=tmp_path)
    assert repair.returncode == 1
    assert "refusing to repair from dist:" in repair.stderr
    assert "use `pops publish --repair --env staging`" in repair.stderr
    allowed = pops(t, "publish", "--no-build", "--repair", "--allow-env-change", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.splitlines()[0] == (
        f"repairing from dist (the base build), as --allow-env-change permits; {t.url} still "
        "serves environment staging"
    )
    assert allowed.stdout.splitlines()[-1] == "nothing to repair"
    assert status_json(t, tmp_path, "--env", "staging")[1]["environment"] == "staging"


def test_an_older_target_records_its_environment_at_the_next_publish(
    target: Target, tmp_path: Path
) -> None:
    t = target
    two_builds(tmp_path)
    publish_ok(t, cwd=tmp_path)
    release = releases_json(t, tmp_path)[0]["release"]
    t.forget_records(release)  # as published before environments were recorded

    code, doc = status_json(t, tmp_path)
    assert code == 0 and doc["environment"] is None and not doc["environmentRecorded"]
    assert "serves: not recorded yet (the next publish records it)" in (
        pops(t, "status", cwd=tmp_path).stdout
    )
    row = releases_json(t, tmp_path)[0]
    assert not row["environmentRecorded"] and row["source"] is None
    assert pops(t, "releases", cwd=tmp_path).stdout.splitlines()[1][2:].split()[2:4] == ["?", "?"]

    # nothing to publish, but the target now knows what it serves
    again = publish_ok(t, cwd=tmp_path)
    assert "nothing to publish" in again.stdout
    assert f"{t.url} now records that it serves the base build" in again.stdout
    assert status_json(t, tmp_path)[1]["environmentRecorded"]
    refused = pops(t, "publish", "--no-build", "--env", "staging", cwd=tmp_path)
    assert refused.returncode == 1 and "serves the base build" in refused.stderr

    # an older target whose first publish is another environment's build: nothing to
    # compare with, so it is allowed and recorded
    t.forget_records(release)
    publish_ok(t, "--env", "staging", cwd=tmp_path)
    assert status_json(t, tmp_path, "--env", "staging")[1]["environment"] == "staging"
    # rolling back to the old release (environment unknown) keeps what the target serves
    back = pops(t, "rollback", "--to", release, cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert status_json(t, tmp_path, "--live-only")[1]["environment"] == "staging"


# --------------------------------------------------------------------------------------
# repair
# --------------------------------------------------------------------------------------


def test_repair_mends_the_live_release_and_never_switches(target: Target, tmp_path: Path) -> None:
    t = target
    dist = make_dist(tmp_path / "dist", GROUPS)
    publish_ok(t, cwd=tmp_path)
    live = releases_json(t, tmp_path)[0]["release"]
    css = sorted(k for k in dist_objects(dist) if k.endswith(".css"))
    txt = sorted(k for k in dist_objects(dist) if k.endswith(".txt"))
    original = t.read(css[0])
    assert original is not None
    t.write(css[0], original.replace(b"#", b"!"))  # same size: only a hash can tell
    t.delete(txt[0])
    if t.kind == "s3":
        t.write("groups/beta/config.json", b'{"tampered": true}\n')
    before = t.switch_state()

    fixed = pops(t, "publish", "--no-build", "--repair", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    lines = fixed.stdout.splitlines()
    assert lines[0] == f"repair of {live}, live on {t.url} (nothing was switched)"
    assert lines[1].endswith("objects by sha256: 1 damaged, 1 missing")
    assert f"  re-uploaded from the local build: {css[0]}" in lines
    assert f"  re-uploaded from the local build: {txt[0]}" in lines
    if t.kind == "s3":
        assert "  serves the live release's bytes again: groups/beta/config.json" in lines
    assert lines[-1] == ("repaired 3 files" if t.kind == "s3" else "repaired 2 files")
    assert t.read(css[0]) == original and t.read(txt[0]) is not None
    assert t.switch_state() == before  # the same release live, the same history
    assert pops(t, "status", "--dist", "dist", cwd=tmp_path).returncode == 0

    healthy = pops(t, "publish", "--no-build", "--repair", cwd=tmp_path)
    assert healthy.returncode == 0 and healthy.stdout.splitlines()[-1] == "nothing to repair"
    assert t.switch_state() == before


def test_repair_from_a_different_build_fixes_only_matching_bytes_and_says_what_to_run(
    target: Target, tmp_path: Path
) -> None:
    t = target
    old = make_dist(tmp_path / "dist", GROUPS)
    publish_ok(t, cwd=tmp_path)
    live = releases_json(t, tmp_path)[0]["release"]
    old_objects = dist_objects(old)
    make_dist(old, {"alpha": "a1", "beta": "b2"})  # beta changed locally, alpha did not
    alpha_css = next(k for k in old_objects & dist_objects(old) if k.endswith(".css"))
    beta_css = next(k for k in old_objects - dist_objects(old) if k.endswith(".css"))
    t.delete(alpha_css)
    t.delete(beta_css)
    before = t.switch_state()

    run = pops(t, "publish", "--no-build", "--repair", cwd=tmp_path)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert f"  re-uploaded from the local build: {alpha_css}" in lines
    assert f"  NOT REPAIRED (the local build does not have these bytes): {beta_css}" in lines
    assert (
        f"the local build differs from the live release {live} (groups: 0 added, 1 changed, "
        "0 removed); repair uses only bytes the live release names"
    ) in lines
    assert "  to make this build live instead: pops publish" in lines
    assert (
        f"  to repair {live}: rebuild the sources it was built from, then pops publish --repair"
    ) in lines
    assert run.stderr == f"error: 1 damaged files of {live} could not be repaired (see above)\n"
    assert t.read(alpha_css) is not None and t.read(beta_css) is None
    assert t.switch_state() == before
    assert pops(t, "status", "--live-only", cwd=tmp_path).returncode == 1  # still missing


def test_repair_needs_something_live(target: Target, tmp_path: Path) -> None:
    make_dist(tmp_path / "dist", GROUPS)
    run = pops(target, "publish", "--no-build", "--repair", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stderr == f"error: nothing is live on {target.url}: nothing to repair; run publish\n"


# --------------------------------------------------------------------------------------
# the commit a release came from
# --------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def test_release_records_its_commit_and_a_dirty_tree_warns_or_refuses(
    target: Target, tmp_path: Path
) -> None:
    t = target
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "admin@example.com")
    git(repo, "config", "user.name", "Admin")
    git(repo, "config", "commit.gpgsign", "false")
    make_dist(repo / "dist", GROUPS)
    git(repo, "add", "dist")
    git(repo, "commit", "-q", "-m", "build")
    head = git(repo, "rev-parse", "HEAD")

    clean = publish_ok(t, "--require-clean", cwd=repo)
    assert clean.stderr == "" and f"built from commit {head}" in clean.stdout
    assert releases_json(t, repo)[0]["source"] == {"commit": head, "dirty": False}
    status = pops(t, "status", "--live-only", cwd=repo)
    assert f"  built from commit {head}" in status.stdout.splitlines()

    make_dist(repo / "dist", {"alpha": "a1", "beta": "b2"})  # not committed
    refused = pops(t, "publish", "--no-build", "--require-clean", cwd=repo)
    assert refused.returncode == 1
    assert refused.stderr == (
        "error: --require-clean: the work tree has uncommitted changes (3: "
        "dist/groups/beta/config.json, dist/groups/beta/theme.css, dist/manifest.json); "
        "commit or stash them. Nothing was published\n"
    )
    assert len(releases_json(t, repo)) == 1

    dirty = publish_ok(t, cwd=repo)
    assert dirty.stderr.startswith("warning: publishing from a work tree with uncommitted changes")
    assert f"the release records commit {head[:12]} as dirty" in dirty.stderr
    assert f"built from commit {head} with uncommitted changes" in dirty.stdout
    rows = releases_json(t, repo)
    assert rows[0]["source"] == {"commit": head, "dirty": True}
    table = pops(t, "releases", cwd=repo).stdout.splitlines()
    assert table[1][2:].split()[3] == f"{head[:12]}+dirty" and table[2][2:].split()[3] == head[:12]

    # repair from the committed build while the dirty one is live names its commit
    git(repo, "checkout", "-q", "--", "dist")
    hint = pops(t, "publish", "--no-build", "--repair", cwd=repo)
    assert hint.returncode == 0, hint.stderr
    assert (
        f"  to repair {rows[0]['release']}: build commit {head[:12]} (it had uncommitted "
        "changes then), then pops publish --repair"
    ) in hint.stdout.splitlines()

    outside = tmp_path / "outside"
    make_dist(outside / "dist", GROUPS)
    no_git = pops(t, "publish", "--no-build", "--require-clean", cwd=outside)
    assert no_git.returncode == 1
    assert "--require-clean: cannot tell which commit this build is" in no_git.stderr
    assert "is not in a git work tree" in no_git.stderr


# --------------------------------------------------------------------------------------
# locks: --wait, and status while one is held
# --------------------------------------------------------------------------------------


def test_wait_for_a_held_lock_then_go_on_or_give_up(target: Target, tmp_path: Path) -> None:
    t = target
    make_dist(tmp_path / "dist", GROUPS)
    make_dist(tmp_path / "other", {"alpha": "a2", "beta": "b1"})
    publish_ok(t, cwd=tmp_path)
    publish_ok(t, "--dist", "other", cwd=tmp_path)
    t.hold_lock()

    code, doc = status_json(t, tmp_path, "--live-only")
    assert code == 1 and doc["lock"].startswith("ops@elsewhere (pid 4242, publish)")
    assert "LOCKED by ops@elsewhere (pid 4242, publish)" in (
        pops(t, "status", "--live-only", cwd=tmp_path).stdout
    )

    gave_up = pops(t, "prune", "--wait", "0.5", cwd=tmp_path)
    assert gave_up.returncode == 1
    waited, error = gave_up.stderr.splitlines()
    held = "ops@elsewhere (pid 4242, publish) since 2026-01-31T12:00:00Z"
    assert waited.startswith(f"waiting up to 0.5s for the lock held by {held} (")
    assert error.startswith(f"error: {t.url} is still locked by {held} (")
    assert error.endswith(
        " ago) after waiting 0.5s; if that publisher is gone, rerun with --break-lock"
    )
    no_wait = pops(t, "rollback", cwd=tmp_path)
    assert no_wait.returncode == 1 and "waiting" not in no_wait.stderr

    for command in (["rollback"], ["prune", "--grace", "0"], ["publish", "--no-build"]):
        waiter = start_cli(command[0], *t.args, *command[1:], "--wait", "120", cwd=tmp_path)
        assert waiter.stderr is not None
        first = waiter.stderr.readline()  # printed once the lock was found held
        assert first.startswith("waiting up to 120s for the lock held by ops@elsewhere"), first
        t.drop_lock()
        _, err = waiter.communicate(timeout=120)
        assert waiter.returncode == 0, err
        t.hold_lock()
    t.drop_lock()
    assert pops(t, "status", "--live-only", cwd=tmp_path).returncode == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    url = (tmp_path / "site").as_uri()
    make_dist(tmp_path / "dist", GROUPS)
    for command in ("status", "releases", "rollback", "prune"):
        run = run_cli(
            command, "--target", url, "--endpoint-url", "http://127.0.0.1:9", cwd=tmp_path
        )
        assert run.returncode == 2, (command, run.stderr)
        assert "--endpoint-url only applies to s3:// targets, not file://" in run.stderr
    run = run_cli(
        "publish", "--target", url, "--no-build", "--endpoint-url", "http://127.0.0.1:9",
        cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 2 and "--endpoint-url only applies" in run.stderr
    both = run_cli(
        "publish", "--target", url, "--no-build", "--repair", "--keep", "3", cwd=tmp_path
    )
    assert both.returncode == 2 and "--keep does not apply to --repair" in both.stderr
    wait = run_cli("prune", "--target", url, "--wait", "-1", cwd=tmp_path)
    assert wait.returncode == 2 and "--wait" in wait.stderr
    assert not (tmp_path / "site").exists()  # no usage error touched the target

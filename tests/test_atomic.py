"""All or nothing: a build that fails, or is killed mid-write, leaves the previous dist/ as it was.

"As it was" is checked strictly: every file's bytes, size, mode and mtime, and
every folder's mtime (a folder's mtime moves when anything is added, removed or
renamed in it), so even rewriting a file with identical bytes is caught.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import pops_executable, write_group

ALPHA = "name: Alpha Clinic\npayments:\n  credit_card: true\n"
BETA = (
    "name: Beta Clinic\npayments:\n  apple_pay: true\nnotifications:\n"
    "  email_from: no-reply@example.com\nauthentication:\n  mfa:\n    enabled: true\n"
    "    success_role: patient\n    email_subject: Your code\n"
    "    email_body: 'Code ${mfa.code}'\n"
)


def snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    for path in sorted([root, *root.rglob("*")]):
        rel = path.relative_to(root).as_posix()
        st = path.lstat()
        if path.is_dir():
            out[rel] = ("dir", st.st_mode, st.st_mtime_ns, st.st_ino)
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[rel] = ("file", digest, st.st_size, st.st_mode, st.st_mtime_ns, st.st_ino)
    return out


def leftovers(repo: Path) -> list[str]:
    return sorted(p.name for p in repo.iterdir() if p.name.startswith(".dist."))


@pytest.fixture
def built(run_pops: Any, repo: Path) -> Path:
    write_group(repo, "alpha", ALPHA)
    write_group(repo, "beta", BETA)
    proc = run_pops("build", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Let the clock move on, so anything rewritten now would show a new mtime.
    time.sleep(0.02)
    return repo


@pytest.mark.parametrize(
    ("slug", "text", "args"),
    [
        pytest.param("gamma", "name: Gamma\npayments:\n  credit_card: maybe\n", (), id="new-bad"),
        pytest.param("alpha", ALPHA + "theme:\n  colors:\n    primary: red\n", (), id="edit-bad"),
        pytest.param("gamma", "name: Gamma\n", ("--strict",), id="warning-strict"),
        pytest.param("gamma", b"name: \xff\n", (), id="bad-bytes"),
    ],
)
def test_failing_build_changes_nothing(
    run_pops: Any, built: Path, slug: str, text: str | bytes, args: tuple[str, ...]
) -> None:
    before = snapshot(built / "dist")
    write_group(built, slug, text)
    proc = run_pops("build", *args, cwd=built)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "nothing written" in proc.stderr
    assert snapshot(built / "dist") == before
    assert leftovers(built) == []


def test_failing_first_build_creates_no_output(run_pops: Any, repo: Path) -> None:
    write_group(repo, "alpha", "name: Alpha\npayments: {credit_card: 1}\n")
    proc = run_pops("build", "--out", "site/dist", cwd=repo)
    assert proc.returncode == 1
    assert not (repo / "site" / "dist").exists()
    assert not (repo / "site").exists() or list((repo / "site").iterdir()) == []


def _write_many(repo: Path, count: int) -> None:
    for i in range(count):
        write_group(
            repo,
            f"bulk-{i:04d}",
            f"name: Bulk Practice {i}\npayments:\n  credit_card: true\n"
            f"theme:\n  colors:\n    primary: '#{(i * 7919) % 0x50:02x}{i % 0x60:02x}a0'\n"
            "look_and_feel:\n  footer:\n    text: Call us any time.\n",
        )


def _wait_for_staging(repo: Path, proc: subprocess.Popen[bytes], limit: float) -> Path | None:
    """The staging folder beside dist/, once a group's files are being written into it."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        for candidate in repo.glob(".dist.tmp-*"):
            groups = candidate / "groups"
            try:
                if groups.is_dir() and any(True for _ in os.scandir(groups)):
                    return candidate
            except FileNotFoundError:
                continue
        time.sleep(0.002)
    return None


def test_build_killed_mid_write_leaves_dist_untouched_and_next_build_cleans_up(
    run_pops: Any, built: Path
) -> None:
    before = snapshot(built / "dist")
    _write_many(built, 1500)
    proc = subprocess.Popen(
        [pops_executable(), "build"],
        cwd=built,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: workers die with it
    )
    try:
        staging = _wait_for_staging(built, proc, limit=120)
        assert staging is not None, "the build finished before its staging folder was seen"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.1)  # let any straggler of the killed group go

    assert snapshot(built / "dist") == before
    assert leftovers(built) != []  # killed mid-write: its staging folder is still there

    done = run_pops("build", cwd=built)
    assert done.returncode == 0, done.stdout + done.stderr
    assert leftovers(built) == []
    dist = built / "dist"
    manifest = json.loads((dist / "manifest.json").read_text())
    assert len(manifest["groups"]) == 1502
    listed = {entry["path"]: entry for entry in manifest["files"]}
    on_disk = {p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file()} - {
        "manifest.json",
        ".pops-output",  # the marker that says pops wrote this folder; no manifest lists it
    }
    assert set(listed) == on_disk
    assert (dist / ".pops-output").read_bytes().startswith(b'{"tool": "pops", "output": "build"')
    for rel in ("groups/alpha/config.json", "groups/bulk-0777/theme.css"):
        data = (dist / rel).read_bytes()
        assert listed[rel]["sha256"] == hashlib.sha256(data).hexdigest()


def test_next_build_removes_a_stale_staging_folder(run_pops: Any, built: Path) -> None:
    stale = built / ".dist.tmp-crashed"
    (stale / "groups" / "alpha").mkdir(parents=True)
    (stale / "groups" / "alpha" / "config.json").write_text("{}\n")
    proc = run_pops("build", cwd=built)
    assert proc.returncode == 0
    assert leftovers(built) == []
    assert json.loads((built / "dist/groups/alpha/config.json").read_text())["slug"] == "alpha"


def _output_is_complete(dist: Path, groups: int) -> bool:
    """The manifest lists exactly the files on disk, with their hashes, for `groups` groups."""
    manifest = json.loads((dist / "manifest.json").read_text())
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    on_disk = {p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file()}
    if len(manifest["groups"]) != groups or set(listed) != on_disk - {
        "manifest.json",
        ".pops-output",
    }:
        return False
    if not (dist / ".pops-output").read_bytes().startswith(b'{"tool": "pops", "output": "build"'):
        return False
    return all(
        hashlib.sha256((dist / rel).read_bytes()).hexdigest() == h for rel, h in listed.items()
    )


@pytest.mark.parametrize(
    "count", [pytest.param(1500, id="large-change"), pytest.param(48, id="small-change")]
)
def test_build_killed_while_replacing_the_output_leaves_old_or_complete_new(
    run_pops: Any, built: Path, count: int
) -> None:
    """Killed the moment dist/ starts to change, dist/ is the old tree or the whole new one.

    An atomic swap changes dist/ in one step, so whatever is seen is complete;
    moving files in one by one would be caught half-way.
    """
    before = snapshot(built / "dist")
    _write_many(built, count)
    groups_dir = built / "dist" / "groups"
    old_listing = sorted(os.listdir(groups_dir))
    proc = subprocess.Popen(
        [pops_executable(), "build"],
        cwd=built,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                if sorted(os.listdir(groups_dir)) != old_listing:
                    break
            except FileNotFoundError:
                break  # mid-swap on a platform without an atomic exchange
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it had already finished
    finally:
        proc.wait(timeout=60)
    time.sleep(0.1)
    dist = built / "dist"
    assert snapshot(dist) == before or _output_is_complete(dist, count + 2)

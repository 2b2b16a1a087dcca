"""The whole incremental engine against a build from scratch, under random histories.

A Hypothesis state machine drives a real project folder through what happens to
repositories: groups added, edited, renamed, deleted and broken; edits that keep
the size and put the mtime back; the defaults, a base and an overlay edited;
any file under `.pops-cache/` damaged, truncated or deleted; `dist/` edited,
emptied or added to by hand; builds killed with SIGKILL at a drawn moment (the
main process or a worker); and `build`, `build --check`, `build --env` and
`validate`, all through the installed `pops` as real processes.

The oracle is `pops build --no-cache` of a copy of the sources in a fresh folder
that has never held a `.pops-cache/`. After every build:

* a build that succeeded left `dist/` byte for byte (files, folders, nothing
  else) what the oracle wrote, and `build --check` agrees;
* a build that failed left `dist/` exactly as it was, and the oracle failed too;
* a killed build left `dist/` as it was or as the oracle wrote it (the swap is
  one rename), and none of its processes outlives it.

`build --check` and `validate` must agree with the oracle at any moment and
never change `dist/`. Every subprocess has a timeout, so a build that hangs
(on a lock a survivor holds, say) fails the test instead of the run.

Racy edits: an edit that keeps the size and sets the mtime back is seen because
the seal keeps each input's ctime, which only the kernel sets. The one edit no
stat can see keeps size, mtime and inode *and* leaves the ctime where it was:
possible only where ctime has coarse (jiffy) granularity and the file changed
twice in one tick around a build that started and finished within that tick,
with its mtime set back by hand. Linux 6.13+ gives ext4, xfs, btrfs and tmpfs
fine-grained ctimes once a stat has seen one, and a `pops` process takes longer
than a tick anyway; the machine's edits all come after a build has exited, so it
stays within what stat can see.

`make test` runs a few short histories; `make soak` (POPS_SOAK_SECONDS) runs
batches of long ones until the time is up. Each batch prints its seed:
`POPS_MACHINE_SEED=<seed>` replays it (kill moments depend on timing, so a
replay is as close as the machine allows).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bench.generate import generate, group_yaml
from compiler.incremental.integrity import CACHE_DIR
from compiler.pipeline.ownership import MARKER
from compiler.pipeline.writer import exchange
from tests.conftest import pops_executable

Tree = dict[str, str]  # relative path -> "dir", "link:<target>" or the file's sha256

STAGING = (
    "overlays:\n"
    "  - groups: all\n"
    "    values:\n"
    "      notifications:\n"
    "        email_from: no-reply@staging.example.com\n"
)
TIMEOUT = 300  # seconds for any one pops run: more means it hangs
SURVIVOR_GRACE = 10.0  # seconds a killed build's processes get to go away
HAND_EDITS = ["edit", "same-size", "delete", "truncate", "stray-file", "stray-folder"]
HAND_EDITS += ["stray-group", "empty-group"]
SOAK = os.environ.get("POPS_SOAK_SECONDS")
LOG = os.environ.get("POPS_MACHINE_LOG")
LETTERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=24)

# What the runs did, for the soak's summary.
STATS: dict[str, int] = {}


def _count(what: str, n: int = 1) -> None:
    STATS[what] = STATS.get(what, 0) + n
    if LOG:  # to follow a long soak as it goes
        with open(LOG, "a") as log:
            log.write(f"{time.strftime('%H:%M:%S')} {what} {STATS[what]}\n")


def tree(root: Path) -> Tree | None:
    """Everything below `root` (None when it does not exist): what "byte-identical" compares."""
    if not root.exists():
        return None
    out: Tree = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def differences(got: Tree | None, want: Tree | None) -> list[str]:
    got, want = got or {}, want or {}
    return sorted(
        f"{'extra' if p not in want else 'missing' if p not in got else 'changed'} {p}"
        for p in set(got) | set(want)
        if got.get(p) != want.get(p)
    )


def subtree(whole: Tree | None, prefix: str) -> Tree:
    """The entries of `whole` below `prefix/`, keyed the same way (with the prefix)."""
    return {p: v for p, v in (whole or {}).items() if p == prefix or p.startswith(prefix + "/")}


def session_pids(sid: int) -> dict[int, str]:
    """Live processes of session `sid` (a build started in its own session): pid -> cmdline."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state not in ("Z", "X"):
            found[int(entry)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
    return found


class Oracle:
    """`pops build --no-cache` of a copy of the sources, once per distinct source state."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.known: dict[str, tuple[bool, Tree | None]] = {}

    def __call__(self, repo: Path) -> tuple[bool, Tree | None]:
        key = hashlib.sha256()
        sources = [repo / "groups", repo / "environments"]
        for folder in sources:
            for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
                key.update(path.relative_to(repo).as_posix().encode() + b"\0")
                if path.is_file():
                    key.update(path.read_bytes() + b"\0")
        digest = key.hexdigest()
        if digest not in self.known:
            fresh = Path(tempfile.mkdtemp(dir=self.scratch, prefix="oracle-"))
            for folder in sources:
                if folder.is_dir():
                    shutil.copytree(folder, fresh / folder.name)
            done = subprocess.run(
                [pops_executable(), "build", "--no-cache", "--out", "out"],
                cwd=fresh,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
            assert done.returncode in (0, 1), done.stderr
            assert not (fresh / CACHE_DIR).exists() or not any(
                p.name.startswith(("seal-", "spare-")) or p.suffix == ".bin"
                for p in (fresh / CACHE_DIR).iterdir()
            ), "--no-cache left a cache behind"
            result = tree(fresh / "out") if done.returncode == 0 else None
            self.known[digest] = (done.returncode == 0, result)
            shutil.rmtree(fresh)
        return self.known[digest]


class Engine(RuleBasedStateMachine):
    """One project folder, one history; see the module's docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.scratch = Path(tempfile.mkdtemp(prefix="pops-machine-"))
        self.repo = self.scratch / "repo"
        self.groups = self.repo / "groups"
        self.dist = self.repo / "dist"
        self.oracle = Oracle(self.scratch)
        self.rng = random.Random(0)
        self.next_index = 10_000
        self.build_seconds = 0.5  # the slowest build so far: the scale of kill moments

    def teardown(self) -> None:
        """Every history ends with a build held to the oracle (swarm testing leaves
        some histories without the build rules)."""
        try:
            if self.groups.is_dir():
                self.build(())
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)

    # -- helpers --------------------------------------------------------------

    def pops(self, *args: str) -> subprocess.CompletedProcess[str]:
        _count("pops runs")
        try:
            return subprocess.run(
                [pops_executable(), *args],
                cwd=self.repo,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
        except subprocess.TimeoutExpired as hung:
            raise AssertionError(f"`pops {' '.join(args)}` did not finish in {TIMEOUT}s") from hung

    def slugs(self) -> list[str]:
        return sorted(p.stem for p in self.groups.glob("*.yaml") if not p.name.startswith("_"))

    def cache_files(self) -> list[Path]:
        cache = self.repo / CACHE_DIR
        return sorted(p for p in cache.rglob("*") if p.is_file()) if cache.is_dir() else []

    def dist_files(self) -> list[Path]:
        """The output's files a hand may edit. Not the ownership markers: without one
        an edited output is no longer provably pops's, and the build rightly refuses it
        (exit 2, nothing touched); tests/test_ownership.py holds that behaviour."""
        if not self.dist.is_dir():
            return []
        return sorted(p for p in self.dist.rglob("*") if p.is_file() and p.name != MARKER)

    def dist_folders(self) -> list[Path]:
        return sorted(p for p in self.dist.rglob("*") if p.is_dir()) if self.dist.is_dir() else []

    def expect_built(self, done: subprocess.CompletedProcess[str], before: Tree | None) -> None:
        """After a build that ran to its end: the oracle's tree, or unchanged on failure."""
        ok, want = self.oracle(self.repo)
        after = tree(self.dist)
        assert "Traceback" not in done.stderr, done.stderr
        if not ok:
            assert done.returncode == 1, (done.returncode, done.stderr)
            assert after == before, differences(after, before)[:20]
            return
        assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
        assert after == want, differences(after, want)[:20]
        leftovers = [p.name for p in self.repo.iterdir() if p.name.startswith(".dist.tmp-")]
        assert not leftovers, leftovers
        self.expect_check()

    def expect_check(self) -> None:
        """`build --check` says stale exactly when `dist/` is not what the oracle writes."""
        ok, want = self.oracle(self.repo)
        before = tree(self.dist)
        done = self.pops("build", "--check")
        _count("checks")
        assert "Traceback" not in done.stderr, done.stderr
        assert tree(self.dist) == before, "build --check changed dist/"
        if not ok:
            assert done.returncode == 1 and "was not checked" in done.stderr, done.stderr
            return
        stale = differences(before, want)
        if not stale:
            assert done.returncode == 0, (done.stdout, done.stderr)
            return
        assert done.returncode == 1, (stale, done.stdout, done.stderr)
        if before is None:
            return
        # What it lists is what differs: every file, and no path that is right.
        listed = {  # (a folder is listed with a trailing slash; diagnostics are not listed)
            line.split()[1].removeprefix("dist/").rstrip("/")
            for line in done.stdout.splitlines()
            if line.split()[:1] in (["changed"], ["missing"], ["extra"])
        }
        wrong = {line.split()[1] for line in stale}
        files = {p for p in wrong if "dir" not in ((want or {}).get(p), before.get(p))}
        assert listed <= wrong and files <= listed, (sorted(listed), stale)

    # -- the repository -------------------------------------------------------

    @initialize(
        count=st.sampled_from([20, 40] if not SOAK else [30, 30, 60, 210]), seed=st.integers(0, 99)
    )
    def make_repo(self, count: int, seed: int) -> None:
        generate(self.groups, count, seed)
        (self.repo / "environments").mkdir()
        (self.repo / "environments/staging.yaml").write_text(STAGING)
        self.rng = random.Random(seed)
        _count("histories")

    @rule(data=st.data(), what=st.sampled_from(["add", "edit", "break", "rename", "delete"]))
    def change_groups(self, data: st.DataObject, what: str) -> None:
        """A group file added, edited (maybe racily), broken, renamed or deleted."""
        if what == "add":
            self.add_group()
        elif what == "edit":
            self.edit_group(
                data, data.draw(LETTERS), data.draw(st.booleans()), data.draw(st.booleans())
            )
        elif what == "break":
            self.break_group(data)
        elif what == "rename":
            self.rename_group(data)
        else:
            self.delete_group(data)

    @rule(data=st.data(), what=st.sampled_from(["defaults", "base", "overlay"]))
    def change_shared(self, data: st.DataObject, what: str) -> None:
        """`_defaults.yaml`, a base or an environment overlay edited."""
        if what == "defaults":
            self.edit_defaults(data.draw(LETTERS))
        elif what == "base":
            self.edit_base(
                data.draw(st.sampled_from(["light-clinic", "mfa-email", "card-payments"]))
            )
        else:
            self.edit_overlay(
                data.draw(st.sampled_from(["staging", "qa", "test"])), data.draw(st.booleans())
            )

    def add_group(self) -> None:
        index = self.next_index
        self.next_index += 1
        (self.groups / f"added-{index}.yaml").write_text(group_yaml(index, self.rng, True))

    def edit_group(
        self, data: st.DataObject, name: str, same_size: bool, replace_file: bool
    ) -> None:
        """A new name; `same_size` keeps the size and puts the mtime back, as a racy edit."""
        slugs = self.slugs()
        if not slugs:
            return
        path = self.groups / f"{data.draw(st.sampled_from(slugs))}.yaml"
        text = path.read_text()
        start = text.find('name: "')
        if start < 0:
            return
        start += len('name: "')
        end = text.index('"', start)
        old = text[start:end]
        if same_size:
            name = (name * len(old))[: len(old)]
            if name == old:
                name = "".join("a" if c != "a" else "b" for c in old)
        new = text[:start] + name + text[end:]
        st_before = path.stat()
        if replace_file:  # as editors that save to a new file and rename it over
            temporary = path.with_suffix(".yaml.tmp")
            temporary.write_text(new)
            temporary.rename(path)
        else:
            path.write_text(new)
        if same_size:
            os.utime(path, ns=(st_before.st_atime_ns, st_before.st_mtime_ns))

    def break_group(self, data: st.DataObject) -> None:
        slugs = self.slugs()
        if slugs:
            path = self.groups / f"{data.draw(st.sampled_from(slugs))}.yaml"
            path.write_text(
                path.read_text() + data.draw(st.sampled_from(["no_such_key: 1\n", "name: [\n"]))
            )

    def rename_group(self, data: st.DataObject) -> None:
        slugs = self.slugs()
        if slugs:
            slug = data.draw(st.sampled_from(slugs))
            self.next_index += 1
            (self.groups / f"{slug}.yaml").rename(self.groups / f"renamed-{self.next_index}.yaml")

    def delete_group(self, data: st.DataObject) -> None:
        slugs = self.slugs()
        if len(slugs) > 1:
            (self.groups / f"{data.draw(st.sampled_from(slugs))}.yaml").unlink()

    def edit_defaults(self, text: str) -> None:
        path = self.groups / "_defaults.yaml"
        body = path.read_text()
        line = next(x for x in body.splitlines() if x.strip().startswith("text:"))
        path.write_text(body.replace(line, f"    text: {text.strip() or 'x'}."))

    def edit_base(self, which: str) -> None:
        path = self.groups / f"_{which}.yaml"
        body = path.read_text()
        swaps = {
            "light-clinic": ("show_collections: true", "show_collections: false"),
            "mfa-email": ("email_subject: Your verification code", "email_subject: Your code"),
            "card-payments": ("require_cvv: true", "require_cvv: false"),
        }[which]
        a, b = swaps
        path.write_text(body.replace(a, b) if a in body else body.replace(b, a))

    def edit_overlay(self, sender: str, prod: bool) -> None:
        path = self.repo / "environments/staging.yaml"
        path.write_text(STAGING.replace("@staging.", f"@{sender}."))
        extra = self.repo / "environments/prod.yaml"
        if prod:
            extra.write_text(STAGING.replace("@staging.", "@prod."))
        elif extra.exists():
            extra.unlink()

    # -- the cache ------------------------------------------------------------

    @precondition(lambda self: (self.repo / CACHE_DIR).is_dir())
    @rule(
        data=st.data(),
        how=st.sampled_from(["flip", "truncate", "delete", "empty", "rmdir"]),
        spare=st.booleans(),
    )
    def damage_cache(self, data: st.DataObject, how: str, spare: bool) -> None:
        """Any file under the cache damaged, cut or removed; `spare`: one in the spare tree."""
        cache = self.repo / CACHE_DIR
        if how == "rmdir":
            folders = [p for p in cache.rglob("*") if p.is_dir()]
            if folders:
                shutil.rmtree(data.draw(st.sampled_from(folders)))
            return
        files = self.cache_files()
        if spare:
            files = [
                p for p in files if p.relative_to(cache).parts[0].startswith("spare-")
            ] or files
        if not files:
            return
        path = data.draw(st.sampled_from(files))
        size = path.stat().st_size
        if how == "delete":
            path.unlink()
        elif how == "empty":
            path.write_bytes(b"")
        elif how == "truncate":
            os.truncate(path, data.draw(st.integers(0, max(size - 1, 0))))
        elif size:
            at = data.draw(st.integers(0, size - 1))
            with open(path, "r+b") as f:  # in place: a hard-linked copy changes too
                f.seek(at)
                byte = f.read(1)
                f.seek(at)
                f.write(bytes([byte[0] ^ 0x20]))

    @precondition(lambda self: self.dist.is_dir() and (self.repo / CACHE_DIR).is_dir())
    @rule()
    def swap_back(self) -> None:
        """`dist/` and its spare tree swapped back, as a seal written before a swap that
        never happened would find them: the seal must not vouch for this `dist/`."""
        name = hashlib.sha256(str(self.dist.absolute()).encode()).hexdigest()[:16]
        spare = self.repo / CACHE_DIR / f"spare-{name}"
        if (spare / MARKER).is_file():  # (a tree without it is rightly refused as not ours)
            _count("swapped back")
            assert exchange(spare, self.dist)

    # -- dist/ by hand --------------------------------------------------------

    @precondition(lambda self: self.dist.is_dir())
    @rule(
        data=st.data(),
        how=st.sampled_from(HAND_EDITS),
    )
    def hand_dist(self, data: st.DataObject, how: str) -> None:
        """`dist/` edited, cut or added to by hand, or an output folder emptied."""
        if how.startswith(("stray", "empty")):
            self.hand_add_dist(data, how)
        else:
            self.hand_edit_dist(data, how)

    def hand_edit_dist(self, data: st.DataObject, how: str) -> None:
        files = self.dist_files()
        if not files:
            return
        path = data.draw(st.sampled_from(files))
        before = path.stat()
        if how == "delete":
            path.unlink()
        elif how == "truncate":
            os.truncate(path, before.st_size // 2)
        elif how == "edit":
            with open(path, "ab") as f:
                f.write(b"\n/* edited by hand */\n")
        else:
            body = bytearray(path.read_bytes())
            if body:
                at = data.draw(st.integers(0, len(body) - 1))
                body[at] = ord("x") if body[at] != ord("x") else ord("y")
                with open(path, "r+b") as f:
                    f.write(body)
                os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    def hand_add_dist(self, data: st.DataObject, where: str) -> None:
        folders = [self.dist, *self.dist_folders()]
        if where == "stray-file":
            folder = data.draw(st.sampled_from(folders))
            (folder / "notes.txt").write_text("added by hand\n")
        elif where == "stray-folder":
            folder = data.draw(st.sampled_from(folders))
            (folder / "stray").mkdir(exist_ok=True)
        elif where == "stray-group":
            (self.dist / "groups" / "not-a-group").mkdir(parents=True, exist_ok=True)
        else:
            groups = [p for p in folders if p.parent.name == "groups"]
            if groups:
                for child in data.draw(st.sampled_from(groups)).iterdir():
                    shutil.rmtree(child) if child.is_dir() else child.unlink()

    # -- builds ---------------------------------------------------------------

    @rule(how=st.sampled_from([(), ("--jobs", "2"), ("--jobs", "1")]))
    def build(self, how: tuple[str, ...]) -> None:
        before = tree(self.dist)
        started = time.monotonic()
        done = self.pops("build", *how)
        self.build_seconds = max(self.build_seconds, time.monotonic() - started)
        _count("builds")
        self.expect_built(done, before)

    @rule()
    def build_check(self) -> None:
        self.expect_check()

    @rule()
    def build_env(self) -> None:
        ok, want = self.oracle(self.repo)
        before = tree(self.dist)
        done = self.pops("build", "--env", "staging")
        _count("builds --env")
        assert "Traceback" not in done.stderr, done.stderr
        after = tree(self.dist)
        if not ok:
            assert done.returncode == 1, done.stderr
            assert after == before, differences(after, before)[:20]
            return
        assert done.returncode == 0, done.stderr
        expected = {
            p: v
            for p, v in (before or {}).items()
            if p != "staging" and not p.startswith("staging/")
        }
        expected.update(subtree(want, "staging"))
        if MARKER not in expected and want is not None and MARKER in want:
            expected[MARKER] = want[MARKER]  # the output folder it made is marked as pops's
        assert after == expected, differences(after, expected)[:20]
        check = self.pops("build", "--env", "staging", "--check")
        assert check.returncode == 0, (check.stdout, check.stderr)

    @rule()
    def validate(self) -> None:
        ok, _ = self.oracle(self.repo)
        before = tree(self.dist)
        done = self.pops("validate")
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == (0 if ok else 1), (done.stdout, done.stderr)
        assert tree(self.dist) == before, "validate changed dist/"

    @rule(
        fraction=st.floats(0.0, 1.2),
        moment=st.sampled_from(["from-start", "once-workers-run"]),
        victim=st.sampled_from(["main", "worker"]),
        how=st.sampled_from([(), ("--jobs", "2")]),
    )
    def kill_build(self, fraction: float, moment: str, victim: str, how: tuple[str, ...]) -> None:
        """SIGKILL a build at a drawn moment; the old or the new tree, and nobody left.

        `from-start`: `fraction` of the slowest build seen so far after the start;
        `once-workers-run`: that long after its worker processes appeared (a build
        with fewer groups to compile than the engine's pool threshold has none,
        and is killed when it ends or at the same moment from its start).
        """
        ok, want = self.oracle(self.repo)
        before = tree(self.dist)
        _count("kills")
        build = subprocess.Popen(
            [pops_executable(), "build", *how],
            cwd=self.repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        seen: dict[int, str] = {}
        delay = fraction * self.build_seconds
        start = time.monotonic()
        while build.poll() is None:
            seen.update(session_pids(build.pid))
            workers = [p for p in seen if p != build.pid]
            now = time.monotonic()
            if moment == "once-workers-run" and workers:
                start, moment = now, "from-start"
            if moment == "from-start" and now - start >= delay:
                break
            time.sleep(0.005)
        workers = [p for p in session_pids(build.pid) if p != build.pid]
        target = build.pid
        if victim == "worker" and workers:
            target = workers[0]
            _count("workers killed")
        elif build.poll() is None:
            _count("main processes killed" + (" with workers" if workers else ""))
        seen.update(session_pids(build.pid))
        with contextlib.suppress(ProcessLookupError):  # it had finished
            os.kill(target, signal.SIGKILL)
        try:
            _, err = build.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self._reap(build.pid)
            raise AssertionError(f"a build whose worker was killed never ended: {seen}") from None
        survivors: dict[int, str] = {}
        until = time.monotonic() + SURVIVOR_GRACE
        while time.monotonic() < until:
            survivors = session_pids(build.pid)
            if not survivors:
                break
            time.sleep(0.05)
        if survivors:
            self._reap(build.pid)
            raise AssertionError(f"the killed build left processes alive: {survivors}")
        assert b"Traceback" not in err or build.returncode == -signal.SIGKILL, err.decode()
        after = tree(self.dist)
        if build.returncode == 0:
            assert ok and after == want, differences(after, want)[:20]
        else:
            allowed = [before] + ([want] if ok else [])
            assert after in allowed, (
                f"a killed build (exit {build.returncode}) left a mix: "
                f"{differences(after, before)[:10]} / {differences(after, want)[:10]}"
            )

    def _reap(self, sid: int) -> None:
        """Kill what is left of a build this test started (by pid: its own session)."""
        for pid in session_pids(sid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    @invariant()
    def groups_folder_untouched(self) -> None:
        """Nothing the engine writes appears inside the groups folder."""
        _count("steps")
        if self.groups.is_dir():
            assert not [p for p in self.groups.iterdir() if p.is_dir()]


def _settings(examples: int, steps: int) -> settings:
    # Shrinking a history of subprocess builds takes many minutes: only on request
    # (POPS_MACHINE_SHRINK=1), typically with POPS_MACHINE_SEED of a failure.
    shrink = os.environ.get("POPS_MACHINE_SHRINK") == "1"
    return settings(
        phases=[Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if shrink else [])],
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def _run(seed_value: int, examples: int, steps: int) -> None:
    machine = hypothesis_seed(seed_value)(Engine)
    try:
        run_state_machine_as_test(machine, settings=_settings(examples, steps))
    except BaseException as failure:
        failure.add_note(f"replay with POPS_MACHINE_SEED={seed_value}")
        raise


def _seeds() -> Iterator[int]:
    fixed = os.environ.get("POPS_MACHINE_SEED")
    if fixed:
        yield int(fixed)
        return
    while True:
        yield random.SystemRandom().randrange(2**32)


def test_engine_matches_a_build_from_scratch() -> None:
    """A few short histories (seconds); `make soak` runs long ones for minutes."""
    if not SOAK:
        seed_value = next(_seeds())
        print(f"POPS_MACHINE_SEED={seed_value}", file=sys.stderr)
        _run(seed_value, examples=3, steps=12)
        return
    end = time.monotonic() + float(SOAK)
    batches = 0
    for seed_value in _seeds():
        print(f"soak batch {batches}: POPS_MACHINE_SEED={seed_value}", file=sys.stderr, flush=True)
        _run(seed_value, examples=5, steps=40)
        batches += 1
        if time.monotonic() >= end or os.environ.get("POPS_MACHINE_SEED"):
            break
    print(f"soak: {batches} batches, {STATS}", file=sys.stderr, flush=True)


# -- what the machine found, as fixed histories ---------------------------------


@contextmanager
def history(count: int = 20, seed: int = 1) -> Iterator[Engine]:
    """A machine's project, driven by hand: each rule checks what it always checks."""
    machine = Engine()
    try:
        machine.make_repo(count, seed)
        yield machine
    finally:
        machine.teardown()


@pytest.mark.parametrize("where", ["groups/not-a-group", "groups/{slug}/stray"])
def test_an_empty_folder_left_in_dist_is_removed_by_the_next_build(where: str) -> None:
    """Found by the machine (POPS_MACHINE_SEED=3929677913): a build after `mkdir
    dist/groups/not-a-group` kept the folder, and `build --check` called it up to date."""
    with history() as machine:
        machine.build(())
        slug = machine.slugs()[2]
        (machine.dist / where.format(slug=slug)).mkdir(parents=True)
        machine.build_check()
        machine.build(("--jobs", "2"))


def test_an_empty_folder_left_in_an_environments_output_is_removed_by_build_env() -> None:
    """Found by the machine (POPS_MACHINE_SEED=3112302746): `build --env staging`
    after `mkdir dist/staging/groups/<slug>/mfa/stray` kept the folder."""
    with history() as machine:
        machine.build_env()
        staged = machine.dist / "staging/groups"
        slug = next(p.name for p in staged.iterdir() if (p / "mfa").is_dir())
        (machine.dist / f"staging/groups/{slug}/mfa/stray").mkdir()
        machine.build_env()


@pytest.mark.parametrize("replace_file", [False, True])
def test_an_edit_that_keeps_the_size_and_puts_the_mtime_back_is_built(replace_file: bool) -> None:
    """Right after a build (within the seal's own mtime tick, as fast as a test goes),
    a group's name changes, its size stays and its mtime is set back: the ctime in the
    seal still moves, as git's index relies on, so the next build and check see it."""
    with history() as machine:
        machine.build(())
        machine.edit_group(_Fixed(machine.slugs()[0]), "x", True, replace_file)  # type: ignore[arg-type]
        machine.build_check()
        machine.build(())


class _Fixed:
    """A stand-in for Hypothesis's data() in fixed histories: draws return `value`."""

    def __init__(self, value: object) -> None:
        self.value = value

    def draw(self, strategy: object) -> object:
        return self.value


def test_a_build_whose_worker_is_killed_fails_in_one_line_and_the_next_one_finishes() -> None:
    """Found by the machine (POPS_MACHINE_SEED=2900524614): SIGKILL to a worker of a
    210-group build gave a BrokenProcessPool traceback."""
    with history(count=210) as machine:
        machine.build(())
        machine.change_shared(_Fixed("ignored"), "defaults")  # type: ignore[arg-type]
        before = tree(machine.dist)
        build = subprocess.Popen(
            [pops_executable(), "build", "--jobs", "2"],
            cwd=machine.repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        workers: list[int] = []
        while not workers and build.poll() is None:
            workers = [p for p in session_pids(build.pid) if p != build.pid]
        assert workers, "the build ended before it had workers"
        os.kill(workers[0], signal.SIGKILL)
        _, err = build.communicate(timeout=TIMEOUT)
        assert build.returncode == 1, err
        assert err.endswith(
            "pops: a worker process ended abruptly (killed, or out of memory); "
            "run it again; nothing was written\n"
        ), err
        assert "Traceback" not in err
        assert tree(machine.dist) == before
        deadline = time.monotonic() + SURVIVOR_GRACE
        while session_pids(build.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not session_pids(build.pid)
        machine.build(())


def test_an_emptied_output_folder_is_listed_by_its_missing_files_not_as_extra() -> None:
    """Found by the machine (POPS_MACHINE_SEED=970120466): with dist/groups/<slug>/
    emptied by hand, `build --check` listed the folder itself as `extra`, though the
    build wants it; only its files are missing."""
    with history() as machine:
        machine.build(())
        folder = machine.dist / "groups" / machine.slugs()[3]
        machine.hand_add_dist(_Fixed(folder), "empty-group")  # type: ignore[arg-type]
        machine.build_check()
        machine.build(())


def test_a_failed_full_build_discards_what_it_wrote_into_the_spare() -> None:
    """The full pipeline writes the groups it compiles into the spare tree: when a group
    then fails, `dist/` stays, no seal survives, and the builds after it are clean."""
    with history() as machine:
        machine.build(())
        machine.edit_group(_Fixed(machine.slugs()[0]), "first", False, False)  # type: ignore[arg-type]
        machine.build(())  # (from the seal: the spare is recorded now)
        machine.add_group()  # the full pipeline, into the spare...
        machine.edit_defaults("changed")
        broken = machine.slugs()[3]
        machine.break_group(_Fixed(broken))  # type: ignore[arg-type]
        machine.build(())  # ...fails
        assert not list((machine.repo / CACHE_DIR).glob("seal-*.bin"))
        machine.build_check()
        (machine.groups / f"{broken}.yaml").unlink()
        machine.build(())
        machine.edit_group(_Fixed(machine.slugs()[1]), "second", False, False)  # type: ignore[arg-type]
        machine.build(())
        machine.build_check()


@pytest.mark.parametrize("then", ["small change", "full pipeline", "check"])
def test_a_seal_is_not_believed_for_a_dist_that_was_not_swapped_in(then: str) -> None:
    """`dist/` and the spare swapped back after a build, as a seal written before a swap
    that never happened would find them: the folders' recorded stats catch it."""
    with history() as machine:
        machine.build(())
        for name in ("first", "second"):
            machine.edit_group(_Fixed(machine.slugs()[0]), name, False, False)  # type: ignore[arg-type]
            machine.build(())
        machine.swap_back()
        if then == "small change":
            machine.edit_group(_Fixed(machine.slugs()[2]), "third", False, False)  # type: ignore[arg-type]
        elif then == "full pipeline":
            machine.add_group()
        if then == "check":
            machine.build_check()
        machine.build(())
        machine.build_check()

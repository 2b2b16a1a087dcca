"""The engine's own rules (issue #16): what the caches keep never reaches the output
unverified, workers never outlive their build, and a broken environment is a
one-line error, never a traceback or a touched output.

Every test goes through the real `pops` executable and judges what a user sees:
exit codes, messages, and `dist/` byte for byte against a build from scratch.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.incremental.integrity import CACHE_DIR
from tests.conftest import Run, pops_executable, write_group
from tests.test_cache import GROUP

REPO = Path(__file__).resolve().parent.parent


def _tree(root: Path) -> dict[str, str]:
    """Every file and folder below `root`: folders as "dir", files by sha256."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def _age(repo: Path) -> None:
    """As a moment after a build: the seal is older than nothing it records."""
    for seal_file in (repo / CACHE_DIR).glob("seal-*.bin"):
        later = seal_file.stat().st_mtime_ns + 5_000_000_000
        os.utime(seal_file, ns=(later, later))


def _same_as_clean(repo: Path, run_pops: Run) -> None:
    """dist/ holds exactly what a build from scratch writes, and `build --check` agrees."""
    _ok(run_pops("build", "--no-cache", "--out", "clean", cwd=repo))
    assert _tree(repo / "dist") == _tree(repo / "clean")
    _ok(run_pops("build", "--check", cwd=repo))
    _ok(run_pops("build", "--check", "--no-cache", cwd=repo))


@pytest.fixture
def four(repo: Path, run_pops: Run) -> Path:
    for i in range(4):
        write_group(repo, f"g{i}", GROUP.format(name=f"Group {i}"))
    _ok(run_pops("build", cwd=repo))
    return repo


def _edit(repo: Path, slug: str, name: str) -> None:
    write_group(repo, slug, GROUP.format(name=name))


# --- the spare tree --------------------------------------------------------------------


def _spare(repo: Path) -> Path:
    (found,) = [p for p in (repo / CACHE_DIR).glob("spare-*") if p.is_dir()]
    return found


@pytest.mark.parametrize("how", ["replaced", "in-place", "added"])
def test_a_damaged_spare_file_never_reaches_the_output(four: Path, run_pops: Run, how: str) -> None:
    _edit(four, "g1", "One")
    _ok(run_pops("build", cwd=four))  # the old output is now the spare
    _age(four)
    spare = _spare(four)
    target = spare / "groups/g3/config.json"
    if how == "replaced":  # a new file in its place (new inode)
        target.unlink()
        target.write_bytes(b"CORRUPT\n")
    elif how == "in-place":  # the spare's own copy, written through (not a hard link)
        data = target.read_bytes()
        target.unlink()
        target.write_bytes(data)
        _ok(run_pops("build", cwd=four))  # (a no-op: the spare is not used)
        with open(target, "r+b") as handle:
            handle.write(b"CORRUPT")
    else:  # a file the seal does not know, in a folder it does
        (spare / "groups/g3/extra.txt").write_bytes(b"stray\n")
    _edit(four, "g0", "Zero")
    _ok(run_pops("build", cwd=four))  # swaps the spare in
    _same_as_clean(four, run_pops)
    for round_ in range(2):  # and the trees keep taking turns, clean
        _edit(four, "g2", f"Two {round_}")
        _ok(run_pops("build", cwd=four))
        _same_as_clean(four, run_pops)


def test_a_damaged_spare_file_is_caught_by_the_full_pipeline_too(four: Path, run_pops: Run) -> None:
    _edit(four, "g1", "One")
    _ok(run_pops("build", cwd=four))
    _age(four)
    target = _spare(four) / "groups/g3/theme.css"
    target.unlink()
    target.write_bytes(b"CORRUPT\n")
    write_group(four, "g9", GROUP.format(name="Nine"))  # an added group: the full pipeline
    _ok(run_pops("build", cwd=four))
    _same_as_clean(four, run_pops)


def test_a_failed_full_build_leaves_the_output_and_no_seal(four: Path, run_pops: Run) -> None:
    """The full pipeline writes the groups it compiles into the spare tree; when another
    group then fails, the output stays exactly as it was and no seal claims the spare."""
    _edit(four, "g1", "One")
    _ok(run_pops("build", cwd=four))  # the spare exists now, and the seal records it
    _age(four)
    before = _tree(four / "dist")
    write_group(four, "g8", GROUP.format(name="Eight"))  # written into the spare...
    (four / "groups/g9.yaml").write_text("name: Nine\nbogus_key: 1\n")  # ...then an error
    _edit(four, "g0", "Zero")
    failed = run_pops("build", cwd=four)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "g9.yaml" in failed.stdout + failed.stderr
    assert _tree(four / "dist") == before
    assert not list((four / CACHE_DIR).glob("seal-*.bin"))
    (four / "groups/g9.yaml").unlink()
    _ok(run_pops("build", cwd=four))
    _same_as_clean(four, run_pops)
    _edit(four, "g2", "Two")  # and the next change, from the seal, is clean too
    _ok(run_pops("build", cwd=four))
    _same_as_clean(four, run_pops)


def test_a_build_killed_between_the_swap_and_the_seal_is_caught(four: Path, run_pops: Run) -> None:
    """The seal is written once the output is in place (the last one is deleted before
    anything changes): a build killed between the swap and that write leaves no seal,
    and the next build starts from the output it finds."""
    _edit(four, "g1", "One")
    _ok(run_pops("build", cwd=four))
    write_group(four, "g8", GROUP.format(name="Eight"))  # the full pipeline, with the spare
    _ok(run_pops("build", cwd=four))
    for seal_file in (four / CACHE_DIR).glob("seal-*.bin"):
        seal_file.unlink()  # (what the kill leaves)
    _edit(four, "g0", "Zero")
    _ok(run_pops("build", cwd=four))
    _same_as_clean(four, run_pops)


def test_a_seal_that_vouches_for_a_tree_not_swapped_in_is_caught(four: Path, run_pops: Run) -> None:
    """Were a seal written for a swap that never happened, the output folder's own stat
    (its inode) would differ from the seal's record: the seal is not believed."""
    from compiler.pipeline.writer import exchange

    _edit(four, "g1", "One")
    _ok(run_pops("build", cwd=four))
    _edit(four, "g1", "One again")
    _ok(run_pops("build", cwd=four))  # the seal records this tree in dist/
    _age(four)
    assert exchange(_spare(four), four / "dist")  # dist/ as it was before that build
    assert "One again" not in (four / "dist/groups/g1/config.json").read_text()
    check = run_pops("build", "--check", cwd=four)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "changed  dist/groups/g1/config.json" in check.stdout
    _ok(run_pops("build", cwd=four))
    _same_as_clean(four, run_pops)


def test_an_old_spare_record_is_ignored(four: Path, run_pops: Run) -> None:
    """Older versions kept the spare's record in `spare-<hash>.json`; one left in the cache,
    however wrong, is never read: the seal alone says what the spare holds."""
    _edit(four, "g1", "One")
    _ok(run_pops("build", cwd=four))
    spare = _spare(four)
    target = spare / "groups/g3/config.json"
    st = target.stat()
    record = spare.with_name(spare.name + ".json")
    lie = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, "0" * 64]
    record.write_text(f'{{"root": "{four / "dist"}", "files": {{"groups/g3/config.json": {lie}}}}}')
    target.unlink()
    target.write_bytes(b"CORRUPT\n")
    write_group(four, "g8", GROUP.format(name="Eight"))  # the full pipeline
    _ok(run_pops("build", cwd=four))
    _same_as_clean(four, run_pops)
    _edit(four, "g0", "Zero")  # and a build from the seal
    _ok(run_pops("build", cwd=four))
    _same_as_clean(four, run_pops)


@pytest.mark.parametrize(
    "steps",
    [
        ["edit", "remove", "add", "edit", "edit"],
        ["remove", "edit", "edit", "edit"],
        ["edit", "remove", "edit", "add", "edit", "edit"],
    ],
)
def test_a_removed_group_s_folder_never_returns(
    four: Path, run_pops: Run, steps: list[str]
) -> None:
    for k, step in enumerate(steps):
        if step == "edit":
            _edit(four, "g0", f"Zero {k}")
        elif step == "remove":
            (four / "groups/g2.yaml").unlink()
        else:
            write_group(four, f"new{k}", GROUP.format(name=f"New {k}"))
        _ok(run_pops("build", cwd=four))
        gone = "remove" in steps[: k + 1]
        assert (four / "dist/groups/g2").exists() != gone, f"after step {k}: {step}"
        _same_as_clean(four, run_pops)
        _age(four)


def test_an_empty_folder_added_to_the_output_is_stale_and_removed(
    four: Path, run_pops: Run
) -> None:
    _age(four)
    (four / "dist/groups/ghost").mkdir()
    check = run_pops("build", "--check", cwd=four)
    assert check.returncode == 1
    assert "extra  dist/groups/ghost/" in check.stdout
    _ok(run_pops("build", cwd=four))
    assert not (four / "dist/groups/ghost").exists()
    _same_as_clean(four, run_pops)


# --- workers and the lock --------------------------------------------------------------


def _children(pid: int) -> set[int]:
    """The live processes whose parent is `pid`."""
    found: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _many(repo: Path, count: int) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "bench/generate.py"), str(repo / "groups"), str(count)],
        check=True,
        capture_output=True,
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_build_and_the_next_build_runs(repo: Path, run_pops: Run) -> None:
    _many(repo, 1200)
    proc = subprocess.Popen(
        [pops_executable(), "build", "--jobs", "2"],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid)
            if len(workers) >= 2:
                break
            time.sleep(0.005)
        assert len(workers) >= 2, "the build ended before its workers were seen"
        os.kill(proc.pid, signal.SIGKILL)  # the build alone, not its process group
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.01)
    assert [p for p in workers if _alive(p)] == []
    done = subprocess.run(
        [pops_executable(), "build"], cwd=repo, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    assert "taking over the lock of dist/ from build" in done.stderr
    assert done.stderr.endswith("built 1200 groups, 5417 files into dist/\n") or (
        "built 1200 groups" in done.stderr
    )
    _ok(run_pops("build", "--check", cwd=repo))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="F_GETPIPE_SZ is Linux's")
def test_the_outcomes_pipe_holds_several_chunks(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker never waits for the parent to read before it starts its next chunk: the
    pipe that carries outcomes back holds several chunks' worth."""
    import fcntl
    import pickle

    from compiler.incremental import workers

    _many(repo, workers.CHUNK)
    monkeypatch.chdir(repo)
    paths = sorted(str(p) for p in Path("groups").glob("*.yaml") if p.name[0] != "_")
    layers = workers.load_layers(Path("groups"), None, None)
    outcomes = workers._compile_chunk(paths, True, str(repo / "out"), None, layers)
    chunk = len(pickle.dumps(outcomes, protocol=pickle.HIGHEST_PROTOCOL))
    pool = workers._new_pool(Path("groups"), None, None, 2)
    try:
        reader = pool._result_queue._reader  # type: ignore[attr-defined]
        room = fcntl.fcntl(reader.fileno(), fcntl.F_GETPIPE_SZ)
    finally:
        pool.shutdown()
    assert room >= 4 * chunk  # (a default pipe, 64 KiB, holds about one)


def test_workers_read_the_shared_files_only_when_asked_to_compile(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers are forked before the build takes its inputs' stats for the seal: a shared
    file edited in between is compiled as edited, never as it was when they started."""
    from compiler.incremental import workers

    _many(repo, workers.PARALLEL_THRESHOLD)
    monkeypatch.chdir(repo)
    groups = Path("groups")
    defaults = groups / "_defaults.yaml"
    workers.start_workers(groups, None, Path("environments"), 2)
    try:
        pool = workers._STARTED[(str(groups), None, "environments", 2)]
        for started in [pool.submit(time.sleep, 0.3) for _ in range(2)]:
            started.result()  # (each worker ran its initializer long before)
        defaults.write_text(defaults.read_text().replace("Contact our office", "Call us"))
        paths = sorted(p for p in groups.glob("*.yaml") if p.name[0] != "_")
        outcomes = workers.compile_paths(
            paths,
            groups_dir=groups,
            env=None,
            env_dir=Path("environments"),
            layers=workers.load_layers(groups),
            render=True,
            write_dir=repo / "out",
            compare_dir=None,
            jobs=2,
            progress=None,
            done_before=0,
            total=len(paths),
        )
    finally:
        workers.stop_workers()
    assert len(outcomes) == len(paths)
    configs = [p.read_text() for p in (repo / "out/groups").glob("*/config.json")]
    assert len(configs) == len(paths)
    assert not [c for c in configs if "Contact our office" in c]
    assert [c for c in configs if "Call us" in c]


def test_a_build_waits_for_a_live_holder_and_says_so_once(four: Path) -> None:
    """A second build waits while the first holds the lock, naming it; then runs."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from compiler.pipeline.output_folder import lock_output, unlock_output\n"
            "fd = lock_output('dist', '.pops-cache')\n"
            "print('held', flush=True)\n"
            "sys.stdin.readline()\n"
            "unlock_output(fd)\n",
        ],
        cwd=four,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        _edit(four, "g0", "Zero")
        waiting = subprocess.Popen(
            [pops_executable(), "build"],
            cwd=four,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)
        assert waiting.poll() is None  # it waits
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        _, err = waiting.communicate(timeout=120)
    finally:
        holder.kill()
        holder.wait()
    assert waiting.returncode == 0, err
    assert err.count("waiting for another build of dist/") == 1
    assert f"(pid {holder.pid})" in err
    assert "taking over" not in err


def test_the_lock_lives_in_the_cache_folder(four: Path, run_pops: Run) -> None:
    """Nothing new beside the output or in the repository, whatever the output's path."""
    (four / "site").mkdir()
    before = sorted(p.name for p in four.iterdir())
    inside = sorted(p.name for p in (four / "site").iterdir())
    _edit(four, "g1", "One")
    _ok(run_pops("build", cwd=four))
    _ok(run_pops("build", "--out", "site/out", cwd=four))
    _edit(four, "g1", "One again")
    _ok(run_pops("build", "--out", "site/out", cwd=four))
    assert sorted(p.name for p in four.iterdir()) == before
    assert sorted(p.name for p in (four / "site").iterdir()) == [*inside, "out"]
    assert list((four / CACHE_DIR).glob("lock-*"))


# --- the libraries are build inputs ------------------------------------------------------

MFA = (
    "name: Quote Clinic\npayments:\n  credit_card: true\nnotifications:\n"
    "  email_from: no-reply@example.com\nauthentication:\n  mfa:\n    enabled: true\n"
    "    success_role: patient\n    email_subject: Your code\n"
    '    email_body: "Don\'t share it: ${mfa.code}"\n'
)
# Appended to a private copy of MarkupSafe: `'` escaped another (valid) way, as a
# release of the library might.
OTHER_ESCAPE = """

def _escape_inner(s: str, /) -> str:  # (a different release)
    return (
        s.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
        .replace("'", "&apos;").replace('"', "&#34;")
    )
"""


def test_a_library_that_changes_is_a_build_input(four: Path, run_pops: Run) -> None:
    """A library edited where it is installed (same version, same sys.path) makes
    `build --check` stale and `build` rebuild, as a clean build would write."""
    import markupsafe

    shadow = four.parent / "libs"  # a private copy, first on sys.path: ours to edit
    shutil.copytree(Path(markupsafe.__file__).parent, shadow / "markupsafe")
    env = {"PYTHONPATH": str(shadow)}
    write_group(four, "quote", MFA)
    _ok(run_pops("build", cwd=four, env=env))
    _ok(run_pops("build", cwd=four, env=env))  # (a no-op)
    _age(four)
    before = _tree(four / "dist")
    with open(shadow / "markupsafe/__init__.py", "a", encoding="utf-8") as handle:
        handle.write(OTHER_ESCAPE)  # in place: the folder's own stat does not move
    check = run_pops("build", "--check", cwd=four, env=env)
    assert check.returncode == 1, check.stderr
    assert "changed  dist/groups/quote/mfa/email.html" in check.stdout
    _ok(run_pops("build", cwd=four, env=env))
    after = _tree(four / "dist")
    assert after != before
    _ok(run_pops("build", "--no-cache", "--out", "clean", cwd=four, env=env))
    assert after == _tree(four / "clean")
    _ok(run_pops("build", "--check", cwd=four, env=env))


def _pops_with_path(repo: Path, change: str, *args: str) -> None:
    """`pops` run with `sys.path` changed by `change` first, as a `.pth` file might."""
    script = f"import sys; {change}; from compiler.cli import run; run()"
    _ok(
        subprocess.run(
            [sys.executable, "-c", script, *args], cwd=repo, capture_output=True, text=True
        )
    )


@pytest.mark.parametrize("place", ["first", "last"])
def test_only_folders_that_could_shadow_a_library_are_inputs(
    four: Path, place: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A module appearing in a `sys.path` folder before the libraries could shadow one,
    so the next build is a full one; a folder after them could not. (The editable
    checkout of pops sits last, and each build of its own groups changes it: every
    build there was a full one.)"""
    folder = tmp_path_factory.mktemp("extra")
    change = (
        f"sys.path.insert(1, {str(folder)!r})"
        if place == "first"
        else (f"sys.path.append({str(folder)!r})")
    )
    _pops_with_path(four, change, "build")
    _pops_with_path(four, change, "build")  # (a no-op)
    _age(four)
    inode = (four / "dist").stat().st_ino
    (folder / "notes.txt").write_text("a new entry moves the folder's stat\n")
    _pops_with_path(four, change, "build")
    assert ((four / "dist").stat().st_ino != inode) == (place == "first")
    _pops_with_path(four, change, "build", "--check")


# --- a broken environment: one line, exit 1, the output as it was --------------------------


def _snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry below `root` with its bytes, mode, mtime and inode: "untouched" is strict."""
    out: dict[str, tuple[object, ...]] = {}
    for path in sorted([root, *root.rglob("*")]):
        st = path.lstat()
        data = b"" if path.is_dir() else path.read_bytes()
        out[path.relative_to(root).as_posix()] = (data, st.st_mode, st.st_mtime_ns, st.st_ino)
    return out


def _refused(proc: subprocess.CompletedProcess[str], line: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [line], proc.stderr
    assert proc.stdout == ""


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    """Mount points a test makes (tmpfs, read-only binds); unmounted afterwards."""
    made: list[Path] = []
    yield made
    for point in reversed(made):
        subprocess.run(["umount", "-l", str(point)], check=False)


def _mount(mounts: list[Path], *args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)
    mounts.append(Path(args[-1]))


@pytest.mark.parametrize("kind", ["file", "dangling link"])
def test_a_cache_folder_that_is_not_a_folder_is_one_line(
    four: Path, run_pops: Run, kind: str
) -> None:
    shutil.rmtree(four / CACHE_DIR)
    if kind == "file":
        (four / CACHE_DIR).write_bytes(b"not a folder\n")
    else:
        (four / CACHE_DIR).symlink_to(four / "nowhere/at/all")
    before = _snapshot(four / "dist")
    _edit(four, "g0", "Zero")
    line = f"pops: {CACHE_DIR}: not a folder (pops keeps its caches and its lock there); "
    _refused(run_pops("build", cwd=four), line + "dist/ was not changed")
    _refused(run_pops("build", "--jobs", "1", cwd=four), line + "dist/ was not changed")
    assert _snapshot(four / "dist") == before
    check = run_pops("build", "--check", cwd=four)  # (a check needs no cache)
    assert check.returncode == 1 and "changed  dist/groups/g0/config.json" in check.stdout


def test_a_read_only_output_folder_is_one_line(
    four: Path, run_pops: Run, mounts: list[Path]
) -> None:
    site = four / "site"
    site.mkdir()
    _ok(run_pops("build", "--out", "site/dist", cwd=four))
    _mount(mounts, "--bind", str(site), str(site))
    _mount(mounts, "-o", "remount,bind,ro", str(site))
    before = _snapshot(site)
    _edit(four, "g0", "Zero")
    proc = run_pops("build", "--out", "site/dist", cwd=four)
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("pops: site/.dist.tmp-")
    assert line.endswith(": Read-only file system; site/dist/ was not changed")
    assert _snapshot(site) == before
    subprocess.run(["umount", str(site)], check=True)
    mounts.clear()
    proc = _ok(run_pops("build", "--out", "site/dist", cwd=four))
    assert "taking over" not in proc.stderr  # the refused build let go of its lock
    assert sorted(p.name for p in site.iterdir()) == ["dist"]


def test_a_full_disk_is_one_line(repo: Path, run_pops: Run, mounts: list[Path]) -> None:
    _mount(mounts, "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(repo))
    (repo / "groups").mkdir()
    for i in range(4):
        write_group(repo, f"g{i}", GROUP.format(name=f"Group {i}"))
    _ok(run_pops("build", cwd=repo))
    before = _snapshot(repo / "dist")
    ours = set((repo / "groups").iterdir())
    _many(repo, 100)  # more than the disk holds, built
    _refused(
        run_pops("build", cwd=repo), "pops: dist/: No space left on device; dist/ was not changed"
    )
    assert _snapshot(repo / "dist") == before
    assert sorted(p.name for p in repo.iterdir()) == [CACHE_DIR, "dist", "groups"]
    for path in set((repo / "groups").iterdir()) - ours:  # room again: the build goes on
        path.unlink()
    _edit(repo, "g0", "Zero")
    _ok(run_pops("build", cwd=repo))
    _same_as_clean_in(repo, run_pops)


def _same_as_clean_in(repo: Path, run_pops: Run) -> None:
    _ok(run_pops("build", "--check", "--no-cache", cwd=repo))
    _ok(run_pops("build", "--check", cwd=repo))


def test_an_output_folder_that_is_a_mount_point_is_one_line(
    four: Path, run_pops: Run, mounts: list[Path]
) -> None:
    shutil.rmtree(four / "dist")
    (four / "dist").mkdir()
    _mount(mounts, "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(four / "dist"))
    # Marked as pops's own, so ownership lets the build try (an unmarked folder with
    # files in it is refused before anything else: see test_ownership.py).
    from compiler.pipeline.ownership import MARKER, marker

    (four / "dist" / MARKER).write_bytes(marker("build"))
    (four / "dist/keep.txt").write_bytes(b"not pops's\n")
    before = _snapshot(four / "dist")
    _edit(four, "g0", "Zero")
    _refused(
        run_pops("build", cwd=four),
        "pops: dist: Device or resource busy (dist/ is replaced whole: it cannot be a mount "
        "point; build into a folder in it); dist/ was not changed",
    )
    assert _snapshot(four / "dist") == before
    assert not [p for p in four.iterdir() if p.name.startswith(".dist")]


# --- cache files are read with a bound ---------------------------------------------------

GROWN = 4 << 30  # 4 GiB, sparse: reading it whole would need that much memory


def _limited() -> None:
    """In the child: 1.5 GiB of address space, far below what a whole read would take."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 << 29, 3 << 29))


@pytest.mark.parametrize(
    "pattern",
    ["seal-*.bin", "_base.bin", "spare-*/groups/g3/theme.css"],
)
def test_a_cache_file_grown_huge_is_never_read_whole(four: Path, pattern: str) -> None:
    def pops(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pops_executable(), *args],
            cwd=four,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=_limited,
        )

    _edit(four, "g1", "One")
    _ok(pops("build"))  # the spare exists now
    _edit(four, "g9", "Nine")
    _ok(pops("build"))  # (an added group: the full pipeline)
    _age(four)
    (grown,) = (four / CACHE_DIR).glob(pattern)
    os.truncate(grown, GROWN)
    _ok(pops("build"))
    _ok(pops("build", "--check"))
    for name in ("Zero", "Zero again"):  # a change: the spare, the caches, the seal in use
        _edit(four, "g0", name)
        _ok(pops("build"))
        _ok(pops("build", "--check"))
    _ok(pops("build", "--no-cache", "--out", "clean"))
    assert _tree(four / "dist") == _tree(four / "clean")


# --- files earlier versions kept in the cache folder ---------------------------------------


def test_an_old_render_cache_file_is_ignored_and_left_alone(four: Path, run_pops: Run) -> None:
    """pops before issue #12 kept the renderers' set-up in render.marshal (with a lock
    file beside it). One left in an existing cache folder, even a well-framed one that
    claims other template text, changes no byte of any build, and pops never touches it."""
    import marshal

    from compiler.incremental.integrity import with_checksum

    poisoned = {
        ("template", "mfa/email.txt.j2"): {
            "verdict": (True, False, True),
            "shapes": {},
        },
        ("layout", False): {"layout": (("POISONED",), (0, 0), (0, 0), ("primary",))},
    }
    old = {
        "render.marshal": with_checksum(
            marshal.dumps({"format": 1, "key": "0" * 64, "records": poisoned})
        ),
        "render.marshal.lock": b"",
    }
    cache = four / CACHE_DIR
    for name, data in old.items():
        (cache / name).write_bytes(data)
    _edit(four, "g0", "Zero")  # one change: the seal's path
    _ok(run_pops("build", cwd=four))
    _same_as_clean(four, run_pops)
    write_group(four, "g9", GROUP.format(name="Nine"))  # an added group: the full pipeline
    _ok(run_pops("build", cwd=four))
    _same_as_clean(four, run_pops)
    shutil.rmtree(four / "dist")
    _ok(run_pops("build", cwd=four))  # from clean, the old file still there
    _same_as_clean(four, run_pops)
    assert "POISONED" not in (four / "dist/groups/g1/theme.css").read_text("utf-8")
    for name, data in old.items():
        assert (cache / name).read_bytes() == data

"""The seal: builds that change nothing, or one group, without the full pipeline.

Every test compares what the seal's shortcut leaves with what a build from
scratch writes, byte for byte, and checks the shortcut was really taken (or
really refused) by what a user could see: the per-group cache untouched, the
output swapped whole, the pipeline never imported.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from compiler.incremental import seal, sealing
from compiler.incremental.integrity import CACHE_DIR
from compiler.pipeline.build import build
from compiler.pipeline.check import check_output
from tests.conftest import Run, write_group
from tests.test_cache import GROUP, _tree

STAGING = (
    "overlays:\n"
    "  - groups: all\n"
    "    values:\n"
    "      notifications:\n"
    "        email_from: no-reply@staging.example.com\n"
)


@pytest.fixture
def six(repo: Path) -> Path:
    """Six groups, one of them extending a base, and a staging environment."""
    for i in range(6):
        write_group(repo, f"g{i}", GROUP.format(name=f"Group {i}"))
    (repo / "groups/_brand.yaml").write_text('theme:\n  colors:\n    primary: "#00695c"\n')
    path = repo / "groups/g5.yaml"
    path.write_text("extends: brand\n" + path.read_text())
    (repo / "environments").mkdir()
    (repo / "environments/staging.yaml").write_text(STAGING)
    return repo


def _build(repo: Path, jobs: int = 1) -> tuple[int, int]:
    compilation = build(repo / "groups", repo / "dist", jobs=jobs)
    assert compilation.ok, compilation.diagnostics
    return compilation.compiled, compilation.reused


def _same_as_fresh(repo: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    assert build(repo / "groups", fresh, use_cache=False, jobs=1).ok
    assert _tree(repo / "dist") == _tree(fresh)
    assert check_output(repo / "groups", repo / "dist").ok


def _group_cache_mtime(repo: Path) -> int:
    return (repo / CACHE_DIR / "_base.bin").stat().st_mtime_ns


def _age(repo: Path) -> None:
    """Let time pass: every file is now older than the seal, as a moment after a build.

    Files written in the seal's own clock tick are never trusted by stat (they
    are hashed or compiled again), and tests run faster than a tick.
    """
    for seal_file in (repo / CACHE_DIR).glob("seal-*.bin"):
        later = seal_file.stat().st_mtime_ns + 5_000_000_000
        os.utime(seal_file, ns=(later, later))


def test_noop_build_and_check_never_import_the_pipeline(six: Path) -> None:
    script = (
        "import sys\nfrom pathlib import Path\nfrom compiler.pipeline.build import build\n"
        "c = build(Path('groups'), Path('dist'))\n"
        "from compiler.pipeline.check import check_output\n"
        "ok = check_output(Path('groups'), Path('dist')).ok\n"
        "heavy = sorted(m for m in ('yaml', 'pydantic', 'jinja2', 'compiler.model') "
        "if m in sys.modules)\n"
        "print(c.compiled, c.reused, len(c.groups), c.files, ok, heavy)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], cwd=six, capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == [
        "12 0 6 26 True ['compiler.model', 'jinja2', 'pydantic', 'yaml']",
        "0 12 6 26 True []",
    ]


@pytest.mark.parametrize("jobs", [1, 2])
def test_one_changed_group_is_compiled_alone_and_swapped_in(
    six: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    monkeypatch.setattr(sealing, "SPLIT_AT", 0)  # children stat the outputs even here
    _build(six, jobs)
    first = (six / "dist").stat().st_ino
    untouched = _group_cache_mtime(six)
    for round_, slug in enumerate(["g1", "g5", "g1", "g3"]):
        path = six / f"groups/{slug}.yaml"
        path.write_text(path.read_text().replace("Call us.", f"Call us ({round_})."))
        assert _build(six, jobs) == (2, 10)  # the group, in the base build and in staging
        assert _group_cache_mtime(six) == untouched  # the full pipeline did not run
        assert (six / "dist").stat().st_ino != first or round_ % 2 == 1
        _same_as_fresh(six, tmp_path / str(round_))
    assert _build(six) == (0, 12)


def test_the_two_trees_take_turns(six: Path) -> None:
    _build(six)
    inodes = [(six / "dist").stat().st_ino]
    for round_ in range(4):
        write_group(six, "g2", GROUP.format(name=f"Group 2.{round_}"))
        _build(six)
        inodes.append((six / "dist").stat().st_ino)
    assert inodes[1] != inodes[0]
    assert inodes[2] == inodes[0] and inodes[3] == inodes[1] and inodes[4] == inodes[0]
    config = (six / "dist/groups/g2/config.json").read_text()
    assert '"name": "Group 2.3"' in config


def test_output_edited_after_a_sealed_change_is_repaired(six: Path, tmp_path: Path) -> None:
    _build(six)
    write_group(six, "g0", GROUP.format(name="Renamed"))
    assert _build(six) == (2, 10)
    target = six / "dist/staging/groups/g4/theme.css"
    target.write_bytes(b"tampered\n")
    report = check_output(six / "groups", six / "dist")
    assert [(s.path, s.reason) for s in report.stale] == [
        ("staging/groups/g4/theme.css", "changed")
    ]
    _build(six)
    _same_as_fresh(six, tmp_path)


def test_a_file_added_to_the_output_is_reported_and_removed(six: Path, tmp_path: Path) -> None:
    _build(six)
    _age(six)
    assert _build(six) == (0, 12)
    (six / "dist/groups/g3/notes.txt").write_text("mine\n")
    report = check_output(six / "groups", six / "dist")
    assert [(s.path, s.reason) for s in report.stale] == [("groups/g3/notes.txt", "extra")]
    _build(six)
    _same_as_fresh(six, tmp_path)


def test_a_file_as_recent_as_the_seal_is_compiled_not_trusted(six: Path) -> None:
    _build(six)
    _age(six)
    assert _build(six) == (0, 12)
    (seal_file,) = (six / CACHE_DIR).glob("seal-*.bin")
    later = seal_file.stat().st_mtime_ns + 1_000
    group = six / "groups/g4.yaml"
    os.utime(group, ns=(later, later))  # same bytes, but a stat that cannot be trusted
    assert _build(six) == (2, 10)


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_output_is_verified_in_both_halves(
    six: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """With a child process stat'ing half the tree, a change in either half is seen."""
    monkeypatch.setattr(sealing, "SPLIT_AT", 0)
    _build(six, jobs)
    _age(six)
    for rel in ("groups/g0/config.json", "staging/groups/g5/theme.css"):
        assert _build(six, jobs) == (0, 12)
        target = six / "dist" / rel
        target.write_bytes(target.read_bytes() + b" ")
        assert _build(six, jobs) == (1, 11)  # caught and rebuilt by the full pipeline
        assert check_output(six / "groups", six / "dist", jobs=jobs).ok
        _age(six)


def test_warnings_are_reported_by_a_sealed_build_as_by_the_pipeline(
    six: Path, run_pops: Run
) -> None:
    write_group(six, "quiet", "name: Quiet\npayments:\n  credit_card: false\n")
    first = run_pops("build", cwd=six)
    second = run_pops("build", cwd=six)
    assert first.returncode == second.returncode == 0
    assert "payment-none" in first.stdout
    assert (second.stdout, second.stderr) == (first.stdout, first.stderr)
    strict = run_pops("build", "--strict", cwd=six)
    assert strict.returncode == 1
    assert "nothing written" in strict.stderr


def _oracle(repo: Path, where: Path, run_pops: Run, *argv: str) -> tuple[str, str, Any]:
    """What a build from scratch of the same sources says and writes."""
    where.mkdir()
    for folder in ("groups", "environments"):
        shutil.copytree(repo / folder, where / folder)
    proc = run_pops("build", "--no-cache", *argv, cwd=where)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, proc.stderr, _tree(where / "dist")


QUIET = "name: {name}\npayments:\n  credit_card: false\n"  # payment-none: a warning


@pytest.mark.parametrize("argv", [(), ("--env", "staging")])
def test_a_repository_with_warnings_keeps_the_quick_path(
    six: Path, tmp_path: Path, run_pops: Run, argv: tuple[str, ...]
) -> None:
    """A warning anywhere used to send every later change through the full pipeline;
    the changed groups' own warnings are now replaced in the seal's, exactly as a
    build from scratch reports them (and `--strict` still refuses a new one)."""
    write_group(six, "quiet", QUIET.format(name="Quiet"))
    assert run_pops("build", *argv, cwd=six).returncode == 0
    # The per-group caches (not the seal):
    caches = sorted(p for p in (six / CACHE_DIR).glob("*.bin") if not p.name.startswith("seal-"))
    untouched = [path.stat().st_mtime_ns for path in caches]
    assert caches
    edits = [
        ("g1", GROUP.format(name="Group One")),  # a clean group, beside a warning
        ("g2", QUIET.format(name="Two")),  # a clean group gets a warning
        ("quiet", QUIET.format(name="Quieter")),  # a group with a warning stays so
        ("g2", GROUP.format(name="Group 2")),  # and loses it
        ("quiet", GROUP.format(name="Quiet")),  # the last warning goes
    ]
    for round_, (slug, text) in enumerate(edits):
        _age(six)
        write_group(six, slug, text)
        proc = run_pops("build", *argv, cwd=six)
        assert proc.returncode == 0, proc.stderr
        # The full pipeline did not run:
        assert [path.stat().st_mtime_ns for path in caches] == untouched, round_
        said, shown, built = _oracle(six, tmp_path / str(round_), run_pops, *argv)
        assert (proc.stdout, proc.stderr) == (said, shown), round_
        assert _tree(six / "dist") == built
    _age(six)
    write_group(six, "g3", QUIET.format(name="Three"))
    strict = run_pops("build", "--strict", *argv, cwd=six)
    assert strict.returncode == 1
    assert "groups/g3.yaml" in strict.stdout and "nothing written" in strict.stderr


def test_a_change_that_breaks_a_group_writes_nothing(six: Path, run_pops: Run) -> None:
    assert run_pops("build", cwd=six).returncode == 0
    before = _tree(six / "dist")
    write_group(six, "g2", "name: Broken\npayments:\n  credit_card: yes\n")
    proc = run_pops("build", cwd=six)
    assert proc.returncode == 1
    assert "groups/g2.yaml:3:16" in proc.stdout
    assert _tree(six / "dist") == before


@pytest.mark.parametrize(
    "change",
    ["new group", "removed group", "new files", "base", "environment"],
)
def test_changes_beyond_group_files_take_the_full_pipeline(
    six: Path, tmp_path: Path, change: str
) -> None:
    _build(six)
    untouched = _group_cache_mtime(six)
    if change == "new group":
        write_group(six, "g9", GROUP.format(name="Group 9"))
    elif change == "removed group":
        (six / "groups/g1.yaml").unlink()
    elif change == "new files":  # an SMS message adds mfa/sms.txt
        path = six / "groups/g0.yaml"
        path.write_text(
            path.read_text() + "authentication:\n  mfa:\n    enabled: true\n"
            '    success_role: authorized_patient\n    sms_message: "Code ${mfa.code}"\n'
        )
    elif change == "base":
        (six / "groups/_brand.yaml").write_text('theme:\n  colors:\n    primary: "#1a237e"\n')
    else:
        (six / "environments/staging.yaml").write_text(STAGING.replace("no-reply", "robot"))
    _build(six)
    assert _group_cache_mtime(six) != untouched
    _same_as_fresh(six, tmp_path)


def test_a_corrupt_seal_is_never_trusted(six: Path, tmp_path: Path) -> None:
    _build(six)
    (seal_file,) = (six / CACHE_DIR).glob("seal-*.bin")
    data = bytearray(seal_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    seal_file.write_bytes(bytes(data))
    write_group(six, "g1", GROUP.format(name="After"))
    assert _build(six) == (12, 0)  # nothing vouches for dist/ now: all of it is written
    _same_as_fresh(six, tmp_path)
    assert _build(six) == (0, 12)


def test_a_patched_manifest_is_the_manifest_written_from_scratch() -> None:
    from compiler.pipeline.writer import inputs_digest, manifest_bytes, patch_manifest

    def entries(sizes: dict[str, int]) -> list[dict[str, str | int]]:
        return [
            {
                "path": p,
                "sha256": hashlib.sha256(p.encode() + bytes([n % 256])).hexdigest(),
                "size": n,
            }
            for p, n in sizes.items()
        ]

    paths = [f"groups/{g}/{f}" for g in ("a", "a-b", "b") for f in ("config.json", "theme.css")]
    before = dict.fromkeys(paths, 99)
    after = {**before, "groups/a/theme.css": 100, "groups/b/config.json": 7}
    groups = [("a", "1" * 64), ("a-b", "2" * 64), ("b", "3" * 64)]
    old = manifest_bytes(
        entries(before), compiler="1", inputs_digest=inputs_digest(groups), groups=["a", "a-b", "b"]
    )
    groups[2] = ("b", "4" * 64)
    new = manifest_bytes(
        entries(after), compiler="1", inputs_digest=inputs_digest(groups), groups=["a", "a-b", "b"]
    )
    changed = {
        e["path"]: (e["sha256"], e["size"]) for e in entries(after) if after[e["path"]] != 99
    }
    assert patch_manifest(old, inputs_digest(groups), changed) == new  # type: ignore[arg-type]
    assert patch_manifest(old, inputs_digest(groups), {"groups/c/x": ("0" * 64, 1)}) is None


def test_an_output_edited_in_place_never_comes_back_from_the_spare(
    six: Path, tmp_path: Path
) -> None:
    """The spare shares unchanged files with the output (hard links), so an edit made
    in place reaches both; the repaired output must not bring the edited copy back."""
    _build(six)
    write_group(six, "g1", GROUP.format(name="One"))
    assert _build(six) == (2, 10)  # the spare is made, of hard links
    target = six / "dist/groups/g3/theme.css"
    assert target.stat().st_nlink == 2
    with open(target, "r+b") as handle:  # as an editor that writes in place would
        handle.write(b"/* edited */")
    _build(six)
    _same_as_fresh(six, tmp_path / "repaired")
    for round_ in range(3):
        write_group(six, "g1", GROUP.format(name=f"One {round_}"))
        _build(six)
        _same_as_fresh(six, tmp_path / str(round_))


def test_damage_in_the_seal_s_second_part_is_caught_when_it_is_needed(
    six: Path, tmp_path: Path
) -> None:
    """A no-op reads only the seal's first part; the hashes behind it are checked on use."""
    _build(six)
    (seal_file,) = (six / CACHE_DIR).glob("seal-*.bin")
    data = seal_file.read_bytes()
    seal_file.write_bytes(data[:-20] + bytes([data[-20] ^ 1]) + data[-19:])
    assert _build(six) == (0, 12)
    write_group(six, "g2", GROUP.format(name="Two"))
    assert _build(six) == (12, 0)  # the seal cannot say what dist/ holds: all written
    _same_as_fresh(six, tmp_path)


def test_emails_and_phones_checked_before_need_no_library(six: Path, run_pops: Run) -> None:
    """A changed group whose contact details were valid last time needs neither
    email-validator nor phonenumbers; a new address is still checked by them."""
    contact = "    email: billing@practice.example.com\n    phone: '+1 212 555 0199'\n"
    for slug in ("g1", "g2"):
        path = six / f"groups/{slug}.yaml"
        path.write_text(path.read_text() + contact)
    assert run_pops("build", cwd=six).returncode == 0
    script = (
        "import sys\nfrom pathlib import Path\nfrom compiler.pipeline.build import build\n"
        "c = build(Path('groups'), Path('dist'))\n"
        "libs = sorted(m for m in ('email_validator', 'phonenumbers') if m in sys.modules)\n"
        "print(c.ok, c.compiled, libs)\n"
    )
    path = six / "groups/g1.yaml"
    path.write_text(path.read_text().replace("Group 1", "Group One"))
    run = subprocess.run([sys.executable, "-c", script], cwd=six, capture_output=True, text=True)
    assert run.stdout.strip() == "True 2 []"
    config = (six / "dist/groups/g1/config.json").read_text()
    assert '"e164": "+12125550199"' in config and '"name": "Group One"' in config
    path.write_text(path.read_text().replace("billing@practice", "billing@@practice"))
    proc = run_pops("build", cwd=six)
    assert proc.returncode == 1
    assert "email-invalid" in proc.stdout


def test_remembered_values_cannot_be_reached_by_a_crafted_value() -> None:
    from compiler.model import types

    try:
        types.remember("\ne:ok@example.com\tok@example.com\np:+1 212 555 0199\t+12125550199")
        assert types._recall("e:ok@example.com") == "ok@example.com"
        assert types._recall("e:x\ne:ok@example.com") is None
        assert types._recall("e:ok@example.com\tok") is None
        assert types._recall("e:nobody@example.com") is None
    finally:
        types.remember("")


def test_a_check_between_a_change_and_the_build_leaves_nothing_stale(
    six: Path, tmp_path: Path
) -> None:
    """`build --check` caches its groups' results under the new inputs; the build that
    follows must not pair those with the files the old inputs wrote."""
    _build(six)
    (six / "groups/_brand.yaml").write_text('theme:\n  colors:\n    primary: "#1a237e"\n')
    write_group(six, "g0", GROUP.format(name="Zero"))
    assert not check_output(six / "groups", six / "dist", jobs=1).ok
    _build(six)
    _same_as_fresh(six, tmp_path)


def test_a_second_part_from_another_seal_is_refused(six: Path, tmp_path: Path) -> None:
    """The seal's rest repeats its first part's checksum: halves of two seals never mix."""
    _build(six)
    (seal_file,) = (six / CACHE_DIR).glob("seal-*.bin")
    old = seal_file.read_bytes()
    write_group(six, "g2", GROUP.format(name="Two"))
    _build(six)
    new = seal_file.read_bytes()
    first = 12 + int.from_bytes(new[:8], "big")  # (each part behind its length and CRC)
    seal_file.write_bytes(new[:first] + old[12 + int.from_bytes(old[:8], "big") :])
    opened = sealing.Sealing.begin(six / "groups", six / "environments", six / "dist", None, False)
    loaded = seal.load(opened.path, opened.key)
    assert loaded is not None  # the first part alone is whole
    assert not seal.complete(loaded)
    write_group(six, "g3", GROUP.format(name="Three"))
    _build(six)
    _same_as_fresh(six, tmp_path)


@pytest.mark.parametrize("change", ["added", "removed", "renamed", "overlay added"])
def test_a_listing_taken_from_the_seal_still_sees_files_come_and_go(
    six: Path, tmp_path: Path, change: str
) -> None:
    """Once the folders are older than the seal, their listings come from it; any file
    added, removed or renamed changes the folder's own stat and forces a fresh listing."""
    _build(six)
    _age(six)
    if change == "added":
        write_group(six, "g9", GROUP.format(name="Group 9"))
    elif change == "removed":
        (six / "groups/g1.yaml").unlink()
    elif change == "renamed":
        (six / "groups/g1.yaml").rename(six / "groups/g7.yaml")
    else:
        (six / "environments/prod.yaml").write_text(STAGING.replace("staging", "prod"))
    _build(six)
    _same_as_fresh(six, tmp_path)
    assert set(os.listdir(six / "dist")) >= ({"prod"} if change == "overlay added" else set())


def test_an_unchanged_folder_is_not_listed_again(
    six: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(six)
    _age(six)
    listed: list[object] = []
    real = os.scandir

    def scandir(path: object = ".") -> Any:
        listed.append(path)
        return real(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    assert _build(six) == (0, 12)
    assert not [p for p in listed if isinstance(p, int)]  # the scan lists by folder fd
    write_group(six, "g9", GROUP.format(name="Group 9"))
    _build(six)
    assert [p for p in listed if isinstance(p, int)]


def _tree_of_paths(root: Path) -> list[str]:
    (root / "a/b").mkdir(parents=True)
    (root / "a/b/f.txt").write_text("x")
    (root / "a/é.css").write_text("é")
    (root / "link").symlink_to("a/b/f.txt")
    (root / "dangling").symlink_to("nowhere")
    return [".", "a", "a/b", "a/b/f.txt", "a/é.css", "link", "dangling", "gone", "a/gone/x"]


def test_the_c_stat_gives_what_os_stat_gives(tmp_path: Path) -> None:
    """compiler/incremental/_stats.c is built here (make build compiles it) and agrees with os.stat,
    for files, folders, symlinks, non-ASCII names and paths that are not there."""
    from compiler.incremental import _stats

    rels = _tree_of_paths(tmp_path)
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fast = seal.array("q")
        fast.frombytes(_stats.stat_many(fd, rels))
        slow = seal.array("q")
        for rel in rels:
            try:
                slow.extend(seal.stat_of(os.stat(rel, dir_fd=fd)))
            except OSError:
                slow.extend(seal.UNKNOWN)
    finally:
        os.close(fd)
    assert fast == slow
    assert list(fast[-12:]) == [-1] * 12  # dangling, gone, a/gone/x


@pytest.mark.parametrize("when", ["at once", "after the child", "child killed", "abandoned"])
def test_a_stat_pair_gives_every_path_s_stat_however_the_work_is_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """The child stats from the front, this process from the back: whoever does which
    part (or if the child dies), the stats come back whole and in order, and the child
    is reaped."""
    import signal
    import time

    monkeypatch.setattr(sealing.StatPair, "CHUNK", 3)
    rels = _tree_of_paths(tmp_path) * 20
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        expected = seal.stat_paths(rels, fd)
        pair = sealing.StatPair(rels, fd)
        pid = pair.pid

        def child_reached(count: int) -> None:
            deadline = time.monotonic() + 30
            while pair.header[0] < count and time.monotonic() < deadline:
                time.sleep(0.001)
            assert pair.header[0] >= count

        if when == "abandoned":
            pair.abandon()
        else:
            if when == "child killed":  # part way: this process does the rest
                child_reached(10)
                os.kill(pid, signal.SIGKILL)
            elif when == "after the child":
                child_reached(len(rels))  # the child did it all
            assert pair.finish() == expected
    finally:
        os.close(fd)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped already


def test_sealed_builds_work_the_same_without_the_c_stat(
    six: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seal, "_stat_many", None)
    rels = _tree_of_paths(tmp_path / "paths")
    fd = os.open(tmp_path / "paths", os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert list(seal.stat_paths(rels, fd)[-12:]) == [-1] * 12
    finally:
        os.close(fd)
    monkeypatch.setattr(sealing, "SPLIT_AT", 0)  # the children too
    assert _build(six, 2) == (12, 0)
    _age(six)
    assert _build(six, 2) == (0, 12)
    write_group(six, "g2", GROUP.format(name="Two"))
    assert _build(six, 2) == (2, 10)
    (six / "dist/groups/g3/theme.css").write_text("/* by hand */\n")
    _build(six, 2)
    _same_as_fresh(six, tmp_path)


def test_a_changed_group_may_start_extending_a_base_no_group_used(
    six: Path, tmp_path: Path
) -> None:
    """The sealed path loads only the bases its groups name (the others were checked
    when the seal was made and have not changed since)."""
    (six / "groups/_dark.yaml").write_text("theme:\n  dark: true\n")
    _build(six)
    untouched = _group_cache_mtime(six)
    path = six / "groups/g2.yaml"
    path.write_text("extends: dark\n" + path.read_text())
    assert _build(six) == (2, 10)
    assert _group_cache_mtime(six) == untouched  # the sealed path, not the pipeline
    _same_as_fresh(six, tmp_path)
    assert '"dark": true' in (six / "dist/groups/g2/config.json").read_text()

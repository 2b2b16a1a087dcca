"""Cache and process pool: what each change invalidates, corrupt caches, identical output."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest

from bench.generate import generate
from compiler.incremental import integrity
from compiler.incremental.cache import fingerprint
from compiler.incremental.integrity import CACHE_DIR
from compiler.pipeline.build import build
from compiler.pipeline.check import check_output
from compiler.pipeline.compiling import compile_all
from tests.conftest import REPO, Run, run_on_terminal, write_group

GROUP = (
    "name: {name}\npayments:\n  credit_card: true\nlook_and_feel:\n  footer:\n    text: Call us.\n"
)


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def five(repo: Path) -> Path:
    for i in range(5):
        write_group(repo, f"g{i}", GROUP.format(name=f"Group {i}"))
    (repo / "groups/_chain.yaml").write_text('theme:\n  colors:\n    primary: "#00695c"\n')
    for i in (3, 4):
        path = repo / f"groups/g{i}.yaml"
        path.write_text("extends: chain\n" + path.read_text())
    return repo


def _build(repo: Path, **options: object) -> tuple[int, int]:
    compilation = build(repo / "groups", repo / "dist", jobs=1, **options)  # type: ignore[arg-type]
    assert compilation.ok, compilation.diagnostics
    return compilation.compiled, compilation.reused


def _fresh_equals(repo: Path, tmp_path: Path) -> None:
    """The incremental output is byte for byte what a build from scratch writes."""
    fresh = tmp_path / "fresh"
    assert build(repo / "groups", fresh, use_cache=False, jobs=1).ok
    assert _tree(repo / "dist") == _tree(fresh)


def _touch_later(path: Path, text: str) -> None:
    """Rewrite a file; cache stat shortcuts must not hide the change."""
    path.write_text(text)


def test_unchanged_rebuild_compiles_nothing(five: Path, tmp_path: Path) -> None:
    assert _build(five) == (5, 0)
    before = _tree(five / "dist")
    assert _build(five) == (0, 5)
    assert _tree(five / "dist") == before


def test_changed_group_recompiles_only_itself(five: Path, tmp_path: Path) -> None:
    _build(five)
    _touch_later(five / "groups/g1.yaml", GROUP.format(name="Renamed One"))
    assert _build(five) == (1, 4)
    assert b"Renamed One" in (five / "dist/groups/g1/config.json").read_bytes()
    _fresh_equals(five, tmp_path)


def test_changed_base_recompiles_only_groups_extending_it(five: Path, tmp_path: Path) -> None:
    _build(five)
    (five / "groups/_chain.yaml").write_text('theme:\n  colors:\n    primary: "#1a237e"\n')
    assert _build(five) == (2, 3)
    assert b"#1a237e" in (five / "dist/groups/g4/config.json").read_bytes()
    _fresh_equals(five, tmp_path)


def test_defaults_change_recompiles_everything(five: Path, tmp_path: Path) -> None:
    _build(five)
    (five / "groups/_defaults.yaml").write_text("payments:\n  apple_pay: true\n")
    assert _build(five) == (5, 0)
    _fresh_equals(five, tmp_path)


def test_overlay_change_recompiles_only_that_environment(five: Path, tmp_path: Path) -> None:
    env = five / "environments"
    env.mkdir()
    overlay = "overlays:\n  - groups: all\n    values:\n      payments: {{google_pay: {v}}}\n"
    (env / "staging.yaml").write_text(overlay.format(v="true"))
    assert _build(five) == (10, 0)  # base + staging
    (env / "staging.yaml").write_text(overlay.format(v="false"))
    assert _build(five) == (5, 5)
    assert b'"googlePay": false' in (five / "dist/staging/groups/g0/config.json").read_bytes()
    _fresh_equals(five, tmp_path)


def test_removed_group_leaves_no_files(five: Path, tmp_path: Path) -> None:
    _build(five)
    (five / "groups/g2.yaml").unlink()
    assert _build(five) == (0, 4)
    assert not (five / "dist/groups/g2").exists()
    _fresh_equals(five, tmp_path)


def test_compiler_change_invalidates_everything(
    five: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(five)
    monkeypatch.setattr(integrity, "__version__", "999.0.0")
    integrity.forget_fingerprints()
    try:
        assert _build(five)[1] == 0
    finally:
        integrity.forget_fingerprints()


def test_template_change_changes_the_fingerprint(tmp_path: Path) -> None:
    roots = (tmp_path / "compiler", tmp_path / "templates")
    shutil.copytree(REPO / "compiler", roots[0])
    shutil.copytree(REPO / "templates", roots[1])
    before = fingerprint(roots)
    email = roots[1] / "mfa/email.txt.j2"
    email.write_text(email.read_text() + "\n")
    integrity.forget_fingerprints()
    assert fingerprint(roots) != before
    integrity.forget_fingerprints()


DAMAGE = {
    "garbage": lambda data: b"\x00\xffnot json",
    "flipped": lambda data: data[:40] + bytes([data[40] ^ 1]) + data[41:],
    "empty": lambda data: b"",
    "truncated": lambda data: data[: len(data) // 2],
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_corrupt_cache_is_ignored_and_rebuilt(five: Path, damage: str) -> None:
    _build(five)
    files = sorted(p for p in (five / CACHE_DIR).iterdir() if p.suffix == ".bin")
    assert [p.name.split("-")[0] for p in files] == ["_base.bin", "seal"]
    for path in files:  # the per-group cache and the seal of dist/
        path.write_bytes(DAMAGE[damage](path.read_bytes()))
    before = _tree(five / "dist")
    assert _build(five) == (5, 0)
    assert _tree(five / "dist") == before
    assert _build(five) == (0, 5)  # and it was written anew


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("which", ["_base.bin", "seal"])
def test_each_corrupt_cache_file_is_ignored(five: Path, damage: str, which: str) -> None:
    """Without the seal nothing vouches for dist/, so every group is written again."""
    _build(five)
    (path,) = (five / CACHE_DIR).glob(f"{which}*")
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    before = _tree(five / "dist")
    assert _build(five) == ((5, 0) if which == "seal" else (0, 5))
    assert _tree(five / "dist") == before
    assert _build(five) == (0, 5)
    assert check_output(five / "groups", five / "dist").ok


def test_hand_edited_output_is_caught_by_check(five: Path) -> None:
    _build(five)
    target = five / "dist/groups/g0/theme.css"
    target.write_bytes(target.read_bytes().replace(b"#00695c", b"#000000"))
    target.write_bytes(b"tampered\n")
    report = check_output(five / "groups", five / "dist")
    assert [(s.path, s.reason) for s in report.stale] == [("groups/g0/theme.css", "changed")]
    (five / "dist/groups/g0/extra.txt").write_text("x")
    report = check_output(five / "groups", five / "dist")
    assert ("groups/g0/extra.txt", "extra") in [(s.path, s.reason) for s in report.stale]


def test_validate_uses_the_cache_and_reports_the_same(five: Path) -> None:
    write_group(five, "bad", "name: Bad\npayments:\n  credit_card: yes\n")
    first = compile_all(five / "groups", render=False, jobs=1)
    second = compile_all(five / "groups", render=False, jobs=1)
    assert first.diagnostics == second.diagnostics and first.errors == 1
    assert (first.compiled, second.compiled, second.reused) == (6, 0, 6)


def test_parallel_and_serial_builds_are_byte_identical(tmp_path: Path) -> None:
    generate(tmp_path / "groups", 260, seed=7)
    serial = build(tmp_path / "groups", tmp_path / "serial", jobs=1, use_cache=False)
    parallel = build(tmp_path / "groups", tmp_path / "parallel", jobs=2, use_cache=False)
    assert serial.ok and parallel.ok
    assert _tree(tmp_path / "serial") == _tree(tmp_path / "parallel")
    assert len(_tree(tmp_path / "serial")) > 260 * 2


def test_progress_never_printed_to_a_pipe(tmp_path: Path, run_pops: Run) -> None:
    generate(tmp_path / "groups", 220, seed=3)
    done = run_pops("build", "--jobs", "1", cwd=tmp_path, env={"CI": ""})
    assert done.returncode == 0
    assert "ETA" not in done.stderr + done.stdout and "\r" not in done.stderr + done.stdout


def test_progress_shown_on_a_terminal(tmp_path: Path) -> None:
    generate(tmp_path / "groups", 220, seed=3)
    code, seen = run_on_terminal("build", "--jobs", "1", "--no-cache", cwd=tmp_path, timeout=60)
    assert code == 0
    assert b"building [" in seen and b"/220 ETA" in seen, seen[-500:]
    assert sys.stdout is not None


def test_in_memory_build_matches_the_engine(five: Path) -> None:
    """`pops diff` compiles into memory; its bytes must be what `pops build` writes."""

    class Memory:
        def __init__(self) -> None:
            self.files: dict[str, bytes] = {}

        def write(self, rel: str, data: bytes) -> None:
            self.files[rel] = data

    env = five / "environments"
    env.mkdir()
    (env / "qa.yaml").write_text("overlays:\n  - groups: [g1]\n    values: {name: QA One}\n")
    _build(five)
    memory = Memory()
    assert compile_all(five / "groups", sink=memory).ok
    on_disk = {
        p.relative_to(five / "dist").as_posix(): p.read_bytes()
        for p in (five / "dist").rglob("*")
        if p.is_file()
    }
    assert memory.files == on_disk


@pytest.mark.parametrize("damage", ["edit", "delete"])
def test_incremental_build_repairs_hand_edited_output(
    five: Path, tmp_path: Path, damage: str
) -> None:
    _build(five)
    target = five / "dist/groups/g2/theme.css"
    if damage == "edit":
        target.write_bytes(b"tampered\n")
    else:
        target.unlink()
    assert _build(five) == (1, 4)  # only the damaged group is compiled again
    _fresh_equals(five, tmp_path)
    assert check_output(five / "groups", five / "dist").ok


def test_every_change_swaps_the_output_whole(repo: Path, tmp_path: Path) -> None:
    """A change, small or large, replaces dist/ in one step; a no-op touches nothing.

    The replaced tree is kept as a spare and brought up to date for the next
    change, so the two trees take turns (double buffering).
    """
    for i in range(60):
        write_group(repo, f"g{i:02d}", GROUP.format(name=f"Group {i}"))
    assert _build(repo) == (60, 0)
    first = (repo / "dist").stat().st_ino
    assert _build(repo) == (0, 60)
    assert (repo / "dist").stat().st_ino == first  # nothing changed: not even swapped
    write_group(repo, "g00", GROUP.format(name="Small"))
    assert _build(repo) == (1, 59)
    second = (repo / "dist").stat().st_ino
    assert second != first  # a new tree, swapped in whole
    # Unchanged files were hard-linked, not rendered again: the spare shares them.
    assert (repo / "dist/groups/g05/theme.css").stat().st_nlink == 2
    _fresh_equals(repo, tmp_path / "a")
    write_group(repo, "g01", GROUP.format(name="Second"))
    (repo / "groups/g02.yaml").unlink()
    # A removed group takes the full pipeline. g00 is compiled there once more: the
    # seal compiled it last time, and the per-group cache still holds its older result.
    assert _build(repo) == (2, 57)
    assert (repo / "dist").stat().st_ino == first  # the spare came back, updated
    _fresh_equals(repo, tmp_path / "b")
    write_group(repo, "g00", GROUP.format(name="Third"))
    assert _build(repo) == (1, 58)
    assert (repo / "dist").stat().st_ino == second
    _fresh_equals(repo, tmp_path / "c")
    assert _build(repo) == (0, 59)  # and the fresh stat record is trusted again
    assert check_output(repo / "groups", repo / "dist").ok


def test_an_outcome_comes_back_from_a_worker_whole() -> None:
    """Outcome spells its fields out for pickling: a field added later must travel too."""
    import dataclasses
    import pickle

    from compiler.incremental.engine import Outcome

    sent = Outcome(**{f.name: f"value of {f.name}" for f in dataclasses.fields(Outcome)})
    assert pickle.loads(pickle.dumps(sent)) == sent

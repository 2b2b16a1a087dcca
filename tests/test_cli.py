"""The command line through the installed `pops` executable (and `python -m compiler`).

Exit codes: 0 ok, 1 invalid input or a failed check, 2 usage error; never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import write_group

from compiler import __version__

ALPHA = (
    "name: Alpha Clinic\npayments:\n  credit_card: true\n"
    "look_and_feel:\n  footer:\n    phone: '+1 212 555 0199'\n"
)
BETA = "name: Beta Clinic\npayments:\n  google_pay: true\ntheme:\n  dark: true\n"


def run(run_pops: Any, repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc: subprocess.CompletedProcess[str] = run_pops(*args, cwd=repo)
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple[Any, ...]]:
    """Every file and folder under `root`: content hash, size, mode and mtime."""
    out: dict[str, tuple[Any, ...]] = {}
    if not root.exists():
        return out
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] in skip:
            continue
        st = path.lstat()
        if path.is_dir():
            out[rel] = ("dir", st.st_mode, st.st_mtime_ns)
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[rel] = ("file", digest, st.st_size, st.st_mode, st.st_mtime_ns)
    return out


@pytest.fixture
def built(run_pops: Any, repo: Path) -> Path:
    write_group(repo, "alpha", ALPHA)
    write_group(repo, "beta", BETA)
    proc = run(run_pops, repo, "build")
    assert proc.returncode == 0, proc.stderr
    return repo


def test_version(run_pops: Any, tmp_path: Path) -> None:
    proc = run(run_pops, tmp_path, "--version")
    assert proc.returncode == 0
    assert proc.stdout == f"pops, version {__version__}\n"


def test_help_lists_the_core_commands(run_pops: Any, tmp_path: Path) -> None:
    proc = run(run_pops, tmp_path, "--help")
    assert proc.returncode == 0
    assert re.search(r"^\s+validate\b", proc.stdout, re.MULTILINE)
    assert re.search(r"^\s+build\b", proc.stdout, re.MULTILINE)


def test_python_dash_m_compiler(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "compiler", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout
    assert "validate" in proc.stdout and "build" in proc.stdout
    version = subprocess.run(
        [sys.executable, "-m", "compiler", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert version.stdout.strip().endswith(__version__)


@pytest.mark.parametrize("command", ["validate", "build"])
def test_no_groups_folder_is_a_usage_error(run_pops: Any, tmp_path: Path, command: str) -> None:
    proc = run(run_pops, tmp_path, command)
    assert proc.returncode == 2
    assert "Usage:" in proc.stderr
    assert "no groups folder" in proc.stderr
    assert "--groups" in proc.stderr
    assert not (tmp_path / "dist").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(("validate", "--frobnicate"), ("No such option", "--frobnicate"), id="option"),
        pytest.param(("frobnicate",), ("No such command",), id="command"),
        pytest.param(("validate", "--format", "xml"), ("Invalid value", "xml"), id="format"),
        pytest.param(("validate", "groups/missing.yaml"), ("does not exist",), id="path"),
        pytest.param(("build", "--jobs", "0"), ("Invalid value",), id="jobs"),
    ],
)
def test_usage_errors_exit_2(
    run_pops: Any, repo: Path, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    write_group(repo, "alpha", ALPHA)
    proc = run(run_pops, repo, *args)
    assert proc.returncode == 2
    for word in words:
        assert word in proc.stderr
    assert proc.stdout == ""


def test_validate_clean_repo(run_pops: Any, repo: Path) -> None:
    write_group(repo, "alpha", ALPHA)
    proc = run(run_pops, repo, "validate")
    assert (proc.returncode, proc.stdout) == (0, "no problems found\n")


def test_validate_named_files_and_groups_option(run_pops: Any, tmp_path: Path) -> None:
    groups = tmp_path / "elsewhere"
    groups.mkdir()
    (groups / "alpha.yaml").write_text(ALPHA)
    (groups / "broken.yaml").write_text("name: [\n")
    proc = run(run_pops, tmp_path, "validate", "--groups", "elsewhere", "--format", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert [d["file"] for d in report["diagnostics"]] == ["elsewhere/broken.yaml"]
    proc = run(run_pops, tmp_path, "validate", "elsewhere/alpha.yaml", "--format", "json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["diagnostics"] == []


def test_build_writes_the_spec_layout(run_pops: Any, built: Path) -> None:
    dist = built / "dist"
    files = sorted(p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file())
    assert files == [
        ".pops-output",
        "groups/alpha/config.json",
        "groups/alpha/theme.css",
        "groups/beta/config.json",
        "groups/beta/theme.css",
        "manifest.json",
    ]
    manifest = json.loads((dist / "manifest.json").read_text())
    assert list(manifest) == ["schemaVersion", "compiler", "inputsDigest", "groups", "files"]
    assert manifest["schemaVersion"] == 1
    assert manifest["compiler"] == __version__
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["inputsDigest"])
    assert manifest["groups"] == ["alpha", "beta"]
    assert [f["path"] for f in manifest["files"]] == files[1:-1]  # not the marker, nor itself
    assert (dist / ".pops-output").read_bytes() == (
        b'{"tool": "pops", "output": "build", '
        b'"note": "written by pops, which replaces this folder whole: keep nothing else here"}\n'
    )
    for entry in manifest["files"]:
        data = (dist / entry["path"]).read_bytes()
        assert entry == {
            "path": entry["path"],
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
    config = json.loads((dist / "groups/alpha/config.json").read_text())
    assert config["lookAndFeel"]["footer"]["phone"] == {
        "e164": "+12125550199",
        "display": "(212) 555-0199",
    }
    css = (dist / "groups/alpha/theme.css").read_bytes()
    assert config["theme"]["stylesheet"]["sha256"] == hashlib.sha256(css).hexdigest()


def test_build_prints_warnings_and_succeeds_strict_fails(run_pops: Any, repo: Path) -> None:
    write_group(repo, "alpha", "name: Alpha\n")  # payment-none warning
    proc = run(run_pops, repo, "build", "--strict")
    assert proc.returncode == 1
    assert "payment-none" in proc.stdout
    assert not (repo / "dist").exists()
    proc = run(run_pops, repo, "build")
    assert proc.returncode == 0
    assert "groups/alpha.yaml:1:1: warning: payments:" in proc.stdout
    assert (repo / "dist/groups/alpha/config.json").is_file()


def test_build_removes_files_of_removed_groups(run_pops: Any, built: Path) -> None:
    (built / "groups/beta.yaml").unlink()
    assert run(run_pops, built, "build").returncode == 0
    assert not (built / "dist/groups/beta").exists()
    manifest = json.loads((built / "dist/manifest.json").read_text())
    assert manifest["groups"] == ["alpha"]
    assert run(run_pops, built, "build", "--check").returncode == 0


def test_build_leaves_exactly_what_the_sources_produce(run_pops: Any, built: Path) -> None:
    """A stray file in the output goes on the next build, cache or no cache."""
    (built / "dist/groups/alpha/stray.txt").write_text("left behind\n")
    (built / "dist/notes.txt").write_text("left behind\n")
    assert run(run_pops, built, "build").returncode == 0
    assert not (built / "dist/groups/alpha/stray.txt").exists()
    assert not (built / "dist/notes.txt").exists()
    assert run(run_pops, built, "build", "--check").returncode == 0


# build --check


def test_check_up_to_date(run_pops: Any, built: Path) -> None:
    before = snapshot(built, skip=(".pops-cache",))
    proc = run(run_pops, built, "build", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "up to date" in proc.stderr
    assert snapshot(built, skip=(".pops-cache",)) == before


def test_check_up_to_date_in_a_fresh_clone(run_pops: Any, built: Path, tmp_path: Path) -> None:
    """CI has no cache: a committed dist/ is compared byte for byte."""
    clone = tmp_path / "clone"
    clone.mkdir()
    for rel in snapshot(built, skip=(".pops-cache",)):
        source = built / rel
        if source.is_dir():
            (clone / rel).mkdir(parents=True, exist_ok=True)
        else:
            (clone / rel).write_bytes(source.read_bytes())
    proc = run(run_pops, clone, "build", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _stale_lines(stdout: str) -> list[tuple[str, str]]:
    return [
        (m.group(1), m.group(2))
        for m in re.finditer(r"^\s*(changed|missing|extra)\s+(\S+)$", stdout, re.MULTILINE)
    ]


def test_check_lists_changed_missing_and_extra(run_pops: Any, built: Path) -> None:
    dist = built / "dist"
    (dist / "groups/alpha/theme.css").write_text("/* edited by hand */\n")
    (dist / "groups/beta/config.json").unlink()
    (dist / "groups/beta/old.css").write_text("x\n")
    before = snapshot(built, skip=(".pops-cache",))
    proc = run(run_pops, built, "build", "--check")
    assert proc.returncode == 1
    assert _stale_lines(proc.stdout) == [
        ("changed", "dist/groups/alpha/theme.css"),
        ("missing", "dist/groups/beta/config.json"),
        ("extra", "dist/groups/beta/old.css"),
    ]
    assert "stale" in proc.stderr
    assert snapshot(built, skip=(".pops-cache",)) == before


def test_check_sees_a_source_change(run_pops: Any, built: Path) -> None:
    write_group(built, "alpha", ALPHA.replace("Alpha Clinic", "Alpha Health"))
    write_group(built, "gamma", ALPHA.replace("Alpha Clinic", "Gamma"))
    before = snapshot(built, skip=(".pops-cache",))
    proc = run(run_pops, built, "build", "--check")
    assert proc.returncode == 1
    assert _stale_lines(proc.stdout) == [
        ("changed", "dist/groups/alpha/config.json"),
        ("missing", "dist/groups/gamma/config.json"),
        ("missing", "dist/groups/gamma/theme.css"),
        ("changed", "dist/manifest.json"),
    ]
    assert snapshot(built, skip=(".pops-cache",)) == before


def test_check_detects_a_same_size_edit_with_the_old_mtime(run_pops: Any, built: Path) -> None:
    """Content is what counts: a same-length edit that keeps the mtime is still stale."""
    css = built / "dist/groups/alpha/theme.css"
    st = css.stat()
    data = css.read_bytes()
    css.write_bytes(data.replace(b"#ffffff", b"#fffffe", 1))
    os.utime(css, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert css.stat().st_size == st.st_size
    proc = run(run_pops, built, "build", "--check")
    assert proc.returncode == 1
    assert _stale_lines(proc.stdout) == [("changed", "dist/groups/alpha/theme.css")]


def test_check_with_invalid_groups_fails_and_writes_nothing(run_pops: Any, built: Path) -> None:
    write_group(built, "broken", "name: Broken\npayments:\n  credit_card: yes\n")
    before = snapshot(built, skip=(".pops-cache",))
    proc = run(run_pops, built, "build", "--check")
    assert proc.returncode == 1
    assert "groups/broken.yaml:3:16: error: payments.credit_card:" in proc.stdout
    assert "errors" in proc.stderr
    assert snapshot(built, skip=(".pops-cache",)) == before


def test_check_without_any_output_lists_everything_missing(run_pops: Any, repo: Path) -> None:
    write_group(repo, "alpha", ALPHA)
    proc = run(run_pops, repo, "build", "--check")
    assert proc.returncode == 1
    assert _stale_lines(proc.stdout) == [
        ("missing", "dist/.pops-output"),
        ("missing", "dist/groups/alpha/config.json"),
        ("missing", "dist/groups/alpha/theme.css"),
        ("missing", "dist/manifest.json"),
    ]
    assert not (repo / "dist").exists()

"""Same sources, same bytes: wherever, however and from whatever folder the build runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, write_group

HOSTILE = (
    'name: "Zoë <b>&</b> {{ 7*7 }}"\npayments:\n  credit_card: true\n  email_receipt: true\n'
    "theme:\n  dark: true\n  colors:\n    accent: '#FA0'\n"
    "look_and_feel:\n  footer:\n    phone: '+44 20 7946 0018'\n    email: Help@Example.com\n"
    "    text: 'Café — ☎ $5 {not.a.placeholder}'\n"
    "notifications:\n  email_from: no-reply@example.com\n"
    "authentication:\n  mfa:\n    enabled: true\n    success_role: patient\n"
    "    email_subject: Code 🔐\n    email_body: |\n      Hi,\n\n      Code: ${mfa.code}\n"
    "    sms_message: 'Code ${mfa.code}'\n"
)


def sources(root: Path, *, reverse: bool = False) -> Path:
    """A repo with the sample groups plus one with unusual text, written in either order."""
    groups = root / "groups"
    groups.mkdir(parents=True)
    samples = sorted((REPO / "groups").glob("*.yaml"))
    assert samples, "the repo's sample groups are missing"
    items = [(p.stem, p.read_text()) for p in samples] + [("unusual", HOSTILE)]
    for slug, text in reversed(items) if reverse else items:
        write_group(root, slug, text)
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def build(run_pops: Any, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
    proc = run_pops("build", *args, cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture
def first(run_pops: Any, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    repo = sources(tmp_path / "a" / "deeply" / "nested" / "repo-one")
    build(run_pops, repo, env={"PYTHONHASHSEED": "1"})
    return repo, tree(repo / "dist")


def test_two_builds_in_different_folders_are_byte_identical(
    run_pops: Any, tmp_path: Path, first: tuple[Path, dict[str, bytes]]
) -> None:
    _, one = first
    repo_two = sources(tmp_path / "second", reverse=True)
    # Different cwd, absolute paths, another hash seed, one worker.
    build(
        run_pops,
        tmp_path,
        "--groups",
        str(repo_two / "groups"),
        "--out",
        str(repo_two / "out"),
        "--jobs",
        "1",
        env={"PYTHONHASHSEED": "4242"},
    )
    two = tree(repo_two / "out")
    assert sorted(one) == sorted(two)
    for rel in one:
        assert one[rel] == two[rel], rel
    assert len(one) >= 15


def test_no_artifact_mentions_where_it_was_built(
    tmp_path: Path, first: tuple[Path, dict[str, bytes]]
) -> None:
    _, files = first
    needles = [str(tmp_path).encode(), b"deeply", b"repo-one", str(REPO).encode(), b"/tmp/"]
    for rel, data in files.items():
        for needle in needles:
            assert needle not in data, (rel, needle)


def test_artifacts_are_plain_stable_text(first: tuple[Path, dict[str, bytes]]) -> None:
    _, files = first
    for rel, data in files.items():
        assert data.endswith(b"\n"), rel
        assert not data.endswith(b"\n\n"), rel
        assert b"\r" not in data, rel
        text = data.decode("utf-8")
        assert not re.search(r"20\d\d-\d\d-\d\d[T ]\d\d:\d\d", text), rel


def test_rebuilding_changes_no_byte(run_pops: Any, first: tuple[Path, dict[str, bytes]]) -> None:
    repo, files = first
    build(run_pops, repo)
    assert tree(repo / "dist") == files
    build(run_pops, repo, "--no-cache", "--jobs", "2")
    assert tree(repo / "dist") == files


def test_incremental_build_equals_a_build_from_scratch(
    run_pops: Any, tmp_path: Path, first: tuple[Path, dict[str, bytes]]
) -> None:
    repo, _ = first
    samples = sorted(p.stem for p in (repo / "groups").glob("*.yaml"))
    changed = samples[0]
    text = (repo / "groups" / f"{changed}.yaml").read_text()
    write_group(repo, changed, text.replace("name: ", "name: Renamed ", 1))
    (repo / "groups" / f"{samples[1]}.yaml").unlink()
    build(run_pops, repo)

    scratch = tmp_path / "scratch"
    shutil.copytree(repo / "groups", scratch / "groups")
    build(run_pops, scratch, "--no-cache")
    assert tree(repo / "dist") == tree(scratch / "dist")

"""pops replaces only folders it wrote: missing, empty or marked `.pops-output` (issue #11, #16).

Every refusal is exit 2 with a message naming the folder and what is in it or
why it is off limits, and leaves every file and folder exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import Run, write_group

ALPHA = (
    "name: Alpha Clinic\npayments:\n  credit_card: true\n"
    "look_and_feel:\n  footer:\n    phone: '+1 212 555 0199'\n"
)
STAGING = (
    "overlays:\n"
    "  - groups: all\n"
    "    values:\n"
    "      notifications:\n"
    "        email_from: no-reply@staging.example.com\n"
)
BUILD_MARKER = (
    b'{"tool": "pops", "output": "build", '
    b'"note": "written by pops, which replaces this folder whole: keep nothing else here"}\n'
)
PREVIEW_MARKER = BUILD_MARKER.replace(b'"build"', b'"preview"')


def tree(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under `root` (links not followed): kind, content hash, mode, mtime."""
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path), st.st_mtime_ns)
            elif path.is_dir():
                out[rel] = ("dir", st.st_mode, st.st_mtime_ns)
            elif rel.startswith(".pops-cache/lock-") or "/.pops-cache/lock-" in rel:
                # pops's own lock (its holder's pid is written while held): taken and
                # released by a refused run, it is the only thing such a run may touch.
                out[rel] = ("lock", st.st_mode)
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[rel] = ("file", digest, st.st_mode, st.st_mtime_ns)
    return out


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True, timeout=60)


@pytest.fixture
def project(tmp_path: Path, run_pops: Run) -> Path:
    """A git repo with a group, an environment, a built dist/, a preview, and the user's files."""
    repo = tmp_path / "project"
    (repo / "groups").mkdir(parents=True)
    write_group(repo, "alpha", ALPHA)
    (repo / "environments").mkdir()
    (repo / "environments/staging.yaml").write_text(STAGING)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "groups", "environments")
    git(repo, "-c", "user.email=a@example.com", "-c", "user.name=A", "commit", "-qm", "groups")
    assert run_pops("build", cwd=repo).returncode == 0
    assert run_pops("preview", "--out", "site", cwd=repo).returncode == 0
    (repo / "mine/photos").mkdir(parents=True)
    (repo / "mine/notes.txt").write_text("my own notes\n")
    (repo / "mine/photos/cat.jpg").write_bytes(b"\xff\xd8 not really a cat")
    (repo / "home").mkdir()
    (repo / "home/.bashrc").write_text("# mine\n")
    return repo


def refused(run_pops: Run, project: Path, *args: str) -> str:
    """Run pops, expecting a refusal that touched nothing anywhere under the test's folder."""
    top = project.parent
    before = tree(top)
    done = run_pops(*args, cwd=project, env={"HOME": str(project / "home")})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert tree(top) == before
    assert done.stdout == ""
    return done.stderr


# Each refused --out, and what the message must say: the folder, then why.
REFUSED = {
    "groups": "groups/ is the groups folder {project}/groups",
    "environments": "environments/ is the environments folder {project}/environments",
    ".": "./ is the repository root (the folder holding the groups folder) {project}:",
    "..": "../ (that is {top}) holds the groups folder {project}/groups",
    ".git": ".git/ is the git folder {project}/.git",
    ".git/hooks": ".git/hooks/ is inside the git folder {project}/.git",
    ".pops-cache": ".pops-cache/ is the cache folder {project}/.pops-cache",
    "groups/dist": "groups/dist/ is inside the groups folder {project}/groups",
    "environments/out": "environments/out/ is inside the environments folder",
    "home": "home/ is the home folder {project}/home",
    "/": "/ holds the groups folder {project}/groups",
    "mine": (
        "mine/ is not a folder pops wrote (it has no .pops-output) and is not empty: it holds "
        "notes.txt, photos/."
    ),
    "mine/photos": "mine/photos/ is not a folder pops wrote (it has no .pops-output) and is "
    "not empty: it holds cat.jpg.",
}


@pytest.mark.parametrize("command", ["build", "preview"])
@pytest.mark.parametrize("out", list(REFUSED))
def test_an_output_pops_does_not_own_is_refused_untouched(
    run_pops: Run, project: Path, command: str, out: str
) -> None:
    message = refused(run_pops, project, command, "--out", out)
    expected = REFUSED[out].format(project=project, top=project.parent)
    assert message.startswith(f"Error: {expected}"), message
    assert message.count("\n") == 1  # one line, no usage text


@pytest.mark.parametrize("command", ["build", "preview"])
@pytest.mark.parametrize("target", ["dist", "mine", "groups", "."])
def test_an_output_that_is_a_symbolic_link_is_refused(
    run_pops: Run, project: Path, command: str, target: str
) -> None:
    """Issue #16: a link to a folder (even pops's own) was silently replaced by a folder."""
    (project / "link").symlink_to(target)
    message = refused(run_pops, project, command, "--out", "link")
    assert message.startswith(f"Error: link/ is a symbolic link (to {target}): pops never "), (
        message
    )


def test_a_symlinked_dist_is_refused_by_the_plain_build_and_check_stays_read_only(
    run_pops: Run, project: Path
) -> None:
    """The bare `pops build` (the seal's quick path) refuses a dist/ that became a link."""
    (project / "dist").rename(project / "real-dist")
    (project / "dist").symlink_to("real-dist")
    message = refused(run_pops, project, "build")
    assert message.startswith("Error: dist/ is a symbolic link (to real-dist)"), message
    assert not [n for n in os.listdir(project) if n.startswith(".dist.tmp-")]


@pytest.mark.parametrize("env", [None, "staging"])
def test_a_link_as_the_output_folder_of_an_environment_build_is_refused(
    run_pops: Run, project: Path, env: str | None
) -> None:
    (project / "link").symlink_to("dist")
    args = ["build", "--out", "link", *(["--env", env] if env else [])]
    assert "link/ is a symbolic link (to dist)" in refused(run_pops, project, *args)


def test_build_refuses_a_preview_and_preview_refuses_a_build(run_pops: Run, project: Path) -> None:
    message = refused(run_pops, project, "build", "--out", "site")
    assert message.startswith("Error: site/ holds a pops preview, not a build (its .pops-output")
    message = refused(run_pops, project, "preview", "--out", "dist")
    assert message.startswith("Error: dist/ holds a pops build, not a preview (its .pops-output")


def test_an_environment_build_never_replaces_a_folder_of_the_user(
    run_pops: Run, project: Path
) -> None:
    """`--env NAME` replaces OUT/NAME: only when it is pops's too."""
    (project / "mine/staging").mkdir()
    (project / "mine/staging/keep.txt").write_text("mine\n")
    message = refused(run_pops, project, "build", "--out", "mine", "--env", "staging")
    assert message.startswith(
        "Error: mine/staging/ is not a folder pops wrote (it has no .pops-output) and is not "
        "empty: it holds keep.txt."
    ), message


def test_a_long_listing_is_cut_short(run_pops: Run, project: Path) -> None:
    for k in range(10):
        (project / f"mine/file-{k}.txt").write_text(f"{k}\n")
    message = refused(run_pops, project, "build", "--out", "mine")
    assert (
        "it holds file-0.txt, file-1.txt, file-2.txt, file-3.txt, file-4.txt, file-5.txt "
        "and 6 more." in message
    ), message


@pytest.mark.parametrize("command", ["build", "preview"])
@pytest.mark.parametrize("state", ["missing", "empty", "marked", "nested-missing"])
def test_missing_empty_and_marked_folders_are_replaced(
    run_pops: Run, project: Path, command: str, state: str
) -> None:
    out = project / ("out/deeper/here" if state == "nested-missing" else "out")
    if state in ("empty", "marked"):
        out.mkdir()
    if state == "marked":
        assert run_pops(command, "--out", "out", cwd=project).returncode == 0
        (out / "left-by-hand.txt").write_text("pops's folder: this goes\n")
    done = run_pops(command, "--out", out.relative_to(project).as_posix(), cwd=project)
    assert done.returncode == 0, done.stderr
    marker = BUILD_MARKER if command == "build" else PREVIEW_MARKER
    assert (out / ".pops-output").read_bytes() == marker
    assert not (out / "left-by-hand.txt").exists()
    assert "note:" not in done.stderr
    if command == "build":
        assert (out / "staging/.pops-output").read_bytes() == BUILD_MARKER  # beside each manifest
        assert "groups/alpha/config.json" in (out / "manifest.json").read_text()
        assert ".pops-output" not in (out / "manifest.json").read_text()


def test_the_committed_dist_of_this_repository_carries_the_marker() -> None:
    dist = Path(__file__).resolve().parent.parent / "dist"
    assert (dist / ".pops-output").read_bytes() == BUILD_MARKER


def _unmark(dist: Path) -> None:
    """What an older pops left: the same output, without any marker."""
    for marker in dist.rglob(".pops-output"):
        marker.unlink()


def test_an_old_dist_is_adopted_once(run_pops: Run, project: Path) -> None:
    dist = project / "dist"
    _unmark(dist)
    done = run_pops("build", cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == (
        "note: dist/ was written by an older pops (its manifest lists exactly its files): "
        "adopted it, and marked it with .pops-output"
    )
    assert (dist / ".pops-output").read_bytes() == BUILD_MARKER
    assert (dist / "staging/.pops-output").read_bytes() == BUILD_MARKER
    again = run_pops("build", "--out", "dist", cwd=project)
    assert again.returncode == 0 and "note:" not in again.stderr, again.stderr
    assert run_pops("build", "--check", cwd=project).returncode == 0


def test_an_old_dist_with_a_file_its_manifest_does_not_list_is_refused(
    run_pops: Run, project: Path
) -> None:
    dist = project / "dist"
    _unmark(dist)
    (dist / "groups/alpha/notes.txt").write_text("mine\n")
    message = refused(run_pops, project, "build")
    assert message.startswith(
        "Error: dist/ is not a folder pops wrote (it has no .pops-output) and is not empty: it "
        "holds groups/, manifest.json, staging/."
    ), message


def test_an_old_dist_with_a_broken_manifest_is_refused(run_pops: Run, project: Path) -> None:
    dist = project / "dist"
    _unmark(dist)
    (dist / "manifest.json").write_text("{not json\n")
    assert "dist/ is not a folder pops wrote" in refused(run_pops, project, "build")


def test_preview_never_adopts_an_unmarked_folder(run_pops: Run, project: Path) -> None:
    _unmark(project / "site")
    message = refused(run_pops, project, "preview", "--out", "site")
    assert message.startswith("Error: site/ is not a folder pops wrote"), message


@pytest.mark.parametrize("damage", ["edited", "removed"])
def test_a_damaged_marker_is_stale_for_check_and_repaired_by_build(
    run_pops: Run, project: Path, damage: str
) -> None:
    marker = project / "dist/.pops-output"
    if damage == "edited":
        marker.write_bytes(b'{"tool": "pops"}\n')
    else:
        marker.unlink()
    check = run_pops("build", "--check", cwd=project)
    assert check.returncode == 1
    reason = "changed" if damage == "edited" else "missing"
    assert check.stdout.splitlines() == [f"{reason:>8}  dist/.pops-output"]
    assert run_pops("build", cwd=project).returncode == 0
    assert marker.read_bytes() == BUILD_MARKER
    assert run_pops("build", "--check", cwd=project).returncode == 0


def test_an_environment_build_into_a_new_folder_marks_it_for_the_full_build(
    run_pops: Run, project: Path
) -> None:
    done = run_pops("build", "--out", "fresh", "--env", "staging", cwd=project)
    assert done.returncode == 0, done.stderr
    assert (project / "fresh/.pops-output").read_bytes() == BUILD_MARKER
    assert (project / "fresh/staging/.pops-output").read_bytes() == BUILD_MARKER
    assert sorted(os.listdir(project / "fresh")) == [".pops-output", "staging"]
    full = run_pops("build", "--out", "fresh", cwd=project)
    assert full.returncode == 0, full.stderr
    assert sorted(os.listdir(project / "fresh")) == [
        ".pops-output",
        "groups",
        "manifest.json",
        "staging",
    ]


@pytest.mark.parametrize("repair", [[], ["--repair"]], ids=["publish", "repair"])
def test_a_file_publish_target_inside_the_output_is_refused(
    run_pops: Run, project: Path, repair: list[str]
) -> None:
    # --repair opened the target without this check and took its lock inside dist/ (D2)
    target = project / "dist/site"
    message = refused(run_pops, project, "publish", *repair, "--target", target.as_uri())
    assert message == (
        f"Usage: pops publish [OPTIONS]\nTry 'pops publish --help' for help.\n\n"
        f"Error: the target {target.as_uri()} is inside the output folder dist/, which "
        "every build replaces whole: publish to a folder outside it\n"
    )
    assert not target.exists()
    whole = (project / "dist").as_uri()
    message = refused(run_pops, project, "publish", *repair, "--target", whole)
    assert "is inside the output folder dist/, which every build replaces whole" in message


def _names(*folders: Path) -> dict[str, list[str]]:
    return {str(f): sorted(os.listdir(f)) for f in folders}


@pytest.mark.parametrize("valid", [True, False])
def test_build_and_preview_leave_nothing_new_beside_the_output(
    run_pops: Run, project: Path, valid: bool
) -> None:
    """Temporary folders are gone after success and failure, in the repo and beside --out."""
    elsewhere = project.parent / "elsewhere"
    elsewhere.mkdir()
    if not valid:
        write_group(project, "broken", "name: [\n")
    before = _names(project, elsewhere, project / "dist")
    runs = [
        ("build",),
        ("build", "--out", "../elsewhere/out"),
        ("build", "--out", "../elsewhere/env-out", "--env", "staging"),
        ("preview", "--out", "site"),
        ("preview", "--out", "../elsewhere/site"),
    ]
    for args in runs:
        done = run_pops(*args, cwd=project)
        assert done.returncode == (0 if valid else 1), done.stderr
    after = _names(project, elsewhere, project / "dist")
    made = ["env-out", "out", "site"] if valid else []
    assert after == {**before, str(elsewhere): made}
    if valid:
        for out in ("out", "env-out/staging", "site"):
            assert (elsewhere / out / ".pops-output").is_file()
        assert json.loads((project / "dist/.pops-output").read_bytes())["output"] == "build"

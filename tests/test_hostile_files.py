"""Files that are not plain files, and numbers no setting could take (issues #16 and #11).

A folder, a named pipe, a socket, a device, or a symlink that dangles, loops or
leads out of the repository, where a group file (or a shared layer, or a path on
the command line) should be, is a located error: never a hang, never a read until
memory runs out, never a group silently left out of a build that then succeeds.
Each case runs through the real `pops` executable with a timeout, so a hang fails
the test instead of blocking the suite.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from compiler.load import files
from tests.conftest import pops_executable, write_group
from tests.test_cache import GROUP, _tree
from tests.test_diff import init_repo
from tests.test_quick_build import _age

# A hang is a failure, not a blocked suite: every run here is cut short well before.
TIMEOUT = 120

GOOD = GROUP.format(name="Good")
BIG = "1" * 5000

LOOP = (
    "error: this is a symlink to `{target}` that loops back on itself; replace it with "
    "the file it was meant to point to [file-symlink-loop]"
)
DANGLING = (
    "error: this is a symlink to `{target}`, which does not exist; point it at an existing "
    "file in the repository, or delete it [file-symlink-dangling]"
)
OUTSIDE = (
    "error: this is a symlink to `{target}`, outside the repository; pops reads only files "
    "in the repository: copy the file in instead of linking to it [file-symlink-outside]"
)
FOLDER = (
    "error: this is a folder, not a file; YAML files are read only directly in groups/ and "
    "environments/: move its files up, or rename the folder so it does not end in .yaml "
    "[file-not-regular]"
)
NOT_REGULAR = (
    "error: this is {kind}, not a regular file; pops reads only regular files: replace it "
    "with a regular YAML file [file-not-regular]"
)
TOO_LONG = (
    "error: {key}: this number is {length} characters long; no setting takes a number "
    "longer than 500 characters: if it is text, put it in quotes [yaml-number-too-long]"
)


def pops(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [pops_executable(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A project with one good group, built once (so dist/ and the seal exist)."""
    root = tmp_path / "project"
    (root / "groups").mkdir(parents=True)
    write_group(root, "good", GOOD)
    write_group(root, "other", GROUP.format(name="Other"))
    assert pops("build", cwd=root).returncode == 0
    _age(root)
    return root


def lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return proc.stdout.splitlines()


def assert_build_refused(repo: Path, expected: list[str]) -> None:
    """`pops build` (the quick path) and `pops build --check` fail with exactly `expected`
    and leave dist/ as it was."""
    before = _tree(repo / "dist")
    for args in (["build"], ["build", "--check"], ["build", "--no-cache"]):
        proc = pops(*args, cwd=repo)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert lines(proc)[:-1] == expected, args
    assert _tree(repo / "dist") == before


# --- not a regular file where a group should be -------------------------------------------


def test_a_fifo_group_is_an_error_not_a_hang(repo: Path) -> None:
    os.unlink(repo / "groups/other.yaml")
    os.mkfifo(repo / "groups/other.yaml")
    expected = ["groups/other.yaml:1:1: " + NOT_REGULAR.format(kind="a named pipe (FIFO)")]
    for args in (["validate"], ["validate", "groups/other.yaml"], ["fmt", "--check"]):
        proc = pops(*args, cwd=repo)
        assert proc.returncode == 1, args
        assert lines(proc) == [*expected, "1 error, 0 warnings"], args
    assert_build_refused(repo, expected)
    proc = pops("set", "other", "name", "New", cwd=repo)
    assert (proc.returncode, lines(proc)[0]) == (1, expected[0])
    assert proc.stderr == "groups/other.yaml was not changed\n"
    proc = pops("explain", "other", cwd=repo)
    assert (proc.returncode, lines(proc)) == (1, [*expected, "1 error, 0 warnings"])


def test_a_socket_group_is_an_error(repo: Path) -> None:
    os.unlink(repo / "groups/other.yaml")
    # (A socket path is limited to about 100 bytes: bind from inside the folder.)
    here = os.getcwd()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.chdir(repo / "groups")
        server.bind("other.yaml")
    finally:
        os.chdir(here)
    try:
        expected = ["groups/other.yaml:1:1: " + NOT_REGULAR.format(kind="a socket")]
        assert_build_refused(repo, expected)
        proc = pops("validate", "groups/other.yaml", cwd=repo)
        assert (proc.returncode, lines(proc)[:-1]) == (1, expected)
    finally:
        server.close()


def test_a_folder_named_like_a_group_is_an_error(repo: Path) -> None:
    os.unlink(repo / "groups/other.yaml")
    (repo / "groups/other.yaml").mkdir()
    (repo / "groups/other.yaml/inside.yaml").write_text(GOOD)
    assert_build_refused(repo, ["groups/other.yaml:1:1: " + FOLDER])
    proc = pops("explain", "other", cwd=repo)
    assert (proc.returncode, lines(proc)[0]) == (1, "groups/other.yaml:1:1: " + FOLDER)


def test_a_symlink_to_dev_zero_is_refused_without_reading_it(repo: Path) -> None:
    os.unlink(repo / "groups/other.yaml")
    os.symlink("/dev/zero", repo / "groups/other.yaml")
    expected = ["groups/other.yaml:1:1: " + OUTSIDE.format(target="/dev/zero")]
    for args in (["validate"], ["validate", "groups/other.yaml"], ["fmt", "groups/other.yaml"]):
        proc = pops(*args, cwd=repo)
        assert (proc.returncode, lines(proc)) == (1, [*expected, "1 error, 0 warnings"]), args
    assert_build_refused(repo, expected)


def test_a_symlink_inside_the_repository_to_a_pipe_is_an_error(repo: Path) -> None:
    os.mkfifo(repo / "pipe")
    os.unlink(repo / "groups/other.yaml")
    os.symlink("../pipe", repo / "groups/other.yaml")
    message = NOT_REGULAR.format(kind="a named pipe (FIFO)").replace(
        "this is", "this is a symlink to `../pipe`, which is"
    )
    assert_build_refused(repo, [f"groups/other.yaml:1:1: {message}"])


# --- symlinks ----------------------------------------------------------------------------


def test_a_symlink_loop_is_an_error(repo: Path) -> None:
    os.unlink(repo / "groups/other.yaml")
    os.symlink("loop.yaml", repo / "groups/other.yaml")
    os.symlink("other.yaml", repo / "groups/loop.yaml")
    expected = [
        "groups/loop.yaml:1:1: " + LOOP.format(target="other.yaml"),
        "groups/other.yaml:1:1: " + LOOP.format(target="loop.yaml"),
    ]
    proc = pops("validate", cwd=repo)
    assert (proc.returncode, lines(proc)) == (1, [*expected, "2 errors, 0 warnings"])
    proc = pops("validate", "groups/other.yaml", cwd=repo)
    assert (proc.returncode, lines(proc)) == (1, [expected[1], "1 error, 0 warnings"])
    assert_build_refused(repo, expected)


def test_a_group_replaced_by_a_dangling_symlink_fails_the_build(repo: Path) -> None:
    os.unlink(repo / "groups/other.yaml")
    os.symlink("gone.yaml", repo / "groups/other.yaml")
    expected = ["groups/other.yaml:1:1: " + DANGLING.format(target="gone.yaml")]
    assert_build_refused(repo, expected)
    proc = pops("validate", "groups/other.yaml", cwd=repo)
    assert (proc.returncode, lines(proc)) == (1, [*expected, "1 error, 0 warnings"])
    proc = pops("set", "other", "name", "X", cwd=repo)
    assert (proc.returncode, lines(proc)[0]) == (1, expected[0])
    assert os.readlink(repo / "groups/other.yaml") == "gone.yaml"


def test_a_symlink_out_of_the_repository_is_an_error(repo: Path) -> None:
    outside = repo.parent / "elsewhere.yaml"
    outside.write_text(GROUP.format(name="Other"))  # the very bytes it replaces
    os.unlink(repo / "groups/other.yaml")
    os.symlink(outside, repo / "groups/other.yaml")
    expected = ["groups/other.yaml:1:1: " + OUTSIDE.format(target=outside)]
    assert_build_refused(repo, expected)
    proc = pops("set", "other", "name", "X", cwd=repo)
    assert (proc.returncode, lines(proc)[0]) == (1, expected[0])
    assert outside.read_text() == GROUP.format(name="Other")


def test_a_symlink_that_stays_in_the_repository_is_read(repo: Path) -> None:
    (repo / "shared").mkdir()
    (repo / "shared/other.yaml").write_text(GROUP.format(name="Other"))
    os.unlink(repo / "groups/other.yaml")
    os.symlink("../shared/other.yaml", repo / "groups/other.yaml")
    before = _tree(repo / "dist")
    proc = pops("build", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _tree(repo / "dist") == before  # same bytes, now through the link
    assert pops("validate", "groups/other.yaml", cwd=repo).returncode == 0
    proc = pops("set", "other", "name", "Linked", cwd=repo)
    assert (proc.returncode, proc.stdout) == (0, "groups/other.yaml: set name\n")
    assert os.readlink(repo / "groups/other.yaml") == "../shared/other.yaml"  # still a link
    assert (repo / "shared/other.yaml").read_text() == GROUP.format(name="Linked")
    assert pops("explain", "other", "name", cwd=repo).stdout.startswith('name = "Linked"')


# --- shared layers and environments ------------------------------------------------------


def test_a_pipe_as_defaults_or_as_an_environment_is_an_error(repo: Path) -> None:
    os.mkfifo(repo / "groups/_defaults.yaml")
    expected = ["groups/_defaults.yaml:1:1: " + NOT_REGULAR.format(kind="a named pipe (FIFO)")]
    assert_build_refused(repo, expected)
    os.unlink(repo / "groups/_defaults.yaml")
    (repo / "environments").mkdir()
    os.symlink("/dev/zero", repo / "environments/prod.yaml")
    expected = ["environments/prod.yaml:1:1: " + OUTSIDE.format(target="/dev/zero")]
    assert_build_refused(repo, expected)


# --- misnamed files and sub-folders (#11) ------------------------------------------------


def test_misspelt_extensions_and_sub_folders_are_reported(repo: Path) -> None:
    (repo / "groups/upper.YAML").write_text(GOOD)
    (repo / "groups/mixed.Yml").write_text(GOOD)
    (repo / "groups/_base.yml").write_text("theme:\n  dark: false\n")
    (repo / "groups/archive").mkdir()
    (repo / "groups/archive/old.yaml").write_text(GOOD)
    (repo / "environments").mkdir()
    (repo / "environments/prod.yml").write_text("groups: {}\n")

    def rename(file: str, stem: str, what: str = "group files") -> str:
        return (
            f"{file}:1:1: error: {what} end in .yaml; this file is not read: rename it to "
            f"{stem}.yaml [file-extension]"
        )

    expected = [
        rename("environments/prod.yml", "prod", "environment files"),
        rename("groups/_base.yml", "_base"),
        "groups/archive:1:1: warning: `archive/` is a sub-folder; files in it are not read: "
        "group files live directly in groups/, so move its .yaml files up [file-in-subfolder]",
        rename("groups/mixed.Yml", "mixed"),
        rename("groups/upper.YAML", "upper"),
    ]
    proc = pops("validate", cwd=repo)
    assert (proc.returncode, lines(proc)) == (1, [*expected, "4 errors, 1 warning"])
    assert_build_refused(repo, expected)


def test_a_sub_folder_alone_is_a_warning(repo: Path) -> None:
    (repo / "groups/archive").mkdir()
    proc = pops("build", cwd=repo)
    assert proc.returncode == 0
    assert lines(proc) == [
        "groups/archive:1:1: warning: `archive/` is a sub-folder; files in it are not read: "
        "group files live directly in groups/, so move its .yaml files up [file-in-subfolder]",
        "0 errors, 1 warning",
    ]
    _age(repo)
    assert pops("build", cwd=repo).stdout == proc.stdout  # the seal says it again


# --- numbers of any size -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "length"),
    [
        pytest.param(BIG, 5000, id="5000-digits"),
        pytest.param("-" + BIG, 5001, id="negative"),
        pytest.param("0x" + "f" * 4000, 4002, id="hex"),
        pytest.param(BIG + ".5e3", 5004, id="float"),
    ],
)
def test_a_huge_number_is_an_error_everywhere(repo: Path, value: str, length: int) -> None:
    write_group(repo, "other", f"name: {value}\npayments:\n  credit_card: true\n")
    located = "groups/other.yaml:1:7: " + TOO_LONG.format(key="name", length=length)
    proc = pops("validate", cwd=repo)
    assert (proc.returncode, lines(proc)) == (1, [located, "1 error, 0 warnings"])
    assert_build_refused(repo, [located])
    proc = pops("explain", "other", cwd=repo)
    assert (proc.returncode, lines(proc)) == (1, [located, "1 error, 0 warnings"])
    cannot = "the file does not load; fix the errors `pops validate` reports first"
    proc = pops("fmt", "--check", cwd=repo)
    assert (proc.returncode, proc.stderr) == (1, f"groups/other.yaml: cannot format: {cannot}\n")
    proc = pops("set", "other", "name", "Fine", cwd=repo)
    assert (proc.returncode, proc.stderr) == (1, f"groups/other.yaml: cannot set name: {cannot}\n")


def test_a_huge_number_in_diff_and_new_is_an_error(repo: Path) -> None:
    init_repo(repo, {})  # (commits the fixture's two groups)
    write_group(repo, "other", f"name: {BIG}\n")
    located = "groups/other.yaml:1:7: " + TOO_LONG.format(key="name", length=5000)
    proc = pops("diff", cwd=repo)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.splitlines() == [
        located,
        "1 error, 0 warnings",
        "the working tree does not build: 1 error, 0 warnings",
    ]
    proc = pops("new", "fresh", "--name", BIG, cwd=repo)
    assert proc.returncode == 1
    assert lines(proc)[0] == (
        "groups/fresh.yaml:16:7: error: name: is 5000 characters long; the limit is 100 "
        "[text-too-long]"
    )
    assert not (repo / "groups/fresh.yaml").exists()


def test_setting_a_huge_number_is_refused_with_a_message(repo: Path) -> None:
    before = (repo / "groups/good.yaml").read_bytes()
    for key in ("look_and_feel.footer.text", "authentication.quickpay_max_access_attempts"):
        proc = pops("set", "good", key, BIG, cwd=repo)
        assert proc.returncode == 1, key
        assert proc.stderr == "groups/good.yaml was not changed: the result would be invalid\n"
    assert (repo / "groups/good.yaml").read_bytes() == before


def test_a_huge_number_in_a_shared_layer_is_located(repo: Path) -> None:
    (repo / "groups/_defaults.yaml").write_text(f"look_and_feel:\n  footer:\n    text: {BIG}\n")
    located = "groups/_defaults.yaml:3:11: " + TOO_LONG.format(
        key="look_and_feel.footer.text", length=5000
    )
    proc = pops("validate", cwd=repo)
    assert (proc.returncode, lines(proc)) == (1, [located, "1 error, 0 warnings"])


# --- prune --grace -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grace", "shown"),
    [
        pytest.param("99999999999d", "'99999999999d'", id="overflow"),
        pytest.param("36501d", "'36501d'", id="just-over"),
        pytest.param(BIG + "s", f"'{'1' * 20}... (5001 characters)'", id="5000-digits"),
    ],
)
def test_prune_grace_beyond_a_century_is_a_usage_error(
    tmp_path: Path, grace: str, shown: str
) -> None:
    target = (tmp_path / "site").as_uri()
    proc = pops("prune", "--target", target, "--grace", grace, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.endswith(
        f"Error: Invalid value for '--grace': {shown} is longer than 100 years; "
        "use at most 36500d\n"
    )


# --- bounded reads -----------------------------------------------------------------------


def test_a_file_that_grows_past_its_fstat_is_read_no_further_than_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size fstat reports is not trusted: reading stops one byte past the limit."""
    path = tmp_path / "growing.yaml"
    path.write_bytes(b"x" * 100_000)
    real_fstat, real_read = os.fstat, os.read
    asked: list[int] = []

    def shrunk(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, *st[1:6], 5, *st[7:]))  # "5 bytes"

    def read(fd: int, n: int) -> bytes:
        asked.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(files.os, "fstat", shrunk)
    monkeypatch.setattr(files.os, "read", read)
    assert files.read_bounded(path, 10) == (11, None)
    assert sum(asked) == 11
    assert files.read_bounded(path, 200_000) == (5, b"x" * 100_000)

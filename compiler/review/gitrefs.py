"""Read the group files as they were at a git ref, without touching the working tree.

`pops diff` and `pops preview --base` compare two builds. The base build needs
the groups folder of another commit; checking it out would disturb the admin's
work, so its files are copied out of git's object store (`ls-tree` and
`cat-file`) into a temporary folder instead.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


class GitError(Exception):
    """Git is missing, this is not a repository, or the ref does not exist."""


def _git(args: list[str], cwd: Path, *, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {args[0]} failed")
    return done.stdout


def _ref_exists(ref: str, cwd: Path) -> bool:
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    except GitError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Base:
    """The commit a comparison starts from: what the admin asked for and what it resolved to."""

    ref: str
    commit: str
    merge_base: bool = False  # the commit is where HEAD forked from `ref`, not `ref` itself

    @property
    def name(self) -> str:
        """`main`, or `merge-base with origin/main`: what people call the base."""
        return f"merge-base with {self.ref}" if self.merge_base else self.ref

    @property
    def label(self) -> str:
        """`main (1a2b3c4)`: the ref for people, the short hash so the comment is exact."""
        short = self.commit[:7]
        return short if self.ref == self.commit else f"{self.name} ({short})"


def resolve_base(ref: str | None, cwd: Path) -> Base:
    """The given ref, else the merge-base with origin/main (what a PR adds), else HEAD."""
    toplevel(cwd)
    if ref is None:
        if _ref_exists("origin/main", cwd) and _ref_exists("HEAD", cwd):
            commit = _git(["merge-base", "origin/main", "HEAD"], cwd).decode().strip()
            return Base("origin/main", commit, merge_base=True)
        ref = "HEAD"
    if not _ref_exists(ref, cwd):
        raise GitError(f"`{ref}` is not a commit in this repository")
    commit = _git(["rev-parse", "--verify", f"{ref}^{{commit}}"], cwd).decode().strip()
    return Base(ref, commit)


def toplevel(cwd: Path) -> Path:
    """Root of the work tree that holds `cwd`."""
    return Path(_git(["rev-parse", "--show-toplevel"], cwd).decode().strip())


def repo_relative(path: Path, cwd: Path) -> PurePosixPath:
    """`path` (absolute or relative to `cwd`) as a path inside the repository."""
    root = toplevel(cwd).resolve()
    absolute = (cwd / path).resolve()
    try:
        return PurePosixPath(absolute.relative_to(root).as_posix())
    except ValueError as exc:
        raise GitError(f"{path} is outside the git repository at {root}") from exc


def export_folder(commit: str, folder: PurePosixPath, dest: Path, cwd: Path) -> int:
    """Copy every regular file under `folder` at `commit` into `dest/folder`; returns the count.

    A folder that did not exist at that commit yields nothing (every group is new).
    """
    return export_folders(commit, [folder], dest, cwd)


def export_folders(commit: str, folders: list[PurePosixPath], dest: Path, cwd: Path) -> int:
    """`export_folder` for several folders at once: one `ls-tree`, one `cat-file --batch`.

    Ten thousand group files cost two git processes, not ten thousand.
    """
    blobs = read_folders(commit, folders, cwd)
    write_blobs(blobs, dest)
    return len(blobs)


def read_folders(commit: str, folders: list[PurePosixPath], cwd: Path) -> list[tuple[str, bytes]]:
    """Every regular file under `folders` at `commit`: (path in the repository, bytes).

    What `export_folders` writes; `pops diff` keeps the group files in memory instead.
    """
    specs = sorted({"." if str(f) in ("", ".") else str(f) for f in folders})
    listing = _git(["ls-tree", "-r", "-z", "--full-tree", commit, "--", *specs], cwd)
    blobs: list[tuple[str, str]] = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_name = entry.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        if kind == "blob" and mode in ("100644", "100755"):
            blobs.append((sha, raw_name.decode("utf-8", "surrogateescape")))
    if not blobs:
        return []
    batch = _git(["cat-file", "--batch"], cwd, stdin="".join(f"{s}\n" for s, _ in blobs).encode())
    offset = 0
    found: list[tuple[str, bytes]] = []
    for _sha, name in blobs:
        header_end = batch.index(b"\n", offset)
        size = int(batch[offset:header_end].split()[2])
        found.append((name, batch[header_end + 1 : header_end + 1 + size]))
        offset = header_end + 1 + size + 1
    return found


def write_blobs(blobs: list[tuple[str, bytes]], dest: Path) -> None:
    """Each (path, bytes) of `read_folders` written under `dest`."""
    made: set[Path] = set()
    for name, data in blobs:
        target = dest / name
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_bytes(data)

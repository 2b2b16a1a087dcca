"""Which folders pops may replace: only its own. Every command that replaces a folder
(`build`, `preview`, publish's build-first step) calls `claim` before it touches anything.

A folder is pops's to replace when it is missing, empty, or carries the marker
`.pops-output` that pops writes at the top of every output (and beside every
environment's manifest.json). Its bytes are fixed per kind of output, with no
version or time in them, so `dist/` stays byte-for-byte reproducible; the
manifest does not list it (as it does not list itself). Whatever the marker
says, these are refused: a symbolic link (it would be replaced by a folder),
the groups, environments and cache folders, the repository root, a `.git`
folder, the working folder and the home folder, and any folder containing or
inside one of them (the project folder and work tree root only as or above
the output). A `dist/` an older pops wrote (no marker, but a manifest.json
listing exactly the files there) is adopted once: the marker is written.

On the path of every build (see output_folder.py): only the interpreter's C
modules are imported here, json only to adopt an old output.
"""

from __future__ import annotations

import os
import stat
import sys

MARKER = ".pops-output"
KINDS = ("build", "preview")
_MANIFEST = "manifest.json"
_SHOWN_ENTRIES = 6


def marker(kind: str) -> bytes:
    """The marker's bytes for an output of `kind`: the same on every machine and run."""
    note = "written by pops, which replaces this folder whole: keep nothing else here"
    return f'{{"tool": "pops", "output": "{kind}", "note": "{note}"}}\n'.encode()


class Refused(Exception):
    """The folder is not pops's to replace; nothing was touched. A usage error (exit 2)."""


def claim(
    out_dir: str | os.PathLike[str],
    kind: str,
    *,
    groups_dir: str | os.PathLike[str],
    env_dir: str | os.PathLike[str],
    env: str | None = None,
) -> bool:
    """Make sure the output (`out_dir`, or `out_dir/env`) may be replaced, or raise Refused.

    Returns whether `out_dir` itself does not exist yet (with `env`, the caller
    marks it once the build is in). An old unmarked build output is adopted
    here, with a one-line note on stderr.
    """
    out = os.fspath(out_dir)
    root = os.path.join(out, env) if env is not None else out
    for path in (out, root) if env is not None else (out,):
        _not_a_link(path)
    _parent_is_a_folder(root)
    _not_protected(out, root, groups_dir, env_dir)
    missing = not os.path.lexists(out)
    _owned(root, kind, nested=env is None)
    return missing


def write_marker(folder: str | os.PathLike[str], kind: str) -> None:
    """Put the marker at the top of `folder` (a new file, renamed in whole)."""
    path = os.path.join(os.fspath(folder), MARKER)
    temporary = os.path.join(os.fspath(folder), f".{MARKER}.pops-tmp")
    with open(temporary, "wb") as handle:
        handle.write(marker(kind))
    os.replace(temporary, path)


def _shown(path: str) -> str:
    """A folder as the user named it, with a trailing slash (and where it leads, if elsewhere)."""
    text = path.rstrip("/") or "/"
    return text if text.endswith("/") else text + "/"


def _not_a_link(path: str) -> None:
    try:
        st = os.lstat(path)
    except OSError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise Refused(
            f"{_shown(path)} is a symbolic link (to {os.readlink(path)}): pops never replaces a "
            f"link, which would turn it into a folder; pass the folder it points to, or remove "
            f"the link"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise Refused(f"{_shown(path)} is a file, not a folder: pops only replaces its own folders")


def _parent_is_a_folder(path: str) -> None:
    """The nearest existing folder above `path` really is one (not a file, nor a broken link)."""
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise Refused(
            f"{_shown(parent)} is not a folder: the output {_shown(path)} cannot go there"
        )


def _under(path: str, folder: str) -> bool:
    """`path` is `folder` or inside it (both real, absolute paths)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _git_root(start: str) -> str | None:
    """The top of the git work tree holding `start` (a real path), if any."""
    folder = start
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _not_protected(
    out: str, root: str, groups_dir: str | os.PathLike[str], env_dir: str | os.PathLike[str]
) -> None:
    """Refuse an output that is, holds or sits in a folder pops (or the user) keeps."""
    real = os.path.realpath(root)
    groups = os.path.realpath(groups_dir)
    project = os.path.dirname(groups)
    # Is, holds, or sits inside: none of these may be replaced, in whole or in part.
    kept = [
        (groups, "the groups folder"),
        (os.path.realpath(env_dir), "the environments folder"),
        (os.path.join(project, ".pops-cache"), "the cache folder"),
    ]
    # Is or holds: the output may sit inside these (dist/ sits in the repository).
    above = [(project, "the repository root (the folder holding the groups folder)")]
    work_tree = _git_root(groups)
    if work_tree is not None:
        kept.append((os.path.join(work_tree, ".git"), "the git folder"))
        above.append((work_tree, "the git work tree's root"))
    above.append((os.path.realpath(os.getcwd()), "the current folder"))
    home = os.path.expanduser("~")
    if home != "~":
        above.append((os.path.realpath(home), "the home folder"))
    shown = _shown(out if root == out else root)
    named = os.path.basename(os.path.normpath(root))
    # (Where `.`, `..` or a path through a link leads, when the name does not say.)
    where = "" if named == os.path.basename(real) else f" (that is {real})"
    for folder, what in kept + above:
        if real == folder:
            raise Refused(f"{shown} is {what} {folder}: choose another --out")
    for folder, what in kept:
        if _under(real, folder):
            raise Refused(f"{shown}{where} is inside {what} {folder}: choose another --out")
    for folder, what in kept + above:
        if _under(folder, real):
            raise Refused(f"{shown}{where} holds {what} {folder}: choose another --out")
    if ".git" in real.split(os.sep):
        raise Refused(f"{shown}{where} is inside a git folder (.git): choose another --out")
    if os.path.lexists(os.path.join(real, ".git")):
        raise Refused(f"{shown}{where} is a git work tree (it holds .git): choose another --out")


def _owned(root: str, kind: str, *, nested: bool) -> None:
    """Missing, empty, marked as this kind's, or an old build output (adopted): else Refused."""
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return
    except OSError as error:
        raise Refused(
            f"{_shown(root)} cannot be read ({error.strerror}): nothing was replaced"
        ) from None
    if not names:
        return
    if MARKER in names:
        found = _read_marker(os.path.join(root, MARKER))
        others = [k for k in KINDS if k != kind and found == marker(k)]
        if others:
            raise Refused(
                f"{_shown(root)} holds a pops {others[0]}, not a {kind} (its {MARKER} says so): "
                f"choose another --out, or remove the folder first"
            )
        if found is not None:
            return  # (a marker edited by hand is still pops's: the build rewrites it)
    if kind == "build" and _old_build(root, nested=nested):
        write_marker(root, kind)
        sys.stderr.write(
            f"note: {_shown(root)} was written by an older pops (its manifest lists exactly its "
            f"files): adopted it, and marked it with {MARKER}\n"
        )
        sys.stderr.flush()
        return
    listed = [n + "/" if os.path.isdir(os.path.join(root, n)) else n for n in names]
    more = len(listed) - _SHOWN_ENTRIES
    shown = ", ".join(listed[:_SHOWN_ENTRIES]) + (f" and {more} more" if more > 0 else "")
    raise Refused(
        f"{_shown(root)} is not a folder pops wrote (it has no {MARKER}) and is not empty: it "
        f"holds {shown}. pops replaces only missing, empty or pops-made folders: choose "
        f"another --out, or move those files away"
    )


def _read_marker(path: str) -> bytes | None:
    """The marker's bytes; None when it is not a regular file (not pops's)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, 4096)
    finally:
        os.close(fd)


def _old_build(root: str, *, nested: bool) -> bool:
    """`root` holds exactly what its manifest.json lists (and, with `nested`, environment
    folders that each do too): what an older pops left."""
    import json

    try:
        with open(os.path.join(root, _MANIFEST), "rb") as handle:
            listed = {str(entry["path"]) for entry in json.load(handle)["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return False
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            envs = [d for d in dirnames if d != "groups"]
            if envs and not (
                nested and all(_old_build(os.path.join(root, d), nested=False) for d in envs)
            ):
                return False
            dirnames[:] = [d for d in dirnames if d == "groups"]
            rel = ""
        else:
            rel = rel.replace(os.sep, "/") + "/"
        for name in dirnames:
            if os.path.islink(os.path.join(dirpath, name)):
                return False
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                return False
            found.add(rel + name)
    return found - {MARKER} == listed | {_MANIFEST}  # (a marker may be left in some)

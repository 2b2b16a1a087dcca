"""Source files are checked before they are opened, and read with a bound.

Everything pops reads from `groups/`, `environments/` or the command line goes
through here, so that a folder, a named pipe, a device, or a symlink that
dangles, loops or leads out of the repository is a diagnostic naming the file,
never a hang, a read until memory runs out, or a file skipped without a word.
A symlink whose target is a regular file inside the repository is fine.

The common case costs nothing extra: a regular file is opened with O_NOFOLLOW
(so a symlink is never followed unchecked) and O_NONBLOCK (so a pipe cannot
block the open), then fstat'ed once, and read no further than the limit.
Only symlinks take the slower path of resolving where they lead.
"""

from __future__ import annotations

import errno
import functools
import os
import stat

from compiler.diagnostics import Diagnostic

MAX_BYTES = 1024 * 1024  # a group file, a base or an overlay

# Opening with O_NOFOLLOW fails with one of these when the last component is a symlink.
_LINK_ERRNOS = frozenset({errno.ELOOP, getattr(errno, "EMLINK", errno.ELOOP)})
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
_NO_LINKS = _READ_FLAGS | getattr(os, "O_NOFOLLOW", 0)
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class FileProblem(OSError):
    """A path that cannot be read as a YAML source; `code` and `message` say why and how.

    An OSError, so that code which already copes with an unreadable file copes with it.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def diagnostic(self, display: str) -> Diagnostic:
        """The problem as an error at the start of the file."""
        return Diagnostic(display, 1, 1, "", self.code, "error", self.message)


def kind_of(mode: int) -> str:
    """`a folder`, `a named pipe (FIFO)`... for anything that is not a regular file."""
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "a special file"  # pragma: no cover - every other type is listed above


def not_regular(mode: int, what: str = "this is") -> FileProblem:
    """The problem with a path of type `mode` (not a regular file), said as `what` + kind."""
    if stat.S_ISDIR(mode):
        return FileProblem(
            "file-not-regular",
            f"{what} a folder, not a file; YAML files are read only directly in groups/ and "
            "environments/: move its files up, or rename the folder so it does not end in .yaml",
        )
    return FileProblem(
        "file-not-regular",
        f"{what} {kind_of(mode)}, not a regular file; pops reads only regular files: "
        "replace it with a regular YAML file",
    )


@functools.lru_cache(maxsize=64)
def repository_of(folder: str) -> str:
    """The repository a folder is in: the nearest ancestor holding `.git`, else its parent.

    `folder` is already resolved (realpath), so a groups folder that is itself a
    symlink is judged where it really is.
    """
    probe = folder
    while True:
        if os.path.lexists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return os.path.dirname(folder)
        probe = parent


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def link_problem(path: str | os.PathLike[str]) -> FileProblem | None:
    """What is wrong with the symlink at `path`, or None when it leads to a regular
    file inside the repository."""
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return FileProblem(
                "file-symlink-loop",
                f"this is a symlink to `{target}` that loops back on itself; replace it with "
                "the file it was meant to point to",
            )
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return FileProblem(
                "file-symlink-dangling",
                f"this is a symlink to `{target}`, which does not exist; point it at an "
                "existing file in the repository, or delete it",
            )
        return FileProblem("file-unreadable", f"cannot read file: {exc.strerror}")
    real = os.path.realpath(path)
    root = repository_of(os.path.realpath(os.path.dirname(os.path.abspath(path))))
    if not _inside(real, root):
        return FileProblem(
            "file-symlink-outside",
            f"this is a symlink to `{target}`, outside the repository; pops reads only "
            "files in the repository: copy the file in instead of linking to it",
        )
    if not stat.S_ISREG(st.st_mode):
        return not_regular(st.st_mode, f"this is a symlink to `{target}`, which is")
    return None


def check(path: str | os.PathLike[str]) -> FileProblem | None:
    """The problem with reading `path` as a source file (one lstat), or None.

    A missing path is not this function's business (None): callers say it in
    their own terms.
    """
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return link_problem(path)
    return not_regular(mode)


def read_bounded(path: str | os.PathLike[str], limit: int) -> tuple[int, bytes | None]:
    """(size, bytes) of a regular file, or (size, None) when it holds more than `limit`.

    Never reads more than `limit` + 1 bytes, whatever the file claims or becomes.
    Raises FileProblem when `path` is not a readable regular file (see `check`),
    OSError when it cannot be opened for another reason.
    """
    try:
        fd = os.open(path, _NO_LINKS)
    except OSError as exc:
        if exc.errno in _LINK_ERRNOS and os.path.islink(path):
            problem = link_problem(path)
            if problem is not None:
                raise problem from None
            fd = os.open(path, _READ_FLAGS)
        elif exc.errno == errno.ENXIO:  # a socket
            raise not_regular(os.lstat(path).st_mode) from None
        else:
            raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise not_regular(st.st_mode)
        size = st.st_size
        if size > limit:
            return size, None
        data = os.read(fd, size + 1)
        if len(data) > size:  # it grew since the fstat
            chunks = [data]
            total = len(data)
            while total <= limit and (chunk := os.read(fd, limit + 1 - total)):
                chunks.append(chunk)
                total += len(chunk)
            if total > limit:
                return total, None
            data = b"".join(chunks)
        return size, data
    finally:
        os.close(fd)


def read_all(path: str | os.PathLike[str], limit: int) -> bytes:
    """A file's bytes for hashing or editing; FileProblem too when it holds more than `limit`."""
    size, data = read_bounded(path, limit)
    if data is None:
        raise FileProblem(
            "file-too-large",
            f"file is {size} bytes; a group file may be at most {limit} bytes (1 MiB)",
        )
    return data


# What each code this module reports means and how to fix it (see compiler.codes);
# file-unreadable and file-too-large are the loader's (compiler/load/located.py).
CODES: dict[str, tuple[str, str]] = {
    "file-not-regular": (
        "A path where a group, layer or overlay file is expected is a folder, a named pipe, "
        "a socket or a device.",
        "Put a plain .yaml file there, or remove what is there.",
    ),
    "file-symlink-dangling": (
        "A symlink points at nothing.",
        "Point it at a file inside the repository, or remove it.",
    ),
    "file-symlink-loop": (
        "A symlink leads back to itself.",
        "Point it at a file inside the repository, or remove it.",
    ),
    "file-symlink-outside": (
        "A symlink leads out of the repository, where reviews cannot see what it reads.",
        "Copy the file into the repository instead of linking to it.",
    ),
}

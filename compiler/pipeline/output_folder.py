"""One build at a time per output folder, and what a killed build left beside it.

Every build starts here, before it knows whether it has anything to write, so
this module imports only the interpreter's own C modules (see integrity.py).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import struct

from compiler.incremental.integrity import CACHE_DIR

MANIFEST = "manifest.json"


def beside(out_dir: str | os.PathLike[str]) -> tuple[str, str]:
    """Where a build's staging folder and lock go, and their name prefix.

    Beside the output folder, on the same filesystem so the final rename is
    atomic; but never inside another build's output (`dist/staging` stages in
    the folder holding `dist/`), where it would count as an extra file.
    """
    out = os.path.abspath(out_dir)
    parent, name = os.path.split(out)
    if os.path.isfile(os.path.join(parent, MANIFEST)):
        grandparent, parent_name = os.path.split(parent)
        return grandparent, f".{parent_name}-{name}"
    return parent, f".{name}"


def lock_output(out_dir: str | os.PathLike[str], lock_dir: str | os.PathLike[str] | None) -> int:
    """Wait for, then hold, the one-build-at-a-time lock of `out_dir`; returns its fd.

    The lock file lives in the cache folder `lock_dir` (`.pops-cache/` of the
    working folder when None), never beside the output: a build leaves nothing
    new in the output's parent. It is a POSIX record lock (fcntl), which
    belongs to this process alone: worker processes forked later never hold it
    (a flock would be shared with every forked copy of the fd), and it ends
    with this process however it ends, so a killed build never blocks the next
    one. Waiting on a live holder is said once on stderr, with its pid; a lock
    file whose recorded holder ended without releasing it is taken over, and
    that is said too. (A lock file, not a lock on the folder: on Linux a lock
    on a parent folder makes creating files below it several times slower.)
    Release with `unlock_output`.
    """
    out = os.path.abspath(out_dir)
    folder = os.path.abspath(lock_dir) if lock_dir is not None else os.path.abspath(CACHE_DIR)
    name = hashlib.sha256(out.encode()).hexdigest()[:16]
    lock_path = os.path.join(folder, f"lock-{name}")
    try:
        os.makedirs(folder, exist_ok=True)
    except FileExistsError:  # a file, or a dangling link, where the folder should be
        raise NotADirectoryError(
            errno.ENOTDIR, "not a folder (pops keeps its caches and its lock there)", folder
        ) from None
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        _acquire(fd, out)
        os.lseek(fd, 0, os.SEEK_SET)
        previous = os.read(fd, 64).decode("ascii", "replace").strip()
        if previous.isdigit() and int(previous) != os.getpid():
            # Released locks are emptied: a pid still there is a build that was killed.
            _say(
                f"pops: taking over the lock of {_shown(out)}/ from build {previous}, "
                "which ended without releasing it"
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    _HELD.add(fd)
    return fd


def unlock_output(fd: int) -> None:
    """Release a lock `lock_output` returned: empty the file (so the next build knows it
    was released, not abandoned), then close it, which ends the lock."""
    _HELD.discard(fd)
    try:  # noqa: SIM105 (contextlib is not imported on this path)
        os.ftruncate(fd, 0)
    except OSError:
        pass
    os.close(fd)


# Lock fds this process holds; a forked child closes its copies at once (see below).
_HELD: set[int] = set()


def _close_inherited() -> None:
    """In a forked child: drop the copies of the parent's lock fds. (A POSIX lock is
    not inherited anyway, and closing a copy releases nothing the parent holds; but a
    long-lived worker should not keep the lock file open.)"""
    for fd in _HELD:
        try:  # noqa: SIM105
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited)


def _acquire(fd: int, out: str) -> None:
    """Take the lock, waiting (and saying so once, with the holder's pid) while it is held."""
    request = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    try:
        fcntl.fcntl(fd, fcntl.F_SETLK, request)
        return
    except OSError as error:
        if error.errno not in (errno.EACCES, errno.EAGAIN):
            raise
    holder = _holder(fd)
    _say(
        f"pops: waiting for another build of {_shown(out)}/"
        + (f" (pid {holder})" if holder else "")
        + " to finish"
    )
    fcntl.fcntl(fd, fcntl.F_SETLKW, request)


def _holder(fd: int) -> int:
    """The pid holding the lock on `fd`'s file (0 when unknown)."""
    try:
        found = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack(_FLOCK, fcntl.F_WRLCK, 0, 0, 0, 0))
        kind, _, _, _, pid = struct.unpack(_FLOCK, found)
    except (OSError, struct.error):
        return 0
    return pid if kind != fcntl.F_UNLCK else 0


# struct flock on Linux: l_type, l_whence (short), l_start, l_len (off_t), l_pid, padding.
_FLOCK = "hhqqi4x"


def _shown(out: str) -> str:
    """The output folder as the user would name it: relative to the working folder."""
    try:
        rel = os.path.relpath(out)
    except ValueError:
        return out
    return out if rel.startswith("..") else rel


def _say(text: str) -> None:
    import sys

    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def recover(out_dir: str | os.PathLike[str]) -> None:
    """Remove what a killed build left beside the output: it never touched the output."""
    where, prefix = beside(out_dir)
    try:
        names = os.listdir(where)
    except OSError:
        return
    leftovers = sorted(n for n in names if n.startswith(f"{prefix}.tmp-"))
    if leftovers:
        import shutil

        for name in leftovers:
            shutil.rmtree(os.path.join(where, name), ignore_errors=True)

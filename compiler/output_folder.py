"""Beside the output folder: one build at a time, and what a killed build left there.

Every build starts here, before it knows whether it has anything to write, so
this module imports only the interpreter's own C modules (see integrity.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import os

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

    The lock dies with its process, so a killed build never blocks the next one.
    (A lock file, not a lock on the folder: on Linux a flock on a parent folder
    makes creating files below it several times slower.) Close the fd to release.
    """
    out = os.path.abspath(out_dir)
    where, prefix = beside(out)
    if lock_dir is None or os.path.abspath(lock_dir) == where:
        lock_path = os.path.join(where, f"{prefix}.pops-lock")
        os.makedirs(where, exist_ok=True)
    else:
        name = hashlib.sha256(out.encode()).hexdigest()[:16]
        lock_path = os.path.join(lock_dir, f"lock-{name}")
        os.makedirs(lock_dir, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


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

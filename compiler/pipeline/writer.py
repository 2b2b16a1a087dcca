"""The writer: the only stage that touches the output folder.

A build is all or nothing. Files go into a temporary folder beside the target,
and the finished folder replaces the old one in one step (an atomic exchange on
Linux, two renames elsewhere), so a failed or killed build leaves the previous
output exactly as it was. `compare` backs `build --check`: it never writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal

from compiler.pipeline.output_folder import MANIFEST as MANIFEST
from compiler.pipeline.output_folder import beside, lock_output, recover, unlock_output
from compiler.render.digests import sha256_hex


def file_entry(path: str, data: bytes) -> dict[str, str | int]:
    return {"path": path, "sha256": sha256_hex(data), "size": len(data)}


def inputs_digest(groups: Iterable[tuple[str, str]]) -> str:
    """The manifest's inputsDigest: every group's slug and input digest, in order."""
    return hashlib.sha256(
        "".join(f"{slug}.yaml\0{digest}\n" for slug, digest in groups).encode()
    ).hexdigest()


def patch_manifest(manifest: bytes, digest: str, files: dict[str, tuple[str, int]]) -> bytes | None:
    """`manifest` with a new inputsDigest and new sha256 and size for some of its files.

    The same bytes manifest_bytes would write for the changed entries (the
    files listed stay the same), found by their exact text instead of parsing
    7 MB of JSON. None when an entry is not where that text says it is.
    """
    out: list[bytes] = []
    at = manifest.find(b'\n  "inputsDigest": "')
    if at < 0:
        return None
    at += len(b'\n  "inputsDigest": "')
    out += [manifest[:at], digest.encode()]
    cursor = at + 64
    for path in sorted(files):
        sha, size = files[path]
        entry = manifest.find(b'      "path": "' + path.encode() + b'",\n', cursor)
        if entry < 0:
            return None
        head = manifest.find(b'"sha256": "', entry) + len(b'"sha256": "')
        tail = manifest.find(b"\n", head + 64 + 3)  # the end of the "size" line
        if head < len(b'"sha256": "') or tail < 0:
            return None
        out += [manifest[cursor:head], f'{sha}",\n      "size": {size}'.encode()]
        cursor = tail
    out.append(manifest[cursor:])
    return b"".join(out)


def manifest_bytes(
    entries: list[dict[str, str | int]], *, compiler: str, inputs_digest: str, groups: list[str]
) -> bytes:
    """The manifest lists every other file with its sha256 and size, sorted by path."""
    manifest = {
        "schemaVersion": 1,
        "compiler": compiler,
        "inputsDigest": inputs_digest,
        "groups": sorted(groups),
        "files": _by_path(entries),
    }
    import orjson  # (only builds that write need it)

    # Same bytes as json.dumps(indent=2) for these ASCII paths, without its slow encoder.
    return orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def _by_path(entries: list[dict[str, str | int]]) -> list[dict[str, str | int]]:
    """Entries sorted by path; they usually arrive so (group by group), and checking is cheaper."""
    paths = list(map(itemgetter("path"), entries))
    if paths == sorted(paths):  # (in order already: a pass in C, not a Python loop)
        return entries
    return sorted(entries, key=lambda e: str(e["path"]))


@lru_cache(maxsize=1)
def _renameat2() -> Any:
    """libc's renameat2, or None where the C library has none (ctypes loads on first use)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    return getattr(libc, "renameat2", None)


def exchange_supported() -> bool:
    """The C library has renameat2 (the kernel or filesystem may still refuse it)."""
    return _renameat2() is not None


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with renameat2(RENAME_EXCHANGE); False where unsupported."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(result == 0)


def swap_in(new: Path, out_dir: Path) -> Path | None:
    """Put the tree `new` at `out_dir` in one atomic step; returns where the old one went."""
    os.chmod(new, 0o755)
    if not out_dir.exists():
        os.rename(new, out_dir)
        return None
    if exchange(new, out_dir):
        return new
    old = new.with_name(new.name + "-old")  # no atomic exchange here: two renames
    os.rename(out_dir, old)
    os.rename(new, out_dir)
    return old


class Staging:
    """Files written into a temporary folder beside the target, swapped in on `commit`.

    Nothing under the target changes until `commit`; `discard` (or a crash, or
    SIGKILL) leaves it exactly as it was, with at worst a hidden temporary
    folder beside it that the next build removes.
    """

    def __init__(self, out_dir: Path, lock_dir: Path | None = None) -> None:
        self.out_dir = out_dir.absolute()
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        where, prefix = beside(self.out_dir)
        # One build at a time per output folder: a second waits here.
        self._lock: int | None = lock_output(self.out_dir, lock_dir)
        try:
            recover(self.out_dir)
            self.path = Path(tempfile.mkdtemp(prefix=f"{prefix}.tmp-", dir=where))
        except BaseException:  # (a read-only or full disk): released, not abandoned
            self.release()
            raise
        self._made: set[Path] = {self.path}

    def release(self) -> None:
        """Let the next build in; idempotent."""
        if self._lock is not None:
            unlock_output(self._lock)
            self._lock = None

    def write(self, rel: str, data: bytes) -> None:
        target = self.path / rel
        parent = target.parent
        if parent not in self._made:
            parent.mkdir(parents=True, exist_ok=True)
            self._made.add(parent)
        target.write_bytes(data)

    def commit(self, *, keep_old: bool = False) -> Path | None:
        """Make the target hold exactly what was written, in one step.

        With `keep_old`, the replaced tree is returned (the caller keeps it as
        the spare) instead of deleted.
        """
        old = swap_in(self.path, self.out_dir)
        if old is None:
            return None
        if keep_old:
            return old
        shutil.rmtree(old, ignore_errors=True)
        return None

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self.release()


def temporary_for(rel: str) -> str:
    """Where a file is written before it is renamed over `rel`: hidden, same folder."""
    head, _, name = rel.rpartition("/")
    return f"{head}/.{name}.pops-tmp" if head else f".{name}.pops-tmp"


def make_folders(dir_fd: int, folder: str, made: set[str] | None = None) -> None:
    """Create `folder` and its parents below `dir_fd`; `made` remembers what exists."""
    if made is not None and folder in made:
        return  # (made holds a folder only once its parents exist: a group's next file)
    parts = folder.split("/") if folder else []
    for k in range(1, len(parts) + 1):
        step = "/".join(parts[:k])
        if made is not None and step in made:
            continue
        with contextlib.suppress(FileExistsError):
            os.mkdir(step, 0o755, dir_fd=dir_fd)
        if made is not None:
            made.add(step)


def write_at(dir_fd: int, rel: str, data: bytes, *, exclusive: bool) -> os.stat_result:
    """Write `data` to `rel` below `dir_fd` (a new file when `exclusive`); its stat."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(rel, flags, 0o644, dir_fd=dir_fd)
    try:
        write_all(fd, data)
        return os.fstat(fd)
    finally:
        os.close(fd)


def put_at(dir_fd: int, rel: str, data: bytes) -> None:
    """write_at (not exclusive) without the stat, for a caller that stats a group's
    files in one go once they are all written (seal.stat_paths)."""
    fd = os.open(rel, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=dir_fd)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (one call, but for a signal or a full disk)."""
    done = os.write(fd, data)
    if done < len(data):
        view = memoryview(data)[done:]
        while view:
            view = view[os.write(fd, view) :]


def link_files(source: Path, target: Path, rels: list[str]) -> None:
    """Put each file of `source` into `target` as a hard link (a copy where links fail)."""
    made: set[Path] = set()
    for rel in rels:
        destination = target / rel
        if destination.parent not in made:
            destination.parent.mkdir(parents=True, exist_ok=True)
            made.add(destination.parent)
        try:
            os.link(source / rel, destination)
        except OSError:
            shutil.copyfile(source / rel, destination)


@dataclass(frozen=True, slots=True)
class Stale:
    path: str
    reason: Literal["changed", "missing", "extra"]

"""The build cache: what each group produced last time, keyed on everything it depends on.

A group's key covers the compiler itself (version, source and templates), the
libraries it runs on (libraries.py), the environment, the group file's bytes,
and the bytes of every shared file that shaped it (defaults, its bases, the
overlay entries that target it). Same key, same diagnostics and same
artifacts, so an unchanged group is neither parsed nor rendered again.

The cache lives in `.pops-cache/` beside the groups folder and is never
trusted blindly: a file that fails its checksum, or was written by another
compiler build, is ignored and rebuilt. What the output folder holds is not
kept here but in the seal (seal.py), which a no-op build reads alone.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, from_row, to_row
from compiler.incremental.integrity import (
    cache_folder,
    fingerprint,
    read_bounded,
    verified,
    with_checksum,
)
from compiler.load.files import MAX_BYTES, read_all

# A file changed within this window of the cache being written could share its
# recorded mtime; such files are hashed again rather than trusted by stat.
RACY_NS = 2_000_000_000


@dataclass(slots=True)
class Entry:
    """What one group produced: its key, the files it read and its diagnostics.

    (The files it wrote are the seal's to record.)
    """

    key: str
    inputs: list[str]
    diagnostics: list[Diagnostic]


@dataclass(slots=True)
class Cache:
    """One scope's cache: the base build or one environment."""

    path: Path | None
    groups: dict[str, Entry] = field(default_factory=dict)
    # group file -> (size, mtime_ns, ctime_ns, inode, sha256), to skip re-reading it
    stats: dict[str, tuple[int, int, int, int, str]] = field(default_factory=dict)
    # Output state, for this run only (saved in the seal): the manifest's sha256
    # and the stat of each file below the output folder.
    output: dict[str, Any] = field(default_factory=dict)
    written_ns: int = 0

    @classmethod
    def load(cls, cache_dir: Path | None, scope: str | None) -> Cache:
        """The cache for `scope`, or an empty one when missing, corrupt or foreign."""
        if cache_dir is None:
            return cls(None)
        path = cache_dir / f"{scope or '_base'}.bin"
        cache = cls(path)
        try:
            body = verified(read_bounded(path))
            if body is None:
                return cache
            data = marshal.loads(body)
            if data["fingerprint"] != identity():
                return cache
            cache.groups = {
                slug: Entry(key, inputs, [from_row(d) for d in diagnostics])
                for slug, (key, inputs, diagnostics) in data["groups"].items()
            }
            cache.stats = data["stats"]
            cache.written_ns = int(data["written_ns"])
        except (OSError, EOFError, ValueError, KeyError, TypeError):
            return cls(path)
        return cache

    def save(self) -> None:
        """Write atomically; a failure to save only costs speed next time.

        (The output's record is the seal's to keep, see seal.py.)
        """
        if self.path is None:
            return
        data = {
            "fingerprint": identity(),
            "written_ns": time.time_ns(),
            "groups": {
                slug: (
                    e.key,
                    e.inputs,
                    [to_row(d) for d in e.diagnostics],
                )
                for slug, e in self.groups.items()
            },
            "stats": self.stats,
        }
        body = marshal.dumps(data)
        blob = with_checksum(body)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            os.replace(tmp, self.path)
        except OSError:
            pass

    def file_sha(self, path: Path, display: str) -> str:
        """sha256 of a group file ("" when unreadable), trusting an unchanged stat where safe."""
        try:
            st = path.stat()
        except OSError:
            return ""
        known = self.stats.get(display)
        if (
            known is not None
            and known[:4] == (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            and st.st_mtime_ns < self.written_ns - RACY_NS
        ):
            return known[4]
        try:  # bounded, and never through a pipe or a bad symlink: see compiler/load/files.py
            data = read_all(path, MAX_BYTES)
        except OSError:
            return ""  # compiled instead, and the loader says what is wrong
        sha = hashlib.sha256(data).hexdigest()
        self.stats[display] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, sha)
        return sha


def keyer(scope: list[str]) -> Callable[[str], str]:
    """The key of each group of one scope, from its input digest: the sha256 of the
    compiler's identity, the scope's shared digests and the group's, a line each. The
    shared head is hashed once, each group's digest after it (ten thousand keys a build)."""
    head = _keyed(identity()).copy()
    if scope:
        head.update(("\n".join(scope) + "\n").encode())

    def key(digest: str) -> str:
        found = head.copy()
        found.update(digest.encode())
        return str(found.hexdigest())

    return key


@lru_cache(maxsize=2)
def _keyed(compiler: str) -> Any:
    """A sha256 already fed the compiler's fingerprint, copied for each key."""
    return hashlib.sha256(f"{compiler}\n".encode())


def identity() -> str:
    """The compiler and the libraries it runs on: what every entry's key starts from."""
    from compiler.incremental import libraries

    return f"{fingerprint()} {libraries.digest()}"


def cache_dir_for(groups_dir: Path) -> Path:
    return Path(cache_folder(groups_dir))

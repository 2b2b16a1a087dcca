"""The spare output tree: the previous `dist/`, kept to become the next one.

Swapping a whole new tree in is what makes a build atomic, but building a new
tree of tens of thousands of folders costs seconds on most filesystems. So a
build that replaces the output keeps the old tree in `.pops-cache/` instead of
deleting it. The next small change updates that spare tree (only the files
that differ from the wanted output) and swaps it in with one atomic exchange;
the tree it replaces becomes the new spare. Double buffering, as in graphics.

The spare is private state: a record (path -> stat and sha256 of each file)
says what it holds, files are checked by stat before they are kept, and a
spare whose record is missing or foreign is deleted and not used.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.incremental.integrity import read_bounded
from compiler.incremental.seal import UNKNOWN, Seal, differing, stat_of, stat_paths
from compiler.incremental.sealing import markers_intact
from compiler.pipeline.ownership import write_marker
from compiler.pipeline.writer import exchange, make_folders, temporary_for, write_at

if TYPE_CHECKING:
    from compiler.incremental.seal import Stats

Record = dict[str, list[Any]]  # relative path -> [size, mtime_ns, ctime_ns, inode, sha256]


class Spare:
    """The spare tree of one output folder, and its record."""

    def __init__(self, cache_dir: Path, root: Path) -> None:
        self.root = root.absolute()
        name = hashlib.sha256(str(self.root).encode()).hexdigest()[:16]
        self.dir = cache_dir / f"spare-{name}"
        self.record_path = cache_dir / f"spare-{name}.json"
        self.recorded_ns = 0  # when the loaded record was written

    def usable(self) -> bool:
        """The spare can be swapped with the output: same filesystem."""
        try:
            return os.stat(self.dir.parent).st_dev == os.stat(self.root.parent).st_dev
        except OSError:
            return False

    def load(self) -> Record | None:
        """The record of a spare tree that exists, or None (and the stray tree is removed)."""
        try:
            import orjson

            raw = read_bounded(self.record_path)
            data = orjson.loads(raw) if raw is not None else None
            if data is not None and data["root"] == str(self.root) and self.dir.is_dir():
                record: Record = data["files"]
                self.recorded_ns = self.record_path.stat().st_mtime_ns
                return record
        except (OSError, ValueError, KeyError, TypeError):
            pass
        self.drop()
        return None

    def invalidate(self) -> None:
        """About to change the spare: until a new record is saved, it is not trusted."""
        self.record_path.unlink(missing_ok=True)

    def save(self, record: Record) -> None:
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.record_path.with_suffix(".tmp")
        import orjson

        temporary.write_bytes(orjson.dumps({"root": str(self.root), "files": record}))
        os.replace(temporary, self.record_path)

    def drop(self) -> None:
        self.invalidate()
        shutil.rmtree(self.dir, ignore_errors=True)

    def adopt(self, tree: Path, record: Record) -> None:
        """Keep `tree` (an output just replaced) as the spare."""
        if tree == self.dir:  # swapped with the spare itself: it already is in place
            self.save(record)
            return
        self.drop()
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        os.rename(tree, self.dir)
        self.save(record)


def bring_up_to_date(
    spare: Path,
    live: Path,
    record: Record,
    wanted: dict[str, str],
    written: set[str],
    since_ns: int,
) -> set[str]:
    """Make `spare` hold exactly `wanted` (path -> sha256).

    Files in `written` were just rendered into it (the manifests too, which
    `wanted` does not list). Any other file stays only
    when its record has the right hash and the file still is what was recorded:
    same stat, recorded before `since_ns` (else hashed again); the rest are
    copied from the live output, which holds them. Anything else in the tree,
    recorded or not, file or folder, is removed: nothing reaches the output
    unverified. Copies replace files rather than write through them, since a
    spare file may share its inode with a live one. Returns every path written
    or copied.
    """
    made: set[Path] = set()
    touched = set(written)
    base = str(spare) + os.sep
    for rel, sha in wanted.items():
        if rel in written:
            continue
        known = record.get(rel)
        if known is not None and known[4] == sha and holds(base + rel, known, since_ns):
            continue
        touched.add(rel)
        target = spare / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        temporary = target.with_name(f".{target.name}.pops-tmp")
        shutil.copyfile(live / rel, temporary)
        os.replace(temporary, target)
    prune(spare, set(wanted) | written)
    return touched


def holds(path: str, known: list[Any], since_ns: int) -> bool:
    """The regular file at `path` holds the bytes `known` (stat and sha256) records: by
    its stat when that is unchanged and older than `since_ns`, else by its hash (read
    no further than the recorded size)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size != known[0]:
            return False
        if list(stat_of(st)) == list(known[:4]) and st.st_mtime_ns < since_ns:
            return True
        digest = hashlib.sha256()
        left = st.st_size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                return False
            digest.update(chunk)
            left -= len(chunk)
        return bool(digest.hexdigest() == known[4])
    finally:
        os.close(fd)


def prune(tree: Path, wanted: set[str]) -> None:
    """Remove every file and folder below `tree` that no path in `wanted` needs."""
    folders: set[str] = set()
    for rel in {rel.rpartition("/")[0] for rel in wanted}:
        while rel:
            if rel in folders:
                break
            folders.add(rel)
            rel = rel.rpartition("/")[0]
    root = str(tree)
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        for name in filenames:
            if prefix + name not in wanted:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(dirpath, name))
        for name in dirnames:
            rel = prefix + name
            if rel in folders:
                continue
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            else:
                shutil.rmtree(path, ignore_errors=True)


def record_of(tree: Path, shas: dict[str, str]) -> Record:
    """Stat every file of `tree` listed in `shas`, for a spare's record."""
    base = str(tree) + os.sep
    record: Record = {}
    for rel, sha in shas.items():
        try:
            record[rel] = [*stat_of(os.stat(base + rel)), sha]
        except OSError:
            continue
    return record


def advance(
    sealed: Seal,
    root: Path,
    spare_dir: Path,
    wanted: bytes | bytearray,
    data: dict[int, bytes],
    found: Stats | None = None,
) -> bool:
    """Make the spare tree hold `wanted`, swap it in as the output, and update `sealed`.

    `wanted` is the sha256 (raw, 32 bytes each) of each file in `sealed.files`
    after this build and `data` the bytes of those this build rendered anew. A
    spare the seal knows differs from the output only where the seal's delta
    says; those files and the new ones get new bytes, or a hard link to the live
    file where that already is right. Without a known spare, one is made of hard
    links to the whole output first (once). After the atomic exchange the
    replaced output is the new spare; only files touched here are stat'ed again,
    the other records swap sides with their trees. False (and the seal forgets
    the spare) when the exchange is impossible here. `found`: the stats of the
    spare's files, then folders, if a child took them already (see _damaged).
    """
    files = sealed.files
    fresh, held, touched, damaged = _spare_plan(sealed, root, spare_dir, wanted, data, found)
    extra = [] if fresh else sealed.spare_extra
    _write_spare(sealed, root, spare_dir, touched, held, wanted, data, damaged, extra)
    old_live, old_live_dirs, old_blob = sealed.live, sealed.live_dirs, sealed.sha_blob
    new_live = sealed.spare if sealed.spare is not None else array("q", UNKNOWN * len(files))
    new_live_dirs = sealed.spare_dirs
    if not exchange(spare_dir, root):
        sealed.spare_blob = sealed.spare = sealed.spare_dirs = sealed.spare_delta = None
        return False
    # Records that changed sides: the old output is the spare now, and vice versa.
    dirs = sealed.dirs
    marked = _folders_of(dirs, chain((files[i] for i in touched), extra))
    sealed.live = _refresh(new_live, files, touched, root)
    sealed.spare = _refresh(old_live, files, touched, spare_dir)
    if new_live_dirs is None:
        new_live_dirs = array("q", UNKNOWN * len(dirs))
        marked_live: Iterable[int] = range(len(dirs))
    else:
        marked_live = marked
    sealed.live_dirs = _refresh(new_live_dirs, dirs, marked_live, root)
    sealed.spare_dirs = _refresh(old_live_dirs, dirs, marked, spare_dir)
    sealed.spare_blob = old_blob
    sealed.spare_extra = []
    sealed.sha_blob = bytes(wanted)
    # The new spare (the old output) differs from the new output where this build changed.
    sealed.spare_delta = sorted(i for i in data if _sha(old_blob, i) != _sha(wanted, i))
    return True


def _spare_plan(
    sealed: Seal,
    root: Path,
    spare_dir: Path,
    wanted: bytes | bytearray,
    data: dict[int, bytes],
    found: Stats | None,
) -> tuple[bool, bytes | bytearray, list[int], set[int]]:
    """(made anew?, the shas the spare holds, the files to look at, the damaged ones).

    A spare nothing is known of (or whose folders moved) is made anew here first.
    """
    n = len(sealed.files)
    fresh = sealed.spare_blob is None or sealed.spare is None or not spare_dir.is_dir()
    damaged = None if fresh else _damaged(sealed, spare_dir, found)
    if damaged is not None and not markers_intact(spare_dir, sealed):
        damaged = None  # (an older spare, without the markers the output must keep)
    if damaged is None:  # (nothing known of it, or a folder of it moved: made anew)
        _fresh_spare(spare_dir, root, sealed)
        return True, sealed.sha_blob, list(range(n)), set()
    held = sealed.spare_blob or b""
    delta = _delta(sealed) if sealed.spare_delta is None else sealed.spare_delta
    candidates = damaged.union(data, delta)
    touched = sorted(i for i in candidates if i in damaged or _sha(held, i) != _sha(wanted, i))
    return fresh, held, touched, damaged


def _write_spare(
    sealed: Seal,
    root: Path,
    spare_dir: Path,
    touched: list[int],
    held: bytes | bytearray,
    wanted: bytes | bytearray,
    data: dict[int, bytes],
    damaged: set[int],
    extra: list[str],
) -> None:
    """Give the spare's touched files their new bytes (or links), remove what it must not hold."""
    files = sealed.files
    live_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    spare_fd = os.open(spare_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in touched:
            if i in data or i in damaged or _sha(held, i) != _sha(wanted, i):
                _replace(files[i], spare_fd, live_fd, data.get(i))
        for rel in extra:
            _remove(rel, spare_fd)
        _clear_beyond(spare_dir, sealed.dirs, extra)
    finally:
        os.close(spare_fd)
        os.close(live_fd)


def _damaged(sealed: Seal, spare_dir: Path, found: Stats | None = None) -> set[int] | None:
    """The spare's files whose bytes are not what the seal says it holds; None when
    the spare cannot be vouched for at all.

    Checked as the output is: each folder by its stat (an entry added, removed or
    renamed moves it), each file by its stat, and by its hash where the stat moved
    or is too recent to trust. A folder that moved means files nobody recorded may
    be in it: the spare is then made anew rather than trusted. `found`: the stats of
    its files then folders, taken already (else they are taken here).
    """
    spare_dirs, spare, held = sealed.spare_dirs, sealed.spare, sealed.spare_blob
    if spare_dirs is None or spare is None or held is None:
        return None
    files, racy = sealed.files, sealed.mtime_ns
    try:
        fd = os.open(spare_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        n = len(files)
        if found is None:
            found = stat_paths(files + sealed.dirs, fd)
        now, now_dirs = found[: 4 * n], found[4 * n :]
        if now_dirs != spare_dirs or max(now_dirs[1::4], default=0) >= racy:
            return None
        suspects = set(differing(now, spare, 0, len(files)))
        suspects.update(i for i, mtime in enumerate(now[1::4]) if mtime >= racy)
        damaged: set[int] = set()
        base = str(spare_dir) + os.sep
        for i in sorted(suspects):
            sha = held[32 * i : 32 * i + 32]
            if sha == _ABSENT_RAW:  # nothing recorded there: nothing may be there
                if now[4 * i] != -1:
                    damaged.add(i)
                continue
            known = [*spare[4 * i : 4 * i + 4], sha.hex()]
            if not holds(base + files[i], known, racy):
                damaged.add(i)
    finally:
        os.close(fd)
    return damaged


_ABSENT_RAW = bytes(32)  # seal.ABSENT, raw


def _clear_beyond(spare_dir: Path, dirs: list[str], extra: list[str]) -> None:
    """Remove what is left of the extra files' folders that the output does not have:
    whatever is in them, nobody recorded it."""
    known = set(dirs)
    tops: set[str] = set()
    for rel in extra:
        parent, top = rel.rpartition("/")[0], ""
        while parent and parent not in known:
            top, parent = parent, parent.rpartition("/")[0]
        if top:
            tops.add(top)
    for top in sorted(tops):
        path = spare_dir / top
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.exists():
            shutil.rmtree(path, ignore_errors=True)


def _delta(sealed: Seal) -> list[int]:
    """Where the spare's record and the output's differ (the seal did not keep it)."""
    held, live = sealed.spare_blob or b"", sealed.sha_blob
    return [i for i in range(len(sealed.files)) if _sha(held, i) != _sha(live, i)]


def _sha(blob: bytes | bytearray, i: int) -> bytes | bytearray:
    """The i-th raw sha256 of a blob of them."""
    return blob[32 * i : 32 * i + 32]


def _folders_of(dirs: list[str], rels: Iterable[str]) -> list[int]:
    """Indexes in `dirs` (".", then sorted) of "." and every folder above `rels`."""
    found = {0}
    for rel in rels:
        parent = rel.rpartition("/")[0]
        while parent:
            at = bisect_left(dirs, parent, 1)
            if at < len(dirs) and dirs[at] == parent:
                found.add(at)
            parent = parent.rpartition("/")[0]
    return sorted(found)


def _fresh_spare(spare_dir: Path, root: Path, sealed: Seal) -> None:
    """A spare made of hard links to every live file (a copy where linking fails)."""
    if spare_dir.exists():
        trash = spare_dir.with_name(spare_dir.name + ".old")
        shutil.rmtree(trash, ignore_errors=True)
        os.rename(spare_dir, trash)
        shutil.rmtree(trash, ignore_errors=True)
    spare_dir.mkdir(parents=True)
    for rel in sealed.dirs[1:]:
        os.mkdir(spare_dir / rel)
    live, spare = str(root) + os.sep, str(spare_dir) + os.sep
    for rel in sealed.files:
        try:
            os.link(live + rel, spare + rel)
        except OSError:
            shutil.copyfile(live + rel, spare + rel)
    for scope in sealed.scopes:  # the markers no manifest lists
        write_marker(spare_dir / scope.prefix, "build")
    sealed.spare = None
    sealed.spare_dirs = None


def _replace(rel: str, spare_fd: int, live_fd: int, data: bytes | None) -> None:
    """Put new bytes, or the live file, at `rel` in the spare without writing through.

    A spare file may share its inode with a live one, so it is replaced by
    rename, never opened for writing.
    """
    temporary = temporary_for(rel)
    try:
        os.unlink(temporary, dir_fd=spare_fd)
    except FileNotFoundError:
        make_folders(spare_fd, rel.rpartition("/")[0])  # the spare may lack the folder
    if data is None:
        live = os.stat(rel, dir_fd=live_fd)
        with contextlib.suppress(FileNotFoundError):
            here = os.stat(rel, dir_fd=spare_fd)
            if (here.st_dev, here.st_ino) == (live.st_dev, live.st_ino):
                return  # already the live file (and renaming a link onto itself does nothing)
        os.link(rel, temporary, src_dir_fd=live_fd, dst_dir_fd=spare_fd)
    else:
        write_at(spare_fd, temporary, data, exclusive=True)
    os.replace(temporary, rel, src_dir_fd=spare_fd, dst_dir_fd=spare_fd)


def _remove(rel: str, dir_fd: int) -> None:
    """Delete a file of the spare, then each folder it leaves empty."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(rel, dir_fd=dir_fd)
    parent = rel.rpartition("/")[0]
    while parent:
        try:
            os.rmdir(parent, dir_fd=dir_fd)
        except OSError:
            return
        parent = parent.rpartition("/")[0]


def _refresh(stats: Stats, rels: list[str], which: Iterable[int], root: Path) -> Stats:
    """`stats` with the entries at `which` stat'ed again under `root`."""
    out = array("q", stats)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in which:
            try:
                out[4 * i : 4 * i + 4] = array("q", stat_of(os.stat(rels[i], dir_fd=fd)))
            except OSError:
                out[4 * i : 4 * i + 4] = array("q", UNKNOWN)
    finally:
        os.close(fd)
    return out

"""The spare output tree: the previous `dist/`, kept to become the next one.

Swapping a whole new tree in is what makes a build atomic, but building a new
tree of tens of thousands of folders costs seconds on most filesystems. So a
build that replaces the output keeps the old tree in `.pops-cache/` instead of
deleting it. The next small change updates that spare tree (only the files
that differ from the wanted output) and swaps it in with one atomic exchange;
the tree it replaces becomes the new spare. Double buffering, as in graphics.

The spare is private state, and the seal alone says what it holds (each file's
sha256 and stat, each folder's stat): it is checked against that record before
anything is written into it (files by stat, or by hash where the stat moved or is
too recent; folders by stat), and a spare the seal does not describe is deleted,
never used. Both kinds of build go the same way: a build from the seal
(`advance`) and the full pipeline (`vouched` before its workers write into the
spare, `advance_to` after) give the spare what still differs and swap it in
(`_fill_and_swap`).
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

from compiler.incremental.seal import UNKNOWN, Seal, differing, stat_of, stat_paths
from compiler.incremental.sealing import markers_intact
from compiler.pipeline.ownership import write_marker
from compiler.pipeline.writer import exchange, make_folders, temporary_for, write_at

if TYPE_CHECKING:
    from compiler.incremental.seal import Stats


class Spare:
    """Where the spare tree of one output folder lives. What it holds is recorded in
    the seal only (`Seal.spare_blob`, `spare`, `spare_dirs`, `spare_extra`): a spare
    the seal does not describe is never used."""

    def __init__(self, cache_dir: Path, root: Path) -> None:
        self.root = root.absolute()
        name = hashlib.sha256(str(self.root).encode()).hexdigest()[:16]
        self.dir = cache_dir / f"spare-{name}"

    def usable(self) -> bool:
        """The spare can be swapped with the output: same filesystem."""
        try:
            return os.stat(self.dir.parent).st_dev == os.stat(self.root.parent).st_dev
        except OSError:
            return False

    def drop(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def adopt(self, tree: Path) -> None:
        """Keep `tree` (an output just replaced) as the spare."""
        self.drop()
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        os.rename(tree, self.dir)


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


def advance(
    sealed: Seal,
    root: Path,
    spare_dir: Path,
    wanted: bytes | bytearray,
    data: dict[int, bytes],
    found: Stats | None = None,
) -> bool:
    """A build done from the seal: make the spare tree hold `wanted`, swap it in as the
    output, and update `sealed`.

    `wanted` is the sha256 (raw, 32 bytes each) of each file in `sealed.files`
    after this build and `data` the bytes of those this build rendered anew. A
    spare the seal knows differs from the output only where the seal's delta
    says; those files and the new ones get new bytes, or a hard link to the live
    file where that already is right. Without a known spare, one is made of hard
    links to the whole output first (once). False (and the seal forgets the
    spare) when the exchange is impossible here. `found`: the stats of the
    spare's files, then folders, if a child took them already (see _damaged).
    """
    fresh, held, touched = _spare_plan(sealed, root, spare_dir, wanted, data, found)
    if fresh:
        sealed.spare_extra = []
    return _fill_and_swap(sealed, root, spare_dir, wanted, data, held, touched, data)


def advance_to(
    new: Seal,
    old: Seal,
    held: bytes | bytearray,
    root: Path,
    spare_dir: Path,
    data: dict[int, bytes],
    written: list[int],
) -> bool:
    """A build of the full pipeline: the same as `advance`, from a spare that `vouched`
    checked against `old` (the last build's seal) and the workers then wrote into.

    `new` is this build's seal (its files, their sha256, the stats of `written`,
    the files the workers wrote into the spare); `data` the bytes of the others
    this build made (the manifests). The spare's record and the output's are
    carried over from `old` path by path; files the spare holds that `new` does not
    list are removed, and so are the folders of `old` that `new` lacks. After the
    swap `new` records both trees, as `advance` leaves `sealed`.
    """
    wanted, files = new.sha_blob, new.files
    spare_blob, spare = carried(old.files, files, held, old.spare)
    for i in written:  # (a file a worker found right and left alone: UNKNOWN, stat'ed later)
        spare_blob[32 * i : 32 * i + 32] = wanted[32 * i : 32 * i + 32]
        spare[4 * i : 4 * i + 4] = new.live[4 * i : 4 * i + 4]
    live_blob, new.live = carried(old.files, files, old.sha_blob, old.live)
    new.sha_blob = bytes(live_blob)
    new.live_dirs = carried(old.dirs, new.dirs, None, old.live_dirs)[1]
    new.spare_blob, new.spare, new.spare_dirs = bytes(spare_blob), spare, None
    keep, kept_dirs = set(files), set(new.dirs)
    new.spare_extra = [
        *(rel for rel in old.spare_extra if rel not in keep),
        *(
            rel
            for j, rel in enumerate(old.files)
            if rel not in keep and _sha(held, j) != _ABSENT_RAW
        ),
        *(rel + "/" for rel in old.dirs if rel not in kept_dirs),
    ]
    touched = [i for i in range(len(files)) if _sha(spare_blob, i) != _sha(wanted, i)]
    if _fill_and_swap(new, root, spare_dir, wanted, data, spare_blob, touched, range(len(files))):
        return True
    new.sha_blob = bytes(wanted)  # (the output is still to be put in place: nothing known)
    new.live, new.live_dirs = array("q", UNKNOWN * len(files)), array("q", UNKNOWN * len(new.dirs))
    return False


def vouched(sealed: Seal, spare_dir: Path) -> bytearray | None:
    """What the spare tree holds (the seal's record of it, its damaged files marked so),
    checked now as `advance` checks it; None when the seal cannot vouch for it."""
    damaged = _checked(sealed, spare_dir)
    if damaged is None or sealed.spare_blob is None:
        return None
    return _marked(sealed.spare_blob, damaged)


def carried(
    was: list[str], now: list[str], blob: bytes | bytearray | None, stats: Stats | None
) -> tuple[bytearray, Stats]:
    """A record (raw sha256 and stats) of the paths `was` for the paths `now`: absent
    and unknown where `was` has no such path."""
    out_blob, out = bytearray(_ABSENT_RAW * len(now)), array("q", UNKNOWN * len(now))
    if was == now:
        return bytearray(blob or out_blob), array("q", stats or out)
    at = {rel: j for j, rel in enumerate(was)}
    for i, rel in enumerate(now):
        j = at.get(rel)
        if j is None:
            continue
        if blob is not None:
            out_blob[32 * i : 32 * i + 32] = blob[32 * j : 32 * j + 32]
        if stats is not None:
            out[4 * i : 4 * i + 4] = stats[4 * j : 4 * j + 4]
    return out_blob, out


def clear(tree: Path, dirs: list[str], strays: list[str]) -> Stats:
    """Remove the files (and the folders, "<path>/") in `strays` from `tree`, with each
    folder they leave empty; the stats of `dirs` there afterwards."""
    fd = os.open(tree, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for rel in strays:
            if not rel.endswith("/"):
                _remove(rel, fd)
            elif (tree / rel).is_symlink():
                os.unlink(tree / rel[:-1])
            else:
                shutil.rmtree(tree / rel, ignore_errors=True)
        _clear_beyond(tree, dirs, strays)
        return stat_paths(dirs, fd)
    finally:
        os.close(fd)


def _marked(blob: bytes | bytearray, damaged: Iterable[int]) -> bytearray:
    """`blob` with the damaged files' sha256 set to one no file has."""
    out = bytearray(blob)
    for i in damaged:
        out[32 * i : 32 * i + 32] = _DAMAGED_RAW
    return out


def _fill_and_swap(
    sealed: Seal,
    root: Path,
    spare_dir: Path,
    wanted: bytes | bytearray,
    data: dict[int, bytes],
    held: bytes | bytearray,
    touched: list[int],
    changed: Iterable[int],
) -> bool:
    """Give the spare's `touched` files their new bytes (or links to the live ones),
    remove `sealed.spare_extra`, swap the spare in, then record both trees in `sealed`.

    Only files touched here are stat'ed again; the other records swap sides with
    their trees. `changed`: where the new output may differ from the old one.
    """
    files, extra = sealed.files, sealed.spare_extra
    _write_spare(sealed, root, spare_dir, touched, held, wanted, data)
    old_live, old_live_dirs, old_blob = sealed.live, sealed.live_dirs, sealed.sha_blob
    new_live = sealed.spare if sealed.spare is not None else array("q", UNKNOWN * len(files))
    new_live_dirs = sealed.spare_dirs
    if not exchange(spare_dir, root):
        sealed.spare_blob = sealed.spare = sealed.spare_dirs = sealed.spare_delta = None
        return False
    # Records that changed sides: the old output is the spare now, and vice versa.
    dirs = sealed.dirs
    marked = _folders_of(dirs, chain((files[i] for i in touched), extra))
    unknown = [i for i in range(len(files)) if new_live[4 * i] == -1] if -1 in new_live else []
    sealed.live = refresh(new_live, files, sorted({*touched, *unknown}), root)
    sealed.spare = refresh(old_live, files, touched, spare_dir)
    if new_live_dirs is None:
        new_live_dirs = array("q", UNKNOWN * len(dirs))
        marked_live: Iterable[int] = range(len(dirs))
    else:
        marked_live = marked
    sealed.live_dirs = refresh(new_live_dirs, dirs, marked_live, root)
    sealed.spare_dirs = refresh(old_live_dirs, dirs, marked, spare_dir)
    sealed.spare_blob = old_blob
    sealed.spare_extra = []
    sealed.sha_blob = bytes(wanted)
    # The new spare (the old output) differs from the new output where this build changed.
    sealed.spare_delta = sorted(i for i in changed if _sha(old_blob, i) != _sha(wanted, i))
    return True


def _spare_plan(
    sealed: Seal,
    root: Path,
    spare_dir: Path,
    wanted: bytes | bytearray,
    data: dict[int, bytes],
    found: Stats | None,
) -> tuple[bool, bytes | bytearray, list[int]]:
    """(made anew?, the shas the spare holds (damaged ones marked), the files to look at).

    A spare nothing is known of (or whose folders moved) is made anew here first.
    """
    damaged = _checked(sealed, spare_dir, found)
    if damaged is None:  # (nothing known of it, or a folder of it moved: made anew)
        _fresh_spare(spare_dir, root, sealed)
        return True, sealed.sha_blob, list(range(len(sealed.files)))
    held = _marked(sealed.spare_blob or b"", damaged)
    delta = _delta(sealed) if sealed.spare_delta is None else sealed.spare_delta
    candidates = damaged.union(data, delta)
    touched = sorted(i for i in candidates if _sha(held, i) != _sha(wanted, i))
    return False, held, touched


def _checked(sealed: Seal, spare_dir: Path, found: Stats | None = None) -> set[int] | None:
    """The spare's damaged files (see _damaged), or None when the seal cannot vouch for
    the spare at all: the one check both kinds of build make before using it."""
    damaged = _damaged(sealed, spare_dir, found)
    if damaged is None or not markers_intact(spare_dir, sealed):
        return None  # (markers missing: an older spare, without those the output must keep)
    return damaged


def _write_spare(
    sealed: Seal,
    root: Path,
    spare_dir: Path,
    touched: list[int],
    held: bytes | bytearray,
    wanted: bytes | bytearray,
    data: dict[int, bytes],
) -> None:
    """Give the spare's touched files their new bytes (or links), remove what it must not
    hold (`sealed.spare_extra`: files, and folders as "<path>/")."""
    files, extra = sealed.files, sealed.spare_extra
    live_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    spare_fd = os.open(spare_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in touched:
            if i in data or _sha(held, i) != _sha(wanted, i):
                _replace(files[i], spare_fd, live_fd, data.get(i))
        for rel in extra:
            if not rel.endswith("/"):
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
_DAMAGED_RAW = b"\xff" * 32  # a damaged file's: never what a build wants


def _clear_beyond(spare_dir: Path, dirs: list[str], extra: list[str]) -> None:
    """Remove what is left of the extra files' (and folders') folders that the output
    does not have: whatever is in them, nobody recorded it."""
    known = set(dirs)
    tops: set[str] = set()
    for rel in extra:
        parent, top = rel[:-1] if rel.endswith("/") else rel.rpartition("/")[0], ""
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


def refresh(stats: Stats, rels: list[str], which: Iterable[int], root: Path) -> Stats:
    """`stats` with the entries at `which` stat'ed again under `root` (UNKNOWN: gone)."""
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

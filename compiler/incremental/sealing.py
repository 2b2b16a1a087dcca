"""One build's use of the seal (seal.py): open it, compare it with the disk, let go.

`Sealing.open` loads the seal, takes the output's lock (a build) and starts
comparing: the inputs by stat here (`changed_inputs`: which group files moved,
or None when anything else did), the outputs by stat in forked children
(`OutputCheck`). `Sealing.unchanged` is the verdict that nothing moved. Like
seal.py this is on the path of every build and imports nothing heavy.
"""

from __future__ import annotations

import hashlib
import os
from array import array

from compiler.incremental.integrity import cache_folder, fingerprint
from compiler.incremental.seal import (
    UNKNOWN,
    Seal,
    complete,
    differing,
    key_for,
    load,
    seal_path,
    stat_paths,
)
from compiler.pipeline.output_folder import lock_output, recover, unlock_output
from compiler.pipeline.ownership import MARKER, marker

TYPE_CHECKING = False  # (typing itself costs a no-op build several milliseconds to import)
if TYPE_CHECKING:
    from typing import Any

    from compiler.incremental.seal import Inputs, PathLike, Stats

# Fewer outputs than this are stat'ed by one process; more are shared with a forked child.
SPLIT_AT = 6000


# A folder's listing is trusted from the seal only when the folder last changed at
# least this long before the seal was written: timestamps move in coarse ticks, so
# an entry added in the same tick as an earlier one could leave its stat unchanged.
LISTING_MARGIN_NS = 1_000_000_000


def scan_inputs(
    groups_dir: PathLike, env_dir: PathLike, known: Seal | None = None
) -> Inputs | None:
    """Every file a build reads from the groups and environments folders, with its stat.

    A folder whose own stat is as `known` recorded it has had no file added,
    removed or renamed since (each would change the folder's mtime and ctime),
    so its listing is taken from the seal instead of being listed and sorted
    again. None when a folder cannot be read (the full pipeline will say why).
    """
    names: list[str] = []
    stats = array("q")
    folders = array("q")
    for k, (folder, tag) in enumerate(((groups_dir, "g/"), (env_dir, "e/"))):
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            folders.extend(UNKNOWN)
            continue
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            here = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            folders.extend(here)
            if (
                known is not None
                and tuple(known.input_dirs[4 * k : 4 * k + 4]) == here
                and st.st_mtime_ns < known.mtime_ns - LISTING_MARGIN_NS
            ):
                listed = [n for n in known.inputs if n.startswith(tag)]
                found = [n[2:] for n in listed]
            else:
                found = _listing(fd)
                listed = [tag + n for n in found]
            stats.extend(stat_paths(found, fd))
        finally:
            os.close(fd)
        names += listed
    return names, stats, folders


def _listing(fd: int) -> list[str]:
    """The names in a source folder that a build reads or reports, sorted.

    Hidden ones too (a glob for environments/*.yaml finds them), any spelling of
    .yaml or .yml, and sub-folders: adding one changes what the pipeline says,
    so it must not leave the listing, and so the seal, unchanged.
    """
    found = []
    with os.scandir(fd) as entries:
        for entry in entries:
            name = entry.name
            if (
                name.endswith(".yaml")
                or name.lower().endswith((".yaml", ".yml"))
                or (name[0] != "." and entry.is_dir(follow_symlinks=False))
            ):
                found.append(name)
    found.sort()
    return found


class InputChanges:
    __slots__ = ("groups",)

    def __init__(self, groups: list[str]) -> None:
        self.groups = groups  # slugs whose group file changed (or is too recent to trust)


def changed_inputs(seal: Seal, names: list[str], stats: Stats) -> InputChanges | None:
    """Which group files differ from the seal; None when anything else does."""
    if names != seal.inputs:
        return None
    old, racy = seal.input_stats, seal.mtime_ns
    recent = max(stats[1::4], default=0) >= racy
    if stats == old and not recent:
        return InputChanges([])
    moved = set(differing(stats, old, 0, len(names)))
    if recent:
        moved.update(i for i, mtime in enumerate(stats[1::4]) if mtime >= racy)
    changed: list[str] = []
    for i in sorted(moved):
        name = names[i]
        if not name.startswith("g/") or name[2] in "_." or not name.endswith(".yaml"):
            return None  # a shared layer or an overlay changed: many groups may follow
        changed.append(name[2:].removesuffix(".yaml"))
    return InputChanges(changed)


class StatPair:
    """Stats of many paths below one folder, taken by a forked child from the front and
    by this process from the back, meeting wherever they meet.

    The child starts at once, on the other core; `finish` is called once this process
    is free (after stat'ing its inputs, or after compiling the changed groups) and takes
    chunks from the back until it reaches what the child has done, so both end together
    however long this process was busy. They share an anonymous mapping: the child's
    results, how far it got and where it must stop. Progress read before the child has
    ended is only a hint (a stale one means more work here); what is kept is read after
    `waitpid`, which orders everything the child wrote before it.
    """

    CHUNK = 1024

    def __init__(self, rels: list[str], fd: int) -> None:
        import mmap

        self.rels, self.fd = rels, fd
        self.shared = mmap.mmap(-1, 16 + 32 * len(rels))  # (MAP_SHARED: the child writes it)
        self.header = memoryview(self.shared)[:16].cast("q")  # how far the child got, its stop
        self.header[1] = len(rels)
        self.pid = os.fork()
        if self.pid == 0:  # the child: stat, record, leave without running any cleanup
            try:
                try:  # noqa: SIM105 (yield to this process: it compiles on a busy core)
                    os.nice(10)
                except OSError:
                    pass
                self._front()
            finally:
                os._exit(0)

    def _front(self) -> None:
        at, header, shared = 0, self.header, self.shared
        while at < (stop := header[1]):
            end = min(at + self.CHUNK, stop)
            shared[16 + 32 * at : 16 + 32 * end] = stat_paths(self.rels[at:end], self.fd)
            header[0] = at = end

    def finish(self) -> Stats:
        """Every path's stat, in order: this process takes the back until it meets the child."""
        header, taken = self.header, []
        end = len(self.rels)
        while header[0] < end:
            start = max(header[0], end - self.CHUNK)
            header[1] = start
            taken.append(stat_paths(self.rels[start:end], self.fd))
            end = start
        self._reap()  # (the child did rels[:end], or more: once it ended, all is in view)
        found: Stats = array("q")
        found.frombytes(self.shared[16 : 16 + 32 * end])
        for piece in reversed(taken):
            found += piece
        self._close()
        return found

    def abandon(self) -> None:
        """The stats are not needed: stop the child and reap it."""
        self.header[1] = 0
        self._reap()
        self._close()

    def _reap(self) -> None:
        if self.pid:
            os.waitpid(self.pid, 0)
            self.pid = 0

    def _close(self) -> None:
        self.header.release()
        self.shared.close()


class OutputCheck:
    """Stats every output file and folder against the seal, most of them in a child.

    On creation a child starts stat'ing the paths (StatPair) on the other core;
    `intact` takes the rest in this process and gives the verdict. `offload`
    starts one more child on the spare tree's same files and folders.
    """

    def __init__(self, sealed: Seal, root: PathLike, *, parallel: bool) -> None:
        self.seal = sealed
        self.root = root
        self.rels = sealed.files + sealed.dirs + sealed.libs  # (libs: absolute paths)
        self.fd: int | None = None
        self.pair: StatPair | None = None
        self.spare: StatPair | None = None  # see offload
        self.spare_fd: int | None = None
        try:  # noqa: SIM105
            self.fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            pass
        parallel = parallel and (os.cpu_count() or 1) > 1 and hasattr(os, "fork")
        if self.fd is not None and parallel and len(self.rels) >= SPLIT_AT:
            self.pair = StatPair(self.rels, self.fd)

    def offload(self, spare: PathLike | None = None) -> None:
        """With `spare` (the spare tree's folder), one more child stats the output's files
        and folders there (see spare_stats), beside the first, while this process compiles."""
        if spare is None or self.fd is None or not hasattr(os, "fork"):
            return
        try:
            self.spare_fd = os.open(spare, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        files = len(self.seal.files) + len(self.seal.dirs)
        self.spare = StatPair(self.rels[:files], self.spare_fd)

    def spare_stats(self) -> Stats | None:
        """The stats of the output's files, then its folders, in the spare tree, as
        `offload` started taking them (None when it did not)."""
        if self.spare is None:
            return None
        found = self.spare.finish()
        self.spare = None
        self._close_spare()
        return found

    def abandon(self) -> None:
        """The verdict is not needed: stop the children, release the folders."""
        for pair in (self.pair, self.spare):
            if pair is not None:
                pair.abandon()
        self.pair = self.spare = None
        self._close_spare()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def _close_spare(self) -> None:
        if self.spare_fd is not None:
            os.close(self.spare_fd)
            self.spare_fd = None

    def intact(self, refresh: PathLike | None = None) -> bool:
        """Every output is as recorded. With `refresh` (the seal's path), a seal whose
        recent files had to be hashed is touched, as git refreshes its index: from then
        on they are old enough to be trusted by stat."""
        if self.fd is None:
            return False
        try:
            if self.pair is not None:
                found = self.pair.finish()
                self.pair = None
            else:
                found = stat_paths(self.rels, self.fd)
        finally:
            os.close(self.fd)
            self.fd = None
        sealed = self.seal
        if not markers_intact(self.root, sealed):
            return False
        expected = sealed.live + sealed.live_dirs + sealed.lib_stats
        if found == expected and max(expected[1::4], default=0) < sealed.mtime_ns:
            return True
        if not _recheck(sealed, self.root, found, expected):
            return False
        if refresh is not None and found == expected:
            try:  # noqa: SIM105
                os.utime(refresh)
            except OSError:
                pass
        return True


def markers_intact(root: PathLike, sealed: Seal) -> bool:
    """Each scope's `.pops-output` (which no manifest lists) holds the build's marker."""
    expected = marker("build")
    for scope in sealed.scopes:
        try:
            with open(os.path.join(root, scope.prefix, MARKER), "rb") as handle:
                if handle.read() != expected:
                    return False
        except OSError:
            return False
    return True


def unchanged_since_load(path: PathLike, sealed: Seal) -> bool:
    """The seal file is still the one `sealed` was read from (no build replaced it)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return st.st_mtime_ns == sealed.mtime_ns and st.st_ino == sealed.inode


def _recheck(seal: Seal, root: PathLike, found: Stats, expected: Stats) -> bool:
    """Slow lane of OutputCheck.intact: a file whose stat moved or is too recent is hashed."""
    if not complete(seal):
        return False
    files = len(seal.files)
    if len(found) != len(expected):
        return False
    for i in range(len(found) // 4):  # files, then folders and the libraries' files
        j = 4 * i
        now, then = found[j : j + 4], expected[j : j + 4]
        if now == then and then[1] < seal.mtime_ns:
            continue
        if i >= files or now[0] != seal.sizes[i]:
            return False  # a folder or a library changed, or a file's size did
        try:
            with open(os.path.join(root, seal.files[i]), "rb") as handle:
                data = handle.read()
        except OSError:
            return False
        if hashlib.sha256(data).digest() != seal.sha_blob[32 * i : 32 * i + 32]:
            return False
    return True


class Sealing:
    """The seal of one output folder, as one build reads it first and writes it last.

    `open` loads it and starts comparing it with the disk (a child stats the
    outputs meanwhile); `unchanged` is the verdict that nothing moved;
    `release` lets go of the children and of the output's lock.
    """

    __slots__ = (
        "changes",
        "check",
        "env_dir",
        "groups_dir",
        "inputs",
        "key",
        "lock",
        "path",
        "scanned",
        "sealed",
        "valid",
        "verdict",
    )

    def __init__(
        self, path: str, key: tuple[Any, ...], groups_dir: PathLike, env_dir: PathLike
    ) -> None:
        self.path, self.key, self.groups_dir, self.env_dir = path, key, groups_dir, env_dir
        self.inputs: Inputs | None = None  # as they were when the build began
        self.scanned = False
        self.valid = ""  # the last seal's validated values, carried over
        self.sealed: Seal | None = None  # once opened
        self.check: OutputCheck | None = None
        self.changes: InputChanges | None = None
        self.lock: int | None = None
        self.verdict: bool | None = None

    @classmethod
    def begin(
        cls, groups_dir: PathLike, env_dir: PathLike, root: PathLike, env: str | None, strict: bool
    ) -> Sealing:
        key = key_for(fingerprint(), groups_dir, env_dir, root, env, strict)
        return cls(seal_path(cache_folder(groups_dir), root), key, groups_dir, env_dir)

    def scan(self, known: Seal | None = None) -> Inputs | None:
        """The inputs as the build is about to read them (once per build).

        Taken before any file is read, these are the stats the seal records: a
        file edited while the build runs then differs from its record next
        time and is compiled again (git's index works the same way).
        """
        if not self.scanned:
            self.inputs = scan_inputs(self.groups_dir, self.env_dir, known)
            self.scanned = True
        return self.inputs

    def open(self, root: PathLike, jobs: int | None, *, locking: bool) -> bool:
        """Load the seal, start checking the outputs and find which inputs changed.

        False when there is no usable seal. With `locking` (a build, not a
        check) the output's lock is held from here until `release`, and what a
        killed build left beside the output is cleared. The child's share of
        the outputs assumes nothing changed: then this process stats the
        inputs and the rest of the outputs, and both finish together.
        """
        sealed = load(self.path, self.key)
        if sealed is None or not sealed.scopes or os.path.islink(root):
            return False  # (a link is never replaced: the build refuses it)
        if locking:
            self.lock = lock_output(root, os.path.dirname(self.path))
            if not unchanged_since_load(self.path, sealed):
                self.release()
                return False  # another build got the lock first and changed the output
            recover(root)
        self.sealed = sealed
        self.check = OutputCheck(sealed, root, parallel=jobs != 1)
        inputs = self.scan(sealed)
        self.changes = changed_inputs(sealed, *inputs[:2]) if inputs is not None else None
        return True

    def unchanged(self) -> bool:
        """No input and no output moved since the seal: the build has nothing to do."""
        if self.verdict is None:
            self.verdict = False
            if self.check is not None and self.changes is not None and not self.changes.groups:
                self.verdict = self.check.intact(refresh=self.path)
                self.check = None
        return self.verdict

    def release(self) -> None:
        """Reap the children (if their verdict is still pending) and unlock the output."""
        if self.check is not None:
            self.check.abandon()
            self.check = None
        if self.lock is not None:
            unlock_output(self.lock)
            self.lock = None

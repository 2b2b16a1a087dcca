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

# Fewer outputs than this are stat'ed by one process; more are split with a forked helper.
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


class OutputCheck:
    """Stats every output file and folder against the seal, part of them in children.

    On creation a child is forked to stat the tail of the paths on the other
    core, sized so that it finishes with this process when this process also
    has `balance` stats of its own to do (the inputs). `offload` hands the rest
    to a second child (this process is about to compile); `intact` collects the
    verdict, doing whatever no child took.
    """

    def __init__(self, sealed: Seal, root: PathLike, *, parallel: bool, balance: int = 0) -> None:
        self.seal = sealed
        self.root = root
        self.rels = sealed.files + sealed.dirs + sealed.libs  # (libs: absolute paths)
        self.fd: int | None = None
        self.children: list[tuple[int, int, int, int]] = []  # start, end, pid, pipe
        self.spare: tuple[int, int] | None = None  # pid, pipe: see offload
        self.done = 0  # rels[:done] are taken by children
        try:  # noqa: SIM105
            self.fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            pass
        total = len(self.rels)
        cores = os.cpu_count() or 1
        self.parallel = parallel and total >= SPLIT_AT and cores > 1 and hasattr(os, "fork")
        # (Stat calls on inputs come with a listing, sorting and comparing: weigh them more.)
        self.split = max(0, (total - balance * 5 // 4) // 2) if self.parallel else total
        if self.fd is not None and self.split < total:
            self._fork(self.split, total)

    def _fork(self, start: int, end: int, folder: PathLike | None = None) -> tuple[int, int]:
        """A child that stats rels[start:end] below the output (or below `folder`)."""
        assert self.fd is not None
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: stat, send, leave without running any cleanup
            try:
                os.close(reader)
                # Yield to the parent when it compiles on a busy core meanwhile.
                try:  # noqa: SIM105
                    os.nice(10)
                except OSError:
                    pass
                fd = self.fd if folder is None else os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
                view = memoryview(stat_paths(self.rels[start:end], fd).tobytes())
                while view:
                    view = view[os.write(writer, view) :]
            finally:
                os._exit(0)
        os.close(writer)
        if folder is None:
            self.children.append((start, end, pid, reader))
        return pid, reader

    def offload(self, spare: PathLike | None = None) -> None:
        """Give this process's share to a child too: this process is about to compile
        on its core, while the children share the other (in C, their stats take less
        time than the compiler's imports). With `spare` (the spare tree's folder),
        one more child stats the same files and folders there: see spare_stats."""
        if self.parallel and self.fd is not None and self.split > 0:
            self._fork(0, self.split)
            self.done = self.split
        if spare is not None and self.fd is not None and hasattr(os, "fork"):
            self.spare = self._fork(0, len(self.seal.files) + len(self.seal.dirs), spare)

    def spare_stats(self) -> Stats | None:
        """The stats of the output's files, then its folders, in the spare tree, as the
        child `offload` started found them (None when it did not, or failed)."""
        if self.spare is None:
            return None
        pid, reader = self.spare
        self.spare = None
        found = _child_stats(pid, reader)
        return found if len(found) == 4 * (len(self.seal.files) + len(self.seal.dirs)) else None

    def abandon(self) -> None:
        """The verdict is not needed: reap the children, release the folder."""
        if self.spare is not None:
            self.children.append((0, 0, *self.spare))
            self.spare = None
        for _, _, pid, reader in self.children:
            os.close(reader)
            os.waitpid(pid, 0)
        self.children = []
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def _collect(self, start: int, end: int, pid: int, reader: int) -> Stats:
        assert self.fd is not None
        part = _child_stats(pid, reader)
        if len(part) != 4 * (end - start):  # the child failed: do its part here
            part = stat_paths(self.rels[start:end], self.fd)
        return part

    def intact(self, refresh: PathLike | None = None) -> bool:
        """Every output is as recorded. With `refresh` (the seal's path), a seal whose
        recent files had to be hashed is touched, as git refreshes its index: from then
        on they are old enough to be trusted by stat."""
        if self.fd is None:
            return False
        try:
            pieces = [(self.done, stat_paths(self.rels[self.done : self.split], self.fd))]
            pieces += [(a, self._collect(a, b, pid, pipe)) for a, b, pid, pipe in self.children]
            found: Stats = array("q")
            for _, piece in sorted(pieces, key=lambda p: p[0]):
                found += piece
            self.children = []
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


def _child_stats(pid: int, reader: int) -> Stats:
    """Everything a stat child wrote to its pipe, once it has ended (empty if it failed)."""
    chunks: list[bytes] = []
    with os.fdopen(reader, "rb") as pipe:
        while chunk := pipe.read(1 << 20):
            chunks.append(chunk)
    os.waitpid(pid, 0)
    found = array("q")
    found.frombytes(b"".join(chunks))
    return found


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
        self.check = OutputCheck(sealed, root, parallel=jobs != 1, balance=len(sealed.inputs))
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

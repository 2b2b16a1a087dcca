"""The seal: what the last build left, so an unchanged repository costs only stat calls.

Every successful build records, in one compact file in `.pops-cache/`, the stat
of each input (group files, shared layers, environment overlays, the files of
the libraries whose behaviour reaches the output), of each output file and
folder, the sha256 of each output and each group's input digest. The next
`pops build` or `pops build --check` compares that record with the disk using
stat calls alone, the way git's index and ninja's log do:

* nothing moved: the output already is what the sources produce, and nothing
  else needs to be imported, parsed or read;
* only some group files changed: just those groups are compiled, and the output
  is updated through the spare tree (the output before last, see spare.py)
  with one atomic exchange;
* anything else (a shared file, an added or removed group, an output edited or
  added by hand, another compiler, other options): the full pipeline runs, and
  it writes a new seal.

As git does for its index, a file whose mtime is not older than the seal file
itself is never trusted by stat: it is hashed (outputs) or compiled (groups).
This module is on the path of every build, so it imports only the interpreter's
C modules and our other light ones (no pathlib, dataclasses or typing): a build
the seal proves up to date is done before anything else would have loaded.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from array import array
from bisect import bisect_left
from itertools import chain

from compiler import __version__
from compiler.incremental.integrity import (
    MAX_CACHE_BYTES,
    cache_folder,
    checksum,
    fingerprint,
    verified,
)
from compiler.pipeline.output_folder import lock_output, recover, unlock_output
from compiler.pipeline.ownership import MARKER, marker

try:  # the same as the loop in stat_paths, in C (setup.py builds it where it can)
    from compiler.incremental._stats import stat_many as _stat_many
except ImportError:
    _stat_many = None  # type: ignore[assignment]

TYPE_CHECKING = False  # (typing itself costs a no-op build several milliseconds to import)
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any, TypeAlias

    from compiler.diagnostics import Diagnostic

    Stats: TypeAlias = "array[int]"  # size, mtime_ns, ctime_ns, inode for each path in turn
    Inputs: TypeAlias = "tuple[list[str], Stats, Stats]"  # names, their stats, the 2 folders'
    PathLike: TypeAlias = "str | os.PathLike[str]"

FORMAT = 7
# Fewer outputs than this are stat'ed by one process; more are split with a forked helper.
SPLIT_AT = 6000
# More changed groups than this go to the full pipeline, which uses every core.
MAX_CHANGED = 64
UNKNOWN = (-1, -1, -1, -1)
ABSENT = "0" * 64  # the sha256 recorded for a file the spare tree does not hold


def stat_of(st: os.stat_result) -> tuple[int, int, int, int]:
    """What must be unchanged for a file to be trusted without reading it.

    ctime is in it because nobody can set it back: an edit that restores the
    old mtime (or keeps the size) is still seen.
    """
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def pack_stats(stats: Iterable[tuple[int, int, int, int] | None]) -> bytes:
    """Stats as the seal keeps them (UNKNOWN for None): bytes pickle far faster than
    tuples of large ints, and a build's workers send back one per group."""
    return array("q", chain.from_iterable(UNKNOWN if st is None else st for st in stats)).tobytes()


def stat_paths(rels: Sequence[str], dir_fd: int) -> Stats:
    """Stat each path relative to `dir_fd`; UNKNOWN for one that is gone."""
    out = array("q")
    if _stat_many is not None:
        out.frombytes(_stat_many(dir_fd, rels))
        return out
    extend, stat = out.extend, os.stat
    for rel in rels:
        try:
            st = stat(rel, dir_fd=dir_fd)
        except OSError:
            extend(UNKNOWN)
            continue
        extend((st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return out


class Scope:
    """The base build or one environment, as its manifest describes it."""

    __slots__ = ("digest_blob", "end", "env", "inputs_digest", "prefix", "slugs", "start")

    def __init__(
        self,
        env: str | None,
        prefix: str,  # where the scope's files sit below the output root: "" or "<env>/"
        slugs: list[str],
        inputs_digest: str,  # the manifest's
        start: int,  # the scope's files in Seal.files: [start, end); its manifest is at end - 1
        end: int,
        digest_blob: bytes = b"",  # each group's input digest (32 bytes each, in slug order)
    ) -> None:
        self.env, self.prefix, self.slugs, self.inputs_digest = env, prefix, slugs, inputs_digest
        self.start, self.end, self.digest_blob = start, end, digest_blob

    @property
    def digests(self) -> list[str]:
        return hexes(self.digest_blob)


class Seal:
    """What one build left: see the module's docstring."""

    __slots__ = (
        "checksum",
        "diagnostics",
        "dirs",
        "files",
        "inode",
        "input_dirs",
        "input_stats",
        "inputs",
        "key",
        "lib_stats",
        "libs",
        "live",
        "live_dirs",
        "mtime_ns",
        "pending",
        "scopes",
        "sha_blob",
        "sizes",
        "spare",
        "spare_blob",
        "spare_delta",
        "spare_dirs",
        "spare_extra",
        "valid",
    )

    def __init__(
        self,
        key: tuple[Any, ...],
        inputs: list[str],  # "g/<name>" in the groups folder, "e/<name>" in environments/
        input_stats: Stats,
        scopes: list[Scope],
        files: list[str],  # every output file, relative to the output root
        sha_blob: bytes,  # sha256 of each file, 32 bytes each
        sizes: list[int],
        live: Stats,  # stat of each file in the output folder
        dirs: list[str],  # every output folder, "." first
        live_dirs: Stats,
    ) -> None:
        self.key, self.inputs, self.input_stats, self.scopes = key, inputs, input_stats, scopes
        self.files, self.sha_blob, self.sizes, self.live = files, sha_blob, sizes, live
        self.dirs, self.live_dirs = dirs, live_dirs
        # What the spare tree holds (32 zero bytes: no such file), and its stats.
        self.spare_blob: bytes | None = None
        self.spare: Stats | None = None
        self.spare_dirs: Stats | None = None
        self.spare_extra: list[str] = []  # spare files the output lacks
        self.spare_delta: list[int] | None = None  # where the spare may differ from the output
        self.valid = ""  # "\n<kind>:<value>\t<normalised>" lines: see model.types.remember
        self.diagnostics: list[tuple[Any, ...]] = []
        self.mtime_ns = 0  # of the seal file: nothing at least this recent is trusted by stat
        self.inode = 0  # of the seal file, to tell whether another build replaced it
        self.pending: memoryview | None = None  # the undecoded rest: see complete()
        self.input_dirs: Stats = array("q", UNKNOWN * 2)  # the groups and environments folders
        self.checksum = b""  # the first part's, which the rest repeats
        # The libraries' files and the folders of sys.path (see libraries.py), and their
        # stats: checked with the outputs, as build inputs.
        self.libs: list[str] = []
        self.lib_stats: Stats = array("q")


def hexes(blob: bytes) -> list[str]:
    """32-byte digests, concatenated, as hex strings."""
    text = blob.hex()
    return [text[i : i + 64] for i in range(0, len(text), 64)]


def blob(hex_digests: Iterable[str]) -> bytes:
    return bytes.fromhex("".join(hex_digests))


def key_for(
    fingerprint: str,
    groups_dir: PathLike,
    env_dir: PathLike,
    root: PathLike,
    env: str | None,
    strict: bool,
) -> tuple[Any, ...]:
    """Everything besides the inputs that decides what a build writes and prints."""
    return (
        FORMAT,
        __version__,
        fingerprint,
        sys.version,
        os.getcwd(),  # diagnostics name files relative to it
        tuple(sys.path[1:]),  # where the libraries come from (libraries.py: what they are)
        os.path.abspath(groups_dir),
        os.path.abspath(env_dir),
        os.path.abspath(root),
        env,
        strict,
    )


def seal_path(cache_dir: PathLike, root: PathLike) -> str:
    name = hashlib.sha256(os.path.abspath(root).encode()).hexdigest()[:16]
    return os.path.join(cache_dir, f"seal-{name}.bin")


def load(path: PathLike, key: tuple[Any, ...]) -> Seal | None:
    """The seal at `path` if it is intact and was made under the same `key`.

    Only what a no-op needs is decoded here; the hashes and the spare's record
    wait in `pending` until `complete` is called. The file is mapped, not read:
    a no-op never touches the pages of the part it does not need.
    """
    import mmap

    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            st = os.fstat(fd)
            if not 24 <= st.st_size <= MAX_CACHE_BYTES:
                return None  # (grown past any seal: never mapped, let alone read)
            mapped = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
        view = memoryview(mapped)
        split = 12 + int.from_bytes(view[:8], "big")  # the first part, behind its header
        if split + 12 + int.from_bytes(view[split : split + 8], "big") != len(view):
            return None  # truncated, or grown: not the file a build wrote
        body = verified(view[:split])
        if body is None:
            return None
        data = marshal.loads(body)
        if data[0] != key:
            return None
        (
            _,
            inputs,
            input_stats,
            input_dirs,
            scopes,
            files,
            live,
            dirs,
            live_dirs,
            diagnostics,
            libs,
            lib_stats,
        ) = data
        seal = Seal(
            key,
            inputs,
            _stats(input_stats),
            [Scope(*s) for s in scopes],
            files.split("\n") if files else [],
            b"",
            [],
            _stats(live),
            dirs.split("\n"),
            _stats(live_dirs),
        )
        seal.diagnostics = diagnostics
        seal.input_dirs = _stats(input_dirs)
        seal.libs, seal.lib_stats = libs.split("\n") if libs else [], _stats(lib_stats)
        seal.mtime_ns, seal.inode = st.st_mtime_ns, st.st_ino
        seal.pending = view[split:]
        seal.checksum = bytes(view[8:12])
    except (OSError, EOFError, ValueError, TypeError, IndexError):
        return None
    if len(seal.live) != 4 * len(seal.files) or len(seal.live_dirs) != 4 * len(seal.dirs):
        return None
    if len(seal.input_dirs) != 8 or len(seal.input_stats) != 4 * len(seal.inputs):
        return None
    if len(seal.lib_stats) != 4 * len(seal.libs):
        return None
    return seal


def complete(seal: Seal) -> bool:
    """Decode the rest of a loaded seal (hashes, sizes, the spare); False if it is damaged."""
    if seal.pending is None:
        return True
    try:
        body = verified(seal.pending)
        if body is None:
            return False
        rest = marshal.loads(body)
        first, shas, sizes, spare_blob, spare, spare_dirs, extra, delta, digests, valid = rest
    except (EOFError, ValueError, TypeError):
        return False
    n = len(seal.files)
    if first != seal.checksum or len(shas) != 32 * n or len(sizes) != 8 * n:
        return False  # (not the rest of the same seal, or damaged)
    if len(digests) != len(seal.scopes):
        return False
    seal.sha_blob, seal.sizes, seal.spare_extra = shas, _stats(sizes).tolist(), extra
    seal.spare_blob, seal.spare_delta, seal.valid = spare_blob, delta, valid
    seal.spare = _stats(spare) if spare is not None else None
    seal.spare_dirs = _stats(spare_dirs) if spare_dirs is not None else None
    for scope, blob_ in zip(seal.scopes, digests, strict=True):
        scope.digest_blob = blob_
    seal.pending = None
    return True


def _stats(raw: bytes) -> Stats:
    out = array("q")
    out.frombytes(raw)
    return out


def save(path: PathLike, seal: Seal) -> None:
    """Write atomically; failing to save only costs speed next time.

    Two parts, each behind its own checksum: what a no-op reads, then the rest.
    """
    if not complete(seal):
        discard(path)
        return
    # (Arrays go to marshal as they are: it stores any buffer as bytes, without a copy.)
    main = (
        seal.key,
        seal.inputs,
        seal.input_stats,
        seal.input_dirs,
        [(s.env, s.prefix, s.slugs, s.inputs_digest, s.start, s.end) for s in seal.scopes],
        "\n".join(seal.files),
        seal.live,
        "\n".join(seal.dirs),
        seal.live_dirs,
        seal.diagnostics,
        "\n".join(seal.libs),
        seal.lib_stats,
    )
    first = marshal.dumps(main)
    first_sum = checksum(first)
    rest = marshal.dumps(
        (
            first_sum,  # ties the rest to this first part
            seal.sha_blob,
            array("q", seal.sizes),
            seal.spare_blob,
            seal.spare,
            seal.spare_dirs,
            seal.spare_extra,
            seal.spare_delta,
            [s.digest_blob for s in seal.scopes],
            seal.valid,
        )
    )
    temporary = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(temporary, "wb") as handle:  # (as with_checksum frames each part)
            handle.write(len(first).to_bytes(8, "big") + first_sum)
            handle.write(first)
            handle.write(len(rest).to_bytes(8, "big") + checksum(rest))
            handle.write(rest)
        os.replace(temporary, path)
    except OSError:
        discard(path)


def discard(path: PathLike) -> None:
    """Forget the seal (before an output changes in a way it does not record)."""
    try:  # noqa: SIM105 (contextlib is not imported on this path)
        os.unlink(path)
    except OSError:
        pass


# --- inputs ---------------------------------------------------------------------------


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
    moved = set(_differing(stats, old, 0, len(names)))
    if recent:
        moved.update(i for i, mtime in enumerate(stats[1::4]) if mtime >= racy)
    changed: list[str] = []
    for i in sorted(moved):
        name = names[i]
        if not name.startswith("g/") or name[2] in "_." or not name.endswith(".yaml"):
            return None  # a shared layer or an overlay changed: many groups may follow
        changed.append(name[2:].removesuffix(".yaml"))
    return InputChanges(changed)


def _differing(new: Stats, old: Stats, lo: int, hi: int) -> list[int]:
    """The entries in [lo, hi) whose four numbers differ, found by halving the range:
    equal halves are compared in C and skipped whole."""
    if new[4 * lo : 4 * hi] == old[4 * lo : 4 * hi]:
        return []
    if hi - lo == 1:
        return [lo]
    mid = (lo + hi) // 2
    return _differing(new, old, lo, mid) + _differing(new, old, mid, hi)


# --- outputs --------------------------------------------------------------------------


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
        chunks: list[bytes] = []
        with os.fdopen(reader, "rb") as pipe:
            while chunk := pipe.read(1 << 20):
                chunks.append(chunk)
        os.waitpid(pid, 0)
        found = array("q")
        found.frombytes(b"".join(chunks))
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
        chunks: list[bytes] = []
        with os.fdopen(reader, "rb") as pipe:
            while chunk := pipe.read(1 << 20):
                chunks.append(chunk)
        os.waitpid(pid, 0)
        part = array("q")
        part.frombytes(b"".join(chunks))
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


# --- recording a build ----------------------------------------------------------------


def dirs_of(files: Iterable[str]) -> list[str]:
    """Every folder holding an output file, "." (the output root) first."""
    found: set[str] = set()
    for parent in {rel.rpartition("/")[0] for rel in files}:
        while parent and parent not in found:
            found.add(parent)
            parent = parent.rpartition("/")[0]
    return [".", *sorted(found)]


def record(
    *,
    key: tuple[Any, ...],
    inputs: Inputs,
    scopes: list[Scope],
    files: list[str],
    shas: list[str],
    sizes: list[int],
    stats: Stats,
    root: PathLike,
    diagnostics: Iterable[Diagnostic],
    spare: tuple[bytes, Stats, list[str]] | None = None,
    folders: dict[str, tuple[int, int, int, int]] | None = None,
    libs: tuple[list[str], Stats] | None = None,
) -> Seal:
    """A seal for what a build just left in `root`.

    `stats` (UNKNOWN where not known) and `folders` hold what the build already
    knows (workers stat what they write); every other file and folder is
    stat'ed here.
    """
    dirs = dirs_of(files)
    known = folders or {}
    missing_dirs = [d for d in dirs if d not in known]
    firsts = stats[0::4]
    missing_files = [i for i, size in enumerate(firsts) if size == -1] if -1 in firsts else []
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        found_dirs = stat_paths(missing_dirs, fd)
        found_files = stat_paths([files[i] for i in missing_files], fd)
    finally:
        os.close(fd)
    live = array("q", stats)
    for k, i in enumerate(missing_files):
        live[4 * i : 4 * i + 4] = found_files[4 * k : 4 * k + 4]
    found = {d: found_dirs[4 * k : 4 * k + 4] for k, d in enumerate(missing_dirs)}
    live_dirs: Stats = array("q")
    for d in dirs:
        live_dirs.extend(known[d] if d in known else found[d])
    seal = Seal(key, inputs[0], inputs[1], scopes, files, blob(shas), sizes, live, dirs, live_dirs)
    seal.input_dirs = inputs[2]
    if libs is not None:
        seal.libs, seal.lib_stats = libs
    from compiler.diagnostics import to_row

    seal.diagnostics = [to_row(d) for d in diagnostics]
    if spare is not None:
        seal.spare_blob, seal.spare, seal.spare_extra = spare
    return seal


def group_range(seal: Seal, scope: Scope, slug: str) -> tuple[int, int]:
    """Where a group's files sit in seal.files (they are contiguous: sorted by path)."""
    prefix = f"{scope.prefix}groups/{slug}/"
    end = scope.end - 1  # the manifest comes last
    lo = bisect_left(seal.files, prefix, scope.start, end)
    hi = bisect_left(seal.files, prefix[:-1] + "0", lo, end)  # "0" follows "/"
    return lo, hi


# --- one build's use of the seal ----------------------------------------------------


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

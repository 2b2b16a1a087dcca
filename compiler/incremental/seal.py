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
    checksum,
    verified,
)

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
        seal = _first_part(data)
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


def _first_part(data: tuple[Any, ...]) -> Seal:
    """The Seal that the first part (as `save` wrote it, key first) describes."""
    (
        key,
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


def differing(new: Stats, old: Stats, lo: int, hi: int) -> list[int]:
    """The entries in [lo, hi) whose four numbers differ, found by halving the range:
    equal halves are compared in C and skipped whole."""
    if new[4 * lo : 4 * hi] == old[4 * lo : 4 * hi]:
        return []
    if hi - lo == 1:
        return [lo]
    mid = (lo + hi) // 2
    return differing(new, old, lo, mid) + differing(new, old, mid, hi)


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
    diagnostics: Iterable[Diagnostic],
    folders: dict[str, tuple[int, int, int, int]] | None = None,
    libs: tuple[list[str], Stats] | None = None,
) -> Seal:
    """A seal for what a build is about to leave in its output.

    `stats` (UNKNOWN where not known) and `folders` hold what the build already
    knows (workers stat what they write); `fill` stats the rest once the output
    is in place.
    """
    dirs = dirs_of(files)
    known = folders or {}
    live_dirs: Stats = array("q")
    for d in dirs:
        live_dirs.extend(known.get(d, UNKNOWN))
    seal = Seal(
        key,
        inputs[0],
        inputs[1],
        scopes,
        files,
        blob(shas),
        sizes,
        array("q", stats),
        dirs,
        live_dirs,
    )
    seal.input_dirs = inputs[2]
    if libs is not None:
        seal.libs, seal.lib_stats = libs
    from compiler.diagnostics import to_row

    seal.diagnostics = [to_row(d) for d in diagnostics]
    return seal


def fill(seal: Seal, root: PathLike) -> None:
    """Stat, below `root`, each output file and folder whose stat the seal lacks."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for rels, stats in ((seal.files, seal.live), (seal.dirs, seal.live_dirs)):
            if -1 not in stats[0::4]:
                continue
            missing = [i for i, size in enumerate(stats[0::4]) if size == -1]
            found = stat_paths([rels[i] for i in missing], fd)
            for k, i in enumerate(missing):
                stats[4 * i : 4 * i + 4] = found[4 * k : 4 * k + 4]
    finally:
        os.close(fd)


def group_range(seal: Seal, scope: Scope, slug: str) -> tuple[int, int]:
    """Where a group's files sit in seal.files (they are contiguous: sorted by path)."""
    prefix = f"{scope.prefix}groups/{slug}/"
    end = scope.end - 1  # the manifest comes last
    lo = bisect_left(seal.files, prefix, scope.start, end)
    hi = bisect_left(seal.files, prefix[:-1] + "0", lo, end)  # "0" follows "/"
    return lo, hi

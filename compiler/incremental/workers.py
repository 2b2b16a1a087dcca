"""The worker pool: groups compiled in forked processes, written where they belong.

Each worker writes its groups' artifacts straight into the tree being built
(build) or compares them with the output folder (check), and sends back only an
`Outcome` per group (hashes and stats, never a file's bytes), so memory stays
flat. A worker ends when the build process ends, however it ends (`die_with`).
engine.py decides which groups come here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.diagnostics import Diagnostic
from compiler.incremental.integrity import read_bounded
from compiler.incremental.seal import pack_stats, stat_of, stat_paths
from compiler.load.layers import Layers, load_layers
from compiler.pipeline.writer import (
    Stale,
    file_entry,
    make_folders,
    put_at,
    temporary_for,
    write_at,
)

if TYPE_CHECKING:
    from concurrent.futures import Executor


Progress = Callable[[int, int], None]


# Below this many groups to compile, a process pool costs more than it saves.
PARALLEL_THRESHOLD = 200


CHUNK = 64


# Room in the pipe that carries outcomes back (Linux's unprivileged maximum by default).
RESULT_PIPE_BYTES = 1 << 20


@dataclass(slots=True)
class Outcome:
    """One group's result, without the bytes of its files."""

    slug: str
    file: str
    input_sha: str
    inputs: list[str]
    diagnostics: list[Diagnostic]
    entries: list[dict[str, Any]] | None
    stale: list[Stale] = field(default_factory=list)
    cached: bool = False
    # The stat of each file as this run wrote it, packed (seal.pack_stats; UNKNOWN:
    # left alone, already right); empty when nothing was written.
    written: bytes = b""
    # The group's folders this run wrote into, and their stats (packed as `written`).
    folders: list[str] = field(default_factory=list)
    folder_stats: bytes = b""
    # Emails and phones validated while compiling (see model.types.learned), on the
    # last outcome of a worker's chunk.
    validated: dict[str, str] = field(default_factory=dict)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as a plain tuple of fields: workers send back ten thousand of these.

        (Spelled out: a generator over __slots__ cost a fifth of the pickling.)
        """
        return (
            Outcome,
            (
                self.slug,
                self.file,
                self.input_sha,
                self.inputs,
                self.diagnostics,
                self.entries,
                self.stale,
                self.cached,
                self.written,
                self.folders,
                self.folder_stats,
                self.validated,
            ),
        )


def input_sha(group_sha: str, display: str, inputs: list[str], layers: Layers) -> str:
    """Digest of a group's own bytes and of each shared file that shaped it.

    A shared file is named by its folder and file name (`groups/_defaults.yaml`), not by
    the path it was read from: the same sources give the same digest (and manifest) from
    any working directory, with `--groups` spelled any way, or exported to a temporary
    folder by `pops diff`.
    """
    digests = [f"{_location_free(f)}={layers.digest_of(f)}" for f in inputs if f != display]
    if not digests:
        return group_sha
    return hashlib.sha256("\n".join([group_sha, *digests]).encode()).hexdigest()


def _location_free(display: str) -> str:
    return "/".join(display.replace("\\", "/").split("/")[-2:])


_WORKER: dict[str, Any] = {}


def _init_worker(
    groups_dir: str,
    env: str | None,
    env_dir: str | None,
    parent: int | None = None,
) -> None:
    if parent is not None:
        die_with(parent)
    _WORKER["scope"] = (groups_dir, env, env_dir)


def _worker_layers() -> Layers:
    """This worker's defaults, bases and overlay, read when its first chunk arrives.

    Not when it starts: it is forked before the build takes the stats of its inputs
    for the seal (sealing.scan), and a shared file read before its stat was taken
    could change in between, unseen by the next build. A chunk is only ever sent
    after that scan.
    """
    layers: Layers | None = _WORKER.get("layers")
    if layers is None:
        groups_dir, env, env_dir = _WORKER["scope"]
        layers = load_layers(Path(groups_dir), env, Path(env_dir) if env_dir else None)
        _WORKER["layers"] = layers
    return layers


def die_with(parent: int) -> None:
    """End this worker when the build process `parent` ends, however it ends.

    A worker left behind by a killed build would go on writing into a tree the
    next build owns. On Linux the kernel sends SIGKILL when the parent dies
    (PR_SET_PDEATHSIG); the parent may have died before that was set, so its
    liveness is checked after. Elsewhere, the pool's own pipes end idle workers.
    """
    import sys

    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)


class _Writer:
    """Writes one worker's groups below an output folder, through a folder descriptor.

    It hands back each file's stat as written, so the parent never stats the
    tree again to record it (see seal.py).
    """

    def __init__(self, root: str, replace: bool) -> None:
        os.makedirs(root, exist_ok=True)
        self.fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        self.replace = replace
        self.made: set[str] = set()

    def close(self) -> None:
        os.close(self.fd)

    def write_group(self, files: dict[str, bytes]) -> tuple[bytes, list[str], bytes]:
        """Write one group's files: (their stats, packed as seal.pack_stats, UNKNOWN for
        one left alone; the group's folders; their stats, packed), taken once written."""
        folders = sorted({rel.rpartition("/")[0] for rel in files} - {"", "groups"})
        if self.replace:
            written = pack_stats([self.write(rel, data) for rel, data in files.items()])
            return written, folders, stat_paths(folders, self.fd).tobytes()
        made = self.made
        for rel, data in files.items():
            make_folders(self.fd, rel.rpartition("/")[0], made)
            put_at(self.fd, rel, data)
        # (Files and folders in one bulk stat: fewer calls than an fstat per file.)
        stats = stat_paths([*files, *folders], self.fd).tobytes()
        cut = 4 * 8 * len(files)
        return stats[:cut], folders, stats[cut:]

    def write(self, rel: str, data: bytes) -> tuple[int, int, int, int] | None:
        """Replace one file; its stat, or None when it was left alone (already right)."""
        make_folders(self.fd, rel.rpartition("/")[0], self.made)
        # Never write through an existing file: in the spare tree it may share its
        # inode with the live output. And leave a file that already holds these
        # bytes alone, so a shared inode (and its stat record) stays.
        try:
            with open(rel, "rb", opener=self._opener) as handle:
                # (Its size first: a file grown huge is never read whole.)
                if os.fstat(handle.fileno()).st_size == len(data) and handle.read() == data:
                    return None
        except OSError:
            pass
        temporary = temporary_for(rel)
        with contextlib.suppress(FileNotFoundError):  # a killed build's, maybe a link
            os.unlink(temporary, dir_fd=self.fd)
        st = write_at(self.fd, temporary, data, exclusive=True)
        os.replace(temporary, rel, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        return stat_of(st)

    def _opener(self, path: str, flags: int) -> int:
        return os.open(path, flags, dir_fd=self.fd)


def _compile_chunk(
    paths: list[str],
    render: bool,
    write_dir: str | None,
    compare_dir: str | None,
    layers: Layers | None = None,
    replace: bool = False,
) -> list[Outcome]:
    from compiler.pipeline.group import compile_group  # the per-group pipeline

    layers = layers if layers is not None else _worker_layers()
    out: list[Outcome] = []
    writer = _Writer(write_dir, replace) if write_dir is not None else None
    try:
        for raw in paths:
            result = compile_group(Path(raw), render=render, layers=layers)
            entries = None
            written = folder_stats = b""
            folders: list[str] = []
            stale: list[Stale] = []
            if result.files is not None:
                entries = [file_entry(rel, data) for rel, data in result.files.items()]
                if writer is not None:
                    written, folders, folder_stats = writer.write_group(result.files)
                if compare_dir is not None:
                    for rel, data in result.files.items():
                        target = os.path.join(compare_dir, rel)
                        if not os.path.lexists(target):
                            stale.append(Stale(rel, "missing"))
                        elif read_bounded(target, len(data)) != data:  # (never read past)
                            stale.append(Stale(rel, "changed"))
            digest = input_sha(result.source_sha256, result.file, result.inputs, layers)
            outcome = Outcome(
                result.slug, result.file, digest, result.inputs, result.diagnostics, entries, stale
            )
            outcome.written = written
            outcome.folders, outcome.folder_stats = folders, folder_stats
            out.append(outcome)
    finally:
        if writer is not None:
            writer.close()
    if out:
        out[-1].validated = learned_values()
    return out


def learned_values() -> dict[str, str]:
    """What this process validated since last asked (nothing when it validated nothing)."""
    import sys

    types = sys.modules.get("compiler.model.types")
    return types.learned() if types is not None else {}


def _chunks(items: list[str], size: int, tail: int = 0) -> Iterator[list[str]]:
    """`items` in chunks of `size`; the last `tail` items in quarter-size chunks, so that
    the workers run out of work nearly together (one core idle for a whole last chunk
    while the other finishes is time every build waits)."""
    cut = max(0, len(items) - tail) // size * size if tail else len(items)
    for start in range(0, cut, size):
        yield items[start : min(start + size, cut)]
    small = max(8, size // 4)
    for start in range(cut, len(items), small):
        yield items[start : start + small]


def compile_paths(
    paths: list[Path],
    *,
    groups_dir: Path,
    env: str | None,
    env_dir: Path | None,
    layers: Layers,
    render: bool,
    write_dir: Path | None,
    compare_dir: Path | None,
    jobs: int,
    progress: Progress | None,
    done_before: int,
    total: int,
    replace: bool = False,
    received: Callable[[list[Outcome]], None] | None = None,
) -> list[Outcome]:
    """Compile `paths`, in worker processes when there are enough of them.

    `received` is called with each chunk's outcomes as they arrive, in order: the
    parent's own work on them overlaps the workers' on the chunks still to come.
    """
    raw = [str(p) for p in paths]
    wd = str(write_dir) if write_dir is not None else None
    cd = str(compare_dir) if compare_dir is not None else None
    results: list[Outcome] = []
    if jobs <= 1 or len(raw) < PARALLEL_THRESHOLD:
        for chunk in _chunks(raw, CHUNK):
            done = _compile_chunk(chunk, render, wd, cd, layers, replace)
            results += done
            if received is not None:
                received(done)
            if progress is not None:
                progress(done_before + len(results), total)
        return results
    from concurrent.futures.process import BrokenProcessPool

    size = max(8, min(CHUNK, len(raw) // (jobs * 8) or 8))
    pool = _STARTED.pop((str(groups_dir), env, str(env_dir), jobs), None)
    try:
        with pool if pool is not None else _new_pool(groups_dir, env, env_dir, jobs) as pool:
            futures = [
                pool.submit(_compile_chunk, chunk, render, wd, cd, None, replace)
                for chunk in _chunks(raw, size, tail=jobs * size)
            ]
            for future in futures:
                done = future.result()
                results += done
                if received is not None:
                    received(done)
                if progress is not None:
                    progress(done_before + len(results), total)
    except BrokenProcessPool:
        raise WorkerLost from None
    return results


class WorkerLost(Exception):
    """A worker process ended in the middle of a run (killed, or out of memory).

    Nothing was written where it counts (the output is swapped in only after
    every group is compiled), so the command only has to say so and fail.
    """

    def __str__(self) -> str:
        return "a worker process ended abruptly (killed, or out of memory); run it again"


def _new_pool(groups_dir: Path, env: str | None, env_dir: Path | None, jobs: int) -> Executor:
    from concurrent.futures import ProcessPoolExecutor  # (a build of a few groups never needs it)
    from multiprocessing import get_context

    context = get_context("fork") if "fork" in _start_methods() else None
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(
            str(groups_dir),
            env,
            str(env_dir) if env_dir else None,
            os.getpid(),
        ),
    )
    _roomy_results(pool)
    return pool


def _roomy_results(pool: Executor) -> None:
    """Make the pipe that carries the workers' outcomes back hold several chunks.

    A chunk's outcomes pickle to about 70 KB, more than a pipe holds by default (64 KiB
    on Linux): a worker sending one waited, its core idle, until the parent's result
    thread was scheduled and read, about a millisecond per chunk. The pool keeps the
    pipe to itself, hence the private attributes; where they or F_SETPIPE_SZ are
    missing, or the kernel refuses the size, the pipe stays as it was.
    """
    try:
        import fcntl

        reader = pool._result_queue._reader  # type: ignore[attr-defined]
        fcntl.fcntl(reader.fileno(), fcntl.F_SETPIPE_SZ, RESULT_PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


# Pools forked ahead of need, by (groups folder, environment, environments folder, jobs).
_STARTED: dict[tuple[str, str | None, str, int], Executor] = {}


def start_workers(groups_dir: Path, env: str | None, env_dir: Path, jobs: int) -> None:
    """Fork the worker pool now, while this process still has set-up to do.

    The workers spend that time importing and warming the per-group pipeline
    instead of on their first chunk; compile_paths takes the pool over.
    Call stop_workers() afterwards in any case.
    """
    if jobs <= 1:
        return
    pool = _new_pool(groups_dir, env, env_dir, jobs)
    for _ in range(jobs):
        pool.submit(_warm)
    _STARTED[(str(groups_dir), env, str(env_dir), jobs)] = pool


def stop_workers() -> None:
    """Shut down any pool start_workers() made that compile_paths did not use."""
    while _STARTED:
        _, pool = _STARTED.popitem()
        pool.shutdown(cancel_futures=True)


def _warm() -> None:
    """In a fresh worker: import the pipeline and the validators' libraries up front."""
    from compiler.model import types
    from compiler.pipeline.group import stages

    stages()
    types.warm()


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()

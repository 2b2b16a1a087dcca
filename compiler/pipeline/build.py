"""`pops build`: compile every scope, then write the output whole (or not at all).

The stages in order: load -> model -> rules -> render (compiler.pipeline.group, one
group; compiler.pipeline.compiling, every group of every scope) -> write (here and
compiler.pipeline.writer). Before any of that the seal is asked (compiler.incremental:
quick.sealed_build); after it, what the output now holds is sealed
(incremental.recording). `check_output` (compiler.pipeline.check) compares instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.incremental import seal
from compiler.incremental.cache import Cache, cache_dir_for
from compiler.incremental.quick import sealed_build
from compiler.incremental.recording import outputs_from_seal
from compiler.incremental.sealing import Sealing
from compiler.pipeline import ownership
from compiler.pipeline.check import check_output, trusted
from compiler.pipeline.compiling import compile_all, compile_groups, gc_paused, run_scopes
from compiler.pipeline.discovery import (
    SLUG,
    discover,
    display_path,
    environment_problems,
    slug_problem,
)
from compiler.pipeline.group import (
    Compilation,
    compile_group,
    default_jobs,
    env_dir_for,
    output_dir,
    scope_root,
)
from compiler.pipeline.placing import Out, put_in_place
from compiler.pipeline.writer import MANIFEST, Staging

if TYPE_CHECKING:
    from compiler.incremental.engine import Progress
    from compiler.incremental.spare import Spare

# What other modules import from here (the build's public names).
__all__ = [
    "SLUG",
    "Compilation",
    "build",
    "check_output",
    "compile_all",
    "compile_group",
    "compile_groups",
    "discover",
    "display_path",
    "env_dir_for",
    "environment_problems",
    "gc_paused",
    "slug_problem",
]

# The pipeline's modules (YAML, pydantic models, rules, Jinja) are imported inside
# the functions that run it: a build the seal proves up to date never needs them.


@gc_paused
def build(
    groups_dir: Path,
    out_dir: Path,
    *,
    strict: bool = False,
    env: str | None = None,
    env_dir: Path | None = None,
    jobs: int | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
    resume: Sealing | None = None,
) -> Compilation:
    """Compile and, only when every group is clean, update the output.

    Without `env`, the output holds the base build and one folder per
    environment; with it, only that environment's folder changes. Every build
    that changes anything replaces the output whole, in one atomic rename, so a
    failed or killed build leaves the old output exactly as it was. When the
    cache knows the output folder is what the last build left, only changed
    groups are compiled and written; the others are hard-linked from the old
    tree into the new one, and a build that changes nothing touches nothing.
    `resume` is a seal the caller already opened for these same options (the
    CLI's quick path, see compiler.cli.building).
    """
    root = output_dir(out_dir, env)
    folder = env_dir_for(groups_dir, env_dir)
    try:  # before anything is locked, recovered or written: is the output ours to replace?
        new_out = ownership.claim(out_dir, "build", groups_dir=groups_dir, env_dir=folder, env=env)
    except ownership.Refused:
        if resume is not None:
            resume.release()
        raise
    sealing = resume
    if sealing is None and use_cache:
        sealing = Sealing.begin(groups_dir, folder, root, env, strict)
        sealing.open(root, jobs, locking=True)
    with _made_for(out_dir if env is not None and new_out else None):
        if sealing is not None and sealing.sealed is not None:
            done = sealed_build(sealing, groups_dir, folder, root)
            if done is not None:
                return done
        compilation = _pipeline_build(
            groups_dir,
            out_dir,
            strict=strict,
            env=env,
            env_dir=env_dir,
            jobs=jobs,
            use_cache=use_cache,
            progress=progress,
            sealing=sealing,
        )
    if env is not None and new_out and compilation.ok and out_dir.is_dir():
        # `--env NAME` made the output folder too: mark it, so a full build may replace it.
        ownership.write_marker(out_dir, "build")
    return compilation


@contextlib.contextmanager
def _made_for(folder: Path | None) -> Iterator[None]:
    """`folder`, made by this build to hold its output, goes again if the build does not
    fill it (failed, or killed by an exception): a run leaves nothing new behind."""
    try:
        yield
    finally:
        if folder is not None:
            with contextlib.suppress(OSError):
                folder.rmdir()  # (only ever an empty folder)


def _pipeline_build(
    groups_dir: Path,
    out_dir: Path,
    *,
    strict: bool,
    env: str | None,
    env_dir: Path | None,
    jobs: int | None,
    use_cache: bool,
    progress: Progress | None,
    sealing: Sealing | None,
) -> Compilation:
    """The full pipeline's build: every group through the cache, then the writer."""
    from compiler.incremental.engine import stop_workers
    from compiler.load.layers import environments

    root = output_dir(out_dir, env)
    staging = Staging(root, lock_dir=cache_dir_for(groups_dir))
    folder = env_dir_for(groups_dir, env_dir)
    scopes: list[str | None] = [env] if env is not None else [None, *environments(folder)]
    cache_dir = cache_dir_for(groups_dir) if use_cache else None
    probe = {s: Cache.load(cache_dir, s) for s in scopes}
    sealed = _open_seal(sealing, probe, root)
    incremental = _incremental(root, env, scopes, probe, use_cache)
    out = Out(root, env, staging, *_spare_for(cache_dir, root, sealed, incremental))

    def targets(scope: str | None) -> tuple[Path | None, Path | None]:
        return scope_root(out.write_root, env, scope), None

    _warm_up(groups_dir, scopes[0], folder, jobs, incremental, sealing)
    try:
        compilation, results, caches = run_scopes(
            groups_dir,
            None,
            strict=strict,
            render=True,
            env=env,
            env_dir=env_dir,
            jobs=jobs,
            use_cache=use_cache,
            progress=progress,
            targets=targets,
            use_hits=lambda scope, cache: incremental,
            verify=lambda scope: scope_root(root, env, scope) if incremental else None,
            caches=probe,
            replace=out.held is not None,
        )
        _KEPT[:] = [results, caches]
        if not compilation.ok:
            staging.discard()  # (a spare written into: the seal that knew it is gone)
            for cache in caches.values():
                cache.save()
            return compilation
        return put_in_place(out, compilation, results, caches, incremental, sealing)
    except BaseException:
        staging.discard()
        raise
    finally:
        stop_workers()
        staging.release()


# The last build's results and caches, kept until the next build here (the CLI ends
# with os._exit, compiler.cli.run): freed object by object when _pipeline_build
# returned, 10,000 groups' outcomes took ~13 ms after the output was in place.
_KEPT: list[object] = []


def _warm_up(
    groups_dir: Path,
    scope: str | None,
    folder: Path,
    jobs: int | None,
    incremental: bool,
    sealing: Sealing | None,
) -> None:
    """Fork the workers early for a whole build, then take the inputs' stats for the seal."""
    from compiler.incremental.engine import PARALLEL_THRESHOLD, start_workers

    workers = jobs or default_jobs()
    if not incremental and workers > 1 and _group_count(groups_dir) >= PARALLEL_THRESHOLD:
        # A whole build ahead: fork the workers now (the inputs' stats are taken),
        # so they warm up while this process finishes setting up.
        start_workers(groups_dir, scope, folder, workers)
    if sealing is not None:
        # (After the fork: the workers warm up meanwhile. Still before any group
        # file is read, so an edit made while the build runs is seen next time.)
        sealing.scan()


def _open_seal(
    sealing: Sealing | None, probe: dict[str | None, Cache], root: Path
) -> seal.Seal | None:
    """The seal, if it can be believed; it is discarded on disk (the output may change
    from here on) and what it says the output holds goes into `probe`."""
    sealed = seal.load(sealing.path, sealing.key) if sealing is not None else None
    if sealed is not None and not seal.complete(sealed):
        sealed = None
    if sealed is not None:
        from compiler.incremental import libraries

        if (sealed.libs, sealed.lib_stats) != libraries.watched():
            # Made under other libraries: what it says the output holds, and the
            # emails and phones it saw checked, are not what this build would make.
            sealed = None
    if sealed is not None and sealing is not None:
        sealing.valid = sealed.valid
    if sealing is not None:
        seal.discard(sealing.path)  # the output and the spare may change from here on
    if sealed is not None:
        # The seal is the freshest record of the output (a build it did itself
        # leaves the per-group cache's record behind).
        for name, state in outputs_from_seal(sealed, root).items():
            if name in probe:
                probe[name].output = state
    return sealed


def _incremental(
    root: Path,
    env: str | None,
    scopes: list[str | None],
    probe: dict[str | None, Cache],
    use_cache: bool,
) -> bool:
    """May this build reuse the output folder (the caches know what it holds)?"""
    incremental = use_cache and all(trusted(probe[s], scope_root(root, env, s)) for s in scopes)
    if incremental and env is None:
        # An environment that was removed leaves a folder only a full build clears.
        expected = {"groups", MANIFEST, ownership.MARKER, *(s for s in scopes if s is not None)}
        incremental = set(os.listdir(root)) <= expected
    return incremental


def _spare_for(
    cache_dir: Path | None, root: Path, sealed: seal.Seal | None, incremental: bool
) -> tuple[Spare | None, seal.Seal | None, bytearray | None]:
    """(the spare, the seal that records it, what it holds when this build writes into
    it). A spare the seal cannot vouch for, or that this build cannot use, is dropped."""
    from compiler.incremental.spare import Spare, vouched
    from compiler.pipeline.writer import exchange_supported

    if cache_dir is None:
        return None, sealed, None
    spare = Spare(cache_dir, root)
    held = None
    if sealed is not None and incremental and spare.usable() and exchange_supported():
        held = vouched(sealed, spare.dir)
    if held is None:
        spare.drop()
    return spare, sealed, held


def _group_count(groups_dir: Path) -> int:
    try:
        return sum(n.endswith(".yaml") and n[0] not in "_." for n in os.listdir(groups_dir))
    except OSError:
        return 0

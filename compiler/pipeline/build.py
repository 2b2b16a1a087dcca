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
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.incremental import seal
from compiler.incremental.cache import Cache, cache_dir_for
from compiler.incremental.integrity import read_bounded
from compiler.incremental.quick import sealed_build
from compiler.incremental.recording import outputs_from_seal, record_build, spare_from_seal
from compiler.incremental.sealing import Sealing
from compiler.pipeline import ownership
from compiler.pipeline.check import check_output, marker_wrong, render_cache, trusted, unwanted
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
    scope_prefix,
    scope_root,
)
from compiler.pipeline.writer import MANIFEST, Staging, link_files, swap_in

if TYPE_CHECKING:
    from compiler.incremental.engine import Progress, ScopeResult

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


def _changes(
    root: Path,
    env: str | None,
    results: dict[str | None, ScopeResult],
    caches: dict[str | None, Cache],
) -> bool:
    """Would this build change the output? (compiled groups, a new manifest, removed files)"""

    for scope, result in results.items():
        if any(not o.cached for o in result.outcomes):
            return True
        manifest = scope_root(root, env, scope) / MANIFEST
        if read_bounded(manifest, len(result.manifest or b"")) != (result.manifest or b""):
            return True
        if marker_wrong(manifest.parent):
            return True
        kept = {str(e["path"]) for o in result.outcomes for e in o.entries or []}
        if set(caches[scope].output.get("files", {})) - kept:
            return True
    return False


def _strays(root: Path, env: str | None, results: dict[str | None, ScopeResult]) -> list[str]:
    """Files in the output that this build does not write (paths under `root`)."""
    from compiler.incremental.engine import list_files

    wanted = {
        scope_prefix(env, scope) + rel
        for scope, result in results.items()
        for rel in [
            MANIFEST,
            ownership.MARKER,
            *(str(e["path"]) for o in result.outcomes for e in o.entries or []),
        ]
    }
    return sorted(unwanted(list_files(root, set()), wanted))


def _remove_strays(tree: Path, strays: list[str]) -> None:
    """Remove the files (and empty folders, "<path>/") nobody built."""
    for rel in strays:
        path = tree / rel
        if rel.endswith("/") and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            continue
        with contextlib.suppress(OSError):
            path.unlink()


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
    with (
        render_cache(groups_dir, use_cache),
        _made_for(out_dir if env is not None and new_out else None),
    ):
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
    from compiler.incremental.engine import PARALLEL_THRESHOLD, start_workers, stop_workers
    from compiler.incremental.spare import Spare, bring_up_to_date, record_of
    from compiler.load.layers import environments

    root = output_dir(out_dir, env)
    staging = Staging(root, lock_dir=cache_dir_for(groups_dir))
    folder = env_dir_for(groups_dir, env_dir)
    scopes: list[str | None] = [env] if env is not None else [None, *environments(folder)]
    cache_dir = cache_dir_for(groups_dir) if use_cache else None
    probe = {s: Cache.load(cache_dir, s) for s in scopes}
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
    incremental = use_cache and all(trusted(probe[s], scope_root(root, env, s)) for s in scopes)
    if incremental and env is None:
        # An environment that was removed leaves a folder only a full build clears.
        expected = {"groups", MANIFEST, ownership.MARKER, *(s for s in scopes if s is not None)}
        incremental = set(os.listdir(root)) <= expected

    spare = Spare(cache_dir, root) if cache_dir is not None else None
    spare_record = None
    spare_since = 0  # the spare's files recorded before this are trusted by stat
    if spare is not None:
        spare_record = spare_from_seal(sealed, spare) if sealed is not None else None
        if spare_record is not None and sealed is not None:
            spare_since = sealed.mtime_ns
        else:
            spare_record = spare.load()
            spare_since = spare.recorded_ns
    if spare is not None and spare_record is not None and not (incremental and spare.usable()):
        spare.drop()
        spare_record = None
    if spare is not None and spare_record is not None:
        spare.invalidate()  # it is about to change
    write_root = spare.dir if spare is not None and spare_record is not None else staging.path

    def targets(scope: str | None) -> tuple[Path | None, Path | None]:
        return scope_root(write_root, env, scope), None

    workers = jobs or default_jobs()
    if not incremental and workers > 1 and _group_count(groups_dir) >= PARALLEL_THRESHOLD:
        # A whole build ahead: fork the workers now (the inputs' stats are taken),
        # so they warm up while this process finishes setting up.
        start_workers(groups_dir, scopes[0], folder, workers)
    if sealing is not None:
        # (After the fork: the workers warm up meanwhile. Still before any group
        # file is read, so an edit made while the build runs is seen next time.)
        sealing.scan()
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
            replace=spare_record is not None,
        )
        if not compilation.ok:
            staging.discard()  # (a spare written into stays invalid and is dropped next time)
            for cache in caches.values():
                cache.save()
            return compilation
        # The old output's record, for when it becomes the spare. A group compiled
        # again may have had its files edited by hand: those records are dropped, so
        # the spare's copies are replaced, never trusted, next time.
        recompiled = (
            {
                scope_prefix(env, scope) + str(e["path"])
                for scope, result in results.items()
                for o in result.outcomes
                if not o.cached
                for e in o.entries or []
            }
            if incremental
            else set()
        )
        previous = {
            scope_prefix(env, scope) + rel: entry
            for scope in results
            for rel, entry in caches[scope].output.get("files", {}).items()
            if scope_prefix(env, scope) + rel not in recompiled
        }
        # Files nobody built (added by hand to the output) are not the build's: they go.
        strays = _strays(root, env, results) if incremental else []
        if incremental and not strays and not _changes(root, env, results, caches):
            staging.discard()  # nothing to do: the output is already exactly this build
            if spare is not None and spare_record is not None:
                spare.save(spare_record)  # untouched after all
            return _record_outputs(
                compilation, root, env, results, caches, previous, sealing, spare_record
            )
        for scope, result in results.items():
            manifest = scope_root(write_root, env, scope) / MANIFEST
            manifest.parent.mkdir(parents=True, exist_ok=True)
            temporary = manifest.with_name(".manifest.json.pops-tmp")
            temporary.write_bytes(result.manifest or b"")
            os.replace(temporary, manifest)
            if marker_wrong(manifest.parent):
                ownership.write_marker(manifest.parent, "build")
        if spare is not None and spare_record is not None:
            wanted = {
                scope_prefix(env, scope) + str(e["path"]): str(e["sha256"])
                for scope, result in results.items()
                for o in result.outcomes
                for e in o.entries or []
            }
            # Double buffering: bring the spare (the output before last) up to
            # date with only the files that differ, then swap it in.
            # The manifests were just written; the markers were just checked byte for
            # byte or written (see marker_wrong): neither may be pruned as unknown.
            manifests = {
                scope_prefix(env, scope) + name
                for scope in results
                for name in (MANIFEST, ownership.MARKER)
            }
            touched = bring_up_to_date(
                spare.dir, root, spare_record, wanted, recompiled | manifests, spare_since
            )
            old = swap_in(spare.dir, root)
            _remove_strays(spare.dir, strays)  # the old output, now the spare
            staging.discard()
            # What the spare held untouched keeps its record; the old live tree,
            # untouched too, becomes the spare with the record it had. (The output is
            # in place: a cache that cannot be written from here only costs speed.)
            held: dict[str, list[Any]] | None = previous
            try:
                spare.save(previous)
            except OSError:
                spare.drop()
                held = None
            known = {rel: spare_record[rel] for rel in wanted if rel not in touched}
            return _record_outputs(compilation, root, env, results, caches, known, sealing, held)
        else:
            if incremental:
                # No spare yet: unchanged groups' files join the new tree as hard
                # links to the old ones, so nothing is rendered again.
                for scope, result in results.items():
                    kept = [
                        str(e["path"]) for o in result.outcomes if o.cached for e in o.entries or []
                    ]
                    link_files(
                        scope_root(root, env, scope), scope_root(staging.path, env, scope), kept
                    )
            old = staging.commit(keep_old=spare is not None and incremental)
        if old is not None and spare is not None:
            # The replaced output becomes the spare for the next build.
            shas = {rel: str(entry[-1]) for rel, entry in previous.items()}
            adopted = record_of(old, shas)
            _remove_strays(old, strays)
            try:
                spare.adopt(old, adopted)
            except OSError:  # (the output is in place: only speed is lost)
                shutil.rmtree(old, ignore_errors=True)
                spare.drop()
                return _record_outputs(compilation, root, env, results, caches, {}, sealing, None)
            return _record_outputs(compilation, root, env, results, caches, {}, sealing, adopted)
        elif old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return _record_outputs(compilation, root, env, results, caches, {}, sealing, None)
    except BaseException:
        staging.discard()
        raise
    finally:
        stop_workers()
        staging.release()


def _group_count(groups_dir: Path) -> int:
    try:
        return sum(n.endswith(".yaml") and n[0] not in "_." for n in os.listdir(groups_dir))
    except OSError:
        return 0


def _record_outputs(
    compilation: Compilation,
    root: Path,
    env: str | None,
    results: dict[str | None, ScopeResult],
    caches: dict[str | None, Cache],
    known: dict[str, list[Any]],
    sealing: Sealing | None,
    spare: dict[str, list[Any]] | None,
) -> Compilation:
    """Save the per-group caches and seal what the output folder now holds.

    `known` holds records (by path under the output root) still true for files
    this build did not touch.
    """
    for cache in caches.values():
        cache.save()
    if sealing is not None:
        record_build(sealing, compilation, root, env, results, known, spare)
    return compilation

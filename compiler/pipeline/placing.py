"""Put a clean build in place: nothing (the output already is this build), the spare
brought up to date and swapped in, or a new tree committed over the old one.

Called by compiler.pipeline.build once every group of every scope compiled
cleanly; afterwards what the output holds is sealed (incremental.recording).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.incremental.cache import Cache
from compiler.incremental.integrity import read_bounded
from compiler.incremental.recording import record_build
from compiler.incremental.sealing import Sealing
from compiler.pipeline import ownership
from compiler.pipeline.check import marker_wrong, unwanted
from compiler.pipeline.group import Compilation, scope_prefix, scope_root
from compiler.pipeline.writer import MANIFEST, Staging, link_files, swap_in

if TYPE_CHECKING:
    from compiler.incremental.engine import ScopeResult
    from compiler.incremental.spare import Spare


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


@dataclass(slots=True)
class Out:
    """Where a build writes: the output root, its staging folder and the spare."""

    root: Path
    env: str | None
    staging: Staging
    spare: Spare | None
    record: dict[str, list[Any]] | None  # the spare's record, when it is written into
    since: int

    @property
    def write_root(self) -> Path:
        if self.spare is not None and self.record is not None:
            return self.spare.dir
        return self.staging.path


def put_in_place(
    out: Out,
    compilation: Compilation,
    results: dict[str | None, ScopeResult],
    caches: dict[str | None, Cache],
    incremental: bool,
    sealing: Sealing | None,
) -> Compilation:
    """Put a clean build in place: nothing, the spare brought up to date, or a new tree."""
    root, env = out.root, out.env
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
        out.staging.discard()  # nothing to do: the output is already exactly this build
        if out.spare is not None and out.record is not None:
            out.spare.save(out.record)  # untouched after all
        return _record_outputs(
            compilation, root, env, results, caches, previous, sealing, out.record
        )
    _write_manifests(out.write_root, env, results)
    if out.spare is not None and out.record is not None:
        known, held = _swap_spare(out, out.spare, out.record, results, previous, recompiled, strays)
        return _record_outputs(compilation, root, env, results, caches, known, sealing, held)
    if incremental:
        # No spare yet: unchanged groups' files join the new tree as hard
        # links to the old ones, so nothing is rendered again.
        for scope, result in results.items():
            kept = [str(e["path"]) for o in result.outcomes if o.cached for e in o.entries or []]
            link_files(scope_root(root, env, scope), scope_root(out.staging.path, env, scope), kept)
    old = out.staging.commit(keep_old=out.spare is not None and incremental)
    adopted = _adopt(out.spare, old, previous, strays)
    return _record_outputs(compilation, root, env, results, caches, {}, sealing, adopted)


def _write_manifests(
    write_root: Path, env: str | None, results: dict[str | None, ScopeResult]
) -> None:
    """Each scope's manifest (and its folder's marker, where it is not right)."""
    for scope, result in results.items():
        manifest = scope_root(write_root, env, scope) / MANIFEST
        manifest.parent.mkdir(parents=True, exist_ok=True)
        temporary = manifest.with_name(".manifest.json.pops-tmp")
        temporary.write_bytes(result.manifest or b"")
        os.replace(temporary, manifest)
        if marker_wrong(manifest.parent):
            ownership.write_marker(manifest.parent, "build")


def _swap_spare(
    out: Out,
    spare: Spare,
    spare_record: dict[str, list[Any]],
    results: dict[str | None, ScopeResult],
    previous: dict[str, list[Any]],
    recompiled: set[str],
    strays: list[str],
) -> tuple[dict[str, list[Any]], dict[str, list[Any]] | None]:
    """Double buffering: bring the spare (the output before last) up to date with only
    the files that differ, then swap it in. (records still true of the output's files,
    the new spare's record)"""
    from compiler.incremental.spare import bring_up_to_date

    root, env = out.root, out.env
    wanted = {
        scope_prefix(env, scope) + str(e["path"]): str(e["sha256"])
        for scope, result in results.items()
        for o in result.outcomes
        for e in o.entries or []
    }
    # The manifests were just written; the markers were just checked byte for
    # byte or written (see marker_wrong): neither may be pruned as unknown.
    manifests = {
        scope_prefix(env, scope) + name
        for scope in results
        for name in (MANIFEST, ownership.MARKER)
    }
    touched = bring_up_to_date(
        spare.dir, root, spare_record, wanted, recompiled | manifests, out.since
    )
    swap_in(spare.dir, root)
    _remove_strays(spare.dir, strays)  # the old output, now the spare
    out.staging.discard()
    # What the spare held untouched keeps its record; the old live tree,
    # untouched too, becomes the spare with the record it had. (The output is
    # in place: a cache that cannot be written from here only costs speed.)
    held: dict[str, list[Any]] | None = previous
    try:
        spare.save(previous)
    except OSError:
        spare.drop()
        held = None
    return {rel: spare_record[rel] for rel in wanted if rel not in touched}, held


def _adopt(
    spare: Spare | None, old: Path | None, previous: dict[str, list[Any]], strays: list[str]
) -> dict[str, list[Any]] | None:
    """The replaced output becomes the spare for the next build; its record (or None)."""
    if old is None:
        return None
    if spare is None:
        shutil.rmtree(old, ignore_errors=True)
        return None
    from compiler.incremental.spare import record_of

    shas = {rel: str(entry[-1]) for rel, entry in previous.items()}
    adopted = record_of(old, shas)
    _remove_strays(old, strays)
    try:
        spare.adopt(old, adopted)
    except OSError:  # (the output is in place: only speed is lost)
        shutil.rmtree(old, ignore_errors=True)
        spare.drop()
        return None
    return adopted


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

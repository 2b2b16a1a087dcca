"""Put a clean build in place: nothing (the output already is this build), the spare
brought up to date and swapped in, or a new tree committed over the old one.

Called by compiler.pipeline.build once every group of every scope compiled
cleanly; afterwards what the output holds is sealed (incremental.recording).
"""

from __future__ import annotations

import os
import shutil
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.incremental import seal
from compiler.incremental.cache import Cache
from compiler.incremental.integrity import read_bounded
from compiler.incremental.recording import planned, seal_build
from compiler.incremental.sealing import Sealing
from compiler.pipeline import ownership
from compiler.pipeline.check import marker_wrong, unwanted
from compiler.pipeline.group import Compilation, scope_prefix, scope_root
from compiler.pipeline.writer import MANIFEST, Staging, link_files, swap_in

if TYPE_CHECKING:
    from compiler.incremental.engine import ScopeResult
    from compiler.incremental.seal import Seal
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


@dataclass(slots=True)
class Out:
    """Where a build writes: the output root, its staging folder and the spare."""

    root: Path
    env: str | None
    staging: Staging
    spare: Spare | None
    sealed: Seal | None  # the last build's seal (what the output and the spare hold)
    held: bytearray | None  # what the spare holds, checked, when this build writes into it

    @property
    def write_root(self) -> Path:
        if self.spare is not None and self.held is not None:
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
    """Put a clean build in place: nothing, the spare brought up to date, or a new tree.

    The seal of the new output is made first (`planned`); the spare is brought up
    to date from it and swapped in, and it is written once the output is in place.
    """
    root, env = out.root, out.env
    recompiled = _recompiled(env, results)
    # Records still true of the output's files: those of groups not compiled again
    # (a group compiled again may have had its files edited by hand).
    previous = {
        scope_prefix(env, scope) + rel: entry
        for scope in results
        for rel, entry in caches[scope].output.get("files", {}).items()
        if scope_prefix(env, scope) + rel not in recompiled
    }
    made = planned(sealing, compilation, env, results, previous) if sealing is not None else None
    # Files nobody built (added by hand to the output) are not the build's: they go.
    strays = _strays(root, env, results) if incremental else []
    if incremental and not strays and not _changes(root, env, results, caches):
        out.staging.discard()  # nothing to do: the output is already exactly this build
        _keep_spare(out, made)
    elif out.spare is not None and out.held is not None:
        _swap_spare(out, out.spare, made, results, recompiled, strays)
    else:
        _commit(out, made, results, incremental, recompiled, strays)
    for cache in caches.values():
        cache.save()
    if sealing is not None and made is not None:
        seal_build(sealing, made, root)
    return compilation


def _recompiled(env: str | None, results: dict[str | None, ScopeResult]) -> set[str]:
    """The output paths of the groups compiled by this build (every file of a full one)."""
    found: set[str] = set()
    for scope, result in results.items():
        prefix = scope_prefix(env, scope)
        paths = (e["path"] for o in result.outcomes if not o.cached for e in o.entries or [])
        found.update((prefix + rel for rel in paths) if prefix else paths)
    return found


def _keep_spare(out: Out, made: Seal | None) -> None:
    """The output stays: so does the spare, with the record it had (checked by `vouched`)."""
    old, held = out.sealed, out.held
    if made is None or old is None or held is None or out.spare is None:
        return
    if (old.files, old.dirs) != (made.files, made.dirs):
        out.spare.drop()
        return
    made.spare_blob, made.spare, made.spare_dirs = bytes(held), old.spare, old.spare_dirs
    made.spare_extra, made.spare_delta = old.spare_extra, None


def _swap_spare(
    out: Out,
    spare: Spare,
    made: Seal | None,
    results: dict[str | None, ScopeResult],
    recompiled: set[str],
    strays: list[str],
) -> None:
    """Double buffering: the spare (the output before last), into which the workers wrote
    the groups compiled again, gets every other file that differs and is swapped in."""
    from compiler.incremental.spare import advance_to

    root, env = out.root, out.env
    out.staging.discard()
    for scope in results:  # the markers no manifest lists
        folder = scope_root(spare.dir, env, scope)
        folder.mkdir(parents=True, exist_ok=True)
        if marker_wrong(folder):
            ownership.write_marker(folder, "build")
    assert made is not None and out.sealed is not None and out.held is not None
    data = {s.end - 1: results[s.env].manifest or b"" for s in made.scopes}
    written = [i for i, rel in enumerate(made.files) if rel in recompiled]
    if advance_to(made, out.sealed, out.held, root, spare.dir, data, written):
        _clear_strays(spare, made, strays)
        return
    old = swap_in(spare.dir, root)  # (no atomic exchange here after all: the spare goes)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _commit(
    out: Out,
    made: Seal | None,
    results: dict[str | None, ScopeResult],
    incremental: bool,
    recompiled: set[str],
    strays: list[str],
) -> None:
    """A new tree, written in the staging folder, replaces the output; the old output
    becomes the spare when the last build's seal says what it holds."""
    root, env = out.root, out.env
    _write_manifests(out.staging.path, env, results)
    if incremental:
        # Unchanged groups' files join the new tree as hard links to the old ones,
        # so nothing is rendered again.
        for scope, result in results.items():
            kept = [str(e["path"]) for o in result.outcomes if o.cached for e in o.entries or []]
            link_files(scope_root(root, env, scope), scope_root(out.staging.path, env, scope), kept)
    reused = any(o.cached for result in results.values() for o in result.outcomes)
    if made is not None and reused:  # (a new link moved their stat: taken once in place)
        for i, rel in enumerate(made.files):
            if rel not in recompiled:
                made.live[4 * i : 4 * i + 4] = array("q", seal.UNKNOWN)
    spare, old_seal = out.spare, out.sealed
    keep = incremental and spare is not None and made is not None and old_seal is not None
    old = out.staging.commit(keep_old=keep and spare is not None and spare.usable())
    if old is None or spare is None or made is None or old_seal is None:
        if spare is not None:
            spare.drop()
        return
    from compiler.incremental.spare import carried, refresh

    try:
        spare.adopt(old)
    except OSError:  # (the output is in place: only speed is lost)
        shutil.rmtree(old, ignore_errors=True)
        spare.drop()
        return
    blob, stats = carried(old_seal.files, made.files, old_seal.sha_blob, old_seal.live)
    made.spare_blob = bytes(blob)
    # The files linked into the new tree were checked by stat (their groups were not
    # compiled again): their stat moved with the new link, so it is taken again.
    linked = [i for i, rel in enumerate(made.files) if rel not in recompiled and stats[4 * i] != -1]
    made.spare = refresh(stats, made.files, linked, spare.dir)
    _clear_strays(spare, made, strays)


def _clear_strays(spare: Spare, made: Seal, strays: list[str]) -> None:
    """The spare (the old output) loses what the new output lacks, and its folders are
    recorded: from here it holds only paths the seal lists."""
    from compiler.incremental.spare import clear

    try:
        made.spare_dirs = clear(spare.dir, made.dirs, strays)
    except OSError:
        made.spare_blob = made.spare = made.spare_dirs = None
        spare.drop()
        return
    made.spare_extra = []


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

"""What the full pipeline hands the seal, and what it takes back from it.

`record_build` seals what a pipeline build left in the output (and the spare
tree); `outputs_from_seal` and `spare_from_seal` give the pipeline the seal's
records of both, fresher than the per-group cache's after a sealed build.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from array import array
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.incremental import seal
from compiler.incremental.sealing import Sealing
from compiler.pipeline.group import Compilation, scope_prefix
from compiler.pipeline.writer import MANIFEST

if TYPE_CHECKING:
    from compiler.incremental.engine import ScopeResult


def record_build(
    sealing: Sealing,
    compilation: Compilation,
    root: Path,
    env: str | None,
    results: dict[str | None, ScopeResult],
    known: dict[str, list[Any]],
    spare: dict[str, list[Any]] | None,
) -> None:
    """Record what the full pipeline just left in `root`, and in the spare tree.

    A file's stat comes from the worker that wrote it, else from `known`,
    else from a stat call here.
    """
    if sealing.inputs is None:
        seal.discard(sealing.path)
        return
    table = _Table()
    for name, result in results.items():
        table.add_scope(name, scope_prefix(env, name), result, known)
    outcomes = (o for r in results.values() for o in r.outcomes)
    learned = {k: v for o in outcomes for k, v in o.validated.items()}
    kept = sealing.valid if len(sealing.valid) < 200 * len(table.files) else ""  # (bounded)
    from compiler.incremental import libraries

    made = seal.record(
        libs=libraries.watched(),
        spare=_spare_for_seal(table.files, spare),
        folders=table.folders,
        key=sealing.key,
        inputs=sealing.inputs,
        scopes=table.scopes,
        files=table.files,
        shas=table.shas,
        sizes=table.sizes,
        stats=table.stats,
        root=root,
        diagnostics=compilation.diagnostics,
    )
    made.valid = kept + "".join(f"\n{k}\t{v}" for k, v in learned.items())
    if spare is not None:  # its folders, checked (as the output's) before it is used
        _stat_spare_folders(made, sealing.path, root)
    seal.save(sealing.path, made)


class _Table:
    """The seal's columns (path, sha256, size, stat of each file; the folders' stats;
    the scopes), filled scope by scope."""

    def __init__(self) -> None:
        self.scopes: list[seal.Scope] = []
        self.files: list[str] = []
        self.shas: list[str] = []
        self.sizes: list[int] = []
        self.stats: seal.Stats = array("q")  # UNKNOWN where this run did not write the file
        self.folders: dict[str, tuple[int, int, int, int]] = {}

    def add_scope(
        self, name: str | None, prefix: str, result: ScopeResult, known: dict[str, list[Any]]
    ) -> None:
        start = len(self.files)
        names = list(chain.from_iterable(o.folders for o in result.outcomes))
        folder_stats = array("q")
        folder_stats.frombytes(b"".join(o.folder_stats for o in result.outcomes))
        if len(folder_stats) == 4 * len(names):  # (each folder's four numbers, in turn)
            quads = zip(*[iter(folder_stats)] * 4, strict=True)
            keys = [prefix + n for n in names] if prefix else names
            self.folders.update(zip(keys, quads, strict=True))
        paths, entries, scope_stats = _in_path_order(result)
        scope_shas = [str(e["sha256"]) for e in entries]
        sizes_written = scope_stats[0::4]
        if -1 in sizes_written:  # not written this run: the record from before, if it holds
            for k, size in enumerate(sizes_written):
                record = known.get(prefix + paths[k]) if size == -1 else None
                if record is not None and record[4] == scope_shas[k]:
                    scope_stats[4 * k : 4 * k + 4] = array("q", record[:4])
        self.files += [prefix + rel for rel in paths] if prefix else paths
        self.shas += scope_shas
        self.sizes += [int(e["size"]) for e in entries]
        self.stats += scope_stats
        manifest = result.manifest or b""
        self.files.append(prefix + MANIFEST)
        self.shas.append(hashlib.sha256(manifest).hexdigest())
        self.sizes.append(len(manifest))
        self.stats.extend(seal.UNKNOWN)
        slugs = [o.slug for o in result.outcomes]
        digests = seal.blob(o.input_sha for o in result.outcomes)
        end = len(self.files)
        self.scopes.append(
            seal.Scope(name, prefix, slugs, result.inputs_digest, start, end, digests)
        )


def _in_path_order(result: ScopeResult) -> tuple[list[str], list[dict[str, Any]], seal.Stats]:
    """A scope's files (paths, manifest entries, stats as written) sorted by path."""
    unknown = seal.pack_stats([None])
    entries: list[dict[str, Any]] = []
    written: list[bytes] = []
    for outcome in result.outcomes:
        found = outcome.entries or []
        entries += found
        whole = len(outcome.written) == len(unknown) * len(found)
        written.append(outcome.written if whole else unknown * len(found))
    scope_stats = array("q")
    scope_stats.frombytes(b"".join(written))
    paths = [str(e["path"]) for e in entries]
    if any(a > b for a, b in itertools.pairwise(paths)):  # slug order is not path order
        order = sorted(range(len(paths)), key=paths.__getitem__)
        entries = [entries[k] for k in order]
        was = scope_stats
        scope_stats = array("q", chain.from_iterable(was[4 * k : 4 * k + 4] for k in order))
        paths = [paths[k] for k in order]
    return paths, entries, scope_stats


def _stat_spare_folders(made: seal.Seal, seal_file: str, root: Path) -> None:
    """The spare tree's folders' stats in the seal (it forgets the spare if it is gone)."""
    from compiler.incremental.spare import Spare

    tree = Spare(Path(os.path.dirname(seal_file)), root).dir
    try:
        fd = os.open(tree, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        made.spare_blob = made.spare = None
        return
    try:
        made.spare_dirs = seal.stat_paths(made.dirs, fd)
    finally:
        os.close(fd)


def outputs_from_seal(sealed: seal.Seal, root: Path) -> dict[str | None, dict[str, Any]]:
    """Each scope's output record as the per-group cache keeps it, from the seal."""
    shas = seal.hexes(sealed.sha_blob)
    live = sealed.live
    states: dict[str | None, dict[str, Any]] = {}
    for scope in sealed.scopes:
        cut = len(scope.prefix)
        files = {
            sealed.files[i][cut:]: [*live[4 * i : 4 * i + 4], shas[i]]
            for i in range(scope.start, scope.end - 1)
        }
        entries: dict[str, list[dict[str, Any]]] = {}
        for i in range(scope.start, scope.end - 1):
            rel = sealed.files[i][cut:]
            entry = {"path": rel, "sha256": shas[i], "size": sealed.sizes[i]}
            entries.setdefault(rel.split("/", 2)[1], []).append(entry)
        states[scope.env] = {
            "root": str((root / scope.prefix).resolve()),
            "manifest_sha": shas[scope.end - 1],
            "files": files,
            "entries": entries,  # slug -> the manifest's entries for its files
            "digests": dict(zip(scope.slugs, scope.digests, strict=True)),  # ... made from
        }
    return states


def spare_from_seal(sealed: seal.Seal, spare: Any) -> dict[str, list[Any]] | None:
    """The spare tree's record (path -> stat and sha256) as the seal keeps it, if it does."""
    if sealed.spare_blob is None or sealed.spare is None or not spare.dir.is_dir():
        return None
    shas = seal.hexes(sealed.spare_blob)
    stats = sealed.spare
    return {
        rel: [*stats[4 * i : 4 * i + 4], shas[i]]
        for i, rel in enumerate(sealed.files)
        if shas[i] != seal.ABSENT and not rel.endswith(MANIFEST)
    }


def _spare_for_seal(
    files: list[str], record: dict[str, list[Any]] | None
) -> tuple[bytes, seal.Stats, list[str]] | None:
    """The spare's record aligned with the output's files, and what else it holds."""
    if record is None:
        return None
    shas: list[str] = []
    stats: seal.Stats = array("q")
    for rel in files:
        entry = record.get(rel)
        if entry is None:  # not in the spare (a manifest's copy there is always replaced)
            shas.append(seal.ABSENT)
            stats.extend(seal.UNKNOWN)
        else:
            shas.append(str(entry[4]))
            stats.extend(entry[:4])
    wanted = set(files)
    return seal.blob(shas), stats, sorted(rel for rel in record if rel not in wanted)

"""What the full pipeline hands the seal, and what it takes back from it.

`planned` is the seal of what a pipeline build is about to put in the output,
made before the swap (the spare tree is brought up to date from it, see
spare.py) and written by `seal_build` once the output is in place;
`outputs_from_seal` gives the pipeline the seal's record of the output, fresher
than the per-group cache's after a sealed build.
"""

from __future__ import annotations

import hashlib
from array import array
from itertools import chain
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.incremental import seal
from compiler.incremental.sealing import Sealing
from compiler.pipeline.group import Compilation, scope_prefix
from compiler.pipeline.writer import MANIFEST

if TYPE_CHECKING:
    from compiler.incremental.engine import ScopeResult


def planned(
    sealing: Sealing,
    compilation: Compilation,
    env: str | None,
    results: dict[str | None, ScopeResult],
    known: dict[str, list[Any]],
) -> seal.Seal:
    """The seal of what the full pipeline is about to put in the output (before the swap:
    the spare tree is brought up to date from it).

    A file's stat comes from the worker that wrote it, else from `known` (records
    still true of the output), else it is taken once the output is in place
    (`seal_build`).
    """
    table = _Table()
    for name, result in results.items():
        table.add_scope(name, scope_prefix(env, name), result, known)
    outcomes = (o for r in results.values() for o in r.outcomes)
    learned = {k: v for o in outcomes for k, v in o.validated.items()}
    kept = sealing.valid if len(sealing.valid) < 200 * len(table.files) else ""  # (bounded)
    from compiler.incremental import libraries

    made = seal.record(
        libs=libraries.watched(),
        folders=table.folders,
        key=sealing.key,
        inputs=sealing.inputs or ([], array("q"), array("q")),
        scopes=table.scopes,
        files=table.files,
        shas=table.shas,
        sizes=table.sizes,
        stats=table.stats,
        diagnostics=compilation.diagnostics,
    )
    made.valid = kept + "".join(f"\n{k}\t{v}" for k, v in learned.items())
    return made


def seal_build(sealing: Sealing, made: seal.Seal, root: Path) -> None:
    """Write the seal of a build whose output is in place (unless its inputs could not be
    read: then no seal)."""
    if sealing.inputs is None:
        seal.discard(sealing.path)
        return
    seal.fill(made, root)
    seal.save(sealing.path, made)


# Columns of the manifest's entries and of the outcomes, taken in C: 44,000 files at
# 10,000 groups, after the last group is compiled (a comprehension each was ~10 ms).
_PATH, _SHA256, _SIZE = itemgetter("path"), itemgetter("sha256"), itemgetter("size")
_SLUG, _INPUT_SHA = attrgetter("slug"), attrgetter("input_sha")


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
        scope_shas: list[str] = list(map(_SHA256, entries))
        sizes_written = scope_stats[0::4]
        if -1 in sizes_written:  # not written this run: the record from before, if it holds
            for k, size in enumerate(sizes_written):
                record = known.get(prefix + paths[k]) if size == -1 else None
                if record is not None and record[4] == scope_shas[k]:
                    scope_stats[4 * k : 4 * k + 4] = array("q", record[:4])
        self.files += [prefix + rel for rel in paths] if prefix else paths
        self.shas += scope_shas
        self.sizes += map(_SIZE, entries)
        self.stats += scope_stats
        manifest = result.manifest or b""
        self.files.append(prefix + MANIFEST)
        self.shas.append(hashlib.sha256(manifest).hexdigest())
        self.sizes.append(len(manifest))
        self.stats.extend(seal.UNKNOWN)
        slugs: list[str] = list(map(_SLUG, result.outcomes))
        digests = seal.blob(map(_INPUT_SHA, result.outcomes))
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
    paths: list[str] = list(map(_PATH, entries))
    if paths != sorted(paths):  # slug order is not path order
        order = sorted(range(len(paths)), key=paths.__getitem__)
        entries = [entries[k] for k in order]
        was = scope_stats
        scope_stats = array("q", chain.from_iterable(was[4 * k : 4 * k + 4] for k in order))
        paths = [paths[k] for k in order]
    return paths, entries, scope_stats


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

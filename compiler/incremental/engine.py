"""Compile many groups fast: skip what the cache vouches for, spread the rest over cores.

One *scope* is the base build or one environment. For each scope the engine
decides, group by group, whether the cache already holds its result (same key:
same compiler, same group bytes, same shared files). The rest are compiled by
a pool of worker processes, each writing its artifacts straight into the
staging folder (build) or comparing them with the output folder (check), so no
file's bytes cross a process boundary and memory stays flat. Results are
sorted before anything is written, so any number of workers gives the same
bytes as one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler import __version__
from compiler.diagnostics import Diagnostic, finalize
from compiler.incremental.seal import stat_of
from compiler.incremental.workers import (
    PARALLEL_THRESHOLD,
    Outcome,
    Progress,
    WorkerLost,
    compile_paths,
    input_sha,
    start_workers,
    stop_workers,
)
from compiler.load.layers import Layers, aggregate
from compiler.pipeline.writer import (
    Stale,
    inputs_digest,
    manifest_bytes,
)

if TYPE_CHECKING:
    from compiler.incremental.cache import Cache

# What the build imports from here (the pool itself is workers.py).
__all__ = [
    "PARALLEL_THRESHOLD",
    "Outcome",
    "Progress",
    "ScopeResult",
    "WorkerLost",
    "input_sha",
    "list_files",
    "manifest_for",
    "run_scope",
    "start_workers",
    "stat_key",
    "stop_workers",
]


@dataclass(slots=True)
class ScopeResult:
    diagnostics: list[Diagnostic]
    outcomes: list[Outcome]
    manifest: bytes | None
    stale: list[Stale]
    compiled: int
    reused: int
    inputs_digest: str = ""

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    @property
    def groups(self) -> list[str]:
        return sorted(o.slug for o in self.outcomes if o.entries is not None)

    @property
    def file_count(self) -> int:
        return sum(len(o.entries or []) for o in self.outcomes) + (1 if self.manifest else 0)


def _scope_parts(layers: Layers) -> list[str]:
    """What every group of a scope depends on: the environment and its overlay, defaults."""
    return [f"env={layers.env or ''}", *(f"{f}={d}" for f, d in sorted(layers.scope_files()))]


# --- one scope ------------------------------------------------------------------------


def run_scope(
    files_in: list[Path],
    layers: Layers,
    *,
    groups_dir: Path,
    env_dir: Path | None,
    strict: bool,
    render: bool,
    cache: Cache,
    use_hits: bool,
    write_dir: Path | None,
    compare_dir: Path | None,
    jobs: int,
    progress: Progress | None,
    discover_problems: list[Diagnostic],
    verify_root: Path | None = None,
    replace: bool = False,
) -> ScopeResult:
    """Compile one scope: reuse cache hits, compile the rest, then assemble the manifest.

    With `verify_root` (an incremental build), a hit's files there must be as the last build
    left them (by stat): a group whose output was edited or deleted by hand is compiled again.
    """
    scope = _scope_parts(layers)
    outcomes, misses = _reuse_hits(
        files_in, layers, scope, cache, use_hits=use_hits, render=render, verify_root=verify_root
    )
    hits = len(outcomes)
    if progress is not None and files_in:
        progress(hits, len(files_in))
    _forget_gone(cache, files_in)
    compiled = compile_paths(
        misses,
        received=_remembering(cache, scope),
        groups_dir=groups_dir,
        env=layers.env,
        env_dir=env_dir,
        layers=layers,
        render=render,
        write_dir=write_dir,
        compare_dir=compare_dir,
        jobs=jobs,
        progress=progress,
        done_before=hits,
        total=len(files_in),
        replace=replace,
    )
    outcomes.update((o.slug, o) for o in compiled)
    ordered = [outcomes[s] for s in sorted(outcomes)]
    per_group = [(o.slug, o.file, o.diagnostics) for o in ordered]
    diagnostics = [*discover_problems, *layers.diagnostics, *aggregate(per_group, layers)]
    diagnostics = finalize(diagnostics, strict=strict)
    stale = [s for o in ordered for s in o.stale]
    result = ScopeResult(diagnostics, ordered, None, stale, len(compiled), hits)
    if not result.ok or not render:
        return result
    result.inputs_digest, result.manifest = manifest_for(
        (o.slug, o.input_sha, o.entries or []) for o in ordered
    )
    return result


def _reuse_hits(
    files_in: list[Path],
    layers: Layers,
    scope: list[str],
    cache: Cache,
    *,
    use_hits: bool,
    render: bool,
    verify_root: Path | None,
) -> tuple[dict[str, Outcome], list[Path]]:
    """(the groups the cache vouches for, by slug; the paths to compile)."""
    recorded = cache.output.get("files", {}) if verify_root is not None else {}
    from compiler.incremental.cache import keyer  # (workers never need the cache)
    from compiler.pipeline.discovery import display_path

    outcomes: dict[str, Outcome] = {}
    misses: list[Path] = []
    # What each group wrote last time and from which inputs, as the seal records it (the
    # cache keeps no copy): only a group whose inputs are those can reuse those files.
    written_before: dict[str, list[dict[str, Any]]] = cache.output.get("entries", {})
    written_from: dict[str, str] = cache.output.get("digests", {})
    key = keyer(scope) if use_hits and cache.groups else None
    if key is None:  # (a build from clean: nothing to look up, 10,000 names to skip)
        return outcomes, list(files_in)
    for path in files_in:
        display = display_path(path)
        slug = path.name.removesuffix(".yaml")
        entry = cache.groups.get(slug)
        if entry is None:
            misses.append(path)
            continue
        sha = cache.file_sha(path, display)
        digest = input_sha(sha, display, entry.inputs, layers)
        if key(digest) != entry.key or not sha:
            misses.append(path)
            continue
        files = written_before.get(slug) if render and written_from.get(slug) == digest else None
        if render and files is None:
            misses.append(path)
            continue
        if verify_root is not None and not _output_intact(verify_root, files or [], recorded):
            misses.append(path)
            continue
        outcome = Outcome(
            slug,
            display,
            digest,
            entry.inputs,
            entry.diagnostics,
            files,
            cached=True,
        )
        outcomes[slug] = outcome
    return outcomes, misses


def _remembering(cache: Cache, scope: list[str]) -> Callable[[list[Outcome]], None]:
    """Records each chunk of groups just compiled in the cache, as it arrives: while
    the workers compile the rest, not after the last one (10,000 keys take ~40 ms)."""
    from compiler.incremental.cache import Entry, keyer

    key = keyer(scope)
    groups = cache.groups

    def remember(chunk: list[Outcome]) -> None:
        for outcome in chunk:
            entry = Entry(key(outcome.input_sha), outcome.inputs, outcome.diagnostics)
            groups[outcome.slug] = entry

    return remember


def _forget_gone(cache: Cache, files_in: list[Path]) -> None:
    """Forget the groups that are gone from the cache. (Called before the compile, whose
    groups are all present: a build from clean, its cache empty, has nothing to do.)"""
    if not cache.groups:
        return
    present = {p.name.removesuffix(".yaml") for p in files_in}
    for slug in [s for s in cache.groups if s not in present]:
        del cache.groups[slug]


def manifest_for(
    groups: Iterable[tuple[str, str, list[dict[str, Any]]]],
) -> tuple[str, bytes]:
    """(inputsDigest, manifest.json bytes) from each group's slug, input digest and files."""
    entries: list[dict[str, Any]] = []
    pairs: list[tuple[str, str]] = []
    for slug, digest, files in groups:
        entries.extend(files)
        pairs.append((slug, digest))
    digest = inputs_digest(pairs)
    return digest, manifest_bytes(
        entries, compiler=__version__, inputs_digest=digest, groups=[s for s, _ in pairs]
    )


def stat_key(path: Path | str) -> list[int]:
    """seal.stat_of as the cache's JSON records keep it."""
    return list(stat_of(os.stat(path)))


def _output_intact(root: Path, files: list[dict[str, Any]], recorded: dict[str, Any]) -> bool:
    """True when every file of a cached group is still exactly what the last build wrote."""
    base = str(root) + os.sep
    for entry in files:
        rel = str(entry["path"])
        known = recorded.get(rel)
        try:
            if known is None or known != [*stat_key(base + rel), entry["sha256"]]:
                return False
        except OSError:
            return False
    return True


def list_files(root: Path, skip_top: set[str]) -> set[str]:
    """Every file below `root`, relative, leaving out top-level folders in `skip_top`;
    and every folder that holds no file at all, as "<path>/" (top-most only): an empty
    folder the build did not make is as much a stray as a file."""
    found: set[str] = set()
    if not root.is_dir():
        return found
    holding: set[str] = set()  # folders with a file somewhere below
    folders: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
        if rel == ".":
            dirnames[:] = [d for d in dirnames if d not in skip_top]
            found.update(filenames)
            folders += dirnames
            continue
        folders += [f"{rel}/{name}" for name in dirnames]
        if filenames:
            found.update(f"{rel}/{name}" for name in filenames)
            parent = rel
            while parent and parent not in holding:
                holding.add(parent)
                parent = parent.rpartition("/")[0]
    empty = {f for f in folders if f not in holding}
    found.update(
        f"{f}/" for f in empty if f.rpartition("/")[0] not in empty
    )  # (its parent is not itself empty: the top-most one)
    return found

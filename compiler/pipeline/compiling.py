"""Compile every group of every scope without writing an output folder.

`compile_all` is what validate (and the review tools) run; `compile_groups`
streams one environment's files into a sink (`pops diff`); `run_scopes` runs
the incremental engine (compiler.incremental.engine) over each scope, for both
`compile_all` and the build (compiler.pipeline.build).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from compiler.diagnostics import Diagnostic, finalize
from compiler.incremental.cache import Cache, cache_dir_for
from compiler.pipeline import ownership
from compiler.pipeline.discovery import discover, environment_problems
from compiler.pipeline.group import (
    Compilation,
    compile_group,
    default_jobs,
    env_dir_for,
    only_in_environment,
)
from compiler.pipeline.writer import MANIFEST, file_entry

if TYPE_CHECKING:
    from compiler.incremental.engine import Progress, ScopeResult

# The pipeline's modules (YAML, pydantic models, rules, Jinja, the engine) are
# imported inside the functions that run them: a build the seal proves up to date
# never needs them.


P = ParamSpec("P")


R = TypeVar("R")


def gc_paused(run: Callable[P, R]) -> Callable[P, R]:
    """Run without the cycle collector, which then runs once at the end.

    A build allocates millions of short-lived, acyclic objects; each time
    enough pile up, the collector re-scans every long-lived one (the cache,
    the results so far) for nothing. Reference counting still frees them.
    Worker processes forked meanwhile inherit the pause.
    """

    @functools.wraps(run)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return run(*args, **kwargs)
        gc.disable()
        try:
            return run(*args, **kwargs)
        finally:
            gc.enable()

    return paused


class Sink(Protocol):
    def write(self, rel: str, data: bytes) -> None: ...


@dataclass(slots=True)
class _Prefixed:
    """Writes into a sub-folder of another sink (an environment's output)."""

    sink: Sink
    prefix: str

    def write(self, rel: str, data: bytes) -> None:
        self.sink.write(self.prefix + rel, data)


def compile_groups(
    groups_dir: Path,
    paths: Iterable[Path] | None = None,
    *,
    strict: bool = False,
    render: bool = True,
    sink: Sink | None = None,
    env: str | None = None,
    env_dir: Path | None = None,
) -> Compilation:
    """Validate every group of one environment and, when asked, render into `sink`.

    Rendering stops at the first group with an error (validation goes on, so
    every problem is still reported); the caller then throws the sink's output
    away. Files are streamed, never all held in memory.
    """
    from compiler.incremental.engine import input_sha, manifest_for
    from compiler.load.layers import aggregate, load_layers

    files_in, diagnostics = discover(list(paths) if paths else [groups_dir])
    diagnostics += environment_problems(env_dir_for(groups_dir, env_dir))
    layers = load_layers(groups_dir, env, env_dir)
    diagnostics += layers.diagnostics
    known_layer_problems = len(layers.diagnostics)
    rendered: list[tuple[str, str, list[dict[str, Any]]]] = []
    per_group: list[tuple[str, str, list[Diagnostic]]] = []
    clean = not any(d.severity == "error" for d in diagnostics)
    for path in files_in:
        result = compile_group(path, render=render and clean, layers=layers)
        per_group.append((result.slug, result.file, result.diagnostics))
        if strict and result.diagnostics:
            clean = False
        if result.files is None:
            clean = False
            continue
        combined = input_sha(result.source_sha256, result.file, result.inputs, layers)
        rendered.append(
            (result.slug, combined, [file_entry(r, d) for r, d in result.files.items()])
        )
        if sink is not None:
            for rel, data in result.files.items():
                sink.write(rel, data)
    diagnostics += layers.diagnostics[known_layer_problems:]  # bases loaded on first use
    diagnostics += aggregate(per_group, layers)
    compilation = Compilation(finalize(diagnostics, strict=strict))
    if not compilation.ok or not render:
        return compilation
    compilation.groups = sorted(slug for slug, _, _ in rendered)
    compilation.inputs_digest, manifest = manifest_for(rendered)
    if sink is not None:
        sink.write(MANIFEST, manifest)
        sink.write(ownership.MARKER, ownership.marker("build"))  # as the writer leaves it
    compilation.files = sum(len(files) for _, _, files in rendered) + 1
    return compilation


def _combine(results: dict[str | None, ScopeResult], folder: Path) -> Compilation:
    """One Compilation for the base build and its environments.

    A problem the base build already reports is not repeated per environment;
    one that only shows up under an environment says which, unless it sits in
    that environment's own overlay file.
    """
    base = results.get(None)
    diagnostics: list[Diagnostic] = list(base.diagnostics) if base is not None else []
    for name, part in results.items():
        if name is None:
            continue
        if base is None:
            diagnostics += part.diagnostics
        else:
            diagnostics += only_in_environment(base.diagnostics, part.diagnostics, name, folder)
    first = base if base is not None else next(iter(results.values()))
    compilation = Compilation(finalize(diagnostics, strict=False))
    compilation.groups = first.groups
    compilation.files = sum(r.file_count for r in results.values())
    compilation.compiled = sum(r.compiled for r in results.values())
    compilation.reused = sum(r.reused for r in results.values())
    compilation.inputs_digest = first.inputs_digest
    return compilation


def run_scopes(
    groups_dir: Path,
    paths: Iterable[Path] | None,
    *,
    strict: bool,
    render: bool,
    env: str | None,
    env_dir: Path | None,
    jobs: int | None,
    use_cache: bool,
    progress: Progress | None,
    targets: Callable[[str | None], tuple[Path | None, Path | None]],
    use_hits: Callable[[str | None, Cache], bool],
    verify: Callable[[str | None], Path | None] = lambda scope: None,
    caches: dict[str | None, Cache] | None = None,
    replace: bool = False,
) -> tuple[Compilation, dict[str | None, ScopeResult], dict[str | None, Cache]]:
    """Run every scope (the base build and each environment, or just `env`)."""
    from compiler.incremental.engine import run_scope
    from compiler.load.layers import environments, load_layers

    folder = env_dir_for(groups_dir, env_dir)
    scopes: list[str | None] = [env] if env is not None else [None, *environments(folder)]
    files_in, problems = discover(list(paths) if paths else [groups_dir])
    problems += environment_problems(folder)
    cache_dir = cache_dir_for(groups_dir) if use_cache else None
    if caches is None:
        caches = {scope: Cache.load(cache_dir, scope) for scope in scopes}
    results: dict[str | None, ScopeResult] = {}
    for scope in scopes:
        layers = load_layers(groups_dir, scope, folder)
        write_dir, compare_dir = targets(scope)
        results[scope] = run_scope(
            files_in,
            layers,
            groups_dir=groups_dir,
            env_dir=folder,
            strict=strict,
            render=render,
            cache=caches[scope],
            use_hits=use_hits(scope, caches[scope]),
            write_dir=write_dir,
            compare_dir=compare_dir,
            jobs=jobs or default_jobs(),
            progress=progress,
            discover_problems=problems,
            verify_root=verify(scope),
            replace=replace,
        )
        if not results[scope].ok and render:
            break  # nothing will be written; the remaining scopes would only cost time
    return _combine(results, folder), results, caches


@gc_paused
def compile_all(
    groups_dir: Path,
    paths: Iterable[Path] | None = None,
    *,
    strict: bool = False,
    render: bool = True,
    sink: Sink | None = None,
    env: str | None = None,
    env_dir: Path | None = None,
    jobs: int | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> Compilation:
    """The base build plus every environment (or just `env`), as one result.

    With a `sink`, output of environment E goes under `E/` of it (serial, no
    cache: for in-memory callers such as `pops diff`). Without one this only
    validates, using the cache and every core.
    """
    from compiler.load.layers import environments

    folder = env_dir_for(groups_dir, env_dir)
    if sink is None:
        compilation, _, caches = run_scopes(
            groups_dir,
            paths,
            strict=strict,
            render=False,
            env=env,
            env_dir=env_dir,
            jobs=jobs,
            use_cache=use_cache,
            progress=progress,
            targets=lambda scope: (None, None),
            use_hits=lambda scope, cache: True,
        )
        for cache in caches.values():
            cache.save()
        return compilation
    if env is not None:
        return compile_groups(
            groups_dir, paths, strict=strict, render=render, sink=sink, env=env, env_dir=folder
        )
    paths = list(paths) if paths else None
    total = compile_groups(groups_dir, paths, strict=strict, render=render, sink=sink)
    base_diagnostics = list(total.diagnostics)
    for name in environments(folder):
        part = compile_groups(
            groups_dir,
            paths,
            strict=strict,
            render=render and total.ok,
            sink=_Prefixed(sink, f"{name}/"),
            env=name,
            env_dir=folder,
        )
        total.diagnostics += only_in_environment(base_diagnostics, part.diagnostics, name, folder)
        total.files += part.files
    total.diagnostics = finalize(total.diagnostics, strict=False)
    return total

"""The pipeline, one direction: load -> model -> rules -> render -> output.

`compile_groups` does everything but write; `build` and `check_output` are the
two things the CLI (and the publisher) do with its result.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import gc
import hashlib
import itertools
import os
import re
import shutil
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, ParamSpec, Protocol, TypeVar

from compiler.build import ownership
from compiler.build.writer import (
    MANIFEST,
    Staging,
    Stale,
    file_entry,
    inputs_digest,
    link_files,
    patch_manifest,
    swap_in,
)
from compiler.diagnostics import Diagnostic, count, finalize, from_row
from compiler.incremental import seal
from compiler.incremental.cache import Cache, cache_dir_for
from compiler.incremental.integrity import read_bounded

if TYPE_CHECKING:
    from compiler.incremental.engine import Progress, ScopeResult
    from compiler.load.layers import Layers

# The pipeline's modules (YAML, pydantic models, rules, Jinja) are imported inside
# the functions that run it: a build the seal proves up to date never needs them.

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


SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(slots=True)
class GroupResult:
    slug: str
    file: str
    source_sha256: str  # of the group file's own bytes; shared files are added by input_sha
    diagnostics: list[Diagnostic]
    files: dict[str, bytes] | None = None
    inputs: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Compilation:
    """Everything a run of the compiler knows, before anything is written."""

    diagnostics: list[Diagnostic]
    files: int = 0
    groups: list[str] = field(default_factory=list)
    inputs_digest: str = ""
    compiled: int = 0  # groups compiled this run
    reused: int = 0  # groups whose result came from the cache

    @property
    def errors(self) -> int:
        return count(self.diagnostics)[0]

    @property
    def warnings(self) -> int:
        return count(self.diagnostics)[1]

    @property
    def ok(self) -> bool:
        return self.errors == 0


STALE_CODE = "output-stale"
_STALE_MESSAGES = {
    "changed": "differs from what the groups produce",
    "missing": "is missing: the groups produce it",
    "extra": "is not produced by the groups (a removed group's file, or one added by hand)",
}


@dataclass(slots=True)
class CheckReport:
    compilation: Compilation
    stale: list[Stale]

    @property
    def ok(self) -> bool:
        return self.compilation.ok and not self.stale

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.compilation.diagnostics

    def stale_diagnostics(self, shown: str) -> list[Diagnostic]:
        """Each stale file as a whole-file error, for the formats tools read (json,
        github, sarif); `shown` is the output folder as the user named it."""
        return [
            Diagnostic(
                f"{shown}/{item.path}",
                1,
                1,
                "",
                STALE_CODE,
                "error",
                f"{item.reason}: {shown}/{item.path} {_STALE_MESSAGES[item.reason]}; "
                "run `pops build` and commit the result",
            )
            for item in self.stale
        ]


def display_path(path: Path) -> str:
    """How a file is named in diagnostics: relative to the working folder when inside it."""
    text = path.as_posix()
    if path.is_absolute():
        with contextlib.suppress(ValueError):
            text = path.relative_to(Path.cwd()).as_posix()
    return text.removeprefix("./")


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Group files under the given files and folders; anything that looks like a group
    but cannot be read as one (misnamed, a folder, a pipe, a bad symlink) is a diagnostic."""
    from compiler.load.files import check

    found: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if not path.is_dir():
            problem = check(path)
            if problem is None:
                found.append(path)
            else:
                problems.append(problem.diagnostic(display_path(path)))
            continue
        for entry in sorted(os.scandir(path), key=lambda e: e.name):
            name = entry.name
            if name.endswith(".yaml") and name[0] not in "._":
                # d_type says "regular file" without a system call: the common case.
                if entry.is_file(follow_symlinks=False):
                    found.append(path / name)
                elif (problem := check(path / name)) is None:
                    found.append(path / name)  # a symlink to a file in the repository
                else:
                    problems.append(problem.diagnostic(display_path(path / name)))
            elif name[0] != ".":
                problem_ = _not_a_group(path, entry)
                if problem_ is not None:
                    problems.append(problem_)
    return found, problems


def environment_problems(folder: Path) -> list[Diagnostic]:
    """Misnamed files and sub-folders in the environments folder, which are never read."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []  # no environments folder: nothing to say
    found = (_not_a_group(folder, e, "environment files") for e in entries if e.name[0] != ".")
    return [d for d in found if d is not None]


def _not_a_group(
    folder: Path, entry: os.DirEntry[str], what: str = "group files"
) -> Diagnostic | None:
    """A file named almost like a group (`.yml`, `.YAML`) or a sub-folder, which is never
    read: said, so that nobody wonders why their group is not built."""
    name = entry.name
    shown = display_path(folder / name)
    if entry.is_dir():
        if name.startswith("_"):
            return None
        return Diagnostic(
            shown,
            1,
            1,
            "",
            "file-in-subfolder",
            "warning",
            f"`{name}/` is a sub-folder; files in it are not read: {what} live directly "
            f"in {display_path(folder)}/, so move its .yaml files up",
        )
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix == "yaml" or suffix.lower() not in ("yaml", "yml"):
        return None  # (`_name.yaml` is a shared layer: compiler/load/layers.py reads it)
    return Diagnostic(
        shown,
        1,
        1,
        "",
        "file-extension",
        "error",
        f"{what} end in .yaml; this file is not read: rename it to {stem}.yaml",
    )


def slug_problem(path: Path, display: str) -> Diagnostic | None:
    slug = path.name.removesuffix(".yaml")
    if SLUG.fullmatch(slug) and path.name.endswith(".yaml"):
        return None
    suggestion = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-")[:63] or "my-practice"
    return Diagnostic(
        display,
        1,
        1,
        "",
        "slug-invalid",
        "error",
        f"`{slug}` is not a valid group slug (the file name without .yaml): use lowercase "
        f"letters, digits and inner hyphens, at most 63 characters, e.g. {suggestion}.yaml",
    )


class _Stages(NamedTuple):
    layered: Callable[..., bool]
    merge_group: Callable[..., Any]
    read_file: Callable[..., Any]
    load_bytes: Callable[..., Any]
    group_from_document: Callable[..., Any]
    render_group: Callable[..., dict[str, bytes]]
    run_rules: Callable[..., list[Diagnostic]]


@functools.lru_cache(maxsize=1)
def _stages() -> _Stages:
    """The pipeline's functions, imported on first use (an import statement per group
    call costs more than some stages)."""
    from compiler.load.layers import layered, merge_group
    from compiler.load.located import load_bytes, read_file
    from compiler.model.from_document import group_from_document
    from compiler.render import render_group
    from compiler.rules import run_rules

    return _Stages(
        layered, merge_group, read_file, load_bytes, group_from_document, render_group, run_rules
    )


def compile_group(path: Path, *, render: bool = True, layers: Layers | None = None) -> GroupResult:
    """One file through load, (merge), model, rules and, when clean, render."""
    (layered, merge_group, read_file, load_bytes, group_from_document, render_group, run_rules) = (
        _stages()
    )
    display = display_path(path)
    slug = path.name.removesuffix(".yaml")
    problem = slug_problem(path, display)
    diagnostics = [problem] if problem else []
    data, found = read_file(path, display)  # read once: for the loader and the cache key
    doc = None
    if data is not None:
        doc, found = load_bytes(data, display)
    diagnostics += found
    sha = hashlib.sha256(data).hexdigest() if data is not None else ""
    if doc is None:
        return GroupResult(slug, display, sha, diagnostics)
    broken = {tuple(d.path.split(".")) for d in found if d.path}
    inputs = [display]
    if layers is not None and layered(doc, slug, layers):
        merged = merge_group(doc, slug, layers)
        diagnostics += merged.diagnostics
        if merged.diagnostics:
            broken.add(("extends",))
        doc = merged.doc
        inputs = merged.files
    modelled = group_from_document(doc, broken=broken)
    diagnostics += modelled.diagnostics
    if modelled.partial is not None:
        diagnostics += run_rules(modelled.partial, doc, modelled.broken)
    result = GroupResult(slug, display, sha, diagnostics, inputs=inputs)
    group = modelled.group
    if render and group is not None and not any(d.severity == "error" for d in diagnostics):
        result.files = render_group(slug, group)
    return result


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


def env_dir_for(groups_dir: Path, env_dir: Path | None) -> Path:
    """`environments/` beside the groups folder unless told otherwise."""
    return env_dir if env_dir is not None else groups_dir.parent / "environments"


def output_dir(out_dir: Path, env: str | None) -> Path:
    return out_dir / env if env is not None else out_dir


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def _only_in_environment(
    base: list[Diagnostic], found: list[Diagnostic], name: str, folder: Path
) -> list[Diagnostic]:
    """Problems environment `name` adds to the base build's, each saying where it applies.

    One the base build already reports is not repeated; one outside the
    environment's own overlay file gets "(with environment NAME)".
    """
    known = set(base)
    overlay_file = (folder / f"{name}.yaml").as_posix().removeprefix("./")
    return [
        d
        if d.file == overlay_file
        else replace(d, message=f"{d.message} (with environment {name})")
        for d in found
        if d not in known
    ]


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
            diagnostics += _only_in_environment(base.diagnostics, part.diagnostics, name, folder)
    first = base if base is not None else next(iter(results.values()))
    compilation = Compilation(finalize(diagnostics, strict=False))
    compilation.groups = first.groups
    compilation.files = sum(r.file_count for r in results.values())
    compilation.compiled = sum(r.compiled for r in results.values())
    compilation.reused = sum(r.reused for r in results.values())
    compilation.inputs_digest = first.inputs_digest
    return compilation


def _run(
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
        compilation, _, caches = _run(
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
        total.diagnostics += _only_in_environment(base_diagnostics, part.diagnostics, name, folder)
        total.files += part.files
    total.diagnostics = finalize(total.diagnostics, strict=False)
    return total


def _scope_root(root: Path, env: str | None, scope: str | None) -> Path:
    return root if env is not None or scope is None else root / scope


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
        manifest = _scope_root(root, env, scope) / MANIFEST
        if read_bounded(manifest, len(result.manifest or b"")) != (result.manifest or b""):
            return True
        if _marker_wrong(manifest.parent):
            return True
        kept = {str(e["path"]) for o in result.outcomes for e in o.entries or []}
        if set(caches[scope].output.get("files", {})) - kept:
            return True
    return False


def _strays(root: Path, env: str | None, results: dict[str | None, ScopeResult]) -> list[str]:
    """Files in the output that this build does not write (paths under `root`)."""
    from compiler.incremental.engine import list_files

    wanted = {
        _prefix(env, scope) + rel
        for scope, result in results.items()
        for rel in [
            MANIFEST,
            ownership.MARKER,
            *(str(e["path"]) for o in result.outcomes for e in o.entries or []),
        ]
    }
    return sorted(unwanted(list_files(root, set()), wanted))


def unwanted(found: set[str], wanted: set[str]) -> set[str]:
    """What `found` (list_files) holds that nobody wants: not an emptied folder that a
    wanted file goes in (its files are missing; the folder itself is no stray)."""
    extra = found - wanted
    folders = {rel for rel in extra if rel.endswith("/")}
    if folders:
        holding = {rel[: i + 1] for rel in wanted for i, c in enumerate(rel) if c == "/"}
        extra -= folders & holding
    return extra


def _marker_wrong(scope_root: Path) -> bool:
    """The build's marker is missing from `scope_root`, or not its exact bytes."""
    try:
        return (scope_root / ownership.MARKER).read_bytes() != ownership.marker("build")
    except OSError:
        return True


def _remove_strays(tree: Path, strays: list[str]) -> None:
    """Remove the files (and empty folders, "<path>/") nobody built."""
    for rel in strays:
        path = tree / rel
        if rel.endswith("/") and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            continue
        with contextlib.suppress(OSError):
            path.unlink()


def _trusted(cache: Cache, scope_root: Path, *, manifest: bool = True) -> bool:
    """The output folder is as this cache last left it (so unchanged groups need nothing)."""

    state = cache.output
    if not state or state.get("root") != str(scope_root.resolve()):
        return False
    if not manifest:
        return True
    found = read_bounded(scope_root / MANIFEST)  # (a manifest grown huge is not read)
    return found is not None and hashlib.sha256(found).hexdigest() == state.get("manifest_sha")


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
    resume: seal.Sealing | None = None,
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
        sealing = seal.Sealing.begin(groups_dir, folder, root, env, strict)
        sealing.open(root, jobs, locking=True)
    with (
        _render_cache(groups_dir, use_cache),
        _made_for(out_dir if env is not None and new_out else None),
    ):
        if sealing is not None and sealing.sealed is not None:
            done = _sealed_build(sealing, groups_dir, folder, root)
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


@contextlib.contextmanager
def _render_cache(groups_dir: Path, use_cache: bool) -> Iterator[None]:
    """Renderers keep their set-up in .pops-cache/ for the run, and save what they learned."""
    from compiler import render

    render.use_cache(cache_dir_for(groups_dir) if use_cache else None)
    try:
        yield
    finally:
        render.save_cache()


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
    sealing: seal.Sealing | None,
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
        for name, state in _outputs_from_seal(sealed, root).items():
            if name in probe:
                probe[name].output = state
    incremental = use_cache and all(_trusted(probe[s], _scope_root(root, env, s)) for s in scopes)
    if incremental and env is None:
        # An environment that was removed leaves a folder only a full build clears.
        expected = {"groups", MANIFEST, ownership.MARKER, *(s for s in scopes if s is not None)}
        incremental = set(os.listdir(root)) <= expected

    spare = Spare(cache_dir, root) if cache_dir is not None else None
    spare_record = None
    spare_since = 0  # the spare's files recorded before this are trusted by stat
    if spare is not None:
        spare_record = _spare_from_seal(sealed, spare) if sealed is not None else None
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
        return _scope_root(write_root, env, scope), None

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
        compilation, results, caches = _run(
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
            verify=lambda scope: _scope_root(root, env, scope) if incremental else None,
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
                _prefix(env, scope) + str(e["path"])
                for scope, result in results.items()
                for o in result.outcomes
                if not o.cached
                for e in o.entries or []
            }
            if incremental
            else set()
        )
        previous = {
            _prefix(env, scope) + rel: entry
            for scope in results
            for rel, entry in caches[scope].output.get("files", {}).items()
            if _prefix(env, scope) + rel not in recompiled
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
            manifest = _scope_root(write_root, env, scope) / MANIFEST
            manifest.parent.mkdir(parents=True, exist_ok=True)
            temporary = manifest.with_name(".manifest.json.pops-tmp")
            temporary.write_bytes(result.manifest or b"")
            os.replace(temporary, manifest)
            if _marker_wrong(manifest.parent):
                ownership.write_marker(manifest.parent, "build")
        if spare is not None and spare_record is not None:
            wanted = {
                _prefix(env, scope) + str(e["path"]): str(e["sha256"])
                for scope, result in results.items()
                for o in result.outcomes
                for e in o.entries or []
            }
            # Double buffering: bring the spare (the output before last) up to
            # date with only the files that differ, then swap it in.
            # The manifests were just written; the markers were just checked byte for
            # byte or written (see _marker_wrong): neither may be pruned as unknown.
            manifests = {
                _prefix(env, scope) + name
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
                        _scope_root(root, env, scope), _scope_root(staging.path, env, scope), kept
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


def _prefix(env: str | None, scope: str | None) -> str:
    return "" if env is not None or scope is None else f"{scope}/"


def _record_outputs(
    compilation: Compilation,
    root: Path,
    env: str | None,
    results: dict[str | None, ScopeResult],
    caches: dict[str | None, Cache],
    known: dict[str, list[Any]],
    sealing: seal.Sealing | None,
    spare: dict[str, list[Any]] | None,
) -> Compilation:
    """Save the per-group caches and seal what the output folder now holds.

    `known` holds records (by path under the output root) still true for files
    this build did not touch.
    """
    for cache in caches.values():
        cache.save()
    if sealing is not None:
        _seal_pipeline(sealing, compilation, root, env, results, known, spare)
    return compilation


def _seal_pipeline(
    sealing: seal.Sealing,
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
    scopes: list[seal.Scope] = []
    files: list[str] = []
    shas: list[str] = []
    sizes: list[int] = []
    stats: seal.Stats = array("q")  # UNKNOWN where this run did not write the file
    folders: dict[str, tuple[int, int, int, int]] = {}
    unknown = seal.pack_stats([None])
    for name, result in results.items():
        prefix = _prefix(env, name)
        start = len(files)
        entries: list[dict[str, Any]] = []
        written: list[bytes] = []
        names = list(chain.from_iterable(o.folders for o in result.outcomes))
        folder_stats = array("q")
        folder_stats.frombytes(b"".join(o.folder_stats for o in result.outcomes))
        if len(folder_stats) == 4 * len(names):  # (each folder's four numbers, in turn)
            quads = zip(*[iter(folder_stats)] * 4, strict=True)
            keys = [prefix + n for n in names] if prefix else names
            folders.update(zip(keys, quads, strict=True))
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
        scope_shas = [str(e["sha256"]) for e in entries]
        sizes_written = scope_stats[0::4]
        if -1 in sizes_written:  # not written this run: the record from before, if it holds
            for k, size in enumerate(sizes_written):
                record = known.get(prefix + paths[k]) if size == -1 else None
                if record is not None and record[4] == scope_shas[k]:
                    scope_stats[4 * k : 4 * k + 4] = array("q", record[:4])
        files += [prefix + rel for rel in paths] if prefix else paths
        shas += scope_shas
        sizes += [int(e["size"]) for e in entries]
        stats += scope_stats
        manifest = result.manifest or b""
        files.append(prefix + MANIFEST)
        shas.append(hashlib.sha256(manifest).hexdigest())
        sizes.append(len(manifest))
        stats.extend(seal.UNKNOWN)
        slugs = [o.slug for o in result.outcomes]
        digests = seal.blob(o.input_sha for o in result.outcomes)
        scopes.append(
            seal.Scope(name, prefix, slugs, result.inputs_digest, start, len(files), digests)
        )
    outcomes = (o for r in results.values() for o in r.outcomes)
    learned = {k: v for o in outcomes for k, v in o.validated.items()}
    kept = sealing.valid if len(sealing.valid) < 200 * len(files) else ""  # (bounded)
    valid = kept + "".join(f"\n{k}\t{v}" for k, v in learned.items())
    from compiler.incremental import libraries

    made = seal.record(
        libs=libraries.watched(),
        spare=_spare_for_seal(files, spare),
        folders=folders,
        key=sealing.key,
        inputs=sealing.inputs,
        scopes=scopes,
        files=files,
        shas=shas,
        sizes=sizes,
        stats=stats,
        root=root,
        diagnostics=compilation.diagnostics,
    )
    made.valid = valid
    if spare is not None:  # its folders, checked (as the output's) before it is used
        from compiler.incremental.spare import Spare

        tree = Spare(Path(os.path.dirname(sealing.path)), root).dir
        try:
            fd = os.open(tree, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            made.spare_blob = made.spare = None
        else:
            try:
                made.spare_dirs = seal.stat_paths(made.dirs, fd)
            finally:
                os.close(fd)
    seal.save(sealing.path, made)


def _outputs_from_seal(sealed: seal.Seal, root: Path) -> dict[str | None, dict[str, Any]]:
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


def _spare_from_seal(sealed: seal.Seal, spare: Any) -> dict[str, list[Any]] | None:
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


def _from_seal(sealed: seal.Seal, compiled: int) -> Compilation:
    """What a build reports when the seal (and not the pipeline) did the work."""
    first = sealed.scopes[0]
    total = sum(len(s.slugs) for s in sealed.scopes)
    return Compilation(
        [from_row(d) for d in sealed.diagnostics],
        files=len(sealed.files),
        groups=list(first.slugs),
        inputs_digest=first.inputs_digest,
        compiled=compiled,
        reused=total - compiled,
    )


def _sealed_build(
    sealing: seal.Sealing, groups_dir: Path, folder: Path, root: Path
) -> Compilation | None:
    """The build, done from the opened seal: None when the full pipeline must run instead.

    While this process works out what changed (and compiles it), forked
    children stat the output tree on the other core.
    """
    sealed, changes, check = sealing.sealed, sealing.changes, sealing.check
    assert sealed is not None
    try:
        if changes is None or len(changes.groups) > seal.MAX_CHANGED:
            return None
        if not changes.groups:
            return _from_seal(sealed, 0) if sealing.unchanged() else None
        if check is None:
            return None
        from compiler.incremental.spare import Spare, advance

        spare = Spare(cache_dir_for(groups_dir), root)
        # The outputs to children, and the spare tree's stats to one more: this
        # process compiles meanwhile.
        if not seal.complete(sealed):
            return None
        check.offload(spare.dir if _knows_spare(sealed) else None)
        from compiler.incremental import libraries
        from compiler.model import types

        # The libraries as the seal found them (their stats are checked with the outputs).
        libraries.assume(sealed.libs, sealed.lib_stats)
        types.remember(sealed.valid)  # emails and phones checked before need no library
        strict = bool(sealing.key[-1])
        update = _compile_changed(sealed, changes.groups, groups_dir, folder, root, strict)
        sealed.valid += "".join(f"\n{k}\t{v}" for k, v in types.learned().items())
        if not check.intact():
            # Maybe a library moved: nothing keyed on the assumed one may be kept.
            from compiler.render import store

            libraries.forget()
            store.forget()
            types.remember("")  # (verdicts of the libraries the seal knew)
            return None
        if update is None:
            return None
        wanted, sizes, data, diagnostics = update
        seal.discard(sealing.path)
        if not spare.usable():
            return None
        spare.invalidate()  # the pipeline's own record of the spare is about to be wrong
        if data and not advance(sealed, root, spare.dir, wanted, data, check.spare_stats()):
            return None
        sealed.sizes = sizes
        sealed.diagnostics = diagnostics
        if sealing.inputs is not None:
            _, sealed.input_stats, sealed.input_dirs = sealing.inputs
        seal.save(sealing.path, sealed)
    finally:
        sealing.release()
    return _from_seal(sealed, len(changes.groups) * len(sealed.scopes))


def _knows_spare(sealed: seal.Seal) -> bool:
    """The seal records a spare tree (whose files are checked before it is used)."""
    return sealed.spare_dirs is not None and sealed.spare is not None


def _compile_changed(
    sealed: seal.Seal,
    slugs: list[str],
    groups_dir: Path,
    folder: Path,
    root: Path,
    strict: bool,
) -> tuple[bytearray, list[int], dict[int, bytes], list[tuple[Any, ...]]] | None:
    """Each output's sha256 (raw, 32 bytes each) and size after compiling the changed
    groups, the new bytes of the files that differ (by index in sealed.files), and
    the build's diagnostics (as the seal keeps them).

    None unless every changed group compiles in every scope with at most warnings in
    its own file (without `strict`) and writes the same files as before (so the
    seal's layout still holds). The scopes' digests and manifests' records are
    updated in place.
    """
    from compiler.incremental.engine import input_sha
    from compiler.load.layers import load_layers

    wanted = bytearray(sealed.sha_blob)
    sizes = list(sealed.sizes)
    data: dict[int, bytes] = {}
    found: dict[str, dict[str | None, list[Diagnostic]]] = {}  # file -> scope -> its own
    for scope in sealed.scopes:
        # (The bases are as the seal found them, clean: only those these groups name.)
        layers = load_layers(groups_dir, scope.env, folder, every_base=False)
        digests = scope.digests
        cut = len(scope.prefix)
        changed: dict[str, tuple[str, int]] = {}  # for the manifest
        for slug in slugs:
            position = bisect.bisect_left(scope.slugs, slug)
            if position == len(scope.slugs) or scope.slugs[position] != slug:
                return None
            result = compile_group(groups_dir / f"{slug}.yaml", layers=layers)
            if result.files is None or layers.diagnostics:
                return None
            if result.diagnostics and (strict or not _own_warnings(result)):
                return None  # (a problem in a shared file is merged across groups)
            found.setdefault(result.file, {})[scope.env] = result.diagnostics
            lo, hi = seal.group_range(sealed, scope, slug)
            if [scope.prefix + rel for rel in result.files] != sealed.files[lo:hi]:
                return None
            for i, content in zip(range(lo, hi), result.files.values(), strict=True):
                sha = hashlib.sha256(content).digest()
                if sha != wanted[32 * i : 32 * i + 32]:
                    wanted[32 * i : 32 * i + 32], sizes[i], data[i] = sha, len(content), content
                    changed[sealed.files[i][cut:]] = (sha.hex(), len(content))
            digests[position] = input_sha(result.source_sha256, result.file, result.inputs, layers)
        scope.inputs_digest = inputs_digest(zip(scope.slugs, digests, strict=True))
        scope.digest_blob = seal.blob(digests)
        at = scope.end - 1
        old = read_bounded(root / sealed.files[at], sealed.sizes[at])
        if old is None:
            return None
        manifest = patch_manifest(old, scope.inputs_digest, changed)
        if manifest is None:
            return None
        wanted[32 * at : 32 * at + 32] = hashlib.sha256(manifest).digest()
        sizes[at], data[at] = len(manifest), manifest
    diagnostics = _merged_diagnostics(sealed.diagnostics, found, folder)
    if diagnostics is None:
        return None
    return wanted, sizes, data, diagnostics


def _own_warnings(result: GroupResult) -> bool:
    """Every problem of this group is a warning in its own file: one that a full build
    reports as it is, apart from every other group's."""
    return all(d.severity == "warning" and d.file == result.file for d in result.diagnostics)


def _merged_diagnostics(
    rows: list[tuple[Any, ...]],
    found: dict[str, dict[str | None, list[Diagnostic]]],
    folder: Path,
) -> list[tuple[Any, ...]] | None:
    """The build's diagnostics (as rows) once the changed groups' own are replaced by
    `found` (group file -> scope -> its diagnostics there), combined across scopes as
    the full pipeline combines them (`_combine`). None when a kept diagnostic involves
    a changed group (a problem in a shared file that names it): the pipeline decides.
    """
    from compiler.diagnostics import to_row

    kept: list[Diagnostic] = []
    for row in rows:
        d = from_row(row)
        if d.file in found:
            continue
        if any(r.file in found for r in d.related):
            return None
        kept.append(d)
    for scopes in found.values():
        if None not in scopes:  # (`--env NAME`: that environment alone, as it is)
            kept += [d for part in scopes.values() for d in part]
            continue
        base = finalize(scopes[None], strict=False)
        kept += base
        for name, part in scopes.items():
            if name is not None:
                kept += _only_in_environment(base, finalize(part, strict=False), name, folder)
    return [to_row(d) for d in finalize(kept, strict=False)]


@gc_paused
def check_output(
    groups_dir: Path,
    out_dir: Path,
    *,
    strict: bool = False,
    env: str | None = None,
    env_dir: Path | None = None,
    jobs: int | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
    resume: seal.Sealing | None = None,
) -> CheckReport:
    """What `build` would change in the output; writes nothing to it.

    Groups the cache vouches for are checked by the size and mtime of their
    files (and by hash where those moved); the rest are rendered and compared
    byte for byte. `resume`: as for `build`.
    """
    root = output_dir(out_dir, env)
    if use_cache:
        sealing = resume
        if sealing is None:
            folder = env_dir_for(groups_dir, env_dir)
            sealing = seal.Sealing.begin(groups_dir, folder, root, env, strict)
            sealing.open(root, jobs, locking=False)
        try:
            if sealing.unchanged():
                assert sealing.sealed is not None
                return CheckReport(_from_seal(sealing.sealed, 0), [])
        finally:
            sealing.release()
    with _render_cache(groups_dir, use_cache):
        return _check_output(groups_dir, out_dir, strict, env, env_dir, jobs, use_cache, progress)


def _check_output(
    groups_dir: Path,
    out_dir: Path,
    strict: bool,
    env: str | None,
    env_dir: Path | None,
    jobs: int | None,
    use_cache: bool,
    progress: Progress | None,
) -> CheckReport:
    root = output_dir(out_dir, env)
    folder = env_dir_for(groups_dir, env_dir)
    from compiler.incremental.engine import list_files
    from compiler.load.layers import environments

    envs = set(environments(folder)) if env is None else set()

    def targets(scope: str | None) -> tuple[Path | None, Path | None]:
        return None, _scope_root(root, env, scope)

    compilation, results, caches = _run(
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
        use_hits=lambda scope, cache: _trusted(
            cache, _scope_root(root, env, scope), manifest=False
        ),
    )
    for cache in caches.values():
        cache.save()
    if not compilation.ok:
        return CheckReport(compilation, [])
    stale: list[Stale] = []
    for scope, result in results.items():
        prefix = "" if env is not None or scope is None else f"{scope}/"
        scope_root = _scope_root(root, env, scope)
        recorded = caches[scope].output.get("files", {})
        expected: set[str] = {MANIFEST, ownership.MARKER}
        found = list_files(scope_root, envs if scope is None else set())
        for outcome in result.outcomes:
            for entry in outcome.entries or []:
                rel = str(entry["path"])
                expected.add(rel)
                if outcome.cached:
                    reason = _verify(scope_root / rel, entry, recorded.get(rel))
                    if reason is not None:
                        stale.append(Stale(prefix + rel, reason))
            stale += [Stale(prefix + s.path, s.reason) for s in outcome.stale]
        manifest = scope_root / MANIFEST
        if not manifest.is_file():
            stale.append(Stale(prefix + MANIFEST, "missing"))
        elif read_bounded(manifest, len(result.manifest or b"")) != result.manifest:
            stale.append(Stale(prefix + MANIFEST, "changed"))
        if not (scope_root / ownership.MARKER).is_file():
            stale.append(Stale(prefix + ownership.MARKER, "missing"))
        elif _marker_wrong(scope_root):
            stale.append(Stale(prefix + ownership.MARKER, "changed"))
        stale += [Stale(prefix + rel, "extra") for rel in sorted(unwanted(found, expected))]
    stale.sort(key=lambda s: s.path)
    return CheckReport(compilation, stale)


def _verify(
    path: Path, entry: dict[str, Any], recorded: list[Any] | None
) -> Literal["changed", "missing"] | None:
    """None when `path` still holds the entry's bytes; else why not."""
    from compiler.incremental.engine import stat_key
    from compiler.load.layers import sha_file

    try:
        key = stat_key(path)
    except FileNotFoundError:
        return "missing"
    if recorded is not None and recorded == [*key, entry["sha256"]]:
        return None
    if key[0] != entry["size"] or sha_file(path) != entry["sha256"]:
        return "changed"
    return None


# What each code this module reports means and how to fix it (see compiler.codes).
CODES: dict[str, tuple[str, str]] = {
    "file-in-subfolder": (
        "The groups folder has a sub-folder, whose files are never read.",
        "Groups live directly in the groups folder: move the .yaml files up, or the folder out.",
    ),
    "file-extension": (
        "A file in the groups folder ends in .yml, so it is not read.",
        "Rename it to end in .yaml.",
    ),
    "slug-invalid": (
        "A group file's name is not a valid slug.",
        "Use lowercase letters, digits and inner hyphens, at most 63 characters, e.g. "
        "sunrise-pediatrics.yaml.",
    ),
    STALE_CODE: (
        "A file in the output folder differs from what the groups produce (`build --check`).",
        "Run `pops build` and commit the result.",
    ),
}

"""Compile the groups of both sides of a `pops diff` over every core.

Each worker loads the working tree's layers and the base's once, then takes
chunks of groups; for each it compiles the side(s) asked for and sends back
what the comparison reads: diagnostics, the files' sha256, `config.json`'s
bytes, the shared files it read and its input digest. No other file's bytes
cross the process boundary. Results are keyed by slug, so any number of
workers gives the same report as one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic
from compiler.load.layers import Layers, load_layers

# Below this many groups to compile, a process pool costs more than it saves.
PARALLEL_THRESHOLD = 200
CHUNK = 64


@dataclass(frozen=True, slots=True)
class Scope:
    """Where one side's layers come from, and the group files it holds in memory.

    `held`: group file path -> bytes, for a base read from git: its group files are
    not written out (forked workers inherit them); its shared files are.
    """

    groups_dir: str
    env: str | None
    env_dir: str
    held: dict[str, bytes] = field(default_factory=dict, compare=False)

    def layers(self) -> Layers:
        layers = load_layers(Path(self.groups_dir), self.env, Path(self.env_dir))
        layers.held_groups(Path(path).name.removesuffix(".yaml") for path in self.held)
        return layers


@dataclass(frozen=True, slots=True)
class Task:
    """One group: its file on each side that must be compiled (None: not needed)."""

    slug: str
    head: str | None
    base: str | None


@dataclass(slots=True)
class Outcome:
    """One group on one side, as the comparison needs it."""

    diagnostics: list[Diagnostic]
    inputs: list[str]
    input_sha: str
    digests: dict[str, str] | None
    config: bytes | None
    files: dict[str, bytes] | None = None  # every file's bytes, only when asked (pops preview)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            Outcome,
            (self.diagnostics, self.inputs, self.input_sha, self.digests, self.config, self.files),
        )


# slug, head, base, and what `finish` made of them (None without one)
Result = tuple[str, Outcome | None, Outcome | None, Any]
# Called in the worker with each group's outcomes (files kept) as soon as they are made:
# `pops preview` compares and draws the group there, and drops the files it shipped.
Finish = Callable[[str, Outcome | None, Outcome | None], Any]
Progress = Callable[[int, int], None]

_LAYERS: dict[str, Layers] = {}
_HELD: dict[str, bytes] = {}  # the base's group files held in memory (`Scope.held`)
_KEEP: list[bool] = [False]  # whether outcomes carry every file's bytes (set in each worker)
_FINISH: list[Finish | None] = [None]


def _init(head: Scope, base: Scope, keep: bool = False, finish: Finish | None = None) -> None:
    import gc

    gc.disable()  # (short-lived workers: as the build's, see pipeline.gc_paused)
    _LAYERS["head"], _LAYERS["base"] = head.layers(), base.layers()
    _HELD.update(base.held)
    _KEEP[0] = keep
    _FINISH[0] = finish


def compile_one(
    path: str, slug: str, layers: Layers, keep: bool = False, data: bytes | None = None
) -> Outcome:
    """One group file through the build's pipeline; its files' bytes kept only with `keep`.

    `data`: the file's bytes, when held in memory (not read from `path`).
    """
    from compiler.incremental.engine import input_sha
    from compiler.pipeline.group import compile_group
    from compiler.render.digests import sha256_hex

    result = compile_group(Path(path), layers=layers, data=data)
    digests = config = None
    if result.files is not None:
        digests = {rel: sha256_hex(data) for rel, data in result.files.items()}
        config = result.files.get(f"groups/{slug}/config.json")
    digest = input_sha(result.source_sha256, result.file, result.inputs, layers)
    files = result.files if keep else None
    return Outcome(result.diagnostics, result.inputs, digest, digests, config, files)


def _chunk(
    tasks: list[Task],
    head: Layers | None = None,
    base: Layers | None = None,
    keep: bool | None = None,
    finish: Finish | None = None,
    held: dict[str, bytes] | None = None,
) -> list[Result]:
    head = head if head is not None else _LAYERS["head"]
    held = held if held is not None else _HELD
    base = base if base is not None else _LAYERS["base"]
    keep = keep if keep is not None else _KEEP[0]
    finish = finish if finish is not None else _FINISH[0]
    out: list[Result] = []
    for task in tasks:
        theirs = compile_one(task.head, task.slug, head, keep) if task.head is not None else None
        ours = (
            compile_one(task.base, task.slug, base, keep, held.get(task.base))
            if task.base is not None
            else None
        )
        done = finish(task.slug, theirs, ours) if finish is not None else None
        out.append((task.slug, theirs, ours, done))
    return out


def _chunks(items: list[Task], size: int) -> Iterator[list[Task]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def compile_tasks(
    tasks: list[Task],
    head: Scope,
    base: Scope,
    jobs: int,
    *,
    keep: bool = False,
    finish: Finish | None = None,
    progress: Progress | None = None,
) -> dict[str, Result]:
    """Every task's outcomes by slug, in worker processes when there are enough of them.

    With `keep`, each outcome also carries its files' bytes (what a preview draws).
    `finish` is called on each group where it was compiled (see `Finish`);
    `progress` gets (groups done, groups) as chunks come back.
    """
    work = sum((t.head is not None) + (t.base is not None) for t in tasks)
    results: dict[str, Result] = {}
    if jobs <= 1 or work < PARALLEL_THRESHOLD:
        head_layers, base_layers = head.layers(), base.layers()
        for part in _chunks(tasks, CHUNK):
            done = _chunk(part, head_layers, base_layers, keep, finish, base.held)
            results.update((r[0], r) for r in done)
            if progress is not None:
                progress(len(results), len(tasks))
        return results
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_all_start_methods, get_context

    from compiler.incremental.engine import WorkerLost

    context = get_context("fork") if "fork" in get_all_start_methods() else None
    size = max(8, min(CHUNK, len(tasks) // (jobs * 8) or 8))
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(jobs, context, _init, (head, base, keep, finish)) as pool:
            for done in pool.map(_chunk, _chunks(tasks, size)):
                results.update((r[0], r) for r in done)
                if progress is not None:
                    progress(len(results), len(tasks))
    except BrokenProcessPool:
        raise WorkerLost from None
    return results


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)

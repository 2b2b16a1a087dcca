"""One group through the pipeline, and what a run finds and reports about the folders.

`compile_group` takes one file through load, (merge), model, rules and render;
`discover` finds the group files (and says what looks like one but is not read).
The types a run returns (`GroupResult`, `Compilation`) live here, below both the
build (compiler.pipeline.build) and the incremental engine (compiler.incremental),
which each use them.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from compiler.diagnostics import Diagnostic, count
from compiler.pipeline.discovery import display_path, slug_problem

if TYPE_CHECKING:
    from compiler.load.layers import Layers


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


class Stages(NamedTuple):
    layered: Callable[..., bool]
    merge_group: Callable[..., Any]
    read_file: Callable[..., Any]
    load_bytes: Callable[..., Any]
    group_from_document: Callable[..., Any]
    render_group: Callable[..., dict[str, bytes]]
    run_rules: Callable[..., list[Diagnostic]]


@functools.lru_cache(maxsize=1)
def stages() -> Stages:
    """The pipeline's functions, imported on first use (an import statement per group
    call costs more than some stages)."""
    from compiler.load.layers import layered, merge_group
    from compiler.load.located import load_bytes, read_file
    from compiler.model.from_document import group_from_document
    from compiler.render import render_group
    from compiler.rules import run_rules

    return Stages(
        layered, merge_group, read_file, load_bytes, group_from_document, render_group, run_rules
    )


def compile_group(
    path: Path, *, render: bool = True, layers: Layers | None = None, data: bytes | None = None
) -> GroupResult:
    """One file through load, (merge), model, rules and, when clean, render.

    `data`: the file's bytes when the caller holds them (a base side read from git),
    so the file is not read.
    """
    (layered, merge_group, read_file, load_bytes, group_from_document, render_group, run_rules) = (
        stages()
    )
    display = display_path(path)
    slug = path.name.removesuffix(".yaml")
    problem = slug_problem(path, display)
    diagnostics = [problem] if problem else []
    found: list[Diagnostic] = []
    if data is None:
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


def env_dir_for(groups_dir: Path, env_dir: Path | None) -> Path:
    """`environments/` beside the groups folder unless told otherwise."""
    return env_dir if env_dir is not None else groups_dir.parent / "environments"


def output_dir(out_dir: Path, env: str | None) -> Path:
    return out_dir / env if env is not None else out_dir


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def only_in_environment(
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


def scope_root(root: Path, env: str | None, scope: str | None) -> Path:
    return root if env is not None or scope is None else root / scope


def scope_prefix(env: str | None, scope: str | None) -> str:
    return "" if env is not None or scope is None else f"{scope}/"

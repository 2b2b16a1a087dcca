"""The pipeline, one direction: load -> model -> rules -> render -> output.

`compile_groups` does everything but write; `build` and `check_output` are the
two things the CLI (and the publisher) do with its result.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from compiler import __version__
from compiler.diagnostics import Diagnostic, count, finalize
from compiler.layers import Layers, aggregate, environments, layered, load_layers, merge_group
from compiler.load import load_file
from compiler.model.from_document import group_from_document
from compiler.output import MANIFEST, Comparison, Staging, Stale, file_entry, manifest_bytes
from compiler.render import render_group
from compiler.rules import run_rules

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(slots=True)
class GroupResult:
    slug: str
    file: str
    source_sha256: str
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

    @property
    def errors(self) -> int:
        return count(self.diagnostics)[0]

    @property
    def warnings(self) -> int:
        return count(self.diagnostics)[1]

    @property
    def ok(self) -> bool:
        return self.errors == 0


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


def _display(path: Path) -> str:
    text = path.as_posix()
    if path.is_absolute():
        with contextlib.suppress(ValueError):
            text = path.relative_to(Path.cwd()).as_posix()
    return text.removeprefix("./")


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Group files under the given files and folders; misnamed ones are diagnostics."""
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        for entry in sorted(os.scandir(path), key=lambda e: e.name):
            name = entry.name
            if name.startswith((".", "_")) or not entry.is_file():
                continue
            if name.endswith(".yaml"):
                found.append(path / name)
            elif name.endswith(".yml"):
                problems.append(
                    Diagnostic(
                        _display(path / name),
                        1,
                        1,
                        "",
                        "file-extension",
                        "error",
                        f"group files end in .yaml; this file is not read: rename it to "
                        f"{name[:-4]}.yaml",
                    )
                )
    return found, problems


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


def compile_group(path: Path, *, render: bool = True, layers: Layers | None = None) -> GroupResult:
    """One file through load, (merge), model, rules and, when clean, render."""
    display = _display(path)
    slug = path.name.removesuffix(".yaml")
    problem = slug_problem(path, display)
    diagnostics = [problem] if problem else []
    doc, found = load_file(path, display)
    diagnostics += found
    sha = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
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
        digests = [layers.file_digests.get(f, "") for f in inputs if f != display]
        sha = hashlib.sha256("\n".join([sha, *digests]).encode()).hexdigest()
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
    files_in, diagnostics = discover(list(paths) if paths else [groups_dir])
    layers = load_layers(groups_dir, env, env_dir)
    diagnostics += layers.diagnostics
    known_layer_problems = len(layers.diagnostics)
    digest = hashlib.sha256()
    entries: list[dict[str, str | int]] = []
    slugs: list[str] = []
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
        slugs.append(result.slug)
        digest.update(f"{result.slug}.yaml\0{result.source_sha256}\n".encode())
        for rel, data in result.files.items():
            entries.append(file_entry(rel, data))
            if sink is not None:
                sink.write(rel, data)
    diagnostics += layers.diagnostics[known_layer_problems:]  # bases loaded on first use
    diagnostics += aggregate(per_group, layers)
    compilation = Compilation(finalize(diagnostics, strict=strict))
    if not compilation.ok or not render:
        return compilation
    compilation.groups = sorted(slugs)
    compilation.inputs_digest = digest.hexdigest()
    manifest = manifest_bytes(
        entries,
        compiler=__version__,
        inputs_digest=compilation.inputs_digest,
        groups=compilation.groups,
    )
    if sink is not None:
        sink.write(MANIFEST, manifest)
    compilation.files = len(entries) + 1
    return compilation


def env_dir_for(groups_dir: Path, env_dir: Path | None) -> Path:
    """`environments/` beside the groups folder unless told otherwise."""
    return env_dir if env_dir is not None else groups_dir.parent / "environments"


def compile_all(
    groups_dir: Path,
    paths: Iterable[Path] | None = None,
    *,
    strict: bool = False,
    render: bool = True,
    sink: Sink | None = None,
    env: str | None = None,
    env_dir: Path | None = None,
) -> Compilation:
    """The base build plus every environment (or just `env`), as one result.

    Output of environment E goes under `E/` of the sink when all are built.
    A problem that only shows up under an environment says which one.
    """
    folder = env_dir_for(groups_dir, env_dir)
    if env is not None:
        return compile_groups(
            groups_dir, paths, strict=strict, render=render, sink=sink, env=env, env_dir=folder
        )
    paths = list(paths) if paths else None
    total = compile_groups(groups_dir, paths, strict=strict, render=render, sink=sink)
    known = set(total.diagnostics)
    for name in environments(folder):
        part = compile_groups(
            groups_dir,
            paths,
            strict=strict,
            render=render and total.ok,
            sink=_Prefixed(sink, f"{name}/") if sink is not None else None,
            env=name,
            env_dir=folder,
        )
        overlay_file = (folder / f"{name}.yaml").as_posix().removeprefix("./")
        for d in part.diagnostics:
            if d in known:
                continue
            if d.file != overlay_file:
                d = replace(d, message=f"{d.message} (with environment {name})")
            total.diagnostics.append(d)
        total.files += part.files
    total.diagnostics = finalize(total.diagnostics, strict=False)
    return total


def output_dir(out_dir: Path, env: str | None) -> Path:
    return out_dir / env if env is not None else out_dir


def build(
    groups_dir: Path,
    out_dir: Path,
    *,
    strict: bool = False,
    env: str | None = None,
    env_dir: Path | None = None,
) -> Compilation:
    """Compile and, only when every group is clean, replace the output whole.

    Without `env`, the output holds the base build and one folder per
    environment; with it, only that environment's folder is replaced.
    """
    staging = Staging(output_dir(out_dir, env))
    try:
        compilation = compile_all(groups_dir, strict=strict, sink=staging, env=env, env_dir=env_dir)
        if compilation.ok:
            staging.commit()
        else:
            staging.discard()
    except BaseException:
        staging.discard()
        raise
    return compilation


def check_output(
    groups_dir: Path,
    out_dir: Path,
    *,
    strict: bool = False,
    env: str | None = None,
    env_dir: Path | None = None,
) -> CheckReport:
    """What `build` would change in the output; writes nothing."""
    comparison = Comparison(output_dir(out_dir, env))
    compilation = compile_all(groups_dir, strict=strict, sink=comparison, env=env, env_dir=env_dir)
    stale = comparison.result() if compilation.ok else []
    return CheckReport(compilation, stale)

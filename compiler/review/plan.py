"""`pops diff` at fleet scale: both sides compiled once, only where they can differ.

The naive comparison (`compile_side` and `compile_base`, then
`shared_changes`) builds every group on both sides, holds every file's bytes,
and for each changed shared file builds the working tree once more. With one
line of `_defaults.yaml` changed in a repository of ten thousand groups, that
is several times a full build. Here:

* the base's files come out of git in one `git cat-file --batch`;
* the working tree comes from the last `pops build` when its seal shows that
  `dist/` is exactly what the sources produce (the sha256 of every file, and
  `config.json` read only for the groups compared); otherwise it is compiled;
* a group is compiled at the base only when its result can differ there: its
  own file changed, or a shared file changed (when only group files changed,
  an unchanged group is the same on both sides and is not compiled at all);
* both sides' compilations are spread over every core (`compiler.review.workers`);
* when one shared file of the compared build changed and nothing else shared,
  the base build *is* "the working tree with only that file put back" for
  every group whose own file did not change, so `shared_changes` compiles
  nothing more for them.

The report is the naive one, byte for byte: tests/test_diff_scale.py holds the
two to that on random repositories.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from compiler.diagnostics import Diagnostic
from compiler.load.files import MAX_BYTES, read_all
from compiler.pipeline.compiling import gc_paused
from compiler.pipeline.discovery import discover, environment_problems
from compiler.pipeline.group import env_dir_for
from compiler.review.diff import DiffReport, GroupChange, compare
from compiler.review.gitrefs import Base, read_folders, write_blobs
from compiler.review.shared import Known, shared_changes
from compiler.review.sides import (
    Built,
    SharedFile,
    SharedKind,
    Shown,
    Side,
    base_folders,
    compile_side,
    read_source,
    shared_files,
)
from compiler.review.workers import (
    Finish,
    Outcome,
    Progress,
    Scope,
    Task,
    compile_tasks,
    default_jobs,
)

ARTIFACT_MAX = 1 << 30  # bytes: no artifact comes near; a bound all the same
OUT_DIR = Path("dist")  # where `pops build` writes by default: the build the seal vouches for


@dataclass(slots=True)
class Sealed:
    """A group as the last build left it in the output folder."""

    input_sha: str
    digests: dict[str, str]
    config_path: Path


@dataclass(slots=True)
class Plan:
    before: Side | None
    after: Side
    report: DiffReport | None  # None when the working tree does not build
    finished: dict[str, Finished] = field(default_factory=dict)  # slug -> what `finish` gave


class Finished(Protocol):
    """What a `Finish` gives for a group of the same slug on both sides (None otherwise)."""

    change: GroupChange | None  # as `compare_group` finds it


# Given both sides' sources and the groups taken from the seal, the `Finish` the
# workers call on each group (`pops preview` draws its pages there).
FinishWith = Callable[["Sources", "Sources", "dict[str, Sealed] | None"], Finish]


def head_from_seal(
    groups_dir: Path, env_dir: Path, env: str | None, out_dir: Path = OUT_DIR
) -> dict[str, Sealed] | None:
    """Every group of the working tree as `out_dir` holds it, if the seal vouches for it all.

    None when there is no seal for these folders, or any input or output moved
    since it was written (the working tree is then compiled instead).
    """
    from compiler.incremental import seal
    from compiler.incremental.sealing import Sealing

    if not out_dir.is_dir() or not groups_dir.is_dir():
        return None
    sealing = Sealing.begin(groups_dir, env_dir, out_dir, None, False)
    try:
        if not sealing.open(out_dir, 1, locking=False) or not sealing.unchanged():
            return None
        sealed = sealing.sealed
        if sealed is None or not seal.complete(sealed):
            return None
        scope = next((s for s in sealed.scopes if s.env == env), None)
        if scope is None or len(scope.digests) != len(scope.slugs):
            return None
        root = str(out_dir / scope.prefix if scope.prefix else out_dir)
        found: dict[str, Sealed] = {}
        for slug, digest in zip(scope.slugs, scope.digests, strict=True):
            lo, hi = seal.group_range(sealed, scope, slug)
            names = [name.removeprefix(scope.prefix) for name in sealed.files[lo:hi]]
            shas = [sealed.sha_blob[32 * i : 32 * i + 32].hex() for i in range(lo, hi)]
            config = Path(os.path.join(root, "groups", slug, "config.json"))  # (one Path, not 3)
            found[slug] = Sealed(digest, dict(zip(names, shas, strict=True)), config)
        return found
    finally:
        sealing.release()


def sealed_files(built: Built) -> dict[str, bytes] | None:
    """A group taken from the seal: its files' bytes, read from the output folder."""
    if built.files is not None or built.digests is None or built.config_path is None:
        return built.files
    root = str(built.config_path.parents[2])  # <out>/groups/<slug>/config.json
    # (one open, fstat and read each: a fleet-wide preview reads sixty thousand of them)
    return {rel: read_all(os.path.join(root, rel), ARTIFACT_MAX) for rel in built.digests}


def _errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


def _token(outcomes: dict[str, tuple[str, dict[str, str]]]) -> bytes:
    """Stands for the manifest: equal exactly when the manifests' bytes would be.

    (A manifest lists each group's slug and input digest and every file's sha256.)
    """
    digest = hashlib.sha256()
    for slug in sorted(outcomes):
        input_sha, files = outcomes[slug]
        digest.update(f"{slug}\0{input_sha}\0{sorted(files.items())}\n".encode())
    return digest.digest()


def _in_scope(
    shared: dict[tuple[SharedKind, str], SharedFile], env: str | None
) -> dict[tuple[SharedKind, str], bytes]:
    """The shared files one build reads: defaults, bases and its own overlay."""
    return {
        key: item.data
        for key, item in shared.items()
        if key[0] != "environment" or key[1] == f"{env}.yaml"
    }


@dataclass(slots=True)
class Sources:
    """One side's sources: its folders, group files and shared files."""

    groups_dir: Path
    env: str | None
    env_dir: Path
    shown: Shown
    paths: dict[str, Path]
    sources: dict[str, bytes]
    problems: list[Diagnostic]
    shared: dict[tuple[SharedKind, str], SharedFile]
    held: dict[str, bytes] = field(default_factory=dict)  # group files not on disk (`Scope`)

    @classmethod
    def read(
        cls,
        groups_dir: Path,
        env: str | None,
        env_dir: Path,
        shown: Shown,
        held: dict[str, bytes] | None = None,
    ) -> Sources:
        """One side's sources; `held`: group files in `groups_dir` that are in memory only."""
        shared = shared_files(groups_dir, env_dir, env, shown)
        tree = cls(groups_dir, env, env_dir, shown, {}, {}, [], shared, held or {})
        if groups_dir.is_dir():
            paths, tree.problems = discover([groups_dir])
            tree.problems += environment_problems(env_dir)
            if tree.held:  # (discovered as if on disk: in file-name order, no problems)
                paths = sorted([*paths, *map(Path, tree.held)], key=lambda p: p.name)
            tree.paths = {p.name.removesuffix(".yaml"): p for p in paths}
            tree.sources = {slug: tree._source(p) for slug, p in tree.paths.items()}
        return tree

    def _source(self, path: Path) -> bytes:
        data = self.held.get(str(path))
        return data if data is not None else read_source(path)

    def scope(self) -> Scope:
        return Scope(str(self.groups_dir), self.env, str(self.env_dir), self.held)

    def layer_problems(self) -> list[Diagnostic]:
        return self.scope().layers().diagnostics if self.groups_dir.is_dir() else []

    def compiled(self, slug: str, outcome: Outcome, *, diagnostics: bool = False) -> Built:
        """Group `slug` as a worker compiled it (with its diagnostics, shown from this side's
        folder, if `diagnostics`)."""
        file = self.shown.in_folder(self.groups_dir, self.paths[slug])
        shown = [self.shown.diagnostic(d) for d in outcome.diagnostics] if diagnostics else []
        return Built(
            slug, file, self.sources[slug], shown, outcome.files, outcome.digests, outcome.config
        )

    def from_seal(self, slug: str, known: Sealed) -> Built:
        """Group `slug` as the last build left it in the output folder (the seal vouches)."""
        file = self.shown.in_folder(self.groups_dir, self.paths[slug])
        built = Built(slug, file, self.sources[slug], [], None, known.digests)
        built.config_path = known.config_path
        return built


@gc_paused
def plan_diff(
    base: Base,
    groups_dir: Path,
    cwd: Path,
    *,
    env: str | None = None,
    env_dir: Path | None = None,
    jobs: int | None = None,
    out_dir: Path = OUT_DIR,
    keep_files: bool = False,
    finish_with: FinishWith | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Both sides of `pops diff` and the report (None when the working tree does not build).

    With `keep_files` (`pops preview`), every group compiled keeps its files' bytes;
    a group taken from the seal has them in `out_dir` (`sealed_files`). With
    `finish_with`, the workers finish each group they compile (`Finish`); a
    `compare_group` change it gives stands in the report as it is.
    """
    folder, env_folder = base_folders(groups_dir, cwd, env, env_dir)
    head_env_dir = env_dir_for(groups_dir, env_dir)
    with tempfile.TemporaryDirectory(prefix="pops-base-") as tmp:
        root = Path(tmp)
        folders = [folder, *([env_folder] if env_folder else [])]
        held = _exported(read_folders(base.commit, folders, cwd), root, folder, env_folder)
        base_env_dir = root / (env_folder if env_folder is not None else "environments")
        base_env = env if env is not None and (base_env_dir / f"{env}.yaml").is_file() else None
        head = Sources.read(groups_dir, env, head_env_dir, Shown(None))
        old = Sources.read(root / folder, base_env, base_env_dir, Shown(root), held)
        sealed = head_from_seal(groups_dir, head_env_dir, env, out_dir)
        if sealed is not None and set(sealed) != set(head.paths):
            sealed = None
        changed = _changed_shared(head, old)
        tasks = _tasks(head, old, sealed, bool(changed))
        finish = finish_with(head, old, sealed) if finish_with is not None else None
        results = compile_tasks(
            tasks,
            head.scope(),
            old.scope(),
            jobs or default_jobs(),
            keep=keep_files,
            finish=finish,
            progress=progress,
        )
        after, parts = _head_side(head, sealed, results)
        if after is None:  # the naive build says exactly what is wrong, and where
            return Plan(None, compile_side(groups_dir, env=env, env_dir=env_dir), None)
        before = _base_side(old, after, parts, results)
        finished: dict[str, Finished] = {s: r[3] for s, r in results.items() if r[3] is not None}
        known = {slug: done.change for slug, done in finished.items()}
        report = compare(base, before, after, known)
        report.shared = shared_changes(before, after, _known(before, after, report, changed))
        before.groups_dir = before.env_dir = None  # gone with the temporary folder
        return Plan(before, after, report, finished)


def _exported(
    blobs: list[tuple[str, bytes]],
    root: Path,
    folder: PurePosixPath,
    env_folder: PurePosixPath | None,
) -> dict[str, bytes]:
    """The base's files under `root`: written out, but for its group files, which are
    returned (path under `root` -> bytes) and only held in memory.

    Ten thousand small files cost seconds to write (and remove) on some disks; the
    workers that compile them inherit them instead. A group file is held only when
    reading it from disk could tell nothing more (a regular file of at most 1 MiB,
    named like a group, directly in the groups folder and not an environment file).
    """
    prefix = "" if str(folder) in ("", ".") else f"{folder}/"
    keep_out = str(env_folder) if env_folder is not None else None
    held: dict[str, bytes] = {}
    written: list[tuple[str, bytes]] = []
    for name, data in blobs:
        rest = name[len(prefix) :] if name.startswith(prefix) else ""
        parent = name.rpartition("/")[0] or "."
        if (
            rest.endswith(".yaml")
            and rest[0] not in "._"
            and "/" not in rest
            and len(data) <= MAX_BYTES
            and parent != keep_out
        ):
            held[os.path.join(root, name)] = data
        else:
            written.append((name, data))
    write_blobs(written, root)
    if held:  # (the folder is there even when it holds nothing but group files)
        (root / folder).mkdir(parents=True, exist_ok=True)
    return held


def _changed_shared(head: Sources, old: Sources) -> list[tuple[SharedKind, str]]:
    """The shared files of the compared build that differ between the sides."""
    now, then = _in_scope(head.shared, head.env), _in_scope(old.shared, old.env)
    return sorted(key for key in {*now, *then} if now.get(key) != then.get(key))


def _tasks(
    head: Sources, old: Sources, sealed: dict[str, Sealed] | None, shared: bool
) -> list[Task]:
    """What to compile: the working tree unless sealed; the base where it can differ."""
    moved = set(head.paths) ^ set(old.paths)
    tasks: list[Task] = []
    for slug in sorted(set(head.paths) | set(old.paths)):
        source = old.sources.get(slug)
        same = source is not None and head.sources.get(slug) == source
        # Whether another group exists can change a group's result (`extends: <a group>`).
        if same and moved and not shared:
            assert source is not None
            same = not _may_name(source, moved)
        head_path = head.paths.get(slug) if sealed is None else None
        base_path = old.paths.get(slug) if not same or shared else None
        if head_path is not None or base_path is not None:
            tasks.append(
                Task(
                    slug,
                    str(head_path) if head_path else None,
                    str(base_path) if base_path else None,
                )
            )
    return tasks


def _may_name(source: bytes, slugs: set[str]) -> bool:
    if len(slugs) > 50:
        return b"extends" in source
    return any(slug.encode() in source for slug in slugs)


Parts = dict[str, tuple[str, dict[str, str]]]  # slug -> (input digest, sha256 of each file)


def _head_side(
    head: Sources, sealed: dict[str, Sealed] | None, results: dict[str, Any]
) -> tuple[Side | None, Parts]:
    """The working tree's side, from the seal or the workers; None when it does not build."""
    groups: dict[str, Built] = {}
    parts: Parts = {}
    problems = [*head.problems, *head.layer_problems()]
    for slug in head.paths:
        if sealed is not None:
            known = sealed[slug]
            groups[slug] = head.from_seal(slug, known)
            parts[slug] = known.input_sha, known.digests
            continue
        outcome: Outcome = results[slug][1]
        problems += outcome.diagnostics
        if outcome.digests is None:
            return None, {}
        groups[slug] = head.compiled(slug, outcome)
        parts[slug] = outcome.input_sha, outcome.digests
    if _errors(problems):
        return None, {}
    side = Side(groups, [], _token(parts), head.shared, head.groups_dir, head.env, head.env_dir)
    return side, parts


def _base_side(old: Sources, after: Side, head_parts: Parts, results: dict[str, Any]) -> Side:
    """The base's side: compiled where it can differ, the working tree's outcome elsewhere."""
    groups: dict[str, Built] = {}
    parts: Parts = {}
    problems = [*old.problems, *old.layer_problems()]
    for slug, path in old.paths.items():
        file, source = old.shown.in_folder(old.groups_dir, path), old.sources[slug]
        result = results.get(slug)
        outcome: Outcome | None = result[2] if result is not None else None
        if outcome is None:  # the same file, and nothing it reads changed
            same = after.groups[slug]
            groups[slug] = Built(slug, file, source, [], None, same.digests, same.config_data)
            groups[slug].config_path = same.config_path
            parts[slug] = head_parts[slug]
            continue
        problems += outcome.diagnostics
        groups[slug] = old.compiled(slug, outcome, diagnostics=True)
        if outcome.digests is not None:
            parts[slug] = outcome.input_sha, outcome.digests
    ok = old.groups_dir.is_dir() and not _errors(problems)
    return Side(groups, [], _token(parts) if ok else None, old.shared, old.groups_dir, old.env)


def _known(
    before: Side, after: Side, report: DiffReport, changed: list[tuple[SharedKind, str]]
) -> dict[tuple[SharedKind, str], Known]:
    """When one shared file of the compared build changed, and nothing else shared, the
    base build is the working tree with only that file put back, for every group whose
    own file is the same on both sides: its settings differ exactly when the report
    says so (settings changed, or it was invalid at the base)."""
    if len(changed) != 1:
        return {}
    differ = {g.slug for g in report.groups if g.status == "fixed" or g.settings}
    known: Known = {}
    for slug, now in after.groups.items():
        then = before.groups.get(slug)
        if then is not None and then.source == now.source:
            known[slug] = slug in differ
    return {changed[0]: known}

"""Which groups a preview draws, and from what.

Without a base every group gets a page. With `--base`, only the groups that
change get pages (the working tree's page, the base's page and a page with
both side by side); every group still has a row in the index, and the
unchanged ones say so. At fleet scale (one line of `_defaults.yaml` changing
10,000 groups) the pages are the cost, so nothing is drawn twice.

`plan_against` is the one call that finds the changed groups and both
sides' settings. It uses `pops diff`'s fleet-scale plan (`compiler.review.plan`):
the base read from git in one go, the working tree from the build's seal when
it is valid, groups compiled over every core and only where they can differ.
`compare_with_base_naive` (both sides compiled whole) is kept as the yardstick:
tests/test_preview_scale.py holds the two to the same output, byte for byte.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from markupsafe import Markup

from compiler.diagnostics import Diagnostic
from compiler.load.files import MAX_BYTES, read_all
from compiler.pipeline.compiling import compile_groups, gc_paused
from compiler.pipeline.discovery import discover
from compiler.pipeline.group import env_dir_for
from compiler.review.diff import Built, DiffReport, GroupChange, Side, compare
from compiler.review.gitrefs import Base, export_folder
from compiler.review.plan import FinishWith, plan_diff
from compiler.review.sides import base_folders
from compiler.review.sides import compile_side as compile_working_tree
from compiler.review.workers import Progress

PARALLEL_FROM = 200  # group files; below this the base is compiled in this process


@dataclass(slots=True)
class GroupPages:
    """One group's pages: its working-tree side, its base side and what changed between them."""

    slug: str
    after: Built | None  # None: removed in the working tree
    before: Built | None = None  # None: no base, or added
    change: GroupChange | None = None
    drawn: bool = False  # already drawn by the worker that compared it (`Drawn`)


@dataclass(frozen=True, slots=True)
class IndexRow:
    slug: str
    name: str
    colors: dict[str, str] | None
    change: GroupChange | None
    link: str | None  # None: the group has no page (unchanged, in --base mode)
    changed_colors: frozenset[str] = frozenset()
    html: Markup | None = None  # drawn already (preview/index_row.html.j2), by a worker


def index_row(
    slug: str, new: Built | None, old: Built | None, change: GroupChange | None
) -> IndexRow:
    """A group's row in the index of a `--base` preview (`change`: None when it has no page)."""
    if change is None:
        return IndexRow(slug, new.name if new else slug, _colors(new), None, None)
    changed = frozenset(s.path.removeprefix("theme.colors.") for s in change.settings)
    colors = _colors(new if drawable(new) else old)
    return IndexRow(slug, change.name, colors, change, f"{slug}/compare.html", changed)


@dataclass(slots=True)
class Drawn:
    """One group compared (and, when it changed, drawn) by a worker (preview/drawing.py)."""

    change: GroupChange | None  # as `compare_group` finds it
    row: IndexRow  # its row in the index, drawn
    pages: int  # HTML pages written


@dataclass(slots=True)
class Plan:
    pages: list[GroupPages]
    index: list[IndexRow]
    base: Base | None = None
    env: str | None = None
    report: DiffReport | None = field(default=None, repr=False)
    drawn: int = 0  # HTML pages the workers drew already (the pages marked `drawn`)


def drawable(built: Built | None) -> bool:
    """Whether `built` builds, with its files in memory or in the sealed output folder."""
    if built is None:
        return False
    return bool(built.files) or (built.digests is not None and built.config_path is not None)


def _colors(built: Built | None) -> dict[str, str] | None:
    config: dict[str, Any] | None = built.config if built is not None else None
    return dict(config["theme"]["colors"]) if config is not None else None


def working_tree_plan(after: Side) -> Plan:
    """Every valid group of the working tree, each with its page."""
    pages = [GroupPages(slug, built) for slug, built in sorted(after.groups.items()) if built.files]
    index = [
        IndexRow(
            slug,
            built.name,
            _colors(built),
            None,
            f"{slug}/index.html" if built.files else None,
        )
        for slug, built in sorted(after.groups.items())
    ]
    return Plan(pages, index, env=after.env)


class _BySlug:
    """A sink that files each artifact under its group as it comes: one pass, not one per group."""

    def __init__(self) -> None:
        self.groups: dict[str, dict[str, bytes]] = {}

    def write(self, rel: str, data: bytes) -> None:
        head, _, rest = rel.partition("/")
        if head == "groups" and "/" in rest:
            self.groups.setdefault(rest.partition("/")[0], {})[rel] = data


def compile_tree(
    groups_dir: Path, *, env: str | None, env_dir: Path | None, shown_from: Path | None = None
) -> Side:
    """What `compile_side` gives for the groups the preview draws (shared files left out).

    A folder that builds is compiled once, its files sorted to their groups as
    they come; one that does not goes group by group through `compile_side`.
    """
    folder = env_dir_for(groups_dir, env_dir)
    if not groups_dir.is_dir():
        return Side({}, [], None, groups_dir=groups_dir, env=env, env_dir=folder)
    sink = _BySlug()
    compilation = compile_groups(groups_dir, sink=sink, env=env, env_dir=folder)
    if not compilation.ok:
        return compile_working_tree(groups_dir, shown_from=shown_from, env=env, env_dir=env_dir)
    by_file: dict[str, list[Diagnostic]] = {}
    for d in compilation.diagnostics:
        by_file.setdefault(Path(d.file).name, []).append(d)
    groups: dict[str, Built] = {}
    root = shown_from if shown_from is not None else Path.cwd()
    for path in discover([groups_dir])[0]:
        slug = path.name.removesuffix(".yaml")
        try:
            source = read_all(path, MAX_BYTES)
        except OSError:
            source = b""
        shown = path.as_posix()
        with contextlib.suppress(ValueError):
            shown = path.absolute().relative_to(root.absolute()).as_posix()
        files = sink.groups.get(slug, {})
        groups[slug] = Built(slug, shown, source, by_file.get(path.name, []), files)
    diagnostics = compilation.diagnostics
    return Side(groups, diagnostics, None, groups_dir=groups_dir, env=env, env_dir=folder)


def _base_side(
    base: Base, groups_dir: Path, cwd: Path, env: str | None, env_dir: Path | None
) -> Side:
    """The sources at `base`, copied out of git (as `compile_base` does) and compiled."""
    folder, env_folder = base_folders(groups_dir, cwd, env, env_dir)
    with tempfile.TemporaryDirectory(prefix="pops-base-") as tmp:
        root = Path(tmp)
        export_folder(base.commit, folder, root, cwd)
        if env_folder is not None and env_folder != folder:
            export_folder(base.commit, env_folder, root, cwd)
        base_env_dir = root / (env_folder if env_folder is not None else "environments")
        if env is not None and not (base_env_dir / f"{env}.yaml").is_file():
            env = None
        side = compile_tree(root / folder, env=env, env_dir=base_env_dir, shown_from=root)
        side.groups_dir = side.env_dir = None  # gone with the temporary folder
        return side


@gc_paused  # (a fleet-wide change leaves millions of objects for the collector to rescan)
def plan_against(
    base: Base,
    groups_dir: Path,
    cwd: Path,
    *,
    env: str | None,
    env_dir: Path | None,
    jobs: int | None = None,
    finish_with: FinishWith | None = None,
    progress: Progress | None = None,
) -> tuple[Side, Plan | None]:
    """(the working tree, its pages against `base`): both sides' settings from `pops diff`'s
    fast plan, then `base_plan`, the comparison made once (None: the tree does not build).

    Every group compiled keeps its files' bytes; a group the plan took from the seal has
    them in `dist/`, read by whoever draws its pages. With `finish_with`
    (`compiler.review.preview.drawing`), the workers draw the groups they compare.
    """
    planned = plan_diff(
        base,
        groups_dir,
        cwd,
        env=env,
        env_dir=env_dir,
        jobs=jobs,
        keep_files=True,
        finish_with=finish_with,
        progress=progress,
    )
    if planned.before is None or planned.report is None:
        return planned.after, None
    finished = cast(dict[str, Drawn], planned.finished)
    return planned.after, base_plan(base, planned.before, planned.after, planned.report, finished)


def compare_with_base_naive(
    base: Base, groups_dir: Path, cwd: Path, *, env: str | None, env_dir: Path | None
) -> tuple[Side, Side | None]:
    """What `plan_against` compares, the obvious way: both sides compiled whole.

    On a machine with more than one core the base is compiled in a forked
    process while this one compiles the working tree.
    """
    many = groups_dir.is_dir() and sum(1 for _ in groups_dir.glob("*.yaml")) >= PARALLEL_FROM
    if not many or (os.cpu_count() or 1) < 2 or "fork" not in _start_methods():
        after = compile_tree(groups_dir, env=env, env_dir=env_dir)
        if not after.ok:
            return after, None
        return after, _base_side(base, groups_dir, cwd, env, env_dir)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        pending = pool.submit(_base_side, base, groups_dir, cwd, env, env_dir)
        after = compile_tree(groups_dir, env=env, env_dir=env_dir)
        if not after.ok:
            pending.cancel()
            return after, None
        return after, pending.result()


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods() if os.name == "posix" else []


def base_plan(
    base: Base,
    before: Side,
    after: Side,
    report: DiffReport | None = None,
    finished: dict[str, Drawn] | None = None,
) -> Plan:
    """Pages for the groups that change against `base`; an index row for every group.

    `report` is `compare(base, before, after)` when the caller has it already;
    `finished`, the groups the workers compared and drew (their pages are marked drawn).
    """
    report = report if report is not None else compare(base, before, after)
    changes = {c.slug: c for c in report.groups if c.status != "edited"}
    finished = finished or {}
    plan = Plan([], [], base, after.env, report)
    for slug in sorted(set(after.groups) | set(changes)):
        change = changes.get(slug)
        new = after.groups.get(slug)
        done = finished.get(slug)
        if done is not None:
            plan.index.append(done.row)
        if change is None:
            if done is None:
                plan.index.append(index_row(slug, new, None, None))
            continue
        old = before.groups.get(change.previous_slug or slug)
        plan.pages.append(GroupPages(slug, new if drawable(new) else None, old, change, bool(done)))
        plan.drawn += done.pages if done is not None else 0
        if done is None:
            plan.index.append(index_row(slug, new, old, change))
    return plan

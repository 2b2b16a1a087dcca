"""Which groups a preview draws, and from what.

Without a base every group gets a page. With `--base`, only the groups that
change get pages (the working tree's page, the base's page and a page with
both side by side); every group still has a row in the index, and the
unchanged ones say so. At fleet scale (one line of `_defaults.yaml` changing
10,000 groups) the pages are the cost, so nothing is drawn twice.

`compare_with_base` is the one call that finds the changed groups and both
sides' settings; it is where a faster comparison (`pops diff`'s) plugs in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.review.diff import Built, DiffReport, GroupChange, Side, compare, compile_base
from compiler.review.diff import compile_side as compile_working_tree
from compiler.review.gitrefs import Base


@dataclass(slots=True)
class GroupPages:
    """One group's pages: its working-tree side, its base side and what changed between them."""

    slug: str
    after: Built | None  # None: removed in the working tree
    before: Built | None = None  # None: no base, or added
    change: GroupChange | None = None


@dataclass(frozen=True, slots=True)
class IndexRow:
    slug: str
    name: str
    colors: dict[str, str] | None
    change: GroupChange | None
    link: str | None  # None: the group has no page (unchanged, in --base mode)
    changed_colors: frozenset[str] = frozenset()


@dataclass(slots=True)
class Plan:
    pages: list[GroupPages]
    index: list[IndexRow]
    base: Base | None = None
    env: str | None = None
    report: DiffReport | None = field(default=None, repr=False)


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


def compare_with_base(
    base: Base, groups_dir: Path, cwd: Path, *, env: str | None, env_dir: Path | None
) -> tuple[Side, Side | None]:
    """(the working tree, the base): both sides' settings, for the groups that differ.

    The base is None when the working tree does not build (nothing to compare).
    """
    after = compile_working_tree(groups_dir, env=env, env_dir=env_dir)
    if not after.ok:
        return after, None
    return after, compile_base(base, groups_dir, cwd, env=env, env_dir=env_dir)


def base_plan(base: Base, before: Side, after: Side) -> Plan:
    """Pages for the groups that change against `base`; an index row for every group."""
    report = compare(base, before, after)
    changes = {c.slug: c for c in report.groups if c.status != "edited"}
    pages: list[GroupPages] = []
    index: list[IndexRow] = []
    for slug in sorted(set(after.groups) | set(changes)):
        change = changes.get(slug)
        new = after.groups.get(slug)
        if change is None:
            index.append(IndexRow(slug, new.name if new else slug, _colors(new), None, None))
            continue
        old = before.groups.get(change.previous_slug or slug)
        pages.append(GroupPages(slug, new if new and new.files else None, old, change))
        colors = {s.path.removeprefix("theme.colors.") for s in change.settings}
        index.append(
            IndexRow(
                slug,
                change.name,
                _colors(new if new and new.files else old),
                change,
                f"{slug}/compare.html",
                frozenset(colors),
            )
        )
    return Plan(pages, index, base, after.env, report)

"""Environment overlays (`environments/<env>.yaml`): values applied on top of some or
every group, in the build of that environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic
from compiler.load.document import Document, Path_, dotted
from compiler.load.layer_files import check_partial
from compiler.load.located import load_file


@dataclass(slots=True)
class OverlayEntry:
    targets: frozenset[str] | None  # None: every group
    doc: Document  # `values` of the entry, positioned in the overlay file


def environments(env_dir: Path) -> list[str]:
    """Names of the environments defined in `env_dir`, sorted."""
    if not env_dir.is_dir():
        return []
    return sorted(p.name.removesuffix(".yaml") for p in env_dir.glob("*.yaml"))


def load_overlay(
    path: Path, display: str, groups_dir: Path
) -> tuple[list[OverlayEntry], list[Diagnostic]]:
    """The overlay's entries, and every problem found in the file, in the order found."""
    doc, found = load_file(path, display)
    if doc is None:
        return [], found
    entries: list[OverlayEntry] = []
    problems: list[Diagnostic] = []

    def problem(at: Path_, code: str, message: str, *, key: bool = False) -> None:
        line, column = doc.position(at, key=key)
        problems.append(Diagnostic(doc.file, line, column, dotted(at), code, "error", message))

    for key in doc.data:
        if key != "overlays":
            problem(
                (key,),
                "key-unknown",
                f"unknown key `{key}`; an environment file has "
                "only `overlays:`, a list of {groups, values}",
                key=True,
            )
    items = doc.data.get("overlays", [])
    if not isinstance(items, list):
        problem(("overlays",), "type-list", "`overlays` must be a list of {groups, values}")
        items = []
    for index, item in enumerate(items):
        entry = _entry(doc, ("overlays", index), item, groups_dir, problem)
        if entry is not None:
            entries.append(entry)
    for entry in entries:
        problems.extend(check_partial(entry.doc, allow_extends=False))
    return entries, [*found, *problems]


def _entry(
    doc: Document, at: Path_, item: Any, groups_dir: Path, problem: Any
) -> OverlayEntry | None:
    """One `{groups, values}` item, or None (after `problem`) when it cannot apply."""
    if not isinstance(item, dict):
        problem(at, "type-mapping", "each overlay is a mapping with `groups` and `values`")
        return None
    for key in item:
        if key not in {"groups", "values"}:
            problem(
                (*at, key),
                "key-unknown",
                f"unknown key `{key}`; an overlay has `groups` and `values`",
                key=True,
            )
    targets_raw = item.get("groups", "all")
    targets: frozenset[str] | None
    if targets_raw == "all":
        targets = None
    elif isinstance(targets_raw, list) and all(isinstance(t, str) for t in targets_raw):
        targets = frozenset(targets_raw)
        for i, slug in enumerate(targets_raw):
            if not (groups_dir / f"{slug}.yaml").is_file():
                problem(
                    (*at, "groups", i),
                    "overlay-unknown-group",
                    f"no group `{slug}` (groups/{slug}.yaml does not exist)",
                )
    else:
        problem((*at, "groups"), "overlay-groups", "`groups` is `all` or a list of group slugs")
        return None
    if not isinstance(item.get("values"), dict):
        problem((*at, "values"), "type-mapping", "`values` is a mapping of group settings to apply")
        return None
    return OverlayEntry(targets, _subdocument(doc, (*at, "values")))


def _subdocument(doc: Document, prefix: Path_) -> Document:
    """The part of `doc` under `prefix`, re-rooted, positions kept."""
    n = len(prefix)

    def cut(table: dict[Path_, Any]) -> dict[Path_, Any]:
        return {p[n:]: v for p, v in table.items() if p[:n] == prefix and len(p) > n}

    node: Any = doc.data
    for part in prefix:
        node = node[part]
    nulls = {p[n:] for p in doc.nulls if p[:n] == prefix and len(p) > n}
    return Document(doc.file, node, cut(doc.values), cut(doc.keys), cut(doc.raw), nulls)


# What each code this module reports means and how to fix it (see compiler.codes).
CODES: dict[str, tuple[str, str]] = {
    "overlay-unknown-group": (
        "An environment overlay targets a group that does not exist.",
        "Fix the slug in `groups:`, or remove it from the list.",
    ),
    "overlay-groups": (
        "An overlay's `groups` is neither `all` nor a list of slugs.",
        "Write `groups: all` or `groups: [sunrise-pediatrics, lakeside-clinic]`.",
    ),
    "type-list": (
        "A value must be a list.",
        "Write the items as a YAML list, one `- item` per line.",
    ),
}

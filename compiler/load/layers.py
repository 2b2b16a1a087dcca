"""Shared defaults, group families and environment overlays, merged with provenance.

A group's effective settings are the merge, lowest first, of:

1. the built-in defaults (the models' defaults),
2. `groups/_defaults.yaml`,
3. its bases, outermost first (`extends: chain` reads `groups/_chain.yaml`,
   which may itself extend another base),
4. the group file itself,
5. the selected environment's overlay entries that target it
   (`environments/<env>.yaml`).

Mappings merge key by key; scalars and lists replace; `key:` with no value
(null) resets the key to its built-in default. Every merged value remembers the
file, line and column that wrote it, so a diagnostic lands where the admin can
fix it, and `pops explain` can say where each value came from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from compiler.diagnostics import Diagnostic, Related
from compiler.load.document import Document
from compiler.load.layer_files import (
    DEFAULTS,
    check_partial,
    display,
    drop_owner_keys,
    sha_file,
)
from compiler.load.located import load_file
from compiler.load.merging import Merged, Merging, Setting, leaves
from compiler.load.overlays import OverlayEntry, environments, load_overlay

__all__ = [
    "DEFAULTS",
    "Layers",
    "Merged",
    "OverlayEntry",
    "Setting",
    "aggregate",
    "environments",
    "layered",
    "leaves",
    "load_layers",
    "merge_group",
    "sha_file",
]

ENV_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
RESERVED_ENV_NAMES = frozenset({"groups"})
MAX_EXAMPLES = 5


@dataclass(slots=True)
class Layers:
    """The shared layer files of a repo, loaded once per run."""

    groups_dir: Path
    defaults: Document | None = None
    bases: dict[str, Document | None] = field(default_factory=dict)
    overlay: list[OverlayEntry] = field(default_factory=list)
    env: str | None = None
    overlay_file: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # (file, line, column, code) of problems already reported from a layer file
    # on its own, so the same problem is not repeated for each group.
    reported: set[tuple[str, int, int, str]] = field(default_factory=set)
    file_digests: dict[str, str] = field(default_factory=dict)
    # Per run, so that each of thousands of groups does not redo them: whether
    # `<name>.yaml` is a group file, and defaults merged with each chain of bases
    # (keyed by the layers' ids; the value keeps the layers, so ids stay unique).
    _group_files: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)
    _prefixes: dict[tuple[int, ...], tuple[tuple[Document, ...], Merging]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def base(self, name: str) -> Document | None:
        """Load `_<name>.yaml` on first use; None when it is missing or broken."""
        if name not in self.bases:
            path = self.groups_dir / f"_{name}.yaml"
            self.bases[name] = self._load_layer(path) if os.path.lexists(path) else None
        return self.bases[name]

    def digest_of(self, display: str) -> str:
        """sha256 of a shared file by its display path; "" when it does not exist."""
        if display not in self.file_digests:
            self.file_digests[display] = sha_file(Path(display))
        return self.file_digests[display]

    def is_group(self, name: str) -> bool:
        """True when `groups/<name>.yaml` exists (checked once per name and run)."""
        known = self._group_files.get(name)
        if known is None:
            known = self._group_files[name] = (self.groups_dir / f"{name}.yaml").is_file()
        return known

    def held_groups(self, names: Iterable[str]) -> None:
        """Group files that exist without being on disk (a base side `pops diff` holds
        in memory): `is_group` says so for them."""
        self._group_files.update(dict.fromkeys(names, True))

    def merged_prefix(self, stack: tuple[Document, ...]) -> Merging:
        """The merge of `stack` (defaults and bases), made once and copied for each group."""
        key = tuple(map(id, stack))
        cached = self._prefixes.get(key)
        if cached is None:
            merged = Merging("", track=False)
            for layer in stack:
                merged.apply(layer)
            cached = self._prefixes[key] = (stack, merged)
        return cached[1].copy()

    def scope_files(self) -> list[tuple[str, str]]:
        """Shared files every group of this scope depends on: defaults and the overlay."""
        files = [display(self.groups_dir / f"{DEFAULTS}.yaml")]
        if self.overlay_file is not None:
            files.append(self.overlay_file)
        return [(f, self.digest_of(f)) for f in files]

    def _load_layer(self, path: Path) -> Document | None:
        doc, found = load_file(path, display(path))
        self.file_digests[display(path)] = sha_file(path)
        self._report(found)
        if doc is not None:
            self._report(check_partial(doc, owners_for=path.name == f"{DEFAULTS}.yaml"))
            drop_owner_keys(doc)
        return doc

    def _report(self, found: Iterable[Diagnostic]) -> None:
        for d in found:
            self.diagnostics.append(d)
            self.reported.add((d.file, d.line, d.column, d.code))


def load_layers(
    groups_dir: Path,
    env: str | None = None,
    env_dir: Path | None = None,
    *,
    every_base: bool = True,
) -> Layers:
    """Defaults and the selected environment's overlay; bases load lazily when named.

    `every_base=False` skips checking the bases no group names, for a build that
    recompiles a few groups and knows the bases are unchanged and were clean.
    """
    layers = Layers(groups_dir, env=env)
    defaults = groups_dir / f"{DEFAULTS}.yaml"
    if os.path.lexists(defaults):  # (a folder or a pipe there is reported, not skipped)
        layers.defaults = layers._load_layer(defaults)
        if layers.defaults is not None and "extends" in layers.defaults.data:
            line, column = layers.defaults.position(("extends",), key=True)
            layers._report(
                [
                    Diagnostic(
                        layers.defaults.file,
                        line,
                        column,
                        "extends",
                        "extends-not-allowed",
                        "error",
                        "`_defaults.yaml` applies under every group and cannot extend a base; "
                        "remove `extends`",
                    )
                ]
            )
    # Every base is checked, even one no group extends yet: a typo there should
    # not wait for the day a group starts using it.
    for path in sorted(groups_dir.glob("_*.yaml")) if every_base else ():
        name = path.name[1:].removesuffix(".yaml")
        if name != DEFAULTS[1:]:
            layers.base(name)
    if env is not None:
        folder = env_dir if env_dir is not None else groups_dir.parent / "environments"
        layers.overlay_file = display(folder / f"{env}.yaml")
        path = folder / f"{env}.yaml"
        layers.overlay, found = load_overlay(path, layers.overlay_file, groups_dir)
        layers.file_digests[layers.overlay_file] = sha_file(path)
        layers._report(found)
    return layers


def merge_group(doc: Document, slug: str, layers: Layers, *, track: bool = False) -> Merged:
    """Stack defaults, bases, the group and its overlay entries into one Document."""
    problems: list[Diagnostic] = []
    missing: list[str] = []  # bases named but absent: creating one must invalidate caches
    chain = _bases(doc, slug, layers, problems, missing)
    shared = (*((layers.defaults,) if layers.defaults is not None else ()), *reversed(chain))
    if shared and not track:
        merged = layers.merged_prefix(shared)
    else:
        merged = Merging(doc.file, track)
        for layer in shared:
            merged.apply(layer)
    stack = [*shared, doc]
    stack.extend(e.doc for e in layers.overlay if e.targets is None or slug in e.targets)
    # The top layer's mappings are shared, not copied (a third of a group's merge): the
    # merged document may share them with the group's or an overlay's, read-only.
    for layer in stack[len(shared) : -1]:
        merged.apply(layer)
    merged.apply(stack[-1], last=True)
    merged.doc.data.pop("extends", None)
    merged.doc.file = doc.file
    files = list(dict.fromkeys(layer.file for layer in stack))
    return Merged(merged.doc, problems, [*files, *missing], merged.history)


def _bases(
    doc: Document, slug: str, layers: Layers, problems: list[Diagnostic], missing: list[str]
) -> list[Document]:
    """The group's chain of bases, innermost first, following `extends` until it ends or
    breaks (a problem in `problems`; a base named but absent in `missing` too)."""
    chain: list[Document] = []
    seen = [slug]
    current: Document = doc
    while (name := current.data.get("extends")) is not None:
        problem = _extends_problem(current is doc, name, seen, layers)
        if problem is None:
            base = layers.base(name)
            if base is not None:
                seen.append(name)
                chain.append(base)
                current = base
                continue
            path = layers.groups_dir / f"_{name}.yaml"
            missing.append(display(path))
            if path.is_file():
                break
            code = "extends-missing"
            problem = code, f"no base `{name}`: create {display(path)}, or fix the name"
        line, column = current.position(("extends",))
        code, message = problem
        problems.append(Diagnostic(current.file, line, column, "extends", code, "error", message))
        break
    return chain


def _extends_problem(
    in_group: bool, name: object, seen: list[str], layers: Layers
) -> tuple[str, str] | None:
    """What is wrong with `extends: name` written in a group (or a base), if anything."""
    if not isinstance(name, str):
        code, message = "extends-invalid", "`extends` names a base, e.g. `extends: chain`"
    elif in_group and layers.is_group(name):
        code, message = (
            "extends-group",
            (
                f"`{name}` is a group, and groups cannot extend groups; move the shared "
                f"settings to groups/_{name}.yaml (a base) and extend that"
            ),
        )
    elif name in seen:
        cycle = " -> ".join([*seen[1:], name]) if len(seen) > 1 else name
        code, message = (
            "extends-cycle",
            (f"bases extend each other in a cycle ({cycle}); remove one `extends`"),
        )
    else:
        return None
    return code, message


def layered(doc: Document, slug: str, layers: Layers) -> bool:
    """True when anything but the group file itself shapes the group."""
    return bool(
        layers.defaults is not None
        or "extends" in doc.data
        or any(e.targets is None or slug in e.targets for e in layers.overlay)
    )


def _related_key(r: Related) -> tuple[str, int, int, str]:
    return (r.file, r.line, r.column, r.message)


def aggregate(
    per_group: list[tuple[str, str, list[Diagnostic]]], layers: Layers
) -> list[Diagnostic]:
    """Problems in shared files, reported once per place, naming the groups they break.

    `per_group` is (slug, group file, diagnostics). A diagnostic in the group's
    own file passes through; one in a shared file is merged with its twins
    from other groups, and one already reported from the layer file on its own
    is dropped.
    """
    out: list[Diagnostic] = []
    shared: dict[tuple[str, int, int, str, str, str, str], list[str]] = {}
    related: dict[tuple[str, int, int, str, str, str, str], set[Related]] = {}
    files: dict[str, str] = {}
    for slug, file, diagnostics in per_group:
        for d in diagnostics:
            if d.file == file:
                out.append(d)
                continue
            if (d.file, d.line, d.column, d.code) in layers.reported:
                continue
            key = (d.file, d.line, d.column, d.path, d.code, d.severity, d.message)
            shared.setdefault(key, []).append(slug)
            related.setdefault(key, set()).update(d.related)
            files[slug] = file
    for place, slugs in shared.items():
        file, line, column, path, code, severity, message = place
        names = sorted(set(slugs))
        # Provenance for tools: each group this breaks, and where its other values came from.
        broken = [Related(files[name], 1, 1, f"group `{name}` takes this value") for name in names]
        listed = ", ".join(names[:MAX_EXAMPLES])
        if len(names) > MAX_EXAMPLES:
            listed += f" and {len(names) - MAX_EXAMPLES} more"
        noun = "group" if len(names) == 1 else "groups"
        out.append(
            Diagnostic(
                file,
                line,
                column,
                path,
                code,
                severity,  # type: ignore[arg-type]
                f"{message} (breaks {len(names)} {noun}: {listed})",
                (*broken, *sorted(related[place] - set(broken), key=_related_key)),
            )
        )
    return out


# What each code this module reports means and how to fix it (see compiler.codes).
CODES: dict[str, tuple[str, str]] = {
    "extends-invalid": (
        "`extends` is not the name of a base.",
        "Write the base's name without the underscore or .yaml, e.g. `extends: chain` for "
        "groups/_chain.yaml.",
    ),
    "extends-group": (
        "A group extends another group.",
        "Groups cannot extend groups: move the shared settings to a base "
        "(groups/_NAME.yaml) and extend that.",
    ),
    "extends-cycle": (
        "Bases extend each other in a cycle.",
        "Remove one `extends` so the chain of bases ends.",
    ),
    "extends-missing": (
        "`extends` names a base that does not exist.",
        "Create groups/_NAME.yaml, or fix the name.",
    ),
}

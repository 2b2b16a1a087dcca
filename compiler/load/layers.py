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

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, Related
from compiler.load.files import MAX_BYTES, read_all
from compiler.load.located import Document, Path_, dotted, load_file
from compiler.model.from_document import group_from_document

DEFAULTS = "_defaults"
ENV_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
RESERVED_ENV_NAMES = frozenset({"groups"})
MAX_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class Setting:
    """One value as one layer wrote it."""

    file: str
    line: int
    column: int
    value: Any  # None means "reset to the built-in default"


@dataclass(slots=True)
class OverlayEntry:
    targets: frozenset[str] | None  # None: every group
    doc: Document  # `values` of the entry, positioned in the overlay file


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
    _prefixes: dict[tuple[int, ...], tuple[tuple[Document, ...], _Merged]] = field(
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

    def merged_prefix(self, stack: tuple[Document, ...]) -> _Merged:
        """The merge of `stack` (defaults and bases), made once and copied for each group."""
        key = tuple(map(id, stack))
        cached = self._prefixes.get(key)
        if cached is None:
            merged = _Merged("", track=False)
            for layer in stack:
                merged.apply(layer)
            cached = self._prefixes[key] = (stack, merged)
        return cached[1].copy()

    def scope_files(self) -> list[tuple[str, str]]:
        """Shared files every group of this scope depends on: defaults and the overlay."""
        files = [_display(self.groups_dir / f"{DEFAULTS}.yaml")]
        if self.overlay_file is not None:
            files.append(self.overlay_file)
        return [(f, self.digest_of(f)) for f in files]

    def _load_layer(self, path: Path) -> Document | None:
        doc, found = load_file(path, _display(path))
        self.file_digests[_display(path)] = sha_file(path)
        self._report(found)
        if doc is not None:
            self._report(_check_partial(doc, owners_for=path.name == f"{DEFAULTS}.yaml"))
            _drop_owner_keys(doc)
        return doc

    def _report(self, found: Iterable[Diagnostic]) -> None:
        for d in found:
            self.diagnostics.append(d)
            self.reported.add((d.file, d.line, d.column, d.code))


def _display(path: Path) -> str:
    return path.as_posix().removeprefix("./")


def sha_file(path: Path) -> str:
    """sha256 of a file's bytes, "" when it cannot be read (a missing base, say)."""
    try:
        return hashlib.sha256(read_all(path, MAX_BYTES)).hexdigest()
    except OSError:  # (a FileProblem too: the loader reports it)
        return ""


# Keys of a file that say who owns it: checked, then dropped before any merge, so a
# group never inherits the owners of `_defaults.yaml` or of a base (see
# compiler/authoring/owners.py).
_OWNER_KEYS = ("owners", "owners_for")


def _drop_owner_keys(doc: Document) -> None:
    for key in _OWNER_KEYS:
        if key in doc.data:
            del doc.data[key]
            for table in (doc.values, doc.keys, doc.raw, doc.origins):
                for p in [p for p in table if p[:1] == (key,)]:
                    del table[p]
            doc.nulls.difference_update([p for p in doc.nulls if p[:1] == (key,)])


def _not_allowed(doc: Document, key: str, code: str, message: str) -> Diagnostic:
    line, column = doc.position((key,), key=True)
    return Diagnostic(doc.file, line, column, key, code, "error", message)


def _check_partial(
    doc: Document, *, allow_extends: bool = True, owners_for: bool = False
) -> list[Diagnostic]:
    """Unknown keys and wrong types in a layer file, on their own (every key optional).

    `owners_for` is allowed (and checked) only in `_defaults.yaml`; an overlay
    (`allow_extends=False`) names no owners: it changes settings, not files.
    """
    from compiler.authoring.owners import check_owners_for

    data = dict(doc.data)
    data.setdefault("name", "placeholder")
    if not allow_extends:
        data.pop("extends", None)
        data.pop("owners", None)
    data.pop("owners_for", None)
    probe = Document(doc.file, data, doc.values, doc.keys, doc.raw, doc.nulls)
    found = group_from_document(probe).diagnostics
    out = [d for d in found if d.code != "key-required"]
    if owners_for:
        out.extend(check_owners_for(doc)[1])
    elif "owners_for" in doc.data:
        message = "`owners_for` is allowed only in groups/_defaults.yaml; move it there"
        out.append(_not_allowed(doc, "owners_for", "owners-for-not-allowed", message))
    if not allow_extends and "owners" in doc.data:
        message = (
            "an overlay cannot set `owners`: owners belong to files; set them in the "
            "group file or in groups/_defaults.yaml"
        )
        out.append(_not_allowed(doc, "owners", "owners-not-allowed", message))
    if not allow_extends and "extends" in doc.data:
        line, column = doc.position(("extends",), key=True)
        out.append(
            Diagnostic(
                doc.file,
                line,
                column,
                "extends",
                "extends-not-allowed",
                "error",
                "`extends` is not allowed here; only groups and bases extend a base",
            )
        )
    return out


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
        layers.overlay_file = _display(folder / f"{env}.yaml")
        layers.overlay = _load_overlay(layers, folder / f"{env}.yaml")
    return layers


def environments(env_dir: Path) -> list[str]:
    """Names of the environments defined in `env_dir`, sorted."""
    if not env_dir.is_dir():
        return []
    return sorted(p.name.removesuffix(".yaml") for p in env_dir.glob("*.yaml"))


def _load_overlay(layers: Layers, path: Path) -> list[OverlayEntry]:
    doc, found = load_file(path, _display(path))
    layers.file_digests[_display(path)] = sha_file(path)
    layers._report(found)
    if doc is None:
        return []
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
        at: Path_ = ("overlays", index)
        if not isinstance(item, dict):
            problem(at, "type-mapping", "each overlay is a mapping with `groups` and `values`")
            continue
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
                if not (layers.groups_dir / f"{slug}.yaml").is_file():
                    problem(
                        (*at, "groups", i),
                        "overlay-unknown-group",
                        f"no group `{slug}` (groups/{slug}.yaml does not exist)",
                    )
        else:
            problem((*at, "groups"), "overlay-groups", "`groups` is `all` or a list of group slugs")
            continue
        values = item.get("values")
        if not isinstance(values, dict):
            problem(
                (*at, "values"), "type-mapping", "`values` is a mapping of group settings to apply"
            )
            continue
        entries.append(OverlayEntry(targets, _subdocument(doc, (*at, "values"))))
    layers._report(problems)
    for entry in entries:
        layers._report(_check_partial(entry.doc, allow_extends=False))
    return entries


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


# --- merging ---------------------------------------------------------------------------


class _Merged:
    """Accumulates layers into one Document, remembering who wrote what."""

    def __init__(self, file: str, track: bool, doc: Document | None = None) -> None:
        self.doc = doc if doc is not None else Document(file, {})
        self.track = track
        self.history: dict[Path_, list[Setting]] = {}

    def copy(self) -> _Merged:
        """An independent copy to merge more layers into (history is not copied)."""
        doc = self.doc
        return _Merged(
            doc.file,
            self.track,
            Document(
                doc.file,
                _copy(doc.data),
                dict(doc.values),
                dict(doc.keys),
                dict(doc.raw),
                set(doc.nulls),
                dict(doc.origins),
            ),
        )

    def _forget(self, path: Path_) -> None:
        """Drop `path` and everything under it from the tables."""
        n = len(path)
        for table in (self.doc.values, self.doc.keys, self.doc.raw, self.doc.origins):
            for p in [p for p in table if p[:n] == path]:
                del table[p]
        self.doc.nulls.difference_update([p for p in self.doc.nulls if p[:n] == path])

    def _forget_leaf(self, path: Path_) -> None:
        """`_forget` for a path that holds a scalar or nothing, so nothing lies under it.

        Entries below a path only come with a mapping or list there (a reset
        forgets what was under it), so dropping the path itself is enough and
        spares a scan of every table for each value a layer overrides.
        """
        doc = self.doc
        doc.values.pop(path, None)
        doc.keys.pop(path, None)
        doc.raw.pop(path, None)
        doc.origins.pop(path, None)
        doc.nulls.discard(path)

    def apply(self, layer: Document, *, last: bool = False) -> None:
        """Merge `layer` on top. `last`: nothing is merged after it, so its mappings and
        lists are taken as they are instead of copied (never written to afterwards)."""
        doc = self.doc
        self._merge(layer.data, (), doc.data, last)
        # Every position this layer wrote now wins; descendants of replaced
        # subtrees were forgotten during the merge.
        doc.values.update(layer.values)
        doc.keys.update(layer.keys)
        doc.raw.update(layer.raw)
        doc.origins.update(dict.fromkeys(layer.values, layer.file))
        doc.origins.update(dict.fromkeys(layer.keys, layer.file))
        if layer.nulls:
            for path in sorted(layer.nulls, key=len):
                self._reset(layer, path)
        if self.track:
            for leaf, leaf_value in leaves(layer.data, ()):
                line, column = layer.values.get(leaf, (1, 1))
                self.history.setdefault(leaf, []).append(
                    Setting(layer.file, line, column, leaf_value)
                )

    def _merge(
        self, source: dict[str, Any], path: Path_, target: dict[str, Any], last: bool = False
    ) -> None:
        doc = self.doc
        for key, value in source.items():
            if key in target:
                current = target[key]
                if isinstance(current, dict):
                    if isinstance(value, dict):
                        self._merge(value, (*path, key), current, last)
                        continue
                    self._forget((*path, key))
                elif isinstance(current, list):
                    self._forget((*path, key))
                else:
                    self._forget_leaf((*path, key))
            elif doc.nulls and (*path, key) in doc.nulls:
                self._forget_leaf((*path, key))
            target[key] = value if last or value.__class__ not in _CONTAINERS else _copy(value)

    def _reset(self, layer: Document, path: Path_) -> None:
        """`key:` with no value: back to the built-in default."""
        node: Any = self.doc.data
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
        self._forget(path)
        self.doc.nulls.add(path)
        if path in layer.keys:
            self.doc.keys[path] = layer.keys[path]
            self.doc.values[path] = layer.values.get(path, layer.keys[path])
            self.doc.origins[path] = layer.file
        if self.track:
            line, column = layer.keys.get(path, (1, 1))
            for leaf in [p for p in self.history if p[: len(path)] == path]:
                self.history[leaf].append(Setting(layer.file, line, column, None))
            if path not in self.history:
                self.history[path] = [Setting(layer.file, line, column, None)]


_CONTAINERS = (dict, list)


def _copy(value: Any) -> Any:
    """A deep copy of loaded data (dicts, lists and immutable scalars)."""
    if isinstance(value, dict):
        return {k: _copy(v) if v.__class__ in _CONTAINERS else v for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) if v.__class__ in _CONTAINERS else v for v in value]
    return value


def leaves(value: Any, path: Path_) -> Iterator[tuple[Path_, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, (*path, key))
    else:
        yield path, value


@dataclass(slots=True)
class Merged:
    """A group's effective document and the files it was made from.

    `doc.data` may share mappings with the top layer's document: read it, do not edit it.
    """

    doc: Document
    diagnostics: list[Diagnostic]
    files: list[str]  # every layer file that contributed, lowest first, then missing bases
    history: dict[Path_, list[Setting]]


def _extends_problem(out: list[Diagnostic], where: Document, code: str, message: str) -> None:
    """A problem with `extends`, reported at that line of the file that says it."""
    line, column = where.position(("extends",))
    out.append(Diagnostic(where.file, line, column, "extends", code, "error", message))


def merge_group(doc: Document, slug: str, layers: Layers, *, track: bool = False) -> Merged:
    """Stack defaults, bases, the group and its overlay entries into one Document."""
    problems: list[Diagnostic] = []
    missing: list[str] = []  # bases named but absent: creating one must invalidate caches
    chain: list[Document] = []
    seen = [slug]
    current: Document = doc
    while True:
        name = current.data.get("extends")
        if name is None:
            break
        if not isinstance(name, str):
            _extends_problem(
                problems,
                current,
                "extends-invalid",
                "`extends` names a base, e.g. `extends: chain`",
            )
            break
        if current is doc and layers.is_group(name):
            _extends_problem(
                problems,
                current,
                "extends-group",
                f"`{name}` is a group, and groups cannot extend groups; move the shared "
                f"settings to groups/_{name}.yaml (a base) and extend that",
            )
            break
        if name in seen:
            cycle = " -> ".join([*seen[1:], name]) if len(seen) > 1 else name
            _extends_problem(
                problems,
                current,
                "extends-cycle",
                f"bases extend each other in a cycle ({cycle}); remove one `extends`",
            )
            break
        base = layers.base(name)
        if base is None:
            path = layers.groups_dir / f"_{name}.yaml"
            missing.append(_display(path))
            if not path.is_file():
                _extends_problem(
                    problems,
                    current,
                    "extends-missing",
                    f"no base `{name}`: create {_display(path)}, or fix the name",
                )
            break
        seen.append(name)
        chain.append(base)
        current = base
    shared = (*((layers.defaults,) if layers.defaults is not None else ()), *reversed(chain))
    if shared and not track:
        merged = layers.merged_prefix(shared)
    else:
        merged = _Merged(doc.file, track)
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
    "extends-not-allowed": (
        "`extends` is written where nothing can extend a base.",
        "Only groups and bases extend a base; remove `extends` from `_defaults.yaml` and "
        "from environment overlays.",
    ),
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
    "owners-for-not-allowed": (
        "`owners_for` is written outside `_defaults.yaml`.",
        "Extra approvers per panel are the platform's to set: move `owners_for` to "
        "groups/_defaults.yaml.",
    ),
    "owners-not-allowed": (
        "`owners` is written in an environment overlay.",
        "Owners belong to files under groups/: name them in the group, a base or _defaults.yaml.",
    ),
}

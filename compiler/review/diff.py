"""What a change to the group files does to the portal, in the admin's terms.

Reviewers of a group pull request should not have to read YAML: `pops diff`
builds the groups at a base commit and in the working tree (both in memory) and
compares the artifacts the portal would read. Settings come from `config.json`
(so a colour respelled from `#ABC` to `#aabbcc` is, rightly, no change), MFA
texts as unified diffs, and every `dist/` file that would change. The
renderers for text, Markdown and JSON live in `compiler.review.diff_report`.

With layers (`compiler.load.layers`) one line of `_defaults.yaml`, a base or an
environment file can change hundreds of groups. `shared_changes` says so up
front: which shared files changed (and at which lines), and how many groups'
effective settings change because of each, found by building the working tree
again with only that file put back as it was at the base.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from compiler.diagnostics import Diagnostic
from compiler.model import Group
from compiler.model.options import by_key, options
from compiler.model.options import show as show_value
from compiler.pipeline.writer import MANIFEST
from compiler.render import render_group
from compiler.review.gitrefs import Base
from compiler.review.sides import Built, SharedFile, SharedKind, Side

__all__ = ["Built", "SharedFile", "SharedKind", "Side"]  # (their home is compiler.review.sides)

# --- admin labels -------------------------------------------------------------------------
# Labels, display kinds and which config.json keys are settings all come from the model
# (compiler.model.options): a field added to a panel is labelled here without an edit.


def label(path: str) -> str:
    """`payments.require_cvv` -> `Payments › Require CVV`, as the admin panel says it."""
    option = by_key().get(path)
    if option is not None:
        return option.title
    return " › ".join(p.replace("_", " ").capitalize() for p in path.split("."))


def _model_paths(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(camelCase path in config.json, snake_case path in the group file) for every leaf."""
    from compiler.render.portal_config import camel

    for name, info in model.model_fields.items():
        key = info.alias or name
        snake = f"{prefix}{key}"
        camel_path = ".".join(camel(part) for part in snake.split("."))
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield camel_path + ".", snake + "."  # a section: walked into, not a setting
            yield from _model_paths(annotation, snake + ".")
        else:
            yield camel_path, snake


def setting_paths() -> list[str]:
    """Every leaf key path of a group file."""
    return [o.key for o in options() if o.key != "schema"]


# config.json path -> group-file path for every setting; a section ends with ".". Keys
# not here (schemaVersion, slug, theme.stylesheet, payments.methods...) are derived by
# the compiler: their changes show up as the settings (and files) they come from.
_CAMEL_TO_SNAKE = dict(_model_paths(Group))


def settings_of(config: dict[str, Any]) -> dict[str, Any]:
    """config.json flattened to {group-file key path: value}, derived keys left out."""
    flat: dict[str, Any] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if path + "." in _CAMEL_TO_SNAKE and isinstance(value, dict):
                walk(value, path + ".")
            elif path in _CAMEL_TO_SNAKE:
                flat[_CAMEL_TO_SNAKE[path]] = value

    walk(config, "")
    return flat


def show(value: Any, path: str | None = None) -> str:
    """A setting's value as the admin panel shows it: on/off, not set, $5.00, the text."""
    option = by_key().get(path) if path is not None else None
    return show_value(value, option.kind if option is not None else None)


# --- the comparison ------------------------------------------------------------------------

Status = Literal["added", "removed", "renamed", "changed", "fixed", "edited"]
FileStatus = Literal["added", "removed", "changed"]

MAX_TEXT_DIFF_LINES = 200


@dataclass(slots=True)
class SettingChange:
    path: str
    label: str
    old: Any
    new: Any
    diff: list[str] | None = None  # unified diff lines, for the MFA texts


@dataclass(slots=True)
class FileChange:
    path: str  # relative to dist/
    change: FileStatus


@dataclass(slots=True)
class GroupChange:
    """What happens to one group; `status` says which of the fields matter."""

    slug: str
    name: str
    status: Status
    file: str
    previous_slug: str | None = None
    previous_file: str | None = None
    settings: list[SettingChange] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    base_errors: list[Diagnostic] = field(default_factory=list)
    source_diff: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SharedChange:
    """A shared file that differs between the base and the working tree, and what it does."""

    kind: SharedKind
    file: str
    change: FileStatus
    lines: list[tuple[int, int]]  # line ranges of the new file that were added or changed
    removed_lines: list[tuple[int, int]]  # line ranges of the old file deleted outright
    groups: list[str]  # slugs whose effective settings change because of this file alone
    environment: str | None = None  # an overlay's environment, when it is not the one compared

    @property
    def verb(self) -> str:
        return {"added": "adding", "removed": "removing", "changed": "changing"}[self.change]


@dataclass(slots=True)
class DiffReport:
    base: Base
    groups: list[GroupChange]
    files: list[FileChange]  # outside any group folder: manifest.json
    env: str | None = None  # the environment compared (dist/<env>/), None for the base build
    shared: list[SharedChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the portal sees a difference (a comment-only edit of a shared file: no)."""
        return bool(self.groups or self.files)

    @property
    def dist(self) -> str:
        """The output folder the file paths are relative to, as `pops build` writes it."""
        return f"dist/{self.env}/" if self.env is not None else "dist/"

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for group in self.groups:
            result[group.status] = result.get(group.status, 0) + 1
        return result


def text_diff(
    old: str | None, new: str | None, *, old_name: str = "before", new_name: str = "after"
) -> list[str]:
    """A unified diff of two texts, capped so one pasted novel cannot drown the report."""
    lines = list(
        difflib.unified_diff(
            (old or "").splitlines(),
            (new or "").splitlines(),
            fromfile=old_name if old is not None else "(not set)",
            tofile=new_name if new is not None else "(not set)",
            lineterm="",
        )
    )
    if len(lines) > MAX_TEXT_DIFF_LINES:
        cut = len(lines) - MAX_TEXT_DIFF_LINES
        lines = [*lines[:MAX_TEXT_DIFF_LINES], f"… {cut} more lines not shown"]
    return lines


def setting_changes(old: dict[str, Any], new: dict[str, Any]) -> list[SettingChange]:
    """Settings whose value differs, in the order of the group file."""
    before, after = settings_of(old), settings_of(new)
    changes: list[SettingChange] = []
    for path in [*after, *(p for p in before if p not in after)]:
        a, b = before.get(path), after.get(path)
        if a == b:
            continue
        change = SettingChange(path, label(path), a, b)
        multiline = any(isinstance(v, str) and "\n" in v.strip("\n") for v in (a, b))
        option = by_key().get(path)
        if (option is not None and option.kind == "multiline") or multiline:
            change.diff = text_diff(a if a is None else str(a), b if b is None else str(b))
        changes.append(change)
    return changes


def file_changes(old: dict[str, str], new: dict[str, str]) -> list[FileChange]:
    """dist/ files added, removed or changed, from each side's sha256 of each file."""
    changes = []
    for path in sorted(set(old) | set(new)):
        if path not in old:
            changes.append(FileChange(path, "added"))
        elif path not in new:
            changes.append(FileChange(path, "removed"))
        elif old[path] != new[path]:
            changes.append(FileChange(path, "changed"))
    return changes


def _defaults(slug: str, name: str) -> dict[str, Any]:
    """config.json of a group that sets nothing but its name: what "default" means."""
    group = Group.model_validate({"name": name})
    data: dict[str, Any] = json.loads(render_group(slug, group)[f"groups/{slug}/config.json"])
    return data


def _similarity(a: bytes, b: bytes) -> float:
    matcher = difflib.SequenceMatcher(None, a.splitlines(), b.splitlines(), autojunk=False)
    return matcher.ratio() if matcher.real_quick_ratio() >= 0.5 else 0.0


def _pair_renames(removed: list[Built], added: list[Built]) -> list[tuple[Built, Built]]:
    """A removed and an added file at least half alike are one group renamed (as git does)."""
    scored = sorted(
        (
            (-_similarity(old.source, new.source), old.slug, new.slug, old, new)
            for old in removed
            for new in added
        ),
        key=lambda item: item[:3],
    )
    pairs: list[tuple[Built, Built]] = []
    taken: set[str] = set()
    for score, old_slug, new_slug, old, new in scored:
        if -score < 0.5 or old_slug in taken or new_slug in taken:
            continue
        taken.update((old_slug, new_slug))
        pairs.append((old, new))
    return pairs


def compare_group(old: Built, new: Built) -> GroupChange | None:
    """What building `new` instead of `old` changes for one group (None: nothing at all)."""
    renamed = old.slug != new.slug
    old_files, new_files = old.file_digests(), new.file_digests()
    same = old_files is not None and old_files == new_files and old.source == new.source
    if same and not renamed:
        return None  # (the same config.json: the same settings)
    files = file_changes(old_files or {}, new_files or {})
    change = GroupChange(new.slug, new.name, "renamed" if renamed else "changed", new.file)
    if renamed:
        change.previous_slug, change.previous_file = old.slug, old.file
    change.files = files
    old_config, new_config = old.config, new.config
    if old_config is None:
        change.status = "fixed"
        change.base_errors = old.errors
        change.source_diff = text_diff(
            old.source.decode("utf-8", "replace"),
            new.source.decode("utf-8", "replace"),
            old_name=old.file,
            new_name=new.file,
        )
        return change
    if new_config is not None:
        change.settings = setting_changes(old_config, new_config)
    if renamed:
        return change
    if not change.settings and not files:
        if old.source == new.source:
            return None
        change.status = "edited"
    return change


def compare(
    base: Base, before: Side, after: Side, known: dict[str, GroupChange | None] | None = None
) -> DiffReport:
    """Group by group, what building `after` instead of `before` changes.

    `known` holds what `compare_group` gives for groups of the same slug on both
    sides, where it was worked out already (by `pops preview`'s workers).
    (Which shared files changed, and the groups each one changes, is
    `compiler.review.shared.shared_changes`.)
    """
    known = known or {}
    removed = [before.groups[s] for s in sorted(before.groups) if s not in after.groups]
    added = [after.groups[s] for s in sorted(after.groups) if s not in before.groups]
    pairs = _pair_renames(removed, added)
    paired = {old.slug for old, _ in pairs} | {new.slug for _, new in pairs}
    changes: list[GroupChange] = []
    for slug in sorted(set(before.groups) & set(after.groups)):
        if slug in known:
            found = known[slug]
        else:
            found = compare_group(before.groups[slug], after.groups[slug])
        if found is not None:
            changes.append(found)
    for old, new in pairs:
        found = compare_group(old, new)
        if found is not None:
            changes.append(found)
    for new in added:
        if new.slug in paired:
            continue
        change = GroupChange(new.slug, new.name, "added", new.file)
        change.files = file_changes({}, new.file_digests() or {})
        config = new.config
        if config is not None:
            defaults = _defaults(new.slug, str(config["name"]))
            change.settings = setting_changes(defaults, config)
        changes.append(change)
    for old in removed:
        if old.slug in paired:
            continue
        change = GroupChange(old.slug, old.name, "removed", old.file)
        change.files = file_changes(old.file_digests() or {}, {})
        changes.append(change)
    changes.sort(key=lambda c: c.slug)
    files: list[FileChange] = []
    if after.manifest is not None and before.manifest != after.manifest:
        existed = before.manifest is not None or bool(before.groups)
        files.append(FileChange(MANIFEST, "changed" if existed else "added"))
    return DiffReport(base, changes, files, env=after.env)


def line_changes(old: bytes, new: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(new-file lines added or changed, old-file lines deleted outright), 1-based ranges."""
    a = old.decode("utf-8", "replace").splitlines()
    b = new.decode("utf-8", "replace").splitlines()
    changed: list[tuple[int, int]] = []
    removed: list[tuple[int, int]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if j2 > j1:
            changed.append((j1 + 1, j2))
        else:
            removed.append((i1 + 1, i2))
    return changed, removed

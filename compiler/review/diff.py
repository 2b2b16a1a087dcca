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

import contextlib
import difflib
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel

from compiler.diagnostics import Diagnostic
from compiler.load.files import MAX_BYTES, read_all
from compiler.load.layers import DEFAULTS, Layers, load_layers, merge_group
from compiler.load.located import load_file
from compiler.model import Group
from compiler.model.options import by_key, options
from compiler.model.options import show as show_value
from compiler.pipeline.build import compile_group, compile_groups, discover, env_dir_for
from compiler.pipeline.writer import MANIFEST
from compiler.render import render_group
from compiler.review.gitrefs import Base, GitError, export_folder, repo_relative

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


# --- one side of the comparison ------------------------------------------------------------


@dataclass(slots=True)
class Built:
    """One group file on one side: its source, its problems and, when valid, its files."""

    slug: str
    file: str
    source: bytes
    diagnostics: list[Diagnostic]
    files: dict[str, bytes] | None  # relative to the output folder, like dist/

    @property
    def config(self) -> dict[str, Any] | None:
        if self.files is None:
            return None
        data = self.files.get(f"groups/{self.slug}/config.json")
        return json.loads(data) if data is not None else None

    @property
    def name(self) -> str:
        config = self.config
        return str(config["name"]) if config else self.slug

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


SharedKind = Literal["defaults", "base", "environment"]
_KIND_ORDER = {"defaults": 0, "base": 1, "environment": 2}


@dataclass(frozen=True, slots=True)
class SharedFile:
    """A file that shapes many groups: `_defaults.yaml`, a base, an environment overlay."""

    kind: SharedKind
    name: str  # the file name: `_defaults.yaml`, `_chain.yaml`, `staging.yaml`
    file: str  # as shown to the admin: `groups/_defaults.yaml`
    data: bytes

    @property
    def key(self) -> tuple[SharedKind, str]:
        return self.kind, self.name


@dataclass(slots=True)
class Side:
    """Everything one build would produce, held in memory."""

    groups: dict[str, Built]
    diagnostics: list[Diagnostic]
    manifest: bytes | None
    shared: dict[tuple[SharedKind, str], SharedFile] = field(default_factory=dict)
    # Where the sources were read (the working tree's folders stay; a base's were temporary).
    groups_dir: Path | None = None
    env: str | None = None  # the environment whose overlay was applied
    env_dir: Path | None = None

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


class _Memory:
    """A sink that keeps the files instead of writing them."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def write(self, rel: str, data: bytes) -> None:
        self.files[rel] = data


def compile_side(
    groups_dir: Path,
    *,
    shown_from: Path | None = None,
    env: str | None = None,
    env_dir: Path | None = None,
) -> Side:
    """Compile every group under `groups_dir` in memory, keeping each group's outcome.

    A group with errors does not stop the others from being compiled (a base
    commit may hold an invalid group; it is reported, not fatal). `shown_from`
    is a temporary root whose prefix is cut from file names in diagnostics.
    With `env`, the build is that environment's (what `pops build` writes to
    `dist/<env>/`); without, the base build (`dist/` itself, no overlay).
    """
    folder = env_dir_for(groups_dir, env_dir)

    def shown_path(path: Path) -> str:
        absolute = (Path.cwd() / path).resolve()
        for root in (shown_from, Path.cwd()):
            if root is not None:
                with contextlib.suppress(ValueError):
                    return absolute.relative_to(root.resolve()).as_posix()
        return path.as_posix()

    def shown(d: Diagnostic) -> Diagnostic:
        return d if shown_from is None else replace(d, file=shown_path(Path(d.file)))

    shared: dict[tuple[SharedKind, str], SharedFile] = {}
    candidates: list[tuple[SharedKind, Path]] = []
    if groups_dir.is_dir():
        for path in sorted(groups_dir.glob("_*.yaml")):
            kind: SharedKind = "defaults" if path.name == f"{DEFAULTS}.yaml" else "base"
            candidates.append((kind, path))
    if folder.is_dir():
        env_files = [folder / f"{env}.yaml"] if env is not None else sorted(folder.glob("*.yaml"))
        candidates += [("environment", path) for path in env_files]
    for kind, path in candidates:
        try:  # (what cannot be read as a source, the compilation below reports)
            data = read_all(path, MAX_BYTES)
        except OSError:
            continue
        item = SharedFile(kind, path.name, shown_path(path), data)
        shared[item.key] = item
    side = Side({}, [], None, shared, groups_dir, env, folder)
    if not groups_dir.is_dir():
        return side

    memory = _Memory()
    compilation = compile_groups(groups_dir, sink=memory, env=env, env_dir=folder)
    diagnostics = [shown(d) for d in compilation.diagnostics]
    paths, _ = discover([groups_dir])
    groups: dict[str, Built] = {}
    layers: Layers | None = None
    for path in paths:
        slug = path.name.removesuffix(".yaml")
        try:
            source = read_all(path, MAX_BYTES)
        except OSError:
            source = b""
        file = shown_path(path)
        if compilation.ok:
            prefix = f"groups/{slug}/"
            files = {rel: data for rel, data in memory.files.items() if rel.startswith(prefix)}
            mine = [d for d in diagnostics if Path(d.file).name == path.name]
            groups[slug] = Built(slug, file, source, mine, files)
        else:
            if layers is None:
                layers = load_layers(groups_dir, env, folder)
            result = compile_group(path, layers=layers)
            mine = [shown(d) for d in result.diagnostics]
            groups[slug] = Built(slug, file, source, mine, result.files)
    side.groups, side.diagnostics = groups, diagnostics
    side.manifest = memory.files.get(MANIFEST) if compilation.ok else None
    return side


def compile_base(
    base: Base,
    groups_dir: Path,
    cwd: Path,
    *,
    env: str | None = None,
    env_dir: Path | None = None,
) -> Side:
    """The sources as they were at `base`, copied out of git and compiled in memory.

    That is the groups folder (with `_defaults.yaml` and the bases in it) and
    the environments folder, so a layer edit shows up as the change it is. An
    environment that did not exist at the base is built there without overlay.
    """
    folder = repo_relative(groups_dir, cwd)
    try:
        env_folder: PurePosixPath | None = repo_relative(env_dir_for(groups_dir, env_dir), cwd)
    except GitError:
        if env is not None:
            raise
        env_folder = None  # environments kept outside the repository: not compared
    with tempfile.TemporaryDirectory(prefix="pops-base-") as tmp:
        root = Path(tmp)
        export_folder(base.commit, folder, root, cwd)
        if env_folder is not None and env_folder != folder:
            export_folder(base.commit, env_folder, root, cwd)
        base_env_dir = root / (env_folder if env_folder is not None else "environments")
        if env is not None and not (base_env_dir / f"{env}.yaml").is_file():
            env = None
        side = compile_side(root / folder, shown_from=root, env=env, env_dir=base_env_dir)
        side.groups_dir = side.env_dir = None  # gone with the temporary folder
        return side


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


def file_changes(old: dict[str, bytes], new: dict[str, bytes]) -> list[FileChange]:
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


def _compare(old: Built, new: Built) -> GroupChange | None:
    renamed = old.slug != new.slug
    files = file_changes(old.files or {}, new.files or {})
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


def compare(base: Base, before: Side, after: Side, *, shared: bool = False) -> DiffReport:
    """Group by group, what building `after` instead of `before` changes.

    With `shared`, also which shared files changed and which groups each one
    changes (this builds the working tree again once per changed shared file).
    """
    removed = [before.groups[s] for s in sorted(before.groups) if s not in after.groups]
    added = [after.groups[s] for s in sorted(after.groups) if s not in before.groups]
    pairs = _pair_renames(removed, added)
    paired = {old.slug for old, _ in pairs} | {new.slug for _, new in pairs}
    changes: list[GroupChange] = []
    for slug in sorted(set(before.groups) & set(after.groups)):
        found = _compare(before.groups[slug], after.groups[slug])
        if found is not None:
            changes.append(found)
    for old, new in pairs:
        found = _compare(old, new)
        if found is not None:
            changes.append(found)
    for new in added:
        if new.slug in paired:
            continue
        change = GroupChange(new.slug, new.name, "added", new.file)
        change.files = file_changes({}, new.files or {})
        config = new.config
        if config is not None:
            defaults = _defaults(new.slug, str(config["name"]))
            change.settings = setting_changes(defaults, config)
        changes.append(change)
    for old in removed:
        if old.slug in paired:
            continue
        change = GroupChange(old.slug, old.name, "removed", old.file)
        change.files = file_changes(old.files or {}, {})
        changes.append(change)
    changes.sort(key=lambda c: c.slug)
    files: list[FileChange] = []
    if after.manifest is not None and before.manifest != after.manifest:
        existed = before.manifest is not None or bool(before.groups)
        files.append(FileChange(MANIFEST, "changed" if existed else "added"))
    report = DiffReport(base, changes, files, env=after.env)
    if shared:
        report.shared = shared_changes(before, after)
    return report


# --- shared files ----------------------------------------------------------------------------


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


def shared_changes(before: Side, after: Side) -> list[SharedChange]:
    """Each shared file that differs between the sides, with the groups it changes.

    A group counts for a file when its effective settings differ between the
    working tree and the working tree with only that file as it was at the
    base: so a group that overrides the edited value does not count, and one
    whose own file also changed counts only for what the shared file did.
    Without an environment, overlay files are still reported, each with the
    groups it changes in its own environment's build.
    """
    keys = sorted(set(before.shared) | set(after.shared), key=lambda k: (_KIND_ORDER[k[0]], k[1]))
    out: list[SharedChange] = []
    for key in keys:
        kind, name = key
        if kind == "environment" and after.env is not None and name != f"{after.env}.yaml":
            continue
        old, new = before.shared.get(key), after.shared.get(key)
        if old is not None and new is not None and old.data == new.data:
            continue
        shown = new if new is not None else old
        assert shown is not None
        change: FileStatus = "added" if old is None else "removed" if new is None else "changed"
        lines, removed = line_changes(
            old.data if old is not None else b"", new.data if new is not None else b""
        )
        environment = name.removesuffix(".yaml") if kind == "environment" else None
        out.append(
            SharedChange(
                kind,
                shown.file,
                change,
                lines,
                removed,
                _affected(after, kind, name, old.data if old is not None else None),
                environment if environment != after.env else None,
            )
        )
    return out


def _affected(after: Side, kind: SharedKind, name: str, old: bytes | None) -> list[str]:
    """Slugs whose settings differ when `name` alone is put back as it was (`old`)."""
    groups_dir, env_dir = after.groups_dir, after.env_dir
    if groups_dir is None or env_dir is None:
        return []
    scope = name.removesuffix(".yaml") if kind == "environment" else after.env
    with tempfile.TemporaryDirectory(prefix="pops-shared-") as tmp:
        # The working tree's shared files, with this one as it was; group files are read
        # from the working tree itself.
        mirror_groups, mirror_env = Path(tmp) / "groups", Path(tmp) / "environments"
        mirror_groups.mkdir()
        mirror_env.mkdir()
        for path in groups_dir.glob("_*.yaml"):
            if path.is_file():
                shutil.copyfile(path, mirror_groups / path.name)
        if scope is not None and (env_dir / f"{scope}.yaml").is_file():
            shutil.copyfile(env_dir / f"{scope}.yaml", mirror_env / f"{scope}.yaml")
        target = (mirror_env if kind == "environment" else mirror_groups) / name
        target.unlink(missing_ok=True)
        if old is not None:
            target.write_bytes(old)

        def layers_for(groups: Path, envs: Path) -> Layers:
            present = scope is not None and (envs / f"{scope}.yaml").is_file()
            return load_layers(groups, scope if present else None, envs)

        now = layers_for(groups_dir, env_dir)
        then = layers_for(mirror_groups, mirror_env)
        now_file = _shown((env_dir if kind == "environment" else groups_dir) / name)
        then_file = _shown(target)
        affected: list[str] = []
        for slug in sorted(after.groups):
            path = groups_dir / f"{slug}.yaml"
            doc, _ = load_file(path, _shown(path))
            if doc is None:
                continue
            if (
                now_file not in merge_group(doc, slug, now).files
                and then_file not in merge_group(doc, slug, then).files
            ):
                continue  # this group does not read the file on either side
            if scope == after.env:
                current = after.groups[slug].config
            else:
                current = _config(compile_group(path, layers=now).files, slug)
            previous = _config(compile_group(path, layers=then).files, slug)
            if current is None and previous is None:
                continue
            if current is None or previous is None or settings_of(current) != settings_of(previous):
                affected.append(slug)
        return affected


def _shown(path: Path) -> str:
    """A path the way `compiler.load.layers` names the files a group was merged from."""
    return path.as_posix().removeprefix("./")


def _config(files: dict[str, bytes] | None, slug: str) -> dict[str, Any] | None:
    data = (files or {}).get(f"groups/{slug}/config.json")
    return json.loads(data) if data is not None else None

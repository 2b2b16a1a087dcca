"""What `pops validate PATH` checks when PATH is a shared layer rather than a group.

`groups/_defaults.yaml`, a base (`groups/_<name>.yaml`) and an environment
overlay (`environments/<env>.yaml`) are not groups: validated as one they
would only draw "missing name" and "invalid slug" errors. Named on the command
line, a layer is checked as what it is (its own unknown keys, wrong types and
YAML pitfalls, at its own lines) together with every group it shapes, so the
admin editing it sees exactly the groups it would break, each problem located
in the file that wrote the value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from compiler.diagnostics import Diagnostic
from compiler.load.layers import DEFAULTS, Layers, environments, load_layers
from compiler.load.located import load_file
from compiler.pipeline.discovery import discover, display_path


class TargetError(Exception):
    """Paths that cannot be validated together; the message says what to run instead."""


@dataclass(slots=True)
class Selection:
    """The groups to compile for the named paths, and which problems belong to the answer."""

    groups: list[Path]
    env: str | None
    layers: list[str] = field(default_factory=list)  # display paths of the layers named
    used: set[str] = field(default_factory=set)  # shared files the selected groups stack
    own: list[Diagnostic] = field(default_factory=list)  # layer files' problems on their own
    _own_keys: set[tuple[str, int, int, str]] = field(default_factory=set, repr=False)

    def own_problems(self) -> list[Diagnostic]:
        """The named layers' problems, found in them on their own."""
        named = set(self.layers)
        return [d for d in self.own if d.file in named]

    def keep(self, d: Diagnostic) -> bool:
        """False for a layer's own problem when that layer shapes none of the selected groups
        (an unused base, another environment's overlay): it is not what was asked about."""
        return d.file in self.used or (d.file, d.line, d.column, d.code) not in self._own_keys


def _folder(path: Path) -> Path | None:
    try:
        return path.resolve()
    except OSError:
        return None


def _layer_display(groups_dir: Path, name: str) -> str:
    return (groups_dir / name).as_posix().removeprefix("./")


def select(
    paths: Iterable[Path], groups_dir: Path, env_dir: Path, env: str | None
) -> Selection | None:
    """The selection for `paths`, or None when no layer is named (plain group validation).

    A `_*.yaml` file in the groups folder is a shared layer; a `.yaml` file in the
    environments folder is that environment's overlay, and selects its environment.
    """
    paths = list(paths)
    groups_at, env_at = _folder(groups_dir), _folder(env_dir)
    named: list[str] = []  # layer file names in the groups folder
    overlays: list[str] = []
    rest: list[Path] = []
    for path in paths:
        is_file = path.is_file()
        folder = _folder(path.parent) if is_file else None
        if folder is not None and path.name.endswith(".yaml") and folder == env_at:
            overlays.append(path.name.removesuffix(".yaml"))
        elif is_file and path.name.startswith("_") and path.name.endswith(".yaml"):
            if folder is None or folder != groups_at:
                raise TargetError(
                    f"{display_path(path)} looks like a shared layer (its name starts with `_`) "
                    f"but is not in the groups folder {groups_dir.as_posix()}/; "
                    f"pass --groups {display_path(path.parent)}"
                )
            named.append(path.name)
        else:
            rest.append(path)
    if not named and not overlays:
        return None
    if len(set(overlays)) > 1 or (overlays and env is not None and env != overlays[0]):
        chosen = sorted({*overlays, *([env] if env else [])})
        raise TargetError(
            "one environment at a time: validate "
            + " and ".join(f"{env_dir.as_posix()}/{name}.yaml" for name in chosen)
            + " in separate runs"
        )
    scope = overlays[0] if overlays else env
    return _resolve(groups_dir, env_dir, scope, named, bool(overlays), rest)


def _resolve(
    groups_dir: Path,
    env_dir: Path,
    env: str | None,
    named: list[str],
    overlay_named: bool,
    rest: list[Path],
) -> Selection:
    layers = load_layers(groups_dir, env, env_dir)
    wanted = {_layer_display(groups_dir, name) for name in named}
    # _defaults.yaml applies under every group, and so does the overlay of the scope run.
    used = {*wanted, _layer_display(groups_dir, f"{DEFAULTS}.yaml")}
    if layers.overlay_file is not None:
        used.add(layers.overlay_file)
    shown = sorted(wanted)
    if overlay_named and layers.overlay_file is not None:
        shown.append(layers.overlay_file)
    selection = Selection([], env, shown)
    chosen, _ = discover(rest)
    explicit = {p.resolve() for p in chosen}
    every_group = DEFAULTS + ".yaml" in named
    for path in discover([groups_dir])[0] if groups_dir.is_dir() else []:
        bases = _bases(path, layers, groups_dir)
        slug = path.name.removesuffix(".yaml")
        targeted = overlay_named and any(
            e.targets is None or slug in e.targets for e in layers.overlay
        )
        named_too = bool(explicit) and path.resolve() in explicit
        if every_group or targeted or wanted & bases or named_too:
            selection.groups.append(path)
            if named_too:
                explicit.discard(path.resolve())
            used |= bases
    selection.groups += [p for p in chosen if p.resolve() in explicit]  # outside the folder
    selection.used = used
    own = list(layers.diagnostics)
    for scope in environments(env_dir) if env is None else []:
        own += load_layers(groups_dir, scope, env_dir, every_base=False).diagnostics
    selection.own = own
    selection._own_keys = {(d.file, d.line, d.column, d.code) for d in own}
    return selection


def _bases(path: Path, layers: Layers, groups_dir: Path) -> set[str]:
    """Display paths of the base files a group extends, directly or through other bases."""
    doc, _ = load_file(path)
    out: set[str] = set()
    name = doc.data.get("extends") if doc is not None else None
    while isinstance(name, str) and not layers.is_group(name):
        display = _layer_display(groups_dir, f"_{name}.yaml")
        if display in out:
            break
        out.add(display)
        base = layers.base(name)
        name = base.data.get("extends") if base is not None else None
    return out

"""One side of a `pops diff`: every group's outcome, as a build of those sources gives it.

`compile_side` builds the working tree and `compile_base` a commit, both in
memory and group by group, holding every file's bytes (`pops preview` shows
them). The fleet-scale path (`compiler.review.plan`) fills the same `Side`
with each file's sha256 instead, and reads `config.json` only where it is
compared.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from compiler.diagnostics import Diagnostic
from compiler.load.files import MAX_BYTES, read_all
from compiler.load.layers import DEFAULTS, Layers, load_layers
from compiler.pipeline.build import compile_group, compile_groups, discover, env_dir_for
from compiler.pipeline.writer import MANIFEST
from compiler.review.gitrefs import Base, GitError, export_folders, repo_relative


@dataclass(slots=True)
class Built:
    """One group file on one side: its source, its problems and, when valid, its files."""

    slug: str
    file: str
    source: bytes
    diagnostics: list[Diagnostic]
    files: dict[str, bytes] | None  # relative to the output folder, like dist/
    # Without the bytes (the fleet-scale path): each file's sha256, and config.json's
    # bytes or where to read them.
    digests: dict[str, str] | None = None
    config_data: bytes | None = None
    config_path: Path | None = None
    parsed: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def config(self) -> dict[str, Any] | None:
        if self.parsed is not None:
            return self.parsed
        data = self.config_data
        if self.files is not None:
            data = self.files.get(f"groups/{self.slug}/config.json")
        elif data is None and self.config_path is not None and self.digests is not None:
            data = self.config_path.read_bytes()
        if data is None:
            return None
        import orjson  # (the same values as json.loads, faster: a diff may read ten thousand)

        try:
            self.parsed = orjson.loads(data)
        except orjson.JSONDecodeError:  # (e.g. an escaped lone surrogate, which json takes)
            self.parsed = json.loads(data)
        return self.parsed

    def file_digests(self) -> dict[str, str] | None:
        """sha256 of each file it builds (None: it does not build)."""
        if self.digests is not None or self.files is None:
            return self.digests
        return {rel: hashlib.sha256(data).hexdigest() for rel, data in self.files.items()}

    @property
    def name(self) -> str:
        config = self.config
        return str(config["name"]) if config else self.slug

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


SharedKind = Literal["defaults", "base", "environment"]
KIND_ORDER = {"defaults": 0, "base": 1, "environment": 2}


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


class Shown:
    """Names files as the admin knows them: below a temporary root, or the working folder."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._folders: dict[Path, str] = {}

    def path(self, path: Path) -> str:
        absolute = (Path.cwd() / path).resolve()
        for root in (self.root, Path.cwd()):
            if root is not None:
                with contextlib.suppress(ValueError):
                    return absolute.relative_to(root.resolve()).as_posix()
        return path.as_posix()

    def in_folder(self, folder: Path, path: Path) -> str:
        """`path` (a file right in `folder`) as `path()` names it, resolving the folder once."""
        if path.is_symlink():
            return self.path(path)
        known = self._folders.get(folder)
        if known is None:
            known = self._folders[folder] = self.path(folder)
        return f"{known}/{path.name}" if known not in ("", ".") else path.name

    def diagnostic(self, d: Diagnostic) -> Diagnostic:
        return d if self.root is None else replace(d, file=self.path(Path(d.file)))


def shared_files(
    groups_dir: Path, folder: Path, env: str | None, shown: Shown
) -> dict[tuple[SharedKind, str], SharedFile]:
    """The defaults, bases and environment files one side reads (all overlays without `env`)."""
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
        try:  # (what cannot be read as a source, the compilation reports)
            data = read_all(path, MAX_BYTES)
        except OSError:
            continue
        item = SharedFile(kind, path.name, shown.path(path), data)
        shared[item.key] = item
    return shared


def read_source(path: Path) -> bytes:
    try:
        return read_all(path, MAX_BYTES)
    except OSError:
        return b""


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
    shown = Shown(shown_from)
    side = Side({}, [], None, shared_files(groups_dir, folder, env, shown), groups_dir, env, folder)
    if not groups_dir.is_dir():
        return side
    memory = _Memory()
    compilation = compile_groups(groups_dir, sink=memory, env=env, env_dir=folder)
    diagnostics = [shown.diagnostic(d) for d in compilation.diagnostics]
    paths, _ = discover([groups_dir])
    groups: dict[str, Built] = {}
    layers: Layers | None = None
    for path in paths:
        slug = path.name.removesuffix(".yaml")
        source, file = read_source(path), shown.path(path)
        if compilation.ok:
            prefix = f"groups/{slug}/"
            files = {rel: data for rel, data in memory.files.items() if rel.startswith(prefix)}
            mine = [d for d in diagnostics if Path(d.file).name == path.name]
            groups[slug] = Built(slug, file, source, mine, files)
        else:
            if layers is None:
                layers = load_layers(groups_dir, env, folder)
            result = compile_group(path, layers=layers)
            mine = [shown.diagnostic(d) for d in result.diagnostics]
            groups[slug] = Built(slug, file, source, mine, result.files)
    side.groups, side.diagnostics = groups, diagnostics
    side.manifest = memory.files.get(MANIFEST) if compilation.ok else None
    return side


def base_folders(
    groups_dir: Path, cwd: Path, env: str | None, env_dir: Path | None
) -> tuple[PurePosixPath, PurePosixPath | None]:
    """The groups and environments folders inside the repository (None: kept outside it)."""
    folder = repo_relative(groups_dir, cwd)
    try:
        env_folder: PurePosixPath | None = repo_relative(env_dir_for(groups_dir, env_dir), cwd)
    except GitError:
        if env is not None:
            raise
        env_folder = None  # environments kept outside the repository: not compared
    return folder, env_folder


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
    folder, env_folder = base_folders(groups_dir, cwd, env, env_dir)
    with tempfile.TemporaryDirectory(prefix="pops-base-") as tmp:
        root = Path(tmp)
        export_folders(base.commit, [folder, *([env_folder] if env_folder else [])], root, cwd)
        base_env_dir = root / (env_folder if env_folder is not None else "environments")
        if env is not None and not (base_env_dir / f"{env}.yaml").is_file():
            env = None
        side = compile_side(root / folder, shown_from=root, env=env, env_dir=base_env_dir)
        side.groups_dir = side.env_dir = None  # gone with the temporary folder
        return side

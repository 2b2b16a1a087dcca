"""Read a built `dist/`, prove every byte matches its manifest, and plan the published files.

The only transformation publish makes is in each group's `config.json`: a reference
to another file of the build (a string under a key ending in `path`, `url`, `href`
or `src` that names a file in the manifest, relative to the output folder or to the
config's own folder) is replaced by that file's immutable object key, written the
same way (`objects/ab/ab12….css`, or `../../objects/ab/ab12….css`). A sibling key
ending in `sha256` must equal the file's digest and is kept. So the published config
only ever points at content that cannot change, and a reader that follows `path`
from the site root gets exactly the bytes the sha256 promises.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from compiler.pipeline.ownership import MARKER
from compiler.publish import layout
from compiler.publish.errors import PublishError

_REF_SUFFIXES = ("path", "url", "href", "src")


@dataclass(frozen=True)
class PlannedFile:
    """One file of the build: its dist path and digest, and the object that publishes it."""

    path: str
    sha256: str
    size: int
    object: str

    @property
    def object_sha256(self) -> str:
        digest = layout.object_sha256(self.object)
        assert digest is not None
        return digest


@dataclass
class DistPlan:
    """Everything a release needs, computed from dist/ before touching the target."""

    root: Path
    compiler: str
    inputs_digest: str
    files: list[PlannedFile]
    rewritten: dict[str, bytes] = field(default_factory=dict)  # object key -> published bytes

    @property
    def groups(self) -> list[str]:
        return sorted({g for f in self.files if (g := layout.group_of(f.path)) is not None})

    @cached_property
    def objects(self) -> dict[str, PlannedFile]:
        """Distinct objects to have on the target (identical files share one)."""
        return {f.object: f for f in self.files}

    def payload(self, key: str) -> bytes:
        """The exact bytes of object `key`, re-read and re-hashed so a changing dist/ is caught."""
        if key in self.rewritten:
            return self.rewritten[key]
        planned = self.objects[key]
        data = (self.root / planned.path).read_bytes()
        if hashlib.sha256(data).hexdigest() != planned.sha256:
            raise PublishError(f"{planned.path} changed while publishing; rebuild and rerun")
        return data


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_dist(root: Path) -> DistPlan:
    """Verify dist/ against manifest.json (sha256 we compute, size, no extra files) and plan it."""
    manifest, listed = _read_manifest(root / "manifest.json")
    contents = _verified_contents(root, listed)
    files: list[PlannedFile] = []
    rewritten: dict[str, bytes] = {}
    for path in sorted(listed):
        digest, size = listed[path]
        if layout.is_entry(path):
            published = rewrite_config(contents[path], path, listed)
            key = layout.object_key(sha256_hex(published), path)
            if published != contents[path]:
                rewritten[key] = published
        else:
            key = layout.object_key(digest, path)
        files.append(PlannedFile(path, digest, size, key))
    return DistPlan(
        root=root,
        compiler=str(manifest.get("compiler", "")),
        inputs_digest=str(manifest.get("inputsDigest", "")),
        files=files,
        rewritten=rewritten,
    )


def _read_manifest(manifest_path: Path) -> tuple[dict[str, Any], dict[str, tuple[str, int]]]:
    """The build manifest and its files: path -> (sha256, size)."""
    try:
        manifest = json.loads(manifest_path.read_bytes())
        entries = manifest["files"]
        if not isinstance(entries, list):
            raise TypeError("files is not a list")
    except FileNotFoundError:
        raise PublishError(f"{manifest_path} not found: run `pops build` first") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise PublishError(f"{manifest_path} is not a build manifest: {exc}") from None

    listed: dict[str, tuple[str, int]] = {}
    for entry in entries:
        try:
            path = layout.check_relative(str(entry["path"]))
            digest, size = str(entry["sha256"]), int(entry["size"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PublishError(f"{manifest_path}: bad entry {entry!r}: {exc}") from None
        if not layout.is_sha256(digest):
            raise PublishError(f"{manifest_path}: {path} has no valid sha256")
        listed[path] = (digest, size)
    return manifest, listed


def _verified_contents(root: Path, listed: dict[str, tuple[str, int]]) -> dict[str, bytes]:
    """Every listed file's bytes, refused unless the folder holds exactly those bytes."""
    # Environment builds (`dist/<env>/`, each with its own manifest) are other builds.
    nested = {d.name for d in root.iterdir() if d.is_dir() and (d / "manifest.json").is_file()}
    on_disk = {
        rel
        for p in root.rglob("*")
        if p.is_file()
        and (rel := p.relative_to(root).as_posix()) not in ("manifest.json", MARKER)
        and rel.split("/", 1)[0] not in nested
    }
    problems = [f"missing: {p}" for p in sorted(set(listed) - on_disk)]
    problems += [f"not in manifest: {p}" for p in sorted(on_disk - set(listed))]
    contents: dict[str, bytes] = {}
    for path in sorted(set(listed) & on_disk):
        data = (root / path).read_bytes()
        digest, size = listed[path]
        if len(data) != size or sha256_hex(data) != digest:
            problems.append(f"bytes differ from manifest: {path}")
        contents[path] = data
    if problems:
        shown = "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if problems[5:] else "")
        raise PublishError(f"{root} does not match its manifest.json, rebuild it: {shown}")
    return contents


def rewrite_config(data: bytes, config_path: str, files: Mapping[str, tuple[str, int]]) -> bytes:
    """Point a config's references to build files at their immutable objects (see module doc).

    Only the referencing strings change: the rest of the file keeps dist's bytes, key
    order and formatting (a full re-serialisation is the fallback when a reference
    cannot be found exactly once in the text).
    """
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise PublishError(f"{config_path} is not JSON: {exc}") from None
    base = posixpath.dirname(config_path)
    edits: list[tuple[str, str, str]] = []
    _rewrite(document, config_path, base, files, edits)
    if not edits:
        return data
    text = data.decode("utf-8")
    for (key, old), count in Counter((k, o) for k, o, _ in edits).items():
        new = next(n for k, o, n in edits if (k, o) == (key, old))
        before, after = (f"{_encode(key)}: {_encode(value)}" for value in (old, new))
        if text.count(before) != count:
            break
        text = text.replace(before, after)
    else:
        if json.loads(text) == document:
            return text.encode("utf-8")
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def _encode(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _rewrite(
    node: Any,
    config_path: str,
    base: str,
    files: Mapping[str, tuple[str, int]],
    edits: list[tuple[str, str, str]],
) -> None:
    """Replace references in place, recording (key, old value, new value) for each."""
    if isinstance(node, list):
        for item in node:
            _rewrite(item, config_path, base, files, edits)
        return
    if not isinstance(node, dict):
        return
    for key, value in list(node.items()):
        if isinstance(value, (dict, list)):
            _rewrite(value, config_path, base, files, edits)
            continue
        if not (isinstance(value, str) and key.lower().endswith(_REF_SUFFIXES)):
            continue
        target, relative = _resolve(value, base, files)
        if target is None or target == config_path:
            continue
        digest = files[target][0]
        for sibling, claimed in node.items():
            if sibling.lower().endswith("sha256") and claimed != digest:
                raise PublishError(
                    f"{config_path}: {key} names {target} with {sibling} {claimed}, "
                    f"but the file's sha256 is {digest}; rebuild"
                )
        obj = layout.object_key(digest, target)
        node[key] = posixpath.relpath(obj, base) if relative else obj
        edits.append((key, value, node[key]))


def _resolve(
    value: str, base: str, files: Mapping[str, tuple[str, int]]
) -> tuple[str | None, bool]:
    """Which build file a reference names: relative to dist/ first, then to the config's folder."""
    if value in files:
        return value, False
    joined = posixpath.normpath(posixpath.join(base, value))
    if joined in files:
        return joined, True
    return None, False

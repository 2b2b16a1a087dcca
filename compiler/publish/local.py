"""The local-folder target: objects, release trees, and a `current` symlink renamed into place.

```
<root>/objects/ab/ab12….css          immutable objects (mode 0444)
<root>/trees/cd/cd34…/               one group's files as relative symlinks to objects (its
                                     config rewritten), named by the digest of that list;
                                     shared by every release where the group is unchanged
<root>/releases/<id>/                one tree per release: `groups/<slug> -> trees/…`,
                                     `objects -> ../../objects`, release.json (and any file
                                     outside groups/ as a symlink); renamed into place whole
<root>/current -> releases/<id>      THE switch: a new symlink renamed over the old one
<root>/.pops/state.json              keep + switch history (the live release is the symlink)
<root>/.pops/lock.json               the lock, created with link(2): exists or not, never half
```

A web server serves `<root>/current` as its document root. `rename(2)` replaces the
symlink atomically, so every request resolves either the old tree or the new one,
and the objects a config names are shared by both.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from compiler.publish import faults, layout
from compiler.publish.dist import PlannedFile
from compiler.publish.errors import ConflictError, LockedError, PublishError
from compiler.publish.lock import LockInfo
from compiler.publish.release import (
    Event,
    Pointer,
    PointerState,
    ReleaseManifest,
)
from compiler.publish.store import Payload, StoredObject

_STATE = "state.json"
_LEFTOVERS = (".tmp-", ".trash-", ".current.tmp-", ".broken-lock-")


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.lstat().st_mtime, UTC)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write a whole file under a temporary name, then rename it into place."""
    tmp = path.with_name(f".tmp-{path.name}-{uuid.uuid4().hex}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class LocalStore:
    """A publish target in a folder on this machine (served by nginx, Caddy, ...)."""

    workers = 4

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()

    @classmethod
    def from_url(cls, url: str) -> LocalStore:
        from compiler.publish.store import TargetURLError

        parsed = urlparse(url)
        if parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/"):
            raise TargetURLError(f"file target must be file:///absolute/path, got {url!r}")
        return cls(Path(unquote(parsed.path)))

    def refuse_inside(self, dist_dir: Path) -> None:
        """A target in the output folder would be deleted by the next build: a usage error."""
        from compiler.publish.store import TargetURLError

        real, out = os.path.realpath(self.root), os.path.realpath(dist_dir)
        if real == out or real.startswith(out.rstrip(os.sep) + os.sep):
            raise TargetURLError(
                f"the target {self.url} is inside the output folder {dist_dir.as_posix()}/, "
                f"which every build replaces whole: publish to a folder outside it"
            )

    # -- paths -------------------------------------------------------------------------
    @property
    def _state_dir(self) -> Path:
        return self.root / layout.STATE_DIR

    @property
    def _lock_path(self) -> Path:
        return self.root / layout.LOCK_KEY

    @property
    def _current(self) -> Path:
        return self.root / layout.LOCAL_CURRENT

    def _release_dir(self, release: str) -> Path:
        if not release or "/" in release or release.startswith("."):
            raise PublishError(f"bad release id {release!r}")
        return self.root / layout.RELEASES / release

    # -- safety ------------------------------------------------------------------------
    def ensure_conditional_writes(self) -> None:
        """link(2) and rename(2) are atomic on a local filesystem: nothing to probe."""
        self.root.mkdir(parents=True, exist_ok=True)

    # -- lock --------------------------------------------------------------------------
    def acquire_lock(self, info: LockInfo, *, break_lock: bool) -> LockInfo | None:
        self._state_dir.mkdir(parents=True, exist_ok=True)
        broken: LockInfo | None = None
        tmp = self._state_dir / f".tmp-lock-{info.token}"
        tmp.write_bytes(info.to_bytes())
        try:
            for _ in range(3):
                try:
                    self._create_lock(tmp, info)
                    return broken
                except FileExistsError:
                    pass
                holder = self.read_lock()
                if holder is None:
                    continue
                if not break_lock or broken is not None:
                    raise LockedError(holder, self.url)
                if self._break(holder):
                    broken = holder
            raise LockedError(self.read_lock(), self.url)
        finally:
            tmp.unlink(missing_ok=True)

    def _create_lock(self, tmp: Path, info: LockInfo) -> None:
        """Create the lock whole: link(2) a written file, or O_EXCL where links are refused."""
        try:
            os.link(tmp, self._lock_path)
        except FileExistsError:
            raise
        except OSError:  # filesystems without hard links
            fd = os.open(self._lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            with os.fdopen(fd, "wb") as handle:
                handle.write(info.to_bytes())

    def _break(self, holder: LockInfo) -> bool:
        """Move the lock aside, and put it back if it was not the one we meant to break."""
        aside = self._state_dir / f".broken-lock-{uuid.uuid4().hex}"
        try:
            os.rename(self._lock_path, aside)
        except FileNotFoundError:
            return False
        moved = LockInfo.from_bytes(aside.read_bytes())
        if moved != holder:
            with contextlib.suppress(FileExistsError):
                os.link(aside, self._lock_path)
            aside.unlink()
            raise LockedError(moved, self.url)
        aside.unlink()
        return True

    def release_lock(self, info: LockInfo) -> None:
        if self.read_lock() == info:
            self._lock_path.unlink(missing_ok=True)

    def read_lock(self) -> LockInfo | None:
        try:
            return LockInfo.from_bytes(self._lock_path.read_bytes())
        except FileNotFoundError:
            return None

    # -- objects -----------------------------------------------------------------------
    def list_objects(self) -> dict[str, StoredObject]:
        found: dict[str, StoredObject] = {}
        base = self.root / layout.OBJECTS
        if not base.is_dir():
            return found
        for shard in base.iterdir():
            if not shard.is_dir():
                continue
            for entry in os.scandir(shard):
                key = f"{layout.OBJECTS}/{shard.name}/{entry.name}"
                if layout.object_sha256(key) is not None:
                    stat = entry.stat(follow_symlinks=False)
                    modified = datetime.fromtimestamp(stat.st_mtime, UTC)
                    found[key] = StoredObject(stat.st_size, modified)
        return found

    def read_object(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            return None

    def write_object(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{path.name}-{uuid.uuid4().hex}")
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o444)
        os.replace(tmp, path)
        faults.after_write()

    def delete_objects(self, keys: list[str]) -> None:
        for key in keys:
            (self.root / key).unlink(missing_ok=True)

    # -- releases ----------------------------------------------------------------------
    def list_releases(self) -> dict[str, datetime]:
        base = self.root / layout.RELEASES
        if not base.is_dir():
            return {}
        return {
            d.name: _mtime(d / layout.RELEASE_FILE)
            for d in base.iterdir()
            if not d.name.startswith(".") and (d / layout.RELEASE_FILE).is_file()
        }

    def read_release(self, release: str) -> ReleaseManifest | None:
        try:
            data = (self._release_dir(release) / layout.RELEASE_FILE).read_bytes()
        except FileNotFoundError:
            return None
        try:
            return ReleaseManifest.from_bytes(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise PublishError(f"release {release} has a damaged manifest: {exc}") from None

    def write_release(self, manifest: ReleaseManifest) -> None:
        """Build the release tree beside its final name, then rename it in whole."""
        final = self._release_dir(manifest.release)
        if (final / layout.RELEASE_FILE).is_file():
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".tmp-{manifest.release}-{uuid.uuid4().hex}")
        tmp.mkdir()
        by_group: dict[str, list[PlannedFile]] = {}
        for f in manifest.files:
            slug = layout.group_of(f.path)
            if slug is not None:
                by_group.setdefault(slug, []).append(f)
                continue
            dest = tmp / f.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink("../" * (f.path.count("/") + 2) + f.object, dest)
        if by_group:
            (tmp / layout.GROUPS).mkdir(exist_ok=True)
        for slug, files in by_group.items():
            os.symlink(f"../../../{self._group_tree(files)}", tmp / layout.GROUPS / slug)
        os.symlink(f"../../{layout.OBJECTS}", tmp / layout.OBJECTS)
        (tmp / layout.RELEASE_FILE).write_bytes(manifest.to_bytes())
        try:
            os.rename(tmp, final)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not (final / layout.RELEASE_FILE).is_file():
                raise
        faults.after_write()

    def _group_tree(self, files: list[PlannedFile]) -> str:
        """The shared, immutable tree of one group's files; made once, renamed in whole."""
        entries = sorted((f.path.split("/", 2)[2], f.object) for f in files)
        digest = hashlib.sha256(json.dumps(entries).encode()).hexdigest()
        key = f"{layout.TREES}/{digest[:2]}/{digest}"
        final = self.root / key
        if final.is_dir():
            return key
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".tmp-{digest}-{uuid.uuid4().hex}")
        tmp.mkdir()
        for rel, obj in entries:
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink("../" * (rel.count("/") + 3) + obj, dest)
        try:
            os.rename(tmp, final)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not final.is_dir():
                raise
        return key

    def delete_releases(self, releases: list[str]) -> None:
        """Remove release trees, then every group tree no remaining release links to."""
        for release in releases:
            path = self._release_dir(release)
            trash = path.with_name(f".trash-{release}-{uuid.uuid4().hex}")
            with contextlib.suppress(FileNotFoundError):
                os.rename(path, trash)
                shutil.rmtree(trash)
        trees = self.root / layout.TREES
        if not trees.is_dir():
            return
        linked: set[str] = set()
        for release in self.list_releases():
            groups = self._release_dir(release) / layout.GROUPS
            if groups.is_dir():
                linked |= {"/".join(os.readlink(g).split("/")[-2:]) for g in groups.iterdir()}
        for shard in trees.iterdir():
            for tree in shard.iterdir() if shard.is_dir() else []:
                if not tree.name.startswith(".") and f"{shard.name}/{tree.name}" not in linked:
                    trash = shard / f".trash-{tree.name}-{uuid.uuid4().hex}"
                    os.rename(tree, trash)
                    shutil.rmtree(trash)

    # -- pointer -----------------------------------------------------------------------
    def _link(self) -> str | None:
        try:
            return os.readlink(self._current)
        except FileNotFoundError:
            return None

    def read_pointer(self) -> Pointer:
        link = self._link()
        try:
            raw = json.loads((self._state_dir / _STATE).read_bytes())
            state = PointerState.from_json(raw)
        except FileNotFoundError:
            state = PointerState()
        except (ValueError, KeyError, TypeError) as exc:
            raise PublishError(f"{self._state_dir / _STATE} is damaged: {exc}") from None
        release = link.rsplit("/", 1)[-1] if link else None
        history = state.history
        if release and (not history or history[0].release != release):
            # The symlink is the truth; history is written just after it, so a crash in
            # between loses only the event's author.
            when = _mtime(self._current).strftime("%Y-%m-%dT%H:%M:%SZ")
            history = [Event(release, when, "", "publish"), *history]
        return Pointer(PointerState(release, None, state.keep, history, state.environment), link)

    def switch(
        self,
        old: Pointer,
        new: PointerState,
        release: ReleaseManifest,
        previous: ReleaseManifest | None,
        payload: Payload,
        *,
        rewrite_all: bool,
    ) -> None:
        """One rename(2) of a fresh symlink over `current`: readers see old or new, never both."""
        if not (self._release_dir(release.release) / layout.RELEASE_FILE).is_file():
            raise PublishError(f"release {release.release} is not on {self.url}")
        if self._link() != old.version:
            raise ConflictError(f"{self.url}: the live release changed while we worked; rerun")
        os.sync()  # every object and tree file is durable before anything points at them
        tmp = self.root / f".current.tmp-{uuid.uuid4().hex}"
        os.symlink(f"{layout.RELEASES}/{release.release}", tmp)
        os.replace(tmp, self._current)
        _fsync_dir(self.root)
        faults.after_write()
        self._write_state(new)

    def write_state(self, old: Pointer, new: PointerState) -> None:
        if self._link() != old.version:
            raise ConflictError(f"{self.url}: the live release changed while we worked; rerun")
        self._write_state(new)

    def _write_state(self, state: PointerState) -> None:
        self._state_dir.mkdir(parents=True, exist_ok=True)
        doc = {k: v for k, v in state.to_json().items() if k not in ("release", "pending")}
        _write_atomic(self._state_dir / _STATE, (json.dumps(doc, indent=2) + "\n").encode())

    # -- what readers see --------------------------------------------------------------
    def served_paths(self, release: ReleaseManifest) -> list[str]:
        return [f.path for f in release.files]

    def read_served(self) -> dict[str, bytes]:
        """Every file of the live tree except release.json and the objects link."""
        served: dict[str, bytes] = {}
        top = self._current
        if not top.is_dir():
            return served
        for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
            if Path(dirpath) == top and layout.OBJECTS in dirnames:
                dirnames.remove(layout.OBJECTS)
            for name in filenames:
                path = Path(dirpath) / name
                rel = path.relative_to(top).as_posix()
                if rel != layout.RELEASE_FILE:
                    with contextlib.suppress(FileNotFoundError):  # a dangling link: missing
                        served[rel] = path.read_bytes()
        return served

    def write_served(
        self, release: ReleaseManifest, paths: list[str], payload: Payload
    ) -> list[str]:
        """The live tree is links to objects: repairing the objects is all a repair can do."""
        return paths

    def stale_served(self, release: ReleaseManifest) -> list[str]:
        return []

    def delete_served(self, paths: list[str]) -> None:
        return None

    def delete_leftovers(self, older_than: datetime) -> list[str]:
        """Temporary names of runs that were killed: `.tmp-*`, `.trash-*`, `.current.tmp-*`."""
        gone: list[str] = []
        candidates: list[Path] = []
        for folder in (self.root, self.root / layout.RELEASES, self._state_dir):
            if folder.is_dir():
                candidates += [p for p in folder.iterdir() if p.name.startswith(_LEFTOVERS)]
        for sharded in (self.root / layout.OBJECTS, self.root / layout.TREES):
            for shard in sharded.iterdir() if sharded.is_dir() else []:
                if shard.is_dir():
                    candidates += [p for p in shard.iterdir() if p.name.startswith(_LEFTOVERS)]
        for path in candidates:
            if _mtime(path) > older_than:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            gone.append(path.relative_to(self.root).as_posix())
        return sorted(gone)

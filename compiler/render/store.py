"""What the renderers' per-process setup produced, kept in a file between processes.

Why: a process that renders one group (the usual pull request) spent more time
importing Jinja, compiling the templates and building its skeletons and layouts
(skeleton.py, theme_layout.py) than on everything else it did. Those products depend
only on the templates, the render code and the Jinja/markupsafe versions, so they
are saved once (marshal, behind a checksum) and loaded by later processes, which
then never import Jinja unless a group brings a shape nobody has rendered before.

The orchestrator says where the file lives with `use_cache(folder)` and writes
what its process learned with `save_cache()`; a pool worker's initializer calls
`use_cache(cache_folder() of the parent)` and `save_cache_at_exit()`, and saves
add up under a lock. Without a folder everything stays in memory, as it always
did. A file that is missing, damaged, or from other templates or code is ignored
and replaced; a file that cannot be read or written only costs time, never a build.

Records, keyed by (kind, name): ("template", name) -> {"verdict": (fast, escape,
checked), "shapes": {repr(shape): (literals, slots)}}; ("layout", dark) -> {"layout":
saved layout or None}. Only the shipped templates (compiler.render.environment())
are recorded; other environments are memoised in memory by their modules.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

FORMAT = 1
FILE_NAME = "render.marshal"  # not *.bin: incremental/cache.py names its files that way
# The render code a record depends on, besides compiler/render/*.py, relative to compiler/.
_CODE = ("colors.py", "model/theme.py")

_folder: Path | None = None
_records: dict[Hashable, dict[str, Any]] = {}
_read_from: Path | None = None  # the folder whose file has been merged into _records
_dirty = False  # learned something since the last load or save
_key: str | None = None
_exit_hook: int | None = None  # pid that registered save_cache_at_exit
# Objects built from the records (SkeletonTemplates, layouts), memoised by their modules.
built: dict[str, Any] = {}


def use_cache(folder: Path | None) -> None:
    """Keep the renderers' setup in `folder` (created when saving); None keeps it in memory.

    What this process already built stays valid (it depends on nothing the folder
    holds); the folder's file is merged in on first use.
    """
    global _folder, _dirty
    if folder != _folder:
        _folder = folder
        _dirty = _dirty or (folder is not None and bool(_records))  # may be news there


def cache_folder() -> Path | None:
    """The folder use_cache() named, for handing on to worker processes that are spawned
    (forked ones inherit it)."""
    return _folder


def save_cache() -> None:
    """Write what this process learned (merged with what the file holds now, so
    concurrent workers add up), atomically; nothing when it learned nothing. Never raises."""
    global _dirty
    folder = _folder
    if folder is None or not _dirty:
        return
    with contextlib.suppress(Exception):  # a cache that cannot be written only costs time
        from compiler.incremental.integrity import with_checksum

        folder.mkdir(parents=True, exist_ok=True)
        with _locked(folder):  # workers saving together add up instead of overwriting
            _merge(_read(folder))
            records = _shared(_records)
            body = marshal.dumps({"format": FORMAT, "key": cache_key(), "records": records})
            _write(folder / FILE_NAME, with_checksum(body))
        _dirty = False


def save_cache_at_exit() -> None:
    """Run save_cache() when this process exits, for pool workers (idempotent).

    Registered both with atexit and as a multiprocessing finalizer: pool workers
    leave through os._exit after running the finalizers, skipping atexit.
    """
    global _exit_hook
    if _exit_hook == os.getpid():
        return
    _exit_hook = os.getpid()
    import atexit
    from multiprocessing import util

    atexit.register(save_cache)
    util.Finalize(None, save_cache, exitpriority=0)


def record(kind: str, name: Hashable) -> dict[str, Any]:
    """The record of one template or layout, empty when nobody has built it yet."""
    if _folder is not None and _read_from != _folder:
        _load(_folder)
    found = _records.get((kind, name))
    if type(found) is not dict:
        found = _records[(kind, name)] = {}
    return found


def learned() -> None:
    """A record changed: save_cache() has something to write."""
    global _dirty
    _dirty = True


def reset() -> None:
    """Forget every record and everything built from them (tests: a fresh process)."""
    global _read_from, _dirty
    _records.clear()
    built.clear()
    _read_from = None
    _dirty = False


def forget() -> None:
    """Forget every record and the key they were read under: what the libraries are
    was assumed wrongly (see libraries.assume)."""
    global _key
    reset()
    _key = None


def cache_key() -> str:
    """Digest of what the records depend on: the template files' bytes, the render
    code, the libraries as installed (Jinja, MarkupSafe...), and this Python."""
    global _key
    if _key is None:
        from compiler.render.templates import templates_dir

        digest = hashlib.sha256(f"pops render records {FORMAT} {sys.version}\n".encode())
        _digest_tree(digest, str(templates_dir()))
        code = os.path.dirname(os.path.abspath(__file__))
        for name in sorted(os.listdir(code)):
            if name.endswith(".py"):
                _digest_file(digest, os.path.join(code, name), name)
        for rel in _CODE:
            _digest_file(digest, os.path.join(os.path.dirname(code), rel), rel)
        from compiler.incremental import libraries  # (Jinja, MarkupSafe and the rest, as installed)

        digest.update(libraries.digest().encode())
        _key = digest.hexdigest()
    return _key


# --- internals ---


def _digest_file(digest: Any, path: str, name: str) -> None:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        data = b"\0missing"
    digest.update(f"{name}\0{len(data)}\0".encode())
    digest.update(data)


def _digest_tree(digest: Any, root: str, prefix: str = "") -> None:
    """Every file below `root`, by relative path (plain os calls: this runs per process)."""
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        entries = []
    for entry in entries:
        if entry.is_dir():
            _digest_tree(digest, entry.path, f"{prefix}{entry.name}/")
        else:
            _digest_file(digest, entry.path, prefix + entry.name)


def _read(folder: Path) -> dict[Hashable, dict[str, Any]]:
    """The records in `folder`'s file; empty when missing, damaged or foreign."""
    from compiler.incremental.integrity import read_bounded, verified

    try:
        body = verified(read_bounded(folder / FILE_NAME))
        if body is None:
            return {}
        data = marshal.loads(body)
        if type(data) is not dict or data.get("format") != FORMAT:
            return {}
        if data.get("key") != cache_key():
            return {}
        records = data["records"]
    except Exception:  # unreadable or not ours: build in memory instead, never fail
        return {}
    return records if type(records) is dict else {}


def _load(folder: Path) -> None:
    global _read_from
    _merge(_read(folder))
    _read_from = folder


def _merge(other: dict[Hashable, dict[str, Any]]) -> None:
    """Add `other`'s records and shapes to ours; ours win where both have one (they are
    equal unless the file is damaged in a way its checksum missed)."""
    from compiler.render.skeleton import MAX_STORED_SHAPES

    for key, theirs in other.items():
        if type(theirs) is not dict:
            continue
        ours = _records.get(key)
        if ours is None:
            _records[key] = theirs
            continue
        for field, value in theirs.items():
            if field == "shapes" and type(value) is dict and type(ours.get(field)) is dict:
                shapes = ours[field]
                for shape, saved in value.items():
                    if len(shapes) >= MAX_STORED_SHAPES:
                        break
                    shapes.setdefault(shape, saved)
            else:
                ours.setdefault(field, value)


def _shared(records: dict[Hashable, dict[str, Any]]) -> dict[Hashable, dict[str, Any]]:
    """`records` with equal strings made one object, so marshal writes each once: shapes
    of a template share most of their literal text."""
    seen: dict[str, str] = {}

    def one(value: Any) -> Any:
        kind = type(value)
        if kind is str:
            return seen.setdefault(value, value)
        if kind is tuple:
            return tuple(one(item) for item in value)
        if kind is list:
            return [one(item) for item in value]
        if kind is dict:
            return {one(k): one(v) for k, v in value.items()}
        return value

    out: dict[Hashable, dict[str, Any]] = one(records)
    return out


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on the folder's render lock file, held for one read-merge-write
    (where there is flock; elsewhere concurrent saves may drop each other's shapes)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(folder / f"{FILE_NAME}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write(path: Path, blob: bytes) -> None:
    """Temp file then os.replace: a reader sees the old file or the new one, never half."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".tmp-render-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise

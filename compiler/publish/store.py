"""The interface both targets implement, so publish/rollback/status/prune are written once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from compiler.publish import layout
from compiler.publish.errors import PublishError
from compiler.publish.lock import LockInfo
from compiler.publish.release import Pointer, PointerState, ReleaseManifest

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int, int], None]
Payload = Callable[[str], bytes]


@dataclass(frozen=True)
class StoredObject:
    """An object present on the target: its size and when it was written."""

    size: int
    modified: datetime


class Store(Protocol):
    """A publish target. Every write method is idempotent; only `switch` changes what is live."""

    url: str
    workers: int

    def ensure_conditional_writes(self) -> None:
        """Raise UnsafeServerError when create-only / compare-and-swap writes are not enforced."""

    def acquire_lock(self, info: LockInfo, *, break_lock: bool) -> LockInfo | None:
        """Take the lock or raise LockedError; returns the lock that was broken, if any."""

    def release_lock(self, info: LockInfo) -> None:
        """Drop our lock (only if it is still ours)."""

    def read_lock(self) -> LockInfo | None: ...

    def list_objects(self) -> dict[str, StoredObject]: ...

    def read_object(self, key: str) -> bytes | None: ...

    def write_object(self, key: str, data: bytes) -> None: ...

    def delete_objects(self, keys: list[str]) -> None: ...

    def list_releases(self) -> dict[str, datetime]: ...

    def read_release(self, release: str) -> ReleaseManifest | None: ...

    def write_release(self, manifest: ReleaseManifest) -> None:
        """Store a release manifest (all its objects are already present)."""

    def delete_releases(self, releases: list[str]) -> None: ...

    def read_pointer(self) -> Pointer: ...

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
        """Make `release` live, written last; raise ConflictError if the pointer moved."""

    def write_state(self, old: Pointer, new: PointerState) -> None:
        """Update history/keep without changing what is live (compare-and-swap)."""

    def served_paths(self, release: ReleaseManifest) -> list[str]:
        """The paths readers fetch outside objects/ (S3: group configs; local: the whole tree)."""

    def read_served(self) -> dict[str, bytes]:
        """Bytes currently served at those paths (for status), keyed by path."""

    def write_served(
        self, release: ReleaseManifest, paths: list[str], payload: Payload
    ) -> list[str]:
        """Serve `release`'s bytes again at `paths` (repair); returns the paths it cannot fix."""

    def stale_served(self, release: ReleaseManifest) -> list[str]:
        """Served paths that `release` no longer has (S3: configs of removed groups)."""

    def delete_served(self, paths: list[str]) -> None: ...

    def delete_leftovers(self, older_than: datetime) -> list[str]:
        """Remove temporary files of interrupted runs; returns what went."""


def run_parallel(
    fn: Callable[[T], R], items: Iterable[T], workers: int, progress: Progress | None = None
) -> list[R]:
    """Apply `fn` to every item with a thread pool, reporting progress; first error wins."""
    todo = list(items)
    if not todo:
        return []
    results: list[R] = []
    if workers <= 1:
        for done, item in enumerate(todo, 1):
            results.append(fn(item))
            if progress:
                progress(done, len(todo))
        return results
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, result in enumerate(pool.map(fn, todo), 1):
            results.append(result)
            if progress:
                progress(done, len(todo))
    return results


def open_store(target: str, *, endpoint_url: str | None = None) -> Store:
    """`file:///abs/dir` or `s3://bucket/prefix` -> a Store; anything else is a usage error."""
    if target.startswith("file://"):
        from compiler.publish.local import LocalStore

        if endpoint_url:
            raise TargetURLError("--endpoint-url only applies to s3:// targets, not file://")
        return LocalStore.from_url(target)
    if target.startswith("s3://"):
        from compiler.publish.s3 import S3Store

        return S3Store.from_url(target, endpoint_url=endpoint_url)
    raise TargetURLError(f"unsupported target {target!r}: use file:///path or s3://bucket/prefix")


class TargetURLError(PublishError):
    """The --target URL is malformed: a usage error (exit 2)."""


def verified_reader(store: Store) -> Payload:
    """Object bytes from the target itself, refused unless they hash to their name."""

    def payload(key: str) -> bytes:
        data = store.read_object(key)
        if data is None or hashlib.sha256(data).hexdigest() != layout.object_sha256(key):
            raise PublishError(f"object {key} is missing or damaged; run status")
        return data

    return payload

"""publish and rollback: the two ways a release goes live, both ending in one `switch`.

Order of writes, the same on every target: objects that are missing (content-addressed,
so a crash leaves only harmless extra objects), then the release manifest, then the
switch. Publish never deletes anything; `prune` does, later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from compiler.publish import layout
from compiler.publish.dist import DistPlan, load_dist
from compiler.publish.errors import PublishError
from compiler.publish.lock import LockInfo, now_utc
from compiler.publish.prebuild import ensure_built
from compiler.publish.release import ReleaseManifest, content_digest, new_release_id
from compiler.publish.store import Progress, Store, open_store, run_parallel


@dataclass
class GroupChanges:
    """Which groups a switch adds, changes or removes, compared with what was live."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class PublishResult:
    """What a publish did, for the CLI to print (and tests and the benchmark to check)."""

    target: str
    release: str
    previous: str | None
    switched: bool
    uploaded: int = 0
    uploaded_bytes: int = 0
    present: int = 0
    repaired: int = 0
    groups: GroupChanges = field(default_factory=GroupChanges)
    broke_lock: LockInfo | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class RollbackResult:
    """Which release is live now, and which was before."""

    target: str
    release: str
    previous: str | None
    groups: GroupChanges = field(default_factory=GroupChanges)
    broke_lock: LockInfo | None = None
    notes: list[str] = field(default_factory=list)


@contextmanager
def locked(store: Store, command: str, break_lock: bool) -> Iterator[LockInfo | None]:
    """Hold the target's lock for the block; yields the lock that was broken, if any.

    A crash (or SIGKILL) skips the release on purpose: the lock stays as evidence, and
    the next run must break it explicitly.
    """
    info = LockInfo.mine(command)
    broken = store.acquire_lock(info, break_lock=break_lock)
    try:
        yield broken
    finally:
        store.release_lock(info)


def group_changes(before: ReleaseManifest | None, after: ReleaseManifest) -> GroupChanges:
    """Compare two releases group by group, on the dist sha256 of each file."""

    def by_group(m: ReleaseManifest | None) -> dict[str, set[tuple[str, str]]]:
        groups: dict[str, set[tuple[str, str]]] = {}
        for f in m.files if m else []:
            slug = layout.group_of(f.path)
            if slug is not None:
                groups.setdefault(slug, set()).add((f.path, f.sha256))
        return groups

    old, new = by_group(before), by_group(after)
    return GroupChanges(
        added=sorted(set(new) - set(old)),
        changed=sorted(g for g in set(new) & set(old) if new[g] != old[g]),
        removed=sorted(set(old) - set(new)),
    )


def publish(
    dist_dir: Path,
    target: str,
    *,
    endpoint_url: str | None = None,
    keep: int | None = None,
    break_lock: bool = False,
    repair: bool = False,
    progress: Progress | None = None,
    groups_dir: Path | None = None,
    strict: bool = False,
    env: str | None = None,
    env_dir: Path | None = None,
) -> PublishResult:
    """Publish the build in `dist_dir` to `target` as a new live release (see README-publish).

    With `groups_dir`, build first when dist/ is stale and refuse when the groups are
    invalid; without, publish dist/ as it is (its manifest is verified either way).
    With `env`, the environment build `dist_dir/<env>` is the one published.
    """
    store = open_store(target, endpoint_url=endpoint_url)  # a bad URL fails before building
    from compiler.publish.local import LocalStore

    if isinstance(store, LocalStore):
        store.refuse_inside(dist_dir)
    built = (
        ensure_built(groups_dir, dist_dir, strict=strict, env=env, env_dir=env_dir)
        if groups_dir
        else None
    )
    if env is not None:
        dist_dir = dist_dir / env
    plan = load_dist(dist_dir)
    digest = content_digest(plan.files)
    store.ensure_conditional_writes()
    with locked(store, "publish", break_lock) as broken:
        pointer = store.read_pointer()
        state = pointer.state if keep is None else replace(pointer.state, keep=keep)
        live = store.read_release(state.release) if state.release else None
        if live is not None and live.digest == digest and not state.pending and not repair:
            if state != pointer.state:
                store.write_state(pointer, state)
            notes = [built] if built else []
            notes.append(f"nothing to publish: {live.release} is live and matches {dist_dir}")
            return PublishResult(
                store.url,
                live.release,
                live.release,
                switched=False,
                present=len(plan.objects),
                broke_lock=broken,
                notes=notes,
            )
        result = _upload(store, plan, repair=repair, progress=progress)
        result.broke_lock = broken
        if built:
            result.notes.append(built)
        release_id = _reusable_release(store, digest) or new_release_id(digest, now_utc())
        manifest = store.read_release(release_id) or ReleaseManifest.from_plan(
            plan, release_id, digest, now_utc()
        )
        store.write_release(manifest)
        new_state = state.switched(release_id, "publish", now_utc())
        store.switch(
            pointer,
            new_state,
            manifest,
            live,
            plan.payload,
            rewrite_all=repair or bool(state.pending),
        )
        if state.pending:
            result.notes.append(
                f"found an interrupted switch to {state.pending}: rewrote every group config"
            )
        result.release = release_id
        result.previous = state.release
        result.switched = True
        result.groups = group_changes(live, manifest)
        return result


def _upload(
    store: Store, plan: DistPlan, *, repair: bool, progress: Progress | None
) -> PublishResult:
    """Write every object the target lacks; with `repair`, also those whose bytes are wrong."""
    existing = store.list_objects()
    wanted = plan.objects
    missing = [
        key
        for key, f in wanted.items()
        if key not in existing
        or existing[key].size != (len(plan.rewritten[key]) if key in plan.rewritten else f.size)
    ]
    repaired = 0
    if repair:
        present = [key for key in wanted if key not in missing]

        def damaged(key: str) -> bool:
            data = store.read_object(key)
            return data is None or hashlib.sha256(data).hexdigest() != layout.object_sha256(key)

        flags = run_parallel(damaged, present, store.workers)
        bad = [key for key, is_bad in zip(present, flags, strict=True) if is_bad]
        repaired = len(bad)
        missing += bad

    sizes: list[int] = []

    def put(key: str) -> None:
        data = plan.payload(key)
        store.write_object(key, data)
        sizes.append(len(data))

    run_parallel(put, sorted(missing), store.workers, progress)
    return PublishResult(
        store.url,
        release="",
        previous=None,
        switched=False,
        uploaded=len(missing),
        uploaded_bytes=sum(sizes),
        present=len(wanted) - len(missing),
        repaired=repaired,
    )


def _reusable_release(store: Store, digest: str) -> str | None:
    """A release already on the target with this exact content (e.g. from a killed run)."""
    for release in sorted(store.list_releases(), reverse=True):
        if release.endswith(f"-{digest[:12]}"):
            manifest = store.read_release(release)
            if manifest is not None and manifest.digest == digest:
                return release
    return None


def rollback(
    target: str,
    *,
    to: str | None = None,
    endpoint_url: str | None = None,
    break_lock: bool = False,
) -> RollbackResult:
    """Make a kept release live again: one switch, no rebuild, no upload.

    Without `to`: the release live before the current one; after an interrupted S3
    switch, the release that is still recorded as live (undoing the partial switch).
    """
    store = open_store(target, endpoint_url=endpoint_url)
    store.ensure_conditional_writes()
    with locked(store, "rollback", break_lock) as broken:
        pointer = store.read_pointer()
        state = pointer.state
        kept = state.kept()
        if not kept:
            raise PublishError(f"{store.url} has no release to roll back to")
        if to is None:
            if state.pending and state.release:
                to = state.release
            elif len(kept) < 2:
                raise PublishError(f"{store.url} keeps only {kept[0]}: nothing to roll back to")
            else:
                to = kept[1]
        if to not in kept:
            raise PublishError(f"release {to} is not kept on {store.url}; kept: {', '.join(kept)}")
        manifest = store.read_release(to)
        if manifest is None:
            raise PublishError(f"release {to} has no manifest on {store.url}")
        missing = sorted(manifest.objects - set(store.list_objects()))
        if missing:
            raise PublishError(
                f"release {to} is incomplete on {store.url}: {len(missing)} objects missing "
                f"(first: {missing[0]}); publish its build again instead"
            )
        live = store.read_release(state.release) if state.release else None

        def payload(key: str) -> bytes:
            data = store.read_object(key)
            if data is None or hashlib.sha256(data).hexdigest() != layout.object_sha256(key):
                raise PublishError(f"object {key} is missing or damaged; run status")
            return data

        store.switch(
            pointer,
            state.switched(to, "rollback", now_utc()),
            manifest,
            live,
            payload,
            rewrite_all=bool(state.pending),
        )
        notes = [f"{state.pending} was half switched; restored {to}"] if state.pending else []
        return RollbackResult(
            store.url, to, state.release, group_changes(live, manifest), broken, notes
        )

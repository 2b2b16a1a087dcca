"""publish and rollback: the two ways a release goes live, both ending in one `switch`.

Order of writes, the same on every target: objects that are missing (content-addressed,
so a crash leaves only harmless extra objects), then the release manifest, then the
switch. Publish never deletes anything; `prune` does, later.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from compiler.publish import layout
from compiler.publish.dist import DistPlan, PlannedFile, load_dist
from compiler.publish.errors import LockedError, PublishError, WrongEnvironmentError
from compiler.publish.lock import LockInfo, now_utc
from compiler.publish.prebuild import ensure_built
from compiler.publish.release import (
    BASE_BUILD,
    BuildEnv,
    ReleaseManifest,
    Source,
    content_digest,
    new_release_id,
    served_env,
)
from compiler.publish.source import SourceState, read_source
from compiler.publish.store import Payload, Progress, Store, open_store, run_parallel

Waiting = Callable[[LockInfo | None, float], None]


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
    groups: GroupChanges = field(default_factory=GroupChanges)
    broke_lock: LockInfo | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    environment: BuildEnv = BASE_BUILD
    source: Source | None = None


@dataclass
class RollbackResult:
    """Which release is live now, and which was before."""

    target: str
    release: str
    previous: str | None
    groups: GroupChanges = field(default_factory=GroupChanges)
    broke_lock: LockInfo | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class RepairResult:
    """What `publish --repair` found and fixed in the live release; it never switches."""

    target: str
    release: str
    verified: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    reuploaded: list[str] = field(default_factory=list)
    unrepaired: list[str] = field(default_factory=list)  # the local build lacks their bytes
    served_fixed: list[str] = field(default_factory=list)
    served_broken: list[str] = field(default_factory=list)  # still wrong after the repair
    build_differs: GroupChanges | None = None  # None: the local build is the live release
    live_source: Source | None = None
    environment: BuildEnv = BASE_BUILD
    broke_lock: LockInfo | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.unrepaired or self.served_broken)


@contextmanager
def locked(
    store: Store,
    command: str,
    break_lock: bool,
    *,
    wait: float = 0,
    waiting: Waiting | None = None,
) -> Iterator[LockInfo | None]:
    """Hold the target's lock for the block; yields the lock that was broken, if any.

    With `wait`, a held lock is polled for up to that many seconds instead of failing at
    once (`waiting` hears about it once). A crash (or SIGKILL) skips the release on
    purpose: the lock stays as evidence, and the next run must break it explicitly.
    """
    info = LockInfo.mine(command)
    broken = _acquire(store, info, break_lock, wait, waiting)
    try:
        yield broken
    finally:
        store.release_lock(info)


def _acquire(
    store: Store, info: LockInfo, break_lock: bool, wait: float, waiting: Waiting | None
) -> LockInfo | None:
    deadline = time.monotonic() + wait
    delay = 0.1
    told = False
    while True:
        try:
            return store.acquire_lock(info, break_lock=break_lock)
        except LockedError as exc:
            left = deadline - time.monotonic()
            if wait <= 0:
                raise
            if left <= 0:
                raise LockedError(exc.holder, store.url, waited=wait) from None
            if waiting is not None and not told:
                waiting(exc.holder, wait)
                told = True
            time.sleep(min(delay, left))
            delay = min(delay * 2, 1.0)


def check_env(
    url: str,
    serves: BuildEnv | None,
    incoming: BuildEnv | None,
    *,
    allow: bool,
    action: str,
    what: str,
    instead: str,
) -> str | None:
    """Refuse (or, allowed, announce) putting another environment's build on a target.

    Nothing is refused when either side was never recorded (older targets and releases):
    the first publish records what the target serves.
    """
    if serves is None or incoming is None or serves == incoming:
        return None
    if allow:
        return f"{url} now serves {incoming.describe()} (was {serves.describe()})"
    raise WrongEnvironmentError(
        f"refusing to {action}: {url} serves {serves.describe()}, but {what} is "
        f"{incoming.describe()}; {instead}, or pass --allow-env-change to make the target "
        f"serve {incoming.describe()}"
    )


def _publish_hint(env: BuildEnv, flag: str = "") -> str:
    """What to run instead: the same command with the build of the environment served."""
    command = " ".join(filter(None, ["pops publish", flag, env.option]))
    return f"use `{command}`" + (" (no --env)" if env.name is None else "")


def _by_group(files: list[PlannedFile]) -> dict[str, set[tuple[str, str]]]:
    groups: dict[str, set[tuple[str, str]]] = {}
    for f in files:
        slug = layout.group_of(f.path)
        if slug is not None:
            groups.setdefault(slug, set()).add((f.path, f.sha256))
    return groups


def group_changes(before: ReleaseManifest | None, after: ReleaseManifest) -> GroupChanges:
    """Compare two releases group by group, on the dist sha256 of each file."""
    return _changes(before.files if before else [], after.files)


def _changes(before: list[PlannedFile], after: list[PlannedFile]) -> GroupChanges:
    old, new = _by_group(before), _by_group(after)
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
    progress: Progress | None = None,
    groups_dir: Path | None = None,
    strict: bool = False,
    env: str | None = None,
    env_dir: Path | None = None,
    allow_env_change: bool = False,
    require_clean: bool = False,
    wait: float = 0,
    waiting: Waiting | None = None,
) -> PublishResult:
    """Publish the build in `dist_dir` to `target` as a new live release (see README-publish).

    With `groups_dir`, build first when dist/ is stale and refuse when the groups are
    invalid; without, publish dist/ as it is (its manifest is verified either way).
    With `env`, the environment build `dist_dir/<env>` is the one published, and only to
    a target that serves that environment (or has none recorded) unless
    `allow_env_change`. The release records the git commit of the sources.
    """
    store = open_store(target, endpoint_url=endpoint_url)  # a bad URL fails before building
    from compiler.publish.local import LocalStore

    if isinstance(store, LocalStore):
        store.refuse_inside(dist_dir)
    source = read_source(groups_dir if groups_dir is not None else dist_dir)
    warnings = _source_warnings(source, require_clean)
    built = (
        ensure_built(groups_dir, dist_dir, strict=strict, env=env, env_dir=env_dir)
        if groups_dir
        else None
    )
    if env is not None:
        dist_dir = dist_dir / env
    build_env = BuildEnv(env)
    plan = load_dist(dist_dir)
    digest = content_digest(plan.files)
    store.ensure_conditional_writes()
    with locked(store, "publish", break_lock, wait=wait, waiting=waiting) as broken:
        pointer = store.read_pointer()
        state = pointer.state if keep is None else replace(pointer.state, keep=keep)
        live = store.read_release(state.release) if state.release else None
        serves = served_env(state, live)
        env_note = check_env(
            store.url,
            serves,
            build_env,
            allow=allow_env_change,
            action=f"publish {dist_dir}",
            what="this build",
            instead=_publish_hint(serves) if serves else "",
        )
        state = replace(state, environment=build_env)
        notes = [built] if built else []
        if env_note:
            notes.append(env_note)
        same_env = live is not None and live.environment in (None, build_env)
        if live is not None and live.digest == digest and not state.pending and same_env:
            if state != pointer.state:
                store.write_state(pointer, state)
            if pointer.state.environment is None:
                notes.append(f"{store.url} now records that it serves {build_env.describe()}")
            notes.append(f"nothing to publish: {live.release} is live and matches {dist_dir}")
            return PublishResult(
                store.url,
                live.release,
                live.release,
                switched=False,
                present=len(plan.objects),
                broke_lock=broken,
                notes=notes,
                warnings=warnings,
                environment=build_env,
                source=live.source,
            )
        result = _upload(store, plan, progress=progress)
        result.broke_lock = broken
        result.notes += notes
        result.warnings = warnings
        release_id = _reusable_release(store, digest, build_env) or new_release_id(
            digest, now_utc()
        )
        manifest = store.read_release(release_id) or ReleaseManifest.from_plan(
            plan, release_id, digest, now_utc(), environment=build_env, source=source.source
        )
        store.write_release(manifest)
        new_state = state.switched(release_id, "publish", now_utc())
        store.switch(
            pointer,
            new_state,
            manifest,
            live,
            plan.payload,
            rewrite_all=bool(state.pending),
        )
        if state.pending:
            result.notes.append(
                f"found an interrupted switch to {state.pending}: rewrote every group config"
            )
        result.release = release_id
        result.previous = state.release
        result.switched = True
        result.groups = group_changes(live, manifest)
        result.environment = build_env
        result.source = manifest.source
        return result


def _source_warnings(source: SourceState, require_clean: bool) -> list[str]:
    """Refuse (--require-clean) or warn about a build whose sources are not one commit."""
    commit = source.source.commit
    shown = ", ".join(source.changed[:5]) + (" ..." if source.changed[5:] else "")
    if require_clean:
        if commit is None:
            raise PublishError(
                f"--require-clean: cannot tell which commit this build is ({source.reason}); "
                "nothing was published"
            )
        if source.source.dirty:
            raise PublishError(
                f"--require-clean: the work tree has uncommitted changes "
                f"({len(source.changed)}: {shown}); commit or stash them. Nothing was published"
            )
    if source.source.dirty:
        return [
            f"publishing from a work tree with uncommitted changes ({len(source.changed)}: "
            f"{shown}); the release records commit {commit and commit[:12]} as dirty"
        ]
    return []


def _upload(store: Store, plan: DistPlan, *, progress: Progress | None) -> PublishResult:
    """Write every object the target lacks (or holds with the wrong size)."""
    existing = store.list_objects()
    wanted = plan.objects
    missing = [
        key
        for key, f in wanted.items()
        if key not in existing
        or existing[key].size != (len(plan.rewritten[key]) if key in plan.rewritten else f.size)
    ]
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
    )


def _reusable_release(store: Store, digest: str, env: BuildEnv) -> str | None:
    """A release already on the target with this exact content and environment (e.g. from
    a killed run)."""
    for release in sorted(store.list_releases(), reverse=True):
        if release.endswith(f"-{digest[:12]}"):
            manifest = store.read_release(release)
            if manifest is not None and manifest.digest == digest and manifest.environment == env:
                return release
    return None


def _verified_reader(store: Store) -> Payload:
    """Object bytes from the target itself, refused unless they hash to their name."""

    def payload(key: str) -> bytes:
        data = store.read_object(key)
        if data is None or hashlib.sha256(data).hexdigest() != layout.object_sha256(key):
            raise PublishError(f"object {key} is missing or damaged; run status")
        return data

    return payload


def repair(
    dist_dir: Path,
    target: str,
    *,
    endpoint_url: str | None = None,
    break_lock: bool = False,
    progress: Progress | None = None,
    groups_dir: Path | None = None,
    strict: bool = False,
    env: str | None = None,
    env_dir: Path | None = None,
    allow_env_change: bool = False,
    wait: float = 0,
    waiting: Waiting | None = None,
) -> RepairResult:
    """Re-upload the live release's missing or corrupt objects, never switching anything.

    Bytes come from the local build only where they are exactly what the live manifest
    names (objects are named by their sha256, so a match is proof); served paths that
    no longer match the live release are rewritten from the (repaired) objects.
    """
    store = open_store(target, endpoint_url=endpoint_url)
    built = (
        ensure_built(groups_dir, dist_dir, strict=strict, env=env, env_dir=env_dir)
        if groups_dir
        else None
    )
    if env is not None:
        dist_dir = dist_dir / env
    build_env = BuildEnv(env)
    plan = load_dist(dist_dir)
    store.ensure_conditional_writes()
    with locked(store, "repair", break_lock, wait=wait, waiting=waiting) as broken:
        state = store.read_pointer().state
        if state.release is None:
            raise PublishError(f"nothing is live on {store.url}: nothing to repair; run publish")
        if state.pending:
            raise PublishError(
                f"{store.url} has an interrupted switch to {state.pending}: repair never "
                "switches; rerun publish to finish it, or rollback to undo it"
            )
        live = store.read_release(state.release)
        if live is None:
            raise PublishError(
                f"the live release {state.release} has no manifest on {store.url}: it cannot "
                "be repaired; publish a build (a new release)"
            )
        serves = served_env(state, live)
        env_note = check_env(
            store.url,
            serves,
            build_env,
            allow=allow_env_change,
            action=f"repair from {dist_dir}",
            what="this build",
            instead=_publish_hint(serves, "--repair") if serves else "",
        )
        result = RepairResult(
            store.url,
            live.release,
            live_source=live.source,
            environment=serves or build_env,
            broke_lock=broken,
        )
        if env_note and serves is not None:  # repair switches nothing, so nothing changes
            env_note = (
                f"repairing from {dist_dir} ({build_env.describe()}), as --allow-env-change "
                f"permits; {store.url} still serves {serves.describe()}"
            )
        result.notes = [n for n in (built, env_note) if n]
        if plan.files != live.files:
            result.build_differs = _changes(live.files, plan.files)

        existing = store.list_objects()
        present = sorted(k for k in live.objects if k in existing)
        result.missing = sorted(live.objects - set(existing))

        def damaged(key: str) -> bool:
            data = store.read_object(key)
            return data is None or hashlib.sha256(data).hexdigest() != layout.object_sha256(key)

        flags = run_parallel(damaged, present, store.workers, progress)
        result.corrupt = [k for k, bad in zip(present, flags, strict=True) if bad]
        result.verified = len(present)
        todo = sorted({*result.missing, *result.corrupt})
        result.unrepaired = [k for k in todo if k not in plan.objects]

        def put(key: str) -> None:
            data = plan.payload(key)
            if hashlib.sha256(data).hexdigest() != layout.object_sha256(key):
                raise PublishError(f"{dist_dir}: bytes for {key} do not hash to its name")
            store.write_object(key, data)

        result.reuploaded = [k for k in todo if k in plan.objects]
        run_parallel(put, result.reuploaded, store.workers)

        expected = {f.path: f.object_sha256 for f in live.files}

        def wrong_served() -> list[str]:
            served = store.read_served()
            return [
                path
                for path in store.served_paths(live)
                if (data := served.get(path)) is None
                or hashlib.sha256(data).hexdigest() != expected[path]
            ]

        # a path serving an object that could not be repaired is reported as that object
        lost = set(result.unrepaired)
        by_path = {f.path: f for f in live.files}
        wrong = [p for p in wrong_served() if by_path[p].object not in lost]
        if wrong:
            store.write_served(live, wrong, _verified_reader(store))
            result.served_broken = [p for p in wrong_served() if p in wrong]
            result.served_fixed = [p for p in wrong if p not in result.served_broken]
        return result


def rollback(
    target: str,
    *,
    to: str | None = None,
    endpoint_url: str | None = None,
    break_lock: bool = False,
    allow_env_change: bool = False,
    wait: float = 0,
    waiting: Waiting | None = None,
) -> RollbackResult:
    """Make a kept release live again: one switch, no rebuild, no upload.

    Without `to`: the release live before the current one; after an interrupted S3
    switch, the release that is still recorded as live (undoing the partial switch).
    A release of another environment than the target serves is refused unless
    `allow_env_change`.
    """
    store = open_store(target, endpoint_url=endpoint_url)
    store.ensure_conditional_writes()
    with locked(store, "rollback", break_lock, wait=wait, waiting=waiting) as broken:
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
        live = store.read_release(state.release) if state.release else None
        serves = served_env(state, live)
        env_note = check_env(
            store.url,
            serves,
            manifest.environment,
            allow=allow_env_change,
            action=f"roll back to {to}",
            what=f"release {to}",
            instead="roll back to a release of the environment it serves (`pops releases` "
            "shows each release's)",
        )
        missing = sorted(manifest.objects - set(store.list_objects()))
        if missing:
            raise PublishError(
                f"release {to} is incomplete on {store.url}: {len(missing)} objects missing "
                f"(first: {missing[0]}); publish its build again instead"
            )
        new_state = state.switched(to, "rollback", now_utc())
        new_state = replace(new_state, environment=manifest.environment or serves)
        store.switch(
            pointer,
            new_state,
            manifest,
            live,
            _verified_reader(store),
            rewrite_all=bool(state.pending),
        )
        notes = [f"{state.pending} was half switched; restored {to}"] if state.pending else []
        if env_note:
            notes.append(env_note)
        return RollbackResult(
            store.url, to, state.release, group_changes(live, manifest), broken, notes
        )

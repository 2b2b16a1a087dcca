"""publish: a build goes live as a new release, ending in one `switch`.

Order of writes, the same on every target: objects that are missing (content-addressed,
so a crash leaves only harmless extra objects), then the release manifest, then the
switch. Publish never deletes anything; `prune` does, later. `open_deploy` is the
opening that publish and `publish --repair` share.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from compiler.publish.dist import DistPlan, load_dist
from compiler.publish.errors import PublishError
from compiler.publish.guard import Waiting, check_env, locked, publish_hint
from compiler.publish.lock import LockInfo, now_utc
from compiler.publish.prebuild import ensure_built
from compiler.publish.release import (
    BASE_BUILD,
    BuildEnv,
    GroupChanges,
    Pointer,
    PointerState,
    ReleaseManifest,
    Source,
    content_digest,
    group_changes,
    new_release_id,
    served_env,
)
from compiler.publish.source import SourceState, read_source
from compiler.publish.store import Progress, Store, run_parallel
from compiler.publish.targets import open_store


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
class Deploy:
    """A target opened for writing, and the local build whose bytes go to it."""

    store: Store
    dist_dir: Path  # the build itself: DIST/<env> with an environment
    env: BuildEnv
    plan: DistPlan
    built: str | None  # what the build-first step did, when it ran
    source: SourceState | None = None  # read only for a new release
    warnings: list[str] = field(default_factory=list)


def open_deploy(
    dist_dir: Path,
    target: str,
    *,
    endpoint_url: str | None = None,
    groups_dir: Path | None = None,
    strict: bool = False,
    env: str | None = None,
    env_dir: Path | None = None,
    require_clean: bool | None = None,
) -> Deploy:
    """Open the target and the local build (building it first with `groups_dir`).

    A bad URL fails before anything is built, and a `file://` target inside the output
    folder is refused: the next build would delete it. With `require_clean` not None,
    the sources' commit is read before the build-first step can change the work tree
    (and with True, a work tree that is not one clean commit is refused).
    """
    store = open_store(target, endpoint_url=endpoint_url)
    from compiler.publish.local import LocalStore

    if isinstance(store, LocalStore):
        store.refuse_inside(dist_dir)
    source = warnings = None
    if require_clean is not None:
        source = read_source(groups_dir if groups_dir is not None else dist_dir)
        warnings = _source_warnings(source, require_clean)
    built = (
        ensure_built(groups_dir, dist_dir, strict=strict, env=env, env_dir=env_dir)
        if groups_dir
        else None
    )
    if env is not None:
        dist_dir = dist_dir / env
    plan = load_dist(dist_dir)
    store.ensure_conditional_writes()
    return Deploy(store, dist_dir, BuildEnv(env), plan, built, source, warnings or [])


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
    """Publish the build in `dist_dir` to `target` as a new live release (see docs/publishing.md).

    With `groups_dir`, build first when dist/ is stale and refuse when the groups are
    invalid; without, publish dist/ as it is (its manifest is verified either way).
    With `env`, the environment build `dist_dir/<env>` is the one published, and only to
    a target that serves that environment (or has none recorded) unless
    `allow_env_change`. The release records the git commit of the sources.
    """
    build: dict[str, Any] = {"strict": strict, "env": env, "env_dir": env_dir}
    deploy = open_deploy(
        dist_dir, target, endpoint_url=endpoint_url, groups_dir=groups_dir, **build,
        require_clean=require_clean,
    )  # fmt: skip
    store = deploy.store
    with locked(store, "publish", break_lock, wait=wait, waiting=waiting) as broken:
        pointer = store.read_pointer()
        state = pointer.state if keep is None else replace(pointer.state, keep=keep)
        live = store.read_release(state.release) if state.release else None
        serves = served_env(state, live)
        env_note = check_env(
            store.url,
            serves,
            deploy.env,
            allow=allow_env_change,
            action=f"publish {deploy.dist_dir}",
            what="this build",
            instead=publish_hint(serves) if serves else "",
        )
        notes = [n for n in (deploy.built, env_note) if n]
        state = replace(state, environment=deploy.env)
        digest = content_digest(deploy.plan.files)
        same_env = live is not None and live.environment in (None, deploy.env)
        if live is not None and live.digest == digest and not state.pending and same_env:
            return _unchanged(deploy, pointer, state, live, notes, broken)
        result = _upload(store, deploy.plan, progress=progress)
        result.broke_lock = broken
        result.notes += notes
        result.warnings = deploy.warnings
        _switch(deploy, pointer, state, live, digest, result)
        return result


def _unchanged(
    deploy: Deploy,
    pointer: Pointer,
    state: PointerState,
    live: ReleaseManifest,
    notes: list[str],
    broken: LockInfo | None,
) -> PublishResult:
    """The live release is this build already: record what changed in the state only."""
    store = deploy.store
    if state != pointer.state:
        store.write_state(pointer, state)
    if pointer.state.environment is None:
        notes.append(f"{store.url} now records that it serves {deploy.env.describe()}")
    notes.append(f"nothing to publish: {live.release} is live and matches {deploy.dist_dir}")
    return PublishResult(
        store.url,
        live.release,
        live.release,
        switched=False,
        present=len(deploy.plan.objects),
        broke_lock=broken,
        notes=notes,
        warnings=deploy.warnings,
        environment=deploy.env,
        source=live.source,
    )


def _switch(
    deploy: Deploy,
    pointer: Pointer,
    state: PointerState,
    live: ReleaseManifest | None,
    digest: str,
    result: PublishResult,
) -> None:
    """Write the release manifest (reusing one of the same content), then switch to it."""
    store, plan = deploy.store, deploy.plan
    release_id = _reusable_release(store, digest, deploy.env) or new_release_id(digest, now_utc())
    assert deploy.source is not None  # publish opens with require_clean, so it was read
    source = deploy.source.source
    manifest = store.read_release(release_id) or ReleaseManifest.from_plan(
        plan, release_id, digest, now_utc(), environment=deploy.env, source=source
    )
    store.write_release(manifest)
    new_state = state.switched(release_id, "publish", now_utc())
    store.switch(pointer, new_state, manifest, live, plan.payload, rewrite_all=bool(state.pending))
    if state.pending:
        result.notes.append(
            f"found an interrupted switch to {state.pending}: rewrote every group config"
        )
    result.release = release_id
    result.previous = state.release
    result.switched = True
    result.groups = group_changes(live, manifest)
    result.environment = deploy.env
    result.source = manifest.source


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

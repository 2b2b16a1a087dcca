"""publish --repair: put back the live release's missing or damaged bytes, switching nothing.

Bytes come from the local build only where they are exactly what the live manifest
names (objects are named by their sha256, so a match is proof); served paths that
no longer match the live release are rewritten from the (repaired) objects.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from compiler.publish import layout
from compiler.publish.deploy import Deploy, open_deploy
from compiler.publish.errors import PublishError
from compiler.publish.guard import Waiting, check_env, locked, publish_hint
from compiler.publish.lock import LockInfo
from compiler.publish.release import (
    BASE_BUILD,
    BuildEnv,
    GroupChanges,
    PointerState,
    ReleaseManifest,
    Source,
    file_changes,
    served_env,
)
from compiler.publish.store import Progress, Store, run_parallel, verified_reader


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
    """Re-upload the live release's missing or corrupt objects, never switching anything."""
    deploy = open_deploy(
        dist_dir,
        target,
        endpoint_url=endpoint_url,
        groups_dir=groups_dir,
        strict=strict,
        env=env,
        env_dir=env_dir,
    )
    store = deploy.store
    with locked(store, "repair", break_lock, wait=wait, waiting=waiting) as broken:
        state = store.read_pointer().state
        live = _repairable(store, state)
        serves = served_env(state, live)
        env_note = check_env(
            store.url,
            serves,
            deploy.env,
            allow=allow_env_change,
            action=f"repair from {deploy.dist_dir}",
            what="this build",
            instead=publish_hint(serves, "--repair") if serves else "",
        )
        result = RepairResult(
            store.url,
            live.release,
            live_source=live.source,
            environment=serves or deploy.env,
            broke_lock=broken,
        )
        if env_note and serves is not None:  # repair switches nothing, so nothing changes
            env_note = (
                f"repairing from {deploy.dist_dir} ({deploy.env.describe()}), as "
                f"--allow-env-change permits; {store.url} still serves {serves.describe()}"
            )
        result.notes = [n for n in (deploy.built, env_note) if n]
        if deploy.plan.files != live.files:
            result.build_differs = file_changes(live.files, deploy.plan.files)
        _reupload(deploy, live, result, progress)
        _rewrite_served(store, live, result)
        return result


def _repairable(store: Store, state: PointerState) -> ReleaseManifest:
    """The live release, or why there is nothing repair could fix."""
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
    return live


def _reupload(
    deploy: Deploy, live: ReleaseManifest, result: RepairResult, progress: Progress | None
) -> None:
    """Verify every object of the live release; write back the missing and damaged ones
    the local build holds."""
    store, plan = deploy.store, deploy.plan
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
            raise PublishError(f"{deploy.dist_dir}: bytes for {key} do not hash to its name")
        store.write_object(key, data)

    result.reuploaded = [k for k in todo if k in plan.objects]
    run_parallel(put, result.reuploaded, store.workers)


def _rewrite_served(store: Store, live: ReleaseManifest, result: RepairResult) -> None:
    """Serve the live release's bytes again wherever a served path holds others."""
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
        store.write_served(live, wrong, verified_reader(store))
        result.served_broken = [p for p in wrong_served() if p in wrong]
        result.served_fixed = [p for p in wrong if p not in result.served_broken]

"""status and releases: what is live, how it differs from the local build, and whether
the target's bytes still match their hashes (sha256 computed here, never an ETag)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from compiler.publish import layout
from compiler.publish.dist import PlannedFile, load_dist
from compiler.publish.lock import LockInfo
from compiler.publish.release import BuildEnv, Event, ReleaseManifest, Source, served_env
from compiler.publish.store import Progress, Store, run_parallel
from compiler.publish.targets import open_store


@dataclass(frozen=True)
class GroupDrift:
    """One group whose live files differ from the local build."""

    slug: str
    state: str  # "changed" | "not published" | "only live"
    paths: list[str] = field(default_factory=list)


@dataclass
class StatusReport:
    """Everything `pops status` prints; `ok` is false on any drift or damage."""

    target: str
    live: ReleaseManifest | None
    pending: str | None
    lock: LockInfo | None
    groups_in_sync: int = 0
    drift: list[GroupDrift] = field(default_factory=list)
    served_mismatch: list[str] = field(default_factory=list)  # served bytes != live release
    stale_served: list[str] = field(default_factory=list)  # served paths of removed groups
    corrupt: list[str] = field(default_factory=list)  # object bytes do not hash to the name
    missing: list[str] = field(default_factory=list)  # objects a kept release needs
    verified: int = 0
    compared_with: str | None = None
    environment: BuildEnv | None = None  # what the target serves; None: not recorded
    compared_env: BuildEnv | None = None  # the local build's, when compared with one

    @property
    def env_mismatch(self) -> bool:
        """The local build compared with is of another environment than the target serves."""
        return (
            self.compared_env is not None
            and self.environment is not None
            and self.compared_env != self.environment
        )

    @property
    def ok(self) -> bool:
        return not (
            self.drift
            or self.served_mismatch
            or self.corrupt
            or self.missing
            or self.pending
            or self.lock is not None
            or self.env_mismatch
            or self.live is None
        )


def status(
    target: str,
    *,
    dist_dir: Path | None = None,
    env: str | None = None,
    endpoint_url: str | None = None,
    verify: bool = True,
    progress: Progress | None = None,
) -> StatusReport:
    """Compare the live release with `dist_dir` (the build of `env`) per group, and re-hash
    every object. A held lock makes the report not ok: a publish may be half way."""
    store = open_store(target, endpoint_url=endpoint_url)
    pointer = store.read_pointer()
    live = store.read_release(pointer.state.release) if pointer.state.release else None
    report = StatusReport(store.url, live, pointer.state.pending, store.read_lock())
    report.environment = served_env(pointer.state, live)
    if dist_dir is not None:
        report.compared_with = str(dist_dir)
        report.compared_env = BuildEnv(env)
        _compare_build(report, dist_dir, live)
    if live is None:
        return report
    objects = store.list_objects()
    needed: set[str] = set()
    for release in pointer.state.kept():
        manifest = live if release == live.release else store.read_release(release)
        if manifest is not None:
            needed |= manifest.objects
    report.missing = sorted(needed - set(objects))
    if verify:
        keys = sorted(objects)

        def damaged(key: str) -> bool:
            data = store.read_object(key)
            return data is not None and hashlib.sha256(data).hexdigest() != layout.object_sha256(
                key
            )

        flags = run_parallel(damaged, keys, store.workers, progress)
        report.corrupt = [k for k, bad in zip(keys, flags, strict=True) if bad]
        report.verified = len(keys)
    _compare_served(report, store, live)
    return report


def _compare_build(report: StatusReport, dist_dir: Path, live: ReleaseManifest | None) -> None:
    local = _by_group(load_dist(dist_dir).files)
    remote = _by_group(live.files if live else [])
    for slug in sorted({*local, *remote}):
        mine, theirs = local.get(slug, {}), remote.get(slug, {})
        if mine == theirs:
            report.groups_in_sync += 1
        elif not theirs:
            report.drift.append(GroupDrift(slug, "not published", sorted(mine)))
        elif not mine:
            report.drift.append(GroupDrift(slug, "only live", sorted(theirs)))
        else:
            paths = sorted(p for p in {*mine, *theirs} if mine.get(p) != theirs.get(p))
            report.drift.append(GroupDrift(slug, "changed", paths))


def _by_group(files: list[PlannedFile]) -> dict[str, dict[str, str]]:
    """slug -> {path: dist sha256} for the files under groups/<slug>/."""
    groups: dict[str, dict[str, str]] = {}
    for f in files:
        slug = layout.group_of(f.path)
        if slug is not None:
            groups.setdefault(slug, {})[f.path] = f.sha256
    return groups


def _compare_served(report: StatusReport, store: Store, live: ReleaseManifest) -> None:
    """Each path readers fetch must serve exactly the live release's object."""
    served = store.read_served()
    expected = {f.path: f.object_sha256 for f in live.files}
    for path in store.served_paths(live):
        data = served.get(path)
        if data is None or hashlib.sha256(data).hexdigest() != expected[path]:
            report.served_mismatch.append(path)
    report.stale_served = store.stale_served(live)


@dataclass(frozen=True)
class ReleaseInfo:
    """One row of `pops releases`."""

    release: str
    live: bool
    kept: bool
    created_at: str
    created_by: str
    groups: int
    files: int
    went_live: list[Event]
    environment: BuildEnv | None = None  # None: not recorded (published by older pops)
    source: Source | None = None  # None: not recorded


def list_releases(target: str, *, endpoint_url: str | None = None) -> list[ReleaseInfo]:
    """Kept releases newest first (the live one first), then any others still on the target."""
    store = open_store(target, endpoint_url=endpoint_url)
    state = store.read_pointer().state
    kept = state.kept()
    present = store.list_releases()
    order = kept + sorted((r for r in present if r not in kept), reverse=True)
    rows: list[ReleaseInfo] = []
    for release in order:
        manifest = store.read_release(release)
        rows.append(
            ReleaseInfo(
                release=release,
                live=release == state.release,
                kept=release in kept,
                created_at=manifest.created_at if manifest else "?",
                created_by=manifest.created_by if manifest else "?",
                groups=len(manifest.groups) if manifest else 0,
                files=len(manifest.files) if manifest else 0,
                went_live=[e for e in state.history if e.release == release],
                environment=manifest.environment if manifest else None,
                source=manifest.source if manifest else None,
            )
        )
    return rows

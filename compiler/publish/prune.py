"""prune: delete what no kept or recently live release needs, and nothing younger than grace.

Kept: the last `keep` distinct releases of the history, the live one, a pending one,
and every release that was live at any moment of the grace period (pages cached by
browsers and CDNs still reference their objects). Any object, release or temporary
file younger than the grace period stays too. Order of deletion: configs of removed
groups (S3), then release manifests, then objects, so nothing readable ever points
at something deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from compiler.publish.guard import Waiting, locked
from compiler.publish.lock import LockInfo
from compiler.publish.release import recently_live, trim_history
from compiler.publish.store import open_store

DEFAULT_GRACE = timedelta(days=7)


@dataclass
class PruneResult:
    """What prune deleted (or, with dry_run, would delete)."""

    target: str
    kept: list[str]
    releases: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    history_trimmed: int = 0
    dry_run: bool = False
    broke_lock: LockInfo | None = None


def prune(
    target: str,
    *,
    keep: int | None = None,
    grace: timedelta = DEFAULT_GRACE,
    dry_run: bool = False,
    endpoint_url: str | None = None,
    break_lock: bool = False,
    wait: float = 0,
    waiting: Waiting | None = None,
) -> PruneResult:
    """Remove unreferenced objects and releases of older builds (see module doc)."""
    store = open_store(target, endpoint_url=endpoint_url)
    store.ensure_conditional_writes()
    with locked(store, "prune", break_lock, wait=wait, waiting=waiting) as broken:
        now = datetime.now(UTC)
        cutoff = now - grace
        pointer = store.read_pointer()
        state = pointer.state if keep is None else replace(pointer.state, keep=keep)
        history = trim_history(state.history, state.keep, grace, now)
        protected = set(state.kept()) | recently_live(state.history, grace, now)
        protected |= {r for r in (state.release, state.pending) if r}
        result = PruneResult(store.url, state.kept(), dry_run=dry_run, broke_lock=broken)
        result.history_trimmed = len(state.history) - len(history)

        live = store.read_release(state.release) if state.release else None
        if live is not None and not state.pending:
            result.served = store.stale_served(live)

        releases = store.list_releases()
        result.releases = sorted(
            r for r, when in releases.items() if r not in protected and when <= cutoff
        )
        needed: set[str] = set()
        for release in releases:
            if release not in result.releases:
                manifest = store.read_release(release)
                if manifest is not None:
                    needed |= manifest.objects
        result.objects = sorted(
            key
            for key, obj in store.list_objects().items()
            if key not in needed and obj.modified <= cutoff
        )
        if dry_run:
            return result
        new_state = replace(state, history=history)
        if new_state != pointer.state:
            store.write_state(pointer, new_state)
        store.delete_served(result.served)
        store.delete_releases(result.releases)
        store.delete_objects(result.objects)
        result.leftovers = store.delete_leftovers(cutoff)
        return result

"""rollback: a kept release goes live again, in one `switch`; nothing is built or uploaded."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from compiler.publish.errors import PublishError
from compiler.publish.guard import Waiting, check_env, locked
from compiler.publish.lock import LockInfo, now_utc
from compiler.publish.release import GroupChanges, PointerState, group_changes, served_env
from compiler.publish.store import Store, open_store, verified_reader


@dataclass
class RollbackResult:
    """Which release is live now, and which was before."""

    target: str
    release: str
    previous: str | None
    groups: GroupChanges = field(default_factory=GroupChanges)
    broke_lock: LockInfo | None = None
    notes: list[str] = field(default_factory=list)


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
        to = _chosen(store, state, to)
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
            verified_reader(store),
            rewrite_all=bool(state.pending),
        )
        notes = [f"{state.pending} was half switched; restored {to}"] if state.pending else []
        if env_note:
            notes.append(env_note)
        return RollbackResult(
            store.url, to, state.release, group_changes(live, manifest), broken, notes
        )


def _chosen(store: Store, state: PointerState, to: str | None) -> str:
    """The kept release to roll back to: `to`, or by default the one live before."""
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
    return to

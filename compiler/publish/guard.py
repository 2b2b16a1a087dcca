"""What every switch checks first: that it holds the target's lock, and that the build
it puts live is of the environment the target serves."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from compiler.publish.errors import LockedError, WrongEnvironmentError
from compiler.publish.lock import LockInfo
from compiler.publish.release import BuildEnv
from compiler.publish.store import Store

Waiting = Callable[[LockInfo | None, float], None]


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


def publish_hint(env: BuildEnv, flag: str = "") -> str:
    """What to run instead: the same command with the build of the environment served."""
    command = " ".join(filter(None, ["pops publish", flag, env.option]))
    return f"use `{command}`" + (" (no --env)" if env.name is None else "")

"""Errors a publish can end with; each message is written for the person running the CLI."""

from __future__ import annotations

from compiler.publish.lock import LockInfo


class PublishError(Exception):
    """Publishing cannot go on; nothing on the target changed that readers can see."""


class LockedError(PublishError):
    """Another publisher holds the target's lock: we must not write, and say who does."""

    def __init__(self, holder: LockInfo | None, target: str, *, waited: float = 0) -> None:
        self.holder = holder
        still = "is still locked" if waited else "is locked"
        after = f" after waiting {waited:g}s" if waited else ""
        if holder is None:
            text = f"{target} {still} by another publisher{after} (lock just changed hands)"
        else:
            text = (
                f"{target} {still} by {holder.describe()}{after}; if that publisher is gone, "
                "rerun with --break-lock"
            )
        super().__init__(text)


class ConflictError(PublishError):
    """The live pointer changed under us (a lock was broken): we refuse to overwrite it."""


class UnsafeServerError(PublishError):
    """The S3 server ignores conditional writes, so neither the lock nor the switch is safe."""


class WrongEnvironmentError(PublishError):
    """The build (or release) is of another environment than the one the target serves."""

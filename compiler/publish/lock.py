"""Who holds a target's lock, and since when: enough to decide whether to break it.

The lock itself is a create-only object (`.pops/lock.json`): `O_CREAT|O_EXCL` on a
folder, `If-None-Match: *` on S3. It is never broken silently: a holder that died
leaves its lock, and the next publisher must say `--break-lock`.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime


def now_utc() -> datetime:
    """The one clock every timestamp comes from, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    """`2026-01-31T12:00:00Z`: the form written into pointers, releases and locks."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Inverse of `iso`."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def whoami() -> str:
    """`user@host` of this process; never a credential."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class LockInfo:
    """The lock's content: the holder, its pid, the command, when it started, a unique token."""

    holder: str
    pid: int
    command: str
    since: str
    token: str

    @classmethod
    def mine(cls, command: str) -> LockInfo:
        return cls(whoami(), os.getpid(), command, iso(now_utc()), uuid.uuid4().hex)

    def to_bytes(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> LockInfo:
        """Parse a lock; a damaged one still names itself so it can be broken."""
        try:
            raw = json.loads(data)
            return cls(
                str(raw["holder"]),
                int(raw["pid"]),
                str(raw["command"]),
                str(raw["since"]),
                str(raw["token"]),
            )
        except (ValueError, KeyError, TypeError):
            return cls("<unreadable lock>", 0, "?", "?", "")

    def describe(self) -> str:
        """`root@ci-7 (pid 42, publish) since 2026-01-31T12:00:00Z (3m ago)`."""
        age = ""
        try:
            seconds = int((now_utc() - parse_iso(self.since)).total_seconds())
            age = f" ({_human(seconds)} ago)"
        except ValueError:
            pass
        return f"{self.holder} (pid {self.pid}, {self.command}) since {self.since}{age}"


def _human(seconds: int) -> str:
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"

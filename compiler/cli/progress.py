"""A progress bar for long runs, shown only to a person watching a terminal.

CI logs and pipes get nothing: the bar appears only when both stdout and
stderr are terminals and `CI` is not set, and only for runs large enough to
take a noticeable time.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

MIN_ITEMS = 200
WIDTH = 30


def wanted() -> bool:
    return sys.stdout.isatty() and sys.stderr.isatty() and not os.environ.get("CI")


class Bar:
    """Call with (done, total); draws counts, a bar and an ETA on one stderr line."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.monotonic()
        self.drawn = False
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if total < MIN_ITEMS:
            return
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        elapsed = now - self.start
        eta = elapsed / done * (total - done) if done else 0.0
        filled = WIDTH * done // total
        bar = "#" * filled + "-" * (WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} ETA {eta:4.1f}s ")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * (len(self.label) + WIDTH + 40) + "\r")
            self.stream.flush()


def bar(label: str) -> Bar | None:
    """A Bar when someone is watching, else None (callers pass it on as `progress`)."""
    return Bar(label) if wanted() else None

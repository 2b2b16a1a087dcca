"""Test-only fault injection: prove crash safety by really killing a publisher mid-way.

`POPS_PUBLISH_TEST_FAULT` is read at every write to a target (object, release,
group config, pointer, in that order). `kill:K` sends SIGKILL to this process right
after the K-th write; `sleep:S` sleeps S seconds after each write (to widen the
window a polling reader sees). Both may be given, comma-separated. Unset, it costs
one dictionary lookup per write.
"""

from __future__ import annotations

import os
import signal
import threading
import time

ENV = "POPS_PUBLISH_TEST_FAULT"

_lock = threading.Lock()
_writes = 0


def after_write() -> None:
    """Count one write to the target and apply the injected fault, if any."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    global _writes
    with _lock:
        _writes += 1
        count = _writes
    for part in spec.split(","):
        name, _, value = part.partition(":")
        if name == "sleep":
            time.sleep(float(value))
        elif name == "kill" and count >= int(value):
            os.kill(os.getpid(), signal.SIGKILL)

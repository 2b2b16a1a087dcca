"""How a command that stopped before changing anything says so: one line and an exit code.

`pops build`, `validate`, `publish` and `preview` stop for the same two reasons: the
output folder is not pops's to replace (`Refused`, a usage error: exit 2), or the
system refused a path (an `OSError`: a read-only or full disk, a lock in a broken
cache folder: exit 1). Nothing in the output changed either way: a build writes
beside it and swaps it in whole, and a check writes nothing there.
"""

from __future__ import annotations

import errno
import os
import sys


def refusal_exit(error: Exception, shown: str, *, check: bool = False) -> int:
    """Print why `error` stopped the run; the exit code (2 Refused, 1 OSError).

    `shown` is the output folder as the user named it; `check`: nothing was to be
    written (build --check, validate).
    """
    if not isinstance(error, OSError):  # Refused: its message names the folder and why
        _say(f"Error: {error}")
        return 2
    path = error.filename if error.filename is not None else f"{shown}/"
    named = os.fsdecode(path)
    if os.path.isabs(named):
        rel = os.path.relpath(named)
        named = named if rel.startswith("..") else rel
    cause = error.strerror or type(error).__name__
    what = "checked" if check else "changed"
    hint = ""
    if error.errno in (errno.EBUSY, errno.EXDEV) and not check:
        hint = f" ({shown}/ is replaced whole: it cannot be a mount point; "
        hint += "build into a folder in it)"
    _say(f"pops: {named}: {cause}{hint}; {shown}/ was not {what}")
    return 1


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()

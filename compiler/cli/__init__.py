"""The `pops` command line. Thin: parse options, call one function, set the exit code.

Exit codes: 0 ok, 1 the input is invalid or a check failed, 2 usage error.

Command modules are imported only when their command runs, so `pops build`
does not pay for the preview, publish or editing machinery at start-up; and
the bare `pops build` / `pops build --check` CI runs skip click altogether
(see compiler.cli.building). The table of commands is in compiler.cli.app.
"""

from __future__ import annotations

import os
import sys


def run() -> None:
    """The `pops` executable: the CLI, then a fast exit.

    A build leaves a large heap (results, caches) that the interpreter would
    free object by object on the way out, tens of milliseconds for nothing:
    once the output is flushed, the process just ends with the CLI's exit code.
    Anything unexpected still propagates with its traceback.
    """
    try:
        code = None
        if sys.argv[1:2] == ["build"]:
            from compiler.cli.building import quick

            code = quick(sys.argv[1:])
        if code is None:
            from compiler.cli.app import main

            main()
            code = 0
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except Exception as error:
        from compiler.incremental.engine import WorkerLost

        if not isinstance(error, WorkerLost):
            raise
        print(f"pops: {error}; nothing was written", file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

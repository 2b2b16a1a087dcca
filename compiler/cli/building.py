"""What `pops build` does once its options are known, free of click.

The CLI's `build` command calls `run_build`. `compiler.cli.run` calls `quick`
first, for the plain `pops build` and `pops build --check` that CI runs on
every pull request: it opens the seal (seal.py) before importing click, the
pipeline or even pathlib, and on an up-to-date repository it is done before
those imports would have been.
"""

from __future__ import annotations

import gc
import os
import sys

from compiler.cli.exits import refusal_exit
from compiler.incremental.sealing import Sealing

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from compiler.pipeline.check import CheckReport
    from compiler.pipeline.group import Compilation

GROUPS_DIR = "groups"  # the defaults of --groups and --out
OUT_DIR = "dist"


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Write and flush at once, so stdout and stderr interleave as they happen."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n" if nl else text)
    stream.flush()


def built(groups: int, files: int, shown: str) -> str:
    return f"built {groups} groups, {files} files into {shown}/"


def up_to_date(groups: int, shown: str) -> str:
    return f"{shown}/ is up to date ({groups} groups)"


def run_build(
    groups_dir: Path,
    out_dir: Path,
    *,
    check: bool = False,
    output_format: str = "text",
    strict: bool = False,
    env: str | None = None,
    env_dir: Path | None = None,
    jobs: int | None = None,
    no_cache: bool = False,
    resume: Sealing | None = None,
) -> int:
    """Build (or with `check`, compare) and report; the exit code.

    Usage errors (no groups folder, an unknown environment) are the caller's
    to rule out first. `resume`: a seal `quick` opened for these options.
    """
    from compiler.cli.progress import bar as progress_bar
    from compiler.pipeline.build import build
    from compiler.pipeline.check import check_output
    from compiler.pipeline.ownership import Refused

    gc.disable()  # for the life of this short process: see compiler.pipeline.compiling.gc_paused
    shown = (out_dir / env if env is not None else out_dir).as_posix()
    progress = progress_bar("checking" if check else "building")
    options: dict[str, Any] = {"strict": strict, "env": env, "env_dir": env_dir, "jobs": jobs}
    options.update(use_cache=not no_cache, progress=progress, resume=resume)
    try:
        if check:
            report = check_output(groups_dir, out_dir, **options)
        else:
            compilation = build(groups_dir, out_dir, **options)
    except (Refused, OSError) as error:  # not ours to replace, or the machine refused a path
        if progress is not None:
            progress.close()
            progress = None
        return refusal_exit(error, shown, check=check)
    finally:
        if progress is not None:
            progress.close()
    if check:
        return checked(report, output_format, shown)
    return reported(compilation, output_format, shown)


def checked(report: CheckReport, output_format: str, shown: str) -> int:
    """Say what `build --check` found; the exit code."""
    from compiler.diagnostics import Diagnostic
    from compiler.formats import FORMATS

    compilation = report.compilation
    found = report.diagnostics
    if output_format != "text":  # tools read one document: stale files are in it
        found = sorted([*found, *report.stale_diagnostics(shown)], key=Diagnostic.sort_key)
    echo(FORMATS[output_format](found), nl=False)
    if not compilation.ok:
        echo(f"{shown}/ was not checked: the groups have errors", err=True)
        return 1
    if report.stale:
        echo(f"{shown}/ is stale: {len(report.stale)} file(s) differ", err=True)
        for item in report.stale if output_format == "text" else ():
            echo(f"{item.reason:>8}  {shown}/{item.path}")
        echo("run `pops build` and commit the result", err=True)
        return 1
    echo(up_to_date(len(compilation.groups), shown), err=True)
    return 0


def reported(compilation: Compilation, output_format: str, shown: str) -> int:
    """Say what `build` did; the exit code."""
    from compiler.formats import FORMATS
    from compiler.formats.text import summary

    echo(FORMATS[output_format](compilation.diagnostics), nl=False)
    if not compilation.ok:
        echo(f"nothing written: {summary(compilation.diagnostics)}", err=True)
        return 1
    echo(built(len(compilation.groups), compilation.files, shown), err=True)
    return 0


def quick(args: list[str]) -> int | None:
    """`pops build` or `pops build --check` with every default: the exit code, or
    None when the arguments (or a missing groups folder) are click's to handle.

    When the seal shows that nothing moved, this is the whole run; otherwise
    the opened seal is handed on to `run_build`, as the options are the same.
    """
    if args == ["build"]:
        check = False
    elif args == ["build", "--check"]:
        check = True
    else:
        return None
    if not os.path.isdir(GROUPS_DIR):
        return None  # click's usage error says what to pass
    gc.disable()
    env_dir = os.path.join(os.path.dirname(GROUPS_DIR), "environments")  # as build's default
    sealing = Sealing.begin(GROUPS_DIR, env_dir, OUT_DIR, None, False)
    try:
        sealed = sealing.sealed if sealing.open(OUT_DIR, None, locking=not check) else None
    except OSError as error:  # (the lock: a read-only or broken cache folder)
        sealing.release()
        return refusal_exit(error, OUT_DIR, check=check)
    if sealed is not None and sealing.unchanged():
        sealing.release()
        if sealed.diagnostics:  # (warnings: a build with an error leaves no seal)
            from compiler.diagnostics import from_row
            from compiler.formats import FORMATS

            echo(FORMATS["text"]([from_row(d) for d in sealed.diagnostics]), nl=False)
        groups = len(sealed.scopes[0].slugs)
        echo(
            up_to_date(groups, OUT_DIR) if check else built(groups, len(sealed.files), OUT_DIR),
            err=True,
        )
        return 0
    from pathlib import Path

    return run_build(Path(GROUPS_DIR), Path(OUT_DIR), check=check, resume=sealing)

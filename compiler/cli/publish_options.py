"""The options the publish commands share, and how they say what happened.

Errors of compiler.publish become exit codes here (1 failure, 2 usage), never a
traceback for an expected failure.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

import click

from compiler import publish as pub
from compiler.cli.exits import refusal_exit
from compiler.formats.text import format_diagnostics
from compiler.pipeline.ownership import Refused
from compiler.publish.lock import LockInfo
from compiler.publish.prebuild import BuildRefused

TARGET_OPTION = click.option(
    "--target",
    envvar="POPS_TARGET",
    required=True,
    metavar="URL",
    help="file:///abs/dir or s3://bucket/prefix (env POPS_TARGET). S3 credentials come "
    "from boto3's usual chain, never from options.",
)
ENDPOINT_OPTION = click.option(
    "--endpoint-url",
    metavar="URL",
    default=None,
    help="S3-compatible endpoint (MinIO, R2, a local test server); AWS_ENDPOINT_URL works too.",
)
BREAK_LOCK_OPTION = click.option(
    "--break-lock",
    is_flag=True,
    help="Remove a lock left by a publisher that died, then go on. Only when you are sure.",
)
DIST_OPTION = click.option(
    "--dist",
    "dist_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="The build to publish or compare with.",
)
ENV_OPTION = click.option(
    "--env",
    metavar="NAME",
    default=None,
    help="Use the environment build DIST/NAME (environments/NAME.yaml) instead of the base.",
)
WAIT_OPTION = click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    metavar="SECONDS",
    help="When another publisher holds the target's lock, wait up to SECONDS for it instead "
    "of failing at once.",
)
ALLOW_ENV_OPTION = click.option(
    "--allow-env-change",
    is_flag=True,
    help="Let the target serve another environment than the one it records (it then "
    "records the new one).",
)
FORMAT_OPTION = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text"
)

_DURATION = re.compile(r"(\d+)([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


# A grace period is subtracted from now: far beyond any useful one, it would leave the
# calendar (and a number of thousands of digits cannot even be read).
MAX_DURATION = timedelta(days=36500)


def duration(text: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise click.BadParameter(
            f"{text!r} is not a duration like 0, 90s, 30m, 12h or 7d", param_hint="'--grace'"
        )
    digits = match.group(1).lstrip("0") or "0"
    seconds = int(digits) * _UNITS[match.group(2)] if len(digits) <= 12 else None
    if seconds is None or seconds > MAX_DURATION.total_seconds():
        shown = text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"
        raise click.BadParameter(
            f"{shown!r} is longer than 100 years; use at most {MAX_DURATION.days}d",
            param_hint="'--grace'",
        )
    return timedelta(seconds=seconds)


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@contextmanager
def errors() -> Iterator[None]:
    """Map the library's errors to exit codes; never a traceback for an expected failure."""
    try:
        yield
    except pub.TargetURLError as exc:
        raise click.UsageError(str(exc)) from None
    except Refused as exc:  # the build-first step may not replace dist/
        sys.exit(refusal_exit(exc, "dist"))
    except BuildRefused as exc:
        click.echo(format_diagnostics(exc.diagnostics), nl=False)
        fail(str(exc))
    except pub.PublishError as exc:
        fail(str(exc))


def size_text(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.1f} MiB"


def progress(label: str) -> Callable[[int, int], None] | None:
    """A progress bar on a terminal for long runs; nothing at all in CI logs."""
    if not sys.stdout.isatty():
        return None
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if total < 200:
            return
        if bar is None:
            bar = click.progressbar(length=total, label=label).__enter__()
        bar.update(1)
        if done == total:
            bar.__exit__(None, None, None)

    return update


def say_waiting(holder: LockInfo | None, seconds: float) -> None:
    """Waiting for a lock is never silent either: say for whom and how long, on stderr."""
    who = holder.describe() if holder else "another publisher"
    click.echo(f"waiting up to {seconds:g}s for the lock held by {who}", err=True)


def env_text(env: pub.BuildEnv | None) -> str:
    return env.describe() if env is not None else "not recorded yet (the next publish records it)"


def source_text(source: pub.Source | None) -> str:
    if source is None:
        return "not recorded"
    if source.commit is None:
        return "a folder outside git"
    return f"commit {source.commit}" + (" with uncommitted changes" if source.dirty else "")


def say_broken(lock: LockInfo | None) -> None:
    """Breaking a lock is never silent: say whose it was, on stderr."""
    if lock is not None:
        click.echo(f"broke the lock held by {lock.describe()}", err=True)


def changes_text(groups: pub.GroupChanges) -> str:
    return (
        f"groups: {len(groups.added)} added, {len(groups.changed)} changed, "
        f"{len(groups.removed)} removed"
    )

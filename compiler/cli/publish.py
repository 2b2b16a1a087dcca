"""`publish`, `releases`, `rollback`, `status`, `prune`: deploy builds to where the portal reads.

Thin like every command module: parse options, call one function of compiler.publish,
print its result, set the exit code (0 ok, 1 failure/drift/check failed, 2 usage).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

import click

from compiler import publish as pub
from compiler.cli.core import ENV_DIR_OPTION, require_env
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


def _duration(text: str) -> timedelta:
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


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@contextmanager
def _errors() -> Iterator[None]:
    """Map the library's errors to exit codes; never a traceback for an expected failure."""
    try:
        yield
    except pub.TargetURLError as exc:
        raise click.UsageError(str(exc)) from None
    except Refused as exc:  # the build-first step may not replace dist/
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except BuildRefused as exc:
        click.echo(format_diagnostics(exc.diagnostics), nl=False)
        _fail(str(exc))
    except pub.PublishError as exc:
        _fail(str(exc))


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.1f} MiB"


def _progress(label: str) -> Callable[[int, int], None] | None:
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


def _say_waiting(holder: LockInfo | None, seconds: float) -> None:
    """Waiting for a lock is never silent either: say for whom and how long, on stderr."""
    who = holder.describe() if holder else "another publisher"
    click.echo(f"waiting up to {seconds:g}s for the lock held by {who}", err=True)


def _env_text(env: pub.BuildEnv | None) -> str:
    return env.describe() if env is not None else "not recorded yet (the next publish records it)"


def _source_text(source: pub.Source | None) -> str:
    if source is None:
        return "not recorded"
    if source.commit is None:
        return "a folder outside git"
    return f"commit {source.commit}" + (" with uncommitted changes" if source.dirty else "")


def _say_broken(lock: LockInfo | None) -> None:
    """Breaking a lock is never silent: say whose it was, on stderr."""
    if lock is not None:
        click.echo(f"broke the lock held by {lock.describe()}", err=True)


def _changes(groups: pub.GroupChanges) -> str:
    return (
        f"groups: {len(groups.added)} added, {len(groups.changed)} changed, "
        f"{len(groups.removed)} removed"
    )


@click.command()
@TARGET_OPTION
@ENDPOINT_OPTION
@DIST_OPTION
@click.option(
    "--groups",
    "groups_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("groups"),
    show_default=True,
    help="Group sources: dist/ is rebuilt first when stale, and nothing is published when "
    "they are invalid.",
)
@ENV_OPTION
@ENV_DIR_OPTION
@click.option("--no-build", is_flag=True, help="Publish dist/ as it is (still hash-checked).")
@click.option("--strict", is_flag=True, help="Warnings block the build-first step.")
@click.option(
    "--keep",
    type=click.IntRange(1, 1000),
    default=None,
    help=f"Releases the history keeps for rollback (default {pub.DEFAULT_KEEP}); remembered.",
)
@click.option(
    "--repair",
    is_flag=True,
    help="Re-upload missing or damaged objects of the live release from this build, where "
    "its bytes are the ones the live release names. Never switches.",
)
@click.option(
    "--require-clean",
    is_flag=True,
    help="Refuse to publish unless the sources are a clean git work tree (the release "
    "records the commit).",
)
@ALLOW_ENV_OPTION
@WAIT_OPTION
@BREAK_LOCK_OPTION
def publish(
    target: str,
    endpoint_url: str | None,
    dist_dir: Path,
    groups_dir: Path,
    env: str | None,
    env_dir: Path | None,
    no_build: bool,
    strict: bool,
    keep: int | None,
    repair: bool,
    require_clean: bool,
    allow_env_change: bool,
    wait: float,
    break_lock: bool,
) -> None:
    """Publish the build as a new live release: changed objects first, the switch last."""
    if not no_build and not groups_dir.is_dir():
        raise click.UsageError(f"no groups folder at {groups_dir}; pass --groups DIR or --no-build")
    if repair and (keep is not None or require_clean):
        flag = "--keep" if keep is not None else "--require-clean"
        raise click.UsageError(f"{flag} does not apply to --repair, which makes no new release")
    if not no_build:
        require_env(groups_dir, env, env_dir)
    common: dict[str, Any] = {
        "endpoint_url": endpoint_url,
        "break_lock": break_lock,
        "groups_dir": None if no_build else groups_dir,
        "strict": strict,
        "env": env,
        "env_dir": env_dir,
        "allow_env_change": allow_env_change,
        "wait": wait,
        "waiting": _say_waiting,
    }
    if repair:
        with _errors():
            fixed = pub.repair(dist_dir, target, progress=_progress("verifying"), **common)
        _print_repair(fixed, env)
        return
    with _errors():
        result = pub.publish(
            dist_dir,
            target,
            keep=keep,
            progress=_progress("uploading"),
            require_clean=require_clean,
            **common,
        )
    _say_broken(result.broke_lock)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for note in result.notes:
        click.echo(note)
    if result.switched:
        was = f" (was {result.previous})" if result.previous else ""
        click.echo(f"published {result.release} to {result.target}{was}")
        click.echo(f"  {result.environment.describe()}, built from {_source_text(result.source)}")
        click.echo(f"  {_changes(result.groups)}")
    click.echo(
        f"  objects: {result.uploaded} uploaded ({_size(result.uploaded_bytes)}), "
        f"{result.present} already on target"
    )


def _print_repair(r: pub.RepairResult, env: str | None) -> None:
    """The whole repair report on stdout; a failure ends with one `error:` line on stderr."""
    _say_broken(r.broke_lock)
    for note in r.notes:
        click.echo(note)
    click.echo(f"repair of {r.release}, live on {r.target} (nothing was switched)")
    click.echo(
        f"  verified {r.verified} objects by sha256: {len(r.corrupt)} damaged, "
        f"{len(r.missing)} missing"
    )
    for key in r.reuploaded:
        click.echo(f"  re-uploaded from the local build: {key}")
    for path in r.served_fixed:
        click.echo(f"  serves the live release's bytes again: {path}")
    for key in r.unrepaired:
        click.echo(f"  NOT REPAIRED (the local build does not have these bytes): {key}")
    for path in r.served_broken:
        click.echo(f"  NOT REPAIRED (still serves other bytes): {path}")
    if r.build_differs is not None:
        option = f" --env {env}" if env else ""
        click.echo(
            f"the local build differs from the live release {r.release} "
            f"({_changes(r.build_differs)}); repair uses only bytes the live release names"
        )
        click.echo(f"  to make this build live instead: pops publish{option}")
        source = r.live_source
        built_from = (
            f"build commit {source.commit[:12]}"
            + (" (it had uncommitted changes then)" if source.dirty else "")
            if source is not None and source.commit is not None
            else "rebuild the sources it was built from"
        )
        click.echo(f"  to repair {r.release}: {built_from}, then pops publish --repair{option}")
        click.echo("  or make another kept release live: pops rollback")
    if not r.ok:
        count = len(r.unrepaired) + len(r.served_broken)
        _fail(f"{count} damaged files of {r.release} could not be repaired (see above)")
    fixed = len(r.reuploaded) + len(r.served_fixed)
    click.echo(f"repaired {fixed} files" if fixed else "nothing to repair")


@click.command()
@TARGET_OPTION
@ENDPOINT_OPTION
@FORMAT_OPTION
def releases(target: str, endpoint_url: str | None, output_format: str) -> None:
    """List releases: kept ones (rollback targets) newest first, then any not kept."""
    with _errors():
        rows = pub.list_releases(target, endpoint_url=endpoint_url)
    if output_format == "json":
        doc = [
            {
                "release": r.release,
                "live": r.live,
                "kept": r.kept,
                "createdAt": r.created_at,
                "createdBy": r.created_by,
                "environment": r.environment.name if r.environment else None,
                "environmentRecorded": r.environment is not None,
                "source": r.source.to_json() if r.source else None,
                "groups": r.groups,
                "files": r.files,
                "wentLive": [e.to_json() for e in r.went_live],
            }
            for r in rows
        ]
        click.echo(json.dumps({"releases": doc}, indent=2))
        return
    if not rows:
        click.echo("no releases yet")
        return
    click.echo(
        f"  {'RELEASE':<30} {'CREATED':<20}  {'ENV':<12} {'COMMIT':<18}  "
        f"{'GROUPS':>6} {'FILES':>6}  STATE"
    )
    for r in rows:
        mark = "*" if r.live else " "
        state = "live" if r.live else "kept" if r.kept else "not kept (prune removes)"
        env = pub.env_label(r.environment)
        commit = r.source.label if r.source else "?"
        click.echo(
            f"{mark} {r.release:<30} {r.created_at:<20}  {env:<12} {commit:<18}  "
            f"{r.groups:>6} {r.files:>6}  {state}"
        )


@click.command()
@TARGET_OPTION
@ENDPOINT_OPTION
@click.option("--to", "to", metavar="RELEASE", default=None, help="Default: the previous release.")
@ALLOW_ENV_OPTION
@WAIT_OPTION
@BREAK_LOCK_OPTION
def rollback(
    target: str,
    endpoint_url: str | None,
    to: str | None,
    allow_env_change: bool,
    wait: float,
    break_lock: bool,
) -> None:
    """Make a kept release live again: one switch, no rebuild, no upload."""
    with _errors():
        result = pub.rollback(
            target,
            to=to,
            endpoint_url=endpoint_url,
            break_lock=break_lock,
            allow_env_change=allow_env_change,
            wait=wait,
            waiting=_say_waiting,
        )
    _say_broken(result.broke_lock)
    for note in result.notes:
        click.echo(note)
    click.echo(f"rolled back {result.target}: {result.release} is live (was {result.previous})")
    click.echo(f"  {_changes(result.groups)}")


@click.command()
@TARGET_OPTION
@ENDPOINT_OPTION
@DIST_OPTION
@ENV_OPTION
@click.option("--live-only", is_flag=True, help="Do not compare with a local build.")
@click.option("--no-verify", is_flag=True, help="Do not download and re-hash objects.")
@FORMAT_OPTION
def status(
    target: str,
    endpoint_url: str | None,
    dist_dir: Path,
    env: str | None,
    live_only: bool,
    no_verify: bool,
    output_format: str,
) -> None:
    """Drift per group between the live release and the local build, and damaged objects."""
    with _errors():
        report = pub.status(
            target,
            dist_dir=None if live_only else (dist_dir / env if env else dist_dir),
            env=env,
            endpoint_url=endpoint_url,
            verify=not no_verify,
            progress=_progress("verifying"),
        )
    if output_format == "json":
        click.echo(json.dumps(_status_json(report), indent=2))
    else:
        _print_status(report)
    sys.exit(0 if report.ok else 1)


def _status_json(report: pub.StatusReport) -> dict[str, Any]:
    return {
        "target": report.target,
        "live": report.live.release if report.live else None,
        "environment": report.environment.name if report.environment else None,
        "environmentRecorded": report.environment is not None,
        "comparedEnvironment": (
            report.compared_env.name if report.compared_env and report.compared_with else None
        ),
        "environmentMismatch": report.env_mismatch,
        "source": report.live.source.to_json() if report.live and report.live.source else None,
        "pending": report.pending,
        "lock": report.lock.describe() if report.lock else None,
        "comparedWith": report.compared_with,
        "groupsInSync": report.groups_in_sync,
        "drift": [{"group": d.slug, "state": d.state, "paths": d.paths} for d in report.drift],
        "servedMismatch": report.served_mismatch,
        "staleServed": report.stale_served,
        "corrupt": report.corrupt,
        "missing": report.missing,
        "verified": report.verified,
        "ok": report.ok,
    }


def _print_status(report: pub.StatusReport) -> None:
    live = report.live
    click.echo(f"target: {report.target}")
    if live is None:
        click.echo("live: nothing published yet")
    else:
        click.echo(f"live: {live.release} ({len(live.groups)} groups, published {live.created_at})")
        click.echo(f"  built from {_source_text(live.source)}")
    click.echo(f"serves: {_env_text(report.environment)}")
    if report.env_mismatch and report.compared_env is not None:
        click.echo(
            f"  ENVIRONMENT DIFFERS: the local build compared with is "
            f"{report.compared_env.describe()}"
        )
    if report.pending:
        click.echo(
            f"INTERRUPTED SWITCH to {report.pending}: some groups may serve it; "
            "rerun publish to finish or rollback to undo"
        )
    if report.lock:
        click.echo(
            f"LOCKED by {report.lock.describe()}: a publish, rollback or prune may be running"
        )
    if report.compared_with:
        click.echo(
            f"compared with {report.compared_with}: {report.groups_in_sync} groups in sync, "
            f"{len(report.drift)} differ"
        )
    for d in report.drift:
        click.echo(f"  {d.state:<13} {d.slug}: {', '.join(d.paths)}")
    for path in report.served_mismatch:
        click.echo(f"  served bytes differ from the live release: {path}")
    for path in report.stale_served:
        click.echo(f"  removed group still served until prune: {path}")
    for key in report.corrupt:
        click.echo(f"  CORRUPT object (bytes do not hash to its name): {key}")
    for key in report.missing:
        click.echo(f"  MISSING object needed by a kept release: {key}")
    if report.verified:
        click.echo(f"verified {report.verified} objects by sha256: {len(report.corrupt)} damaged")
    if report.corrupt:
        click.echo("repair with: pops publish --repair (from the build that is live)")
    click.echo("ok" if report.ok else "NOT OK")


@click.command()
@TARGET_OPTION
@ENDPOINT_OPTION
@click.option("--keep", type=click.IntRange(1, 1000), default=None, help="Releases to keep.")
@click.option(
    "--grace",
    default="7d",
    show_default=True,
    help="Never delete anything younger than this, nor what a release live this recently "
    "needs (0, 90s, 30m, 12h, 7d).",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@WAIT_OPTION
@BREAK_LOCK_OPTION
def prune(
    target: str,
    endpoint_url: str | None,
    keep: int | None,
    grace: str,
    dry_run: bool,
    wait: float,
    break_lock: bool,
) -> None:
    """Delete objects and releases that no kept or recently live release needs."""
    with _errors():
        result = pub.prune(
            target,
            keep=keep,
            grace=_duration(grace),
            dry_run=dry_run,
            endpoint_url=endpoint_url,
            break_lock=break_lock,
            wait=wait,
            waiting=_say_waiting,
        )
    _say_broken(result.broke_lock)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"kept releases: {', '.join(result.kept) or 'none'}")
    click.echo(
        f"{verb}: {len(result.releases)} releases, {len(result.objects)} objects, "
        f"{len(result.served)} configs of removed groups, {len(result.leftovers)} leftovers"
    )
    for release in result.releases:
        click.echo(f"  release {release}")


COMMANDS: list[click.Command] = [publish, releases, rollback, status, prune]

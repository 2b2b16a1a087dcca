"""`publish`, `releases`, `rollback`, `status`, `prune`: deploy builds to where the portal reads.

Thin like every command module: parse options, call one function of compiler.publish,
print its result, set the exit code (0 ok, 1 failure/drift/check failed, 2 usage).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from compiler import publish as pub
from compiler.cli.core import ENV_DIR_OPTION, require_env
from compiler.cli.publish_options import (
    ALLOW_ENV_OPTION,
    BREAK_LOCK_OPTION,
    DIST_OPTION,
    ENDPOINT_OPTION,
    ENV_OPTION,
    FORMAT_OPTION,
    TARGET_OPTION,
    WAIT_OPTION,
    changes_text,
    duration,
    errors,
    progress,
    say_broken,
    say_waiting,
)
from compiler.cli.publish_report import print_published, print_repair, print_status, status_json


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
        "waiting": say_waiting,
    }
    if repair:
        with errors():
            fixed = pub.repair(dist_dir, target, progress=progress("verifying"), **common)
        print_repair(fixed, env)
        return
    with errors():
        result = pub.publish(
            dist_dir,
            target,
            keep=keep,
            progress=progress("uploading"),
            require_clean=require_clean,
            **common,
        )
    print_published(result)


@click.command()
@TARGET_OPTION
@ENDPOINT_OPTION
@FORMAT_OPTION
def releases(target: str, endpoint_url: str | None, output_format: str) -> None:
    """List releases: kept ones (rollback targets) newest first, then any not kept."""
    with errors():
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
    with errors():
        result = pub.rollback(
            target,
            to=to,
            endpoint_url=endpoint_url,
            break_lock=break_lock,
            allow_env_change=allow_env_change,
            wait=wait,
            waiting=say_waiting,
        )
    say_broken(result.broke_lock)
    for note in result.notes:
        click.echo(note)
    click.echo(f"rolled back {result.target}: {result.release} is live (was {result.previous})")
    click.echo(f"  {changes_text(result.groups)}")


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
    with errors():
        report = pub.status(
            target,
            dist_dir=None if live_only else (dist_dir / env if env else dist_dir),
            env=env,
            endpoint_url=endpoint_url,
            verify=not no_verify,
            progress=progress("verifying"),
        )
    if output_format == "json":
        click.echo(json.dumps(status_json(report), indent=2))
    else:
        print_status(report)
    sys.exit(0 if report.ok else 1)


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
    with errors():
        result = pub.prune(
            target,
            keep=keep,
            grace=duration(grace),
            dry_run=dry_run,
            endpoint_url=endpoint_url,
            break_lock=break_lock,
            wait=wait,
            waiting=say_waiting,
        )
    say_broken(result.broke_lock)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"kept releases: {', '.join(result.kept) or 'none'}")
    click.echo(
        f"{verb}: {len(result.releases)} releases, {len(result.objects)} objects, "
        f"{len(result.served)} configs of removed groups, {len(result.leftovers)} leftovers"
    )
    for release in result.releases:
        click.echo(f"  release {release}")


COMMANDS: list[click.Command] = [publish, releases, rollback, status, prune]

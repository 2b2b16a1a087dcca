"""What publish, publish --repair and status print: the whole report on stdout, a
failure as one `error:` line on stderr."""

from __future__ import annotations

from typing import Any

import click

from compiler import publish as pub
from compiler.cli.publish_options import (
    changes_text,
    env_text,
    fail,
    say_broken,
    size_text,
    source_text,
)


def print_published(result: pub.PublishResult) -> None:
    """A new release (or why none was needed), its provenance and what was uploaded."""
    say_broken(result.broke_lock)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for note in result.notes:
        click.echo(note)
    if result.switched:
        was = f" (was {result.previous})" if result.previous else ""
        click.echo(f"published {result.release} to {result.target}{was}")
        click.echo(f"  {result.environment.describe()}, built from {source_text(result.source)}")
        click.echo(f"  {changes_text(result.groups)}")
    click.echo(
        f"  objects: {result.uploaded} uploaded ({size_text(result.uploaded_bytes)}), "
        f"{result.present} already on target"
    )


def print_repair(r: pub.RepairResult, env: str | None) -> None:
    """The whole repair report on stdout; a failure ends with one `error:` line on stderr."""
    say_broken(r.broke_lock)
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
            f"({changes_text(r.build_differs)}); repair uses only bytes the live release names"
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
        fail(f"{count} damaged files of {r.release} could not be repaired (see above)")
    fixed = len(r.reuploaded) + len(r.served_fixed)
    click.echo(f"repaired {fixed} files" if fixed else "nothing to repair")


def status_json(report: pub.StatusReport) -> dict[str, Any]:
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


def print_status(report: pub.StatusReport) -> None:
    live = report.live
    click.echo(f"target: {report.target}")
    if live is None:
        click.echo("live: nothing published yet")
    else:
        click.echo(f"live: {live.release} ({len(live.groups)} groups, published {live.created_at})")
        click.echo(f"  built from {source_text(live.source)}")
    click.echo(f"serves: {env_text(report.environment)}")
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

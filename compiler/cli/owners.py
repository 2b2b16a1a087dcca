"""`owners`: write .github/CODEOWNERS from the `owners` keys, check it, check approvals."""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
import tempfile
from pathlib import Path

import click

from compiler.cli.core import ENV_DIR_OPTION, GROUPS_OPTION

DEFAULT_OUT = Path(".github/CODEOWNERS")


def _write(path: Path, text: str) -> None:
    """Temp file then rename: the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-codeowners-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _approvers(values: tuple[str, ...]) -> set[str]:
    from compiler.authoring.owners import owner_problem

    found: set[str] = set()
    for value in values:
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            problem = owner_problem(item)
            if problem is not None:
                raise click.BadParameter(problem, param_hint="--approved-by")
            found.add(item.lower())
    return found


def _check_approvals(groups_dir: Path, ref: str | None, approved: set[str]) -> None:
    from compiler.authoring.owners import requirements
    from compiler.cli.review import _base, _sides
    from compiler.formats.terminal import printable
    from compiler.review.diff import compare
    from compiler.review.shared import shared_changes

    base = _base(ref)
    before, after = _sides(groups_dir, base, None, None)
    report = compare(base, before, after)
    report.shared = shared_changes(before, after)
    needed = requirements(report, before, after)
    missing = [r for r in needed if not r.met_by(approved)]
    for r in missing:
        names = ", ".join(r.owners) if r.owners else "nobody (no owners are named)"
        click.echo(
            printable(f"{r.file}: {r.reason}: needs approval from one of {names} ({r.source})")
        )
    if missing:
        noun = "approval is" if len(missing) == 1 else "approvals are"
        click.echo(f"{len(missing)} {noun} missing", err=True)
        sys.exit(1)
    click.echo(f"approved: {len(needed)} required approvals given", err=True)


@click.command(name="owners")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="The CODEOWNERS file to write, relative to the repository root.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 when the file is stale or an owner is malformed.",
)
@click.option(
    "--approved-by",
    "approved_by",
    multiple=True,
    metavar="LIST",
    help="Instead of writing: check that these approvers (comma-separated `@user`, "
    "`@org/team` or emails) cover every owner set the changes since --base need.",
)
@click.option(
    "--base",
    "ref",
    metavar="REF",
    help="With --approved-by: the commit to compare with [default: as for `pops diff`].",
)
@GROUPS_OPTION
@ENV_DIR_OPTION
def owners_command(
    out: Path,
    check: bool,
    approved_by: tuple[str, ...],
    ref: str | None,
    groups_dir: Path,
    env_dir: Path | None,
) -> None:
    """Write .github/CODEOWNERS from the `owners` keys of the group files.

    Each group file is owned by its `owners`, or, when it names none, by the
    `owners` of groups/_defaults.yaml (the platform team), who also own the
    shared files and environments. With --approved-by, check instead that a
    pull request's approvers cover its changes: each changed file's owners, and
    the `owners_for` set of each changed panel.
    """
    from compiler.authoring.owners import CODEOWNERS_LIMIT, codeowners, read_ownership
    from compiler.formats.text import format_diagnostics, summary
    from compiler.pipeline.build import env_dir_for

    if not groups_dir.is_dir():
        raise click.UsageError(f"no groups folder at {groups_dir}; pass --groups DIR")
    if approved_by:
        if check:
            raise click.UsageError("--check and --approved-by are separate checks; pass one")
        _check_approvals(groups_dir, ref, _approvers(approved_by))
        return
    if ref is not None:
        raise click.UsageError("--base goes with --approved-by")
    try:
        ownership, problems = read_ownership(groups_dir, env_dir_for(groups_dir, env_dir))
        shown_out = Path(os.path.relpath(out.resolve(), Path.cwd().resolve())).as_posix()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if problems:
        click.echo(format_diagnostics(problems), nl=False, err=True)
        verb = "checked" if check else "written"
        click.echo(f"{shown_out} not {verb}: {summary(problems)}", err=True)
        sys.exit(1)
    text = codeowners(ownership, shown_out)
    size = len(text.encode())
    if size > CODEOWNERS_LIMIT:
        click.echo(
            f"{shown_out} would be {size} bytes; GitHub ignores CODEOWNERS over "
            f"{CODEOWNERS_LIMIT} bytes (3 MiB): give groups team owners or leave more of "
            "them to the platform team",
            err=True,
        )
        sys.exit(1)
    _check_or_write(out, shown_out, text, check, len(ownership.groups))


def _check_or_write(out: Path, shown_out: str, text: str, check: bool, groups: int) -> None:
    """Compare CODEOWNERS with `text` (--check), or write it unless pops did not write it."""
    from compiler.authoring.owners import HEADER

    current = out.read_text(encoding="utf-8", errors="replace") if out.is_file() else None
    if check:
        if current == text:
            click.echo(f"{shown_out} is up to date", err=True)
            return
        if current is None:
            click.echo(f"{shown_out} is missing: run `pops owners`", err=True)
        else:
            diff = difflib.unified_diff(
                current.splitlines(), text.splitlines(), shown_out, "pops owners", lineterm=""
            )
            click.echo("\n".join(diff), err=True)
            click.echo(f"{shown_out} is stale: run `pops owners` and commit it", err=True)
        sys.exit(1)
    if current is not None and not current.startswith(HEADER):
        click.echo(
            f"Error: {shown_out} was not written by pops; move it away (or fold its rules into "
            "`owners` keys) and run `pops owners` again",
            err=True,
        )
        sys.exit(2)
    if current != text:
        _write(out, text)
    click.echo(f"wrote {shown_out}: {groups} groups", err=True)


COMMANDS: list[click.Command] = [owners_command]

"""`diff` and `preview`: what reviewers of a group pull request read and look at."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from compiler.cli.core import ENV_DIR_OPTION, GROUPS_OPTION, JOBS_OPTION, require_env
from compiler.formats.text import format_diagnostics, summary
from compiler.review.diff_report import REPORTERS
from compiler.review.gitrefs import Base, GitError, resolve_base
from compiler.review.sides import Side, compile_base, compile_side

if TYPE_CHECKING:
    from compiler.review.preview import Plan
    from compiler.review.workers import Progress

ENV_OPTION = click.option(
    "--env",
    "env",
    metavar="NAME",
    default=None,
    help="Compare the build of environment NAME (environments/NAME.yaml applied on top of "
    "every group), as `pops build` writes it to dist/NAME/. Without it, the base build.",
)


def _base(ref: str | None) -> Base:
    try:
        return resolve_base(ref, Path.cwd())
    except GitError as exc:
        raise click.UsageError(str(exc)) from exc


def _working_tree(groups_dir: Path, env: str | None, env_dir: Path | None) -> Side:
    if not groups_dir.is_dir():
        raise click.UsageError(f"no groups folder at {groups_dir}; pass --groups DIR")
    require_env(groups_dir, env, env_dir)
    return compile_side(groups_dir, env=env, env_dir=env_dir)


def _refuse(after: Side) -> NoReturn:
    click.echo(format_diagnostics(after.diagnostics), nl=False, err=True)
    click.echo(f"the working tree does not build: {summary(after.diagnostics)}", err=True)
    sys.exit(1)


def _sides(
    groups_dir: Path, base: Base, env: str | None, env_dir: Path | None
) -> tuple[Side, Side]:
    """The base build and the working-tree build; exits 1 when the working tree is invalid."""
    after = _working_tree(groups_dir, env, env_dir)
    if not after.ok:
        _refuse(after)
    try:
        before = compile_base(base, groups_dir, Path.cwd(), env=env, env_dir=env_dir)
    except GitError as exc:
        raise click.UsageError(str(exc)) from exc
    return before, after


@click.command(name="diff")
@click.option(
    "--base",
    "ref",
    metavar="REF",
    help="Commit to compare with. Default: the merge-base with origin/main when that "
    "branch exists, else HEAD.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(REPORTERS)),
    default="text",
    show_default=True,
    help="text for a terminal, markdown for a pull-request comment, json for tools.",
)
@click.option(
    "--exit-code", is_flag=True, help="Exit 1 when anything changes (0 when nothing does)."
)
@GROUPS_OPTION
@ENV_OPTION
@ENV_DIR_OPTION
def diff_command(
    ref: str | None,
    output_format: str,
    exit_code: bool,
    groups_dir: Path,
    env: str | None,
    env_dir: Path | None,
) -> None:
    """Show what the changes to the group files do to the portal, group by group.

    Builds the groups at the base commit and in the working tree (in memory,
    nothing is written) and reports changed settings in the admin's words, MFA
    text changes as a diff, added, removed and renamed groups, and the dist/
    files that change. A change to _defaults.yaml, a base or an environment
    file is named first, with its changed lines and the number of groups whose
    settings it changes.
    """
    from compiler.review.plan import plan_diff

    base = _base(ref)
    if not groups_dir.is_dir():
        raise click.UsageError(f"no groups folder at {groups_dir}; pass --groups DIR")
    require_env(groups_dir, env, env_dir)
    try:
        plan = plan_diff(base, groups_dir, Path.cwd(), env=env, env_dir=env_dir)
    except GitError as exc:
        raise click.UsageError(str(exc)) from exc
    if plan.report is None:
        _refuse(plan.after)
    report = plan.report
    click.echo(REPORTERS[output_format](report), nl=False)
    sys.exit(1 if exit_code and report.changed else 0)


@click.command(name="preview")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("preview"),
    show_default=True,
    help="Folder for the HTML pages; replaced whole, and only when it is missing, empty "
    "or a preview pops wrote.",
)
@click.option(
    "--base",
    "ref",
    metavar="REF",
    help="Also build this commit: pages only for the groups that change, each before and "
    "after side by side with its changed settings marked; the index lists every group.",
)
@GROUPS_OPTION
@ENV_OPTION
@ENV_DIR_OPTION
@JOBS_OPTION
def preview_command(
    out_dir: Path,
    ref: str | None,
    groups_dir: Path,
    env: str | None,
    env_dir: Path | None,
    jobs: int | None,
) -> None:
    """Write static HTML pages that show each group's portal, email and SMS as patients see them.

    Open OUT/index.html in a browser. Each page loads the group's real theme.css
    and config.json, so what you see is what the portal gets.
    """
    from compiler.cli.progress import bar
    from compiler.pipeline.group import env_dir_for
    from compiler.pipeline.ownership import Refused, claim

    try:  # before anything is built or written: is the folder ours to replace?
        claim(out_dir, "preview", groups_dir=groups_dir, env_dir=env_dir_for(groups_dir, env_dir))
    except Refused as refused:
        click.echo(f"Error: {refused}", err=True)
        sys.exit(2)
    if not groups_dir.is_dir():
        raise click.UsageError(f"no groups folder at {groups_dir}; pass --groups DIR")
    require_env(groups_dir, env, env_dir)
    progress = bar("preview")
    try:
        after, plan, pages = _preview(out_dir, ref, groups_dir, env, env_dir, jobs, progress)
    finally:
        if progress is not None:
            progress.close()
    if plan is None:
        click.echo(format_diagnostics(after.diagnostics), nl=False, err=True)
        click.echo(f"no preview written: {summary(after.diagnostics)}", err=True)
        sys.exit(1)
    changed = f" ({len(plan.pages)} changed groups)" if ref is not None else ""
    click.echo(
        f"wrote {pages} pages{changed}; open {(out_dir / 'index.html').as_posix()}", err=True
    )


def _preview(
    out_dir: Path,
    ref: str | None,
    groups_dir: Path,
    env: str | None,
    env_dir: Path | None,
    jobs: int | None,
    progress: Progress | None,
) -> tuple[Side, Plan | None, int]:
    """(the working tree, the plan and the number of pages written; no plan: nothing was)."""
    from compiler.pipeline.group import default_jobs
    from compiler.review import preview

    workers = jobs or default_jobs()
    if ref is None:
        after = preview.compile_tree(groups_dir, env=env, env_dir=env_dir)
        if not after.ok:
            return after, None, 0
        plan = preview.working_tree_plan(after)
        return after, plan, preview.write_preview(out_dir, plan, workers=workers, progress=progress)
    base = _base(ref)
    try:
        return preview.preview_against(
            out_dir,
            base,
            groups_dir,
            Path.cwd(),
            env=env,
            env_dir=env_dir,
            jobs=workers,
            progress=progress,
        )
    except GitError as exc:
        raise click.UsageError(str(exc)) from exc


COMMANDS: list[click.Command] = [diff_command, preview_command]

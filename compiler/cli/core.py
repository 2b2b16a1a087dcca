"""`validate` and `build`: the commands CI runs on every pull request."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from compiler.cli.building import GROUPS_DIR, OUT_DIR, run_build
from compiler.cli.exits import refusal_exit
from compiler.cli.progress import bar as progress_bar
from compiler.diagnostics import Diagnostic, count, finalize
from compiler.formats import FORMATS

if TYPE_CHECKING:
    from compiler.load.targets import Selection
from compiler.pipeline.build import compile_all, env_dir_for


class SourcePath(click.Path):
    """An existing path, or any symlink: a dangling or looping one is not a usage error
    but a located one, which the pipeline reports (see compiler/load/files.py)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str | os.PathLike) and os.path.islink(value):
            return Path(value)
        return super().convert(value, param, ctx)


GROUPS_OPTION = click.option(
    "--groups",
    "groups_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(GROUPS_DIR),
    show_default=True,
    help="Folder holding the group files.",
)
FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(FORMATS)),
    default="text",
    show_default=True,
    help="How problems are printed: text for people, json for tools, github for "
    "pull-request annotations, sarif (2.1.0) for code scanning.",
)
ENV_OPTION = click.option(
    "--env",
    "env",
    metavar="NAME",
    default=None,
    help="Apply environments/NAME.yaml on top of every group. Without it, the base build "
    "and every environment are processed.",
)
ENV_DIR_OPTION = click.option(
    "--environments",
    "env_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of environment overlays [default: environments/ beside the groups folder].",
)
JOBS_OPTION = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for large runs [default: one per core]. Output is the same "
    "for any number.",
)
NO_CACHE_OPTION = click.option(
    "--no-cache",
    is_flag=True,
    help="Ignore .pops-cache/ and compile every group from scratch.",
)
STRICT_OPTION = click.option(
    "--strict", is_flag=True, help="Treat warnings as errors (they are reported as errors)."
)


def _require_groups(groups_dir: Path) -> None:
    if not groups_dir.is_dir():
        raise click.UsageError(f"no groups folder at {groups_dir}; pass --groups DIR")


def require_env(groups_dir: Path, env: str | None, env_dir: Path | None) -> None:
    """A usage error (exit 2) naming the environments that exist, for a typo in --env."""
    if env is None:
        return
    from compiler.load.layers import environments

    folder = env_dir_for(groups_dir, env_dir)
    known = environments(folder)
    if env not in known:
        listed = ", ".join(known) if known else "none"
        raise click.UsageError(
            f"no environment `{env}`: {folder.as_posix()}/{env}.yaml does not exist "
            f"(environments: {listed})"
        )


@click.command()
@click.argument("paths", nargs=-1, type=SourcePath(exists=True, path_type=Path))
@GROUPS_OPTION
@FORMAT_OPTION
@STRICT_OPTION
@ENV_OPTION
@ENV_DIR_OPTION
@click.option(
    "--online",
    is_flag=True,
    help="Also fetch every branding image (https only) and check that it loads, is an image "
    "of at most 5 MiB, and that the logo is 250x64 pixels.",
)
@click.option("--allow-http-loopback", is_flag=True, hidden=True)  # tests: http to 127.0.0.1
@JOBS_OPTION
@NO_CACHE_OPTION
def validate(
    paths: tuple[Path, ...],
    groups_dir: Path,
    output_format: str,
    strict: bool,
    env: str | None,
    env_dir: Path | None,
    online: bool,
    allow_http_loopback: bool,
    jobs: int | None,
    no_cache: bool,
) -> None:
    """Check group files and report every problem at once.

    PATHS are group files or folders; by default every file in the groups folder.
    A shared layer (groups/_defaults.yaml, a base groups/_NAME.yaml, or an overlay
    environments/ENV.yaml) is checked as a layer, with every group it applies to.
    """
    if not paths:
        _require_groups(groups_dir)
    require_env(groups_dir, env, env_dir)
    selection = _selection(paths, groups_dir, env, env_dir)
    if selection is not None:
        env = selection.env
        paths = tuple(selection.groups)
    if selection is not None and not paths:
        # No group uses the layer: its own problems are the whole answer.
        click.echo(
            f"no group uses {', '.join(selection.layers)}; only the file itself was checked",
            err=True,
        )
        diagnostics = finalize(selection.own_problems(), strict=strict)
        online = False
    else:
        options = {"strict": strict, "env": env, "env_dir": env_dir, "jobs": jobs}
        diagnostics = _compiled(groups_dir, paths, use_cache=not no_cache, **options)
        if selection is not None:
            diagnostics = [d for d in diagnostics if selection.keep(d)]
    if online:
        from compiler.authoring.online import check_online

        found = check_online(
            diagnostics,
            groups_dir,
            paths or None,
            env=env,
            env_dir=env_dir,
            allow_http_loopback=allow_http_loopback,
        )
        diagnostics = finalize(found, strict=strict)
    click.echo(FORMATS[output_format](diagnostics), nl=False)
    if output_format == "text" and not diagnostics:
        click.echo("no problems found")
    sys.exit(0 if count(diagnostics)[0] == 0 else 1)


def _selection(
    paths: tuple[Path, ...], groups_dir: Path, env: str | None, env_dir: Path | None
) -> Selection | None:
    """What the PATHS name: groups, and layers checked with the groups they apply to."""
    if not paths:
        return None
    from compiler.load.targets import TargetError, select

    try:
        return select(paths, groups_dir, env_dir_for(groups_dir, env_dir), env)
    except TargetError as exc:
        raise click.UsageError(str(exc)) from None


def _compiled(groups_dir: Path, paths: tuple[Path, ...], **options: Any) -> list[Diagnostic]:
    """Every group (or `paths`) loaded, merged, modelled and checked: the diagnostics."""
    gc.disable()  # for the life of this short process: see compiler.pipeline.build.gc_paused
    progress = progress_bar("validating")
    try:
        compilation = compile_all(
            groups_dir, paths or None, render=False, progress=progress, **options
        )
    except OSError as error:  # the machine's, not the groups': an unreadable cache folder...
        if progress is not None:
            progress.close()
            progress = None
        sys.exit(refusal_exit(error, groups_dir.as_posix(), check=True))
    finally:
        if progress is not None:
            progress.close()
    return compilation.diagnostics


@click.command(name="build")
@GROUPS_OPTION
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(OUT_DIR),
    show_default=True,
    help="Output folder; replaced whole, and only when every group is valid. pops "
    "replaces only a folder that is missing, empty or one it wrote (marked .pops-output).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 and list the files that differ when the output folder is "
    "not exactly what the groups produce.",
)
@FORMAT_OPTION
@STRICT_OPTION
@ENV_OPTION
@ENV_DIR_OPTION
@JOBS_OPTION
@NO_CACHE_OPTION
def build_command(
    groups_dir: Path,
    out_dir: Path,
    check: bool,
    output_format: str,
    strict: bool,
    env: str | None,
    env_dir: Path | None,
    jobs: int | None,
    no_cache: bool,
) -> None:
    """Validate every group, then write the artifacts (all or nothing).

    The output holds the base build and, per environment, a folder OUT/NAME/;
    with --env NAME only OUT/NAME/ is written.
    """
    _require_groups(groups_dir)
    require_env(groups_dir, env, env_dir)
    sys.exit(
        run_build(
            groups_dir,
            out_dir,
            check=check,
            output_format=output_format,
            strict=strict,
            env=env,
            env_dir=env_dir,
            jobs=jobs,
            no_cache=no_cache,
        )
    )


COMMANDS: list[click.Command] = [validate, build_command]

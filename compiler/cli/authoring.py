"""`schema`, `new`, `set` and `fmt`: the commands admins use while writing group files."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from compiler.authoring.edit import (
    SCAFFOLD_OVERRIDES,
    EditError,
    KeyPath,
    format_text,
    on_disk_positions,
    parse_value,
    resolve_key,
    scaffold,
    set_value,
)
from compiler.authoring.schema import GROUP_SCHEMA, stale_files, write_files
from compiler.cli.core import SourcePath
from compiler.diagnostics import Diagnostic, count, finalize
from compiler.formats.terminal import printable
from compiler.formats.text import format_diagnostics
from compiler.load.files import MAX_BYTES, FileProblem, check, read_all
from compiler.pipeline.build import SLUG, compile_all

GROUPS_OPTION = click.option(
    "--groups",
    "groups_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("groups"),
    show_default=True,
    help="Folder holding the group files.",
)


def _shown(path: Path) -> str:
    return path.as_posix().removeprefix("./")


def _check_text(groups_dir: Path, target: Path, data: bytes) -> list[Diagnostic]:
    """Run the real pipeline (with this repo's defaults, bases and environments) on `data`
    as if it were `target`, without touching `target`."""
    with tempfile.TemporaryDirectory(prefix="pops-edit-") as tmp:
        probe = Path(tmp) / target.name
        probe.write_bytes(data)
        # One small file: no worker processes, and no cache entry for a throwaway path.
        compilation = compile_all(groups_dir, [probe], render=False, jobs=1, use_cache=False)
        probe_names = {probe.as_posix(), probe.resolve().as_posix()}
    shown = _shown(target)
    return finalize(
        (replace(d, file=shown) if d.file in probe_names else d for d in compilation.diagnostics),
        strict=False,
    )


def _read_source(path: Path) -> bytes | None:
    """A group file's bytes, or None after printing why it cannot be read as one
    (a folder, a pipe, a bad symlink, over 1 MiB: see compiler/load/files.py)."""
    try:
        problem = check(path)
        if problem is not None:
            raise problem
        return read_all(path, MAX_BYTES)
    except FileProblem as problem:
        click.echo(format_diagnostics([problem.diagnostic(_shown(path))]), nl=False)
    except OSError as exc:
        click.echo(f"{_shown(path)}: cannot read file: {exc.strerror}", err=True)
    return None


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of each."""
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)  # mkstemp creates 0600; keep the file's own permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command(name="schema")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schema"),
    show_default=True,
    help="Folder for group.schema.json and config.schema.json.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 and name the schema files that are missing or out of date.",
)
def schema_command(out_dir: Path, check: bool) -> None:
    """Write the JSON Schemas of group files and of config.json.

    Editors use group.schema.json to complete keys and underline mistakes while
    an admin types; the portal team can validate config.json with the other.
    """
    shown = _shown(out_dir)
    if check:
        stale = stale_files(out_dir)
        for name in stale:
            click.echo(f"stale  {shown}/{name}")
        if stale:
            click.echo("run `pops schema` and commit the result", err=True)
            sys.exit(1)
        click.echo(f"{shown}/ is up to date", err=True)
        return
    written = write_files(out_dir)
    for name in written:
        click.echo(f"wrote  {shown}/{name}")
    if not written:
        click.echo(f"{shown}/ is up to date", err=True)


@click.command(name="new")
@click.argument("slug")
@click.option("--name", required=True, help="Name patients see, e.g. 'Sunrise Pediatrics'.")
@GROUPS_OPTION
def new_command(slug: str, name: str, groups_dir: Path) -> None:
    """Create groups/SLUG.yaml setting only the name; every other key is listed commented out.

    Keys left commented out follow groups/_defaults.yaml, now and after it
    changes. The new file is checked like any other group before it is
    written, and an existing file is never overwritten.
    """
    if not SLUG.fullmatch(slug):
        raise click.BadParameter(
            "use lowercase letters, digits and inner hyphens, at most 63 characters, "
            "e.g. sunrise-pediatrics",
            param_hint="SLUG",
        )
    target = groups_dir / f"{slug}.yaml"
    if os.path.lexists(target):  # (a dangling symlink too: never write through one)
        click.echo(
            f"{_shown(target)} already exists; change it with `pops set {slug} KEY VALUE`",
            err=True,
        )
        sys.exit(1)
    schema_ref = Path(os.path.relpath(Path("schema") / GROUP_SCHEMA, groups_dir)).as_posix()
    groups_dir.mkdir(parents=True, exist_ok=True)
    # Only the name is written, unless credit card spares the group a problem (no payment
    # method, when no shared default switches one on): a fresh group passes --strict.
    data = scaffold(slug, name, schema_ref).encode()
    diagnostics = _check_text(groups_dir, target, data)
    if diagnostics:
        paying = scaffold(slug, name, schema_ref, SCAFFOLD_OVERRIDES).encode()
        found = _check_text(groups_dir, target, paying)
        if len(found) < len(diagnostics):
            data, diagnostics = paying, found
    click.echo(format_diagnostics(diagnostics), nl=False)
    if count(diagnostics)[0]:
        click.echo(f"{_shown(target)} was not created", err=True)
        sys.exit(1)
    try:
        with target.open("xb") as handle:
            handle.write(data)
    except FileExistsError:
        click.echo(f"{_shown(target)} already exists", err=True)
        sys.exit(1)
    click.echo(f"created {_shown(target)}")


@click.command(name="set")
@click.argument("group")
@click.argument("pairs", nargs=-1, metavar="KEY VALUE [KEY VALUE]...")
@GROUPS_OPTION
def set_command(group: str, pairs: tuple[str, ...], groups_dir: Path) -> None:
    """Change values in a group file (groups/GROUP.yaml, or a path) and nothing else.

    KEY is a dotted path such as theme.colors.primary. VALUE is read as YAML
    reads a plain value: true/false, whole numbers and ~ (the default) are
    themselves, quotes keep text as text, and a colour like #0b5cad is written
    quoted for you. Several KEY VALUE pairs are applied and checked together
    (an MFA email subject and body can only be added together). Comments, blank
    lines and quoting elsewhere stay exactly as they were. The result is
    validated first; when it has errors the file is left unchanged and the
    errors are printed, at the lines of the file as it is.
    """
    if not pairs or len(pairs) % 2:
        raise click.UsageError(
            "give KEY VALUE pairs: each key is followed by its value "
            f"(got {len(pairs)} argument{'' if len(pairs) == 1 else 's'} after {group}), "
            "e.g. pops set sunrise-pediatrics theme.colors.primary '#0b5cad'"
        )
    target = _group_file(group, groups_dir)
    if target.parent != groups_dir:
        groups_dir = target.parent  # a path: the group's own folder holds its layers
    edits = _edits(pairs)
    keys = ", ".join(edits)
    before = _read_source(target)
    if before is None:
        click.echo(f"{_shown(target)} was not changed", err=True)
        sys.exit(1)
    after = _edited(target, before, edits)
    diagnostics = _check_text(groups_dir, target, after)
    if count(diagnostics)[0]:
        on_disk = on_disk_positions(before, after, {k: p for k, (p, _) in edits.items()})
        shown = _shown(target)
        diagnostics = finalize(
            (on_disk(d) if d.file == shown else d for d in diagnostics), strict=False
        )
        click.echo(format_diagnostics(diagnostics), nl=False)
        click.echo(f"{_shown(target)} was not changed: the result would be invalid", err=True)
        sys.exit(1)
    click.echo(format_diagnostics(diagnostics), nl=False)
    if after == before:
        click.echo(f"{_shown(target)}: {keys} already has that value; nothing changed", err=True)
        return
    # Through a symlink (checked when read: it stays in the repository), the file it names.
    _write_atomically(Path(os.path.realpath(target)), after)
    click.echo(f"{_shown(target)}: set {keys}")


def _edits(pairs: tuple[str, ...]) -> dict[str, tuple[KeyPath, Any]]:
    """KEY VALUE pairs as (path, value) by key; a usage error names a bad or repeated key."""
    edits: dict[str, tuple[KeyPath, Any]] = {}
    for key, value in zip(pairs[::2], pairs[1::2], strict=True):
        if key in edits:
            raise click.BadParameter(
                f"`{key}` is given twice; give each key once", param_hint="KEY"
            )
        try:
            edits[key] = (resolve_key(key), parse_value(value))
        except EditError as exc:
            raise click.BadParameter(str(exc), param_hint="KEY") from None
    return edits


def _edited(target: Path, before: bytes, edits: dict[str, tuple[KeyPath, Any]]) -> bytes:
    """The file's bytes with every edit applied; exit 1 when one cannot be made."""
    try:
        text = before.decode("utf-8")
        for key, (path, parsed) in edits.items():
            try:
                text = set_value(text, path, parsed)
            except EditError as exc:
                raise EditError(f"cannot set {key}: {exc}") from None
        return text.encode("utf-8")
    except (EditError, UnicodeDecodeError) as exc:
        click.echo(printable(f"{_shown(target)}: {exc}"), err=True)
        sys.exit(1)


def _group_file(group: str, groups_dir: Path) -> Path:
    """GROUP as a slug in the groups folder or as a path to a .yaml file."""
    if group.endswith(".yaml"):
        target = Path(group)
        if not os.path.lexists(target):
            raise click.BadParameter(f"no group file {_shown(target)}", param_hint="GROUP")
        return target
    target = groups_dir / f"{group}.yaml"
    if not os.path.lexists(target):
        raise click.BadParameter(
            f"no group file {_shown(target)}; create it with `pops new {group} --name ...`",
            param_hint="GROUP",
        )
    return target


def _format_targets(paths: tuple[Path, ...], groups_dir: Path) -> list[Path]:
    """Files to format: those named, and every .yaml in named folders (bases included)."""
    found: list[Path] = []
    for path in paths or (groups_dir,):
        if path.is_dir():
            # Anything named *.yaml: one that is not a readable file is reported, not skipped.
            found.extend(sorted(p for p in path.glob("*.yaml") if not p.name.startswith(".")))
        else:
            found.append(path)
    return found


@click.command(name="fmt")
@click.argument("paths", nargs=-1, type=SourcePath(exists=True, path_type=Path))
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 and list the files that would be reformatted.",
)
@GROUPS_OPTION
def fmt_command(paths: tuple[Path, ...], check: bool, groups_dir: Path) -> None:
    """Put keys in the standard order with 2-space indentation, keeping every comment.

    PATHS are files or folders; by default every .yaml file in the groups
    folder. The order is the one `pops new` writes. Values are never changed.
    """
    if not paths and not groups_dir.is_dir():
        raise click.UsageError(f"no groups folder at {groups_dir}; pass --groups DIR")
    changed: list[Path] = []
    failed = False
    for path in _format_targets(paths, groups_dir):
        before = _read_source(path)
        if before is None:
            failed = True
            continue
        try:
            after = format_text(before.decode("utf-8")).encode("utf-8")
        except (EditError, UnicodeDecodeError) as exc:
            click.echo(printable(f"{_shown(path)}: cannot format: {exc}"), err=True)
            failed = True
            continue
        if after == before:
            continue
        changed.append(path)
        if check:
            click.echo(printable(f"would reformat {_shown(path)}"))
        else:
            _write_atomically(path, after)
            click.echo(printable(f"reformatted {_shown(path)}"))
    if check and changed:
        click.echo(f"{len(changed)} file(s) would be reformatted; run `pops fmt`", err=True)
    sys.exit(1 if failed or (check and changed) else 0)


COMMANDS: list[click.Command] = [schema_command, new_command, set_command, fmt_command]

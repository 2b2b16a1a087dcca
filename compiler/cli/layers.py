"""`explain`: where each effective setting of a group comes from."""

from __future__ import annotations

import difflib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from compiler.cli.core import ENV_DIR_OPTION, ENV_OPTION, GROUPS_OPTION, require_env
from compiler.formats.terminal import printable
from compiler.formats.text import format_diagnostics
from compiler.load.layers import Setting
from compiler.review.explain import Explanation, explain, known_keys, matches


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _where(setting: Setting) -> str:
    return f"{setting.file}:{setting.line}:{setting.column}"


def _text_line(entry: Explanation) -> str:
    if entry.source is None:
        origin = entry.note or "built-in default"
    elif entry.note:
        origin = f"{_where(entry.source)} ({entry.note})"
    else:
        origin = _where(entry.source)
    lines = [f"{entry.path} = {_show(entry.value)}  <- {origin}"]
    for old in reversed(entry.overridden):
        shown = "reset" if old.value is None else _show(old.value)
        lines.append(f"    overrides {shown} from {_where(old)}")
    if entry.contrast is not None:
        lines.append(f"    {entry.contrast_text}")
    # json.dumps leaves C1 controls and U+2028 as they are; a file name can hold anything.
    return "\n".join(printable(line) for line in lines)


def _json_entry(entry: Explanation) -> dict[str, Any]:
    def setting(s: Setting) -> dict[str, Any]:
        return {"file": s.file, "line": s.line, "column": s.column, "value": s.value}

    out: dict[str, Any] = {
        "key": entry.path,
        "label": entry.label,
        "value": entry.value,
        "source": setting(entry.source) if entry.source else None,
        "overrides": [setting(s) for s in entry.overridden],
        "note": entry.note,
    }
    if entry.contrast is not None:
        measured = entry.contrast
        out["contrast"] = {
            "foreground": measured.foreground,
            "backdrop": measured.backdrop,
            "wcag2": round(measured.ratio, 2),
            "minimum": measured.pair.minimum,
            "where": measured.pair.where,
            "apcaLc": round(measured.apca, 1),
        }
    return out


@click.command(name="explain")
@click.argument("slug")
@click.argument("key", required=False)
@GROUPS_OPTION
@ENV_OPTION
@ENV_DIR_OPTION
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def explain_command(
    slug: str,
    key: str | None,
    groups_dir: Path,
    env: str | None,
    env_dir: Path | None,
    output_format: str,
) -> None:
    """Show each effective setting of group SLUG (or only KEY, a dotted path) and the
    file and line it came from: built-in default, _defaults.yaml, a base, the group
    file, or the environment overlay."""
    require_env(groups_dir, env, env_dir)
    if not os.path.lexists(groups_dir / f"{slug}.yaml"):
        raise click.UsageError(f"no group `{slug}`: {groups_dir.as_posix()}/{slug}.yaml")
    result = explain(groups_dir, slug, env=env, env_dir=env_dir)
    if not result.ok:
        click.echo(format_diagnostics(result.diagnostics), nl=False)
        click.echo(f"cannot explain {slug}: fix the errors above first", err=True)
        sys.exit(1)
    entries = [e for e in result.entries if matches(e, key)]
    if key is not None and not entries:
        close = difflib.get_close_matches(key, known_keys(result.entries), n=1, cutoff=0.6)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        raise click.UsageError(f"no setting `{key}`{hint}")
    if output_format == "json":
        click.echo(
            json.dumps(
                {"group": slug, "env": env, "settings": [_json_entry(e) for e in entries]},
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    for entry in entries:
        click.echo(_text_line(entry))


COMMANDS: list[click.Command] = [explain_command]

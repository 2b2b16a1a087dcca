"""Renderers: pure functions of a validated group -> {relative path: bytes}.

Nothing here reads YAML or touches the output folder; the writer does that.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from compiler.model import Group


def templates_dir() -> Path:
    """`templates/` at the repository root (the package is installed editable from it)."""
    return Path(__file__).resolve().parent.parent.parent / "templates"


def _autoescape(name: str | None) -> bool:
    """HTML-escape only HTML templates; text, CSS and SMS are not HTML."""
    if name is None:
        return False
    return name.removesuffix(".j2").endswith((".html", ".htm", ".xml"))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """One Jinja environment: strict undefined, escaping on for HTML."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_group(slug: str, group: Group) -> dict[str, bytes]:
    """Every artifact of one group, keyed by path relative to the output folder.

    The palette and the Vuetify theme are computed once and shared by theme.css,
    the MFA email and config.json.
    """
    from compiler.render import mfa, portal_config, theme_css

    env = environment()
    palette = group.theme.palette()
    vuetify, css = theme_css.theme_artifacts(palette, group.theme.dark, env)
    group_files = {"theme.css": css.encode()}
    group_files.update(mfa.render_mfa(group, env, palette["primary"]))
    config = portal_config.render_config(slug, group, group_files, vuetify, palette)
    base = f"groups/{slug}/"
    files = {base + "config.json": config}
    for name in sorted(group_files):
        files[base + name] = group_files[name]
    return files

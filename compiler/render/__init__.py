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
    """Every artifact of one group, keyed by path relative to the output folder."""
    from compiler.render import mfa, portal_config, theme_css

    env = environment()
    palette = group.theme.palette()
    vuetify = theme_css.vuetify_theme(palette, group.theme.dark)
    css = theme_css.render_theme_css(palette, group.theme.dark, env, vuetify).encode()
    base = f"groups/{slug}/"
    files: dict[str, bytes] = {base + "theme.css": css}
    for name, data in mfa.render_mfa(group, env).items():
        files[base + name] = data
    group_files = {path.removeprefix(base): data for path, data in files.items()}
    files[base + "config.json"] = portal_config.render_config(slug, group, group_files, vuetify)
    return dict(sorted(files.items()))

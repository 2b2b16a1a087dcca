"""Renderers: pure functions of a validated group -> {relative path: bytes}.

Nothing here reads YAML or touches the output folder; the writer does that.
jinja2 is imported when the first group is rendered; each template is then
rendered by Jinja once per shape and filled per group (see skeleton.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.render.templates import environment, templates_dir

if TYPE_CHECKING:
    from compiler.model import Group

__all__ = ["environment", "render_group", "templates_dir"]


def render_group(slug: str, group: Group) -> dict[str, bytes]:
    """Every artifact of one group, keyed by path relative to the output folder.

    The palette and the Vuetify theme are computed once and shared by theme.css,
    the MFA email and config.json.
    """
    from compiler.render import mfa, portal_config, theme_css

    palette = group.theme.palette()
    vuetify, css = theme_css.theme_artifacts(palette, group.theme.dark)
    group_files = {"theme.css": css.encode()}
    group_files.update(mfa.render_mfa(group, None, palette["primary"]))
    config = portal_config.render_config(slug, group, group_files, vuetify, palette)
    base = f"groups/{slug}/"
    files = {base + "config.json": config}
    for name in sorted(group_files):
        files[base + name] = group_files[name]
    return files

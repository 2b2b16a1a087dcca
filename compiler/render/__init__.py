"""Renderers: pure functions of a validated group -> {relative path: bytes}.

Nothing here reads YAML or touches the output folder; the writer does that.
jinja2 is imported only when a template must really be rendered: the per-process
setup it would otherwise cost can come from a cache folder (see store.py), which
the orchestrator names with `use_cache(folder)` and fills with `save_cache()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.render.store import cache_folder, save_cache, save_cache_at_exit, use_cache
from compiler.render.templates import environment, shipped, templates_dir

if TYPE_CHECKING:
    from compiler.model import Group

__all__ = [
    "cache_folder",
    "environment",
    "render_group",
    "save_cache",
    "save_cache_at_exit",
    "shipped",
    "templates_dir",
    "use_cache",
]


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

"""Renderers: pure functions of a validated group -> {relative path: bytes}.

Nothing here reads YAML or touches the output folder; the writer does that.
jinja2 is imported only when a template must really be rendered: the per-process
setup it would otherwise cost can come from a cache folder (see store.py), which
the orchestrator names with `use_cache(folder)` and fills with `save_cache()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from compiler.incremental.integrity import templates_folder
from compiler.render.store import cache_folder, save_cache, save_cache_at_exit, use_cache

if TYPE_CHECKING:
    import jinja2

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

_ENVIRONMENT: jinja2.Environment | None = None


def templates_dir() -> Path:
    """The templates folder: in the package when installed from a wheel, else the repository's."""
    return Path(templates_folder())


def _autoescape(name: str | None) -> bool:
    """HTML-escape only HTML templates; text, CSS and SMS are not HTML."""
    if name is None:
        return False
    return name.removesuffix(".j2").endswith((".html", ".htm", ".xml"))


def environment() -> jinja2.Environment:
    """One Jinja environment: strict undefined, escaping on for HTML."""
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        import jinja2

        _ENVIRONMENT = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir())),
            autoescape=_autoescape,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _ENVIRONMENT


def shipped(env: jinja2.Environment) -> bool:
    """Whether `env` is environment() (whose setup may be kept in the cache folder)."""
    return env is _ENVIRONMENT


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

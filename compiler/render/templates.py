"""The templates and the one Jinja environment every renderer uses.

A module of its own so the renderers (mfa.py, theme_css.py, theme_layout.py) need
not import the package face, which imports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from compiler.incremental.integrity import templates_folder

if TYPE_CHECKING:
    import jinja2

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

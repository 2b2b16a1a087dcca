"""What one preview page shows: a group's artifacts, and which of its settings changed.

Every value comes from the group's own `config.json` and `mfa/` files. How a
setting's value is drawn (a colour gets a swatch, a switch reads on/off) is
decided in one place, `display_kind`, from the kind the model gives each setting.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

from markupsafe import Markup, escape

from compiler.model.options import by_key
from compiler.review.diff import Built, GroupChange, show
from compiler.review.preview.contrast import THEME_COLORS, table_html

Kind = Literal["colour", "boolean", "phone", "list", "text", "value"]
HEX = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")


# The model's display kinds (compiler/model/meta.py) as the preview draws them; a kind
# not listed here (text, money, choice, number) is drawn as its shown value.
_DRAWN: dict[str, Kind] = {
    "colour": "colour",
    "boolean": "boolean",
    "multiline": "text",
    "list": "list",
}


def display_kind(path: str, value: Any) -> Kind:
    """How the setting at `path` (a group-file key path) is drawn.

    The one lookup every page goes through: the model's display kind where the
    path is a setting, the value's shape for what the compiler derives.
    """
    option = by_key().get(path)
    if option is not None and option.kind in _DRAWN:
        return _DRAWN[option.kind]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict) and "display" in value:
        return "phone"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str) and "\n" in value.strip("\n"):
        return "text"
    return "value"


@dataclass(frozen=True, slots=True)
class Shown:
    """A setting's value as a reviewer reads it, with its colour when it is one."""

    text: str
    kind: Kind
    colour: str | None = None  # a checked hex colour, drawn as a swatch beside the text

    def __html__(self) -> str:
        """How every page draws the value (`{{ shown }}`): a colour with its swatch.

        Here rather than in a template macro: each page of a changed group shows
        them, and importing a macro costs every page a template module.
        """
        text = f'<span class="pv-value" data-kind="{self.kind}">{escape(self.text)}</span>'
        if self.colour is None:
            return text
        colour = escape(self.colour)
        style = f"background-color: {colour}"
        return f'<span class="pv-swatch" style="{style}" data-color="{colour}"></span> {text}'


def shown(path: str, value: Any) -> Shown:
    kind = display_kind(path, value)
    colour = value if kind == "colour" and isinstance(value, str) and HEX.fullmatch(value) else None
    return Shown(show(value, path), kind, colour)


@dataclass(frozen=True, slots=True)
class ChangedSetting:
    """One changed setting, both sides drawn the same way on every page."""

    path: str
    label: str
    before: Shown
    after: Shown
    diff: list[str] | None  # a unified diff, for the MFA texts


def changed_settings(change: GroupChange | None) -> list[ChangedSetting]:
    if change is None:
        return []
    return [
        ChangedSetting(s.path, s.label, shown(s.path, s.old), shown(s.path, s.new), s.diff)
        for s in change.settings
    ]


class Marks(dict[str, Markup]):
    """`at[path]` in the portal template: the attributes that say where a setting shows.

    A mapping rather than a callable or a macro: a page looks up about seventy
    marks and a fleet-scale preview draws twenty thousand pages, and a lookup of
    a mark already made is a plain dict hit, where a call goes through Jinja's
    `context.call`. Pages with the same changed settings share one (`marks`).
    """

    __slots__ = ("changed",)

    def __init__(self, changed: frozenset[str]) -> None:
        super().__init__()
        self.changed = changed

    def __missing__(self, path: str) -> Markup:
        safe = escape(path)
        changed = f' data-changed="{safe}"' if path in self.changed else ""
        mark = self[path] = Markup(f' data-setting="{safe}"{changed}')
        return mark


@functools.lru_cache(maxsize=256)
def marks(changed: frozenset[str]) -> Marks:
    """The marks of pages whose changed settings are `changed` (one per set, filled as used)."""
    return Marks(changed)


CHANGES = "preview/changes.html.j2"
ACCOUNT = "preview/account.html.j2"
# The portal settings the account card reads (ACCOUNT); nothing else of the group.
ACCOUNT_SWITCHES = (
    "showCurrentBalance",
    "showStatementBalance",
    "showCollections",
    "showEscrow",
    "showProcedures",
    "showInsurancePending",
    "visitsPdfExport",
)
_ONCE: dict[tuple[Any, ...], Markup] = {}  # what `drawn_once` drew, by template and key


def drawn_once(template: str, key: tuple[Any, ...], context: dict[str, Any]) -> Markup:
    """`template` drawn with `context`, once for all pages whose `key` is the same.

    For the parts of a page that depend on a few values only: a fleet-wide
    change draws twenty thousand pages, and these parts take the same few
    forms on all of them. `key` must stand for everything in `context` (the
    template is given nothing else, and strict undefined stops it reading more).
    """
    found = _ONCE.get((template, *key))
    if found is None:
        from compiler.render import environment

        if len(_ONCE) >= 4096:  # (a bound; pages that all differ gain nothing here)
            _ONCE.clear()
        drawn = environment().get_template(template).render(context)
        found = _ONCE[(template, *key)] = Markup(drawn)
    return found


SAMPLES = "preview/theme_samples.html.j2"


def theme_samples(at: Marks) -> Markup:
    """The portal page's theme-colour samples with the marks `at`: the same on every
    page with the same changed settings, whatever the group (they were a sixth of
    each page's drawing)."""
    return drawn_once(SAMPLES, (at.changed,), {"at": at, "theme_colors": THEME_COLORS})


def changes_aside(changes: list[ChangedSetting], against: str) -> Markup:
    """The list of changed settings atop a portal page ("" when none changed).

    A fleet-wide change (one line of `_defaults.yaml`) makes the same change to
    thousands of groups, and their pages say the same.
    """
    if not changes:
        return Markup("")
    key = (against, *((c.path, c.label, c.before, c.after, c.diff is None) for c in changes))
    return drawn_once(CHANGES, key, {"changes": changes, "against": against})


def account_card(config: dict[str, Any], at: Marks) -> Markup:
    """The account card: panels, visits and contact details, as the switches set them."""
    look = config["lookAndFeel"]
    switches = tuple(look[name] for name in ACCOUNT_SWITCHES)
    editing = bool(config["patientPermissions"]["contactInfoEditing"])
    context = {
        "lf": dict(zip(ACCOUNT_SWITCHES, switches, strict=True)),
        "contact_editing": editing,
        "at": at,
    }
    return drawn_once(ACCOUNT, (at.changed, editing, *switches), context)


@functools.lru_cache(maxsize=64)
def files_list(files: tuple[str, ...]) -> Markup:
    """The links to a group's files: the same names for nearly every group."""
    return Markup(", ").join(Markup('<a href="{0}">{0}</a>').format(f) for f in files)


def _text(files: dict[str, bytes], rel: str | None) -> str | None:
    data = files.get(rel) if rel is not None else None
    return data.decode("utf-8").rstrip("\n") if data is not None else None


def portal_context(
    built: Built,
    files: dict[str, bytes],
    *,
    side: str,
    root: str,
    changes: list[ChangedSetting] | None = None,
    against: str = "",
) -> dict[str, Any]:
    """What the portal template shows, read from this group's artifacts only.

    `changes` are the settings that differ from the other side (`against`
    names it); the page marks where each one shows.
    """
    config = built.config
    assert config is not None
    prefix = f"groups/{built.slug}/"
    local = {rel.removeprefix(prefix): data for rel, data in files.items()}
    mfa = config["authentication"]["mfa"]
    mfa_files = {key: ref["path"] for key, ref in mfa.get("files", {}).items()}
    changes = changes or []
    at = marks(frozenset(c.path for c in changes))
    return {
        "c": config,
        "side": side,
        "root": root,
        "stylesheet": config["theme"]["stylesheet"]["path"],
        "email_html": mfa_files.get("emailHtml"),
        "email_source": _text(local, mfa_files.get("emailHtml")),
        "email_subject": _text(local, mfa_files.get("emailSubject")),
        "sms": _text(local, mfa_files.get("sms")),
        "contrast_rows_html": table_html(config),
        "theme_samples": theme_samples(at),
        "files_html": files_list(tuple(sorted(local))),
        "changes": changes,
        "changes_html": changes_aside(changes, against),
        "at": at,
        "account_html": account_card(config, at),
        "against": against,
    }

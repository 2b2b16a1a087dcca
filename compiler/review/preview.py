"""`pops preview`: static pages that show a group the way patients will see it.

The preview is a client of the artifacts, not a second renderer: every page
links the group's real `theme.css` (copied next to it) and takes every option,
colour and text from its real `config.json` and `mfa/` files. If the compiler
gets a colour or a switch wrong, the preview shows it wrong too, which is the
point. Contrast ratios are computed from the colours in `config.json` with the
same WCAG 2 maths the rules use (`compiler.colors`).

Layout of the output folder (replaced whole, byte-identical for the same input):

    index.html, preview.css
    <slug>/index.html, theme.css, config.json, mfa/...   the working tree
    <slug>/base/...                                      the base (with --base)
    <slug>/compare.html                                  before | after (with --base)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler import colors
from compiler.pipeline.ownership import MARKER, marker
from compiler.pipeline.writer import Staging
from compiler.render import environment, templates_dir
from compiler.review.diff import Built, GroupChange, Side, compare, show
from compiler.review.gitrefs import Base

AA_TEXT = 4.5
AA_LARGE = 3.0
THEME_COLORS = ("primary", "secondary", "accent", "info", "success", "warning", "error")


@dataclass(frozen=True, slots=True)
class ContrastRow:
    """One colour pair of the theme, as the portal draws it, against WCAG AA."""

    use: str
    foreground: str  # colour names, also the theme.css class suffixes
    background: str
    foreground_hex: str
    background_hex: str
    ratio: float

    @property
    def shown(self) -> str:
        """Rounded down, so a ratio shown as 4.50 never fails 4.5."""
        return f"{math.floor(self.ratio * 100) / 100:.2f}:1"

    @property
    def text_ok(self) -> bool:
        return self.ratio >= AA_TEXT

    @property
    def large_ok(self) -> bool:
        return self.ratio >= AA_LARGE


def contrast_rows(config: dict[str, Any]) -> list[ContrastRow]:
    """The pairs patients read: on-colours on fills, theme colours as text on the page."""
    palette: dict[str, str] = config["theme"]["colors"]
    vuetify: dict[str, str] = config["theme"]["vuetify"]["colors"]

    def row(use: str, fg: str, bg: str, fg_hex: str, bg_hex: str) -> ContrastRow:
        return ContrastRow(use, fg, bg, fg_hex, bg_hex, colors.contrast_ratio(fg_hex, bg_hex))

    rows = [
        row(
            "Page text",
            "on-background",
            "background",
            vuetify["on-background"],
            palette["background"],
        ),
        row("Card text", "on-surface", "surface", vuetify["on-surface"], palette["surface"]),
    ]
    for name in THEME_COLORS:
        rows.append(
            row(
                f"Text on {name} buttons and alerts",
                f"on-{name}",
                name,
                vuetify[f"on-{name}"],
                palette[name],
            )
        )
    for name in THEME_COLORS:
        for ground in ("background", "surface"):
            rows.append(
                row(
                    f"{name.capitalize()} text and outlines on the {ground}",
                    name,
                    ground,
                    palette[name],
                    palette[ground],
                )
            )
    return rows


def _text(files: dict[str, bytes], rel: str) -> str | None:
    data = files.get(rel)
    return data.decode("utf-8").rstrip("\n") if data is not None else None


def portal_context(built: Built, *, side: str, root: str) -> dict[str, Any]:
    """What the portal template shows, read from this group's artifacts only."""
    assert built.files is not None
    config = built.config
    assert config is not None
    prefix = f"groups/{built.slug}/"
    local = {rel.removeprefix(prefix): data for rel, data in built.files.items()}
    mfa = config["authentication"]["mfa"]
    mfa_files = {key: ref["path"] for key, ref in mfa.get("files", {}).items()}
    return {
        "c": config,
        "side": side,
        "root": root,
        "stylesheet": config["theme"]["stylesheet"]["path"],
        "email_html": mfa_files.get("emailHtml"),
        "email_subject": _text(local, mfa_files["emailSubject"])
        if "emailSubject" in mfa_files
        else None,
        "sms": _text(local, mfa_files["sms"]) if "sms" in mfa_files else None,
        "contrast": contrast_rows(config),
        "theme_colors": THEME_COLORS,
        "files": sorted(local),
    }


class _Writer:
    """Counts pages and keeps every write going through the atomic staging folder."""

    def __init__(self, staging: Staging) -> None:
        self.staging = staging
        self.pages = 0

    def page(self, rel: str, template: str, context: dict[str, Any]) -> None:
        html = environment().get_template(template).render(context)
        self.staging.write(rel, html.encode())
        self.pages += 1

    def group(self, built: Built, folder: str, *, side: str, root: str) -> None:
        """A group's artifacts copied into `folder`, and its portal page beside them."""
        assert built.files is not None
        prefix = f"groups/{built.slug}/"
        for rel, data in sorted(built.files.items()):
            self.staging.write(folder + rel.removeprefix(prefix), data)
        self.page(
            folder + "index.html",
            "preview/portal.html.j2",
            portal_context(built, side=side, root=root),
        )


def _entry(slug: str, built: Built | None, change: GroupChange | None) -> dict[str, Any]:
    config = built.config if built is not None else None
    return {
        "slug": slug,
        "name": change.name if change is not None else (built.name if built else slug),
        "colors": config["theme"]["colors"] if config else None,
        "change": change,
        "link": f"{slug}/compare.html" if change is not None else f"{slug}/index.html",
    }


def write_preview(
    out_dir: Path, after: Side, *, before: Side | None = None, base: Base | None = None
) -> int:
    """Write the preview folder (all or nothing); returns the number of HTML pages."""
    staging = Staging(out_dir)
    try:
        writer = _Writer(staging)
        staging.write(MARKER, marker("preview"))
        staging.write("preview.css", (templates_dir() / "preview" / "preview.css").read_bytes())
        changes: dict[str, GroupChange] = {}
        if before is not None and base is not None:
            report = compare(base, before, after)
            changes = {c.slug: c for c in report.groups if c.status != "edited"}
        for slug, built in sorted(after.groups.items()):
            if built.files is not None:
                label = "After: the working tree" if base is not None else ""
                writer.group(built, f"{slug}/", side=label, root="../")
        entries = []
        for slug in sorted(set(after.groups) | set(changes)):
            change = changes.get(slug)
            old = None
            if change is not None and before is not None:
                old = before.groups.get(change.previous_slug or slug)
            entries.append(_entry(slug, after.groups.get(slug) or old, change))
            if change is None or base is None:
                continue
            if old is not None and old.files is not None:
                writer.group(old, f"{slug}/base/", side=f"Before: {base.label}", root="../../")
            writer.page(
                f"{slug}/compare.html",
                "preview/compare.html.j2",
                {
                    "change": change,
                    "base": base,
                    "before": "base/index.html" if old is not None and old.files else None,
                    "after": "index.html" if change.status != "removed" else None,
                    "show": show,
                    "root": "../",
                },
            )
        writer.page(
            "index.html",
            "preview/index.html.j2",
            {"entries": entries, "base": base, "env": after.env, "root": "", "json": json},
        )
        staging.commit()
    except BaseException:
        staging.discard()
        raise
    return writer.pages

"""Admin text made inert for a GitHub pull-request comment.

A group's values are the admin's, not ours: a footer that says "write to
billing@example.com", a name like "Clinic @front-desk #4" or a pasted URL must
reach the reviewer as text, never as a link, a mention that pings someone, or
a reference to issue #4. Markdown escapes stop HTML, emphasis and tables; a
WORD JOINER (U+2060, invisible, zero width) after `@`, `#` and `:` and inside
`www.` and `GH-` stops the autolinks of GitHub-flavoured Markdown and the
mentions and references GitHub adds on its server. The reader sees the same
characters. (tests/test_diff_markdown.py renders with cmarkgfm to hold this.)
"""

from __future__ import annotations

import html
import re

JOINER = "\u2060"
# After `@` (mentions, emails), `#` (issues), `:` (any scheme://), inside `www.` and `GH-`.
_LINK_TRIGGERS = re.compile(r"(?<=[@#:])|(?<=www)(?=\.)|(?<=gh)(?=-)", re.IGNORECASE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def unlinked(text: str) -> str:
    """`text` with an invisible joiner wherever GitHub would start a link or a mention."""
    return _LINK_TRIGGERS.sub(JOINER, text)


def _html(text: str) -> str:
    """`&`, `<`, `>` and `@` as entities: no HTML, and no @ for a mention to start from."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "&#64;")
    )


def entities(text: str) -> str:
    """Admin text for an HTML context (a `<summary>`): no tags, links or mentions."""
    return _html(unlinked(text))


def md(text: str) -> str:
    """Admin text as inert Markdown: no HTML, links, emphasis, table breaks or @-mentions."""
    escaped = _html(_MARKDOWN_SPECIAL.sub(r"\\\1", unlinked(text)))
    return escaped.replace("\r", "").replace("\n", "<br>")


def fence(lines: list[str], lang: str) -> str:
    """A fenced block longer than any backtick run inside, so admin text cannot close it."""
    body = "\n".join(lines)
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{lang}\n{body}\n{marks}"


def code(text: str) -> str:
    """A file path or slug as inline code (code is never linked)."""
    return f"<code>{html.escape(text)}</code>"

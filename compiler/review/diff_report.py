"""Reporters for `pops diff`: one DiffReport, three readers (a terminal, a PR, a tool).

Markdown is written for a GitHub pull-request comment: a summary table first,
details folded into `<details>`, admin text escaped so a group name can never
inject HTML, links or @-mentions, and the whole capped under GitHub's comment
limit with a note when something was cut.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from compiler.formats.terminal import printable
from compiler.formats.text import format_diagnostic
from compiler.review.diff import (
    DiffReport,
    FileChange,
    GroupChange,
    SettingChange,
    SharedChange,
    show,
)
from compiler.review.md_safe import code as _code
from compiler.review.md_safe import entities as _entities
from compiler.review.md_safe import fence as _fence
from compiler.review.md_safe import md

__all__ = ["md"]  # (its home is compiler.review.md_safe)

MARKDOWN_LIMIT = 60_000

STATUS_WORDS = {
    "added": "added",
    "removed": "removed",
    "renamed": "renamed",
    "changed": "changed",
    "fixed": "fixed (invalid at base)",
    "edited": "file edited, no effect on the portal",
}

FILE_MARKS = {"added": "+", "removed": "-", "changed": "~"}
GROUP_MARKS = {"added": "+", "removed": "-", "renamed": "→", "changed": "~", "fixed": "~"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


MAX_SHARED_EXAMPLES = 5
MAX_SHARED_RANGES = 8
MAX_SHARED_MARKDOWN = 30


def _ranges(ranges: list[tuple[int, int]]) -> str:
    """`12`, `3, 12-14`: line ranges as people write them, capped."""
    shown = [str(a) if a == b else f"{a}-{b}" for a, b in ranges[:MAX_SHARED_RANGES]]
    if len(ranges) > MAX_SHARED_RANGES:
        shown.append(f"and {len(ranges) - MAX_SHARED_RANGES} more")
    return ", ".join(shown)


def shared_where(item: SharedChange) -> str:
    """`line 12`, `lines 3, 12-14; old line 7 removed`: where a shared file changed."""
    if item.change != "changed":
        return ""
    parts = []
    if item.lines:
        count = sum(b - a + 1 for a, b in item.lines)
        parts.append(f"{'line' if count == 1 else 'lines'} {_ranges(item.lines)}")
    if item.removed_lines:
        count = sum(b - a + 1 for a, b in item.removed_lines)
        word = "old line" if count == 1 else "old lines"
        parts.append(f"{word} {_ranges(item.removed_lines)} removed")
    return "; ".join(parts)


def shared_groups(item: SharedChange) -> str:
    """`214 groups in environment staging`, or `no groups`."""
    n = len(item.groups)
    text = "no groups" if n == 0 else _plural(n, "group")
    if item.environment is not None:
        text += f" in environment {item.environment}"
    return text


def shared_examples(item: SharedChange) -> str:
    """`a, b, c, d, e and 209 more`."""
    listed = ", ".join(item.groups[:MAX_SHARED_EXAMPLES])
    if len(item.groups) > MAX_SHARED_EXAMPLES:
        listed += f" and {len(item.groups) - MAX_SHARED_EXAMPLES} more"
    return listed


def shared_line(item: SharedChange) -> str:
    """`changing groups/_defaults.yaml (line 12) changes 214 groups: a, b, ...`."""
    where = shared_where(item)
    text = f"{item.verb} {item.file}{f' ({where})' if where else ''} changes {shared_groups(item)}"
    if item.groups:
        text += f": {shared_examples(item)}"
        if item.environment is not None:
            text += f" (details: pops diff --env {item.environment})"
    return text


def _where(report: DiffReport) -> str:
    env = f"in environment {report.env} " if report.env is not None else ""
    return f"{env}against {report.base.label}"


def headline(report: DiffReport) -> str:
    """One line: what changes, against which commit."""
    where = _where(report)
    if not report.changed:
        return f"No changes {where}."
    counts = report.counts()
    parts = [f"{counts[s]} {STATUS_WORDS[s].split(' (')[0]}" for s in STATUS_WORDS if s in counts]
    if not parts:
        parts = ["no group changes"]
    return f"{_plural(len(report.groups), 'group')}: {', '.join(parts)} {where}."


def _title(group: GroupChange) -> str:
    """`groups/a.yaml: Name (changed)`; a rename shows both file names."""
    where = f"{group.previous_file} → {group.file}" if group.previous_file else group.file
    return f"{where}: {group.name} ({STATUS_WORDS[group.status]})"


# --- text ----------------------------------------------------------------------------------


def _indent(lines: list[str], depth: int) -> list[str]:
    return [" " * depth + line for line in lines]


def format_text(report: DiffReport) -> str:
    """Terraform-plan-like: one block per group, `old → new` per setting."""
    out = [headline(report)]
    out += [shared_line(item) for item in report.shared]
    for group in report.groups:
        out.append("")
        mark = GROUP_MARKS.get(group.status, "~")
        out.append(f"{mark} {_title(group)}")
        if group.base_errors:
            out.append(f"    had {_plural(len(group.base_errors), 'error')} at the base:")
            out += _indent([format_diagnostic(d) for d in group.base_errors], 6)
        if group.settings and group.status == "added":
            out.append("    settings other than the defaults:")
        for setting in group.settings:
            if setting.diff is not None:
                out.append(f"    {setting.label}:")
                out += _indent(setting.diff, 6)
            else:
                old, new = show(setting.old, setting.path), show(setting.new, setting.path)
                out.append(f"    {setting.label}: {old} → {new}")
        if group.source_diff:
            out.append("    group file:")
            out += _indent(group.source_diff, 6)
        if group.files:
            out.append(f"    {report.dist} files:")
            out += [f"      {FILE_MARKS[f.change]} {f.path}" for f in group.files]
    if report.files:
        out.append("")
        out += [f"{FILE_MARKS[f.change]} {report.dist}{f.path}" for f in report.files]
    # Each entry is one line: a line break or escape sequence in a value or in the group
    # file's own lines is shown escaped (compiler.formats.terminal), never acted on.
    return "\n".join(printable(line) for line in out) + "\n"


# --- markdown ------------------------------------------------------------------------------

_SAFE_TOKEN = re.compile(r"#[0-9a-f]{6}|[A-Za-z0-9_]+")


def md_value(value: Any, path: str | None = None) -> str:
    """A setting value in a table cell: on/off in words, colours and choices as code."""
    text = show(value, path)
    if value is None:
        return f"*{text}*"
    if isinstance(value, bool):
        return text
    if _SAFE_TOKEN.fullmatch(text):
        return f"`{text}`"
    if len(text) > 300:
        text = text[:300] + "…"
    return md(text)


def _setting_table(group: GroupChange) -> list[str]:
    plain = [s for s in group.settings if s.diff is None]
    if not plain:
        return []
    before = "Default" if group.status == "added" else "Before"
    rows = [f"| Setting | {before} | After |", "| --- | --- | --- |"]
    rows += [
        f"| {md(s.label)} | {md_value(s.old, s.path)} | {md_value(s.new, s.path)} |" for s in plain
    ]
    return [*rows, ""]


def _text_diffs(settings: list[SettingChange]) -> list[str]:
    out: list[str] = []
    for setting in settings:
        if setting.diff is not None:
            out += [f"**{md(setting.label)}**", "", _fence(setting.diff, "diff"), ""]
    return out


def _file_list(files: list[FileChange], dist: str) -> list[str]:
    if not files:
        return []
    out = [f"Files in `{dist}`:", ""]
    out += [f"- {f.change} `{f.path}`" for f in files]
    return [*out, ""]


def _group_details(group: GroupChange, dist: str) -> str:
    summary_bits = [] if group.status == "changed" else [STATUS_WORDS[group.status]]
    if group.settings:
        summary_bits.append(_plural(len(group.settings), "setting"))
    if group.files:
        summary_bits.append(_plural(len(group.files), "file"))
    summary = f"<b>{_entities(group.name)}</b> ({_code(group.slug)}): " + html.escape(
        ", ".join(summary_bits)
    )
    out = [f"<details><summary>{summary}</summary>", ""]
    if group.previous_file:
        out += [f"Renamed from `{group.previous_file}` to `{group.file}`.", ""]
    if group.base_errors:
        out += [f"At the base this group had {_plural(len(group.base_errors), 'error')}:", ""]
        out += [_fence([format_diagnostic(d) for d in group.base_errors], "text"), ""]
    if group.status == "added" and group.settings:
        out += ["Settings that differ from the defaults:", ""]
    if group.status == "edited":
        out += [
            "The group file changed (comments or formatting) but the portal sees no difference.",
            "",
        ]
    out += _setting_table(group)
    out += _text_diffs(group.settings)
    if group.source_diff:
        out += ["Group file:", "", _fence(group.source_diff, "diff"), ""]
    out += _file_list(group.files, dist)
    out.append("</details>")
    return "\n".join(out)


def _summary_row(group: GroupChange) -> str:
    change = STATUS_WORDS[group.status]
    if group.previous_slug:
        change += f" from {_code(group.previous_slug)}"
    return (
        f"| {md(group.name)} | {_code(group.slug)} | {change} | "
        f"{len(group.settings)} | {len(group.files)} |"
    )


def _shared_markdown(report: DiffReport) -> list[str]:
    """One bullet per changed shared file, before the table: the change people must not miss."""
    out = []
    for item in report.shared[:MAX_SHARED_MARKDOWN]:
        where = shared_where(item)
        text = f"- {item.verb} {_code(item.file)}{f' ({where})' if where else ''} changes "
        text += f"**{md(shared_groups(item))}**"
        if item.groups:
            text += ": " + ", ".join(_code(slug) for slug in item.groups[:MAX_SHARED_EXAMPLES])
            if len(item.groups) > MAX_SHARED_EXAMPLES:
                text += f" and {len(item.groups) - MAX_SHARED_EXAMPLES} more"
            if item.environment is not None:
                text += f" (details: <code>pops diff --env {html.escape(item.environment)}</code>)"
        out.append(text)
    if len(report.shared) > MAX_SHARED_MARKDOWN:
        out.append(f"- and {len(report.shared) - MAX_SHARED_MARKDOWN} more shared files")
    return [*out, ""] if out else []


def _heading(report: DiffReport) -> tuple[str, list[str]]:
    """(where: against which commit, in which environment; the title line and shared bullets)."""
    base = report.base
    where = f"against {'the merge-base with ' if base.merge_base else ''}{_code(base.ref)}"
    if base.ref != base.commit:
        where += f" ({_code(base.commit[:7])})"
    if report.env is not None:
        where = f"in environment {_code(report.env)} {where}"
    counts = report.counts()
    parts = [f"{counts[s]:,} {STATUS_WORDS[s].split(' (')[0]}" for s in STATUS_WORDS if s in counts]
    head = [f"### POPS groups: {', '.join(parts) or 'no group changes'} {where}", ""]
    return where, head + _shared_markdown(report)


MAX_SUMMARY_SETTINGS = 60
MAX_SUMMARY_PAIRS = 3
MAX_SUMMARY_VALUE = 80


def by_setting(report: DiffReport) -> list[tuple[str, int, list[tuple[Any, Any, int]]]]:
    """(label, groups, the commonest before → after pairs with their counts), most groups first.

    What a reviewer of a change to thousands of groups reads first: "Theme ›
    Primary changed on 2,314 groups: `#1976d2` → `#0b5cad` (2,300)".
    """
    counts: dict[str, int] = {}
    pairs: dict[str, dict[str, tuple[Any, Any, int]]] = {}
    for group in report.groups:
        if group.status == "added":
            continue  # (an added group's settings are its own, not a change)
        for setting in group.settings:
            counts[setting.label] = counts.get(setting.label, 0) + 1
            if setting.diff is not None:
                continue  # (texts: shown as diffs per group, not as values)
            key = json.dumps([setting.old, setting.new], sort_keys=True)
            old, new, n = pairs.setdefault(setting.label, {}).get(
                key, (setting.old, setting.new, 0)
            )
            pairs[setting.label][key] = (old, new, n + 1)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [
        (name, n, sorted(pairs.get(name, {}).values(), key=lambda p: -p[2])[:MAX_SUMMARY_PAIRS])
        for name, n in ranked
    ]


def _short(value: Any) -> str:
    text = md_value(value)
    return text if len(text) <= MAX_SUMMARY_VALUE else md(show(value)[:MAX_SUMMARY_VALUE] + "…")


def _setting_summary(report: DiffReport) -> list[str]:
    """One bullet per setting that changed, with how many groups and the commonest values."""
    ranked = by_setting(report)
    out = ["**Changes by setting:**", ""] if ranked else []
    for name, n, pairs in ranked[:MAX_SUMMARY_SETTINGS]:
        line = f"- **{md(name)}** changed on {_plural(n, 'group').replace(str(n), f'{n:,}')}"
        if pairs:
            shown = [f"{_short(old)} → {_short(new)} ({count:,})" for old, new, count in pairs]
            line += ": " + ", ".join(shown)
            other = n - sum(count for _, _, count in pairs)
            if other:
                line += f", {other:,} other"
        out.append(line)
    if len(ranked) > MAX_SUMMARY_SETTINGS:
        out.append(f"- and {len(ranked) - MAX_SUMMARY_SETTINGS} more settings")
    return [*out, ""] if out else []


LOCAL_FULL_REPORT = "Run `pops diff --format markdown` locally for the full report."


def format_markdown(
    report: DiffReport, *, limit: int = MARKDOWN_LIMIT, full_report: str = LOCAL_FULL_REPORT
) -> str:
    """A PR comment: headline, shared-file changes, summary table, then one block per group.

    When that does not fit in `limit` characters, the changes are summarised
    by setting first, then as many table rows and group blocks as fit, and a
    note says where the full report is (`full_report`).
    """
    where, head = _heading(report)
    if not report.changed:
        text = f"**POPS groups:** no changes {where}.\n"
        shared = _shared_markdown(report)
        return text + ("\n" + "\n".join(shared).rstrip("\n") + "\n" if shared else "")
    rows = [_summary_row(g) for g in report.groups]
    blocks = [_group_details(g, report.dist) + "\n\n" for g in report.groups]
    table = [
        "| Group | Slug | Change | Settings | `dist/` files |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    tail = [""]
    if report.files:
        also = ", ".join(f"{f.change} `{report.dist}{f.path}`" for f in report.files)
        tail += [f"Also: {also}", ""]
    text = "\n".join([*head, *(table if report.groups else [])])
    text += "".join("\n" + row for row in rows) + "\n" + "\n".join(tail).rstrip("\n") + "\n\n"
    text += "".join(blocks)
    if len(text) <= limit:
        return text.rstrip("\n") + "\n"
    head += table if report.groups else []
    return _cut(report, head, rows, tail, blocks, limit, full_report)


def _cut(
    report: DiffReport,
    head: list[str],
    rows: list[str],
    tail: list[str],
    blocks: list[str],
    limit: int,
    full_report: str,
) -> str:
    """The comment summarised by setting, then what fits of the table and the blocks."""
    note_room = 400 + len(full_report)
    summary = _setting_summary(report)
    text = "\n".join([*head[:-2], *summary, *head[-2:]] if rows else [*head, *summary])
    if len(text) + note_room > limit:  # (sixty settings of long values: keep the headline)
        text = "\n".join(head)
    shown_rows = 0
    for row in rows:
        if len(text) + len(row) + 1 + note_room > limit:
            break
        text += "\n" + row
        shown_rows += 1
    text += "\n" + "\n".join(tail).rstrip("\n") + "\n\n"
    shown = 0
    if shown_rows == len(rows):
        for block in blocks:
            if len(text) + len(block) + note_room > limit:
                break
            text += block
            shown += 1
    left = len(report.groups) - shown
    out_of_table = max(0, len(rows) - shown_rows)
    text += (
        f"> **Note:** this comment was cut to stay under {limit:,} characters; "
        f"{_plural(left, 'group')} {'is' if left == 1 else 'are'} not detailed here"
        + (f" ({out_of_table:,} left out of the table)" if out_of_table else "")
        + f". {full_report}\n"
    )
    return text.rstrip("\n") + "\n"


# --- json ----------------------------------------------------------------------------------


def _json_group(group: GroupChange) -> dict[str, Any]:
    return {
        "slug": group.slug,
        "name": group.name,
        "status": group.status,
        "file": group.file,
        "previousSlug": group.previous_slug,
        "previousFile": group.previous_file,
        "settings": [
            {"path": s.path, "label": s.label, "old": s.old, "new": s.new, "diff": s.diff}
            for s in group.settings
        ],
        "files": [{"path": f.path, "change": f.change} for f in group.files],
        "baseErrors": [
            {
                "file": d.file,
                "line": d.line,
                "column": d.column,
                "path": d.path,
                "code": d.code,
                "message": d.message,
            }
            for d in group.base_errors
        ],
        "sourceDiff": group.source_diff,
    }


def format_json(report: DiffReport) -> str:
    """Everything, for tools: stable keys, settings with both raw values and labels."""
    data = {
        "base": {
            "ref": report.base.ref,
            "mergeBase": report.base.merge_base,
            "commit": report.base.commit,
        },
        "environment": report.env,
        "changed": report.changed,
        "shared": [
            {
                "file": s.file,
                "kind": s.kind,
                "change": s.change,
                "lines": [list(r) for r in s.lines],
                "removedLines": [list(r) for r in s.removed_lines],
                "environment": s.environment,
                "groups": s.groups,
                "summary": shared_line(s),
            }
            for s in report.shared
        ],
        "groups": [_json_group(g) for g in report.groups],
        "files": [{"path": f.path, "change": f.change} for f in report.files],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


REPORTERS: dict[str, Callable[[DiffReport], str]] = {
    "text": format_text,
    "markdown": format_markdown,
    "json": format_json,
}

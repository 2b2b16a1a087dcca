"""Anchors, aliases and explicit tags, refused before anything is built.

Anchors and aliases are how alias bombs work, and the parser events never
expand them; tags (`!!str`, `!!python/...`, `!custom`) have no place in plain
data. Most files hold neither, so the events are scanned only when the text
has a `!`, `&` or `*` where one could start.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from compiler.diagnostics import Diagnostic
from compiler.load.document import Path_, dotted, yaml_error
from compiler.load.parser import events

STANDARD_TAG = "tag:yaml.org,2002:"
# A `!` where a YAML tag could start; only then are the events scanned for tags.
_TAG_HINT = re.compile(r"(?:^|[\s\[{,])!", re.MULTILINE)
# A `&` or `*` where an anchor or alias could start: at the start of a token, followed by
# a name. Prose such as "Smith & Jones" or "5 * 3" does not match.
_ALIAS_HINT = re.compile(r"(?:^|[\s\[\]{},:?\"'])[&*][^\s\[\]{},]", re.MULTILINE)


def refused_properties(text: str, file: str) -> list[Diagnostic]:
    """Every anchor, alias and tag in `text`, each located; empty for almost every file."""
    bang = "!" in text
    if (
        # Any `!` keeps the events scanned when `&` or `*` appear, as they always were.
        (("&" in text or "*" in text) and (bang or _ALIAS_HINT.search(text)))
        or (bang and _TAG_HINT.search(text))
    ):
        return list(_node_properties(text, file))
    return []


def _show_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(STANDARD_TAG) if tag.startswith(STANDARD_TAG) else tag


def _node_properties(text: str, file: str) -> Iterator[Diagnostic]:
    """Anchors, aliases and tags from the parser events, before anything is built; the
    key path of each node is tracked from the events so the diagnostic names it."""
    # Each frame: [path, is_mapping, expecting_key, current_key, next_index]
    stack: list[list[Any]] = []
    try:
        for event in events(text):
            if isinstance(event, yaml.CollectionEndEvent):
                stack.pop()
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            path = _path_of(stack, event)
            yield from _event_problems(event, path, file)
            if isinstance(event, yaml.MappingStartEvent):
                stack.append([path, True, True, None, 0])
            elif isinstance(event, yaml.SequenceStartEvent):
                stack.append([path, False, False, None, 0])
    except yaml.YAMLError:
        return  # the compose step reports the syntax error with its position


def _path_of(stack: list[list[Any]], event: yaml.NodeEvent) -> Path_:
    """The key path of the node this event starts, moving its parent's frame on."""
    if not stack:
        return ()
    frame = stack[-1]
    if not frame[1]:
        frame[4] += 1
        return (*frame[0], frame[4] - 1)
    frame[2] = not frame[2]
    if not frame[2]:  # this node is a key
        frame[3] = event.value if isinstance(event, yaml.ScalarEvent) else "?"
        return tuple(frame[0])
    return (*frame[0], frame[3])


def _event_problems(event: yaml.NodeEvent, path: Path_, file: str) -> Iterator[Diagnostic]:
    mark = event.start_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    if isinstance(event, yaml.AliasEvent):
        yield yaml_error(
            file,
            line,
            column,
            "yaml-alias",
            f"alias `*{event.anchor}` is not allowed; write the value out in full",
            dotted(path),
        )
        return
    if event.anchor:
        yield yaml_error(
            file,
            line,
            column,
            "yaml-alias",
            f"anchor `&{event.anchor}` is not allowed; group files do not use anchors or aliases",
            dotted(path),
        )
    tag = getattr(event, "tag", None)
    if tag:
        yield yaml_error(
            file,
            line,
            column,
            "yaml-tag",
            f"tag `{_show_tag(tag)}` is not allowed in group files; remove it "
            "(to keep a value as text, quote it instead)",
            dotted(path),
        )


# What each code this module reports means and how to fix it (see compiler/codes.py).
CODES: dict[str, tuple[str, str]] = {
    "yaml-alias": (
        "Anchors, aliases and merge keys (`&`, `*`, `<<`) are not allowed.",
        "Write each value out in full; shared settings belong in `groups/_defaults.yaml` "
        "or a base.",
    ),
    "yaml-tag": (
        "YAML tags (`!!str`, `!custom`) are not allowed.",
        "Remove the tag; to keep a value as text, quote it.",
    ),
}

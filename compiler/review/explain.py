"""`pops explain`: each effective setting of a group, where it came from, what it overrode.

Answers the reviewer's question "why is this group's primary colour teal?"
without reading five files: the value, the file and line that set it (or
"built-in default"), and the values of lower layers it replaced.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, finalize
from compiler.load.layers import Setting, leaves, load_layers, merge_group
from compiler.load.located import Path_, dotted, load_file
from compiler.model.from_document import group_from_document
from compiler.model.group import Group
from compiler.model.options import by_key
from compiler.pipeline.build import discover, display_path, env_dir_for, slug_problem
from compiler.rules import run_rules
from compiler.rules.contrast import Summary, summary


@dataclass(frozen=True, slots=True)
class Explanation:
    path: str
    value: Any
    source: Setting | None  # None: the built-in default
    overridden: list[Setting] = field(default_factory=list)
    note: str = ""
    # Colours only: the lowest contrast pair the portal draws with this colour.
    contrast: Summary | None = None
    contrast_text: str = ""
    label: str = ""  # the admin screen's words, from the model: `Payments › Require CVV`


@dataclass(slots=True)
class ExplainResult:
    entries: list[Explanation]
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def explain(
    groups_dir: Path, slug: str, *, env: str | None = None, env_dir: Path | None = None
) -> ExplainResult:
    """Every leaf setting of `slug`, in model order, with its provenance."""
    path = groups_dir / f"{slug}.yaml"
    display = path.as_posix().removeprefix("./")
    files, problems = discover([groups_dir])
    if path not in files:  # not there, or not readable as a group (a folder, a pipe...)
        return ExplainResult([], [d for d in problems if d.file == display_path(path)])
    layers = load_layers(groups_dir, env, env_dir_for(groups_dir, env_dir))
    doc, found = load_file(path, display)
    problem = slug_problem(path, display)
    diagnostics = [*layers.diagnostics, *found, *([problem] if problem else [])]
    if doc is None:
        return ExplainResult([], finalize(diagnostics, strict=False))
    merged = merge_group(doc, slug, layers, track=True)
    diagnostics += merged.diagnostics
    modelled = group_from_document(merged.doc)
    diagnostics += modelled.diagnostics
    if modelled.group is None:
        return ExplainResult([], finalize(diagnostics, strict=False))
    diagnostics += run_rules(modelled.group, merged.doc)
    return ExplainResult(
        list(_explain_group(modelled.group, merged.history)), finalize(diagnostics, strict=False)
    )


def _explain_group(group: Group, history: dict[Path_, list[Setting]]) -> Iterator[Explanation]:
    values = group.model_dump(by_alias=True, exclude={"extends", "owners"})
    palette = group.theme.palette()
    values["theme"]["colors"] = palette
    for path, value in leaves(values, ()):
        settings = history.get(path, [])
        source = settings[-1] if settings else None
        overridden = settings[:-1]
        note = ""
        if source is not None and source.value is None:
            note = "reset to the built-in default"
        if path[:2] == ("theme", "colors") and (source is None or source.value is None):
            note = f"built-in {'dark' if group.theme.dark else 'light'} palette"
        measured, said = None, ""
        if path[:2] == ("theme", "colors"):
            measured = summary(str(path[2]), palette, group.theme.dark)
            said = measured.text(palette, group.theme.dark)
        key = dotted(path)
        option = by_key().get(key)
        label = option.title if option is not None else key
        yield Explanation(key, value, source, overridden, note, measured, said, label)


def matches(entry: Explanation, key: str | None) -> bool:
    return key is None or entry.path == key or entry.path.startswith(key + ".")


def known_keys(entries: list[Explanation]) -> list[str]:
    """Every leaf key and every section above one, for did-you-mean."""
    keys: set[str] = set()
    for entry in entries:
        parts = entry.path.split(".")
        keys.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(keys)

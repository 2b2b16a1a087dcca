"""Cross-field rules, one module per rule, each with a stable code.

A rule module holds `CODE`, `SEVERITY`, a docstring with a group that passes and
one that fails, and `check(group) -> Iterator[Finding]`. Rules only look at a
validated `Group`; the runner turns findings into diagnostics at the place in
the file where the admin wrote the value.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, cast

from compiler.diagnostics import Diagnostic, Related, Severity
from compiler.load.located import Document, Path_, dotted

if TYPE_CHECKING:
    from compiler.model import Group


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem and the keys to point at, best first; the first one written in the file wins."""

    paths: tuple[Path_, ...]
    message: str


class Rule(Protocol):
    CODE: str
    SEVERITY: Severity

    def check(self, group: Group) -> Iterator[Finding]: ...


def _discover() -> list[Rule]:
    modules: list[ModuleType] = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
    ]
    return [cast(Rule, module) for module in modules if hasattr(module, "CODE")]


RULES: list[Rule] = _discover()


def locate(doc: Document, paths: tuple[Path_, ...]) -> tuple[Path_, tuple[int, int]]:
    """The first path the admin wrote, else where the first one would have been."""
    for path in paths:
        if doc.written(path):
            return path, doc.position(path)
    return paths[0], doc.position(paths[0])


def _touches(path: Path_, broken: set[Path_]) -> bool:
    return any(path[: len(b)] == b or b[: len(path)] == path for b in broken)


def run_rules(group: Group, doc: Document, broken: set[Path_] | None = None) -> list[Diagnostic]:
    """Every finding of every rule for one group.

    Findings about `broken` paths (values already reported as wrong) are left
    out: a rule judging the default that replaced a typo would only mislead.
    """
    out: list[Diagnostic] = []
    for rule in RULES:
        for finding in rule.check(group):
            if broken and any(_touches(p, broken) for p in finding.paths if p):
                continue
            path, (line, column) = locate(doc, finding.paths)
            file = doc.file_at(path)
            out.append(
                Diagnostic(
                    file,
                    line,
                    column,
                    dotted(path),
                    rule.CODE,
                    rule.SEVERITY,
                    finding.message,
                    _provenance(doc, finding.paths, path, file) if doc.origins else (),
                )
            )
    return out


def _provenance(
    doc: Document, paths: tuple[Path_, ...], chosen: Path_, file: str
) -> tuple[Related, ...]:
    """Where the finding's other values were written, when another layer wrote them."""
    found: list[Related] = []
    for path in paths:
        if path and path != chosen and doc.written(path) and doc.file_at(path) != file:
            line, column = doc.position(path)
            found.append(Related(doc.file_at(path), line, column, f"`{dotted(path)}` is set here"))
    return tuple(found)

"""A loaded group file: its plain data and where each piece was written.

Every later stage (layers, model, rules, review, authoring) names a place in a
group file through a `Document`, so a message can point at the line and column
the admin wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.diagnostics import Diagnostic

Path_ = tuple[str | int, ...]


@dataclass(slots=True)
class Document:
    """A loaded group file: plain data plus where each piece was written.

    `values[path]` is the (line, column) of the value at `path`; `keys[path]`
    the position of the key that introduced it. `raw[path]` keeps the source
    text of plain scalars that did not become strings, and of YAML 1.1
    booleans, so messages can quote what the admin typed.
    """

    file: str
    data: dict[str, Any]
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    raw: dict[Path_, str] = field(default_factory=dict)
    nulls: set[Path_] = field(default_factory=set)
    # For a group merged from several files (defaults, bases, overlays): which
    # file wrote each path. Empty for a single file; see compiler/load/merging.py.
    origins: dict[Path_, str] = field(default_factory=dict)

    def file_at(self, path: Path_) -> str:
        """The file that wrote `path` (or its nearest written ancestor)."""
        if self.origins:
            probe = tuple(path)
            while probe:
                if probe in self.origins:
                    return self.origins[probe]
                probe = probe[:-1]
        return self.file

    def position(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Where `path` was written, or its nearest written ancestor, or 1:1."""
        probe = tuple(path)
        while probe:
            table = self.keys if key else self.values
            if probe in table:
                return table[probe]
            if probe in self.keys:
                return self.keys[probe]
            probe = probe[:-1]
            key = False
        return (1, 1)

    def written(self, path: Path_) -> bool:
        """True when the admin wrote this key in the file (even as `key:`)."""
        return tuple(path) in self.keys


def dotted(path: Path_) -> str:
    """`("theme", "colors", "primary")` -> `theme.colors.primary`; list items as `[n]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else part
    return out


def yaml_error(
    file: str, line: int, column: int, code: str, message: str, path: str = ""
) -> Diagnostic:
    """An error the loader reports at one place of a file."""
    return Diagnostic(file, line, column, path, code, "error", message)

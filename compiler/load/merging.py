"""Layers merged into one document, each value remembering the file that wrote it.

Mappings merge key by key; scalars and lists replace; `key:` with no value
(null) resets the key to its built-in default. With `track`, every value a layer
wrote is kept in order, for `pops explain`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from compiler.diagnostics import Diagnostic
from compiler.load.document import Document, Path_


@dataclass(frozen=True, slots=True)
class Setting:
    """One value as one layer wrote it."""

    file: str
    line: int
    column: int
    value: Any  # None means "reset to the built-in default"


class Merging:
    """Accumulates layers into one Document, remembering who wrote what."""

    def __init__(self, file: str, track: bool, doc: Document | None = None) -> None:
        self.doc = doc if doc is not None else Document(file, {})
        self.track = track
        self.history: dict[Path_, list[Setting]] = {}

    def copy(self) -> Merging:
        """An independent copy to merge more layers into (history is not copied)."""
        doc = self.doc
        return Merging(
            doc.file,
            self.track,
            Document(
                doc.file,
                _copy(doc.data),
                dict(doc.values),
                dict(doc.keys),
                dict(doc.raw),
                set(doc.nulls),
                dict(doc.origins),
            ),
        )

    def _forget(self, path: Path_) -> None:
        """Drop `path` and everything under it from the tables."""
        n = len(path)
        for table in (self.doc.values, self.doc.keys, self.doc.raw, self.doc.origins):
            for p in [p for p in table if p[:n] == path]:
                del table[p]
        self.doc.nulls.difference_update([p for p in self.doc.nulls if p[:n] == path])

    def _forget_leaf(self, path: Path_) -> None:
        """`_forget` for a path that holds a scalar or nothing, so nothing lies under it.

        Entries below a path only come with a mapping or list there (a reset
        forgets what was under it), so dropping the path itself is enough and
        spares a scan of every table for each value a layer overrides.
        """
        doc = self.doc
        doc.values.pop(path, None)
        doc.keys.pop(path, None)
        doc.raw.pop(path, None)
        doc.origins.pop(path, None)
        doc.nulls.discard(path)

    def apply(self, layer: Document, *, last: bool = False) -> None:
        """Merge `layer` on top. `last`: nothing is merged after it, so its mappings and
        lists are taken as they are instead of copied (never written to afterwards)."""
        doc = self.doc
        self._merge(layer.data, (), doc.data, last)
        # Every position this layer wrote now wins; descendants of replaced
        # subtrees were forgotten during the merge.
        doc.values.update(layer.values)
        doc.keys.update(layer.keys)
        doc.raw.update(layer.raw)
        doc.origins.update(dict.fromkeys(layer.values, layer.file))
        doc.origins.update(dict.fromkeys(layer.keys, layer.file))
        if layer.nulls:
            for path in sorted(layer.nulls, key=len):
                self._reset(layer, path)
        if self.track:
            for leaf, leaf_value in leaves(layer.data, ()):
                line, column = layer.values.get(leaf, (1, 1))
                self.history.setdefault(leaf, []).append(
                    Setting(layer.file, line, column, leaf_value)
                )

    def _merge(
        self, source: dict[str, Any], path: Path_, target: dict[str, Any], last: bool = False
    ) -> None:
        doc = self.doc
        for key, value in source.items():
            if key in target:
                current = target[key]
                if isinstance(current, dict):
                    if isinstance(value, dict):
                        self._merge(value, (*path, key), current, last)
                        continue
                    self._forget((*path, key))
                elif isinstance(current, list):
                    self._forget((*path, key))
                else:
                    self._forget_leaf((*path, key))
            elif doc.nulls and (*path, key) in doc.nulls:
                self._forget_leaf((*path, key))
            target[key] = value if last or value.__class__ not in _CONTAINERS else _copy(value)

    def _reset(self, layer: Document, path: Path_) -> None:
        """`key:` with no value: back to the built-in default."""
        node: Any = self.doc.data
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
        self._forget(path)
        self.doc.nulls.add(path)
        if path in layer.keys:
            self.doc.keys[path] = layer.keys[path]
            self.doc.values[path] = layer.values.get(path, layer.keys[path])
            self.doc.origins[path] = layer.file
        if self.track:
            line, column = layer.keys.get(path, (1, 1))
            for leaf in [p for p in self.history if p[: len(path)] == path]:
                self.history[leaf].append(Setting(layer.file, line, column, None))
            if path not in self.history:
                self.history[path] = [Setting(layer.file, line, column, None)]


_CONTAINERS = (dict, list)


def _copy(value: Any) -> Any:
    """A deep copy of loaded data (dicts, lists and immutable scalars)."""
    if isinstance(value, dict):
        return {k: _copy(v) if v.__class__ in _CONTAINERS else v for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) if v.__class__ in _CONTAINERS else v for v in value]
    return value


def leaves(value: Any, path: Path_) -> Iterator[tuple[Path_, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, (*path, key))
    else:
        yield path, value


@dataclass(slots=True)
class Merged:
    """A group's effective document and the files it was made from.

    `doc.data` may share mappings with the top layer's document: read it, do not edit it.
    """

    doc: Document
    diagnostics: list[Diagnostic]
    files: list[str]  # every layer file that contributed, lowest first, then missing bases
    history: dict[Path_, list[Setting]]

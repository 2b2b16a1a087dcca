"""libyaml's parser and composer, without PyYAML's YAML 1.1 tag resolution.

libyaml (PyYAML's C parser) composes the node graph, which is the fast part of
loading; compiler/load/tree.py then walks the nodes itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

try:  # pragma: no cover - which branch runs depends on how PyYAML was built
    # libyaml's parser and composer alone: nodes are all this module asks for, so the
    # constructor and resolver CSafeLoader adds would only be set up per file for nothing.
    from yaml._yaml import CParser as _BaseLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):
    """libyaml's composer without PyYAML's YAML 1.1 tag resolution.

    The walker below resolves plain scalars itself (YAML 1.2 core schema), so
    the resolver's regex pass over every scalar would be wasted work.
    Explicit tags never reach `resolve`, so they are still seen and refused.
    (The composer asks for exactly these three methods, which a resolver would provide.)
    """

    def resolve(self, kind: type, value: object, implicit: object) -> str:
        return "tag:yaml.org,2002:str"

    # The composer calls these around every node, for path resolvers; this loader has
    # none, and no-ops here spare the inherited check (about a tenth of compose time).
    def descend_resolver(self, current_node: object, current_index: object) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


def compose(text: str) -> yaml.Node | None:
    """yaml.compose(text) with _Loader (which the stubs do not count as a Loader)."""
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def events(text: str) -> Iterator[yaml.Event]:
    """yaml.parse(text) with _Loader."""
    loader = _Loader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if event is not None:
                yield event
    finally:
        loader.dispose()

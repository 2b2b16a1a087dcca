"""Templates rendered once per shape with placeholders, then filled per group by joining.

Why: a Jinja render walks the whole template for every group, which made the
per-group templates the largest cost of a 10,000-group build. Our templates only
*print* the group's values, test them for truthiness and loop over lists. So we
render a template once per "shape" (which values are empty, how long each list
is) with a unique placeholder in place of every non-empty text, split the result
at the placeholders, and per group join the literal parts with the group's
values: same bytes, a fraction of the time. Values printed by an autoescaping
template are escaped with markupsafe.escape, exactly as Jinja escapes them.

This is only sound for templates that do nothing else with a value (no filters,
comparisons, calls or assignments), so `prints_only` checks the template's syntax
tree once; a template that fails the check is always rendered by Jinja, and the
first shape of each template is checked against a direct Jinja render.
tests/test_render_speed.py asserts the shipped templates take the fast path and
that it equals direct rendering for many varied and hostile groups.

Each SkeletonTemplate memoises its skeletons by shape for the life of the process
(the bench's groups have one shape per template, so a build renders each template
through Jinja once).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

if TYPE_CHECKING:
    import jinja2
    from jinja2 import nodes

# Private-use characters: never in a template, never escaped by markupsafe.
SLOT_OPEN = "\ue000"
SLOT_CLOSE = "\ue001"
_SLOT = re.compile(f"{SLOT_OPEN}([0-9]+){SLOT_CLOSE}")
# Distinct shapes kept per template; past this the memo starts over (it is only a memo).
MAX_SHAPES = 512
_TEXT = "\0text"  # shape of a non-empty string (the string itself becomes a value)
# Container tags in a shape.
_DICT, _LIST, _TUPLE, _MARKUP = "\0dict", "\0list", "\0tuple", "\0markup"


def slot(index: int) -> str:
    """The placeholder for the `index`-th value."""
    return f"{SLOT_OPEN}{index}{SLOT_CLOSE}"


class Skeleton:
    """Literal parts of a rendered template, with the value slots between them."""

    __slots__ = ("count", "parts", "pick", "sequential", "slots", "used")

    def __init__(self, text: str) -> None:
        pieces = _SLOT.split(text)
        literals = pieces[0::2]
        if any(SLOT_OPEN in part or SLOT_CLOSE in part for part in literals):
            raise ValueError("malformed placeholder in a rendered skeleton")
        self.slots: tuple[int, ...] = tuple(int(index) for index in pieces[1::2])
        # Literals at even positions; odd positions are overwritten by each fill.
        self.parts: list[str] = []
        for index, literal in enumerate(literals):
            if index:
                self.parts.append("")
            self.parts.append(literal)
        self.count = len(self.slots)
        self.sequential = self.slots == tuple(range(self.count))
        self.used = tuple(sorted(set(self.slots)))
        # values -> the value of each slot, in one C call (a 1-tuple when there is one slot).
        self.pick: Callable[[Sequence[str]], Any] = (
            operator.itemgetter(*self.slots) if self.count > 1 else lambda v: (v[self.slots[0]],)
        )

    def fill(self, values: Sequence[str]) -> str:
        """The text with slot i holding values[self.slots[i]]."""
        if not self.count:
            return self.parts[0]
        parts = self.parts.copy()
        if self.sequential and len(values) == self.count:
            parts[1::2] = values
        else:
            parts[1::2] = self.pick(values)
        return "".join(parts)


def prints_only(tree: nodes.Template) -> bool:
    """True when the template only prints values, tests their truthiness and loops over
    lists: then its output is a function of the shape and the values' text alone."""
    from jinja2 import nodes

    def value(expr: nodes.Node) -> bool:
        if isinstance(expr, nodes.Const):
            return True
        if isinstance(expr, nodes.Name):
            return expr.ctx == "load"
        if isinstance(expr, nodes.Getattr):
            return value(expr.node)
        if isinstance(expr, nodes.Getitem):
            return isinstance(expr.arg, nodes.Const) and value(expr.node)
        return False

    def test(expr: nodes.Node) -> bool:
        if isinstance(expr, nodes.Not):
            return test(expr.node)
        if isinstance(expr, nodes.And | nodes.Or):
            return test(expr.left) and test(expr.right)
        return value(expr)

    def target(expr: nodes.Node) -> bool:
        if isinstance(expr, nodes.Tuple):
            return all(target(item) for item in expr.items)
        return isinstance(expr, nodes.Name)

    def body(statements: Sequence[nodes.Node]) -> bool:
        for node in statements:
            if isinstance(node, nodes.Output):
                if not all(isinstance(n, nodes.TemplateData) or value(n) for n in node.nodes):
                    return False
            elif isinstance(node, nodes.If):
                branches = [(node.test, node.body), *((e.test, e.body) for e in node.elif_)]
                if not all(test(t) and body(b) for t, b in branches) or not body(node.else_):
                    return False
            elif isinstance(node, nodes.For):
                if node.test is not None or node.recursive:
                    return False
                if not (value(node.iter) and target(node.target)):
                    return False
                if not (body(node.body) and body(node.else_)):
                    return False
            else:
                return False
        return True

    return body(tree.body)


def shape_of(context: Any, values: list[str]) -> Hashable:
    """What a prints-only template can see of `context` besides the text of its values:
    which strings are empty, dict keys, list lengths, non-string scalars. The non-empty
    strings are appended to `values` in traversal order."""
    kind = type(context)
    if kind is dict:
        return (_DICT, tuple(context), _shapes(context.values(), values))
    if kind is list:
        return (_LIST, _shapes(context, values))
    if kind is tuple:
        return (_TUPLE, _shapes(context, values))
    return _shapes((context,), values)[0]


def _shapes(items: Iterable[Any], values: list[str]) -> tuple[Hashable, ...]:
    """shape_of() of each item; strings and None inline (a call per leaf was the cost)."""
    out: list[Hashable] = []
    for item in items:
        kind = type(item)
        if kind is str:
            if item:
                values.append(item)
                out.append(_TEXT)
            else:
                out.append("")
        elif item is None:
            out.append(None)
        elif kind is dict or kind is list or kind is tuple:
            out.append(shape_of(item, values))
        elif isinstance(item, Markup):
            out.append((_MARKUP, str(item)))
        elif isinstance(item, Mapping | Sequence) and not isinstance(item, str | bytes):
            raise TypeError(f"unsupported container in a template context: {kind.__name__}")
        elif kind is float:
            out.append((kind, repr(item)))  # 0.0 == -0.0, but they print apart
        else:
            out.append((kind, item))  # bool, int: (True, 1) must not be equal shapes
    return tuple(out)


def escape_text(text: str) -> str:
    """str(markupsafe.escape(text)), skipping the call when nothing needs escaping
    (markupsafe escapes exactly these five characters)."""
    if "&" in text or "<" in text or ">" in text or "'" in text or '"' in text:
        return str(escape(text))
    return text


def _placeholders(context: Any, counter: list[int]) -> Any:
    """`context` with every non-empty plain string replaced by its slot, numbered in the
    same order as shape_of appends values."""
    kind = type(context)
    if kind is str:
        if context:
            counter[0] += 1
            return slot(counter[0] - 1)
        return context
    if kind is dict:
        return {key: _placeholders(item, counter) for key, item in context.items()}
    if kind is list or kind is tuple:
        return kind(_placeholders(item, counter) for item in context)
    return context


class SkeletonTemplate:
    """A Jinja template rendered through skeletons when it is prints-only."""

    def __init__(self, env: jinja2.Environment, name: str) -> None:
        self.name = name
        self._env = env
        self._template: jinja2.Template | None = None
        assert env.loader is not None
        source = env.loader.get_source(env, name)[0]
        self.fast = (
            env.finalize is None
            and SLOT_OPEN not in source
            and SLOT_CLOSE not in source
            and prints_only(env.parse(source))
        )
        auto = env.autoescape
        self.escape = bool(auto(name) if callable(auto) else auto)
        self._checked = False  # whether a first shape was checked against Jinja's render
        self._shapes: dict[Hashable, Skeleton] = {}

    @property
    def template(self) -> jinja2.Template:
        """The Jinja template, compiled on first use."""
        if self._template is None:
            self._template = self._env.get_template(self.name)
        return self._template

    def render(
        self, context: dict[str, Any], flat: tuple[Hashable, list[str]] | None = None
    ) -> str:
        """Same text as `self.template.render(context)`. `flat` is shape_of(context) and
        its values, when the caller computed them already for another template."""
        if not self.fast:
            return self.template.render(context)
        if flat is None:
            values: list[str] = []
            try:
                flat = (shape_of(context, values), values)
            except TypeError:  # a container type the shapes do not cover
                return self.template.render(context)
        shape, values = flat
        skeleton = self._shapes.get(shape)
        if skeleton is None:
            skeleton = self._compile(context, shape, values)
            if skeleton is None:
                return self.template.render(context)
        if self.escape:
            escaped: list[str] = [""] * len(values)
            for index in skeleton.used:
                escaped[index] = escape_text(values[index])
            return skeleton.fill(escaped)
        return skeleton.fill(values)

    def _compile(
        self, context: dict[str, Any], shape: Hashable, values: list[str]
    ) -> Skeleton | None:
        skeleton = Skeleton(self.template.render(_placeholders(context, [0])))
        if not self._checked:
            # Once per template: the fill must equal Jinja's own render (escaping mode,
            # placeholders intact). Should it not, Jinja renders this template from now on.
            self._checked = True
            self._shapes[shape] = skeleton
            self.fast = self.render(context, (shape, values)) == self.template.render(context)
            if not self.fast:
                self._shapes.clear()
                return None
        if len(self._shapes) >= MAX_SHAPES:
            self._shapes.clear()
        self._shapes[shape] = skeleton
        return skeleton

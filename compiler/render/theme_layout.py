"""theme.css as literals and slots, made once per process: a group's file is then its
memoised parts laid between the literals (a 10,000-group build spent most of its
render time rendering the template per group).

A layout is kept only when its fill equals the direct render on sample palettes.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from compiler import colors as colorlib
from compiler.model.theme import DARK_PALETTE, LIGHT_PALETTE
from compiler.render.skeleton import Skeleton, prints_only, slot
from compiler.render.templates import environment
from compiler.render.theme_parts import assemble, part_fields, part_sizes, parts_of, surface_part
from compiler.render.theme_reference import (
    BASE_COLORS,
    DARK_OPACITIES,
    LIGHT_OPACITIES,
    PREFIX,
    TEMPLATE,
    Declaration,
    css_context,
    reference_theme,
    render_theme_css_direct,
    theme_colors,
    utilities_css,
)

if TYPE_CHECKING:
    import jinja2


class _Layout:
    """One (environment, dark) layout: theme.css's literal parts and the itemgetters
    that pick, from [*literals, *parts...], theme.css's pieces and Vuetify's colours.
    (A plain class: a NamedTuple here cost more import time than the rest of the module.)"""

    __slots__ = ("colors", "css", "keys", "literals")

    def __init__(
        self,
        literals: list[str],
        css: tuple[int, ...],
        colors: tuple[int, ...],
        keys: tuple[str, ...],
    ) -> None:
        self.literals = literals
        self.css: Callable[[Sequence[str]], tuple[str, ...]] = operator.itemgetter(*css)
        self.colors: Callable[[Sequence[str]], tuple[str, ...]] = operator.itemgetter(*colors)
        self.keys = keys


# Per environment and dark flag. Weak keys: a dropped environment drops its layouts.
_LAYOUTS: weakref.WeakKeyDictionary[jinja2.Environment, dict[bool, _Layout | None]] = (
    weakref.WeakKeyDictionary()
)


class _NoLayout(Exception):
    """theme.css.j2 does more than lay values out; it is rendered by Jinja per group."""


def _css_skeleton(env: jinja2.Environment, dark: bool) -> Skeleton:
    """theme.css rendered once with slot i for the i-th value that varies between groups:
    the --pops-* values, then the Vuetify values of :root, then those of the theme class.
    Constant values (colour-scheme, opacities) and every name stay literal."""
    source = env.loader.get_source(env, TEMPLATE)[0] if env.loader else ""
    if not prints_only(env.parse(source)):
        raise _NoLayout(f"{TEMPLATE} does more than print values")
    sample = dict.fromkeys(BASE_COLORS, colorlib.BLACK)
    theme = reference_theme(sample, dark)
    constant = {f"--{PREFIX}{key}" for key in (DARK_OPACITIES if dark else LIGHT_OPACITIES)}
    context = css_context(sample, dark, theme, utilities_css(env, tuple(theme["colors"])))
    counter = 0

    def slots(declarations: list[Declaration]) -> list[Declaration]:
        nonlocal counter
        out: list[Declaration] = [declarations[0]]  # color-scheme: constant
        for name, value in declarations[1:]:
            if name in constant:
                out.append((name, value))
            else:
                out.append((name, slot(counter)))
                counter += 1
        return out

    context["root"] = slots(context["root"])
    context["theme_class"] = slots(context["theme_class"])
    text = env.get_template(TEMPLATE).render(context)
    skeleton = Skeleton(text.rstrip("\n") + "\n")
    if not skeleton.sequential or not skeleton.parts[-1].strip():
        raise _NoLayout(f"{TEMPLATE}: values do not appear once each, in order, before the end")
    return skeleton


def layout_for(env: jinja2.Environment | None, dark: bool) -> _Layout | None:
    """The layout for this environment (None: the shipped one) and flag, built and
    checked once; None when the template does not allow one (theme_artifacts then
    renders directly)."""
    if env is None:
        env = environment()
    per_env = _LAYOUTS.setdefault(env, {})
    if dark not in per_env:
        per_env[dark] = _checked_layout(env, dark)
    return per_env[dark]


def _checked_layout(env: jinja2.Environment, dark: bool) -> _Layout | None:
    """A new layout, or None when the template allows none or the fill disagrees with
    the direct render."""
    try:
        found: _Layout | None = _new_layout(env, dark)
    except _NoLayout:
        found = None
    # Once per process: the fill must equal the direct render on sample palettes.
    samples = [dict(DARK_PALETTE if dark else LIGHT_PALETTE), dict.fromkeys(BASE_COLORS, "#777")]
    for sample in samples:
        if found is not None and fill(found, sample, dark) != (
            reference_theme(sample, dark),
            render_theme_css_direct(sample, dark, env),
        ):
            found = None
    return found


def _new_layout(env: jinja2.Environment, dark: bool) -> _Layout:
    skeleton = _css_skeleton(env, dark)
    literals = skeleton.parts[0::2]
    # Label every position of [*literals, *parts...] and let assemble order the labels.
    sizes = part_sizes(dark)
    labels: list[Any] = [("literal", index) for index in range(len(literals))]
    parts: list[list[Any]] = []
    for index, size in enumerate(sizes):
        part = [(index, position) for position in range(part_fields(size)["pops"].stop)]
        parts.append(part)
        labels += part
    tail = [("tail", position) for position in range(len(surface_part(colorlib.BLACK, dark)[2]))]
    parts.append(tail)
    labels += tail
    where = {label: position for position, label in enumerate(labels)}
    order = assemble(parts, sizes)
    values = order["pops"] + order["vuetify_css"] + order["vuetify_css"]
    if len(values) != skeleton.count:
        raise _NoLayout("theme.css skeleton and theme values disagree")
    css: list[int] = [0]
    for index, value in enumerate(values, start=1):
        css += (where[value], where[("literal", index)])
    keys = tuple(theme_colors(dict.fromkeys(BASE_COLORS, colorlib.BLACK), dark))
    return _Layout(literals, tuple(css), tuple(where[label] for label in order["colors"]), keys)


def fill(layout: _Layout, colors: Mapping[str, str], dark: bool) -> tuple[dict[str, Any], str]:
    """theme_artifacts() through the layout: the parts laid end to end after the
    literals, then one itemgetter for Vuetify's colours and one for theme.css."""
    parts, variables = parts_of(colors, dark)
    buffer = layout.literals.copy()
    for part in parts:
        buffer += part
    theme = {
        "dark": dark,
        "colors": dict(zip(layout.keys, layout.colors(buffer), strict=False)),
        "variables": dict(variables),
    }
    return theme, "".join(layout.css(buffer))

"""The fast renderers give exactly what plain Jinja, plain colour maths and model_dump give.

compiler/render renders templates once per shape and fills values by joining strings
(compiler/render/skeleton.py), assembles themes from memoised per-colour pieces, and
reads config options through a generated reader. None of that may change a byte, so
every fast path is compared here with the direct way, for bench-generated groups and
for Hypothesis groups full of hostile text, and the guards that keep the fast paths
honest (prints-only templates, fallbacks) are checked on purpose-built templates.
"""

from __future__ import annotations

import base64
import hashlib
import random
from typing import Any

import jinja2
import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.generate import group_yaml
from compiler import colors as colorlib
from compiler.model import Group, phone_formats
from compiler.render import (
    environment,
    mfa,
    portal_config,
    render_group,
    skeleton,
    theme_css,
    theme_layout,
    theme_parts,
    vuetify_color,
)

HOSTILE = [
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "{% raw %}",
    "${mfa.code}",
    "\"double\" 'single'",
    "O'Brien's",
    'say "hi"',
    "a > b",
    "Tom & Jerry &amp; co",
    '"><img src=x onerror=alert(1)>',
    "Zoë Ärztehaus — 東京 ✓",
    "\ue000" + "0" + "\ue001",  # our own placeholder characters, as admin text
    "{0} {} %s",
    "",
    "   ",
]


# --- the direct renderers: the definitions the fast paths must equal ---


def direct_config(slug: str, group: Group, files: dict[str, bytes], vuetify: Any) -> bytes:
    """config.json as it was written before the fast path: model_dump, camelCase, orjson."""
    options = group.model_dump(exclude={"schema_", "name", "extends", "owners"})
    options["theme"]["colors"] = group.theme.palette()
    footer = options["look_and_feel"]["footer"]
    if group.look_and_feel.footer.phone is not None:
        footer["phone"] = phone_formats(group.look_and_feel.footer.phone)
    options["payments"]["methods"] = group.payments.methods()
    config: dict[str, Any] = {"schemaVersion": 1, "slug": slug, "name": group.name}
    config.update(portal_config._camel_tree(options))

    def ref(path: str) -> dict[str, Any]:
        data = files[path]
        return {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    css = files["theme.css"]
    sri = "sha384-" + base64.b64encode(hashlib.sha384(css).digest()).decode("ascii")
    config["theme"]["stylesheet"] = {**ref("theme.css"), "integrity": sri}
    config["theme"]["vuetify"] = vuetify
    names = {
        "emailHtml": "mfa/email.html",
        "emailText": "mfa/email.txt",
        "emailSubject": "mfa/email-subject.txt",
        "sms": "mfa/sms.txt",
    }
    config["authentication"]["mfa"]["files"] = {
        key: ref(path) for key, path in names.items() if path in files
    }
    return orjson.dumps(config, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def direct_render(slug: str, group: Group) -> dict[str, bytes]:
    env = environment()
    palette = group.theme.palette()
    dark = group.theme.dark
    vuetify = theme_css.reference_theme(palette, dark)
    files = {"theme.css": theme_css.render_theme_css_direct(palette, dark, env).encode()}
    files.update(mfa.render_mfa(group, env, direct=True))
    base = f"groups/{slug}/"
    out = {base + name: data for name, data in files.items()}
    out[base + "config.json"] = direct_config(slug, group, files, vuetify)
    return dict(sorted(out.items()))


def assert_same(slug: str, group: Group) -> None:
    fast = render_group(slug, group)
    direct = direct_render(slug, group)
    assert list(fast) == list(direct)  # same files, same (sorted) order
    for path, data in direct.items():
        assert fast[path] == data, path
    # A first-shape mismatch would quietly switch a template to plain Jinja: not here.
    assert all(template.fast for template in mfa._templates(environment()))


# --- groups ---


def bench_groups(count: int, seed: int) -> list[Group]:
    rng = random.Random(seed)
    return [Group.model_validate(yaml.safe_load(group_yaml(i, rng))) for i in range(count)]


def test_bench_groups_render_exactly_as_directly() -> None:
    for index, group in enumerate(bench_groups(300, seed=7)):
        assert_same(f"bench-{index}", group)


def varied_groups(count: int, seed: int) -> list[Group]:
    """Groups of many shapes: hostile text, empty and missing fields, 1-5 paragraphs of
    1-3 lines, light and dark, with and without logo, footer and phone."""
    rng = random.Random(seed)
    texts = [text for text in HOSTILE if text.strip()]
    out: list[Group] = []
    for index in range(count):
        paragraphs = [
            "\n".join(rng.choice(texts) for _ in range(rng.randrange(1, 4)))
            for _ in range(rng.randrange(1, 6))
        ]
        footer: dict[str, Any] = {}
        if rng.random() < 0.6:
            footer["text"] = rng.choice([*texts, ""])
        if rng.random() < 0.5:
            footer["email"] = rng.choice(["a@example.com", "o'brien&co@example.org"])
        if rng.random() < 0.5:
            footer["phone"] = rng.choice(["+1 212 555 0199", "+44 20 7946 0958"])
        mfa_section: dict[str, Any] = {"enabled": rng.random() < 0.9, "success_role": "p"}
        if rng.random() < 0.8:
            mfa_section["email_subject"] = rng.choice(texts).replace("\n", " ") + " code"
            mfa_section["email_body"] = "\n\n".join(paragraphs) + " ${mfa.code}\n"
        if rng.random() < 0.5:
            mfa_section["sms_message"] = rng.choice(texts) + " ${mfa.code}"
        colors = {
            name: f"#{rng.randrange(1 << 24):06x}"
            for name in ("primary", "secondary", "surface", "error")
            if rng.random() < 0.6
        }
        branding = {"logo_url": "https://cdn.example.com/a&b/l.png"} if rng.random() < 0.5 else {}
        data = {
            "name": f"{rng.choice(texts)} {index}",
            "branding": branding,
            "theme": {"dark": rng.random() < 0.4, "colors": colors},
            "look_and_feel": {"footer": footer},
            "authentication": {"mfa": mfa_section},
        }
        out.append(Group.model_validate(data))
    return out


def test_many_shapes_render_exactly_as_directly_also_when_the_memo_starts_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One process renders each template once per shape and memoises the skeleton; past
    MAX_SHAPES the memo starts over. Neither may change a byte."""
    groups = varied_groups(250, seed=23)
    templates = mfa._templates(None)
    for index, group in enumerate(groups):
        assert_same(f"varied-{index}", group)
    assert len(templates[0]._shapes) > 50  # the groups brought many shapes, all kept
    monkeypatch.setattr(skeleton, "MAX_SHAPES", 3)
    for template in templates:
        template._shapes.clear()
    for index, group in enumerate(groups):
        assert_same(f"varied-{index}", group)
    assert all(0 < len(template._shapes) <= 3 for template in templates)


_COLOR = st.builds(
    lambda digits, upper: ("#" + digits).upper() if upper else "#" + digits,
    st.one_of(
        st.text("0123456789abcdef", min_size=6, max_size=6),
        st.text("0123456789abcdef", min_size=3, max_size=3),
        st.sampled_from(["000000", "ffffff", "767676", "777777", "757575", "ffff00", "0000ff"]),
    ),
    st.booleans(),
)
_TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40),
)


@st.composite
def _line(draw: st.DrawFn, limit: int) -> str:
    text = " ".join(draw(st.lists(_TEXT, min_size=1, max_size=3)))
    return text[:limit] if text.strip() else "x"


@st.composite
def _body(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.one_of(_TEXT, st.sampled_from(["\n", "\n\n", "\r\n", "\n \n"]))))
    return "".join(pieces)[:2000] + " ${mfa.code}\n"


@st.composite
def hypothesis_groups(draw: st.DrawFn) -> dict[str, Any]:
    names = ["background", "surface", "primary", "secondary", "accent", "info", "success"]
    colors = {name: draw(_COLOR) for name in [*names, "error", "warning"] if draw(st.booleans())}
    footer: dict[str, Any] = {}
    if draw(st.booleans()):
        footer["text"] = draw(_line(500))
    if draw(st.booleans()):
        footer["text"] = ""  # empty is allowed and must take the `not footer_text` branches
    if draw(st.booleans()):
        footer["email"] = draw(st.sampled_from(["a@example.com", "o'brien&co@example.org"]))
    if draw(st.booleans()):
        phones = ["+1 212 555 0199", "+44 20 7946 0958", "2125550123"]
        footer["phone"] = draw(st.sampled_from(phones))
    mfa_section: dict[str, Any] = {"enabled": draw(st.booleans()), "success_role": "patient"}
    if draw(st.booleans()):
        mfa_section["email_subject"] = draw(_line(200)).replace("\n", " ")
        mfa_section["email_body"] = draw(_body())
    if draw(st.booleans()):
        mfa_section["sms_message"] = draw(_line(100)) + " ${mfa.code}"
    logo = 'https://cdn.example.com/a&b/"logo".png'
    branding = {"logo_url": logo} if draw(st.booleans()) else {}
    return {
        "name": draw(_line(100)).strip() or "x",
        "branding": branding,
        "theme": {"dark": draw(st.booleans()), "colors": colors},
        "payments": {"credit_card": draw(st.booleans()), "apple_pay": draw(st.booleans())},
        "look_and_feel": {"footer": footer},
        "authentication": {"mfa": mfa_section},
    }


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=hypothesis_groups())
def test_hostile_groups_render_exactly_as_directly(data: dict[str, Any]) -> None:
    assert_same("generated", Group.model_validate(data))


def test_hostile_text_in_every_email_field() -> None:
    for index, text in enumerate(HOSTILE):
        body = f"{text}\n\n{text}\n{text}\r\n\r\nCode ${{mfa.code}}"
        group = Group.model_validate(
            {
                "name": (text.strip() or "x") + f" {index}",
                "branding": {"logo_url": "https://cdn.example.com/" + text.replace(" ", "")},
                "look_and_feel": {"footer": {"text": text, "email": "a@example.com"}},
                "authentication": {
                    "mfa": {
                        "enabled": True,
                        "success_role": "patient",
                        "email_subject": (text.strip() or "s") + " ${mfa.code}",
                        "email_body": body,
                        "sms_message": text + " ${mfa.code}",
                    }
                },
            }
        )
        assert_same(f"hostile-{index}", group)
        html = render_group("h", group)["groups/h/mfa/email.html"].decode()
        assert "<script>" not in html and "{{ 7*7 }}" not in html.replace("{{ 7*7 }}", "")


# --- theme pieces ---


def test_theme_artifacts_equal_reference_theme_and_direct_css() -> None:
    env = environment()
    rng = random.Random(3)
    for _ in range(500):
        palette = {}
        for name in theme_css.BASE_COLORS:
            value = f"#{rng.randrange(1 << 24):06x}"
            if rng.random() < 0.2:
                value = "#" + "".join(rng.choice("0123456789abcdefABCDEF") for _ in range(3))
            palette[name] = value.upper() if rng.random() < 0.2 else value
        dark = rng.random() < 0.5
        theme, css = theme_css.theme_artifacts(palette, dark, env)
        assert theme == theme_css.reference_theme(palette, dark)
        assert theme == theme_css.vuetify_theme(palette, dark)
        assert css == theme_css.render_theme_css_direct(palette, dark, env)
        assert css == theme_css.render_theme_css(palette, dark, env)


def test_written_out_colour_maths_equals_the_plain_functions() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        color = f"#{rng.randrange(1 << 24):06x}"
        part = theme_parts._varied_part.__wrapped__(color, False)
        expected = (
            [color]
            + [theme_css.lighten(color, step) for step in range(1, theme_css.VARIATION_LIGHTEN + 1)]
            + [theme_css.darken(color, step) for step in range(1, theme_css.VARIATION_DARKEN + 1)]
        )
        assert list(part[: len(expected)]) == expected
        for value in expected:
            r, g, b = colorlib.rgb(value)
            assert colorlib.on_channels(r, g, b) == colorlib.on_color(value)
        xyz = (rng.uniform(-0.2, 1.2), rng.uniform(-0.2, 1.2), rng.uniform(-0.2, 1.2))
        plain = []
        for m in vuetify_color.XYZ_TO_SRGB:
            value = vuetify_color._linear_to_srgb(m[0] * xyz[0] + m[1] * xyz[1] + m[2] * xyz[2])
            plain.append(vuetify_color._js_round(min(max(value, 0.0), 1.0) * 255))
        assert vuetify_color._channels_of_xyz(xyz) == tuple(plain)


def test_theme_css_is_laid_out_by_the_template() -> None:
    """Changing theme.css.j2 changes the skeleton: no layout lives in Python."""
    loader = jinja2.DictLoader(
        {
            theme_css.TEMPLATE: "X{% for n, v in root %}{{ n }}={{ v }};{% endfor %}"
            "{{ theme_selector }}{% for n, v in theme_class %}{{ n }}={{ v }};{% endfor %}"
            "{{ utilities }}",
            theme_css.UTILITIES_TEMPLATE: "{% for s, d in utilities %}{{ s }}{% endfor %}",
        }
    )
    env = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined)
    palette = dict(zip(theme_css.BASE_COLORS, ["#123456"] * 9, strict=True))
    css = theme_css.render_theme_css(palette, False, env)
    assert css.startswith("Xcolor-scheme=light;--pops-background=#123456;")
    assert css == theme_css.render_theme_css_direct(palette, False, env)


# --- the skeleton machinery ---


def test_shipped_templates_take_the_fast_path() -> None:
    env = environment()
    for name in (mfa.HTML_TEMPLATE, mfa.TEXT_TEMPLATE):
        assert skeleton.SkeletonTemplate(env, name).fast, name
    for name in (theme_css.TEMPLATE, theme_css.UTILITIES_TEMPLATE):
        assert env.loader is not None
        assert skeleton.prints_only(env.parse(env.loader.get_source(env, name)[0])), name


@pytest.mark.parametrize(
    "source",
    [
        "{{ name|upper }}",
        "{% if name == 'x' %}x{% endif %}",
        "{% set n = name %}{{ n }}",
        "{{ name ~ '!' }}",
        "{{ name[:3] }}",
        "{% for c in name %}{{ c }}{% endfor %}{{ items|length }}",
        "{% include 'other' %}",
        "{{ name if items else '' }}",
    ],
)
def test_templates_that_do_more_than_print_render_through_jinja(source: str) -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"t.html": source, "other": "o"}),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    template = skeleton.SkeletonTemplate(env, "t.html")
    assert not template.fast
    for name in ["x", "Tom & <b>", "", "abcdef"]:
        context = {"name": name, "items": ["a", "b"]}
        assert template.render(context) == env.get_template("t.html").render(context)


def test_skeleton_escapes_exactly_like_jinja_and_tracks_shapes() -> None:
    source = (
        "<p title='{{ a }}'>{{ a }}{% if b %}[{{ b }}]{% else %}-{% endif %}</p>"
        "{% for row in rows %}<i>{% for cell in row %}{{ cell }}{% if not loop.last %},"
        "{% endif %}{% endfor %}</i>{% endfor %}{{ d.k }}{{ n }}{{ none }}{{ missing }}"
    )
    for autoescape in (True, False):
        env = jinja2.Environment(
            loader=jinja2.DictLoader({"t.html": source}),
            autoescape=autoescape,
            undefined=jinja2.StrictUndefined,
        )
        template = skeleton.SkeletonTemplate(env, "t.html")
        assert template.fast
        rng = random.Random(1)
        for _ in range(300):
            context = {
                "a": rng.choice(HOSTILE),
                "b": rng.choice(HOSTILE),
                "rows": [
                    [rng.choice(HOSTILE) for _ in range(rng.randrange(3))]
                    for _ in range(rng.randrange(3))
                ],
                "d": {"k": rng.choice(HOSTILE)},
                "n": rng.randrange(3),
                "none": None,
                "missing": None,
            }
            assert template.render(context) == env.get_template("t.html").render(context)
        assert template.fast  # the first-shape check agreed


def test_skeleton_falls_back_when_its_first_check_fails() -> None:
    """A finalize hook (or anything else the checks miss) must not change the output."""
    env = jinja2.Environment(loader=jinja2.DictLoader({"t": "{{ a }}!"}), finalize=str.upper)
    template = skeleton.SkeletonTemplate(env, "t")
    assert not template.fast
    assert template.render({"a": "x"}) == "X!"


def test_theme_css_template_that_does_more_than_print_renders_through_jinja() -> None:
    loader = jinja2.DictLoader(
        {
            theme_css.TEMPLATE: "{% for n, v in root %}{{ n|upper }}={{ v }};{% endfor %}"
            "{{ theme_selector }}{{ utilities }}",
            theme_css.UTILITIES_TEMPLATE: "{% for s, d in utilities %}{{ s }}{% endfor %}",
        }
    )
    env = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined)
    palette = dict(zip(theme_css.BASE_COLORS, ["#abcdef"] * 9, strict=True))
    assert theme_layout.layout_for(env, True) is None
    css = theme_css.render_theme_css(palette, True, env)
    assert css.startswith("COLOR-SCHEME=dark;--POPS-BACKGROUND=#abcdef;")
    assert css == theme_css.render_theme_css_direct(palette, True, env)
    assert theme_layout.layout_for(environment(), True) is not None

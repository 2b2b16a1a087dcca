"""The per-group shortcuts of load, merge, model and rules change no result.

Each shortcut (a memo, a cached merge prefix, a fast path) is checked against
the plain computation it replaces, on inputs chosen to reach the corners the
shortcut skips, and the memos are checked to actually spare the work.
"""

from __future__ import annotations

import copy
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import colors
from compiler.load.layers import leaves, load_layers, merge_group
from compiler.load.located import Document, Path_, load_bytes, load_file
from compiler.model import Group
from compiler.model import types as model_types
from compiler.model.from_document import group_from_document
from compiler.model.options import in_section
from compiler.rules import run_rules, sms_too_long
from compiler.rules.contrast import problems

# --- merge: the plain algorithm the cached and fast paths must agree with --------------


class _Reference:
    """Layers merged one by one, forgetting by a full scan and deep-copying every value."""

    def __init__(self, file: str) -> None:
        self.doc = Document(file, {})

    def forget(self, path: Path_) -> None:
        n = len(path)
        for table in (self.doc.values, self.doc.keys, self.doc.raw, self.doc.origins):
            for p in [p for p in table if p[:n] == path]:
                del table[p]
        self.doc.nulls = {p for p in self.doc.nulls if p[:n] != path}

    def apply(self, layer: Document) -> None:
        self.merge(layer.data, (), self.doc.data)
        self.doc.values.update(layer.values)
        self.doc.keys.update(layer.keys)
        self.doc.raw.update(layer.raw)
        for p in [*layer.values, *layer.keys]:
            self.doc.origins[p] = layer.file
        for path in sorted(layer.nulls, key=len):
            node: Any = self.doc.data
            for part in path[:-1]:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                node.pop(path[-1], None)
            self.forget(path)
            self.doc.nulls.add(path)
            if path in layer.keys:
                self.doc.keys[path] = layer.keys[path]
                self.doc.values[path] = layer.values.get(path, layer.keys[path])
                self.doc.origins[path] = layer.file

    def merge(self, source: dict[str, Any], path: Path_, target: dict[str, Any]) -> None:
        for key, value in source.items():
            child = (*path, key)
            current = target.get(key)
            if isinstance(value, dict) and isinstance(current, dict):
                self.merge(value, child, current)
                continue
            if key in target or child in self.doc.nulls:
                self.forget(child)
            target[key] = copy.deepcopy(value)


def _snapshot(doc: Document) -> tuple[Any, ...]:
    return (
        repr(doc.data),
        list(doc.values.items()),
        list(doc.keys.items()),
        list(doc.raw.items()),
        sorted(doc.nulls, key=repr),
        list(doc.origins.items()),
    )


_KEYS = ["payments", "theme", "colors", "dark", "name", "mfa", "footer", "text", "a", "b"]
_SCALARS: list[Any] = [True, False, 3, "yes", "text", "#123456", None, [1, "x"], {}]


def _random_mapping(rng: random.Random, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in rng.sample(_KEYS, rng.randint(1, 4)):
        if depth < 3 and rng.random() < 0.45:
            out[key] = _random_mapping(rng, depth + 1)
        else:
            out[key] = copy.deepcopy(rng.choice(_SCALARS))  # no shared objects: no anchors
    return out


def _layer_text(rng: random.Random) -> str:
    text = yaml.safe_dump(_random_mapping(rng, 0), sort_keys=False, allow_unicode=True)
    return text.replace("'yes'", "yes")  # a YAML 1.1 boolean, so `raw` has entries too


def test_merge_agrees_with_the_plain_algorithm(tmp_path: Path) -> None:
    """Cached prefixes, leaf-only forgetting and typed copies match scan-and-copy merging."""
    rng = random.Random(20240611)
    for round_ in range(40):
        repo = tmp_path / f"r{round_}"
        groups = repo / "groups"
        groups.mkdir(parents=True)
        (groups / "_defaults.yaml").write_text(_layer_text(rng))
        (groups / "_outer.yaml").write_text(_layer_text(rng))
        (groups / "_inner.yaml").write_text("extends: outer\n" + _layer_text(rng))
        envs = repo / "environments"
        envs.mkdir()
        overlay = yaml.safe_dump(
            {"overlays": [{"groups": "all", "values": _random_mapping(rng, 0)}]},
            sort_keys=False,
        )
        (envs / "stage.yaml").write_text(overlay)
        for env in (None, "stage"):
            layers = load_layers(groups, env, envs)
            for n in range(12):
                extends = rng.choice(["", "extends: inner\n", "extends: outer\n"])
                text = extends + _layer_text(rng)
                doc, _ = load_bytes(text.encode(), f"groups/g{n}.yaml")
                assert doc is not None
                before = _snapshot(doc)
                stack = [layers.defaults]
                if extends:
                    stack += [layers.base("outer")] + (
                        [layers.base("inner")] if "inner" in extends else []
                    )
                stack += [doc, *(e.doc for e in layers.overlay)]
                reference = _Reference(doc.file)
                for layer in stack:
                    assert layer is not None
                    reference.apply(layer)
                reference.doc.data.pop("extends", None)
                for track in (False, True):
                    merged = merge_group(doc, f"g{n}", layers, track=track).doc
                    assert _snapshot(merged) == _snapshot(reference.doc), (text, track)
                assert _snapshot(doc) == before  # the group's own document is untouched
            # The shared prefix is merged once per chain, not once per group.
            assert len(layers._prefixes) <= 3


def test_merge_prefix_is_not_changed_by_the_groups_merged_on_it(tmp_path: Path) -> None:
    groups = tmp_path / "groups"
    groups.mkdir()
    (groups / "_defaults.yaml").write_text("payments:\n  credit_card: true\n")
    (groups / "_brand.yaml").write_text('theme:\n  colors:\n    primary: "#283593"\n')
    layers = load_layers(groups)
    one, _ = load_bytes(
        b"extends: brand\nname: One\ntheme:\n  colors:\n    primary:\n    error: '#b00020'\n"
        b"payments:\n  credit_card: false\n",
        "groups/one.yaml",
    )
    two, _ = load_bytes(b"extends: brand\nname: Two\n", "groups/two.yaml")
    assert one is not None and two is not None
    first = merge_group(one, "one", layers).doc
    assert first.data["theme"] == {"colors": {"error": "#b00020"}}
    assert ("theme", "colors", "primary") in first.nulls
    second = merge_group(two, "two", layers).doc
    assert second.data == {
        "payments": {"credit_card": True},
        "theme": {"colors": {"primary": "#283593"}},
        "name": "Two",
    }
    assert second.nulls == set()
    assert second.origins[("theme", "colors", "primary")].endswith("groups/_brand.yaml")
    assert second.file == "groups/two.yaml"


def test_the_top_layer_is_shared_not_copied_and_stays_untouched(tmp_path: Path) -> None:
    """The top layer's mappings go into the merge as they are: neither the group's
    document nor an overlay entry shared by every group is changed by merging."""
    groups = tmp_path / "groups"
    groups.mkdir()
    (groups / "_defaults.yaml").write_text("theme:\n  colors:\n    primary: '#283593'\n")
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "stage.yaml").write_text(
        "overlays:\n  - groups: all\n    values:\n      theme:\n        colors:\n"
        "          error: '#b00020'\n      branding:\n        logo_url: https://x.test/a.png\n"
    )
    text = (
        b"name: One\ntheme:\n  dark: true\n  colors:\n    primary:\npayments:\n  auto_post: true\n"
    )
    for env in (None, "stage"):
        layers = load_layers(groups, env, envs)
        overlays = [_snapshot(e.doc) for e in layers.overlay]
        doc, _ = load_bytes(text, "groups/one.yaml")
        assert doc is not None
        before = _snapshot(doc)
        first = merge_group(doc, "one", layers).doc
        again = merge_group(doc, "one", layers).doc
        two, _ = load_bytes(b"name: Two\n", "groups/two.yaml")
        assert two is not None
        merge_group(two, "two", layers)
        assert _snapshot(first) == _snapshot(again)
        assert _snapshot(doc) == before
        assert [_snapshot(e.doc) for e in layers.overlay] == overlays
        if env is None:
            assert first.data["payments"] is doc.data["payments"]  # shared, not copied


def test_a_group_named_like_the_base_it_extends_is_checked_once(tmp_path: Path) -> None:
    groups = tmp_path / "groups"
    groups.mkdir()
    (groups / "shop.yaml").write_text("name: Shop\n")
    layers = load_layers(groups)
    doc, _ = load_bytes(b"name: X\nextends: shop\n", "groups/x.yaml")
    assert doc is not None
    for _ in range(3):
        codes = [d.code for d in merge_group(doc, "x", layers).diagnostics]
        assert codes == ["extends-group"]
    assert layers._group_files == {"shop": True}


# --- loader fast paths -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("scalar", "value", "raw"),
    [
        ("", None, None),
        ("~", None, None),
        ("Null", None, None),
        ("true", True, None),
        ("false", False, None),
        # SPEC 2: booleans are lowercase; other casings stay text, remembered for the message.
        ("TRUE", "TRUE", "TRUE"),
        ("False", "False", "False"),
        ("Truely", "Truely", None),
        ("yes", "yes", "yes"),
        ("OFF", "OFF", "OFF"),
        ("Yes please", "Yes please", None),
        ("0123", 123, "0123"),
        ("0x1F", 31, "0x1F"),
        ("-.Inf", float("-inf"), "-.Inf"),
        ("tomorrow", "tomorrow", None),
        ("nope", "nope", None),
        ("no", "no", "no"),
        ("12:30", "12:30", None),
        ("'yes'", "yes", None),
    ],
)
def test_plain_scalars_resolve_as_yaml_1_2(scalar: str, value: Any, raw: str | None) -> None:
    """The same answer for a value of a mapping (the inline path) and a list item."""
    text = f"k: {scalar}\nl:\n  - {scalar}\ns:\n  - k: {scalar}\n"
    doc, found = load_bytes(text.encode(), "f")
    assert doc is not None and found == []
    assert doc.data.get("k") == value
    assert doc.data["l"] == [value]
    assert doc.data["s"][0].get("k") == value
    for path in [("k",), ("l", 0), ("s", 0, "k")]:
        assert doc.raw.get(path) == raw, path
    assert (("k",) in doc.nulls) == (value is None)


def test_duplicate_keys_in_list_items_are_each_reported() -> None:
    text = b"a:\n  - {x: 1, x: 2}\n  - {x: 3}\n  - x: 4\n    x: 5\n"
    doc, found = load_bytes(text, "f")
    assert doc is not None
    assert doc.data == {"a": [{"x": 1}, {"x": 3}, {"x": 4}]}
    assert [(d.code, d.line, d.column, d.path) for d in found] == [
        ("yaml-duplicate-key", 2, 12, "a[0].x"),
        ("yaml-duplicate-key", 5, 5, "a[2].x"),
    ]
    assert "first set on line 2, again on line 2" in found[0].message
    assert "first set on line 4, again on line 5" in found[1].message


def test_tags_are_refused_with_or_without_the_text_hint() -> None:
    doc, found = load_bytes(b"a: !!str 1\n", "f")
    assert doc is None and [d.code for d in found] == ["yaml-tag"]
    doc, found = load_bytes(b"a: 'quoted ! mark'\nb: plain!\n", "f")
    assert doc is not None and found == [] and doc.data == {"a": "quoted ! mark", "b": "plain!"}


def test_reading_a_file_sees_all_of_it(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"name: x\n" + b"#" * (1024 * 1024))
    doc, found = load_file(big)
    assert doc is None and [d.code for d in found] == ["file-too-large"]
    assert f"file is {big.stat().st_size} bytes" in found[0].message
    doc, found = load_file(tmp_path)
    assert doc is None and [d.code for d in found] == ["file-not-regular"]
    assert found[0].message.startswith("this is a folder, not a file;")
    status = Path("/proc/self/status")  # reports size 0, yet has content
    if status.exists():
        doc, found = load_file(status)
        assert doc is not None and "Name" in doc.data


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        (b"name: Smith & Jones\nfooter: 5 * 3 = 15 & more\n", []),
        (b"name: x\na: &anchor 1\n", ["yaml-alias"]),
        (b"name: x\na: [1, *b]\n", ["yaml-alias"]),
        (b'name: x\na: {"k":*b}\n', ["yaml-alias"]),
        (b"name: x\n&a a: 1\n", ["yaml-alias"]),
        (b"name: x\na: &\n", ["yaml-syntax"]),
        (b'name: A & B\na: {"k":!!int 1}\n', ["yaml-tag"]),  # any `!` keeps the scan
    ],
)
def test_anchor_hint_skips_prose_only(text: bytes, codes: list[str]) -> None:
    doc, found = load_bytes(text, "f")
    assert [d.code for d in found] == codes
    assert (doc is None) == bool(codes)


@pytest.mark.parametrize(
    ("text", "quote", "line"),
    [
        ("\x85- '>", "'", 2),  # NEL, U+2028 and a lone CR are line breaks to libyaml
        ('name: x\u2028"open', '"', 2),
        ('a: 1\r"x', '"', 2),
        ("a: 1\nb: 'x", "'", 2),
    ],
)
def test_unclosed_quote_after_other_line_breaks_is_a_diagnostic(
    text: str, quote: str, line: int
) -> None:
    doc, found = load_bytes(text.encode(), "f")
    assert doc is None and [(d.code, d.line) for d in found] == [("yaml-syntax", line)]
    assert f"starts here with {quote} is never closed" in found[0].message


# --- model -----------------------------------------------------------------------------


def test_email_domain_check_is_memoised_without_changing_answers() -> None:
    validate_email, invalid = model_types._email_validator()
    module = sys.modules["email_validator.validate_email"]
    check = module.validate_email_domain_name
    assert hasattr(check, "cache_info")
    before = check.cache_info().hits
    for n in range(5):
        assert model_types._email(f"person{n}@memo-test.example.com") == (
            f"person{n}@memo-test.example.com"
        )
    assert check.cache_info().hits >= before + 4
    for _ in range(2):  # a bad domain raises the library's own message every time
        with pytest.raises(invalid) as caught:
            validate_email("a@bad_domain.example.com", check_deliverability=False)
        assert "invalid characters" in str(caught.value)
    group, _ = load_bytes(
        b"name: A\nnotifications:\n  email_from: x@exa mple.com\n", "groups/a.yaml"
    )
    assert group is not None
    for _ in range(2):
        found = group_from_document(group).diagnostics
        assert [(d.code, d.line, d.column) for d in found] == [("email-invalid", 3, 15)]


def test_importing_the_model_defers_email_and_phone_libraries() -> None:
    code = (
        "import sys, compiler.model.from_document\n"
        "print(sorted(m for m in ('email_validator', 'phonenumbers') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_url_whitespace_check_matches_str_isspace() -> None:
    for char in ("\u00a0", "\u2003", "\u3000", "\x1c", "\x85", " ", "\t"):
        with pytest.raises(Exception, match=r"not an https:// URL"):
            model_types._url(f"https://cdn.example.com/a{char}b.png")
    assert model_types._url("https://cdn.example.com/a\u200bb.png")  # not whitespace


def test_plain_url_shortcut_agrees_with_the_full_check() -> None:
    """Every URL the shortcut takes as it is, url_problem accepts and normalize_url keeps;
    the corners it leaves to them (case, port, credentials, query, IDNA) still get theirs."""
    from compiler.model.urls import is_plain, normalize_url, url_problem

    rng = random.Random(16)
    alphabet = "abcXYZ09-._~/:@?#%[] \u00e9"
    samples = [
        "https://cdn.example.com/g1/logo.png",
        "https://cdn.example.com",
        "https://a--b.example/x",
        "https://x/" + "a" * 2100,
        *(
            "https://" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
            for _ in range(20_000)
        ),
    ]
    plain = 0
    for value in samples:
        if is_plain(value):
            plain += 1
            assert url_problem(value) is None, value
            assert normalize_url(value) == value, value
    assert plain > 100  # (the random samples do reach the shortcut)
    for written, meant in [
        ("HTTPS://CDN.Example.com/Logo.png", "https://cdn.example.com/Logo.png"),
        ("https://cdn.example.com:443/a.png", "https://cdn.example.com:443/a.png"),
        ("https://b\u00fccher.example/a.png", "https://xn--bcher-kva.example/a.png"),
    ]:
        assert not is_plain(written)
        assert model_types._url(written) == meant
    for refused in ("https://user@cdn.example.com/a.png", "https://cdn.example.com:0/a.png"):
        assert not is_plain(refused)
        with pytest.raises(Exception, match=r"user name or password|has port `0`"):
            model_types._url(refused)


def test_palette_is_remembered_per_theme_and_copied() -> None:
    one = Group.model_validate({"name": "A", "theme": {"colors": {"primary": "#123456"}}})
    two = Group.model_validate({"name": "B", "theme": {"dark": True}})
    first = one.theme.palette()
    first["primary"] = "#000000"
    assert one.theme.palette()["primary"] == "#123456"
    assert two.theme.palette()["background"] == "#121212"
    assert one.theme.palette()["background"] == "#ffffff"


# --- rules -----------------------------------------------------------------------------


def test_contrast_problems_follow_the_group_asked_about() -> None:
    """The rules keep the last group's answer: asking about another must not reuse it."""
    light = Group.model_validate({"name": "A", "theme": {"colors": {"primary": "#ffeb3b"}}})
    dark = Group.model_validate({"name": "B", "theme": {"dark": True}})
    for _ in range(2):
        for group in (light, dark, dark, light):
            found = problems(group)
            if group is dark:
                assert found == []
                continue
            assert [p.subject for p in found] == ["primary"]
            assert found[0].ratio == colors.contrast_ratio("#ffeb3b", "#ffffff")


def _plain_segment_cost(text: str) -> tuple[int, int, str]:
    basic, extension = sms_too_long.GSM7_BASIC, sms_too_long.GSM7_EXTENSION
    if all(ch in basic or ch in extension for ch in text):
        return sum(2 if ch in extension else 1 for ch in text), 160, "GSM-7"
    return len(text.encode("utf-16-le")) // 2, 70, "UCS-2"


def test_segment_cost_matches_a_character_by_character_count() -> None:
    rng = random.Random(7)
    alphabet = "aZ0 @£€^{}[]~|\\\f\nçÇé😀’${}"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
        assert sms_too_long.segment_cost(text) == _plain_segment_cost(text), text


def test_placeholder_shortcut_agrees_with_the_scan() -> None:
    pattern = re.compile(r"\$\{([^}\n]*)\}")
    rng = random.Random(11)
    pieces = ["${mfa.code}", "${", "}", "$", "{", "mfa.code", "${x}", "\n", "a"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        shortcut = text.count("${") == text.count("${mfa.code}")
        unknown = {m.group(0) for m in pattern.finditer(text)} - {"${mfa.code}"}
        assert not (shortcut and unknown), text
    mfa_group = (
        b"name: A\npayments: {credit_card: true}\nauthentication:\n  mfa:\n"
        b"    sms_message: 'Code ${mfa.code} ${mfa.cod}'\n"
    )
    doc, _ = load_bytes(mfa_group, "groups/a.yaml")
    assert doc is not None
    modelled = group_from_document(doc)
    assert modelled.partial is not None
    codes = [d.code for d in run_rules(modelled.partial, doc, modelled.broken)]
    assert "mfa-placeholder-unknown" in codes


def test_leaves_of_a_merged_group_have_positions(tmp_path: Path) -> None:
    """Every merged leaf keeps a position and an origin (what explain and rules point at)."""
    groups = tmp_path / "groups"
    groups.mkdir()
    (groups / "_defaults.yaml").write_text("payments:\n  email_receipt: true\n")
    layers = load_layers(groups)
    doc, _ = load_bytes(b"name: A\npayments: {credit_card: true}\n", "groups/a.yaml")
    assert doc is not None
    merged = merge_group(doc, "a", layers).doc
    for leaf, _value in leaves(merged.data, ()):
        assert leaf in merged.values and leaf in merged.origins


def test_omitted_sections_share_one_frozen_default() -> None:
    sparse = [Group.model_validate({"name": name}) for name in ("A", "B")]
    assert sparse[0].authentication.mfa is sparse[1].authentication.mfa
    assert sparse[0].look_and_feel.footer is sparse[1].look_and_feel.footer
    written = Group.model_validate({"name": "C", "theme": {"dark": True}})
    assert written.theme is not sparse[0].theme and written.theme.colors is sparse[0].theme.colors
    for group in sparse:
        assert group.authentication.mfa.model_fields_set == set()
        assert group.model_dump()["payments"] == {
            o.path[-1]: o.default for o in in_section("payments")
        }
    with pytest.raises(Exception, match="frozen"):
        sparse[0].authentication.mfa.enabled = True  # type: ignore[misc]


def test_partial_group_leaves_the_document_as_it_was() -> None:
    text = (
        b"name: A\ntheme:\n  dark: yes\n  colors:\n    primary: '#12345g'\n    error: '#b00020'\n"
        b"payments: {credit_card: true, paymnets: 1}\nlook_and_feel:\n  footer:\n"
        b"    email: not-an-email\n    text: Call us\n"
    )
    doc, _ = load_bytes(text, "groups/a.yaml")
    assert doc is not None
    before = copy.deepcopy(doc.data)
    modelled = group_from_document(doc)
    assert doc.data == before
    assert modelled.group is None and modelled.partial is not None
    assert modelled.partial.theme.dark is False and modelled.partial.theme.colors.primary is None
    assert modelled.partial.theme.colors.error == "#b00020"
    assert modelled.partial.look_and_feel.footer.text == "Call us"
    assert modelled.partial.look_and_feel.footer.email is None
    assert [d.code for d in modelled.diagnostics] == [
        "type-bool",
        "color-invalid",
        "key-unknown",
        "email-invalid",
    ]

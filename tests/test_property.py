"""Any valid group validates, builds, and its config.json carries the same values back.

Groups are generated over every key of SPEC section 2 (each key left out,
written with no value, or set), written as YAML with every string quoted, and
run through the real pipeline in-process. The expected values are computed
here from the SPEC (defaults, normalised colours, camelCase keys, E.164
phones), not from the compiler's own tables. Which keys a panel has, and of
which display kind, is asked of the model (compiler.model.options): a new
option is drawn here by its kind's row in `DRAW` and `SPEC_DEFAULT`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import phonenumbers
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from compiler import colors
from compiler.model.options import Option, in_section
from compiler.pipeline.build import build
from compiler.rules import contrast

CODE = "${mfa.code}"
LIGHT = {
    "background": "#ffffff",
    "surface": "#ffffff",
    "primary": "#0065bd",
    "secondary": "#424242",
    "accent": "#3b65ad",
    "info": "#0068b0",
    "success": "#007617",
    "error": "#b00020",
    "warning": "#9a5300",
}
DARK = {
    "background": "#121212",
    "surface": "#1e1e1e",
    "primary": "#90caf9",
    "secondary": "#b0bec5",
    "accent": "#ffab40",
    "info": "#64b5f6",
    "success": "#81c784",
    "error": "#ee8294",
    "warning": "#ffb74d",
}
OMIT = object()


def _phones() -> list[tuple[str, str]]:
    """(as the admin writes it, E.164) for numbers phonenumbers considers valid."""
    out: list[tuple[str, str]] = []
    fmt = phonenumbers.PhoneNumberFormat
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        number = phonenumbers.example_number(region)
        if number is None or not phonenumbers.is_valid_number(number):
            continue
        e164 = phonenumbers.format_number(number, fmt.E164)
        out.append((phonenumbers.format_number(number, fmt.INTERNATIONAL), e164))
        out.append((e164, e164))
        if region == "US":
            out.append((phonenumbers.format_number(number, fmt.NATIONAL), e164))
    return out


PHONES = _phones()

# Any character but control characters (and lone surrogates, which cannot be UTF-8).
_TEXT_CHARS = st.characters(blacklist_categories=("Cc", "Cs"))
_BODY_CHARS = st.one_of(_TEXT_CHARS, st.sampled_from("\t\n"))


def one_line(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(_TEXT_CHARS, min_size=min_size, max_size=max_size)


def with_code() -> st.SearchStrategy[str]:
    part = st.text(_BODY_CHARS, max_size=60).filter(lambda s: "${" not in s)
    return (
        st.tuples(part, part)
        .map(lambda pq: pq[0] + CODE + pq[1])
        .filter(lambda s: "${" not in s.replace(CODE, ""))
    )


@st.composite
def color(draw: st.DrawFn, low: int = 0, high: int = 255) -> str:
    """`#rgb` or `#rrggbb` in any case, each channel within [low, high]."""
    if draw(st.booleans()):
        nibbles = [draw(st.integers(-(-low // 17), high // 17)) for _ in range(3)]
        text = "#" + "".join(f"{n:x}" for n in nibbles)
    else:
        text = "#" + "".join(f"{draw(st.integers(low, high)):02x}" for _ in range(3))
    case = draw(st.sampled_from(["lower", "upper", "mixed"]))
    if case == "upper":
        return text.upper()
    if case == "mixed":
        return "".join(c.upper() if i % 2 else c for i, c in enumerate(text))
    return text


def emails() -> st.SearchStrategy[str]:
    local = st.from_regex(r"[a-z0-9](?:[a-z0-9_+-]{0,18}[a-z0-9])?", fullmatch=True)
    domain = st.sampled_from(["example.com", "clinic.example.org", "mail.example.net"])
    return st.builds(lambda a, b: f"{a}@{b}", local, domain)


def urls() -> st.SearchStrategy[str]:
    path = st.from_regex(r"[a-z0-9_.-]{1,20}(?:/[a-z0-9_.-]{1,20}){0,2}", fullmatch=True)
    return path.map(lambda p: f"https://cdn.example.com/{p}")


def maybe(draw: st.DrawFn, strategy: st.SearchStrategy[Any]) -> Any:
    """Left out, written as `key:` (use the default), or set."""
    how = draw(st.sampled_from(["omit", "null", "set"]))
    if how == "omit":
        return OMIT
    if how == "null":
        return None
    return draw(strategy)


def put(section: dict[str, Any], key: str, value: Any) -> None:
    if value is not OMIT:
        section[key] = value


# How to draw a value of each display kind a panel's plain settings have, and what the
# SPEC says such a setting is when left out (every switch off, every amount unset).
DRAW: dict[str, st.SearchStrategy[Any]] = {
    "boolean": st.booleans(),
    "money": st.decimals(min_value="0.01", max_value="10000", places=2).map(float),
}
SPEC_DEFAULT: dict[str, Any] = {"boolean": False, "money": None}


def _switches(*section: str) -> list[Option]:
    """The settings of `section` drawn from `DRAW` alone (choices and texts are drawn apart)."""
    return [o for o in in_section(*section) if o.kind in DRAW]


@st.composite
def groups(draw: st.DrawFn) -> dict[str, Any]:
    group: dict[str, Any] = {"name": draw(one_line(1, 100).filter(lambda s: s.strip()))}
    put(group, "schema", draw(st.sampled_from([OMIT, 1])))

    branding: dict[str, Any] = {}
    for option in in_section("branding"):
        put(branding, option.path[-1], maybe(draw, urls()))
    put(group, "branding", draw(st.sampled_from([OMIT, branding])))

    dark = draw(st.booleans())
    colors_in: dict[str, Any] = {}
    back = (0, 0x30) if dark else (0xC0, 0xFF)
    fore = (0xA0, 0xFF) if dark else (0x00, 0x70)
    for name in LIGHT:
        if name in ("background", "surface"):
            strategy = color(*back)
        elif name == "primary":
            strategy = color(*fore)
        else:
            strategy = color()
        put(colors_in, name, maybe(draw, strategy))
    theme: dict[str, Any] = {"colors": colors_in}
    put(theme, "dark", draw(st.sampled_from([OMIT, dark])) if not dark else True)
    group["theme"] = theme
    palette = {
        name: colors.normalize(value) if isinstance(value, str) else (DARK if dark else LIGHT)[name]
        for name, value in ((n, colors_in.get(n)) for n in LIGHT)
    }
    for backdrop in ("background", "surface"):
        assume(colors.is_dark(palette[backdrop]) == dark)
    # No contrast error: every pair every page shows passes (docs/contrast.md).
    for pair in contrast.MEASURED:
        if pair.every_page:
            foreground, backdrop = contrast.drawn(pair, palette, dark)
            assume(colors.contrast_ratio(foreground, backdrop) >= pair.minimum)

    payments: dict[str, Any] = {}
    for option in in_section("payments"):
        put(payments, option.path[-1], maybe(draw, DRAW[option.kind]))
    group["payments"] = payments

    footer: dict[str, Any] = {}
    put(footer, "email", maybe(draw, emails()))
    phone = maybe(draw, st.sampled_from(PHONES))
    put(footer, "phone", phone[0] if isinstance(phone, tuple) else phone)
    put(footer, "text", maybe(draw, one_line(0, 500)))
    look: dict[str, Any] = {"footer": footer}
    for option in _switches("look_and_feel"):
        put(look, option.path[-1], maybe(draw, DRAW[option.kind]))
    put(look, "landing_page", maybe(draw, st.sampled_from(["account", "visits", "payments"])))
    put(look, "logout_function", maybe(draw, st.sampled_from(["close", "logout", "none"])))
    put(
        look,
        "show_procedures",
        maybe(draw, st.sampled_from(["none", "description", "code_and_description"])),
    )
    group["look_and_feel"] = look

    mfa: dict[str, Any] = {}
    enabled = draw(st.booleans())
    subject = one_line(1, 200).filter(lambda s: "${" not in s and "\n" not in s and "\r" not in s)
    if enabled:
        channels = draw(st.sampled_from(["email", "sms", "both"]))
        mfa["enabled"] = True
        mfa["success_role"] = draw(st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True))
        put(mfa, "required", maybe(draw, st.booleans()))
        if channels in ("email", "both"):
            mfa["email_subject"] = draw(subject)
            mfa["email_body"] = draw(with_code())
        if channels in ("sms", "both"):
            mfa["sms_message"] = draw(with_code())
        if channels == "both":
            put(mfa, "require_opposing_contact_methods", maybe(draw, st.booleans()))
    else:
        put(mfa, "enabled", maybe(draw, st.just(False)))
        put(mfa, "required", maybe(draw, st.just(False)))
        put(mfa, "require_opposing_contact_methods", maybe(draw, st.booleans()))
        put(
            mfa, "success_role", maybe(draw, st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True))
        )
        put(mfa, "email_subject", maybe(draw, subject))
        put(mfa, "email_body", maybe(draw, with_code()))
        put(mfa, "sms_message", maybe(draw, with_code()))
    auth: dict[str, Any] = {"mfa": mfa}
    put(auth, "allow_session_extension", maybe(draw, st.booleans()))
    put(auth, "quickpay_max_access_attempts", maybe(draw, st.integers(1, 100)))
    group["authentication"] = auth

    needs_sender = payments.get("email_receipt") is True or ("email_body" in mfa and enabled)
    sender = draw(emails()) if needs_sender else maybe(draw, emails())
    notifications: dict[str, Any] = {}
    put(notifications, "email_from", sender)
    put(
        group,
        "notifications",
        notifications if needs_sender else draw(st.sampled_from([OMIT, notifications])),
    )
    permissions: dict[str, Any] = {}
    put(permissions, "contact_info_editing", maybe(draw, st.booleans()))
    group["patient_permissions"] = permissions
    return group


class _QuotedDumper(yaml.SafeDumper):
    """Every string double-quoted, as a careful admin would write it."""


_QuotedDumper.add_representer(
    str, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def value(section: dict[str, Any], key: str, default: Any) -> Any:
    got = section.get(key)
    return default if got is None else got


def expected_sections(group: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What config.json must say for each panel, from the SPEC defaults."""
    branding = group.get("branding", {})
    payments = group["payments"]
    look = group["look_and_feel"]
    footer = look["footer"]
    auth = group["authentication"]
    mfa = auth["mfa"]
    notifications = group.get("notifications", {})
    phone = footer.get("phone")
    e164 = dict(PHONES)[phone] if phone is not None else None
    return {
        "branding": {
            camel(o.path[-1]): value(branding, o.path[-1], None) for o in in_section("branding")
        },
        "payments": {
            camel(o.path[-1]): value(payments, o.path[-1], SPEC_DEFAULT[o.kind])
            for o in in_section("payments")
        },
        "lookAndFeel": {
            **{
                camel(o.path[-1]): value(look, o.path[-1], SPEC_DEFAULT[o.kind])
                for o in _switches("look_and_feel")
            },
            "landingPage": value(look, "landing_page", "account"),
            "logoutFunction": value(look, "logout_function", "logout"),
            "showProcedures": value(look, "show_procedures", "none"),
            "footer": {
                "email": value(footer, "email", None),
                "text": value(footer, "text", None),
                "phone": e164,
            },
        },
        "authentication": {
            "allowSessionExtension": value(auth, "allow_session_extension", False),
            "quickpayMaxAccessAttempts": value(auth, "quickpay_max_access_attempts", 3),
            "mfa": {
                "enabled": value(mfa, "enabled", False),
                "required": value(mfa, "required", False),
                "requireOpposingContactMethods": value(
                    mfa, "require_opposing_contact_methods", False
                ),
                "successRole": value(mfa, "success_role", None),
                "emailSubject": value(mfa, "email_subject", None),
                "emailBody": value(mfa, "email_body", None),
                "smsMessage": value(mfa, "sms_message", None),
            },
        },
        "notifications": {"emailFrom": value(notifications, "email_from", None)},
        "patientPermissions": {
            "contactInfoEditing": value(group["patient_permissions"], "contact_info_editing", False)
        },
    }


def subset(actual: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    for key, want in expected.items():
        assert key in actual, f"{where}.{key} missing from config.json"
        if isinstance(want, dict):
            subset(actual[key], want, f"{where}.{key}")
        else:
            assert actual[key] == want, f"{where}.{key}: {actual[key]!r} != {want!r}"


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(group=groups())
def test_any_valid_group_builds_and_round_trips(group: dict[str, Any]) -> None:
    text = yaml.dump(group, Dumper=_QuotedDumper, allow_unicode=True, sort_keys=False, width=10**9)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "groups").mkdir()
        (root / "groups" / "generated.yaml").write_text(text, encoding="utf-8")
        compilation = build(root / "groups", root / "dist")
        errors = [d for d in compilation.diagnostics if d.severity == "error"]
        assert errors == [], (text, errors)
        assert compilation.ok
        folder = root / "dist" / "groups" / "generated"
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))

        assert config["schemaVersion"] == 1
        assert config["slug"] == "generated"
        assert config["name"] == group["name"]
        theme = group["theme"]
        dark = theme.get("dark", False)
        assert config["theme"]["dark"] is dark
        defaults = DARK if dark else LIGHT
        assert config["theme"]["colors"] == {
            name: colors.normalize(theme["colors"][name])
            if theme["colors"].get(name) is not None
            else defaults[name]
            for name in LIGHT
        }
        for name, hex_value in config["theme"]["colors"].items():
            assert hex_value == hex_value.lower() and len(hex_value) == 7, name

        expected = expected_sections(group)
        phone = expected["lookAndFeel"]["footer"].pop("phone")
        subset(config, expected, "config")
        got_phone = config["lookAndFeel"]["footer"]["phone"]
        if phone is None:
            assert got_phone is None
        else:
            assert got_phone["e164"] == phone
            assert isinstance(got_phone["display"], str) and got_phone["display"]

        mfa = group["authentication"]["mfa"]
        files = sorted(p.name for p in (folder / "mfa").iterdir()) if mfa.get("enabled") else []
        want = []
        if mfa.get("enabled") and "email_body" in mfa:
            want += ["email-subject.txt", "email.html", "email.txt"]
        if mfa.get("enabled") and "sms_message" in mfa:
            want += ["sms.txt"]
        assert files == sorted(want)
        for name in files:
            assert CODE in (folder / "mfa" / name).read_text(encoding="utf-8") or name.startswith(
                "email-subject"
            )

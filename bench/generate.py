"""Seeded generator of realistic, varied, valid group files for the benchmarks and tests.

With layers (the default) the folder also gets `_defaults.yaml`, which every
group inherits, and a few bases (`_<name>.yaml`) that about half the groups
name with `extends:`; those groups leave out what their base provides, one base
extends another, and some groups reset an inherited value with `key:`. Every
group is valid under `pops validate --strict`. Same count, seed and layers
setting, same bytes.

    python bench/generate.py FOLDER COUNT [SEED] [--no-layers]
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from compiler.model.theme import DARK_PALETTE, LIGHT_PALETTE  # noqa: E402
from compiler.rules import contrast  # noqa: E402

PRACTICE_WORDS = [
    "Sunrise",
    "Harbor",
    "Lakeside",
    "Maple",
    "Cedar",
    "Riverside",
    "Summit",
    "Valley",
    "Oakwood",
    "Pinecrest",
    "Bayview",
    "Northgate",
    "Willow",
    "Granite",
    "Meadow",
    "Coastal",
]
SPECIALTIES = [
    "Pediatrics",
    "Dermatology",
    "Family Clinic",
    "Orthopedics",
    "Cardiology",
    "Dental Care",
    "Eye Associates",
    "Health Partners",
    "Women's Health",
    "Physical Therapy",
]
COLOR_KEYS = ["secondary", "accent", "info", "success", "warning"]
LAYERED_SHARE = 0.5  # of the groups extend a base when layers are on

DEFAULTS_YAML = """\
# Shared by every group: the lowest layer above the built-in defaults.
payments:
  email_receipt: true
look_and_feel:
  footer:
    text: Contact our office with any questions about your bill.
"""

# Bases by name (groups/_<name>.yaml); every key optional, as in a group.
BASES: dict[str, str] = {
    "light-clinic": """\
# Base: a light theme shared by a family of practices.
theme:
  dark: false
  colors:
    background: "#fafafa"
    surface: "#ffffff"
look_and_feel:
  show_collections: true
""",
    "dark-clinic": """\
# Base: a dark theme shared by a family of practices.
theme:
  dark: true
  colors:
    background: "#121212"
    surface: "#1e1e1e"
""",
    "mfa-email": """\
# Base: MFA codes by email with a shared message.
authentication:
  mfa:
    enabled: true
    success_role: authorized_patient
    email_subject: Your verification code
    email_body: |
      Hello,

      Your verification code is ${mfa.code}.
      It expires in 10 minutes.
""",
    "mfa-strict": """\
# Base: required MFA on top of mfa-email, and fewer quick-pay attempts.
extends: mfa-email
authentication:
  quickpay_max_access_attempts: 3
  mfa:
    required: true
""",
    "card-payments": """\
# Base: cards accepted, stored and checked.
payments:
  credit_card: true
  payment_method_storage: true
  require_cvv: true
""",
}
# The backdrop each theme base sets, so groups on it pick readable colours.
BASE_THEME = {"light-clinic": ("#fafafa", "#ffffff"), "dark-clinic": ("#121212", "#1e1e1e")}


def _random_color(rng: random.Random) -> str:
    return "#" + "".join(f"{rng.randrange(256):02x}" for _ in range(3))


def _readable(rng: random.Random, name: str, background: str, surface: str, dark: bool) -> str:
    """A random colour that passes every contrast pair `name` is in (docs/contrast.md)."""
    palette = {**(DARK_PALETTE if dark else LIGHT_PALETTE), "background": background}
    palette["surface"] = surface
    while True:
        candidate = _random_color(rng)
        if contrast.passes_all(name, {**palette, name: candidate}, dark):
            return candidate


def _pick_base(rng: random.Random, dark: bool) -> str:
    theme = "dark-clinic" if dark else "light-clinic"
    return rng.choice([theme, theme, "mfa-email", "mfa-strict", "card-payments"])


def group_yaml(index: int, rng: random.Random, layers: bool = False) -> str:
    """One valid group; with `layers`, it may extend a base and leaves the defaults out."""
    name = f"{rng.choice(PRACTICE_WORDS)} {rng.choice(SPECIALTIES)} {index}"
    dark = rng.random() < 0.2
    base = _pick_base(rng, dark) if layers and rng.random() < LAYERED_SHARE else None
    if base in BASE_THEME:
        background, surface = BASE_THEME[base]
    elif dark:
        background = rng.choice(["#121212", "#10141a", "#1a1a2e", "#0d1117"])
        surface = rng.choice(["#1e1e1e", "#1b2230", "#22223b", "#161b22"])
    else:
        background = rng.choice(["#ffffff", "#fafafa", "#f7f9fb", "#fffdf7"])
        surface = rng.choice(["#ffffff", "#f5f5f5"])
    primary = _readable(rng, "primary", background, surface, dark)
    error = _readable(rng, "error", background, surface, dark)
    host = f"https://cdn{rng.randrange(5)}.example.com/g{index}"
    lines = [
        "# yaml-language-server: $schema=../schema/group.schema.json",
        "schema: 1",
        f'name: "{name}"',
    ]
    if base is not None:
        lines.append(f"extends: {base}")
    lines += [
        "branding:",
        f"  logo_url: {host}/logo.png",
    ]
    if rng.random() < 0.7:
        lines.append(f"  favicon_url: {host}/favicon.ico")
    if rng.random() < 0.5:
        lines.append(f"  home_asset_url: {host}/home.jpg")
    lines.append("theme:")
    if base not in BASE_THEME:
        lines.append(f"  dark: {'true' if dark else 'false'}")
    lines.append("  colors:")
    if base not in BASE_THEME:
        lines += [f'    background: "{background}"', f'    surface: "{surface}"']
    lines += [f'    primary: "{primary}"', f'    error: "{error}"']
    for key in COLOR_KEYS:
        if rng.random() < 0.5:
            lines.append(f'    {key}: "{_readable(rng, key, background, surface, dark)}"')
    card = rng.random() < 0.9 or base == "card-payments"
    apple_pay = f"  apple_pay: {str(rng.random() < 0.4).lower()}"
    google_pay = f"  google_pay: {str(rng.random() < 0.4 or not card).lower()}"
    storage = f"  payment_method_storage: {str(card and rng.random() < 0.5).lower()}"
    cvv = f"  require_cvv: {str(card and rng.random() < 0.7).lower()}"
    auto_post = f"  auto_post: {str(rng.random() < 0.5).lower()}"
    lines.append("payments:")
    if base == "card-payments":
        # The base accepts, stores and checks cards; some groups reset the CVV
        # check to its built-in default with an empty value.
        lines += [apple_pay, google_pay, auto_post]
        if rng.random() < 0.3:
            lines.append("  require_cvv:")
    else:
        lines += [f"  credit_card: {str(card).lower()}", apple_pay, google_pay, storage, cvv]
        lines.append(auto_post)
    if not layers:
        lines.append("  email_receipt: true")
    lines += [
        "look_and_feel:",
        f"  visits_pdf_export: {str(rng.random() < 0.5).lower()}",
        f"  landing_page: {rng.choice(['account', 'visits', 'payments'])}",
        f"  logout_function: {rng.choice(['close', 'logout', 'none'])}",
        f"  show_collections: {str(rng.random() < 0.5).lower()}",
        f"  show_current_balance: {str(rng.random() < 0.5).lower()}",
        f"  show_procedures: {rng.choice(['none', 'description', 'code_and_description'])}",
        "  footer:",
        f"    email: billing{index}@practice.example.com",
        f'    phone: "+1 212 555 {rng.randrange(100, 200):04d}"',
    ]
    if not layers:
        lines.append("    text: Contact our office with any questions about your bill.")
    lines.append("authentication:")
    attempts = f"  quickpay_max_access_attempts: {rng.randrange(1, 10)}"
    if base != "mfa-strict":
        lines.append(attempts)
    lines.append(f"  allow_session_extension: {str(rng.random() < 0.5).lower()}")
    if base in ("mfa-email", "mfa-strict"):
        # Email codes come from the base; some groups add SMS on top.
        if rng.random() < 0.5:
            lines += ["  mfa:", f'    sms_message: "{name[:40]} code: ${{mfa.code}}"']
    elif rng.random() < 0.7:
        email = rng.random() < 0.8
        sms = rng.random() < 0.6 or not email
        lines += [
            "  mfa:",
            "    enabled: true",
            f"    required: {str(rng.random() < 0.3).lower()}",
            "    success_role: authorized_patient",
        ]
        if email:
            lines += [
                f"    email_subject: Your {name} verification code",
                "    email_body: |",
                "      Hello,",
                "",
                "      Your verification code is ${mfa.code}.",
                "      It expires in 10 minutes.",
            ]
        if sms:
            lines.append(f'    sms_message: "{name[:40]} code: ${{mfa.code}}"')
        if email and sms and rng.random() < 0.3:
            lines.append("    require_opposing_contact_methods: true")
    lines += [
        "notifications:",
        f"  email_from: no-reply{index}@practice.example.com",
        "patient_permissions:",
        f"  contact_info_editing: {str(rng.random() < 0.5).lower()}",
    ]
    return "\n".join(lines) + "\n"


def generate(folder: Path, count: int, seed: int = 1, layers: bool = True) -> list[Path]:
    """Write `count` groups into `folder` (created); same seed and layers, same files.

    Returns the group files only; with `layers`, `_defaults.yaml` and the bases
    are written beside them.
    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    if layers:
        (folder / "_defaults.yaml").write_text(DEFAULTS_YAML)
        for name, text in BASES.items():
            (folder / f"_{name}.yaml").write_text(text)
    paths = []
    for index in range(count):
        path = folder / f"practice-{index:05d}.yaml"
        path.write_text(group_yaml(index, rng, layers))
        paths.append(path)
    return paths


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Write COUNT seeded, valid groups into FOLDER.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("seed", type=int, nargs="?", default=1)
    parser.add_argument(
        "--layers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also write _defaults.yaml and bases that about half the groups extend",
    )
    args = parser.parse_args()
    generate(args.folder, args.count, args.seed, args.layers)


if __name__ == "__main__":
    main()

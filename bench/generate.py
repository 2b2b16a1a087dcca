"""Seeded generator of realistic, varied, valid group files for the benchmarks and tests."""

from __future__ import annotations

import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from compiler import colors  # noqa: E402

PRACTICE_WORDS = [
    "Sunrise", "Harbor", "Lakeside", "Maple", "Cedar", "Riverside", "Summit", "Valley",
    "Oakwood", "Pinecrest", "Bayview", "Northgate", "Willow", "Granite", "Meadow", "Coastal",
]
SPECIALTIES = [
    "Pediatrics", "Dermatology", "Family Clinic", "Orthopedics", "Cardiology", "Dental Care",
    "Eye Associates", "Health Partners", "Women's Health", "Physical Therapy",
]
COLOR_KEYS = ["secondary", "accent", "info", "success", "warning"]


def _random_color(rng: random.Random) -> str:
    return "#" + "".join(f"{rng.randrange(256):02x}" for _ in range(3))


def _primary_for(rng: random.Random, backdrops: list[str]) -> str:
    while True:
        candidate = _random_color(rng)
        if all(colors.contrast_ratio(candidate, b) >= 4.5 for b in backdrops):
            return candidate


def group_yaml(index: int, rng: random.Random) -> str:
    name = f"{rng.choice(PRACTICE_WORDS)} {rng.choice(SPECIALTIES)} {index}"
    dark = rng.random() < 0.2
    if dark:
        background = rng.choice(["#121212", "#10141a", "#1a1a2e", "#0d1117"])
        surface = rng.choice(["#1e1e1e", "#1b2230", "#22223b", "#161b22"])
    else:
        background = rng.choice(["#ffffff", "#fafafa", "#f7f9fb", "#fffdf7"])
        surface = rng.choice(["#ffffff", "#f5f5f5"])
    primary = _primary_for(rng, [background, surface])
    error = _primary_for(rng, [background, surface])
    host = f"https://cdn{rng.randrange(5)}.example.com/g{index}"
    lines = [
        "# yaml-language-server: $schema=../schema/group.schema.json",
        "schema: 1",
        f'name: "{name}"',
        "branding:",
        f"  logo_url: {host}/logo.png",
    ]
    if rng.random() < 0.7:
        lines.append(f"  favicon_url: {host}/favicon.ico")
    if rng.random() < 0.5:
        lines.append(f"  home_asset_url: {host}/home.jpg")
    lines += [
        "theme:",
        f"  dark: {'true' if dark else 'false'}",
        "  colors:",
        f'    background: "{background}"',
        f'    surface: "{surface}"',
        f'    primary: "{primary}"',
        f'    error: "{error}"',
    ]
    for key in COLOR_KEYS:
        if rng.random() < 0.5:
            lines.append(f'    {key}: "{_random_color(rng)}"')
    card = rng.random() < 0.9
    lines += [
        "payments:",
        f"  credit_card: {str(card).lower()}",
        f"  apple_pay: {str(rng.random() < 0.4).lower()}",
        f"  google_pay: {str(rng.random() < 0.4 or not card).lower()}",
        f"  payment_method_storage: {str(card and rng.random() < 0.5).lower()}",
        f"  require_cvv: {str(card and rng.random() < 0.7).lower()}",
        f"  auto_post: {str(rng.random() < 0.5).lower()}",
        "  email_receipt: true",
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
        "    text: Contact our office with any questions about your bill.",
        "authentication:",
        f"  quickpay_max_access_attempts: {rng.randrange(1, 10)}",
        f"  allow_session_extension: {str(rng.random() < 0.5).lower()}",
    ]
    if rng.random() < 0.7:
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


def generate(folder: Path, count: int, seed: int = 1) -> list[Path]:
    """Write `count` groups into `folder` (created); same seed, same files."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"practice-{index:05d}.yaml"
        path.write_text(group_yaml(index, rng))
        paths.append(path)
    return paths


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)

"""Every cross-field rule of SPEC section 2, through the installed `pops`, plus the maths.

Each failing case asserts the whole diagnostic list (severity, code, key path,
line, column), so a rule that fires twice, fires at the wrong place or drags
another rule along is caught. Each rule also has a passing counterpart.
"""

from __future__ import annotations

import json
import re
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import pops_executable, write_group

from compiler import colors
from compiler.model import Group
from compiler.rules import contrast, contrast_aa, contrast_low, sms_too_long

CLEAN = "name: A\npayments:\n  credit_card: true\n"
# Lines 1-9; MFA on with a role and a sender, no channel yet.
MFA = (
    CLEAN + "notifications:\n  email_from: no-reply@example.com\n"
    "authentication:\n  mfa:\n    enabled: true\n    success_role: authorized_patient\n"
)

Row = tuple[str, str, str, int, int]


def validate(run_pops: Any, repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    proc: subprocess.CompletedProcess[str] = run_pops(
        "validate", "--format", "json", *args, cwd=repo
    )
    assert "Traceback" not in proc.stdout
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def found(report: dict[str, Any]) -> list[Row]:
    return [
        (d["severity"], d["code"], d["path"], d["line"], d["column"]) for d in report["diagnostics"]
    ]


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


# (id, group, expected diagnostics, words in the first message)
FAILING: list[tuple[str, str, list[Row], tuple[str, ...]]] = [
    (
        "mfa-required-without-enabled",
        CLEAN + "authentication:\n  mfa:\n    required: true\n",
        [("error", "mfa-required-without-enabled", "authentication.mfa.required", 6, 15)],
        ("enabled: true",),
    ),
    (
        "mfa-role-missing",
        CLEAN + "authentication:\n  mfa:\n    enabled: true\n"
        '    sms_message: "Code: ${mfa.code}"\n',
        [("error", "mfa-role-missing", "authentication.mfa.enabled", 6, 14)],
        ("success_role",),
    ),
    (
        "mfa-channel-missing",
        CLEAN + "authentication:\n  mfa:\n    enabled: true\n    success_role: patient\n",
        [("error", "mfa-channel-missing", "authentication.mfa.enabled", 6, 14)],
        ("email_subject", "sms_message"),
    ),
    (
        "mfa-email-incomplete-no-body",
        MFA + "    email_subject: Your code\n",
        [("error", "mfa-email-incomplete", "authentication.mfa.email_subject", 10, 20)],
        ("no email_body",),
    ),
    (
        "mfa-email-incomplete-no-subject",
        MFA + '    email_body: "Code ${mfa.code}"\n',
        [("error", "mfa-email-incomplete", "authentication.mfa.email_body", 10, 17)],
        ("no email_subject",),
    ),
    (
        "mfa-opposing-needs-both-no-email",
        MFA + '    require_opposing_contact_methods: true\n    sms_message: "Code ${mfa.code}"\n',
        [
            (
                "error",
                "mfa-opposing-needs-both",
                "authentication.mfa.require_opposing_contact_methods",
                10,
                39,
            )
        ],
        ("no email channel",),
    ),
    (
        "mfa-opposing-needs-both-no-sms",
        MFA + "    require_opposing_contact_methods: true\n"
        '    email_subject: Your code\n    email_body: "Code ${mfa.code}"\n',
        [
            (
                "error",
                "mfa-opposing-needs-both",
                "authentication.mfa.require_opposing_contact_methods",
                10,
                39,
            )
        ],
        ("no SMS channel",),
    ),
    (
        "mfa-code-missing-body-mfa-off",
        CLEAN + "authentication:\n  mfa:\n    email_body: Your code is ready.\n",
        [("error", "mfa-code-missing", "authentication.mfa.email_body", 6, 17)],
        ("${mfa.code}",),
    ),
    (
        "mfa-code-missing-sms-mfa-off",
        CLEAN + "authentication:\n  mfa:\n    sms_message: Your code is ready.\n",
        [("error", "mfa-code-missing", "authentication.mfa.sms_message", 6, 18)],
        ("${mfa.code}",),
    ),
    (
        "mfa-placeholder-unknown-subject",
        CLEAN + 'authentication:\n  mfa:\n    email_subject: "Hi ${patient.name}"\n',
        [("error", "mfa-placeholder-unknown", "authentication.mfa.email_subject", 6, 20)],
        ("${patient.name}", "only placeholder is ${mfa.code}"),
    ),
    (
        "mfa-placeholder-unknown-body",
        CLEAN + 'authentication:\n  mfa:\n    email_body: "${mfa.code} for ${name}"\n',
        [("error", "mfa-placeholder-unknown", "authentication.mfa.email_body", 6, 17)],
        ("${name}",),
    ),
    (
        "mfa-placeholder-typo-sms",
        CLEAN + 'authentication:\n  mfa:\n    sms_message: "Code ${mfa.cod}"\n',
        [("error", "mfa-placeholder-unknown", "authentication.mfa.sms_message", 6, 18)],
        ("it has no ${mfa.code} either", "write ${mfa.code} in place of ${mfa.cod}"),
    ),
    (
        "mfa-subject-line-break",
        CLEAN + 'authentication:\n  mfa:\n    email_subject: "Your\\ncode"\n',
        [("error", "mfa-subject-line-break", "authentication.mfa.email_subject", 6, 20)],
        ("one line",),
    ),
    (
        "mfa-subject-block-keeps-newline",
        CLEAN + "authentication:\n  mfa:\n    email_subject: |\n      Your code\n",
        [("error", "mfa-subject-line-break", "authentication.mfa.email_subject", 6, 20)],
        ("ends with a line break", ">-"),
    ),
    (
        "email-from-missing-mfa-email",
        CLEAN + "authentication:\n  mfa:\n    enabled: true\n    success_role: patient\n"
        '    email_subject: Your code\n    email_body: "Code ${mfa.code}"\n',
        [("error", "email-from-missing", "authentication.mfa.email_subject", 8, 20)],
        ("notifications.email_from",),
    ),
    (
        "email-from-missing-receipt",
        CLEAN + "  email_receipt: true\n",
        [("error", "email-from-missing", "payments.email_receipt", 4, 18)],
        ("notifications.email_from",),
    ),
    (
        "color-invalid",
        CLEAN + 'theme:\n  colors:\n    secondary: "rgb(0, 0, 0)"\n',
        [("error", "color-invalid", "theme.colors.secondary", 6, 16)],
        ('"rgb(0, 0, 0)" is not a colour', '"#rrggbb"'),
    ),
    (
        "url-invalid-http",
        CLEAN + "branding:\n  favicon_url: http://cdn.example.com/f.ico\n",
        [("error", "url-invalid", "branding.favicon_url", 5, 16)],
        ("https://",),
    ),
    (
        "url-invalid-no-host",
        CLEAN + "branding:\n  home_asset_url: https:///home.jpg\n",
        [("error", "url-invalid", "branding.home_asset_url", 5, 19)],
        ("with a host",),
    ),
    (
        "theme-dark-mismatch-dark-colours-light-flag",
        CLEAN + 'theme:\n  colors:\n    background: "#121212"\n    surface: "#1e1e1e"\n'
        '    primary: "#90caf9"\n    error: "#db7183"\n',
        [("error", "theme-dark-mismatch", "theme.colors.background", 6, 17)],
        ("background #121212 and surface #1e1e1e are dark but theme.dark is false",),
    ),
    (
        "theme-dark-mismatch-light-colours-dark-flag",
        CLEAN + 'theme:\n  dark: true\n  colors:\n    background: "#fafafa"\n'
        '    surface: "#ffffff"\n    primary: "#1565c0"\n    error: "#b00020"\n',
        [("error", "theme-dark-mismatch", "theme.dark", 5, 9)],
        ("background #fafafa and surface #ffffff are light but theme.dark is true",),
    ),
    (
        # One mistake, one message: the flag alone, not also the dark palette's primary
        # and error (never written here) measured against the light backdrops.
        "theme-dark-flag-over-light-colours-is-one-error",
        CLEAN + 'theme:\n  dark: true\n  colors:\n    background: "#ffffff"\n'
        '    surface: "#ffffff"\n',
        [("error", "theme-dark-mismatch", "theme.dark", 5, 9)],
        ("every colour left out comes from the dark palette",),
    ),
    (
        "theme-dark-mismatch-threshold-757575",
        CLEAN + 'theme:\n  colors:\n    background: "#757575"\n',
        [("error", "theme-dark-mismatch", "theme.colors.background", 6, 17)],
        ("#757575 is dark",),
    ),
    (
        # #767676 is light (black text out-contrasts white), so no theme-dark-mismatch;
        # but black text at medium emphasis on it is unreadable: one error, at the colour.
        "light-threshold-767676-is-light-but-too-dark-for-text",
        CLEAN + 'theme:\n  colors:\n    background: "#767676"\n',
        [("error", "contrast-low", "theme.colors.background", 6, 17)],
        (
            "primary #0065bd text on background #767676 has contrast 1.28:1, under the 4.5:1 "
            "WCAG AA asks for text",
            "22 other pairs fail too",
            'the nearest background of the same hue that passes is "#f5f5f5"',
        ),
    ),
    (
        # Every pair of one colour in one message: the worst pair every page shows.
        "contrast-low-once-per-colour",
        CLEAN + 'theme:\n  colors:\n    primary: "#ffeb3b"\n',
        [("error", "contrast-low", "theme.colors.primary", 6, 14)],
        (
            "primary #ffeb3b text on background #ffffff has contrast 1.22:1, under the 4.5:1 "
            "WCAG AA asks for text; patients see it in VBtn, VAlert, VChip",
            "(buttons and links); 5 other pairs fail too",
            'the nearest primary of the same hue that passes is "#',
        ),
    ),
    (
        "contrast-low-just-under-4.5-is-not-rounded-up",
        CLEAN + 'theme:\n  colors:\n    primary: "#9a6c5a"\n',
        [("error", "contrast-low", "theme.colors.primary", 6, 14)],
        ("primary #9a6c5a text on background #ffffff has contrast 4.49:1, under the 4.5:1",),
    ),
    (
        "contrast-low-on-dark-asks-lighter",
        CLEAN + 'theme:\n  dark: true\n  colors:\n    primary: "#1a237e"\n',
        [("error", "contrast-low", "theme.colors.primary", 7, 14)],
        ("primary #1a237e text on surface #1e1e1e has contrast 1.25:1", 'passes is "#718cf0"'),
    ),
    (
        # A grey surface under black brand colours (which pass on it): its own
        # medium-emphasis text (character counters) fails.
        "contrast-low-surface-medium-emphasis",
        CLEAN
        + 'theme:\n  colors:\n    surface: "#8a8a8a"\n'
        + "".join(f'    {name}: "#000"\n' for name in contrast.BRANDS),
        [("error", "contrast-low", "theme.colors.surface", 6, 14)],
        (
            "medium-emphasis text #373737 (on-surface at 60%) on surface #8a8a8a has "
            "contrast 3.44:1",
            "VCounter",
            'the nearest surface of the same hue that passes is "#b9b9b9"',
        ),
    ),
    (
        # The same grey surface with the brand colours left out: they fail on it too,
        # and that is the surface's doing. One mistake, one message at its line.
        "contrast-low-surface-takes-the-defaults-along",
        CLEAN + 'theme:\n  colors:\n    surface: "#8a8a8a"\n',
        [("error", "contrast-low", "theme.colors.surface", 6, 14)],
        (
            "primary #0065bd text on surface #8a8a8a has contrast 1.69:1",
            "21 other pairs fail too",
            'the nearest surface of the same hue that passes is "#f5f5f5"',
        ),
    ),
    (
        "contrast-per-colour-surface-and-primary",
        CLEAN + 'theme:\n  colors:\n    surface: "#e0e0e0"\n    primary: "#949494"\n',
        [
            ("warning", "contrast-aa", "theme.colors.surface", 6, 14),
            ("error", "contrast-low", "theme.colors.primary", 7, 14),
        ],
        (
            "accent #3b65ad text on its tonal background #ccd1da "
            "(accent at 12% over surface #e0e0e0)",
        ),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in FAILING],
)
def test_rule_fires_at_the_right_place(
    run_pops: Any, repo: Path, text: str, expected: list[Row], words: tuple[str, ...]
) -> None:
    write_group(repo, "sunrise", text)
    status, report = validate(run_pops, repo)
    assert status == 1
    assert found(report) == expected
    for word in words:
        assert word in report["diagnostics"][0]["message"]


# (id, group, expected warnings) — warnings alone never fail a plain validate.
WARNING_ONLY: list[tuple[str, str, list[Row], tuple[str, ...]]] = [
    (
        # Vuetify's own default info, success, warning and accent on white (#15).
        "contrast-aa-vuetify-info",
        CLEAN + 'theme:\n  colors:\n    info: "#2196f3"\n',
        [("warning", "contrast-aa", "theme.colors.info", 6, 11)],
        (
            "info #2196f3 text on its tonal background #e4f2fe (info at 12% over background "
            "#ffffff) has contrast 2.74:1",
            'VAlert, VBtn variant="tonal", VChip (tonal by default)',
            "(information messages); 3 other pairs fail too",
            'the nearest info of the same hue that passes is "#006eba"',
        ),
    ),
    (
        "contrast-aa-vuetify-success",
        CLEAN + 'theme:\n  colors:\n    success: "#4caf50"\n',
        [("warning", "contrast-aa", "theme.colors.success", 6, 14)],
        ("contrast 2.48:1", 'passes is "#067c1b"'),
    ),
    (
        "contrast-aa-vuetify-warning",
        CLEAN + 'theme:\n  colors:\n    warning: "#fb8c00"\n',
        [("warning", "contrast-aa", "theme.colors.warning", 6, 14)],
        ("contrast 2.13:1", 'passes is "#a25800"'),
    ),
    (
        "contrast-aa-vuetify-accent",
        CLEAN + 'theme:\n  colors:\n    accent: "#82b1ff"\n',
        [("warning", "contrast-aa", "theme.colors.accent", 6, 13)],
        ("contrast 1.99:1", 'passes is "#406bb3"'),
    ),
    (
        "contrast-aa-error-colour",
        CLEAN + 'theme:\n  colors:\n    error: "#ff5252"\n',
        [("warning", "contrast-aa", "theme.colors.error", 6, 12)],
        (
            "error #ff5252 text on its tonal background #ffeaea",
            "(error messages and invalid fields)",
        ),
    ),
    (
        "contrast-aa-error-on-dark-asks-lighter",
        CLEAN + "theme:\n  dark: true\n  colors:\n    error: '#b00020'\n",
        [("warning", "contrast-aa", "theme.colors.error", 7, 12)],
        ("over surface #1e1e1e", 'passes is "#f'),
    ),
    (
        "contrast-aa-vuetify-dark-error",
        CLEAN + "theme:\n  dark: true\n  colors:\n    error: '#cf6679'\n",
        [("warning", "contrast-aa", "theme.colors.error", 7, 12)],
        ("contrast 3.98:1", 'passes is "#db7183"'),
    ),
    (
        # Text on the page passes (4.54:1): only the tonal chips and alerts fail, which
        # not every page shows, so a warning.
        "contrast-aa-primary-tonal-only",
        CLEAN + 'theme:\n  colors:\n    primary: "#767676"\n',
        [("warning", "contrast-aa", "theme.colors.primary", 6, 14)],
        (
            "primary #767676 text on its tonal background #efefef (primary at 12% over "
            "background #ffffff) has contrast 3.95:1",
            "1 other pair fails too",
            'passes is "#6b6b6b"',
        ),
    ),
    (
        "payment-needs-card",
        "name: A\npayments:\n  apple_pay: true\n  payment_method_storage: true\n"
        "  require_cvv: true\n",
        [
            ("warning", "payment-needs-card", "payments.payment_method_storage", 4, 27),
            ("warning", "payment-needs-card", "payments.require_cvv", 5, 16),
        ],
        ("payment_method_storage has no effect without credit_card",),
    ),
    (
        "payment-none-nothing-written",
        "name: A\n",
        [("warning", "payment-none", "payments", 1, 1)],
        ("no payment method", "credit_card"),
    ),
    (
        "payment-none-other-options",
        "name: A\npayments:\n  auto_post: true\n",
        [("warning", "payment-none", "payments", 3, 3)],
        ("patients cannot pay",),
    ),
    (
        "minimum-payment-no-method",
        "name: A\npayments:\n  minimum_payment: 5.00\n",
        [
            ("warning", "payment-none", "payments", 3, 3),
            ("warning", "minimum-payment-no-method", "payments.minimum_payment", 3, 20),
        ],
        ("patients cannot pay",),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in WARNING_ONLY],
)
def test_warning_passes_and_strict_makes_it_an_error(
    run_pops: Any, repo: Path, text: str, expected: list[Row], words: tuple[str, ...]
) -> None:
    write_group(repo, "sunrise", text)
    status, report = validate(run_pops, repo)
    assert status == 0
    assert found(report) == expected
    assert (report["errors"], report["warnings"]) == (0, len(expected))
    for word in words:
        assert word in report["diagnostics"][0]["message"]

    status, strict = validate(run_pops, repo, "--strict")
    assert status == 1
    assert found(strict) == [("error", *row[1:]) for row in expected]
    assert (strict["errors"], strict["warnings"]) == (len(expected), 0)


# Groups whose one failing colour gets a proposal: (id, group, key the message is at).
PROPOSALS: list[tuple[str, str, str]] = [
    (case[0], case[1], case[2][0][2])
    for case in FAILING + WARNING_ONLY
    if case[0].startswith(("contrast-", "light-threshold")) and len(case[2]) == 1
]


@pytest.mark.parametrize(("text", "key"), [pytest.param(*c[1:], id=c[0]) for c in PROPOSALS])
def test_the_proposed_colour_validates_clean(
    run_pops: Any, repo: Path, text: str, key: str
) -> None:
    """The colour a contrast message proposes, set with `pops set`, passes every pair."""
    write_group(repo, "sunrise", text)
    _, report = validate(run_pops, repo)
    [diagnostic] = report["diagnostics"]
    proposal = re.search(r'of the same hue that passes is "(#[0-9a-f]{6})"$', diagnostic["message"])
    assert proposal, diagnostic["message"]
    name = key.rsplit(".", 1)[1]
    before = colors.oklch(Group.model_validate(yaml.safe_load(text)).theme.palette()[name])
    after = colors.oklch(proposal.group(1))
    if before[1] > 0.02 and after[1] > 0.02:  # hue is only defined with some chroma
        assert abs((after[2] - before[2] + 180) % 360 - 180) < 3
    done = run_pops("set", "sunrise", key, proposal.group(1), cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert validate(run_pops, repo, "--strict") == (
        0,
        {"diagnostics": [], "errors": 0, "warnings": 0},
    )


# Each rule's passing counterpart: no diagnostic at all.
PASSING: list[tuple[str, str]] = [
    ("mfa-off-with-nothing", CLEAN + "authentication:\n  mfa:\n    enabled: false\n"),
    (
        "mfa-required-and-enabled-sms",
        MFA + '    required: true\n    sms_message: "Code: ${mfa.code}"\n',
    ),
    (
        "mfa-email-and-sms-opposing",
        MFA + "    require_opposing_contact_methods: true\n    email_subject: Your code\n"
        "    email_body: |\n      Hello,\n\n      Your code is ${mfa.code}.\n"
        '    sms_message: "Code: ${mfa.code}"\n',
    ),
    (
        "mfa-subject-folded-block",
        MFA + '    email_subject: >-\n      Your\n      code\n    email_body: "Code ${mfa.code}"\n',
    ),
    (
        "mfa-texts-with-code-while-off",
        CLEAN + 'authentication:\n  mfa:\n    email_body: "${mfa.code}"\n'
        '    sms_message: "${mfa.code} $5 {x} $x"\n',
    ),
    (
        "email-receipt-with-sender",
        CLEAN + "  email_receipt: true\nnotifications:\n  email_from: billing@example.com\n",
    ),
    (
        "colours-any-case-and-short",
        CLEAN + 'theme:\n  colors:\n    primary: "#0D47A1"\n    secondary: "#456"\n'
        '    accent: "#00F"\n',
    ),
    ("dark-flag-alone-uses-dark-palette", CLEAN + "theme:\n  dark: true\n"),
    (
        "dark-colours-dark-flag",
        CLEAN + 'theme:\n  dark: true\n  colors:\n    background: "#000000"\n'
        '    surface: "#1a1a1a"\n',
    ),
    # The lightest grey whose tonal pair passes (4.56:1; #6c6c6c is 4.4998:1).
    ("contrast-tonal-just-aa", CLEAN + 'theme:\n  colors:\n    primary: "#6b6b6b"\n'),
    ("contrast-default-light-palette", CLEAN + "theme:\n  dark: false\n"),
    ("card-with-cvv-and-storage", CLEAN + "  require_cvv: true\n  payment_method_storage: true\n"),
    ("google-pay-only", "name: A\npayments:\n  google_pay: true\n"),
    ("minimum-payment-with-a-method", CLEAN + "  minimum_payment: 5.00\n"),
    (
        "https-urls",
        CLEAN + "branding:\n  favicon_url: https://cdn.example.com/f.ico\n"
        "  logo_url: https://cdn.example.com:8443/logo.png?v=2\n",
    ),
]


def run_batch(root: Path, files: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    """Validate many groups in one `pops` run; cases are then checked file by file."""
    (root / "groups").mkdir()
    for slug, text in files.items():
        write_group(root, slug, text)
    proc = subprocess.run(
        [pops_executable(), "validate", "--format", "json", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def passing_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    files = {f"p{i:02d}": text for i, (_, text) in enumerate(PASSING)}
    return run_batch(tmp_path_factory.mktemp("passing"), files, "--strict")


def test_all_passing_counterparts_exit_0_even_strict(
    passing_run: tuple[int, dict[str, Any]],
) -> None:
    assert passing_run == (0, {"diagnostics": [], "errors": 0, "warnings": 0})


@pytest.mark.parametrize("index", [pytest.param(i, id=name) for i, (name, _) in enumerate(PASSING)])
def test_rule_passing_counterpart_is_clean(
    passing_run: tuple[int, dict[str, Any]], index: int
) -> None:
    file = f"groups/p{index:02d}.yaml"
    assert [d for d in passing_run[1]["diagnostics"] if d["file"] == file] == []


# SMS segments: the code counts as 8 digits; GSM-7 extension characters count 2;
# anything outside GSM-7 switches to UCS-2, counted in UTF-16 units.
CODE = "${mfa.code}"


SMS_CASES: list[tuple[str, str, str | None]] = [
    ("gsm-159", "a" * 151 + CODE, None),
    ("gsm-160", "a" * 152 + CODE, None),
    ("gsm-161", "a" * 153 + CODE, "161 GSM-7 characters"),
    ("gsm-160-accented-basic", "é" * 152 + CODE, None),
    ("gsm-extension-counts-2-160", "{" + "a" * 150 + CODE, None),
    ("gsm-extension-161", "€" + "a" * 151 + CODE, "161 GSM-7 characters"),
    ("ucs2-70-units", "🔐" + "a" * 60 + CODE, None),
    ("ucs2-71-units-70-chars", "🔐" + "a" * 61 + CODE, "71 UCS-2 characters"),
    ("ucs2-curly-quote", "’" + "a" * 62 + CODE, "71 UCS-2 characters"),
]


@pytest.fixture(scope="module")
def sms_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[tuple[int, dict[str, Any]], tuple[int, dict[str, Any]]]:
    files = {
        f"s{i}": MFA + f"    sms_message: {q(sms)}\n" for i, (_, sms, _) in enumerate(SMS_CASES)
    }
    plain = run_batch(tmp_path_factory.mktemp("sms"), files)
    strict = run_batch(tmp_path_factory.mktemp("sms-strict"), files, "--strict")
    return plain, strict


@pytest.mark.parametrize(
    ("index", "warning"),
    [pytest.param(i, warning, id=name) for i, (name, _, warning) in enumerate(SMS_CASES)],
)
def test_sms_segment_boundaries(
    sms_runs: tuple[tuple[int, dict[str, Any]], tuple[int, dict[str, Any]]],
    index: int,
    warning: str | None,
) -> None:
    (status, report), (strict_status, strict) = sms_runs
    assert status == 0  # a long SMS is a warning, never an error
    assert strict_status == 1
    file = f"groups/s{index}.yaml"
    mine = [d for d in report["diagnostics"] if d["file"] == file]
    strict_mine = [d for d in strict["diagnostics"] if d["file"] == file]
    if warning is None:
        assert mine == strict_mine == []
        return
    assert found({"diagnostics": mine}) == [
        ("warning", "sms-too-long", "authentication.mfa.sms_message", 10, 18)
    ]
    assert warning in mine[0]["message"]
    assert found({"diagnostics": strict_mine}) == [
        ("error", "sms-too-long", "authentication.mfa.sms_message", 10, 18)
    ]


def test_sms_segment_cost_counts() -> None:
    assert sms_too_long.segment_cost("a" * 160) == (160, 160, "GSM-7")
    assert sms_too_long.segment_cost("[]") == (4, 160, "GSM-7")
    assert sms_too_long.segment_cost("Code\n12345678") == (13, 160, "GSM-7")
    assert sms_too_long.segment_cost("😀") == (2, 70, "UCS-2")
    assert sms_too_long.segment_cost("ça") == (2, 70, "UCS-2")


# Contrast maths: WCAG 2 exactly.


def _reference_ratio(a: str, b: str) -> Fraction:
    """WCAG 2 from the definition, in exact fractions except the 2.4 power."""

    def lum(color: str) -> Fraction:
        value = colors.normalize(color)
        parts = [Fraction(int(value[i : i + 2], 16), 255) for i in (1, 3, 5)]
        lin = [
            c / Fraction(1292, 100)
            if c <= Fraction(4045, 100000)
            else Fraction(((c + Fraction(55, 1000)) / Fraction(1055, 1000)) ** 2.4)
            for c in parts
        ]
        return (
            Fraction(2126, 10000) * lin[0]
            + Fraction(7152, 10000) * lin[1]
            + Fraction(722, 10000) * lin[2]
        )

    la, lb = lum(a), lum(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + Fraction(5, 100)) / (lo + Fraction(5, 100))


@pytest.mark.parametrize(
    ("a", "b", "ratio"),
    [
        ("#ffffff", "#000000", 21.0),
        ("#000", "#FFF", 21.0),
        ("#ffffff", "#ffffff", 1.0),
        ("#777777", "#ffffff", 4.478089),
        ("#767676", "#ffffff", 4.542225),
        ("#ff0000", "#ffffff", 3.998477),
        ("#0000ff", "#ffffff", 8.592471),
        ("#00ff00", "#000000", 15.304),
        ("#1976d2", "#ffffff", 4.601896),
        ("#90caf9", "#121212", 10.706718),
        ("#cf6679", "#1e1e1e", 4.628011),
    ],
)
def test_contrast_ratio_known_pairs(a: str, b: str, ratio: float) -> None:
    assert colors.contrast_ratio(a, b) == pytest.approx(ratio, abs=5e-6)
    assert colors.contrast_ratio(b, a) == colors.contrast_ratio(a, b)
    assert colors.contrast_ratio(a, b) == pytest.approx(float(_reference_ratio(a, b)), rel=1e-12)


def test_contrast_matches_the_definition_across_the_cube() -> None:
    steps = [0x00, 0x0A, 0x0B, 0x33, 0x77, 0x80, 0xC0, 0xFF]
    grid = [f"#{r:02x}{g:02x}{b:02x}" for r in steps for g in steps[::3] for b in steps[::2]]
    for fg in grid[::7]:
        for bg in grid:
            expected = float(_reference_ratio(fg, bg))
            assert colors.contrast_ratio(fg, bg) == pytest.approx(expected, rel=1e-12)


def test_dark_is_decided_by_which_text_colour_contrasts_more() -> None:
    assert colors.is_dark("#757575") and not colors.is_dark("#767676")
    assert colors.on_color("#757575") == "#ffffff"
    assert colors.on_color("#767676") == "#000000"
    assert colors.on_color("#777777") == "#000000"  # 4.69 with black vs 4.48 with white
    assert colors.on_color("#1976d2") == "#ffffff"
    assert colors.on_color("#ffeb3b") == "#000000"


def test_contrast_thresholds_are_the_spec_ones() -> None:
    assert (contrast.TEXT, contrast.LARGE) == (4.5, 3.0)
    assert (contrast_low.CODE, contrast_low.SEVERITY) == ("contrast-low", "error")
    assert (contrast_aa.CODE, contrast_aa.SEVERITY) == ("contrast-aa", "warning")


def test_dark_flag_alone_builds_the_dark_palette(run_pops: Any, repo: Path) -> None:
    write_group(repo, "night", CLEAN + "theme:\n  dark: true\n  colors:\n    accent: '#FFF'\n")
    proc = run_pops("build", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    config = json.loads((repo / "dist/groups/night/config.json").read_text())
    assert config["theme"]["dark"] is True
    assert config["theme"]["colors"] == {
        "background": "#121212",
        "surface": "#1e1e1e",
        "primary": "#90caf9",
        "secondary": "#b0bec5",
        "accent": "#ffffff",
        "info": "#64b5f6",
        "success": "#81c784",
        "error": "#ee8294",
        "warning": "#ffb74d",
    }
    css = (repo / "dist/groups/night/theme.css").read_text()
    assert "color-scheme: dark" in css
    assert "--pops-background: #121212" in css

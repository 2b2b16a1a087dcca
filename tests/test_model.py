"""The model stage: strict types, unknown keys, value formats, defaults, every problem at once.

Most cases run in-process through `compile_groups` (the same function `pops
validate` calls) to stay fast; the "every mistake at once" and sorting cases go
through the installed `pops`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import write_group

from compiler.pipeline.build import compile_groups

CLEAN = "name: Sunrise Pediatrics\npayments:\n  credit_card: true\n"

Row = tuple[str, str, str, int, int]


def check(tmp_path: Path, text: str, slug: str = "sunrise") -> tuple[list[Row], list[str]]:
    (tmp_path / "groups").mkdir(exist_ok=True)
    write_group(tmp_path, slug, text)
    compilation = compile_groups(tmp_path / "groups", render=False)
    rows = [(d.severity, d.code, d.path, d.line, d.column) for d in compilation.diagnostics]
    return rows, [d.message for d in compilation.diagnostics]


# (id, group, the one diagnostic, words the message must contain)
CASES: list[tuple[str, str, Row, tuple[str, ...]]] = [
    (
        "unknown-top-level-key-did-you-mean",
        "name: A\npaymnets:\n  credit_card: true\n",
        ("error", "key-unknown", "paymnets", 2, 1),
        ("unknown key `paymnets` at the top level", "did you mean `payments`?"),
    ),
    (
        "unknown-nested-key-did-you-mean",
        CLEAN + "theme:\n  colours:\n    primary: '#1976d2'\n",
        ("error", "key-unknown", "theme.colours", 5, 3),
        ("under `theme`", "did you mean `colors`?"),
    ),
    (
        "unknown-colour-name",
        CLEAN + "theme:\n  colors:\n    primay: '#1976d2'\n",
        ("error", "key-unknown", "theme.colors.primay", 6, 5),
        ("did you mean `primary`?",),
    ),
    (
        "unknown-key-no-close-match-lists-keys",
        CLEAN + "look_and_feel:\n  footer:\n    fax: '555'\n",
        ("error", "key-unknown", "look_and_feel.footer.fax", 6, 5),
        ("expected one of: email, phone, text",),
    ),
    (
        "name-missing",
        "payments:\n  credit_card: true\n",
        ("error", "key-required", "name", 1, 1),
        ("add it", "name:"),
    ),
    (
        "name-without-value",
        "payments:\n  credit_card: true\nname:\n",
        ("error", "key-required", "name", 3, 1),
        ("no value", "required"),
    ),
    (
        "name-blank",
        'name: "   "\npayments:\n  credit_card: true\n',
        ("error", "text-empty", "name", 1, 7),
        ("empty",),
    ),
    (
        "name-too-long",
        f"name: {'x' * 101}\npayments:\n  credit_card: true\n",
        ("error", "text-too-long", "name", 1, 7),
        ("101 characters", "limit is 100"),
    ),
    (
        "name-with-line-break",
        'name: "Sunrise\\nPediatrics"\npayments:\n  credit_card: true\n',
        ("error", "text-control-character", "name", 1, 7),
        ("line break", "U+000A", "character 8"),
    ),
    (
        "name-with-escape-control",
        'name: "Sunrise\\x1b[31m"\npayments:\n  credit_card: true\n',
        ("error", "text-control-character", "name", 1, 7),
        ("U+001B",),
    ),
    (
        "footer-text-too-long",
        CLEAN + f"look_and_feel:\n  footer:\n    text: {'y' * 501}\n",
        ("error", "text-too-long", "look_and_feel.footer.text", 6, 11),
        ("501 characters", "limit is 500"),
    ),
    (
        "footer-text-with-tab",
        CLEAN + 'look_and_feel:\n  footer:\n    text: "Call\\tus"\n',
        ("error", "text-control-character", "look_and_feel.footer.text", 6, 11),
        ("a tab",),
    ),
    (
        "attempts-zero",
        CLEAN + "authentication:\n  quickpay_max_access_attempts: 0\n",
        ("error", "int-range", "authentication.quickpay_max_access_attempts", 5, 33),
        ("from 1 to 100",),
    ),
    (
        "attempts-over-100",
        CLEAN + "authentication:\n  quickpay_max_access_attempts: 101\n",
        ("error", "int-range", "authentication.quickpay_max_access_attempts", 5, 33),
        ("101 is out of range",),
    ),
    (
        "attempts-quoted",
        CLEAN + 'authentication:\n  quickpay_max_access_attempts: "3"\n',
        ("error", "type-int", "authentication.quickpay_max_access_attempts", 5, 33),
        ("without quotes",),
    ),
    (
        "attempts-fraction",
        CLEAN + "authentication:\n  quickpay_max_access_attempts: 2.5\n",
        ("error", "type-int", "authentication.quickpay_max_access_attempts", 5, 33),
        ("whole number", "`2.5`", "digits only"),
    ),
    (
        "attempts-with-underscore",
        CLEAN + "authentication:\n  quickpay_max_access_attempts: 1_000\n",
        ("error", "type-int", "authentication.quickpay_max_access_attempts", 5, 33),
        ('"1_000"', "digits only"),
    ),
    (
        "attempts-boolean",
        CLEAN + "authentication:\n  quickpay_max_access_attempts: true\n",
        ("error", "type-int", "authentication.quickpay_max_access_attempts", 5, 33),
        ("whole number", "boolean"),
    ),
    (
        "landing-page-typo",
        CLEAN + "look_and_feel:\n  landing_page: acount\n",
        ("error", "value-choice", "look_and_feel.landing_page", 5, 17),
        ("account, visits, payments", "did you mean `account`?"),
    ),
    (
        "show-procedures-unknown",
        CLEAN + "look_and_feel:\n  show_procedures: everything\n",
        ("error", "value-choice", "look_and_feel.show_procedures", 5, 20),
        ("none, description, code_and_description",),
    ),
    (
        "schema-version-2",
        "schema: 2\n" + CLEAN,
        ("error", "value-choice", "schema", 1, 9),
        ("use one of: 1",),
    ),
    (
        "panel-not-a-mapping",
        CLEAN + "look_and_feel:\n  footer: Call us\n",
        ("error", "type-mapping", "look_and_feel.footer", 5, 11),
        ("expected a mapping", "email"),
    ),
    (
        "panel-is-a-list",
        "name: A\npayments:\n  - credit_card\n",
        ("error", "type-mapping", "payments", 3, 3),
        ("got a list",),
    ),
    (
        "boolean-as-text",
        CLEAN + "theme:\n  dark: enabled\n",
        ("error", "type-bool", "theme.dark", 5, 9),
        ("true or false",),
    ),
    (
        "text-as-boolean",
        "name: true\npayments:\n  credit_card: true\n",
        ("error", "type-string", "name", 1, 7),
        ('quote it to keep it as text: "true"',),
    ),
    (
        "email-invalid",
        CLEAN + "notifications:\n  email_from: no-reply.example.com\n",
        ("error", "email-invalid", "notifications.email_from", 5, 15),
        ("not a valid email address", "@"),
    ),
    (
        "phone-invalid",
        CLEAN + 'look_and_feel:\n  footer:\n    phone: "555-0199"\n',
        ("error", "phone-invalid", "look_and_feel.footer.phone", 6, 12),
        ("area code", "+1 212 555 0199"),
    ),
    (
        "phone-letters",
        CLEAN + 'look_and_feel:\n  footer:\n    phone: "call us"\n',
        ("error", "phone-invalid", "look_and_feel.footer.phone", 6, 12),
        ("not a valid phone number",),
    ),
    (
        "role-invalid",
        CLEAN + "authentication:\n  mfa:\n    success_role: Authorized-Patient\n",
        ("error", "role-invalid", "authentication.mfa.success_role", 6, 19),
        ("lowercase letters, digits and underscores",),
    ),
    (
        "role-too-long",
        CLEAN + f"authentication:\n  mfa:\n    success_role: {'r' * 65}\n",
        ("error", "role-invalid", "authentication.mfa.success_role", 6, 19),
        ("role identifier",),
    ),
    (
        "subject-too-long",
        CLEAN + f"authentication:\n  mfa:\n    email_subject: {'s' * 79}\n",
        ("error", "text-too-long", "authentication.mfa.email_subject", 6, 20),
        ("limit is 78",),
    ),
    (
        "color-named",
        CLEAN + "theme:\n  colors:\n    primary: blue\n",
        ("error", "color-invalid", "theme.colors.primary", 6, 14),
        ('"blue" is not a colour', '"#rgb" or "#rrggbb"'),
    ),
    (
        "color-four-digits",
        CLEAN + "theme:\n  colors:\n    primary: '#1234'\n",
        ("error", "color-invalid", "theme.colors.primary", 6, 14),
        ("is not a colour",),
    ),
    (
        "color-without-hash",
        CLEAN + "theme:\n  colors:\n    primary: 1976d2\n",
        ("error", "color-invalid", "theme.colors.primary", 6, 14),
        ('"1976d2" is not a colour',),
    ),
    (
        "color-as-number",
        CLEAN + "theme:\n  colors:\n    primary: 123456\n",
        ("error", "type-string", "theme.colors.primary", 6, 14),
        ('quote it to keep it as text: "123456"',),
    ),
    (
        "url-javascript",
        CLEAN + "branding:\n  logo_url: javascript:alert(1)\n",
        ("error", "url-invalid", "branding.logo_url", 5, 13),
        ("https://",),
    ),
    (
        "money-out-of-range",
        CLEAN + "  minimum_payment: 0\n",
        ("error", "int-range", "payments.minimum_payment", 4, 20),
        ("0 is out of range; use an amount more than $0.00 and at most $10,000.00",),
    ),
    (
        "money-fraction-of-a-cent",
        CLEAN + "  minimum_payment: 5.005\n",
        ("error", "number-step", "payments.minimum_payment", 4, 20),
        ("5.005 has more than two decimals; write dollars and cents, e.g. 5.00",),
    ),
    (
        "money-quoted",
        CLEAN + '  minimum_payment: "5.00"\n',
        ("error", "type-number", "payments.minimum_payment", 4, 20),
        ('expected an amount in dollars, got text "5.00"; write it without quotes',),
    ),
    (
        "url-with-space",
        CLEAN + "branding:\n  logo_url: https://cdn.example.com/my logo.png\n",
        ("error", "url-invalid", "branding.logo_url", 5, 13),
        ("https://",),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_model_error_is_located_and_explained(
    tmp_path: Path, text: str, expected: Row, words: tuple[str, ...]
) -> None:
    rows, messages = check(tmp_path, text)
    assert rows == [expected]
    for word in words:
        assert word in messages[0]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(CLEAN + "look_and_feel:\n  logout_function: none\n", id="none-is-text"),
        pytest.param(CLEAN + "theme:\n  colors:\n    primary: ~\n", id="tilde-is-default"),
        pytest.param(CLEAN + "branding:\nnotifications:\n", id="empty-panels"),
        pytest.param(
            CLEAN + 'authentication:\n  mfa:\n    email_body: "a\\tb\\n${mfa.code}"\n',
            id="tab-and-newline-in-body",
        ),
        pytest.param(
            CLEAN + "look_and_feel:\n  footer:\n    phone: '+44 20 7946 0018'\n", id="uk-phone"
        ),
        pytest.param(
            CLEAN + "look_and_feel:\n  footer:\n    phone: (212) 555-0199\n", id="us-phone"
        ),
        pytest.param(CLEAN + "authentication:\n  quickpay_max_access_attempts: 100\n", id="100"),
        pytest.param(CLEAN + "  minimum_payment: 10000\n", id="money-10000"),
        pytest.param("schema: 1\n" + CLEAN, id="schema-1"),
        pytest.param(f"name: {'x' * 100}\npayments:\n  credit_card: true\n", id="name-100"),
        pytest.param(
            CLEAN + f"look_and_feel:\n  footer:\n    text: {'y' * 500}\n", id="footer-500"
        ),
    ],
)
def test_valid_values_pass(tmp_path: Path, text: str) -> None:
    assert check(tmp_path, text) == ([], [])


def test_misspelt_panel_does_not_also_warn_about_its_default(tmp_path: Path) -> None:
    """`paymnets:` is reported once; no "no payment method" warning about the default."""
    rows, _ = check(tmp_path, "name: A\npaymnets:\n  credit_card: true\n")
    assert rows == [("error", "key-unknown", "paymnets", 2, 1)]


def test_broken_value_does_not_drag_rules_along(tmp_path: Path) -> None:
    """A broken primary is one error, not also a contrast finding about the default."""
    rows, _ = check(tmp_path, CLEAN + "theme:\n  colors:\n    primary: '#ffeb3'\n")
    assert rows == [("error", "color-invalid", "theme.colors.primary", 6, 14)]


@pytest.mark.parametrize(
    ("file_name", "code"),
    [
        pytest.param("Sunrise.yaml", "slug-invalid", id="uppercase"),
        pytest.param("sunrise_peds.yaml", "slug-invalid", id="underscore"),
        pytest.param("-sunrise.yaml", "slug-invalid", id="leading-hyphen"),
        pytest.param("sunrise-.yaml", "slug-invalid", id="trailing-hyphen"),
        pytest.param(f"{'a' * 64}.yaml", "slug-invalid", id="64-chars"),
        pytest.param("sunrise.yml", "file-extension", id="yml"),
    ],
)
def test_bad_file_names(tmp_path: Path, file_name: str, code: str) -> None:
    (tmp_path / "groups").mkdir()
    (tmp_path / "groups" / file_name).write_text(CLEAN)
    compilation = compile_groups(tmp_path / "groups", render=False)
    rows = [(d.code, d.path, d.line, d.column) for d in compilation.diagnostics]
    assert rows == [(code, "", 1, 1)]
    assert compilation.diagnostics[0].file.endswith(file_name)


def test_good_file_names_and_ignored_files(tmp_path: Path) -> None:
    groups = tmp_path / "groups"
    groups.mkdir()
    for name in ("a.yaml", "0.yaml", f"{'a' * 63}.yaml", "x-1-y.yaml"):
        (groups / name).write_text(CLEAN)
    (groups / "_shared.yaml").write_text("theme:\n  dark: false\n")  # a base, not a group
    (groups / ".hidden.yaml").write_text("not: [a group")
    (groups / "README.md").write_text("# groups")
    compilation = compile_groups(groups, render=False)
    assert compilation.diagnostics == []


# Through the installed executable: everything at once, sorted.


def _validate(run_pops: Any, repo: Path) -> tuple[int, dict[str, Any]]:
    proc: subprocess.CompletedProcess[str] = run_pops("validate", "--format", "json", cwd=repo)
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_three_unrelated_mistakes_are_all_reported_sorted_by_line(
    run_pops: Any, repo: Path
) -> None:
    write_group(
        repo,
        "sunrise",
        "look_and_feel:\n"
        "  footer:\n"
        "    phone: 2125550199\n"  # 3: bare number
        "name: Sunrise\n"
        "theme:\n"
        "  dark: yes\n"  # 6: YAML 1.1 boolean
        "payments:\n"
        "  credit_card: true\n"
        "  credti_card: true\n",  # 9: typo
    )
    status, report = _validate(run_pops, repo)
    assert status == 1
    assert [(d["line"], d["column"], d["code"], d["path"]) for d in report["diagnostics"]] == [
        (3, 12, "type-string", "look_and_feel.footer.phone"),
        (6, 9, "type-bool", "theme.dark"),
        (9, 3, "key-unknown", "payments.credti_card"),
    ]
    assert (report["errors"], report["warnings"]) == (3, 0)


def test_loader_and_model_and_rule_problems_in_one_file(run_pops: Any, repo: Path) -> None:
    write_group(
        repo,
        "sunrise",
        CLEAN + "theme:\n  colors:\n    primary: #ffeb3b\n    error: '#ff5252'\n"
        "authentication:\n  mfa:\n    required: true\n    sms_message: Your code\n",
    )
    status, report = _validate(run_pops, repo)
    assert status == 1
    assert [(d["severity"], d["code"], d["line"]) for d in report["diagnostics"]] == [
        ("error", "yaml-unquoted-color", 6),
        ("warning", "contrast-aa", 7),
        ("error", "mfa-required-without-enabled", 10),
        ("error", "mfa-code-missing", 11),
        ("warning", "sms-sender-missing", 11),
    ]


def test_errors_in_two_files_are_sorted_by_file_then_line(run_pops: Any, repo: Path) -> None:
    write_group(repo, "beta", "name: B\npayments:\n  credit_card: maybe\n")
    write_group(repo, "alpha", CLEAN + "theme:\n  dark: 1\n  colors: {primary: red}\n")
    write_group(repo, "gamma", CLEAN)
    status, report = _validate(run_pops, repo)
    assert status == 1
    assert [(d["file"], d["line"], d["code"]) for d in report["diagnostics"]] == [
        ("groups/alpha.yaml", 5, "type-bool"),
        ("groups/alpha.yaml", 6, "color-invalid"),
        ("groups/beta.yaml", 3, "type-bool"),
    ]

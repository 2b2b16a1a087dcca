"""`pops new`, `pops set` and `pops fmt` through the installed `pops`.

An edit may change only what it was asked to change: the tests compare whole
files byte for byte, line by line, and check that refused edits leave the file
exactly as it was.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, Run, write_group
from jsonschema import Draft7Validator
from ruamel.yaml import YAML

from compiler.authoring.edit import (
    MODELINE,
    EditError,
    format_text,
    leaf_paths,
    parse_value,
    resolve_key,
    scaffold,
)
from compiler.authoring.schema import group_schema
from compiler.load.located import load_bytes
from compiler.model import Group
from compiler.model.theme import LIGHT_PALETTE

# A hand-written group: comments, blank lines, both quote styles, odd spacing.
RIVERSIDE = """\
# yaml-language-server: $schema=../schema/group.schema.json
# Riverside: hand-written, with comments everywhere.
name: 'Riverside Clinic'   # patients see this

branding:
  logo_url: https://cdn.example.com/riverside/logo.png

theme:
  # brand colours from the style guide
  colors:
    primary: "#1565c0"    # brand blue
    accent: '#9a5300'

payments:
  credit_card: true
  email_receipt: false  # no sender yet

look_and_feel:
  footer:
    phone: "+1 212 555 0199"
    text: Call us any time.

authentication:
  mfa:
    enabled: false
"""
LINES = RIVERSIDE.split("\n")


@pytest.fixture
def riverside(repo: Path) -> Path:
    return write_group(repo, "riverside", RIVERSIDE)


def replaced(index: int, line: str) -> str:
    """RIVERSIDE with line `index` (0-based) replaced."""
    return "\n".join([*LINES[:index], line, *LINES[index + 1 :]])


def inserted(index: int, *new: str) -> str:
    """RIVERSIDE with `new` lines inserted before line `index` (0-based)."""
    return "\n".join([*LINES[:index], *new, *LINES[index:]])


# --- pops set: exact bytes ---


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        # A colour is quoted for you; the spacing and comment after it stay.
        ("theme.colors.primary", "#0b5cad", replaced(10, '    primary: "#0b5cad"    # brand blue')),
        # The old quote style is kept.
        ("theme.colors.accent", "#9A5300", replaced(11, "    accent: '#9A5300'")),
        (
            "name",
            "Riverside Family Clinic",
            replaced(2, "name: 'Riverside Family Clinic'   # patients see this"),
        ),
        (
            "branding.logo_url",
            "https://cdn.example.com/riverside/logo-250x64.png",
            replaced(5, "  logo_url: https://cdn.example.com/riverside/logo-250x64.png"),
        ),
        # `~` means "the default": the value goes, the comment stays.
        ("payments.email_receipt", "~", replaced(15, "  email_receipt:  # no sender yet")),
        # Missing keys go where `pops new` would put them...
        ("payments.require_cvv", "true", inserted(16, "  require_cvv: true")),
        ("payments.apple_pay", "true", inserted(14, "  apple_pay: true")),
        ("theme.colors.background", "#fafafa", inserted(10, '    background: "#fafafa"')),
        ("theme.dark", "false", inserted(8, "  dark: false")),
        (
            "look_and_feel.footer.email",
            "billing@riverside.example",
            inserted(19, "    email: billing@riverside.example"),
        ),
        (
            "authentication.quickpay_max_access_attempts",
            "5",
            inserted(23, "  quickpay_max_access_attempts: 5"),
        ),
        # ...including whole sections that are not there yet.
        (
            "notifications.email_from",
            "no-reply@riverside.example",
            inserted(25, "notifications:", "  email_from: no-reply@riverside.example"),
        ),
        (
            "authentication.mfa.email_body",
            "Hello,\n\nYour code is ${mfa.code}.\n",
            inserted(
                25, "    email_body: |", "      Hello,", "", "      Your code is ${mfa.code}."
            ),
        ),
        # Text that YAML would misread is quoted.
        (
            "look_and_feel.footer.text",
            "Questions? Call: 555-0199 # billing",
            replaced(20, '    text: "Questions? Call: 555-0199 # billing"'),
        ),
    ],
)
def test_set_changes_only_its_own_line(
    run_pops: Run, repo: Path, riverside: Path, key: str, value: str, expected: str
) -> None:
    proc = run_pops("set", "riverside", key, value, cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == f"groups/riverside.yaml: set {key}\n"
    assert riverside.read_text(encoding="utf-8") == expected


def test_set_result_reads_back_as_the_value_and_validates(
    run_pops: Run, repo: Path, riverside: Path
) -> None:
    for key, value in [
        ("authentication.mfa.success_role", "authorized_patient"),
        ("authentication.mfa.sms_message", "Riverside Clinic code: ${mfa.code}"),
        ("authentication.mfa.email_subject", "Your code"),
        ("authentication.mfa.email_body", "Hi,\n  indented ${mfa.code}\n\n"),
        ("notifications.email_from", "no-reply@riverside.example"),
        ("authentication.mfa.enabled", "true"),
        ("look_and_feel.show_procedures", "code_and_description"),
    ]:
        proc = run_pops("set", "riverside", key, value, cwd=repo)
        assert proc.returncode == 0, (key, proc.stdout, proc.stderr)
    doc, problems = load_bytes(riverside.read_bytes(), "riverside.yaml")
    assert doc is not None and problems == []
    mfa = doc.data["authentication"]["mfa"]
    assert mfa["email_body"] == "Hi,\n  indented ${mfa.code}\n\n"
    assert mfa["sms_message"] == "Riverside Clinic code: ${mfa.code}"
    # Every other line of the original file is still there, in order, untouched.
    lines = riverside.read_text(encoding="utf-8").split("\n")
    assert "    enabled: true" in lines
    positions = [lines.index(line) for line in LINES if line and line != "    enabled: false"]
    assert positions == sorted(positions)
    proc = run_pops("validate", cwd=repo)
    assert (proc.returncode, proc.stdout) == (0, "no problems found\n")


def test_set_refuses_an_invalid_value_and_leaves_the_file_alone(
    run_pops: Run, repo: Path, riverside: Path
) -> None:
    before = riverside.read_bytes()
    proc = run_pops("set", "riverside", "look_and_feel.footer.phone", "2125550199", cwd=repo)
    assert proc.returncode == 1
    assert riverside.read_bytes() == before
    first = proc.stdout.splitlines()[0]
    assert first.startswith("groups/riverside.yaml:20:12: error: look_and_feel.footer.phone: ")
    assert first.endswith("[type-string]")
    assert proc.stdout.splitlines()[-1] == "1 error, 0 warnings"
    assert proc.stderr == "groups/riverside.yaml was not changed: the result would be invalid\n"


def test_set_refuses_a_value_that_breaks_a_rule(run_pops: Run, repo: Path, riverside: Path) -> None:
    before = riverside.read_bytes()
    proc = run_pops("set", "riverside", "authentication.mfa.required", "true", cwd=repo)
    assert proc.returncode == 1
    assert riverside.read_bytes() == before
    assert "[mfa-required-without-enabled]" in proc.stdout
    proc = run_pops("set", "riverside", "payments.credit_card", "yes", cwd=repo)
    assert proc.returncode == 1
    assert riverside.read_bytes() == before
    assert "[type-bool]" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("riverside", "primary", "#000"), "did you mean `theme.colors.primary`?"),
        (("riverside", "theme.colours.primary", "#000"), "did you mean `theme.colors`?"),
        (("riverside", "theme", "dark"), "`theme` is a section; set one of its keys:"),
        (("riverside", "name.first", "x"), "`name` is a value, not a section"),
        (("nowhere", "name", "x"), "no group file groups/nowhere.yaml"),
    ],
)
def test_set_usage_errors_exit_2(
    run_pops: Run, repo: Path, riverside: Path, args: tuple[str, ...], message: str
) -> None:
    proc = run_pops("set", *args, cwd=repo)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert riverside.read_text(encoding="utf-8") == RIVERSIDE


def test_set_prints_warnings_but_writes(run_pops: Run, repo: Path, riverside: Path) -> None:
    proc = run_pops("set", "riverside", "payments.credit_card", "false", cwd=repo)
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == [
        "groups/riverside.yaml:15:3: warning: payments: no payment method is switched on, so "
        "patients cannot pay; set credit_card, apple_pay or google_pay to true under payments "
        "[payment-none]",
        "0 errors, 1 warning",
        "groups/riverside.yaml: set payments.credit_card",
    ]
    assert riverside.read_text(encoding="utf-8") == replaced(14, "  credit_card: false")


def test_set_same_value_changes_nothing(run_pops: Run, repo: Path, riverside: Path) -> None:
    proc = run_pops("set", "riverside", "payments.credit_card", "true", cwd=repo)
    assert proc.returncode == 0
    assert "already has that value; nothing changed" in proc.stderr
    assert riverside.read_text(encoding="utf-8") == RIVERSIDE


def test_set_keeps_crlf_line_ends_and_permissions(run_pops: Run, repo: Path) -> None:
    path = write_group(repo, "windows", RIVERSIDE.replace("\n", "\r\n").encode())
    path.chmod(0o640)
    proc = run_pops("set", "windows", "payments.require_cvv", "true", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    expected = inserted(16, "  require_cvv: true").replace("\n", "\r\n")
    assert path.read_bytes() == expected.encode()
    assert path.stat().st_mode & 0o777 == 0o640


def test_set_fills_an_empty_section(run_pops: Run, repo: Path) -> None:
    path = write_group(
        repo, "bare", "name: Bare\ntheme:   # to do\npayments:\n  credit_card: true\n"
    )
    proc = run_pops("set", "bare", "theme.colors.primary", "#0B5CAD", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert path.read_text(encoding="utf-8") == (
        'name: Bare\ntheme:   # to do\n  colors:\n    primary: "#0B5CAD"\n'
        "payments:\n  credit_card: true\n"
    )


NIGHT = """\
name: Night Clinic
payments:
  credit_card: true
authentication:
  mfa:
    enabled: true
    success_role: authorized_patient
    sms_message: "Night Clinic code ${mfa.code}"
notifications:
  email_from: no-reply@night.example.com
"""


def test_set_several_pairs_at_once_adds_values_that_need_each_other(
    run_pops: Run, repo: Path
) -> None:
    path = write_group(repo, "night", NIGHT)
    # A subject alone is refused, at the line of the file as it is on disk (`mfa:`), not
    # at the line the subject would have had.
    proc = run_pops("set", "night", "authentication.mfa.email_subject", "Your code", cwd=repo)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "groups/night.yaml:5:3: error: authentication.mfa.email_subject: the MFA email has a "
        "subject but no email_body; add a body containing ${mfa.code} (the value given on the "
        "command line for authentication.mfa.email_subject) [mfa-email-incomplete]",
        "1 error, 0 warnings",
    ]
    assert path.read_text(encoding="utf-8") == NIGHT
    # Subject and body in one call: applied and checked together.
    proc = run_pops(
        "set",
        "groups/night.yaml",
        "authentication.mfa.email_subject",
        "Your code",
        "authentication.mfa.email_body",
        "Code: ${mfa.code}",
        cwd=repo,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == (
        "groups/night.yaml: set authentication.mfa.email_subject, authentication.mfa.email_body\n"
    )
    lines = NIGHT.split("\n")
    assert path.read_text(encoding="utf-8") == "\n".join(
        [
            *lines[:7],
            "    email_subject: Your code",
            '    email_body: "Code: ${mfa.code}"',
            *lines[7:],
        ]
    )
    assert run_pops("validate", "--strict", cwd=repo).returncode == 0


def test_set_several_pairs_is_all_or_nothing_with_lines_on_disk(
    run_pops: Run, repo: Path, riverside: Path
) -> None:
    before = riverside.read_bytes()
    proc = run_pops(
        "set",
        "riverside",
        "theme.dark",
        "true",  # written above the colours: every line below it moves in the edited text
        "look_and_feel.footer.phone",
        "2125550199",
        "payments.apple_pay",
        "7",
        cwd=repo,
    )
    assert proc.returncode == 1
    assert riverside.read_bytes() == before
    given = "(the value given on the command line for"
    assert proc.stdout.splitlines() == [
        # Lines of colours below `dark:` (the edit moves them down by one in the text).
        "groups/riverside.yaml:11:14: error: theme.colors.primary: primary #1565c0 text on "
        "surface #1e1e1e has contrast 2.90:1, under the 4.5:1 WCAG AA asks for text; patients "
        'see it in VBtn, VAlert, VChip variant="text", "outlined" or "plain"; `text-primary` '
        "links, in a VCard or VSheet (buttons and links); 4 other pairs fail too; the nearest "
        'primary of the same hue that passes is "#4893f2" [contrast-low]',
        "groups/riverside.yaml:12:13: warning: theme.colors.accent: accent #9a5300 text on its "
        "tonal background #2d241a (accent at 12% over surface #1e1e1e) has contrast 2.61:1, "
        "under the 4.5:1 WCAG AA asks for text; patients see it in VAlert, "
        'VBtn variant="tonal", VChip (tonal by default), in a VCard or VSheet (highlights); '
        '4 other pairs fail too; the nearest accent of the same hue that passes is "#cc8040" '
        "[contrast-aa]",
        # A key not on disk yet: its section's line.
        "groups/riverside.yaml:14:1: error: payments.apple_pay: expected true or false, got a "
        f"number `7` {given} payments.apple_pay) [type-bool]",
        # A key on disk: its current value's place.
        "groups/riverside.yaml:20:12: error: look_and_feel.footer.phone: `2125550199` is read "
        'as a number; quote it to keep it as text: "2125550199" '
        f"{given} look_and_feel.footer.phone) [type-string]",
        "3 errors, 1 warning",
    ]
    assert proc.stderr == "groups/riverside.yaml was not changed: the result would be invalid\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("riverside", "name"), "give KEY VALUE pairs: each key is followed by its value (got 1"),
        (("riverside",), "give KEY VALUE pairs"),
        (("riverside", "name", "X", "theme.dark"), "(got 3 arguments after riverside)"),
        (("riverside", "name", "X", "name", "Y"), "`name` is given twice; give each key once"),
        (("groups/nowhere.yaml", "name", "X"), "no group file groups/nowhere.yaml"),
    ],
)
def test_set_pairs_usage_errors_exit_2(
    run_pops: Run, repo: Path, riverside: Path, args: tuple[str, ...], message: str
) -> None:
    proc = run_pops("set", *args, cwd=repo)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert riverside.read_text(encoding="utf-8") == RIVERSIDE


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("5", 5),
        ("~", None),
        ("yes", "yes"),  # a string: the model then says "write true or false"
        ('"5"', "5"),
        ("'quoted'", "quoted"),
        ("#1976d2", "#1976d2"),
        ("+1 212 555 0199", "+1 212 555 0199"),
        ("a: b", "a: b"),
        ("[1, 2]", "[1, 2]"),
        ("text # not a comment", "text # not a comment"),
        ("two\nlines", "two\nlines"),
    ],
)
def test_values_are_read_like_yaml_scalars(text: str, value: Any) -> None:
    assert parse_value(text) == value
    assert type(parse_value(text)) is type(value)


def test_resolve_key_accepts_every_model_key() -> None:
    for path in leaf_paths():
        assert resolve_key(".".join(path)) == path
    with pytest.raises(EditError, match="unknown key `colour`"):
        resolve_key("theme.colour")


# --- pops new ---


def comment_text(lines: list[str]) -> str:
    return " ".join(line.strip().removeprefix("#").strip() for line in lines)


_COMMENTED_KEY = re.compile(r"^( *)# ( *)([a-z_]+:(?: .*)?)$")
_COMMENTED_HELP = re.compile(r"^( *)# ( +# .*)$")


def uncommented(text: str) -> str:
    """`text` with every commented-out key (and the help inside commented sections)
    uncommented, the way an admin would take a key into use."""
    out = []
    for line in text.split("\n"):
        match = _COMMENTED_KEY.match(line) or _COMMENTED_HELP.match(line)
        out.append("".join(match.groups()) if match else line)
    return "\n".join(out)


def test_new_writes_only_the_name_and_lists_every_other_key_commented(
    run_pops: Run, repo: Path
) -> None:
    proc = run_pops("new", "river-clinic", "--name", "River Clinic", cwd=repo)
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0,
        "created groups/river-clinic.yaml\n",
        "",
    )
    path = repo / "groups" / "river-clinic.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.split("\n")[0] == f"{MODELINE}../schema/group.schema.json"
    doc, problems = load_bytes(text.encode(), "river-clinic.yaml")
    assert doc is not None and problems == []
    # Live: the name, and credit card (no shared default switches a payment method on, and
    # a group without one draws a warning).
    assert doc.data == {"name": "River Clinic", "payments": {"credit_card": True}}
    lines = text.split("\n")
    assert lines[lines.index("payments:") - 2 : lines.index("payments:") + 5] == [
        "",
        "# Payment options. Every option is off unless switched on.",
        "payments:",
        "  # Enable Apple Pay: Offer Apple Pay (Safari, macOS and iOS). Apple Pay must also be "
        "activated for",
        "  # the practice in the payment gateway.",
        "  # apple_pay: false",
        "  # Enable Credit Card Transactions: Let patients pay by credit card.",
    ]
    primary = LIGHT_PALETTE["primary"]
    assert f'#     primary: "{primary}"' in lines  # commented out, with its default
    assert "#   logo_url: https://cdn.example.com/sunrise/logo.png" in lines  # or an example
    # Every other key is there: uncommented, each sits below its help text.
    full = uncommented(text)
    doc, problems = load_bytes(full.encode(), "river-clinic.yaml")
    assert doc is not None and problems == []
    lines = full.split("\n")
    for path_ in leaf_paths():
        assert doc.written(path_), f"{'.'.join(path_)} is missing from the scaffold"
        line = doc.keys[path_][0] - 1
        above = []
        while lines[line - 1].lstrip().startswith("#"):
            line -= 1
            above.insert(0, lines[line])
        model: Any = Group
        for part in path_[:-1]:
            model = model.model_fields[part].annotation
        info = next(i for n, i in model.model_fields.items() if (i.alias or n) == path_[-1])
        assert " ".join(info.description.split()) in comment_text(above), path_
    # Valid for the compiler (even with --strict), for editors, and already formatted.
    proc = run_pops("validate", "--strict", cwd=repo)
    assert (proc.returncode, proc.stdout) == (0, "no problems found\n")
    data = YAML(typ="safe", pure=True).load(text)
    assert list(Draft7Validator(group_schema()).iter_errors(data)) == []
    proc = run_pops("fmt", "--check", cwd=repo)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_new_refuses_to_overwrite(run_pops: Run, repo: Path, riverside: Path) -> None:
    proc = run_pops("new", "riverside", "--name", "Other", cwd=repo)
    assert proc.returncode == 1
    assert proc.stderr == (
        "groups/riverside.yaml already exists; change it with `pops set riverside KEY VALUE`\n"
    )
    assert riverside.read_text(encoding="utf-8") == RIVERSIDE


def test_new_rejects_a_bad_slug_and_a_bad_name(run_pops: Run, repo: Path) -> None:
    proc = run_pops("new", "River_Clinic", "--name", "River", cwd=repo)
    assert proc.returncode == 2
    assert "Invalid value for SLUG" in proc.stderr
    proc = run_pops("new", "river", "--name", "x" * 101, cwd=repo)
    assert proc.returncode == 1
    assert "[text-too-long]" in proc.stdout
    assert proc.stderr == "groups/river.yaml was not created\n"
    assert list((repo / "groups").iterdir()) == []


def test_new_quotes_a_name_yaml_would_misread(run_pops: Run, repo: Path) -> None:
    name = 'Dr. O\'Brien: "Kids" # 1'
    proc = run_pops("new", "obrien", "--name", name, cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (repo / "groups" / "obrien.yaml").read_text(encoding="utf-8")
    assert 'name: "Dr. O\'Brien: \\"Kids\\" # 1"\n' in text
    doc, _ = load_bytes(text.encode(), "obrien.yaml")
    assert doc is not None and doc.data["name"] == name


def test_new_points_the_modeline_at_the_schema_from_another_groups_folder(
    run_pops: Run, tmp_path: Path
) -> None:
    proc = run_pops("new", "x", "--name", "X", "--groups", "site/groups", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "site" / "groups" / "x.yaml").read_text(encoding="utf-8")
    assert text.startswith(f"{MODELINE}../../schema/group.schema.json\n")


# --- pops fmt ---

MESSY = """\
# header comment
# yaml-language-server: $schema=../schema/group.schema.json
payments:    # pay
    # storage comment
    payment_method_storage: false
    credit_card: true   # card!
theme:
      colors:
          primary: '#1565C0'   # brand
          background: "#fff"
      # dark comment
      dark: false
name:   "Messy Clinic"
authentication:
    mfa:
        sms_message: "Code: ${mfa.code}"
        email_body: |2
             indented first
           Code ${mfa.code}

        enabled: true
        email_subject: >-
          Your
          code
        success_role: role_x
        # trailing mfa comment
    # trailing auth comment
notifications: {email_from: a@example.com}
# end of file comment
"""

TIDY = """\
# header comment
# yaml-language-server: $schema=../schema/group.schema.json
name: "Messy Clinic"
theme:
  # dark comment
  dark: false
  colors:
    background: "#fff"
    primary: '#1565C0'   # brand
payments:    # pay
  credit_card: true   # card!
  # storage comment
  payment_method_storage: false
authentication:
  mfa:
    enabled: true
    success_role: role_x
    email_subject: >-
      Your
      code
    email_body: |2
         indented first
       Code ${mfa.code}
    sms_message: "Code: ${mfa.code}"
    # trailing mfa comment
  # trailing auth comment
notifications: {email_from: a@example.com}
# end of file comment
"""


def test_fmt_orders_keys_and_indents_keeping_comments(run_pops: Run, repo: Path) -> None:
    path = write_group(repo, "messy", MESSY)
    proc = run_pops("fmt", "--check", cwd=repo)
    assert (proc.returncode, proc.stdout) == (1, "would reformat groups/messy.yaml\n")
    assert proc.stderr == "1 file(s) would be reformatted; run `pops fmt`\n"
    assert path.read_text(encoding="utf-8") == MESSY  # --check writes nothing

    proc = run_pops("fmt", cwd=repo)
    assert (proc.returncode, proc.stdout) == (0, "reformatted groups/messy.yaml\n")
    assert path.read_text(encoding="utf-8") == TIDY

    proc = run_pops("fmt", cwd=repo)  # idempotent
    assert (proc.returncode, proc.stdout) == (0, "")
    assert path.read_text(encoding="utf-8") == TIDY
    proc = run_pops("fmt", "--check", "groups/messy.yaml", cwd=repo)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_fmt_never_changes_a_value() -> None:
    before, _ = load_bytes(MESSY.encode(), "m.yaml")
    after, _ = load_bytes(TIDY.encode(), "m.yaml")
    assert before is not None and after is not None
    assert before.data == after.data


@pytest.mark.parametrize("path", sorted((REPO / "groups").glob("*.yaml")), ids=lambda p: p.name)
def test_fmt_keeps_sample_groups_values_and_is_idempotent(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    once = format_text(text)
    assert format_text(once) == once
    before, _ = load_bytes(text.encode(), path.name)
    after, _ = load_bytes(once.encode(), path.name)
    assert before is not None and after is not None
    assert after.data == before.data

    def comments(source: str) -> list[str]:
        return sorted(line.strip() for line in source.split("\n") if line.lstrip().startswith("#"))

    assert comments(once) == comments(text)


def test_fmt_reports_a_file_it_cannot_read_and_leaves_it(run_pops: Run, repo: Path) -> None:
    bad = write_group(repo, "bad", "name: [unclosed\n")
    good = write_group(repo, "good", "payments:\n    credit_card: true\nname: Good\n")
    proc = run_pops("fmt", cwd=repo)
    assert proc.returncode == 1
    assert re.match(r"groups/bad\.yaml: cannot format: the file does not load", proc.stderr)
    assert proc.stdout == "reformatted groups/good.yaml\n"
    assert bad.read_text(encoding="utf-8") == "name: [unclosed\n"
    assert good.read_text(encoding="utf-8") == "name: Good\npayments:\n  credit_card: true\n"


@pytest.mark.parametrize(
    "settings",
    [{}, {("payments", "credit_card"): True}, {("authentication", "mfa", "enabled"): False}],
)
def test_scaffold_is_already_formatted(settings: dict[tuple[str, ...], Any]) -> None:
    text = scaffold("x", "X", "../schema/group.schema.json", settings)
    assert format_text(text) == text
    doc, _ = load_bytes(text.encode(), "x.yaml")
    assert doc is not None
    assert {p: v for p, v in leaves_of(doc.data)} == {("name",): "X", **settings}


def leaves_of(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[Any, Any]]:
    out: list[tuple[Any, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            out += leaves_of(value, (*prefix, key))
        else:
            out.append(((*prefix, key), value))
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # `|+` keeps its trailing blank lines, also when moved to the end of the file
            "name: A\nauthentication:\n    mfa:\n        email_body: |+\n            a\n\n\n"
            "            b\n\n\n        enabled: false\n",
            "name: A\nauthentication:\n  mfa:\n    enabled: false\n    email_body: |+\n"
            "      a\n\n\n      b\n\n\n",
        ),
        (  # a line of spaces inside a literal block is text
            "name: A\nauthentication:\n  mfa:\n    email_body: |\n      a\n       \n      b\n",
            "name: A\nauthentication:\n  mfa:\n    email_body: |\n      a\n       \n      b\n",
        ),
        (  # blank lines inside a folded block and a quoted string are text
            "authentication:\n  mfa:\n    email_body: >\n      folded\n\n\n      para\n"
            'name: "a\n\n\n  b"\n',
            'name: "a\n\n\n  b"\nauthentication:\n  mfa:\n    email_body: >\n      folded\n\n\n'
            "      para\n",
        ),
        (  # CRLF and a BOM are dropped; blank-line runs shrink to one
            "\ufeffname: A\r\n\r\n\r\n\r\npayments:\r\n   credit_card: true\r\n\r\n",
            "name: A\n\npayments:\n  credit_card: true\n",
        ),
    ],
)
def test_fmt_keeps_text_values_exactly(text: str, expected: str) -> None:
    assert format_text(text) == expected
    assert format_text(expected) == expected
    before, _ = load_bytes(text.encode(), "x.yaml")
    after, _ = load_bytes(expected.encode(), "x.yaml")
    assert before is not None and after is not None and before.data == after.data


def test_new_group_follows_later_changes_to_shared_defaults(run_pops: Run, repo: Path) -> None:
    defaults = repo / "groups" / "_defaults.yaml"
    defaults.write_text(
        "payments:\n  credit_card: true\n  require_cvv: true\n"
        'theme:\n  colors:\n    primary: "#283593"\n',
        encoding="utf-8",
    )
    proc = run_pops("new", "x", "--name", "X", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (repo / "groups" / "x.yaml").read_text(encoding="utf-8")
    doc, _ = load_bytes(text.encode(), "x.yaml")
    assert doc is not None and doc.data == {"name": "X"}  # the defaults pay by card already
    assert "#   credit_card: false" in text.split("\n")  # the built-in default, shown
    assert run_pops("validate", "--strict", cwd=repo).returncode == 0
    assert run_pops("fmt", "--check", "groups/x.yaml", cwd=repo).returncode == 0
    proc = run_pops("explain", "x", "payments.require_cvv", cwd=repo)
    assert proc.stdout.startswith("payments.require_cvv = true  <- groups/_defaults.yaml:3:16")
    # The shared defaults change after the group was created: the group follows.
    defaults.write_text(
        'payments:\n  apple_pay: true\ntheme:\n  colors:\n    primary: "#00695c"\n',
        encoding="utf-8",
    )
    proc = run_pops("build", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    config = json.loads((repo / "dist/groups/x/config.json").read_text(encoding="utf-8"))
    assert config["theme"]["colors"]["primary"] == "#00695c"
    assert config["payments"]["applePay"] is True
    assert config["payments"]["creditCard"] is False
    assert config["payments"]["requireCvv"] is False


def test_set_on_a_new_group_puts_each_key_below_its_commented_out_line(
    run_pops: Run, repo: Path
) -> None:
    assert run_pops("new", "x", "--name", "X", cwd=repo).returncode == 0
    (repo / "groups" / "_brand.yaml").write_text("theme:\n  dark: false\n", encoding="utf-8")
    path = repo / "groups" / "x.yaml"
    before = path.read_text(encoding="utf-8").split("\n")
    proc = run_pops(
        "set",
        "x",
        "authentication.mfa.enabled",
        "true",
        "authentication.mfa.success_role",
        "authorized_patient",
        "authentication.mfa.sms_message",
        "X code ${mfa.code}",
        "payments.require_cvv",
        "true",
        "extends",
        "brand",
        "theme.colors.primary",
        "#0b5cad",
        cwd=repo,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # A key goes below its commented-out line (a section below its commented-out keys),
    # so it stays beside its help text; the comments stay as they were.
    expected = list(before)
    for after_line, new in reversed(
        [
            ("# extends: riverside-chain", ["extends: brand"]),
            (
                f'#     warning: "{LIGHT_PALETTE["warning"]}"',
                ["theme:", "  colors:", '    primary: "#0b5cad"'],
            ),
            ("  # require_cvv: false", ["  require_cvv: true"]),
            (
                "#     sms_origin: portal.example.com",
                [
                    "authentication:",
                    "  mfa:",
                    "    enabled: true",
                    "    success_role: authorized_patient",
                    "    sms_message: X code ${mfa.code}",
                ],
            ),
        ]
    ):
        at = before.index(after_line) + 1
        expected[at:at] = new
    assert path.read_text(encoding="utf-8").split("\n") == expected
    assert run_pops("validate", "--strict", cwd=repo).returncode == 0
    assert run_pops("fmt", "--check", "groups/x.yaml", cwd=repo).returncode == 0

"""Messages carriers and phones accept: SMS encoding and segments, the sender's name,
the origin-bound line, one-line subjects, and placeholders nothing fills in.

Through the installed `pops` wherever a patient would see the difference; the
segment arithmetic also directly, at the exact boundaries where it changes.
"""

from __future__ import annotations

import json
import subprocess
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from conftest import write_group

from compiler.rules.sms_too_long import gsm7_replacement, sms_cost

CODE = "${mfa.code}"
# Lines 1-9: a clean group with MFA on and a role, the SMS keys follow from line 10.
MFA = (
    "name: Sunrise Pediatrics\npayments:\n  credit_card: true\n"
    "notifications:\n  email_from: no-reply@example.com\n"
    "authentication:\n  mfa:\n    enabled: true\n    success_role: authorized_patient\n"
)

Row = tuple[str, str, str, int, int]


def q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def validate(run_pops: Any, repo: Path, *args: str) -> tuple[int, list[Row], list[str]]:
    proc: subprocess.CompletedProcess[str] = run_pops(
        "validate", "--format", "json", *args, cwd=repo
    )
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    rows = [
        (d["severity"], d["code"], d["path"], d["line"], d["column"]) for d in report["diagnostics"]
    ]
    return proc.returncode, rows, [d["message"] for d in report["diagnostics"]]


# --- segment arithmetic ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        # An extension character (2 septets) never straddles two segments: 152 + 2 > 153.
        ("a" * 152 + "€" + "a" * 10, "GSM-7", 164, 2),
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),  # not 306 / 153 = 2
        ("é" * 160, "GSM-7", 160, 1),
        ("’" + "a" * 69, "UCS-2", 70, 1),
        ("’" + "a" * 70, "UCS-2", 71, 2),
        ("a" * 134, "GSM-7", 134, 1),
        ("’" + "a" * 133, "UCS-2", 134, 2),
        ("’" + "a" * 134, "UCS-2", 135, 3),
        # A surrogate pair (2 UTF-16 units) is never cut: 66 + 2 > 67 starts segment 2.
        ("’" + "a" * 65 + "😀" + "a" * 10, "UCS-2", 78, 2),
        ("’" + "a" * 65 + "😀" + "a" * 66, "UCS-2", 134, 3),  # not 134 / 67 = 2
    ],
)
def test_sms_cost_is_exact_at_segment_boundaries(
    text: str, encoding: str, units: int, segments: int
) -> None:
    cost = sms_cost(text)
    assert (cost.encoding, cost.units, cost.segments) == (encoding, units, segments)


def test_sms_cost_names_every_character_that_forces_ucs2_once() -> None:
    assert sms_cost("“Hi” — it’s 🔐 ’").forcing == ("“", "”", "—", "’", "🔐")
    assert sms_cost("Plain [GSM] text €").forcing == ()


@pytest.mark.parametrize(
    ("char", "replacement"),
    [("’", "'"), ("“", '"'), ("—", "-"), ("…", "..."), ("\u00a0", " "), ("á", "a"), ("ç", "Ç")],
)
def test_gsm7_replacements_are_gsm7(char: str, replacement: str) -> None:
    assert gsm7_replacement(char) == replacement
    assert sms_cost(replacement).encoding == "GSM-7"


def test_emoji_has_no_gsm7_replacement() -> None:
    assert gsm7_replacement("🔐") is None


# --- sms-too-long, through pops ---------------------------------------------------------


def test_long_ucs2_sms_names_the_characters_and_their_fixes(run_pops: Any, repo: Path) -> None:
    sms = "Sunrise Pediatrics: it’s your code 🔐 " + CODE + " " + "a" * 40
    write_group(repo, "s", MFA + f"    sms_message: {q(sms)}\n")
    status, rows, messages = validate(run_pops, repo)
    assert status == 0
    assert rows == [("warning", "sms-too-long", "authentication.mfa.sms_message", 10, 18)]
    assert messages[0] == (
        "the SMS is 87 UCS-2 characters with an 8-digit code, over the 70 that fit in one "
        "segment: it would go out as 2 segments; it needs UCS-2 because of ’ (U+2019, "
        'write "\'"), 🔐 (U+1F510, no GSM-7 equivalent); shorten it'
    )
    status, rows, _ = validate(run_pops, repo, "--strict")
    assert status == 1
    assert rows == [("error", "sms-too-long", "authentication.mfa.sms_message", 10, 18)]


def test_the_origin_line_counts_toward_the_segment(run_pops: Any, repo: Path) -> None:
    # 122 + 8 digits fits alone; with "\n\n@portal.example.com #12345678" (31) it does not.
    sms = "Sunrise Pediatrics " + "a" * 103 + CODE
    write_group(repo, "s", MFA + f"    sms_message: {q(sms)}\n")
    assert validate(run_pops, repo)[1] == []
    write_group(repo, "s", MFA + f"    sms_message: {q(sms)}\n    sms_origin: portal.example.com\n")
    _, rows, messages = validate(run_pops, repo)
    assert rows == [("warning", "sms-too-long", "authentication.mfa.sms_message", 10, 18)]
    assert "159" not in messages[0]
    assert messages[0].startswith(
        "the SMS is 161 GSM-7 characters with an 8-digit code and the origin line,"
    )


# --- sms-sender-missing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ('    sms_message: "Sunrise Pediatrics code: ${mfa.code}"\n', None),
        ('    sms_message: "SUNRISE PEDIATRICS code: ${mfa.code}"\n', None),
        (
            '    sms_message: "Sunrise Peds code: ${mfa.code}"\n'
            "    sms_sender_name: Sunrise Peds\n",
            None,
        ),
        ('    sms_message: "Your code: ${mfa.code}"\n', "does not name the practice"),
        (
            '    sms_message: "Sunrise Pediatrics: ${mfa.code}"\n    sms_sender_name: Sunny\n',
            'does not contain the sender name "Sunny"',
        ),
    ],
    ids=["name", "name-any-case", "short-name", "nobody", "short-name-missing"],
)
def test_sms_names_the_practice(run_pops: Any, repo: Path, keys: str, expected: str | None) -> None:
    write_group(repo, "s", MFA + keys)
    status, rows, messages = validate(run_pops, repo)
    assert status == 0
    if expected is None:
        assert rows == []
        return
    assert rows == [("warning", "sms-sender-missing", "authentication.mfa.sms_message", 10, 18)]
    assert expected in messages[0]
    assert "sms_sender_name" in messages[0]


# --- sms_origin ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "host"),
    [
        ("portal.example.com", "portal.example.com"),
        ("Portal.EXAMPLE.com", "portal.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_sms_origin_adds_the_origin_bound_line_last(
    run_pops: Any, repo: Path, written: str, host: str
) -> None:
    write_group(
        repo,
        "s",
        MFA + '    sms_message: "Sunrise Pediatrics code: ${mfa.code}"\n'
        f"    sms_origin: {written}\n",
    )
    proc = run_pops("build", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    sms = (repo / "dist/groups/s/mfa/sms.txt").read_text(encoding="utf-8")
    assert sms == f"Sunrise Pediatrics code: {CODE}\n\n@{host} #{CODE}\n"
    # The WebOTP form: the last line is "@host #code", the code as the sender fills it in.
    assert sms.rstrip("\n").splitlines()[-1] == f"@{host} #{CODE}"
    config = json.loads((repo / "dist/groups/s/config.json").read_text(encoding="utf-8"))
    assert config["authentication"]["mfa"]["smsOrigin"] == host


@pytest.mark.parametrize(
    "host",
    [
        "https://portal.example.com",
        "portal.example.com:443",
        "portal.example.com/pay",
        "localhost",
        "10.0.0.1",
        "-portal.example.com",
        "por tal.example.com",
        "portal..example.com",
        "a" * 64 + ".example.com",
    ],
)
def test_sms_origin_must_be_a_host(run_pops: Any, repo: Path, host: str) -> None:
    write_group(
        repo,
        "s",
        MFA + '    sms_message: "Sunrise Pediatrics code: ${mfa.code}"\n'
        f"    sms_origin: {q(host)}\n",
    )
    status, rows, messages = validate(run_pops, repo)
    assert status == 1
    assert rows == [("error", "host-invalid", "authentication.mfa.sms_origin", 11, 17)]
    assert "write only the host, e.g. portal.example.com" in messages[0]


def test_a_hand_written_origin_line_is_refused(run_pops: Any, repo: Path) -> None:
    sms = "Sunrise Pediatrics code: ${mfa.code}\n\n@portal.example.com #${mfa.code}"
    write_group(repo, "s", MFA + f"    sms_message: {q(sms)}\n")
    status, rows, messages = validate(run_pops, repo)
    assert status == 1
    assert rows == [("error", "sms-origin-line", "authentication.mfa.sms_message", 10, 18)]
    assert "sms_origin: portal.example.com" in messages[0]


# --- the email subject ----------------------------------------------------------------------

SUBJECT = "    email_body: 'Code ${mfa.code}'\n    email_subject: "


def test_subject_of_78_characters_passes_and_79_fails(run_pops: Any, repo: Path) -> None:
    write_group(repo, "s", MFA + SUBJECT + "s" * 78 + "\n")
    assert validate(run_pops, repo)[:2] == (0, [])
    write_group(repo, "s", MFA + SUBJECT + "s" * 79 + "\n")
    status, rows, messages = validate(run_pops, repo)
    assert status == 1
    assert rows == [("error", "text-too-long", "authentication.mfa.email_subject", 11, 20)]
    assert messages[0] == "is 79 characters long; the limit is 78"


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
def test_unicode_line_separators_break_a_subject(run_pops: Any, repo: Path, separator: str) -> None:
    subject = f"Your code{separator}from Sunrise"
    with pytest.raises(ValueError):  # what a sender that uses Python's email package meets
        EmailMessage()["Subject"] = subject
    write_group(repo, "s", MFA + SUBJECT + q(subject) + "\n")
    status, rows, messages = validate(run_pops, repo)
    assert status == 1
    assert rows == [("error", "mfa-subject-line-break", "authentication.mfa.email_subject", 11, 20)]
    assert messages[0] == (
        f"email_subject contains a line separator (U+{ord(separator):04X}); "
        "write the subject on one line"
    )


def test_every_subject_pops_accepts_makes_a_header(run_pops: Any, repo: Path) -> None:
    subject = "Sunrise Pediatrics — your sign-in code ${mfa.code} (valid 10 minutes) ✓"
    write_group(repo, "s", MFA + SUBJECT + q(subject) + "\n")
    assert validate(run_pops, repo)[:2] == (0, [])
    assert run_pops("build", cwd=repo).returncode == 0
    built = (repo / "dist/groups/s/mfa/email-subject.txt").read_text(encoding="utf-8")
    message = EmailMessage()
    message["Subject"] = built.rstrip("\n")
    assert message["Subject"] == subject


# --- placeholders outside the MFA messages ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "row"),
    [
        (
            "name: Sunrise ${practice}\npayments:\n  credit_card: true\n",
            ("error", "text-placeholder", "name", 1, 7),
        ),
        (
            "name: Sunrise\npayments:\n  credit_card: true\nlook_and_feel:\n  footer:\n"
            "    text: 'Call ${practice.phone}'\n",
            ("error", "text-placeholder", "look_and_feel.footer.text", 6, 11),
        ),
        (
            MFA + '    sms_message: "Sunrise Pediatrics ${mfa.code}"\n'
            "    sms_sender_name: ${mfa.code}\n",
            ("error", "text-placeholder", "authentication.mfa.sms_sender_name", 11, 22),
        ),
    ],
    ids=["name", "footer", "sender-name"],
)
def test_placeholders_in_admin_text_are_refused(
    run_pops: Any, repo: Path, text: str, row: Row
) -> None:
    write_group(repo, "s", text)
    status, rows, messages = validate(run_pops, repo)
    assert status == 1
    assert row in rows
    assert [r for r in rows if r[1] == "text-placeholder"] == [row]
    message = messages[rows.index(row)]
    assert "which nothing fills in" in message

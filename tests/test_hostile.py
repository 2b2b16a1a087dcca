"""Admin text is data: escaped in HTML, literal elsewhere, never run as a template.

A colour is only ever `#rgb`/`#rrggbb`: anything that could break out of a CSS
declaration is refused before it reaches theme.css.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import write_group

SCRIPT = "<script>alert(1)</script>"
JINJA = "{{ 7*7 }}"
RAW = "{% raw %}"
ATTR = '"><img src=x onerror=alert(1)>'
HOSTILE = f"{SCRIPT} {JINJA} {RAW} & 'q' {ATTR}"
CODE = "${mfa.code}"


def q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


GROUP = f"""\
name: {q("Evil " + HOSTILE)}
branding:
  logo_url: https://cdn.example.com/{{{{7*7}}}}/logo.png
payments:
  credit_card: true
look_and_feel:
  footer:
    text: {q("Footer " + HOSTILE)}
    email: billing@example.com
    phone: "+1 212 555 0199"
authentication:
  mfa:
    enabled: true
    success_role: authorized_patient
    email_subject: {q("Subject " + SCRIPT + " " + JINJA + " " + CODE)}
    email_body: {q("Body " + HOSTILE + " " + CODE + chr(10) + chr(10) + "Second " + JINJA)}
    sms_message: {q("SMS " + SCRIPT + " " + JINJA + " " + RAW + " " + CODE)}
notifications:
  email_from: no-reply@example.com
"""


@pytest.fixture
def built(run_pops: Any, repo: Path) -> Path:
    write_group(repo, "evil", GROUP)
    proc: subprocess.CompletedProcess[str] = run_pops("build", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    return repo / "dist" / "groups" / "evil"


def test_html_email_escapes_every_admin_text(built: Path) -> None:
    html = (built / "mfa" / "email.html").read_text()
    for raw in (SCRIPT, "<img src=x", "onerror=alert(1)>"):
        assert raw not in html
    escaped_script = "&lt;script&gt;alert(1)&lt;/script&gt;"
    # name (header, no logo alt shown as text), footer text, body, subject in <title>
    assert html.count(escaped_script) >= 4
    assert "Footer " + escaped_script in html
    assert "Body " + escaped_script in html
    assert "<title>Subject " + escaped_script in html
    assert 'alt="Evil ' + escaped_script in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&amp; &#39;q&#39;" in html
    # never evaluated: no 49 where 7*7 was, the template syntax is still there
    assert html.count(JINJA) == 5  # name, footer, body x2, subject
    assert html.count(RAW) == 3  # name, footer, body
    assert ">49<" not in html and " 49 " not in html
    assert 'src="https://cdn.example.com/{{7*7}}/logo.png"' in html
    assert '<p style="margin:0 0 16px 0;">Second {{ 7*7 }}</p>' in html


def test_text_email_subject_and_sms_are_literal(built: Path) -> None:
    txt = (built / "mfa" / "email.txt").read_text()
    assert txt.startswith(f"Body {HOSTILE} {CODE}\n\nSecond {JINJA}\n")
    assert f"Footer {HOSTILE}\n" in txt
    assert "&lt;" not in txt and "&amp;" not in txt
    subject = (built / "mfa" / "email-subject.txt").read_text()
    assert subject == f"Subject {SCRIPT} {JINJA} {CODE}\n"
    sms = (built / "mfa" / "sms.txt").read_text()
    assert sms == f"SMS {SCRIPT} {JINJA} {RAW} {CODE}\n"


def test_config_json_carries_text_literally(built: Path) -> None:
    config = json.loads((built / "config.json").read_text())
    assert config["name"] == "Evil " + HOSTILE
    assert config["lookAndFeel"]["footer"]["text"] == "Footer " + HOSTILE
    mfa = config["authentication"]["mfa"]
    assert mfa["emailSubject"] == f"Subject {SCRIPT} {JINJA} {CODE}"
    assert mfa["emailBody"] == f"Body {HOSTILE} {CODE}\n\nSecond {JINJA}"
    assert mfa["smsMessage"] == f"SMS {SCRIPT} {JINJA} {RAW} {CODE}"
    assert config["branding"]["logoUrl"] == "https://cdn.example.com/{{7*7}}/logo.png"


def test_mfa_code_survives_verbatim_in_every_mfa_file(built: Path) -> None:
    files = sorted(p.relative_to(built).as_posix() for p in (built / "mfa").iterdir())
    assert files == ["mfa/email-subject.txt", "mfa/email.html", "mfa/email.txt", "mfa/sms.txt"]
    for name in files:
        content = (built / name).read_text()
        assert CODE in content, name
        assert "$%7B" not in content and "&#36;" not in content and "${ mfa.code }" not in content


def test_nothing_in_any_artifact_was_evaluated(built: Path) -> None:
    for path in built.rglob("*"):
        if path.is_file():
            content = path.read_text()
            assert "<script>alert" not in content or path.suffix in {".txt", ".json"}, path
            assert "{{ 7*7 }}" in content or path.name == "theme.css", path


def test_mfa_files_only_when_mfa_is_enabled(run_pops: Any, repo: Path) -> None:
    write_group(
        repo,
        "quiet",
        "name: Quiet\npayments:\n  credit_card: true\nnotifications:\n"
        "  email_from: a@example.com\nauthentication:\n  mfa:\n    enabled: false\n"
        "    email_subject: Code\n    email_body: 'Code ${mfa.code}'\n"
        "    sms_message: 'Code ${mfa.code}'\n",
    )
    proc = run_pops("build", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    group = repo / "dist" / "groups" / "quiet"
    assert sorted(p.name for p in group.iterdir()) == ["config.json", "theme.css"]
    config = json.loads((group / "config.json").read_text())
    assert config["authentication"]["mfa"]["files"] == {}


def test_sms_only_channel_writes_only_the_sms(run_pops: Any, repo: Path) -> None:
    write_group(
        repo,
        "sms",
        "name: SMS\npayments:\n  credit_card: true\nauthentication:\n  mfa:\n"
        "    enabled: true\n    success_role: patient\n    sms_message: 'Code ${mfa.code}'\n",
    )
    proc = run_pops("build", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    mfa = repo / "dist" / "groups" / "sms" / "mfa"
    assert sorted(p.name for p in mfa.iterdir()) == ["sms.txt"]
    assert (mfa / "sms.txt").read_text() == "Code ${mfa.code}\n"


@pytest.mark.parametrize(
    "value",
    [
        "#fff; } body { display:none",
        "red",
        "#12345g",
        "#ffffff}",
        "#fff;background:url(https://evil.example/x)",
        "expression(alert(1))",
        "#fff\n",
        " #ffffff",
        "#ffffff ",
        "var(--x)",
    ],
)
def test_css_injection_in_a_colour_is_rejected(run_pops: Any, repo: Path, value: str) -> None:
    write_group(
        repo,
        "sunrise",
        f"name: A\npayments:\n  credit_card: true\ntheme:\n  colors:\n    accent: {q(value)}\n",
    )
    proc = run_pops("validate", "--format", "json", cwd=repo)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert [(d["code"], d["path"], d["line"], d["column"]) for d in report["diagnostics"]] == [
        ("color-invalid", "theme.colors.accent", 6, 13)
    ]


def test_css_injection_never_reaches_theme_css(run_pops: Any, repo: Path) -> None:
    write_group(
        repo,
        "sunrise",
        "name: A\npayments:\n  credit_card: true\ntheme:\n  colors:\n"
        '    primary: "#fff; } body { display:none"\n',
    )
    proc = run_pops("build", cwd=repo)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "color-invalid" in proc.stdout
    assert not (repo / "dist").exists()


def test_theme_css_colours_are_only_hex(run_pops: Any, repo: Path) -> None:
    write_group(
        repo,
        "sunrise",
        "name: A\npayments:\n  credit_card: true\ntheme:\n  colors:\n"
        "    primary: '#0D47A1'\n    accent: '#AbC'\n",
    )
    assert run_pops("build", cwd=repo).returncode == 0
    css = (repo / "dist" / "groups" / "sunrise" / "theme.css").read_text()
    declared = dict(re.findall(r"(--pops-[a-z-]+):\s*([^;]+);", css))
    assert declared["--pops-primary"] == "#0d47a1"
    assert declared["--pops-accent"] == "#aabbcc"
    assert declared["--pops-primary-rgb"] == "13, 71, 161"
    for name, value in declared.items():
        if name.endswith("-rgb"):
            assert re.fullmatch(r"\d{1,3}, \d{1,3}, \d{1,3}", value), name
        else:
            assert re.fullmatch(r"#[0-9a-f]{6}", value), name

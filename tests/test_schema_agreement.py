"""pops and schema/group.schema.json give the same verdict on every value a schema can judge.

Hypothesis writes group files with one generated value at a time (text near its limits,
control characters and breaks, URLs, hosts, emails, phones, colours, roles) beside
values that are valid; pops (load, model and the rules about that one field) and the
committed schema (the `jsonschema` library, Draft 7) must then agree:

* pops accepts => the schema accepts, always: an editor never underlines valid input;
* the schema accepts => pops accepts, except where a schema cannot know the answer,
  each listed in BEYOND_SCHEMA: whether a phone number exists, whether an
  internationalised name (or a `xn--` label) encodes in IDNA, an IPv6 literal's
  exact grammar, and sms-origin-line (a hand-written `@host #code` line in the SMS).

Rules that read more than one field (contrast, the MFA channels, ...) are not what a
field's schema says, so their codes are left out of pops' verdict (CROSS_FIELD).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, Run, write_group
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from compiler.model import patterns
from compiler.pipeline.build import compile_group

SCHEMA = json.loads((REPO / "schema" / "group.schema.json").read_text(encoding="utf-8"))
CROSS_FIELD = frozenset(
    {
        "contrast-low",
        "theme-dark-mismatch",
        "email-from-missing",
        "mfa-channel-missing",
        "mfa-email-incomplete",
        "mfa-opposing-needs-both",
        "mfa-required-without-enabled",
        "mfa-role-missing",
    }
)
# The MFA texts are set together so that setting one never trips a cross-field rule.
BASE: dict[str, Any] = {
    "name": "Case",
    "payments": {"credit_card": True},
    "authentication": {
        "mfa": {
            "email_subject": "Your code",
            "email_body": "Your code is ${mfa.code}.",
            "sms_message": "Code ${mfa.code}",
            "sms_sender_name": "Case",
        }
    },
}
FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "sender": ("authentication", "mfa", "sms_sender_name"),
    "footer": ("look_and_feel", "footer", "text"),
    "subject": ("authentication", "mfa", "email_subject"),
    "body": ("authentication", "mfa", "email_body"),
    "sms": ("authentication", "mfa", "sms_message"),
    "origin": ("authentication", "mfa", "sms_origin"),
    "logo": ("branding", "logo_url"),
    "email": ("look_and_feel", "footer", "email"),
    "phone": ("look_and_feel", "footer", "phone"),
    "color": ("theme", "colors", "primary"),
    "role": ("authentication", "mfa", "success_role"),
}


def _yaml_string(text: str) -> str:
    """A YAML double-quoted scalar that loads back to exactly `text`."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code < 0x20 or 0x7F <= code <= 0x9F or char in "\u2028\u2029\ufeff":
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out) + '"'


def _yaml(node: Any, indent: str = "") -> str:
    lines = []
    for key, value in node.items():
        if isinstance(value, dict):
            lines.append(f"{indent}{key}:\n{_yaml(value, indent + '  ')}")
        elif isinstance(value, str):
            lines.append(f"{indent}{key}: {_yaml_string(value)}\n")
        else:
            lines.append(f"{indent}{key}: {json.dumps(value)}\n")
    return "".join(lines)


def document(field: str, value: str) -> dict[str, Any]:
    doc = json.loads(json.dumps(BASE))
    *parents, leaf = FIELDS[field]
    node = doc
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return doc


def schema_verdict(doc: dict[str, Any]) -> list[str]:
    return [
        f"{list(e.absolute_path)}: {e.message}" for e in Draft7Validator(SCHEMA).iter_errors(doc)
    ]


def pops_verdict(doc: dict[str, Any]) -> list[str]:
    """The codes of pops' errors about this document, cross-field rules left out."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.yaml"
        path.write_text(_yaml(doc), encoding="utf-8")
        result = compile_group(path, render=False)
    return [
        f"{d.path}: {d.code}"
        for d in result.diagnostics
        if d.severity == "error" and d.code not in CROSS_FIELD
    ]


def _ascii_or_xn(text: str) -> bool:
    return text.isascii() and not re.search(r"(^|[.@])xn--", text, re.IGNORECASE)


BEYOND_SCHEMA: dict[str, Callable[[str, list[str]], bool]] = {
    # Phone-shaped, but is there such a number? Only the numbering plan knows.
    "phone": lambda value, errors: errors == ["look_and_feel.footer.phone: phone-invalid"],
    "origin": lambda value, errors: not _ascii_or_xn(value),
    "email": lambda value, errors: not _ascii_or_xn(value),
    "logo": lambda value, errors: (
        not value.split("/")[2:3] or not _ascii_or_xn(value.split("/")[2]) or "[" in value
    ),
    "sms": lambda value, errors: errors == ["authentication.mfa.sms_message: sms-origin-line"],
}


def assert_agree(field: str, value: str) -> None:
    doc = document(field, value)
    schema_errors = schema_verdict(doc)
    pops_errors = pops_verdict(doc)
    shown = f"{field} = {value!r}: schema {schema_errors}, pops {pops_errors}"
    if not pops_errors:
        assert not schema_errors, "the schema refuses what pops accepts: " + shown
    elif not schema_errors:
        excused = BEYOND_SCHEMA.get(field)
        assert excused is not None and excused(value, pops_errors), (
            "the schema accepts what pops refuses: " + shown
        )


# --- generated values ---

# Characters that matter at the edges: every kind of space, break and control
# character, the placeholder's, non-ASCII letters, an emoji.
EDGE_CHARS = (
    " \u00a0\u3000\u2003\t\n\r\u2028\u2029\x00\x07\x0b\x1c\x1f\x7f\x85\x9f\ufeff"
    "${}.@:/#?[]%_-+()éüß東🎉aZ09"
)
edge_text = st.text(alphabet=st.sampled_from(EDGE_CHARS), max_size=12)
any_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"),
    max_size=30,
)


def around(limit: int, char: str = "x") -> st.SearchStrategy[str]:
    """Texts of `limit - 1` to `limit + 1` characters, with edge characters around."""
    return st.builds(
        lambda n, before, after: before + char * n + after,
        st.integers(limit - 2, limit + 1),
        edge_text,
        edge_text,
    )


def text_values(limit: int) -> st.SearchStrategy[str]:
    return st.one_of(edge_text, any_text, around(limit), around(limit, "é"))


def placeholders(base: str) -> st.SearchStrategy[str]:
    pieces = st.sampled_from(["${mfa.code}", "${mfa.cod}", "${", "}", "${x", "\n", " ", base])
    return st.lists(pieces, max_size=5).map("".join)


labels = st.sampled_from(
    [
        "cdn",
        "Portal",
        "a",
        "xn--bcher-kva",
        "bücher",
        "BÜCHER",
        "a-b",
        "-a",
        "a-",
        "ab--c",
        "xn--a",
        "a_b",
        "123",
        "x" * 63,
        "x" * 64,
        "",
        "exa mple",
        "e%41",
        "東京",
        "ex!",
    ]
)
hosts = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.builds(lambda h: h + ".", st.lists(labels, min_size=2, max_size=3).map(".".join)),
    st.sampled_from(["example.com", "EXAMPLE.COM", "1.2.3.4", "example.123", "a.b" + ".c" * 130]),
    edge_text,
)
good_hosts = st.lists(
    st.sampled_from(["cdn", "Portal", "a", "a-b", "xn--bcher-kva", "bücher", "x" * 63]),
    min_size=2,
    max_size=4,
).map(".".join)
urls = st.one_of(
    st.builds(
        lambda scheme, host, port, rest: f"{scheme}://{host}{port}{rest}",
        st.sampled_from(["https", "HTTPS", "Https"]),
        good_hosts,
        st.sampled_from(["", ":443", ":0443", ":65535", ":"]),
        st.sampled_from(["", "/", "/Logo.PNG", "/a/b.png?v=1#x", "/%20"]),
    ),
    st.builds(
        lambda scheme, sep, user, host, port, rest: f"{scheme}{sep}{user}{host}{port}{rest}",
        st.sampled_from(["https", "HTTPS", "hTTps", "http", "ftp", ""]),
        st.sampled_from(["://", ":/", ":", "//"]),
        st.sampled_from(["", "", "", "user@", "u:p@", "@"]),
        st.one_of(hosts, st.sampled_from(["[::1]", "[2001:db8::1]", "[zz]", "[::1", "::1]", "[]"])),
        st.sampled_from(
            ["", ":", ":443", ":0", ":0443", ":65535", ":65536", ":abc", ":-1", ":1:2"]
        ),
        st.one_of(
            st.sampled_from(["", "/", "/logo.png", "?q=1", "#top"]), edge_text.map("/".__add__)
        ),
    ),
    any_text,
)
emails = st.one_of(
    st.builds(
        lambda local, domain: f"{local}@{domain}",
        st.one_of(
            st.sampled_from(
                ["billing", "josé", "a.b", ".a", "a..b", "a+b", '"q"', "x" * 64, "x" * 65]
            ),
            edge_text,
        ),
        st.one_of(hosts, st.sampled_from(["example.local", "x.TEST", "example.com.", "ex.c1"])),
    ),
    edge_text,
)
phones = st.one_of(
    st.sampled_from(
        [
            "+1 212 555 0199",
            "(212) 555-0199",
            "212.555.0199",
            "+44 20 7946 0958",
            "+1 212 555 01",
            "call me",
            "1-800-FLOWERS",
            "+1 212 555 0199 ext. 4",
            "２１２５５５０１９９",
            "212 555 0199" + " " * 30,
        ]
    ),
    st.text(alphabet=st.sampled_from("0123456789 +().-/x\n"), max_size=45),
)
colors = st.one_of(
    st.text(alphabet=st.sampled_from("0123456789abcdefABCDEF"), min_size=2, max_size=7).map(
        "#".__add__
    ),
    st.text(alphabet=st.sampled_from("#0123456789abcdefABCDEFg \n"), max_size=8),
    st.sampled_from(["#fff", "#FFFFFF", "#12345", "fff", "#fff\n", "#1976d2 "]),
)
roles = st.text(alphabet=st.sampled_from("abz09_A-\n "), max_size=70)

STRATEGIES: dict[str, st.SearchStrategy[str]] = {
    "name": text_values(100),
    "sender": text_values(40),
    "footer": text_values(500),
    "subject": st.one_of(text_values(78), placeholders("Code")),
    "body": st.one_of(text_values(5000), placeholders("Your code\x0b")),
    "sms": st.one_of(
        placeholders("Code"), st.builds("{}\n@{} #${{mfa.code}}".format, edge_text, hosts)
    ),
    "origin": hosts,
    "logo": urls,
    "email": emails,
    "phone": phones,
    "color": colors,
    "role": roles,
}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_pops_and_the_group_schema_agree_on_generated_values(data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(sorted(STRATEGIES)))
    value = data.draw(STRATEGIES[field], label=field)
    assert_agree(field, value)


# --- the cases the issue names, and the spellings pops normalises ---

ISSUE_CASES = [
    ("logo", "HTTPS://cdn.example.com/logo.png", True),
    ("logo", "https://bücher.example/logo.png", True),
    ("email", "josé@example.com", True),
    ("name", "x" * 100 + " ", True),
    ("origin", "Portal.Example.com", True),
    ("origin", "bücher.example", True),
    ("name", "   ", False),
    ("name", "Sunrise\nPediatrics", False),
    ("footer", "Call us\u2028today", False),
    ("sender", "Sun\trise", False),
    ("name", "Sunrise\x07", False),
    ("logo", "https:///logo.png", False),
    ("logo", "https://:443/logo.png", False),
    ("logo", "https://user:secret@cdn.example.com/logo.png", False),
    ("phone", "call me", False),
    ("phone", "1-800-FLOWERS", False),
    ("subject", "Your code\n", False),
    ("sms", "Code ${mfa.cod}", False),
    ("name", "Hello ${patient}", False),
    ("color", "#fff\n", False),
]


@pytest.mark.parametrize(("field", "value", "valid"), ISSUE_CASES)
def test_the_cases_the_issue_names_get_one_verdict(field: str, value: str, valid: bool) -> None:
    doc = document(field, value)
    assert (not schema_verdict(doc), not pops_verdict(doc)) == (valid, valid)


def test_spaces_are_what_strip_removes_and_one_line_text_allows() -> None:
    space = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    refused = re.compile(f"[{patterns.CONTROL}{patterns.BREAKS}]")
    allowed = re.compile(f"[{patterns.SPACES}]")
    assert {c for c in space if not refused.match(c)} == {c for c in space if allowed.match(c)}
    assert all(c.isspace() for c in map(chr, range(0x3001)) if allowed.match(c))


def test_urls_hosts_and_emails_are_written_as_browsers_and_mail_servers_send_them(
    run_pops: Run, repo: Path
) -> None:
    write_group(
        repo,
        "case",
        "name: Case\npayments:\n  credit_card: true\n"
        "branding:\n"
        "  logo_url: HTTPS://CDN.Example.COM:0443/Sunrise/Logo.PNG?v=A#B\n"
        "  favicon_url: https://Bücher.example/favicon.ico\n"
        "look_and_feel:\n  footer:\n    email: José@Bücher.Example\n"
        "authentication:\n  mfa:\n    sms_origin: Portal.Bücher.Example\n",
    )
    proc = run_pops("build", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    config = json.loads((repo / "dist/groups/case/config.json").read_text(encoding="utf-8"))
    assert config["branding"]["logoUrl"] == "https://cdn.example.com:0443/Sunrise/Logo.PNG?v=A#B"
    assert config["branding"]["faviconUrl"] == "https://xn--bcher-kva.example/favicon.ico"
    assert config["lookAndFeel"]["footer"]["email"] == "José@xn--bcher-kva.example"
    assert config["authentication"]["mfa"]["smsOrigin"] == "portal.xn--bcher-kva.example"
    # ...and config.json, normalised, still passes its own schema.
    schema = json.loads((REPO / "schema" / "config.schema.json").read_text(encoding="utf-8"))
    assert [e.message for e in Draft7Validator(schema).iter_errors(config)] == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://user:secret@cdn.example.com/logo.png",
            '"https://user:secret@cdn.example.com/logo.png" has a user name or password before '
            "the host; browsers refuse to load images from such URLs: delete everything from "
            "`//` to the `@`",
        ),
        (
            "https://cdn%2eexample.com/logo.png",
            '"https://cdn%2eexample.com/logo.png" has `%` in its host name, where browsers '
            "refuse it; write the host name, e.g. https://cdn.example.com/logo.png",
        ),
        (
            "https://b\u00fccher..example/logo.png",
            '"https://bücher..example/logo.png" has a host name that is not a valid '
            "internationalised domain name (Empty Label); check its spelling",
        ),
    ],
)
def test_a_url_browsers_would_not_load_is_refused_with_the_reason(
    run_pops: Run, repo: Path, url: str, message: str
) -> None:
    head = "name: Case\npayments:\n  credit_card: true\n"
    write_group(repo, "case", f'{head}branding:\n  logo_url: "{url}"\n')
    proc = run_pops("validate", cwd=repo)
    assert (proc.returncode, proc.stdout) == (
        1,
        f"groups/case.yaml:5:13: error: branding.logo_url: {message} [url-invalid]\n"
        "1 error, 0 warnings\n",
    )


def test_check_jsonschema_with_ecma_regexes_gives_the_same_verdicts(tmp_path: Path) -> None:
    """The patterns mean the same in ECMA-262 (check-jsonschema's default dialect, as in
    editors and Ajv) as in Python's `re`: the issue's cases, as group files on disk."""
    files = []
    for i, (field, value, _) in enumerate(ISSUE_CASES):
        path = tmp_path / f"case-{i}.yaml"
        path.write_text(_yaml(document(field, value)), encoding="utf-8")
        files.append(str(path))
    cli = Path(sys.executable).parent / "check-jsonschema"
    schema = REPO / "schema" / "group.schema.json"
    proc = subprocess.run(
        [str(cli), "--regex-variant", "default", "--schemafile", str(schema), *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    refused = {int(n) for n in re.findall(r"case-(\d+)\.yaml::", proc.stdout)}
    assert proc.returncode == (1 if refused else 0), proc.stdout + proc.stderr
    assert refused == {i for i, (_, _, valid) in enumerate(ISSUE_CASES) if not valid}

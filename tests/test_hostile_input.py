"""Bad input a user test still found (issues #11 and #16), through the real `pops`.

Each mistake is an error at the line and column the admin wrote, saying how to
fix it; never a traceback. Values are shown, never obeyed, on a terminal or in
a CI log.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import Run, write_group

from compiler.authoring.edit import leaf_paths
from compiler.formats.terminal import printable
from compiler.model.from_document import belongs, key_homes

HEAD = "name: Case\npayments:\n  credit_card: true\n"
TOP_LEVEL_KEYS = (
    "schema, extends, owners, name, branding, theme, payments, look_and_feel, authentication, "
    "notifications, patient_permissions"
)
# What must never reach a terminal raw: C0 and C1 controls, DEL, the line and paragraph
# separators (U+2028/9), and the bidirectional overrides.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def validate(run_pops: Run, repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = run_pops("validate", *args, cwd=repo)
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


# --- URLs: port and host, judged by urllib.parse --------------------------------------------

PORT_HINT = "a port is a whole number from 1 to 65535, or leave out"
NOT_HTTPS = (
    "is not an https:// URL with a host; the portal only loads assets over https, e.g. "
    "https://cdn.example.com/logo.png"
)
URL_CASES = [
    (
        "https://x.com:99999/",
        f'"https://x.com:99999/" has port `99999`, which is out of range; {PORT_HINT} '
        "`:99999` (https uses 443)",
    ),
    (
        "https://x.com:abc/",
        f'"https://x.com:abc/" has port `abc`, which is not a number; {PORT_HINT} `:abc` '
        "(https uses 443)",
    ),
    (
        "https://x.com:0/logo.png",
        f'"https://x.com:0/logo.png" has port `0`, which is out of range; {PORT_HINT} `:0` '
        "(https uses 443)",
    ),
    (
        "https://[::1]:-1/",
        f'"https://[::1]:-1/" has port `-1`, which is not a number; {PORT_HINT} `:-1` '
        "(https uses 443)",
    ),
    ("https://", f'"https://" {NOT_HTTPS}'),
    ("https:///path", f'"https:///path" {NOT_HTTPS}'),
    ("https://:443/logo.png", f'"https://:443/logo.png" {NOT_HTTPS}'),
    (
        "https://[::1/logo.png",
        '"https://[::1/logo.png" is not a valid URL: `[` and `]` may only enclose an IPv6 '
        "address; write the host name, e.g. https://cdn.example.com/logo.png",
    ),
]


@pytest.mark.parametrize(("url", "message"), URL_CASES, ids=[u for u, _ in URL_CASES])
def test_a_url_with_a_bad_port_or_no_host_is_an_error_offline_and_online(
    run_pops: Run, repo: Path, url: str, message: str
) -> None:
    write_group(repo, "case", f'{HEAD}branding:\n  logo_url: "{url}"\n')
    expected = (
        f"groups/case.yaml:5:13: error: branding.logo_url: {message} [url-invalid]\n"
        "1 error, 0 warnings\n"
    )
    proc = validate(run_pops, repo)
    assert (proc.returncode, proc.stdout) == (1, expected)
    # --online refuses the same URL before any connection, with the same diagnostic.
    proc = validate(run_pops, repo, "--online")
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, expected, "")


def test_a_good_port_and_an_ipv6_host_are_accepted(run_pops: Run, repo: Path) -> None:
    write_group(
        repo,
        "case",
        f"{HEAD}branding:\n  logo_url: https://cdn.example.com:8443/logo.png\n"
        '  favicon_url: "https://[2001:db8::1]/favicon.ico"\n',
    )
    proc = validate(run_pops, repo)
    assert (proc.returncode, proc.stdout) == (0, "no problems found\n")


# --- booleans are lowercase true/false only (SPEC section 2) ----------------------------------


@pytest.mark.parametrize(
    ("written", "fix"),
    [("True", "true"), ("TRUE", "true"), ("False", "false"), ("FALSE", "false"), ("tRUE", "true")],
)
def test_capitalised_booleans_are_refused_with_the_spec_rule(
    run_pops: Run, repo: Path, written: str, fix: str
) -> None:
    write_group(repo, "case", f"{HEAD}theme:\n  dark: {written}\n")
    proc = validate(run_pops, repo)
    assert proc.returncode == 1
    assert proc.stdout == (
        f"groups/case.yaml:5:9: error: theme.dark: `{written}` is not a boolean in group files: "
        f"booleans are `true` or `false`, in lowercase; write {fix} [type-bool]\n"
        "1 error, 0 warnings\n"
    )


def test_yaml_11_booleans_keep_their_message(run_pops: Run, repo: Path) -> None:
    write_group(repo, "case", f"{HEAD}theme:\n  dark: yes\n")
    proc = validate(run_pops, repo)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0] == (
        "groups/case.yaml:5:9: error: theme.dark: `yes` is not a boolean in group files "
        "(YAML 1.1 read it as one, YAML 1.2 does not); write true or false [type-bool]"
    )


def test_capitalised_true_is_text_where_text_is_expected(run_pops: Run, repo: Path) -> None:
    write_group(repo, "case", "name: TRUE\npayments:\n  credit_card: true\n")
    proc = validate(run_pops, repo)
    assert (proc.returncode, proc.stdout) == (0, "no problems found\n")
    proc = run_pops("explain", "case", "name", cwd=repo)
    assert proc.stdout == 'name = "TRUE"  <- groups/case.yaml:1:7\n'


# --- an unknown key that belongs elsewhere says where ---------------------------------------


def test_a_key_in_the_wrong_section_says_where_it_belongs(run_pops: Run, repo: Path) -> None:
    write_group(
        repo,
        "case",
        "name: Case\n"
        "payments:\n"
        "  credit_card: true\n"
        "  email_receipt: true\n"
        "  email_from: billing@example.com\n"
        "success_role: authorized_patient\n"
        "mfa:\n"
        "  enabled: false\n"
        "branding:\n"
        "  name: Other\n",
    )
    proc = validate(run_pops, repo)
    assert proc.returncode == 1
    # The receipt's sender was written, in the wrong place: no second error that it is missing.
    assert proc.stdout == (
        "groups/case.yaml:5:3: error: payments.email_from: unknown key `email_from` under "
        "`payments`; `email_from` belongs under `notifications`: move it there [key-unknown]\n"
        "groups/case.yaml:6:1: error: success_role: unknown key `success_role` at the top "
        "level; `success_role` belongs under `authentication.mfa`: move it there [key-unknown]\n"
        "groups/case.yaml:7:1: error: mfa: unknown key `mfa` at the top level; `mfa` belongs "
        "under `authentication`: move it there [key-unknown]\n"
        "groups/case.yaml:10:3: error: branding.name: unknown key `name` under `branding`; "
        "`name` belongs at the top level: move it there [key-unknown]\n"
        "4 errors, 0 warnings\n"
    )


def test_a_key_with_several_homes_names_each() -> None:
    homes = [("look_and_feel", "footer"), (), ("notifications",)]
    assert belongs("email", homes) == (
        "; `email` belongs under `look_and_feel.footer` or at the top level or under "
        "`notifications`: move it to the one you meant"
    )


def test_known_keys_come_from_the_models() -> None:
    homes = key_homes()
    leaves = list(leaf_paths())
    assert len(leaves) > 40
    for path in leaves:
        for depth in range(len(path)):
            assert path[:depth] in homes[path[depth]], path
    assert homes["email_from"] == (("notifications",),)
    assert homes["primary"] == (("theme", "colors"),)


def test_a_misspelt_key_still_gets_did_you_mean(run_pops: Run, repo: Path) -> None:
    write_group(repo, "case", "name: Case\npaymnets:\n  credit_card: true\n")
    proc = validate(run_pops, repo, "--format", "json")
    (unknown,) = [d for d in json.loads(proc.stdout)["diagnostics"] if d["code"] == "key-unknown"]
    assert unknown["message"] == (
        "unknown key `paymnets` at the top level; did you mean `payments`?"
    )


# --- many unknown keys: every one reported, in linear time (#16) ---------------------------


def test_100000_unknown_keys_are_each_reported(run_pops: Run, repo: Path) -> None:
    count = 100_000
    keys = [f"k{i:05d}: 1" for i in range(count)]
    write_group(
        repo,
        "many",
        "name: Many\npayments: {credit_card: true}\npaymnets: 1\n" + "\n".join(keys) + "\n",
    )
    assert (repo / "groups" / "many.yaml").stat().st_size <= 1024 * 1024
    proc = validate(run_pops, repo)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[-1] == f"{count + 1} errors, 0 warnings"
    assert len(lines) == count + 2
    assert all(line.endswith("[key-unknown]") for line in lines[:-1])
    # The first unknown keys get a did-you-mean search; past the cap, the key list.
    assert lines[0] == (
        "groups/many.yaml:3:1: error: paymnets: unknown key `paymnets` at the top level; "
        "did you mean `payments`? [key-unknown]"
    )
    assert lines[-2] == (
        f"groups/many.yaml:{count + 3}:1: error: k{count - 1:05d}: unknown key "
        f"`k{count - 1:05d}` at the top level; expected one of: {TOP_LEVEL_KEYS} [key-unknown]"
    )


# --- control characters in values are shown, not obeyed ------------------------------------

# "\n", "\r", ESC [31m, U+2028 and NEL (\x85) written as YAML escapes in a colour and a key.
CONTROLS_GROUP = (
    f'{HEAD}theme: {{colors: {{primary: "#fff\\n\\r\\e[31m\\L\\Nx"}}}}\n"evil\\nkey\\u2029": 1\n'
)
COLOR_SHOWN = '"#fff\\n\\r\\x1b[31m\\u2028\\x85x" is not a colour; write "#rgb" or "#rrggbb"'
KEY_SHOWN = "evil\\nkey\\u2029"


def test_text_output_escapes_control_characters_from_values(run_pops: Run, repo: Path) -> None:
    write_group(repo, "case", CONTROLS_GROUP)
    proc = validate(run_pops, repo)
    assert proc.returncode == 1
    assert not RAW_CONTROL.search(proc.stdout)
    assert proc.stdout == (
        f'groups/case.yaml:4:27: error: theme.colors.primary: {COLOR_SHOWN}, e.g. "#1976d2" '
        "[color-invalid]\n"
        f"groups/case.yaml:5:1: error: {KEY_SHOWN}: unknown key `{KEY_SHOWN}` at the top level; "
        f"expected one of: {TOP_LEVEL_KEYS} [key-unknown]\n"
        "2 errors, 0 warnings\n"
    )
    assert len(proc.stdout.splitlines()) == 3


def test_github_output_escapes_control_characters_from_values(run_pops: Run, repo: Path) -> None:
    write_group(repo, "case", CONTROLS_GROUP)
    proc = validate(run_pops, repo, "--format", "github")
    assert proc.returncode == 1
    assert not RAW_CONTROL.search(proc.stdout)
    assert proc.stdout.splitlines() == [
        "::error file=groups/case.yaml,line=4,col=27,title=color-invalid::"
        f'theme.colors.primary: {COLOR_SHOWN}, e.g. "#1976d2"',
        "::error file=groups/case.yaml,line=5,col=1,title=key-unknown::"
        f"{KEY_SHOWN}: unknown key `{KEY_SHOWN}` at the top level; expected one of: "
        f"{TOP_LEVEL_KEYS}",
    ]


def test_json_output_keeps_the_values_exactly(run_pops: Run, repo: Path) -> None:
    write_group(repo, "case", CONTROLS_GROUP)
    proc = validate(run_pops, repo, "--format", "json")
    assert proc.returncode == 1
    paths = [d["path"] for d in json.loads(proc.stdout)["diagnostics"]]
    assert paths == ["theme.colors.primary", "evil\nkey\u2029"]
    # Plain JSON: json.dumps escapes C0 controls; U+2028 and C1 are valid JSON as they are.
    assert not re.search("[\x00-\x09\x0b-\x1f]", proc.stdout)
    assert "\\u001b[31m" in proc.stdout


def test_explain_shows_line_separators_escaped(run_pops: Run, repo: Path) -> None:
    # One-line text refuses line and paragraph separators; a message may hold them.
    write_group(
        repo,
        "case",
        f'name: "A\\u202eC"\n{HEAD.split(chr(10), 1)[1]}'
        'authentication:\n  mfa:\n    sms_message: "x\\Py\\Lz ${mfa.code}"\n',
    )
    proc = run_pops("explain", "case", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert not RAW_CONTROL.search(proc.stdout)
    lines = proc.stdout.splitlines()
    assert 'name = "A\\u202eC"  <- groups/case.yaml:1:7' in lines
    assert (
        'authentication.mfa.sms_message = "x\\u2029y\\u2028z ${mfa.code}"  <- groups/case.yaml:6:18'
    ) in lines


def test_diff_text_shows_control_characters_escaped(run_pops: Run, repo: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True, timeout=60)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "admin@example.com")
    git("config", "user.name", "Admin")
    git("config", "commit.gpgsign", "false")
    write_group(repo, "case", HEAD)
    git("add", "groups")
    git("commit", "-q", "-m", "case")
    write_group(
        repo,
        "case",
        f'name: "Case\\u202ex"\n{HEAD.split(chr(10), 1)[1]}'
        'authentication:\n  mfa:\n    sms_message: "Code ${mfa.code}\\r\\nbye\\tnow"\n',
    )
    proc = run_pops("diff", "--base", "main", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert not RAW_CONTROL.search(proc.stdout)
    lines = proc.stdout.splitlines()
    assert "~ groups/case.yaml: Case\\u202ex (changed)" in lines
    assert "    Branding › Name: Case → Case\\u202ex" in lines
    assert "      +bye\\tnow" in lines


def test_printable_escapes_every_control_and_keeps_other_text() -> None:
    controls = [*map(chr, range(0x20)), *map(chr, range(0x7F, 0xA0)), "\u2028", "\u2029", "\u202e"]
    for char in controls:
        shown = printable(f"a{char}b")
        assert shown.startswith("a\\") and shown.endswith("b") and shown.isprintable(), repr(char)
    assert printable("\t\n\r\x1b\x85\u2028") == "\\t\\n\\r\\x1b\\x85\\u2028"
    text = "Crème brûlée, 東京 \u00a0non-breaking, emoji 🎉, backslash \\n stays"
    assert printable(text) == text

"""The loader and every YAML pitfall of SPEC section 2, through the installed `pops`.

Each pitfall must give exit code 1, one error with a stable code at the exact
line and column (1-based, pointing at the value, or the key for duplicate keys,
or 1:1 for the whole file), a message that names the cause and the fix, and
never a Python traceback.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import pops_executable, write_group

from compiler.load.located import MAX_BYTES, load_bytes

# A group with no findings at all, so each case below reports only its own mistake.
CLEAN = "name: Sunrise Pediatrics\npayments:\n  credit_card: true\n"


def validate(run_pops: Any, repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    proc: subprocess.CompletedProcess[str] = run_pops(
        "validate", "--format", "json", *args, cwd=repo
    )
    assert "Traceback" not in proc.stdout
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def found(report: dict[str, Any]) -> list[tuple[str, str, str, int, int]]:
    return [
        (d["severity"], d["code"], d["path"], d["line"], d["column"]) for d in report["diagnostics"]
    ]


# (id, file content, code, path, line, column, words the message must contain)
PITFALLS: list[tuple[str, str | bytes, str, str, int, int, tuple[str, ...]]] = [
    (
        "duplicate-top-level-key",
        "name: A\npayments:\n  credit_card: true\nname: B\n",
        "yaml-duplicate-key",
        "name",
        4,
        1,
        ("duplicate key `name`", "line 1", "line 4"),
    ),
    (
        "duplicate-nested-key",
        "name: A\npayments:\n  credit_card: true\n  apple_pay: false\n  credit_card: false\n",
        "yaml-duplicate-key",
        "payments.credit_card",
        5,
        3,
        ("duplicate key `credit_card`", "line 3", "line 5"),
    ),
    (
        "duplicate-key-in-flow-mapping",
        "name: A\npayments: {credit_card: true, credit_card: false}\n",
        "yaml-duplicate-key",
        "payments.credit_card",
        2,
        31,
        ("duplicate key `credit_card`", "line 2"),
    ),
    (
        "unquoted-colour",
        CLEAN + "theme:\n  colors:\n    primary: #1976d2\n",
        "yaml-unquoted-color",
        "theme.colors.primary",
        6,
        14,
        ("comment", 'quote it: "#1976d2"'),
    ),
    (
        "unquoted-short-colour-with-comment",
        CLEAN + "theme:\n  colors:\n    accent:   #ABC   # brand accent\n",
        "yaml-unquoted-color",
        "theme.colors.accent",
        6,
        15,
        ('quote it: "#ABC"',),
    ),
    (
        "unquoted-colour-not-hex",
        CLEAN + "theme:\n  colors:\n    primary: #12345g\n",
        "yaml-unquoted-color",
        "theme.colors.primary",
        6,
        14,
        ('quote it: "#12345g"',),
    ),
    (
        "unquoted-colour-in-flow-mapping",
        CLEAN + "theme:\n  colors: {primary: #1976d2}\n",
        "yaml-unquoted-color",
        "theme.colors.primary",
        5,
        21,
        ('quote it: "#1976d2"',),
    ),
    (
        "yes-for-boolean",
        CLEAN + "theme:\n  dark: yes\n",
        "type-bool",
        "theme.dark",
        5,
        9,
        ("`yes`", "write true or false"),
    ),
    (
        "no-for-boolean",
        "name: A\npayments:\n  credit_card: true\n  apple_pay: no\n",
        "type-bool",
        "payments.apple_pay",
        4,
        14,
        ("`no`", "write true or false"),
    ),
    (
        "on-for-boolean",
        CLEAN + "authentication:\n  allow_session_extension: on\n",
        "type-bool",
        "authentication.allow_session_extension",
        5,
        28,
        ("`on`", "write true or false"),
    ),
    (
        "off-for-boolean",
        CLEAN + "patient_permissions:\n  contact_info_editing: Off\n",
        "type-bool",
        "patient_permissions.contact_info_editing",
        5,
        25,
        ("`Off`", "write true or false"),
    ),
    (
        "one-for-boolean",
        CLEAN + "look_and_feel:\n  show_escrow: 1\n",
        "type-bool",
        "look_and_feel.show_escrow",
        5,
        16,
        ("true or false", "`1`"),
    ),
    (
        "quoted-true-for-boolean",
        CLEAN + 'look_and_feel:\n  show_escrow: "true"\n',
        "type-bool",
        "look_and_feel.show_escrow",
        5,
        16,
        ("without quotes",),
    ),
    (
        "phone-as-bare-number",
        CLEAN + "look_and_feel:\n  footer:\n    phone: 2125550199\n",
        "type-string",
        "look_and_feel.footer.phone",
        6,
        12,
        ("read as a number", "quote it", '"2125550199"'),
    ),
    (
        "phone-as-bare-number-with-plus",
        CLEAN + "look_and_feel:\n  footer:\n    phone: +12125550199\n",
        "type-string",
        "look_and_feel.footer.phone",
        6,
        12,
        ('"+12125550199"', "quote it"),
    ),
    (
        "name-as-number",
        "name: 1234\npayments:\n  credit_card: true\n",
        "type-string",
        "name",
        1,
        7,
        ('quote it to keep it as text: "1234"',),
    ),
    (
        "anchor",
        "name: &n Sunrise\npayments:\n  credit_card: true\n",
        "yaml-alias",
        "name",
        1,
        7,
        ("anchor `&n`", "not allowed"),
    ),
    (
        "merge-key",
        "name: A\npayments:\n  credit_card: true\n  <<: {apple_pay: true}\n",
        "yaml-alias",
        "payments",
        4,
        3,
        ("merge keys", "write the keys out"),
    ),
    (
        "tab-indentation",
        "name: A\npayments:\n\tcredit_card: true\n",
        "yaml-tab",
        "",
        3,
        1,
        ("tab", "spaces"),
    ),
    (
        "tab-after-spaces",
        "name: A\npayments:\n  credit_card: true\n  \tapple_pay: true\n",
        "yaml-tab",
        "",
        4,
        3,
        ("tab", "spaces"),
    ),
    (
        "non-utf8-byte",
        b"name: Caf\xe9 Sunrise\npayments:\n  credit_card: true\n",
        "yaml-encoding",
        "",
        1,
        10,
        ("0xe9", "UTF-8"),
    ),
    (
        "non-utf8-byte-after-multibyte",
        "name: Zoë\n".encode() + b"look_and_feel:\n  footer:\n    text: \xff\n",
        "yaml-encoding",
        "",
        4,
        11,
        ("0xff", "UTF-8"),
    ),
    (
        "utf16-file",
        "name: A\n".encode("utf-16"),
        "yaml-encoding",
        "",
        1,
        1,
        ("UTF-8",),
    ),
    ("empty-file", "", "yaml-empty", "", 1, 1, ("empty", "name:")),
    ("blank-file", "  \n\n   \n", "yaml-empty", "", 1, 1, ("empty",)),
    (
        "comment-only-file",
        "# Sunrise Pediatrics\n# TODO fill in\n",
        "yaml-empty",
        "",
        1,
        1,
        ("empty",),
    ),
    ("document-marker-only", "---\n", "yaml-empty", "", 1, 1, ("empty",)),
    (
        "two-documents",
        "name: A\npayments:\n  credit_card: true\n---\nname: B\n",
        "yaml-multiple-documents",
        "",
        4,
        1,
        ("one", "document"),
    ),
    (
        "top-level-list",
        "- name: A\n- name: B\n",
        "yaml-not-mapping",
        "",
        1,
        1,
        ("a list", "mapping"),
    ),
    (
        "top-level-scalar",
        "Sunrise Pediatrics\n",
        "yaml-not-mapping",
        "",
        1,
        1,
        ("a single value", "mapping"),
    ),
    (
        "custom-tag",
        "name: !practice Sunrise\npayments:\n  credit_card: true\n",
        "yaml-tag",
        "name",
        1,
        7,
        ("`!practice`", "remove it"),
    ),
    (
        "standard-str-tag",
        CLEAN + "look_and_feel:\n  footer:\n    phone: !!str 2125550199\n",
        "yaml-tag",
        "look_and_feel.footer.phone",
        6,
        12,
        ("`!!str`", "quote"),
    ),
    (
        "python-object-tag-on-sequence",
        "name: !!python/object/apply:os.system [echo hi]\npayments:\n  credit_card: true\n",
        "yaml-tag",
        "name",
        1,
        7,
        ("`!!python/object/apply:os.system`", "remove it"),
    ),
    (
        "tag-on-mapping",
        "name: A\npayments: !!map\n  credit_card: true\n",
        "yaml-tag",
        "payments",
        2,
        11,
        ("`!!map`",),
    ),
    (
        "control-character",
        "name: Sunrise\x07\npayments:\n  credit_card: true\n",
        "yaml-control-character",
        "",
        1,
        14,
        ("U+0007", "delete it"),
    ),
    (
        "unclosed-quote",
        'name: "Sunrise\npayments:\n  credit_card: true\n',
        "yaml-syntax",
        "",
        1,
        7,
        ("never closed", 'closing "'),
    ),
    (
        "unclosed-flow-list",
        CLEAN + "branding: [a, b\ntheme: {}\n",
        "yaml-syntax",
        "",
        4,
        11,
        ("`[`", "`]`"),
    ),
    (
        "misaligned-key",
        "name: A\npayments:\n  credit_card: true\n apple_pay: true\n",
        "yaml-syntax",
        "",
        4,
        2,
        ("indented",),
    ),
    (
        "value-starting-with-at",
        "name: @sunrise\npayments:\n  credit_card: true\n",
        "yaml-syntax",
        "",
        1,
        7,
        ('cannot start with "@"', "quotes"),
    ),
    (
        "colon-in-unquoted-value",
        "name: Sunrise: Pediatrics\npayments:\n  credit_card: true\n",
        "yaml-syntax",
        "",
        1,
        14,
        ("put it in quotes",),
    ),
    (
        "deep-nesting",
        "name: " + "[" * 500 + "]" * 500 + "\npayments:\n  credit_card: true\n",
        "yaml-too-deep",
        "name" + "[0]" * 32,
        1,
        39,
        ("nested more than 32 levels",),
    ),
    (
        "nesting-beyond-the-parser-limit",
        "name: " + "[" * 2000 + "]" * 2000 + "\n",
        "yaml-too-deep",
        "",
        1,
        1006,
        ("nested more than 32 levels",),
    ),
    (
        "complex-key",
        "name: A\n? [credit_card]\n: true\n",
        "yaml-complex-key",
        "",
        2,
        3,
        ("plain name",),
    ),
]


@pytest.mark.parametrize(
    ("text", "code", "path", "line", "column", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in PITFALLS],
)
def test_yaml_pitfall_is_one_located_error(
    run_pops: Any,
    repo: Path,
    text: str | bytes,
    code: str,
    path: str,
    line: int,
    column: int,
    words: tuple[str, ...],
) -> None:
    write_group(repo, "sunrise", text)
    status, report = validate(run_pops, repo)
    assert status == 1
    assert found(report) == [("error", code, path, line, column)]
    assert report["diagnostics"][0]["file"] == "groups/sunrise.yaml"
    assert (report["errors"], report["warnings"]) == (1, 0)
    message = report["diagnostics"][0]["message"]
    for word in words:
        assert word in message


def test_alias_is_reported_with_its_anchor(run_pops: Any, repo: Path) -> None:
    write_group(
        repo,
        "sunrise",
        "name: &n Sunrise\npayments:\n  credit_card: true\nnotifications:\n  email_from: *n\n",
    )
    status, report = validate(run_pops, repo)
    assert status == 1
    assert found(report) == [
        ("error", "yaml-alias", "name", 1, 7),
        ("error", "yaml-alias", "notifications.email_from", 5, 15),
    ]
    assert "alias `*n`" in report["diagnostics"][1]["message"]


def _billion_laughs(levels: int = 12) -> str:
    lines = ['a0: &a0 "lol"']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"name: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_fast(run_pops: Any, repo: Path) -> None:
    """10**11 `lol`s if expanded; refusing aliases means it is never expanded."""
    write_group(repo, "bomb", _billion_laughs())
    started = time.monotonic()
    status, report = validate(run_pops, repo)
    elapsed = time.monotonic() - started
    assert status == 1
    assert elapsed < 10
    codes = {d["code"] for d in report["diagnostics"]}
    assert codes == {"yaml-alias"}
    first = report["diagnostics"][0]
    assert (first["line"], first["column"], first["path"]) == (1, 5, "a0")


def test_alias_bomb_in_process_costs_nothing() -> None:
    started = time.perf_counter()
    doc, diagnostics = load_bytes(_billion_laughs(30).encode(), "bomb.yaml")
    assert time.perf_counter() - started < 1.0
    assert doc is None
    assert diagnostics and all(d.code == "yaml-alias" for d in diagnostics)


def test_file_over_one_mebibyte(run_pops: Any, repo: Path) -> None:
    padding = "# padding\n" * (MAX_BYTES // 10 + 1)
    write_group(repo, "big", CLEAN + padding)
    status, report = validate(run_pops, repo)
    assert status == 1
    assert found(report) == [("error", "file-too-large", "", 1, 1)]
    assert "1 MiB" in report["diagnostics"][0]["message"]


def test_file_of_exactly_one_mebibyte_is_read(run_pops: Any, repo: Path) -> None:
    text = CLEAN + "#" * (MAX_BYTES - len(CLEAN) - 1) + "\n"
    assert len(text.encode()) == MAX_BYTES
    write_group(repo, "big", text)
    status, report = validate(run_pops, repo)
    assert (status, report["diagnostics"]) == (0, [])


CLEAN_VARIANTS = [
    pytest.param("\ufeff" + CLEAN, id="utf8-bom"),
    pytest.param(CLEAN.replace("\n", "\r\n"), id="crlf"),
    pytest.param("---\n" + CLEAN + "...\n", id="explicit-document-markers"),
    pytest.param(CLEAN + "theme:\n  colors:\n    primary: '#1565c0'\n", id="single-quoted"),
    pytest.param(CLEAN + "theme:\n  colors:\n    primary: # pick later\n", id="comment"),
    pytest.param(CLEAN + "theme:\n  dark:\n  colors: ~\n", id="empty-values-default"),
    pytest.param("{name: A, payments: {credit_card: true}}\n", id="flow-style"),
    pytest.param(CLEAN + "look_and_feel:\n  footer:\n    phone: +1 212 555 0199\n", id="phone"),
]


@pytest.fixture(scope="module")
def clean_variants_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    """Every clean variant in one `pops` run; each case then checks its own file."""
    root = tmp_path_factory.mktemp("variants")
    (root / "groups").mkdir()
    for i, param in enumerate(CLEAN_VARIANTS):
        write_group(root, f"v{i:02d}", param.values[0])
    proc = subprocess.run(
        [pops_executable(), "validate", "--format", "json"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_clean_yaml_variants_exit_0(clean_variants_run: tuple[int, dict[str, Any]]) -> None:
    assert clean_variants_run == (0, {"diagnostics": [], "errors": 0, "warnings": 0})


@pytest.mark.parametrize(
    "index", [pytest.param(i, id=param.id) for i, param in enumerate(CLEAN_VARIANTS)]
)
def test_clean_yaml_variant_validates(
    clean_variants_run: tuple[int, dict[str, Any]], index: int
) -> None:
    file = f"groups/v{index:02d}.yaml"
    assert [d for d in clean_variants_run[1]["diagnostics"] if d["file"] == file] == []


def test_columns_count_characters_not_bytes(run_pops: Any, repo: Path) -> None:
    """Editors count characters: `é` and `😀` are one column each."""
    write_group(
        repo,
        "sunrise",
        'name: "Zoë 😀"\npayments: {credit_card: true}\n'
        'look_and_feel: {footer: {text: "Café 😀 ok", emial: a@example.com}}\n',
    )
    status, report = validate(run_pops, repo)
    assert status == 1
    assert found(report) == [("error", "key-unknown", "look_and_feel.footer.emial", 3, 45)]


# In-process: the loader's data and positions.


def test_positions_of_keys_and_values() -> None:
    doc, diagnostics = load_bytes(
        b"name: Sunrise\ntheme:\n  colors:\n    primary: '#1976d2'\n", "g.yaml"
    )
    assert diagnostics == []
    assert doc is not None
    assert doc.data == {"name": "Sunrise", "theme": {"colors": {"primary": "#1976d2"}}}
    assert doc.keys[("theme", "colors", "primary")] == (4, 5)
    assert doc.values[("theme", "colors", "primary")] == (4, 14)
    assert doc.values[("name",)] == (1, 7)
    assert doc.position(("theme", "colors", "secondary")) == (4, 5)
    assert doc.position(("payments", "credit_card")) == (1, 1)


def test_plain_scalars_follow_yaml_1_2() -> None:
    doc, diagnostics = load_bytes(
        b"a: yes\nb: off\nc: 0123\nd: 2024-01-31\ne: true\nf: ~\ng: 0x1F\nh: 1.5\ni: null\n",
        "g.yaml",
    )
    assert diagnostics == []
    assert doc is not None
    assert doc.data == {
        "a": "yes",
        "b": "off",
        "c": 123,
        "d": "2024-01-31",
        "e": True,
        "g": 31,
        "h": 1.5,
    }
    assert doc.nulls == {("f",), ("i",)}
    assert doc.raw[("a",)] == "yes"
    assert doc.raw[("c",)] == "0123"

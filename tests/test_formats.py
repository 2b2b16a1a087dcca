"""The three output formats of `pops validate`, exactly as SPEC section 4 spells them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from conftest import write_group

from compiler.diagnostics import Diagnostic, finalize
from compiler.formats import FORMATS, github, json_format, text

ERROR = Diagnostic(
    "groups/x.yaml", 12, 5, "theme.colors.primary", "color-invalid", "error", "bad colour"
)
WARNING = Diagnostic("groups/x.yaml", 1, 1, "payments", "payment-none", "warning", "no method")
WHOLE_FILE = Diagnostic("groups/y.yaml", 1, 1, "", "yaml-empty", "error", "file is empty")


def run(run_pops: Any, repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc: subprocess.CompletedProcess[str] = run_pops(*args, cwd=repo)
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def test_formats_offered() -> None:
    assert sorted(FORMATS) == ["github", "json", "sarif", "text"]


# json


def test_json_shape_is_exactly_the_spec() -> None:
    payload = json.loads(json_format.format_diagnostics([ERROR, WARNING, WHOLE_FILE]))
    assert list(payload) == ["diagnostics", "errors", "warnings"]
    assert payload["errors"] == 2
    assert payload["warnings"] == 1
    first = payload["diagnostics"][0]
    assert set(first) == {"file", "line", "column", "severity", "code", "path", "message"}
    assert first == {
        "file": "groups/x.yaml",
        "line": 12,
        "column": 5,
        "severity": "error",
        "code": "color-invalid",
        "path": "theme.colors.primary",
        "message": "bad colour",
    }
    assert payload["diagnostics"][2]["path"] == ""
    assert isinstance(first["line"], int) and isinstance(first["column"], int)


def test_json_when_clean() -> None:
    out = json_format.format_diagnostics([])
    assert json.loads(out) == {"diagnostics": [], "errors": 0, "warnings": 0}
    assert out.endswith("}\n")


def test_json_keeps_unicode_and_is_one_object(run_pops: Any, repo: Path) -> None:
    write_group(repo, "zoe", 'name: Zoë\npayments: {credit_card: true}\ntheme: {dark: "sí"}\n')
    proc = run(run_pops, repo, "validate", "--format", "json")
    assert proc.returncode == 1
    payload = json.loads(proc.stdout)  # the whole of stdout is one JSON document
    assert payload["errors"] == 1
    assert payload["diagnostics"][0]["file"] == "groups/zoe.yaml"
    assert payload["diagnostics"][0]["path"] == "theme.dark"
    assert (payload["diagnostics"][0]["line"], payload["diagnostics"][0]["column"]) == (3, 15)


# text


def test_text_line_shape() -> None:
    assert text.format_diagnostic(ERROR) == (
        "groups/x.yaml:12:5: error: theme.colors.primary: bad colour [color-invalid]"
    )
    assert text.format_diagnostic(WHOLE_FILE) == (
        "groups/y.yaml:1:1: error: file is empty [yaml-empty]"
    )


def test_text_summary_and_plurals() -> None:
    out = text.format_diagnostics([ERROR, WARNING, WHOLE_FILE])
    assert out.splitlines()[-1] == "2 errors, 1 warning"
    assert out.endswith("\n")
    assert text.format_diagnostics([]) == ""
    assert text.summary([WARNING]) == "0 errors, 1 warning"


def test_text_through_the_cli(run_pops: Any, repo: Path) -> None:
    write_group(
        repo,
        "sunrise",
        "name: A\npayments:\n  credit_card: true\ntheme:\n  colors:\n    primary: '#ffeb3b'\n",
    )
    proc = run(run_pops, repo, "validate")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines == [
        "groups/sunrise.yaml:6:14: error: theme.colors.primary: primary #ffeb3b text on "
        "background #ffffff has contrast 1.22:1, under the 4.5:1 WCAG AA asks for text; "
        'patients see it in VBtn, VAlert, VChip variant="text", "outlined" or "plain"; '
        "`text-primary` links, on the page (buttons and links); 5 other pairs fail too; the "
        'nearest primary of the same hue that passes is "#776c00" [contrast-low]',
        "1 error, 0 warnings",
    ]


def test_text_when_clean(run_pops: Any, repo: Path) -> None:
    write_group(repo, "sunrise", "name: A\npayments:\n  credit_card: true\n")
    proc = run(run_pops, repo, "validate")
    assert (proc.returncode, proc.stdout) == (0, "no problems found\n")


# github


def test_github_annotation_shape() -> None:
    assert github.format_diagnostic(ERROR) == (
        "::error file=groups/x.yaml,line=12,col=5,title=color-invalid::"
        "theme.colors.primary: bad colour"
    )
    assert github.format_diagnostic(WARNING).startswith(
        "::warning file=groups/x.yaml,line=1,col=1,"
    )
    assert github.format_diagnostic(WHOLE_FILE).endswith("::file is empty")


def test_github_shows_line_breaks_as_escapes_and_escapes_percent() -> None:
    d = Diagnostic("g.yaml", 2, 3, "name", "c", "error", "100% sure\r\nnext line, a: b")
    assert github.format_diagnostic(d) == (
        "::error file=g.yaml,line=2,col=3,title=c::name: 100%25 sure\\r\\nnext line, a: b"
    )


def test_github_escapes_properties() -> None:
    d = Diagnostic("groups/a,b:c%\n.yaml", 1, 1, "", "x:y,z", "error", "m")
    assert github.format_diagnostic(d) == (
        "::error file=groups/a%2Cb%3Ac%25\\n.yaml,line=1,col=1,title=x%3Ay%2Cz::m"
    )


def test_github_through_the_cli_one_line_per_problem(run_pops: Any, repo: Path) -> None:
    (repo / "groups" / "a,b:c.yaml").write_text('name: A\ntheme: {colors: {primary: "50%"}}\n')
    proc = run(run_pops, repo, "validate", "--format", "github")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert all(line.startswith(("::error ", "::warning ")) for line in lines)
    assert lines[1].startswith(
        "::error file=groups/a%2Cb%3Ac.yaml,line=1,col=1,title=slug-invalid::`a,b:c` is not"
    )
    assert (
        "::error file=groups/a%2Cb%3Ac.yaml,line=2,col=27,title=color-invalid::"
        'theme.colors.primary: "50%25" is not a colour' in proc.stdout
    )
    assert "::warning file=groups/a%2Cb%3Ac.yaml,line=1,col=1,title=payment-none::" in proc.stdout
    assert len(lines) == 3


def test_github_multiline_value_stays_one_annotation(run_pops: Any, repo: Path) -> None:
    write_group(
        repo,
        "sunrise",
        'name: A\npayments: {credit_card: true}\ntheme: {colors: {primary: "#fff\\nx"}}\n',
    )
    proc = run(run_pops, repo, "validate", "--format", "github")
    assert proc.returncode == 1
    assert proc.stdout.count("\n") == 1
    assert '"#fff\\nx" is not a colour' in proc.stdout


# ordering and --strict are part of every format


def test_finalize_sorts_dedupes_and_applies_strict() -> None:
    later = Diagnostic("groups/a.yaml", 9, 1, "p", "c", "error", "m")
    earlier = Diagnostic("groups/a.yaml", 2, 7, "p", "c", "warning", "m")
    other = Diagnostic("groups/B.yaml", 1, 1, "", "c", "error", "m")
    out = finalize([later, earlier, other, later], strict=False)
    assert out == [other, earlier, later]
    strict = finalize([earlier], strict=True)
    assert [d.severity for d in strict] == ["error"]
    assert strict[0].code == "c"

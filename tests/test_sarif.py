"""`--format sarif`: SARIF 2.1.0 that the official schema accepts and that carries the json format.

The corpus is every failing case of the loader, model and rule tests (their own
tables, imported) plus a repository of broken layers, run through the installed
`pops` once as json and once as sarif: the log must validate against the OASIS
schema (tests/data, see its README), say everything the json says, and name a
described rule for every code it reports. The code catalogue is also checked
against the source: every code the code base can report has an entry, and
every entry is still reported somewhere.
"""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest
from conftest import REPO, Run, write_group
from test_load import PITFALLS
from test_model import CASES
from test_rules import FAILING, WARNING_ONLY

from compiler.codes import _stages, catalogue
from compiler.rules import RULES

SCHEMA = json.loads((REPO / "tests/data/sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())

CLEAN = "name: A\npayments:\n  credit_card: true\n"


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def _run(run_pops: Run, repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = run_pops(*args, cwd=repo)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def valid_sarif(text: str) -> dict[str, Any]:
    """The parsed log, after the official schema has accepted it."""
    log: dict[str, Any] = json.loads(text)
    errors = sorted(VALIDATOR.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    return log


def as_json_format(log: dict[str, Any]) -> dict[str, Any]:
    """The json format's payload, rebuilt from a SARIF log alone."""
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    diagnostics = []
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        logical = location.get("logicalLocations", [{"fullyQualifiedName": ""}])
        diagnostics.append(
            {
                "file": unquote(physical["artifactLocation"]["uri"]),
                "line": physical["region"]["startLine"],
                "column": physical["region"]["startColumn"],
                "severity": result["level"],
                "code": result["ruleId"],
                "path": logical[0]["fullyQualifiedName"],
                "message": result["message"]["text"],
            }
        )
    levels = [d["severity"] for d in diagnostics]
    return {
        "diagnostics": diagnostics,
        "errors": levels.count("error"),
        "warnings": levels.count("warning"),
    }


# --- the corpus -------------------------------------------------------------------------

LAYER_FILES: dict[str, str | bytes] = {
    "groups/_defaults.yaml": "extends: chain\ntheme:\n  dark: yes\n",
    "groups/_a.yaml": "extends: b\n",
    "groups/_b.yaml": "extends: a\n",
    "groups/_odd.yaml": "extends: [1]\n",
    "groups/cycle.yaml": CLEAN + "extends: a\n",
    "groups/missing-base.yaml": CLEAN + "extends: nowhere\n",
    "groups/group-base.yaml": CLEAN + "extends: cycle\n",
    "groups/odd-base.yaml": CLEAN + "extends: odd\n",
    "groups/Bad Name%.yaml": CLEAN,
    "groups/old.yml": CLEAN,
    "environments/prod.yaml": (
        "overlays:\n"
        "  - groups: [cycle, ghost]\n    values:\n      theme: {colors: {primary: red}}\n"
        "  - groups: 3\n    values: {}\n"
        "  - groups: all\n    values: [1]\n"
        "  - groups: all\n    values:\n      extends: chain\n    extra: 1\n"
        "  - 7\n"
        "colour: 1\n"
    ),
    "environments/stage.yaml": "overlays: 3\n",
}


def _corpus() -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {}
    tables: list[list[str | bytes]] = [
        [case[1] for case in PITFALLS],
        [case[1] for case in CASES],
        [case[1] for case in FAILING],
        [case[1] for case in WARNING_ONLY],
    ]
    for t, table in enumerate(tables):
        for i, text in enumerate(table):
            files[f"groups/t{t}-{i:03d}.yaml"] = text
    return files


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """(json payload, sarif log) of one `pops validate` over the corpus, both formats."""
    from conftest import pops_executable

    results = []
    for name, files in (("tables", _corpus()), ("layers", LAYER_FILES)):
        repo = tmp_path_factory.mktemp(name)
        for rel, text in files.items():
            _write(repo / rel, text)
        for fmt in ("json", "sarif"):
            proc = subprocess.run(
                [pops_executable(), "validate", "--format", fmt],
                cwd=repo,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert proc.returncode == 1, proc.stderr
            assert "Traceback" not in proc.stderr
            results.append(proc.stdout)
    tables_json, tables_sarif, layers_json, layers_sarif = results
    payload = json.loads(tables_json)
    extra = json.loads(layers_json)
    log = valid_sarif(tables_sarif)
    layers_log = valid_sarif(layers_sarif)
    assert as_json_format(layers_log) == extra
    payload["diagnostics"] += extra["diagnostics"]
    log["runs"][0]["results"] += layers_log["runs"][0]["results"]
    payload["errors"] += extra["errors"]
    payload["warnings"] += extra["warnings"]
    return payload, log


def test_corpus_log_round_trips_every_json_field(corpus: tuple[dict, dict]) -> None:
    payload, log = corpus
    # Every case of the tables is a failing one: each file has its diagnostics in the log.
    assert {d["file"] for d in payload["diagnostics"]} >= set(_corpus())
    assert as_json_format(log) == payload


def test_every_code_in_the_corpus_has_a_described_rule(corpus: tuple[dict, dict]) -> None:
    payload, log = corpus
    emitted = {d["code"] for d in payload["diagnostics"]}
    assert not emitted - set(catalogue()), "codes with no entry in compiler.codes"
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    for code in emitted:
        assert rules[code]["shortDescription"]["text"] == catalogue()[code].summary
        assert "see the result's message" not in rules[code]["shortDescription"]["text"]
        assert rules[code]["help"]["text"] == catalogue()[code].help
    # The layer corpus reaches the codes only layers report.
    assert {
        "extends-cycle",
        "extends-missing",
        "extends-group",
        "extends-invalid",
        "extends-not-allowed",
        "overlay-unknown-group",
        "overlay-groups",
        "type-list",
        "type-mapping",
        "key-unknown",
        "slug-invalid",
        "file-extension",
    } <= emitted


def test_file_names_are_uri_references(corpus: tuple[dict, dict]) -> None:
    _, log = corpus
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert "groups/Bad%20Name%25.yaml" in uris
    assert all(" " not in uri for uri in uris)


# --- the catalogue against the source ---------------------------------------------------

# Calls whose string arguments of the form `word-word` are diagnostic codes.
_REPORTERS = {
    "Diagnostic",
    "_error",
    "yaml_error",
    "PydanticCustomError",
    "problem",
    "_extends_problem",
    "Problem",
    "_diagnostic",
    "FileProblem",
    "_not_allowed",
    "_problem",
    "_handles",
}


def _codes_in(tree: ast.AST) -> set[str]:
    """Codes a module reports: code arguments of the reporting calls, `code = "..."`."""

    def strings(node: ast.AST) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            return (
                {text}
                if text and all(p.isalpha() and p.islower() for p in text.split("-"))
                else set()
            )
        if isinstance(node, ast.IfExp):
            return strings(node.body) | strings(node.orelse)
        if isinstance(node, ast.Tuple):
            return set().union(*map(strings, node.elts)) if node.elts else set()
        return set()

    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in _REPORTERS:
                for arg in node.args:
                    found |= {s for s in strings(arg) if "-" in s}
        elif isinstance(node, ast.Assign):
            names = {getattr(t, "id", None) for t in node.targets}
            names |= {getattr(e, "id", None) for t in node.targets for e in getattr(t, "elts", [])}
            if names & {"code", "CODE", "STALE_CODE"}:
                found |= {s for s in strings(node.value) if "-" in s}
    return found


def test_every_code_the_source_reports_has_an_entry() -> None:
    reported: set[str] = set()
    for path in sorted((REPO / "compiler").rglob("*.py")):
        reported |= _codes_in(ast.parse(path.read_text(encoding="utf-8")))
    assert len(reported) > 60
    assert sorted(reported - set(catalogue())) == []


def test_every_entry_is_reported_by_its_module() -> None:
    for stage in _stages():
        tree = ast.parse(Path(stage.__file__ or "").read_text(encoding="utf-8"))
        assert stage.CODES, stage.__name__
        assert sorted(set(stage.CODES) - _codes_in(tree)) == [], stage.__name__
    codes = [code for stage in _stages() for code in stage.CODES] + [r.CODE for r in RULES]
    assert len(codes) == len(set(codes)), "a code is described twice"


def test_rules_are_described_by_their_docstrings() -> None:
    log = json.loads(_format_nothing())
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert list(rules) == sorted(rules)
    for rule in RULES:
        doc = (rule.__doc__ or "").strip()
        entry = rules[rule.CODE]
        first = " ".join(doc.split("\n\n")[0].split())
        assert entry["shortDescription"]["text"] == first
        assert "Passes::" in entry["help"]["text"] and "Fails::" in entry["help"]["text"]
        assert entry["defaultConfiguration"]["level"] == rule.SEVERITY


def _format_nothing() -> str:
    from compiler.formats import FORMATS

    return FORMATS["sarif"]([])


def test_clean_log_is_valid_and_lists_every_rule() -> None:
    log = valid_sarif(_format_nothing())
    run = log["runs"][0]
    assert run["results"] == []
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["tool"]["driver"]["name"] == "pops"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(catalogue())


# --- provenance -------------------------------------------------------------------------


@pytest.fixture
def family(repo: Path) -> Path:
    """A low-contrast primary in _defaults.yaml that breaks two groups; one of them sets
    its own background (the other value the contrast is measured against)."""
    _write(repo / "groups/_defaults.yaml", 'theme:\n  colors:\n    primary: "#eeeeee"\n')
    write_group(repo, "alpha", CLEAN + 'theme:\n  colors:\n    background: "#ffffff"\n')
    write_group(repo, "beta", CLEAN)
    return repo


def _location(uri: str, line: int, column: int) -> dict[str, Any]:
    return {
        "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": line, "startColumn": column},
    }


def test_layer_problem_names_the_groups_and_values_as_related_locations(
    family: Path, run_pops: Run
) -> None:
    proc = _run(run_pops, family, "validate", "--format", "sarif")
    assert proc.returncode == 1
    results = valid_sarif(proc.stdout)["runs"][0]["results"]
    first = results[0]
    assert first["ruleId"] == "contrast-low"
    assert first["message"]["text"].startswith("primary #eeeeee text on background #ffffff")
    assert first["message"]["text"].endswith("(breaks 2 groups: alpha, beta)")
    assert first["locations"][0]["physicalLocation"] == _location("groups/_defaults.yaml", 3, 14)
    assert first["relatedLocations"] == [
        {
            "id": 1,
            "physicalLocation": _location("groups/alpha.yaml", 1, 1),
            "message": {"text": "group `alpha` takes this value"},
        },
        {
            "id": 2,
            "physicalLocation": _location("groups/beta.yaml", 1, 1),
            "message": {"text": "group `beta` takes this value"},
        },
        {
            "id": 3,
            "physicalLocation": _location("groups/alpha.yaml", 6, 17),
            "message": {"text": "`theme.colors.background` is set here"},
        },
    ]
    # Same log from the per-group cache, and without it.
    again = _run(run_pops, family, "validate", "--format", "sarif")
    fresh = _run(run_pops, family, "validate", "--format", "sarif", "--no-cache")
    assert again.stdout == proc.stdout == fresh.stdout


def test_group_problem_points_at_the_layer_that_wrote_the_other_value(
    repo: Path, run_pops: Run
) -> None:
    _write(repo / "groups/_defaults.yaml", 'theme:\n  colors:\n    background: "#ffffff"\n')
    write_group(repo, "alpha", CLEAN + 'theme:\n  colors:\n    primary: "#eeeeee"\n')
    proc = _run(run_pops, repo, "validate", "--format", "sarif")
    result = valid_sarif(proc.stdout)["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"] == _location("groups/alpha.yaml", 6, 14)
    assert result["relatedLocations"] == [
        {
            "id": 1,
            "physicalLocation": _location("groups/_defaults.yaml", 3, 17),
            "message": {"text": "`theme.colors.background` is set here"},
        }
    ]


def test_build_reports_the_same_log_from_the_seal(repo: Path, run_pops: Run) -> None:
    """A warning-only build is sealed with its diagnostics; the next build reads them back."""
    _write(repo / "groups/_defaults.yaml", 'theme:\n  colors:\n    background: "#ffffff"\n')
    # info text is drawn on some pages only: a warning, not an error (docs/contrast.md)
    write_group(repo, "alpha", CLEAN + 'theme:\n  colors:\n    info: "#2196f3"\n')
    first = _run(run_pops, repo, "build", "--format", "sarif")
    second = _run(run_pops, repo, "build", "--format", "sarif")
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    result = valid_sarif(first.stdout)["runs"][0]["results"][0]
    assert (result["ruleId"], result["level"]) == ("contrast-aa", "warning")
    assert result["relatedLocations"][0]["physicalLocation"] == _location(
        "groups/_defaults.yaml", 3, 17
    )


# --- build --check ----------------------------------------------------------------------


@pytest.fixture
def stale(repo: Path, run_pops: Run) -> Path:
    """A built repository whose dist/ then drifts: one file changed, one gone, one extra."""
    write_group(repo, "alpha", CLEAN)
    write_group(repo, "beta", CLEAN)
    assert _run(run_pops, repo, "build").returncode == 0
    (repo / "dist/groups/alpha/theme.css").write_text("/* edited */\n")
    (repo / "dist/groups/beta/config.json").unlink()
    (repo / "dist/groups/notes.txt").write_text("mine\n")
    return repo


STALE = [
    (
        "dist/groups/alpha/theme.css",
        "changed: dist/groups/alpha/theme.css differs from what "
        "the groups produce; run `pops build` and commit the result",
    ),
    (
        "dist/groups/beta/config.json",
        "missing: dist/groups/beta/config.json is missing: the "
        "groups produce it; run `pops build` and commit the result",
    ),
    (
        "dist/groups/notes.txt",
        "extra: dist/groups/notes.txt is not produced by the groups (a "
        "removed group's file, or one added by hand); run `pops build` and commit the result",
    ),
]


def test_build_check_sarif_lists_stale_files(stale: Path, run_pops: Run) -> None:
    proc = _run(run_pops, stale, "build", "--check", "--format", "sarif")
    assert proc.returncode == 1
    log = valid_sarif(proc.stdout)
    found = as_json_format(log)["diagnostics"]
    assert [
        (d["file"], d["line"], d["column"], d["code"], d["severity"], d["message"]) for d in found
    ] == [(file, 1, 1, "output-stale", "error", message) for file, message in STALE]
    assert "dist/ is stale: 3 file(s) differ" in proc.stderr


def test_build_check_github_annotates_stale_files(stale: Path, run_pops: Run) -> None:
    proc = _run(run_pops, stale, "build", "--check", "--format", "github")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"::error file={file},line=1,col=1,title=output-stale::{message}" for file, message in STALE
    ]


def test_build_check_json_is_one_document(stale: Path, run_pops: Run) -> None:
    proc = _run(run_pops, stale, "build", "--check", "--format", "json")
    assert proc.returncode == 1
    payload = json.loads(proc.stdout)
    assert [d["file"] for d in payload["diagnostics"]] == [file for file, _ in STALE]
    assert (payload["errors"], payload["warnings"]) == (3, 0)


def test_build_check_text_is_unchanged(stale: Path, run_pops: Run) -> None:
    proc = _run(run_pops, stale, "build", "--check")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        " changed  dist/groups/alpha/theme.css",
        " missing  dist/groups/beta/config.json",
        "   extra  dist/groups/notes.txt",
    ]


def test_build_check_sarif_when_up_to_date(repo: Path, run_pops: Run) -> None:
    write_group(repo, "alpha", CLEAN)
    assert _run(run_pops, repo, "build").returncode == 0
    proc = _run(run_pops, repo, "build", "--check", "--format", "sarif")
    assert proc.returncode == 0
    assert valid_sarif(proc.stdout)["runs"][0]["results"] == []

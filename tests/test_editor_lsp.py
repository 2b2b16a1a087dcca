"""The editor experience, with the real yaml-language-server over LSP stdio.

The server (pinned in tests/editor/package.json, installed from its lock file) gets
the `yaml.schemas` mapping that docs/editors.md documents, read from that page, and a
workspace with the committed schema: a group with mistakes is underlined on exactly
the lines `pops validate` reports, the sample groups and `_defaults.yaml` get nothing
(no "missing name" on a shared layer), and completion offers the keys under
`payments:` and the real choices of a value, never `null`.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, Run
from lsp_client import LanguageServer

from compiler.model import Payments

DOCS = REPO / "docs" / "editors.md"

BROKEN = """\
name: "   "
payments:
  credit_card: yes
theme:
  colours: {}
look_and_feel:
  landing_page: home
  footer:
    phone: call me
    text: "Call\\tus"
branding:
  logo_url: http://x.example/l.png
  favicon_url: HTTPS://cdn.example.com/f.ico
authentication:
  quickpay_max_access_attempts: 0
"""
BROKEN_LINES = [1, 3, 5, 7, 9, 10, 12, 15]
DEFAULTS = """\
owners:
  - "@example-org/platform"
payments:
  credit_card: true
"""


def documented_settings() -> dict[str, Any]:
    """The `yaml.schemas` setting docs/editors.md tells VS Code users to write."""
    blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    settings = [json.loads(block) for block in blocks if "yaml.schemas" in block]
    assert len(settings) == 1, "docs/editors.md should show one yaml.schemas setting"
    return {"schemas": settings[0]["yaml.schemas"], "validate": True, "completion": True}


def _workspace(root: Path) -> Path:
    """A repo as an admin has it, the groups without the first-line schema comment (so
    only the mapping connects them)."""
    shutil.copytree(REPO / "schema", root / "schema")
    (root / "groups").mkdir()
    for sample in sorted((REPO / "groups").glob("[!_]*.yaml")):
        text = sample.read_text(encoding="utf-8")
        (root / "groups" / sample.name).write_text(text.split("\n", 1)[1], encoding="utf-8")
    (root / "groups" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    (root / "groups" / "_defaults.yaml").write_text(DEFAULTS, encoding="utf-8")
    return root


@pytest.fixture(name="workspace", scope="module")
def workspace_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _workspace(tmp_path_factory.mktemp("editor"))


@pytest.fixture(name="server", scope="module")
def server_fixture(workspace: Path) -> Iterator[LanguageServer]:
    server = LanguageServer(workspace, documented_settings())
    yield server
    server.close()


def _lines(diagnostics: list[dict[str, Any]]) -> list[int]:
    return sorted(d["range"]["start"]["line"] + 1 for d in diagnostics)


def test_a_group_with_mistakes_is_underlined_where_pops_validate_reports_them(
    server: LanguageServer, workspace: Path, run_pops: Run
) -> None:
    diagnostics = server.diagnostics_of(workspace / "groups" / "broken.yaml")
    proc = run_pops("validate", "groups/broken.yaml", cwd=workspace)
    assert proc.returncode == 1
    pops_lines = sorted(
        int(m.group(1))
        for m in re.finditer(r"^groups/broken\.yaml:(\d+):\d+: error:", proc.stdout, re.M)
    )
    assert pops_lines == BROKEN_LINES, proc.stdout
    assert _lines(diagnostics) == pops_lines, [d["message"] for d in diagnostics]
    assert all(d["severity"] == 1 for d in diagnostics)  # errors, as pops says


def test_valid_groups_and_the_shared_defaults_get_no_diagnostics(
    server: LanguageServer, workspace: Path, run_pops: Run
) -> None:
    for path in sorted((workspace / "groups").glob("*.yaml")):
        if path.name != "broken.yaml":
            assert server.diagnostics_of(path) == [], path.name
    proc = run_pops(
        "validate",
        "--strict",
        *(f"groups/{p.name}" for p in (REPO / "groups").glob("[!_]*.yaml")),
        cwd=workspace,
    )
    assert proc.returncode == 0, proc.stdout


def test_the_bracket_glob_maps_the_shared_layers_and_none_of_the_groups(
    workspace: Path,
) -> None:
    """Why the docs do not use `groups/[!_]*.yaml`: picomatch reads `[!_]` as "! or _"."""
    server = LanguageServer(
        workspace, {"schemas": {"./schema/group.schema.json": ["groups/[!_]*.yaml"]}}
    )
    try:
        assert server.diagnostics_of(workspace / "groups" / "broken.yaml") == []
        missing = server.diagnostics_of(workspace / "groups" / "_defaults.yaml")
        assert [d["message"] for d in missing] == ['Missing property "name".']
    finally:
        server.close()


def test_completion_offers_the_keys_under_payments(server: LanguageServer, workspace: Path) -> None:
    path = workspace / "groups" / "typing.yaml"
    path.write_text("name: Typing\npayments:\n  \n", encoding="utf-8")
    labels = server.completion_labels(path, line=2, character=2)
    assert set(Payments.model_fields) <= set(labels), labels


@pytest.mark.parametrize(
    ("text", "offered"),
    [
        ("look_and_feel:\n  landing_page: ", {"account", "visits", "payments"}),
        ("theme:\n  dark: ", {"true", "false"}),
        ("authentication:\n  quickpay_max_access_attempts: ", {"3"}),
    ],
)
def test_completion_offers_the_choices_and_the_default_never_null(
    server: LanguageServer, workspace: Path, text: str, offered: set[str]
) -> None:
    path = workspace / "groups" / f"typing-{text.split(':')[0]}.yaml"  # a new document each
    path.write_text(f"name: Typing\n{text}\n", encoding="utf-8")
    last = text.split("\n")[-1]
    labels = server.completion_labels(path, line=text.count("\n") + 1, character=len(last))
    assert offered <= set(labels), labels
    assert "null" not in labels

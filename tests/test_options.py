"""The model describes every setting once; every consumer reads that description.

Labels are the admin screen's words, kinds and panels are typed, and the
generated pages (docs/settings.md, the schemas) are current.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel, ValidationError

from compiler.authoring import settings_doc
from compiler.authoring.schema import group_schema
from compiler.model import Group
from compiler.model.meta import Kind, PanelName, option
from compiler.model.options import by_key, options, show
from compiler.review.diff import label
from tests.conftest import REPO, Run, write_group


def test_every_setting_is_described_by_the_model() -> None:
    found = options()
    assert len(found) == len({o.key for o in found}) > 40
    for o in found:
        assert o.label and o.help, o.key
        assert o.kind in get_args(Kind) and o.panel in get_args(PanelName), o.key
    # Two settings on one panel never share a label: the admin could not tell them apart.
    twice = Counter((o.panel, o.label) for o in found)
    assert [k for k, n in twice.items() if n > 1] == []


def test_a_field_without_a_description_is_refused() -> None:
    from compiler.model import options as module

    class Bare(BaseModel):
        described: bool = option(False, label="On", help="h", kind="boolean", panel="Payments")
        bare: bool = False

    with pytest.raises(TypeError, match=r"bare: declare it with compiler\.model\.meta\.option"):
        list(module._walk(Bare, ()))


def test_labels_are_the_admin_screens_words() -> None:
    assert label("payments.apple_pay") == "Payments › Enable Apple Pay"
    assert label("look_and_feel.show_insurance_pending") == (
        "Look and Feel › Show Insurance Pending Column"
    )
    assert label("authentication.quickpay_max_access_attempts") == (
        "Authentication › QuickPay Max Access Attempts"
    )
    assert label("owners") == "Owners"  # on no panel: the file's own key


def test_display_kinds_drive_how_values_read() -> None:
    assert show(True, by_key()["payments.credit_card"].kind) == "on"
    assert show(None, "money") == "not set"
    assert show(5, "money") == "$5.00"
    assert show(1234.5, "money") == "$1,234.50"
    assert {o.key for o in options() if o.kind == "multiline"} == {
        "authentication.mfa.email_body",
        "authentication.mfa.sms_message",
    }


def test_schema_titles_and_examples_come_from_the_model() -> None:
    schema = group_schema()
    for o in options():
        node = schema
        for part in o.path:
            node = node["properties"][part]
        assert node["title"] == o.label, o.key
        assert node["description"] == o.help, o.key
        assert o.example in node["examples"], o.key


def test_every_example_is_a_valid_value() -> None:
    """The example the docs, the schema and `pops new` show validates where it is shown."""
    for o in options():
        data: dict[str, object] = {"name": "Example"}
        node = data
        for part in o.path[:-1]:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[o.path[-1]] = o.example
        try:
            Group.model_validate(data)
        except ValidationError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{o.key}: example {o.example!r} is invalid: {exc}")


def test_settings_doc_is_current() -> None:
    committed = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    assert committed == settings_doc.render(), "docs/settings.md is stale; run `make docs`"
    for o in options():
        assert f"| `{o.key}` | {o.label} |" in committed


def test_settings_doc_check_exits_1_when_stale(tmp_path: Path) -> None:
    def check(cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "compiler.authoring.settings_doc", "--check"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )

    assert check(REPO).returncode == 0
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "settings.md").write_text("# old\n", encoding="utf-8")
    stale = check(tmp_path)
    assert stale.returncode == 1
    assert stale.stderr == "stale  docs/settings.md; run `make docs` and commit it\n"


def test_config_json_carries_every_setting_camelcased() -> None:
    from compiler.render.portal_config import camel

    config = json.loads((REPO / "dist/groups/sunrise-pediatrics/config.json").read_text())
    for o in options():
        if o.panel == "File":
            continue
        node = config
        for part in o.path:
            assert camel(part) in node, o.key
            node = node[camel(part)]


def test_an_option_reaches_diff_explain_and_preview(run_pops: Run, repo: Path) -> None:
    """payments.minimum_payment, added by docs/adding-an-option.md, seen by every consumer."""
    from test_diff import init_repo

    init_repo(repo, {"sunrise": "name: Sunrise\npayments:\n  credit_card: true\n"})
    write_group(
        repo,
        "sunrise",
        "name: Sunrise\npayments:\n  credit_card: true\n  minimum_payment: 1250.5\n",
    )
    diff = run_pops("diff", cwd=repo)
    assert "    Payments › Minimum Payment: not set → $1,250.50" in diff.stdout.splitlines()
    explained = run_pops(
        "explain", "sunrise", "payments.minimum_payment", "--format", "json", cwd=repo
    )
    setting = json.loads(explained.stdout)["settings"][0]
    assert (setting["label"], setting["value"]) == ("Payments › Minimum Payment", 1250.5)
    preview = run_pops("preview", "--base", "main", cwd=repo)
    assert preview.returncode == 0, preview.stderr
    portal = (repo / "preview" / "sunrise" / "index.html").read_text(encoding="utf-8")
    # Shown, and outlined as the setting this change touched.
    assert (
        '<p class="pv-note" data-testid="minimum-payment" data-setting="payments.minimum_payment"'
        ' data-changed="payments.minimum_payment">Minimum payment: $1,250.50</p>'
    ) in portal
    compare = (repo / "preview" / "sunrise" / "compare.html").read_text(encoding="utf-8")
    assert (
        '<tr data-path="payments.minimum_payment"><td>Payments › Minimum Payment</td>'
        '<td class="pv-old"><span class="pv-value" data-kind="value">not set</span></td>'
        '<td class="pv-new"><span class="pv-value" data-kind="value">$1,250.50</span></td></tr>'
    ) in compare

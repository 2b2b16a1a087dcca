"""The committed dist/ is the golden output of groups/: rebuilt, it must match byte for byte.

Literal expectations below pin a few artifacts independently of the renderer,
so a change that alters them is a visible, reviewed change to this file.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from compiler.pipeline.build import build
from tests.conftest import REPO

DIST = REPO / "dist"
MANIFEST = json.loads((DIST / "manifest.json").read_text())


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden") / "dist"
    compilation = build(REPO / "groups", out)
    assert compilation.ok, compilation.diagnostics
    return out


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_same_file_list(rebuilt: Path) -> None:
    assert _files(rebuilt) == _files(DIST)


@pytest.mark.parametrize("rel", [entry["path"] for entry in MANIFEST["files"]] + ["manifest.json"])
def test_artifact_matches_golden(rebuilt: Path, rel: str) -> None:
    expected = (DIST / rel).read_bytes()
    actual = (rebuilt / rel).read_bytes()
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.decode().splitlines(keepends=True),
                actual.decode().splitlines(keepends=True),
                f"dist/{rel} (committed)",
                f"dist/{rel} (rebuilt)",
            )
        )
        pytest.fail(f"dist/{rel} is stale; run `make build`:\n{diff[:4000]}")


def test_manifest_lists_every_file_with_hash_and_size() -> None:
    import hashlib

    listed = {e["path"]: e for e in MANIFEST["files"]}
    # Every file but the manifest itself and the marker that says pops wrote the folder.
    assert sorted(listed) == [p for p in _files(DIST) if p not in ("manifest.json", ".pops-output")]
    assert ".pops-output" in _files(DIST)
    for path, entry in listed.items():
        data = (DIST / path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
    assert MANIFEST["groups"] == [
        "harbor-health-partners",
        "lakeside-clinic",
        "nightfall-dermatology",
        "sunrise-pediatrics",
    ]
    assert list(MANIFEST) == ["schemaVersion", "compiler", "inputsDigest", "groups", "files"]


def test_sms_and_subject_literal() -> None:
    group = DIST / "groups/sunrise-pediatrics/mfa"
    assert (group / "sms.txt").read_bytes() == b"Sunrise Pediatrics code: ${mfa.code}\n"
    assert (group / "email-subject.txt").read_bytes() == (
        b"Your Sunrise Pediatrics verification code\n"
    )


def test_email_text_literal() -> None:
    text = (DIST / "groups/sunrise-pediatrics/mfa/email.txt").read_text()
    assert text == (
        "Hello,\n"
        "\n"
        "Your verification code is ${mfa.code}.\n"
        "It expires in 10 minutes. If you did not ask for it, ignore this email.\n"
        "\n"
        "--\n"
        "Contact our office with any questions.\n"
        "Email: billing@sunrisepeds.example.com\n"
        "Phone: (212) 555-0199\n"
    )


def test_email_html_is_branded() -> None:
    html = (DIST / "groups/sunrise-pediatrics/mfa/email.html").read_text()
    assert 'src="https://cdn.example.com/sunrise/logo.png" width="250" height="64"' in html
    assert "background-color:#1565c0;color:#ffffff;" in html
    assert '<p style="margin:0 0 16px 0;">Your verification code is ${mfa.code}.<br>' in html
    assert '<a href="tel:+12125550199"' in html and ">(212) 555-0199</a>" in html
    assert '<a href="mailto:billing@sunrisepeds.example.com"' in html


def test_sms_only_group_has_no_email_files() -> None:
    names = sorted(p.name for p in (DIST / "groups/nightfall-dermatology/mfa").iterdir())
    assert names == ["sms.txt"]
    assert not (DIST / "groups/lakeside-clinic/mfa").exists()


def test_config_json_literal_values() -> None:
    config = json.loads((DIST / "groups/harbor-health-partners/config.json").read_text())
    assert config["schemaVersion"] == 1
    assert config["slug"] == "harbor-health-partners"
    assert config["lookAndFeel"]["showInsurancePending"] is True
    assert config["lookAndFeel"]["showProcedures"] == "code_and_description"
    assert config["lookAndFeel"]["footer"]["phone"] == {
        "e164": "+16175550142",
        "display": "(617) 555-0142",
    }
    assert config["authentication"]["quickpayMaxAccessAttempts"] == 5
    assert config["theme"]["colors"]["background"] == "#f7f9fb"
    css = (DIST / "groups/harbor-health-partners/theme.css").read_bytes()
    import base64
    import hashlib

    assert config["theme"]["stylesheet"] == {
        "path": "theme.css",
        "sha256": hashlib.sha256(css).hexdigest(),
        "size": len(css),
        "integrity": "sha384-" + base64.b64encode(hashlib.sha384(css).digest()).decode(),
    }


def test_dark_defaults_fill_unset_colours() -> None:
    config = json.loads((DIST / "groups/nightfall-dermatology/config.json").read_text())
    colors = config["theme"]["colors"]
    assert config["theme"]["dark"] is True
    assert colors["secondary"] == "#b0bec5"  # from the dark palette, not the light one
    assert colors["warning"] == "#ffb74d"
    css = (DIST / "groups/nightfall-dermatology/theme.css").read_text()
    assert "color-scheme: dark;" in css

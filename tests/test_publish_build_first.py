"""publish builds first: a stale dist/ is rebuilt from groups/, invalid groups publish nothing.

Runs the real compiler on the repo's sample groups in a throwaway folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from compiler.publish import list_releases, load_dist
from tests.publish_fixtures import REPO, run_cli


def test_publish_builds_a_stale_dist_and_refuses_invalid_groups(tmp_path: Path) -> None:
    shutil.copytree(REPO / "groups", tmp_path / "groups")
    target = tmp_path / "site"
    url = target.as_uri()

    first = run_cli("publish", "--target", url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "was stale" in first.stdout and "rebuilt it" in first.stdout
    plan = load_dist(tmp_path / "dist")
    assert len(plan.groups) == len(list((REPO / "groups").glob("*.yaml")))
    slug = plan.groups[0]
    config = json.loads((target / "current/groups" / slug / "config.json").read_text())
    sheet = config["theme"]["stylesheet"]
    assert sheet["path"].startswith("../../objects/")
    # resolved like a URL (lexically), as the portal and the web server do
    css = Path(os.path.normpath(target / "current/groups" / slug / sheet["path"]))
    assert css.is_file()

    # every file reference of every published config (stylesheet, MFA texts) resolves to
    # an immutable object with the promised sha256
    refs = 0
    for config_path in (target / "current/groups").glob("*/config.json"):
        for ref in _references(json.loads(config_path.read_text())):
            assert ref["path"].startswith("../../objects/"), ref
            data = Path(os.path.normpath(config_path.parent / ref["path"])).read_bytes()
            assert hashlib.sha256(data).hexdigest() == ref["sha256"]
            refs += 1
    assert refs > len(plan.groups)  # more than the stylesheets: the MFA files too

    again = run_cli("publish", "--target", url, cwd=tmp_path)
    assert again.returncode == 0 and "nothing to publish" in again.stdout
    assert "stale" not in again.stdout

    # the real compiler's config and stylesheet round-trip through the target
    status = run_cli("status", "--target", url, cwd=tmp_path)
    assert status.returncode == 0, status.stdout

    group = tmp_path / "groups" / "lakeside-clinic.yaml"
    group.write_text(group.read_text() + 'theme:\n  colors:\n    primary: "not a colour"\n')
    refused = run_cli("publish", "--target", url, cwd=tmp_path)
    assert refused.returncode == 1
    assert "lakeside-clinic.yaml" in refused.stdout and "error" in refused.stdout
    assert "nothing was published" in refused.stderr
    assert len(list_releases(url)) == 1

    group.write_text(group.read_text().replace('"not a colour"', '"#0d47a1"'))
    changed = run_cli("publish", "--target", url, cwd=tmp_path)
    assert changed.returncode == 0, changed.stderr
    assert "rebuilt it" in changed.stdout and "1 changed" in changed.stdout
    assert len(list_releases(url)) == 2

    usage = run_cli("publish", "--target", url, "--groups", "nowhere", cwd=tmp_path)
    assert usage.returncode == 2 and "--no-build" in usage.stderr


def _references(node: object) -> list[dict[str, str]]:
    if isinstance(node, list):
        return [r for item in node for r in _references(item)]
    if not isinstance(node, dict):
        return []
    found = [node] if "path" in node and "sha256" in node else []
    return found + [r for value in node.values() for r in _references(value)]


def test_commands_are_registered_on_the_real_entry_point(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.publish_fixtures import child_env, make_dist

    def pops(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "compiler", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=child_env(),
            timeout=120,
        )

    helptext = pops("--help").stdout
    for name in ("publish", "releases", "rollback", "status", "prune"):
        assert f"  {name} " in helptext, name
    make_dist(tmp_path / "dist", {"alpha": "a1"})
    url = (tmp_path / "site").as_uri()
    assert pops("publish", "--target", url, "--no-build").returncode == 0
    listed = pops("releases", "--target", url, "--format", "json")
    assert listed.returncode == 0
    assert json.loads(listed.stdout)["releases"][0]["live"] is True
    assert pops("status", "--target", url).returncode == 0
    assert pops("prune", "--target", url, "--grace", "soon").returncode == 2


def test_environment_builds_publish_on_their_own(tmp_path: Path) -> None:
    """dist/<env>/ (its own manifest) is not part of the base build; --env publishes it."""
    shutil.copytree(REPO / "groups", tmp_path / "groups")
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "staging.yaml").write_text(
        "overlays:\n  - groups: all\n    values:\n      notifications:\n"
        "        email_from: no-reply@staging.example.com\n"
    )
    base, staging = (tmp_path / "base").as_uri(), (tmp_path / "staging").as_uri()
    first = run_cli("publish", "--target", base, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "dist" / "staging" / "manifest.json").is_file()
    assert not (tmp_path / "base/current/staging").exists()

    env = run_cli("publish", "--target", staging, "--env", "staging", cwd=tmp_path)
    assert env.returncode == 0, env.stderr
    slug = load_dist(tmp_path / "dist").groups[0]
    live = json.loads((tmp_path / "staging/current/groups" / slug / "config.json").read_text())
    assert "staging.example.com" in json.dumps(live)
    ok = run_cli("status", "--target", staging, "--env", "staging", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout
    drift = run_cli("status", "--target", staging, cwd=tmp_path)  # base build differs
    assert drift.returncode == 1 and "changed" in drift.stdout

"""Every config.json pops writes, built or published, passes schema/config.schema.json.

`pops publish` rewrites each file reference (`theme.stylesheet.path`,
`authentication.mfa.files.<channel>.path`) from the file beside the config to its
immutable object, `../../objects/<h[:2]>/<h><ext>`: both forms are relative to the
config's URL, and the schema accepts exactly these two. Checked with the `jsonschema`
library and with the check-jsonschema CLI, on a local folder and on a real S3 server
(SeaweedFS on 127.0.0.1), and each published path is followed to bytes whose sha256
is the one the config promises.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from conftest import Run
from jsonschema import Draft7Validator

from tests.publish_fixtures import (  # noqa: F401
    REPO,
    S3Target,
    run_cli,
    s3_env_fixture,
    s3_target_fixture,
    seaweed_fixture,
)

SCHEMA = REPO / "schema" / "config.schema.json"
OBJECT_PATH = "../../objects/"

# Beside the samples: a group whose only MFA channel is SMS, and one with no MFA files.
EXTRA_GROUPS = {
    "dark-sms": (
        "name: Dark SMS\ntheme:\n  dark: true\npayments:\n  google_pay: true\n"
        "authentication:\n  mfa:\n    enabled: true\n    success_role: patient\n"
        '    sms_message: "Code ${mfa.code}"\n'
    ),
    "plain": "name: Plain\npayments:\n  credit_card: true\n",
}


def _repo(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "groups", tmp_path / "groups")
    for slug, text in EXTRA_GROUPS.items():
        (tmp_path / "groups" / f"{slug}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def _references(node: Any) -> Iterator[dict[str, Any]]:
    """Every file reference ({path, sha256, size}) in a config, depth first."""
    if isinstance(node, dict):
        if {"path", "sha256", "size"} <= set(node):
            yield node
        for value in node.values():
            yield from _references(value)


def _check_jsonschema(files: list[Path]) -> subprocess.CompletedProcess[str]:
    """The check-jsonschema CLI (installed with the dev extras) on these files."""
    cli = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(cli), "--schemafile", str(SCHEMA), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _assert_published_configs_valid(
    configs: dict[str, bytes], fetch: Callable[[str], bytes], tmp_path: Path
) -> None:
    """`configs`: slug -> config.json bytes as served; `fetch`: path from the site root -> bytes."""
    validator = Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert sorted(configs) == sorted(
        [p.stem for p in (REPO / "groups").glob("[!_]*.yaml")] + list(EXTRA_GROUPS)
    )
    copies = []
    refs = 0
    for slug, data in sorted(configs.items()):
        config = json.loads(data)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(config)]
        assert errors == [], slug
        for ref in _references(config):
            assert ref["path"].startswith(OBJECT_PATH), (slug, ref)
            served = posixpath.normpath(posixpath.join(f"groups/{slug}", ref["path"]))
            assert served == f"objects/{ref['sha256'][:2]}/{posixpath.basename(served)}"
            assert posixpath.basename(served).startswith(ref["sha256"])
            body = fetch(served)
            assert (hashlib.sha256(body).hexdigest(), len(body)) == (ref["sha256"], ref["size"])
            refs += 1
        copy = tmp_path / "served" / slug / "config.json"
        copy.parent.mkdir(parents=True)
        copy.write_bytes(data)
        copies.append(copy)
    # stylesheets of all groups, the MFA files of the samples and of dark-sms
    assert refs > len(configs)
    proc = _check_jsonschema(copies)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stdout
    assert "ok -- validation done" in proc.stdout


def test_configs_published_to_a_local_folder_validate(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    site = tmp_path / "site"
    proc = run_cli("publish", "--target", site.as_uri(), cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = site / "current"
    configs = {p.parent.name: p.read_bytes() for p in (root / "groups").glob("*/config.json")}
    _assert_published_configs_valid(configs, lambda rel: (root / rel).read_bytes(), tmp_path)


def test_configs_published_to_s3_validate(s3_target: S3Target, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    proc = run_cli("publish", *s3_target.args, cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    keys = {k for k in s3_target.list_keys("groups/") if k.endswith("/config.json")}
    configs = {posixpath.basename(posixpath.dirname(k)): s3_target.get(k) for k in keys}
    _assert_published_configs_valid(configs, s3_target.get, tmp_path)


def test_built_configs_validate_and_other_paths_are_refused(run_pops: Run, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    proc = run_pops("build", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = sorted((repo / "dist" / "groups").glob("*/config.json"))
    assert len(built) == len(EXTRA_GROUPS) + len(list((REPO / "groups").glob("[!_]*.yaml")))
    assert {r["path"] for p in built for r in _references(json.loads(p.read_bytes()))} == {
        "theme.css",
        "mfa/email.html",
        "mfa/email.txt",
        "mfa/email-subject.txt",
        "mfa/sms.txt",
    }
    proc = _check_jsonschema(built)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stdout

    # Neither the built nor the published form: another group's file, an absolute path,
    # an object of another type, a mutable path.
    config = json.loads((repo / "dist/groups/plain/config.json").read_bytes())
    digest = config["theme"]["stylesheet"]["sha256"]
    for wrong in (
        "../lakeside-clinic/theme.css",
        f"/objects/{digest[:2]}/{digest}.css",
        f"../../objects/{digest[:2]}/{digest}.txt",
        "../../groups/plain/theme.css",
    ):
        config["theme"]["stylesheet"]["path"] = wrong
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(config), encoding="utf-8")
        proc = _check_jsonschema([bad])
        assert proc.returncode == 1, wrong
        assert "$.theme.stylesheet.path" in proc.stdout, proc.stdout

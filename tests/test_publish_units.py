"""Unit tests of the publisher's pure parts: dist verification, config rewriting, history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from compiler.publish import PublishError, TargetURLError, load_dist
from compiler.publish.layout import object_key, object_sha256
from compiler.publish.lock import LockInfo, iso
from compiler.publish.release import Event, PointerState, recently_live, trim_history
from compiler.publish.targets import open_store
from tests.publish_fixtures import make_dist, sha

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def test_plan_rewrites_stylesheet_reference_to_its_immutable_object(tmp_path: Path) -> None:
    dist = make_dist(tmp_path / "dist", {"alpha": "v1"})
    plan = load_dist(dist)
    css = (dist / "groups/alpha/theme.css").read_bytes()
    config_file = next(f for f in plan.files if f.path == "groups/alpha/config.json")
    published = json.loads(plan.payload(config_file.object))
    stylesheet = published["theme"]["stylesheet"]
    # relative to the config's folder, like the original `theme.css`
    assert stylesheet["path"] == f"../../{object_key(sha(css), 'theme.css')}"
    assert stylesheet["sha256"] == sha(css)
    assert published["name"] == "alpha v1"
    # the config object is named by the published bytes, not by dist's bytes
    assert object_sha256(config_file.object) == sha(plan.payload(config_file.object))
    assert config_file.sha256 == sha((dist / "groups/alpha/config.json").read_bytes())


def test_root_relative_references_stay_root_relative(tmp_path: Path) -> None:
    dist = make_dist(tmp_path / "dist", {"alpha": "v1"})
    config_path = dist / "groups/alpha/config.json"
    doc = json.loads(config_path.read_text())
    doc["theme"]["stylesheet"]["path"] = "groups/alpha/theme.css"
    _rewrite_manifest_entry(dist, "groups/alpha/config.json", json.dumps(doc).encode())
    plan = load_dist(dist)
    key = next(f.object for f in plan.files if f.path.endswith("config.json"))
    assert json.loads(plan.payload(key))["theme"]["stylesheet"]["path"].startswith("objects/")


def test_wrong_sha256_in_config_is_refused(tmp_path: Path) -> None:
    dist = make_dist(tmp_path / "dist", {"alpha": "v1"})
    doc = json.loads((dist / "groups/alpha/config.json").read_text())
    doc["theme"]["stylesheet"]["sha256"] = "0" * 64
    _rewrite_manifest_entry(dist, "groups/alpha/config.json", json.dumps(doc).encode())
    with pytest.raises(PublishError, match="rebuild"):
        load_dist(dist)


def _rewrite_manifest_entry(dist: Path, path: str, data: bytes) -> None:
    (dist / path).write_bytes(data)
    manifest = json.loads((dist / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == path:
            entry["sha256"], entry["size"] = sha(data), len(data)
    (dist / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("damage", ["edit", "extra", "missing", "no-manifest", "unsafe"])
def test_dist_that_does_not_match_its_manifest_is_refused(tmp_path: Path, damage: str) -> None:
    dist = make_dist(tmp_path / "dist", {"alpha": "v1", "beta": "v1"})
    if damage == "edit":
        (dist / "groups/beta/theme.css").write_text("body{}")
    elif damage == "extra":
        (dist / "groups/beta/stray.txt").write_text("?")
    elif damage == "missing":
        (dist / "groups/beta/mfa/sms.txt").unlink()
    elif damage == "no-manifest":
        (dist / "manifest.json").unlink()
    else:
        manifest = json.loads((dist / "manifest.json").read_text())
        manifest["files"].append({"path": "../etc/passwd", "sha256": "0" * 64, "size": 1})
        (dist / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PublishError):
        load_dist(dist)


def test_identical_files_share_one_object(tmp_path: Path) -> None:
    plan = load_dist(make_dist(tmp_path / "dist", {"a": "v1", "b": "v2", "c": "v3"}))
    subjects = {f.object for f in plan.files if f.path.endswith("email-subject.txt")}
    assert len(subjects) == 1
    assert len(plan.objects) < len(plan.files)


def _history(*spec: tuple[str, int]) -> list[Event]:
    """(release, minutes ago it went live), newest first."""
    return [Event(r, iso(NOW - timedelta(minutes=m)), "t", "publish") for r, m in spec]


def test_kept_releases_are_the_last_distinct_ones() -> None:
    history = _history(("d", 1), ("c", 2), ("d", 3), ("b", 4), ("a", 5))
    assert PointerState("d", None, 2, history).kept() == ["d", "c"]
    assert PointerState("d", None, 10, history).kept() == ["d", "c", "b", "a"]


def test_grace_protects_releases_live_recently_even_when_not_kept() -> None:
    history = _history(("c", 10), ("b", 70), ("a", 600))
    # b was live until 10 minutes ago; a until 70 minutes ago
    assert recently_live(history, timedelta(minutes=30), NOW) == {"c", "b"}
    assert recently_live(history, timedelta(minutes=90), NOW) == {"c", "b", "a"}
    assert recently_live(history, timedelta(0), NOW) == set()
    trimmed = trim_history(history, 1, timedelta(minutes=30), NOW)
    assert [e.release for e in trimmed] == ["c", "b"]
    assert [e.release for e in trim_history(history, 1, timedelta(0), NOW)] == ["c"]


@pytest.mark.parametrize(
    "url", ["http://example.com/x", "file://remote/x", "file:relative", "s3://", "ftp://a"]
)
def test_bad_target_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(TargetURLError):
        open_store(url)


def test_lock_describes_holder_and_age() -> None:
    info = LockInfo("ci@runner-7", 4242, "publish", iso(NOW), "t")
    text = info.describe()
    assert "ci@runner-7" in text and "pid 4242" in text and iso(NOW) in text and "ago" in text
    assert LockInfo.from_bytes(info.to_bytes()) == info
    assert LockInfo.from_bytes(b"garbage").holder == "<unreadable lock>"

"""Releases and the pointer state: what was published, what is live, what history keeps.

A release manifest is immutable once written and names every file of the build
with its dist sha256 and the object that serves it. The pointer state (S3:
`current.json`; local: the `current` symlink plus `.pops/state.json`) says which
release is live, which one a switch was moving to (`pending`, S3 only), how many
releases to keep, the switch history, newest first, and the environment the target
serves. Both record the environment (base build or `--env NAME`); a release also
records the git commit its build came from. Targets and releases written before
these were recorded simply lack the keys: they read as "not recorded".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from compiler.publish import layout
from compiler.publish.dist import DistPlan, PlannedFile
from compiler.publish.lock import iso, parse_iso, whoami

DEFAULT_KEEP = 10
HISTORY_CAP = 500


def content_digest(files: list[PlannedFile]) -> str:
    """sha256 of what a release serves; two builds with equal output are the same release."""
    canonical = [[f.path, f.sha256, f.size, f.object] for f in sorted(files, key=lambda f: f.path)]
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


def new_release_id(digest: str, moment: datetime) -> str:
    """`20260131T120000Z-1a2b3c4d5e6f`: sorts by time, and names its content."""
    return f"{moment.strftime('%Y%m%dT%H%M%SZ')}-{digest[:12]}"


@dataclass(frozen=True)
class BuildEnv:
    """Which build a release is, and a target serves: the base build (None) or `--env NAME`."""

    name: str | None

    def describe(self) -> str:
        """`the base build` / `environment staging`: for sentences."""
        return "the base build" if self.name is None else f"environment {self.name}"

    @property
    def label(self) -> str:
        """`(base)` / `staging`: for tables (no environment name has parentheses)."""
        return "(base)" if self.name is None else self.name

    @property
    def option(self) -> str:
        """The publish option that selects this build: `--env staging`, or none for the base."""
        return "" if self.name is None else f"--env {self.name}"


BASE_BUILD = BuildEnv(None)


def env_label(env: BuildEnv | None) -> str:
    """A table cell: `?` when the environment was never recorded (published by older pops)."""
    return env.label if env is not None else "?"


def _env_to_json(env: BuildEnv | None, doc: dict[str, Any]) -> None:
    if env is not None:
        doc["environment"] = env.name


def _env_from_json(raw: dict[str, Any]) -> BuildEnv | None:
    if "environment" not in raw:
        return None
    name = raw["environment"]
    return BuildEnv(None if name is None else str(name))


@dataclass(frozen=True)
class Source:
    """The git commit a build came from and whether the work tree had other changes.

    `commit` is None when the build was not in a git work tree (then `dirty` is None too).
    """

    commit: str | None
    dirty: bool | None

    @property
    def label(self) -> str:
        """`1a2b3c4d5e6f`, `1a2b3c4d5e6f+dirty`, or `-` outside git."""
        if self.commit is None:
            return "-"
        return self.commit[:12] + ("+dirty" if self.dirty else "")

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "dirty": self.dirty}

    @classmethod
    def from_json(cls, raw: Any) -> Source:
        if not isinstance(raw, dict):
            raise TypeError("source is not an object")
        commit, dirty = raw.get("commit"), raw.get("dirty")
        return cls(None if commit is None else str(commit), None if dirty is None else bool(dirty))


@dataclass(frozen=True)
class ReleaseManifest:
    """One published build, as stored on the target."""

    release: str
    digest: str
    created_at: str
    created_by: str
    compiler: str
    inputs_digest: str
    files: list[PlannedFile]
    environment: BuildEnv | None = None  # None: published before environments were recorded
    source: Source | None = None  # None: published before commits were recorded

    @classmethod
    def from_plan(
        cls,
        plan: DistPlan,
        release: str,
        digest: str,
        moment: datetime,
        *,
        environment: BuildEnv,
        source: Source,
    ) -> ReleaseManifest:
        return cls(
            release,
            digest,
            iso(moment),
            whoami(),
            plan.compiler,
            plan.inputs_digest,
            plan.files,
            environment,
            source,
        )

    @property
    def groups(self) -> list[str]:
        return sorted({g for f in self.files if (g := layout.group_of(f.path)) is not None})

    @property
    def objects(self) -> set[str]:
        return {f.object for f in self.files}

    def entries(self) -> dict[str, PlannedFile]:
        """Group config paths -> file: the mutable paths the portal reads on S3."""
        return {f.path: f for f in self.files if layout.is_entry(f.path)}

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {
            "schemaVersion": 1,
            "release": self.release,
            "digest": self.digest,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "compiler": self.compiler,
            "inputsDigest": self.inputs_digest,
        }
        _env_to_json(self.environment, doc)
        if self.source is not None:
            doc["source"] = self.source.to_json()
        doc["groups"] = self.groups
        doc["files"] = [
            {"path": f.path, "sha256": f.sha256, "size": f.size, "object": f.object}
            for f in self.files
        ]
        return (json.dumps(doc, indent=2) + "\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> ReleaseManifest:
        doc = json.loads(data)
        files = [
            PlannedFile(str(f["path"]), str(f["sha256"]), int(f["size"]), str(f["object"]))
            for f in doc["files"]
        ]
        for f in files:
            layout.check_relative(f.path)
            if layout.object_sha256(f.object) is None:
                raise ValueError(f"bad object key {f.object!r}")
        return cls(
            str(doc["release"]),
            str(doc["digest"]),
            str(doc["createdAt"]),
            str(doc.get("createdBy", "")),
            str(doc.get("compiler", "")),
            str(doc.get("inputsDigest", "")),
            files,
            _env_from_json(doc),
            Source.from_json(doc["source"]) if "source" in doc else None,
        )


@dataclass(frozen=True)
class Event:
    """One switch: which release went live, when, by whom, through which command."""

    release: str
    at: str
    by: str
    action: str

    def to_json(self) -> dict[str, str]:
        return {"release": self.release, "at": self.at, "by": self.by, "action": self.action}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Event:
        return cls(str(raw["release"]), str(raw["at"]), str(raw.get("by", "")), str(raw["action"]))


@dataclass(frozen=True)
class PointerState:
    """What is live and the history of switches, newest first (history[0] is the live one)."""

    release: str | None = None
    pending: str | None = None
    keep: int = DEFAULT_KEEP
    history: list[Event] = field(default_factory=list)
    environment: BuildEnv | None = None  # what the target serves; None: not recorded yet

    def switched(self, release: str, action: str, moment: datetime) -> PointerState:
        """The state after `release` goes live; `prune` trims the history, publish only caps it."""
        event = Event(release, iso(moment), whoami(), action)
        history = [event, *self.history][:HISTORY_CAP]
        return replace(self, release=release, pending=None, history=history)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schemaVersion": 1,
            "release": self.release,
            "pending": self.pending,
            "keep": self.keep,
        }
        _env_to_json(self.environment, doc)
        doc["history"] = [e.to_json() for e in self.history]
        return doc

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PointerState:
        return cls(
            release=raw.get("release"),
            pending=raw.get("pending"),
            keep=int(raw.get("keep", DEFAULT_KEEP)),
            history=[Event.from_json(e) for e in raw.get("history", [])],
            environment=_env_from_json(raw),
        )

    def kept(self) -> list[str]:
        """The last `keep` distinct releases, newest first: what rollback may go to."""
        return kept_releases(self.history, self.keep)


def served_env(state: PointerState, live: ReleaseManifest | None) -> BuildEnv | None:
    """The environment a target serves: recorded in its state, else its live release's.

    The fallback covers a state rewritten by a pops that did not know environments.
    """
    if state.environment is not None:
        return state.environment
    return live.environment if live is not None else None


@dataclass(frozen=True)
class Pointer:
    """A pointer state read from the target, with the version a compare-and-swap needs."""

    state: PointerState
    version: str | None  # S3 ETag / local symlink target; None when nothing was ever published


def kept_releases(history: list[Event], keep: int) -> list[str]:
    """First `keep` distinct releases of a newest-first history."""
    seen: list[str] = []
    for event in history:
        if event.release not in seen:
            seen.append(event.release)
            if len(seen) == keep:
                break
    return seen


def recently_live(history: list[Event], grace: timedelta, now: datetime) -> set[str]:
    """Releases live at any moment of the last `grace`: browsers and CDNs may still hold them."""
    recent: set[str] = set()
    until = now
    for event in history:
        if until > now - grace:
            recent.add(event.release)
        until = parse_iso(event.at)
    return recent


def trim_history(history: list[Event], keep: int, grace: timedelta, now: datetime) -> list[Event]:
    """Keep events up to the `keep`-th distinct release, and every event live within `grace`."""
    seen: set[str] = set()
    by_keep = len(history)
    for index, event in enumerate(history):
        seen.add(event.release)
        if len(seen) == keep:
            by_keep = index + 1
            break
    by_grace = 0
    until = now
    for event in history:
        if until <= now - grace:
            break
        by_grace += 1
        until = parse_iso(event.at)
    return history[: min(max(by_keep, by_grace), HISTORY_CAP)]


@dataclass
class GroupChanges:
    """Which groups a switch adds, changes or removes, compared with what was live."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _by_group(files: list[PlannedFile]) -> dict[str, set[tuple[str, str]]]:
    groups: dict[str, set[tuple[str, str]]] = {}
    for f in files:
        slug = layout.group_of(f.path)
        if slug is not None:
            groups.setdefault(slug, set()).add((f.path, f.sha256))
    return groups


def group_changes(before: ReleaseManifest | None, after: ReleaseManifest) -> GroupChanges:
    """Compare two releases group by group, on the dist sha256 of each file."""
    return file_changes(before.files if before else [], after.files)


def file_changes(before: list[PlannedFile], after: list[PlannedFile]) -> GroupChanges:
    """Compare two file lists group by group, on the dist sha256 of each file."""
    old, new = _by_group(before), _by_group(after)
    return GroupChanges(
        added=sorted(set(new) - set(old)),
        changed=sorted(g for g in set(new) & set(old) if new[g] != old[g]),
        removed=sorted(set(old) - set(new)),
    )

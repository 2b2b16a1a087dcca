"""Publish a build to where the portal reads it: atomic, reversible, drift-aware.

Targets: `file:///dir` (served by any web server from `<dir>/current`) and
`s3://bucket/prefix` (AWS S3, MinIO, R2, SeaweedFS). See docs/publishing.md for the
layout and the portal's read path. Each public function here backs one CLI command.
"""

from compiler.publish.deploy import PublishResult, publish
from compiler.publish.dist import DistPlan, load_dist
from compiler.publish.errors import (
    ConflictError,
    LockedError,
    PublishError,
    UnsafeServerError,
    WrongEnvironmentError,
)
from compiler.publish.prune import DEFAULT_GRACE, PruneResult, prune
from compiler.publish.release import DEFAULT_KEEP, BuildEnv, GroupChanges, Source, env_label
from compiler.publish.repair import RepairResult, repair
from compiler.publish.rollback import RollbackResult, rollback
from compiler.publish.status import GroupDrift, ReleaseInfo, StatusReport, list_releases, status
from compiler.publish.store import TargetURLError

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_KEEP",
    "BuildEnv",
    "ConflictError",
    "DistPlan",
    "GroupChanges",
    "GroupDrift",
    "LockedError",
    "PruneResult",
    "PublishError",
    "PublishResult",
    "ReleaseInfo",
    "RepairResult",
    "RollbackResult",
    "Source",
    "StatusReport",
    "TargetURLError",
    "UnsafeServerError",
    "WrongEnvironmentError",
    "env_label",
    "list_releases",
    "load_dist",
    "prune",
    "publish",
    "repair",
    "rollback",
    "status",
]

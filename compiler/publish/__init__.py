"""Publish a build to where the portal reads it: atomic, reversible, drift-aware.

Targets: `file:///dir` (served by any web server from `<dir>/current`) and
`s3://bucket/prefix` (AWS S3, MinIO, R2, SeaweedFS). See README-publish.md for the
layout and the portal's read path. Each public function here backs one CLI command.
"""

from compiler.publish.deploy import GroupChanges, PublishResult, RollbackResult, publish, rollback
from compiler.publish.dist import DistPlan, load_dist
from compiler.publish.errors import ConflictError, LockedError, PublishError, UnsafeServerError
from compiler.publish.prune import DEFAULT_GRACE, PruneResult, prune
from compiler.publish.release import DEFAULT_KEEP
from compiler.publish.status import GroupDrift, ReleaseInfo, StatusReport, list_releases, status
from compiler.publish.store import TargetURLError

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_KEEP",
    "ConflictError",
    "DistPlan",
    "GroupChanges",
    "GroupDrift",
    "LockedError",
    "PruneResult",
    "PublishError",
    "PublishResult",
    "ReleaseInfo",
    "RollbackResult",
    "StatusReport",
    "TargetURLError",
    "UnsafeServerError",
    "list_releases",
    "load_dist",
    "prune",
    "publish",
    "rollback",
    "status",
]

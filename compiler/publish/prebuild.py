"""Publish builds first: a stale dist/ is rebuilt, an invalid one is never published.

This is the only place publish touches the compiler core (`compiler.pipeline.build`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic
from compiler.publish.errors import PublishError


class BuildRefused(PublishError):
    """The groups do not validate: nothing is published, and the diagnostics say why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = sum(1 for d in diagnostics if d.severity == "error")
        super().__init__(f"the groups have {errors} error(s): nothing was published")


def ensure_built(
    groups_dir: Path,
    dist_dir: Path,
    *,
    strict: bool = False,
    env: str | None = None,
    env_dir: Path | None = None,
) -> str | None:
    """Rebuild `dist_dir` when it is stale; raise BuildRefused when the sources are invalid.

    A deploy trusts no build cache: both the check and the build compile every group.
    With `env`, only that environment's folder (`dist_dir/<env>`) is checked and built.
    Returns a note for the user when a build ran, None when dist/ was already current.
    """
    from compiler.pipeline import build as core

    options: dict[str, Any] = {"strict": strict, "use_cache": False}
    if env is not None:
        options["env"] = env
    if env_dir is not None:
        options["env_dir"] = env_dir  # environments/ beside the groups folder otherwise
    check: Any = core.check_output(groups_dir, dist_dir, **options)
    diagnostics: list[Diagnostic] = list(check.diagnostics)
    if any(d.severity == "error" for d in diagnostics):
        raise BuildRefused(diagnostics)
    if check.ok:
        return None
    report: Any = core.build(groups_dir, dist_dir, **options)
    if not report.ok:
        raise BuildRefused(list(report.diagnostics))
    stale = list(getattr(check, "stale", []))
    shown = dist_dir / env if env else dist_dir
    return f"{shown} was stale ({len(stale)} files): rebuilt it before publishing"

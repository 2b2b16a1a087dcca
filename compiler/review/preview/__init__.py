"""`pops preview`: static pages that show a group the way patients will see it.

The preview is a client of the artifacts, not a second renderer: every page
links the group's real `theme.css` (copied next to it) and takes every option,
colour and text from its real `config.json` and `mfa/` files. If the compiler
gets a colour or a switch wrong, the preview shows it wrong too, which is the
point. With `--base`, the settings that changed are marked where they show,
on both sides, and listed with colour swatches.

Layout of the output folder (replaced whole, byte-identical for the same input):

    index.html, preview.css
    <slug>/index.html, theme.css, config.json, mfa/...   the working tree
    <slug>/base/...                                      the base (with --base)
    <slug>/compare.html                                  before | after (with --base)

With `--base` only changed groups get a folder; the index lists every group.
"""

from __future__ import annotations

from pathlib import Path

from compiler.pipeline.compiling import gc_paused
from compiler.pipeline.ownership import MARKER, marker
from compiler.pipeline.writer import Staging
from compiler.render import templates_dir
from compiler.review.diff import Side
from compiler.review.gitrefs import Base
from compiler.review.preview.drawing import drawing_into
from compiler.review.preview.pages import Progress, draw_all
from compiler.review.preview.plan import (
    Plan,
    base_plan,
    compare_with_base_naive,
    compile_tree,
    plan_against,
    working_tree_plan,
)

__all__ = [
    "Plan",
    "base_plan",
    "compare_with_base_naive",
    "compile_tree",
    "plan_against",
    "preview_against",
    "working_tree_plan",
    "write_preview",
]


def open_staging(out_dir: Path) -> Staging:
    """The folder the preview is written into, swapped in whole by `write_preview`."""
    staging = Staging(out_dir)
    try:
        staging.write(MARKER, marker("preview"))
        staging.write("preview.css", (templates_dir() / "preview" / "preview.css").read_bytes())
    except BaseException:
        staging.discard()
        raise
    return staging


@gc_paused  # (and forked workers would rescan, and so copy, the whole inherited heap)
def write_preview(
    out_dir: Path,
    plan: Plan,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    staging: Staging | None = None,
) -> int:
    """Write the preview folder (all or nothing); returns the number of HTML pages.

    `staging` is the one `preview_against` drew the changed groups into.
    """
    staging = staging if staging is not None else open_staging(out_dir)
    try:
        context = {"rows": plan.index, "base": plan.base, "env": plan.env, "pages": plan.pages}
        index = ("index.html", "preview/index.html.j2", context)
        jobs = [job for job in plan.pages if not job.drawn]
        pages = draw_all(
            staging.path, jobs, plan.base, workers=workers, progress=progress, also=[index]
        )
        staging.commit()
    except BaseException:
        staging.discard()
        raise
    staging.release()  # (emptied, so the next preview does not take it for abandoned)
    return plan.drawn + pages


def preview_against(
    out_dir: Path,
    base: Base,
    groups_dir: Path,
    cwd: Path,
    *,
    env: str | None,
    env_dir: Path | None,
    jobs: int,
    progress: Progress | None = None,
) -> tuple[Side, Plan | None, int]:
    """`pops preview --base`: (the working tree, its plan, the number of HTML pages).

    The workers that compile the base draw each changed group as they go
    (`drawing`); the rest, and the index, are drawn after. Nothing is written to
    `out_dir` unless it all is (plan None: the working tree does not build).
    """
    staging = open_staging(out_dir)
    try:
        finish_with = drawing_into(staging.path, base)
        after, plan = plan_against(
            base,
            groups_dir,
            cwd,
            env=env,
            env_dir=env_dir,
            jobs=jobs,
            finish_with=finish_with,
            progress=progress,
        )
        if plan is None or not after.ok:
            staging.discard()
            return after, None, 0
    except BaseException:
        staging.discard()
        raise
    pages = write_preview(out_dir, plan, workers=jobs, progress=progress, staging=staging)
    return after, plan, pages

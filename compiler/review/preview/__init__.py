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
    "working_tree_plan",
    "write_preview",
]


@gc_paused  # (and forked workers would rescan, and so copy, the whole inherited heap)
def write_preview(
    out_dir: Path, plan: Plan, *, workers: int = 1, progress: Progress | None = None
) -> int:
    """Write the preview folder (all or nothing); returns the number of HTML pages."""
    staging = Staging(out_dir)
    try:
        staging.write(MARKER, marker("preview"))
        staging.write("preview.css", (templates_dir() / "preview" / "preview.css").read_bytes())
        context = {"rows": plan.index, "base": plan.base, "env": plan.env, "pages": plan.pages}
        index = ("index.html", "preview/index.html.j2", context)
        pages = draw_all(
            staging.path, plan.pages, plan.base, workers=workers, progress=progress, also=[index]
        )
        staging.commit()
    except BaseException:
        staging.discard()
        raise
    return pages

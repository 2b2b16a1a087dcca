"""`pops preview --base` draws each group in the worker that compiled it.

The worker that compiles a group's base side (`compiler.review.workers`)
holds both sides of it: the base's files in hand, the working tree's just
compiled or sealed in the output folder. It compares them there
(`compare_group`, as `pops diff` would in the parent) and, when the group
changes, draws its three pages straight into the preview's staging folder.
What goes back to the parent is the change and the index row's name and
colours, not 46 KB of files per group; the parent neither compares nor draws
them again. Groups without the same slug on both sides (added, removed,
renamed: paired across groups) keep their files and are compared and drawn by
the parent as before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from markupsafe import Markup

from compiler.review.diff import Built, compare_group
from compiler.review.gitrefs import Base
from compiler.review.plan import FinishWith, Sealed, Sources
from compiler.review.preview.pages import TEMPLATES, Folder, draw_group, load_template
from compiler.review.preview.plan import Drawn, GroupPages, drawable, index_row
from compiler.review.workers import Finish, Outcome

ROW = "preview/index_row.html.j2"


@dataclass(slots=True)
class DrawGroups:
    """The `Finish` of a preview: compare one group, draw it if it changed."""

    root: str  # the staging folder
    base: Base
    head: Sources  # the working tree's
    old: Sources  # the base's
    sealed: dict[str, Sealed] | None

    def __call__(self, slug: str, theirs: Outcome | None, ours: Outcome | None) -> Drawn | None:
        if slug not in self.head.paths or slug not in self.old.paths:
            return None  # (added, removed or renamed: the parent pairs and draws them)
        after = self._after(slug, theirs)
        if after is None:
            return None  # (the working tree does not build: no preview at all)
        # (ours None: the same source, and nothing it reads changed: the same group)
        before = self._before(slug, ours) if ours is not None else None
        change = compare_group(before, after) if before is not None else None
        pages = 0
        if change is not None and change.status != "edited":  # as `base_plan` has it
            new = after if drawable(after) else None
            folder = Folder(Path(self.root))
            draw_group(folder, GroupPages(slug, new, before, change), self.base)
            pages = folder.pages
            row = index_row(slug, after, before, change)
        else:
            row = index_row(slug, after, None, None)
        html = load_template(ROW).render(e=row, base=self.base)
        for outcome in (theirs, ours):  # (drawn: the bytes need not cross to the parent)
            if outcome is not None:
                outcome.files = None
        return Drawn(change, replace(row, html=Markup(html)), pages)

    def _after(self, slug: str, theirs: Outcome | None) -> Built | None:
        if theirs is None:
            assert self.sealed is not None
            return self.head.from_seal(slug, self.sealed[slug])
        return self.head.compiled(slug, theirs) if theirs.digests is not None else None

    def _before(self, slug: str, ours: Outcome) -> Built:
        return self.old.compiled(slug, ours, diagnostics=True)


def drawing_into(root: Path, base: Base) -> FinishWith:
    """The workers' `Finish`, drawing into `root`, once both sides' sources are read."""
    for name in (*TEMPLATES, ROW):  # compiled once, before the workers fork
        load_template(name)

    def make(head: Sources, old: Sources, sealed: dict[str, Sealed] | None) -> Finish:
        return DrawGroups(str(root), base, head, old, sealed)

    return make

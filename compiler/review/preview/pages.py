"""Drawing the pages of a plan into a folder, over every core when there are many.

Each group's pages depend on that group alone, so groups are shared out in
chunks among forked workers that write straight into the staging folder; the
parent keeps the count and the progress bar. Same plan, same bytes, whatever
the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.pipeline.writer import write_all
from compiler.render import environment
from compiler.review.diff import Built
from compiler.review.gitrefs import Base
from compiler.review.plan import sealed_files
from compiler.review.preview.context import changed_settings, portal_context
from compiler.review.preview.plan import GroupPages

if TYPE_CHECKING:
    from jinja2 import Template

Progress = Callable[[int, int], None]
PARALLEL_FROM = 100  # groups; fewer are drawn in this process (forking costs more)
TEMPLATES = ("preview/portal.html.j2", "preview/compare.html.j2", "preview/index.html.j2")


class Folder:
    """Writes files under `root`, making each folder once."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.made: set[str] = set()
        self.pages = 0

    def write(self, rel: str, data: bytes) -> None:
        folder = rel.rpartition("/")[0]
        if folder not in self.made:
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
            self.made.add(folder)
        fd = os.open(os.path.join(self.root, rel), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)

    def page(self, rel: str, template: str, context: dict[str, Any]) -> None:
        self.write(rel, load_template(template).render(context).encode())
        self.pages += 1


_LOADED: dict[str, Template] = {}


def load_template(name: str) -> Template:
    """A template as loaded first: `get_template` would stat its file for every page."""
    found = _LOADED.get(name)
    if found is None:
        found = _LOADED[name] = environment().get_template(name)
    return found


def _side(
    folder: Folder, built: Built, files: dict[str, bytes], where: str, context: dict[str, Any]
) -> None:
    """A group's artifacts copied into `where`, and its portal page beside them."""
    prefix = f"groups/{built.slug}/"
    for rel, data in sorted(files.items()):
        folder.write(where + rel.removeprefix(prefix), data)
    folder.page(where + "index.html", TEMPLATES[0], context)


def draw_group(folder: Folder, job: GroupPages, base: Base | None) -> None:
    """One group's pages: its portal page, and with a base its base page and the comparison.

    A working-tree side taken from the build's seal has its files read here, from the
    output folder, by the worker that draws it (the parent never holds them all).
    """
    slug, after, before, change = job.slug, job.after, job.before, job.change
    changes = changed_settings(change)
    files = sealed_files(after) if after is not None else None
    if after is not None and files is not None:
        label = "After: the working tree" if base is not None else ""
        against = f"compared with {base.label}" if base is not None else ""
        context = portal_context(
            after, files, side=label, root="../", changes=changes, against=against
        )
        _side(folder, after, files, f"{slug}/", context)
    if base is None or change is None:
        return
    has_before = before is not None and before.files is not None
    if has_before:
        assert before is not None and before.files is not None
        context = portal_context(
            before,
            before.files,
            side=f"Before: {base.label}",
            root="../../",
            changes=changes,
            against="compared with the working tree",
        )
        _side(folder, before, before.files, f"{slug}/base/", context)
    folder.page(
        f"{slug}/compare.html",
        TEMPLATES[1],
        {
            "change": change,
            "changes": changes,
            "base": base,
            "before": "base/index.html" if has_before else None,
            "after": "index.html" if change.status != "removed" else None,
            "root": "../",
        },
    )


Page = tuple[str, str, dict[str, Any]]  # a page on its own: where, its template, its context

# The work of a forked pool: set before the fork, so workers read it without pickling.
_WORK: tuple[list[GroupPages], Path, Base | None, list[Page]] | None = None


def _draw_chunk(start: int, stop: int) -> int:
    assert _WORK is not None
    jobs, root, base, _ = _WORK
    folder = Folder(root)
    for job in jobs[start:stop]:
        draw_group(folder, job, base)
    return folder.pages


def _draw_page(number: int) -> int:
    assert _WORK is not None
    folder = Folder(_WORK[1])
    folder.page(*_WORK[3][number])
    return folder.pages


def _chunks(total: int, workers: int) -> Iterator[tuple[int, int]]:
    size = max(10, min(200, total // (workers * 8) or 1))
    for start in range(0, total, size):
        yield start, min(start + size, total)


def draw_all(
    root: Path,
    jobs: list[GroupPages],
    base: Base | None,
    *,
    workers: int,
    progress: Progress | None = None,
    also: list[Page] | None = None,
) -> int:
    """Every group's pages under `root`, and the pages `also` (the index: ten thousand
    rows, drawn by a worker while the others draw groups); returns the number of HTML pages.
    """
    also = also or []
    for name in TEMPLATES:  # compiled once, before any fork
        load_template(name)
    if workers <= 1 or len(jobs) < PARALLEL_FROM or "fork" not in _start_methods():
        folder = Folder(root)
        for done, job in enumerate(jobs, 1):
            draw_group(folder, job, base)
            if progress is not None:
                progress(done, len(jobs))
        for page in also:
            folder.page(*page)
        return folder.pages
    return _draw_forked(root, jobs, base, also, workers, progress)


def _draw_forked(
    root: Path,
    jobs: list[GroupPages],
    base: Base | None,
    also: list[Page],
    workers: int,
    progress: Progress | None,
) -> int:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    global _WORK
    _WORK = (jobs, root, base, also)
    pages = done = 0
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(_draw_page, i): 0 for i in range(len(also))}
            chunks = _chunks(len(jobs), workers)
            futures.update({pool.submit(_draw_chunk, a, b): b - a for a, b in chunks})
            for future in as_completed(futures):
                pages += future.result()
                done += futures[future]
                if progress is not None and futures[future]:
                    progress(done, len(jobs))
    finally:
        _WORK = None
    return pages


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods() if os.name == "posix" else []

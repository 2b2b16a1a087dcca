"""Which files a run reads as groups, and how it names them.

A leaf module (only the diagnostics and the file checks of compiler.load.files
below it): the tools that find groups without compiling them (targets, explain,
owners, the schema) can use it without importing the pipeline.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

from compiler.diagnostics import Diagnostic

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def display_path(path: Path) -> str:
    """How a file is named in diagnostics: relative to the working folder when inside it."""
    text = path.as_posix()
    if path.is_absolute():
        with contextlib.suppress(ValueError):
            text = path.relative_to(Path.cwd()).as_posix()
    return text.removeprefix("./")


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Group files under the given files and folders; anything that looks like a group
    but cannot be read as one (misnamed, a folder, a pipe, a bad symlink) is a diagnostic."""
    from compiler.load.files import check

    found: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if not path.is_dir():
            problem = check(path)
            if problem is None:
                found.append(path)
            else:
                problems.append(problem.diagnostic(display_path(path)))
            continue
        for entry in sorted(os.scandir(path), key=lambda e: e.name):
            name = entry.name
            if name.endswith(".yaml") and name[0] not in "._":
                # d_type says "regular file" without a system call: the common case.
                if entry.is_file(follow_symlinks=False):
                    found.append(path / name)
                elif (problem := check(path / name)) is None:
                    found.append(path / name)  # a symlink to a file in the repository
                else:
                    problems.append(problem.diagnostic(display_path(path / name)))
            elif name[0] != ".":
                problem_ = _not_a_group(path, entry)
                if problem_ is not None:
                    problems.append(problem_)
    return found, problems


def environment_problems(folder: Path) -> list[Diagnostic]:
    """Misnamed files and sub-folders in the environments folder, which are never read."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []  # no environments folder: nothing to say
    found = (_not_a_group(folder, e, "environment files") for e in entries if e.name[0] != ".")
    return [d for d in found if d is not None]


def _not_a_group(
    folder: Path, entry: os.DirEntry[str], what: str = "group files"
) -> Diagnostic | None:
    """A file named almost like a group (`.yml`, `.YAML`) or a sub-folder, which is never
    read: said, so that nobody wonders why their group is not built."""
    name = entry.name
    shown = display_path(folder / name)
    if entry.is_dir():
        if name.startswith("_"):
            return None
        return Diagnostic(
            shown,
            1,
            1,
            "",
            "file-in-subfolder",
            "warning",
            f"`{name}/` is a sub-folder; files in it are not read: {what} live directly "
            f"in {display_path(folder)}/, so move its .yaml files up",
        )
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix == "yaml" or suffix.lower() not in ("yaml", "yml"):
        return None  # (`_name.yaml` is a shared layer: compiler/load/layers.py reads it)
    return Diagnostic(
        shown,
        1,
        1,
        "",
        "file-extension",
        "error",
        f"{what} end in .yaml; this file is not read: rename it to {stem}.yaml",
    )


def slug_problem(path: Path, display: str) -> Diagnostic | None:
    slug = path.name.removesuffix(".yaml")
    if SLUG.fullmatch(slug) and path.name.endswith(".yaml"):
        return None
    suggestion = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-")[:63] or "my-practice"
    return Diagnostic(
        display,
        1,
        1,
        "",
        "slug-invalid",
        "error",
        f"`{slug}` is not a valid group slug (the file name without .yaml): use lowercase "
        f"letters, digits and inner hyphens, at most 63 characters, e.g. {suggestion}.yaml",
    )


STALE_CODE = "output-stale"


# What each code this module reports means and how to fix it (see compiler.codes).
CODES: dict[str, tuple[str, str]] = {
    "file-in-subfolder": (
        "The groups folder has a sub-folder, whose files are never read.",
        "Groups live directly in the groups folder: move the .yaml files up, or the folder out.",
    ),
    "file-extension": (
        "A file in the groups folder ends in .yml, so it is not read.",
        "Rename it to end in .yaml.",
    ),
    "slug-invalid": (
        "A group file's name is not a valid slug.",
        "Use lowercase letters, digits and inner hyphens, at most 63 characters, e.g. "
        "sunrise-pediatrics.yaml.",
    ),
    STALE_CODE: (
        "A file in the output folder differs from what the groups produce (`build --check`).",
        "Run `pops build` and commit the result.",
    ),
}

"""The spare output tree: the previous `dist/`, kept to become the next one.

Swapping a whole new tree in is what makes a build atomic, but building a new
tree of tens of thousands of folders costs seconds on most filesystems. So a
build that replaces the output keeps the old tree in `.pops-cache/` instead of
deleting it. The next small change updates that spare tree (only the files
that differ from the wanted output) and swaps it in with one atomic exchange;
the tree it replaces becomes the new spare. Double buffering, as in graphics.

The spare is private state: a record (path -> stat and sha256 of each file)
says what it holds, files are checked by stat before they are kept, and a
spare whose record is missing or foreign is deleted and not used.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import orjson

from compiler.engine import stat_key

Record = dict[str, list[Any]]  # relative path -> [size, mtime_ns, ctime_ns, inode, sha256]


class Spare:
    """The spare tree of one output folder, and its record."""

    def __init__(self, cache_dir: Path, root: Path) -> None:
        self.root = root.absolute()
        name = hashlib.sha256(str(self.root).encode()).hexdigest()[:16]
        self.dir = cache_dir / f"spare-{name}"
        self.record_path = cache_dir / f"spare-{name}.json"

    def usable(self) -> bool:
        """The spare can be swapped with the output: same filesystem."""
        try:
            return os.stat(self.dir.parent).st_dev == os.stat(self.root.parent).st_dev
        except OSError:
            return False

    def load(self) -> Record | None:
        """The record of a spare tree that exists, or None (and the stray tree is removed)."""
        try:
            data = orjson.loads(self.record_path.read_bytes())
            if data["root"] == str(self.root) and self.dir.is_dir():
                record: Record = data["files"]
                return record
        except (OSError, ValueError, KeyError, TypeError):
            pass
        self.drop()
        return None

    def invalidate(self) -> None:
        """About to change the spare: until a new record is saved, it is not trusted."""
        self.record_path.unlink(missing_ok=True)

    def save(self, record: Record) -> None:
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.record_path.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps({"root": str(self.root), "files": record}))
        os.replace(temporary, self.record_path)

    def drop(self) -> None:
        self.invalidate()
        shutil.rmtree(self.dir, ignore_errors=True)

    def adopt(self, tree: Path, record: Record) -> None:
        """Keep `tree` (an output just replaced) as the spare."""
        if tree == self.dir:  # swapped with the spare itself: it already is in place
            self.save(record)
            return
        self.drop()
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        os.rename(tree, self.dir)
        self.save(record)


def bring_up_to_date(
    spare: Path, live: Path, record: Record, wanted: dict[str, str], written: set[str]
) -> set[str]:
    """Make `spare` hold exactly `wanted` (path -> sha256).

    Files in `written` were just rendered into it. Any other file the spare's
    record lists with the right hash stays (the spare is private and was
    recorded when it was set aside); the rest are copied from the live output,
    which holds them; files no longer wanted are removed. Copies replace files
    rather than write through them, since a spare file may share its inode with
    a live one. Returns every path written or copied.
    """
    made: set[Path] = set()
    touched = set(written)
    for rel, sha in wanted.items():
        if rel in written:
            continue
        known = record.get(rel)
        if known is not None and known[4] == sha:
            continue
        touched.add(rel)
        target = spare / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        temporary = target.with_name(f".{target.name}.pops-tmp")
        shutil.copyfile(live / rel, temporary)
        os.replace(temporary, target)
    for rel in sorted(set(record) - set(wanted)):
        target = spare / rel
        target.unlink(missing_ok=True)
        parent = target.parent
        while parent != spare and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    return touched


def record_of(tree: Path, shas: dict[str, str]) -> Record:
    """Stat every file of `tree` listed in `shas`, for a spare's record."""
    base = str(tree) + os.sep
    record: Record = {}
    for rel, sha in shas.items():
        try:
            record[rel] = [*stat_key(base + rel), sha]
        except OSError:
            continue
    return record

"""A shared layer file (`_defaults.yaml`, a base, an overlay entry) on its own: a partial
group whose every key is optional, checked before any group uses it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from compiler.diagnostics import Diagnostic
from compiler.load.document import Document
from compiler.load.files import MAX_BYTES, read_all
from compiler.model.from_document import group_from_document

DEFAULTS = "_defaults"


def display(path: Path) -> str:
    """How a layer file is named in messages and digests."""
    return path.as_posix().removeprefix("./")


def sha_file(path: Path) -> str:
    """sha256 of a file's bytes, "" when it cannot be read (a missing base, say)."""
    try:
        return hashlib.sha256(read_all(path, MAX_BYTES)).hexdigest()
    except OSError:  # (a FileProblem too: the loader reports it)
        return ""


# Keys of a file that say who owns it: checked, then dropped before any merge, so a
# group never inherits the owners of `_defaults.yaml` or of a base (see
# compiler/authoring/owners.py).
_OWNER_KEYS = ("owners", "owners_for")


def drop_owner_keys(doc: Document) -> None:
    for key in _OWNER_KEYS:
        if key in doc.data:
            del doc.data[key]
            for table in (doc.values, doc.keys, doc.raw, doc.origins):
                for p in [p for p in table if p[:1] == (key,)]:
                    del table[p]
            doc.nulls.difference_update([p for p in doc.nulls if p[:1] == (key,)])


def _not_allowed(doc: Document, key: str, code: str, message: str) -> Diagnostic:
    line, column = doc.position((key,), key=True)
    return Diagnostic(doc.file, line, column, key, code, "error", message)


def check_partial(
    doc: Document, *, allow_extends: bool = True, owners_for: bool = False
) -> list[Diagnostic]:
    """Unknown keys and wrong types in a layer file, on their own (every key optional).

    `owners_for` is allowed (and checked) only in `_defaults.yaml`; an overlay
    (`allow_extends=False`) names no owners: it changes settings, not files.
    """
    from compiler.authoring.owners import check_owners_for

    data = dict(doc.data)
    data.setdefault("name", "placeholder")
    if not allow_extends:
        data.pop("extends", None)
        data.pop("owners", None)
    data.pop("owners_for", None)
    probe = Document(doc.file, data, doc.values, doc.keys, doc.raw, doc.nulls)
    found = group_from_document(probe).diagnostics
    out = [d for d in found if d.code != "key-required"]
    if owners_for:
        out.extend(check_owners_for(doc)[1])
    elif "owners_for" in doc.data:
        message = "`owners_for` is allowed only in groups/_defaults.yaml; move it there"
        out.append(_not_allowed(doc, "owners_for", "owners-for-not-allowed", message))
    if not allow_extends and "owners" in doc.data:
        message = (
            "an overlay cannot set `owners`: owners belong to files; set them in the "
            "group file or in groups/_defaults.yaml"
        )
        out.append(_not_allowed(doc, "owners", "owners-not-allowed", message))
    if not allow_extends and "extends" in doc.data:
        line, column = doc.position(("extends",), key=True)
        out.append(
            Diagnostic(
                doc.file,
                line,
                column,
                "extends",
                "extends-not-allowed",
                "error",
                "`extends` is not allowed here; only groups and bases extend a base",
            )
        )
    return out


# What each code this module reports means and how to fix it (see compiler.codes).
CODES: dict[str, tuple[str, str]] = {
    "extends-not-allowed": (
        "`extends` is written where nothing can extend a base.",
        "Only groups and bases extend a base; remove `extends` from `_defaults.yaml` and "
        "from environment overlays.",
    ),
    "owners-for-not-allowed": (
        "`owners_for` is written outside `_defaults.yaml`.",
        "Extra approvers per panel are the platform's to set: move `owners_for` to "
        "groups/_defaults.yaml.",
    ),
    "owners-not-allowed": (
        "`owners` is written in an environment overlay.",
        "Owners belong to files under groups/: name them in the group, a base or _defaults.yaml.",
    ),
}

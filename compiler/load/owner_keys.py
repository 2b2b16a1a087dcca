"""The `owners` and `owners_for` keys of a file, checked where they are written.

They are not portal settings: the layers drop them before any merge (a group never
inherits the owners of `_defaults.yaml`), and `pops owners` reads them to write
CODEOWNERS (compiler/authoring/owners.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from compiler.diagnostics import Diagnostic
from compiler.load.located import Document, Path_, dotted
from compiler.model.owners import empty_message, owner_problem


@cache
def panels() -> tuple[str, ...]:
    """The panel names `owners_for` may use: the Group model's fields that hold a panel."""
    from pydantic import BaseModel

    from compiler.model import Group

    return tuple(
        info.alias or name
        for name, info in Group.model_fields.items()
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
    )


def _problem(doc: Document, at: Path_, code: str, message: str, *, key: bool = False) -> Diagnostic:
    line, column = doc.position(at, key=key)
    return Diagnostic(doc.file, line, column, dotted(at), code, "error", message)


def check_owner_list(doc: Document, at: Path_, value: Any) -> tuple[list[str], list[Diagnostic]]:
    """The owners at `at` in `doc` and the problems with them (the model's codes)."""
    if not isinstance(value, list):
        message = f'`{dotted(at)}` is a list of owners, e.g. ["@org/team", "@user"]'
        return [], [_problem(doc, at, "type-list", message)]
    if not value:
        return [], [_problem(doc, at, "owners-empty", empty_message(dotted(at)))]
    found: list[Diagnostic] = []
    owners: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            found.append(_problem(doc, (*at, index), "type-string", "an owner is text: quote it"))
            continue
        problem = owner_problem(item)
        if problem is not None:
            found.append(_problem(doc, (*at, index), "owner-invalid", problem))
        else:
            owners.append(item)
    return owners, found


def check_owners_for(doc: Document) -> tuple[dict[str, list[str]], list[Diagnostic]]:
    """`owners_for` of `_defaults.yaml`: panel name -> extra approvers, and its problems."""
    raw = doc.data.get("owners_for")
    if raw is None:
        return {}, []
    at: Path_ = ("owners_for",)
    if not isinstance(raw, dict):
        message = "`owners_for` maps a panel to its extra approvers, e.g. {payments: [...]}"
        return {}, [_problem(doc, at, "type-mapping", message)]
    out: dict[str, list[str]] = {}
    found: list[Diagnostic] = []
    for panel, value in raw.items():
        if panel not in panels():
            import difflib

            close = difflib.get_close_matches(str(panel), panels(), n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`?" if close else "use one of: " + ", ".join(panels())
            found.append(
                _problem(
                    doc,
                    (*at, panel),
                    "owners-for-panel",
                    f"`{panel}` is not a panel; {hint}",
                    key=True,
                )
            )
            continue
        owners, problems = check_owner_list(doc, (*at, panel), value)
        found.extend(problems)
        out[panel] = owners
    return out, found


# What each code this module reports means and how to fix it (see compiler.codes);
# the owner values' codes are the model's (compiler/model/types.py).
CODES: dict[str, tuple[str, str]] = {
    "owners-for-panel": (
        "`owners_for` names something that is not a panel of a group.",
        "Use a top-level panel of the group format, e.g. payments or authentication.",
    ),
}

"""docs/settings.md: the table of every setting, generated from the model.

`make docs` writes it (`python -m compiler.authoring.settings_doc`); `make check`
and tests/test_options.py fail when the committed copy is stale, so the page
cannot drift from what `pops validate` accepts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from compiler.model.options import options

DOC = Path("docs") / "settings.md"

_HEADER = """\
# Settings reference

<!-- Generated from compiler/model by `make docs`; do not edit by hand. -->

Every key a group file (`groups/<slug>.yaml`) can set, in the order of the model.
**Label** is the setting's name on the POPS admin screen, **Panel** the admin panel
it sits on, **Kind** how reviews and the preview show its value (boolean: on/off;
multiline: changes shown as a text diff; money: dollars and cents). A key left out
takes its default (`not set`: the portal leaves the feature out). Cross-field rules
(`pops validate` codes) are listed by `pops validate --format sarif`.

| Key | Label | Panel | Kind | Default | Example | Help |
| --- | --- | --- | --- | --- | --- | --- |
"""


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(value: Any, kind: str) -> str:
    if value is None:
        return "not set"
    if kind == "money":  # as an admin writes an amount: dollars and cents
        return f"`{value:.2f}`"
    text = json.dumps(value, ensure_ascii=False)
    return f"`{_cell(text)}`"


def render() -> str:
    """The whole page, deterministic."""
    rows = [
        f"| `{o.key}` | {_cell(o.label)} | {o.panel} | {o.kind} | "
        f"{'required' if o.required else _code(o.default, o.kind)} | {_code(o.example, o.kind)} | "
        f"{_cell(o.help)} |"
        for o in options()
    ]
    return _HEADER + "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    """Write docs/settings.md (run from the repository root); `--check` only compares."""
    text = render()
    current = DOC.read_text(encoding="utf-8") if DOC.is_file() else None
    if "--check" in argv:
        if current != text:
            print(f"stale  {DOC.as_posix()}; run `make docs` and commit it", file=sys.stderr)
            return 1
        return 0
    if current != text:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote  {DOC.as_posix()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""YAML syntax errors said in the admin's terms, at the place to fix.

libyaml reports where it gave up; these messages name the cause (an unclosed
quote, a tab, a second document, a colour whose `#` started a comment) and
point at where it was written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from compiler.diagnostics import Diagnostic
from compiler.load.document import Path_, dotted, yaml_error
from compiler.load.parser import compose

# A group is at most four levels deep; far deeper nesting is refused before it can
# exhaust Python's recursion limit (libyaml itself stops at 1000 levels).
MAX_DEPTH = 32
LOST_COLOR = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
# Under theme.colors anything glued to the `#` was meant as a colour (`#1976d2ff`, `#12345g`).
LOST_COLOR_ANY = re.compile(r"#[^\s#,\]}]+")


def lost_color_message(color: str) -> str:
    return (
        f"`{color}` is read as a comment because it starts with `#`, so this key has no "
        f'value; quote it: "{color}"'
    )


def quote_lost_colors(text: str) -> tuple[str, dict[tuple[int, int], str]] | None:
    """Recover `colors: {primary: #1976d2}`, where the comment swallows the rest of the line.

    In a flow mapping that is a syntax error far from the cause. Each `#...` right
    after a `:` (outside quotes) is replaced by `~` (no value, as in block style)
    until the text parses; the caller then reports each one where it was written.
    None when that does not make it parse.
    """
    lines = text.split("\n")
    quoted: dict[tuple[int, int], str] = {}
    for _attempt in range(50):
        spot = _first_lost_value(lines, quoted)
        if spot is None:
            return None
        row, column, token = spot
        line = lines[row]
        lines[row] = f"{line[:column]}~{' ' * (len(token) - 1)}{line[column + len(token) :]}"
        quoted[(row + 1, column + 1)] = token
        patched = "\n".join(lines)
        try:
            compose(patched)
        except yaml.YAMLError:
            continue
        return patched, quoted
    return None


def _first_lost_value(
    lines: list[str], done: dict[tuple[int, int], str]
) -> tuple[int, int, str] | None:
    """(row, column, token) of the first `key: #token` whose `#` starts a comment."""
    for row, line in enumerate(lines):
        quote = ""
        for column, char in enumerate(line):
            if quote:
                if char == quote:
                    quote = ""
                continue
            if char in "\"'" and (column == 0 or line[column - 1] in " \t[{,:-?"):
                quote = char
            elif char == "#" and column and line[column - 1] in " \t":
                before = line[:column].rstrip()
                match = LOST_COLOR_ANY.match(line, column)
                if before.endswith(":") and match and (row + 1, column) not in done:
                    return row, column, match.group(0)
                break  # a real comment: the rest of the line is not YAML
    return None


def lost_in_flow(
    file: str, values: dict[Path_, tuple[int, int]], quoted: dict[tuple[int, int], str]
) -> Iterator[Diagnostic]:
    where = {position: path for path, position in values.items() if position in quoted}
    for (line, column), token in sorted(quoted.items()):
        path = where.get((line, column), ())
        colour = path[:2] == ("theme", "colors") or LOST_COLOR.fullmatch(token)
        yield yaml_error(
            file,
            line,
            column,
            "yaml-unquoted-color" if colour else "yaml-syntax",
            lost_color_message(token),
            dotted(path),
        )


def syntax_error(exc: yaml.YAMLError, text: str, file: str) -> Diagnostic:
    if isinstance(exc, yaml.reader.ReaderError):
        position = exc.position
        before = text[:position]
        line = before.count("\n") + 1
        column = position - (before.rfind("\n") + 1) + 1
        char = ord(exc.character) if isinstance(exc.character, str) else exc.character
        return yaml_error(
            file,
            line,
            column,
            "yaml-control-character",
            f"control character U+{char:04X} is not allowed; delete it",
        )
    mark = getattr(exc, "problem_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        lines = text.split("\n")
        row = lines[mark.line] if mark.line < len(lines) else ""
        if "\t" in row[: mark.column + 1]:
            tab = row.index("\t") + 1
            return yaml_error(
                file,
                line,
                tab,
                "yaml-tab",
                "tab character in indentation; YAML indents with spaces only",
            )
    if "maximum nesting depth" in str(exc):
        return too_deep(file, line, column, "")
    if "expected a single document" in str(exc):
        return yaml_error(
            file,
            line,
            column,
            "yaml-multiple-documents",
            "a second YAML document starts here (`---`); a group file holds exactly one "
            "document: move the other group to its own file",
        )
    context = getattr(exc, "context", None)
    hint = _syntax_hint(exc, text)
    if hint is not None:
        (line, column), message = hint
        return yaml_error(file, line, column, "yaml-syntax", f"YAML syntax error: {message}")
    detail = f"{context}, {problem}" if context else problem
    return yaml_error(file, line, column, "yaml-syntax", f"YAML syntax error: {detail}")


def _syntax_hint(exc: yaml.YAMLError, text: str) -> tuple[tuple[int, int], str] | None:
    """The common syntax errors, said in the admin's terms at the place to fix.

    libyaml reports an unclosed quote or bracket where it gave up (often the end
    of the file); the fix is where the quote or bracket was opened.
    """
    context = getattr(exc, "context", None) or ""
    problem = getattr(exc, "problem", None) or ""
    start = getattr(exc, "context_mark", None)
    mark = getattr(exc, "problem_mark", None)
    if start is not None and context == "while scanning a quoted scalar":
        lines = text.split("\n")
        if start.line < len(lines):
            quote = lines[start.line][start.column : start.column + 1] or '"'
        else:  # libyaml also breaks lines at \r, NEL and U+2028/9; its index still holds
            quote = "'" if text[start.index : start.index + 1] == "'" else '"'
        return (start.line + 1, start.column + 1), (
            f"the quoted value that starts here with {quote} is never closed; add the "
            f"closing {quote} (inside \"...\" write \\\" for a quote, inside '...' write '')"
        )
    if start is not None and context in {
        "while parsing a flow sequence",
        "while parsing a flow mapping",
    }:
        opening, closing = ("[", "]") if "sequence" in context else ("{", "}")
        return (start.line + 1, start.column + 1), (
            f"the `{opening}` that starts here is missing a `,` between items or its closing "
            f"`{closing}`"
        )
    if mark is None:
        return None
    where = (mark.line + 1, mark.column + 1)
    if problem == "found character that cannot start any token":
        row = text.split("\n")[mark.line] if mark.line < len(text.split("\n")) else ""
        char = row[mark.column : mark.column + 1]
        return where, f'a value cannot start with "{char}"; put the value in quotes'
    if problem == "mapping values are not allowed in this context":
        return where, (
            "unexpected `:` here; if the value contains `: `, put it in quotes, otherwise "
            "check the indentation of this line"
        )
    if context == "while parsing a block mapping" and problem == "did not find expected key":
        return where, (
            "this line is not indented like the keys around it; line up keys of the same "
            "section with spaces"
        )
    return None


def too_deep(file: str, line: int, column: int, path: str) -> Diagnostic:
    return yaml_error(
        file,
        line,
        column,
        "yaml-too-deep",
        f"values are nested more than {MAX_DEPTH} levels deep here; a group file needs at "
        "most four levels (e.g. authentication.mfa.enabled): remove the extra brackets "
        "or indentation",
        path,
    )


# What each code this module reports means and how to fix it (see compiler/codes.py).
CODES: dict[str, tuple[str, str]] = {
    "yaml-syntax": (
        "The file is not valid YAML.",
        "Fix the syntax at the reported place; quoting a value often helps.",
    ),
    "yaml-unquoted-color": (
        "A colour is written without quotes, so YAML reads `#` as a comment.",
        'Quote the colour: `primary: "#1976d2"`.',
    ),
    "yaml-control-character": (
        "The file contains a control character.",
        "Delete the character; it is invisible in most editors.",
    ),
    "yaml-tab": (
        "A tab character is used for indentation.",
        "YAML indents with spaces only; replace the tab with spaces.",
    ),
    "yaml-multiple-documents": (
        "The file holds more than one YAML document (`---`).",
        "A group file holds exactly one document: move the other group to its own file.",
    ),
    "yaml-too-deep": (
        "Values are nested deeper than a group file ever needs.",
        "Remove the extra brackets or indentation; the deepest key has four levels "
        "(e.g. authentication.mfa.enabled).",
    ),
}

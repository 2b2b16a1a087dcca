"""Text for a terminal or a CI log: admin values shown, never obeyed.

A group value can hold any character a YAML escape can write ("\\r", "\\x1b[2J",
"\\u2028"). Printed raw, a line break would forge another diagnostic (or, in the
github format, another `::error` command) and an escape sequence would repaint
the terminal. Every line of text output goes through `printable`, which shows
such characters as Python-style escapes instead. JSON output needs none of
this: json.dumps escapes them itself.
"""

from __future__ import annotations

import re

# C0 controls (tab and line breaks included), DEL, C1 controls (NEL among them), the
# Unicode line and paragraph separators, and the bidirectional overrides and isolates
# that can make text read differently from what it is.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` on one line, with every control or line-breaking character escaped visibly."""
    if text.isprintable():  # one C pass; false for every character escaped here (and more)
        return text
    return _UNPRINTABLE.sub(_escape, text)

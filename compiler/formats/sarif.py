"""SARIF 2.1.0, the log GitHub code scanning and other analysis tools read.

One run; its rules are every code pops knows (compiler.codes), so a result's
`ruleIndex` means the same in every log of the same version. A result carries
every field of the json format: the file and 1-based line and column (columns
count Unicode code points, as the run says), the severity as `level`, the code
as `ruleId`, the dotted key path as a logical location, and the message. Where
a problem involves values other layers wrote, or sits in a shared file and
breaks groups, those places are its related locations.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from compiler import __version__
from compiler.codes import CodeInfo, catalogue
from compiler.diagnostics import Diagnostic

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
ROOT = "%SRCROOT%"  # file names are relative to where pops ran: the repository's root


def _uri(file: str) -> str:
    """A relative URI reference for a file name (spaces and `%` escaped, `/` kept)."""
    return quote(file, safe="/")


def _location(file: str, line: int, column: int) -> dict[str, Any]:
    return {
        "artifactLocation": {"uri": _uri(file), "uriBaseId": ROOT},
        "region": {"startLine": line, "startColumn": column},
    }


def _rule(info: CodeInfo) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": info.code,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": info.summary},
        "defaultConfiguration": {"level": info.severity},
    }
    if info.help:
        rule["help"] = {"text": info.help}
    return rule


def _result(d: Diagnostic, index: int) -> dict[str, Any]:
    location: dict[str, Any] = {"physicalLocation": _location(d.file, d.line, d.column)}
    if d.path:
        location["logicalLocations"] = [{"fullyQualifiedName": d.path, "kind": "member"}]
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": index,
        "level": d.severity,
        "message": {"text": d.message},
        "locations": [location],
    }
    if d.related:
        result["relatedLocations"] = [
            {
                "id": n,
                "physicalLocation": _location(r.file, r.line, r.column),
                "message": {"text": r.message},
            }
            for n, r in enumerate(d.related, start=1)
        ]
    return result


def format_diagnostics(diagnostics: list[Diagnostic]) -> str:
    known = catalogue()
    infos = list(known.values())
    # A code missing from the catalogue (a pydantic error type no one mapped yet) still
    # gets a rule, so the log stays valid; tests keep the catalogue complete.
    for code in sorted({d.code for d in diagnostics} - known.keys()):
        infos.append(CodeInfo(code, f"`{code}`: see the result's message.", "", "error"))
    index = {info.code: i for i, info in enumerate(infos)}
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pops",
                        "version": __version__,
                        "rules": [_rule(info) for info in infos],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(d, index[d.code]) for d in diagnostics],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"

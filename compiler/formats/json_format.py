"""One JSON object on stdout, for tools: `{"diagnostics": [...], "errors": N, "warnings": N}`."""

from __future__ import annotations

import json

from compiler.diagnostics import Diagnostic, count


def format_diagnostics(diagnostics: list[Diagnostic]) -> str:
    errors, warnings = count(diagnostics)
    payload = {
        "diagnostics": [
            {
                "file": d.file,
                "line": d.line,
                "column": d.column,
                "severity": d.severity,
                "code": d.code,
                "path": d.path,
                "message": d.message,
            }
            for d in diagnostics
        ],
        "errors": errors,
        "warnings": warnings,
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"

"""The sha256 of an artifact, computed once however many places name it.

config.json records the sha256 of theme.css and of the MFA files, and the
manifest records every file's: the same bytes were hashed twice per group. The
renderers and the writer both ask here; a few recent results are kept for the
very same bytes object (bytes are immutable, so identity is enough).
"""

from __future__ import annotations

import hashlib

_RECENT = 16
_recent: dict[int, tuple[bytes, str]] = {}


def sha256_hex(data: bytes) -> str:
    """hashlib.sha256(data).hexdigest(), remembered for the last few objects."""
    known = _recent.get(id(data))
    if known is not None and known[0] is data:
        return known[1]
    digest = hashlib.sha256(data).hexdigest()
    if len(_recent) >= _RECENT:
        _recent.pop(next(iter(_recent)))
    _recent[id(data)] = (data, digest)
    return digest

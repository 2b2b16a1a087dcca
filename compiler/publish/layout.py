"""Where things live on a target: one layout for the local folder and for S3.

```
objects/<h[:2]>/<h><ext>    immutable, content-addressed by sha256 h (Cache-Control immutable)
releases/...                one manifest per release (local: a whole tree, S3: <id>.json)
groups/<slug>/config.json   what the portal reads (local: inside the `current` tree;
                            S3: a mutable key, written only after its objects exist)
current / current.json      the switch: local symlink, S3 pointer written by compare-and-swap
.pops/lock.json             the publish lock
```
"""

from __future__ import annotations

import posixpath
import re

OBJECTS = "objects"
RELEASES = "releases"
TREES = "trees"
GROUPS = "groups"
STATE_DIR = ".pops"
LOCK_KEY = f"{STATE_DIR}/lock.json"
S3_POINTER_KEY = "current.json"
LOCAL_CURRENT = "current"
RELEASE_FILE = "release.json"

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
NO_STORE = "no-store"

_CONTENT_TYPES = {
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
_HEX = re.compile(r"[0-9a-f]{64}")
_OBJECT = re.compile(r"objects/([0-9a-f]{2})/([0-9a-f]{64})(\.[a-z0-9]{1,10})?")
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")


def is_sha256(text: str) -> bool:
    """True for a lowercase hex sha256 digest."""
    return _HEX.fullmatch(text) is not None


def extension(path: str) -> str:
    """The lowercase suffix kept on objects, so web servers and CDNs know the content type."""
    ext = posixpath.splitext(path)[1].lower()
    return ext if re.fullmatch(r"\.[a-z0-9]{1,10}", ext) else ""


def object_key(sha256: str, path: str) -> str:
    """The immutable name of some bytes: their sha256, plus the extension of `path`."""
    return f"{OBJECTS}/{sha256[:2]}/{sha256}{extension(path)}"


def object_sha256(key: str) -> str | None:
    """The digest an object key promises, or None when the key is not an object."""
    match = _OBJECT.fullmatch(key)
    if match is None or match.group(2)[:2] != match.group(1):
        return None
    return match.group(2)


def content_type(path: str) -> str:
    """Content-Type for S3 uploads; web servers serving the local target use their own map."""
    return _CONTENT_TYPES.get(extension(path), "application/octet-stream")


def group_of(path: str) -> str | None:
    """`groups/<slug>/...` -> slug; None for files outside any group."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] == GROUPS:
        return parts[1]
    return None


def is_entry(path: str) -> bool:
    """A group's config.json: the one mutable path per group the portal starts from."""
    parts = path.split("/")
    return len(parts) == 3 and parts[0] == GROUPS and parts[2] == "config.json"


def check_relative(path: str) -> str:
    """Refuse manifest paths that could escape the target (absolute, `..`, odd characters)."""
    parts = path.split("/")
    if (
        not path
        or path.startswith("/")
        or any(part in ("", ".", "..") or not _SAFE_SEGMENT.fullmatch(part) for part in parts)
        or parts[0] in (OBJECTS, RELEASES, TREES, STATE_DIR, LOCAL_CURRENT, S3_POINTER_KEY)
        or path == RELEASE_FILE
    ):
        raise ValueError(f"unsafe or reserved path in manifest: {path!r}")
    return path

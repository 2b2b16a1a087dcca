"""What lets a file in `.pops-cache/` be trusted: the compiler's fingerprint and a checksum.

Every build reads these first, before it knows whether anything changed, so
this module imports nothing beyond the interpreter's own C modules: a build
the seal proves up to date never pays for pathlib, dataclasses or typing.
"""

from __future__ import annotations

import hashlib
import os
import zlib

from compiler import __version__

CACHE_DIR = ".pops-cache"
_SOURCE_SUFFIXES = (".py", ".j2", ".html", ".css", ".txt")


def _package() -> str:
    """The `compiler` package folder (this module sits one level below it)."""
    return os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def templates_folder() -> str:
    """Where the templates are: `compiler/templates/` in an installed wheel (setup.py
    copies them there), else `templates/` beside the package, in the repository that an
    editable install runs from."""
    package = _package()
    inside = os.path.join(package, "templates")
    if os.path.isdir(inside):
        return inside
    return os.path.join(os.path.dirname(package), "templates")


def compiler_roots() -> tuple[str, ...]:
    """The folders whose source and templates make up the compiler (the package already
    holds the templates when they were installed inside it)."""
    package = _package()
    templates = templates_folder()
    if os.path.dirname(templates) == package:
        return (package,)
    return (package, templates)


def fingerprint(roots: tuple[str | os.PathLike[str], ...] | None = None) -> str:
    """The compiler as a build input: its version, its Python source and its templates.

    Worked out once per process (per `roots`), until `forget_fingerprints`.
    """
    known = _FINGERPRINTS.get(roots)
    if known is None:
        known = _FINGERPRINTS[roots] = _fingerprint(roots)
    return known


_FINGERPRINTS: dict[tuple[str | os.PathLike[str], ...] | None, str] = {}


def forget_fingerprints() -> None:
    """For tests that change the compiler under a running process."""
    _FINGERPRINTS.clear()


def _fingerprint(roots: tuple[str | os.PathLike[str], ...] | None) -> str:
    digest = hashlib.sha256(f"pops {__version__}\n".encode())
    for root in roots if roots is not None else compiler_roots():
        found: list[tuple[str, str]] = []  # (path relative to root, path)
        for folder, _, names in os.walk(root):
            rel = os.path.relpath(folder, root).replace(os.sep, "/")
            found += [
                (name if rel == "." else f"{rel}/{name}", os.path.join(folder, name))
                for name in names
                if name.endswith(_SOURCE_SUFFIXES)
            ]
        # In path order, part by part (as sorting Path objects would), every run alike.
        for rel, path in sorted(found, key=lambda item: item[0].split("/")):
            digest.update(rel.encode() + b"\0")
            with open(path, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()


def cache_folder(groups_dir: str | os.PathLike[str]) -> str:
    """`.pops-cache/` beside the groups folder."""
    return os.path.join(os.path.dirname(os.fspath(groups_dir)), CACHE_DIR)


# No file in the cache folder is read past this size: one that has grown beyond it
# (a cache of a million groups is far below) is not ours to trust, only to replace.
MAX_CACHE_BYTES = 1 << 28


def read_bounded(path: str | os.PathLike[str], limit: int = MAX_CACHE_BYTES) -> bytes | None:
    """A cache file's bytes, or None when it is missing, unreadable, not a regular file
    or larger than `limit`: never read whole whatever it has grown to."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not 0 <= st.st_size <= limit or (st.st_mode & 0o170000) != 0o100000:
            return None
        chunks: list[bytes] = []
        left = st.st_size + 1  # (one more: a file still growing is refused below)
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    return data if len(data) == st.st_size else None


def with_checksum(body: bytes) -> bytes:
    """`body` behind its length and CRC-32: enough to catch a truncated, grown or
    damaged cache file."""
    return len(body).to_bytes(8, "big") + checksum(body) + body


def checksum(body: bytes) -> bytes:
    """The 4 bytes of CRC-32 `with_checksum` puts before `body`."""
    return zlib.crc32(body).to_bytes(4, "big")


def verified(raw: bytes | memoryview | None) -> memoryview | None:
    """The body of a with_checksum file (without copying it), or None when it is damaged."""
    if raw is None:
        return None
    view = memoryview(raw)
    if len(view) < 12 or int.from_bytes(view[:8], "big") != len(view) - 12:
        return None
    body = view[12:]
    return body if zlib.crc32(body).to_bytes(4, "big") == view[8:12] else None

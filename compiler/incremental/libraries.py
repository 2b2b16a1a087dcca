"""The libraries whose behaviour reaches the output, as a build input.

The caches' keys cover our own code (integrity.fingerprint); they must cover
the libraries too: a markupsafe that escapes `'` differently, a newer
phonenumbers or pydantic, changes bytes in `dist/` as surely as our templates
do. A library is known by the stat (size, mtime, ctime, inode) of every file it
installed, as its dist-info RECORD lists them (every file of its folder for an
editable install), and of the folders on `sys.path` up to its own, where a
module that shadows it would appear. Stats, not hashes: an upgrade, a reinstall or an edit
in place each move them (ctime cannot be set back), and stat calls are cheap
enough for the seal to check on every no-op build, alongside the outputs.
(The seal's key holds `sys.path` itself.)

Worked out once per process (forked workers inherit it).
"""

from __future__ import annotations

import hashlib
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from compiler.incremental.seal import Stats

# Import name -> distribution name, for every library a build's bytes depend on:
# parsing (PyYAML, ruamel.yaml), validation and normalisation (pydantic and its
# core, email-validator with idna, phonenumbers), rendering (Jinja2, MarkupSafe)
# and writing (orjson).
LIBRARIES = {
    "yaml": "PyYAML",
    "ruamel.yaml": "ruamel.yaml",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic-core",
    "email_validator": "email-validator",
    "idna": "idna",
    "phonenumbers": "phonenumbers",
    "jinja2": "Jinja2",
    "markupsafe": "MarkupSafe",
    "orjson": "orjson",
}

_KNOWN: tuple[list[str], Stats, str] | None = None


def watched() -> tuple[list[str], Stats]:
    """The files and folders that stand for the libraries (absolute paths), and
    their stats as this process found them."""
    known = _known()
    return known[0], known[1]


def digest() -> str:
    """One digest of the libraries as installed, for the caches' keys."""
    return _known()[2]


def forget() -> None:
    """Work it out again on next use (after `assume`d stats turned out to have moved)."""
    global _KNOWN
    _KNOWN = None


def assume(paths: list[str], stats: Stats) -> None:
    """Take the libraries to be as a seal recorded them, without looking them up: the
    caller checks `stats` against the disk before it keeps anything made meanwhile,
    and calls `forget` when they differ."""
    global _KNOWN
    _KNOWN = paths, stats, _digest(paths, stats)


def _digest(paths: list[str], stats: Stats) -> str:
    hashed = hashlib.sha256("\n".join(paths).encode())
    hashed.update(stats.tobytes())
    return hashed.hexdigest()


def _known() -> tuple[list[str], Stats, str]:
    global _KNOWN
    if _KNOWN is None:
        from compiler.incremental.seal import stat_paths

        paths = _paths()
        fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
        try:
            stats = stat_paths(paths, fd)  # (absolute paths: the folder is not used)
        finally:
            os.close(fd)
        _KNOWN = paths, stats, _digest(paths, stats)
    return _KNOWN


def _paths() -> list[str]:
    # (Not sys.path[0]: the script's own folder, or the working folder, which the seal's
    # key holds; a pops started either way finds the same libraries.)
    folders = [os.path.abspath(p or ".") for p in sys.path[1:]]
    found: list[str] = []
    reach = 0
    for module, distribution in LIBRARIES.items():
        site, files = _installed(module, distribution)
        found += files
        reach = max(reach, _reach(site, folders))
    return folders[:reach] + found


def _reach(site: str | None, folders: list[str]) -> int:
    """How many `sys.path` folders a module shadowing a library found in `site` could
    come from: those up to and including `site`. A folder later on the path cannot
    (the editable checkout of pops, last, changes with every build of its own
    groups); a library found in none of them leaves them all."""
    if site is not None:
        for index, folder in enumerate(folders):
            if os.path.realpath(folder) == site:
                return index + 1
    return len(folders)


def _installed(module: str, distribution: str) -> tuple[str | None, list[str]]:
    """The folder the module was found in (real path), and every file `distribution`
    installed (its RECORD lists them), or, for an editable install or one without a
    RECORD, every file below the module's folder."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or (spec.origin is None and not spec.submodule_search_locations):
        return None, [f"<{module} is not installed>"]
    locations = list(spec.submodule_search_locations or [os.path.dirname(spec.origin or "")])
    site = os.path.realpath(locations[0])  # a package's folder, or a module's own folder
    for _level in range(module.count(".") + bool(spec.submodule_search_locations)):
        site = os.path.dirname(site)
    record = _record(site, distribution)
    if record is not None:
        rels = _listed(record)
        if rels is not None:
            return site, [record, *(os.path.normpath(os.path.join(site, rel)) for rel in rels)]
    files: list[str] = []
    for location in locations:
        for folder, dirs, names in os.walk(location):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            files += [os.path.join(folder, n) for n in sorted(names)]
    return site, files or [spec.origin or module]


def _record(site: str, distribution: str) -> str | None:
    """The RECORD of `distribution` in `site`, unless the install is editable."""
    wanted = _normal(distribution)
    try:
        names = os.listdir(site)
    except OSError:
        return None
    for name in sorted(names):
        if name.endswith(".dist-info") and _normal(name.partition("-")[0]) == wanted:
            folder = os.path.join(site, name)
            try:
                with open(os.path.join(folder, "direct_url.json"), "rb") as handle:
                    if b'"editable": true' in handle.read(1 << 16):
                        return None  # its RECORD names a path hook, not the code
            except OSError:
                pass
            return os.path.join(folder, "RECORD")
    return None


def _normal(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _listed(record: str) -> list[str] | None:
    """The files a RECORD lists, bytecode left out (Python checks it against its source)."""
    try:
        with open(record, encoding="utf-8") as handle:
            lines = handle.read(1 << 24).splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    rels = [line.partition(",")[0] for line in lines]
    return sorted(rel for rel in rels if rel and not rel.endswith(".pyc"))

"""`pops build --check`: what a build would change in the output, writing nothing there."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from compiler.diagnostics import Diagnostic
from compiler.incremental.cache import Cache
from compiler.incremental.integrity import read_bounded
from compiler.incremental.quick import from_seal
from compiler.incremental.sealing import Sealing
from compiler.pipeline import ownership
from compiler.pipeline.compiling import gc_paused, run_scopes
from compiler.pipeline.discovery import STALE_CODE
from compiler.pipeline.group import Compilation, env_dir_for, output_dir, scope_root
from compiler.pipeline.writer import MANIFEST, Stale

TYPE_CHECKING = False
if TYPE_CHECKING:
    from compiler.incremental.engine import Progress, ScopeResult


_STALE_MESSAGES = {
    "changed": "differs from what the groups produce",
    "missing": "is missing: the groups produce it",
    "extra": "is not produced by the groups (a removed group's file, or one added by hand)",
}


@dataclass(slots=True)
class CheckReport:
    compilation: Compilation
    stale: list[Stale]

    @property
    def ok(self) -> bool:
        return self.compilation.ok and not self.stale

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.compilation.diagnostics

    def stale_diagnostics(self, shown: str) -> list[Diagnostic]:
        """Each stale file as a whole-file error, for the formats tools read (json,
        github, sarif); `shown` is the output folder as the user named it."""
        return [
            Diagnostic(
                f"{shown}/{item.path}",
                1,
                1,
                "",
                STALE_CODE,
                "error",
                f"{item.reason}: {shown}/{item.path} {_STALE_MESSAGES[item.reason]}; "
                "run `pops build` and commit the result",
            )
            for item in self.stale
        ]


@gc_paused
def check_output(
    groups_dir: Path,
    out_dir: Path,
    *,
    strict: bool = False,
    env: str | None = None,
    env_dir: Path | None = None,
    jobs: int | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
    resume: Sealing | None = None,
) -> CheckReport:
    """What `build` would change in the output; writes nothing to it.

    Groups the cache vouches for are checked by the size and mtime of their
    files (and by hash where those moved); the rest are rendered and compared
    byte for byte. `resume`: as for `build`.
    """
    root = output_dir(out_dir, env)
    if use_cache:
        sealing = resume
        if sealing is None:
            folder = env_dir_for(groups_dir, env_dir)
            sealing = Sealing.begin(groups_dir, folder, root, env, strict)
            sealing.open(root, jobs, locking=False)
        try:
            if sealing.unchanged():
                assert sealing.sealed is not None
                return CheckReport(from_seal(sealing.sealed, 0), [])
        finally:
            sealing.release()
    return _check_output(groups_dir, out_dir, strict, env, env_dir, jobs, use_cache, progress)


def _check_output(
    groups_dir: Path,
    out_dir: Path,
    strict: bool,
    env: str | None,
    env_dir: Path | None,
    jobs: int | None,
    use_cache: bool,
    progress: Progress | None,
) -> CheckReport:
    root = output_dir(out_dir, env)
    folder = env_dir_for(groups_dir, env_dir)
    from compiler.load.layers import environments

    envs = set(environments(folder)) if env is None else set()

    def targets(scope: str | None) -> tuple[Path | None, Path | None]:
        return None, scope_root(root, env, scope)

    compilation, results, caches = run_scopes(
        groups_dir,
        None,
        strict=strict,
        render=True,
        env=env,
        env_dir=env_dir,
        jobs=jobs,
        use_cache=use_cache,
        progress=progress,
        targets=targets,
        use_hits=lambda scope, cache: trusted(cache, scope_root(root, env, scope), manifest=False),
    )
    for cache in caches.values():
        cache.save()
    if not compilation.ok:
        return CheckReport(compilation, [])
    stale: list[Stale] = []
    for scope, result in results.items():
        prefix = "" if env is not None or scope is None else f"{scope}/"
        recorded = caches[scope].output.get("files", {})
        skip = envs if scope is None else set()
        found = _stale_in(scope_root(root, env, scope), result, recorded, skip)
        stale += [Stale(prefix + s.path, s.reason) for s in found]
    stale.sort(key=lambda s: s.path)
    return CheckReport(compilation, stale)


def _stale_in(
    here: Path, result: ScopeResult, recorded: dict[str, Any], skip: set[str]
) -> list[Stale]:
    """What differs in one scope's output folder `here` (paths relative to it); the
    environments' folders in `skip` are theirs to check."""
    from compiler.incremental.engine import list_files

    stale: list[Stale] = []
    expected: set[str] = {MANIFEST, ownership.MARKER}
    found = list_files(here, skip)
    for outcome in result.outcomes:
        for entry in outcome.entries or []:
            rel = str(entry["path"])
            expected.add(rel)
            if outcome.cached:
                reason = _verify(here / rel, entry, recorded.get(rel))
                if reason is not None:
                    stale.append(Stale(rel, reason))
        stale += outcome.stale
    manifest = here / MANIFEST
    if not manifest.is_file():
        stale.append(Stale(MANIFEST, "missing"))
    elif read_bounded(manifest, len(result.manifest or b"")) != result.manifest:
        stale.append(Stale(MANIFEST, "changed"))
    if not (here / ownership.MARKER).is_file():
        stale.append(Stale(ownership.MARKER, "missing"))
    elif marker_wrong(here):
        stale.append(Stale(ownership.MARKER, "changed"))
    return stale + [Stale(rel, "extra") for rel in sorted(unwanted(found, expected))]


def _verify(
    path: Path, entry: dict[str, Any], recorded: list[Any] | None
) -> Literal["changed", "missing"] | None:
    """None when `path` still holds the entry's bytes; else why not."""
    from compiler.incremental.engine import stat_key
    from compiler.load.layers import sha_file

    try:
        key = stat_key(path)
    except FileNotFoundError:
        return "missing"
    if recorded is not None and recorded == [*key, entry["sha256"]]:
        return None
    if key[0] != entry["size"] or sha_file(path) != entry["sha256"]:
        return "changed"
    return None


def unwanted(found: set[str], wanted: set[str]) -> set[str]:
    """What `found` (list_files) holds that nobody wants: not an emptied folder that a
    wanted file goes in (its files are missing; the folder itself is no stray)."""
    extra = found - wanted
    folders = {rel for rel in extra if rel.endswith("/")}
    if folders:
        holding = {rel[: i + 1] for rel in wanted for i, c in enumerate(rel) if c == "/"}
        extra -= folders & holding
    return extra


def marker_wrong(scope_root: Path) -> bool:
    """The build's marker is missing from `scope_root`, or not its exact bytes."""
    try:
        return (scope_root / ownership.MARKER).read_bytes() != ownership.marker("build")
    except OSError:
        return True


def trusted(cache: Cache, scope_root: Path, *, manifest: bool = True) -> bool:
    """The output folder is as this cache last left it (so unchanged groups need nothing)."""

    state = cache.output
    if not state or state.get("root") != str(scope_root.resolve()):
        return False
    if not manifest:
        return True
    found = read_bounded(scope_root / MANIFEST)  # (a manifest grown huge is not read)
    return found is not None and hashlib.sha256(found).hexdigest() == state.get("manifest_sha")

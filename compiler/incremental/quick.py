"""A build done from the seal: nothing changed, or only a few group files did.

`sealed_build` is the first thing a build tries once the seal is open
(sealing.py): when no input and no output moved it reports what the seal holds;
when only some group files changed it compiles just those groups, updates the
spare tree with what differs and swaps it in (spare.py: advance). Anything else
(and anything unexpected) returns None: the full pipeline runs instead.
"""

from __future__ import annotations

import bisect
import hashlib
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, finalize, from_row
from compiler.incremental import seal
from compiler.incremental.cache import cache_dir_for
from compiler.incremental.integrity import read_bounded
from compiler.incremental.sealing import Sealing
from compiler.pipeline.group import Compilation, GroupResult, compile_group, only_in_environment
from compiler.pipeline.writer import inputs_digest, patch_manifest


def from_seal(sealed: seal.Seal, compiled: int) -> Compilation:
    """What a build reports when the seal (and not the pipeline) did the work."""
    first = sealed.scopes[0]
    total = sum(len(s.slugs) for s in sealed.scopes)
    return Compilation(
        [from_row(d) for d in sealed.diagnostics],
        files=len(sealed.files),
        groups=list(first.slugs),
        inputs_digest=first.inputs_digest,
        compiled=compiled,
        reused=total - compiled,
    )


def sealed_build(
    sealing: Sealing, groups_dir: Path, folder: Path, root: Path
) -> Compilation | None:
    """The build, done from the opened seal: None when the full pipeline must run instead.

    While this process works out what changed (and compiles it), forked
    children stat the output tree on the other core.
    """
    sealed, changes, check = sealing.sealed, sealing.changes, sealing.check
    assert sealed is not None
    try:
        if changes is None or len(changes.groups) > seal.MAX_CHANGED:
            return None
        if not changes.groups:
            return from_seal(sealed, 0) if sealing.unchanged() else None
        if check is None:
            return None
        from compiler.incremental.spare import Spare, advance

        spare = Spare(cache_dir_for(groups_dir), root)
        # The outputs to children, and the spare tree's stats to one more: this
        # process compiles meanwhile.
        if not seal.complete(sealed):
            return None
        check.offload(spare.dir if _knows_spare(sealed) else None)
        from compiler.incremental import libraries
        from compiler.model import types

        # The libraries as the seal found them (their stats are checked with the outputs).
        libraries.assume(sealed.libs, sealed.lib_stats)
        types.remember(sealed.valid)  # emails and phones checked before need no library
        strict = bool(sealing.key[-1])
        update = _compile_changed(sealed, changes.groups, groups_dir, folder, root, strict)
        sealed.valid += "".join(f"\n{k}\t{v}" for k, v in types.learned().items())
        if not check.intact():
            # Maybe a library moved: nothing keyed on the assumed one may be kept.
            libraries.forget()
            types.remember("")  # (verdicts of the libraries the seal knew)
            return None
        if update is None:
            return None
        wanted, sizes, data, diagnostics = update
        seal.discard(sealing.path)
        if not spare.usable():
            return None
        spare.invalidate()  # the pipeline's own record of the spare is about to be wrong
        if data and not advance(sealed, root, spare.dir, wanted, data, check.spare_stats()):
            return None
        sealed.sizes = sizes
        sealed.diagnostics = diagnostics
        if sealing.inputs is not None:
            _, sealed.input_stats, sealed.input_dirs = sealing.inputs
        seal.save(sealing.path, sealed)
    finally:
        sealing.release()
    return from_seal(sealed, len(changes.groups) * len(sealed.scopes))


def _knows_spare(sealed: seal.Seal) -> bool:
    """The seal records a spare tree (whose files are checked before it is used)."""
    return sealed.spare_dirs is not None and sealed.spare is not None


def _compile_changed(
    sealed: seal.Seal,
    slugs: list[str],
    groups_dir: Path,
    folder: Path,
    root: Path,
    strict: bool,
) -> tuple[bytearray, list[int], dict[int, bytes], list[tuple[Any, ...]]] | None:
    """Each output's sha256 (raw, 32 bytes each) and size after compiling the changed
    groups, the new bytes of the files that differ (by index in sealed.files), and
    the build's diagnostics (as the seal keeps them).

    None unless every changed group compiles in every scope with at most warnings in
    its own file (without `strict`) and writes the same files as before (so the
    seal's layout still holds). The scopes' digests and manifests' records are
    updated in place.
    """
    wanted = bytearray(sealed.sha_blob)
    sizes = list(sealed.sizes)
    data: dict[int, bytes] = {}
    found: dict[str, dict[str | None, list[Diagnostic]]] = {}  # file -> scope -> its own
    for scope in sealed.scopes:
        ok = _compile_scope(sealed, scope, slugs, groups_dir, folder, strict, found)
        if ok is None:
            return None
        changed = _take(sealed, scope, ok, wanted, sizes, data)
        at = scope.end - 1
        old = read_bounded(root / sealed.files[at], sealed.sizes[at])
        if old is None:
            return None
        manifest = patch_manifest(old, scope.inputs_digest, changed)
        if manifest is None:
            return None
        wanted[32 * at : 32 * at + 32] = hashlib.sha256(manifest).digest()
        sizes[at], data[at] = len(manifest), manifest
    diagnostics = _merged_diagnostics(sealed.diagnostics, found, folder)
    if diagnostics is None:
        return None
    return wanted, sizes, data, diagnostics


def _compile_scope(
    sealed: seal.Seal,
    scope: seal.Scope,
    slugs: list[str],
    groups_dir: Path,
    folder: Path,
    strict: bool,
    found: dict[str, dict[str | None, list[Diagnostic]]],
) -> dict[int, bytes] | None:
    """The changed groups' files in one scope (by index in sealed.files), their
    diagnostics added to `found`; the scope's digests updated. None when a group
    cannot be taken this way (see _compile_changed)."""
    from compiler.incremental.engine import input_sha
    from compiler.load.layers import load_layers

    # (The bases are as the seal found them, clean: only those these groups name.)
    layers = load_layers(groups_dir, scope.env, folder, every_base=False)
    digests = scope.digests
    files: dict[int, bytes] = {}
    for slug in slugs:
        position = bisect.bisect_left(scope.slugs, slug)
        if position == len(scope.slugs) or scope.slugs[position] != slug:
            return None
        result = compile_group(groups_dir / f"{slug}.yaml", layers=layers)
        if result.files is None or layers.diagnostics:
            return None
        if result.diagnostics and (strict or not _own_warnings(result)):
            return None  # (a problem in a shared file is merged across groups)
        found.setdefault(result.file, {})[scope.env] = result.diagnostics
        lo, hi = seal.group_range(sealed, scope, slug)
        if [scope.prefix + rel for rel in result.files] != sealed.files[lo:hi]:
            return None
        files.update(zip(range(lo, hi), result.files.values(), strict=True))
        digests[position] = input_sha(result.source_sha256, result.file, result.inputs, layers)
    scope.inputs_digest = inputs_digest(zip(scope.slugs, digests, strict=True))
    scope.digest_blob = seal.blob(digests)
    return files


def _take(
    sealed: seal.Seal,
    scope: seal.Scope,
    files: dict[int, bytes],
    wanted: bytearray,
    sizes: list[int],
    data: dict[int, bytes],
) -> dict[str, tuple[str, int]]:
    """Record the files whose bytes differ in `wanted`, `sizes` and `data`; those
    files for the scope's manifest (path -> sha256 and size)."""
    cut = len(scope.prefix)
    changed: dict[str, tuple[str, int]] = {}
    for i, content in files.items():
        sha = hashlib.sha256(content).digest()
        if sha != wanted[32 * i : 32 * i + 32]:
            wanted[32 * i : 32 * i + 32], sizes[i], data[i] = sha, len(content), content
            changed[sealed.files[i][cut:]] = (sha.hex(), len(content))
    return changed


def _own_warnings(result: GroupResult) -> bool:
    """Every problem of this group is a warning in its own file: one that a full build
    reports as it is, apart from every other group's."""
    return all(d.severity == "warning" and d.file == result.file for d in result.diagnostics)


def _merged_diagnostics(
    rows: list[tuple[Any, ...]],
    found: dict[str, dict[str | None, list[Diagnostic]]],
    folder: Path,
) -> list[tuple[Any, ...]] | None:
    """The build's diagnostics (as rows) once the changed groups' own are replaced by
    `found` (group file -> scope -> its diagnostics there), combined across scopes as
    the full pipeline combines them (`_combine`). None when a kept diagnostic involves
    a changed group (a problem in a shared file that names it): the pipeline decides.
    """
    from compiler.diagnostics import to_row

    kept: list[Diagnostic] = []
    for row in rows:
        d = from_row(row)
        if d.file in found:
            continue
        if any(r.file in found for r in d.related):
            return None
        kept.append(d)
    for scopes in found.values():
        if None not in scopes:  # (`--env NAME`: that environment alone, as it is)
            kept += [d for part in scopes.values() for d in part]
            continue
        base = finalize(scopes[None], strict=False)
        kept += base
        for name, part in scopes.items():
            if name is not None:
                kept += only_in_environment(base, finalize(part, strict=False), name, folder)
    return [to_row(d) for d in finalize(kept, strict=False)]

"""Which shared files changed between the sides, and how many groups each one changes.

With layers (`compiler.load.layers`) one line of `_defaults.yaml`, a base or an
environment file can change hundreds of groups. A group counts for a file when
its effective settings differ between the working tree and the working tree
with only that file as it was at the base. When that file is the only shared
file of its scope that changed, the base build already is that build for every
group whose own file did not change, so `compiler.review.plan` passes those
outcomes in (`known`) and only the other groups are compiled here.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from compiler.load.layers import Layers, load_layers, merge_group
from compiler.load.located import load_file
from compiler.pipeline.build import compile_group
from compiler.review.diff import FileStatus, SharedChange, line_changes, settings_of
from compiler.review.sides import KIND_ORDER, SharedKind, Side

# slug -> whether its settings differ with only this file put back (already worked out)
Known = dict[str, bool]


def shared_changes(
    before: Side, after: Side, known: dict[tuple[SharedKind, str], Known] | None = None
) -> list[SharedChange]:
    """Each shared file that differs between the sides, with the groups it changes.

    A group counts for a file when its effective settings differ between the
    working tree and the working tree with only that file as it was at the
    base: so a group that overrides the edited value does not count, and one
    whose own file also changed counts only for what the shared file did.
    Without an environment, overlay files are still reported, each with the
    groups it changes in its own environment's build. `known`: per shared
    file, groups whose config with only that file put back is already known.
    """
    keys = sorted(set(before.shared) | set(after.shared), key=lambda k: (KIND_ORDER[k[0]], k[1]))
    out: list[SharedChange] = []
    for key in keys:
        kind, name = key
        if kind == "environment" and after.env is not None and name != f"{after.env}.yaml":
            continue
        old, new = before.shared.get(key), after.shared.get(key)
        if old is not None and new is not None and old.data == new.data:
            continue
        shown = new if new is not None else old
        assert shown is not None
        change: FileStatus = "added" if old is None else "removed" if new is None else "changed"
        lines, removed = line_changes(
            old.data if old is not None else b"", new.data if new is not None else b""
        )
        environment = name.removesuffix(".yaml") if kind == "environment" else None
        out.append(
            SharedChange(
                kind,
                shown.file,
                change,
                lines,
                removed,
                _affected(
                    after, kind, name, old.data if old is not None else None, (known or {}).get(key)
                ),
                environment if environment != after.env else None,
            )
        )
    return out


def _affected(
    after: Side, kind: SharedKind, name: str, old: bytes | None, known: Known | None = None
) -> list[str]:
    """Slugs whose settings differ when `name` alone is put back as it was (`old`)."""
    groups_dir, env_dir = after.groups_dir, after.env_dir
    if groups_dir is None or env_dir is None:
        return []
    known = known or {}
    affected = [slug for slug, differs in known.items() if differs]
    rest = [slug for slug in sorted(after.groups) if slug not in known]
    if not rest:
        return sorted(affected)
    scope = name.removesuffix(".yaml") if kind == "environment" else after.env
    with tempfile.TemporaryDirectory(prefix="pops-shared-") as tmp:
        # The working tree's shared files, with this one as it was; group files are read
        # from the working tree itself.
        mirror_groups, mirror_env = Path(tmp) / "groups", Path(tmp) / "environments"
        mirror_groups.mkdir()
        mirror_env.mkdir()
        for path in groups_dir.glob("_*.yaml"):
            if path.is_file():
                shutil.copyfile(path, mirror_groups / path.name)
        if scope is not None and (env_dir / f"{scope}.yaml").is_file():
            shutil.copyfile(env_dir / f"{scope}.yaml", mirror_env / f"{scope}.yaml")
        target = (mirror_env if kind == "environment" else mirror_groups) / name
        target.unlink(missing_ok=True)
        if old is not None:
            target.write_bytes(old)

        def layers_for(groups: Path, envs: Path) -> Layers:
            present = scope is not None and (envs / f"{scope}.yaml").is_file()
            return load_layers(groups, scope if present else None, envs)

        now = layers_for(groups_dir, env_dir)
        then = layers_for(mirror_groups, mirror_env)
        now_file = _shown((env_dir if kind == "environment" else groups_dir) / name)
        then_file = _shown(target)
        for slug in rest:
            path = groups_dir / f"{slug}.yaml"
            doc, _ = load_file(path, _shown(path))
            if doc is None:
                continue
            if (
                now_file not in merge_group(doc, slug, now).files
                and then_file not in merge_group(doc, slug, then).files
            ):
                continue  # this group does not read the file on either side
            if scope == after.env:
                current = after.groups[slug].config
            else:
                current = _config(compile_group(path, layers=now).files, slug)
            previous = _config(compile_group(path, layers=then).files, slug)
            if current is None and previous is None:
                continue
            if current is None or previous is None or settings_of(current) != settings_of(previous):
                affected.append(slug)
        return sorted(affected)


def _shown(path: Path) -> str:
    """A path the way `compiler.load.layers` names the files a group was merged from."""
    return path.as_posix().removeprefix("./")


def _config(files: dict[str, bytes] | None, slug: str) -> dict[str, Any] | None:
    data = (files or {}).get(f"groups/{slug}/config.json")
    return json.loads(data) if data is not None else None

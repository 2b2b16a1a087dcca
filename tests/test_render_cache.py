"""The renderers' setup kept in a cache folder (compiler/render/store.py) changes no byte.

A process whose cache folder holds what an earlier process built must render
exactly what plain Jinja renders, without importing Jinja; a template edit must
make the folder's file worthless; a damaged file must be ignored and replaced;
and pool workers' saves must add up. Fresh processes are real subprocesses, so
"jinja2 was never imported" is checked in sys.modules where it means something.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import multiprocessing
import random
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_render_speed import HOSTILE, direct_render

from bench.generate import group_yaml
from compiler.incremental.integrity import verified, with_checksum
from compiler.model import Group
from compiler.render import mfa, render_group, save_cache, store, templates_dir, use_cache

REPO = Path(__file__).resolve().parent.parent

# Renders every group of a JSON file in a fresh process with the cache folder in use,
# saves, and prints each file's sha256 and whether jinja2 was ever imported.
RENDER = textwrap.dedent(
    """
    import hashlib, json, sys
    from pathlib import Path
    import compiler.render.templates
    templates = sys.argv[3] if len(sys.argv) > 3 else ""
    if templates:
        compiler.render.templates.templates_dir = lambda: Path(templates)
    from compiler.model import Group
    from compiler.render import render_group, save_cache, use_cache
    use_cache(Path(sys.argv[1]))
    out = {}
    for index, data in enumerate(json.loads(Path(sys.argv[2]).read_text("utf-8"))):
        for path, content in render_group(f"g{index}", Group.model_validate(data)).items():
            out[path] = hashlib.sha256(content).hexdigest()
    jinja = "jinja2" in sys.modules
    save_cache()
    print(json.dumps({"files": out, "jinja2": jinja}))
    """
)


def render_in_subprocess(
    folder: Path, groups_file: Path, templates: Path | None = None
) -> dict[str, Any]:
    args = [sys.executable, "-c", RENDER, str(folder), str(groups_file)]
    if templates is not None:
        args.append(str(templates))
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def varied_groups(count: int, seed: int) -> list[dict[str, Any]]:
    """Groups of many shapes: hostile text, empty and missing fields, 1-5 paragraphs of
    1-3 lines, light and dark, with and without logo, footer and phone."""
    rng = random.Random(seed)
    texts = [text for text in HOSTILE if text.strip()]
    out: list[dict[str, Any]] = []
    for index in range(count):
        paragraphs = [
            "\n".join(rng.choice(texts) for _ in range(rng.randrange(1, 4)))
            for _ in range(rng.randrange(1, 6))
        ]
        footer: dict[str, Any] = {}
        if rng.random() < 0.6:
            footer["text"] = rng.choice([*texts, ""])
        if rng.random() < 0.5:
            footer["email"] = rng.choice(["a@example.com", "o'brien&co@example.org"])
        if rng.random() < 0.5:
            footer["phone"] = rng.choice(["+1 212 555 0199", "+44 20 7946 0958"])
        mfa_section: dict[str, Any] = {"enabled": rng.random() < 0.9, "success_role": "p"}
        if rng.random() < 0.8:
            mfa_section["email_subject"] = rng.choice(texts).replace("\n", " ") + " code"
            mfa_section["email_body"] = "\n\n".join(paragraphs) + " ${mfa.code}\n"
        if rng.random() < 0.5:
            mfa_section["sms_message"] = rng.choice(texts) + " ${mfa.code}"
        colors = {
            name: f"#{rng.randrange(1 << 24):06x}"
            for name in ("primary", "secondary", "surface", "error")
            if rng.random() < 0.6
        }
        branding = {"logo_url": "https://cdn.example.com/a&b/l.png"} if rng.random() < 0.5 else {}
        out.append(
            {
                "name": f"{rng.choice(texts)} {index}",
                "branding": branding,
                "theme": {"dark": rng.random() < 0.4, "colors": colors},
                "look_and_feel": {"footer": footer},
                "authentication": {"mfa": mfa_section},
            }
        )
    return out


def all_groups() -> list[dict[str, Any]]:
    rng = random.Random(17)
    bench = [yaml.safe_load(group_yaml(i, rng)) for i in range(150)]
    return bench + varied_groups(250, seed=23)


def expected_digests(groups: list[dict[str, Any]]) -> dict[str, str]:
    out = {}
    for index, data in enumerate(groups):
        for path, content in direct_render(f"g{index}", Group.model_validate(data)).items():
            out[path] = hashlib.sha256(content).hexdigest()
    return out


def stored_shapes(folder: Path) -> dict[Any, int]:
    body = verified((folder / store.FILE_NAME).read_bytes())
    assert body is not None
    records = marshal.loads(body)["records"]
    return {key: len(value.get("shapes", {})) for key, value in records.items()}


@pytest.fixture
def fresh_store() -> Iterator[None]:
    """This process as if new to the store, and back to memory only afterwards."""
    store.reset()
    yield
    use_cache(None)
    store.reset()


# --- a warm cache: same bytes, no Jinja ---


def test_warm_cache_renders_identical_bytes_without_importing_jinja(tmp_path: Path) -> None:
    groups = all_groups()
    groups_file = tmp_path / "groups.json"
    groups_file.write_text(json.dumps(groups), encoding="utf-8")
    folder = tmp_path / "cache"
    expected = expected_digests(groups)

    cold = render_in_subprocess(folder, groups_file)
    assert cold["jinja2"]  # nothing to load: built with Jinja, then saved
    assert cold["files"] == expected
    shapes = stored_shapes(folder)
    assert shapes[("template", mfa.HTML_TEMPLATE)] > 50  # the varied groups' many shapes
    assert ("layout", True) in shapes and ("layout", False) in shapes
    saved = (folder / store.FILE_NAME).read_bytes()

    warm = render_in_subprocess(folder, groups_file)
    assert warm["files"] == expected
    assert not warm["jinja2"]
    assert (folder / store.FILE_NAME).read_bytes() == saved  # learned nothing, wrote nothing


def test_a_new_shape_is_rendered_by_jinja_and_added(tmp_path: Path) -> None:
    groups = varied_groups(40, seed=5)
    groups_file = tmp_path / "groups.json"
    folder = tmp_path / "cache"
    groups_file.write_text(json.dumps(groups[:20]), encoding="utf-8")
    render_in_subprocess(folder, groups_file)
    before = stored_shapes(folder)[("template", mfa.HTML_TEMPLATE)]
    groups_file.write_text(json.dumps(groups), encoding="utf-8")
    grown = render_in_subprocess(folder, groups_file)
    assert grown["files"] == expected_digests(groups)
    assert stored_shapes(folder)[("template", mfa.HTML_TEMPLATE)] > before
    assert not render_in_subprocess(folder, groups_file)["jinja2"]


# --- invalidation ---


def test_a_template_edit_invalidates_the_cache(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(templates_dir(), templates)
    groups = varied_groups(30, seed=9)
    groups_file = tmp_path / "groups.json"
    groups_file.write_text(json.dumps(groups), encoding="utf-8")
    folder = tmp_path / "cache"
    first = render_in_subprocess(folder, groups_file, templates)
    assert not render_in_subprocess(folder, groups_file, templates)["jinja2"]
    key = marshal.loads(verified((folder / store.FILE_NAME).read_bytes()) or b"")["key"]

    text = templates / mfa.TEXT_TEMPLATE
    text.write_text(text.read_text("utf-8") + "(edited)\n", encoding="utf-8")
    edited = render_in_subprocess(folder, groups_file, templates)
    assert edited["jinja2"]  # the old skeletons were not used
    changed = {path for path, sha in edited["files"].items() if first["files"][path] != sha}
    assert changed and all(p.endswith(("/mfa/email.txt", "/config.json")) for p in changed)
    assert marshal.loads(verified((folder / store.FILE_NAME).read_bytes()) or b"")["key"] != key
    again = render_in_subprocess(folder, groups_file, templates)
    assert again["files"] == edited["files"] and not again["jinja2"]


def test_cache_key_follows_templates_and_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import compiler.render.templates

    original = store.cache_key()
    templates = tmp_path / "templates"
    shutil.copytree(templates_dir(), templates)
    monkeypatch.setattr(compiler.render.templates, "templates_dir", lambda: templates)
    monkeypatch.setattr(store, "_key", None)
    assert store.cache_key() == original  # same bytes elsewhere: same key
    css = templates / "theme.css.j2"
    css.write_bytes(css.read_bytes() + b" ")
    monkeypatch.setattr(store, "_key", None)
    assert store.cache_key() != original
    monkeypatch.setattr(compiler.render.templates, "templates_dir", templates_dir)
    monkeypatch.setattr(store, "_CODE", (*store._CODE, "__init__.py"))
    monkeypatch.setattr(store, "_key", None)
    assert store.cache_key() != original  # more code, other key


@pytest.mark.usefixtures("fresh_store")
def test_a_file_with_another_key_is_ignored_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups = [Group.model_validate(data) for data in varied_groups(20, seed=3)]
    use_cache(tmp_path)
    for index, group in enumerate(groups):
        render_group(f"g{index}", group)
    save_cache()
    store.reset()
    monkeypatch.setattr(store, "_key", "0" * 64)  # as if the templates had changed
    assert store.record("template", mfa.HTML_TEMPLATE) == {}
    for index, group in enumerate(groups):
        assert render_group(f"g{index}", group) == direct_render(f"g{index}", group)
    save_cache()
    body = verified((tmp_path / store.FILE_NAME).read_bytes())
    assert body is not None and marshal.loads(body)["key"] == "0" * 64


# --- damage ---


def _damaged(blob: bytes, key: str) -> list[bytes]:
    bogus_records = {
        ("template", mfa.HTML_TEMPLATE): {"verdict": (True, "x", 1), "shapes": {1: (2, 3)}},
        ("template", mfa.TEXT_TEMPLATE): {"verdict": (True, False, True), "shapes": []},
        ("layout", False): {"layout": (("a",), (0, 5000), (1, 2), ("k",))},
        ("layout", True): {"layout": "nonsense"},
    }
    return [
        blob[: len(blob) // 2],  # truncated
        blob[:3],
        b"",
        blob[:100] + bytes([blob[100] ^ 0xFF]) + blob[101:],  # one byte flipped
        b"\0" * 64,
        with_checksum(b"not marshal at all"),
        with_checksum(marshal.dumps([1, 2, 3])),
        with_checksum(marshal.dumps({"format": store.FORMAT, "key": key, "records": 7})),
        with_checksum(
            marshal.dumps({"format": store.FORMAT, "key": key, "records": bogus_records})
        ),
    ]


@pytest.mark.usefixtures("fresh_store")
def test_a_damaged_cache_file_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    groups = [Group.model_validate(data) for data in varied_groups(25, seed=11)]
    expected = [direct_render(f"g{index}", group) for index, group in enumerate(groups)]
    use_cache(tmp_path)
    for index, group in enumerate(groups):
        render_group(f"g{index}", group)
    save_cache()
    path = tmp_path / store.FILE_NAME
    good = path.read_bytes()
    for damaged in _damaged(good, store.cache_key()):
        path.write_bytes(damaged)
        store.reset()
        for index, group in enumerate(groups):
            assert render_group(f"g{index}", group) == expected[index]
        save_cache()
        body = verified(path.read_bytes())
        assert body is not None, "the damaged file was not replaced"
        records = marshal.loads(body)["records"]
        assert records[("template", mfa.HTML_TEMPLATE)]["verdict"] == (True, True, True)
        assert len(records[("layout", False)]["layout"]) == 4


@pytest.mark.usefixtures("fresh_store")
def test_an_unusable_cache_folder_never_fails_a_render(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    group = Group.model_validate(varied_groups(1, seed=2)[0])
    for folder in (blocker, blocker / "below", tmp_path / "missing" / "deeper"):
        store.reset()
        use_cache(folder)
        assert render_group("g", group) == direct_render("g", group)
        save_cache()  # must not raise
    assert (tmp_path / "missing" / "deeper" / store.FILE_NAME).is_file()  # created when possible


@pytest.mark.usefixtures("fresh_store")
def test_without_a_folder_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    use_cache(None)
    group = Group.model_validate(varied_groups(1, seed=4)[0])
    assert render_group("g", group) == direct_render("g", group)
    save_cache()
    assert list(tmp_path.iterdir()) == []


# --- pool workers ---

POOL = textwrap.dedent(
    """
    import json, sys
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context
    from pathlib import Path
    from compiler.model import Group
    from compiler.render import cache_folder, render_group, save_cache_at_exit, use_cache

    def init(folder):  # what compiler/incremental/engine.py's worker initializer does
        use_cache(folder)
        save_cache_at_exit()

    def work(data):
        return len(render_group("g", Group.model_validate(data)))

    if __name__ == "__main__":
        use_cache(Path(sys.argv[1]))
        groups = json.loads(Path(sys.argv[2]).read_text("utf-8"))
        with ProcessPoolExecutor(
            2, mp_context=get_context(sys.argv[3]), initializer=init, initargs=(cache_folder(),)
        ) as pool:
            print(sum(pool.map(work, groups, chunksize=4)))
    """
)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pool_workers_save_what_they_learned_at_exit(tmp_path: Path, method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} here")
    groups = varied_groups(60, seed=13)
    groups_file = tmp_path / "groups.json"
    groups_file.write_text(json.dumps(groups), encoding="utf-8")
    folder = tmp_path / "cache"
    script = tmp_path / "pool.py"
    script.write_text(POOL, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(folder), str(groups_file), method],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Both workers' shapes are in the file: a fresh process needs no Jinja for any group.
    warm = render_in_subprocess(folder, groups_file)
    assert not warm["jinja2"]
    assert warm["files"] == expected_digests(groups)

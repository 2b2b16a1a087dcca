"""`pops schema`: the editor schema of group files and the portal's schema of config.json.

The committed files under schema/ must be exactly what the models produce, every
key must explain itself (description and example) in the editor, the sample
groups must pass the schema the editor uses, and every config.json a build
writes must pass the schema the portal team validates against.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, Run, write_group
from jsonschema import Draft7Validator
from ruamel.yaml import YAML

from compiler.authoring.edit import MODELINE, leaf_paths, model_at
from compiler.authoring.schema import (
    CONFIG_SCHEMA,
    GROUP_SCHEMA,
    config_schema,
    group_schema,
    schema_files,
)
from compiler.model import LIGHT_PALETTE

SAMPLE_GROUPS = sorted((REPO / "groups").glob("[!_]*.yaml"))


def yaml12(text: str) -> Any:
    """Parse as YAML 1.2 keeping nulls, as yaml-language-server does."""
    return YAML(typ="safe", pure=True).load(text)


def properties(schema: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[Any]:
    """(path, property schema) for every key, depth first."""
    for key, prop in schema.get("properties", {}).items():
        path = (*prefix, key)
        yield path, prop
        yield from properties(prop, path)


def test_committed_schema_files_are_current() -> None:
    for name, data in schema_files().items():
        committed = REPO / "schema" / name
        assert committed.is_file(), f"schema/{name} is missing; run `pops schema`"
        assert committed.read_bytes() == data, f"schema/{name} is stale; run `pops schema`"


def test_schema_check_in_the_repo_passes(run_pops: Run) -> None:
    proc = run_pops("schema", "--check", cwd=REPO)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "schema/ is up to date\n")


def test_schema_writes_then_check_flags_only_the_stale_file(run_pops: Run, tmp_path: Path) -> None:
    proc = run_pops("schema", "--check", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == f"stale  out/{GROUP_SCHEMA}\nstale  out/{CONFIG_SCHEMA}\n"
    assert not (tmp_path / "out").exists()  # --check writes nothing

    proc = run_pops("schema", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == f"wrote  out/{GROUP_SCHEMA}\nwrote  out/{CONFIG_SCHEMA}\n"
    for name, data in schema_files().items():
        assert (tmp_path / "out" / name).read_bytes() == data

    proc = run_pops("schema", "--out", "out", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "out/ is up to date\n")

    config = tmp_path / "out" / CONFIG_SCHEMA
    config.write_bytes(config.read_bytes().replace(b'"const": 1', b'"const": 2', 1))
    proc = run_pops("schema", "--check", "--out", "out", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (1, f"stale  out/{CONFIG_SCHEMA}\n")


def test_schema_bytes_are_deterministic() -> None:
    first = schema_files()
    assert schema_files() == first
    for data in first.values():
        assert data.endswith(b"}\n") and b"\r" not in data
        json.loads(data)


def test_schemas_are_valid_draft_7() -> None:
    Draft7Validator.check_schema(group_schema())
    Draft7Validator.check_schema(config_schema())


def test_every_group_key_has_a_description_and_a_valid_example() -> None:
    schema = group_schema()
    seen = set()
    for path, prop in properties(schema):
        seen.add(path)
        assert prop.get("description", "").strip(), f"{'.'.join(path)} has no description"
        examples = prop.get("examples")
        assert examples, f"{'.'.join(path)} has no example"
        validator = Draft7Validator(prop)
        for example in examples:
            errors = [e.message for e in validator.iter_errors(example)]
            assert not errors, f"example {example!r} of {'.'.join(path)} is invalid: {errors}"
    # ...and the schema has exactly the model's keys, sections included.
    expected = set()
    for leaf in leaf_paths():
        expected.update(leaf[:i] for i in range(1, len(leaf) + 1))
    assert seen == expected


def test_every_section_is_closed_and_optional_keys_accept_null() -> None:
    for path, prop in [((), group_schema()), *properties(group_schema())]:
        if model_at(path) is not None:
            assert prop["additionalProperties"] is False, path
    name = group_schema()["properties"]["name"]
    assert name["type"] == "string" and group_schema()["required"] == ["name"]
    # `dark:` means "use the default": valid, but null is not offered as a choice
    # (editors complete from type, enum and const, and never from `not`).
    for path, prop in properties(group_schema()):
        if model_at(path) is None and path != ("name",):
            assert Draft7Validator(prop).is_valid(None), path
            offered = [prop, *prop.get("anyOf", [])[:1]]
            assert all("null" not in branch.get("type", []) for branch in offered), path
            assert all(None not in branch.get("enum", []) for branch in offered), path


def test_every_key_with_a_default_says_it() -> None:
    schema = group_schema()
    for leaf in leaf_paths():
        prop: dict[str, Any] = schema
        for key in leaf:
            prop = prop["properties"][key]
        parent = model_at(leaf[:-1])
        assert parent is not None
        info = parent.model_fields[leaf[-1] if leaf[-1] != "schema" else "schema_"]
        if info.is_required():
            assert "default" not in prop, leaf
            continue
        default = info.get_default(call_default_factory=True)
        if leaf[:2] == ("theme", "colors"):
            default = LIGHT_PALETTE[leaf[-1]]  # (the dark theme's is in the description)
        if default is None:
            assert "default" not in prop, leaf
        else:
            assert prop["default"] == default, leaf
            assert Draft7Validator(prop).is_valid(default), leaf


@pytest.mark.parametrize("path", SAMPLE_GROUPS, ids=lambda p: p.name)
def test_sample_group_starts_with_the_editor_modeline(path: Path) -> None:
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    assert first == f"{MODELINE}../schema/{GROUP_SCHEMA}"


@pytest.mark.parametrize("path", SAMPLE_GROUPS, ids=lambda p: p.name)
def test_sample_group_validates_against_the_group_schema(path: Path) -> None:
    data = yaml12(path.read_text(encoding="utf-8"))
    errors = [e.message for e in Draft7Validator(group_schema()).iter_errors(data)]
    assert errors == []


@pytest.mark.parametrize("amount", [0.07, 19.99, 100.1, 10000])
def test_an_amount_in_whole_cents_passes_the_schema_as_it_passes_pops(
    amount: float, run_pops: Run, repo: Path
) -> None:
    # Binary floats are never exact multiples of 0.01: a schema `multipleOf` would make
    # editors underline 19.99 while pops accepts it.
    data = {"name": "A", "payments": {"credit_card": True, "minimum_payment": amount}}
    assert [e.message for e in Draft7Validator(group_schema()).iter_errors(data)] == []
    text = f"name: A\npayments:\n  credit_card: true\n  minimum_payment: {amount}\n"
    write_group(repo, "a", text)
    done = run_pops("validate", cwd=repo)
    assert (done.returncode, done.stdout) == (0, "no problems found\n"), done.stderr


def test_the_committed_schema_file_is_the_one_that_validates() -> None:
    committed = json.loads((REPO / "schema" / GROUP_SCHEMA).read_text(encoding="utf-8"))
    assert committed == group_schema()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: A\ntheme:\n  colours: {}\n", ["theme"]),  # unknown key
        ("name: A\npayments:\n  credit_card: yes\n", ["payments", "credit_card"]),
        ("name: A\nlook_and_feel:\n  footer:\n    phone: 2125550199\n", ["look_and_feel"]),
        ("name: A\nbranding:\n  logo_url: http://x.example/l.png\n", ["branding", "logo_url"]),
        ("name: A\ntheme:\n  colors:\n    primary: red\n", ["theme", "colors", "primary"]),
        ("name: A\nlook_and_feel:\n  landing_page: home\n", ["look_and_feel", "landing_page"]),
        ("name: A\nauthentication:\n  quickpay_max_access_attempts: 0\n", ["authentication"]),
        ("payments: {}\n", []),  # name is required
    ],
)
def test_group_schema_underlines_common_mistakes(text: str, where: list[str]) -> None:
    errors = list(Draft7Validator(group_schema()).iter_errors(yaml12(text)))
    assert errors, text
    assert list(errors[0].absolute_path)[: len(where)] == where


# --- config.json ---

# Covers what the sample groups may not: no MFA files, no phone, a dark theme, SMS only.
EXTRA_GROUPS = {
    "plain": "name: Plain\npayments:\n  credit_card: true\n",
    "dark-sms": (
        "name: Dark SMS\ntheme:\n  dark: true\npayments:\n  google_pay: true\n"
        "authentication:\n  mfa:\n    enabled: true\n    success_role: patient\n"
        '    sms_message: "Code ${mfa.code}"\n'
    ),
}


def built_configs(run_pops: Run, tmp_path: Path) -> list[Path]:
    repo = tmp_path / "repo"
    (repo / "groups").mkdir(parents=True)
    for sample in SAMPLE_GROUPS:
        (repo / "groups" / sample.name).write_bytes(sample.read_bytes())
    for slug, text in EXTRA_GROUPS.items():
        write_group(repo, slug, text)
    proc = run_pops("build", "--out", "dist", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    configs = sorted((repo / "dist" / "groups").glob("*/config.json"))
    assert len(configs) == len(SAMPLE_GROUPS) + len(EXTRA_GROUPS)
    return configs


def test_every_built_config_json_validates_against_the_config_schema(
    run_pops: Run, tmp_path: Path
) -> None:
    validator = Draft7Validator(config_schema())
    for config in built_configs(run_pops, tmp_path):
        data = json.loads(config.read_text(encoding="utf-8"))
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
        assert errors == [], config.parent.name


def test_config_schema_is_strict_about_shape(run_pops: Run, tmp_path: Path) -> None:
    config = next(p for p in built_configs(run_pops, tmp_path) if p.parent.name == "dark-sms")
    good = json.loads(config.read_text(encoding="utf-8"))
    assert set(good["authentication"]["mfa"]["files"]) == {"sms"}
    validator = Draft7Validator(config_schema())

    def broken(change: Any) -> list[str]:
        data = copy.deepcopy(good)
        change(data)
        return [e.validator for e in validator.iter_errors(data)]

    assert broken(lambda d: d["payments"].update(bitcoin=True)) == ["additionalProperties"]
    assert broken(lambda d: d["lookAndFeel"].pop("showEscrow")) == ["required"]
    assert broken(lambda d: d["theme"]["colors"].update(primary="#90CAF9")) == ["pattern"]
    assert broken(lambda d: d["payments"]["methods"].append("cash")) == ["enum"]
    assert broken(lambda d: d.update(schemaVersion=2)) == ["const"]

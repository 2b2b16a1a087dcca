"""`config.json`: every option of the group, camelCased, as the portal reads it."""

from __future__ import annotations

import base64
import hashlib
import keyword
import types
import typing
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

import orjson
from pydantic import BaseModel

from compiler.model import Group, phone_formats
from compiler.render.digests import sha256_hex

SCHEMA_VERSION = 1
# Top-level fields written otherwise (schemaVersion, name), resolved away (extends), or
# not portal settings at all (owners: who approves changes, see compiler/authoring/owners.py).
_NOT_OPTIONS = frozenset({"schema_", "name", "extends", "owners"})


@lru_cache(maxsize=1024)
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _camel_tree(value: Any) -> Any:
    """camelCase every key, recursively: the general way, for dumps the plan does not fit."""
    if isinstance(value, dict):
        return {camel(k): _camel_tree(v) for k, v in value.items()}
    return value


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class a field holds (also inside `X | None`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


_SCALARS = (str, bool, int, float, type(None))


def _is_scalar(annotation: Any) -> bool:
    """True when every value of the field is a JSON scalar that model_dump() returns
    unchanged (str, bool, int, float, None, literals and validated forms of those)."""
    if annotation in _SCALARS:
        return True
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return all(type(arg) in _SCALARS for arg in args)
    if origin is typing.Annotated:
        return _is_scalar(args[0])
    if origin in (typing.Union, types.UnionType):
        return all(_is_scalar(arg) for arg in args)
    return False


@cache
def _options_reader(
    model: type[BaseModel], skip: frozenset[str]
) -> Callable[[BaseModel], dict[str, Any]] | None:
    """A function equal to `_camel_tree(instance.model_dump(exclude=skip))`, generated
    once from the model's fields: one dict display with camelCase keys and attribute
    reads, so no key is converted and no dict is dumped and rebuilt per group (that was
    a third of config.json's cost). None when a field is not a plain scalar or a
    required nested model, or a model customises its serialisation: then the caller
    dumps as before."""
    lines: list[str] = []

    def display(cls: type[BaseModel], var: str, omit: frozenset[str]) -> str | None:
        decorators = cls.__pydantic_decorators__
        if decorators.field_serializers or decorators.model_serializers:
            return None
        if decorators.computed_fields:
            return None
        items = []
        for name, info in cls.model_fields.items():
            if name in omit:
                continue
            if not name.isidentifier() or keyword.iskeyword(name):
                return None
            inner = _model_in(info.annotation)
            if inner is not None:
                if _model_in(info.annotation) != info.annotation:
                    return None  # `Model | None` may hold None: let model_dump() handle it
                sub = f"m{len(lines) + 1}"
                lines.append(f"    {sub} = {var}.{name}")
                text = display(inner, sub, frozenset())
                if text is None:
                    return None
                items.append(f"{camel(name)!r}: {text}")
            elif _is_scalar(info.annotation):
                items.append(f"{camel(name)!r}: {var}.{name}")
            else:
                return None
        return "{" + ", ".join(items) + "}"

    body = display(model, "m0", skip)
    if body is None:
        return None
    source = "\n".join(["def read(m0):", *lines, f"    return {body}"])
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<config options of {model.__name__}>", "exec"), namespace)
    reader: Callable[[BaseModel], dict[str, Any]] = namespace["read"]
    return reader


def options(group: Group) -> dict[str, Any]:
    """Every option of the group with camelCase keys, as model_dump() would give them."""
    reader = _options_reader(Group, _NOT_OPTIONS)
    if reader is None:
        out: dict[str, Any] = _camel_tree(group.model_dump(exclude=set(_NOT_OPTIONS)))
        return out
    return reader(group)


def _file_ref(path: str, data: bytes) -> dict[str, Any]:
    return {"path": path, "sha256": sha256_hex(data), "size": len(data)}


_MFA_FILES = (
    ("emailHtml", "mfa/email.html"),
    ("emailText", "mfa/email.txt"),
    ("emailSubject", "mfa/email-subject.txt"),
    ("sms", "mfa/sms.txt"),
)


def render_config(
    slug: str,
    group: Group,
    files: dict[str, bytes],
    vuetify: dict[str, Any],
    palette: dict[str, str] | None = None,
) -> bytes:
    """`files` are the group's other artifacts, keyed relative to the group folder;
    `vuetify` is the group's Vuetify theme definition; `palette` is
    group.theme.palette() when the caller has it."""
    config: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION, "slug": slug, "name": group.name}
    config.update(options(group))
    config["theme"]["colors"] = palette if palette is not None else group.theme.palette()
    phone = group.look_and_feel.footer.phone
    if phone is not None:
        config["lookAndFeel"]["footer"]["phone"] = phone_formats(phone)
    config["payments"]["methods"] = group.payments.methods()
    theme = config["theme"]
    css = files["theme.css"]
    # Subresource Integrity, so a portal can load it with <link integrity=... crossorigin>.
    sri = "sha384-" + base64.b64encode(hashlib.sha384(css).digest()).decode("ascii")
    theme["stylesheet"] = {**_file_ref("theme.css", css), "integrity": sri}
    theme["vuetify"] = vuetify
    mfa = config["authentication"]["mfa"]
    mfa["files"] = {key: _file_ref(path, files[path]) for key, path in _MFA_FILES if path in files}
    # orjson writes exactly what json.dumps(indent=2, ensure_ascii=False) would, 10x faster.
    return orjson.dumps(config, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)

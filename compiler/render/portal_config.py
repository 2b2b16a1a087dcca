"""`config.json`: every option of the group, camelCased, as the portal reads it."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import orjson

from compiler.model import Group, phone_formats

SCHEMA_VERSION = 1


@lru_cache(maxsize=1024)
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _camel_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel(k): _camel_tree(v) for k, v in value.items()}
    return value


def _file_ref(path: str, data: bytes) -> dict[str, Any]:
    return {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def render_config(
    slug: str, group: Group, files: dict[str, bytes], vuetify: dict[str, Any]
) -> bytes:
    """`files` are the group's other artifacts, keyed relative to the group folder;
    `vuetify` is the group's Vuetify theme definition."""
    options = group.model_dump(exclude={"schema_", "name", "extends"})
    palette = group.theme.palette()
    options["theme"]["colors"] = palette
    footer = options["look_and_feel"]["footer"]
    if group.look_and_feel.footer.phone is not None:
        footer["phone"] = phone_formats(group.look_and_feel.footer.phone)
    options["payments"]["methods"] = group.payments.methods()
    config: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION, "slug": slug, "name": group.name}
    config.update(_camel_tree(options))
    theme = config["theme"]
    theme["stylesheet"] = _file_ref("theme.css", files["theme.css"])
    theme["vuetify"] = vuetify
    mfa = config["authentication"]["mfa"]
    mfa["files"] = {
        key: _file_ref(path, files[path])
        for key, path in (
            ("emailHtml", "mfa/email.html"),
            ("emailText", "mfa/email.txt"),
            ("emailSubject", "mfa/email-subject.txt"),
            ("sms", "mfa/sms.txt"),
        )
        if path in files
    }
    # orjson writes exactly what json.dumps(indent=2, ensure_ascii=False) would, 10x faster.
    return orjson.dumps(config, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)

"""`config.json`: every option of the group, camelCased, as the portal reads it."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

import orjson

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


# camel() of each key met so far (the model's field names): a look-up, not a call.
_CAMEL: dict[str, str] = {}


def _camel_tree(value: dict[str, Any]) -> dict[str, Any]:
    """camelCase every key, recursively."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = _CAMEL.get(key)
        if name is None:
            name = _CAMEL[key] = camel(key)
        out[name] = _camel_tree(item) if type(item) is dict else item  # (model_dump: plain dicts)
    return out


def options(group: Group) -> dict[str, Any]:
    """Every option of the group with camelCase keys, as the portal reads them."""
    out: dict[str, Any] = _camel_tree(group.model_dump(exclude=set(_NOT_OPTIONS)))
    return out


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

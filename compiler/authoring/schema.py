"""JSON Schemas: one for group files (editors), one for config.json (the portal team).

Both are derived from the pydantic models, so a new option appears in the
schemas the moment it exists in the model, and the committed copies under
`schema/` go stale (a test and `pops schema --check` say so) until regenerated.

The group schema is written for editors, not for pydantic: references are
inlined (yaml-language-server and friends handle plain draft-07 best), every
key carries a description and at least one example (synthesised from the
default when the model gives none), every key with a default says it, and every
optional key also accepts null, because `key:` in a group file means "use the
default"; editors offer the default as a choice, never `null` (see `_or_empty`).

The config schema mirrors what `compiler.render.portal_config` emits: camelCase
keys, every key always present, normalised colours, the phone as E.164 plus a
display spelling, and the file references and Vuetify theme the renderer adds.
"""

from __future__ import annotations

import copy
import json
import posixpath
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from compiler.model import LIGHT_PALETTE, Group, Payments
from compiler.model.theme import Colors
from compiler.pipeline.build import SLUG
from compiler.render.portal_config import SCHEMA_VERSION, camel
from compiler.render.theme_css import theme_colors, theme_variables

DRAFT = "http://json-schema.org/draft-07/schema#"
GROUP_SCHEMA = "group.schema.json"
CONFIG_SCHEMA = "config.schema.json"

Schema = dict[str, Any]
KeyPath = tuple[str, ...]

# Keyword order in the written files: what a person reads first comes first.
_KEYWORD_ORDER = (
    "$schema",
    "title",
    "description",
    "type",
    "const",
    "enum",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "items",
    "uniqueItems",
    "properties",
    "required",
    "additionalProperties",
    "default",
    "examples",
    "anyOf",
)
_HEX6 = "^#[0-9a-f]{6}$"
_SHA256 = "^[0-9a-f]{64}$"
# Top-level model fields that portal_config does not copy into the options
# (schema and name are written as schemaVersion and name; extends is resolved away).
_TOP_LEVEL_NOT_OPTIONS = frozenset({"schema_", "name", "extends", "owners"})
# Artifacts `config.json` may reference under authentication.mfa.files, each only
# when its channel is configured (see compiler.render.portal_config).
_MFA_FILES = {
    "emailHtml": ("mfa/email.html", "The branded HTML MFA email."),
    "emailText": ("mfa/email.txt", "The plain-text twin of the MFA email."),
    "emailSubject": ("mfa/email-subject.txt", "The MFA email's subject line."),
    "sms": ("mfa/sms.txt", "The MFA text message."),
}


def _ordered(schema: Schema) -> Schema:
    """Same content, keywords in reading order (unknown ones last, alphabetically)."""
    rank = {key: i for i, key in enumerate(_KEYWORD_ORDER)}
    keys = sorted(schema, key=lambda k: (rank.get(k, len(rank)), k))
    return {key: schema[key] for key in keys}


def _inline(schema: Any, defs: dict[str, Schema]) -> Any:
    """Replace every `$ref` by a copy of its definition; field keywords win over the def's."""
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _inline(value, defs) for key, value in schema.items() if key != "$defs"}
    step = out.get("multipleOf")
    if isinstance(step, float) and not step.is_integer():
        # Whole cents (0.01) cannot be checked in binary floating point: jsonschema and
        # Ajv both refuse 19.99 as "not a multiple of 0.01". pops checks the step itself.
        del out["multipleOf"]
    ref = out.pop("$ref", None)
    if ref is not None:
        target = _inline(copy.deepcopy(defs[ref.rsplit("/", 1)[-1]]), defs)
        target.update(out)
        out = target
    return out


def _nullable_parts(prop: Schema) -> tuple[Schema, bool]:
    """Split pydantic's `anyOf: [X, {type: null}]` into (X merged with the field keywords, True)."""
    options = prop.get("anyOf")
    if not options or len(options) != 2 or {"type": "null"} not in options:
        return prop, False
    inner = next(option for option in options if option != {"type": "null"})
    merged = {key: value for key, value in prop.items() if key != "anyOf"}
    merged.update(inner)
    return merged, True


def _allow_null(schema: Schema) -> Schema:
    """Also accept null, which the loader reads as "use the default"."""
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    if "const" in out:
        out["enum"] = [out.pop("const"), None]
    elif "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


# What a value must be, as opposed to what documents it: the part of a leaf's schema that
# moves into the first branch of `_or_empty`.
_CONSTRAINTS = frozenset(
    {
        "type",
        "const",
        "enum",
        "format",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "items",
        "minItems",
        "uniqueItems",
    }
)
# `key:` with nothing after it: accepted (it means "use the default") but never offered.
# Written as "not not null" because editors complete from `type`, `enum` and `const`
# (yaml-language-server offers `null` for either) and never look inside `not`.
_EMPTY_MEANS_DEFAULT: Schema = {
    "description": "Left empty: the default.",
    "not": {"not": {"type": "null"}},
}


def _or_empty(schema: Schema) -> Schema:
    """A leaf that also accepts null, while editors offer only real values and the default."""
    real = {key: value for key, value in schema.items() if key in _CONSTRAINTS}
    out = {key: value for key, value in schema.items() if key not in _CONSTRAINTS}
    out["anyOf"] = [_ordered(real), _EMPTY_MEANS_DEFAULT]
    return out


def _synthesised_example(prop: Schema) -> Any:
    """An example for a key the model gives none: the interesting value of its type."""
    if "const" in prop:
        return prop["const"]
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "boolean":
        return not prop.get("default", False)
    if kind == "integer" and "default" in prop:
        return prop["default"]
    raise ValueError(f"no example can be derived for {prop!r}; add examples= to the field")


def _submodel(info: FieldInfo) -> type[BaseModel] | None:
    annotation = info.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def section_help(description: str | None, model: type[BaseModel]) -> str:
    """A section's help: the field's words, then the class docstring unless it repeats them."""
    doc = (model.__doc__ or "").strip()
    short = (description or "").strip()
    if doc.startswith(short.rstrip(".")):
        return doc
    return " ".join(part for part in (short, doc) if part)


def _group_object(model: type[BaseModel], raw: Schema) -> Schema:
    """An editor-friendly object schema for `model`, examples bottom-up."""
    properties: Schema = {}
    example: dict[str, Any] = {}
    required: list[str] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        raw_prop = raw["properties"][key]
        child = _submodel(info)
        if child is not None:
            prop = _group_object(child, raw_prop)
            prop["description"] = section_help(info.description, child)
        else:
            prop, _ = _nullable_parts(raw_prop)  # `title` is the admin's label (meta.option)
            if prop.get("default", 0) is None:
                del prop["default"]  # completing `null` would only add noise
            if model is Colors:  # the light theme's; the description gives the dark one
                prop["default"] = LIGHT_PALETTE[name]
            if not prop.get("examples"):
                prop["examples"] = [_synthesised_example(prop)]
        if info.is_required():
            required.append(key)
        elif child is not None:
            prop = _allow_null(prop)
        else:
            prop = _or_empty(prop)
        properties[key] = _ordered(prop)
        example[key] = prop["examples"][0]
    out: Schema = {
        "description": raw.get("description", ""),
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "examples": [example],
    }
    if required:
        out["required"] = required
    return _ordered(out)


def group_schema() -> Schema:
    """The schema of `groups/<slug>.yaml`, as editors use it for completion and checks."""
    raw = _inline(Group.model_json_schema(by_alias=True), Group.model_json_schema()["$defs"])
    schema = _group_object(Group, raw)
    del schema["examples"]
    schema["$schema"] = DRAFT
    schema["title"] = "POPS group file"
    schema["description"] = (
        "One practice's patient-portal setup, written as groups/<slug>.yaml. "
        "Keys left out (or written as `key:`) take their defaults."
    )
    return _ordered(schema)


# --- config.json ---


def _published_or_built(path: str) -> str:
    """The one form of a file reference: relative to config.json's own URL.

    `pops build` writes the file beside the config (`theme.css`); `pops publish`
    rewrites the same key to the file's immutable object, named by its sha256 and
    reached from `groups/<slug>/` as `../../objects/<h[:2]>/<h><ext>` (see
    compiler.publish.layout and .dist). Either way a reader resolves it with
    `new URL(path, configUrl)` and gets the bytes `sha256` promises.
    """
    ext = posixpath.splitext(path)[1]
    # Only `.` needs escaping in these names; `\\-` would be an error in an ECMA-262
    # pattern with the `u` flag (Ajv's default).
    built, ext = (text.replace(".", "\\.") for text in (path, ext))
    return f"^({built}|\\.\\./\\.\\./objects/[0-9a-f]{{2}}/[0-9a-f]{{64}}{ext})$"


def _file_ref(path: str, description: str) -> Schema:
    path_schema: Schema = {
        "description": "Where the file is, relative to this config.json's URL: resolve it "
        f"with new URL(path, configUrl). In dist/ the file beside the config ({path}); once "
        "published, its immutable object, named by its sha256 (../../objects/ab/ab12….ext).",
        "type": "string",
        "pattern": _published_or_built(path),
    }
    return {
        "description": description,
        "type": "object",
        "properties": {
            "path": _ordered(path_schema),
            "sha256": {
                "description": "SHA-256 of the file, lowercase hex.",
                "type": "string",
                "pattern": _SHA256,
            },
            "size": {"description": "Size in bytes.", "type": "integer", "minimum": 0},
        },
        "required": ["path", "sha256", "size"],
        "additionalProperties": False,
    }


def _with_integrity(ref: Schema) -> Schema:
    """A file reference a browser loads itself, so it also carries its SRI value."""
    properties = dict(ref["properties"])
    properties["integrity"] = {
        "description": "Subresource Integrity value of the file (sha384, base64), for the "
        "integrity attribute of the <link> that loads it.",
        "type": "string",
        "pattern": "^sha384-[A-Za-z0-9+/]{64}$",
    }
    return {**ref, "properties": properties, "required": [*ref["required"], "integrity"]}


def _closed(description: str, properties: Schema, *, required: bool = True) -> Schema:
    out: Schema = {"description": description, "type": "object", "properties": properties}
    if required:
        out["required"] = list(properties)
    out["additionalProperties"] = False
    return _ordered(out)


def _vuetify() -> Schema:
    """The Vuetify 3 theme definition; its keys do not depend on the colours chosen."""
    colors = {
        key: {"type": "string", "pattern": _HEX6} for key in theme_colors(LIGHT_PALETTE, False)
    }
    variables = {
        key: (
            {"type": "string", "pattern": _HEX6}
            if isinstance(value, str)
            else {"type": "number", "minimum": 0, "maximum": 1}
        )
        for key, value in theme_variables(LIGHT_PALETTE, False).items()
    }
    return _closed(
        "Ready Vuetify 3 theme: pass it unchanged as themes.pops to createVuetify.",
        {
            "dark": {"type": "boolean"},
            "colors": _closed("Every colour, variation and on-colour, spelled out.", colors),
            "variables": _closed("Vuetify's theme variables.", variables),
        },
    )


def _config_overrides(path: KeyPath, info: FieldInfo) -> Schema | None:
    """Keys whose rendered form differs from what the admin writes."""
    description = info.description or ""
    model = _submodel(info)
    if path == ("theme", "colors") and model is not None:
        colors = {
            camel(name): _config_overrides((*path, name), child)
            for name, child in model.model_fields.items()
        }
        return _closed("The nine colours, defaults filled in, as lowercase #rrggbb.", colors)
    if path[:2] == ("theme", "colors") and len(path) == 3:
        return {
            "description": description.split('"#rgb"')[0].strip() + " Normalised #rrggbb.",
            "type": "string",
            "pattern": _HEX6,
        }
    if path == ("look_and_feel", "footer", "phone"):
        return {
            "description": "Footer phone number, or null when none is set.",
            "type": ["object", "null"],
            "properties": {
                "e164": {
                    "description": "E.164 form for tel: links.",
                    "type": "string",
                    "pattern": "^\\+[1-9][0-9]{1,14}$",
                },
                "display": {"description": "Spelling shown to patients.", "type": "string"},
            },
            "required": ["e164", "display"],
            "additionalProperties": False,
        }
    return None


def _config_extras(path: KeyPath) -> Schema:
    """Keys the renderer adds beside the model's own."""
    if path == ("theme",):
        return {
            "stylesheet": _with_integrity(_file_ref("theme.css", "The group's theme.css.")),
            "vuetify": _vuetify(),
        }
    if path == ("payments",):
        all_on = Payments(credit_card=True, apple_pay=True, google_pay=True).methods()
        return {
            "methods": {
                "description": "Payment methods switched on, in display order.",
                "type": "array",
                "items": {"type": "string", "enum": all_on},
                "uniqueItems": True,
            }
        }
    if path == ("authentication", "mfa"):
        files = {key: _file_ref(rel, description) for key, (rel, description) in _MFA_FILES.items()}
        return {
            "files": _closed(
                "MFA artifacts, each present only when its channel is configured.",
                files,
                required=False,
            )
        }
    return {}


def _config_object(model: type[BaseModel], raw: Schema, path: KeyPath, description: str) -> Schema:
    properties: Schema = {}
    for name, info in model.model_fields.items():
        if not path and name in _TOP_LEVEL_NOT_OPTIONS:
            continue
        key = info.alias or name
        child_path = (*path, name)
        child = _submodel(info)
        override = _config_overrides(child_path, info)
        if override is not None:
            prop = override
        elif child is not None:
            prop = _config_object(child, raw["properties"][key], child_path, info.description or "")
        else:
            leaf, nullable = _nullable_parts(raw["properties"][key])
            prop = {k: v for k, v in leaf.items() if k not in {"default", "examples"}}
            if nullable:
                prop = _allow_null(prop)
        properties[camel(name)] = _ordered(prop)
    properties.update(_config_extras(path))
    return _closed(description, properties)


def config_schema() -> Schema:
    """The schema of `dist/groups/<slug>/config.json`, for the portal that reads it."""
    raw = _inline(Group.model_json_schema(by_alias=True), Group.model_json_schema()["$defs"])
    options = _config_object(Group, raw, (), "")
    properties: Schema = {
        "schemaVersion": {
            "description": "Version of this file's format.",
            "type": "integer",
            "const": SCHEMA_VERSION,
        },
        "slug": {
            "description": "The group's slug: its file name without .yaml.",
            "type": "string",
            "pattern": f"^{SLUG.pattern}$",
        },
        "name": {
            "description": Group.model_fields["name"].description,
            "type": "string",
            "minLength": 1,
        },
        **options["properties"],
    }
    schema = _closed(
        "What the portal reads for one group: every option, camelCased, with defaults filled "
        "in. Written by `pops build` to dist/groups/<slug>/config.json.",
        properties,
    )
    schema["$schema"] = DRAFT
    schema["title"] = "POPS portal group configuration (config.json)"
    return _ordered(schema)


# --- files ---


def dumps(schema: Schema) -> bytes:
    """Deterministic bytes: 2-space JSON, UTF-8, `\\n` line ends, final newline."""
    return (json.dumps(schema, indent=2, ensure_ascii=False) + "\n").encode()


def schema_files() -> dict[str, bytes]:
    """Every schema file by name, as `pops schema` writes it."""
    return {GROUP_SCHEMA: dumps(group_schema()), CONFIG_SCHEMA: dumps(config_schema())}


def stale_files(out_dir: Path) -> list[str]:
    """Names of the schema files in `out_dir` that are missing or differ."""
    stale = []
    for name, data in schema_files().items():
        path = out_dir / name
        if not path.is_file() or path.read_bytes() != data:
            stale.append(name)
    return stale


def write_files(out_dir: Path) -> list[str]:
    """Write the schemas that changed; returns their names (empty when all were current)."""
    changed = stale_files(out_dir)
    files = schema_files()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in changed:
        (out_dir / name).write_bytes(files[name])
    return changed

"""Preset templates: `{{variable}}` placeholders, their declared variables, and rendering; and
the actions that write presets (every door that saves or deletes one calls these)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from generations.models import Preset

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from studio.models import Shop

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
VARIABLE_TYPES = ("text", "file")
KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")


class PresetError(ValueError):
    """A preset or its variables are not valid; the message is for the user."""


@dataclass(frozen=True)
class Variable:
    key: str
    label: str
    required: bool = False
    default: str = ""
    type: str = "text"
    multiple: bool = False


def parse_variables(raw: Any) -> list[Variable]:
    """Validate a preset's `variables` JSON; raises PresetError with the first problem."""
    if not isinstance(raw, list):
        raise PresetError("Variables must be a list.")
    out, seen = [], set()
    for item in raw:
        if not isinstance(item, dict):
            raise PresetError("Each variable must be an object with at least a key.")
        key = str(item.get("key", "")).strip()
        if not KEY_PATTERN.match(key):
            raise PresetError(
                f"Variable key {key!r} must be letters, digits or _ and start with a letter."
            )
        if key in seen:
            raise PresetError(f"Variable {key!r} is declared twice.")
        seen.add(key)
        vtype = item.get("type", "text")
        if vtype not in VARIABLE_TYPES:
            raise PresetError(f"Variable {key!r} has unknown type {vtype!r} (use text or file).")
        out.append(
            Variable(
                key=key,
                label=str(item.get("label") or key),
                required=bool(item.get("required", False)),
                default=str(item.get("default") or ""),
                type=vtype,
                multiple=bool(item.get("multiple", False)),
            )
        )
    return out


def placeholders(template: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(template)))


def preset_variables(template: str, declared: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Declared variables plus one required text variable per undeclared placeholder.

    So a template's `{{placeholder}}` is never silently left empty.
    """
    keys = {v["key"] for v in declared}
    extra = [
        {"key": k, "label": k.replace("_", " ").capitalize(), "required": True, "type": "text"}
        for k in placeholders(template)
        if k not in keys
    ]
    return declared + extra


def render_template(template: str, declared: list[Variable], values: dict[str, Any]) -> str:
    """Fill placeholders from values, then defaults. Missing required values are an error.

    File variables are not text: their placeholder becomes "the <label>" and the files travel
    with the job as reference images.
    """
    by_key = {v.key: v for v in declared}
    missing = []
    for var in declared:
        value = values.get(var.key)
        if (
            var.required
            and (value is None or (isinstance(value, str) and not value.strip()))
            and not var.default
        ):
            missing.append(f"{var.label} ({var.key})")
    if missing:
        raise PresetError(
            "Missing required variable"
            + ("s" if len(missing) > 1 else "")
            + ": "
            + ", ".join(missing)
            + "."
        )

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        var = by_key.get(key)
        if var is None:
            return str(values.get(key, ""))
        if var.type == "file":
            return f"the {var.label.lower()}"
        value = values.get(key)
        return str(value).strip() if value not in (None, "") else var.default

    return re.sub(r"\s{2,}", " ", PLACEHOLDER.sub(fill, template)).strip()


# --- actions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresetFields:
    """What a door hands to `create_preset` / `update_preset`, already validated as text."""

    name: str
    template: str
    variables: list[dict[str, Any]]  # as declared; undeclared placeholders are added here
    negative_prompt: str = ""
    aspect_ratio: str = "1:1"
    model: str = ""


def _apply(preset: Preset, fields: PresetFields) -> list[str]:
    declared = preset_variables(fields.template, fields.variables)
    parse_variables(declared)  # raises PresetError: a door's validation is not trusted blindly
    preset.name = fields.name
    preset.template = fields.template
    preset.variables = declared
    preset.negative_prompt = fields.negative_prompt
    preset.aspect_ratio = fields.aspect_ratio
    preset.model = fields.model
    return ["name", "template", "variables", "negative_prompt", "aspect_ratio", "model"]


@transaction.atomic
def create_preset(
    shop: Shop, fields: PresetFields, *, by: AbstractBaseUser | None = None
) -> Preset:
    """A new preset of `shop`; PresetError (nothing written) when its variables are not valid."""
    preset = Preset(shop=shop, created_by=by)
    _apply(preset, fields)
    preset.save()
    return preset


@transaction.atomic
def update_preset(preset: Preset, fields: PresetFields) -> Preset:
    """Replace a preset's fields; its shop and author stay. PresetError when not valid."""
    changed = _apply(preset, fields)
    preset.save(update_fields=changed)
    return preset


@transaction.atomic
def delete_preset(preset: Preset) -> None:
    """Delete a preset; assets and jobs made with it keep existing (their link becomes empty)."""
    preset.delete()

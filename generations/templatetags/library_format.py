"""People-facing names for models, job kinds and operations in templates."""

from __future__ import annotations

import re
import time
from typing import Any

from django import template

from generations.engines import registry
from generations.imageops.catalog import OPERATIONS

register = template.Library()

# A local memo (labels of the code's and staff's model rows, rebuilt every LABELS_TTL): cheaper than
# a Django cache round trip on every page that names a model.
_LABELS: dict[str, str] = {}
_LOADED_AT = [0.0]
LABELS_TTL = 60.0  # admin-edited model rows show up within a minute


def model_labels() -> dict[str, str]:
    """Public model name → its label ("builtin:procedural" → "Procedural (offline)")."""
    now = time.monotonic()
    if not _LABELS or now - _LOADED_AT[0] > LABELS_TTL:
        _LABELS.clear()
        _LABELS.update({spec.name: spec.label or spec.name for spec in registry.all_models()})
        _LOADED_AT[0] = now
    return _LABELS


@register.filter
def model_label(name: Any) -> str:
    """A model's label for people; an unknown name is shown as it is."""
    name = str(name or "")
    return model_labels().get(name, name)


@register.filter
def job_title(job: Any) -> str:
    """ "Generate 2 images", "Remove background", "Image → video"."""
    if job.kind == "generate":
        count = (job.params or {}).get("count") or 1
        return f"{count} image{'s' if count != 1 else ''}"
    spec = OPERATIONS.get(job.kind)
    if spec is not None:
        return spec.label
    text = str(job.kind).replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


SEED_PREFIX = re.compile(r"^\s*seeds?\s+\d{3}(?:\s*(?:,|and|/)\s*\d{3})*\s*[:·-]\s*", re.IGNORECASE)


@register.filter
def section_title(value: Any) -> str:
    """An API section's title without the internal seed-document numbers
    ("Seed 000: AI generations" → "AI generations")."""
    return SEED_PREFIX.sub("", str(value or "")) or str(value or "")

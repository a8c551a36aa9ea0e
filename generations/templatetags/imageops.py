"""`{% operation_controls asset %}`: the operation forms on the asset page."""

from __future__ import annotations

import json
from typing import Any

from django import template

from generations.engines import registry
from generations.engines.base import EngineError
from generations.imageops.catalog import OPERATIONS
from generations.operations import IMAGE_TYPES, operation_availability, operation_price

register = template.Library()


@register.inclusion_tag("generations/partials/operations.html", takes_context=True)
def operation_controls(context: dict[str, Any], asset: Any) -> dict[str, Any]:
    request = context.get("request")
    membership = getattr(request, "membership", None)
    reasons = operation_availability()
    groups: dict[str, list[dict[str, Any]]] = {}
    unavailable = []
    for name, spec in OPERATIONS.items():
        if reasons[name]:
            unavailable.append({"spec": spec, "reason": reasons[name]})
            continue
        try:
            model, _engine = registry.resolve_operation(spec.capability)
            defaults = {o.name: o.default for o in spec.options}
            price = operation_price(spec, model.engine, model.name, defaults)
        except EngineError:
            price = spec.price_cents
        groups.setdefault(spec.group, []).append({"spec": spec, "price": price})
    jobs = list(asset.operations.order_by("-created_at")[:6])
    detection = next(
        (j for j in jobs if j.kind == "detect-objects" and j.status == "completed"), None
    )
    objects = (detection.result.get("detected_objects") or []) if detection else []
    return {
        "asset": asset,
        "is_image": asset.content_type in IMAGE_TYPES,
        "can_generate": bool(membership and membership.can("generate")),
        "groups": groups,
        "unavailable": unavailable,
        "jobs": jobs,
        "objects": [
            {"index": i, "bbox": o["bbox"], "accuracy": o["accuracy"], "json": json.dumps([o])}
            for i, o in enumerate(objects)
        ],
        "parent": asset.parent if asset.parent_id and not asset.is_video else None,
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }

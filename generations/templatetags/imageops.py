"""`{% operation_controls asset %}`: the operation forms on the asset page, and the helpers the
page uses to draw what detection found."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django import template

from generations.engines import registry
from generations.engines.base import EngineError
from generations.imageops.catalog import OPERATIONS
from generations.models import Job
from generations.operations import IMAGE_TYPES, operation_availability, operation_price

register = template.Library()

HISTORY = 30  # past operations listed on an asset page


@register.simple_tag
def submit_token() -> str:
    """A one-time token for a form that creates a job (see generations.actions.submit_job)."""
    return uuid.uuid4().hex


def detections(asset: Any, jobs: list[Job]) -> dict[str, Any]:
    """What the latest detection jobs found, ready to draw over the picture: numbered object
    boxes (with the JSON the erase form posts back) and the text / wire regions."""
    latest: dict[str, Job] = {}
    for job in jobs:  # newest first
        if job.status == Job.Status.COMPLETED and job.kind.startswith("detect-"):
            latest.setdefault(job.kind, job)
    objects = []
    found = latest.get("detect-objects")
    for i, o in enumerate((found.result.get("detected_objects") or []) if found else []):
        try:
            x1, y1, x2, y2 = (float(v) for v in o["bbox"])
        except (KeyError, TypeError, ValueError):
            continue
        objects.append(
            {
                "number": i + 1,
                "x": x1,
                "y": y1,
                "w": max(x2 - x1, 1),
                "h": max(y2 - y1, 1),
                "left": 100 * x1 / max(asset.width, 1),
                "top": 100 * y1 / max(asset.height, 1),
                "accuracy": round(float(o.get("accuracy") or 0) * 100),
                "json": json.dumps([o]),
            }
        )
    regions = []
    for kind, label in (("detect-text", "Text"), ("detect-wires", "Wires")):
        job = latest.get(kind)
        box = (job.result or {}).get("box") if job else None
        if job and job.result.get("detected") and box and len(box) == 4:
            x1, y1, x2, y2 = (float(v) for v in box)
            regions.append(
                {
                    "label": label,
                    "x": x1,
                    "y": y1,
                    "w": max(x2 - x1, 1),
                    "h": max(y2 - y1, 1),
                    "left": 100 * x1 / max(asset.width, 1),
                    "top": 100 * y1 / max(asset.height, 1),
                    "mask": job.result.get("mask") or "",
                }
            )
        elif job:
            regions.append({"label": label, "none": True})
    return {"objects": objects, "regions": regions}


@register.inclusion_tag("generations/partials/operations.html", takes_context=True)
def operation_controls(context: dict[str, Any], asset: Any) -> dict[str, Any]:
    request = context.get("request")
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
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
        groups.setdefault(spec.group, []).append(
            {"spec": spec, "price": price, "token": uuid.uuid4().hex}
        )
    jobs = context.get("operation_jobs")
    if jobs is None:
        jobs = list(asset.operations.order_by("-created_at").prefetch_related("outputs")[:HISTORY])
    found = detections(asset, jobs)
    return {
        "asset": asset,
        "is_image": asset.content_type in IMAGE_TYPES,
        "can_generate": bool(membership and membership.can("generate")),
        # Engine and setting names are for the people who run the studio, not its users.
        "is_staff": bool(user and user.is_staff),
        "groups": groups,
        "unavailable": unavailable,
        "running": [j for j in jobs if not j.is_finished],
        "history": [j for j in jobs if j.is_finished],
        "objects": found["objects"],
        "objects_token": uuid.uuid4().hex,
        "csrf_token": context.get("csrf_token"),
        "request": request,
        "shop_perms": context.get("shop_perms", ()),
    }

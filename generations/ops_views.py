"""The asset page's operation controls: submit an operation on an asset as a job."""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from generations import operations
from generations.actions import JobError
from generations.imageops.catalog import OPERATIONS
from generations.models import Asset
from studio.actions import InsufficientCredits
from studio.permissions import shop_required

MAX_MASK_UPLOAD = 30 * 1024 * 1024


def _options_from_post(request: HttpRequest, operation: str) -> dict[str, Any]:
    spec = OPERATIONS[operation]
    options: dict[str, Any] = {}
    for option in spec.options:
        if option.kind == "bool":
            # An unticked checkbox is not sent: absent means false for a form post.
            options[option.name] = request.POST.get(option.name, "0")
        elif option.name in request.POST:
            options[option.name] = request.POST[option.name]
    return options


def _slot(request: HttpRequest, operation: str) -> str:
    """The form's name on the asset page: its result and error boxes and token carry it."""
    target = (request.htmx.target or "") if request.htmx else ""
    slot = target.removeprefix("op-result-")
    if target.startswith("op-result-") and re.fullmatch(r"[a-z0-9-]{1,40}", slot):
        return slot
    return operation


@shop_required("generate")
@require_POST
def operation_submit(request: HttpRequest, asset_id: Any, operation: str) -> HttpResponse:
    asset = get_object_or_404(Asset, id=asset_id, shop=request.shop)
    job = None
    try:
        if operation not in OPERATIONS:
            raise JobError(f"Unknown operation {operation!r}.", field="operation")
        mask_bytes = None
        upload = request.FILES.get("mask")
        if upload is not None and upload.size:
            if upload.size > MAX_MASK_UPLOAD:
                raise JobError("The mask file is too large.", field="mask")
            mask_bytes = upload.read()
        elif request.POST.get("mask_data"):
            mask_bytes = operations.mask_png_from_data_url(request.POST["mask_data"])
        objects = None
        if request.POST.get("objects"):
            try:
                objects = json.loads(request.POST["objects"])
            except ValueError:
                raise JobError("The chosen objects are not valid JSON.", field="objects") from None
        job = operations.submit_operation(
            request.shop,
            asset,
            operation,
            _options_from_post(request, operation),
            request.user,
            source="web",
            mask_bytes=mask_bytes,
            prompt=request.POST.get("prompt", ""),
            objects=objects,
            submit_key=request.POST.get("submit_token", ""),
        )
    except (JobError, InsufficientCredits) as exc:
        error = str(exc)
        if request.htmx:
            # Shown under the button that was pressed, and kept until the next edit is sent.
            response = render(
                request, "generations/partials/form_error.html", {"error": error}, status=422
            )
            return reswap(retarget(response, f"#op-error-{_slot(request, operation)}"), "innerHTML")
        messages.error(request, error)
        return redirect("asset_detail", asset_id=asset.id)
    label = OPERATIONS[operation].label
    replayed = getattr(job, "replayed", False)
    if request.htmx:
        # The job card goes right under the button; the form gets a fresh token out of band so
        # that the next deliberate click makes a new job (a double click does not).
        response = render(
            request,
            "generations/partials/op_started.html",
            {"job": job, "new": True, "slot": _slot(request, operation)},
        )
        message = (
            f"{label} was sent twice; it runs once."
            if replayed
            else f"{label} started · {job.cost_cents}¢"
        )
        return trigger_client_event(response, "toast", {"message": message})
    if replayed:
        messages.info(request, f"{label} was sent twice; it runs once, here.")
    else:
        messages.success(request, f"{label} started.")
    return redirect("job_detail", job_id=job.id)

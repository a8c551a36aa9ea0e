"""Seed 000: POST /ai-generations/generate, GET /ai-generations/:id, and the background-removal
and image-to-video routes. Errors are {"error": "..."}; no balance is a 429."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from generations.actions import MAX_COUNT, GenerationSpec
from generations.api import common
from generations.api.common import (
    SEED_000,
    ApiError,
    References,
    asset_for_url,
    asset_url,
    charged_cents,
    endpoint,
    int_field,
    job_outputs,
    json_body,
    string_field,
    string_list,
    submit_api_generation,
    sync_timeout,
    with_refunds,
)
from generations.engines import registry
from generations.engines.base import Capability
from generations.models import Asset, Job
from studio.actions import InsufficientCredits

# The seed's reference-guided model; used for referenceImageUrls when this server can serve it.
REFERENCE_MODEL = "google:4@2"
MAX_REFERENCES = 5
EXHAUSTED = "API credits exhausted and no wallet balance"


def exhausted(exc: InsufficientCredits) -> ApiError:
    return ApiError(
        429,
        EXHAUSTED,
        code="ResourceExhausted",
        extra={"requiredCents": exc.required_cents, "availableCents": exc.available_cents},
    )


def _image(asset: Asset, request: HttpRequest) -> dict[str, Any]:
    return {
        "id": str(asset.id),
        "imageUrl": asset_url(asset, request),
        "width": asset.width,
        "height": asset.height,
    }


def generation_body(job: Job, request: HttpRequest) -> dict[str, Any]:
    images = [_image(a, request) for a in job_outputs(job)]
    first = images[0] if images else {"imageUrl": None, "width": None, "height": None}
    return {
        "images": images,
        "imageUrl": first["imageUrl"],
        "width": first["width"],
        "height": first["height"],
        "generationId": str(job.id),
        "persistence": "ok",
        "costCents": charged_cents(job),
        "model": job.model,
    }


@endpoint(SEED_000, scope="ai:generate", methods=("POST",), idempotent=True)
def generate(request: HttpRequest) -> HttpResponse:
    data = json_body(request)
    prompt = string_field(data, "prompt").strip()
    if not prompt:
        raise ApiError(400, "prompt is required.")
    refs = string_list(data, "referenceImageUrls", max_items=MAX_REFERENCES)
    model = string_field(data, "model").strip()
    if refs and not model:
        available = {s.name for s in registry.available_models(Capability.TEXT_TO_IMAGE)}
        if REFERENCE_MODEL in available:
            model = REFERENCE_MODEL
    count = int_field(data, "numberResults", 4)
    if refs:
        count = 1  # reference-guided generation returns a single image
    if not 1 <= count <= MAX_COUNT:
        raise ApiError(400, f"numberResults must be between 1 and {MAX_COUNT}.")
    width = int_field(data, "width", 1024)
    height = int_field(data, "height", 1024)
    spec = GenerationSpec(
        prompt=prompt,
        width=width,
        height=height,
        count=count,
        model=model,
        extra={"api": "ai-generations"},
    )
    try:
        job = submit_api_generation(
            request,
            spec,
            family=SEED_000,
            references=References(urls=refs, url_field="referenceImageUrls"),
        )
    except InsufficientCredits as exc:
        raise exhausted(exc) from None
    job = common.wait_for_job(job.id, sync_timeout())
    if not job.is_finished:
        return JsonResponse(
            {
                "error": f"Generation timed out after {sync_timeout():g}s; it is still running.",
                "generationId": str(job.id),
                "hint": f"GET /ai-generations/{job.id} to check status",
            },
            status=504,
        )
    if job.status != Job.Status.COMPLETED:
        return JsonResponse(
            {"error": job.error or "The generation failed.", "generationId": str(job.id)},
            status=502,
        )
    return JsonResponse(generation_body(job, request))


@endpoint(SEED_000, scope="ai:generate")
def generation_detail(request: HttpRequest, generation_id: str) -> HttpResponse:
    try:
        ident = uuid.UUID(str(generation_id))
    except ValueError:
        raise ApiError(404, "Generation not found.") from None
    jobs = Job.objects.filter(shop=request.shop, id=ident).order_by()  # type: ignore[attr-defined]
    job = with_refunds(jobs).first()
    if job is None:
        raise ApiError(404, "Generation not found.")
    job.shop = request.shop  # type: ignore[attr-defined]
    body = generation_body(job, request)
    body["status"] = job.status
    if job.status == Job.Status.FAILED:
        body["error"] = job.error
    return JsonResponse(body)


# --- operations: background removal and image to video (generations.operations) ----------------


def _operation(
    request: HttpRequest,
    *,
    operation: str,
    options: dict[str, Any],
    image_url: str,
    prompt: str = "",
) -> Job:
    shop = request.shop  # type: ignore[attr-defined]
    asset = asset_for_url(shop, image_url, request, field_name="imageUrl")
    try:
        from generations import operations  # the image-operations work; imported lazily
    except ImportError:
        raise ApiError(
            501, "Image operations are not available on this server.", code="not_implemented"
        ) from None
    try:
        return operations.submit_operation(
            shop, asset, operation, options, user=None, source=SEED_000.source, prompt=prompt
        )
    except InsufficientCredits as exc:
        raise exhausted(exc) from None
    except (ValueError, LookupError) as exc:  # JobError and OperationError are ValueErrors
        raise ApiError(400, str(exc)) from None


def _finish_operation(job: Job) -> Job:
    job = common.wait_for_job(job.id, sync_timeout())
    if not job.is_finished:
        raise ApiError(
            504,
            f"The operation timed out after {sync_timeout():g}s; it is still running.",
            extra={"jobId": str(job.id)},
        )
    if job.status != Job.Status.COMPLETED:
        raise ApiError(502, job.error or "The operation failed.", extra={"jobId": str(job.id)})
    return job


@endpoint(SEED_000, scope="ai:bg-remove", methods=("POST",), idempotent=True)
def remove_background(request: HttpRequest) -> HttpResponse:
    data = json_body(request)
    image_url = string_field(data, "imageUrl").strip()
    if not image_url:
        raise ApiError(400, "imageUrl is required.")
    job = _finish_operation(
        _operation(request, operation="remove-background", options={}, image_url=image_url)
    )
    outputs = job_outputs(job)
    if not outputs:
        raise ApiError(502, "The operation produced no image.")
    out = outputs[0]
    return JsonResponse(
        {
            "id": str(out.id),
            "imageUrl": asset_url(out, request),
            "width": out.width,
            "height": out.height,
            "costCents": charged_cents(job),
        }
    )


@endpoint(SEED_000, scope="ai:video", methods=("POST",), idempotent=True)
def generate_video(request: HttpRequest) -> HttpResponse:
    data = json_body(request)
    image_url = string_field(data, "imageUrl").strip()
    if not image_url:
        raise ApiError(400, "imageUrl is required.")
    resolution = int_field(data, "resolution", 720)
    if resolution not in (720, 1080):
        raise ApiError(400, "resolution must be 720 or 1080.")
    job = _finish_operation(
        _operation(
            request,
            operation="video",
            options={"resolution": resolution},
            image_url=image_url,
            prompt=string_field(data, "prompt")[:2000],
        )
    )
    outputs = [a for a in job_outputs(job) if a.is_video] or job_outputs(job)
    if not outputs:
        raise ApiError(502, "The operation produced no video.")
    out = outputs[0]
    return JsonResponse(
        {
            "id": str(out.id),
            "videoUrl": asset_url(out, request),
            "duration": (job.result or {}).get("duration", out.parameters.get("duration", 6)),
            "width": out.width,
            "height": out.height,
            "costCents": charged_cents(job),
        }
    )

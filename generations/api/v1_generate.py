"""Seed 004: POST /v1/generate (a product photo placed in a described scene, as a job), the jobs
API to poll it (GET /v1/jobs, GET /v1/jobs/{job_id}, POST /v1/jobs/{job_id}/cancel) and
GET /v1/presets. Errors are {"error": {"code", "message", ...}}.

Each route parses its request in one small function (`parse_*`) and calls the scene actions;
the family's error renderer gives the seed's codes: invalid_request, unauthorized,
insufficient_credits (with required / available), rate_limit_exceeded (with retry_after).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from generations.actions import CancelError, JobError, cancel_job
from generations.api.common import (
    ApiError,
    AssetUrls,
    Family,
    asset_for_url,
    charged_cents,
    endpoint,
    job_output_rows,
    json_body,
    with_refunds,
)
from generations.models import Asset, Job
from generations.scenes import actions as scenes
from generations.scenes.documents import STATUS, iso, job_document, parse_public_id, public_id
from generations.scenes.models import ASPECT_RATIOS
from generations.scenes.presets import find_preset, presets_for
from studio.actions import InsufficientCredits
from studio.models import Shop

# The seed's codes by status; the wrapper's own codes (e.g. "validation_error") are mapped here.
CODES = {
    400: "invalid_request",
    401: "unauthorized",
    402: "insufficient_credits",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limit_exceeded",
    500: "internal_error",
}
RETRY_AFTER = re.compile(r"[Rr]etry after (\d+)\s*s")


def seed_004_error(request: HttpRequest, err: ApiError) -> dict[str, Any]:
    """{"error": {"code", "message", ...}} with the seed's wording for 401 and 429."""
    code = err.code if err.code not in ("validation_error", "rate_limited", "error") else ""
    code = code or CODES.get(err.status, "error")
    message = err.message
    extra: dict[str, Any] = dict(err.extra)
    if err.status == 401:
        code, message = "unauthorized", "Invalid or missing API key"
    elif err.status == 429:
        # The shared wrapper says "… Retry after Ns."; the seed wants the seconds as a field.
        found = RETRY_AFTER.search(err.message)
        retry = int(found.group(1)) if found else 60
        code = "rate_limit_exceeded"
        message = f"Rate limit exceeded. Try again in {retry} seconds."
        extra["retry_after"] = retry
    elif err.status == 400:
        code = "invalid_request"
    error: dict[str, Any] = {"code": code, "message": message, **extra}
    if err.details:
        error["details"] = err.details
    return {"error": error}


SEED_004 = Family("004", seed_004_error, "api:v1")


def insufficient(exc: InsufficientCredits) -> ApiError:
    return ApiError(
        402,
        f"Not enough credits. Required: {exc.required_cents}, Available: {exc.available_cents}",
        code="insufficient_credits",
        extra={"required": exc.required_cents, "available": exc.available_cents},
    )


# --- POST /v1/generate ----------------------------------------------------------------------------


@dataclass
class GenerateInput:
    model: str
    image_url: str
    asset_id: str
    prompt: str
    preset_id: str
    num_images: int
    aspect_ratio: str
    webhook_url: str


def _string(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string.")
    return value.strip()


def parse_generate(data: dict[str, Any]) -> GenerateInput:
    """The seed's body, checked field by field (messages name the parameter)."""
    model = _string(data, "model")
    if not model:
        raise ApiError(400, "Missing required parameter: model")
    image_url, asset_id = _string(data, "image_url"), _string(data, "asset_id")
    if not image_url and not asset_id:
        raise ApiError(400, "Missing required parameter: image_url or asset_id")
    if image_url and asset_id:
        raise ApiError(400, "Send either image_url or asset_id, not both.")
    prompt, preset_id = _string(data, "prompt"), _string(data, "preset_id")
    if not prompt and not preset_id:
        raise ApiError(400, "Missing required parameter: prompt")
    raw_count = data.get("num_images", 1)
    if raw_count is None:
        raw_count = 1
    if isinstance(raw_count, bool) or not isinstance(raw_count, int):
        raise ApiError(400, "num_images must be a whole number between 1 and 4.")
    if not 1 <= raw_count <= scenes.MAX_IMAGES:
        raise ApiError(400, f"num_images must be between 1 and {scenes.MAX_IMAGES}.")
    aspect = _string(data, "aspect_ratio")  # blank: the preset's, else 1:1
    if aspect and aspect not in ASPECT_RATIOS:
        raise ApiError(400, f"aspect_ratio must be one of: {', '.join(ASPECT_RATIOS)}.")
    return GenerateInput(
        model=model,
        image_url=image_url,
        asset_id=asset_id,
        prompt=prompt,
        preset_id=preset_id,
        num_images=raw_count,
        aspect_ratio=aspect,
        webhook_url=_string(data, "webhook_url"),
    )


def _job_error(exc: JobError) -> ApiError:
    return ApiError(400, str(exc), details={"param": exc.field} if exc.field else None)


@endpoint(SEED_004, scope="ai:generate", methods=("POST",), idempotent=True)
def generate(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    body = parse_generate(json_body(request))
    preset = None
    if body.preset_id:
        preset = find_preset(shop, body.preset_id)
        if preset is None:
            raise ApiError(404, f"Preset {body.preset_id!r} not found.", code="not_found")
    asset = None
    if body.asset_id:
        try:
            asset = Asset.objects.filter(shop=shop, id=uuid.UUID(body.asset_id)).first()
        except ValueError:
            asset = None
        if asset is None:
            raise ApiError(404, f"Asset {body.asset_id!r} not found.", code="not_found")
    req = scenes.SceneRequest(
        asset=asset,
        model=body.model,
        prompt=body.prompt,
        preset=preset,
        count=body.num_images,
        aspect_ratio=body.aspect_ratio,
        webhook_url=body.webhook_url,
    )
    if asset is None:
        # Validate and price with a stand-in first: a bad request or an empty wallet must not
        # fetch and store the image.
        _check_before_fetch(shop, req)
        req.asset = asset_for_url(shop, body.image_url, request, field_name="image_url")
    try:
        prepared = scenes.prepare_scene(shop, req)
        job = scenes.submit_scene(shop, req, source=SEED_004.source, prepared=prepared)
    except JobError as exc:
        raise _job_error(exc) from None
    except InsufficientCredits as exc:
        raise insufficient(exc) from None
    response = JsonResponse(
        {
            "job_id": public_id(job.id),
            "status": STATUS[job.status],
            "created_at": iso(job.created_at),
            "estimated_time_seconds": scenes.estimate_seconds(prepared.spec, job.params["count"]),
            "model": job.model,
            "num_images": job.params["count"],
        },
        status=202,
    )
    response["Location"] = f"/v1/jobs/{public_id(job.id)}"
    return response


def _check_before_fetch(shop: Shop, req: scenes.SceneRequest) -> None:
    stand_in = Asset(
        shop=shop, content_type="image/png", width=1, height=1, bytes=1
    )  # never saved: only lets prepare_scene check everything but the image
    probe = scenes.SceneRequest(**{**req.__dict__, "asset": stand_in})
    try:
        prepared = scenes.prepare_scene(shop, probe)
    except JobError as exc:
        raise _job_error(exc) from None
    balance = Shop.objects.get(pk=shop.pk).balance_cents
    if balance < prepared.total_cents:
        raise insufficient(InsufficientCredits(prepared.total_cents, balance))


# --- the jobs API --------------------------------------------------------------------------------------


def parse_job_id(job_id: str) -> uuid.UUID:
    ident = parse_public_id(job_id)
    if ident is None:
        raise ApiError(404, "Job not found.", code="not_found")
    return ident


def _job(request: HttpRequest, job_id: str) -> Job:
    ident = parse_job_id(job_id)
    jobs = Job.objects.filter(shop=request.shop, id=ident, kind=scenes.KIND).order_by()  # type: ignore[attr-defined]
    job = with_refunds(jobs).first()
    if job is None:
        raise ApiError(404, "Job not found.", code="not_found")
    job.shop = request.shop  # type: ignore[attr-defined]
    return job


def document(job: Job, request: HttpRequest, urls: AssetUrls | None = None) -> dict[str, Any]:
    urls = urls or AssetUrls(job.shop, request)
    images = [
        {"id": str(ident), "url": urls(name), "width": w, "height": h, "content_type": ctype}
        for ident, name, w, h, ctype in job_output_rows(job.id)
    ]
    return job_document(
        job,
        images,
        credits_charged=charged_cents(job),
        remaining_seconds=scenes.remaining_seconds(job),
    )


@endpoint(SEED_004, scope=("ai:generate", "library:read"))
def job_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    return JsonResponse(document(_job(request, job_id), request))


@dataclass
class ListInput:
    status: str
    limit: int
    starting_after: uuid.UUID | None


def parse_job_list(query: Any) -> ListInput:
    status = (query.get("status") or "").strip()
    statuses = {v: k for k, v in STATUS.items()}
    if status and status not in statuses:
        raise ApiError(400, f"status must be one of: {', '.join(statuses)}.")
    raw_limit = (query.get("limit") or "20").strip()
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise ApiError(400, "limit must be a whole number between 1 and 100.")
    after = (query.get("starting_after") or "").strip()
    after_id = parse_public_id(after) if after else None
    if after and after_id is None:
        raise ApiError(400, "starting_after must be a job_id.")
    return ListInput(statuses.get(status, ""), int(raw_limit), after_id)


@endpoint(SEED_004, scope=("ai:generate", "library:read"))
def job_list(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    q = parse_job_list(request.GET)
    jobs = Job.objects.filter(shop=shop, kind=scenes.KIND).order_by("-created_at", "-id")
    if q.status:
        jobs = jobs.filter(status=q.status)
    if q.starting_after is not None:
        cursor = (
            Job.objects.filter(shop=shop, id=q.starting_after)
            .values_list("created_at", flat=True)
            .first()
        )
        if cursor is None:
            raise ApiError(400, "starting_after names no job of this shop.")
        jobs = (
            jobs.filter(created_at__lte=cursor)
            .exclude(id=q.starting_after)
            .exclude(created_at=cursor, id__gt=q.starting_after)
        )
    page = list(with_refunds(jobs)[: q.limit + 1])
    urls = AssetUrls(shop, request)
    for job in page:
        job.shop = shop
    data = [document(job, request, urls) for job in page[: q.limit]]
    return JsonResponse({"data": data, "has_more": len(page) > q.limit})


@endpoint(SEED_004, scope="ai:generate", methods=("POST",))
def job_cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job(request, job_id)
    try:
        cancel_job(job, reason="canceled through the API")
    except CancelError as exc:
        raise ApiError(409, str(exc), code="conflict") from None
    return JsonResponse(document(_job(request, job_id), request))


@endpoint(SEED_004, scope=("ai:generate", "library:read"))
def preset_list(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    return JsonResponse(
        {
            "data": [
                {
                    "preset_id": p.id,
                    "name": p.name,
                    "prompt": p.prompt,
                    "surface": p.surface or None,
                    "light": p.light or None,
                    "camera": p.camera or None,
                    "aspect_ratio": p.aspect_ratio,
                    "builtin": p.builtin,
                }
                for p in presets_for(shop)
            ]
        }
    )

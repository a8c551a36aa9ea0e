"""Seed 003: POST /ai/generate-image (201, media ids for posts) and /v1/posts (stored, not
published). Every answer is {"data", "error", "meta": {"request_id", "timestamp"}}."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from generations.actions import GenerationSpec, size_for
from generations.api import common
from generations.api.common import (
    SEED_003,
    ApiError,
    asset_url,
    charged_cents,
    endpoint,
    family_price,
    iso,
    job_outputs,
    json_body,
    meta,
    string_field,
    submit_api_generation,
    sync_timeout,
)
from generations.engines import registry
from generations.models import Asset, Job, Post
from studio.actions import InsufficientCredits

ASPECT_RATIOS_003 = ("1:1", "16:9", "9:16", "4:3", "3:4", "4:5", "5:4")
MAX_PROMPT = 2000
LONG_SIDE = 1920  # the seed's 16:9 example is 1920 × 1080
# Seed 003's credits per image for its models (PriceRule rows naming the model win).
MODEL_CREDITS = {"nano-banana-pro": 15, "ideogram-v2": 8, "gemini-3-pro": 5, "flux-schnell": 1}
MAX_POST_MEDIA = 10
MAX_POST_TEXT = 10_000


def ok(request: HttpRequest, data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse({"data": data, "error": None, "meta": meta(request)}, status=status)


def price_003(engine: str, model: str, resolution: str, general_cents: int) -> int:
    return family_price(
        engine=engine,
        model=model,
        resolution=resolution,
        table=MODEL_CREDITS.get(model),
        fallback=general_cents,
    )


@endpoint(SEED_003, scope="ai", methods=("POST",), idempotent=True)
def generate_image(request: HttpRequest) -> HttpResponse:
    data = json_body(request)
    prompt = string_field(data, "prompt").strip()
    if not prompt:
        raise ApiError(400, "prompt is required.")
    if len(prompt) > MAX_PROMPT:
        raise ApiError(400, f"prompt must be at most {MAX_PROMPT} characters.")
    aspect = string_field(data, "aspect_ratio", default="1:1") or "1:1"
    if aspect not in ASPECT_RATIOS_003:
        raise ApiError(400, f"Invalid aspect ratio. Must be one of: {', '.join(ASPECT_RATIOS_003)}")
    model = string_field(data, "model").strip()
    width, height = size_for(aspect, LONG_SIDE)
    spec = GenerationSpec(
        prompt=prompt,
        aspect_ratio=aspect,
        width=width,
        height=height,
        count=1,
        model=model,
        extra={"api": "ai"},
    )
    try:
        job = submit_api_generation(request, spec, family=SEED_003, price=price_003)
    except InsufficientCredits as exc:
        model_name = model or registry.default_model_name(request.shop.default_model)  # type: ignore[attr-defined]
        raise ApiError(
            402,
            f"Not enough credits. This model costs {exc.required_cents} credits but you have "
            f"{exc.available_cents} available.",
            code="insufficient_credits",
            details={
                "credits_required": exc.required_cents,
                "credits_available": exc.available_cents,
                "model": model_name,
            },
        ) from None
    job = common.wait_for_job(job.id, sync_timeout())
    if not job.is_finished:
        raise ApiError(
            504,
            f"Generation timed out after {sync_timeout():g}s; it is still running.",
            code="timeout",
            details={"job_id": str(job.id)},
        )
    outputs = job_outputs(job)
    if job.status != Job.Status.COMPLETED or not outputs:
        raise ApiError(502, job.error or "The generation failed.", code="generation_failed")
    asset = outputs[0]
    shop = request.shop  # type: ignore[attr-defined]
    shop.refresh_from_db()
    media_id = str(asset.id)
    return ok(
        request,
        {
            "media_id": media_id,
            "media_ids": [media_id],
            "type": "image",
            "url": asset_url(asset, request),
            "width": asset.width,
            "height": asset.height,
            "aspect_ratio": aspect,
            "ai": {"model": job.model, "prompt": prompt},
            "credits_used": charged_cents(job),
            "credits_remaining": shop.balance_cents,
            "created_at": iso(asset.created_at),
            "next_step": (
                f'Image generated. Attach it to a post by passing "media_ids": ["{media_id}"] '
                "to POST /v1/posts."
            ),
        },
        status=201,
    )


def post_body(post: Post, request: HttpRequest) -> dict[str, Any]:
    by_id = {str(a.id): a for a in post.media.all()}
    return {
        "id": str(post.id),
        "text": post.text,
        "media_ids": post.media_ids,
        "media": [
            {
                "id": mid,
                "type": "video" if by_id[mid].is_video else "image",
                "url": asset_url(by_id[mid], request),
                "width": by_id[mid].width,
                "height": by_id[mid].height,
            }
            for mid in post.media_ids
            if mid in by_id
        ],
        "status": "stored",
        "published": False,
        "created_at": iso(post.created_at),
    }


@endpoint(SEED_003, scope="ai", methods=("GET", "POST"), idempotent=True)
def posts(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    if request.method == "GET":
        items = Post.objects.filter(shop=shop).prefetch_related("media__shop")[:50]
        return ok(request, {"posts": [post_body(p, request) for p in items]})
    data = json_body(request)
    text = data.get("text", data.get("content", ""))
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ApiError(400, "text must be a string.")
    if len(text) > MAX_POST_TEXT:
        raise ApiError(400, f"text must be at most {MAX_POST_TEXT} characters.")
    media_ids = data.get("media_ids", [])
    if media_ids is None:
        media_ids = []
    if not isinstance(media_ids, list) or not all(isinstance(m, str) for m in media_ids):
        raise ApiError(400, "media_ids must be an array of media id strings.")
    if len(media_ids) > MAX_POST_MEDIA:
        raise ApiError(400, f"A post takes at most {MAX_POST_MEDIA} media.")
    if not text.strip() and not media_ids:
        raise ApiError(400, "A post needs text or media_ids.")
    ids: list[str] = []
    for mid in media_ids:
        try:
            ids.append(str(uuid.UUID(mid)))
        except ValueError:
            raise ApiError(400, f"media_ids: {mid[:60]!r} is not a media id.") from None
    ids = list(dict.fromkeys(ids))
    found = {str(a.id): a for a in Asset.objects.filter(shop=shop, id__in=ids)}
    missing = [m for m in ids if m not in found]
    if missing:
        raise ApiError(
            400,
            f"media_ids not found in your media library: {', '.join(missing)}",
            details={"missing_media_ids": missing},
        )
    with transaction.atomic():
        post = Post.objects.create(shop=shop, text=text, media_ids=ids, source="api")
        post.media.set(found.values())
    return ok(request, post_body(post, request), status=201)

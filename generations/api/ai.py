"""Seed 003: POST /ai/generate-image (201, media ids for posts) and /v1/posts (stored, not
published). Every answer is {"data", "error", "meta": {"request_id", "timestamp"}}."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from pydantic import Field, field_validator

from generations.actions import GenerationSpec, size_for
from generations.api import common
from generations.api.common import (
    charged_cents,
    family_price,
    job_outputs,
    submit_api_generation,
    sync_timeout,
)
from generations.api.edge import (
    SEED_003,
    ApiError,
    EnvelopeError,
    In,
    Meta,
    Out,
    Reply,
    Returns,
    iso,
    meta,
    omitted,
    operation,
    route,
    studio_error,
)
from generations.engines import registry
from generations.models import Job, Post
from generations.posts import PostError, create_post
from generations.storage_urls import asset_url
from studio.actions import InsufficientCredits

ASPECT_RATIOS_003 = ("1:1", "16:9", "9:16", "4:3", "3:4", "4:5", "5:4")
MAX_PROMPT = 2000
LONG_SIDE = 1920  # the seed's 16:9 example is 1920 × 1080
# Seed 003's credits per image for its models (PriceRule rows naming the model win).
MODEL_CREDITS = {"nano-banana-pro": 15, "ideogram-v2": 8, "gemini-3-pro": 5, "flux-schnell": 1}
MAX_POST_MEDIA = 10
MAX_POST_TEXT = 10_000
ASPECT_MESSAGE = f"Invalid aspect ratio. Must be one of: {', '.join(ASPECT_RATIOS_003)}"


def price_003(engine: str, model: str, resolution: str, general_cents: int) -> int:
    return family_price(
        engine=engine,
        model=model,
        resolution=resolution,
        table=MODEL_CREDITS.get(model),
        fallback=general_cents,
    )


# --- models ---------------------------------------------------------------------------------------


class GenerateImageIn(In):
    prompt: str = Field(description=f"What to draw (max {MAX_PROMPT} characters).")
    aspect_ratio: str | None = Field(None, description="Default 1:1.", max_length=20)
    model: str | None = Field(None, max_length=200, description="Default: the shop's model.")

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise studio_error("prompt is required.")
        if len(value) > MAX_PROMPT:
            raise studio_error(f"prompt must be at most {MAX_PROMPT} characters.")
        return value

    @field_validator("aspect_ratio")
    @classmethod
    def _aspect(cls, value: str | None) -> str | None:
        if value and value not in ASPECT_RATIOS_003:
            raise studio_error(ASPECT_MESSAGE)
        return value


class Ai(Out):
    model: str
    prompt: str
    unrecognized_words: list[str] | None = omitted(
        "Prompt words the engine had no subject for (drawn without them)."
    )


class GeneratedMedia(Out):
    media_id: str
    media_ids: list[str]
    type: Literal["image"]
    url: str = Field(description="The image, on the shop's storage origin.")
    width: int | None
    height: int | None
    aspect_ratio: str
    ai: Ai
    credits_used: int
    credits_remaining: int
    created_at: str
    next_step: str


class GeneratedMediaEnvelope(Out):
    data: GeneratedMedia
    error: None
    meta: Meta


class PostIn(In):
    text: str | None = Field(None, max_length=MAX_POST_TEXT)
    content: str | None = Field(None, max_length=MAX_POST_TEXT, description="Alias of text.")
    media_ids: list[str] | None = Field(None, max_length=MAX_POST_MEDIA)


class PostMedia(Out):
    id: str
    type: Literal["image", "video"]
    url: str
    width: int | None
    height: int | None


class PostOut(Out):
    id: str
    text: str
    media_ids: list[str]
    media: list[PostMedia]
    status: Literal["stored"]
    published: bool
    created_at: str


class PostEnvelope(Out):
    data: PostOut
    error: None
    meta: Meta


class PostList(Out):
    posts: list[PostOut]


class PostListEnvelope(Out):
    data: PostList
    error: None
    meta: Meta


GENERATE_EXAMPLE = {
    "data": {
        "media_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "media_ids": ["a1b2c3d4-e5f6-7890-abcd-ef1234567890"],
        "type": "image",
        "url": "https://your-shop.storage.example.com/media/…/image.png",
        "width": 1920,
        "height": 1080,
        "aspect_ratio": "16:9",
        "ai": {
            "model": "nano-banana-pro",
            "prompt": "A professional photo of a modern office workspace with natural lighting",
        },
        "credits_used": 15,
        "credits_remaining": 485,
        "created_at": "2026-04-10T12:00:00.000Z",
        "next_step": 'Image generated. Attach it to a post by passing "media_ids": '
        '["a1b2c3d4-e5f6-7890-abcd-ef1234567890"] to POST /v1/posts.',
    },
    "error": None,
    "meta": {"request_id": "a1b2c3d4", "timestamp": "2026-04-10T12:00:00.000Z"},
}


def _error_example(message: str, code: str, details: dict[str, Any] | None = None) -> Any:
    error: dict[str, Any] = {"message": message, "code": code}
    if details:
        error["details"] = details
    return {
        "data": None,
        "error": error,
        "meta": {"request_id": "e5f6g7h8", "timestamp": "2026-04-10T12:00:00.000Z"},
    }


@operation(
    SEED_003,
    "POST",
    summary="Generate image",
    description="Generates an image into the media library; attach it to a post with media_ids. "
    "Models: nano-banana-pro 15 credits, ideogram-v2 8, gemini-3-pro 5, flux-schnell 1 (where "
    "this server serves them); omitted = the shop's default model.",
    scope="ai",
    body=GenerateImageIn,
    body_example={
        "prompt": "A professional photo of a modern office workspace with natural lighting",
        "aspect_ratio": "16:9",
        "model": "nano-banana-pro",
    },
    idempotent=True,
    responses={
        201: Returns(GeneratedMediaEnvelope, "Image generated successfully", GENERATE_EXAMPLE),
        400: Returns(
            EnvelopeError,
            "Invalid prompt, aspect ratio, or model",
            _error_example(ASPECT_MESSAGE, "validation_error"),
        ),
        402: Returns(
            EnvelopeError,
            "Insufficient AI credits",
            _error_example(
                "Not enough credits. This model costs 15 credits but you have 3 available.",
                "insufficient_credits",
                {"credits_required": 15, "credits_available": 3, "model": "nano-banana-pro"},
            ),
        ),
        502: Returns(EnvelopeError, "The generation failed (refunded)"),
        504: Returns(EnvelopeError, "Still running after the sync timeout (details.job_id)"),
    },
)
def generate_image(request: HttpRequest, body: GenerateImageIn) -> Any:
    aspect = body.aspect_ratio or "1:1"
    model = (body.model or "").strip()
    width, height = size_for(aspect, LONG_SIDE)
    spec = GenerationSpec(
        prompt=body.prompt,
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
    return finish_generate_image(request, job, body=body)


@generate_image.resumes
def finish_generate_image(
    request: HttpRequest, job: Job, *, body: GenerateImageIn, **_: Any
) -> Reply:
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
    data = GeneratedMedia(
        media_id=media_id,
        media_ids=[media_id],
        type="image",
        url=asset_url(asset, request),
        width=asset.width,
        height=asset.height,
        aspect_ratio=job.params.get("aspect_ratio") or body.aspect_ratio or "1:1",
        ai=Ai(
            model=job.model,
            prompt=body.prompt,
            unrecognized_words=(job.result or {}).get("unrecognized_words") or None,
        ),
        credits_used=charged_cents(job),
        credits_remaining=shop.balance_cents,
        created_at=iso(asset.created_at),
        next_step=(
            f'Image generated. Attach it to a post by passing "media_ids": ["{media_id}"] '
            "to POST /v1/posts."
        ),
    )
    return Reply(GeneratedMediaEnvelope(data=data, error=None, meta=Meta(**meta(request))), 201)


# --- posts ----------------------------------------------------------------------------------------


def post_body(post: Post, request: HttpRequest) -> PostOut:
    by_id = {str(a.id): a for a in post.media.all()}
    return PostOut(
        id=str(post.id),
        text=post.text,
        media_ids=post.media_ids,
        media=[
            PostMedia(
                id=mid,
                type="video" if by_id[mid].is_video else "image",
                url=asset_url(by_id[mid], request),
                width=by_id[mid].width,
                height=by_id[mid].height,
            )
            for mid in post.media_ids
            if mid in by_id
        ],
        status="stored",
        published=False,
        created_at=iso(post.created_at),
    )


@operation(
    SEED_003,
    "GET",
    summary="List posts",
    description="The latest 50 posts of the shop.",
    scope="ai",
    responses={200: PostListEnvelope},
)
def list_posts(request: HttpRequest) -> PostListEnvelope:
    items = Post.objects.filter(shop=request.shop).prefetch_related("media__shop")[:50]  # type: ignore[attr-defined]
    return PostListEnvelope(
        data=PostList(posts=[post_body(p, request) for p in items]),
        error=None,
        meta=Meta(**meta(request)),
    )


@operation(
    SEED_003,
    "POST",
    summary="Create a post",
    description="Stores a post with media from the shop's library (publishing to social "
    "networks is out of scope: status stored, published false).",
    scope="ai",
    body=PostIn,
    body_example={"text": "New drop!", "media_ids": ["a1b2c3d4-e5f6-7890-abcd-ef1234567890"]},
    idempotent=True,
    responses={201: Returns(PostEnvelope, "The stored post")},
)
def create_post_view(request: HttpRequest, body: PostIn) -> Reply:
    text = body.text if body.text is not None else (body.content or "")
    try:
        post = create_post(request.shop, text=text, media_ids=body.media_ids or [], source="api")  # type: ignore[attr-defined]
    except PostError as exc:
        raise ApiError(400, str(exc), details=exc.details) from None
    data = post_body(post, request)
    return Reply(PostEnvelope(data=data, error=None, meta=Meta(**meta(request))), 201)


generate_image_view = route(generate_image)
posts_view = route(list_posts, create_post_view)

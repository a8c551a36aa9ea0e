"""Seed 000: POST /ai-generations/generate, GET /ai-generations/:id, and the background-removal
and image-to-video routes. Errors are {"error": "..."}; no balance is a 429."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from django.http import HttpRequest
from pydantic import Field, field_validator

from generations import operations
from generations.actions import MAX_COUNT, MAX_SIDE, MIN_SIDE, GenerationSpec
from generations.api import common
from generations.api.common import (
    References,
    asset_for_url,
    charged_cents,
    job_outputs,
    outputs_of,
    poll_job,
    submit_api_generation,
    sync_timeout,
)
from generations.api.edge import (
    SEED_000,
    ApiError,
    In,
    Out,
    Returns,
    SimpleError,
    omitted,
    operation,
    route,
    studio_error,
)
from generations.api.idempotency import submit_bound
from generations.engines import registry
from generations.engines.base import Capability
from generations.models import Job
from generations.storage_urls import FileUrls, asset_url
from studio.actions import InsufficientCredits

# The seed's reference-guided model; used for referenceImageUrls when this server can serve it.
REFERENCE_MODEL = "google:4@2"
MAX_REFERENCES = 5
EXHAUSTED = "API credits exhausted and no wallet balance"


# --- models ---------------------------------------------------------------------------------------


class GenerateIn(In):
    prompt: str = Field(max_length=4000, description="What to draw.")
    numberResults: int = Field(4, ge=1, le=MAX_COUNT, description="Images to make (default 4).")
    width: int = Field(1024, ge=MIN_SIDE, le=MAX_SIDE)
    height: int = Field(1024, ge=MIN_SIDE, le=MAX_SIDE)
    referenceImageUrls: list[str] | None = Field(
        None,
        max_length=MAX_REFERENCES,
        description="Images to condition on (one image is made). URLs on the shop's storage "
        "origin are used directly; others are fetched.",
    )
    model: str | None = Field(None, max_length=200, description="Public model name.")

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, value: str) -> str:
        if not value.strip():
            raise studio_error("prompt is required.")
        return value.strip()


class Image000(Out):
    id: str
    imageUrl: str
    width: int | None
    height: int | None


class Generation(Out):
    images: list[Image000]
    imageUrl: str | None
    width: int | None
    height: int | None
    generationId: str
    persistence: Literal["ok", "failed"]
    costCents: int | None
    model: str = Field(description="The model that made the images.")
    status: Literal["queued", "active", "completed", "failed", "canceled"] | None = omitted(
        "The job's status (GET only)."
    )
    error: str | None = omitted("Why the job failed (GET of a failed generation only).")
    unrecognizedWords: list[str] | None = omitted(
        "Prompt words the engine had no subject for (drawn without them)."
    )


class Exhausted(SimpleError):
    requiredCents: int | None = omitted()
    availableCents: int | None = omitted()


class GenerationTimeout(SimpleError):
    generationId: str | None = omitted("The generation keeps running: GET /ai-generations/:id.")
    hint: str | None = omitted()
    jobId: str | None = omitted("The job keeps running: retry with the same Idempotency-Key.")


class ImageUrlIn(In):
    imageUrl: str = Field(
        max_length=4000, description="The image: on the shop's origin or fetched."
    )

    @field_validator("imageUrl")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.strip():
            raise studio_error("imageUrl is required.")
        return value.strip()


class VideoIn(ImageUrlIn):
    prompt: str | None = Field(None, max_length=2000, description="Camera motion, e.g. slow zoom.")
    resolution: Literal[720, 1080] = 720


class Cutout(Out):
    id: str
    imageUrl: str
    width: int | None
    height: int | None
    costCents: int


class Video(Out):
    id: str
    videoUrl: str
    duration: float
    width: int | None
    height: int | None
    costCents: int


EXHAUSTED_429 = Returns(
    Exhausted,
    "Rate limit exceeded, or no balance: “API credits exhausted and no wallet balance”",
    example={
        "error": EXHAUSTED,
        "code": "ResourceExhausted",
        "requiredCents": 4,
        "availableCents": 0,
    },
)


def exhausted(exc: InsufficientCredits) -> ApiError:
    return ApiError(
        429,
        EXHAUSTED,
        code="ResourceExhausted",
        extra={"requiredCents": exc.required_cents, "availableCents": exc.available_cents},
    )


def generation_body(job: Job, request: HttpRequest) -> Generation:
    # The outputs from their stored names (storage_urls.FileUrls: no FieldFile per image).
    urls = FileUrls(request.shop, request)  # type: ignore[attr-defined]
    images = [
        Image000(id=str(ident), imageUrl=urls(name), width=width, height=height)
        for ident, name, width, height, _type in outputs_of(job)
    ]
    first = images[0] if images else None
    return Generation(
        images=images,
        imageUrl=first.imageUrl if first else None,
        width=first.width if first else None,
        height=first.height if first else None,
        generationId=str(job.id),
        persistence="ok",
        costCents=charged_cents(job),
        model=job.model,
        unrecognizedWords=(job.result or {}).get("unrecognized_words") or None,
    )


# --- generate -------------------------------------------------------------------------------------

GENERATE_EXAMPLE = {
    "images": [
        {
            "id": "res_CysigBn7FrG1",
            "imageUrl": "https://your-shop-id.storage.snowcone.app/ai-generations/…-bddxf2.avif",
            "width": 1024,
            "height": 1024,
        }
    ],
    "imageUrl": "https://your-shop-id.storage.snowcone.app/ai-generations/…-bddxf2.avif",
    "width": 1024,
    "height": 1024,
    "generationId": "gen_hLMMv3v7z9vn",
    "persistence": "ok",
    "costCents": 1,
    "model": "builtin:procedural",
}


@operation(
    SEED_000,
    "POST",
    summary="Generate art",
    description="Synchronous: waits for the images (up to API_SYNC_TIMEOUT_SECONDS). "
    "referenceImageUrls (or model google:4@2 where served) makes one reference-guided image.",
    scope="ai:generate",
    body=GenerateIn,
    body_example={
        "prompt": "a minimalist line drawing of a mountain, black on white",
        "numberResults": 4,
    },
    idempotent=True,
    responses={
        200: Returns(Generation, "The images, on the shop's storage origin", GENERATE_EXAMPLE),
        429: EXHAUSTED_429,
        502: Returns(GenerationTimeout, "The engine failed (refunded)"),
        504: Returns(GenerationTimeout, "Still running after the sync timeout"),
    },
)
def generate(request: HttpRequest, body: GenerateIn) -> Any:
    refs = body.referenceImageUrls or []
    model = (body.model or "").strip()
    if refs and not model:
        available = {s.name for s in registry.available_models(Capability.TEXT_TO_IMAGE)}
        if REFERENCE_MODEL in available:
            model = REFERENCE_MODEL
    spec = GenerationSpec(
        prompt=body.prompt,
        width=body.width,
        height=body.height,
        count=1 if refs else body.numberResults,  # reference-guided generation makes one image
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
    return finish_generate(request, job)


@generate.resumes
def finish_generate(request: HttpRequest, job: Job, **_: Any) -> Generation:
    job = common.wait_for_job(job.id, sync_timeout())
    if not job.is_finished:
        raise ApiError(
            504,
            f"Generation timed out after {sync_timeout():g}s; it is still running.",
            code="timeout",
            extra={
                "generationId": str(job.id),
                "hint": f"GET /ai-generations/{job.id} to check status",
            },
        )
    if job.status != Job.Status.COMPLETED:
        raise ApiError(
            502, job.error or "The generation failed.", extra={"generationId": str(job.id)}
        )
    return generation_body(job, request)


@operation(
    SEED_000,
    "GET",
    summary="Get a generation",
    description="A generation of this shop by its generationId, with its status.",
    scope="ai:generate",
    responses={
        200: Returns(Generation, "The generation and its images", GENERATE_EXAMPLE),
        404: Returns(SimpleError, "No such generation in this shop"),
    },
)
def get_generation(request: HttpRequest, generation_id: str) -> Generation:
    try:
        ident = uuid.UUID(str(generation_id))
    except ValueError:
        raise ApiError(404, "Generation not found.") from None
    # The poll's precompiled read (common.poll_job: the job, refunds and outputs in one statement).
    job = poll_job(request.shop, ident)  # type: ignore[attr-defined]
    if job is None:
        raise ApiError(404, "Generation not found.")
    body = generation_body(job, request)
    body.status = job.status
    if job.status == Job.Status.FAILED:
        body.error = job.error or "The generation failed."
    return body


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
        return submit_bound(
            request,
            lambda: operations.submit_operation(
                shop, asset, operation, options, user=None, source=SEED_000.source, prompt=prompt
            ),
        )
    except InsufficientCredits as exc:
        raise exhausted(exc) from None
    except (ValueError, LookupError) as exc:  # JobError and OperationError are ValueErrors
        raise ApiError(400, str(exc)) from None


def _finished(job: Job) -> Job:
    job = common.wait_for_job(job.id, sync_timeout())
    if not job.is_finished:
        raise ApiError(
            504,
            f"The operation timed out after {sync_timeout():g}s; it is still running.",
            code="timeout",
            extra={"jobId": str(job.id)},
        )
    if job.status != Job.Status.COMPLETED:
        raise ApiError(502, job.error or "The operation failed.", extra={"jobId": str(job.id)})
    return job


OPERATION_ERRORS = {
    429: EXHAUSTED_429,
    502: Returns(GenerationTimeout, "The operation failed (refunded)"),
    504: Returns(GenerationTimeout, "Still running after the sync timeout"),
}


@operation(
    SEED_000,
    "POST",
    summary="Remove background",
    description="A transparent PNG cut-out of the image (synchronous).",
    scope="ai:bg-remove",
    body=ImageUrlIn,
    body_example={"imageUrl": "https://your-shop-id.storage.snowcone.app/ai-generations/…avif"},
    idempotent=True,
    responses={
        200: Returns(
            Cutout,
            "The cut-out",
            {"id": "…", "imageUrl": "…-nobg.png", "width": 1024, "height": 1024, "costCents": 1},
        ),
        **OPERATION_ERRORS,
    },
)
def remove_background(request: HttpRequest, body: ImageUrlIn) -> Any:
    job = _operation(request, operation="remove-background", options={}, image_url=body.imageUrl)
    return finish_remove_background(request, job)


@remove_background.resumes
def finish_remove_background(request: HttpRequest, job: Job, **_: Any) -> Cutout:
    job = _finished(job)
    outputs = job_outputs(job)
    if not outputs:
        raise ApiError(502, "The operation produced no image.", extra={"jobId": str(job.id)})
    out = outputs[0]
    return Cutout(
        id=str(out.id),
        imageUrl=asset_url(out, request),
        width=out.width,
        height=out.height,
        costCents=charged_cents(job),
    )


@operation(
    SEED_000,
    "POST",
    summary="Image to video",
    description="Animates a still into a 6-second H.264 MP4 (synchronous).",
    scope="ai:video",
    body=VideoIn,
    body_example={
        "imageUrl": "https://…/art.png",
        "prompt": "slow zoom, gentle drift",
        "resolution": 720,
    },
    idempotent=True,
    responses={
        200: Returns(
            Video,
            "The video",
            {
                "id": "…",
                "videoUrl": "…mp4",
                "duration": 6,
                "width": 1280,
                "height": 720,
                "costCents": 25,
            },
        ),
        **OPERATION_ERRORS,
    },
)
def generate_video(request: HttpRequest, body: VideoIn) -> Any:
    job = _operation(
        request,
        operation="video",
        options={"resolution": body.resolution},
        image_url=body.imageUrl,
        prompt=body.prompt or "",
    )
    return finish_generate_video(request, job)


@generate_video.resumes
def finish_generate_video(request: HttpRequest, job: Job, **_: Any) -> Video:
    job = _finished(job)
    outputs = [a for a in job_outputs(job) if a.is_video] or job_outputs(job)
    if not outputs:
        raise ApiError(502, "The operation produced no video.", extra={"jobId": str(job.id)})
    out = outputs[0]
    return Video(
        id=str(out.id),
        videoUrl=asset_url(out, request),
        duration=(job.result or {}).get("duration", out.parameters.get("duration", 6)),
        width=out.width,
        height=out.height,
        costCents=charged_cents(job),
    )


generate_view = route(generate)
generation_view = route(get_generation)
remove_background_view = route(remove_background)
generate_video_view = route(generate_video)

"""Seed 004: POST /v1/generate (a product photo placed in a described scene, as a job), the jobs
API to poll it (GET /v1/jobs, GET /v1/jobs/{job_id}, POST /v1/jobs/{job_id}/cancel) and
GET /v1/presets. Errors are {"error": {"code", "message", ...}} with the seed's codes:
invalid_request, unauthorized, insufficient_credits (required / available), rate_limit_exceeded
(retry_after). Declared on the typed edge (`generations/api/edge.py`); thin over the scene
actions (`generations/scenes/actions.py`).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal, get_args

from django.http import HttpRequest
from pydantic import Field

from generations.actions import CancelError, JobError, cancel_job
from generations.api.common import (
    asset_for_url,
    charged_cents,
    job_output_rows,
    with_refunds,
)
from generations.api.edge import (
    ApiError,
    Family,
    In,
    Out,
    Reply,
    Returns,
    omitted,
    operation,
    route,
)
from generations.api.idempotency import submit_bound
from generations.models import Asset, Job
from generations.scenes import actions as scenes
from generations.scenes.documents import (
    STATUS,
    iso,
    job_document,
    parse_public_id,
    public_id,
)
from generations.scenes.models import ASPECT_RATIOS
from generations.scenes.presets import find_preset, presets_for
from generations.storage_urls import FileUrls
from studio.actions import InsufficientCredits
from studio.models import Shop

SCOPE_WRITE = "ai:generate"
SCOPES_READ = ("ai:generate", "library:read")
Aspect = Literal["1:1", "4:3", "3:4", "16:9", "9:16"]
Status = Literal["pending", "processing", "completed", "failed", "canceled"]


# --- the family's error envelope ------------------------------------------------------------------


class ErrorDetail(Out):
    code: str = Field(description="invalid_request, unauthorized, insufficient_credits, "
                      "rate_limit_exceeded, forbidden, not_found, conflict, …")  # fmt: skip
    message: str
    required: int | None = omitted("Credits the request needs (insufficient_credits).")
    available: int | None = omitted("Credits the shop has (insufficient_credits).")
    retry_after: int | None = omitted("Seconds to wait (rate_limit_exceeded).")


class Seed004Error(Out):
    """Seed 004: {"error": {"code", "message", ...}}."""

    error: ErrorDetail


RETRY_AFTER = re.compile(r"[Rr]etry after (\d+)\s*s")
MISSING = re.compile(r"^(\w+) is required\.$")


def seed_004_error(request: HttpRequest, err: ApiError) -> dict[str, Any]:
    """The seed's wording for 400 (a missing field is "Missing required parameter: x"), 401
    and 429; the codes the shared edge uses for those statuses are mapped to the seed's."""
    code, message = err.code, err.message
    extra: dict[str, Any] = {k: v for k, v in err.extra.items() if k in ("required", "available")}
    if err.status == 400:
        code = "invalid_request"
        found = MISSING.match(message)
        if found:
            message = f"Missing required parameter: {found.group(1)}"
    elif err.status == 401:
        code, message = "unauthorized", "Invalid or missing API key"
    elif err.status == 429:
        # The shared edge says "… Retry after Ns."; the seed wants the seconds as a field.
        found = RETRY_AFTER.search(message)
        retry = int(found.group(1)) if found else 60
        code, message = "rate_limit_exceeded", f"Rate limit exceeded. Try again in {retry} seconds."
        extra["retry_after"] = retry
    elif err.status == 405:
        code = "method_not_allowed"
    return {"error": {"code": code, "message": message, **extra}}


SEED_004 = Family(
    "004", "Product photos (/v1/generate, /v1/jobs)", seed_004_error, Seed004Error, "api:v1"
)


def _error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def insufficient(exc: InsufficientCredits) -> ApiError:
    return ApiError(
        402,
        f"Not enough credits. Required: {exc.required_cents}, Available: {exc.available_cents}",
        code="insufficient_credits",
        extra={"required": exc.required_cents, "available": exc.available_cents},
    )


# --- POST /v1/generate ----------------------------------------------------------------------------


class GenerateIn(In):
    model: str = Field(
        max_length=120,
        description="nanobanana2, nanobananapro, nanobanana, kontext-pro, kontext-max, seedream, "
        "gpt-high, or builtin:scene (the offline compositor).",
    )
    image_url: str | None = Field(
        None, max_length=2000, description="URL of the product image (or send asset_id)."
    )
    asset_id: str | None = Field(
        None, max_length=64, description="ID of a previously uploaded asset (or send image_url)."
    )
    prompt: str | None = Field(
        None, max_length=scenes.MAX_PROMPT, description="The background or scene, in words."
    )
    preset_id: str | None = Field(
        None, max_length=64, description="A scene preset (GET /v1/presets) instead of a prompt."
    )
    num_images: int = Field(1, ge=1, le=scenes.MAX_IMAGES, description="Default 1, at most 4.")
    aspect_ratio: Aspect | None = Field(None, description="Default: the preset's, else 1:1.")
    webhook_url: str | None = Field(
        None, max_length=500, description="Receives a signed POST when the job finishes."
    )


class Accepted(Out):
    job_id: str
    status: Status = Field(description="pending for a new job.")
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    estimated_time_seconds: int = Field(
        description="From recent jobs of this model and the jobs waiting ahead."
    )
    model: str
    num_images: int


SEED_EXAMPLE = {
    "model": "nanobanana2",
    "image_url": "https://example.com/product.jpg",
    "prompt": "Place the product on a marble table with soft natural lighting and a minimalist "
    "background",
    "num_images": 2,
    "aspect_ratio": "1:1",
}
ACCEPTED_EXAMPLE = {
    "job_id": "job_abc123xyz",
    "status": "pending",
    "created_at": "2024-01-15T10:30:00Z",
    "estimated_time_seconds": 30,
    "model": "nanobanana2",
    "num_images": 2,
}


def _check_before_fetch(shop: Shop, req: scenes.SceneRequest) -> None:
    """Everything but the image, with a stand-in asset that is never saved: a bad request or an
    empty wallet must not fetch and store the image."""
    stand_in = Asset(shop=shop, content_type="image/png", width=1, height=1, bytes=1)
    probe = scenes.SceneRequest(**{**req.__dict__, "asset": stand_in})
    try:
        prepared = scenes.prepare_scene(shop, probe)
    except JobError as exc:
        raise ApiError(400, str(exc)) from None
    balance = Shop.objects.get(pk=shop.pk).balance_cents
    if balance < prepared.total_cents:
        raise insufficient(InsufficientCredits(prepared.total_cents, balance))


def parse_generate(request: HttpRequest, body: GenerateIn) -> scenes.SceneRequest:
    """The body as a scene request: one of image_url / asset_id, one of prompt / preset_id;
    the preset and the asset must be this shop's."""
    shop: Shop = request.shop  # type: ignore[attr-defined]
    image_url, asset_id = (body.image_url or "").strip(), (body.asset_id or "").strip()
    if not image_url and not asset_id:
        raise ApiError(400, "Missing required parameter: image_url or asset_id")
    if image_url and asset_id:
        raise ApiError(400, "Send either image_url or asset_id, not both.")
    prompt, preset_id = (body.prompt or "").strip(), (body.preset_id or "").strip()
    if not prompt and not preset_id:
        raise ApiError(400, "Missing required parameter: prompt")
    preset = None
    if preset_id:
        preset = find_preset(shop, preset_id)
        if preset is None:
            raise ApiError(404, f"Preset {preset_id!r} not found.", code="not_found")
    asset = None
    if asset_id:
        try:
            asset = Asset.objects.filter(shop=shop, id=uuid.UUID(asset_id)).first()
        except ValueError:
            asset = None
        if asset is None:
            raise ApiError(404, f"Asset {asset_id!r} not found.", code="not_found")
    return scenes.SceneRequest(
        asset=asset,
        model=body.model.strip(),
        prompt=prompt,
        preset=preset,
        count=body.num_images,
        aspect_ratio=body.aspect_ratio or "",
        webhook_url=(body.webhook_url or "").strip(),
    )


@operation(
    SEED_004,
    "POST",
    summary="Generate product photos",
    description="Creates a job that photographs the product in the described scene (or a "
    "preset's). Poll GET /v1/jobs/{job_id}; webhook_url gets a signed POST when it finishes. "
    "Credits per image: nanobanana2 5, nanobananapro 8, nanobanana 3, kontext-pro 3, "
    "kontext-max 3, seedream 3, gpt-high 8, builtin:scene 1.",
    scope=SCOPE_WRITE,
    body=GenerateIn,
    body_example=SEED_EXAMPLE,
    idempotent=True,
    responses={
        202: Returns(
            Accepted,
            "The job was created",
            ACCEPTED_EXAMPLE,
            headers={"Location": "The job's URL (GET /v1/jobs/{job_id})"},
        ),
        400: Returns(
            Seed004Error,
            "Missing or invalid parameter, or a model this server cannot serve",
            _error("invalid_request", "Missing required parameter: prompt"),
        ),
        402: Returns(
            Seed004Error,
            "Insufficient credits",
            _error(
                "insufficient_credits",
                "Not enough credits. Required: 5, Available: 2",
                required=5,
                available=2,
            ),
        ),
        404: Returns(Seed004Error, "asset_id or preset_id is not this shop's"),
    },
)
def generate(request: HttpRequest, body: GenerateIn) -> Reply:
    shop: Shop = request.shop  # type: ignore[attr-defined]
    req = parse_generate(request, body)
    if req.asset is None:
        _check_before_fetch(shop, req)
        req.asset = asset_for_url(
            shop, (body.image_url or "").strip(), request, field_name="image_url"
        )
    try:
        prepared = scenes.prepare_scene(shop, req)
        job = submit_bound(
            request,
            lambda: scenes.submit_scene(shop, req, source=SEED_004.source, prepared=prepared),
        )
    except JobError as exc:
        raise ApiError(400, str(exc)) from None
    except InsufficientCredits as exc:
        raise insufficient(exc) from None
    return accepted(request, job)


@generate.resumes
def accepted(request: HttpRequest, job: Job, **_: Any) -> Reply:
    """The 202 for a job (also what a retry with the same Idempotency-Key gets)."""
    remaining = scenes.remaining_seconds(job)
    body = Accepted(
        job_id=public_id(job.id),
        status=STATUS[job.status],
        created_at=iso(job.created_at) or "",
        estimated_time_seconds=remaining if remaining is not None else 0,
        model=job.model,
        num_images=int(job.params.get("count", 1) or 1),
    )
    return Reply(body, 202, {"Location": f"/v1/jobs/{public_id(job.id)}"})


# --- the jobs API --------------------------------------------------------------------------------------


class JobImage(Out):
    id: str
    url: str = Field(description="The image, on the shop's storage origin.")
    width: int
    height: int
    content_type: str


class JobProblem(Out):
    code: Literal["generation_failed", "canceled"]
    message: str


class JobOut(Out):
    job_id: str
    status: Status
    created_at: str | None
    started_at: str | None
    completed_at: str | None
    model: str
    num_images: int
    aspect_ratio: str
    prompt: str
    preset_id: str | None
    progress: int = Field(description="0–100.")
    stage: str
    estimated_time_seconds: int | None = Field(description="Until done; null once finished.")
    images: list[JobImage]
    credits_charged: int = Field(description="What the job cost after refunds.")
    error: JobProblem | None


class JobPage(Out):
    data: list[JobOut]
    has_more: bool


class JobQuery(In):
    status: Status | None = Field(None, description="Only jobs in this status.")
    limit: int = Field(20, ge=1, le=100, description="At most 100; default 20.")
    starting_after: str | None = Field(
        None, max_length=64, description="A job_id: the page continues after it (newest first)."
    )


JOB_EXAMPLE = {
    "job_id": "job_0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "status": "completed",
    "created_at": "2024-01-15T10:30:00Z",
    "started_at": "2024-01-15T10:30:01Z",
    "completed_at": "2024-01-15T10:30:12Z",
    "model": "nanobanana2",
    "num_images": 2,
    "aspect_ratio": "1:1",
    "prompt": "Place the product on a marble table with soft natural lighting",
    "preset_id": None,
    "progress": 100,
    "stage": "done",
    "estimated_time_seconds": None,
    "images": [
        {
            "id": "5c1b7e0e-2a43-4d0c-9b7e-0f6a2d9e8c11",
            "url": "https://your-shop.storage.example.com/media/…/image.png",
            "width": 1024,
            "height": 1024,
            "content_type": "image/png",
        }
    ],
    "credits_charged": 10,
    "error": None,
}


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


def document(
    job: Job,
    request: HttpRequest,
    urls: FileUrls | None = None,
    memo: dict | None = None,
    rows: list[tuple[Any, ...]] | None = None,
) -> JobOut:
    urls = urls or FileUrls(job.shop, request)
    rows = job_output_rows(job.id) if rows is None else rows
    images = [
        {"id": str(ident), "url": urls(name), "width": w, "height": h, "content_type": ctype}
        for ident, name, w, h, ctype in rows
    ]
    return JobOut.model_validate(
        job_document(
            job,
            images,
            credits_charged=charged_cents(job),
            remaining_seconds=scenes.remaining_seconds(job, memo),
        )
    )


@operation(
    SEED_004,
    "GET",
    summary="Get a job",
    description="Status (pending, processing, completed, failed, canceled), progress, and the "
    "images once completed.",
    scope=SCOPES_READ,
    responses={
        200: Returns(JobOut, "The job", JOB_EXAMPLE),
        404: Returns(Seed004Error, "No such job"),
    },
)
def job_detail(request: HttpRequest, job_id: str) -> JobOut:
    return document(_job(request, job_id), request)


def parse_job_list(request: HttpRequest, query: JobQuery) -> tuple[str, uuid.UUID | None]:
    statuses = {v: k for k, v in STATUS.items()}
    after = None
    if query.starting_after:
        after = parse_public_id(query.starting_after)
        if after is None or not Job.objects.filter(shop=request.shop, id=after).exists():  # type: ignore[attr-defined]
            raise ApiError(400, "starting_after names no job of this shop.")
    return statuses.get(query.status or "", ""), after


@operation(
    SEED_004,
    "GET",
    summary="List jobs",
    description="The shop's product-photo jobs, newest first.",
    scope=SCOPES_READ,
    query=JobQuery,
    responses={200: JobPage},
)
def job_list(request: HttpRequest, query: JobQuery) -> JobPage:
    shop: Shop = request.shop  # type: ignore[attr-defined]
    status, after = parse_job_list(request, query)
    jobs = Job.objects.filter(shop=shop, kind=scenes.KIND).order_by("-created_at", "-id")
    if status:
        jobs = jobs.filter(status=status)
    if after is not None:
        cursor = Job.objects.get(shop=shop, id=after).created_at
        jobs = (
            jobs.filter(created_at__lte=cursor)
            .exclude(id=after)
            .exclude(created_at=cursor, id__gt=after)
        )
    page = list(with_refunds(jobs)[: query.limit + 1])
    urls = FileUrls(shop, request)
    memo: dict = {}  # the queue and the history are read once for the whole page
    outputs: dict[Any, list[tuple[Any, ...]]] = {job.id: [] for job in page}
    for job_id, *row in (
        Asset.objects.filter(job_id__in=list(outputs))
        .order_by("created_at", "id")
        .values_list("job_id", "id", "file", "width", "height", "content_type")
    ):
        outputs[job_id].append(tuple(row))
    for job in page:
        job.shop = shop
    return JobPage(
        data=[document(job, request, urls, memo, outputs[job.id]) for job in page[: query.limit]],
        has_more=len(page) > query.limit,
    )


@operation(
    SEED_004,
    "POST",
    summary="Cancel a job",
    description="Cancels a pending or processing job; its credits are refunded.",
    scope=SCOPE_WRITE,
    responses={
        200: Returns(JobOut, "The canceled job"),
        404: Returns(Seed004Error, "No such job"),
        409: Returns(Seed004Error, "The job already finished"),
    },
)
def job_cancel(request: HttpRequest, job_id: str) -> JobOut:
    job = _job(request, job_id)
    try:
        cancel_job(job, reason="canceled through the API")
    except CancelError as exc:
        raise ApiError(409, str(exc), code="conflict") from None
    return document(_job(request, job_id), request)


# --- presets ---------------------------------------------------------------------------------------


class PresetOut(Out):
    preset_id: str = Field(description="A built-in slug, or the UUID of one of the shop's.")
    name: str
    prompt: str
    surface: str | None
    light: str | None
    camera: str | None
    aspect_ratio: str
    builtin: bool


class PresetPage(Out):
    data: list[PresetOut]


@operation(
    SEED_004,
    "GET",
    summary="List scene presets",
    description="Built-in presets and the shop's own, usable as preset_id.",
    scope=SCOPES_READ,
    responses={200: PresetPage},
)
def preset_list(request: HttpRequest) -> PresetPage:
    return PresetPage(
        data=[
            PresetOut(
                preset_id=p.id,
                name=p.name,
                prompt=p.prompt,
                surface=p.surface or None,
                light=p.light or None,
                camera=p.camera or None,
                aspect_ratio=p.aspect_ratio,
                builtin=p.builtin,
            )
            for p in presets_for(request.shop)  # type: ignore[attr-defined]
        ]
    )


generate_view = route(generate)
jobs_view = route(job_list)
job_view = route(job_detail)
job_cancel_view = route(job_cancel)
presets_view = route(preset_list)

assert set(ASPECT_RATIOS) == set(get_args(Aspect))  # noqa: S101 - one list of the seed's ratios

"""Seed 002: /v0/images/generations (sync by default, ?async=true), the team library, download
and /v0/usage. Envelopes: {"data": ...} and {"error": "..."}."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import uuid
from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.db.models import Q, Subquery
from django.db.models.fields.json import KT
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from pydantic import Field, field_validator

from generations.actions import ASPECT_RATIOS, MAX_COUNT, GenerationSpec
from generations.api import common
from generations.api.common import (
    References,
    charged_cents,
    family_price,
    outputs_of,
    poll_job,
    submit_api_generation,
    sync_timeout,
)
from generations.api.edge import (
    SEED_002,
    ApiError,
    Files,
    In,
    Out,
    Returns,
    SimpleError,
    iso,
    omitted,
    operation,
    route,
    studio_error,
)
from generations.library import library_total, position_key
from generations.models import Asset, Job, LibraryCount, Preset
from generations.presets import PresetError, parse_variables
from generations.storage_urls import FileUrls
from studio.actions import InsufficientCredits, current_period
from studio.compiled import CompiledQuery, Param
from studio.models import Shop

# Seed 002's default credit cost per image by resolution (PriceRule rows naming a model, engine
# or resolution take precedence).
RESOLUTION_CREDITS = {"low": 1, "standard": 1, "high": 2, "4k": 4}
MAX_REFERENCES = 5
MAX_FILE_REQUIREMENTS = 20
READ_SCOPES = ("library:read", "ai:generate")
MAX_PAGE = 10_000_000  # page × limit stays far inside a 64-bit OFFSET

AspectRatio = Literal[ASPECT_RATIOS]  # type: ignore[valid-type]
Resolution = Literal["low", "standard", "high", "4k"]


def v0_price(engine: str, model: str, resolution: str, general_cents: int) -> int:
    return family_price(
        engine=engine,
        model=model,
        resolution=resolution,
        table=RESOLUTION_CREDITS.get(resolution),
        fallback=general_cents,
    )


# --- models ---------------------------------------------------------------------------------------


class RefImage(In):
    mimeType: str | None = Field(None, max_length=100)
    data: str = Field(max_length=40_000_000, description="Base64 (a data: URL prefix is allowed).")

    @field_validator("data")
    @classmethod
    def _base64(cls, value: str) -> str:
        raw = value.split(",", 1)[-1] if value.startswith("data:") else value
        try:
            base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise studio_error("refImageBase64: data is not valid base64.") from None
        return raw


class GenerationIn(In):
    prompt: str | None = Field(None, max_length=4000, description="Free-form prompt.")
    negativePrompt: str | None = Field(None, max_length=4000)
    presetId: uuid.UUID | None = Field(None, description="A preset of this team.")
    variables: dict[str, Any] | None = Field(None, description="Values for the preset's variables.")
    aspectRatio: AspectRatio | None = None
    resolution: Resolution | None = Field(None, description="Default standard; affects the price.")
    sampleCount: int = Field(1, ge=1, le=MAX_COUNT, description="How many images.")
    modelVersion: str | None = Field(None, max_length=200)
    isPublic: bool | None = Field(None, description="Publish to the public gallery.")
    refImageBase64: list[RefImage] | None = Field(None, max_length=MAX_REFERENCES)
    refImageUrls: list[str] | None = Field(None, max_length=MAX_REFERENCES)


class GenerationQuery(In):
    response_format: Literal["url", "b64_json", "both"] = Field(
        "url", description="URL only, base64 only, or both."
    )
    include_base64: bool = Field(False, description="Alias for response_format=both.")
    async_: bool = Field(False, alias="async", description="Return the job id at once.")

    @property
    def format(self) -> str:
        return "both" if self.include_base64 else self.response_format


class PollQuery(In):
    response_format: Literal["url", "b64_json", "both"] = "url"
    include_base64: bool = False

    @property
    def format(self) -> str:
        return "both" if self.include_base64 else self.response_format


class ImageItem(Out):
    id: str
    url: str | None = omitted("Absent with response_format=b64_json.")
    storageKey: str
    width: int | None
    height: int | None
    b64_json: str | None = omitted("With response_format=b64_json or both.")
    mimeType: str | None = omitted()


class Usage(Out):
    credits: int


class JobPayload(Out):
    id: str
    status: Literal["queued", "active", "completed", "failed"]
    created: int | None = omitted("Unix time.")
    model: str | None = omitted()
    data: list[ImageItem] | None = omitted("The images (completed jobs).")
    usage: Usage | None = omitted("What the job cost (completed jobs).")
    error: str | None = omitted("Why the job failed.")
    unrecognizedWords: list[str] | None = omitted(
        "Prompt words the engine had no subject for (drawn without them)."
    )


class JobData(Out):
    data: JobPayload


class V0Error(SimpleError):
    jobId: str | None = omitted("The job: poll GET /v0/images/generations/:jobId.")
    hint: str | None = omitted()
    required: int | None = omitted("Credits this request needs (402).")
    available: int | None = omitted("Credits the team has (402).")


class LibraryQuery(In):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    limit: int = Field(20, ge=1, le=100)
    presetId: str | None = Field(None, max_length=100)
    search: str | None = Field(None, max_length=1000, description="Substring of the prompt.")
    cursor: str | None = Field(
        None,
        max_length=200,
        description="A previous page's nextCursor: the next page, as fast at any depth "
        "(page is then taken from the cursor).",
    )


class LibraryImage(Out):
    id: str
    url: str
    thumbnailUrl: str
    width: int | None
    height: int | None
    presetId: str | None
    modelVersion: str | None
    userPrompt: str
    isPublic: bool
    createdAt: str


class LibraryPage(Out):
    images: list[LibraryImage]
    total: int
    page: int
    limit: int
    totalIsLowerBound: bool | None = omitted(
        "true when a presetId or search listing stopped counting at `total`: more images match."
    )
    nextCursor: str | None = omitted("Pass as `cursor` for the next page; absent on the last page.")


class LibraryData(Out):
    data: LibraryPage


class ImageDetail(Out):
    id: str
    presetId: str | None
    prompt: str
    userPrompt: str
    modelVersion: str | None
    variables: dict[str, Any]
    sourceType: str | None
    isPublic: bool
    url: str
    thumbnailUrl: str
    width: int | None
    height: int | None
    createdAt: str


class ImageDetailData(Out):
    data: ImageDetail


class Credits(Out):
    remaining: int
    planBudget: int
    planUsed: int
    planRemaining: int
    wallet: int


class UsageBody(Out):
    credits: Credits
    period: str
    unit: str


class UsageData(Out):
    data: UsageBody


EXAMPLE_BODY = {
    "prompt": "a serene mountain lake at sunrise",
    "negativePrompt": "watermark, text",
    "aspectRatio": "16:9",
    "resolution": "standard",
    "sampleCount": 1,
    "isPublic": False,
}
SYNC_EXAMPLE = {
    "data": {
        "id": "<jobId>",
        "status": "completed",
        "created": 1714161234,
        "model": "builtin:procedural",
        "data": [
            {
                "id": "<imageId>",
                "url": "https://r2.../image.webp",
                "storageKey": "generated/team-xxx/abc.webp",
                "width": 1024,
                "height": 576,
            }
        ],
        "usage": {"credits": 1},
    }
}


# --- generations ----------------------------------------------------------------------------------


def _dt_unix(job: Job) -> int:
    return int(job.created_at.timestamp())


def _image_item(row: tuple[Any, ...], urls: FileUrls, response_format: str) -> ImageItem:
    """One output from its job_output_rows() row (id, file, width, height, content type)."""
    ident, name, width, height, content_type = row
    item = ImageItem(id=str(ident), storageKey=name, width=width, height=height)
    if response_format in ("url", "both"):
        item.url = urls(name)
    if response_format in ("b64_json", "both"):
        with urls.storage.open(name, "rb") as fh:
            item.b64_json = base64.b64encode(fh.read()).decode()
        item.mimeType = content_type
    return item


def job_payload(job: Job, request: HttpRequest, response_format: str = "url") -> JobPayload:
    """The job as seed 002 shows it; its outputs are files of the request's shop."""
    status = job.status
    if status == Job.Status.CANCELED:
        return JobPayload(id=str(job.id), status="failed", error=job.stage or "canceled")
    if status == Job.Status.FAILED:
        return JobPayload(id=str(job.id), status="failed", error=job.error or "failed")
    body = JobPayload(id=str(job.id), status=status, created=_dt_unix(job), model=job.model)
    if status == Job.Status.COMPLETED:
        urls = FileUrls(request.shop, request)  # type: ignore[attr-defined]
        body.data = [_image_item(row, urls, response_format) for row in outputs_of(job)]
        body.usage = Usage(credits=charged_cents(job))
        body.unrecognizedWords = (job.result or {}).get("unrecognized_words") or None
    return body


def _preset(request: HttpRequest, preset_id: uuid.UUID | None) -> Preset | None:
    if preset_id is None:
        return None
    preset = Preset.objects.filter(shop=request.shop, id=preset_id).first()  # type: ignore[attr-defined]
    if preset is None:
        raise ApiError(404, "Preset not found.")
    return preset


def _file_requirements(
    files: MultiValueDict | None, preset: Preset | None, variables: dict[str, Any], refs: References
) -> None:
    """Multipart files for a preset's file requirements: `<key>` or `<key>_0`, `<key>_1`, ..."""
    if preset is None or not files:
        return
    try:
        declared = parse_variables(preset.variables)
    except PresetError as exc:
        raise ApiError(400, str(exc)) from None
    for var in declared:
        if var.type != "file":
            continue
        found = files.getlist(var.key)
        if var.multiple:
            i = 0
            while f"{var.key}_{i}" in files and i < MAX_FILE_REQUIREMENTS:
                found.append(files[f"{var.key}_{i}"])
                i += 1
        elif not found and f"{var.key}_0" in files:
            found = [files[f"{var.key}_0"]]
        if found:
            variables[var.key] = ", ".join(f.name or var.key for f in found)
            for f in found:
                if f.size > settings.IMAGE_MAX_BYTES:
                    raise ApiError(413, f"{var.key}: the file is too large.")
                refs.blobs.append((f.read(), f.name or var.key))


@operation(
    SEED_002,
    "POST",
    summary="Generate images",
    description="Sync by default (waits up to API_SYNC_TIMEOUT_SECONDS, then 504 with the job id); "
    "?async=true returns the queued job at once. JSON, or multipart with a preset's file "
    "requirements as `<key>` / `<key>_N` fields and `variables` JSON-stringified.",
    scope="ai:generate",
    query=GenerationQuery,
    body=GenerationIn,
    body_media=("application/json", "multipart/form-data"),
    body_example=EXAMPLE_BODY,
    files=Files(pattern=r"^.+(_\d+)?$", description="Files for the preset's file requirements."),
    idempotent=True,
    responses={
        200: Returns(JobData, "The finished job (sync) or the queued job (async)", SYNC_EXAMPLE),
        402: Returns(V0Error, "Insufficient credits"),
        404: Returns(V0Error, "presetId is not a preset of this team"),
        502: Returns(V0Error, "The generation failed (refunded)"),
        504: Returns(
            V0Error,
            "Still running after the sync timeout",
            {
                "error": "Generation timed out after 180s",
                "jobId": "...",
                "hint": "GET /v0/images/generations/<jobId> to check status",
            },
        ),
    },
)
def generations(
    request: HttpRequest,
    body: GenerationIn,
    query: GenerationQuery,
    files: MultiValueDict | None,
) -> Any:
    refs = References()
    preset = _preset(request, body.presetId)
    variables = dict(body.variables or {})
    _file_requirements(files, preset, variables, refs)
    for i, ref in enumerate(body.refImageBase64 or []):
        refs.blobs.append((base64.b64decode(ref.data), f"reference-{i}"))
    refs.urls = list(body.refImageUrls or [])
    spec = GenerationSpec(
        prompt=body.prompt or "",
        negative_prompt=body.negativePrompt or "",
        preset=preset,
        variables={str(k): v for k, v in variables.items()},
        aspect_ratio=body.aspectRatio or "",
        resolution=body.resolution or "standard",
        count=body.sampleCount,
        model=body.modelVersion or "",
        is_public=bool(body.isPublic),
        extra={"api": "v0"},
    )
    try:
        job = submit_api_generation(request, spec, family=SEED_002, price=v0_price, references=refs)
    except InsufficientCredits as exc:
        raise ApiError(
            402,
            f"Insufficient credits: this generation costs {exc.required_cents} credits but the "
            f"team has {exc.available_cents} left.",
            code="insufficient_credits",
            extra={"required": exc.required_cents, "available": exc.available_cents},
        ) from None
    return finish_generation(request, job, query=query)


@generations.resumes
def finish_generation(
    request: HttpRequest, job: Job, *, query: GenerationQuery, **_: Any
) -> JobData:
    if query.async_:
        return JobData(
            data=JobPayload(id=str(job.id), status="queued", created=_dt_unix(job), model=job.model)
        )
    timeout = sync_timeout()
    job = common.wait_for_job(job.id, timeout)
    if not job.is_finished:
        raise ApiError(
            504,
            f"Generation timed out after {timeout:g}s",
            code="",  # seed 002 documents exactly {error, jobId, hint}
            extra={
                "jobId": str(job.id),
                "hint": f"GET /v0/images/generations/{job.id} to check status",
            },
        )
    if job.status != Job.Status.COMPLETED:
        raise ApiError(502, job.error or "The generation failed.", extra={"jobId": str(job.id)})
    return JobData(data=job_payload(job, request, query.format))


@operation(
    SEED_002,
    "GET",
    summary="Poll a generation job",
    description="Statuses: queued, active, completed, failed.",
    scope=READ_SCOPES,
    query=PollQuery,
    responses={
        200: Returns(JobData, "The job", SYNC_EXAMPLE),
        404: Returns(SimpleError, "No such job"),
    },
)
def generation_detail(request: HttpRequest, job_id: str, query: PollQuery) -> JobData:
    job = _shop_job(request, job_id)
    return JobData(data=job_payload(job, request, query.format))


def _shop_job(request: HttpRequest, job_id: str) -> Job:
    try:
        ident = uuid.UUID(str(job_id))
    except ValueError:
        raise ApiError(404, "Job not found.") from None
    job = poll_job(request.shop, ident)  # type: ignore[attr-defined]
    if job is None:
        raise ApiError(404, "Job not found.")
    return job


def _shop_asset(request: HttpRequest, image_id: str) -> Asset:
    try:
        ident = uuid.UUID(str(image_id))
    except ValueError:
        raise ApiError(404, "Image not found.") from None
    asset = (
        Asset.objects.filter(shop=request.shop, id=ident)  # type: ignore[attr-defined]
        .select_related("shop", "preset")
        .first()
    )
    if asset is None:
        raise ApiError(404, "Image not found.")
    return asset


# The columns a library item shows, in the order _library_item unpacks them; `user_prompt` is the
# one key of `parameters` the item shows, read in SQL (not the whole JSON decoded per row).
LIBRARY_FIELDS = (
    "id",
    "file",
    "thumbnail",
    "width",
    "height",
    "preset_id",
    "model",
    "user_prompt",
    "prompt",
    "is_public",
    "created_at",
)


def _library_item(row: tuple[Any, ...], urls: FileUrls) -> LibraryImage:
    # A page row carries the total after these columns.
    (
        ident,
        name,
        thumbnail,
        width,
        height,
        preset_id,
        model,
        user_prompt,
        prompt,
        is_public,
        at,
        *_,
    ) = row
    url = urls(name)
    return LibraryImage(
        id=str(ident),
        url=url,
        thumbnailUrl=urls(thumbnail) or url,
        width=width,
        height=height,
        presetId=str(preset_id) if preset_id else None,
        modelVersion=model or None,
        userPrompt=user_prompt if isinstance(user_prompt, str) else prompt,
        isPublic=is_public,
        createdAt=iso(at),
    )


def _library_row(asset: Asset) -> tuple[Any, ...]:
    def value(name: str) -> Any:
        if name in ("file", "thumbnail"):
            return getattr(asset, name).name
        if name == "user_prompt":
            return (asset.parameters or {}).get("user_prompt")
        return getattr(asset, name)

    return tuple(value(name) for name in LIBRARY_FIELDS)


def _library_assets(with_preset: bool, with_search: bool, after: bool = False) -> Any:
    qs = Asset.objects.filter(
        shop=Param("shop", Asset._meta.get_field("shop")), kind=Asset.Kind.GENERATED
    )
    if with_preset:
        qs = qs.filter(preset_id=Param("preset", Asset._meta.get_field("preset")))
    if with_search:
        qs = qs.filter(search_text__contains=Param("search", Asset._meta.get_field("search_text")))
    if after:
        # Keyset: strictly older than the cursor's row in (created_at, id) order. The plain range
        # on created_at is implied by the OR; it lets the database start the index scan there.
        at = Param("at", Asset._meta.get_field("created_at"))
        qs = qs.filter(created_at__lte=at).filter(
            Q(created_at__lt=at) | Q(created_at=at, id__lt=Param("id", Asset._meta.pk))
        )
    return qs


def _library_page(with_preset: bool, with_search: bool, after: bool) -> Any:
    qs = _library_assets(with_preset, with_search, after).order_by("-created_at", "-id")
    qs = qs.annotate(user_prompt=KT("parameters__user_prompt"))
    if not (with_preset or with_search):
        # The unfiltered total is the shop's maintained counter (generations.library), riding
        # along as a scalar subquery: one round trip for the page and its total.
        total = LibraryCount.objects.filter(
            shop=Param("shop", LibraryCount._meta.get_field("shop"))
        ).values("generated")
        return qs.annotate(total=Subquery(total)).values_list(*LIBRARY_FIELDS, "total")
    return qs.values_list(*LIBRARY_FIELDS)


# Per shape (presetId given?, search given?, after a cursor?), compiled once: the page (with the
# shop's total when unfiltered), and for filtered shapes a count that stops at `cap` rows.
LIBRARY_QUERIES = {
    shape: (
        CompiledQuery(lambda shape=shape: _library_page(*shape), paged=True),
        CompiledQuery(lambda shape=shape: _library_assets(*shape).values_list("id"), capped=True),
    )
    for shape in itertools.product((False, True), repeat=3)
}
# Past this offset an unfiltered page number reads the counter, then finds its place on the index
# from the library's page anchors (_from_anchor); before it, OFFSET on the page query is as
# cheap and carries the total.
DEEP_OFFSET = 10_000
# A filtered listing counts at most this many rows past the requested page.
COUNT_WINDOW = 200


def _encode_cursor(row: tuple[Any, ...], page: int) -> str:
    ident, at = row[0], row[LIBRARY_FIELDS.index("created_at")]
    raw = json.dumps([at.isoformat(), ident.hex, page], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, ident, page = json.loads(raw)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not isinstance(page, int) or not 1 < page <= MAX_PAGE:
            raise ValueError(at)
        return moment, uuid.UUID(str(ident)), page
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise ApiError(400, "cursor: not a cursor of this listing.") from None


LIBRARY_EXAMPLE = {
    "data": {
        "images": [
            {
                "id": "img_abc",
                "url": "https://cdn.../image.webp",
                "thumbnailUrl": "https://cdn.../thumb.webp",
                "width": 1024,
                "height": 1024,
                "presetId": "preset_xyz",
                "modelVersion": "gemini-3-pro-image-preview",
                "userPrompt": "...",
                "isPublic": False,
                "createdAt": "2026-04-26T00:00:00.000Z",
            }
        ],
        "total": 124,
        "page": 1,
        "limit": 20,
    }
}


@operation(
    SEED_002,
    "GET",
    summary="List the team library",
    description="Generated images of the team, newest first; search is a substring of the prompt.",
    scope=READ_SCOPES,
    query=LibraryQuery,
    responses={200: Returns(LibraryData, "A page of images", LIBRARY_EXAMPLE)},
)
def library(request: HttpRequest, query: LibraryQuery) -> LibraryData:
    page, limit = query.page, query.limit
    shop = request.shop  # type: ignore[attr-defined]
    values: dict[str, Any] = {"shop": shop.pk}
    valid = True
    if query.presetId:
        try:
            values["preset"] = uuid.UUID(query.presetId)
        except ValueError:
            valid = False  # no image has an invalid preset id
    search = (query.search or "").strip().lower()
    if search:
        values["search"] = search[:200]
    if query.cursor:
        values["at"], values["id"], page = _decode_cursor(query.cursor)
        offset = 0  # the keyset starts the page; page only numbers it
    else:
        offset = (page - 1) * limit
    filtered = "preset" in values or bool(search)
    page_query, count_query = LIBRARY_QUERIES[("preset" in values, bool(search), "at" in values)]
    lower_bound = None
    if not valid:
        rows, total = [], 0
    elif not filtered and offset > DEEP_OFFSET:
        total = library_total(shop.pk)
        rows = _from_anchor(shop.pk, total, offset, limit)
    else:
        # One row more than the page tells whether there is a next page.
        rows = page_query.rows(**values, limit=limit + 1, offset=offset)
        if not filtered:
            total = rows[0][-1] if rows and rows[0][-1] is not None else library_total(shop.pk)
        else:
            # Count no further than COUNT_WINDOW rows past this page: exact for a small match,
            # a lower bound (said so) for a large one, and never a scan of the whole shop.
            cap = (0 if query.cursor else offset) + limit + COUNT_WINDOW
            found = count_query.value(**values, cap=cap)
            total = found + (page - 1) * limit if query.cursor else found
            lower_bound = True if found == cap else None
    more, rows = len(rows) > limit, rows[:limit]
    urls = FileUrls(shop, request)
    return LibraryData(
        data=LibraryPage(
            images=[_library_item(row, urls) for row in rows],
            total=total,
            page=page,
            limit=limit,
            totalIsLowerBound=lower_bound,
            nextCursor=_encode_cursor(rows[-1], page + 1) if more and page < MAX_PAGE else None,
        )
    )


def _from_anchor(shop_id: Any, total: int, offset: int, limit: int) -> list[tuple[Any, ...]]:
    """Rows offset … offset+limit (one more than a page) of the newest-first listing: the row
    before them found from the library's page anchors, then a keyset page after it."""
    if offset >= total or offset < 1:
        return []
    # The row before the page: newest-first position offset-1, oldest-first total-offset.
    before = position_key(shop_id, total, total - offset)
    if before is None:
        return []  # rows deleted meanwhile
    at, ident = before
    return LIBRARY_QUERIES[(False, False, True)][0].rows(
        shop=shop_id, at=at, id=ident, limit=limit + 1, offset=0
    )


@operation(
    SEED_002,
    "GET",
    summary="Get one library image",
    description="Metadata and public URL; 404 if the image is not the key's team's.",
    scope=READ_SCOPES,
    responses={200: ImageDetailData, 404: Returns(SimpleError, "No such image in this team")},
)
def library_detail(request: HttpRequest, image_id: str) -> ImageDetailData:
    asset = _shop_asset(request, image_id)
    item = _library_item(_library_row(asset), FileUrls(request.shop, request))  # type: ignore[attr-defined]
    return ImageDetailData(
        data=ImageDetail(
            id=item.id,
            presetId=item.presetId,
            prompt=asset.prompt,
            userPrompt=item.userPrompt,
            modelVersion=item.modelVersion,
            variables=asset.parameters.get("variables") or {},
            sourceType=None if asset.kind == Asset.Kind.GENERATED else asset.kind,
            isPublic=asset.is_public,
            url=item.url,
            thumbnailUrl=item.thumbnailUrl,
            width=asset.width,
            height=asset.height,
            createdAt=item.createdAt,
        )
    )


IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "video/mp4")


@operation(
    SEED_002,
    "GET",
    summary="Download an image",
    description="The raw bytes, as an attachment named <imageId>.<ext>.",
    scope=READ_SCOPES,
    responses={
        200: Returns(None, "The file", media_type=" | ".join(IMAGE_TYPES)),
        404: Returns(SimpleError, "No such image, or its file is missing"),
    },
)
def library_download(request: HttpRequest, image_id: str) -> HttpResponse:
    asset = _shop_asset(request, image_id)
    try:
        fh = asset.file.open("rb")
    except (FileNotFoundError, OSError):
        raise ApiError(404, "The image file is missing.") from None
    response = FileResponse(
        fh,
        as_attachment=True,
        filename=f"{asset.id}.{asset.extension}",
        content_type=asset.content_type,
    )
    response["Content-Length"] = str(asset.bytes)
    return response


BALANCE_FIELDS = ("plan_budget_cents", "plan_used_cents", "plan_period")
USAGE_QUERY = CompiledQuery(
    lambda: Shop.objects.filter(pk=Param("shop", Shop._meta.pk)).values_list(
        *BALANCE_FIELDS, "wallet_cents"
    )
)


@operation(
    SEED_002,
    "GET",
    summary="Credits and usage",
    description="One credit = one US cent: the plan budget of this period, then the wallet.",
    scope=READ_SCOPES,
    responses={200: UsageData},
)
def usage(request: HttpRequest) -> UsageData:
    shop = request.shop  # type: ignore[attr-defined]
    # Only the four balance columns, fresh (the key cache's shop may be seconds old), and without
    # refreshing that shared instance: one precompiled query instead of a full model reload.
    budget, plan_used, plan_period, wallet = USAGE_QUERY.rows(shop=shop.pk)[0]
    period = current_period()
    # The balance as one definition computes it (Shop.plan_used_in), on the fresh columns.
    # (from_db: only these fields, none of the others' defaults computed, e.g. a new slug)
    balance = Shop.from_db(None, BALANCE_FIELDS, (budget, plan_used, plan_period))
    used = balance.plan_used_in(period)
    plan_left = balance.plan_remaining_cents(period)
    return UsageData(
        data=UsageBody(
            credits=Credits(
                remaining=plan_left + wallet,
                planBudget=budget,
                planUsed=used,
                planRemaining=plan_left,
                wallet=wallet,
            ),
            period=period,
            unit="credit = 1 US cent",
        )
    )


generations_view = route(generations)
generation_view = route(generation_detail)
library_view = route(library)
library_detail_view = route(library_detail)
library_download_view = route(library_download)
usage_view = route(usage)

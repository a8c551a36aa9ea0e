"""Seed 002: /v0/images/generations (sync by default, ?async=true), the team library, download
and /v0/usage. Envelopes: {"data": ...} and {"error": "..."}."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import uuid
from typing import Any

from django.conf import settings
from django.db.models import Count, Subquery
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse

from generations.actions import ASPECT_RATIOS, MAX_COUNT, RESOLUTION_LONG_SIDE, GenerationSpec
from generations.api import common
from generations.api.common import (
    SEED_002,
    ApiError,
    AssetUrls,
    References,
    bool_field,
    charged_cents,
    endpoint,
    family_price,
    flag,
    int_field,
    iso,
    job_output_rows,
    json_body,
    string_field,
    string_list,
    submit_api_generation,
    sync_timeout,
    with_refunds,
)
from generations.models import Asset, Job, Preset
from generations.presets import PresetError, parse_variables
from studio.actions import InsufficientCredits, current_period
from studio.compiled import CompiledQuery, Param

# Seed 002's default credit cost per image by resolution (PriceRule rows naming a model, engine
# or resolution take precedence).
RESOLUTION_CREDITS = {"low": 1, "standard": 1, "high": 2, "4k": 4}
MAX_REFERENCES = 5
RESPONSE_FORMATS = ("url", "b64_json", "both")
READ_SCOPES = ("library:read", "ai:generate")


def v0_price(engine: str, model: str, resolution: str, general_cents: int) -> int:
    return family_price(
        engine=engine,
        model=model,
        resolution=resolution,
        table=RESOLUTION_CREDITS.get(resolution),
        fallback=general_cents,
    )


def _dt_unix(job: Job) -> int:
    return int(job.created_at.timestamp())


def _image_item(row: tuple[Any, ...], urls: AssetUrls, response_format: str) -> dict[str, Any]:
    """One output from its job_output_rows() row (id, file, width, height, content type)."""
    ident, name, width, height, content_type = row
    item: dict[str, Any] = {"id": str(ident)}
    if response_format in ("url", "both"):
        item["url"] = urls(name)
    item["storageKey"] = name
    item["width"] = width
    item["height"] = height
    if response_format in ("b64_json", "both"):
        with urls.storage.open(name, "rb") as fh:
            item["b64_json"] = base64.b64encode(fh.read()).decode()
        item["mimeType"] = content_type
    return item


def job_payload(job: Job, request: HttpRequest, response_format: str = "url") -> dict[str, Any]:
    """The job as seed 002 shows it; its outputs are files of the request's shop."""
    status = job.status
    if status == Job.Status.CANCELED:
        return {"id": str(job.id), "status": "failed", "error": job.stage or "canceled"}
    if status == Job.Status.FAILED:
        return {"id": str(job.id), "status": "failed", "error": job.error or "failed"}
    body: dict[str, Any] = {
        "id": str(job.id),
        "status": status,
        "created": _dt_unix(job),
        "model": job.model,
    }
    if status == Job.Status.COMPLETED:
        urls = AssetUrls(request.shop, request)  # type: ignore[attr-defined]
        body["data"] = [_image_item(row, urls, response_format) for row in job_output_rows(job.id)]
        body["usage"] = {"credits": charged_cents(job)}
    return body


def _response_format(request: HttpRequest) -> str:
    fmt = request.GET.get("response_format", "url") or "url"
    if fmt not in RESPONSE_FORMATS:
        raise ApiError(400, f"response_format must be one of: {', '.join(RESPONSE_FORMATS)}.")
    if flag(request.GET.get("include_base64")):
        fmt = "both"
    return fmt


def _preset(request: HttpRequest, preset_id: str) -> Preset | None:
    if not preset_id:
        return None
    try:
        ident = uuid.UUID(preset_id)
    except ValueError:
        raise ApiError(400, "presetId is not a valid id.") from None
    preset = Preset.objects.filter(shop=request.shop, id=ident).first()  # type: ignore[attr-defined]
    if preset is None:
        raise ApiError(404, "Preset not found.")
    return preset


def _read_request(request: HttpRequest) -> tuple[dict[str, Any], References]:
    """The body as a dict (JSON or multipart) and the reference images it carries."""
    refs = References()
    if (request.content_type or "").startswith("multipart/"):
        data: dict[str, Any] = dict(request.POST.items())
        raw_vars = data.get("variables") or "{}"
        try:
            data["variables"] = json.loads(raw_vars)
        except ValueError:
            raise ApiError(400, "variables must be a JSON-stringified object.") from None
        for name in ("refImageUrls",):
            if name in data:
                try:
                    data[name] = json.loads(data[name])
                except ValueError:
                    data[name] = [u for u in request.POST.getlist(name) if u]
        return data, refs
    return json_body(request), refs


def _file_requirements(
    request: HttpRequest, preset: Preset | None, variables: dict[str, Any], refs: References
) -> None:
    """Multipart files for a preset's file requirements: `<key>` or `<key>_0`, `<key>_1`, ..."""
    if preset is None or not request.FILES:
        return
    try:
        declared = parse_variables(preset.variables)
    except PresetError as exc:
        raise ApiError(400, str(exc)) from None
    for var in declared:
        if var.type != "file":
            continue
        files = request.FILES.getlist(var.key)
        if var.multiple:
            i = 0
            while f"{var.key}_{i}" in request.FILES and i < 20:
                files.append(request.FILES[f"{var.key}_{i}"])
                i += 1
        elif not files and f"{var.key}_0" in request.FILES:
            files = [request.FILES[f"{var.key}_0"]]
        if files:
            variables[var.key] = ", ".join(f.name or var.key for f in files)
            for f in files:
                if f.size > settings.IMAGE_MAX_BYTES:
                    raise ApiError(413, f"{var.key}: the file is too large.")
                refs.blobs.append((f.read(), f.name or var.key))


def _ref_base64(data: dict[str, Any], refs: References) -> None:
    value = data.get("refImageBase64")
    if value is None:
        return
    if not isinstance(value, list):
        raise ApiError(400, "refImageBase64 must be an array of { mimeType, data }.")
    if len(value) > MAX_REFERENCES:
        raise ApiError(400, f"refImageBase64 accepts at most {MAX_REFERENCES} images.")
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("data"), str):
            raise ApiError(400, f"refImageBase64[{i}] must be an object with a base64 data field.")
        raw = item["data"]
        if raw.startswith("data:"):
            raw = raw.split(",", 1)[-1]
        try:
            blob = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, f"refImageBase64[{i}].data is not valid base64.") from None
        refs.blobs.append((blob, f"reference-{i}"))


@endpoint(SEED_002, scope="ai:generate", methods=("POST",), idempotent=True)
def generations(request: HttpRequest) -> HttpResponse:
    response_format = _response_format(request)
    run_async = flag(request.GET.get("async"))
    data, refs = _read_request(request)
    preset = _preset(request, string_field(data, "presetId"))
    variables = data.get("variables")
    variables = {} if variables is None else variables
    if not isinstance(variables, dict):
        raise ApiError(400, "variables must be an object.")
    _file_requirements(request, preset, variables, refs)
    _ref_base64(data, refs)
    refs.urls = string_list(data, "refImageUrls", max_items=MAX_REFERENCES)
    if len(refs.blobs) + len(refs.urls) > MAX_REFERENCES + 20:
        raise ApiError(400, "Too many reference images.")
    aspect = string_field(data, "aspectRatio")
    if aspect and aspect not in ASPECT_RATIOS:
        raise ApiError(400, f"aspectRatio must be one of: {', '.join(ASPECT_RATIOS)}.")
    resolution = string_field(data, "resolution", default="standard") or "standard"
    if resolution not in RESOLUTION_LONG_SIDE:
        raise ApiError(400, "resolution must be one of: low, standard, high, 4k.")
    count = int_field(data, "sampleCount", 1)
    if not 1 <= count <= MAX_COUNT:
        raise ApiError(400, f"sampleCount must be between 1 and {MAX_COUNT}.")
    spec = GenerationSpec(
        prompt=string_field(data, "prompt"),
        negative_prompt=string_field(data, "negativePrompt"),
        preset=preset,
        variables={str(k): v for k, v in variables.items()},
        aspect_ratio=aspect,
        resolution=resolution,
        count=count,
        model=string_field(data, "modelVersion"),
        is_public=bool_field(data, "isPublic"),
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
    if run_async:
        return JsonResponse(
            {
                "data": {
                    "id": str(job.id),
                    "status": "queued",
                    "created": _dt_unix(job),
                    "model": job.model,
                }
            }
        )
    timeout = sync_timeout()
    job = common.wait_for_job(job.id, timeout)
    if not job.is_finished:
        return JsonResponse(
            {
                "error": f"Generation timed out after {timeout:g}s",
                "jobId": str(job.id),
                "hint": f"GET /v0/images/generations/{job.id} to check status",
            },
            status=504,
        )
    if job.status != Job.Status.COMPLETED:
        return JsonResponse(
            {"error": job.error or "The generation failed.", "jobId": str(job.id)},
            status=502,
        )
    return JsonResponse({"data": job_payload(job, request, response_format)})


@endpoint(SEED_002, scope=READ_SCOPES)
def generation_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _shop_job(request, job_id)
    return JsonResponse({"data": job_payload(job, request, _response_format(request))})


# The job poll reads only what job_payload shows, with the refunds summed (compiled once).
# In the model's field order, as Job.from_db expects a partial row.
JOB_POLL_FIELDS = tuple(
    f.attname
    for f in Job._meta.concrete_fields
    if f.attname in {"id", "status", "stage", "error", "model", "created_at", "cost_cents"}
)
JOB_POLL = CompiledQuery(
    lambda: with_refunds(
        Job.objects.filter(
            shop=Param("shop", Job._meta.get_field("shop")), id=Param("job", Job._meta.pk)
        ).order_by()
    ).values_list(*JOB_POLL_FIELDS, "refunded_cents")
)


def _shop_job(request: HttpRequest, job_id: str) -> Job:
    try:
        ident = uuid.UUID(str(job_id))
    except ValueError:
        raise ApiError(404, "Job not found.") from None
    shop = request.shop  # type: ignore[attr-defined]
    rows = JOB_POLL.rows(shop=shop.pk, job=ident)
    if not rows:
        raise ApiError(404, "Job not found.")
    *values, refunded = rows[0]
    job = Job.from_db(JOB_POLL.using, JOB_POLL_FIELDS, values)
    job.refunded_cents = refunded  # type: ignore[attr-defined]
    job.shop = shop
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


# The columns a library item shows, in the order _library_item unpacks them.
LIBRARY_FIELDS = (
    "id",
    "file",
    "thumbnail",
    "width",
    "height",
    "preset_id",
    "model",
    "parameters",
    "prompt",
    "is_public",
    "created_at",
)


def _library_item(row: tuple[Any, ...], urls: AssetUrls) -> dict[str, Any]:
    # A page row carries the total after these columns.
    (
        ident,
        name,
        thumbnail,
        width,
        height,
        preset_id,
        model,
        parameters,
        prompt,
        is_public,
        at,
        *_,
    ) = row
    url = urls(name)
    return {
        "id": str(ident),
        "url": url,
        "thumbnailUrl": urls(thumbnail) or url,
        "width": width,
        "height": height,
        "presetId": str(preset_id) if preset_id else None,
        "modelVersion": model or None,
        "userPrompt": parameters.get("user_prompt", prompt),
        "isPublic": is_public,
        "createdAt": iso(at),
    }


def _library_row(asset: Asset) -> tuple[Any, ...]:
    return tuple(
        getattr(asset, name).name if name in ("file", "thumbnail") else getattr(asset, name)
        for name in LIBRARY_FIELDS
    )


def _library_assets(with_preset: bool, with_search: bool) -> Any:
    qs = Asset.objects.filter(
        shop=Param("shop", Asset._meta.get_field("shop")), kind=Asset.Kind.GENERATED
    )
    if with_preset:
        qs = qs.filter(preset_id=Param("preset", Asset._meta.get_field("preset")))
    if with_search:
        qs = qs.filter(search_text__contains=Param("search", Asset._meta.get_field("search_text")))
    return qs


def _library_page(with_preset: bool, with_search: bool) -> Any:
    # The total rides along as an uncorrelated scalar subquery (evaluated once, as COUNT(*) on
    # its own would be): one round trip for the page and its total.
    total = (
        _library_assets(with_preset, with_search)
        .order_by()
        .values("shop")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        _library_assets(with_preset, with_search)
        .order_by("-created_at", "-id")
        .annotate(total=Subquery(total))
        .values_list(*LIBRARY_FIELDS, "total")
    )


# (count, page with its total) per filter shape (presetId given?, search given?), compiled once.
# The count alone only runs for a page past the end, which has no row to carry the total.
LIBRARY_QUERIES = {
    shape: (
        CompiledQuery(lambda shape=shape: _library_assets(*shape).values_list("id"), count=True),
        CompiledQuery(lambda shape=shape: _library_page(*shape), paged=True),
    )
    for shape in itertools.product((False, True), repeat=2)
}


@endpoint(SEED_002, scope=READ_SCOPES)
def library(request: HttpRequest) -> HttpResponse:
    page = int_field(request.GET, "page", 1)
    limit = int_field(request.GET, "limit", 20)
    if page < 1:
        raise ApiError(400, "page must be 1 or more.")
    if not 1 <= limit <= 100:
        raise ApiError(400, "limit must be between 1 and 100.")
    shop = request.shop  # type: ignore[attr-defined]
    values: dict[str, Any] = {"shop": shop.pk}
    preset_id = request.GET.get("presetId", "")
    valid = True
    if preset_id:
        try:
            values["preset"] = uuid.UUID(preset_id)
        except ValueError:
            valid = False  # no image has an invalid preset id
    search = request.GET.get("search", "").strip().lower()
    if search:
        values["search"] = search[:200]
    count_query, page_query = LIBRARY_QUERIES[("preset" in values, bool(search))]
    offset = (page - 1) * limit
    rows = page_query.rows(**values, limit=limit, offset=offset) if valid else []
    if rows:
        total = rows[0][-1]
    elif offset and valid:
        total = count_query.value(**values)
    else:
        total = 0
    urls = AssetUrls(shop, request)
    return JsonResponse(
        {
            "data": {
                "images": [_library_item(row, urls) for row in rows],
                "total": total,
                "page": page,
                "limit": limit,
            }
        }
    )


@endpoint(SEED_002, scope=READ_SCOPES)
def library_detail(request: HttpRequest, image_id: str) -> HttpResponse:
    asset = _shop_asset(request, image_id)
    item = _library_item(_library_row(asset), AssetUrls(request.shop, request))  # type: ignore[attr-defined]
    return JsonResponse(
        {
            "data": {
                "id": item["id"],
                "presetId": item["presetId"],
                "prompt": asset.prompt,
                "userPrompt": item["userPrompt"],
                "modelVersion": item["modelVersion"],
                "variables": asset.parameters.get("variables") or {},
                "sourceType": None if asset.kind == Asset.Kind.GENERATED else asset.kind,
                "isPublic": asset.is_public,
                "url": item["url"],
                "thumbnailUrl": item["thumbnailUrl"],
                "width": asset.width,
                "height": asset.height,
                "createdAt": item["createdAt"],
            }
        }
    )


@endpoint(SEED_002, scope=READ_SCOPES)
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


@endpoint(SEED_002, scope=READ_SCOPES)
def usage(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    shop.refresh_from_db()
    period = current_period()
    plan_left = shop.plan_remaining_cents(period)
    used = shop.plan_used_cents if shop.plan_period == period else 0
    return JsonResponse(
        {
            "data": {
                "credits": {
                    "remaining": plan_left + shop.wallet_cents,
                    "planBudget": shop.plan_budget_cents,
                    "planUsed": used,
                    "planRemaining": plan_left,
                    "wallet": shop.wallet_cents,
                },
                "period": period,
                "unit": "credit = 1 US cent",
            }
        }
    )

"""What the API route families share below the edge (generations/api/edge.py): resolving image
URLs to assets, prices, waiting on jobs, and submitting generations. Storage URLs themselves live
in generations/storage_urls.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from generations import job_events
from generations.actions import (
    GenerationSpec,
    JobError,
    PriceFn,
    ReferenceImage,
    submit_generation,
)
from generations.api.edge import ApiError, Family
from generations.api.idempotency import submit_bound
from generations.engines import registry
from generations.engines.base import Capability

# Re-exported for the route families; the domain (generations/job_results.py) owns them.
from generations.job_results import charged_cents as charged_cents
from generations.job_results import job_outputs as job_outputs
from generations.job_results import refunded_subquery
from generations.job_results import with_refunds as with_refunds
from generations.models import Asset, Job
from generations.pricing import best_rule
from generations.storage_urls import named_asset
from studio.compiled import CompiledQuery, Param
from studio.models import Shop

# --- image URLs in requests ----------------------------------------------------------------------------


def asset_for_url(shop: Shop, url: str, request: HttpRequest, *, field_name: str) -> Asset:
    """An asset for an image URL: the shop's own file, or fetched through the SSRF-safe fetcher
    and stored as an upload."""
    from generations.library import upload_asset
    from generations.loader import ImageRejected

    found = image_for_url(shop, url, request, field_name=field_name)
    if isinstance(found, Asset):
        return found
    try:
        return upload_asset(shop, found.data, user=None, filename=found.filename)
    except ImageRejected as exc:
        raise ApiError(400, f"{field_name}: {exc}") from None


def image_for_url(
    shop: Shop, url: str, request: HttpRequest, *, field_name: str
) -> Asset | ReferenceImage:
    """The shop's own asset an image URL names, or the image fetched through the SSRF-safe
    fetcher (not stored: the action that uses it decides)."""
    from studio.fetch import FetchError, fetch

    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ApiError(400, f"{field_name} must be an http(s) URL.")
    own = named_asset(shop, url, request)
    if own is not None:
        return own
    try:
        result = fetch(url, max_bytes=settings.IMAGE_MAX_BYTES, timeout=15)
    except FetchError as exc:
        raise ApiError(400, f"{field_name}: {exc}") from None
    if result.status != 200:
        raise ApiError(400, f"{field_name}: the URL answered HTTP {result.status}.")
    return ReferenceImage(result.content, url.rsplit("/", 1)[-1], named_as=field_name)


# --- models, prices, jobs --------------------------------------------------------------------------


def model_error_message(message: str) -> str:
    if "can serve" in message:
        return message
    names = [s.name for s in registry.available_models(Capability.TEXT_TO_IMAGE)]
    return f"{message} Models this server can serve: {', '.join(names) or 'none'}."


def family_price(
    *, engine: str, model: str, resolution: str, table: int | None, fallback: int
) -> int:
    """A route family's price: a PriceRule naming the engine, model or resolution wins; then the
    family's own table; then the general price (catch-all rule or DEFAULT_PRICE_CENTS_PER_IMAGE)."""
    rule = best_rule(
        engine=engine,
        model=model,
        resolution=resolution,
        kind="generate",
        among=lambda r: bool(r.engine or r.model or r.resolution),
    )
    if rule is not None:
        return rule.cents_per_output
    return table if table is not None else fallback


def wait_for_job(job_id: Any, timeout: float) -> Job:
    """The job once it finishes (woken by its announcement, generations.job_events), or its
    latest row after `timeout` seconds."""
    return job_events.wait_for_job(job_id, timeout)


def sync_timeout() -> float:
    return float(settings.API_SYNC_TIMEOUT_SECONDS)


# A job's outputs as (id, file name, width, height, content type), for the job poll routes.
JOB_OUTPUT_ROWS = CompiledQuery(
    lambda: (
        Asset.objects.filter(job=Param("job", Asset._meta.get_field("job")))
        .order_by("created_at", "id")
        .values_list("id", "file", "width", "height", "content_type")
    )
)


def job_output_rows(job_id: uuid.UUID) -> list[tuple[Any, ...]]:
    return JOB_OUTPUT_ROWS.rows(job=job_id)


# A job poll reads only what the poll routes show, with the refunds summed and the outputs joined:
# one statement, one row per output (one row with empty output columns when there is none).
# The job's columns are in the model's field order, as Job.from_db expects a partial row.
JOB_POLL_FIELDS = tuple(
    f.attname
    for f in Job._meta.concrete_fields
    if f.attname
    in {"id", "status", "stage", "error", "model", "created_at", "cost_cents", "result"}
)
OUTPUT_FIELDS = ("id", "file", "width", "height", "content_type")  # as JOB_OUTPUT_ROWS
JOB_POLL = CompiledQuery(
    lambda: (
        Job.objects.filter(
            shop=Param("shop", Job._meta.get_field("shop")), id=Param("job", Job._meta.pk)
        )
        .annotate(refunded_cents=refunded_subquery())
        .order_by("outputs__created_at", "outputs__id")
        .values_list(
            *JOB_POLL_FIELDS, "refunded_cents", *(f"outputs__{name}" for name in OUTPUT_FIELDS)
        )
    )
)


def poll_job(shop: Shop, job_id: uuid.UUID) -> Job | None:
    """The shop's job with the poll fields, `refunded_cents` and its outputs (for
    `outputs_of`), or None (another shop's too)."""
    rows = JOB_POLL.rows(shop=shop.pk, job=job_id)
    if not rows:
        return None
    split = len(JOB_POLL_FIELDS)
    first = rows[0]
    job = Job.from_db(JOB_POLL.using, JOB_POLL_FIELDS, first[:split])
    job.refunded_cents = first[split]  # type: ignore[attr-defined]
    job.output_rows = [row[split + 1 :] for row in rows if row[split + 1] is not None]  # type: ignore[attr-defined]
    job.shop = shop
    return job


def outputs_of(job: Job) -> list[tuple[Any, ...]]:
    """The job's outputs as job_output_rows gives them: read with the job by poll_job, or now."""
    rows = getattr(job, "output_rows", None)
    return job_output_rows(job.id) if rows is None else rows


@dataclass
class References:
    """Reference images a request brings: raw bytes (base64, multipart) and URLs."""

    blobs: list[tuple[bytes, str]] = field(default_factory=list)  # (data, filename)
    urls: list[str] = field(default_factory=list)
    url_field: str = "refImageUrls"

    def __bool__(self) -> bool:
        return bool(self.blobs or self.urls)


def submit_api_generation(
    request: HttpRequest,
    spec: GenerationSpec,
    *,
    family: Family,
    price: PriceFn | None = None,
    references: References | None = None,
) -> Job:
    """Read the request's reference images and submit through `submit_generation`, the pages'
    action, bound to the request's Idempotency-Key. Raises ApiError (400) for invalid input and
    InsufficientCredits when the shop cannot pay (each family renders that its own way)."""
    shop: Shop = request.shop  # type: ignore[attr-defined]
    references = references or References()
    images: list[Asset | ReferenceImage] = [
        image_for_url(shop, url, request, field_name=references.url_field)
        for url in references.urls
    ]
    images += [ReferenceImage(data, name) for data, name in references.blobs]
    try:
        return submit_bound(
            request,
            lambda: submit_generation(
                shop, spec, source=family.source, references=images, price=price
            ),
        )
    except JobError as exc:
        message = str(exc)
        if exc.field == "model":
            message = model_error_message(message)
        raise ApiError(400, message, details={"field": exc.field} if exc.field else None) from None

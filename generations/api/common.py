"""What the API route families share below the edge (generations/api/edge.py): resolving image
URLs to assets, prices, waiting on jobs, and submitting generations. Storage URLs themselves live
in generations/storage_urls.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from generations import job_events
from generations.api.edge import ApiError, Family
from generations.engines import registry
from generations.engines.base import Capability

# Re-exported for the route families; the domain (generations/job_results.py) owns them.
from generations.job_results import charged_cents as charged_cents
from generations.job_results import job_outputs as job_outputs
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
    try:
        return upload_asset(shop, result.content, user=None, filename=url.rsplit("/", 1)[-1])
    except ImageRejected as exc:
        raise ApiError(400, f"{field_name}: {exc}") from None


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


# A job poll reads only what the poll routes show, with the refunds summed (compiled once).
# In the model's field order, as Job.from_db expects a partial row.
JOB_POLL_FIELDS = tuple(
    f.attname
    for f in Job._meta.concrete_fields
    if f.attname
    in {"id", "status", "stage", "error", "model", "created_at", "cost_cents", "result"}
)
JOB_POLL = CompiledQuery(
    lambda: with_refunds(
        Job.objects.filter(
            shop=Param("shop", Job._meta.get_field("shop")), id=Param("job", Job._meta.pk)
        ).order_by()
    ).values_list(*JOB_POLL_FIELDS, "refunded_cents")
)


def poll_job(shop: Shop, job_id: uuid.UUID) -> Job | None:
    """The shop's job with the poll fields and `refunded_cents`, or None (another shop's too)."""
    rows = JOB_POLL.rows(shop=shop.pk, job=job_id)
    if not rows:
        return None
    *values, refunded = rows[0]
    job = Job.from_db(JOB_POLL.using, JOB_POLL_FIELDS, values)
    job.refunded_cents = refunded  # type: ignore[attr-defined]
    job.shop = shop
    return job


PriceFn = Callable[[str, str, str, int], int]  # (engine, model, resolution, table cents) -> cents


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
    spec: Any,
    *,
    family: Family,
    price: PriceFn | None = None,
    references: References | None = None,
) -> Job:
    """Validate, price, store reference images, then submit through the same actions as the
    pages. Raises ApiError (400) for invalid input and InsufficientCredits when the shop cannot
    pay (each family renders that its own way)."""
    from generations.actions import JobError, prepare_generation, submit_job
    from generations.api.idempotency import submit_bound
    from generations.library import upload_asset
    from generations.loader import ImageRejected, load_image
    from studio.actions import InsufficientCredits

    shop: Shop = request.shop  # type: ignore[attr-defined]
    try:
        params, engine, model, cents = prepare_generation(shop, spec)
    except JobError as exc:
        message = str(exc)
        if exc.field == "model":
            message = model_error_message(message)
        raise ApiError(400, message, details={"field": exc.field} if exc.field else None) from None
    if price is not None:
        cents = price(engine, model, params["resolution"], cents)
    total = cents * params["count"]
    references = references or References()
    if references:
        for data, _name in references.blobs:
            try:
                load_image(data)
            except ImageRejected as exc:
                raise ApiError(400, f"A reference image was rejected: {exc}") from None
        shop.refresh_from_db()
        if shop.balance_cents < total:  # don't store references for work that cannot be paid
            raise InsufficientCredits(total, shop.balance_cents)
        ids = [str(a) for a in params.get("reference_asset_ids", [])]
        for url in references.urls:
            ids.append(str(asset_for_url(shop, url, request, field_name=references.url_field).id))
        for data, name in references.blobs:
            ids.append(str(upload_asset(shop, data, user=None, filename=name).id))
        params["reference_asset_ids"] = ids
    return submit_bound(
        request,
        lambda: submit_job(
            shop,
            kind="generate",
            params=params,
            cost_cents=total,
            engine=engine,
            model=model,
            source=family.source,
            preset=spec.preset,
            memo=f"{params['count']} × {model} (API)",
        ),
    )

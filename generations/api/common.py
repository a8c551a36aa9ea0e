"""What every API route family shares: key authentication, scopes, rate limits, idempotency,
error envelopes, absolute storage URLs, waiting on jobs and pricing.

A route is a plain function view wrapped in `endpoint(family, scope=...)`; it raises `ApiError`
for anything a client did wrong and the wrapper renders it in the family's envelope.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.files.storage import FileSystemStorage
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.encoding import filepath_to_uri
from django.views.decorators.csrf import csrf_exempt

from generations.engines import registry
from generations.engines.base import Capability
from generations.models import Asset, Job, PriceRule
from studio import apikeys, ratelimit, throttle
from studio.compiled import CompiledQuery, Param
from studio.models import ApiKey, IdempotencyRecord, Shop

IDEMPOTENCY_TTL = timedelta(hours=24)
log = logging.getLogger(__name__)


class ApiError(Exception):
    """A client-facing error; rendered in the route family's envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        details: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or DEFAULT_CODES.get(status, "error")
        self.details = details
        self.extra = extra or {}
        self.headers = headers or {}


DEFAULT_CODES = {
    400: "validation_error",
    401: "unauthorized",
    402: "insufficient_credits",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited",
    500: "internal_error",
    502: "generation_failed",
    504: "timeout",
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- envelopes -------------------------------------------------------------------------------------


def simple_error(request: HttpRequest, err: ApiError) -> dict[str, Any]:
    """Seeds 000 and 002 (and the platform routes): {"error": "<message>", ...}."""
    body: dict[str, Any] = {"error": err.message}
    if err.code and err.code not in ("error",):
        body["code"] = err.code
    if err.details:
        body["details"] = err.details
    body.update(err.extra)
    return body


def meta(request: HttpRequest) -> dict[str, str]:
    return {"request_id": request_id(request), "timestamp": now_iso()}


def enveloped_error(request: HttpRequest, err: ApiError) -> dict[str, Any]:
    """Seed 003: {"data": null, "error": {"message", "code", "details"?}, "meta": {...}}."""
    error: dict[str, Any] = {"message": err.message, "code": err.code}
    if err.details:
        error["details"] = err.details
    return {"data": None, "error": error, "meta": meta(request)}


def request_id(request: HttpRequest) -> str:
    rid = getattr(request, "api_request_id", None)
    if rid is None:
        rid = secrets.token_hex(4)
        request.api_request_id = rid  # type: ignore[attr-defined]
    return rid


@dataclass(frozen=True)
class Family:
    name: str
    render_error: Callable[[HttpRequest, ApiError], dict[str, Any]]
    source: str  # Job.source for work this family submits
    tags: tuple[str, ...] = field(default=())


SEED_000 = Family("000", simple_error, "api:ai-generations")
SEED_002 = Family("002", simple_error, "api:v0")
SEED_003 = Family("003", enveloped_error, "api:ai")
PLATFORM = Family("platform", simple_error, "api")


def error_response(request: HttpRequest, family: Family, err: ApiError) -> JsonResponse:
    response = JsonResponse(family.render_error(request, err), status=err.status)
    for name, value in err.headers.items():
        response[name] = value
    return response


# --- authentication ---------------------------------------------------------------------------------


def raw_key(request: HttpRequest) -> str:
    meta_ = request.META
    key = meta_.get("HTTP_X_API_KEY") or meta_.get("HTTP_API_KEY") or ""
    if not key:
        auth = meta_.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer":
            key = value.strip()
    return key.strip()


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _apply(response: HttpResponse, headers: dict[str, str]) -> HttpResponse:
    for name, value in headers.items():
        response[name] = value
    return response


# --- idempotency --------------------------------------------------------------------------------


def request_fingerprint(request: HttpRequest) -> str:
    h = hashlib.sha256()
    h.update(f"{request.method} {request.path}?{request.META.get('QUERY_STRING', '')}\n".encode())
    ctype = request.content_type or ""
    if ctype.startswith("multipart/"):
        # The boundary changes between retries; hash the parsed fields and file contents.
        for name, values in sorted(request.POST.lists()):
            h.update(json.dumps([name, values]).encode())
        for name, files in sorted(request.FILES.lists()):
            for f in files:
                h.update(name.encode())
                for chunk in f.chunks():
                    h.update(chunk)
                f.seek(0)
    else:
        h.update(ctype.encode() + b"\n")
        h.update(request.body)
    return h.hexdigest()


def _claim_idempotency(
    key: ApiKey, idem: str, fingerprint: str
) -> tuple[IdempotencyRecord | None, ApiError | None, IdempotencyRecord | None]:
    """(new record to complete, error, completed record to replay)."""
    now = timezone.now()
    stale_running = now - timedelta(seconds=settings.API_SYNC_TIMEOUT_SECONDS + 120)
    for _ in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    api_key=key, key=idem, request_hash=fingerprint
                )
            return record, None, None
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(api_key=key, key=idem).first()
            if existing is None:
                continue
            expired = existing.created_at < now - IDEMPOTENCY_TTL
            abandoned = not existing.completed and existing.created_at < stale_running
            if expired or abandoned:
                IdempotencyRecord.objects.filter(pk=existing.pk).delete()
                continue
            if existing.request_hash != fingerprint:
                return (
                    None,
                    ApiError(
                        409,
                        "This Idempotency-Key was already used with a different request body.",
                        code="idempotency_key_reused",
                    ),
                    None,
                )
            if not existing.completed:
                return (
                    None,
                    ApiError(
                        409,
                        "A request with this Idempotency-Key is still being processed; retry later.",
                        code="idempotency_in_progress",
                    ),
                    None,
                )
            return None, None, existing
    return None, ApiError(409, "Idempotency-Key conflict; retry.", code="conflict"), None


def _finish_idempotency(record: IdempotencyRecord, response: HttpResponse) -> None:
    if response.status_code >= 500 or response.streaming:
        record.delete()  # let the client retry for real
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        completed=True,
        status_code=response.status_code,
        content_type=response.get("Content-Type", "application/json")[:100],
        body=bytes(response.content),
    )


# --- the route wrapper --------------------------------------------------------------------------------


def endpoint(
    family: Family,
    *,
    scope: str | tuple[str, ...],
    methods: tuple[str, ...] = ("GET",),
    idempotent: bool = False,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Authenticate (x-api-key / api-key / Bearer), check the scope, count the request against the
    key's rate limit, honour Idempotency-Key (POST), and render ApiError in the family envelope."""
    scopes = (scope,) if isinstance(scope, str) else scope

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            raw = raw_key(request)
            key = apikeys.authenticate(raw) if raw else None
            if key is None:
                # Bad keys are throttled per client address (studio/throttle.py): 429 once over.
                retry_after = throttle.bad_api_key(request) if raw else None
                if retry_after is not None:
                    err = ApiError(
                        429,
                        f"Too many invalid API keys from this address; retry after {retry_after}s.",
                        code="rate_limited",
                        headers={"Retry-After": str(retry_after)},
                    )
                    return error_response(request, family, err)
                decision = ratelimit.hit(f"ip:{client_ip(request)}", ratelimit.key_limit(0))
                err = ApiError(
                    401,
                    "Invalid or revoked API key."
                    if raw
                    else "An API key is required: send it as x-api-key or Authorization: Bearer.",
                    code="unauthorized",
                )
                return _apply(error_response(request, family, err), decision.headers())
            decision = ratelimit.hit(
                f"key:{key.pk}", ratelimit.key_limit(key.shop.api_rate_limit_per_minute)
            )
            headers = decision.headers()
            if not decision.allowed:
                err = ApiError(
                    429,
                    f"Rate limit exceeded: {decision.limit} requests per minute. "
                    f"Retry after {decision.retry_after}s.",
                    code="rate_limited",
                )
                return _apply(error_response(request, family, err), headers)
            apikeys.touch(key)
            if not any(s in key.scopes for s in scopes):
                err = ApiError(
                    403,
                    f"This API key lacks the {' or '.join(scopes)} scope.",
                    code="forbidden",
                )
                return _apply(error_response(request, family, err), headers)
            if request.method not in methods:
                err = ApiError(405, f"Use {' or '.join(methods)} on this route.")
                response = error_response(request, family, err)
                response["Allow"] = ", ".join(methods)
                return _apply(response, headers)
            request.api_key = key  # type: ignore[attr-defined]
            request.shop = key.shop  # type: ignore[attr-defined]
            idem = request.META.get("HTTP_IDEMPOTENCY_KEY", "").strip()
            record = None
            if idempotent and idem and request.method == "POST":
                if len(idem) > 255:
                    err = ApiError(400, "Idempotency-Key must be at most 255 characters.")
                    return _apply(error_response(request, family, err), headers)
                try:
                    fingerprint = request_fingerprint(request)
                except RequestDataTooBig:
                    err = ApiError(413, "The request body is too large.", code="payload_too_large")
                    return _apply(error_response(request, family, err), headers)
                except (SuspiciousOperation, BadRequest, MultiPartParserError, UnreadablePostError):
                    err = ApiError(400, "The request could not be read.")
                    return _apply(error_response(request, family, err), headers)
                record, err, replay = _claim_idempotency(key, idem, fingerprint)
                if err is not None:
                    return _apply(error_response(request, family, err), headers)
                if replay is not None:
                    response = HttpResponse(
                        bytes(replay.body),
                        status=replay.status_code or 200,
                        content_type=replay.content_type or "application/json",
                    )
                    response["Idempotent-Replayed"] = "true"
                    return _apply(response, headers)
            try:
                response = view(request, *args, **kwargs)
            except ApiError as exc:
                response = error_response(request, family, exc)
            except RequestDataTooBig:
                err = ApiError(413, "The request body is too large.", code="payload_too_large")
                response = error_response(request, family, err)
            except (SuspiciousOperation, BadRequest, MultiPartParserError, UnreadablePostError):
                err = ApiError(400, "The request could not be read.")
                response = error_response(request, family, err)
            except Exception:
                # A bug, not a client error: logged with its traceback, answered in the envelope.
                log.exception("API %s %s failed", request.method, request.path)
                if record is not None:
                    record.delete()
                err = ApiError(500, "Internal server error.", code="internal_error")
                return _apply(error_response(request, family, err), headers)
            if record is not None:
                _finish_idempotency(record, response)
            return _apply(response, headers)

        wrapped.api_family = family  # type: ignore[attr-defined]
        wrapped.api_scopes = scopes  # type: ignore[attr-defined]
        return wrapped

    return decorator


# --- request parsing ------------------------------------------------------------------------------


def json_body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data


def flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def string_field(data: dict[str, Any], name: str, *, default: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string.")
    return value


def int_field(data: dict[str, Any], name: str, default: int) -> int:
    value = data.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ApiError(400, f"{name} must be a whole number.")
    try:
        number = float(value)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number.") from None
    if not number.is_integer():
        raise ApiError(400, f"{name} must be a whole number.")
    return int(number)


def bool_field(data: dict[str, Any], name: str, default: bool = False) -> bool:
    value = data.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise ApiError(400, f"{name} must be true or false.")


def string_list(data: dict[str, Any], name: str, *, max_items: int) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, f"{name} must be an array of strings.")
    if len(value) > max_items:
        raise ApiError(400, f"{name} accepts at most {max_items} items.")
    return value


# --- URLs on the shop's storage origin -----------------------------------------------------------------


def storage_origin(shop: Shop, request: HttpRequest | None = None) -> str:
    """The public base URL of a shop's files. STORAGE_PUBLIC_ORIGIN may contain `{shop}`."""
    origin = settings.STORAGE_PUBLIC_ORIGIN
    if origin:
        return origin.replace("{shop}", shop.slug)
    if request is not None:
        return f"{request.scheme}://{request.get_host()}"
    return settings.SITE_URL


def file_url(shop: Shop, field_file: Any, request: HttpRequest | None = None) -> str:
    if not field_file:
        return ""
    url = field_file.url
    if url.startswith(("http://", "https://")):
        return url
    return storage_origin(shop, request) + url


def asset_url(asset: Asset, request: HttpRequest | None = None) -> str:
    return file_url(asset.shop, asset.file, request)


class AssetUrls:
    """Absolute URLs of a shop's asset files for one request (the hot API reads).

    The same URLs as `file_url`, from stored names: the storage origin is worked out once, and on
    the filesystem storage a URL is its base URL plus the quoted name, without a FieldFile or a
    storage call per file. Other storages (S3) are asked for each URL.
    """

    def __init__(self, shop: Shop, request: HttpRequest | None = None) -> None:
        self.origin = storage_origin(shop, request)
        self.storage = Asset._meta.get_field("file").storage
        self.base_url: str | None = None
        self.prefix = ""
        # Exactly the filesystem storage: a subclass may build its URLs differently.
        if self.storage.__class__ is FileSystemStorage and self.storage.base_url is not None:
            self.base_url = self.storage.base_url
            absolute = self.base_url.startswith(("http://", "https://"))
            self.prefix = self.base_url if absolute else self.origin + self.base_url

    def __call__(self, name: str | None) -> str:
        if not name:
            return ""
        if self.base_url is not None:
            # Stored names are usually made of characters filepath_to_uri leaves alone.
            path = name if _URI_SAFE_NAME.match(name) else filepath_to_uri(name)
            path = path.lstrip("/")
            # urljoin would also resolve dot segments; stored names have none, but stay exact.
            if "/." not in "/" + path:
                return self.prefix + path
            url = urljoin(self.base_url, path)
        else:
            url = self.storage.url(name)
        if url.startswith(("http://", "https://")):
            return url
        return self.origin + url


# What filepath_to_uri (quote with safe="/~!*()'") returns unchanged.
_URI_SAFE_NAME = re.compile(r"[A-Za-z0-9_.\-~/!*()']*\Z")


def asset_from_url(shop: Shop, url: str, request: HttpRequest) -> Asset | None:
    """The shop's own asset when `url` points at it on the shop's storage origin, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    origin = urlsplit(storage_origin(shop, request))
    if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
        return None
    marker = f"{shop.storage_prefix}assets/"
    _, found, rest = parts.path.partition(marker)
    if not found:
        return None
    try:
        ident = uuid.UUID(rest.split("/", 1)[0])
    except ValueError:
        return None
    return Asset.objects.filter(shop=shop, id=ident).first()


def asset_for_url(shop: Shop, url: str, request: HttpRequest, *, field_name: str) -> Asset:
    """An asset for an image URL: the shop's own file, or fetched through the SSRF-safe fetcher
    and stored as an upload."""
    from generations.library import upload_asset
    from generations.loader import ImageRejected
    from studio.fetch import FetchError, fetch

    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ApiError(400, f"{field_name} must be an http(s) URL.")
    own = asset_from_url(shop, url, request)
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


def best_price_rule(*, engine: str, model: str, resolution: str, kind: str) -> PriceRule | None:
    """The most specific PriceRule for this work, or None when the table has no match."""
    rules = PriceRule.objects.filter(
        engine__in=["", engine],
        model__in=["", model],
        resolution__in=["", resolution],
        kind__in=["", kind],
    )
    return max(rules, key=lambda r: r.specificity, default=None)


def family_price(
    *, engine: str, model: str, resolution: str, table: int | None, fallback: int
) -> int:
    """A route family's price: a PriceRule naming the engine, model or resolution wins; then the
    family's own table; then the general price (catch-all rule or DEFAULT_PRICE_CENTS_PER_IMAGE)."""
    rule = best_price_rule(engine=engine, model=model, resolution=resolution, kind="generate")
    if rule is not None and (rule.engine or rule.model or rule.resolution):
        return rule.cents_per_output
    return table if table is not None else fallback


def wait_for_job(job_id: Any, timeout: float) -> Job:
    """Poll the Job row until it finishes or `timeout` seconds pass; returns the latest row."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        job = Job.objects.get(id=job_id)
        if job.is_finished or time.monotonic() >= deadline:
            return job
        time.sleep(min(delay, max(deadline - time.monotonic(), 0.01)))
        delay = min(delay * 1.5, 0.5)


def sync_timeout() -> float:
    return float(settings.API_SYNC_TIMEOUT_SECONDS)


def with_refunds(qs: Any) -> Any:
    """Annotate jobs with their refunded cents (one query instead of a ledger read per job)."""
    from django.db.models import Q, Sum
    from django.db.models.functions import Coalesce

    return qs.annotate(
        refunded_cents=Coalesce(
            Sum("ledger_entries__amount_cents", filter=Q(ledger_entries__kind="refund")), 0
        )
    )


def charged_cents(job: Job) -> int:
    """What the job finally cost: its charge (cost_cents, placed by submit_job) minus refunds."""
    from studio.models import LedgerEntry

    refunded = getattr(job, "refunded_cents", None)
    if refunded is not None:
        return max(job.cost_cents - refunded, 0)

    # A charge is negative and a refund positive, so the cost is minus their sum.
    amounts = LedgerEntry.objects.filter(
        job=job, kind__in=[LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.REFUND]
    ).values_list("amount_cents", flat=True)
    return max(-sum(amounts), 0)


def job_outputs(job: Job) -> list[Asset]:
    return list(Asset.objects.filter(job=job).select_related("shop").order_by("created_at", "id"))


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
    return submit_job(
        shop,
        kind="generate",
        params=params,
        cost_cents=total,
        engine=engine,
        model=model,
        source=family.source,
        preset=spec.preset,
        memo=f"{params['count']} × {model} (API)",
    )

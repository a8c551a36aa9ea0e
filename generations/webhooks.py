"""Webhooks: every finished job is POSTed to the shop's endpoints, signed, and retried.

Signature header `Studio-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
Deliveries are rows (the truth); a Celery task attempts one and schedules the next attempt with
exponential backoff until it succeeds or WEBHOOK_RETRY_HOURS have passed since it was created.
Endpoint URLs obey the SSRF-safe fetcher's rules, checked at registration and at every attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from generations.job_results import charged_cents, job_outputs
from generations.models import Job, WebhookDelivery, WebhookEndpoint, WebhookSigningSecret
from studio.fetch import FetchError, check_url, fetch
from studio.models import Shop

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Studio-Signature"
MAX_ENDPOINTS_PER_SHOP = 10
BASE_DELAY = 30  # seconds before the first retry; doubles each attempt
MAX_DELAY = 3600


class WebhookError(ValueError):
    pass


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What a receiver does: check the HMAC (constant time) and that the timestamp is fresh."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    fresh = abs(time.time() - timestamp) <= tolerance
    return fresh and hmac.compare_digest(expected, parts.get("v1", ""))


def check_endpoint_url(url: str) -> None:
    if len(url) > 500:
        raise WebhookError("The URL is longer than 500 characters.")
    try:
        check_url(url)
    except FetchError as exc:
        raise WebhookError(str(exc)) from None


def add_endpoint(shop: Shop, url: str) -> WebhookEndpoint:
    url = url.strip()
    check_endpoint_url(url)
    with transaction.atomic():
        if WebhookEndpoint.objects.filter(shop=shop).count() >= MAX_ENDPOINTS_PER_SHOP:
            raise WebhookError(f"A shop can have at most {MAX_ENDPOINTS_PER_SHOP} endpoints.")
        return WebhookEndpoint.objects.create(shop=shop, url=url)


def remove_endpoint(endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def job_event(job: Job) -> dict[str, Any]:
    from generations.storage_urls import file_url

    outputs = [
        {
            "id": str(a.id),
            "url": file_url(a.shop, a.file),
            "content_type": a.content_type,
            "width": a.width,
            "height": a.height,
        }
        for a in job_outputs(job)
    ]
    return {
        "type": f"job.{job.status}",
        "created": int(time.time()),
        "data": {
            "id": str(job.id),
            "kind": job.kind,
            "status": job.status,
            "model": job.model,
            "source": job.source,
            "error": job.error or None,
            "cost_cents": charged_cents(job),
            "outputs": outputs,
            "result": job.result or {},
            "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        },
    }


def enqueue_job_webhooks(job: Job) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the job's shop."""
    from generations.tasks import deliver_webhook

    endpoints = list(WebhookEndpoint.objects.filter(shop_id=job.shop_id, is_active=True))
    if not endpoints:
        return []
    event = job_event(job)
    created = []
    with transaction.atomic():
        for ep in endpoints:
            delivery = WebhookDelivery.objects.create(
                endpoint=ep,
                job=job,
                event=event["type"],
                body="",
                next_attempt_at=timezone.now(),
            )
            payload = {"id": str(delivery.id), **event}
            delivery.body = json.dumps(payload, separators=(",", ":"))
            delivery.save(update_fields=["body"])
            created.append(delivery)
            deliver_webhook.delay_on_commit(str(delivery.id))
    return created


def on_job_finished(sender: Any, job: Job, **kwargs: Any) -> None:
    """Receiver of `generations.signals.job_finished` (connected in GenerationsConfig.ready)."""
    enqueue_job_webhooks(job)


def request_signing_secret(shop: Shop) -> str:
    """The secret that signs webhooks sent to a URL given with a request (created on first use)."""
    row, _ = WebhookSigningSecret.objects.get_or_create(shop=shop)
    return row.secret


def enqueue_url_webhook(job: Job, url: str, event: str, data: dict[str, Any]) -> WebhookDelivery:
    """A delivery of one event to a URL a request named (seed 004's `webhook_url`): signed with
    the shop's request-webhook secret, attempted and retried exactly like endpoint deliveries.
    Body: {"id": <delivery id>, "type": event, "created": unix, "data": data}."""
    from generations.tasks import deliver_webhook

    check_endpoint_url(url)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            shop_id=job.shop_id,
            url=url,
            job=job,
            event=event,
            body="",
            next_attempt_at=timezone.now(),
        )
        payload = {"id": str(delivery.id), "type": event, "created": int(time.time()), "data": data}
        delivery.body = json.dumps(payload, separators=(",", ":"))
        delivery.save(update_fields=["body"])
        deliver_webhook.delay_on_commit(str(delivery.id))
    return delivery


def backoff(attempts: int) -> float:
    return float(min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY))


def attempt_delivery(delivery_id: str) -> WebhookDelivery | None:
    """Try one delivery now. Returns the updated row (None if it is not pending / not due)."""
    from generations.tasks import deliver_webhook

    now = timezone.now()
    # Claim: push next_attempt_at forward so a duplicate task message does not double-send.
    claimed = (
        WebhookDelivery.objects.filter(id=delivery_id, status=WebhookDelivery.Status.PENDING)
        .filter(Q(next_attempt_at=None) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 30))
    )
    if claimed != 1:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "shop").get(id=delivery_id)
    body = delivery.body.encode()
    timestamp = int(time.time())
    status_code, excerpt, error = None, "", ""
    if delivery.endpoint_id:
        url, secret = delivery.endpoint.url, delivery.endpoint.secret
    else:
        url, secret = delivery.url, request_signing_secret(delivery.shop)
    try:
        result = fetch(
            url,
            method="POST",
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(secret, timestamp, body),
                "Studio-Event": delivery.event,
                "Studio-Delivery": str(delivery.id),
            },
            # A deadline on the whole attempt (connect to last byte), so a receiver that
            # trickles its answer holds the worker slot for WEBHOOK_TIMEOUT_SECONDS at most.
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            max_bytes=64 * 1024,
            max_redirects=0,
            shop=delivery.endpoint.shop_id if delivery.endpoint else delivery.shop_id,
        )
        status_code = result.status
        excerpt = result.content[:500].decode("utf-8", "replace")
    except FetchError as exc:
        error = str(exc)[:300]
    attempts = delivery.attempts + 1
    succeeded = status_code is not None and 200 <= status_code < 300
    give_up_at = delivery.created_at + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    next_at = timezone.now() + timedelta(seconds=backoff(attempts))
    if succeeded:
        status, next_at = WebhookDelivery.Status.SUCCEEDED, None
    elif next_at > give_up_at:
        status, next_at = WebhookDelivery.Status.FAILED, None
    else:
        status = WebhookDelivery.Status.PENDING
    WebhookDelivery.objects.filter(id=delivery.id).update(
        attempts=attempts,
        status=status,
        last_status_code=status_code,
        last_error=error or ("" if succeeded else f"HTTP {status_code}"),
        response_excerpt=excerpt,
        next_attempt_at=next_at,
        delivered_at=timezone.now() if succeeded else None,
    )
    delivery.refresh_from_db()
    if status == WebhookDelivery.Status.PENDING and next_at is not None:
        deliver_webhook.apply_async((str(delivery.id),), countdown=backoff(attempts))
    return delivery


def sweep_deliveries() -> int:
    """Re-send due deliveries whose task message was lost (e.g. a broker restart)."""
    from generations.tasks import deliver_webhook

    due = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=timezone.now() - timedelta(minutes=5),
    ).values_list("id", flat=True)[:500]
    count = 0
    for delivery_id in due:
        deliver_webhook.delay(str(delivery_id))
        count += 1
    return count

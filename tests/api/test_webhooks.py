"""Webhooks: signed deliveries of finished jobs to a local receiver, retries after a 500."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from generations import tasks, webhooks
from generations.models import WebhookDelivery, WebhookEndpoint
from studio.models import Shop

pytestmark = pytest.mark.django_db


class Receiver:
    def __init__(self) -> None:
        self.statuses: list[int] = []  # what to answer, in order (then 200)
        self.received: list[tuple[dict[str, str], bytes]] = []


@pytest.fixture
def receiver(settings: Any) -> Iterator[tuple[str, Receiver]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"boom" if status >= 500 else b"thanks")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", state
    server.shutdown()


@pytest.fixture
def scheduled(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, float]]:
    """Retries the deliveries would schedule with Celery, recorded instead of sent."""
    calls: list[tuple[Any, float]] = []
    monkeypatch.setattr(
        tasks.deliver_webhook,
        "apply_async",
        lambda args, countdown=0: calls.append((args, countdown)),
    )
    return calls


def test_finished_job_is_delivered_signed_and_retried_after_a_500(
    api: Any, shop: Shop, receiver: tuple[str, Receiver], scheduled: list
) -> None:
    url, state = receiver
    endpoint = webhooks.add_endpoint(shop, url)
    state.statuses = [500]
    body = api.post("/ai-generations/generate", {"prompt": "a fox", "numberResults": 1}).json()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event == "job.completed"

    # First attempt: the receiver answers 500 → pending, retry scheduled with backoff.
    webhooks.attempt_delivery(str(delivery.id))
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert delivery.response_excerpt == "boom"
    assert delivery.next_attempt_at > timezone.now()
    assert scheduled == [((str(delivery.id),), webhooks.backoff(1))]
    # Not due yet: a duplicate task message does nothing.
    assert webhooks.attempt_delivery(str(delivery.id)) is None

    # When the retry is due, it succeeds.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    webhooks.attempt_delivery(str(delivery.id))
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts == 2 and delivery.last_status_code == 200
    assert delivery.delivered_at is not None

    # The receiver verifies each signature with the endpoint secret.
    assert len(state.received) == 2
    for headers, raw in state.received:
        signature = headers["studio-signature"]
        assert signature.startswith("t=") and ",v1=" in signature
        assert webhooks.verify(endpoint.secret, signature, raw)
        assert not webhooks.verify("whsec_wrong", signature, raw)
        assert not webhooks.verify(endpoint.secret, signature, raw + b" ")
        payload = json.loads(raw)
        assert payload["type"] == "job.completed"
        assert payload["data"]["id"] == body["generationId"]
        assert payload["data"]["outputs"][0]["id"] == body["images"][0]["id"]


def test_signature_format() -> None:
    header = webhooks.sign("secret", 1700000000, b'{"a":1}')
    import hashlib
    import hmac

    mac = hmac.new(b"secret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={mac}"


def test_backoff_is_exponential_and_capped() -> None:
    delays = [webhooks.backoff(n) for n in range(1, 10)]
    assert delays[:3] == [30, 60, 120]
    assert max(delays) == webhooks.MAX_DELAY


def test_it_gives_up_after_24_hours(
    shop: Shop, receiver: tuple[str, Receiver], scheduled: list
) -> None:
    url, state = receiver
    endpoint = webhooks.add_endpoint(shop, url)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="job.failed",
        body="{}",
        created_at=timezone.now() - timedelta(hours=23, minutes=59, seconds=50),
    )
    state.statuses = [503]
    webhooks.attempt_delivery(str(delivery.id))
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.next_attempt_at is None
    assert scheduled == []


def test_endpoint_urls_obey_the_fetcher_rules(shop: Shop, settings: Any) -> None:
    for url in ("http://127.0.0.1:9/x", "http://10.0.0.1/x", "file:///etc/passwd", "ftp://a/b"):
        with pytest.raises(webhooks.WebhookError):
            webhooks.add_endpoint(shop, url)
    assert WebhookEndpoint.objects.count() == 0


def test_delivery_rechecks_the_url(
    shop: Shop, receiver: tuple[str, Receiver], scheduled: list, settings: Any
) -> None:
    url, state = receiver
    endpoint = webhooks.add_endpoint(shop, url)
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="job.completed", body="{}")
    settings.FETCH_ALLOWED_NETWORKS = []  # the address is no longer allowed
    webhooks.attempt_delivery(str(delivery.id))
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert "private" in delivery.last_error
    assert state.received == []


def test_webhooks_page(owner_client: Any, shop: Shop, receiver: tuple[str, Receiver]) -> None:
    url, _state = receiver
    assert owner_client.get("/webhooks/").status_code == 200
    assert owner_client.post("/webhooks/", {"url": "http://10.1.2.3/x"}).status_code == 422
    assert owner_client.post("/webhooks/", {"url": url}).status_code == 302
    endpoint = WebhookEndpoint.objects.get(shop=shop)
    WebhookDelivery.objects.create(endpoint=endpoint, event="job.completed", body="{}")
    page = owner_client.get("/webhooks/").content.decode()
    assert "job.completed" in page and url in page
    owner_client.post(f"/webhooks/{endpoint.id}/delete/")
    assert not WebhookEndpoint.objects.exists()


def test_it_rejects_a_receiver_that_trickles_its_answer_within_the_attempt_deadline(
    api: Any, shop: Shop, settings: Any, scheduled: list
) -> None:
    """GIVEN an endpoint that sends its response headers a byte a second WHEN a delivery is
    attempted with a 2 s timeout THEN the attempt ends as a time-out (pending, retry scheduled)
    instead of holding the worker for as long as the receiver likes."""
    from tests.support.trickle import Trickler

    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    with Trickler(interval=1.0) as server:
        endpoint = webhooks.add_endpoint(shop, server.url)
        api.post("/ai-generations/generate", {"prompt": "a fox", "numberResults": 1})
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        webhooks.attempt_delivery(str(delivery.id))
        assert server.closed.wait(5)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert "in time" in delivery.last_error
    assert len(scheduled) == 1

"""Seed 004: POST /v1/generate and the jobs API. Replays the seed's example (nanobanana2 through a
fake fal queue on a socket, the image fetched from the seed's URL through the SSRF-safe fetcher),
every documented error, the offline compositor end to end, presets, cancel, listing, and a
signed webhook_url delivery with a retry, received by a real HTTP server."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from generations import actions, tasks, webhooks
from generations.library import upload_asset
from generations.models import Asset, Job, WebhookDelivery
from generations.scenes.documents import public_id
from studio import fetch as fetcher
from studio.models import LedgerEntry, Shop
from tests.engines.fakeserver import Reply, Seen, serve

pytestmark = pytest.mark.django_db

SEED_URL = "https://example.com/product.jpg"
SEED_PROMPT = (
    "Place the product on a marble table with soft natural lighting and a minimalist background"
)
SEED_BODY = {
    "model": "nanobanana2",
    "image_url": SEED_URL,
    "prompt": SEED_PROMPT,
    "num_images": 2,
    "aspect_ratio": "1:1",
}


def product_photo(fmt: str = "PNG") -> bytes:
    """A small catalogue shot: an amber bottle with a black cap and a label, on a pale sweep."""
    img = Image.new("RGB", (240, 300), (238, 237, 233))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([80, 110, 160, 270], radius=14, fill=(150, 78, 26))
    d.rectangle([100, 70, 140, 112], fill=(28, 28, 30))
    d.rectangle([88, 170, 152, 220], fill=(238, 228, 208))
    d.line([(98, 195), (142, 195)], fill=(40, 36, 32), width=3)
    buf = io.BytesIO()
    img.save(buf, fmt, quality=95) if fmt == "JPEG" else img.save(buf, fmt)
    return buf.getvalue()


def set_balance(shop: Shop, cents: int) -> None:
    Shop.objects.filter(pk=shop.pk).update(
        plan_budget_cents=0, plan_used_cents=0, wallet_cents=cents
    )


class Fetched(list):
    """The requests the fetcher sent, and the address each connection was pinned to."""

    def __init__(self) -> None:
        super().__init__()
        self.pinned: list[str | None] = []


@pytest.fixture
def seed_image_url(monkeypatch: pytest.MonkeyPatch, stub_dns: Any) -> Fetched:
    """The seed's https://example.com/product.jpg, served to the real fetcher: the name resolves
    to a public address, the connection goes through a mock transport that records what the
    fetcher sent (pinned address, Host header, SNI)."""
    seen = Fetched()
    pinned = seen.pinned
    photo = product_photo("JPEG")

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=photo, headers={"Content-Type": "image/jpeg"})

    class Recording(httpx.MockTransport):
        """Stands in for the fetcher's network transport; remembers the pinned address."""

        def __init__(self, *, until: float, address: str | None = None) -> None:
            super().__init__(handler)
            pinned.append(address)

    stub_dns.add("example.com", "93.184.215.14")
    monkeypatch.setattr(fetcher, "DeadlineTransport", Recording)
    return seen


def fal_queue(outputs: int = 2, *, fail: str = "") -> Callable[[Seen, str], Reply]:
    """fal's queue protocol: submit → status → result → file."""
    result_png = io.BytesIO()
    Image.new("RGB", (1024, 1024), (200, 190, 180)).save(result_png, "PNG")

    def handler(req: Seen, base: str) -> Reply:
        if req.method == "POST":
            app = "/".join(req.path.strip("/").split("/")[:2])
            rid = f"req-{len(req.body)}"
            return Reply(
                200,
                {
                    "request_id": rid,
                    "status_url": f"{base}/{app}/requests/{rid}/status",
                    "response_url": f"{base}/{app}/requests/{rid}",
                    "cancel_url": f"{base}/{app}/requests/{rid}/cancel",
                },
            )
        if req.path.endswith("/status"):
            state = {"status": "COMPLETED", "logs": []}
            if fail:
                state["error"] = fail
            return Reply(200, state)
        if req.path.startswith("/files/"):
            return Reply(200, result_png.getvalue(), {"Content-Type": "image/png"})
        images = [
            {"url": f"{base}/files/{i}.png", "width": 1024, "height": 1024} for i in range(outputs)
        ]
        return Reply(200, {"images": images, "seed": 7})

    return handler


@pytest.fixture
def fal(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[Seen]]]:
    with serve(fal_queue()) as (base, seen):
        settings.FAL_KEY = "fal-id:fal-secret"
        settings.FAL_QUEUE_URL = base
        settings.ENGINE_POLL_INTERVAL = 0.01
        yield base, seen


@pytest.fixture
def no_remote_engines(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FAL_KEY", "REPLICATE_API_TOKEN", "OPENAI_API_KEY"):
        setattr(settings, name, "")


@pytest.fixture
def product(shop: Shop) -> Asset:
    return upload_asset(shop, product_photo(), user=None, filename="bottle.png")


def run(job_id: str) -> Job:
    from generations.scenes.documents import parse_public_id

    ident = parse_public_id(job_id)
    actions.execute_job(str(ident))
    return Job.objects.get(id=ident)


# --- the seed's example -------------------------------------------------------------------------------


def test_it_handles_the_seeds_example(
    api: Any, shop: Shop, fal: tuple[str, list[Seen]], seed_image_url: list[httpx.Request]
) -> None:
    """GIVEN nanobanana2 served by fal WHEN the seed's example is POSTed THEN 202 with the seed's
    fields; the image came through the fetcher; the job sends one edit to fal with the product
    photo and the scene, charges 5 credits per image, and the poll shows two images on our
    origin, derived from the product (lineage)."""
    _base, seen = fal
    response = api.post("/v1/generate", SEED_BODY, headers={"Authorization": "Bearer " + api.raw})
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {
        "job_id",
        "status",
        "created_at",
        "estimated_time_seconds",
        "model",
        "num_images",
    }
    assert body["job_id"].startswith("job_") and body["status"] == "pending"
    assert body["model"] == "nanobanana2" and body["num_images"] == 2
    assert isinstance(body["estimated_time_seconds"], int) and body["estimated_time_seconds"] >= 1
    assert body["created_at"].endswith("Z")
    assert response["Location"] == f"/v1/jobs/{body['job_id']}"
    # The fetcher pinned the checked address and kept the name for Host and TLS.
    assert len(seed_image_url) == 1
    fetched = seed_image_url[0]
    # (The connection is pinned by the fetcher's network backend; the URL keeps the name, so
    # the Host header, TLS SNI and the certificate check all use it.)
    assert seed_image_url.pinned == ["93.184.215.14"]
    assert fetched.url.host == "example.com" and fetched.headers["Host"] == "example.com"

    job = run(body["job_id"])
    assert job.status == Job.Status.COMPLETED, job.error
    submit = [s for s in seen if s.method == "POST"]
    assert len(submit) == 1 and submit[0].path == "/fal-ai/nano-banana-2/edit"
    assert submit[0].headers["authorization"] == "Key fal-id:fal-secret"
    sent = submit[0].json()
    assert sent["prompt"].startswith(SEED_PROMPT)
    assert "Keep the product exactly as it is" in sent["prompt"]
    assert sent["aspect_ratio"] == "1:1" and sent["num_images"] == 2
    head, _, data = sent["image_urls"][0].partition(",")
    assert head.startswith("data:image/") and head.endswith(";base64")
    assert base64.b64decode(data) == job.input_asset.file.open("rb").read()

    polled = api.get(f"/v1/jobs/{body['job_id']}").json()
    assert polled["status"] == "completed" and polled["error"] is None
    assert polled["credits_charged"] == 10
    assert [i["width"] for i in polled["images"]] == [1024, 1024]
    for image in polled["images"]:
        assert image["url"].startswith("http://testserver/media/shops/")
        asset = Asset.objects.get(id=image["id"])
        assert asset.parent_id == job.input_asset_id and asset.job_id == job.id
    assert (
        api.client.get(polled["images"][0]["url"].removeprefix("http://testserver")).status_code
        == 200
    )
    charge = LedgerEntry.objects.get(job=job, kind="charge")
    assert charge.amount_cents == -10


def test_it_handles_the_builtin_compositor_with_an_asset_id(
    api: Any, shop: Shop, product: Asset
) -> None:
    """GIVEN a product in the library WHEN builtin:scene is asked for 2 variants at 4:3 THEN the
    job makes two different 1024×768 JPEG photographs, charged 1 credit each."""
    response = api.post(
        "/v1/generate",
        {
            "model": "builtin:scene",
            "asset_id": str(product.id),
            "prompt": "on a walnut table, dramatic light from the left",
            "num_images": 2,
            "aspect_ratio": "4:3",
        },
    )
    assert response.status_code == 202, response.content
    job = run(response.json()["job_id"])
    assert job.status == Job.Status.COMPLETED, job.error
    outputs = list(Asset.objects.filter(job=job).order_by("created_at", "id"))
    assert [(a.width, a.height, a.content_type) for a in outputs] == [(1024, 768, "image/jpeg")] * 2
    pixels = [Image.open(a.file.open("rb")).convert("L").resize((64, 48)) for a in outputs]
    diff = sum(abs(a - b) for a, b in zip(pixels[0].getdata(), pixels[1].getdata(), strict=True))
    assert diff / (64 * 48) > 4  # genuinely different takes, not the same picture twice
    assert job.result["scene"].startswith("wood")
    assert "walnut" in job.result["understood"]
    doc = api.get(f"/v1/jobs/{public_id(job.id)}").json()
    assert doc["credits_charged"] == 2 and doc["aspect_ratio"] == "4:3"


def test_it_handles_a_preset_instead_of_a_prompt(api: Any, shop: Shop, product: Asset) -> None:
    presets = api.get("/v1/presets").json()["data"]
    ids = {p["preset_id"] for p in presets}
    assert "marble-window" in ids and all(p["builtin"] for p in presets)
    response = api.post(
        "/v1/generate",
        {"model": "builtin:scene", "asset_id": str(product.id), "preset_id": "concrete-golden"},
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get()
    # The preset's aspect ratio applies when the request names none.
    assert job.params["aspect_ratio"] == "16:9" and job.params["surface"] == "concrete"
    assert (job.params["width"], job.params["height"]) == (1024, 576)


# --- errors ---------------------------------------------------------------------------------------------


def test_it_rejects_a_missing_prompt_with_the_seeds_body(api: Any, product: Asset) -> None:
    response = api.post("/v1/generate", {"model": "builtin:scene", "asset_id": str(product.id)})
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid_request", "message": "Missing required parameter: prompt"}
    }
    assert not Job.objects.exists()


@pytest.mark.parametrize("key", ["", "sk_live_not-a-real-key"])
def test_it_rejects_a_missing_or_invalid_key(key: str) -> None:
    from django.test import Client

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = Client().post(
        "/v1/generate", SEED_BODY, content_type="application/json", headers=headers
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "unauthorized", "message": "Invalid or missing API key"}
    }


def test_it_rejects_insufficient_credits_before_fetching_anything(
    api: Any, shop: Shop, fal: Any, seed_image_url: list[httpx.Request]
) -> None:
    set_balance(shop, 2)
    response = api.post("/v1/generate", {**SEED_BODY, "num_images": 1})
    assert response.status_code == 402
    assert response.json() == {
        "error": {
            "code": "insufficient_credits",
            "message": "Not enough credits. Required: 5, Available: 2",
            "required": 5,
            "available": 2,
        }
    }
    assert seed_image_url == []  # nothing fetched or stored for work that cannot be paid
    assert not Asset.objects.exists() and not Job.objects.exists()
    assert not LedgerEntry.objects.filter(kind="charge").exists()


def test_it_rejects_over_the_rate_limit_with_retry_after(
    api: Any, shop: Shop, settings: Any
) -> None:
    Shop.objects.filter(pk=shop.pk).update(api_rate_limit_per_minute=2)
    from studio import apikeys

    apikeys.clear_key_cache()
    for _ in range(2):
        api.get("/v1/jobs")
    response = api.get("/v1/jobs")
    assert response.status_code == 429
    error = response.json()["error"]
    retry = int(response["Retry-After"])
    assert error == {
        "code": "rate_limit_exceeded",
        "message": f"Rate limit exceeded. Try again in {retry} seconds.",
        "retry_after": retry,
    }
    assert 1 <= retry <= 60


def test_it_rejects_an_unconfigured_model_naming_the_setting_without_charging(
    api: Any, shop: Shop, product: Asset, no_remote_engines: None
) -> None:
    before = Shop.objects.get(pk=shop.pk).balance_cents
    response = api.post(
        "/v1/generate",
        {"model": "nanobanana2", "asset_id": str(product.id), "prompt": SEED_PROMPT},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert "FAL_KEY or REPLICATE_API_TOKEN" in error["message"]
    assert "builtin:scene" in error["message"]
    assert not Job.objects.exists()
    assert Shop.objects.get(pk=shop.pk).balance_cents == before


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"model": None}, "Missing required parameter: model"),
        ({"asset_id": None}, "Missing required parameter: image_url or asset_id"),
        ({"image_url": SEED_URL}, "either image_url or asset_id"),
        ({"num_images": 5}, "num_images is out of range: input should be less than or equal to 4"),
        ({"num_images": 0}, "num_images is out of range"),
        ({"num_images": 1.5}, "num_images must be a whole number"),
        ({"aspect_ratio": "2:1"}, "aspect_ratio must be one of: 1:1, 4:3, 3:4, 16:9 or 9:16"),
        ({"model": "dall-e-3"}, "Unknown model 'dall-e-3'"),
        ({"prompt": 42}, "prompt must be a string"),
        ({"webhook_url": "http://127.0.0.1:9/hook"}, "webhook_url"),
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url"),
        ({"prompt": "x" * 2001}, "prompt must be at most 2000 characters"),
    ],
)
def test_it_rejects_invalid_requests(
    api: Any, product: Asset, change: dict[str, Any], fragment: str
) -> None:
    body: dict[str, Any] = {
        "model": "builtin:scene",
        "asset_id": str(product.id),
        "prompt": "on linen",
    }
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    response = api.post("/v1/generate", body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and fragment in error["message"]
    assert not Job.objects.exists()


def test_it_rejects_a_body_that_is_not_json(api: Any) -> None:
    response = api.post("/v1/generate", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_it_rejects_another_shops_asset_preset_and_job(
    api: Any, make_user: Any, shop: Shop, product: Asset
) -> None:
    from generations.scenes.actions import save_preset
    from studio.models import Membership

    other = Membership.objects.get(user=make_user("other@example.com")).shop
    theirs = upload_asset(other, product_photo(), user=None)
    preset = save_preset(other, name="Theirs", prompt="on oak")
    for body in (
        {"model": "builtin:scene", "asset_id": str(theirs.id), "prompt": "on oak"},
        {"model": "builtin:scene", "asset_id": str(product.id), "preset_id": str(preset.id)},
        {"model": "builtin:scene", "asset_id": str(product.id), "preset_id": "no-such-preset"},
    ):
        response = api.post("/v1/generate", body)
        assert response.status_code == 404, body
        assert response.json()["error"]["code"] == "not_found"
    from generations.scenes.actions import SceneRequest, submit_scene

    their_job = submit_scene(other, SceneRequest(asset=theirs, prompt="on oak"))
    for path in (f"/v1/jobs/{public_id(their_job.id)}", "/v1/jobs/job_nonsense"):
        assert api.get(path).status_code == 404
    assert api.post(f"/v1/jobs/{public_id(their_job.id)}/cancel").status_code == 404
    assert api.get("/v1/jobs").json()["data"] == []


# --- jobs: statuses, cancel, list -----------------------------------------------------------------------


def test_it_handles_pending_cancel_and_refund(api: Any, shop: Shop, product: Asset) -> None:
    before = Shop.objects.get(pk=shop.pk).balance_cents
    job_id = api.post(
        "/v1/generate",
        {
            "model": "builtin:scene",
            "asset_id": str(product.id),
            "prompt": "on oak",
            "num_images": 3,
        },
    ).json()["job_id"]
    doc = api.get(f"/v1/jobs/{job_id}").json()
    assert doc["status"] == "pending" and doc["images"] == []
    assert doc["estimated_time_seconds"] >= 1
    assert Shop.objects.get(pk=shop.pk).balance_cents == before - 3
    canceled = api.post(f"/v1/jobs/{job_id}/cancel")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled" and canceled.json()["credits_charged"] == 0
    assert Shop.objects.get(pk=shop.pk).balance_cents == before
    again = api.post(f"/v1/jobs/{job_id}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_it_reports_a_failed_job_and_refunds_it(
    settings: Any, api: Any, shop: Shop, product: Asset, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(fal_queue(fail="upstream model crashed")) as (base, _seen):
        settings.FAL_KEY = "k"
        settings.FAL_QUEUE_URL = base
        settings.ENGINE_POLL_INTERVAL = 0.01
        before = Shop.objects.get(pk=shop.pk).balance_cents
        job_id = api.post(
            "/v1/generate",
            {"model": "nanobanana", "asset_id": str(product.id), "prompt": "on oak"},
        ).json()["job_id"]
        job = run(job_id)
    assert job.status == Job.Status.FAILED
    doc = api.get(f"/v1/jobs/{job_id}").json()
    assert doc["status"] == "failed" and doc["credits_charged"] == 0
    assert (
        doc["error"]["code"] == "generation_failed"
        and "upstream model crashed" in doc["error"]["message"]
    )
    assert Shop.objects.get(pk=shop.pk).balance_cents == before


def test_it_lists_jobs_newest_first_with_a_cursor_and_a_status_filter(
    api: Any, shop: Shop, product: Asset
) -> None:
    ids = [
        api.post(
            "/v1/generate",
            {"model": "builtin:scene", "asset_id": str(product.id), "prompt": f"on oak {i}"},
        ).json()["job_id"]
        for i in range(3)
    ]
    api.post(f"/v1/jobs/{ids[0]}/cancel")
    first = api.get("/v1/jobs?limit=2").json()
    assert [d["job_id"] for d in first["data"]] == ids[::-1][:2] and first["has_more"]
    rest = api.get(f"/v1/jobs?limit=2&starting_after={ids[1]}").json()
    assert [d["job_id"] for d in rest["data"]] == [ids[0]] and not rest["has_more"]
    canceled = api.get("/v1/jobs?status=canceled").json()["data"]
    assert [d["job_id"] for d in canceled] == [ids[0]]
    assert api.get("/v1/jobs?status=bogus").status_code == 400
    assert api.get("/v1/jobs?limit=0").status_code == 400


def test_the_job_list_reads_a_page_in_a_fixed_number_of_queries(
    api: Any, shop: Shop, product: Asset, django_assert_max_num_queries: Any
) -> None:
    for i in range(6):
        run(
            api.post(
                "/v1/generate",
                {"model": "builtin:scene", "asset_id": str(product.id), "prompt": f"oak {i}"},
            ).json()["job_id"]
        )
    api.post("/v1/generate", {"model": "builtin:scene", "asset_id": str(product.id), "prompt": "x"})
    api.get("/v1/jobs")  # warm the key cache
    with django_assert_max_num_queries(12):
        page = api.get("/v1/jobs?limit=100").json()["data"]
    assert len(page) == 7 and sum(len(d["images"]) for d in page) == 6


# --- webhook_url ------------------------------------------------------------------------------------------


class Receiver:
    def __init__(self) -> None:
        self.statuses: list[int] = []
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
            self.wfile.write(b"try later" if status >= 500 else b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    yield f"http://127.0.0.1:{server.server_address[1]}/scene-hook", state
    server.shutdown()
    server.server_close()


def test_it_delivers_a_signed_webhook_to_webhook_url_and_retries_it(
    api: Any,
    shop: Shop,
    product: Asset,
    receiver: tuple[str, Receiver],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN a request with webhook_url WHEN the job completes THEN one delivery is queued for
    that URL; the receiver's first answer is a 500, so it stays pending with a retry scheduled
    after the backoff; the retry is delivered, signed with the shop's request-webhook secret,
    carrying the same document as GET /v1/jobs/{job_id}."""
    url, state = receiver
    scheduled: list[tuple[Any, float]] = []
    monkeypatch.setattr(
        tasks.deliver_webhook,
        "apply_async",
        lambda args, countdown=0: scheduled.append((args, countdown)),
    )
    state.statuses = [500]
    job_id = api.post(
        "/v1/generate",
        {
            "model": "builtin:scene",
            "asset_id": str(product.id),
            "prompt": "on white marble, soft light",
            "webhook_url": url,
        },
    ).json()["job_id"]
    job = run(job_id)
    assert job.status == Job.Status.COMPLETED, job.error
    delivery = WebhookDelivery.objects.get(job=job)
    assert delivery.url == url and delivery.endpoint is None and delivery.shop_id == shop.id
    assert delivery.event == "job.completed"

    webhooks.attempt_delivery(str(delivery.id))
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert scheduled == [((str(delivery.id),), webhooks.backoff(1))]

    WebhookDelivery.objects.filter(id=delivery.id).update(next_attempt_at=None)  # time passes
    webhooks.attempt_delivery(str(delivery.id))
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 2
    assert len(state.received) == 2
    headers, body = state.received[-1]
    secret = webhooks.request_signing_secret(shop)
    assert webhooks.verify(secret, headers["studio-signature"], body)
    assert not webhooks.verify("whsec_wrong", headers["studio-signature"], body)
    assert headers["studio-delivery"] == str(delivery.id)
    payload = json.loads(body)
    assert payload["type"] == "job.completed" and payload["id"] == str(delivery.id)
    polled = api.get(f"/v1/jobs/{job_id}").json()
    assert payload["data"]["job_id"] == job_id and payload["data"]["status"] == "completed"
    assert [i["id"] for i in payload["data"]["images"]] == [i["id"] for i in polled["images"]]
    assert payload["data"]["images"][0]["url"].endswith(
        polled["images"][0]["url"].split("/media/")[1]
    )


def test_it_handles_a_retry_with_the_same_idempotency_key(
    api: Any, shop: Shop, product: Asset
) -> None:
    body = {"model": "builtin:scene", "asset_id": str(product.id), "prompt": "on oak"}
    headers = {"Idempotency-Key": "scene-retry-1"}
    first = api.post("/v1/generate", body, headers=headers)
    again = api.post("/v1/generate", body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["job_id"] == first.json()["job_id"]
    assert Job.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="charge").count() == 1
    other = api.post("/v1/generate", {**body, "prompt": "on slate"}, headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"

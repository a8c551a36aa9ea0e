"""The platform every family shares: keys, auth, rate limits, idempotency, sandbox shops, uploads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generations.models import Asset, Job
from studio import apikeys, ratelimit
from studio.actions import create_shop
from studio.models import ApiKey, IdempotencyRecord, Membership, Role, Shop
from tests.api.conftest import ApiClient
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.django_db


# --- keys --------------------------------------------------------------------------------------


def test_keys_are_hashed_at_rest(shop: Shop) -> None:
    minted = apikeys.create_api_key(shop, scopes=["ai:generate"])
    row = ApiKey.objects.get(pk=minted.api_key.pk)
    assert minted.raw.startswith("sk_live_") and len(minted.raw) > 40
    assert minted.raw not in (row.key_hash, row.prefix)
    assert row.prefix == minted.raw[:12]
    assert len(row.key_hash) == 64
    assert apikeys.authenticate(minted.raw) == row
    assert apikeys.authenticate(minted.raw + "x") is None


def test_revoked_key_is_refused(shop: Shop) -> None:
    minted = apikeys.create_api_key(shop, scopes=["library:read"])
    client = ApiClient(minted.raw)
    assert client.get("/v0/usage").status_code == 200
    apikeys.revoke_api_key(minted.api_key)
    response = client.get("/v0/usage")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]


def test_unknown_scope_is_refused(shop: Shop) -> None:
    with pytest.raises(apikeys.ApiKeyError):
        apikeys.create_api_key(shop, scopes=["root"])


def test_wrong_scope_is_403_on_every_family(shop: Shop, api_for: Any) -> None:
    client = api_for(shop, ["mockups"])
    assert client.get("/v0/usage").status_code == 403
    assert client.post("/uploads", {"url": "https://a.example/x.png"}).status_code == 403
    assert client.post("/v1/posts", {"text": "x"}).status_code == 403
    assert client.get("/ai-generations/x").status_code == 403


def test_last_used_is_recorded_cheaply(shop: Shop, api_for: Any) -> None:
    client = api_for(shop, ["library:read"])
    key = ApiKey.objects.get(shop=shop)
    assert key.last_used_at is None
    client.get("/v0/usage")
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    client.get("/v0/usage")
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first  # at most once a minute


def test_api_keys_page_shows_a_key_once_and_revokes(owner_client: Any, shop: Shop) -> None:
    page = owner_client.get("/api-keys/")
    assert page.status_code == 200
    response = owner_client.post("/api-keys/", {"name": "server", "scopes": ["ai:generate"]})
    assert response.status_code == 200
    key = ApiKey.objects.get(shop=shop)
    raw = response.content.decode().split('id="new-key" readonly value="', 1)[1].split('"', 1)[0]
    assert apikeys.authenticate(raw) == key
    assert raw not in owner_client.get("/api-keys/").content.decode()  # shown once
    assert owner_client.post("/api-keys/", {"name": "x"}).status_code == 422  # no scope
    owner_client.post(f"/api-keys/{key.id}/revoke/")
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_designers_cannot_manage_keys(shop: Shop, add_member: Any, client_for: Any) -> None:
    designer = add_member(shop, Role.DESIGNER)
    assert client_for(designer, shop).get("/api-keys/").status_code == 403


# --- rate limits ---------------------------------------------------------------------------------


def _countdown(client: ApiClient, limit: int) -> None:
    seen = []
    for _ in range(limit):
        response = client.get("/v0/usage")
        assert response.status_code == 200
        assert response["x-ratelimit-limit-requests"] == str(limit)
        assert response["X-RateLimit-Limit"] == str(limit)
        assert response["x-ratelimit-remaining-requests"] == response["X-RateLimit-Remaining"]
        assert int(response["X-RateLimit-Reset"]) > time.time() - 1
        assert response["x-ratelimit-reset-requests"].endswith("s")
        seen.append(int(response["X-RateLimit-Remaining"]))
    assert seen == list(range(limit - 1, -1, -1))
    response = client.get("/v0/usage")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["X-RateLimit-Remaining"] == "0"


def test_rate_limit_counts_down_db_fallback(shop: Shop, api_for: Any) -> None:
    Shop.objects.filter(pk=shop.pk).update(api_rate_limit_per_minute=5)
    _countdown(api_for(shop, ["library:read"]), 5)


def test_rate_limit_counts_down_in_redis(shop: Shop, api_for: Any, settings: Any) -> None:
    url = "redis://127.0.0.1:6379/13"
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
        client.flushdb()  # db 13 is this test's own: key ids repeat between test runs
    except Exception:
        skip_or_fail("Redis is not reachable on 127.0.0.1:6379")
    settings.RATELIMIT_REDIS_URL = url
    Shop.objects.filter(pk=shop.pk).update(api_rate_limit_per_minute=4)
    _countdown(api_for(shop, ["library:read"]), 4)


def test_the_default_limit_is_60(shop: Shop, api_for: Any, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 60
    response = api_for(shop, ["library:read"]).get("/v0/usage")
    assert response["X-RateLimit-Limit"] == "60"


def test_db_window_counter_is_atomic_across_threads(transactional_db: Any) -> None:
    errors: list[BaseException] = []
    results: list[ratelimit.Decision] = []

    def worker() -> None:
        try:
            for _ in range(10):
                results.append(ratelimit.hit("threads", 25, now=1_000_000.0))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(d.allowed for d in results) == 25
    assert sorted(d.remaining for d in results if d.allowed) == list(range(25))


def test_keys_are_limited_independently(shop: Shop, api_for: Any) -> None:
    Shop.objects.filter(pk=shop.pk).update(api_rate_limit_per_minute=1)
    a, b = api_for(shop, ["library:read"]), api_for(shop, ["library:read"])
    assert a.get("/v0/usage").status_code == 200
    assert a.get("/v0/usage").status_code == 429
    assert b.get("/v0/usage").status_code == 200


# --- idempotency -----------------------------------------------------------------------------------


def test_idempotent_replay_and_conflicts(api: Any) -> None:
    headers = {"Idempotency-Key": "abc-123"}
    body = {"prompt": "a fox", "numberResults": 1}
    first = api.post("/ai-generations/generate", body, headers=headers)
    assert first.status_code == 200
    again = api.post("/ai-generations/generate", body, headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Job.objects.count() == 1
    other = api.post("/ai-generations/generate", {**body, "prompt": "a hen"}, headers=headers)
    assert other.status_code == 409
    # A different key is a different request.
    assert (
        api.post("/ai-generations/generate", body, headers={"Idempotency-Key": "z"}).status_code
        == 200
    )
    assert Job.objects.count() == 2


def test_idempotency_409_while_the_first_is_running(api: Any, shop: Shop) -> None:
    # A first request holds the key (live lease, no job yet): a retry is told to wait.
    from datetime import timedelta

    from django.test import RequestFactory
    from django.utils import timezone

    from generations.api.idempotency import request_fingerprint

    key = ApiKey.objects.get(shop=shop)
    request = RequestFactory().post(
        "/v1/posts", data=b'{"text": "x"}', content_type="application/json"
    )
    IdempotencyRecord.objects.create(
        api_key=key,
        key="k1",
        request_hash=request_fingerprint(request),
        claim_token="first",
        lease_until=timezone.now() + timedelta(seconds=30),
    )
    response = api.post("/v1/posts", {"text": "x"}, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_in_progress"


def test_idempotency_records_expire_after_24h(api: Any) -> None:
    headers = {"Idempotency-Key": "old"}
    api.post("/v1/posts", {"text": "x"}, headers=headers)
    from datetime import timedelta

    from django.utils import timezone

    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = api.post("/v1/posts", {"text": "y"}, headers=headers)
    assert response.status_code == 201
    assert response.json()["data"]["text"] == "y"


def test_errors_are_replayed_but_not_5xx(api: Any) -> None:
    headers = {"Idempotency-Key": "bad"}
    assert api.post("/v1/posts", {}, headers=headers).status_code == 400
    assert api.post("/v1/posts", {}, headers=headers).status_code == 400


# --- sandbox shops -------------------------------------------------------------------------------


def test_sandbox_mint_and_claim(client: Any, make_user: Any, client_for: Any) -> None:
    response = client.post("/shops/sandbox")
    assert response.status_code == 201
    body = response.json()
    assert body["shop"].startswith("shop-")
    assert body["api_key"].startswith("sk_test_")
    assert body["shop_secret"].startswith("scsec_")
    assert body["scopes"] == ["ai:generate", "ai:bg-remove", "uploads:write", "mockups"]
    assert body["claim_url"].startswith("http://testserver/shops/claim/")
    shop = Shop.objects.get(slug=body["shop"])
    assert shop.is_sandbox and shop.balance_cents > 0
    # The key generates immediately.
    sandbox = ApiClient(body["api_key"])
    gen = sandbox.post("/ai-generations/generate", {"prompt": "a cabin", "numberResults": 1})
    assert gen.status_code == 200
    # A signed-in user opens the claim link and claims it.
    user = make_user("claimer@example.com")
    owner = client_for(user)
    path = body["claim_url"].removeprefix("http://testserver")
    assert owner.get(path).status_code == 200
    assert owner.post(path).status_code == 302
    assert Membership.objects.get(user=user, shop=shop).role == Role.OWNER
    assert sandbox.post("/ai-generations/generate", {"prompt": "x"}).status_code == 401
    assert not Shop.objects.get(pk=shop.pk).is_sandbox
    # The link works once.
    assert owner.post(path).status_code == 404


def test_sandbox_claim_needs_sign_in(client: Any) -> None:
    body = client.post("/shops/sandbox").json()
    path = body["claim_url"].removeprefix("http://testserver")
    assert client.post(path).status_code == 302  # to the login page
    assert not Membership.objects.filter(shop__slug=body["shop"]).exists()


def test_sandbox_minting_is_limited_per_address(client: Any, settings: Any) -> None:
    settings.SANDBOX_MINTS_PER_HOUR = 2
    assert client.post("/shops/sandbox").status_code == 201
    assert client.post("/shops/sandbox").status_code == 201
    response = client.post("/shops/sandbox")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    other = client.post("/shops/sandbox", REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 201
    assert client.get("/shops/sandbox").status_code == 405


# --- uploads -------------------------------------------------------------------------------------


def test_upload_multipart(api: Any, shop: Shop, image_bytes: Any) -> None:
    f = SimpleUploadedFile("a.png", image_bytes(40, 30), content_type="image/png")
    response = api.post("/uploads", {"file": f}, multipart=True)
    assert response.status_code == 201
    body = response.json()
    assert (body["width"], body["height"]) == (40, 30)
    assert body["imageUrl"].startswith(f"http://testserver/media/shops/{shop.slug}/")
    assert Asset.objects.get(id=body["id"]).kind == Asset.Kind.UPLOAD


def test_upload_rejects_non_images(api: Any) -> None:
    f = SimpleUploadedFile("a.png", b"not an image", content_type="image/png")
    assert api.post("/uploads", {"file": f}, multipart=True).status_code == 400
    assert api.post("/uploads", {}).status_code == 400
    assert api.post("/uploads", {"url": "file:///etc/passwd"}).status_code == 400
    assert api.post("/uploads", {"url": "http://169.254.169.254/latest"}).status_code == 400
    assert Asset.objects.count() == 0


@pytest.fixture
def image_server(image_bytes: Any) -> Iterator[str]:
    png = image_bytes(20, 10)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_upload_by_url_goes_through_the_fetcher(api: Any, settings: Any, image_server: str) -> None:
    assert api.post("/uploads", {"url": f"{image_server}/x.png"}).status_code == 400  # loopback
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    response = api.post("/uploads", {"url": f"{image_server}/x.png"})
    assert response.status_code == 201, response.content
    assert (response.json()["width"], response.json()["height"]) == (20, 10)


def test_other_shops_cannot_see_uploads(api: Any, api_for: Any, image_bytes: Any) -> None:
    f = SimpleUploadedFile("a.png", image_bytes(), content_type="image/png")
    body = api.post("/uploads", {"file": f}, multipart=True).json()
    other = api_for(create_shop("Other"))
    assert other.get(f"/v0/images/library/{body['id']}").status_code == 404


def test_an_unexpected_error_is_a_500_in_the_family_envelope(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generations.api import ai

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(ai, "post_body", broken)
    response = api.post("/v1/posts", {"text": "x"})
    assert response.status_code == 500
    body = response.json()
    assert body["data"] is None and body["error"]["code"] == "internal_error"
    assert response.has_header("X-RateLimit-Limit")


def test_sandbox_grant_is_in_the_ledger(client: Any) -> None:
    from studio.models import LedgerEntry

    body = client.post("/shops/sandbox").json()
    entry = LedgerEntry.objects.get(shop__slug=body["shop"])
    assert entry.kind == LedgerEntry.Kind.GRANT
    assert body["credits_cents"] == 500


def test_oversized_and_broken_bodies_are_4xx(api: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post("/v1/posts", {"text": "x" * 5000})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    response = api.post(
        "/uploads",
        b"--zzz\r\nContent-Disposition: form-data; name=file\r\n\r\n" + b"x" * 2000,
        content_type="multipart/form-data; boundary=zzz",
        headers={"Idempotency-Key": "broken"},
    )
    assert 400 <= response.status_code < 500


def test_malformed_json_is_400(api: Any) -> None:
    for raw in (b"{", b"[1]", b"\xff\xfe", b"[" * 100000 + b"]" * 100000):
        response = api.post("/v1/posts", raw)
        assert response.status_code == 400, raw[:10]

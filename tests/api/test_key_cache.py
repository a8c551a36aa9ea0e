"""The per-process cache of authenticated API keys (studio/apikeys.py): no query while a key is
cached, revocation in this process at once, elsewhere within API_KEY_CACHE_SECONDS."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from studio import apikeys
from studio.models import ApiKey, Shop
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings: Any) -> FakeClock:
    settings.API_KEY_CACHE_SECONDS = 5
    fake = FakeClock()
    monkeypatch.setattr(apikeys, "_clock", fake)
    return fake


def _revoke_elsewhere(key: ApiKey) -> None:
    """As another process would: the row changes, this process's cache is not told."""
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())


def test_it_serves_a_cached_key_without_a_query(
    shop: Shop, clock: FakeClock, django_assert_num_queries: Any
) -> None:
    minted = apikeys.create_api_key(shop, scopes=["library:read"])
    first = apikeys.authenticate(minted.raw)
    with django_assert_num_queries(0):
        again = apikeys.authenticate(minted.raw)
    assert again == first
    assert again is not first and again.shop is not first.shop
    assert again.shop == shop and again.scopes == ["library:read"]
    assert again._state.adding is False and again._state.db == "default"


def test_it_refuses_a_key_revoked_in_this_process_at_once(shop: Shop, clock: FakeClock) -> None:
    minted = apikeys.create_api_key(shop, scopes=["library:read"])
    client = ApiClient(minted.raw)
    assert client.get("/v0/images/library").status_code == 200
    apikeys.revoke_api_key(minted.api_key)
    response = client.get("/v0/images/library")
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid or revoked API key."


def test_it_refuses_a_key_revoked_from_the_keys_page(
    shop: Shop, owner_client: Any, clock: FakeClock
) -> None:
    minted = apikeys.create_api_key(shop, scopes=["library:read"])
    client = ApiClient(minted.raw)
    assert client.get("/v0/usage").status_code == 200
    owner_client.post(f"/api-keys/{minted.api_key.id}/revoke/")
    assert client.get("/v0/usage").status_code == 401


def test_it_honours_the_ttl_for_a_key_revoked_elsewhere(shop: Shop, clock: FakeClock) -> None:
    """GIVEN a key cached at t=0 WHEN another process revokes it at t=4 THEN this process still
    accepts it until t=5 and refuses it from then on (never longer than the TTL)."""
    minted = apikeys.create_api_key(shop, scopes=["library:read"])
    assert apikeys.authenticate(minted.raw) is not None
    clock.now += 4
    _revoke_elsewhere(minted.api_key)
    assert apikeys.authenticate(minted.raw) is not None  # the cache's documented window
    clock.now += 1
    assert apikeys.authenticate(minted.raw) is None
    clock.now += 100
    assert apikeys.authenticate(minted.raw) is None


def test_it_does_not_cache_a_failed_lookup(
    shop: Shop, clock: FakeClock, django_assert_num_queries: Any
) -> None:
    minted = apikeys.create_api_key(shop, scopes=["library:read"])
    _revoke_elsewhere(minted.api_key)
    for _ in range(2):
        with django_assert_num_queries(1):
            assert apikeys.authenticate(minted.raw) is None
    for _ in range(2):
        with django_assert_num_queries(1):
            assert apikeys.authenticate("sk_live_" + "x" * 43) is None


def test_it_can_be_turned_off(shop: Shop, settings: Any, django_assert_num_queries: Any) -> None:
    settings.API_KEY_CACHE_SECONDS = 0
    minted = apikeys.create_api_key(shop, scopes=["library:read"])
    apikeys.authenticate(minted.raw)
    with django_assert_num_queries(1):
        assert apikeys.authenticate(minted.raw) is not None
    _revoke_elsewhere(minted.api_key)
    assert apikeys.authenticate(minted.raw) is None


def test_requests_do_not_share_instances(shop: Shop, clock: FakeClock) -> None:
    minted = apikeys.create_api_key(shop, scopes=["library:read", "ai:generate"])
    first = apikeys.authenticate(minted.raw)
    assert first is not None
    first.scopes.append("mockups")
    first.shop.trusted_origins.append("https://evil.example")
    first.shop.wallet_cents = 999_999
    again = apikeys.authenticate(minted.raw)
    assert again is not None
    assert again.scopes == ["ai:generate", "library:read"]
    assert again.shop.trusted_origins == [] and again.shop.wallet_cents == shop.wallet_cents


def test_saving_the_shop_or_the_key_forgets_it(shop: Shop, clock: FakeClock) -> None:
    minted = apikeys.create_api_key(shop, scopes=["library:read"])
    client = ApiClient(minted.raw)
    assert client.get("/v0/usage")["X-RateLimit-Limit"] == "1000"
    shop.api_rate_limit_per_minute = 7
    shop.save()
    assert client.get("/v0/usage")["X-RateLimit-Limit"] == "7"
    key = ApiKey.objects.get(pk=minted.api_key.pk)
    key.scopes = ["mockups"]
    key.save()  # as the admin does
    assert client.get("/v0/usage").status_code == 403
    key.delete()
    assert client.get("/v0/usage").status_code == 401


def test_a_charge_keeps_the_shops_keys_cached(
    shop: Shop, clock: FakeClock, django_assert_num_queries: Any
) -> None:
    """GIVEN a cached key WHEN its shop is charged (every submitted job saves the shop's
    balances; refunds save the same fields) THEN the next request still needs no key lookup;
    a budget change, which is a plan change, still forgets the key."""
    from studio import actions

    minted = apikeys.create_api_key(shop, scopes=["library:read"])
    actions.grant_credits(shop, wallet_cents=50, memo="top-up")
    apikeys.authenticate(minted.raw)
    with transaction.atomic():
        actions.charge(shop, 30)
    with django_assert_num_queries(0):
        assert apikeys.authenticate(minted.raw) is not None
    Shop.objects.get(pk=shop.pk).save(update_fields=["plan_budget_cents"])
    with django_assert_num_queries(1):
        assert apikeys.authenticate(minted.raw) is not None


def test_last_use_is_written_once_not_per_cached_request(
    shop: Shop, clock: FakeClock, django_assert_num_queries: Any
) -> None:
    minted = apikeys.create_api_key(shop, scopes=["library:read"])
    key = apikeys.authenticate(minted.raw)
    assert key is not None
    with django_assert_num_queries(1):
        apikeys.touch(key)
    with django_assert_num_queries(0):
        apikeys.touch(apikeys.authenticate(minted.raw))
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None

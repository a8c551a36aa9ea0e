"""Mockup renders are billed (seed 000; cache hits free), unsigned URLs are rate limited, the
stored render cache is bounded per shop, and new shops require signed URLs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from generations.models import PriceRule
from mockups.models import RenderCacheEntry
from studio import actions as studio_actions
from studio.models import LedgerEntry
from tests.mockups.conftest import asset_url, checkerboard
from tests.mockups.test_mockup_urls import signed

pytestmark = pytest.mark.django_db


def get(client: Client, template: str, **params: Any) -> Any:
    return client.get(f"/m/{template}?" + urlencode(params))


def render_charges(shop: Any) -> list[int]:
    return list(
        LedgerEntry.objects.filter(shop=shop, memo__startswith="Mockup render").values_list(
            "amount_cents", flat=True
        )
    )


def test_new_shops_require_signed_urls(client, user):
    shop = studio_actions.create_shop("Fresh", owner=user)
    assert shop.require_signed_urls
    r = get(client, "tshirt", asset="http://testserver/x.png", shop=shop.slug)
    assert r.status_code == 403 and r.json()["error"]["code"] == "signature_required"


def test_a_fresh_render_is_charged_per_the_price_rules_and_hits_are_free(client, shop, store):
    PriceRule.objects.create(kind="mockup", cents_per_output=3)
    PriceRule.objects.create(kind="mockup", model="mug", cents_per_output=5)
    asset = store()
    first = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256)
    again = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256)
    mug = get(client, "mug", asset=asset_url(asset), shop=shop.slug, w=256)
    assert (first["X-Mockup-Cache"], first["X-Cost-Cents"]) == ("miss", "3")
    assert (again["X-Mockup-Cache"], again["X-Cost-Cents"]) == ("hit", "0")
    assert mug["X-Cost-Cents"] == "5"
    assert sorted(render_charges(shop)) == [-5, -3]


def test_a_shop_without_credits_gets_429_and_nothing_is_stored(client, shop, store, settings):
    settings.MOCKUP_RENDER_PRICE_CENTS = 2
    asset = store()
    cached = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256)
    assert cached.status_code == 200
    shop.refresh_from_db()
    shop.plan_used_cents, shop.wallet_cents = shop.plan_budget_cents, 1
    shop.save()
    r = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=400)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "quota_exceeded"
    assert "quota exceeded" in r.json()["error"]["message"]
    assert RenderCacheEntry.objects.filter(shop=shop).count() == 1
    # Cache hits stay free, with or without credits.
    hit = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256)
    assert hit.status_code == 200 and hit["X-Mockup-Cache"] == "hit"


def _rates(settings: Any, **limits: int) -> None:
    settings.THROTTLE_RATES = {
        **settings.THROTTLE_RATES,
        **{name.replace("_", "-"): {"limit": n, "window": 60} for name, n in limits.items()},
    }


def test_fresh_renders_of_unsigned_urls_are_rate_limited_per_address(client, shop, store, settings):
    """GIVEN a visitor varying an unsigned URL WHEN over the per-address limit THEN 429 with
    Retry-After; cache hits and signed URLs are not counted, and others are not affected."""
    _rates(settings, mockup_unsigned_address=3, mockup_unsigned_shop=100)
    asset = store()
    visitor = Client(REMOTE_ADDR="10.7.7.7")
    codes = [
        get(visitor, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256, x=x).status_code
        for x in ("0.4", "0.5", "0.6", "0.7")
    ]
    assert codes == [200, 200, 200, 429]
    r = get(visitor, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256, x="0.8")
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert r.json()["error"]["code"] == "rate_limited"
    hit = get(visitor, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256, x="0.4")
    assert hit.status_code == 200 and hit["X-Mockup-Cache"] == "hit"
    url = signed(shop, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256, x="0.9")
    assert visitor.get(url).status_code == 200
    other = Client(REMOTE_ADDR="10.7.7.8")
    assert get(other, "tshirt", asset=asset_url(asset), shop=shop.slug, w=400).status_code == 200


def test_fresh_renders_of_unsigned_urls_are_rate_limited_per_shop(client, shop, store, settings):
    _rates(settings, mockup_unsigned_address=100, mockup_unsigned_shop=2)
    asset = store()
    codes = [
        get(
            Client(REMOTE_ADDR=f"10.8.8.{n}"),
            "mug",
            asset=asset_url(asset),
            shop=shop.slug,
            w=256,
            y=f"0.{n + 3}",
        ).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_the_render_cache_is_bounded_per_shop_oldest_first(client, shop, store, settings):
    """GIVEN a cache budget of a few renders WHEN many distinct renders are made THEN the
    stored renders stay within the budget and the oldest are the ones evicted."""
    settings.MOCKUP_RENDER_PRICE_CENTS = 0
    asset = store(checkerboard(96))
    first = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256, x="0.30")
    size = len(first.content)
    settings.MOCKUP_RENDER_CACHE_MB_PER_SHOP = (size * 4.5) / (1024 * 1024)
    names = [RenderCacheEntry.objects.get().name]
    for n in range(1, 12):
        r = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256, x=f"0.{30 + n}")
        assert r.status_code == 200
        names.append(RenderCacheEntry.objects.latest("created_at", "id").name)
    budget = settings.MOCKUP_RENDER_CACHE_MB_PER_SHOP * 1024 * 1024
    kept = list(RenderCacheEntry.objects.filter(shop=shop).values_list("name", flat=True))
    assert sum(RenderCacheEntry.objects.values_list("bytes", flat=True)) <= budget
    assert names[-1] in kept and names[0] not in kept
    assert not default_storage.exists(names[0])
    assert all(default_storage.exists(name) for name in kept)
    # An evicted render is simply rendered again (and stored again) when asked for.
    again = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256, x="0.30")
    assert again["X-Mockup-Cache"] == "miss" and again.content == first.content


def test_the_settings_page_warns_before_signatures_are_turned_off(owner_client, shop):
    html = owner_client.get("/mockups/settings/").content.decode()
    assert "make this shop pay for fresh renders" in html

"""Rendering a library design into the render cache without a request (the design chat's
mockup tool), and unsigned mockup URLs for shops that do not require signatures."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client, RequestFactory

from mockups.actions import mockup_url, prerender_mockup
from mockups.errors import MockupError
from mockups.products import find_template
from studio.models import Shop
from tests.mockups.conftest import asset_url, checkerboard

pytestmark = pytest.mark.django_db


def test_a_prerendered_mockup_url_is_a_cache_hit(shop: Shop, store: Any) -> None:
    asset = store(checkerboard(96, alpha=True))
    template = find_template(shop, "tshirt")
    balance = shop.balance_cents
    first = prerender_mockup(shop, template, asset, {"variant": "black", "scale": 1.5, "w": 640})
    name = first.name
    # A fresh render is billed like one a mockup URL asks for; the repeat below is free.
    assert first.cents == settings.MOCKUP_RENDER_PRICE_CENTS
    assert Shop.objects.get(pk=shop.pk).balance_cents == balance - first.cents
    assert name.startswith(f"mockup-cache/{shop.slug}/") and name.endswith(".jpg")
    request = RequestFactory().get("/")
    url = mockup_url(
        request,
        shop,
        template,
        asset_url(asset),
        {"variant": "black", "scale": 1.5, "w": 640},
        sign=False,
    )
    assert "sig=" not in url
    parts = urlsplit(url)
    response = Client().get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200 and response["X-Mockup-Cache"] == "hit"
    again = prerender_mockup(shop, template, asset, {"variant": "black", "scale": 1.5, "w": 640})
    assert again.name == name and again.cents == 0


def test_it_signs_anyway_when_the_shop_requires_it(shop: Shop, store: Any) -> None:
    asset = store()
    Shop.objects.filter(id=shop.id).update(require_signed_urls=True)
    shop.refresh_from_db()
    template = find_template(shop, "mug")
    url = mockup_url(RequestFactory().get("/"), shop, template, asset_url(asset), sign=False)
    assert "&sig=" in url
    parts = urlsplit(url)
    assert Client().get(f"{parts.path}?{parts.query}").status_code == 200


def test_it_rejects_what_a_url_would_reject(shop: Shop, store: Any, make_user: Any) -> None:
    from studio.models import Membership

    asset = store()
    template = find_template(shop, "tshirt")
    with pytest.raises(MockupError, match="variant must be one of"):
        prerender_mockup(shop, template, asset, {"variant": "plaid"})
    other = Membership.objects.get(user=make_user("other@example.com")).shop
    with pytest.raises(MockupError, match="not in this shop's library"):
        prerender_mockup(other, template, asset, {})

"""Suspending a shop: its API keys, studio pages, mockup URLs and buy pages refuse with a clear
message; its images leave the gallery; reinstating brings everything back. Audited."""

from __future__ import annotations

from html import unescape
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from generations.library import upload_asset
from mockups.models import Listing
from studio import apikeys, suspension
from studio.models import AuditEntry
from tests.mockups.conftest import asset_url, checkerboard, encode
from tests.pagekit import make_asset, make_listing

pytestmark = pytest.mark.django_db

REASON = "Chargebacks on every order this week."


def test_it_refuses_a_suspended_shops_pages_with_the_reason(owner_client, shop, support):
    assert owner_client.get(reverse("library")).status_code == 200
    suspension.suspend_shops([shop], by=support, reason=REASON)
    for name in ("dashboard", "library", "job_list", "usage", "mockup_editor", "members"):
        response = owner_client.get(reverse(name))
        assert response.status_code == 403, name
        text = unescape(response.content.decode())
        assert f"{shop.name} is suspended" in text and REASON in text
    assert owner_client.post(reverse("generate"), {"prompt": "x"}).status_code == 403
    # The account itself still works: the user may make another shop.
    assert owner_client.get(reverse("shop_create")).status_code == 200


def test_it_refuses_a_suspended_shops_api_keys(shop, support):
    minted = apikeys.create_api_key(shop, scopes=["ai:generate"])
    assert apikeys.authenticate(minted.raw) is not None  # now cached in this process
    suspension.suspend_shops([shop], by=support, reason=REASON)
    assert apikeys.authenticate(minted.raw) is None
    check = apikeys.check(minted.raw)
    assert (check.key, check.status, check.code) == (None, 403, "shop_suspended")
    assert REASON in check.message and "Contact support" in check.message
    # Every family answers 403 shop_suspended with the reason, in its own envelope.
    response = Client().get("/v0/images/library", HTTP_X_API_KEY=minted.raw)
    assert response.status_code == 403
    assert response.json()["code"] == "shop_suspended" and REASON in response.json()["error"]
    response = Client().post(
        "/ai/generate-image",
        {"prompt": "x"},
        content_type="application/json",
        HTTP_X_API_KEY=minted.raw,
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "shop_suspended"
    suspension.reinstate_shops([shop], by=support, reason="Paid back.")
    assert apikeys.check(minted.raw).key is not None
    unknown = apikeys.check("sk_live_" + "x" * 43)
    assert (unknown.key, unknown.status, unknown.code) == (None, 401, "unauthorized")


def test_it_refuses_a_suspended_shops_mockup_urls_and_buy_pages(owner_client, shop, user, support):
    design = upload_asset(shop, encode(checkerboard(96)), user=user)
    url = "/m/tshirt?" + urlencode({"asset": asset_url(design), "shop": shop.slug, "w": 256})
    assert Client().get(url).status_code == 200
    make_listing(owner_client, shop, design)
    token = Listing.objects.get().token
    assert Client().get(f"/buy/{token}/").status_code == 200

    suspension.suspend_shops([shop], by=support, reason=REASON)

    refused = Client().get(url)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "shop_suspended"
    assert REASON not in refused.content.decode()  # visitors get no staff notes
    page = Client().get(f"/buy/{token}/")
    assert page.status_code == 403 and "This shop is suspended" in page.content.decode()


def test_it_takes_a_suspended_shops_images_out_of_the_gallery(shop, user, support, make_user):
    make_asset(shop, user, prompt="suspended shop picture", is_public=True)
    other = make_user("other@example.com").memberships.get().shop
    kept = make_asset(other, None, prompt="another shop picture", is_public=True)
    suspension.suspend_shops([shop], by=support, reason=REASON)
    html = Client().get(reverse("gallery")).content.decode()
    assert "suspended shop picture" not in html and "another shop picture" in html
    assert Client().get(reverse("gallery_detail", args=[kept.id])).status_code == 200


def test_it_handles_reinstating_and_the_audit_rows(owner_client, shop, support):
    suspension.suspend_shops([shop], by=support, reason=REASON)
    again = suspension.suspend_shops([shop], by=support, reason="twice")
    assert again == []  # already suspended: nothing changes, nothing recorded
    suspension.reinstate_shops([shop], by=support, reason="Resolved with the owner.")
    assert owner_client.get(reverse("library")).status_code == 200
    rows = list(AuditEntry.objects.order_by("id").values("action", "reason", "before", "after"))
    assert [r["action"] for r in rows] == ["shop.suspend", "shop.reinstate"]
    assert rows[0]["before"] == {"suspended_at": None, "suspension_reason": ""}
    assert rows[0]["after"]["suspension_reason"] == REASON
    assert rows[1]["after"] == {"suspended_at": None, "suspension_reason": ""}


def test_it_rejects_a_suspension_without_a_reason(shop, support):
    with pytest.raises(suspension.SuspensionError):
        suspension.suspend_shops([shop], by=support, reason=" ")
    shop.refresh_from_db()
    assert shop.suspended_at is None

"""A hidden image leaves every public URL at once: its mockup URLs (rendered before or not, cached
or revalidated), buy pages that show it, and orders on them."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.test import Client

from generations import moderation
from mockups.models import Listing, Order
from tests.mockups.conftest import asset_url, checkerboard, encode
from tests.pagekit import make_listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def design(shop, user):
    from generations.library import upload_asset

    return upload_asset(shop, encode(checkerboard(96)), user=user, filename="design.png")


def mockup(shop, asset, **extra):
    return "/m/tshirt?" + urlencode(
        {"asset": asset_url(asset), "shop": shop.slug, "w": 256, **extra}
    )


def test_it_stops_rendering_a_hidden_images_mockup_url(shop, design, moderator):
    visitor = Client()
    url = mockup(shop, design)
    first = visitor.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "image/jpeg"
    assert visitor.get(url)["X-Mockup-Cache"] == "hit"  # rendered and cached in storage
    etag = first["ETag"]

    moderation.hide([design], by=moderator, reason="Counterfeit logo.")

    gone = visitor.get(url)  # within the lookup cache's second: the hide clears it
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "asset_hidden"
    assert "Staff removed this image from public view" in gone.json()["error"]["message"]
    assert gone["Cache-Control"] == "no-store"
    # A client revalidating its copy does not get a 304 for it either.
    assert visitor.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 410
    # Other parameters (never rendered before) refuse too.
    assert visitor.get(mockup(shop, design, variant="white")).status_code == 410


def test_it_renders_again_after_staff_restore_the_image(shop, design, moderator):
    url = mockup(shop, design)
    moderation.hide([design], by=moderator, reason="Reported as stolen art.")
    assert Client().get(url).status_code == 410
    moderation.approve([design], by=moderator, reason="The shop showed the licence.")
    assert Client().get(url).status_code == 200


def test_it_closes_buy_pages_that_show_a_hidden_image(owner_client, shop, design, moderator):
    make_listing(owner_client, shop, design)
    listing = Listing.objects.get()
    page = Client().get(f"/buy/{listing.token}/")
    assert page.status_code == 200
    src = re.search(r'<img[^>]+src="([^"]+/m/tshirt[^"]+)"', page.content.decode()).group(1)
    src = src.replace("&amp;", "&").removeprefix("http://testserver")
    assert Client().get(src).status_code == 200

    moderation.hide([design], by=moderator, reason="Copyright claim.")

    closed = Client().get(f"/buy/{listing.token}/")
    html = closed.content.decode()
    assert closed.status_code == 410
    assert "staff removed its image from public view" in html
    assert "/m/tshirt" not in html and design.file.url not in html
    assert Client().get(src).status_code == 410  # the signed mockup it showed
    order = Client().post(
        f"/buy/{listing.token}/",
        {"name": "A", "email": "a@example.com", "variant": "black", "size": "M", "quantity": 1},
    )
    assert order.status_code == 410 and not Order.objects.exists()


def test_it_rejects_a_new_listing_of_a_hidden_image(owner_client, shop, design, moderator):
    moderation.hide([design], by=moderator, reason="Counterfeit logo.")
    response = make_listing(owner_client, shop, design)
    assert not Listing.objects.exists()
    assert "cannot be sold on a buy page" in response.content.decode()

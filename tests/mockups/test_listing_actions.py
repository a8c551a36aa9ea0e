"""set_listing_active / delete_listing, and the listing pages that call them."""

from __future__ import annotations

import pytest

from mockups import actions
from mockups.models import Listing, Order
from mockups.products import find_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(shop, store):
    return actions.create_listing(
        shop,
        template=find_template(shop, "tshirt"),
        asset=store(),
        variant="black",
        placement={},
        title="Mountain tee",
        price_cents=2400,
        sizes=["M"],
    )


def _order(listing: Listing) -> Order:
    return actions.place_order(
        listing, name="Ada", email="ada@example.com", variant="", size="M", quantity=1
    )


def test_it_closes_and_reopens_a_listing(listing):
    actions.set_listing_active(listing, False)
    listing.refresh_from_db()
    assert listing.is_active is False
    assert actions.listing_unavailable(listing).code == "listing_closed"
    actions.set_listing_active(listing, True)
    listing.refresh_from_db()
    assert listing.is_active is True and actions.listing_unavailable(listing) is None


def test_it_deletes_a_listing_without_orders(listing):
    actions.delete_listing(listing)
    assert not Listing.objects.filter(pk=listing.pk).exists()


def test_it_refuses_to_delete_a_listing_with_orders(listing):
    _order(listing)
    with pytest.raises(actions.ListingHasOrders, match="close it instead") as caught:
        actions.delete_listing(listing)
    assert caught.value.status == 409
    assert Listing.objects.filter(pk=listing.pk).exists()
    assert Order.objects.filter(listing=listing).count() == 1


def test_the_delete_page_says_why_a_listing_with_orders_stays(owner_client, listing):
    _order(listing)
    r = owner_client.post(f"/mockups/listings/{listing.id}/delete/", follow=True)
    assert "has orders" in r.content.decode()
    assert Listing.objects.filter(pk=listing.pk).exists()
    r = owner_client.post(f"/mockups/listings/{listing.id}/toggle/")
    assert r.status_code == 302
    listing.refresh_from_db()
    assert listing.is_active is False


def test_the_delete_page_deletes_a_listing(owner_client, listing):
    r = owner_client.post(f"/mockups/listings/{listing.id}/delete/", follow=True)
    assert "its buy link is gone" in r.content.decode()
    assert not Listing.objects.filter(pk=listing.pk).exists()

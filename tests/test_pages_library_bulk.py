"""Library bulk actions: delete, publish and unpublish the ticked items; roles and shops respected."""

from __future__ import annotations

import pytest
from django.urls import reverse

from generations.models import Asset
from studio.models import Role
from tests.pagekit import make_asset, make_listing, media_files

pytestmark = pytest.mark.django_db


def bulk(client, action, assets, **extra):
    data = {"action": action, "ids": [str(a.id) for a in assets], **extra}
    return client.post(reverse("library_bulk"), data, follow=True)


def test_an_owner_deletes_the_ticked_items_and_their_files(owner_client, shop, user):
    keep = make_asset(shop, user, prompt="keep me")
    gone = [make_asset(shop, user, prompt=f"delete me {i}") for i in range(3)]
    files_before = len(media_files())
    response = bulk(owner_client, "delete", gone)
    assert response.status_code == 200 and "Deleted 3 items." in response.content.decode()
    assert list(Asset.objects.filter(shop=shop)) == [keep]
    assert len(media_files()) == files_before - 6  # original + thumbnail each


def test_publish_and_unpublish(owner_client, shop, user):
    assets = [make_asset(shop, user, prompt=f"p {i}") for i in range(2)]
    assert (
        "2 items now in the public gallery."
        in bulk(owner_client, "public", assets).content.decode()
    )
    assert Asset.objects.filter(shop=shop, is_public=True).count() == 2
    bulk(owner_client, "private", assets[:1])
    assert list(Asset.objects.filter(shop=shop, is_public=True)) == assets[1:]


def test_a_designer_changes_only_own_items(shop, user, add_member, client_for):
    designer = add_member(shop, Role.DESIGNER, email="d@example.com")
    theirs = make_asset(shop, designer, prompt="designer's")
    owners = make_asset(shop, user, prompt="owner's")
    html = bulk(client_for(designer, shop), "delete", [theirs, owners]).content.decode()
    assert "Deleted 1 item. 1 made by others was left alone." in html
    assert list(Asset.objects.filter(shop=shop)) == [owners]


@pytest.fixture
def other_shop_asset(make_user):
    other_user = make_user("b-owner@example.com")
    return make_asset(other_user.memberships.get().shop, other_user, prompt="b's asset")


def test_viewers_cannot_and_another_shops_ids_are_ignored(
    shop, user, add_member, client_for, other_shop_asset
):
    viewer = add_member(shop, Role.VIEWER, email="v@example.com")
    mine = make_asset(shop, user)
    assert bulk(client_for(viewer, shop), "delete", [mine]).status_code == 403
    owner = client_for(user, shop)
    html = bulk(owner, "delete", [other_shop_asset]).content.decode()
    assert "None of the selected items can be changed by you." in html
    assert Asset.objects.filter(id=other_shop_asset.id).exists()
    assert Asset.objects.filter(id=mine.id).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "delete"}, "Select at least one item first."),
        ({"action": "explode", "ids": ["x"]}, "Choose what to do with the selected items."),
        ({"action": "delete", "ids": ["not-a-uuid"]}, "Select at least one item first."),
    ],
)
def test_bad_requests_say_why_and_change_nothing(owner_client, shop, user, data, message):
    asset = make_asset(shop, user)
    response = owner_client.post(reverse("library_bulk"), data, follow=True)
    assert response.status_code == 200 and message in response.content.decode()
    assert Asset.objects.filter(id=asset.id).exists()


def test_an_image_a_listing_sells_is_not_deleted_singly_or_in_bulk(owner_client, shop, user):
    sold = make_asset(shop, user, prompt="on a tee")
    other = make_asset(shop, user, prompt="free")
    created = make_listing(owner_client, shop, sold)
    assert created.status_code == 302
    files_before = len(media_files())
    html = bulk(owner_client, "delete", [sold, other]).content.decode()
    assert "Nothing was deleted. A listing uses some of these images (Mountain tee)" in html
    assert Asset.objects.filter(id__in=[sold.id, other.id]).count() == 2
    single = owner_client.post(reverse("asset_delete", args=[sold.id]), follow=True)
    assert single.status_code == 200
    assert "A listing uses this image (Mountain tee)" in single.content.decode()
    assert Asset.objects.filter(id=sold.id).exists() and len(media_files()) == files_before


def test_the_library_page_offers_checkboxes_to_those_who_manage(shop, user, add_member, client_for):
    make_asset(shop, user)
    viewer = add_member(shop, Role.VIEWER, email="v@example.com")
    assert 'form="bulk"' in client_for(user, shop).get(reverse("library")).content.decode()
    assert 'form="bulk"' not in client_for(viewer, shop).get(reverse("library")).content.decode()


def test_deleting_a_listing_frees_its_image_unless_it_has_orders(owner_client, shop, user):
    from mockups.models import Listing, Order

    sold = make_asset(shop, user, prompt="on a tee")
    for title in ("Tee one", "Tee two"):
        owner_client.post(
            "/mockups/listings/",
            {
                "template": "tshirt",
                "asset": str(sold.id),
                "variant": "black",
                "title": title,
                "price": "20",
                "sizes": "M",
            },
        )
    one, two = Listing.objects.filter(shop=shop).order_by("title")
    Order.objects.create(
        shop=shop, listing=two, name="B", email="b@example.com", unit_price_cents=2000
    )
    html = owner_client.post(f"/mockups/listings/{two.id}/delete/", follow=True).content.decode()
    assert "“Tee two” has orders" in html and Listing.objects.filter(id=two.id).exists()
    html = owner_client.post(f"/mockups/listings/{one.id}/delete/", follow=True).content.decode()
    assert (
        "Deleted the listing “Tee one”" in html and not Listing.objects.filter(id=one.id).exists()
    )
    assert owner_client.get(f"/buy/{one.token}/").status_code == 404
    # Still sold by "Tee two", which has orders: the image stays.
    owner_client.post(reverse("asset_delete", args=[sold.id]))
    assert Asset.objects.filter(id=sold.id).exists()
    # An unknown (or another shop's) listing id is a 404.
    assert (
        owner_client.post(
            "/mockups/listings/00000000-0000-0000-0000-000000000000/delete/"
        ).status_code
        == 404
    )

"""GET /v0/images/library at any size: the unfiltered total comes from the shop's maintained
counter, filtered totals stop counting past the page, and a cursor pages by keyset."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from generations.api import v0
from generations.library import delete_asset, library_total, store_asset, upload_asset
from generations.models import Asset, LibraryCount
from studio.actions import create_shop
from studio.models import Shop
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db


def _generated(shop: Shop, n: int, prompt: str = "a lake") -> list[Asset]:
    png = png_bytes(4, 4)
    made = [store_asset(shop, png, kind=Asset.Kind.GENERATED, prompt=prompt) for _ in range(n)]
    # Three at the same instant: the id breaks the tie in every order.
    Asset.objects.filter(pk__in=[a.pk for a in made[:3]]).update(created_at=timezone.now())
    return made


def _counted(shop: Shop) -> int:
    return LibraryCount.objects.get(shop=shop).generated


def test_it_keeps_the_shops_count_of_generated_assets(shop: Shop) -> None:
    assert _counted(shop) == 0  # made with the shop
    made = _generated(shop, 3)
    upload_asset(shop, png_bytes(4, 4), user=None)  # uploads are not in the API library
    assert _counted(shop) == 3
    delete_asset(made[0])
    Asset.objects.filter(pk=made[1].pk).delete()  # any delete path
    assert _counted(shop) == 1 == Asset.objects.filter(shop=shop, kind="generated").count()


def test_it_recounts_a_missing_counter(shop: Shop) -> None:
    _generated(shop, 2)
    LibraryCount.objects.filter(shop=shop).delete()
    assert library_total(shop.pk) == 2
    assert _counted(shop) == 2


def test_it_deletes_a_shop_with_its_assets_and_counter() -> None:
    doomed = create_shop("Doomed")
    _generated(doomed, 2)
    doomed.delete()
    assert not LibraryCount.objects.filter(shop_id=doomed.pk).exists()


def test_it_walks_every_image_once_by_cursor(api: Any, shop: Shop) -> None:
    _generated(shop, 7)
    _generated(create_shop("Other"), 2)  # never listed
    expected = [
        str(pk)
        for pk in Asset.objects.filter(shop=shop)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    ]
    seen, params, pages = [], {"limit": "3"}, []
    while True:
        body = api.get("/v0/images/library", data=params).json()["data"]
        seen += [image["id"] for image in body["images"]]
        pages.append((body["page"], body["total"]))
        if "nextCursor" not in body:
            break
        params = {"limit": "3", "cursor": body["nextCursor"]}
    assert seen == expected
    assert pages == [(1, 7), (2, 7), (3, 7)]
    # The same pages by number.
    by_number = [
        image["id"]
        for page in (1, 2, 3)
        for image in api.get(f"/v0/images/library?limit=3&page={page}").json()["data"]["images"]
    ]
    assert by_number == expected


def test_it_pages_a_filtered_listing_by_cursor(api: Any, shop: Shop) -> None:
    _generated(shop, 4, prompt="a mountain lake")
    _generated(shop, 3, prompt="a desert")
    first = api.get("/v0/images/library?search=mountain&limit=3").json()["data"]
    assert first["total"] == 4 and "totalIsLowerBound" not in first
    second = api.get(f"/v0/images/library?search=mountain&limit=3&cursor={first['nextCursor']}")
    body = second.json()["data"]
    assert (len(body["images"]), body["page"], body["total"]) == (1, 2, 4)
    assert "nextCursor" not in body


def test_it_says_when_a_filtered_total_is_a_lower_bound(
    api: Any, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(v0, "COUNT_WINDOW", 2)
    _generated(shop, 8, prompt="a mountain lake")
    body = api.get("/v0/images/library?search=mountain&limit=3").json()["data"]
    assert (body["total"], body["totalIsLowerBound"]) == (5, True)  # 3 on the page + 2 counted
    deep = api.get("/v0/images/library?search=mountain&limit=3&page=3").json()["data"]
    assert (deep["total"], len(deep["images"])) == (8, 2)  # the end is within the window
    assert "totalIsLowerBound" not in deep
    # The unfiltered total is always exact (the counter).
    plain = api.get("/v0/images/library?limit=3").json()["data"]
    assert plain["total"] == 8 and "totalIsLowerBound" not in plain


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "e30",  # {}
        "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwiYWJjIiwyXQ",  # naive time, bad id
        "WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwiMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAiLCIyIl0",
    ],
)
def test_it_rejects_a_cursor_it_did_not_make(api: Any, shop: Shop, cursor: str) -> None:
    response = api.get("/v0/images/library", data={"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]


def test_it_orders_ties_and_old_images_by_keyset(api: Any, shop: Shop) -> None:
    made = _generated(shop, 5)
    Asset.objects.filter(pk=made[4].pk).update(created_at=timezone.now() - timedelta(days=9))
    first = api.get("/v0/images/library?limit=2").json()["data"]
    rest = api.get(f"/v0/images/library?limit=10&cursor={first['nextCursor']}").json()["data"]
    ids = [i["id"] for i in first["images"] + rest["images"]]
    assert ids[-1] == str(made[4].pk) and len(set(ids)) == 5


@pytest.mark.parametrize("limit", [1, 2, 3, 4])
def test_it_reads_deep_page_numbers_from_the_nearer_end(
    api: Any, shop: Shop, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    monkeypatch.setattr(v0, "DEEP_OFFSET", 0)  # every page past the first finds its anchor
    _generated(shop, 7)
    expected = [
        str(pk)
        for pk in Asset.objects.filter(shop=shop)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    ]
    for page in range(1, 10):
        body = api.get(f"/v0/images/library?limit={limit}&page={page}").json()["data"]
        offset = (page - 1) * limit
        assert [i["id"] for i in body["images"]] == expected[offset : offset + limit], page
        assert body["total"] == 7
        assert ("nextCursor" in body) == (offset + limit < 7)

"""Shop isolation: a member of shop A gets 404 on every asset, job and preset URL of shop B."""

from __future__ import annotations

import pytest
from django.urls import reverse

from generations.models import Asset, Job, Preset
from studio.models import LedgerEntry
from tests.pagekit import make_asset, make_job, make_preset

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_shop_objects(make_user):
    """Shop B's asset, job and preset; the test client is a member (owner) of shop A only."""
    other_user = make_user("b-owner@example.com")
    shop_b = other_user.memberships.get().shop
    return {
        "asset": make_asset(shop_b, other_user, prompt="b's asset"),
        "job": make_job(shop_b, other_user),
        "preset": make_preset(shop_b),
    }


ROUTES = [
    ("GET", "asset_detail", "asset", {}),
    ("GET", "asset_download", "asset", {}),
    ("POST", "asset_delete", "asset", {}),
    ("POST", "asset_public", "asset", {"is_public": "1"}),
    ("GET", "job_detail", "job", {}),
    ("POST", "job_cancel", "job", {}),
    ("GET", "preset_edit", "preset", {}),
    ("POST", "preset_edit", "preset", {"name": "hijack", "template": "x", "aspect_ratio": "1:1"}),
    ("POST", "preset_delete", "preset", {}),
]


@pytest.mark.parametrize(("method", "name", "obj", "data"), ROUTES)
@pytest.mark.parametrize("htmx", [False, True])
def test_it_rejects_another_shops_objects(
    owner_client, other_shop_objects, method, name, obj, data, htmx
):
    target = other_shop_objects[obj]
    url = reverse(name, args=[target.id])
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    if method == "GET":
        response = owner_client.get(url, **headers)
    else:
        response = owner_client.post(url, data, **headers)
    assert response.status_code == 404
    # Nothing changed in shop B.
    asset, job, preset = (other_shop_objects[k] for k in ("asset", "job", "preset"))
    assert Asset.objects.filter(id=asset.id, is_public=False).exists()
    assert Job.objects.get(id=job.id).status == Job.Status.QUEUED
    assert Preset.objects.filter(id=preset.id, name="Sticker").exists()
    assert not LedgerEntry.objects.filter(kind="refund").exists()


def test_it_rejects_another_shops_objects_in_lists_and_remix(owner_client, other_shop_objects):
    asset = other_shop_objects["asset"]
    for name in ("library", "job_list", "preset_list", "usage"):
        html = owner_client.get(reverse(name)).content.decode()
        assert str(asset.id) not in html and "b&#x27;s asset" not in html
        assert str(other_shop_objects["job"].id) not in html
        assert str(other_shop_objects["preset"].id) not in html
    assert owner_client.get(reverse("dashboard"), {"remix": str(asset.id)}).status_code == 404
    assert (
        owner_client.get(
            reverse("library"), {"preset": str(other_shop_objects["preset"].id)}
        ).status_code
        == 200
    )


def test_it_rejects_another_shops_member_rows(owner_client, make_user):
    other_user = make_user("b-owner@example.com")
    membership = other_user.memberships.get()
    response = owner_client.post(
        reverse("member_update", args=[membership.id]), {"action": "remove"}
    )
    assert response.status_code == 404
    membership.refresh_from_db()
    response = owner_client.post(reverse("shop_switch"), {"shop": membership.shop_id})
    assert response.status_code == 404

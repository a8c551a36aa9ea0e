"""The Product photos page: the form (pick or upload, preset or description), HTMX and plain
posts, errors in place, the polled job card with its mockup link, presets kept per shop, roles."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generations.actions import execute_job
from generations.library import upload_asset
from generations.models import Asset, Job
from generations.scenes.models import ScenePreset
from studio.models import Role, Shop
from tests.api.test_seed_004 import product_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(shop: Shop) -> Asset:
    return upload_asset(shop, product_photo(), user=None, filename="bottle.png")


def test_it_shows_the_form_presets_and_library_products(owner_client: Any, product: Asset) -> None:
    page = owner_client.get("/product-photos/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Product photos" in html and f'value="{product.id}"' in html
    assert "Marble in window light" in html  # a built-in preset
    assert "Scene compositor (offline) · 1¢/image" in html
    assert 'href="/product-photos/" aria-current="page"' in html


def test_it_handles_an_htmx_submit_and_the_polled_card(
    owner_client: Any, shop: Shop, product: Asset
) -> None:
    response = owner_client.post(
        "/product-photos/",
        {
            "asset": str(product.id),
            "prompt": "on a walnut table, dramatic light",
            "model": "builtin:scene",
            "num_images": "2",
            "aspect_ratio": "4:3",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    job = Job.objects.get()
    assert job.kind == "scene" and job.input_asset_id == product.id and job.source == "web"
    card = response.content.decode()
    assert f'id="scene-job-{job.id}"' in card and 'hx-trigger="every 1s"' in card
    execute_job(str(job.id))
    polled = owner_client.get(f"/product-photos/jobs/{job.id}/", headers={"HX-Request": "true"})
    html = polled.content.decode()
    assert 'data-status="completed"' in html and "hx-trigger" not in html
    outputs = list(Asset.objects.filter(job=job))
    assert len(outputs) == 2
    for asset in outputs:
        assert f"/mockups/?asset={asset.id}" in html
        assert asset.parent_id == product.id
    assert "Set: wood (walnut) · dramatic light" in html


def test_it_uploads_a_product_and_uses_a_preset_without_javascript(
    owner_client: Any, shop: Shop
) -> None:
    upload = SimpleUploadedFile("bottle.png", product_photo(), content_type="image/png")
    response = owner_client.post(
        "/product-photos/",
        {"upload": upload, "preset": "linen-leaves", "model": "builtin:scene", "num_images": "1"},
    )
    assert response.status_code == 302 and response["Location"] == "/product-photos/"
    job = Job.objects.get()
    assert job.input_asset.kind == Asset.Kind.UPLOAD
    assert job.params["preset_id"] == "linen-leaves" and job.params["aspect_ratio"] == "4:3"
    assert "linen" in job.params["scene"] and "leaf shadows" in job.params["scene"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"prompt": "on oak"}, "Pick a product from the library or upload a photo."),
        ({"asset": "PRODUCT"}, "Describe the scene or choose a preset."),
        ({"asset": "PRODUCT", "prompt": "on oak", "num_images": "9"}, "less than or equal to 4"),
    ],
)
def test_it_rejects_an_incomplete_form_in_place(
    owner_client: Any, product: Asset, data: dict[str, str], message: str
) -> None:
    data = {"model": "builtin:scene", "num_images": "1", **data}
    if data.get("asset") == "PRODUCT":
        data["asset"] = str(product.id)
    response = owner_client.post("/product-photos/", data, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#scene-form"
    assert message in response.content.decode()
    assert not Job.objects.exists()


def test_it_rejects_another_shops_product_and_job(
    owner_client: Any, make_user: Any, product: Asset
) -> None:
    from generations.scenes.actions import SceneRequest, submit_scene
    from studio.models import Membership

    other = Membership.objects.get(user=make_user("other@example.com")).shop
    theirs = upload_asset(other, product_photo(), user=None)
    response = owner_client.post(
        "/product-photos/",
        {"asset": str(theirs.id), "prompt": "on oak", "model": "builtin:scene", "num_images": "1"},
    )
    assert response.status_code == 422 and not Job.objects.exists()
    job = submit_scene(other, SceneRequest(asset=theirs, prompt="on oak"))
    assert owner_client.get(f"/product-photos/jobs/{job.id}/").status_code == 404


def test_presets_are_kept_per_shop_and_offered_in_the_form(
    owner_client: Any, shop: Shop, make_user: Any, client_for: Any
) -> None:
    response = owner_client.post(
        "/product-photos/presets/",
        {"name": "Spring", "prompt": "pastel pink paper sweep, spheres", "surface": "paper",
         "light": "bright", "aspect_ratio": "3:4"},
    )  # fmt: skip
    assert response.status_code == 302
    preset = ScenePreset.objects.get(shop=shop)
    assert (preset.surface, preset.light, preset.aspect_ratio) == ("paper", "bright", "3:4")
    html = owner_client.get("/product-photos/").content.decode()
    assert f'value="{preset.id}"' in html and "Spring (yours)" in html
    # The same name again is refused; another shop cannot delete it.
    owner_client.post(
        "/product-photos/presets/", {"name": "Spring", "prompt": "x", "aspect_ratio": "1:1"}
    )
    assert ScenePreset.objects.filter(shop=shop).count() == 1
    from studio.models import Membership

    stranger = make_user("stranger@example.com")
    other_client = client_for(stranger, Membership.objects.get(user=stranger).shop)
    assert other_client.post(f"/product-photos/presets/{preset.id}/delete/").status_code == 404
    assert owner_client.post(f"/product-photos/presets/{preset.id}/delete/").status_code == 302
    assert not ScenePreset.objects.exists()


def test_a_viewer_can_look_but_not_generate(
    client_for: Any, shop: Shop, add_member: Any, product: Asset
) -> None:
    viewer = client_for(add_member(shop, Role.VIEWER), shop)
    page = viewer.get("/product-photos/").content.decode()
    assert "can browse but not generate" in page and "Photograph it" not in page
    viewer.post(
        "/product-photos/",
        {"asset": str(product.id), "prompt": "on oak", "model": "builtin:scene", "num_images": "1"},
    )
    assert not Job.objects.exists()
    assert viewer.post("/product-photos/presets/", {"name": "x", "prompt": "y"}).status_code == 403

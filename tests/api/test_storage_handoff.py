"""The seed's hand-off: an image URL any API family returns goes straight into a mockup URL.

With STORAGE_PUBLIC_ORIGIN set (the documented production setting, with or without `{shop}`)
the URL the API hands out must be one the mockup door recognises as the shop's own library file
(read from storage, no HTTP), not "not a library file" or "untrusted origin".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client

from generations import actions
from generations.library import upload_asset
from generations.models import Asset
from generations.scenes.documents import parse_public_id
from studio.models import Shop
from tests.api.test_seed_001 import image_file
from tests.api.test_seed_004 import product_photo


def _ai_generations(api: Any, shop: Shop) -> str:
    body = api.post("/ai-generations/generate", {"prompt": "a kite", "numberResults": 1})
    assert body.status_code == 200, body.content
    return body.json()["imageUrl"]


def _v0_images(api: Any, shop: Shop) -> str:
    body = api.post("/v0/images/generations", {"prompt": "a mountain lake", "sampleCount": 1})
    assert body.status_code == 200, body.content
    return body.json()["data"]["data"][0]["url"]


def _ai(api: Any, shop: Shop) -> str:
    body = api.post("/ai/generate-image", {"prompt": "a cat"})
    assert body.status_code == 201, body.content
    return body.json()["data"]["url"]


def _v1_images(api: Any, shop: Shop) -> str:
    body = api.post("/v1/images/restore", {"input_image": image_file()}, multipart=True)
    assert body.status_code == 200, body.content
    return body.json()["output_image_url"]


def _v1_generate(api: Any, shop: Shop) -> str:
    product = upload_asset(shop, product_photo(), user=None, filename="bottle.png")
    body = {"model": "builtin:scene", "asset_id": str(product.id), "prompt": "on oak"}
    response = api.post("/v1/generate", {**body, "num_images": 1})
    assert response.status_code == 202, response.content
    job_id = response.json()["job_id"]
    actions.execute_job(str(parse_public_id(job_id)))
    polled = api.get(f"/v1/jobs/{job_id}").json()
    assert polled["status"] == "completed", polled
    return polled["images"][0]["url"]


FAMILIES: dict[str, Callable[[Any, Shop], str]] = {
    "000 /ai-generations": _ai_generations,
    "002 /v0/images": _v0_images,
    "003 /ai": _ai,
    "001 /v1/images": _v1_images,
    "004 /v1/generate": _v1_generate,
}
ORIGINS = [
    "",  # unset: the request's own origin + MEDIA_URL
    "https://{shop}.storage.example.com",
    "https://files.example.com",
    "https://cdn.example.com/media",
]


@pytest.mark.parametrize("origin", ORIGINS)
@pytest.mark.parametrize("family", list(FAMILIES))
def test_it_renders_a_mockup_of_each_familys_image_url(
    api: Any, shop: Shop, settings: Any, family: str, origin: str
) -> None:
    """GIVEN STORAGE_PUBLIC_ORIGIN=<origin> and local storage WHEN a family's returned image URL
    is the asset of a mockup URL THEN the mockup renders from the shop's own file."""
    settings.STORAGE_PUBLIC_ORIGIN = origin
    shop.require_signed_urls = False
    shop.save(update_fields=["require_signed_urls"])
    url = FAMILIES[family](api, shop)
    if origin:
        public = origin.replace("{shop}", shop.slug)
        assert url.startswith(public + "/shops/"), url
    named = urlsplit(url).path.rsplit("/shops/", 1)[1]
    asset = Asset.objects.get(file=f"shops/{named}")
    response = Client().get("/m/mug?" + urlencode({"asset": url, "shop": shop.slug, "w": 256}))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("image/")
    assert asset.shop_id == shop.pk


@pytest.mark.parametrize(
    "origin", ["https://{shop}.storage.example.com", "https://files.example.com"]
)
def test_it_still_resolves_the_urls_handed_out_before_the_fix(
    api: Any, shop: Shop, settings: Any, origin: str
) -> None:
    """GIVEN a URL of the old shape (public origin + MEDIA_URL + name), shared before the API read
    STORAGE_PUBLIC_ORIGIN as a base URL, THEN the API and the mockup door still know it."""
    from django.test import RequestFactory

    from generations.storage_urls import named_asset

    settings.STORAGE_PUBLIC_ORIGIN = origin
    shop.require_signed_urls = False
    shop.save(update_fields=["require_signed_urls"])
    asset = upload_asset(shop, product_photo(), user=None, filename="bottle.png")
    old = f"{origin.replace('{shop}', shop.slug)}/media/{asset.file.name}"
    assert named_asset(shop, old, RequestFactory().get("/")) == asset
    response = Client().get("/m/mug?" + urlencode({"asset": old, "shop": shop.slug, "w": 256}))
    assert response.status_code == 200, response.content


def test_it_names_only_this_shops_originals(api: Any, shop: Shop, settings: Any) -> None:
    """A thumbnail URL stands for its asset as an API input but is no mockup design; another
    shop's file under this shop's base is not this shop's asset."""
    from django.test import RequestFactory

    from generations.storage_urls import FileUrls, asset_of, named_asset, named_file
    from studio.actions import create_shop

    settings.STORAGE_PUBLIC_ORIGIN = "https://files.example.com"
    request = RequestFactory().get("/")
    asset = upload_asset(shop, product_photo(), user=None, filename="bottle.png")
    urls = FileUrls(shop, request)
    assert asset.thumbnail.name
    assert named_asset(shop, urls(asset.thumbnail.name), request) == asset
    thumb = named_file(shop, urls(asset.thumbnail.name), request)
    assert thumb is not None and asset_of(shop, thumb) is None
    theirs = upload_asset(create_shop("Other"), product_photo(), user=None, filename="x.png")
    assert named_asset(shop, urls(theirs.file.name), request) is None
    assert named_file(shop, "https://elsewhere.example/" + asset.file.name, request) is None

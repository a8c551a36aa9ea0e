"""Seed 000 (/ai-generations/...): every example request of the document, replayed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from generations.models import Asset, Job
from studio.actions import create_shop
from studio.models import Shop

pytestmark = pytest.mark.django_db


def test_it_answers_the_documented_generate_example(api: Any, shop: Shop) -> None:
    # The seed's first curl: prompt + numberResults 4.
    response = api.post(
        "/ai-generations/generate",
        {"prompt": "a minimalist line drawing of a mountain, black on white", "numberResults": 4},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= {
        "images",
        "imageUrl",
        "width",
        "height",
        "generationId",
        "persistence",
        "costCents",
    }
    assert len(body["images"]) == 4
    for image in body["images"]:
        assert set(image) == {"id", "imageUrl", "width", "height"}
        assert isinstance(image["id"], str)
        assert image["imageUrl"].startswith("http://testserver/media/shops/" + shop.slug + "/")
        assert (image["width"], image["height"]) == (1024, 1024)
    assert body["imageUrl"] == body["images"][0]["imageUrl"]
    assert (body["width"], body["height"]) == (1024, 1024)
    assert body["persistence"] == "ok"
    assert isinstance(body["costCents"], int)
    assert body["costCents"] == 4  # 1¢ per image by default
    assert body["model"] == "builtin:procedural"
    job = Job.objects.get(id=body["generationId"])
    assert job.shop == shop and job.source == "api:ai-generations"
    # The URL serves the image.
    path = urlsplit(body["imageUrl"]).path
    assert path.startswith("/media/")


def test_it_defaults_to_four_results_of_1024(api: Any) -> None:
    body = api.post("/ai-generations/generate", {"prompt": "a fox"}).json()
    assert len(body["images"]) == 4
    assert (body["width"], body["height"]) == (1024, 1024)


def test_it_honours_width_height_and_number_results(api: Any) -> None:
    body = api.post(
        "/ai-generations/generate",
        {"prompt": "a fox", "numberResults": 1, "width": 512, "height": 256},
    ).json()
    assert len(body["images"]) == 1
    assert (body["width"], body["height"]) == (512, 256)


def test_reference_images_give_one_image(api: Any, shop: Shop, image_bytes: Any) -> None:
    # The seed's second curl, with a reference on the shop's own storage origin. google:4@2 is
    # not servable here, so the documented model name gets a 400 listing what is.
    upload = api.post(
        "/uploads", {"file": _file(image_bytes())}, multipart=True, content_type=None
    ).json()
    response = api.post(
        "/ai-generations/generate",
        {
            "prompt": "put this logo on a vintage enamel pin, studio lighting",
            "referenceImageUrls": [upload["imageUrl"]],
            "model": "google:4@2",
        },
    )
    assert response.status_code == 400
    assert "builtin:procedural" in response.json()["error"]
    # Without the model name the shop default serves it: one reference-guided image.
    response = api.post(
        "/ai-generations/generate",
        {
            "prompt": "put this logo on a vintage enamel pin, studio lighting",
            "referenceImageUrls": [upload["imageUrl"]],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["images"]) == 1
    job = Job.objects.get(id=body["generationId"])
    assert job.params["reference_asset_ids"] == [upload["id"]]


def test_get_generation_by_id(api: Any) -> None:
    created = api.post("/ai-generations/generate", {"prompt": "a fox", "numberResults": 2}).json()
    response = api.get(f"/ai-generations/{created['generationId']}")
    assert response.status_code == 200
    body = response.json()
    assert body["generationId"] == created["generationId"]
    assert [i["id"] for i in body["images"]] == [i["id"] for i in created["images"]]
    assert body["status"] == "completed"
    # The poll is the sync answer again, with its status.
    assert body == {**created, "status": "completed"}


def test_a_generation_poll_runs_precompiled_reads(
    api: Any, django_assert_max_num_queries: Any
) -> None:
    created = api.post("/ai-generations/generate", {"prompt": "a fox", "numberResults": 2}).json()
    api.get(f"/ai-generations/{created['generationId']}")  # the key is cached
    # The rate-limit counter (the database here), the job with its refunds, its outputs.
    with django_assert_max_num_queries(3):
        response = api.get(f"/ai-generations/{created['generationId']}")
    assert response.status_code == 200 and len(response.json()["images"]) == 2


def test_another_shops_generation_is_404(api: Any, api_for: Any) -> None:
    created = api.post("/ai-generations/generate", {"prompt": "a fox", "numberResults": 1}).json()
    other = api_for(create_shop("Other"))
    assert other.get(f"/ai-generations/{created['generationId']}").status_code == 404
    assert other.get("/ai-generations/not-a-uuid").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"prompt": ""},
        {"prompt": 5},
        {"prompt": "x", "numberResults": 0},
        {"prompt": "x", "numberResults": 99},
        {"prompt": "x", "width": 10},
        {"prompt": "x", "model": "nope"},
        {"prompt": "x", "referenceImageUrls": "http://x"},
    ],
)
def test_it_rejects_invalid_bodies_with_400(api: Any, body: dict) -> None:
    response = api.post("/ai-generations/generate", body)
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)
    assert Job.objects.count() == 0


def test_no_key_is_rejected_before_any_work(client: Any) -> None:
    response = client.post(
        "/ai-generations/generate", {"prompt": "x"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert "error" in response.json()
    assert Job.objects.count() == 0


def test_wrong_scope_is_403(shop: Shop, api_for: Any) -> None:
    response = api_for(shop, ["uploads:write"]).post("/ai-generations/generate", {"prompt": "x"})
    assert response.status_code == 403
    assert "ai:generate" in response.json()["error"]


def test_no_balance_is_429_resource_exhausted(api: Any, shop: Shop) -> None:
    Shop.objects.filter(pk=shop.pk).update(plan_budget_cents=0, wallet_cents=0)
    response = api.post("/ai-generations/generate", {"prompt": "x"})
    assert response.status_code == 429
    assert response.json()["error"] == "API credits exhausted and no wallet balance"
    assert Job.objects.count() == 0


def test_bearer_and_api_key_headers_work(shop: Shop, api_for: Any) -> None:
    for header in ("bearer", "api-key", "x-api-key"):
        client = api_for(shop, ["ai:generate"], header=header)
        response = client.post("/ai-generations/generate", {"prompt": "x", "numberResults": 1})
        assert response.status_code == 200, header


def test_image_urls_are_on_the_configured_storage_origin(
    api: Any, shop: Shop, settings: Any
) -> None:
    settings.STORAGE_PUBLIC_ORIGIN = "https://{shop}.storage.example.com"
    body = api.post("/ai-generations/generate", {"prompt": "x", "numberResults": 1}).json()
    assert body["imageUrl"].startswith(f"https://{shop.slug}.storage.example.com/shops/")
    # ... and such a URL resolves back to the shop's own asset without a fetch.
    asset = Asset.objects.get(id=body["images"][0]["id"])
    from django.test import RequestFactory

    from generations.storage_urls import named_asset

    assert named_asset(shop, body["imageUrl"], RequestFactory().get("/")) == asset


def _file(data: bytes, name: str = "logo.png") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/png")


def test_a_malformed_own_origin_url_is_a_400(api: Any, shop: Shop) -> None:
    url = f"http://testserver/media/shops/{shop.slug}/assets/not-a-uuid/original.png"
    response = api.post("/ai-generations/generate", {"prompt": "x", "referenceImageUrls": [url]})
    assert response.status_code == 400  # not the shop's asset, and the fetcher refuses the host

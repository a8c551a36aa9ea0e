"""Seed 000's background-removal and image-to-video routes over generations.operations."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from studio.actions import create_shop
from studio.models import Shop

pytestmark = pytest.mark.django_db


def _upload(api: Any, image_bytes: Any) -> dict:
    f = SimpleUploadedFile("art.png", image_bytes(96, 64, (30, 160, 60)), content_type="image/png")
    return api.post("/uploads", {"file": f}, multipart=True).json()


def test_remove_background_answers_the_documented_shape(
    api: Any, shop: Shop, image_bytes: Any
) -> None:
    upload = _upload(api, image_bytes)
    response = api.post("/ai-generations/remove-background", {"imageUrl": upload["imageUrl"]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["imageUrl"].startswith(f"http://testserver/media/shops/{shop.slug}/")
    assert body["imageUrl"].endswith(".png")
    assert (body["width"], body["height"]) == (96, 64)
    assert isinstance(body["costCents"], int)


def test_generate_video_answers_the_documented_shape(api: Any, image_bytes: Any) -> None:
    upload = _upload(api, image_bytes)
    response = api.post(
        "/ai-generations/generate-video",
        {"imageUrl": upload["imageUrl"], "prompt": "slow zoom, gentle drift", "resolution": 720},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["videoUrl"].endswith(".mp4")
    assert body["duration"] == 6
    assert isinstance(body["width"], int) and isinstance(body["height"], int)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/ai-generations/remove-background", {}),
        ("/ai-generations/remove-background", {"imageUrl": "ftp://x/y.png"}),
        ("/ai-generations/remove-background", {"imageUrl": "http://127.0.0.1/y.png"}),
        (
            "/ai-generations/generate-video",
            {"imageUrl": "https://a.example/x.png", "resolution": 480},
        ),
    ],
)
def test_operation_routes_reject_bad_input(api: Any, path: str, body: dict) -> None:
    assert api.post(path, body).status_code == 400


def test_operation_scopes(shop: Shop, api_for: Any) -> None:
    client = api_for(shop, ["ai:generate"])
    assert client.post("/ai-generations/remove-background", {"imageUrl": "x"}).status_code == 403
    assert client.post("/ai-generations/generate-video", {"imageUrl": "x"}).status_code == 403


def test_another_shops_image_url_is_fetched_not_reused(
    api: Any, api_for: Any, image_bytes: Any
) -> None:
    other = api_for(create_shop("Other"))
    upload = _upload(other, image_bytes)
    # The other shop's file is on the same (test) origin but not under this shop's prefix, so it
    # is treated as a foreign URL and goes through the fetcher, which refuses the test host.
    response = api.post("/ai-generations/remove-background", {"imageUrl": upload["imageUrl"]})
    assert response.status_code == 400

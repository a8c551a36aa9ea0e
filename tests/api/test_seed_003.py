"""Seed 003 (/ai/generate-image, /v1/posts): every example request of the document, replayed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from generations.models import Asset, Job, Post, PriceRule
from studio.actions import create_shop
from studio.models import Shop

pytestmark = pytest.mark.django_db

EXAMPLE = {
    "prompt": "A professional photo of a modern office workspace with natural lighting",
    "aspect_ratio": "16:9",
    "model": "nano-banana-pro",
}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _meta_ok(body: dict) -> None:
    assert set(body) == {"data", "error", "meta"}
    assert isinstance(body["meta"]["request_id"], str) and body["meta"]["request_id"]
    assert ISO.match(body["meta"]["timestamp"])


def test_the_documented_example_names_a_model_this_server_cannot_serve(api: Any) -> None:
    response = api.post("/ai/generate-image", EXAMPLE)
    assert response.status_code == 400
    body = response.json()
    _meta_ok(body)
    assert body["data"] is None
    assert body["error"]["code"] == "validation_error"
    assert "builtin:procedural" in body["error"]["message"]


def test_it_answers_201_with_the_documented_shape(api: Any, shop: Shop) -> None:
    body_in = {k: v for k, v in EXAMPLE.items() if k != "model"}
    response = api.post("/ai/generate-image", body_in)
    assert response.status_code == 201, response.content
    body = response.json()
    _meta_ok(body)
    assert body["error"] is None
    data = body["data"]
    assert data["media_ids"] == [data["media_id"]]
    assert data["type"] == "image"
    assert (data["width"], data["height"]) == (1920, 1080)
    assert data["aspect_ratio"] == "16:9"
    ai = dict(data["ai"])
    # Words of the prompt the offline engine had no subject for are reported beside the model.
    assert ai.pop("unrecognized_words", ["workspace"]) == ["workspace"]
    assert ai == {"model": "builtin:procedural", "prompt": EXAMPLE["prompt"]}
    assert isinstance(data["credits_used"], int) and data["credits_used"] == 1
    assert data["credits_remaining"] == Shop.objects.get(pk=shop.pk).balance_cents
    assert ISO.match(data["created_at"])
    assert data["media_id"] in data["next_step"] and "POST /v1/posts" in data["next_step"]
    assert Asset.objects.filter(shop=shop, id=data["media_id"]).exists()


def test_default_aspect_ratio_is_1_1(api: Any) -> None:
    data = api.post("/ai/generate-image", {"prompt": "a cat"}).json()["data"]
    assert data["aspect_ratio"] == "1:1"
    assert data["width"] == data["height"]


@pytest.mark.parametrize("ratio", ["1:1", "16:9", "9:16", "4:3", "3:4", "4:5", "5:4"])
def test_each_supported_aspect_ratio(api: Any, ratio: str) -> None:
    data = api.post("/ai/generate-image", {"prompt": "a cat", "aspect_ratio": ratio}).json()
    assert data["data"]["aspect_ratio"] == ratio


def test_invalid_aspect_ratio_message_is_the_documented_one(api: Any) -> None:
    response = api.post("/ai/generate-image", {"prompt": "a cat", "aspect_ratio": "21:9"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": "Invalid aspect ratio. Must be one of: 1:1, 16:9, 9:16, 4:3, 3:4, 4:5, 5:4",
        "code": "validation_error",
    }


@pytest.mark.parametrize(
    "body", [{}, {"prompt": ""}, {"prompt": "x" * 2001}, {"prompt": 3}, {"prompt": "x", "model": 1}]
)
def test_it_rejects_invalid_prompts(api: Any, body: dict) -> None:
    response = api.post("/ai/generate-image", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert Job.objects.count() == 0


def test_prompt_of_2000_chars_is_accepted(api: Any) -> None:
    assert api.post("/ai/generate-image", {"prompt": "x" * 2000}).status_code == 201


def test_402_insufficient_credits_with_details(api: Any, shop: Shop) -> None:
    PriceRule.objects.create(model="builtin:procedural", cents_per_output=15)
    Shop.objects.filter(pk=shop.pk).update(plan_budget_cents=3, wallet_cents=0)
    response = api.post("/ai/generate-image", {"prompt": "a cat"})
    assert response.status_code == 402
    body = response.json()
    _meta_ok(body)
    assert body["error"] == {
        "message": "Not enough credits. This model costs 15 credits but you have 3 available.",
        "code": "insufficient_credits",
        "details": {
            "credits_required": 15,
            "credits_available": 3,
            "model": "builtin:procedural",
        },
    }


def test_seed_model_prices(settings: Any) -> None:
    from generations.api.ai import price_003

    assert price_003("x", "nano-banana-pro", "standard", 1) == 15
    assert price_003("x", "ideogram-v2", "standard", 1) == 8
    assert price_003("x", "gemini-3-pro", "standard", 1) == 5
    assert price_003("x", "flux-schnell", "standard", 1) == 1
    assert price_003("x", "builtin:procedural", "standard", 3) == 3


def test_401_and_403_envelopes(client: Any, shop: Shop, api_for: Any) -> None:
    response = client.post("/ai/generate-image", {"prompt": "x"}, content_type="application/json")
    assert response.status_code == 401
    _meta_ok(response.json())
    assert response.json()["error"]["code"] == "unauthorized"
    response = api_for(shop, ["ai:generate"]).post("/ai/generate-image", {"prompt": "x"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_429_carries_rate_limit_headers(api: Any, shop: Shop) -> None:
    Shop.objects.filter(pk=shop.pk).update(api_rate_limit_per_minute=2)
    api.post("/v1/posts", {"text": "a"})
    api.post("/v1/posts", {"text": "b"})
    response = api.post("/ai/generate-image", {"prompt": "x"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    for header in (
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "Retry-After",
    ):
        assert response.has_header(header)
    assert response["X-RateLimit-Remaining"] == "0"


def test_media_ids_go_straight_into_a_post(api: Any, shop: Shop) -> None:
    data = api.post("/ai/generate-image", {"prompt": "a cat"}).json()["data"]
    response = api.post("/v1/posts", {"text": "Our new cat", "media_ids": data["media_ids"]})
    assert response.status_code == 201, response.content
    body = response.json()
    _meta_ok(body)
    post = body["data"]
    assert post["media_ids"] == data["media_ids"]
    assert post["text"] == "Our new cat"
    assert post["media"][0]["id"] == data["media_id"]
    stored = Post.objects.get(id=post["id"])
    assert stored.shop == shop and [str(a.id) for a in stored.media.all()] == data["media_ids"]
    listed = api.get("/v1/posts").json()["data"]["posts"]
    assert [p["id"] for p in listed] == [post["id"]]


def test_posts_refuse_media_of_another_shop(api: Any, api_for: Any) -> None:
    other = api_for(create_shop("Other"), ["ai"])
    data = other.post("/ai/generate-image", {"prompt": "a cat"}).json()["data"]
    response = api.post("/v1/posts", {"text": "stolen", "media_ids": data["media_ids"]})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert Post.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [{}, {"text": 5}, {"media_ids": "x"}, {"media_ids": ["not-a-uuid"]}, {"text": "x" * 10001}],
)
def test_posts_validation(api: Any, body: dict) -> None:
    response = api.post("/v1/posts", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_posts_page_lists_posts(api: Any, owner_client: Any) -> None:
    api.post("/v1/posts", {"text": "Hello from the API"})
    page = owner_client.get("/posts/")
    assert page.status_code == 200
    assert b"Hello from the API" in page.content

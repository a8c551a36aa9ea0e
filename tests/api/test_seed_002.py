"""Seed 002 (/v0/images/..., /v0/usage): every example request of the document, replayed."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generations import actions
from generations.actions import ASPECT_RATIOS
from generations.api import common
from generations.models import Asset, Job, Preset, PriceRule
from studio.actions import create_shop
from studio.models import Shop
from tests.api.conftest import REAL_WAIT

pytestmark = pytest.mark.django_db

EXAMPLE = {
    "prompt": "a serene mountain lake at sunrise",
    "negativePrompt": "watermark, text",
    "variables": {},
    "aspectRatio": "16:9",
    "resolution": "standard",
    "sampleCount": 1,
    "isPublic": False,
}


def test_it_answers_the_documented_sync_example(api: Any, shop: Shop) -> None:
    response = api.post("/v0/images/generations", EXAMPLE)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert isinstance(data["id"], str)
    assert isinstance(data["created"], int)
    assert data["model"] == "builtin:procedural"
    assert len(data["data"]) == 1
    item = data["data"][0]
    assert {"id", "url", "storageKey"} <= set(item)
    assert item["url"].startswith("http://testserver/media/shops/")
    assert item["storageKey"].startswith(f"shops/{shop.slug}/")
    assert data["usage"] == {"credits": 1}
    job = Job.objects.get(id=data["id"])
    assert (job.params["width"], job.params["height"]) == (1024, 576)
    assert job.params["negative_prompt"] == "watermark, text"


def test_the_documented_model_version_gets_a_400_listing_models(api: Any) -> None:
    response = api.post(
        "/v0/images/generations", {**EXAMPLE, "modelVersion": "gemini-3-pro-image-preview"}
    )
    assert response.status_code == 400
    assert "builtin:procedural" in response.json()["error"]
    assert Job.objects.count() == 0


def test_async_returns_queued_then_polls_to_completed(api: Any) -> None:
    response = api.post("/v0/images/generations?async=true", EXAMPLE)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "queued"
    assert set(data) == {"id", "status", "created", "model"}
    polled = api.get(f"/v0/images/generations/{data['id']}").json()["data"]
    assert polled["status"] == "queued"
    actions.execute_job(data["id"])
    polled = api.get(f"/v0/images/generations/{data['id']}").json()["data"]
    assert polled["status"] == "completed"
    assert polled["model"] == "builtin:procedural"
    assert isinstance(polled["created"], int)
    assert {"id", "url", "width", "height"} <= set(polled["data"][0])
    assert polled["usage"] == {"credits": 1}


def test_failed_job_polls_as_failed_with_error(api: Any) -> None:
    data = api.post("/v0/images/generations?async=1", EXAMPLE).json()["data"]
    actions.fail_job(Job.objects.get(id=data["id"]), "engine exploded")
    polled = api.get(f"/v0/images/generations/{data['id']}").json()["data"]
    assert polled == {"id": data["id"], "status": "failed", "error": "engine exploded"}


def test_sync_timeout_is_504_with_the_documented_body(
    api: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "wait_for_job", REAL_WAIT)  # no worker: the job never runs
    settings.API_SYNC_TIMEOUT_SECONDS = 0.3
    response = api.post("/v0/images/generations", EXAMPLE)
    assert response.status_code == 504
    body = response.json()
    assert set(body) == {"error", "jobId", "hint"}  # exactly the seed's fields
    assert body["error"] == "Generation timed out after 0.3s"
    assert body["hint"] == f"GET /v0/images/generations/{body['jobId']} to check status"
    assert Job.objects.get(id=body["jobId"]).status == Job.Status.QUEUED  # still running


@pytest.mark.parametrize(
    ("query", "url", "b64"),
    [
        ("", True, False),
        ("?response_format=url", True, False),
        ("?response_format=b64_json", False, True),
        ("?response_format=both", True, True),
        ("?include_base64=true", True, True),
        ("?include_base64=1", True, True),
    ],
)
def test_response_formats(api: Any, query: str, url: bool, b64: bool) -> None:
    body = {**EXAMPLE, "resolution": "low"}
    item = api.post(f"/v0/images/generations{query}", body).json()["data"]["data"][0]
    assert ("url" in item) is url
    assert ("b64_json" in item) is b64
    if b64:
        assert base64.b64decode(item["b64_json"])[:4] == b"\x89PNG"


def test_invalid_response_format_is_400(api: Any) -> None:
    assert api.post("/v0/images/generations?response_format=gif", EXAMPLE).status_code == 400


@pytest.mark.parametrize("ratio", ASPECT_RATIOS)
def test_all_18_aspect_ratios(api: Any, ratio: str) -> None:
    response = api.post("/v0/images/generations?async=true", {**EXAMPLE, "aspectRatio": ratio})
    assert response.status_code == 200, response.content
    job = Job.objects.get(id=response.json()["data"]["id"])
    a, b = (float(x) for x in ratio.split(":"))
    assert abs(job.params["width"] / job.params["height"] - a / b) < 0.1 * (a / b)


@pytest.mark.parametrize(
    ("resolution", "count", "credits"),
    [("low", 1, 1), ("standard", 2, 2), ("high", 1, 2), ("high", 2, 4), ("4k", 1, 4)],
)
def test_resolution_cost_table(
    api: Any, shop: Shop, resolution: str, count: int, credits: int
) -> None:
    before = Shop.objects.get(pk=shop.pk).balance_cents
    body = {**EXAMPLE, "resolution": resolution, "sampleCount": count}
    data = api.post("/v0/images/generations?async=true", body).json()["data"]
    assert Job.objects.get(id=data["id"]).cost_cents == credits
    assert Shop.objects.get(pk=shop.pk).balance_cents == before - credits


def test_a_price_rule_for_the_model_overrides_the_table(api: Any) -> None:
    PriceRule.objects.create(model="builtin:procedural", cents_per_output=7)
    data = api.post("/v0/images/generations?async=true", EXAMPLE).json()["data"]
    assert Job.objects.get(id=data["id"]).cost_cents == 7


def test_sample_count_and_is_public(api: Any) -> None:
    body = {**EXAMPLE, "resolution": "low", "sampleCount": 2, "isPublic": True}
    data = api.post("/v0/images/generations", body).json()["data"]
    assert len(data["data"]) == 2
    assert data["usage"] == {"credits": 2}
    assert all(Asset.objects.get(id=i["id"]).is_public for i in data["data"])


@pytest.mark.parametrize(
    "patch",
    [
        {"prompt": ""},
        {"aspectRatio": "7:5"},
        {"resolution": "8k"},
        {"sampleCount": 0},
        {"sampleCount": 99},
        {"sampleCount": "many"},
        {"isPublic": "perhaps"},
        {"presetId": "not-a-uuid"},
        {"variables": []},
        {"refImageUrls": ["https://a.example/1.png"] * 6},
        {"refImageUrls": ["http://127.0.0.1/x.png"]},
        {"refImageBase64": [{"mimeType": "image/png", "data": "!!!"}]},
        {"refImageBase64": "nope"},
    ],
)
def test_it_rejects_invalid_bodies_with_400(api: Any, patch: dict) -> None:
    response = api.post("/v0/images/generations", {**EXAMPLE, **patch})
    assert response.status_code == 400, response.content
    assert isinstance(response.json()["error"], str)
    assert Job.objects.count() == 0


def test_ref_image_base64_max_5(api: Any, image_bytes: Any) -> None:
    ref = {"mimeType": "image/png", "data": base64.b64encode(image_bytes()).decode()}
    assert (
        api.post("/v0/images/generations", {**EXAMPLE, "refImageBase64": [ref] * 6}).status_code
        == 400
    )
    response = api.post("/v0/images/generations?async=1", {**EXAMPLE, "refImageBase64": [ref] * 2})
    assert response.status_code == 200
    job = Job.objects.get(id=response.json()["data"]["id"])
    assert len(job.params["reference_asset_ids"]) == 2


def test_preset_with_variables(api: Any, shop: Shop) -> None:
    preset = Preset.objects.create(
        shop=shop,
        name="Shoe shot",
        template="a running shoe photo of {{product_name}}",
        variables=[{"key": "product_name", "required": True}],
    )
    body = {"presetId": str(preset.id), "variables": {"product_name": "Nike Air Zoom"}}
    data = api.post("/v0/images/generations", body).json()["data"]
    job = Job.objects.get(id=data["id"])
    assert job.params["prompt"] == "a running shoe photo of Nike Air Zoom"
    detail = api.get(f"/v0/images/library/{data['data'][0]['id']}").json()["data"]
    assert detail["presetId"] == str(preset.id)
    assert detail["variables"] == {"product_name": "Nike Air Zoom"}
    assert detail["prompt"] == "a running shoe photo of Nike Air Zoom"
    # A missing required variable is a 400.
    response = api.post("/v0/images/generations", {"presetId": str(preset.id)})
    assert response.status_code == 400


def test_multipart_with_file_requirements(api: Any, shop: Shop, image_bytes: Any) -> None:
    preset = Preset.objects.create(
        shop=shop,
        name="Logo on shirt",
        template="the {{logo}} printed on a shirt, with {{shots}}",
        variables=[
            {"key": "logo", "type": "file", "required": True},
            {"key": "shots", "type": "file", "multiple": True},
        ],
    )

    def f(name: str) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, image_bytes(), content_type="image/png")

    response = api.post(
        "/v0/images/generations?async=true",
        {
            "prompt": "",
            "presetId": str(preset.id),
            "variables": "{}",
            "logo": f("logo.png"),
            "shots_0": f("a.png"),
            "shots_1": f("b.png"),
        },
        multipart=True,
    )
    assert response.status_code == 200, response.content
    job = Job.objects.get(id=response.json()["data"]["id"])
    assert len(job.params["reference_asset_ids"]) == 3
    assert Asset.objects.filter(shop=shop, kind=Asset.Kind.UPLOAD).count() == 3


def test_insufficient_credits_is_402(api: Any, shop: Shop) -> None:
    Shop.objects.filter(pk=shop.pk).update(plan_budget_cents=0, wallet_cents=0)
    response = api.post("/v0/images/generations", EXAMPLE)
    assert response.status_code == 402
    assert "error" in response.json()


def test_insufficient_credits_keeps_no_reference_images(
    api: Any, shop: Shop, image_bytes: Any
) -> None:
    """GIVEN a shop with no credits WHEN a generation brings reference images THEN the answer is
    the 402 and none of the images were kept (they are stored in the job's transaction)."""
    Shop.objects.filter(pk=shop.pk).update(plan_budget_cents=0, wallet_cents=0)
    ref = {"mimeType": "image/png", "data": base64.b64encode(image_bytes()).decode()}
    response = api.post("/v0/images/generations", {**EXAMPLE, "refImageBase64": [ref] * 2})
    assert response.status_code == 402
    assert response.json()["code"] == "insufficient_credits"
    assert not Asset.objects.filter(shop=shop).exists()
    assert not Job.objects.exists()


def test_library_listing_paging_and_filters(api: Any, shop: Shop) -> None:
    preset = Preset.objects.create(shop=shop, name="Lakes", template="a lake at {{time}}")
    api.post(
        "/v0/images/generations",
        {**EXAMPLE, "resolution": "low", "sampleCount": 3, "prompt": "a mountain lake"},
    )
    api.post(
        "/v0/images/generations",
        {"presetId": str(preset.id), "variables": {"time": "dusk"}, "resolution": "low"},
    )
    body = api.get("/v0/images/library").json()["data"]
    assert (body["total"], body["page"], body["limit"]) == (4, 1, 20)
    image = body["images"][0]
    assert set(image) == {
        "id",
        "url",
        "thumbnailUrl",
        "width",
        "height",
        "presetId",
        "modelVersion",
        "userPrompt",
        "isPublic",
        "createdAt",
    }
    assert image["createdAt"].endswith("Z")
    page2 = api.get("/v0/images/library?page=2&limit=3").json()["data"]
    assert len(page2["images"]) == 1 and page2["total"] == 4
    assert api.get(f"/v0/images/library?presetId={preset.id}").json()["data"]["total"] == 1
    assert api.get("/v0/images/library?search=MOUNTAIN").json()["data"]["total"] == 3
    assert api.get("/v0/images/library?search=lakes").json()["data"]["total"] == 1  # preset name
    for bad in ("limit=0", "limit=101", "page=0", "limit=abc"):
        assert api.get(f"/v0/images/library?{bad}").status_code == 400


def test_library_detail_download_and_other_shop(api: Any, api_for: Any) -> None:
    data = api.post("/v0/images/generations", {**EXAMPLE, "resolution": "low"}).json()["data"]
    image_id = data["data"][0]["id"]
    detail = api.get(f"/v0/images/library/{image_id}").json()["data"]
    assert detail["id"] == image_id
    assert detail["userPrompt"] == EXAMPLE["prompt"]
    assert detail["sourceType"] is None
    assert detail["modelVersion"] == "builtin:procedural"
    response = api.get(f"/v0/images/library/{image_id}/download")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="{image_id}.png"'
    content = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(content)
    other = api_for(create_shop("Other"))
    assert other.get(f"/v0/images/library/{image_id}").status_code == 404
    assert other.get(f"/v0/images/library/{image_id}/download").status_code == 404
    assert other.get(f"/v0/images/generations/{data['id']}").status_code == 404


def test_usage(api: Any, shop: Shop) -> None:
    before = api.get("/v0/usage").json()["data"]["credits"]["remaining"]
    api.post("/v0/images/generations", {**EXAMPLE, "resolution": "low"})
    after = api.get("/v0/usage").json()["data"]["credits"]
    assert after["remaining"] == before - 1
    assert after["remaining"] == Shop.objects.get(pk=shop.pk).balance_cents


def test_failed_generation_is_refunded(
    api: Any, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = Shop.objects.get(pk=shop.pk).balance_cents
    from generations.engines import registry
    from generations.engines.base import EngineError

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise EngineError("no luck")

    monkeypatch.setattr(type(registry.engine("builtin")), "generate", boom)
    response = api.post("/v0/images/generations", EXAMPLE)
    assert response.status_code == 502
    assert Shop.objects.get(pk=shop.pk).balance_cents == before


def test_401_envelope(client: Any) -> None:
    response = client.get("/v0/usage", headers={"Authorization": "Bearer sk_live_nope"})
    assert response.status_code == 401
    assert isinstance(response.json()["error"], str)

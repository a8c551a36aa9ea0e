"""The official `openai` Python SDK as a client of seed 001, against a live server:
images.generate runs offline on the builtin engine, images.edit runs through our OpenAI engine
against a local fake OpenAI, and response.data[0].url downloads the image from our storage."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from generations.models import Asset, Job
from studio.models import Shop
from tests.api.test_seed_001 import scene
from tests.engines.conftest import multipart
from tests.engines.fakeserver import Reply, serve

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sdk(live_server: Any, shop: Shop, make_key: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from generations.tasks import run_job

    # Jobs run inside the request (the sync wait is patched in tests/api/conftest.py); no
    # message goes to a broker nobody reads.
    monkeypatch.setattr(run_job, "delay", lambda *a, **k: None)
    return openai.OpenAI(
        base_url=f"{live_server.url}/v1", api_key=make_key(shop).raw, max_retries=0
    )


def _download(url: str) -> Image.Image:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text[:200]
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def test_images_generate_runs_offline_and_the_url_downloads(sdk: Any, shop: Shop) -> None:
    result = sdk.images.generate(prompt="a lighthouse at dusk, poster", n=2, size="512x384")
    assert isinstance(result.created, int)
    assert len(result.data) == 2
    image = _download(result.data[0].url)
    assert image.size == (512, 384)
    job = Job.objects.get(shop=shop)
    assert job.model == "builtin:procedural" and job.cost_cents == 18  # 9 credits per image


def test_images_generate_answers_b64_json(sdk: Any) -> None:
    result = sdk.images.generate(
        model="builtin:procedural", prompt="a red kite", response_format="b64_json", size="256x256"
    )
    assert result.data[0].url is None
    image = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json)))
    assert image.size == (256, 256)


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def test_images_edit_with_a_mask_runs_on_the_openai_engine(
    settings: Any, sdk: Any, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN OPENAI_API_KEY and a fake OpenAI WHEN the SDK edits an image with an OpenAI mask
    (transparent = edit here) THEN our OpenAI engine forwards the same region to the provider,
    and the result is the shop's asset, derived from the uploaded image."""
    returned = Image.new("RGB", (160, 120), (20, 200, 90))

    def fake_openai(request: Any, base: str) -> Reply:
        if request.path == "/v1/images/edits":
            return Reply(
                200,
                {"created": 1, "data": [{"b64_json": base64.b64encode(_png(returned)).decode()}]},
            )
        return Reply(404, {"error": {"message": "no such route"}})

    # OpenAI's mask: opaque everywhere except a transparent square, the area to edit.
    mask = Image.new("RGBA", (160, 120), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (40, 30, 80, 70))
    settings.OPENAI_API_KEY = "sk-fake"
    with serve(fake_openai) as (base, seen):
        settings.OPENAI_BASE_URL = f"{base}/v1"
        result = sdk.images.edit(
            model="gpt-image-1",
            image=("photo.png", scene(), "image/png"),
            mask=("mask.png", _png(mask), "image/png"),
            prompt="Put a red ball here",
        )
    image = _download(result.data[0].url)
    assert image.getpixel((5, 5)) == (20, 200, 90)
    sent = multipart(seen[0].headers["content-type"], seen[0].body)
    assert sent["prompt"][0][1] == b"Put a red ball here"
    forwarded = Image.open(io.BytesIO(sent["mask"][0][1]))
    alpha = forwarded.getchannel("A")
    assert alpha.getpixel((60, 50)) == 0 and alpha.getpixel((5, 5)) == 255  # the same region
    job = Job.objects.get(shop=shop)
    assert (job.kind, job.model, job.cost_cents) == ("inpaint", "gpt-image-1", 13)
    asset = Asset.objects.get(job=job)
    assert asset.parent.kind == Asset.Kind.UPLOAD


def test_sdk_errors_carry_the_message_and_setting(sdk: Any, shop: Shop) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.edit(image=("photo.png", scene(), "image/png"), prompt="anime style")
    assert 'V1_IMAGES_MODELS["edits:editing"]' in caught.value.message
    assert caught.value.code == "model_not_configured"
    Shop.objects.filter(id=shop.id).update(plan_budget_cents=0, wallet_cents=0)
    # With the SDK's default retries: x-should-retry: false stops it from asking again.
    retrying = sdk.with_options(max_retries=2)
    with pytest.raises(openai.RateLimitError) as limited:
        retrying.images.generate(prompt="a kite")
    assert limited.value.code == "insufficient_credits"
    assert limited.value.body["required"] == 9
    headers = limited.value.response.headers
    assert headers["x-should-retry"] == "false"
    assert (
        int(headers["x-ratelimit-limit-requests"]) - int(headers["x-ratelimit-remaining-requests"])
        == 2
    )  # the edit above and this one request: no retry
    assert not Job.objects.exists()

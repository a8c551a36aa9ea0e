"""End to end: the prompt form with an OpenAI model, the job run by execute_job against a fake
OpenAI server on 127.0.0.1 (OPENAI_BASE_URL), and the image served from our own storage."""

from __future__ import annotations

import json

import pytest

from generations import actions
from generations.models import Asset, Job, PriceRule
from studio.models import LedgerEntry

from .conftest import png
from .fakeserver import Reply, serve

pytestmark = pytest.mark.django_db

PIXELS = png(48, 48, (250, 90, 20))


def fake_openai(request, base):
    if request.method == "POST" and request.path == "/v1/images/generations":
        if request.headers.get("authorization") != "Bearer sk-e2e":
            return Reply(401, {"error": {"message": "Incorrect API key provided"}})
        # Answer with a short-lived URL, as DALL·E does: the studio must fetch it at once.
        return Reply(200, {"created": 1, "data": [{"url": f"{base}/files/img-1.png?sig=x"}]})
    if request.method == "GET" and request.path == "/files/img-1.png":
        return Reply(200, PIXELS, {"Content-Type": "image/png"})
    return Reply(404, {"error": {"message": "no such route"}})


def test_a_prompt_form_generation_with_gpt_image_1_lands_in_our_storage(
    owner_client, shop, monkeypatch, settings
):
    PriceRule.objects.create(model="gpt-image-1", cents_per_output=4)
    # The output URL is a plain URL (no credentials), downloaded through the SSRF-safe fetcher,
    # which may reach this fake server only because the test opens loopback to it.
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.OPENAI_API_KEY = "sk-e2e"
    with serve(fake_openai) as (base, seen):
        settings.OPENAI_BASE_URL = f"{base}/v1"
        page = owner_client.get("/")
        assert b"gpt-image-1" in page.content and "4¢/image" in page.content.decode()
        response = owner_client.post(
            "/generate/",
            {
                "prompt": "an orange sunset poster",
                "aspect_ratio": "16:9",
                "count": 1,
                "model": "gpt-image-1",
            },
        )
        assert response.status_code == 302
        job = Job.objects.get(shop=shop)
        assert (job.engine, job.model, job.cost_cents) == ("openai", "gpt-image-1", 4)
        done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.COMPLETED, done.error
    sent = json.loads(seen[0].body)
    assert sent["model"] == "gpt-image-1" and sent["prompt"] == "an orange sunset poster"
    assert sent["size"] == "1536x1024"  # 16:9 → the closest size gpt-image-1 makes
    assert [r.path for r in seen] == ["/v1/images/generations", "/files/img-1.png"]

    # The provider is gone now; the image is still ours.
    asset = Asset.objects.get(job=done)
    assert asset.kind == Asset.Kind.GENERATED and asset.model == "gpt-image-1"
    assert (asset.width, asset.height) == (48, 48)
    served = owner_client.get(f"/library/{asset.id}/download/")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == PIXELS
    stored = json.dumps([asset.parameters, done.result, asset.file.name])
    assert "127.0.0.1" not in stored and "sig=x" not in stored
    assert LedgerEntry.objects.filter(job=done, kind="refund").count() == 0


def test_a_provider_refusal_fails_the_job_and_refunds(settings, owner_client, shop, monkeypatch):
    settings.OPENAI_API_KEY = "sk-wrong"
    with serve(fake_openai) as (base, _):
        settings.OPENAI_BASE_URL = f"{base}/v1"
        owner_client.post(
            "/generate/", {"prompt": "x", "aspect_ratio": "1:1", "count": 1, "model": "gpt-image-1"}
        )
        job = Job.objects.get(shop=shop)
        done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.FAILED
    assert "Incorrect API key provided" in done.error and "OPENAI" not in done.error.split(":")[0]
    assert LedgerEntry.objects.filter(job=done, kind="refund").count() == 1


def test_an_unconfigured_model_is_refused_naming_the_setting(owner_client, shop):
    response = owner_client.post(
        "/generate/", {"prompt": "x", "aspect_ratio": "1:1", "count": 1, "model": "gpt-image-1"}
    )
    # The form offers only configured models, so the choice itself is refused...
    assert response.status_code == 422
    assert not Job.objects.filter(shop=shop).exists()
    # ...and a door that skips the form gets the reason.
    with pytest.raises(actions.JobError, match="set OPENAI_API_KEY to enable it"):
        actions.submit_generation(shop, actions.GenerationSpec(prompt="x", model="gpt-image-1"))

"""Replicate predictions against a respx fake: create (Prefer: wait), poll urls.get, cancel."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from generations.engines.base import (
    Capability,
    EngineError,
    GenerationRequest,
    JobCanceled,
    OperationRequest,
    upstream_sink,
)
from generations.engines.replicate import ReplicateEngine, log_percent

from .conftest import png

BASE = "https://api.replicate.com"
CDN = "https://replicate.delivery/xezq/abc"


def prediction(status: str, pid: str = "p1", **extra):
    return {
        "id": pid,
        "status": status,
        "urls": {
            "get": f"{BASE}/v1/predictions/{pid}",
            "cancel": f"{BASE}/v1/predictions/{pid}/cancel",
        },
        "logs": "",
        "output": None,
        "error": None,
        **extra,
    }


@pytest.fixture
def engine(settings, monkeypatch, retry, sleeps):
    settings.REPLICATE_API_TOKEN = "r8_test"
    return ReplicateEngine(retry=retry, sleep=sleeps, poll_interval=0.25)


def test_it_creates_waits_polls_and_downloads(engine, progress, sleeps):
    handles = []
    with respx.mock() as router, upstream_sink(handles.append):
        create = router.post(f"{BASE}/v1/models/black-forest-labs/flux-schnell/predictions").mock(
            return_value=httpx.Response(201, json=prediction("starting"))
        )
        poll = router.get(f"{BASE}/v1/predictions/p1").mock(
            side_effect=[
                httpx.Response(200, json=prediction("processing", logs="  50%|█████     | 2/4")),
                httpx.Response(
                    200,
                    json=prediction("succeeded", output=[f"{CDN}/out-0.webp", f"{CDN}/out-1.webp"]),
                ),
            ]
        )
        files = router.get(url__startswith=CDN).mock(
            return_value=httpx.Response(
                200, content=png(12, 8), headers={"Content-Type": "image/png"}
            )
        )
        images = engine.generate(
            GenerationRequest(
                prompt="a lighthouse",
                width=1792,
                height=1024,
                count=2,
                seed=5,
                provider_model="black-forest-labs/flux-schnell",
            ),
            progress,
        )
    sent = create.calls[0].request
    assert sent.headers["Authorization"] == "Bearer r8_test"
    assert sent.headers["Prefer"] == "wait=60"
    assert json.loads(sent.content) == {
        "input": {"prompt": "a lighthouse", "aspect_ratio": "16:9", "seed": 5, "num_outputs": 2}
    }
    assert poll.call_count == 2 and files.call_count == 2
    assert poll.calls[0].request.headers["Authorization"] == "Bearer r8_test"
    assert "authorization" not in files.calls[0].request.headers
    assert [(i.width, i.height) for i in images] == [(12, 8), (12, 8)]
    assert handles == [{"engine": "replicate", "id": "p1"}]
    assert any("50%" in stage for _, stage in progress)
    assert sleeps == [0.25, 0.25]


def test_a_prediction_finished_within_prefer_wait_needs_no_polling(engine, progress):
    with respx.mock() as router:
        router.post(f"{BASE}/v1/models/ideogram-ai/ideogram-v2/predictions").mock(
            side_effect=[
                httpx.Response(201, json=prediction("succeeded", pid="a", output=f"{CDN}/a.png")),
                httpx.Response(201, json=prediction("succeeded", pid="b", output=f"{CDN}/b.png")),
            ]
        )
        router.get(url__startswith=CDN).mock(return_value=httpx.Response(200, content=png()))
        images = engine.generate(
            GenerationRequest(
                prompt="sign", count=2, seed=1, provider_model="ideogram-ai/ideogram-v2"
            ),
            progress,
        )
        creates = list(router.calls)
    # One image per prediction: a second prediction for the second image, next seed.
    bodies = [json.loads(c.request.content) for c in creates if c.request.method == "POST"]
    assert [b["input"].get("seed") for b in bodies] == [1, 2]
    assert [b["input"].get("num_outputs") for b in bodies] == [2, None]
    assert len(images) == 2


def test_a_pinned_version_uses_the_predictions_endpoint(engine, progress):
    with respx.mock() as router:
        create = router.post(f"{BASE}/v1/predictions").mock(
            return_value=httpx.Response(201, json=prediction("succeeded", output=f"{CDN}/x.png"))
        )
        router.get(url__startswith=CDN).mock(return_value=httpx.Response(200, content=png()))
        engine.generate(GenerationRequest(prompt="p", provider_model="me/model:abc123"), progress)
    assert json.loads(create.calls[0].request.content)["version"] == "abc123"


def test_a_failed_prediction_fails_with_replicates_error(engine, progress):
    with respx.mock() as router:
        router.post(f"{BASE}/v1/models/o/m/predictions").mock(
            return_value=httpx.Response(201, json=prediction("processing"))
        )
        router.get(f"{BASE}/v1/predictions/p1").mock(
            return_value=httpx.Response(
                200, json=prediction("failed", error="NSFW content detected")
            )
        )
        with pytest.raises(EngineError, match="NSFW content detected") as info:
            engine.generate(GenerationRequest(prompt="p", provider_model="o/m"), progress)
    assert info.value.retryable is False


def test_it_rejects_invalid_input_with_replicates_detail(engine, progress):
    with respx.mock() as router:
        router.post(f"{BASE}/v1/models/o/m/predictions").mock(
            return_value=httpx.Response(
                422,
                json={
                    "title": "Input validation failed",
                    "detail": "- input.aspect_ratio: must be one of ...",
                },
            )
        )
        with pytest.raises(EngineError, match="aspect_ratio") as info:
            engine.generate(GenerationRequest(prompt="p", provider_model="o/m"), progress)
    assert not info.value.retryable


def test_a_canceled_job_cancels_the_prediction_upstream(engine):
    def progress(percent, stage):
        if "running" in stage:
            raise JobCanceled("job")

    with respx.mock() as router:
        router.post(f"{BASE}/v1/models/o/m/predictions").mock(
            return_value=httpx.Response(201, json=prediction("processing"))
        )
        cancel = router.post(f"{BASE}/v1/predictions/p1/cancel").mock(
            return_value=httpx.Response(200, json=prediction("canceled"))
        )
        with pytest.raises(JobCanceled):
            engine.generate(GenerationRequest(prompt="p", provider_model="o/m"), progress)
    assert cancel.called and cancel.calls[0].request.headers["Authorization"] == "Bearer r8_test"


def test_cancel_by_handle(engine):
    with respx.mock() as router:
        cancel = router.post(f"{BASE}/v1/predictions/zz/cancel").mock(
            return_value=httpx.Response(200, json=prediction("canceled", pid="zz"))
        )
        engine.cancel({"engine": "replicate", "id": "zz"})
    assert cancel.called


def test_it_gives_up_after_the_job_timeout_and_cancels(settings, engine, progress, monkeypatch):
    settings.ENGINE_JOB_TIMEOUT = 0
    with respx.mock() as router:
        router.post(f"{BASE}/v1/models/o/m/predictions").mock(
            return_value=httpx.Response(201, json=prediction("starting"))
        )
        cancel = router.post(f"{BASE}/v1/predictions/p1/cancel").mock(
            return_value=httpx.Response(200, json=prediction("canceled"))
        )
        with pytest.raises(EngineError, match="did not finish within"):
            engine.generate(GenerationRequest(prompt="p", provider_model="o/m"), progress)
    assert cancel.called


def test_it_retries_a_rate_limited_create(engine, progress, sleeps):
    with respx.mock() as router:
        create = router.post(f"{BASE}/v1/models/o/m/predictions").mock(
            side_effect=[
                httpx.Response(
                    429, headers={"Retry-After": "3"}, json={"detail": "Request was throttled."}
                ),
                httpx.Response(201, json=prediction("succeeded", output=[f"{CDN}/x.png"])),
            ]
        )
        router.get(url__startswith=CDN).mock(return_value=httpx.Response(200, content=png()))
        engine.generate(GenerationRequest(prompt="p", provider_model="o/m"), progress)
    assert create.call_count == 2 and sleeps[0] == 3.0


def test_it_runs_background_removal_with_a_data_uri_image(engine, progress):
    with respx.mock() as router:
        create = router.post(f"{BASE}/v1/models/men1scus/birefnet/predictions").mock(
            return_value=httpx.Response(201, json=prediction("succeeded", output=f"{CDN}/cut.png"))
        )
        router.get(url__startswith=CDN).mock(return_value=httpx.Response(200, content=png()))
        out = engine.run_operation(
            OperationRequest(
                capability=Capability.BACKGROUND_REMOVAL,
                operation="remove-background",
                image=png(),
                provider_model="men1scus/birefnet",
            ),
            progress,
        )
    assert json.loads(create.calls[0].request.content)["input"]["image"].startswith(
        "data:image/png;base64,"
    )
    assert len(out) == 1


def test_log_percent_reads_the_last_tqdm_value():
    assert log_percent("  10%|█ | 1/10\n  70%|███████ | 7/10") == 70
    assert log_percent("no progress here") is None


def test_an_optional_webhook_is_sent_with_the_prediction(settings, engine, progress, monkeypatch):
    settings.REPLICATE_WEBHOOK_URL = "https://studio.example.test/hooks/replicate"
    with respx.mock() as router:
        create = router.post(f"{BASE}/v1/models/o/m/predictions").mock(
            return_value=httpx.Response(201, json=prediction("succeeded", output=f"{CDN}/x.png"))
        )
        router.get(url__startswith=CDN).mock(return_value=httpx.Response(200, content=png()))
        engine.generate(GenerationRequest(prompt="p", provider_model="o/m"), progress)
    body = json.loads(create.calls[0].request.content)
    assert body["webhook"] == "https://studio.example.test/hooks/replicate"
    assert body["webhook_events_filter"] == ["completed"]

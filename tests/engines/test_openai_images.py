"""OpenAI Images against a respx fake of /v1/images/generations and /v1/images/edits."""

from __future__ import annotations

import io
import json

import httpx
import pytest
import respx
from PIL import Image

from generations.engines.base import (
    Capability,
    EngineError,
    EngineNotConfigured,
    GenerationRequest,
    OperationRequest,
)
from generations.engines.openai_images import OpenAIImagesEngine, closest_size

from .conftest import b64png, multipart, png

BASE = "https://api.openai.com/v1"


@pytest.fixture
def engine(settings, monkeypatch, retry, sleeps):
    settings.OPENAI_API_KEY = "sk-test"
    return OpenAIImagesEngine(retry=retry, sleep=sleeps)


def test_it_generates_with_b64_json_and_sends_the_documented_body(engine, progress):
    with respx.mock(base_url=BASE) as router:
        route = router.post("/images/generations").mock(
            return_value=httpx.Response(
                200,
                json={
                    "created": 1,
                    "data": [{"b64_json": b64png(16, 8)}, {"b64_json": b64png(16, 8)}],
                },
            )
        )
        images = engine.generate(
            GenerationRequest(
                prompt="a red fox",
                width=1536,
                height=1024,
                count=2,
                provider_model="gpt-image-1",
                params={"resolution": "high"},
            ),
            progress,
        )
    sent = route.calls[0].request
    assert sent.headers["Authorization"] == "Bearer sk-test"
    assert json.loads(sent.content) == {
        "model": "gpt-image-1",
        "prompt": "a red fox",
        "size": "1536x1024",
        "quality": "high",
        "n": 2,
    }
    assert [(i.width, i.height, i.content_type) for i in images] == [(16, 8, "image/png")] * 2
    assert progress[-1][0] == 100


def test_it_downloads_url_answers_and_makes_one_dalle3_image_per_call(engine, progress):
    with respx.mock() as router:
        route = router.post(f"{BASE}/images/generations").mock(
            return_value=httpx.Response(
                200,
                json={
                    "data": [{"url": "https://files.example.test/img.png", "revised_prompt": "rp"}]
                },
            )
        )
        cdn = router.get("https://files.example.test/img.png").mock(
            return_value=httpx.Response(200, content=png(), headers={"Content-Type": "image/png"})
        )
        images = engine.generate(
            GenerationRequest(
                prompt="p", count=2, width=1024, height=1800, provider_model="dall-e-3"
            ),
            progress,
        )
    assert route.call_count == 2 and cdn.call_count == 2
    body = json.loads(route.calls[0].request.content)
    assert body["n"] == 1 and body["size"] == "1024x1792" and body["response_format"] == "b64_json"
    assert "authorization" not in cdn.calls[0].request.headers  # the key stays with the API
    assert images[0].metadata["revised_prompt"] == "rp"


def test_it_edits_with_an_image_and_a_transparent_mask(engine, progress):
    source = png(32, 32, (200, 10, 10))
    mask_img = Image.new("L", (32, 32), 0)
    mask_img.paste(255, (0, 0, 16, 32))  # left half: white = change this
    buf = io.BytesIO()
    mask_img.save(buf, "PNG")
    with respx.mock(base_url=BASE) as router:
        route = router.post("/images/edits").mock(
            return_value=httpx.Response(200, json={"data": [{"b64_json": b64png(32, 32)}]})
        )
        images = engine.run_operation(
            OperationRequest(
                capability=Capability.INPAINT,
                operation="edit",
                image=source,
                mask=buf.getvalue(),
                prompt="a blue sky",
                provider_model="gpt-image-1",
            ),
            progress,
        )
    request = route.calls[0].request
    parts = multipart(request.headers["Content-Type"], request.content)
    assert parts["prompt"][0][1] == b"a blue sky" and parts["model"][0][1] == b"gpt-image-1"
    assert parts["size"][0][1] == b"1024x1024"
    assert parts["image"][0][0] == "image-0.png"
    mask = Image.open(io.BytesIO(parts["mask"][0][1]))
    assert mask.mode == "RGBA" and mask.size == (32, 32)
    assert mask.getpixel((4, 4))[3] == 0  # white in our mask → transparent for OpenAI
    assert mask.getpixel((28, 4))[3] == 255
    assert len(images) == 1


def test_it_sends_reference_images_to_the_edits_endpoint(engine, progress):
    with respx.mock(base_url=BASE) as router:
        route = router.post("/images/edits").mock(
            return_value=httpx.Response(200, json={"data": [{"b64_json": b64png()}]})
        )
        engine.generate(
            GenerationRequest(
                prompt="logo on a mug",
                reference_images=[png(), png()],
                provider_model="gpt-image-1",
            ),
            progress,
        )
    request = route.calls[0].request
    parts = multipart(request.headers["Content-Type"], request.content)
    assert len(parts["image[]"]) == 2 and "mask" not in parts


def test_it_fails_content_policy_permanently_with_openais_message(engine, progress):
    with respx.mock(base_url=BASE) as router:
        route = router.post("/images/generations").mock(
            return_value=httpx.Response(
                400,
                json={
                    "error": {
                        "message": "Your request was rejected as a result of our safety system.",
                        "type": "image_generation_user_error",
                        "code": "content_policy_violation",
                    }
                },
            )
        )
        with pytest.raises(EngineError, match="rejected as a result of our safety system") as info:
            engine.generate(GenerationRequest(prompt="x", provider_model="gpt-image-1"), progress)
    assert info.value.retryable is False and route.call_count == 1


def test_it_retries_429_honouring_retry_after_and_then_succeeds(engine, progress, sleeps):
    with respx.mock(base_url=BASE) as router:
        route = router.post("/images/generations").mock(
            side_effect=[
                httpx.Response(
                    429, headers={"Retry-After": "1.5"}, json={"error": {"message": "Rate limit"}}
                ),
                httpx.Response(200, json={"data": [{"b64_json": b64png()}]}),
            ]
        )
        images = engine.generate(
            GenerationRequest(prompt="x", provider_model="gpt-image-1"), progress
        )
    assert route.call_count == 2 and sleeps == [1.5] and len(images) == 1


def test_it_reports_a_timeout_as_retryable(engine, progress):
    with respx.mock(base_url=BASE) as router:
        router.post("/images/generations").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(EngineError, match="did not answer in time") as info:
            engine.generate(GenerationRequest(prompt="x", provider_model="gpt-image-1"), progress)
    assert info.value.retryable


def test_it_honours_openai_base_url(settings, monkeypatch, engine, progress):
    settings.OPENAI_BASE_URL = "http://proxy.example.test/openai/v1/"
    with respx.mock() as router:
        route = router.post("http://proxy.example.test/openai/v1/images/generations").mock(
            return_value=httpx.Response(200, json={"data": [{"b64_json": b64png()}]})
        )
        engine.generate(GenerationRequest(prompt="x"), progress)
    assert route.called


def test_it_is_unconfigured_without_a_key_and_says_which_setting(settings, monkeypatch, progress):
    settings.OPENAI_API_KEY = ""
    engine = OpenAIImagesEngine()
    assert not engine.is_configured()
    with pytest.raises(EngineNotConfigured, match="OPENAI_API_KEY"):
        engine.generate(GenerationRequest(prompt="x"), progress)


def test_it_picks_the_closest_supported_size():
    assert closest_size("gpt-image-1", 1024, 1024) == "1024x1024"
    assert closest_size("gpt-image-1", 1024, 1820) == "1024x1536"
    assert closest_size("dall-e-3", 1820, 1024) == "1792x1024"
    assert closest_size("dall-e-2", 300, 300) == "256x256"


def test_a_slow_call_keeps_reporting_progress_so_the_lease_stays_fresh(
    settings, monkeypatch, engine
):
    import time

    settings.ENGINE_HEARTBEAT_SECONDS = 0.02
    beats = []

    def slow(request):
        time.sleep(0.2)
        return httpx.Response(200, json={"data": [{"b64_json": b64png()}]})

    with respx.mock(base_url=BASE) as router:
        router.post("/images/generations").mock(side_effect=slow)
        engine.generate(
            GenerationRequest(prompt="x", provider_model="gpt-image-1"),
            lambda pct, stage: beats.append(stage),
        )
    assert beats.count("waiting for OpenAI (gpt-image-1)") >= 4


def test_a_cancel_during_a_slow_call_stops_waiting_and_ends_the_call(settings, monkeypatch, engine):
    """GIVEN a provider call in flight WHEN the job is canceled at a heartbeat THEN generate
    raises JobCanceled only once the call itself has ended: nothing keeps running (or logging)
    after the job gave up on it."""
    import threading

    from generations.engines.base import JobCanceled

    settings.ENGINE_HEARTBEAT_SECONDS = 0.02
    calls = []
    call_ended = threading.Event()

    def progress(pct, stage):
        calls.append(stage)
        if len(calls) == 3:  # the user cancels while the request is in flight
            raise JobCanceled("job")

    def slow(request):
        try:
            threading.Event().wait(0.3)
            return httpx.Response(200, json={"data": [{"b64_json": b64png()}]})
        finally:
            call_ended.set()

    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post("/images/generations").mock(side_effect=slow)
        with pytest.raises(JobCanceled):
            engine.generate(GenerationRequest(prompt="x", provider_model="gpt-image-1"), progress)
        assert call_ended.is_set()
    assert len(calls) == 3
    assert not [t for t in threading.enumerate() if t.name.startswith("provider-call")]

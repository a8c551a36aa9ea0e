"""Stability v2beta stable-image against a respx fake: multipart requests, JSON and image/*
answers, CONTENT_FILTERED, errors and retries."""

from __future__ import annotations

import httpx
import pytest
import respx

from generations.engines.base import (
    Capability,
    EngineError,
    GenerationRequest,
    OperationRequest,
)
from generations.engines.stability import StabilityEngine

from .conftest import b64png, multipart, png

BASE = "https://api.stability.ai"


@pytest.fixture
def engine(settings, monkeypatch, retry, sleeps):
    settings.STABILITY_API_KEY = "sk-stab"
    return StabilityEngine(retry=retry, sleep=sleeps)


def fields(request) -> dict[str, bytes]:
    parts = multipart(request.headers["Content-Type"], request.content)
    return {name: values[0][1] for name, values in parts.items()}


def test_it_generates_with_a_multipart_form_and_reads_json(engine, progress):
    with respx.mock(base_url=BASE) as router:
        route = router.post("/v2beta/stable-image/generate/core").mock(
            return_value=httpx.Response(
                200, json={"image": b64png(10, 6), "finish_reason": "SUCCESS", "seed": 77}
            )
        )
        images = engine.generate(
            GenerationRequest(
                prompt="a cat in a hat",
                negative_prompt="blurry",
                width=1536,
                height=1024,
                count=2,
                seed=77,
                provider_model="core",
            ),
            progress,
        )
    request = route.calls[0].request
    assert request.headers["Authorization"] == "Bearer sk-stab"
    assert request.headers["Accept"] == "application/json"
    sent = fields(request)
    assert sent == {
        "prompt": b"a cat in a hat",
        "negative_prompt": b"blurry",
        "aspect_ratio": b"3:2",
        "output_format": b"png",
        "seed": b"77",
    }
    assert fields(route.calls[1].request)["seed"] == b"78"  # one image per call
    assert [(i.width, i.height, i.seed) for i in images] == [(10, 6, 77), (10, 6, 77)]


def test_it_reads_raw_image_answers_and_their_headers(engine, progress):
    with respx.mock(base_url=BASE) as router:
        router.post("/v2beta/stable-image/generate/sd3").mock(
            return_value=httpx.Response(
                200,
                content=png(5, 5),
                headers={"Content-Type": "image/png", "finish-reason": "SUCCESS", "seed": "9"},
            )
        )
        images = engine.generate(
            GenerationRequest(prompt="x", provider_model="sd3?model=sd3.5-large"), progress
        )
    assert images[0].seed == 9 and images[0].width == 5


def test_sd3_model_is_sent_as_a_field(engine, progress):
    with respx.mock(base_url=BASE) as router:
        route = router.post("/v2beta/stable-image/generate/sd3").mock(
            return_value=httpx.Response(200, json={"image": b64png(), "finish_reason": "SUCCESS"})
        )
        engine.generate(
            GenerationRequest(prompt="x", provider_model="sd3?model=sd3.5-large"), progress
        )
    assert fields(route.calls[0].request)["model"] == b"sd3.5-large"


def test_content_filtered_is_a_permanent_failure(engine, progress):
    with respx.mock(base_url=BASE) as router:
        router.post("/v2beta/stable-image/generate/core").mock(
            return_value=httpx.Response(
                200, json={"image": b64png(), "finish_reason": "CONTENT_FILTERED", "seed": 1}
            )
        )
        with pytest.raises(EngineError, match="CONTENT_FILTERED") as info:
            engine.generate(GenerationRequest(prompt="x", provider_model="core"), progress)
    assert info.value.retryable is False


def test_moderation_and_bad_requests_fail_with_stabilitys_words(engine, progress):
    with respx.mock(base_url=BASE) as router:
        router.post("/v2beta/stable-image/generate/core").mock(
            return_value=httpx.Response(
                403,
                json={
                    "id": "abc",
                    "name": "content_moderation",
                    "errors": ["Your request was flagged by our content moderation system"],
                },
            )
        )
        with pytest.raises(
            EngineError, match="content_moderation: Your request was flagged"
        ) as info:
            engine.generate(GenerationRequest(prompt="x", provider_model="core"), progress)
    assert not info.value.retryable and "credentials" not in str(info.value)


def test_it_retries_429_and_timeouts(engine, progress, sleeps):
    with respx.mock(base_url=BASE) as router:
        route = router.post("/v2beta/stable-image/generate/ultra").mock(
            side_effect=[
                httpx.Response(
                    429,
                    headers={"Retry-After": "2"},
                    json={"name": "rate_limit", "errors": ["slow"]},
                ),
                httpx.ReadTimeout("slow"),
                httpx.Response(200, json={"image": b64png(), "finish_reason": "SUCCESS"}),
            ]
        )
        engine.generate(GenerationRequest(prompt="x", provider_model="ultra"), progress)
    assert route.call_count == 3 and sleeps == [2.0, 0.02]


def test_inpaint_sends_image_mask_and_prompt_parts(engine, progress):
    with respx.mock(base_url=BASE) as router:
        route = router.post("/v2beta/stable-image/edit/inpaint").mock(
            return_value=httpx.Response(
                200, json={"image": b64png(20, 20), "finish_reason": "SUCCESS"}
            )
        )
        engine.run_operation(
            OperationRequest(
                capability=Capability.INPAINT,
                operation="inpaint",
                image=png(20, 20),
                mask=png(10, 10, (255, 255, 255)),
                prompt="a vase",
            ),
            progress,
        )
    request = route.calls[0].request
    parts = multipart(request.headers["Content-Type"], request.content)
    assert parts["image"][0][0] == "image.png" and parts["mask"][0][0] == "mask.png"
    assert parts["prompt"][0][1] == b"a vase"
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(parts["mask"][0][1])).size == (20, 20)  # resized to the image


def test_background_removal_and_upscale_hit_their_routes(engine, progress):
    with respx.mock(base_url=BASE) as router:
        bg = router.post("/v2beta/stable-image/edit/remove-background").mock(
            return_value=httpx.Response(200, json={"image": b64png(), "finish_reason": "SUCCESS"})
        )
        up = router.post("/v2beta/stable-image/upscale/fast").mock(
            return_value=httpx.Response(
                200, json={"image": b64png(32, 32), "finish_reason": "SUCCESS"}
            )
        )
        for capability in (Capability.BACKGROUND_REMOVAL, Capability.UPSCALE):
            engine.run_operation(
                OperationRequest(capability=capability, operation=str(capability), image=png()),
                progress,
            )
    assert bg.called and up.called


def test_inpaint_without_a_mask_is_refused_before_any_request(engine, progress):
    with respx.mock(base_url=BASE) as router, pytest.raises(EngineError, match="needs a mask"):
        engine.run_operation(
            OperationRequest(
                capability=Capability.INPAINT, operation="inpaint", image=png(), prompt="x"
            ),
            progress,
        )
    assert not router.calls

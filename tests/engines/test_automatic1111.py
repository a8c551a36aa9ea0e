"""AUTOMATIC1111 --api against a respx fake: txt2img/img2img bodies, progress polling while the
generation runs, basic auth, interrupt on cancel, upscale, errors."""

from __future__ import annotations

import base64
import io
import json
import threading
import time

import httpx
import pytest
import respx
from PIL import Image

from generations.engines.automatic1111 import Automatic1111Engine
from generations.engines.base import (
    Capability,
    EngineError,
    GenerationRequest,
    JobCanceled,
    OperationRequest,
    upstream_sink,
)

from .conftest import b64png, png

BASE = "http://gpu.local:7860"


@pytest.fixture
def engine(settings, monkeypatch, retry):
    settings.A1111_URL = BASE
    settings.A1111_AUTH = "alice:s3cret"
    return Automatic1111Engine(retry=retry, poll_interval=0.02)


def slow_answer(answer: dict, seconds: float = 0.3):
    def respond(request):
        time.sleep(seconds)
        return httpx.Response(200, json=answer)

    return respond


def test_it_generates_while_reporting_webui_progress(engine, progress):
    handles = []
    answer = {
        "images": [b64png(16, 16), b64png(8, 8), b64png(8, 8)],  # a grid first, then two images
        "parameters": {},
        "info": json.dumps({"seed": 11, "all_seeds": [11, 12]}),
    }
    with respx.mock(base_url=BASE) as router, upstream_sink(handles.append):
        txt2img = router.post("/sdapi/v1/txt2img").mock(side_effect=slow_answer(answer))
        state = router.get("/sdapi/v1/progress").mock(
            return_value=httpx.Response(
                200,
                json={
                    "progress": 0.5,
                    "eta_relative": 3.2,
                    "state": {"sampling_step": 10, "sampling_steps": 20, "job_count": 1},
                    "current_image": None,
                },
            )
        )
        images = engine.generate(
            GenerationRequest(
                prompt="a castle",
                negative_prompt="fog",
                width=512,
                height=768,
                count=2,
                seed=11,
                provider_model="sdxl.safetensors",
            ),
            progress,
        )
    sent = txt2img.calls[0].request
    expected_auth = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert sent.headers["Authorization"] == expected_auth
    body = json.loads(sent.content)
    assert body["prompt"] == "a castle" and body["negative_prompt"] == "fog"
    assert (body["width"], body["height"], body["batch_size"], body["seed"]) == (512, 768, 2, 11)
    assert body["override_settings"] == {"sd_model_checkpoint": "sdxl.safetensors"}
    assert body["force_task_id"] == handles[0]["task"]
    assert state.called and state.calls[0].request.url.params["skip_current_image"] == "true"
    assert any(stage.endswith("(step 10/20)") and pct == 50 for pct, stage in progress)
    assert [(i.width, i.seed) for i in images] == [(8, 11), (8, 12)]


def test_img2img_sends_the_init_image_mask_and_denoising_strength(engine, progress):
    mask = Image.new("L", (16, 16), 0)
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        route = router.post("/sdapi/v1/img2img").mock(
            return_value=httpx.Response(200, json={"images": [b64png(16, 16)], "info": "{}"})
        )
        router.get("/sdapi/v1/progress").mock(
            return_value=httpx.Response(200, json={"progress": 0})
        )
        engine.run_operation(
            OperationRequest(
                capability=Capability.INPAINT,
                operation="inpaint",
                image=png(16, 16),
                mask=buf.getvalue(),
                prompt="a door",
                params={"denoising_strength": 0.6},
            ),
            progress,
        )
    body = json.loads(route.calls[0].request.content)
    assert len(body["init_images"]) == 1 and body["mask"]
    assert body["denoising_strength"] == 0.6 and body["inpainting_mask_invert"] == 0
    assert Image.open(io.BytesIO(base64.b64decode(body["mask"]))).size == (16, 16)


def test_a_canceled_job_interrupts_the_webui(engine):
    def progress(percent, stage):
        if "step" in stage:
            raise JobCanceled("job")

    # The abandoned txt2img call may still be in flight when the mock closes.
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post("/sdapi/v1/txt2img").mock(
            side_effect=slow_answer({"images": [b64png()], "info": "{}"}, 0.2)
        )
        router.get("/sdapi/v1/progress").mock(
            return_value=httpx.Response(
                200, json={"progress": 0.1, "state": {"sampling_step": 2, "sampling_steps": 20}}
            )
        )
        interrupt = router.post("/sdapi/v1/interrupt").mock(
            return_value=httpx.Response(200, json={})
        )
        with pytest.raises(JobCanceled):
            engine.generate(GenerationRequest(prompt="p"), progress)
    assert interrupt.called


def test_cancel_by_handle_interrupts_only_our_running_task(engine):
    with respx.mock(base_url=BASE) as router:
        check = router.post("/internal/progress").mock(
            side_effect=[
                httpx.Response(200, json={"active": False, "queued": False, "completed": True}),
                httpx.Response(200, json={"active": True, "queued": False, "completed": False}),
            ]
        )
        interrupt = router.post("/sdapi/v1/interrupt").mock(return_value=httpx.Response(200))
        engine.cancel({"engine": "automatic1111", "task": "task(abc)"})
        assert not interrupt.called
        engine.cancel({"engine": "automatic1111", "task": "task(abc)"})
    assert interrupt.call_count == 1
    assert json.loads(check.calls[0].request.content)["id_task"] == "task(abc)"


def test_a_webui_error_fails_with_its_message(engine, progress):
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post("/sdapi/v1/txt2img").mock(
            return_value=httpx.Response(
                422,
                json={
                    "error": "OutOfMemoryError",
                    "detail": "",
                    "body": "",
                    "errors": "CUDA out of memory",
                },
            )
        )
        router.get("/sdapi/v1/progress").mock(
            return_value=httpx.Response(200, json={"progress": 0})
        )
        with pytest.raises(EngineError, match="OutOfMemoryError: CUDA out of memory") as info:
            engine.generate(GenerationRequest(prompt="p"), progress)
    assert not info.value.retryable


def test_a_timeout_is_retried_then_reported(engine, progress, sleeps):
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        route = router.post("/sdapi/v1/txt2img").mock(side_effect=httpx.ReadTimeout("slow"))
        router.get("/sdapi/v1/progress").mock(
            return_value=httpx.Response(200, json={"progress": 0})
        )
        with pytest.raises(EngineError, match="did not answer in time") as info:
            engine.generate(GenerationRequest(prompt="p"), progress)
    assert info.value.retryable and route.call_count == 3


def test_upscale_uses_extra_single_image(engine, progress):
    with respx.mock(base_url=BASE) as router:
        route = router.post("/sdapi/v1/extra-single-image").mock(
            return_value=httpx.Response(200, json={"image": b64png(32, 32), "html_info": ""})
        )
        out = engine.run_operation(
            OperationRequest(
                capability=Capability.UPSCALE, operation="upscale", image=png(), params={"scale": 4}
            ),
            progress,
        )
    body = json.loads(route.calls[0].request.content)
    assert body["upscaling_resize"] == 4.0 and body["upscaler_1"] == "R-ESRGAN 4x+"
    assert out[0].width == 32


def test_progress_is_reported_from_the_jobs_own_thread(engine):
    seen_threads = set()

    def progress(percent, stage):
        seen_threads.add(threading.get_ident())

    with respx.mock(base_url=BASE) as router:
        router.post("/sdapi/v1/txt2img").mock(
            side_effect=slow_answer({"images": [b64png()], "info": "{}"}, 0.15)
        )
        router.get("/sdapi/v1/progress").mock(
            return_value=httpx.Response(200, json={"progress": 0.3})
        )
        engine.generate(GenerationRequest(prompt="p"), progress)
    assert seen_threads == {threading.get_ident()}  # database writes stay on the job's thread

"""fal's queue against a respx fake: submit, status (IN_QUEUE/IN_PROGRESS/COMPLETED), result,
cancel; `Authorization: Key …`."""

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
from generations.engines.fal import FalEngine, app_id

from .conftest import png

QUEUE = "https://queue.fal.run"
CDN = "https://v3.fal.media/files"
REQ = f"{QUEUE}/fal-ai/flux/requests/r1"


def submitted(request_id: str = "r1", app: str = "fal-ai/flux"):
    base = f"{QUEUE}/{app}/requests/{request_id}"
    return {
        "request_id": request_id,
        "response_url": base,
        "status_url": f"{base}/status",
        "cancel_url": f"{base}/cancel",
        "queue_position": 2,
    }


@pytest.fixture
def engine(settings, monkeypatch, retry, sleeps):
    settings.FAL_KEY = "key-id:key-secret"
    return FalEngine(retry=retry, sleep=sleeps, poll_interval=0.5)


def test_it_submits_polls_fetches_and_downloads(engine, progress, sleeps):
    handles = []
    with respx.mock() as router, upstream_sink(handles.append):
        submit = router.post(f"{QUEUE}/fal-ai/flux/dev").mock(
            return_value=httpx.Response(200, json=submitted())
        )
        status = router.get(f"{REQ}/status").mock(
            side_effect=[
                httpx.Response(202, json={"status": "IN_QUEUE", "queue_position": 1}),
                httpx.Response(
                    202, json={"status": "IN_PROGRESS", "logs": [{"message": "step 10/28"}]}
                ),
                httpx.Response(200, json={"status": "COMPLETED", "logs": []}),
            ]
        )
        result = router.get(REQ).mock(
            return_value=httpx.Response(
                200,
                json={
                    "images": [
                        {
                            "url": f"{CDN}/a.jpg",
                            "width": 8,
                            "height": 8,
                            "content_type": "image/png",
                        }
                    ],
                    "seed": 42,
                    "has_nsfw_concepts": [False],
                },
            )
        )
        cdn = router.get(f"{CDN}/a.jpg").mock(return_value=httpx.Response(200, content=png()))
        images = engine.generate(
            GenerationRequest(
                prompt="a mountain lake",
                width=1024,
                height=768,
                seed=42,
                provider_model="fal-ai/flux/dev",
            ),
            progress,
        )
    sent = submit.calls[0].request
    assert sent.headers["Authorization"] == "Key key-id:key-secret"
    assert json.loads(sent.content) == {
        "prompt": "a mountain lake",
        "image_size": {"width": 1024, "height": 768},
        "seed": 42,
        "num_images": 1,
    }
    assert status.call_count == 3 and status.calls[0].request.url.params["logs"] == "1"
    assert status.calls[0].request.headers["Authorization"] == "Key key-id:key-secret"
    assert result.called and "authorization" not in cdn.calls[0].request.headers
    assert images[0].seed == 42
    assert handles[0]["request_id"] == "r1" and handles[0]["engine"] == "fal"
    stages = [s for _, s in progress]
    assert "queued at fal (position 2)" in stages and "queued at fal (position 1)" in stages
    assert any("step 10/28" in s for s in stages)
    assert sleeps == [0.5, 0.5]


def test_aspect_ratio_models_and_reference_images_use_the_edit_endpoint(engine, progress):
    with respx.mock() as router:
        edit = router.post(f"{QUEUE}/fal-ai/nano-banana-pro/edit").mock(
            return_value=httpx.Response(200, json=submitted(app="fal-ai/nano-banana-pro"))
        )
        base = f"{QUEUE}/fal-ai/nano-banana-pro/requests/r1"
        router.get(f"{base}/status").mock(
            return_value=httpx.Response(200, json={"status": "COMPLETED"})
        )
        router.get(base).mock(
            return_value=httpx.Response(200, json={"images": [{"url": f"{CDN}/b.png"}]})
        )
        router.get(f"{CDN}/b.png").mock(return_value=httpx.Response(200, content=png()))
        engine.generate(
            GenerationRequest(
                prompt="logo on a tote",
                width=1920,
                height=1080,
                reference_images=[png()],
                provider_model="fal-ai/nano-banana-pro?_size=aspect_ratio"
                "&_edit_model=fal-ai/nano-banana-pro/edit&_image_field=image_urls",
            ),
            progress,
        )
    body = json.loads(edit.calls[0].request.content)
    assert body["aspect_ratio"] == "16:9" and "image_size" not in body
    assert body["image_urls"][0].startswith("data:image/png;base64,")


def test_a_failed_request_fails_with_fals_detail(engine, progress):
    with respx.mock() as router:
        router.post(f"{QUEUE}/fal-ai/flux/dev").mock(
            return_value=httpx.Response(200, json=submitted())
        )
        router.get(f"{REQ}/status").mock(
            return_value=httpx.Response(200, json={"status": "COMPLETED"})
        )
        router.get(REQ).mock(
            return_value=httpx.Response(
                422,
                json={
                    "detail": [
                        {
                            "loc": ["body", "prompt"],
                            "msg": "prompt is too long",
                            "type": "value_error",
                        }
                    ]
                },
            )
        )
        with pytest.raises(EngineError, match="prompt is too long") as info:
            engine.generate(
                GenerationRequest(prompt="p", provider_model="fal-ai/flux/dev"), progress
            )
    assert info.value.retryable is False


def test_all_outputs_flagged_is_a_content_filter_failure(engine, progress):
    with respx.mock() as router:
        router.post(f"{QUEUE}/fal-ai/flux/dev").mock(
            return_value=httpx.Response(200, json=submitted())
        )
        router.get(f"{REQ}/status").mock(
            return_value=httpx.Response(200, json={"status": "COMPLETED"})
        )
        router.get(REQ).mock(
            return_value=httpx.Response(
                200, json={"images": [{"url": f"{CDN}/x.png"}], "has_nsfw_concepts": [True]}
            )
        )
        with pytest.raises(EngineError, match="content filtered"):
            engine.generate(
                GenerationRequest(prompt="p", provider_model="fal-ai/flux/dev"), progress
            )


def test_a_canceled_job_cancels_the_request_upstream(engine):
    def progress(percent, stage):
        if stage.startswith("queued"):
            raise JobCanceled("job")

    with respx.mock(assert_all_called=False) as router:
        router.post(f"{QUEUE}/fal-ai/flux/dev").mock(
            return_value=httpx.Response(200, json=submitted())
        )
        router.get(f"{REQ}/status").mock(
            return_value=httpx.Response(202, json={"status": "IN_QUEUE", "queue_position": 0})
        )
        cancel = router.put(f"{REQ}/cancel").mock(
            return_value=httpx.Response(202, json={"status": "CANCELLATION_REQUESTED"})
        )
        with pytest.raises(JobCanceled):
            engine.generate(
                GenerationRequest(prompt="p", provider_model="fal-ai/flux/dev"), progress
            )
    assert cancel.calls[0].request.headers["Authorization"] == "Key key-id:key-secret"


def test_cancel_by_handle_accepts_already_completed(engine):
    with respx.mock() as router:
        cancel = router.put(f"{REQ}/cancel").mock(
            return_value=httpx.Response(400, json={"status": "ALREADY_COMPLETED"})
        )
        engine.cancel({"engine": "fal", "request_id": "r1", "model": "fal-ai/flux/dev"})
    assert cancel.called


def test_it_retries_a_429_on_submit_and_a_timeout_on_status(engine, progress, sleeps):
    with respx.mock() as router:
        submit = router.post(f"{QUEUE}/fal-ai/flux/schnell").mock(
            side_effect=[
                httpx.Response(
                    429, headers={"Retry-After": "4"}, json={"detail": "Too many requests"}
                ),
                httpx.Response(200, json=submitted()),
            ]
        )
        router.get(f"{REQ}/status").mock(
            side_effect=[
                httpx.ReadTimeout("slow"),
                httpx.Response(200, json={"status": "COMPLETED"}),
            ]
        )
        router.get(REQ).mock(
            return_value=httpx.Response(200, json={"images": [{"url": f"{CDN}/c.png"}]})
        )
        router.get(f"{CDN}/c.png").mock(return_value=httpx.Response(200, content=png()))
        images = engine.generate(
            GenerationRequest(prompt="p", provider_model="fal-ai/flux/schnell"), progress
        )
    assert submit.call_count == 2 and sleeps[0] == 4.0 and len(images) == 1


def test_status_urls_on_another_host_never_get_the_key(engine, progress):
    with respx.mock() as router:
        answer = submitted()
        answer["status_url"] = "https://evil.example.test/fal-ai/flux/requests/r1/status"
        router.post(f"{QUEUE}/fal-ai/flux/dev").mock(return_value=httpx.Response(200, json=answer))
        own = router.get(f"{REQ}/status").mock(
            return_value=httpx.Response(200, json={"status": "COMPLETED"})
        )
        router.get(REQ).mock(
            return_value=httpx.Response(200, json={"images": [{"url": f"{CDN}/c.png"}]})
        )
        router.get(f"{CDN}/c.png").mock(return_value=httpx.Response(200, content=png()))
        engine.generate(GenerationRequest(prompt="p", provider_model="fal-ai/flux/dev"), progress)
    assert own.called


def test_it_runs_video_and_keeps_the_video_type(engine, progress):
    video = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
    app = "fal-ai/kling-video"
    base = f"{QUEUE}/{app}/requests/r1"
    with respx.mock() as router:
        submit = router.post(f"{QUEUE}/{app}/v1.6/standard/image-to-video").mock(
            return_value=httpx.Response(200, json=submitted(app=app))
        )
        router.get(f"{base}/status").mock(
            return_value=httpx.Response(200, json={"status": "COMPLETED"})
        )
        router.get(base).mock(
            return_value=httpx.Response(
                200, json={"video": {"url": f"{CDN}/v.mp4", "content_type": "video/mp4"}}
            )
        )
        router.get(f"{CDN}/v.mp4").mock(return_value=httpx.Response(200, content=video))
        out = engine.run_operation(
            OperationRequest(
                capability=Capability.VIDEO,
                operation="image-to-video",
                image=png(),
                prompt="slow pan",
                provider_model=f"{app}/v1.6/standard/image-to-video",
            ),
            progress,
        )
    body = json.loads(submit.calls[0].request.content)
    assert body["image_url"].startswith("data:image/png") and body["prompt"] == "slow pan"
    assert out[0].content_type == "video/mp4" and out[0].data == video


def test_app_id_is_the_first_two_segments():
    assert app_id("fal-ai/flux/dev") == "fal-ai/flux"
    assert app_id("fal-ai/birefnet") == "fal-ai/birefnet"

"""ComfyUI against a fake ComfyUI server on 127.0.0.1 (real sockets): upload, POST /prompt with
the shipped API-format workflows, queue position, /history polling, /view downloads, cancel."""

from __future__ import annotations

import json

import pytest

from generations.engines.base import (
    Capability,
    EngineError,
    GenerationRequest,
    JobCanceled,
    OperationRequest,
    upstream_sink,
)
from generations.engines.comfyui import ComfyUIEngine, fill, load_workflow

from .conftest import multipart, png
from .fakeserver import Reply, serve


class FakeComfy:
    """Follows ComfyUI's sequence: the prompt waits in the queue, runs, then shows in history."""

    def __init__(self, fail: bool = False, node_errors: bool = False) -> None:
        self.fail = fail
        self.node_errors = node_errors
        self.polls = 0
        self.prompt: dict | None = None
        self.deleted: list[str] = []
        self.interrupted = 0
        self.queue_calls = 0
        # What GET /queue shows, call by call (the last repeats): waiting, running, done.
        self.queue_states = [
            {
                "queue_running": [[2, "other", {}, {}, []]],
                "queue_pending": [[3, "pid-1", {}, {}, []]],
            },
            {"queue_running": [[3, "pid-1", {}, {}, []]], "queue_pending": []},
            {"queue_running": [], "queue_pending": []},
        ]

    def __call__(self, request, base):
        if request.method == "POST" and request.path == "/upload/image":
            parts = multipart(request.headers["content-type"], request.body)
            return Reply(200, {"name": parts["image"][0][0], "subfolder": "", "type": "input"})
        if request.method == "POST" and request.path == "/prompt":
            if self.node_errors:
                return Reply(
                    400,
                    {
                        "error": {
                            "type": "prompt_outputs_failed_validation",
                            "message": "Prompt outputs failed validation",
                            "details": "ckpt_name: 'missing.safetensors' not in []",
                        },
                        "node_errors": {"4": {}},
                    },
                )
            self.prompt = request.json()
            return Reply(200, {"prompt_id": "pid-1", "number": 3, "node_errors": {}})
        if request.path == "/queue" and request.method == "GET":
            state = self.queue_states[min(self.queue_calls, len(self.queue_states) - 1)]
            self.queue_calls += 1
            return Reply(200, state)
        if request.path == "/queue" and request.method == "POST":
            self.deleted += request.json().get("delete", [])
            return Reply(200, b"")
        if request.path == "/interrupt":
            self.interrupted += 1
            return Reply(200, b"")
        if request.path == "/history/pid-1":
            self.polls += 1
            if self.polls < 3:
                return Reply(200, {})
            if self.fail:
                return Reply(
                    200,
                    {
                        "pid-1": {
                            "outputs": {},
                            "status": {
                                "status_str": "error",
                                "completed": False,
                                "messages": [
                                    ["execution_start", {"prompt_id": "pid-1"}],
                                    [
                                        "execution_error",
                                        {
                                            "node_type": "KSampler",
                                            "exception_message": "CUDA out of memory",
                                        },
                                    ],
                                ],
                            },
                        }
                    },
                )
            return Reply(
                200,
                {
                    "pid-1": {
                        "prompt": [],
                        "outputs": {
                            "9": {
                                "images": [
                                    {
                                        "filename": "studio_00001_.png",
                                        "subfolder": "",
                                        "type": "output",
                                    },
                                    {
                                        "filename": "studio_00002_.png",
                                        "subfolder": "",
                                        "type": "output",
                                    },
                                ]
                            },
                            "20": {
                                "images": [
                                    {"filename": "prev.png", "subfolder": "", "type": "temp"}
                                ]
                            },
                        },
                        "status": {"status_str": "success", "completed": True, "messages": []},
                    }
                },
            )
        if request.path == "/view":
            return Reply(200, png(24, 16), {"Content-Type": "image/png"})
        return Reply(404, {"error": "not found"})


@pytest.fixture
def engine(retry, sleeps):
    return ComfyUIEngine(retry=retry, sleep=sleeps, poll_interval=0.01)


def test_it_queues_the_text_to_image_workflow_and_fetches_outputs(
    settings, engine, progress, monkeypatch
):
    fake = FakeComfy()
    handles = []
    with serve(fake) as (base, seen), upstream_sink(handles.append):
        settings.COMFYUI_URL = base
        images = engine.generate(
            GenerationRequest(
                prompt="a koi pond",
                negative_prompt="text",
                width=768,
                height=512,
                count=2,
                seed=99,
                provider_model="juggernaut.safetensors",
            ),
            progress,
        )
    graph = fake.prompt["prompt"]
    assert fake.prompt["client_id"]
    assert graph["6"]["inputs"]["text"] == "a koi pond" and graph["7"]["inputs"]["text"] == "text"
    assert graph["5"]["inputs"] == {"width": 768, "height": 512, "batch_size": 2}
    assert graph["3"]["inputs"]["seed"] == 99
    assert graph["4"]["inputs"]["ckpt_name"] == "juggernaut.safetensors"
    views = [r for r in seen if r.path == "/view"]
    assert [v.query["filename"][0] for v in views] == ["studio_00001_.png", "studio_00002_.png"]
    assert all(v.query["type"] == ["output"] for v in views)  # previews (temp) are not outputs
    assert [(i.width, i.seed) for i in images] == [(24, 99), (24, 100)]
    assert handles == [{"engine": "comfyui", "prompt_id": "pid-1"}]
    stages = [s for _, s in progress]
    assert "queued on ComfyUI (1 ahead)" in stages and "running on ComfyUI" in stages


def test_inpaint_uploads_image_and_mask_first(settings, engine, progress, monkeypatch):
    fake = FakeComfy()
    with serve(fake) as (base, seen):
        settings.COMFYUI_URL = base
        engine.run_operation(
            OperationRequest(
                capability=Capability.INPAINT,
                operation="inpaint",
                image=png(32, 32),
                mask=png(8, 8, (255, 255, 255)),
                prompt="a window",
            ),
            progress,
        )
    uploads = [r for r in seen if r.path == "/upload/image"]
    assert len(uploads) == 2
    names = [multipart(u.headers["content-type"], u.body)["image"][0][0] for u in uploads]
    graph = fake.prompt["prompt"]
    assert graph["10"]["inputs"]["image"] == names[0] and graph["11"]["inputs"]["image"] == names[1]
    assert graph["13"]["class_type"] == "VAEEncodeForInpaint"


def test_an_execution_error_fails_with_comfyuis_message(settings, engine, progress, monkeypatch):
    with serve(FakeComfy(fail=True)) as (base, _):
        settings.COMFYUI_URL = base
        with pytest.raises(EngineError, match="KSampler: CUDA out of memory"):
            engine.generate(GenerationRequest(prompt="p"), progress)


def test_a_rejected_workflow_fails_with_the_validation_message(
    settings, engine, progress, monkeypatch
):
    with serve(FakeComfy(node_errors=True)) as (base, _):
        settings.COMFYUI_URL = base
        with pytest.raises(EngineError, match="failed validation: ckpt_name") as info:
            engine.generate(GenerationRequest(prompt="p"), progress)
    assert not info.value.retryable


def test_a_canceled_job_deletes_and_interrupts_its_prompt(settings, engine, monkeypatch):
    fake = FakeComfy()
    fake.queue_states = fake.queue_states[1:2]  # ours is running, and stays so

    def progress(percent, stage):
        if stage == "running on ComfyUI":
            raise JobCanceled("job")

    with serve(fake) as (base, _):
        settings.COMFYUI_URL = base
        with pytest.raises(JobCanceled):
            engine.generate(GenerationRequest(prompt="p"), progress)
    assert fake.deleted == ["pid-1"] and fake.interrupted == 1


def test_an_unreachable_server_is_a_retryable_error(settings, engine, progress, monkeypatch):
    settings.COMFYUI_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(EngineError, match="Could not reach ComfyUI") as info:
        engine.generate(GenerationRequest(prompt="p"), progress)
    assert info.value.retryable


def test_fill_keeps_types_and_rejects_unknown_placeholders():
    assert fill({"a": "{{n}}", "b": ["x {{n}} y"]}, {"n": 3}) == {"a": 3, "b": ["x 3 y"]}
    with pytest.raises(EngineError, match="unknown placeholder"):
        fill({"a": "{{missing}}"}, {})


def test_every_shipped_workflow_fills_completely():
    values = {
        "checkpoint": "c",
        "prompt": "p",
        "negative_prompt": "",
        "width": 8,
        "height": 8,
        "count": 1,
        "seed": 1,
        "steps": 2,
        "cfg": 7.0,
        "denoise": 0.5,
        "image": "i.png",
        "mask": "m.png",
    }
    for name in ("text_to_image", "image_to_image", "inpaint"):
        text = json.dumps(fill(load_workflow(name), values))
        assert "{{" not in text

"""ComfyUI: API-format workflow templates (shipped in comfyui_workflows/) are filled in and queued
with POST /prompt {prompt, client_id} → prompt_id; inputs go up through POST /upload/image;
progress comes from GET /queue (position) while GET /history/{prompt_id} is polled until the
prompt finishes; outputs are fetched from GET /view?filename=&subfolder=&type=.

Settings: COMFYUI_URL; COMFYUI_CHECKPOINT (default checkpoint file), COMFYUI_WORKFLOW_DIR (your
own templates with the same names), COMFYUI_STEPS / COMFYUI_CFG.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from generations.engines import images
from generations.engines.base import (
    Capability,
    EngineError,
    EngineImage,
    GenerationRequest,
    JobCanceled,
    OperationRequest,
    ProgressFn,
    record_upstream,
)
from generations.engines.http import (
    Deadline,
    RemoteEngine,
    image_output,
    make_client,
    setting_float,
    setting_str,
    split_provider_model,
)
from generations.engines.registry import register_engine

WORKFLOW_DIR = Path(__file__).with_name("comfyui_workflows")
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def load_workflow(name: str) -> dict[str, Any]:
    folder = Path(setting_str("COMFYUI_WORKFLOW_DIR") or WORKFLOW_DIR)
    path = folder / f"{name}.json"
    if not path.exists():
        path = WORKFLOW_DIR / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise EngineError(f"The ComfyUI workflow {path} cannot be read: {exc}") from exc


def fill(template: Any, values: dict[str, Any]) -> Any:
    """Replace {{name}} placeholders: a value that is exactly one placeholder takes the value's
    own type (numbers stay numbers); placeholders inside longer strings are substituted as text."""
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole:
            key = whole.group(1)
            if key not in values:
                raise EngineError(
                    f"The ComfyUI workflow uses an unknown placeholder {{{{{key}}}}}."
                )
            return values[key]
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)
    return template


@register_engine
class ComfyUIEngine(RemoteEngine):
    name = "comfyui"
    provider = "ComfyUI"
    capabilities = frozenset(
        {Capability.TEXT_TO_IMAGE, Capability.IMAGE_TO_IMAGE, Capability.INPAINT}
    )
    required_setting = "COMFYUI_URL"
    base_url_setting = "COMFYUI_URL"

    def _client(self) -> httpx.Client:
        return make_client(self.credential())

    def _values(self, checkpoint: str, **values: Any) -> dict[str, Any]:
        seed = values.get("seed")
        return {
            "checkpoint": checkpoint
            or setting_str("COMFYUI_CHECKPOINT")
            or "sd_xl_base_1.0.safetensors",
            "steps": int(setting_float("COMFYUI_STEPS", 25)),
            "cfg": setting_float("COMFYUI_CFG", 7.0),
            "negative_prompt": "",
            "count": 1,
            "denoise": 0.75,
            **values,
            "seed": seed if seed is not None else random.randrange(2**31),
        }

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        checkpoint, options = split_provider_model(request.provider_model)
        with self._client() as client:
            values = self._values(
                checkpoint,
                prompt=request.prompt,
                negative_prompt=request.negative_prompt,
                width=request.width,
                height=request.height,
                count=request.count,
                seed=request.seed,
                **options,
            )
            workflow = "text_to_image"
            if request.init_image:
                values["image"] = self._upload(client, request.init_image)
                values["denoise"] = float(request.params.get("denoising_strength", 0.75))
                workflow = "image_to_image"
                if request.mask_image:
                    values["mask"] = self._upload(
                        client,
                        images.mask_png(request.mask_image, images.image_size(request.init_image)),
                    )
                    workflow = "inpaint"
            return self._run(client, load_workflow(workflow), values, progress)[: request.count]

    def run_operation(self, request: OperationRequest, progress: ProgressFn) -> list[EngineImage]:
        if request.capability not in (Capability.INPAINT, Capability.IMAGE_TO_IMAGE):
            return super().run_operation(request, progress)
        checkpoint, options = split_provider_model(request.provider_model)
        with self._client() as client:
            values = self._values(
                checkpoint,
                prompt=request.prompt,
                negative_prompt=str(request.params.get("negative_prompt", "")),
                seed=request.params.get("seed"),
                denoise=float(request.params.get("denoising_strength", 0.75)),
                **options,
            )
            values["image"] = self._upload(client, request.image)
            workflow = "image_to_image"
            if request.mask is not None:
                size = images.image_size(request.image)
                values["mask"] = self._upload(client, images.mask_png(request.mask, size))
                workflow = "inpaint"
            return self._run(client, load_workflow(workflow), values, progress)

    def cancel(self, handle: dict[str, Any]) -> None:
        prompt_id = handle.get("prompt_id")
        if not prompt_id or not self.is_configured():
            return
        with self._client() as client:
            self._stop(client, str(prompt_id))

    # --- protocol ------------------------------------------------------------------------------------

    def _upload(self, client: httpx.Client, data: bytes) -> str:
        png = images.as_png(data)
        answer = self.transport.json(
            client,
            "POST",
            "/upload/image",
            files={"image": (f"studio-{uuid.uuid4().hex}.png", png, "image/png")},
            data={"type": "input", "overwrite": "true"},
        )
        name = answer.get("name") if isinstance(answer, dict) else None
        if not name:
            raise EngineError("ComfyUI did not accept the uploaded image.")
        sub = answer.get("subfolder") or ""
        return f"{sub}/{name}" if sub else str(name)

    def _run(
        self,
        client: httpx.Client,
        workflow: dict[str, Any],
        values: dict[str, Any],
        progress: ProgressFn,
    ) -> list[EngineImage]:
        graph = fill(workflow, values)
        client_id = uuid.uuid4().hex
        progress(1, "queued on ComfyUI")
        answer = self.transport.json(
            client, "POST", "/prompt", json={"prompt": graph, "client_id": client_id}
        )
        prompt_id = answer.get("prompt_id") if isinstance(answer, dict) else None
        if not prompt_id:
            raise EngineError(f"ComfyUI refused the workflow: {answer.get('node_errors')}")
        deadline = Deadline()
        try:
            record_upstream({"engine": self.name, "prompt_id": prompt_id})
            entry = self._wait(client, str(prompt_id), progress, deadline)
        except JobCanceled:
            self._stop(client, str(prompt_id))
            raise
        return self._outputs(client, entry, int(values.get("seed") or 0))

    def _wait(
        self, client: httpx.Client, prompt_id: str, progress: ProgressFn, deadline: Deadline
    ) -> dict[str, Any]:
        while True:
            history = self.transport.json(client, "GET", f"/history/{prompt_id}")
            entry = history.get(prompt_id) if isinstance(history, dict) else None
            if entry:
                # A history entry appears when the prompt has finished (success or error).
                return entry
            if deadline.expired():
                self._stop(client, prompt_id)
                raise EngineError(
                    f"ComfyUI did not finish within {deadline.seconds:.0f} s; interrupted."
                )
            progress(*self._queue_state(client, prompt_id))
            self.sleep(self.poll_interval)

    def _queue_state(self, client: httpx.Client, prompt_id: str) -> tuple[int, str]:
        try:
            queue = self.transport.json(client, "GET", "/queue")
        except EngineError:
            return 5, "waiting for ComfyUI"
        running = [item[1] for item in queue.get("queue_running", []) if len(item) > 1]
        pending = sorted(
            (item for item in queue.get("queue_pending", []) if len(item) > 1),
            key=lambda item: item[0],
        )
        if prompt_id in running:
            return 50, "running on ComfyUI"
        ahead = next((i for i, item in enumerate(pending) if item[1] == prompt_id), None)
        if ahead is not None:
            return 3, f"queued on ComfyUI ({ahead + len(running)} ahead)"
        return 80, "finishing on ComfyUI"

    def _outputs(self, client: httpx.Client, entry: dict[str, Any], seed: int) -> list[EngineImage]:
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            detail = ""
            for message in status.get("messages") or []:
                if isinstance(message, list) and message and message[0] == "execution_error":
                    info = message[1] if len(message) > 1 else {}
                    detail = f"{info.get('node_type', '')}: {info.get('exception_message', '')}"
            raise EngineError(f"ComfyUI failed to run the workflow. {detail}".strip())
        files = [
            image
            for node in (entry.get("outputs") or {}).values()
            for image in node.get("images", [])
            if image.get("type", "output") == "output"
        ]
        if not files:
            raise EngineError("ComfyUI finished but saved no images.")
        out = []
        for i, image in enumerate(files):
            response = self.transport.request(
                client,
                "GET",
                "/view",
                params={
                    "filename": image["filename"],
                    "subfolder": image.get("subfolder", ""),
                    "type": image.get("type", "output"),
                },
            )
            out.append(image_output(response.content, self.provider, seed=seed + i))
        return out

    def _stop(self, client: httpx.Client, prompt_id: str) -> None:
        """Drop the prompt from the queue; interrupt it only if it is the one running."""
        try:
            self.transport.request(
                client, "POST", "/queue", json={"delete": [prompt_id]}, attempts=1
            )
            queue = self.transport.json(client, "GET", "/queue", attempts=1)
            running = [item[1] for item in queue.get("queue_running", []) if len(item) > 1]
            if prompt_id in running:
                self.transport.request(
                    client, "POST", "/interrupt", json={"prompt_id": prompt_id}, attempts=1
                )
        except EngineError:
            pass

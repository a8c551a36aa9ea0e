"""AUTOMATIC1111 stable-diffusion-webui started with `--api`: /sdapi/v1/txt2img, /sdapi/v1/img2img
(init image, mask, denoising_strength), /sdapi/v1/extra-single-image (upscale), live progress from
/sdapi/v1/progress, /sdapi/v1/interrupt to stop.

The generate call blocks until done, so it runs on a helper thread while this thread polls the
progress endpoint and reports it (database writes stay on the job's own thread).
Settings: A1111_URL, optional A1111_AUTH=user:pass (the webui's --api-auth), A1111_UPSCALER.
"""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
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
    b64decode,
    image_output,
    make_client,
    setting_float,
    setting_str,
    split_provider_model,
    with_heartbeat,
)
from generations.engines.registry import register_engine


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@register_engine
class Automatic1111Engine(RemoteEngine):
    name = "automatic1111"
    provider = "AUTOMATIC1111"
    capabilities = frozenset(
        {
            Capability.TEXT_TO_IMAGE,
            Capability.IMAGE_TO_IMAGE,
            Capability.INPAINT,
            Capability.UPSCALE,
        }
    )
    required_setting = "A1111_URL"
    base_url_setting = "A1111_URL"
    default_base_url = ""

    def _client(self) -> httpx.Client:
        auth = None
        raw = setting_str("A1111_AUTH")
        if raw:
            user, _, password = raw.partition(":")
            auth = (user, password)
        # A local GPU can take minutes for a big batch.
        return make_client(
            self.credential(), auth=auth, read_timeout=setting_float("A1111_TIMEOUT", 600.0)
        )

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        checkpoint, options = split_provider_model(request.provider_model)
        body: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "width": request.width,
            "height": request.height,
            "seed": request.seed if request.seed is not None else -1,
            "batch_size": request.count,
            "n_iter": 1,
            "send_images": True,
            "save_images": False,
        }
        path = "/sdapi/v1/txt2img"
        if request.init_image:
            path = "/sdapi/v1/img2img"
            body["init_images"] = [b64(images.as_png(request.init_image))]
            body["denoising_strength"] = float(request.params.get("denoising_strength", 0.75))
            if request.mask_image:
                self._add_mask(body, request.init_image, request.mask_image)
        if checkpoint:
            body["override_settings"] = {"sd_model_checkpoint": checkpoint}
        body.update(options)
        return self._run(path, body, progress, request.count)

    def run_operation(self, request: OperationRequest, progress: ProgressFn) -> list[EngineImage]:
        if request.capability == Capability.UPSCALE:
            body = {
                "image": b64(images.as_png(request.image)),
                "upscaling_resize": float(request.params.get("scale", 2) or 2),
                "upscaler_1": setting_str("A1111_UPSCALER") or "R-ESRGAN 4x+",
            }
            progress(10, "upscaling on AUTOMATIC1111")
            with self._client() as client:
                answer = with_heartbeat(
                    lambda: self.transport.json(
                        client, "POST", "/sdapi/v1/extra-single-image", json=body
                    ),
                    progress,
                    10,
                    "upscaling on AUTOMATIC1111",
                    client=client,
                )
            if not isinstance(answer, dict) or not answer.get("image"):
                raise EngineError("AUTOMATIC1111 returned no upscaled image.")
            progress(100, "upscaled")
            return [image_output(b64decode(answer["image"], self.provider), self.provider)]
        if request.capability not in (Capability.INPAINT, Capability.IMAGE_TO_IMAGE):
            return super().run_operation(request, progress)
        checkpoint, options = split_provider_model(request.provider_model)
        body = {
            "prompt": request.prompt,
            "negative_prompt": str(request.params.get("negative_prompt", "")),
            "init_images": [b64(images.as_png(request.image))],
            "denoising_strength": float(request.params.get("denoising_strength", 0.75)),
            "seed": request.params.get("seed", -1),
            "batch_size": 1,
            "send_images": True,
            "save_images": False,
        }
        w, h = images.image_size(request.image)
        body.update(width=w, height=h)
        if request.mask is not None:
            self._add_mask(body, request.image, request.mask)
        if checkpoint:
            body["override_settings"] = {"sd_model_checkpoint": checkpoint}
        body.update(options)
        return self._run("/sdapi/v1/img2img", body, progress, 1)

    @staticmethod
    def _add_mask(body: dict[str, Any], image: bytes, mask: bytes) -> None:
        # White = repaint (inpainting_mask_invert 0), as in our mask convention.
        body["mask"] = b64(images.mask_png(mask, images.image_size(image)))
        body.setdefault("inpainting_mask_invert", 0)
        body.setdefault("inpainting_fill", 1)  # start from the original pixels
        body.setdefault("inpaint_full_res", False)
        body.setdefault("mask_blur", 4)

    def cancel(self, handle: dict[str, Any]) -> None:
        """Interrupt only when the webui says our task is the one running."""
        task = handle.get("task")
        if not task or not self.is_configured():
            return
        with self._client() as client:
            state = self.transport.request(
                client,
                "POST",
                "/internal/progress",
                json={"id_task": task, "id_live_preview": -1},
                ok=(404, 422),
                attempts=1,
            )
            if state.is_success and state.json().get("active"):
                self.transport.request(client, "POST", "/sdapi/v1/interrupt", attempts=1)

    def _run(
        self, path: str, body: dict[str, Any], progress: ProgressFn, count: int
    ) -> list[EngineImage]:
        task = f"task({uuid.uuid4().hex})"
        body["force_task_id"] = task  # lets cancel() check that the running task is ours
        deadline = Deadline()
        progress(1, "sent to AUTOMATIC1111")
        pool = ThreadPoolExecutor(max_workers=1)
        with self._client() as client:
            future = pool.submit(self.transport.json, client, "POST", path, json=body)
            try:
                record_upstream({"engine": self.name, "task": task})
                while not future.done():
                    future_wait = min(self.poll_interval, 5.0)
                    try:
                        future.result(timeout=future_wait)
                        break
                    except TimeoutError:
                        pass
                    if deadline.expired():
                        self._interrupt(client)
                        raise EngineError(
                            f"AUTOMATIC1111 did not finish within {deadline.seconds:.0f} s; "
                            "interrupted."
                        )
                    self._report(client, progress)
            except JobCanceled:
                self._interrupt(client)
                raise
            finally:
                pool.shutdown(wait=False)  # an interrupted call ends when its client closes
            answer = future.result()
        if not isinstance(answer, dict) or not answer.get("images"):
            raise EngineError("AUTOMATIC1111 returned no images.")
        seeds: list[Any] = []
        try:
            info = json.loads(answer.get("info") or "{}")
            seeds = list(info.get("all_seeds") or [info.get("seed")])
        except (TypeError, ValueError, AttributeError):
            seeds = []
        # With a batch the webui may put a grid first: the last `count` are the images.
        raw = answer["images"][-count:]
        out = []
        for i, item in enumerate(raw):
            seed = seeds[i] if i < len(seeds) else None
            out.append(image_output(b64decode(item, self.provider), self.provider, seed=seed))
        progress(100, "received from AUTOMATIC1111")
        return out

    def _report(self, client: httpx.Client, progress: ProgressFn) -> None:
        try:
            state = self.transport.json(
                client, "GET", "/sdapi/v1/progress", params={"skip_current_image": "true"}
            )
        except EngineError:
            return  # progress is a nicety; the generation call decides success
        fraction = float(state.get("progress") or 0)
        inner = state.get("state") or {}
        steps = inner.get("sampling_steps")
        stage = "generating on AUTOMATIC1111"
        if steps:
            stage += f" (step {inner.get('sampling_step', 0)}/{steps})"
        progress(5 + int(90 * max(0.0, min(1.0, fraction))), stage)

    def _interrupt(self, client: httpx.Client) -> None:
        with contextlib.suppress(EngineError):
            self.transport.request(client, "POST", "/sdapi/v1/interrupt", attempts=1)

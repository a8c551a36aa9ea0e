"""Stability AI v2beta stable-image: multipart/form-data requests, answers as JSON
({image: base64, finish_reason, seed}) or raw image/* with `finish-reason` and `seed` headers.
`CONTENT_FILTERED` is a permanent failure with the provider's reason.

Credentials: STABILITY_API_KEY; base URL: STABILITY_BASE_URL.
"""

from __future__ import annotations

from typing import Any

import httpx

from generations.engines import images
from generations.engines.base import (
    Capability,
    EngineError,
    EngineImage,
    GenerationRequest,
    OperationRequest,
    ProgressFn,
)
from generations.engines.http import (
    RemoteEngine,
    b64decode,
    image_output,
    make_client,
    split_provider_model,
    with_heartbeat,
)
from generations.engines.registry import register_engine
from generations.engines.replicate import nearest_ratio

RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
# Operation → (path, needs a mask, needs a prompt)
OPERATIONS: dict[Capability, tuple[str, bool, bool]] = {
    Capability.INPAINT: ("/v2beta/stable-image/edit/inpaint", True, True),
    Capability.ERASE: ("/v2beta/stable-image/edit/erase", False, False),
    Capability.BACKGROUND_REMOVAL: ("/v2beta/stable-image/edit/remove-background", False, False),
    Capability.OUTPAINT: ("/v2beta/stable-image/edit/outpaint", False, False),
    Capability.UPSCALE: ("/v2beta/stable-image/upscale/fast", False, False),
    Capability.IMAGE_TO_IMAGE: ("/v2beta/stable-image/generate/sd3", False, True),
}


def form(fields: dict[str, Any], files: dict[str, bytes]) -> list[tuple[str, Any]]:
    """Every field as its own multipart part (the API takes multipart/form-data only)."""
    parts: list[tuple[str, Any]] = [
        (key, (None, str(value))) for key, value in fields.items() if value not in (None, "")
    ]
    parts += [(key, (f"{key}.png", data, "image/png")) for key, data in files.items()]
    return parts


@register_engine
class StabilityEngine(RemoteEngine):
    name = "stability"
    provider = "Stability AI"
    capabilities = frozenset(OPERATIONS) | {Capability.TEXT_TO_IMAGE}
    required_setting = "STABILITY_API_KEY"
    base_url_setting = "STABILITY_BASE_URL"
    default_base_url = "https://api.stability.ai"

    def _client(self) -> httpx.Client:
        return make_client(
            self.base_url,
            headers={"Authorization": f"Bearer {self.credential()}", "Accept": "application/json"},
        )

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        # provider_model: core | ultra | sd3[?model=sd3.5-large]
        service, options = split_provider_model(request.provider_model or "core")
        fields: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "aspect_ratio": nearest_ratio(request.width, request.height, RATIOS),
            "output_format": "png",
        }
        files: dict[str, bytes] = {}
        if request.init_image and service == "sd3":
            fields.pop("aspect_ratio")
            fields.update(mode="image-to-image", strength=request.params.get("strength", 0.7))
            files["image"] = images.as_png(request.init_image)
        fields.update(options)
        out = []
        with self._client() as client:
            for i in range(request.count):
                progress(5 + 90 * i // request.count, f"generating with Stability {service}")
                seed = None if request.seed is None else request.seed + i
                fields["seed"] = seed
                out.append(
                    self._call(
                        client,
                        f"/v2beta/stable-image/generate/{service}",
                        fields,
                        files,
                        progress,
                        5 + 90 * i // request.count,
                    )
                )
        progress(100, "received from Stability AI")
        return out

    def run_operation(self, request: OperationRequest, progress: ProgressFn) -> list[EngineImage]:
        if request.capability not in OPERATIONS:
            return super().run_operation(request, progress)
        path, needs_mask, needs_prompt = OPERATIONS[request.capability]
        _, options = split_provider_model(request.provider_model)
        if needs_mask and request.mask is None:
            raise EngineError("This Stability edit needs a mask.")
        if needs_prompt and not request.prompt:
            raise EngineError("This Stability edit needs a prompt.")
        image = images.as_png(request.image)
        files = {"image": image}
        if request.mask is not None:
            files["mask"] = images.mask_png(request.mask, images.image_size(image))
        fields: dict[str, Any] = {"output_format": "png", "prompt": request.prompt}
        if request.capability == Capability.IMAGE_TO_IMAGE:
            fields.update(mode="image-to-image", strength=request.params.get("strength", 0.7))
        if request.capability == Capability.OUTPAINT:
            for side in ("left", "right", "up", "down"):
                fields[side] = int(request.params.get(side, 0) or 0)
        fields.update(options)
        progress(10, "sent to Stability AI")
        with self._client() as client:
            out = [self._call(client, path, fields, files, progress, 10)]
        progress(100, "received from Stability AI")
        return out

    def _call(
        self,
        client: httpx.Client,
        path: str,
        fields: dict[str, Any],
        files: dict[str, bytes],
        progress: ProgressFn,
        percent: int,
    ) -> EngineImage:
        parts = form(fields, files)
        response = with_heartbeat(
            lambda: self.transport.request(client, "POST", path, files=parts),
            progress,
            percent,
            "waiting for Stability AI",
            client=client,
        )
        content_type = response.headers.get("Content-Type", "").split(";")[0]
        if content_type == "application/json":
            body = response.json()
            finish = str(body.get("finish_reason", "SUCCESS"))
            seed = body.get("seed")
            data = b64decode(str(body.get("image", "")), self.provider)
        else:
            finish = response.headers.get("finish-reason", "SUCCESS")
            seed = response.headers.get("seed")
            data = response.content
        if finish == "CONTENT_FILTERED":
            raise EngineError(
                "Stability AI filtered the output (finish_reason CONTENT_FILTERED): "
                "the prompt or image was flagged by its content moderation.",
                retryable=False,
            )
        if finish not in ("SUCCESS", ""):
            raise EngineError(f"Stability AI did not finish: {finish}.", retryable=True)
        return image_output(data, self.provider, seed=seed, finish_reason=finish)

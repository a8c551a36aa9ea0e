"""OpenAI Images: POST /images/generations (JSON) and /images/edits (multipart: image, mask).

Answers carry `b64_json` (gpt-image models always; DALL·E when asked) or a `url` that expires
after an hour: either way the bytes are fetched at once. Credentials: OPENAI_API_KEY; base URL:
OPENAI_BASE_URL (as the official SDK reads it), optional OPENAI_ORG_ID / OPENAI_PROJECT_ID.
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
    download,
    image_output,
    make_client,
    setting_float,
    setting_str,
    split_provider_model,
    with_heartbeat,
)
from generations.engines.registry import register_engine

# Sizes each model family accepts; we pick the one closest to the requested aspect ratio.
SIZES: dict[str, list[tuple[int, int]]] = {
    "gpt-image": [(1024, 1024), (1536, 1024), (1024, 1536)],
    "dall-e-3": [(1024, 1024), (1792, 1024), (1024, 1792)],
    "dall-e-2": [(256, 256), (512, 512), (1024, 1024)],
}
QUALITY_FOR_RESOLUTION = {"low": "low", "standard": "medium", "high": "high", "4k": "high"}


def family(model: str) -> str:
    if model.startswith("dall-e-3"):
        return "dall-e-3"
    if model.startswith("dall-e-2"):
        return "dall-e-2"
    return "gpt-image"


def closest_size(model: str, width: int, height: int) -> str:
    want = width / max(height, 1)
    options = SIZES[family(model)]
    if family(model) == "dall-e-2":
        side = max(width, height)
        best = min(options, key=lambda s: abs(s[0] - side))
    else:
        best = min(options, key=lambda s: abs(s[0] / s[1] - want))
    return f"{best[0]}x{best[1]}"


@register_engine
class OpenAIImagesEngine(RemoteEngine):
    name = "openai"
    provider = "OpenAI"
    capabilities = frozenset(
        {Capability.TEXT_TO_IMAGE, Capability.IMAGE_TO_IMAGE, Capability.INPAINT}
    )
    required_setting = "OPENAI_API_KEY"
    base_url_setting = "OPENAI_BASE_URL"
    default_base_url = "https://api.openai.com/v1"

    def _client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.credential()}"}
        if setting_str("OPENAI_ORG_ID"):
            headers["OpenAI-Organization"] = setting_str("OPENAI_ORG_ID")
        if setting_str("OPENAI_PROJECT_ID"):
            headers["OpenAI-Project"] = setting_str("OPENAI_PROJECT_ID")
        # Image models can take minutes at high quality.
        return make_client(
            self.base_url, headers=headers, read_timeout=setting_float("OPENAI_TIMEOUT", 300.0)
        )

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        model, options = split_provider_model(request.provider_model or "gpt-image-1")
        sources = [request.init_image] if request.init_image else list(request.reference_images)
        if sources or request.mask_image:
            return self._edit(
                model,
                options,
                prompt=request.prompt,
                images_in=[s for s in sources if s],
                mask=request.mask_image,
                size=closest_size(model, request.width, request.height),
                count=request.count,
                resolution=str(request.params.get("resolution", "")),
                progress=progress,
            )
        body: dict[str, Any] = {
            "model": model,
            "prompt": request.prompt,
            "size": closest_size(model, request.width, request.height),
        }
        fam = family(model)
        if fam == "gpt-image":
            quality = QUALITY_FOR_RESOLUTION.get(str(request.params.get("resolution", "")))
            if quality:
                body["quality"] = quality
        else:
            body["response_format"] = "b64_json"
        body.update(options)
        # DALL·E 3 makes one image per request.
        per_call = 1 if fam == "dall-e-3" else request.count
        out: list[EngineImage] = []
        with self._client() as client:
            while len(out) < request.count:
                n = min(per_call, request.count - len(out))
                progress(5 + 80 * len(out) // request.count, f"waiting for OpenAI ({model})")
                answer = with_heartbeat(
                    lambda n=n: self.transport.json(
                        client, "POST", "/images/generations", json={**body, "n": n}
                    ),
                    progress,
                    5 + 80 * len(out) // request.count,
                    f"waiting for OpenAI ({model})",
                    client=client,
                )
                out.extend(self._images(client, answer, progress))
        progress(100, "received from OpenAI")
        return out[: request.count]

    def run_operation(self, request: OperationRequest, progress: ProgressFn) -> list[EngineImage]:
        if request.capability not in (Capability.INPAINT, Capability.IMAGE_TO_IMAGE):
            return super().run_operation(request, progress)
        if not request.prompt:
            raise EngineError("OpenAI image edits need a prompt.")
        model, options = split_provider_model(request.provider_model or "gpt-image-1")
        w, h = images.image_size(request.image)
        return self._edit(
            model,
            options,
            prompt=request.prompt,
            images_in=[request.image, *request.extra_images],
            mask=request.mask,
            size=closest_size(model, w, h),
            count=int(request.params.get("count", 1) or 1),
            resolution=str(request.params.get("resolution", "")),
            progress=progress,
        )

    def _edit(
        self,
        model: str,
        options: dict[str, Any],
        *,
        prompt: str,
        images_in: list[bytes],
        mask: bytes | None,
        size: str,
        count: int,
        resolution: str,
        progress: ProgressFn,
    ) -> list[EngineImage]:
        if not images_in:
            raise EngineError("An OpenAI edit needs an input image.")
        fam = family(model)
        if fam == "dall-e-3":
            raise EngineError("dall-e-3 cannot edit images; use gpt-image-1 or dall-e-2.")
        data: dict[str, Any] = {"model": model, "prompt": prompt, "n": str(count), "size": size}
        if fam == "gpt-image" and QUALITY_FOR_RESOLUTION.get(resolution):
            data["quality"] = QUALITY_FOR_RESOLUTION[resolution]
        if fam == "dall-e-2":
            data["response_format"] = "b64_json"
        data.update({k: str(v) for k, v in options.items()})
        pngs = [images.as_png(img) for img in images_in]
        field = "image[]" if fam == "gpt-image" and len(pngs) > 1 else "image"
        files: list[tuple[str, tuple[str, bytes, str]]] = [
            (field, (f"image-{i}.png", png, "image/png")) for i, png in enumerate(pngs)
        ]
        if mask is not None:
            files.append(
                ("mask", ("mask.png", images.transparent_mask_png(pngs[0], mask), "image/png"))
            )
        progress(5, f"waiting for OpenAI ({model} edit)")
        with self._client() as client:
            answer = with_heartbeat(
                lambda: self.transport.json(
                    client, "POST", "/images/edits", data=data, files=files
                ),
                progress,
                5,
                f"waiting for OpenAI ({model} edit)",
                client=client,
            )
            out = self._images(client, answer, progress)
        progress(100, "received from OpenAI")
        return out

    def _images(self, client: httpx.Client, answer: Any, progress: ProgressFn) -> list[EngineImage]:
        items = answer.get("data") if isinstance(answer, dict) else None
        if not items:
            raise EngineError("OpenAI returned no images.", retryable=True)
        out = []
        for item in items:
            if item.get("b64_json"):
                data = b64decode(item["b64_json"], self.provider)
            elif item.get("url"):
                progress(90, "downloading from OpenAI")
                data, _ = download(self.transport, item["url"])
            else:
                raise EngineError("OpenAI returned an image without data or URL.")
            out.append(image_output(data, self.provider, revised_prompt=item.get("revised_prompt")))
        return out

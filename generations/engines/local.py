"""Optional local neural engines (the `local-models` extra, not the default install):

- `rembg`: background removal with a U²-Net-style ONNX model file at REMBG_MODEL_PATH.
- `diffusers`: a text-to-image pipeline loaded from a local directory, DIFFUSERS_MODEL_DIR.

Neither downloads anything: both load only from the configured paths (local_files_only), and both
are unavailable (not listed, a clear error naming the setting) until the package and path exist.
"""

from __future__ import annotations

import importlib.util
import io
import os
import threading
from pathlib import Path
from typing import Any

from generations.engines.base import (
    Capability,
    Engine,
    EngineError,
    EngineImage,
    EngineNotConfigured,
    GenerationRequest,
    OperationRequest,
    ProgressFn,
)
from generations.engines.http import image_output, setting_float, setting_str
from generations.engines.registry import register_engine

_LOCK = threading.Lock()
# Loaded models (an ONNX session, a diffusers pipeline) live in this process's memory by nature.
_CACHE: dict[tuple[str, str], Any] = {}


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


def _cached(kind: str, path: str, load: Any) -> Any:
    with _LOCK:
        key = (kind, path)
        if key not in _CACHE:
            _CACHE[key] = load()
        return _CACHE[key]


@register_engine
class RembgEngine(Engine):
    name = "rembg"
    capabilities = frozenset({Capability.BACKGROUND_REMOVAL})
    required_setting = "REMBG_MODEL_PATH"

    @staticmethod
    def model_path() -> str:
        return setting_str("REMBG_MODEL_PATH")

    def is_configured(self) -> bool:
        path = self.model_path()
        return bool(path) and Path(path).is_file() and _installed("rembg", "onnxruntime")

    def _session(self) -> Any:
        if not self.is_configured():
            raise EngineNotConfigured(
                "background removal with rembg",
                "REMBG_MODEL_PATH (an ONNX model file; needs the local-models extra)",
            )
        import rembg

        path = str(Path(self.model_path()).resolve())

        def load() -> Any:
            # u2net_custom loads the given file and never fetches a model. Recent rembg only
            # accepts files under its model home (U2NET_HOME): unless the operator set one, the
            # model file's own folder is that home while the session is created. (The one
            # os.environ write outside settings.py: rembg reads its home only from there.)
            saved = os.environ.get("U2NET_HOME")
            if saved is None:
                os.environ["U2NET_HOME"] = str(Path(path).parent)
            try:
                return rembg.new_session("u2net_custom", model_path=path)
            finally:
                if saved is None:
                    os.environ.pop("U2NET_HOME", None)

        return _cached("rembg", path, load)

    def run_operation(self, request: OperationRequest, progress: ProgressFn) -> list[EngineImage]:
        if request.capability != Capability.BACKGROUND_REMOVAL:
            return super().run_operation(request, progress)
        import numpy as np
        import rembg
        from PIL import Image

        from generations.imageops.common import encode_png
        from generations.loader import ImageRejected, load_image

        session = self._session()
        progress(10, "removing the background (rembg)")
        try:
            source = load_image(request.image).image.convert("RGB")
        except ImageRejected as exc:
            raise EngineError(f"The image cannot be used: {exc}") from exc
        cut: Image.Image = rembg.remove(source, session=session)
        # Colour zeroed under alpha 0 and a fast zlib level (generations.imageops.common).
        png = encode_png(np.asarray(cut.convert("RGBA")))
        progress(100, "background removed")
        return [image_output(png, "rembg")]


@register_engine
class DiffusersEngine(Engine):
    name = "diffusers"
    capabilities = frozenset({Capability.TEXT_TO_IMAGE})
    required_setting = "DIFFUSERS_MODEL_DIR"

    @staticmethod
    def model_dir() -> str:
        return setting_str("DIFFUSERS_MODEL_DIR")

    def is_configured(self) -> bool:
        path = self.model_dir()
        return (
            bool(path)
            and (Path(path) / "model_index.json").is_file()
            and _installed("diffusers", "torch")
        )

    def _pipeline(self) -> Any:
        if not self.is_configured():
            raise EngineNotConfigured(
                "text-to-image with diffusers",
                "DIFFUSERS_MODEL_DIR (a saved pipeline directory; needs the local-models extra)",
            )
        path = self.model_dir()

        def load() -> Any:
            import torch
            from diffusers import AutoPipelineForText2Image

            device = setting_str("DIFFUSERS_DEVICE") or (
                "cuda" if torch.cuda.is_available() else "cpu"
            )
            pipe = AutoPipelineForText2Image.from_pretrained(path, local_files_only=True)
            pipe.set_progress_bar_config(disable=True)
            return pipe.to(device)

        return _cached("diffusers", path, load)

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        import torch

        pipe = self._pipeline()
        steps = int(request.params.get("steps") or setting_float("DIFFUSERS_STEPS", 25))
        # Latent models need sides divisible by 8.
        width, height = (max(8, request.width // 8 * 8), max(8, request.height // 8 * 8))
        out = []
        for i in range(request.count):
            seed = (request.seed if request.seed is not None else int.from_bytes(os.urandom(4))) + i
            seed %= 2**31
            generator = torch.Generator(device="cpu").manual_seed(seed)
            done = i

            def on_step(
                _pipe: Any, step: int, _t: Any, kwargs: dict[str, Any], done: int = done
            ) -> dict[str, Any]:
                total = max(steps * request.count, 1)
                progress(
                    int(100 * (done * steps + step + 1) / total),
                    f"denoising step {step + 1}/{steps}",
                )
                return kwargs

            kwargs: dict[str, Any] = {
                "prompt": request.prompt,
                "width": width,
                "height": height,
                "num_inference_steps": steps,
                "generator": generator,
                "callback_on_step_end": on_step,
            }
            if request.negative_prompt:
                kwargs["negative_prompt"] = request.negative_prompt
            guidance = request.params.get("guidance_scale")
            if guidance is not None:
                kwargs["guidance_scale"] = float(guidance)
            result = pipe(**kwargs)
            image = result.images[0]
            buf = io.BytesIO()
            image.save(buf, "PNG")
            out.append(image_output(buf.getvalue(), "diffusers", seed=seed))
        progress(100, "generated")
        return out

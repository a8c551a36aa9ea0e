"""`builtin-scene`: the offline scene compositor as an engine (model `builtin:scene`).

Procedural rendering and classical image processing, not a neural model: the product is cut
out, a set is built from the prompt (surface, backdrop, light, camera, props), and the product
is placed in it with its shadows and reflection. It takes the product as the request's
`init_image`, exactly as the remote image-edit models of seed 004 do.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from PIL import Image

from generations.engines.base import (
    Capability,
    Engine,
    EngineError,
    EngineImage,
    GenerationRequest,
    ProgressFn,
)
from generations.engines.registry import ModelSpec, add_model_source, register_engine
from generations.loader import ImageRejected, load_image
from generations.scenes.product import ProductError, prepare_product
from generations.scenes.render import plan_layouts, render
from generations.scenes.spec import parse_scene
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    np = lazy_module("numpy")

ENGINE_NAME = "builtin-scene"
MODEL_NAME = "builtin:scene"
JPEG_QUALITY = 92
# Scene choices a request may pin (a preset's, the page's); anything else comes from the prompt.
OVERRIDES = ("surface", "light", "side", "camera", "gobo", "surface_colour", "backdrop_colour")


def scene_models() -> list[ModelSpec]:
    return [
        ModelSpec(
            name=MODEL_NAME,
            engine=ENGINE_NAME,
            provider_model="scene-v1",
            capabilities=frozenset({Capability.PRODUCT_SCENE}),
            label="Scene compositor (offline)",
            description=(
                "Cuts the product out and photographs it in a procedurally built set: surface, "
                "backdrop, light, shadows, reflection. Not a neural model."
            ),
            max_count=4,
        )
    ]


add_model_source(scene_models)


def encode_jpeg(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=JPEG_QUALITY, optimize=False, subsampling=0)
    return buf.getvalue()


def product_array(data: bytes) -> np.ndarray:
    """The product image as RGB or RGBA uint8 (alpha kept: a cut-out PNG is used as it is)."""
    try:
        loaded = load_image(data)
    except ImageRejected as exc:
        raise EngineError(f"The product image cannot be used: {exc}") from exc
    image = loaded.image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return np.asarray(image.convert("RGBA"))
    return np.asarray(image.convert("RGB"))


@register_engine
class SceneEngine(Engine):
    name = ENGINE_NAME
    capabilities = frozenset({Capability.PRODUCT_SCENE})

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        if not request.init_image:
            raise EngineError("The scene compositor needs the product photo.")
        params = request.params or {}
        overrides = {k: params.get(k) for k in OVERRIDES if params.get(k)}
        try:
            spec = parse_scene(request.prompt, **overrides)
        except ValueError as exc:
            raise EngineError(str(exc)) from exc
        progress(3, "cutting the product out")
        try:
            cut = prepare_product(product_array(request.init_image))
        except ProductError as exc:
            raise EngineError(str(exc)) from exc
        seed = request.seed if request.seed is not None else 0
        layouts = plan_layouts(spec, request.count, seed, request.width / request.height)
        out: list[EngineImage] = []
        for i, layout in enumerate(layouts):
            progress(
                15 + 80 * i // len(layouts), f"photographing variant {i + 1} of {len(layouts)}"
            )
            image, info = render(cut, spec, request.width, request.height, layout, seed)
            meta: dict[str, Any] = {"scene": spec.summary(), "take": info}
            if i == 0:
                meta["understood"] = list(spec.understood)
                meta["ignored"] = list(spec.ignored)
            out.append(
                EngineImage(
                    encode_jpeg(image), "image/jpeg", request.width, request.height, seed + i, meta
                )
            )
        progress(98, "done")
        return out

"""`builtin-ops`: the offline engine for image operations (no model download, no network).

It serves every operation in the catalog that can honestly be done without a generative model,
as `builtin:*` models; prompt-driven edits and the like are left to engines that have a model.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from PIL import Image

from generations.engines.base import (
    Capability,
    Engine,
    EngineError,
    EngineImage,
    OperationRequest,
    ProgressFn,
)
from generations.engines.registry import (
    CAPABILITY_SETTINGS,
    ModelSpec,
    add_model_source,
    register_engine,
)
from generations.imageops import background, detect, enhance, erase, outpaint, restyle, video
from generations.imageops.catalog import GENERATIVE, OPERATIONS
from generations.imageops.common import (
    OperationInputError,
    alpha_of,
    bbox_of,
    clear_transparent,
    encode_mask_png,
    encode_png,
    mask_from_image,
    pil_image,
    to_rgb,
)
from generations.loader import ImageRejected, load_image
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    np = lazy_module("numpy")

ENGINE_NAME = "builtin-ops"

# Public model name → (capability, label, description).
MODELS: dict[str, tuple[Capability, str, str]] = {
    "builtin:remove-bg": (
        Capability.BACKGROUND_REMOVAL,
        "Background removal (offline)",
        "Border backdrop model + GrabCut + closed-form matting + decontamination.",
    ),
    "builtin:detect": (
        Capability.DETECT,
        "Detection (offline)",
        "Salient regions, text and wire masks. No classifier: objects are typed “object”.",
    ),
    "builtin:erase": (
        Capability.ERASE,
        "Erase (offline)",
        "Telea / Navier–Stokes for thin regions, multi-scale fill with texture for large ones.",
    ),
    "builtin:upscale": (
        Capability.UPSCALE,
        "Upscale (offline)",
        "Bicubic + iterative back-projection with range clamping (no ringing).",
    ),
    "builtin:enhance": (
        Capability.ENHANCE,
        "Enhance (offline)",
        "Enhance-art, restore, light restore, colorize by gradient map.",
    ),
    "builtin:restyle": (
        Capability.RESTYLE,
        "Restyle (offline)",
        "Cartoon, sticker, sketch, stylization, skin retouch.",
    ),
    "builtin:outpaint": (
        Capability.OUTPAINT,
        "Expand (offline)",
        "Canvas growth filled by the multi-scale fill.",
    ),
    "builtin:video": (
        Capability.VIDEO,
        "Image → video (offline)",
        "A camera move over the still, H.264 MP4 via imageio-ffmpeg.",
    ),
}


def builtin_operation_models() -> list[ModelSpec]:
    return [
        ModelSpec(
            name=name,
            engine=ENGINE_NAME,
            provider_model=name.split(":", 1)[1],
            capabilities=frozenset({cap}),
            label=label,
            description=description,
            max_count=1,
        )
        for name, (cap, label, description) in MODELS.items()
    ]


add_model_source(builtin_operation_models)
for _cap in GENERATIVE:
    CAPABILITY_SETTINGS.setdefault(
        _cap,
        f"STUDIO_MODELS (a model declaring the {_cap.value!r} capability on a generative engine)",
    )


def encode_image(array: np.ndarray, *, cleared: bool = False) -> tuple[bytes, str]:
    """PNG when it fits the library's byte limit, else high-quality JPEG (RGB) / WebP (RGBA).
    (`cleared`: clear_transparent was already applied.)"""
    if not cleared:
        array = clear_transparent(array)
    data = encode_png(array, cleared=True)
    limit = settings.IMAGE_MAX_BYTES
    if len(data) <= limit:
        return data, "image/png"
    image = Image.fromarray(array)
    buf = io.BytesIO()
    if image.mode == "RGBA":
        image.save(buf, "WEBP", quality=92)
        kind = "image/webp"
    else:
        image.convert("RGB").save(buf, "JPEG", quality=92)
        kind = "image/jpeg"
    if buf.tell() > limit:
        raise EngineError("The result is larger than the library accepts; try a smaller input.")
    return buf.getvalue(), kind


def _image(array: np.ndarray, **metadata: Any) -> EngineImage:
    array = clear_transparent(array)
    data, kind = encode_image(array, cleared=True)
    # A PNG decodes to exactly these pixels: the job need not decode it again (a JPEG or WebP
    # fallback is lossy, so it is decoded like any other bytes).
    decoded = pil_image(array) if kind == "image/png" and array.dtype == np.uint8 else None
    return EngineImage(
        data, kind, array.shape[1], array.shape[0], metadata=metadata, decoded=decoded
    )


def _result(**metadata: Any) -> EngineImage:
    """An output that is a result only (detections), not pixels."""
    return EngineImage(b"", "application/json", 0, 0, metadata=metadata)


def _b64_png(mask: np.ndarray) -> str:
    import base64

    return base64.b64encode(encode_mask_png(mask)).decode()


@register_engine
class BuiltinOperationsEngine(Engine):
    name = ENGINE_NAME
    capabilities = frozenset(cap for cap, _l, _d in MODELS.values())

    def run_operation(self, request: OperationRequest, progress: ProgressFn) -> list[EngineImage]:
        handler = HANDLERS.get(request.operation)
        if handler is None:
            return super().run_operation(request, progress)
        try:
            loaded = request.loaded if request.loaded is not None else load_image(request.image)
        except ImageRejected as exc:
            raise EngineError(f"The input image cannot be used: {exc}") from exc
        mask = None
        if request.mask:
            try:
                mask = mask_from_image(load_image(request.mask).image)
            except (ImageRejected, OperationInputError) as exc:
                raise EngineError(f"The mask cannot be used: {exc}") from exc
            if mask.shape != (loaded.height, loaded.width):
                raise EngineError(
                    f"The mask is {mask.shape[1]}×{mask.shape[0]}; the image is "
                    f"{loaded.width}×{loaded.height}. They must be the same size."
                )
        progress(5, f"{request.operation}: preparing")
        try:
            return handler(loaded.image, mask, request, progress)
        except OperationInputError as exc:
            raise EngineError(str(exc)) from exc


Handler = Callable[
    [Image.Image, "np.ndarray | None", OperationRequest, ProgressFn], list[EngineImage]
]


def _remove_background(img, mask, req, progress):  # type: ignore[no-untyped-def]
    rgb = to_rgb(img)
    progress(15, "segmenting the product")
    result = background.remove_background(rgb, matting=bool(req.params.get("matting", True)))
    if result.no_backdrop:
        raise EngineError(
            "No backdrop found: the picture fills the frame edge to edge (a full-bleed design "
            "or photo), so nothing was removed and the image is kept as it is. Nothing was charged."
        )
    progress(90, "encoding")
    if req.params.get("mask_only"):
        return [_image(result.alpha, box=result.box)]
    return [_image(result.rgba, box=result.box)]


def _detect_objects(img, mask, req, progress):  # type: ignore[no-untyped-def]
    progress(20, "looking for salient regions")
    objects = detect.detect_objects(to_rgb(img))
    detected = [
        {
            "bbox": o.bbox,
            "mask": _b64_png(o.mask),
            "accuracy": o.accuracy,
            "object_type": "object",
            "object_description": "salient region",
        }
        for o in objects
    ]
    return [_result(detected_objects=detected)]


def _simple_detection(finder: Callable[[np.ndarray], np.ndarray], label: str):  # type: ignore[no-untyped-def]
    def run(img, mask, req, progress):  # type: ignore[no-untyped-def]
        progress(20, f"looking for {label}")
        found = finder(to_rgb(img))
        detected = bool(found.any())
        return [
            _result(
                detected=detected, mask=_b64_png(found) if detected else None, box=bbox_of(found)
            )
        ]

    return run


def _keep_alpha(img: Image.Image, rgb_out: np.ndarray) -> np.ndarray:
    alpha = alpha_of(img)
    return np.dstack([rgb_out, alpha]) if alpha is not None else rgb_out


def _erase_with(finder: Callable[[np.ndarray], np.ndarray] | None, nothing: str):  # type: ignore[no-untyped-def]
    def run(img, mask, req, progress):  # type: ignore[no-untyped-def]
        rgb = to_rgb(img)
        if mask is None:
            if finder is None:
                raise OperationInputError("A mask is required: paint over what should go.")
            progress(15, "finding what to erase")
            mask = finder(rgb)
            if not mask.any():
                raise OperationInputError(nothing)
        progress(35, "filling")
        out = erase.erase(rgb, mask, method=str(req.params.get("method") or "auto"))
        return [_image(_keep_alpha(img, out), erased_pixels=int(mask.sum()))]

    return run


def _upscale(img, mask, req, progress):  # type: ignore[no-untyped-def]
    factor = int(req.params.get("zoom_factor", 2))
    progress(20, f"upscaling {factor}×")
    rgb = to_rgb(img)
    out = enhance.upscale(rgb, factor)
    alpha = alpha_of(img)
    if alpha is not None:
        up_alpha = enhance.upscale(np.repeat(alpha[..., None], 3, 2), factor)[..., 0]
        out = np.dstack([out, up_alpha])
    return [_image(out)]


def _rgb_filter(fn: Callable[..., np.ndarray], stage: str, **fixed: Any):  # type: ignore[no-untyped-def]
    def run(img, mask, req, progress):  # type: ignore[no-untyped-def]
        progress(20, stage)
        kwargs = {k: req.params[k] for k in fixed if k in req.params}
        return [_image(_keep_alpha(img, fn(to_rgb(img), **{**fixed, **kwargs})))]

    return run


def _enhance_art(img, mask, req, progress):  # type: ignore[no-untyped-def]
    progress(20, "cleaning and enlarging artwork")
    return [_image(enhance.enhance_art(to_rgb(img), int(req.params.get("zoom_factor", 2))))]


def _cartoon(img, mask, req, progress):  # type: ignore[no-untyped-def]
    rgb = to_rgb(img)
    if req.params.get("sticker"):
        progress(20, "cutting out and drawing a sticker")
        return [_image(restyle.sticker(rgb))]
    progress(20, "drawing a cartoon")
    return [_image(_keep_alpha(img, restyle.cartoon(rgb)))]


def _outpaint(img, mask, req, progress):  # type: ignore[no-untyped-def]
    rgb = to_rgb(img)
    p = req.params
    if mask is not None:
        canvas, area = rgb, mask  # seed 001: the input already sits on its larger canvas
    else:
        h, w = rgb.shape[:2]
        if p.get("aspect_ratio"):
            margins = outpaint.margins_for_ratio(w, h, str(p["aspect_ratio"]))
        else:
            margins = tuple(int(p.get(k) or 0) for k in ("top", "right", "bottom", "left"))
        if not any(margins):
            raise OperationInputError("Nothing to expand: the picture already has that shape.")
        canvas, area = outpaint.expand_canvas(rgb, margins)  # type: ignore[arg-type]
    progress(30, "filling the new area")
    return [_image(outpaint.outpaint(canvas, area))]


def _video(img, mask, req, progress):  # type: ignore[no-untyped-def]
    resolution = int(req.params.get("resolution", 720))
    rgb = to_rgb(img)
    count = video.FPS * video.DURATION

    def frames_done(i: int) -> None:
        progress(10 + int(85 * i / count), "rendering and encoding frames")

    data, poster, facts = video.make_video(rgb, req.prompt, resolution, frames_done)
    return [
        EngineImage(
            data,
            "video/mp4",
            facts["width"],
            facts["height"],
            metadata={**facts, "_poster": Image.fromarray(poster)},
        )
    ]


HANDLERS: dict[str, Handler] = {
    "remove-background": _remove_background,
    "detect-objects": _detect_objects,
    "detect-text": _simple_detection(detect.detect_text, "text"),
    "detect-wires": _simple_detection(detect.detect_wires, "wires and lines"),
    "erase": _erase_with(None, ""),
    "erase-text": _erase_with(
        detect.detect_text, "No text was found to erase; paint a mask over it instead."
    ),
    "erase-watermark": _erase_with(
        detect.detect_watermark, "No watermark was found; paint a mask over it instead."
    ),
    "erase-wires": _erase_with(
        detect.detect_wires, "No wires or lines were found; paint a mask over them instead."
    ),
    "upscale": _upscale,
    "enhance-art": _enhance_art,
    "restore": _rgb_filter(
        enhance.restore, "removing scratches and noise", scratches=True, denoise=True
    ),
    "light-restore": _rgb_filter(enhance.light_restore, "fixing exposure", strength=1.0),
    "colorize": _rgb_filter(enhance.colorize, "applying the gradient map", palette="sepia"),
    "cartoon": _cartoon,
    "sketch": _rgb_filter(restyle.sketch, "sketching", colour=False),
    "stylize": _rgb_filter(restyle.stylize, "stylizing", strength=0.5),
    "retouch-skin": _rgb_filter(restyle.retouch_skin, "retouching skin", strength=0.6),
    "outpaint": _outpaint,
    "video": _video,
}

# Every non-generative operation in the catalog has a handler here.
assert {n for n, s in OPERATIONS.items() if not s.generative} == set(HANDLERS)  # noqa: S101

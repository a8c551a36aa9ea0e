"""Print finishes at output resolution: neon bloom, watercolour, grunge, vignette and grain."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image

from generations.engines.builtin.design import Design
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    np = lazy_module("numpy")


def _bloom(img: Image.Image) -> Image.Image:
    """Neon glow: bright strokes bleed light around them (blurred at 1/4 scale, added back)."""
    import cv2

    arr = np.asarray(img)
    h, w = arr.shape[:2]
    k = 4
    small = cv2.resize(arr, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
    bright = cv2.subtract(small, np.full_like(small, 40))
    glow = cv2.GaussianBlur(bright, (0, 0), max(1.0, min(w, h) / k / 60))
    glow = cv2.resize(glow, (w, h), interpolation=cv2.INTER_LINEAR)
    return Image.fromarray(cv2.addWeighted(arr, 1.0, glow, 1.6, 0), "RGB")


def _finish(img: Image.Image, d: Design, seed: int) -> Image.Image:
    """Print textures at output resolution: grain, distressing, vignette.

    Noise comes from a small seeded tile repeated over the image: it reads as film grain, and PNG's
    deflate finds the repeats, so a grainy 1024² image still encodes fast and small.
    """
    import cv2

    styles = d.styles
    grain = bool(styles & {"vintage", "retro", "grunge", "grain"}) and "grain" not in d.avoid_styles
    grunge = "grunge" in styles and "grain" not in d.avoid_styles
    vignette = bool(styles & {"neon", "vintage"}) and (not d.line or "neon" in styles)
    if "neon" in styles:
        img = _bloom(img)
    watercolor = "watercolor" in styles and not d.line
    if not (grain or grunge or vignette or watercolor):
        return img
    w, h = img.size
    gen = np.random.default_rng(seed)
    arr = np.asarray(img).copy()
    ty, tx = 89, 97
    reps = (h // ty + 1, w // tx + 1)
    if watercolor:
        # Soft pigment edges and blotchy paper: blur a little, then modulate by slow noise.
        arr = cv2.GaussianBlur(arr, (0, 0), max(0.6, min(w, h) / 600))
        field = gen.random((max(2, h // 48), max(2, w // 48)), dtype=np.float32)
        small = ((0.93 + 0.09 * field) * 200).clip(0, 255).astype(np.uint8)
        tint = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        arr = cv2.multiply(arr, cv2.merge([tint, tint, tint]), scale=1 / 200)
    if grunge:
        blobs = gen.random((max(2, h // 24), max(2, w // 24)), dtype=np.float32)
        blob = cv2.resize(blobs, (w, h), interpolation=cv2.INTER_LINEAR)
        speck = cv2.repeat(gen.random((ty, tx), dtype=np.float32), *reps)[:h, :w]
        # Wear shows as the paper colour, taken from the corner (the backdrop under the print).
        mask = (blob * 0.55 + speck * 0.45) > 0.76
        arr[mask] = arr[0, 0]
    if vignette:
        g = np.mgrid[0:32, 0:32].astype(np.float32) / 31 - 0.5
        v = 1 - 0.4 * np.clip((g[0] ** 2 + g[1] ** 2) * 2.2 - 0.15, 0, 1)
        vig = cv2.resize((v * 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
        arr = cv2.multiply(arr, cv2.merge([vig, vig, vig]), scale=1 / 255)
    if grain:
        # Sparse specks rather than dense noise: the print texture survives, PNG stays small.
        tile = gen.integers(-20, 21, size=(ty, tx), dtype=np.int16)
        tile[gen.random((ty, tx)) > 0.06] = 0
        up_t = np.clip(tile, 0, None).astype(np.uint8)
        down_t = np.clip(-tile, 0, None).astype(np.uint8)
        up = cv2.repeat(cv2.merge([up_t, up_t, up_t]), *reps)[:h, :w]
        down = cv2.repeat(cv2.merge([down_t, down_t, down_t]), *reps)[:h, :w]
        arr = cv2.subtract(cv2.add(arr, up), down)
    return Image.fromarray(arr, "RGB")

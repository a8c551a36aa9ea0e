"""The layers a template renders with, at its canonical size (shared by the catalog and uploads).

A template is a neutral product photo plus float layers: where the design may print (mask),
what darkens it (shading, multiplied), what lightens it (highlight, screened), optional pixel
offsets for fabric (displacement), where a colour variant tints the product (tint mask), and an
optional alpha for transparent backgrounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")


@dataclass
class TemplateLayers:
    base: np.ndarray  # (H, W, 3) uint8 RGB, the product in its neutral (white) colour
    print_mask: np.ndarray  # (H, W) float32 0..1: where the design may appear
    shading: np.ndarray  # (H, W) float32, multiplied over the design (1 = unchanged)
    highlight: np.ndarray  # (H, W) float32 0..1, screened over the design
    tint_mask: np.ndarray | None = None  # (H, W) float32: where a variant colour applies
    alpha: np.ndarray | None = None  # (H, W) float32: product alpha for transparent output
    displacement: np.ndarray | None = None  # (H, W, 2) float32 pixel offsets (dx, dy)

    @property
    def size(self) -> tuple[int, int]:
        return self.base.shape[1], self.base.shape[0]


def layers_from_photo(
    photo: np.ndarray,
    quad: list[list[float]],
    *,
    mask: np.ndarray | None = None,
    blend: str = "multiply",
    alpha: np.ndarray | None = None,
) -> TemplateLayers:
    """Layers for an uploaded product photo: shading and highlights come from the photo itself.

    Inside the print area the photo's luminance, normalised by its median, becomes the multiply
    layer (folds and shadows darken the design) and what is brighter than the median becomes
    the screen layer (sheen). `blend`: "multiply" (both), "shade" (multiply only), "normal".
    """
    h, w = photo.shape[:2]
    quad_mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(
        quad_mask, np.round(np.array(quad) * 16).astype(np.int32), 255, cv2.LINE_AA, shift=4
    )
    print_mask = quad_mask.astype(np.float32) / 255.0
    if mask is not None:
        print_mask *= mask
    lum = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    lum = cv2.GaussianBlur(lum, (0, 0), 1.2)
    inside = lum[print_mask > 0.5]
    median = float(np.median(inside)) if inside.size else 1.0
    median = max(median, 0.05)
    shading = np.ones((h, w), np.float32)
    highlight = np.zeros((h, w), np.float32)
    if blend in ("multiply", "shade"):
        shading = np.clip(lum / median, 0.0, 1.0)
    if blend == "multiply":
        highlight = np.clip((lum - median) / max(1.0 - median, 0.05), 0.0, 1.0) * 0.6
    return TemplateLayers(
        base=photo,
        print_mask=print_mask,
        shading=shading.astype(np.float32),
        highlight=highlight.astype(np.float32),
        alpha=alpha,
    )

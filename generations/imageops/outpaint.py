"""Outpaint / expand: grow the canvas to an aspect ratio or by margins and fill the new area.

The mask follows seed 001: white = the expansion area to fill, black = original content.
The fill copies the picture outward (`erase.exemplar_fill`): patches matched to what is already
there continue skies, gradients, weaves and flat bands instead of smearing or mirroring them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from generations.imageops.erase import exemplar_fill
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    np = lazy_module("numpy")


def parse_ratio(ratio: str) -> float:
    a, b = (float(x) for x in ratio.split(":"))
    if a <= 0 or b <= 0:
        raise ValueError("aspect ratio parts must be positive")
    return a / b


def margins_for_ratio(width: int, height: int, ratio: str) -> tuple[int, int, int, int]:
    """(top, right, bottom, left) padding that brings width:height to `ratio`, centred."""
    target = parse_ratio(ratio)
    if width / height < target:
        extra = round(height * target) - width
        return 0, extra - extra // 2, 0, extra // 2
    extra = round(width / target) - height
    return extra // 2, 0, extra - extra // 2, 0


def expand_canvas(
    rgb: np.ndarray, margins: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Place the image on a larger white canvas; returns (canvas, mask of the new area)."""
    top, right, bottom, left = margins
    h, w = rgb.shape[:2]
    canvas = np.full((h + top + bottom, w + left + right, 3), 255, np.uint8)
    canvas[top : top + h, left : left + w] = rgb
    mask = np.ones(canvas.shape[:2], bool)
    mask[top : top + h, left : left + w] = False
    return canvas, mask


def outpaint(canvas: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Fill the white (True) area of `mask` on `canvas`."""
    if not mask.any():
        return canvas.copy()
    return exemplar_fill(canvas, mask)

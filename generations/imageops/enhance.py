"""Enhance: upscale, enhance-art, restore, light restore and colorize (gradient map).

Upscaling is classical: bicubic interpolation refined by iterative back-projection (the result,
downsampled, must reproduce the input) and then clamped to each neighbourhood's range in the
input, which removes the overshoot that shows as ringing around edges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")

BACKPROJECT_ITERATIONS = 3


TILE = 384  # input pixels per tile side; the work is local, so tiles bound memory
TILE_PAD = 12  # context each side: enough for 3 rounds of cubic + area + 3×3 clamping


def upscale(rgb: np.ndarray, factor: int) -> np.ndarray:
    if factor not in (1, 2, 4):
        raise ValueError("factor must be 1, 2 or 4")
    if factor == 1:
        return rgb.copy()
    h, w = rgb.shape[:2]
    if max(h, w) <= TILE + 2 * TILE_PAD:
        return _upscale_tile(rgb, factor)
    out = np.empty((h * factor, w * factor, rgb.shape[2]), np.uint8)
    for y in range(0, h, TILE):
        for x in range(0, w, TILE):
            y0, x0 = max(0, y - TILE_PAD), max(0, x - TILE_PAD)
            y1, x1 = min(h, y + TILE + TILE_PAD), min(w, x + TILE + TILE_PAD)
            tile = _upscale_tile(np.ascontiguousarray(rgb[y0:y1, x0:x1]), factor)
            ty, tx = (y - y0) * factor, (x - x0) * factor
            th, tw = min(TILE, h - y) * factor, min(TILE, w - x) * factor
            out[y * factor : y * factor + th, x * factor : x * factor + tw] = tile[
                ty : ty + th, tx : tx + tw
            ]
    return out


def _upscale_tile(rgb: np.ndarray, factor: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    size = (w * factor, h * factor)
    lo = rgb.astype(np.float32)
    hr = cv2.resize(lo, size, interpolation=cv2.INTER_CUBIC)
    for _ in range(BACKPROJECT_ITERATIONS):
        down = cv2.resize(hr, (w, h), interpolation=cv2.INTER_AREA)
        hr += cv2.resize(lo - down, size, interpolation=cv2.INTER_CUBIC)
    # No ringing: a pixel may not leave the range of its 3×3 input neighbourhood.
    k = np.ones((3, 3), np.uint8)
    lo_min = cv2.resize(cv2.erode(lo, k), size, interpolation=cv2.INTER_LINEAR)
    lo_max = cv2.resize(cv2.dilate(lo, k), size, interpolation=cv2.INTER_LINEAR)
    np.clip(hr, lo_min, lo_max, out=hr)
    return np.clip(hr + 0.5, 0, 255).astype(np.uint8)


def enhance_art(rgb: np.ndarray, factor: int = 2) -> np.ndarray:
    """Flat artwork: flatten compression noise, upscale, then snap soft edges back to crisp."""
    flat = cv2.bilateralFilter(rgb, 5, 28, 5)
    up = upscale(flat, factor)
    grey = cv2.cvtColor(up, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lap = cv2.Laplacian(cv2.GaussianBlur(grey, (0, 0), 0.8 * max(1, factor)), cv2.CV_32F)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    lo, hi = cv2.erode(up, k), cv2.dilate(up, k)
    # Shock filter: on the dark side of an edge take the local min, on the light side the max.
    edge = np.abs(lap) > 2.0
    shocked = np.where((lap > 0)[..., None], lo, hi)
    blended = cv2.addWeighted(up, 0.5, shocked, 0.5, 0)  # uint8 arithmetic: no float copies
    return np.where(edge[..., None], blended, up)


def noise_sigma(rgb: np.ndarray) -> float:
    """Immerkær's fast noise estimate on the grey image."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    conv = cv2.filter2D(grey, -1, kernel)
    h, w = grey.shape
    return float(np.sqrt(np.pi / 2) * np.abs(conv).sum() / (6 * max(1, (w - 2) * (h - 2))))


def scratch_mask(rgb: np.ndarray) -> np.ndarray:
    """Thin bright or dark elongated defects (scratches, dust lines)."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    ridge = np.maximum(
        cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel),
        cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel),
    ).astype(np.float32)
    thresh = max(30.0, float(ridge.mean() + 4 * ridge.std()))
    cand = (ridge > thresh).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand, 8)
    keep = np.zeros(n, bool)
    for i in range(1, n):
        _x, _y, bw, bh, area = stats[i]
        length = max(bw, bh)
        if length >= 12 and area <= 3.5 * length:  # long and about 3 px wide or thinner
            keep[i] = True
    mask = keep[labels]
    return cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0


def restore(rgb: np.ndarray, *, scratches: bool = True, denoise: bool = True) -> np.ndarray:
    out = rgb
    if scratches:
        mask = scratch_mask(out)
        if mask.any():
            out = cv2.inpaint(out, mask.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    if denoise:
        sigma = noise_sigma(out)
        if sigma > 1.0:
            h = float(np.clip(sigma * 1.1, 3.0, 18.0))
            out = cv2.fastNlMeansDenoisingColored(out, None, h, h, 5, 15)
    return out if out is not rgb else rgb.copy()


def light_restore(rgb: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Exposure and contrast: stretch L between its 0.5th and 99.5th percentiles, pull the
    median towards mid-grey with a gamma, then a gentle CLAHE. Chroma is left alone."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    # Everything below is a function of the 8-bit lightness, so it is one 256-entry table
    # built from the histogram (no full-size float copies on large pictures).
    hist = np.bincount(lab[..., 0].ravel(), minlength=256).astype(np.float64)
    cdf = np.cumsum(hist) / hist.sum()
    lo = float(np.searchsorted(cdf, 0.005)) / 255.0
    hi = float(np.searchsorted(cdf, 0.995)) / 255.0
    levels = np.arange(256, dtype=np.float64) / 255.0
    if hi - lo > 0.05:
        levels = np.clip((levels - lo) / (hi - lo), 0, 1)
    med = float(levels[min(255, int(np.searchsorted(cdf, 0.5)))])
    if 0.02 < med < 0.98:
        gamma = float(np.clip(np.log(0.5) / np.log(med), 0.55, 1.8))
        levels = levels**gamma
    table = np.round(levels * 255).astype(np.uint8)
    lab[..., 0] = cv2.createCLAHE(clipLimit=1.6, tileGridSize=(8, 8)).apply(
        cv2.LUT(lab[..., 0], table)
    )
    out = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    s = float(np.clip(strength, 0, 1))
    return out if s >= 1.0 else cv2.addWeighted(out, s, rgb, 1 - s, 0)


# Gradient maps: (position 0..1, RGB) stops from shadows to highlights.
PALETTES: dict[str, list[tuple[float, tuple[int, int, int]]]] = {
    "sepia": [(0.0, (28, 18, 10)), (0.5, (150, 110, 70)), (1.0, (250, 240, 220))],
    "warm": [
        (0.0, (30, 15, 25)),
        (0.4, (150, 70, 50)),
        (0.75, (235, 170, 110)),
        (1.0, (255, 248, 235)),
    ],
    "cool": [(0.0, (10, 20, 40)), (0.5, (70, 110, 160)), (1.0, (235, 245, 255))],
    "teal-orange": [
        (0.0, (5, 30, 40)),
        (0.35, (30, 100, 110)),
        (0.7, (220, 150, 100)),
        (1.0, (255, 240, 225)),
    ],
    "earth": [
        (0.0, (20, 22, 30)),
        (0.3, (70, 60, 45)),
        (0.55, (150, 120, 90)),
        (0.8, (215, 190, 165)),
        (1.0, (240, 245, 250)),
    ],
}


def colorize(rgb: np.ndarray, palette: str = "sepia") -> np.ndarray:
    """Colour a greyscale picture with a gradient map: each grey level becomes a palette colour.
    This is tinting, not a guess at the true colours (no model is involved)."""
    stops = PALETTES[palette]
    xs = np.array([p for p, _ in stops]) * 255
    lut = np.stack(
        [np.interp(np.arange(256), xs, [c[i] for _, c in stops]) for i in range(3)], axis=-1
    ).astype(np.uint8)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return lut[grey]

"""Restyle: cartoon / sticker, sketch, stylization and skin retouch — classical filters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from generations.imageops.background import remove_background
from generations.imageops.common import guided_filter, resize_long
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")


def _quantize(rgb: np.ndarray, colours: int) -> np.ndarray:
    """k-means palette fitted on a thumbnail, applied to every pixel."""
    small, _ = resize_long(rgb, 160)
    samples = small.reshape(-1, 3).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 12, 1.0)
    cv2.setRNGSeed(7)
    _, _, centres = cv2.kmeans(samples, colours, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    flat = rgb.reshape(-1, 3).astype(np.float32)
    # Nearest centre per pixel, in chunks to bound memory on large images.
    out = np.empty(len(flat), np.int32)
    for start in range(0, len(flat), 1 << 20):
        chunk = flat[start : start + (1 << 20)]
        d = ((chunk[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        out[start : start + len(chunk)] = d.argmin(1)
    return centres.astype(np.uint8)[out].reshape(rgb.shape)


def cartoon(rgb: np.ndarray, *, colours: int = 10) -> np.ndarray:
    small, scale = resize_long(rgb, 1024)
    smooth = small
    for _ in range(2):
        smooth = cv2.bilateralFilter(smooth, 7, 40, 7)
    flat = _quantize(smooth, colours)
    grey = cv2.medianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), 5)
    edges = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 5)
    out = np.where((edges == 0)[..., None], (flat * 0.25).astype(np.uint8), flat)
    if scale < 1.0:
        out = cv2.resize(out, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    return out


def sticker(rgb: np.ndarray, *, colours: int = 10) -> np.ndarray:
    """A cartoon of the foreground with a white die-cut border, on transparency (RGBA)."""
    cut = remove_background(rgb, matting=False)
    toon = cartoon(rgb, colours=colours)
    h, w = rgb.shape[:2]
    border = max(4, round(0.02 * max(h, w)))
    solid = (cut.alpha >= 128).astype(np.uint8)
    # A round-cornered border of `border` pixels: distance to the subject, not a huge dilation.
    distance = cv2.distanceTransform((1 - solid).astype(np.uint8), cv2.DIST_L2, 3)
    outline = np.clip(border + 0.5 - distance, 0, 1).astype(np.float32)
    a = cut.alpha.astype(np.float32)[..., None] / 255.0
    colour = toon * a + 255 * (1 - a)  # white where the outline extends past the subject
    alpha = np.maximum(cut.alpha.astype(np.float32), outline * 255)
    return np.dstack([colour.astype(np.uint8), alpha.astype(np.uint8)])


def sketch(rgb: np.ndarray, *, colour: bool = False) -> np.ndarray:
    """Pencil sketch by colour-dodge of the grey image with its blurred negative."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    sigma = max(2.0, max(rgb.shape[:2]) / 250)
    blur = cv2.GaussianBlur(255 - grey, (0, 0), sigma)
    dodge = np.clip(grey * 255.0 / np.maximum(255 - blur, 1), 0, 255)
    dodge = 255 - np.clip((255 - dodge) * 1.4, 0, 255)  # darker strokes
    if not colour:
        return np.repeat(dodge.astype(np.uint8)[..., None], 3, axis=2)
    tint = cv2.bilateralFilter(rgb, 7, 50, 7).astype(np.float32)
    return np.clip(tint * (dodge[..., None] / 255.0) * 1.05, 0, 255).astype(np.uint8)


def stylize(rgb: np.ndarray, *, strength: float = 0.5) -> np.ndarray:
    """Watercolour-like stylization (OpenCV's edge-aware domain-transform filter)."""
    small, scale = resize_long(rgb, 1280)
    s = float(np.clip(strength, 0.05, 1.0))
    out = cv2.stylization(small[..., ::-1].copy(), sigma_s=20 + 100 * s, sigma_r=0.2 + 0.3 * s)
    out = out[..., ::-1]
    if scale < 1.0:
        out = cv2.resize(out, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(out)


def skin_mask(rgb: np.ndarray) -> np.ndarray:
    """Soft skin probability [0, 1] from the classic YCrCb skin box, feathered."""
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    y, cr, cb = ycc[..., 0], ycc[..., 1], ycc[..., 2]
    hard = (cr >= 135) & (cr <= 175) & (cb >= 80) & (cb <= 130) & (y > 40)
    hard = cv2.morphologyEx(hard.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    sigma = max(2.0, max(rgb.shape[:2]) / 300)
    return cv2.GaussianBlur(hard.astype(np.float32), (0, 0), sigma)


def retouch_skin(rgb: np.ndarray, *, strength: float = 0.6) -> np.ndarray:
    """Edge-preserving smoothing (guided filter) applied only on the skin mask, keeping a little
    fine texture so skin does not look plastic."""
    mask = skin_mask(rgb)
    if mask.max() < 0.05:
        return rgb.copy()
    r = max(3, round(max(rgb.shape[:2]) / 150))
    sub = max(1, min(4, r // 3))  # large pictures: fast guided filter (bounded memory)
    s = float(np.clip(strength, 0, 1)) * mask
    out = np.empty_like(rgb)
    for c in range(3):  # one channel at a time keeps the float working set small
        ch = rgb[..., c].astype(np.float32) / 255.0
        smooth = guided_filter(ch, ch, r, 0.004, subsample=sub)
        smooth += 0.3 * (ch - cv2.GaussianBlur(ch, (0, 0), 0.8))
        mixed = s * smooth + (1 - s) * ch
        out[..., c] = np.clip(mixed * 255 + 0.5, 0, 255).astype(np.uint8)
    return out

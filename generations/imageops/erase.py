"""Erase: fill a masked region plausibly from its surroundings (no prompt, no model).

Thin regions (wires, text strokes, scratches) are filled by OpenCV's Telea or Navier–Stokes
inpainting. Larger ones use a multi-scale fill: the hole is inpainted on a pyramid level where it
is thin, the result is carried up level by level with harmonic smoothing inside the hole, and
finally texture (the high-pass detail) is copied in from the mirror image of each hole pixel
across the nearest hole edge, so grain and patterns continue instead of a smooth smear.
"""

from __future__ import annotations

import cv2
import numpy as np

FILL_MAX_PIXELS = 6_000_000  # larger regions are filled at a reduced scale (bounded memory)
THIN_RADIUS = 6  # holes no thicker than this (pixels from edge to centre) use Telea directly
METHODS = ("auto", "telea", "navier-stokes", "multiscale")


def _thickness(mask: np.ndarray) -> float:
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    return float(dist.max())


def _harmonic(img: np.ndarray, mask: np.ndarray, iterations: int) -> np.ndarray:
    """Relax hole pixels towards the average of their neighbours (a Laplace fill)."""
    m = mask[..., None] if img.ndim == 3 else mask
    for _ in range(iterations):
        blurred = cv2.blur(img, (3, 3))
        img = np.where(m, blurred, img)
    return img


def _multiscale(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    levels = [(img, mask)]
    while _thickness(levels[-1][1]) > 4 and min(levels[-1][0].shape[:2]) > 24:
        im, mk = levels[-1]
        small = cv2.resize(im, (im.shape[1] // 2, im.shape[0] // 2), interpolation=cv2.INTER_AREA)
        # A pixel is in the hole at the coarser level if any of its children was.
        mk_small = (
            cv2.resize(
                mk.astype(np.uint8), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA
            )
            > 0
        )
        mk_small = cv2.dilate(mk_small.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        levels.append((small, mk_small))
    coarse_img, coarse_mask = levels[-1]
    filled = cv2.inpaint(
        np.clip(coarse_img, 0, 255).astype(np.uint8),
        coarse_mask.astype(np.uint8),
        3,
        cv2.INPAINT_TELEA,
    ).astype(np.float32)
    # Telea leaves streaks along its marching order; relaxing to a harmonic (Laplace) fill at
    # the coarse level makes smooth shading (gradients, vignettes) continue exactly.
    filled = _harmonic(filled, coarse_mask, 40)
    for im, mk in reversed(levels[:-1]):
        up = cv2.resize(filled, (im.shape[1], im.shape[0]), interpolation=cv2.INTER_LINEAR)
        m3 = mk[..., None]
        filled = np.where(m3, up, im)
        filled = _harmonic(filled, mk, 6)
    return filled


def _texture_transfer(original: np.ndarray, filled: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Add high-pass detail mirrored across the hole edge into the smooth fill."""
    h, w = mask.shape
    sigma = 2.0
    # Detail is measured on the image with the hole already smoothly filled, so what was in the
    # hole does not bleed into the detail of its neighbours.
    src_img = np.where(mask[..., None], filled, original)
    detail = src_img - cv2.GaussianBlur(src_img, (0, 0), sigma)
    known = ~mask
    # Nearest known pixel for every hole pixel.
    src = mask.astype(np.uint8)
    _dist, labels = cv2.distanceTransformWithLabels(
        src, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    ky, kx = np.nonzero(known)
    lut_y = np.zeros(labels.max() + 1, np.int32)
    lut_x = np.zeros(labels.max() + 1, np.int32)
    lut_y[labels[ky, kx]], lut_x[labels[ky, kx]] = ky, kx
    hy, hx = np.nonzero(mask)
    ny, nx = lut_y[labels[hy, hx]], lut_x[labels[hy, hx]]
    ry, rx = np.clip(2 * ny - hy, 0, h - 1), np.clip(2 * nx - hx, 0, w - 1)
    bad = mask[ry, rx]
    ry, rx = np.where(bad, ny, ry), np.where(bad, nx, rx)
    # Known pixels right next to the hole may be contaminated (antialiasing): damp detail.
    out = filled.copy()
    out[hy, hx] += 0.9 * detail[ry, rx]
    return out


def erase(rgb: np.ndarray, mask: np.ndarray, method: str = "auto") -> np.ndarray:
    """Fill `mask` (bool, True = erase) in an RGB uint8 image."""
    if method not in METHODS:
        raise ValueError(f"unknown erase method {method!r}")
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    m = cv2.dilate(mask.astype(np.uint8), grow) > 0
    if not m.any():
        return rgb.copy()
    thick = _thickness(m)
    if method == "telea" or (method == "auto" and thick <= THIN_RADIUS):
        return cv2.inpaint(rgb, m.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    if method == "navier-stokes":
        return cv2.inpaint(rgb, m.astype(np.uint8), 3, cv2.INPAINT_NS)
    # Work on the region around the hole only: cheaper, and distant content is not wanted.
    ys, xs = np.nonzero(m)
    pad = int(max(16, 2.5 * thick))
    h, w = m.shape
    y1, y2 = max(0, ys.min() - pad), min(h, ys.max() + 1 + pad)
    x1, x2 = max(0, xs.min() - pad), min(w, xs.max() + 1 + pad)
    cm = m[y1:y2, x1:x2]
    ch, cw = cm.shape
    scale = min(1.0, (FILL_MAX_PIXELS / (ch * cw)) ** 0.5)
    if scale < 1.0:
        # A huge region (an outpaint of a large picture): fill at a reduced scale and enlarge
        # the fill; the original pixels outside the mask stay untouched at full resolution.
        size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
        crop = cv2.resize(rgb[y1:y2, x1:x2], size, interpolation=cv2.INTER_AREA).astype(np.float32)
        small_mask = cv2.resize(cm.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        small_mask = cv2.dilate(small_mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        filled = _texture_transfer(crop, _multiscale(crop.copy(), small_mask), small_mask)
        filled = cv2.resize(filled, (cw, ch), interpolation=cv2.INTER_CUBIC)
    else:
        crop = rgb[y1:y2, x1:x2].astype(np.float32)
        filled = _texture_transfer(crop, _multiscale(crop.copy(), cm), cm)
    out = rgb.copy()
    region = np.clip(np.round(filled), 0, 255).astype(np.uint8)
    out[y1:y2, x1:x2] = np.where(cm[..., None], region, rgb[y1:y2, x1:x2])
    return out

"""The product as the compositor needs it: a cut-out (the studio's background removal, or the
image's own alpha), where it touches the ground, how its base is foreshortened, and the colour
cast of the backdrop it was shot on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from generations.imageops.background import fit_backdrop, remove_background
from generations.imageops.common import guided_filter, resize_long
from generations.imageops.detect import saliency
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")

# Inputs are cut out at this long side at most: the product never fills more than ~70 % of a
# 1024-pixel scene, and background removal's time grows with the pixel count.
CUTOUT_LONG_SIDE = 1280
MIN_COVERAGE = 0.004  # a cut-out smaller than this share of the image is "no product found"


class ProductError(ValueError):
    """The image holds no usable product; the message is for the user."""


@dataclass
class Cutout:
    rgba: np.ndarray  # h×w×4 uint8, straight (not premultiplied) colour, cropped with a margin
    contact_x: float  # centre of the base, cut-out pixels
    contact_y: float  # lowest row of the product (where its front edge meets the ground)
    base_half_width: float  # half the width of the part that stands on the ground (pixels)
    base_ratio: float | None  # minor/major ratio of the base ellipse, None when it is flat
    cast: tuple[float, float, float]  # backdrop colour of the source / its luminance (linear)
    had_alpha: bool

    @property
    def height(self) -> int:
        return int(self.rgba.shape[0])

    @property
    def top(self) -> int:
        rows = np.flatnonzero((self.rgba[..., 3] >= 128).any(axis=1))
        return int(rows[0]) if rows.size else 0


def _has_cutout_alpha(rgba: np.ndarray) -> bool:
    """True when the alpha channel already separates a product from a transparent backdrop."""
    alpha = rgba[..., 3]
    border = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
    return bool((border < 16).mean() > 0.9 and (alpha > 240).mean() > MIN_COVERAGE)


def plausible(alpha: np.ndarray) -> bool:
    """Does this alpha look like one product? Most of the foreground in one piece, not a sliver
    or a scatter of fragments (what background removal leaves when the backdrop is busy)."""
    solid = (alpha >= 128).astype(np.uint8)
    area = int(solid.sum())
    if area < MIN_COVERAGE * alpha.size or area > 0.92 * alpha.size:
        return False
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    if count < 2:
        return False
    main = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    main_area = int(stats[main, cv2.CC_STAT_AREA])
    if main_area < 0.85 * area:
        return False
    contours, _ = cv2.findContours(
        (labels == main).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    return main_area / max(cv2.contourArea(hull), 1.0) >= 0.5


def _salient_cutout(rgb: np.ndarray) -> np.ndarray:
    """A cut-out for a product on a busy backdrop, where the border says nothing about the
    backdrop: the most salient region near the centre seeds GrabCut, the largest piece is
    kept, and a guided filter softens the edge. Returns RGBA."""
    h, w = rgb.shape[:2]
    small, scale = resize_long(rgb, 400)
    sh, sw = small.shape[:2]
    sal = saliency(small)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    # Products are framed near the middle: weigh saliency by closeness to the centre.
    centre = np.exp(-(((xx - sw / 2) / (0.45 * sw)) ** 2 + ((yy - sh / 2) / (0.45 * sh)) ** 2))
    score = sal * (0.4 + 0.6 * centre)
    s8 = np.clip(score * 255 / max(float(score.max()), 1e-6), 0, 255).astype(np.uint8)
    thresh, _ = cv2.threshold(s8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    mask[s8 >= thresh] = cv2.GC_PR_FGD
    mask[s8 >= min(255, thresh + (255 - thresh) // 2)] = cv2.GC_FGD
    border = max(2, sh // 40)
    mask[:border], mask[-border:], mask[:, :border], mask[:, -border:] = (cv2.GC_BGD,) * 4
    if not (mask == cv2.GC_FGD).any():
        return np.dstack([rgb, np.zeros((h, w), np.uint8)])
    cv2.setRNGSeed(20261203)  # GrabCut's k-means starts from OpenCV's RNG: fix it
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(small, mask, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)
    fg = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if count < 2:
        return np.dstack([rgb, np.zeros((h, w), np.uint8)])
    main = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    fg = (labels == main).astype(np.float32)
    # One pixel in from GrabCut's edge: its colours there are mostly the backdrop's.
    fg = cv2.erode(fg, np.ones((3, 3), np.uint8))
    coarse = cv2.resize(fg, (w, h), interpolation=cv2.INTER_LINEAR)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    # A small window and a low eps: the edge follows the photo's own edges closely.
    radius = max(2, round(1.0 / scale))
    alpha = np.clip(guided_filter(grey, coarse, radius, 2e-4, subsample=2), 0, 1)
    alpha = np.clip((alpha - 0.5) * 1.6 + 0.5, 0, 1)  # a crisper transition
    return np.dstack([rgb, np.round(alpha * 255).astype(np.uint8)])


def _cut(rgb: np.ndarray) -> tuple[np.ndarray, bool]:
    """The studio's background removal, checked against a saliency-seeded GrabCut: the latter
    wins on a busy backdrop (the border model cannot describe it) or when removal left the
    product in pieces; where removal only bit into a pale product's lit side (white on white),
    the two are combined. Returns (RGBA, whether the backdrop was busy)."""
    removed = remove_background(rgb).rgba
    salient = _salient_cutout(rgb)
    a1 = removed[..., 3] >= 128
    a2 = salient[..., 3] >= 128
    lab = cv2.cvtColor(resize_long(rgb, 400)[0], cv2.COLOR_RGB2LAB).astype(np.float32)
    _coef, inliers, sigma = fit_backdrop(lab, max(2, round(min(lab.shape[:2]) * 0.03)))
    busy = sigma > 8.0 or float(inliers.mean()) < 0.8
    if busy or not plausible(removed[..., 3]):
        return (salient, True) if plausible(salient[..., 3]) else (removed, busy)
    area1, area2 = int(a1.sum()), int(a2.sum())
    inside = int((a1 & a2).sum())
    if area2 and inside >= 0.95 * area1 and area1 < 0.9 * area2 and plausible(salient[..., 3]):
        alpha = np.maximum(removed[..., 3], salient[..., 3])
        return np.dstack([rgb, alpha]), False
    return removed, False


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = c.astype(np.float32) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _backdrop_cast(rgb: np.ndarray, alpha: np.ndarray) -> tuple[float, float, float]:
    """The backdrop's colour normalised to luminance 1: (1, 1, 1) for a neutral white sweep."""
    backdrop = alpha < 8
    if backdrop.mean() < 0.05:
        return (1.0, 1.0, 1.0)
    # Bright backdrop pixels only: shadows and dark corners say little about the light's colour.
    lum = rgb.astype(np.float32).mean(axis=2)
    bright = backdrop & (lum >= np.percentile(lum[backdrop], 60))
    mean = _srgb_to_linear(rgb[bright].reshape(-1, 3).mean(axis=0).reshape(1, 3))[0]
    y = float(mean @ np.array([0.2126, 0.7152, 0.0722], np.float32))
    if y < 0.25:  # a dark or busy backdrop is no white reference
        return (1.0, 1.0, 1.0)
    cast = mean / max(y, 1e-3)
    return tuple(float(np.clip(v, 0.8, 1.25)) for v in cast)  # type: ignore[return-value]


def _base(alpha: np.ndarray) -> tuple[float, float, float, float | None]:
    """(contact x, contact y, half width of the base, base ellipse ratio or None).

    The columns whose lowest pixel comes within a few per cent of the product's lowest row are
    the part that stands on the ground (a mug's handle, a shoe's raised toe are not). A round
    base seen from above is an elliptical arc: its sag over the outer columns gives the ratio.
    """
    solid = alpha >= 128
    rows = np.flatnonzero(solid.any(axis=1))
    height = rows[-1] - rows[0] + 1
    bottom = np.full(alpha.shape[1], -1, np.int64)
    flipped = solid[::-1]
    has = flipped.any(axis=0)
    bottom[has] = alpha.shape[0] - 1 - np.argmax(flipped[:, has], axis=0)
    lowest = int(bottom.max())
    near = np.flatnonzero(bottom >= lowest - max(3, 0.12 * height))
    # The longest run of near-ground columns is the base (not a stray foot or strap).
    runs = np.split(near, np.flatnonzero(np.diff(near) > max(2, 0.02 * alpha.shape[1])) + 1)
    run = max(runs, key=len)
    x1, x2 = int(run[0]), int(run[-1])
    half = max((x2 - x1 + 1) / 2.0, 1.0)
    cx = (x1 + x2) / 2.0
    if len(run) < 12:
        return cx, float(lowest), half, None
    n = max(2, int(0.12 * len(run)))
    left_sag = lowest - float(np.median(bottom[x1 : x1 + n]))
    right_sag = lowest - float(np.median(bottom[x2 - n + 1 : x2 + 1]))
    centre = float(np.median(bottom[int(cx) - n // 2 : int(cx) + n // 2 + 1]))
    sag = min(left_sag, right_sag) - (lowest - centre)
    # n is 12 % of the base's width, so the outer columns span |x| from 0.76a to a; their
    # median (|x| ≈ 0.88a) lies b·(1 − √(1 − 0.88²)) ≈ 0.525·b above the lowest point.
    ratio = sag / 0.525 / half
    if ratio < 0.04:
        return cx, float(lowest), half, None
    return cx, float(lowest), half, float(min(ratio, 0.6))


def prepare_product(rgba_or_rgb: np.ndarray) -> Cutout:
    """Cut the product out (keeping an existing alpha cut-out) and measure its base."""
    image = rgba_or_rgb
    h, w = image.shape[:2]
    scale = min(1.0, CUTOUT_LONG_SIDE / max(h, w))
    if scale < 1.0:
        image = cv2.resize(
            image,
            (max(1, round(w * scale)), max(1, round(h * scale))),
            interpolation=cv2.INTER_AREA,
        )
    had_alpha = image.ndim == 3 and image.shape[2] == 4 and _has_cutout_alpha(image)
    if had_alpha:
        rgba = np.ascontiguousarray(image)
        rgb = rgba[..., :3]
    else:
        rgb = np.ascontiguousarray(image[..., :3]) if image.ndim == 3 else np.dstack([image] * 3)
        rgba, busy = _cut(rgb)
    alpha = rgba[..., 3]
    if (alpha >= 128).mean() < MIN_COVERAGE or not (had_alpha or plausible(alpha)):
        raise ProductError(
            "No single product could be cut out of this image: use a photo of one product on "
            "a plain backdrop, or a cut-out PNG with transparency."
        )
    cast = (1.0, 1.0, 1.0) if had_alpha or busy else _backdrop_cast(rgb, alpha)
    ys, xs = np.nonzero(alpha >= 8)
    margin = 4
    y1, y2 = max(0, ys.min() - margin), min(alpha.shape[0], ys.max() + 1 + margin)
    x1, x2 = max(0, xs.min() - margin), min(alpha.shape[1], xs.max() + 1 + margin)
    crop = np.ascontiguousarray(rgba[y1:y2, x1:x2])
    cx, cy, half, ratio = _base(crop[..., 3])
    return Cutout(
        rgba=crop,
        contact_x=cx,
        contact_y=cy,
        base_half_width=half,
        base_ratio=ratio,
        cast=cast,
        had_alpha=had_alpha,
    )

"""Background removal for product shots, without a neural network.

1. A background model fitted to the image border (a smooth quadratic field per Lab channel, so
   plain and gradient backdrops both fit; outliers — product touching the border — are dropped).
2. Seeds: pixels far from the model are foreground; pixels that look like the backdrop and are
   reachable from the border without crossing a strong edge are background. Regions enclosed by
   edges stay "probably foreground" (this is what handles white-on-white products).
3. GrabCut refines the seeds with colour models, at a working resolution.
4. Holes (a mug handle, a ring) that match the backdrop closely are cleared; specks dropped.
5. Soft edges: closed-form matting (pymatting) on a trimap band, or a guided filter when matting
   is off; then colour decontamination against the fitted backdrop removes halos.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from generations.imageops.common import bbox_of, guided_filter, resize_long
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
    import scipy.sparse
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")
    scipy = lazy_module("scipy", "sparse")

WORK_LONG_SIDE = 400
MATTING_LONG_SIDE = 256
MATTING_RTOL = 1e-4
GRABCUT_ITERATIONS = 1
GRABCUT_RNG_SEED = 20261122
GRABCUT_SEED_STEP = 2
SHARPNESS_SIGMA = 3.0
SHARP_EDGE_RATIO = 1.6
EDGE_FLOOR = 24.0
T_LO_FLAT = 4.5  # backdrop distance below which a pixel may be backdrop, on a flat backdrop
FLAT_RANGE = float(
    __import__("os").environ.get("FR", 8)
)  # Lab range of the fitted backdrop that counts as flat
# Border texture (L std in 5×5 windows) above which a backdrop is cloth or paper, and the share
# of it below which a smooth patch can not be that backdrop.
TEXTURED_BACKDROP = 4.0
TEXTURE_KEEP = 0.35
# No backdrop (a full-bleed design or photo): the border varies more than any backdrop texture
# we know (cloth and paper stay under ~14 Lab units), or the cut would run along three sides, or
# along a quarter of two opposite sides.
FULL_BLEED_SIGMA = 18.0
FULL_BLEED_SIDE_SHARE = 0.1


@dataclass
class BackgroundResult:
    rgba: np.ndarray  # H×W×4 uint8, colour decontaminated
    alpha: np.ndarray  # H×W uint8
    box: list[int] | None  # [x1, y1, x2, y2] of the foreground
    no_backdrop: bool = False  # full bleed: nothing to remove, the image is kept whole


def _design(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=-1)


def fit_backdrop(image: np.ndarray, border: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Fit a quadratic field per channel to the border strip (robustly).

    Returns (coefficients 6×C, inlier mask over the border samples, robust residual sigma).
    """
    h, w = image.shape[:2]
    strip = np.zeros((h, w), bool)
    strip[:border], strip[-border:], strip[:, :border], strip[:, -border:] = True, True, True, True
    ys, xs = np.nonzero(strip)
    step = max(1, len(xs) // 3000)  # a few thousand samples pin six coefficients down
    ys, xs = ys[::step], xs[::step]
    a = _design(xs / max(w - 1, 1), ys / max(h - 1, 1)).astype(np.float64)
    values = image[ys, xs].astype(np.float64)
    keep = np.ones(len(xs), bool)
    coef = np.zeros((6, image.shape[2]))
    sigma = 1.0
    for _ in range(4):
        coef, *_ = np.linalg.lstsq(a[keep], values[keep], rcond=None)
        resid = np.linalg.norm(values - a @ coef, axis=1)
        med = float(np.median(resid[keep]))
        sigma = max(1.0, 1.4826 * float(np.median(np.abs(resid[keep] - med))) + med)
        new_keep = resid < max(3.0 * sigma, 6.0)
        if new_keep.sum() < 0.3 * len(keep) or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return coef, keep, sigma


def eval_backdrop(coef: np.ndarray, h: int, w: int) -> np.ndarray:
    # Separable: c0 + c1·x + c3·x² per column, (c2 + c4·x)·y per row and column, c5·y² per row
    # (no h×w×6 design matrix).
    c = coef.astype(np.float32)
    x = (np.arange(w, dtype=np.float32) / max(w - 1, 1))[:, None]
    y = (np.arange(h, dtype=np.float32) / max(h - 1, 1))[:, None, None]
    per_col = c[0] + x * c[1] + x * x * c[3]  # w×C
    slope = c[2] + x * c[4]  # w×C
    return (per_col[None] + y * slope[None] + (y * y) * c[5]).astype(np.float32)


def backdrop_distance(lab: np.ndarray, model: np.ndarray) -> np.ndarray:
    """Distance from the backdrop in Lab (chroma weighted up), darker pixels discounted."""
    diff = lab - model
    dl = diff[..., 0]
    dl = np.where(dl < 0, 0.5 * dl, dl)
    chroma = np.hypot(diff[..., 1], diff[..., 2])
    return np.sqrt(dl * dl + (1.6 * chroma) ** 2)


@functools.cache
def _channel_sum() -> np.ndarray:  # not a module constant: numpy is imported on first use
    return np.ones((1, 3), np.float32)


def shadow_distance(rgb: np.ndarray, model_rgb: np.ndarray) -> np.ndarray:
    """How far a pixel is from being the backdrop in shadow: I ≈ k·B with 0.45 < k ≤ 1.
    A cast shadow dims all channels by the same factor, so the residual off the line through B
    is small, whatever the depth of the shadow."""
    img = rgb.astype(np.float32)
    model = model_rgb.astype(np.float32, copy=False)
    ib = cv2.transform(img * model, _channel_sum())
    bb = cv2.transform(model * model, _channel_sum())
    ii = cv2.transform(img * img, _channel_sum())
    k = ib / np.maximum(bb, 1.0)
    # |I - k·B|² = |I|² - 2k·(I·B) + k²·|B|²
    resid = np.sqrt(np.maximum(ii - k * (2 * ib - k * bb), 0.0))
    penalty = np.maximum(0.0, 0.45 - k) * 300 + np.maximum(0.0, k - 1.02) * 300
    return 1.5 * resid + penalty


def _components_touching_border(mask: np.ndarray) -> np.ndarray:
    _n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=4)
    border_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    touching = np.isin(labels, border_labels[border_labels > 0])
    return touching


def _surface(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """A smooth backdrop surface through the `known` pixels, filled in elsewhere (inpainting at
    a coarse scale): this follows radial and uneven lighting a quadratic cannot."""
    h, w = known.shape
    cw, ch = max(8, w // 8), max(8, h // 8)
    img = image.astype(np.float32)
    weights = cv2.resize(known.astype(np.float32), (cw, ch), interpolation=cv2.INTER_AREA)
    summed = cv2.resize(img * known[..., None], (cw, ch), interpolation=cv2.INTER_AREA)
    coarse = summed / np.maximum(weights[..., None], 1e-6)
    hole = (weights < 0.5).astype(np.uint8)
    lo, hi = coarse.min(), coarse.max()
    scaled = np.clip((coarse - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8)
    filled = (
        cv2.inpaint(scaled, hole, 3, cv2.INPAINT_TELEA).astype(np.float32) / 255 * (hi - lo) + lo
    )
    filled = np.where(hole[..., None] > 0, filled, coarse)
    filled = cv2.GaussianBlur(filled, (0, 0), 1.0)
    return cv2.resize(filled, (w, h), interpolation=cv2.INTER_CUBIC)


def _edges(lab: np.ndarray, border: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strong edges (they stop the flood fill), weak edges (they bound where the backdrop
    surface is fitted) and sharp weak edges (outlines: they stop the shadow peel), dilated by a
    pixel."""
    grey = cv2.GaussianBlur(lab[..., 0].astype(np.uint8), (3, 3), 0)
    grad = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    # Colour edges too: a cream product on a grey-white backdrop differs more in chroma than in
    # lightness. Canny on a 3-channel gradient takes the strongest channel at each pixel.
    colour = lab.copy()
    colour[..., 1:] = 128 + (colour[..., 1:] - 128) * 1.6
    colour = cv2.GaussianBlur(np.clip(colour, 0, 255).astype(np.uint8), (3, 3), 0)
    dx = cv2.Sobel(colour, cv2.CV_16S, 1, 0)
    dy = cv2.Sobel(colour, cv2.CV_16S, 0, 1)
    cgrad = np.sqrt((dx.astype(np.float32) ** 2 + dy.astype(np.float32) ** 2).max(axis=2))
    border_grad = np.concatenate(
        [cgrad[:border].ravel(), cgrad[-border:].ravel(), cgrad[:, :border].ravel()]
    )
    # The bar for an edge follows the backdrop's own texture and noise: on a clean backdrop a
    # faint outline counts, on cloth or paper the weave does not.
    g_hi = max(EDGE_FLOOR, 3.0 * float(np.percentile(border_grad, 95)))
    edges = cv2.Canny(dx, dy, g_hi * 0.5, g_hi, L2gradient=True) > 0
    kernel = np.ones((3, 3), np.uint8)
    weak = cv2.Canny(dx, dy, g_hi * 0.2, g_hi * 0.4, L2gradient=True) > 0
    # A cast shadow's outline is a penumbra, a product's outline a step: blurring a step by a
    # few pixels divides its gradient by about three, a ramp several pixels wide keeps most of
    # it. Soft edges are not outlines (they would enclose the shadow as "product").
    coarse = cv2.GaussianBlur(lab[..., 0], (0, 0), SHARPNESS_SIGMA)
    coarse_grad = np.hypot(cv2.Sobel(coarse, cv2.CV_32F, 1, 0), cv2.Sobel(coarse, cv2.CV_32F, 0, 1))
    sharp = grad > SHARP_EDGE_RATIO * coarse_grad
    return (
        cv2.dilate(edges.astype(np.uint8), kernel) > 0,
        cv2.dilate(weak.astype(np.uint8), kernel) > 0,
        cv2.dilate((weak & sharp).astype(np.uint8), kernel) > 0,
    )


def _texture(lab: np.ndarray) -> np.ndarray:
    lum = lab[..., 0]
    mean = cv2.blur(lum, (5, 5))
    return np.sqrt(np.maximum(cv2.blur(lum * lum, (5, 5)) - mean * mean, 0))


def _distances(
    small: np.ndarray,
    lab: np.ndarray,
    model_lab: np.ndarray,
    model_rgb: np.ndarray,
    smooth: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(backdrop distance in Lab, distance allowing for cast shadows on smooth areas, shadow
    distance everywhere)."""
    lab_d = cv2.GaussianBlur(backdrop_distance(lab, model_lab), (3, 3), 0)
    shadow_raw = cv2.GaussianBlur(shadow_distance(small, model_rgb), (3, 3), 0)
    # Shadows are smooth: textured pixels may not be explained away as shadow.
    shadow_d = np.where(smooth, shadow_raw, np.inf)
    return lab_d, np.minimum(lab_d, shadow_d), shadow_raw


@dataclass
class Segmentation:
    fg: np.ndarray  # binary foreground mask at working resolution
    backdrop_rgb: np.ndarray  # 6×3 quadratic coefficients of the border backdrop (RGB)
    sigma: float
    t_lo: float
    t_hi: float
    no_backdrop: bool = False


def _full_bleed(fg: np.ndarray, sigma: float, border: int) -> bool:
    """Whether the picture has no backdrop at all (a poster, a photo filling the frame)."""
    if sigma > FULL_BLEED_SIGMA:
        return True
    top, bottom, left, right = (
        float(side.mean()) for side in (fg[:border], fg[-border:], fg[:, :border], fg[:, -border:])
    )
    if sum(share > FULL_BLEED_SIDE_SHARE for share in (top, bottom, left, right)) >= 3:
        return True
    # Bands or type that run off two opposite edges: the design spans the frame (a bleed).
    return (
        min(top, bottom) > 2.5 * FULL_BLEED_SIDE_SHARE
        or min(left, right) > 2.5 * FULL_BLEED_SIDE_SHARE
    )


def segment(small: np.ndarray) -> Segmentation:
    """Binary foreground mask at working resolution."""
    h, w = small.shape[:2]
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    border = max(2, round(min(h, w) * 0.02))
    coef, _inliers, sigma = fit_backdrop(lab, border)
    coef_rgb, _, _ = fit_backdrop(small.astype(np.float32), border)
    model_lab = eval_backdrop(coef, h, w)
    # On a flat, clean backdrop a pale product a few levels off it is already far (in noise
    # units); graded backdrops keep the wider bar (their model is only a fit).
    flat = (
        float(np.ptp(model_lab[..., 0])) < FLAT_RANGE
        and float(np.ptp(model_lab[..., 1:])) < FLAT_RANGE / 2
    )
    t_lo = max(T_LO_FLAT if flat else 6.0, 2.5 * sigma)
    t_hi = max(14.0, 5.0 * sigma)
    edges, weak_edges, outlines = _edges(lab, border)
    # The surface of pass 2 is fitted through what lies outside every outline, weak ones too:
    # a pale product with a faint outline must not be mistaken for backdrop.
    outside_weak = _components_touching_border(~weak_edges)
    smooth = _texture(lab) < 3.0 * sigma + 6.0

    # Pass 1 with the border model, pass 2 with a surface fitted through pass 1's backdrop
    # (pass 1 only needs its Lab distance, unless there is too little backdrop for pass 2).
    lab_d = cv2.GaussianBlur(backdrop_distance(lab, model_lab), (3, 3), 0)
    known = outside_weak & (lab_d < t_hi)
    known = cv2.erode(known.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if known.mean() < 0.05:
        model_rgb = eval_backdrop(coef_rgb, h, w)
    else:
        model_lab = _surface(lab, known)
        model_rgb = _surface(small, known)
    lab_d, dist, shadow_raw = _distances(small, lab, model_lab, model_rgb, smooth)
    bg_like = (dist < t_lo) & ~edges
    texture = _texture(lab)
    grain = float(np.median(np.concatenate([texture[:border].ravel(), texture[-border:].ravel()])))
    if grain > TEXTURED_BACKDROP:
        # Cloth and paper carry their texture everywhere, in shadow too: a patch as smooth as
        # glass can not be that backdrop, whatever its colour (a white label on linen).
        weave = cv2.blur(texture, (9, 9))
        bg_like &= weave > TEXTURE_KEEP * grain
    reached = _components_touching_border(bg_like)
    enclosed = ~reached

    # Holes: backdrop regions enclosed by the product (a ring's centre, a mug's handle).
    holes = np.zeros_like(reached)
    # Inside a hole the product's own shadow falls on the backdrop next to its rim, where the
    # smoothness test is unreliable: accept shadow-explained pixels there without it.
    inner_bg = (np.minimum(dist, shadow_raw) < t_lo) & enclosed & ~edges
    n, labels, stats, _ = cv2.connectedComponentsWithStats(inner_bg.astype(np.uint8), 4)
    min_hole = max(12, int(0.0015 * h * w))
    min_thick = max(3.0, 0.012 * min(h, w))
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] >= min_hole:
            region = labels == i
            x, y, bw, bh = (int(v) for v in stats[i, :4])
            thick = cv2.distanceTransform(
                region[y : y + bh, x : x + bw].astype(np.uint8), cv2.DIST_L2, 3
            ).max()
            # Some of it must be the bare backdrop (the rest may be the product's shadow).
            bare = float((lab_d[region] < t_lo).mean())
            # A real hole has an outline: most of its rim is an edge (a pale patch of the
            # product that fades into white does not).
            rim = cv2.dilate(region.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            rim &= ~region
            outlined = float(edges[rim].mean()) if rim.any() else 0.0
            if (
                thick >= min_thick
                and float(np.minimum(dist, shadow_raw)[region].mean()) < 0.6 * t_lo
                and bare > 0.3
                and outlined > 0.5
            ):
                holes |= region
    holes |= _line_holes(small, enclosed, reached, edges, smooth, lab_d, holes, t_hi, border)

    core = (enclosed & (lab_d > t_hi)) | (dist > t_hi)
    core = cv2.erode(core.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    gc = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    gc[enclosed] = cv2.GC_PR_FGD
    gc[reached] = cv2.GC_BGD
    gc[core] = cv2.GC_FGD
    gc[holes] = cv2.GC_PR_BGD
    frame = np.zeros((h, w), bool)
    frame[:1], frame[-1:], frame[:, :1], frame[:, -1:] = True, True, True, True
    gc[frame & (gc != cv2.GC_FGD)] = cv2.GC_BGD
    has_fg = np.any((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD))
    has_bg = np.any((gc == cv2.GC_BGD) | (gc == cv2.GC_PR_BGD))
    if has_fg and has_bg:
        # GrabCut only where the answer is open: the box around every non-certain-background
        # pixel, plus a margin of certain background for its colour model.
        box = bbox_of(gc != cv2.GC_BGD)
        pad = max(8, round(0.04 * max(h, w)))
        x1, y1 = max(0, box[0] - pad), max(0, box[1] - pad)
        x2, y2 = min(w, box[2] + pad), min(h, box[3] + pad)
        sub = np.ascontiguousarray(gc[y1:y2, x1:x2])
        if (sub == cv2.GC_BGD).any() and ((sub == cv2.GC_FGD) | (sub == cv2.GC_PR_FGD)).any():
            bgd = np.zeros((1, 65), np.float64)
            fgd = np.zeros((1, 65), np.float64)
            crop = np.ascontiguousarray(small[y1:y2, x1:x2, ::-1])
            _grabcut(crop, sub, bgd, fgd)
            gc[y1:y2, x1:x2] = sub
        fg = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
    else:
        fg = enclosed
    fg = _peel_shadows(fg & ~holes, dist < t_lo, outlines)
    fg = _clean(fg, holes)
    return Segmentation(fg, coef_rgb, sigma, t_lo, t_hi, _full_bleed(fg, sigma, border))


def _grabcut(crop: np.ndarray, mask: np.ndarray, bgd: np.ndarray, fgd: np.ndarray) -> None:
    """GrabCut from a mask, its colour models seeded on every other pixel: the k-means that
    seeds them was half of GrabCut's time, and a quarter of the pixels (thousands per model)
    pins five clusters down as well; the iteration then refits them on every pixel.

    The k-means draws from OpenCV's random state; it is seeded here so that the same image gives
    the same cut whatever ran before it in the process (a borderline shot otherwise moves by
    ±0.01 IoU between runs)."""
    cv2.setRNGSeed(GRABCUT_RNG_SEED)
    step = GRABCUT_SEED_STEP
    seed_mask = np.ascontiguousarray(mask[::step, ::step])
    counts = np.bincount(seed_mask.ravel(), minlength=4)
    if (
        min(counts[cv2.GC_BGD] + counts[cv2.GC_PR_BGD], counts[cv2.GC_FGD] + counts[cv2.GC_PR_FGD])
        < 100
    ):
        cv2.grabCut(crop, mask, None, bgd, fgd, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
        return
    seed = np.ascontiguousarray(crop[::step, ::step])
    cv2.grabCut(seed, seed_mask, None, bgd, fgd, 0, cv2.GC_INIT_WITH_MASK)
    cv2.grabCut(crop, mask, None, bgd, fgd, GRABCUT_ITERATIONS, cv2.GC_EVAL)


def _backdrop_line(
    small: np.ndarray, reached: np.ndarray, border: int
) -> tuple[np.ndarray, np.ndarray, float, float, float] | None:
    """The line in RGB along which the border's backdrop colours lie (a linear or radial
    gradient blends two colours; uneven light scales one): (mean, unit direction, lowest and
    highest position seen, tolerance off the line). None when the backdrop is flat (no line)."""
    strip = np.zeros(reached.shape, bool)
    strip[:border], strip[-border:], strip[:, :border], strip[:, -border:] = True, True, True, True
    samples = small[strip & reached].astype(np.float32)
    if len(samples) < 100:
        return None
    samples = samples[:: max(1, len(samples) // 2000)]
    mean = samples.mean(0)
    centred = samples - mean
    _u, _s, vt = np.linalg.svd(centred, full_matrices=False)
    direction = vt[0]
    pos = centred @ direction
    perp = np.linalg.norm(centred - pos[:, None] * direction, axis=1)
    tol = max(6.0, 3.0 * float(np.percentile(perp, 90)))
    lo, hi = (float(v) for v in np.percentile(pos, [1, 99]))
    if hi - lo < 3.0 * tol:
        return None
    return mean, direction, lo, hi, tol


def _line_holes(
    small: np.ndarray,
    enclosed: np.ndarray,
    reached: np.ndarray,
    edges: np.ndarray,
    smooth: np.ndarray,
    lab_d: np.ndarray,
    holes: np.ndarray,
    t_hi: float,
    border: int,
) -> np.ndarray:
    """Holes on a graded backdrop: a smooth enclosed region whose colours lie on the border's
    line of backdrop colours (extended beyond the range seen at the border: the middle of a
    radial backdrop is brighter than any border pixel), outlined by strong edges and ringed by
    clear product. A backdrop-coloured part of a product (a white mug on a white-to-grey
    gradient) is ringed by backdrop instead, and stays."""
    out = np.zeros_like(holes)
    line = _backdrop_line(small, reached, border)
    if line is None:
        return out
    mean, direction, lo, hi, tol = line
    h, w = enclosed.shape
    # The family k·(mean + s·direction): the line (k = 1) and its cast shadows (k < 1), with s
    # allowed past the border's range by three times that range (a radial backdrop seen at
    # t ≈ 0.7…1 along its radius at the border reaches t = 0 at its centre, 2.3 ranges away).
    # (only where a hole could be: enclosed, smooth, off the edges, not a hole already)
    cand = enclosed & smooth & ~edges & ~holes
    where = np.nonzero(cand)
    basis = np.stack([mean, direction], 1).astype(np.float32)  # 3×2
    pix = small[where].astype(np.float32)
    coords = pix @ np.linalg.pinv(basis).T.astype(np.float32)  # k, k·s
    resid = np.linalg.norm(pix - coords @ basis.T, axis=1)
    k = coords[:, 0]
    pos = coords[:, 1] / np.maximum(k, 1e-3)
    span = hi - lo
    fits = (
        (resid < tol) & (k > 0.45) & (k < 1.02) & (pos > lo - 3.0 * span) & (pos < hi + 3.0 * span)
    )
    cand[where] = fits
    bare = np.zeros((h, w), bool)
    bare[where] = k > 0.94
    cand = cand.astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand, 4)
    min_hole = max(12, int(0.0015 * h * w))
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < min_hole:
            continue
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        pad = max(6, round(0.03 * max(h, w)))
        x1, y1, x2, y2 = (
            max(0, x - pad),
            max(0, y - pad),
            min(w, x + bw + pad),
            min(h, y + bh + pad),
        )
        region = labels[y1:y2, x1:x2] == i
        # Most of it is the bare backdrop (the rest may be the product's shadow).
        if float(bare[y1:y2, x1:x2][region].mean()) < 0.5:
            continue
        # The region's rim is an edge, and beyond it lies product, not backdrop.
        r8 = region.astype(np.uint8)
        rim = (cv2.dilate(r8, np.ones((5, 5), np.uint8)) > 0) & ~region
        ring = (cv2.dilate(r8, np.ones((2 * pad + 1, 2 * pad + 1), np.uint8)) > 0) & ~rim & ~region
        if not rim.any() or not ring.any():
            continue
        # (within a few pixels: the texture window keeps the region off the edge itself)
        near_edge = cv2.dilate(edges[y1:y2, x1:x2].astype(np.uint8), np.ones((15, 15), np.uint8))
        if float(near_edge[rim].mean()) < 0.5:
            continue
        if float(reached[y1:y2, x1:x2][ring].mean()) > 0.1:
            continue
        if float((lab_d[y1:y2, x1:x2][ring] > t_hi).mean()) < 0.6:
            continue
        out[y1:y2, x1:x2] |= region
    return out


def _peel_shadows(fg: np.ndarray, shadow_like: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Drop foreground regions that look like cast shadow on the backdrop and meet the
    background without an edge between them (GrabCut's colour model can pull a grey shadow in
    next to a grey product; an enclosed shadow-coloured part of the product has an outline)."""
    candidate = (fg & shadow_like & ~edges).astype(np.uint8)
    if not candidate.any():
        return fg
    _n, labels = cv2.connectedComponents(candidate, connectivity=4)
    background = cv2.dilate((~fg).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    touching = np.unique(labels[background & (candidate > 0)])
    touching = touching[touching > 0]
    if len(touching) == 0:
        return fg
    return fg & ~np.isin(labels, touching)


def _clean(fg: np.ndarray, holes: np.ndarray) -> np.ndarray:
    h, w = fg.shape
    fg = fg & ~holes
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), 8)
    if n > 1:
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep_min = max(0.0008 * h * w, 0.02 * float(areas.max()))
        keep = np.zeros(n, bool)
        keep[1:] = areas >= keep_min
        fg = keep[labels]
    # Fill small pinholes the segmentation left inside the product (not the cleared holes).
    inv = (~fg).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(inv, 4)
    border = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])))
    small_hole = 0.0005 * h * w
    for i in range(1, n):
        if i not in border and stats[i, cv2.CC_STAT_AREA] < small_hole:
            fg |= labels == i
    return fg


def _alpha_closed_form(rgb: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """pymatting's closed-form matting on a trimap band, at a matting resolution."""
    h, w = coarse.shape
    box = bbox_of(coarse > 0.5)
    if box is None:
        return coarse
    pad = max(8, int(0.03 * max(h, w)))
    x1, y1 = max(0, box[0] - pad), max(0, box[1] - pad)
    x2, y2 = min(w, box[2] + pad), min(h, box[3] + pad)
    crop = rgb[y1:y2, x1:x2]
    cmask = coarse[y1:y2, x1:x2]
    small, scale = resize_long(crop, MATTING_LONG_SIDE)
    sm = cv2.resize(cmask, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_LINEAR)
    band = max(2, round(3 * max(1.0, scale * max(h, w) / 800)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    fg = cv2.erode((sm > 0.5).astype(np.uint8), kernel) > 0
    bg = cv2.dilate((sm > 0.5).astype(np.uint8), kernel) == 0
    if not fg.any() or not bg.any():
        return coarse
    # The unknown band is a few pixels wide between fixed pixels, so the system is well
    # conditioned: a Jacobi preconditioner converges in few iterations and costs nothing to
    # build (an incomplete Cholesky factor cost more than it saved), and a relative residual of
    # 1e-4 is far below what an 8-bit alpha can show.
    alpha = _solve_cf(small.astype(np.float64) / 255.0, fg, bg)
    alpha = np.clip(alpha, 0, 1).astype(np.float32)
    full = cv2.resize(alpha, (x2 - x1, y2 - y1), interpolation=cv2.INTER_LINEAR)
    if scale < 1.0:
        # Enlarging spreads each edge over 1/scale pixels; steepen it back around α = ½ so the
        # soft band keeps the width matting found (measured in matting pixels).
        full = np.clip((full - 0.5) / scale + 0.5, 0.0, 1.0)
    out = np.zeros_like(coarse)
    out[y1:y2, x1:x2] = full
    return out


def _solve_cf(image: np.ndarray, fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """Closed-form matting (pymatting's estimate_alpha_cf: its Laplacian, conjugate gradients,
    Jacobi preconditioner) with the system assembled from the unknown pixels' rows only: the
    sparse matrix of every pixel, and the slicing of it, cost more than the solve."""
    from pymatting import cg, jacobi
    from pymatting.laplacian.cf_laplacian import _cf_laplacian

    h, w = fg.shape
    n = h * w
    known = fg | bg
    taps = 25  # (4r + 1)² neighbours per row for the 3×3 windows (r = 1)
    indptr = np.zeros(n + 1, np.int64)
    indices = np.zeros(n * taps, np.int64)
    values = np.zeros((n, 5, 5), np.float64)
    _cf_laplacian(image, 1e-7, 1, values, indices, indptr, known)
    unknown = np.flatnonzero(~known.ravel())
    alpha = fg.ravel().astype(np.float64)
    if len(unknown) == 0:
        return alpha.reshape(h, w)
    rows_v = values.reshape(n, taps)[unknown]
    rows_j = indices.reshape(n, taps)[unknown]
    pos = np.full(n, -1, np.int64)
    pos[unknown] = np.arange(len(unknown))
    col = pos[rows_j]
    in_u = col >= 0
    row = np.broadcast_to(np.arange(len(unknown))[:, None], col.shape)
    lu = scipy.sparse.csr_matrix(
        (rows_v[in_u], (row[in_u], col[in_u])), shape=(len(unknown), len(unknown))
    )
    # The known pixels move to the right-hand side: b = -L[U, K]·α_K with α_K = 1 on fg.
    rhs = -(rows_v * np.where(in_u, 0.0, alpha[rows_j])).sum(axis=1)
    alpha[unknown] = cg(lu, rhs, M=jacobi(lu), rtol=MATTING_RTOL)
    return alpha.reshape(h, w)


def _sharpen_alpha(rgb: np.ndarray, alpha: np.ndarray, radius: int) -> np.ndarray:
    """Snap an upsampled alpha to the full-resolution edges with a guided filter."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    refined = guided_filter(grey, alpha, radius, 1e-4, subsample=max(1, radius // 3))
    # Keep certain regions certain: only the band near the edge may become fractional.
    return np.clip(refined, 0, 1)


def decontaminate(
    rgb: np.ndarray,
    alpha: np.ndarray,
    backdrop_coef: np.ndarray,
    fit_shape: tuple[int, int],
    box: list[int] | None = None,
) -> np.ndarray:
    """Solve I = αF + (1-α)B for F on the fractional band, B being the fitted backdrop (a
    quadratic fitted on an image of `fit_shape`, evaluated only where it is needed). `box`
    [x1, y1, x2, y2], when given, holds every fractional pixel."""
    out = rgb.copy()
    bx1, by1, bx2, by2 = box if box is not None else (0, 0, rgb.shape[1], rgb.shape[0])
    band = alpha[by1:by2, bx1:bx2]
    ys, xs = np.nonzero((band > 0.02) & (band < 0.98))
    ys, xs = ys + by1, xs + bx1
    if len(ys):
        h, w = rgb.shape[:2]
        fh, fw = fit_shape
        # Pixel centres mapped onto the fitted image's grid (as a resize would).
        sx = np.clip((xs + 0.5) * (fw / w) - 0.5, 0, fw - 1) / max(fw - 1, 1)
        sy = np.clip((ys + 0.5) * (fh / h) - 0.5, 0, fh - 1) / max(fh - 1, 1)
        backdrop = _design(sx, sy) @ backdrop_coef
        a = np.maximum(alpha[ys, xs], 0.15)[:, None]
        f = (rgb[ys, xs].astype(np.float32) - (1 - a) * backdrop) / a
        out[ys, xs] = np.clip(f, 0, 255).astype(np.uint8)
    return out


def remove_background(rgb: np.ndarray, *, matting: bool = True) -> BackgroundResult:
    h, w = rgb.shape[:2]
    # Segment at one working size (small inputs are enlarged), so the thresholds, kernels and
    # minimum areas below mean the same thing for every input.
    scale = WORK_LONG_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    seg = segment(small)
    if seg.no_backdrop:
        # Keep the picture whole and say so (the operation reports it and charges nothing).
        rgba = np.dstack([rgb, np.full((h, w), 255, np.uint8)])
        return BackgroundResult(rgba, rgba[..., 3].copy(), [0, 0, w, h], no_backdrop=True)
    fg = seg.fg
    coarse = cv2.resize(fg.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    coarse = cv2.GaussianBlur(coarse, (0, 0), max(0.6, 0.5 / scale))
    coarse = np.clip(coarse, 0, 1)
    if matting:
        try:
            alpha = _alpha_closed_form(rgb, coarse)
        except (MemoryError, ValueError, np.linalg.LinAlgError):
            alpha = coarse
    else:
        alpha = coarse
    radius = max(1, round(1.0 / scale))
    # Outside a band around the coarse edge, alpha is exactly 0 or 1: snap to the edges only in
    # the box around that band (with room for the filter's windows).
    band_box = bbox_of((coarse > 0.001) & (coarse < 0.999))
    if band_box is not None:
        pad = 4 * radius + 8
        x1, y1 = max(0, band_box[0] - pad), max(0, band_box[1] - pad)
        x2, y2 = min(w, band_box[2] + pad), min(h, band_box[3] + pad)
        snapped = (coarse > 0.5).astype(np.float32)
        snapped[y1:y2, x1:x2] = _sharpen_alpha(rgb[y1:y2, x1:x2], alpha[y1:y2, x1:x2], radius)
        alpha = snapped
        # (outside the box alpha is already exactly 0 or 1)
        frac_box = [x1, y1, x2, y2]
    else:
        frac_box = [0, 0, w, h]
    x1, y1, x2, y2 = frac_box
    a, c = alpha[y1:y2, x1:x2], coarse[y1:y2, x1:x2]
    np.maximum(a, 0.98, out=a, where=c > 0.999)
    a[c < 0.001] = 0.0
    a[a > 0.98] = 1.0
    a[a < 0.02] = 0.0
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., :3] = decontaminate(rgb, alpha, seg.backdrop_rgb, small.shape[:2], frac_box)
    rgba[..., 3] = np.round(alpha * 255)
    a8 = rgba[..., 3].copy()
    return BackgroundResult(rgba=rgba, alpha=a8, box=bbox_of(a8 >= 128))

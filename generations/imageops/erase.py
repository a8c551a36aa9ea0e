"""Erase: fill a masked region plausibly from its surroundings (no prompt, no model).

Thin regions (wires, text strokes, scratches) are filled by OpenCV's Telea or Navier–Stokes
inpainting. Larger ones use a multi-scale fill: the hole is inpainted on a pyramid level where it
is thin, the result is carried up level by level with harmonic smoothing inside the hole, and
finally texture (the high-pass detail) is copied in from the mirror image of each hole pixel
across the nearest hole edge, so grain and patterns continue instead of a smooth smear.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
    import scipy.sparse
    import scipy.sparse.linalg
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")
    scipy = lazy_module("scipy", "sparse", "sparse.linalg")

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
    if method == "auto":
        return _erase_by_copying(rgb, m, thick)
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


def _erase_by_copying(rgb: np.ndarray, m: np.ndarray, thick: float) -> np.ndarray:
    """Large holes filled from their surroundings by copying (`exemplar_fill`), each group of
    nearby holes on its own (the letters of a word over a disc and over the sky have different
    surroundings): grown over the erased thing's colour fringe, with other objects beside it
    kept out of the sources (their colour must not leak in)."""
    h, w = m.shape
    out = rgb.copy()
    groups = cv2.dilate(m.astype(np.uint8), np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(groups, 8)
    for i in range(1, n):
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        part = m & (labels == i)
        if not part.any():
            continue
        t = _thickness(part)
        pad = int(max(24, 3.0 * t))
        y1, y2 = max(0, y - pad), min(h, y + bh + pad)
        x1, x2 = max(0, x - pad), min(w, x + bw + pad)
        crop, cm = out[y1:y2, x1:x2], part[y1:y2, x1:x2]
        # The other holes (the next letters) are still there: never a source.
        pending = m[y1:y2, x1:x2] & ~cm
        if t <= THIN_RADIUS:
            filled = cv2.inpaint(crop, (cm | pending).astype(np.uint8), 3, cv2.INPAINT_TELEA)
        else:
            cm, avoid = _fringe_and_neighbours(crop, cm)
            cm &= ~pending
            filled = exemplar_fill(crop, cm, avoid=avoid | pending)
        out[y1:y2, x1:x2] = np.where(cm[..., None], filled, crop)
    return out


def _fringe_and_neighbours(crop: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the hole grown over the object's soft fringe, pixels of other objects next to it).

    The backdrop is the ring's majority: in a blurred copy, ring pixels near the ring's median
    colour. A thin band just outside the hole that is off the backdrop and nearer the erased
    object's colour is fringe (antialiasing, a halo): erased too. Larger off-backdrop patches in
    the ring are other objects: they stay, and are kept out of the fill's sources."""
    blur = cv2.GaussianBlur(crop.astype(np.float32), (0, 0), 2.0)
    ring_w = max(
        6, round(0.25 * float(cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3).max()))
    )
    ring = (cv2.dilate(hole.astype(np.uint8), np.ones((2 * ring_w + 1,) * 2, np.uint8)) > 0) & ~hole
    if not ring.any():
        return hole, np.zeros_like(hole)
    backdrop = np.median(blur[ring], axis=0)
    spread = float(np.percentile(np.linalg.norm(blur[ring] - backdrop, axis=1), 50))
    far = np.linalg.norm(blur - backdrop, axis=2) > max(30.0, 3.0 * spread)
    obj = np.median(crop[hole].astype(np.float32), axis=0)
    near_obj = np.linalg.norm(crop.astype(np.float32) - obj, axis=2) < np.linalg.norm(
        crop.astype(np.float32) - backdrop, axis=2
    )
    band = (cv2.dilate(hole.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0) & ~hole
    fringe = band & (far | near_obj) & near_obj
    grown = hole | fringe
    others = ring & far & ~fringe
    # Only sizeable patches are objects (noise and texture specks are not), and only those that
    # merely touch the hole: one that surrounds a good part of it (text over a disc) is that
    # part's backdrop, and the fill must come from it.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(others.astype(np.uint8), 8)
    rim = (cv2.dilate(grown.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) & ~grown
    rim_len = max(1, int(rim.sum()))
    contact = np.bincount(labels[rim], minlength=n)
    keep = np.zeros(n, bool)
    keep[1:] = (stats[1:, cv2.CC_STAT_AREA] >= max(20, 0.02 * hole.sum())) & (
        contact[1:] < 0.3 * rim_len
    )
    others = keep[labels]
    # The whole object, not just its part inside the ring.
    if others.any():
        _n2, lab2 = cv2.connectedComponents((far & ~grown).astype(np.uint8), connectivity=8)
        ids = np.unique(lab2[others])
        others = np.isin(lab2, ids[ids > 0])
    return grown, others


# --- exemplar fill (issue 12): continue the picture by copying it, not by smearing it ---------

FILL_WORK_SIDE = 224  # the patch search runs at this size; the copy is made at full resolution
SEARCH_SHARE = 0.45  # search window (share of the working image) around each target patch
SHADING_EXPLAINED = 0.9  # share of the picture's colour variance a quadratic must explain


def exemplar_fill(
    rgb: np.ndarray, mask: np.ndarray, *, avoid: np.ndarray | None = None
) -> np.ndarray:
    """Fill `mask` with patches copied from the known part of the image (Criminisi-style, in
    onion-peel order, each target matched over its known pixels with OpenCV's masked template
    match in a window around it). The search runs on a reduced copy; the offsets it finds are
    carried to full resolution and full-resolution pixels are copied, so grain, weave and edges
    stay sharp; smooth shading is carried on by a fitted surface (`_continue_shading`).
    `avoid` marks known pixels that must neither be copied nor matched against (another object
    beside the hole: its colour must not leak in)."""
    h, w = mask.shape
    scale = min(1.0, FILL_WORK_SIDE / max(h, w))
    sw, sh = max(8, round(w * scale)), max(8, round(h * scale))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32)
    small_mask = cv2.resize(mask.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_AREA) > 0
    known0 = ~small_mask
    if avoid is not None:
        small_avoid = cv2.resize(avoid.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_AREA) > 0
        known0 &= ~cv2.dilate(small_avoid.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if not known0.any():
        return rgb.copy()
    p = max(9, round(max(sw, sh) / 16)) | 1
    r = p // 2
    # Sources: patch centres whose whole patch lies in the original known area.
    valid = cv2.erode(known0.astype(np.uint8), np.ones((p, p), np.uint8)) > 0
    valid[:r], valid[-r:], valid[:, :r], valid[:, -r:] = False, False, False, False
    if not valid.any():
        return erase(rgb, mask, method="multiscale")
    work = small.copy()
    filled = known0.copy()
    todo = small_mask.copy()
    off_y = np.zeros((sh, sw), np.int32)
    off_x = np.zeros((sh, sw), np.int32)
    dist = cv2.distanceTransform(small_mask.astype(np.uint8), cv2.DIST_L2, 3)
    order = np.argsort(dist[small_mask], kind="stable")
    ty, tx = np.nonzero(small_mask)
    ty, tx = ty[order], tx[order]
    win = max(p * 3, round(SEARCH_SHARE * max(sw, sh)))
    pad_img = cv2.copyMakeBorder(work, r, r, r, r, cv2.BORDER_REFLECT)
    for y, x in zip(ty.tolist(), tx.tolist(), strict=True):
        if filled[y, x]:
            continue
        # The target patch (on the padded canvas) and which of its pixels are known so far.
        tpl = pad_img[y : y + p, x : x + p]
        tmask = np.zeros((p, p), np.float32)
        ys0, xs0 = y - r, x - r
        sy0, sx0 = max(0, ys0), max(0, xs0)
        sy1, sx1 = min(sh, ys0 + p), min(sw, xs0 + p)
        tmask[sy0 - ys0 : sy1 - ys0, sx0 - xs0 : sx1 - xs0] = filled[sy0:sy1, sx0:sx1]
        if tmask.sum() < 1:
            continue
        # Candidate centres within the window.
        wy0, wy1 = max(r, y - win), min(sh - r, y + win + 1)
        wx0, wx1 = max(r, x - win), min(sw - r, x + win + 1)
        region = work[wy0 - r : wy1 + r, wx0 - r : wx1 + r]
        ok = valid[wy0:wy1, wx0:wx1]
        if region.shape[0] < p or region.shape[1] < p or not ok.any():
            ok_all = np.argwhere(valid)
            cy, cx = ok_all[np.argmin(np.abs(ok_all - (y, x)).sum(1))]
        else:
            score = cv2.matchTemplate(
                region, np.ascontiguousarray(tpl), cv2.TM_SQDIFF, mask=np.dstack([tmask] * 3)
            )
            score = np.where(ok[: score.shape[0], : score.shape[1]], score, np.inf)
            # A little pull towards nearby sources keeps the fill coherent with its surroundings.
            gy, gx = np.mgrid[wy0 : wy0 + score.shape[0], wx0 : wx0 + score.shape[1]]
            score = score + 0.002 * tmask.sum() * ((gy - y) ** 2 + (gx - x) ** 2)
            k = int(np.argmin(score))
            cy, cx = wy0 + k // score.shape[1], wx0 + k % score.shape[1]
        # Copy the source patch into the unfilled part of the target patch.
        src = work[cy - r : cy + r + 1, cx - r : cx + r + 1]
        dy, dx = cy - y, cx - x
        sub = ~filled[sy0:sy1, sx0:sx1] & todo[sy0:sy1, sx0:sx1]
        s_src = src[sy0 - ys0 : sy1 - ys0, sx0 - xs0 : sx1 - xs0]
        work[sy0:sy1, sx0:sx1][sub] = s_src[sub]
        pad_img[sy0 + r : sy1 + r, sx0 + r : sx1 + r][sub] = s_src[sub]
        off_y[sy0:sy1, sx0:sx1][sub] = dy
        off_x[sy0:sy1, sx0:sx1][sub] = dx
        filled[sy0:sy1, sx0:sx1] |= sub
    # Full resolution: copy along the same offsets (nearest offset of the reduced grid).
    blocked = mask if avoid is None else mask | avoid
    shaded = _continue_shading(
        rgb, _copy_along(rgb, mask, blocked, off_y, off_x, work, scale), mask
    )
    feather = max(2, round(p / scale / 6))
    n = int(mask.sum())
    if n <= SEAMLESS_MAX_PIXELS:
        oy, ox = _offsets_at(off_y, off_x, scale, w, h)
        out = _seamless_copy(rgb, mask, blocked, oy, ox, shaded, feather=feather)
        return np.clip(np.round(out), 0, 255).astype(np.uint8)
    # A huge fill (an outpaint of a large picture): the seams are composed away at a bounded
    # scale and the correction (seamless minus plain copy) enlarged onto the full-resolution
    # copy; each seam's step is spread over a few full-resolution pixels more (bounded memory).
    f = (SEAMLESS_MAX_PIXELS / n) ** 0.5
    size = (max(8, round(w * f)), max(8, round(h * f)))
    small_rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_AREA) > 0
    small_blocked = cv2.resize(blocked.astype(np.uint8), size, interpolation=cv2.INTER_AREA) > 0
    small_shaded = cv2.resize(shaded, size, interpolation=cv2.INTER_AREA)
    small_shaded[~small_hole] = small_rgb[~small_hole]
    oy, ox = _offsets_at(off_y, off_x, scale / f, *size)
    seamless = _seamless_copy(
        small_rgb,
        small_hole,
        small_blocked,
        oy,
        ox,
        small_shaded,
        feather=max(2, round(feather * f)),
    )
    correction = np.where(small_hole[..., None], seamless - small_shaded, 0).astype(np.float32)
    shaded[mask] += cv2.resize(correction, (w, h), interpolation=cv2.INTER_LINEAR)[mask]
    return np.clip(np.round(shaded), 0, 255).astype(np.uint8)


def _offsets_at(
    off_y: np.ndarray, off_x: np.ndarray, scale: float, w: int, h: int
) -> tuple[np.ndarray, np.ndarray]:
    """The reduced grid's offsets at a `w`×`h` size, `scale` being the grid's size over it."""
    oy = cv2.resize(off_y.astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST) / scale
    ox = cv2.resize(off_x.astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST) / scale
    return np.round(oy).astype(np.int64), np.round(ox).astype(np.int64)


def _copy_along(
    rgb: np.ndarray,
    mask: np.ndarray,
    blocked: np.ndarray,
    off_y: np.ndarray,
    off_x: np.ndarray,
    work: np.ndarray,
    scale: float,
) -> np.ndarray:
    """The plain copy: each hole pixel takes the full-resolution pixel its offset points at
    (the reduced fill where that is blocked). Float RGB."""
    h, w = mask.shape
    oy, ox = _offsets_at(off_y, off_x, scale, w, h)
    hy, hx = np.nonzero(mask)
    sy, sx = np.clip(hy + oy[hy, hx], 0, h - 1), np.clip(hx + ox[hy, hx], 0, w - 1)
    del oy, ox
    good = ~blocked[sy, sx]
    coarse = cv2.resize(work, (w, h), interpolation=cv2.INTER_LINEAR)[hy, hx]
    copied = rgb.astype(np.float32)
    copied[hy, hx] = np.where(good[:, None], copied[sy, sx], coarse)
    return copied


SEAMLESS_MAX_PIXELS = 250_000
GRAIN = 8.0  # local detail (mean levels) at which a seam is left to the two-patch mean alone  # larger fills are composed at a reduced scale (memory, time)
POISSON_ITERATIONS = 200
SCREEN = 0.03  # pull of the seamless fill towards the plain copy (see `_seamless_copy`)
EDGE_STEP = 24.0  # a gradient of this many levels per pixel halves the link across it


def _seamless_copy(
    rgb: np.ndarray,
    mask: np.ndarray,
    blocked: np.ndarray,
    oy: np.ndarray,
    ox: np.ndarray,
    plain: np.ndarray,
    feather: int = 0,
) -> np.ndarray:
    """The hole's pixels copied along per-pixel offsets (`oy`, `ox`), composed in the gradient
    domain so that no seam shows.

    Copying each patch's pixels as they are leaves a hard edge wherever two patches meet (they
    came from different places: a different grain, a brighter part of a vignette) and along the
    hole's outline: the fill looked tiled. Instead the fill is the image whose gradients are the
    copied patches' own gradients and which meets the known pixels at the hole's edge (a Poisson
    equation, Pérez et al. 2003). Across a seam the gradient is the mean of what the two sources
    have there, so grain, weave and edges come through while the steps between tiles and at the
    outline are spread smoothly over the fill. `blocked` pixels (the hole, other objects beside
    it) are never copied from; a known blocked neighbour (another object) is not a boundary
    value either, so its colour cannot seep in. Float RGB out."""
    h, w = mask.shape
    img = rgb.astype(np.float32)
    hy, hx = np.nonzero(mask)
    n = len(hy)
    out = img.copy()
    if n == 0:
        return out

    dy_p, dx_p = oy[hy, hx], ox[hy, hx]
    copied = plain[hy, hx].astype(np.float32)
    if feather:
        soft_x, soft_y = _feathered_gradients(img, mask, blocked, oy, ox, feather)
        # Grain hides a seam's bend and a mix would dull it: the feathered mix is used in
        # proportion to how smooth the copy is there (full on a sky, none on coarse grass).
        grey = plain.astype(np.float32).mean(axis=2)
        detail = cv2.blur(np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 1.5)), (9, 9))
        smooth = np.clip(1.0 - detail / GRAIN, 0.0, 1.0)
    index = np.full((h, w), -1, np.int64)
    index[hy, hx] = np.arange(n)
    diag = np.zeros(n, np.float64)
    rhs = np.zeros((n, 3), np.float64)
    rows, cols, links = [], [], []
    for ddy, ddx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        qy, qx = hy + ddy, hx + ddx
        inside = (qy >= 0) & (qy < h) & (qx >= 0) & (qx < w)
        p = np.nonzero(inside)[0]
        qy, qx = qy[inside], qx[inside]
        q_hole = mask[qy, qx]
        # A known neighbour that is another object: no equation across it (no colour seeps in).
        keep = q_hole | ~blocked[qy, qx]
        p, qy, qx, q_hole = p[keep], qy[keep], qx[keep], q_hole[keep]
        py, px = hy[p], hx[p]
        # Inside one patch (same offset) the gradient is the copy's own (with the shading
        # `_continue_shading` gave it); across a seam or the hole's edge it is the mean of the
        # gradient p − q as the source of p has it and as the source of q has it.
        same = q_hole & (dy_p[p] == oy[qy, qx]) & (dx_p[p] == ox[qy, qx])
        pairs = ((dy_p[p], dx_p[p], True), (oy[qy, qx], ox[qy, qx], q_hole))
        grad = _pair_gradient(img, plain, blocked, py, px, qy, qx, pairs, same)
        if feather:
            # Overlapping patches, feathered: near a seam the gradient is a weighted mix of
            # what the patches around it copy there, so a cloud cut off by a tile's edge bends
            # smoothly into the next tile instead of showing the tile's straight side.
            ey, ex = (py, px) if ddy + ddx > 0 else (qy, qx)
            fg, fw = soft_x if ddx else soft_y
            sign = -1.0 if ddy + ddx > 0 else 1.0
            mixed = fw[ey, ex] > 0
            soft = sign * fg[ey, ex] / np.maximum(fw[ey, ex], 1e-6)[:, None]
            share = np.where(mixed, smooth[ey, ex], 0.0)[:, None]
            grad = share * soft + (1.0 - share) * grad
        # Edge-aware: a strong edge (a horizon, a band in flat art) is a weak link, so the
        # correction that removes a seam on one side of it does not spill across it (a glow).
        link = 1.0 / (1.0 + (np.abs(grad).max(axis=1) / EDGE_STEP) ** 2)
        diag[p] += link
        rhs[p] += link[:, None] * grad  # p is unique within one direction
        known = ~q_hole
        rhs[p[known]] += link[known, None] * img[qy[known], qx[known]]
        rows.append(p[q_hole])
        cols.append(index[qy[q_hole], qx[q_hole]])
        links.append(link[q_hole])
    # Screened: a pull towards the copy keeps what the copy has at a distance from a seam (its
    # structure, the fitted shading) and spreads each seam's step over a few pixels only
    # (≈ 1/√SCREEN), instead of over the whole fill, where a step at the outline would tint it.
    diag += SCREEN
    rhs += SCREEN * copied
    row = np.concatenate(rows)
    col = np.concatenate(cols)
    matrix = scipy.sparse.csr_matrix(
        (
            np.concatenate([diag, -np.concatenate(links)]),
            (np.concatenate([np.arange(n), row]), np.concatenate([np.arange(n), col])),
        ),
        shape=(n, n),
    )
    # Well conditioned by the screen: conjugate gradients from the copy converge in tens of
    # steps at any size (no factorisation: an outpaint's fill may have millions of pixels).
    jacobi = scipy.sparse.diags(1.0 / diag)
    solved = np.stack(
        [
            scipy.sparse.linalg.cg(
                matrix,
                rhs[:, c],
                x0=copied[:, c].astype(np.float64),
                M=jacobi,
                maxiter=POISSON_ITERATIONS,
                rtol=1e-4,
            )[0]
            for c in range(3)
        ],
        axis=1,
    )
    out[hy, hx] = solved.astype(np.float32)
    return out


def _pair_gradient(
    img: np.ndarray,
    plain: np.ndarray,
    blocked: np.ndarray,
    py: np.ndarray,
    px: np.ndarray,
    qy: np.ndarray,
    qx: np.ndarray,
    pairs: tuple,
    same: np.ndarray,
) -> np.ndarray:
    """The gradient p − q of `img` as copied: the mean over `pairs` of offsets (dy, dx, used)
    of what the source has there, where both source pixels are usable and p, q are not in one
    patch (`same`); otherwise that of `plain` (the copy itself)."""
    h, w = blocked.shape
    grads = np.zeros((len(py), 3), np.float32)
    weight = np.zeros(len(py), np.float32)
    for dy, dx, used in pairs:
        ok = ~same & used
        values = []
        for yy, xx in ((py, px), (qy, qx)):
            sy, sx = yy + dy, xx + dx
            ok &= (sy >= 0) & (sy < h) & (sx >= 0) & (sx < w)
            sy, sx = np.clip(sy, 0, h - 1), np.clip(sx, 0, w - 1)
            ok &= ~blocked[sy, sx]
            values.append(img[sy, sx])
        grads += np.where(ok[:, None], values[0] - values[1], 0)
        weight += ok
    own = plain[py, px] - plain[qy, qx]
    return np.where(weight[:, None] > 0, grads / np.maximum(weight, 1)[:, None], own)


def _feathered_gradients(
    img: np.ndarray,
    mask: np.ndarray,
    blocked: np.ndarray,
    oy: np.ndarray,
    ox: np.ndarray,
    radius: int,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """For every pixel of the hole, the gradient to its right and below as the patches within
    `radius` copy it, weighted by how much of each patch is near (a blurred indicator): per
    direction (weighted sum, total weight). A pixel whose copies are all unusable weighs 0."""
    h, w = mask.shape
    hy, hx = np.nonzero(mask)
    keys = oy[hy, hx] * (4 * w + 1) + ox[hy, hx]
    uniq, inverse = np.unique(keys, return_inverse=True)
    sums = [np.zeros((h, w, 3), np.float32) for _ in range(2)]
    totals = [np.zeros((h, w), np.float32) for _ in range(2)]
    reach = 2 * radius + 2
    for k in range(len(uniq)):
        sel = inverse == k
        ly, lx = hy[sel], hx[sel]
        dy, dx = int(oy[ly[0], lx[0]]), int(ox[ly[0], lx[0]])
        y0, y1 = max(0, ly.min() - reach), min(h, ly.max() + 1 + reach)
        x0, x1 = max(0, lx.min() - reach), min(w, lx.max() + 1 + reach)
        ind = np.zeros((y1 - y0, x1 - x0), np.float32)
        ind[ly - y0, lx - x0] = 1.0
        weight = cv2.GaussianBlur(ind, (0, 0), radius / 2.0)
        gy, gx = np.mgrid[y0:y1, x0:x1]
        sy, sx = gy + dy, gx + dx
        for axis, (ay, ax) in enumerate(((0, 1), (1, 0))):
            ty, tx = sy + ay, sx + ax
            ok = (sy >= 0) & (sx >= 0) & (ty < h) & (tx < w) & (sy < h) & (sx < w)
            cy0, cx0 = np.clip(sy, 0, h - 1), np.clip(sx, 0, w - 1)
            cy1, cx1 = np.clip(ty, 0, h - 1), np.clip(tx, 0, w - 1)
            ok &= ~blocked[cy0, cx0] & ~blocked[cy1, cx1]
            wk = weight * ok
            sums[axis][y0:y1, x0:x1] += wk[..., None] * (img[cy1, cx1] - img[cy0, cx0])
            totals[axis][y0:y1, x0:x1] += wk
    return (sums[0], totals[0]), (sums[1], totals[1])


def _continue_shading(rgb: np.ndarray, copied: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Gradients (a sky darkening upward, a studio sweep) go on past the edge: where a smooth
    quadratic explains the picture's shading, the copy's low frequencies are replaced by that
    surface extended into the hole, and the copy keeps only its detail. Float RGB in and out."""
    h, w = mask.shape
    k = max(1, round(max(h, w) / 96))
    small = cv2.resize(rgb, (max(2, w // k), max(2, h // k)), interpolation=cv2.INTER_AREA)
    known = (
        cv2.resize(
            (~mask).astype(np.uint8),
            (small.shape[1], small.shape[0]),
            interpolation=cv2.INTER_NEAREST,
        )
        > 0
    )
    ys, xs = np.nonzero(known)
    if len(ys) < 12:
        return copied
    sh, sw = known.shape
    u, v = xs / max(sw - 1, 1), ys / max(sh - 1, 1)
    design = np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], 1)
    values = small[ys, xs].astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, values, rcond=None)
    resid = values - design @ coef
    explained = 1 - float(resid.var(0).sum()) / max(float(values.var(0).sum()), 1e-6)
    spread = float(np.sqrt(values.var(0).sum()))
    if explained < SHADING_EXPLAINED or spread < 6:
        return copied
    # The surface at full resolution, and the copy's detail on top of it.
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    uu, vv = gx / max(w - 1, 1), gy / max(h - 1, 1)
    surface = np.stack(
        [
            coef[0, c]
            + coef[1, c] * uu
            + coef[2, c] * vv
            + coef[3, c] * uu * uu
            + coef[4, c] * uu * vv
            + coef[5, c] * vv * vv
            for c in range(3)
        ],
        axis=-1,
    )
    # Extrapolated far past the picture a quadratic runs away: hold it to the picture's range.
    lo, hi = values.min(0) - 0.25 * spread, values.max(0) + 0.25 * spread
    surface = np.clip(surface, lo, hi)
    sigma = max(2.0, max(h, w) / 64)
    detail = copied - cv2.GaussianBlur(copied, (0, 0), sigma)
    out = copied.copy()
    out[mask] = (surface + detail)[mask]
    return out

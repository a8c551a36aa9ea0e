"""The built-in product catalog, drawn by code: photos, print areas and layers for every product.

Each product is a function drawing its layers at SIZE×SIZE with numpy/OpenCV (soft folds,
ambient occlusion near edges, gradients, highlights, contact shadows). Nothing is downloaded.
`CATALOG` holds what the database row needs (name, tags, print area, variants); bump a
product's `version` when its drawing changes so cached renders are invalidated.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockups.layers import TemplateLayers
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")

SIZE = 1200
SHIFT = 4  # sub-pixel bits for anti-aliased polygon fills


@dataclass(frozen=True)
class CatalogProduct:
    slug: str
    name: str
    tags: str
    print_area: dict[str, Any]
    draw: Callable[[], TemplateLayers]
    variants: list[dict[str, str]] = field(default_factory=list)
    transparent_background: bool = False
    version: int = 1


# --- drawing helpers ---------------------------------------------------------------------------------


def _fill(points: np.ndarray | list, size: int = SIZE) -> np.ndarray:
    """An anti-aliased polygon as a float32 mask."""
    canvas = np.zeros((size, size), np.uint8)
    pts = np.round(np.asarray(points, np.float64) * (1 << SHIFT)).astype(np.int32)
    cv2.fillPoly(canvas, [pts], 255, cv2.LINE_AA, shift=SHIFT)
    return canvas.astype(np.float32) / 255.0


def _ellipse(
    center: tuple[float, float], axes: tuple[float, float], angle: float = 0
) -> np.ndarray:
    canvas = np.zeros((SIZE, SIZE), np.uint8)
    c = (round(center[0] * 16), round(center[1] * 16))
    a = (round(axes[0] * 16), round(axes[1] * 16))
    cv2.ellipse(canvas, c, a, angle, 0, 360, 255, -1, cv2.LINE_AA, SHIFT)
    return canvas.astype(np.float32) / 255.0


def _round_rect(x0: float, y0: float, x1: float, y1: float, r: float) -> np.ndarray:
    pts = []
    for cx, cy, start in (
        (x1 - r, y0 + r, -90),
        (x1 - r, y1 - r, 0),
        (x0 + r, y1 - r, 90),
        (x0 + r, y0 + r, 180),
    ):
        for k in range(13):
            a = math.radians(start + k * 7.5)
            pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return _fill(pts)


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide ones run on a downscaled copy (same look, a fraction of the time)."""
    factor = int(sigma // 4)
    if factor < 2:
        return cv2.GaussianBlur(a, (0, 0), sigma)
    h, w = a.shape[:2]
    small = cv2.resize(a, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    return xs, ys


def _backdrop(
    top: tuple[int, int, int], bottom: tuple[int, int, int], vignette: float = 0.12
) -> np.ndarray:
    xs, ys = _grid()
    t = (ys / SIZE)[..., None]
    img = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    r = np.hypot(xs / SIZE - 0.5, ys / SIZE - 0.45)
    img *= (1 - vignette * np.clip(r * 1.6, 0, 1) ** 2)[..., None]
    rng = np.random.default_rng(7)
    img += rng.normal(0, 1.2, (SIZE, SIZE, 1)).astype(np.float32)  # a little film grain
    return img


def _shadow(mask: np.ndarray, dx: float, dy: float, sigma: float, strength: float) -> np.ndarray:
    """Multiplier (≤ 1) for a soft shadow cast by `mask`."""
    m = cv2.warpAffine(mask, np.float32([[1, 0, dx], [0, 1, dy]]), (SIZE, SIZE))
    return 1.0 - strength * _blur(m, sigma)


def _ambient_occlusion(mask: np.ndarray, radius: float, strength: float) -> np.ndarray:
    """Darkening near a shape's edges, as cloth or plastic curving away from the light."""
    inside = (mask > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    return 1.0 - strength * np.exp(-dist / radius)


def _folds(
    seed: int, count: int, spread: tuple[float, float, float, float], sigma: float
) -> np.ndarray:
    """Signed soft ridges: random gentle curves blurred into fabric folds (mean ≈ 0)."""
    rng = np.random.default_rng(seed)
    acc = np.zeros((SIZE, SIZE), np.float32)
    x0, y0, x1, y1 = spread
    for _ in range(count):
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        angle = rng.uniform(-1.2, 1.2) + (math.pi / 2 if rng.random() < 0.5 else 0)
        length = rng.uniform(120, 380)
        bend = rng.uniform(-40, 40)
        pts = []
        for k in range(16):
            t = k / 15 - 0.5
            px = cx + math.cos(angle) * t * length - math.sin(angle) * bend * (1 - 4 * t * t)
            py = cy + math.sin(angle) * t * length + math.cos(angle) * bend * (1 - 4 * t * t)
            pts.append((px, py))
        layer = np.zeros((SIZE, SIZE), np.float32)
        cv2.polylines(layer, [np.int32(pts)], False, 1.0, int(rng.uniform(6, 16)), cv2.LINE_AA)
        acc += _blur(layer, sigma * rng.uniform(0.7, 1.4)) * rng.choice([-1.0, 1.0, 1.0])
    return acc / max(float(np.abs(acc).max()), 1e-6)


def _weave(seed: int, amount: float) -> np.ndarray:
    """Canvas weave: fine crossing threads with irregular slubs, mean ≈ 0."""
    xs, ys = _grid()
    rng = np.random.default_rng(seed)
    slub = _blur(rng.normal(0, 1, (SIZE, SIZE)).astype(np.float32), 1.5)
    w = np.sin(xs * 1.9) * np.sin(ys * 1.9) * 0.6 + slub * 0.9
    return (w * amount).astype(np.float32)


def _compose(
    bg: np.ndarray,
    layers: list[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Paint (mask, rgb-or-grey) layers over a float background in order."""
    img = bg
    for mask, paint in layers:
        m = mask[..., None]
        p = paint if paint.ndim == 3 else paint[..., None]
        img = img * (1 - m) + p * m
    return img


def _u8(img: np.ndarray) -> np.ndarray:
    return np.clip(img, 0, 255).astype(np.uint8)


def _quad_mask(quad: list[list[float]]) -> np.ndarray:
    return _fill(quad)


def _displacement_from(field_: np.ndarray, strength: float) -> np.ndarray:
    gy, gx = np.gradient(_blur(field_, 3.0))
    return np.dstack([gx * strength, gy * strength]).astype(np.float32)


# --- garments ----------------------------------------------------------------------------------------


def _neck_curve(left: tuple[float, float], right: tuple[float, float], depth: float) -> list:
    cx = (left[0] + right[0]) / 2
    half = (right[0] - left[0]) / 2
    return [
        (cx + half * math.cos(a), left[1] + depth * math.sin(a))
        for a in np.linspace(0, math.pi, 24)
    ]


TSHIRT_QUAD = [[440.0, 340.0], [760.0, 340.0], [760.0, 740.0], [440.0, 740.0]]


def _garment(
    outline: list,
    neck: list,
    seams: list[list],
    seed: int,
    extra_dark: list[tuple[np.ndarray, float]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Silhouette, luminance (folds + AO + seams), highlight and fold field for a flat-lay garment."""
    body = _fill(outline)
    body = np.clip(body - _fill(neck), 0, 1)
    folds = _folds(seed, 18, (250, 250, 950, 1050), 16.0)
    xs, ys = _grid()
    light = 1.0 - 0.10 * ((xs - 420) ** 2 + (ys - 380) ** 2) / (700.0**2)
    lum = light * (1 + 0.085 * folds) * _ambient_occlusion(body, 26, 0.22)
    seam_layer = np.zeros((SIZE, SIZE), np.float32)
    for seam in seams:
        cv2.polylines(seam_layer, [np.int32(seam)], False, 1.0, 3, cv2.LINE_AA)
    lum *= 1 - 0.22 * _blur(seam_layer, 1.6)
    for mask, amount in extra_dark or []:
        lum *= 1 - amount * mask
    highlight = np.clip(folds, 0, 1) * 0.18 + 0.10 * np.exp(
        -((xs - 470) ** 2 + (ys - 420) ** 2) / (2 * 220.0**2)
    )
    return body, lum.astype(np.float32), (highlight * body).astype(np.float32), folds


def _flatlay(body: np.ndarray, lum: np.ndarray, bg_top: tuple, bg_bottom: tuple) -> np.ndarray:
    bg = _backdrop(bg_top, bg_bottom) * _shadow(body, 10, 16, 14, 0.35)[..., None]
    white = np.float32(246.0)
    return _u8(_compose(bg, [(body, lum * white)]))


def draw_tshirt() -> TemplateLayers:
    neck_l, neck_r = (512.0, 206.0), (688.0, 206.0)
    outline = [
        neck_l, (372, 236), (250, 300), (170, 440), (285, 500), (362, 440),
        (360, 700), (350, 1040), (600, 1052), (850, 1040), (840, 700),
        (838, 440), (915, 500), (1030, 440), (950, 300), (828, 236), neck_r,
    ]  # fmt: skip
    neck = _neck_curve(neck_l, neck_r, 70)
    collar = np.clip(_fill(_neck_curve((496, 200), (704, 200), 88)) - _fill(neck), 0, 1)
    seams = [
        [(362, 440), (372, 236)], [(838, 440), (828, 236)],
        [(190, 460), (285, 512)], [(1010, 460), (915, 512)],
        [(352, 1012), (600, 1024), (848, 1012)],
    ]  # fmt: skip
    body, lum, highlight, folds = _garment(outline, neck, seams, 11, [(collar * 0.6, 0.12)])
    rib = (np.sin(_grid()[0] * 0.9) * 0.04 * collar).astype(np.float32)
    lum = lum * (1 + rib)
    base = _flatlay(body, lum, (236, 234, 230), (214, 211, 205))
    quad_mask = _quad_mask(TSHIRT_QUAD) * body
    return TemplateLayers(
        base=base,
        print_mask=quad_mask,
        shading=np.clip(lum / 0.97, 0, 1.05).astype(np.float32),
        highlight=highlight,
        tint_mask=body,
        displacement=_displacement_from(folds, 60.0),
    )


HOODIE_QUAD = [[445.0, 400.0], [755.0, 400.0], [755.0, 660.0], [445.0, 660.0]]


def draw_hoodie() -> TemplateLayers:
    neck_l, neck_r = (520.0, 250.0), (680.0, 250.0)
    outline = [
        neck_l, (440, 232), (360, 270), (250, 330), (170, 560), (120, 860), (215, 880), (300, 600),
        (345, 520), (345, 980), (600, 992), (855, 980), (855, 520), (900, 600), (985, 880),
        (1080, 860), (1030, 560), (950, 330), (840, 270), (760, 232), neck_r,
    ]  # fmt: skip
    hood = [
        (430, 250),
        (455, 140),
        (520, 95),
        (600, 86),
        (680, 95),
        (745, 140),
        (770, 250),
        (690, 300),
        (600, 318),
        (510, 300),
    ]
    opening = [
        (505, 250),
        (530, 150),
        (600, 128),
        (670, 150),
        (695, 250),
        (650, 290),
        (600, 300),
        (550, 290),
    ]
    pocket = [(430, 760), (470, 690), (730, 690), (770, 760), (790, 930), (410, 930)]
    seams = [
        [(345, 520), (360, 270)], [(855, 520), (840, 270)],
        [(130, 820), (215, 842)], [(1070, 820), (985, 842)],
        [(345, 930), (600, 940), (855, 930)],
        [*pocket, pocket[0]],
    ]  # fmt: skip
    hood_mask = _fill(hood)
    opening_mask = _fill(opening)
    body, lum, highlight, folds = _garment(outline, [(0, 0), (1, 0), (1, 1)], seams, 23)
    body = np.clip(np.maximum(body, hood_mask), 0, 1)
    lum = np.where(hood_mask > 0.5, lum * (0.93 + 0.05 * _folds(5, 6, (450, 90, 750, 300), 8)), lum)
    _, ys = _grid()
    depth = np.clip(ys - 128, 0, 200) / 200.0  # the hood's inside darkens towards the neck
    lum = lum * (1 - (0.35 + 0.2 * depth) * _blur(opening_mask, 2.5))
    lum = lum * _ambient_occlusion(body, 30, 0.15)
    pocket_shadow = _blur(_fill(pocket), 4) - _fill(pocket)
    lum *= 1 - 0.2 * np.clip(-pocket_shadow, 0, 1)
    strings = np.zeros((SIZE, SIZE), np.float32)
    for x in (560, 640):
        cv2.line(strings, (x, 285), (x + (x - 600) // 4, 520), 1.0, 7, cv2.LINE_AA)
    strings = _blur(strings, 1.0)
    lum = lum * (1 - 0.10 * strings)
    base = _flatlay(body, lum, (232, 232, 236), (206, 207, 212))
    print_mask = _quad_mask(HOODIE_QUAD) * body * (1 - strings)
    return TemplateLayers(
        base=base,
        print_mask=print_mask.astype(np.float32),
        shading=np.clip(lum / 0.97, 0, 1.05).astype(np.float32),
        highlight=highlight,
        tint_mask=np.clip(body - strings * 0.8, 0, 1).astype(np.float32),
        displacement=_displacement_from(folds, 50.0),
    )


TOTE_QUAD = [[400.0, 520.0], [800.0, 520.0], [800.0, 920.0], [400.0, 920.0]]


def draw_tote() -> TemplateLayers:
    bag = [(330, 430), (870, 430), (890, 1060), (310, 1060)]
    bag_mask = _fill(bag)
    handles = np.zeros((SIZE, SIZE), np.float32)
    for cx in (480, 720):
        cv2.ellipse(handles, (cx, 440), (70, 300), 0, 180, 360, 1.0, 30, cv2.LINE_AA)
    handles = np.clip(_blur(handles, 0.8) * (1 - bag_mask), 0, 1)
    weave = _weave(3, 0.035)
    folds = _folds(31, 12, (340, 450, 860, 1040), 14.0)
    _xs, ys = _grid()
    lum = (1 + weave + 0.06 * folds) * _ambient_occlusion(bag_mask, 20, 0.18)
    lum *= 1 - 0.05 * (ys - 430) / 630
    hem = np.zeros((SIZE, SIZE), np.float32)
    cv2.line(hem, (332, 470), (868, 470), 1.0, 3, cv2.LINE_AA)
    lum *= 1 - 0.25 * _blur(hem, 1.5)
    handle_lum = (0.92 + weave) * (1 - 0.2 * _blur(handles, 6))
    bg = _backdrop((226, 230, 226), (198, 204, 198))
    bg *= _shadow(np.maximum(bag_mask, handles), 12, 18, 16, 0.35)[..., None]
    cream = np.float32(250.0)
    base = _u8(_compose(bg, [(handles, handle_lum * cream), (bag_mask, lum * cream)]))
    body = np.maximum(bag_mask, handles)
    return TemplateLayers(
        base=base,
        print_mask=_quad_mask(TOTE_QUAD) * bag_mask,
        shading=np.clip(lum, 0, 1.05).astype(np.float32),
        highlight=(np.clip(folds, 0, 1) * 0.12 * bag_mask).astype(np.float32),
        tint_mask=body,
        displacement=np.dstack([_blur(weave, 0.6) * 20, _blur(weave, 0.6) * 20]).astype(np.float32)
        + _displacement_from(folds, 40.0),
    )


# --- mug (cylinder wrap) -----------------------------------------------------------------------------

MUG = {"cx": 560.0, "radius": 250.0, "top": 330.0, "bottom": 900.0, "ry": 52.0}
MUG_PRINT = {
    "type": "cylinder",
    "cx": MUG["cx"],
    "radius": MUG["radius"],
    "top": MUG["top"] + 70,
    "bottom": MUG["bottom"] - 70,
    "ry": MUG["ry"],
    "span_deg": 72.0,
}


def draw_mug() -> TemplateLayers:
    cx, r, top, bottom, ry = MUG["cx"], MUG["radius"], MUG["top"], MUG["bottom"], MUG["ry"]
    xs, ys = _grid()
    body = _fill([(cx - r, top), (cx + r, top), (cx + r, bottom), (cx - r, bottom)])
    body = np.maximum(body, _ellipse((cx, bottom), (r, ry)))
    rim = _ellipse((cx, top), (r, ry))
    inner = _ellipse((cx, top + 4), (r - 14, ry - 8))
    s = np.clip((xs - cx) / r, -1, 1)
    nz = np.sqrt(np.clip(1 - s * s, 0, 1))
    diffuse = 0.55 + 0.45 * np.clip(0.8 * nz - 0.35 * s, 0, 1)
    spec = np.exp(-(((s + 0.42) / 0.07) ** 2)) * 0.55 + np.exp(-(((s - 0.78) / 0.05) ** 2)) * 0.18
    vertical = 1 - 0.06 * np.clip((ys - top) / (bottom - top), 0, 1)
    body_lum = (diffuse * vertical).astype(np.float32)
    # The handle: a thick ring on the right, shaded across its tube.
    handle = np.zeros((SIZE, SIZE), np.float32)
    hc = (int(cx + r + 20), int((top + bottom) / 2 - 10))
    cv2.ellipse(handle, hc, (120, 190), 0, -80, 80, 1.0, 56, cv2.LINE_AA)
    handle = np.clip(_blur(handle, 0.8) * (1 - body), 0, 1)
    ring_d = np.hypot((xs - hc[0]) / 120, (ys - hc[1]) / 190)
    handle_lum = 0.45 + 0.45 * np.cos(np.clip((ring_d - 1.0) * 7.0, -1.5, 1.5))
    handle_lum *= 1 - 0.3 * np.clip((xs - hc[0]) / 140, 0, 1)
    inner_lum = 0.35 + 0.5 * np.clip((ys - (top - ry)) / (2 * ry), 0, 1) * np.clip(
        0.6 - 0.5 * s, 0, 1
    )
    bg = _backdrop((238, 236, 232), (206, 200, 192))
    shadow_mask = _ellipse((cx + 40, bottom + 10), (r + 60, ry + 14))
    bg *= (1 - 0.45 * _blur(shadow_mask, 22))[..., None]
    glaze = np.float32(244.0)
    img = _compose(
        bg,
        [
            (handle, handle_lum * glaze),
            (body, body_lum * glaze + spec * 60),
            (rim, (0.95 - 0.1 * s) * glaze),
            (inner, inner_lum * glaze),
        ],
    )
    band = _cylinder_band_mask(MUG_PRINT)
    print_mask = band * body * (1 - rim)
    shading = np.clip(body_lum / 0.92, 0, 1.0).astype(np.float32)
    return TemplateLayers(
        base=_u8(img),
        print_mask=print_mask.astype(np.float32),
        shading=shading,
        highlight=np.clip(spec, 0, 1).astype(np.float32) * body,
        tint_mask=None,
    )


def _cylinder_band_mask(p: dict[str, Any]) -> np.ndarray:
    xs, ys = _grid()
    s = (xs - p["cx"]) / p["radius"]
    theta_max = math.radians(p["span_deg"])
    visible = np.abs(s) <= math.sin(theta_max)
    curve = p["ry"] * np.sqrt(np.clip(1 - s * s, 0, 1))
    inside = (ys >= p["top"] + curve) & (ys <= p["bottom"] + curve) & visible
    return _blur(inside.astype(np.float32), 0.7)


# --- framed poster (perspective) ---------------------------------------------------------------------

POSTER_OUTER = [[330.0, 150.0], [880.0, 205.0], [872.0, 1010.0], [338.0, 1060.0]]
POSTER_FLAT = (520.0, 700.0)  # the frame's front, flat, in its own units


def _poster_h() -> np.ndarray:
    w, h = POSTER_FLAT
    return cv2.getPerspectiveTransform(
        np.float32([[0, 0], [w, 0], [w, h], [0, h]]), np.float32(POSTER_OUTER)
    )


def _flat_rect(h_mat: np.ndarray, inset: float) -> list[list[float]]:
    w, h = POSTER_FLAT
    pts = np.float32(
        [[[inset, inset], [w - inset, inset], [w - inset, h - inset], [inset, h - inset]]]
    )
    return cv2.perspectiveTransform(pts, h_mat)[0].astype(float).tolist()


# The print area, 64 units inside the frame's edge: _flat_rect(_poster_h(), 64.0) written out, so
# importing the catalogue (every web process does) needs no OpenCV. A test keeps them equal.
POSTER_QUAD = [
    [405.951171875, 241.7600555419922],
    [818.7476806640625, 275.53179931640625],
    [813.4971313476562, 942.7635498046875],
    [410.5079345703125, 973.552734375],
]


def draw_poster() -> TemplateLayers:
    h_mat = _poster_h()
    outer = _fill(POSTER_OUTER)
    mat_quad = _flat_rect(h_mat, 26.0)
    mat = _fill(mat_quad)
    inner_bevel = _fill(_flat_rect(h_mat, 20.0))
    print_mask = _quad_mask(POSTER_QUAD)
    xs, ys = _grid()
    wall = _backdrop((214, 206, 192), (188, 180, 166), vignette=0.22)
    wall += _weave(9, 1.6)[..., None]  # plaster
    wall *= _shadow(outer, 26, 30, 22, 0.45)[..., None]
    wall *= (1 - 0.18 * np.clip((xs - 100) / 1100, 0, 1))[..., None]
    frame_lum = 0.16 + 0.10 * np.clip(1 - (ys - 150) / 900, 0, 1)
    bevel = np.clip(inner_bevel - mat, 0, 1)
    mat_shadow = 1 - 0.22 * np.clip(_blur(1 - mat, 6) * mat, 0, 1)
    mat_paint = 242 * mat_shadow * (1 - 0.04 * (xs - 330) / 550)
    img = _compose(
        wall,
        [
            (outer, np.dstack([frame_lum * 120] * 3)),
            (bevel, np.float32(200) * np.ones((SIZE, SIZE), np.float32)),
            (mat, mat_paint),
        ],
    )
    # Glass: a soft diagonal reflection band over the mat and print.
    band = np.exp(-((((xs * 0.8 + ys * 0.6) - 900) / 120.0) ** 2)) * 0.22
    glass = (band + 0.04) * mat
    img = 255 - (255 - img) * (1 - glass[..., None])
    shade_edge = 1 - 0.18 * np.clip(_blur(1 - mat, 5), 0, 1)
    return TemplateLayers(
        base=_u8(img),
        print_mask=print_mask,
        shading=(shade_edge * (1 - 0.05 * (xs - 330) / 550)).astype(np.float32),
        highlight=glass.astype(np.float32),
    )


# --- canvas (gallery wrap, perspective) --------------------------------------------------------------

CANVAS_FRONT = [[300.0, 230.0], [820.0, 270.0], [812.0, 950.0], [306.0, 990.0]]
CANVAS_SIDE = [[820.0, 270.0], [862.0, 300.0], [852.0, 918.0], [812.0, 950.0]]


def draw_canvas() -> TemplateLayers:
    front = _fill(CANVAS_FRONT)
    side = np.clip(_fill(CANVAS_SIDE) - front, 0, 1)
    _xs, ys = _grid()
    weave = _weave(17, 0.05)
    wall = _backdrop((226, 228, 230), (196, 198, 202), vignette=0.2)
    wall *= _shadow(np.maximum(front, side), 30, 24, 26, 0.42)[..., None]
    front_lum = (0.97 + weave) * _ambient_occlusion(front, 6, 0.08)
    side_lum = (0.62 + weave) * (1 - 0.1 * (ys - 270) / 700)
    img = _compose(wall, [(side, side_lum * 240), (front, front_lum * 246)])
    return TemplateLayers(
        base=_u8(img),
        print_mask=front,
        shading=np.clip(front_lum, 0, 1.02).astype(np.float32),
        highlight=(np.clip(weave, 0, 1) * 2.0 * front).astype(np.float32),
        displacement=np.dstack([weave * 18, weave * 18]).astype(np.float32),
    )


# --- phone case --------------------------------------------------------------------------------------

PHONE = (390.0, 170.0, 810.0, 1030.0)
PHONE_QUAD = [[404.0, 184.0], [796.0, 184.0], [796.0, 1016.0], [404.0, 1016.0]]


def draw_phone_case() -> TemplateLayers:
    x0, y0, x1, y1 = PHONE
    case = _round_rect(x0, y0, x1, y1, 70)
    back = _round_rect(x0 + 14, y0 + 14, x1 - 14, y1 - 14, 58)
    cam = _round_rect(x0 + 34, y0 + 34, x0 + 214, y0 + 214, 44)
    xs, ys = _grid()
    edge = np.clip(case - back, 0, 1)
    edge_lum = 0.55 + 0.4 * np.clip((x1 - xs) / (x1 - x0), 0, 1)
    back_lum = (0.97 - 0.05 * (xs - x0) / (x1 - x0)) * _ambient_occlusion(back, 10, 0.12)
    lenses = np.zeros((SIZE, SIZE), np.float32)
    lens_lum = np.zeros((SIZE, SIZE), np.float32)
    for lx, ly in ((x0 + 84, y0 + 84), (x0 + 164, y0 + 124), (x0 + 84, y0 + 164)):
        ring = _ellipse((lx, ly), (34, 34))
        glass = _ellipse((lx, ly), (22, 22))
        lenses = np.maximum(lenses, ring)
        d = np.hypot(xs - lx + 8, ys - ly + 8)
        lens_lum = np.where(
            ring > 0, np.where(glass > 0.5, 0.05 + 0.5 * np.exp(-d / 6), 0.35), lens_lum
        )
    bg = _backdrop((232, 226, 236), (204, 196, 212))
    bg *= _shadow(case, 18, 22, 20, 0.42)[..., None]
    img = _compose(
        bg,
        [
            (case, edge_lum * 230),
            (back, back_lum * 248),
            (cam, np.float32(55.0) * (1 + 0.3 * (1 - (ys - y0) / 260))),
            (lenses, lens_lum * 255),
        ],
    )
    sheen = np.exp(-((((xs - x0) - 70) / 28.0) ** 2)) * 0.35 * back
    cam_rim = np.clip(_blur(cam, 5) - cam, 0, 1)
    print_mask = np.clip(back - _blur(cam, 1.5) - cam_rim * 2, 0, 1)
    return TemplateLayers(
        base=_u8(img),
        print_mask=print_mask.astype(np.float32),
        shading=np.clip(back_lum / 0.97, 0, 1).astype(np.float32) * (1 - 0.3 * cam_rim),
        highlight=sheen.astype(np.float32),
        tint_mask=edge,
    )


# --- sticker (die-cut) -------------------------------------------------------------------------------

STICKER_QUAD = [[322.0, 330.0], [842.0, 268.0], [902.0, 790.0], [382.0, 852.0]]


def draw_sticker() -> TemplateLayers:
    xs, ys = _grid()
    # A laptop lid: brushed aluminium with a soft gradient.
    rng = np.random.default_rng(4)
    brushed = _blur(rng.normal(0, 1, (SIZE, SIZE)).astype(np.float32), 0.1)
    brushed = cv2.blur(brushed, (41, 1)) * 6
    lid = _backdrop((206, 208, 212), (168, 171, 178), vignette=0.25) + brushed[..., None]
    sheen = np.exp(-((((xs * 0.7 - ys * 0.7) + 60) / 260.0) ** 2)) * 0.22
    return TemplateLayers(
        base=_u8(lid),
        print_mask=_quad_mask(STICKER_QUAD),
        shading=np.ones((SIZE, SIZE), np.float32),
        highlight=(sheen * 0.8).astype(np.float32),
    )


GARMENT_VARIANTS = [
    {"key": "white", "name": "White", "color": "#f5f5f3"},
    {"key": "black", "name": "Black", "color": "#26262b"},
    {"key": "heather", "name": "Heather grey", "color": "#b7b9bd"},
    {"key": "navy", "name": "Navy", "color": "#2c3a5c"},
    {"key": "red", "name": "Red", "color": "#b8302f"},
]

CATALOG: dict[str, CatalogProduct] = {
    p.slug: p
    for p in [
        CatalogProduct(
            "tshirt",
            "Classic T-shirt",
            "apparel shirt tee t-shirt cotton",
            {"type": "quad", "points": TSHIRT_QUAD},
            draw_tshirt,
            GARMENT_VARIANTS,
        ),
        CatalogProduct(
            "hoodie",
            "Pullover hoodie",
            "apparel hoodie sweatshirt fleece",
            {"type": "quad", "points": HOODIE_QUAD},
            draw_hoodie,
            GARMENT_VARIANTS[:4],
            version=2,
        ),
        CatalogProduct(
            "tote",
            "Canvas tote bag",
            "bag tote canvas accessories",
            {"type": "quad", "points": TOTE_QUAD},
            draw_tote,
            [
                {"key": "natural", "name": "Natural", "color": "#efe6d2"},
                {"key": "black", "name": "Black", "color": "#2a2a2a"},
            ],
        ),
        CatalogProduct(
            "mug", "Ceramic mug 11oz", "mug cup kitchen drinkware ceramic", MUG_PRINT, draw_mug
        ),
        CatalogProduct(
            "poster-framed",
            "Framed poster",
            "poster print wall art frame decor",
            {"type": "quad", "points": POSTER_QUAD},
            draw_poster,
        ),
        CatalogProduct(
            "sticker",
            "Die-cut sticker",
            "sticker vinyl die-cut laptop",
            {"type": "quad", "points": STICKER_QUAD, "die_cut": 18},
            draw_sticker,
            transparent_background=True,
        ),
        CatalogProduct(
            "phone-case",
            "Phone case",
            "phone case accessories tough",
            {"type": "quad", "points": PHONE_QUAD},
            draw_phone_case,
            [
                {"key": "white", "name": "White edge", "color": "#f2f2f2"},
                {"key": "black", "name": "Black edge", "color": "#2b2b2e"},
            ],
        ),
        CatalogProduct(
            "canvas",
            "Gallery canvas",
            "canvas wall art print decor",
            {"type": "quad", "points": CANVAS_FRONT},
            draw_canvas,
        ),
    ]
}

"""A background-removal benchmark set generated from scikit-image's bundled sample photos.

Each shot is a "product": a patch of a real photo (coffee, chelsea, astronaut, rocket, ...) cut
with a known antialiased shape (ellipse, rounded box, ring with a hole, star, the horse
silhouette, the scikit-image logo), composited with a soft shadow onto a plain, gradient or
lightly textured backdrop. The alpha used for compositing is the ground truth.
Only images shipped inside the scikit-image package are used (no downloads).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage import data

SOURCES = ("coffee", "chelsea", "astronaut", "rocket", "stereo", "brick", "retina", "colorwheel")
SHAPES = ("ellipse", "rounded", "ring", "star", "horse", "logo", "bottle", "blob")
BACKDROPS = ("white", "grey", "tint", "gradient", "radial", "paper")


@dataclass
class Shot:
    name: str
    image: np.ndarray  # RGB uint8
    alpha: np.ndarray  # float32 [0, 1], ground truth


def _source(name: str) -> np.ndarray:
    if name == "stereo":
        return np.ascontiguousarray(data.stereo_motorcycle()[0][..., :3])
    if name == "colorwheel":
        return np.asarray(data.colorwheel())[..., :3]
    img = getattr(data, name)()
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, 2)
    return np.ascontiguousarray(img[..., :3])


def _shape(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """Antialiased alpha of a shape on a size×size canvas (drawn 4× and averaged down)."""
    s = size * 4
    m = np.zeros((s, s), np.uint8)
    c = s // 2
    if kind == "ellipse":
        cv2.ellipse(m, (c, c), (int(s * 0.3), int(s * 0.4)), 0, 0, 360, 255, -1)
    elif kind == "rounded":
        r = s // 10
        x1, y1, x2, y2 = int(s * 0.22), int(s * 0.15), int(s * 0.78), int(s * 0.85)
        cv2.rectangle(m, (x1 + r, y1), (x2 - r, y2), 255, -1)
        cv2.rectangle(m, (x1, y1 + r), (x2, y2 - r), 255, -1)
        for cx, cy in ((x1 + r, y1 + r), (x2 - r, y1 + r), (x1 + r, y2 - r), (x2 - r, y2 - r)):
            cv2.circle(m, (cx, cy), r, 255, -1)
    elif kind == "ring":
        cv2.circle(m, (c, c), int(s * 0.38), 255, -1)
        cv2.circle(m, (c, c), int(s * 0.18), 0, -1)
    elif kind == "star":
        pts = []
        for i in range(10):
            ang = np.pi / 2 + i * np.pi / 5
            rad = s * (0.4 if i % 2 == 0 else 0.18)
            pts.append((c + rad * np.cos(ang), c - rad * np.sin(ang)))
        cv2.fillPoly(m, [np.array(pts, np.int32)], 255)
    elif kind == "horse":
        horse = (~np.asarray(data.horse())).astype(np.uint8) * 255
        hh, hw = horse.shape
        scale = 0.8 * s / max(hh, hw)
        hs = cv2.resize(horse, (int(hw * scale), int(hh * scale)), interpolation=cv2.INTER_NEAREST)
        y, x = (s - hs.shape[0]) // 2, (s - hs.shape[1]) // 2
        m[y : y + hs.shape[0], x : x + hs.shape[1]] = hs
    elif kind == "logo":
        logo = np.asarray(data.logo())[..., 3]
        lh, lw = logo.shape
        scale = 0.85 * s / max(lh, lw)
        ls = cv2.resize(logo, (int(lw * scale), int(lh * scale)), interpolation=cv2.INTER_LINEAR)
        y, x = (s - ls.shape[0]) // 2, (s - ls.shape[1]) // 2
        m[y : y + ls.shape[0], x : x + ls.shape[1]] = (ls > 127) * 255
    elif kind == "bottle":
        cv2.rectangle(m, (int(s * 0.33), int(s * 0.35)), (int(s * 0.67), int(s * 0.9)), 255, -1)
        cv2.ellipse(m, (c, int(s * 0.35)), (int(s * 0.17), int(s * 0.1)), 0, 180, 360, 255, -1)
        cv2.rectangle(m, (int(s * 0.44), int(s * 0.1)), (int(s * 0.56), int(s * 0.3)), 255, -1)
    else:  # blob
        pts = []
        k = rng.uniform(0.6, 1.0, 7)
        for i in range(64):
            ang = 2 * np.pi * i / 64
            rad = s * 0.3 * (1 + 0.25 * np.sin(3 * ang + k[0] * 5) + 0.1 * np.cos(5 * ang * k[1]))
            pts.append((c + rad * np.cos(ang), c + rad * np.sin(ang)))
        cv2.fillPoly(m, [np.array(pts, np.int32)], 255)
    return cv2.resize(m.astype(np.float32) / 255.0, (size, size), interpolation=cv2.INTER_AREA)


def _backdrop(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    if kind == "white":
        base = np.full((size, size, 3), 250.0, np.float32)
    elif kind == "grey":
        base = np.full((size, size, 3), 205.0, np.float32)
    elif kind == "tint":
        col = rng.uniform(150, 240, 3)
        base = np.ones((size, size, 3), np.float32) * col
    elif kind == "gradient":
        a, b = rng.uniform(170, 250, 3), rng.uniform(120, 220, 3)
        base = a * (1 - yy[..., None]) + b * yy[..., None]
    elif kind == "radial":
        r = np.hypot(xx - 0.5, yy - 0.45)[..., None]
        a, b = rng.uniform(215, 252, 3), rng.uniform(140, 200, 3)
        base = a * (1 - np.clip(r * 1.4, 0, 1)) + b * np.clip(r * 1.4, 0, 1)
    else:  # paper: lightly textured
        grain = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 1.2)
        grain = grain / (grain.std() + 1e-6) * 3.0
        base = np.full((size, size, 3), 232.0, np.float32) + grain[..., None]
    noise = rng.normal(0, 1.2, (size, size, 3)).astype(np.float32)
    return base + noise


def make_shot(index: int, size: int = 640) -> Shot:
    rng = np.random.default_rng(1000 + index)
    shape = SHAPES[index % len(SHAPES)]
    backdrop = BACKDROPS[(index // len(SHAPES)) % len(BACKDROPS)]
    source = SOURCES[(index * 3) % len(SOURCES)]
    obj = int(size * rng.uniform(0.55, 0.75))
    alpha_obj = _shape(shape, obj, rng)
    photo = _source(source)
    ph, pw = photo.shape[:2]
    crop = min(ph, pw)
    y0 = int(rng.integers(0, ph - crop + 1))
    x0 = int(rng.integers(0, pw - crop + 1))
    patch = cv2.resize(
        photo[y0 : y0 + crop, x0 : x0 + crop], (obj, obj), interpolation=cv2.INTER_AREA
    )
    patch = patch.astype(np.float32)
    if index % 12 == 5:  # white-on-white: a pale product on a white backdrop, with shading
        patch = 215 + 0.15 * patch
        backdrop = "white"
    bg = _backdrop(backdrop, size, rng)
    alpha = np.zeros((size, size), np.float32)
    oy = int(rng.integers(int(size * 0.08), size - obj - int(size * 0.08) + 1))
    ox = int(rng.integers(int(size * 0.08), size - obj - int(size * 0.08) + 1))
    alpha[oy : oy + obj, ox : ox + obj] = alpha_obj
    fg = np.zeros((size, size, 3), np.float32)
    fg[oy : oy + obj, ox : ox + obj] = patch
    # Soft contact shadow: the silhouette, offset down-right, blurred, darkening the backdrop.
    shift = np.float32([[1, 0, size * 0.03], [0, 1, size * 0.04]])
    shadow = cv2.warpAffine(alpha, shift, (size, size))
    shadow = cv2.GaussianBlur(shadow, (0, 0), size * 0.02) * rng.uniform(0.18, 0.32)
    bg = bg * (1 - shadow[..., None])
    image = fg * alpha[..., None] + bg * (1 - alpha[..., None])
    image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    return Shot(f"{index:02d}-{shape}-{backdrop}-{source}", image, alpha)


def make_set(count: int = 48, size: int = 640) -> list[Shot]:
    return [make_shot(i, size) for i in range(count)]


def iou(pred_alpha: np.ndarray, gt_alpha: np.ndarray) -> float:
    p, g = pred_alpha >= 0.5, gt_alpha >= 0.5
    union = np.logical_or(p, g).sum()
    return float(np.logical_and(p, g).sum() / union) if union else 1.0


def sad(pred_alpha: np.ndarray, gt_alpha: np.ndarray) -> float:
    """Sum of absolute alpha differences, in thousands (the matting literature's unit)."""
    return float(np.abs(pred_alpha - gt_alpha).sum() / 1000.0)

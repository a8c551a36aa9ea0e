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


# --- hard backdrops (issue 12) -------------------------------------------------------------------
# Product shots people actually send: pale products on pale backdrops, paper and fabric textures,
# sensor noise, soft shadows falling on texture, and full-bleed designs with no backdrop at all.
# The truth for a full-bleed shot is "keep everything" (alpha 1 everywhere).
HARD_CLASSES = ("pale", "paper", "fabric", "noisy", "shadow", "fullbleed")


def _texture_backdrop(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    tone = rng.uniform(200, 245, 3).astype(np.float32)
    if kind == "paper":
        # Fibres: anisotropic blurred noise at two scales, plus blotchy tone, a few percent deep.
        fine = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 0.8)
        fibre = cv2.GaussianBlur(
            rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), sigmaX=6, sigmaY=0.7
        )
        blotch = cv2.resize(
            rng.normal(0, 1, (8, 8)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC
        )
        t = fine / (fine.std() + 1e-6) * 6 + fibre / (fibre.std() + 1e-6) * 7 + blotch * 6
        return tone + t[..., None]
    if kind == "fabric":
        # A woven cloth: warp and weft threads (periodic), slub noise, and a little fold shading.
        period = rng.uniform(5.0, 9.0)
        ang = rng.uniform(-0.3, 0.3)
        u = xx * np.cos(ang) + yy * np.sin(ang)
        v = -xx * np.sin(ang) + yy * np.cos(ang)
        weave = np.sin(2 * np.pi * u / period) * np.sin(2 * np.pi * v / period)
        slub = cv2.GaussianBlur(
            rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), sigmaX=3, sigmaY=0.6
        )
        fold = np.sin(2 * np.pi * (xx / size * rng.uniform(0.5, 1.5) + rng.uniform(0, 1)))
        t = weave * 14 + slub / (slub.std() + 1e-6) * 6 + fold * 8
        col = tone * rng.uniform(0.75, 1.0, 3).astype(np.float32)
        return col + t[..., None]
    raise ValueError(kind)


def make_hard_shot(index: int, size: int = 640) -> Shot:
    rng = np.random.default_rng(5000 + index)
    kind = HARD_CLASSES[index % len(HARD_CLASSES)]
    shape = SHAPES[(index * 5 + 1) % len(SHAPES)]
    source = SOURCES[(index * 7 + 2) % len(SOURCES)]
    if kind == "fullbleed":
        # (retina and colorwheel sit on black: those would be products on a backdrop.)
        source = SOURCES[(index // 6) % 6]
    photo = _source(source)
    pale = kind == "pale" or (kind in ("paper", "fabric", "shadow") and index % 3 == 0)
    if kind == "fullbleed":
        # A design or photo that fills the frame: nothing is backdrop.
        ph, pw = photo.shape[:2]
        crop = min(ph, pw)
        y0 = int(rng.integers(0, ph - crop + 1))
        x0 = int(rng.integers(0, pw - crop + 1))
        img = cv2.resize(photo[y0 : y0 + crop, x0 : x0 + crop], (size, size))
        if index % 12 == 5:
            # A flat poster: bands of colour, a big disc and type-like bars, full bleed.
            img = np.zeros((size, size, 3), np.uint8)
            img[:] = rng.integers(40, 230, 3)
            for k in range(4):
                y = int(size * (0.15 + 0.2 * k))
                img[y : y + size // 12] = rng.integers(20, 250, 3)
            cv2.circle(
                img,
                (size // 2, size // 2),
                size // 4,
                [int(v) for v in rng.integers(20, 250, 3)],
                -1,
            )
            for k in range(3):
                cv2.rectangle(
                    img,
                    (size // 8, int(size * (0.75 + 0.06 * k))),
                    (int(size * (0.4 + 0.15 * k)), int(size * (0.78 + 0.06 * k))),
                    (250, 250, 250),
                    -1,
                )
        noise = rng.normal(0, 1.5, img.shape).astype(np.float32)
        return Shot(
            f"h{index:02d}-fullbleed-{source}",
            np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8),
            np.ones((size, size), np.float32),
        )
    obj = int(size * rng.uniform(0.5, 0.72))
    alpha_obj = _shape(shape, obj, rng)
    ph, pw = photo.shape[:2]
    crop = min(ph, pw)
    y0 = int(rng.integers(0, ph - crop + 1))
    x0 = int(rng.integers(0, pw - crop + 1))
    patch = cv2.resize(
        photo[y0 : y0 + crop, x0 : x0 + crop], (obj, obj), interpolation=cv2.INTER_AREA
    ).astype(np.float32)
    shadow_strength = rng.uniform(0.18, 0.32)
    shadow_blur = 0.02
    if pale:
        # A cream, white or pale-grey product a few levels away from its (pale) backdrop.
        tone = rng.uniform(222, 248)
        base = tone + rng.choice([-1, 1]) * rng.uniform(8, 16)
        patch = base - 12 + 0.12 * patch + rng.uniform(-3, 3, 3).astype(np.float32)
        yy = np.linspace(-1, 1, obj, dtype=np.float32)[:, None, None]
        patch = patch - 10 * yy  # soft top light on the product
    if kind == "pale":
        bg = np.full((size, size, 3), tone, np.float32) + rng.uniform(-4, 4, 3).astype(np.float32)
    elif kind in ("paper", "fabric"):
        bg = _texture_backdrop(kind, size, rng)
    elif kind == "noisy":
        bg = _backdrop(("white", "grey", "tint", "gradient")[index % 4], size, rng)
    else:  # shadow: a long, soft shadow on a textured backdrop
        bg = _texture_backdrop(("paper", "fabric")[index % 2], size, rng)
    if pale and kind != "pale":
        bg = bg - bg.mean((0, 1)) + tone  # the texture in the product's own pale tone
        shadow_strength = rng.uniform(0.3, 0.45)
        shadow_blur = 0.045
    alpha = np.zeros((size, size), np.float32)
    oy = int(rng.integers(int(size * 0.08), size - obj - int(size * 0.08) + 1))
    ox = int(rng.integers(int(size * 0.08), size - obj - int(size * 0.08) + 1))
    alpha[oy : oy + obj, ox : ox + obj] = alpha_obj
    fg = np.zeros((size, size, 3), np.float32)
    fg[oy : oy + obj, ox : ox + obj] = patch
    dx, dy = (0.03, 0.04) if kind != "shadow" else (0.08, 0.06)
    shift = np.float32([[1, 0, size * dx], [0, 1, size * dy]])
    shadow = cv2.warpAffine(alpha, shift, (size, size))
    shadow = cv2.GaussianBlur(shadow, (0, 0), size * shadow_blur) * shadow_strength
    bg = bg * (1 - shadow[..., None])
    image = fg * alpha[..., None] + bg * (1 - alpha[..., None])
    if kind == "noisy":
        # Sensor noise: luminance and chroma, stronger in the darks, like a phone at ISO 1600.
        lum = rng.normal(0, 7, (size, size, 1)).astype(np.float32)
        chroma = rng.normal(0, 3.5, (size, size, 3)).astype(np.float32)
        image = image + (lum + chroma) * (1.3 - image / 255 * 0.6)
    image = np.clip(image + rng.normal(0, 1.2, image.shape) + 0.5, 0, 255).astype(np.uint8)
    return Shot(f"h{index:02d}-{kind}-{shape}-{source}", image, alpha)


def make_hard_set(per_class: int = 8, size: int = 640) -> list[Shot]:
    return [make_hard_shot(i, size) for i in range(per_class * len(HARD_CLASSES))]

"""Product photos for the scene compositor's tests and benchmark, rendered by code (no downloads):
an amber dropper bottle, a glazed mug with a handle, a sneaker, a printed box, a white jar on a
white sweep (pale on pale), and the bottle on a busy backdrop. Plus scikit-image's `coffee`, a
real photograph of a cup on a table.

Solids of revolution are drawn slice by slice from the bottom up, each slice an ellipse (the
camera looks slightly down), so what stays visible of each is its front arc, shaded with the
surface normal there; the top slice shows its lid. Each shot sits on a studio sweep with a soft
contact shadow, like a catalogue photo.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from studio.settings import BASE_DIR

FONT = str(BASE_DIR / "static" / "fonts" / "DejaVuSans-Bold.ttf")
KINDS = ("bottle", "mug", "shoe", "box", "jar", "busy", "coffee")

Shot = tuple[np.ndarray, np.ndarray | None]  # (photo, the product's true alpha)
Material = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (angle, height, ndl) → RGB


def _backdrop(w: int, h: int, colour: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    top = np.array(colour, np.float32) * 0.96
    bottom = np.array(colour, np.float32)
    img = top + (bottom - top) * y
    img = img + rng.normal(0, 1.2, (h, w, 1)).astype(np.float32)
    return np.broadcast_to(img, (h, w, 3)).copy()


def _light(nx: np.ndarray, ny: np.ndarray, nz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Studio light from the upper left front: diffuse and a specular term (view = +z)."""
    L = np.array([-0.45, 0.55, 0.7])
    L /= np.linalg.norm(L)
    ndl = np.clip(nx * L[0] + ny * L[1] + nz * L[2], 0, 1)
    hv = L + np.array([0, 0, 1.0])
    hv /= np.linalg.norm(hv)
    spec = np.clip(nx * hv[0] + ny * hv[1] + nz * hv[2], 0, 1)
    return ndl, spec


def _revolve(
    img: np.ndarray,
    alpha: np.ndarray,
    cx: float,
    base_y: float,
    profile: list[tuple[float, float]],
    material: Material,
    *,
    tilt: float = 0.16,
    gloss: float = 0.0,
    lid: tuple[int, int, int] | None = None,
) -> None:
    """Draw a solid of revolution: profile = [(height, radius)] in pixels, bottom to top."""
    heights = np.array([p[0] for p in profile], np.float32)
    radii = np.array([p[1] for p in profile], np.float32)
    h_img, w_img = alpha.shape
    steps = int(heights[-1] - heights[0]) * 2
    sin_t, cos_t = math.sin(tilt), math.cos(tilt)
    ys = np.linspace(heights[0], heights[-1], steps)
    rs = np.interp(ys, heights, radii)
    slopes = np.gradient(rs, ys)
    for i, (yy, r) in enumerate(zip(ys, rs, strict=True)):
        if r < 0.5:
            continue
        cy = base_y - yy * cos_t
        b = max(r * sin_t, 0.5)
        x1, x2 = int(cx - r) - 1, int(cx + r) + 2
        y1, y2 = int(cy - b) - 1, int(cy + b) + 2
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w_img, x2), min(h_img, y2)
        if x2 <= x1 or y2 <= y1:
            continue
        gx, gy = np.meshgrid(np.arange(x1, x2), np.arange(y1, y2))
        ex = (gx - cx) / r
        ey = (gy - cy) / b
        inside = ex * ex + ey * ey <= 1
        if not inside.any():
            continue
        top = i == len(ys) - 1
        s = np.clip(ex, -1, 1)
        c = np.sqrt(1 - s * s)
        if top and lid is not None:
            nx, ny, nz = np.zeros_like(s), np.ones_like(s), np.zeros_like(s)
        else:
            slope = -slopes[i]
            nx, ny, nz = s, np.full_like(s, slope), c
            norm = np.sqrt(nx * nx + ny * ny + nz * nz)
            nx, ny, nz = nx / norm, ny / norm, nz / norm
        ndl, spec = _light(nx, ny * cos_t + nz * sin_t, nz * cos_t - ny * sin_t)
        if top and lid is not None:
            colour = np.array(lid, np.float32)[None, None] * (0.78 + 0.22 * ndl[..., None])
        else:
            angle = np.arcsin(s)
            colour = material(angle, np.full_like(s, yy / heights[-1]), ndl)
            colour = colour + gloss * 255 * (spec[..., None] ** 60)
            # A soft vertical highlight strip, as a softbox leaves on glossy cylinders.
            colour = colour + gloss * 120 * np.exp(-(((s + 0.45) / 0.08) ** 2))[..., None]
        region = img[y1:y2, x1:x2]
        region[inside] = colour[inside]
        alpha[y1:y2, x1:x2][inside] = 1.0


def _label_texture(
    text: str, sub: str, size: tuple[int, int], bg: tuple[int, int, int], ink: tuple[int, int, int]
) -> np.ndarray:
    img = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, int(size[1] * 0.2))
    small = ImageFont.truetype(FONT, int(size[1] * 0.09))
    tw = draw.textlength(text, font=font)
    draw.text(((size[0] - tw) / 2, size[1] * 0.28), text, fill=ink, font=font)
    sw = draw.textlength(sub, font=small)
    draw.text(((size[0] - sw) / 2, size[1] * 0.6), sub, fill=ink, font=small)
    draw.line([(size[0] * 0.3, size[1] * 0.54), (size[0] * 0.7, size[1] * 0.54)], fill=ink, width=2)
    return np.asarray(img, np.float32)


def _shadow(
    img: np.ndarray, cx: float, base_y: float, rx: float, ry: float, k: float = 0.35
) -> None:
    h, w = img.shape[:2]
    m = np.zeros((h, w), np.float32)
    cv2.ellipse(m, (int(cx), int(base_y)), (int(rx), max(2, int(ry))), 0, 0, 360, 1.0, -1)
    m = cv2.GaussianBlur(m, (0, 0), max(3.0, rx * 0.12))
    img *= (1 - k * m)[..., None]


def bottle(size: int = 1024, backdrop: np.ndarray | None = None) -> Shot:
    rng = np.random.default_rng(1)
    w, h = int(size * 0.75), size
    img = backdrop if backdrop is not None else _backdrop(w, h, (238, 237, 234), rng)
    w = img.shape[1]
    alpha = np.zeros((h, w), np.float32)
    s = size / 1024
    cx, base_y = w / 2, h * 0.86
    _shadow(img, cx, base_y + 6 * s, 150 * s, 26 * s)
    label = _label_texture("LUMEN", "FACE SERUM · 30 ml", (600, 300), (240, 232, 214), (40, 36, 32))
    amber = np.array([150, 78, 24], np.float32)

    def glass(angle: np.ndarray, height: np.ndarray, ndl: np.ndarray) -> np.ndarray:
        base = amber * (0.45 + 0.55 * ndl[..., None])
        # Amber glass glows through at its edges (light passes through more glass there).
        edge = np.abs(np.sin(angle))[..., None] ** 4
        base = base * (1 - 0.3 * edge) + np.array([190, 110, 40]) * 0.3 * edge
        on_label = (height > 0.14) & (height < 0.5) & (np.abs(angle) < 1.25)
        if on_label.any():
            lx = ((angle / 1.25) * 0.5 + 0.5) * 599
            ly = (1 - (height - 0.14) / 0.36) * 299
            lab = label[np.clip(ly, 0, 299).astype(int), np.clip(lx, 0, 599).astype(int)]
            lab = lab * (0.55 + 0.45 * ndl[..., None])
            base = np.where(on_label[..., None], lab, base)
        return base

    prof = [(0, 120), (6, 128), (300, 128), (350, 112), (390, 60), (400, 46), (408, 46)]
    _revolve(img, alpha, cx, base_y, [(a * s, b * s) for a, b in prof], glass, gloss=0.55)
    cap = [(408, 52), (412, 56), (500, 56), (505, 52)]

    def black(angle: np.ndarray, height: np.ndarray, ndl: np.ndarray) -> np.ndarray:
        return np.array([30, 30, 32], np.float32) * (0.5 + 0.9 * ndl[..., None])

    _revolve(
        img, alpha, cx, base_y, [(a * s, b * s) for a, b in cap], black, gloss=0.8, lid=(50, 50, 54)
    )
    bulb = [(505, 30), (520, 36), (600, 34), (620, 26), (630, 10)]

    def rubber(angle: np.ndarray, height: np.ndarray, ndl: np.ndarray) -> np.ndarray:
        return np.array([36, 34, 34], np.float32) * (0.5 + 0.8 * ndl[..., None])

    _revolve(img, alpha, cx, base_y, [(a * s, b * s) for a, b in bulb], rubber, gloss=0.3)
    return _finish(img, alpha)


def mug(size: int = 1024) -> Shot:
    rng = np.random.default_rng(2)
    w, h = size, int(size * 0.8)
    img = _backdrop(w, h, (236, 235, 233), rng)
    alpha = np.zeros((h, w), np.float32)
    s = size / 1024
    cx, base_y = w * 0.46, h * 0.85
    _shadow(img, cx + 20 * s, base_y + 4 * s, 220 * s, 40 * s)
    sage = np.array([128, 150, 118], np.float32)
    # The handle first: a thick ring on the right, partly behind the body.
    hx, hy = cx + 200 * s, base_y - 250 * s
    ring = np.zeros((h, w), np.float32)
    cv2.ellipse(
        ring,
        (int(hx), int(hy)),
        (int(95 * s), int(120 * s)),
        0,
        -90,
        90,
        1.0,
        int(38 * s),
        cv2.LINE_AA,
    )
    dist = cv2.distanceTransform((ring > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    shade = np.clip(dist / (19 * s), 0, 1)
    handle = sage * (0.55 + 0.45 * shade)[..., None]
    img[ring > 0.5] = handle[ring > 0.5]
    alpha = np.maximum(alpha, ring)

    def glaze(angle: np.ndarray, height: np.ndarray, ndl: np.ndarray) -> np.ndarray:
        speck = rng.normal(0, 3, (*angle.shape, 1))
        base = sage * (0.42 + 0.62 * ndl[..., None]) + speck
        foot = height < 0.05  # unglazed clay foot ring
        return np.where(
            foot[..., None], np.array([196, 170, 140]) * (0.5 + 0.5 * ndl[..., None]), base
        )

    prof = [(0, 170), (8, 182), (400, 196), (410, 196)]
    _revolve(
        img,
        alpha,
        cx,
        base_y,
        [(a * s, b * s) for a, b in prof],
        glaze,
        gloss=0.25,
        lid=(70, 60, 52),
    )
    # Looking into the mug: the inner wall and a shadowed interior inside the rim.
    top_y = base_y - 410 * s * math.cos(0.16)
    inner = np.zeros((h, w), np.float32)
    cv2.ellipse(
        inner,
        (int(cx), int(top_y)),
        (int(184 * s), int(184 * s * math.sin(0.16))),
        0,
        0,
        360,
        1.0,
        -1,
        cv2.LINE_AA,
    )
    yy = np.arange(h, dtype=np.float32)[:, None]
    depth_shade = np.clip((yy - (top_y - 30 * s)) / (60 * s), 0, 1)
    interior = np.array([232, 228, 218], np.float32) * (0.35 + 0.5 * depth_shade)[..., None]
    img = img * (1 - inner[..., None]) + interior * inner[..., None]
    return _finish(img, alpha)


def shoe(size: int = 1024) -> Shot:
    rng = np.random.default_rng(3)
    w, h = size, int(size * 0.66)
    img = _backdrop(w, h, (240, 240, 238), rng)
    s = size / 1024
    hi = 4  # drawn at 4× for clean edges
    pil = Image.new("L", (w * hi, h * hi), 0)
    d = ImageDraw.Draw(pil)

    def pts(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * s * hi, y * s * hi) for x, y in seq]

    upper = [
        (150, 530),
        (138, 440),
        (150, 330),
        (185, 290),
        (250, 300),
        (300, 330),
        (340, 300),
        (390, 240),
        (450, 232),
        (520, 290),
        (620, 330),
        (740, 360),
        (840, 400),
        (895, 450),
        (905, 505),
        (890, 530),
    ]
    sole = [
        (128, 520),
        (400, 530),
        (700, 528),
        (880, 515),
        (915, 505),
        (922, 530),
        (900, 560),
        (820, 575),
        (600, 582),
        (300, 584),
        (150, 580),
        (122, 560),
    ]
    d.polygon(pts(upper), fill=255)
    up = np.asarray(pil.resize((w, h), Image.LANCZOS), np.float32) / 255
    pil2 = Image.new("L", (w * hi, h * hi), 0)
    ImageDraw.Draw(pil2).polygon(pts(sole), fill=255)
    so = np.asarray(pil2.resize((w, h), Image.LANCZOS), np.float32) / 255
    alpha = np.maximum(up, so)
    # Inflate the silhouette for shading: leather bulges, the sole is a flat band.
    dist = cv2.distanceTransform((up > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    hgt = np.sqrt(np.minimum(dist, 90 * s) * (180 * s - np.minimum(dist, 90 * s)))
    gx = cv2.Sobel(hgt, cv2.CV_32F, 1, 0) / 8
    gy = cv2.Sobel(hgt, cv2.CV_32F, 0, 1) / 8
    n = np.sqrt(gx * gx + gy * gy + 1)
    ndl, spec = _light(-gx / n, gy / n, 1 / n)
    navy = np.array([40, 56, 96], np.float32)
    leather = navy * (0.45 + 0.7 * ndl[..., None]) + 60 * spec[..., None] ** 30
    leather += rng.normal(0, 2.5, leather.shape)
    colour = img.copy()
    colour = colour * (1 - up[..., None]) + leather * up[..., None]
    # Toe cap, heel tab, a side stripe and laces.
    over = Image.new("RGB", (w * hi, h * hi), (0, 0, 0))
    mask = Image.new("L", (w * hi, h * hi), 0)
    od, md = ImageDraw.Draw(over), ImageDraw.Draw(mask)
    for poly, col in (
        ([(730, 525), (745, 430), (820, 390), (890, 440), (905, 505), (890, 530)], (222, 220, 214)),
        ([(140, 330), (185, 290), (230, 298), (240, 530), (150, 530)], (222, 220, 214)),
        ([(330, 480), (540, 340), (610, 352), (420, 505)], (232, 120, 60)),
    ):
        od.polygon(pts(poly), fill=col)
        md.polygon(pts(poly), fill=255)
    for i in range(5):
        x = 450 + i * 45
        od.line(
            pts([(x, 262 + i * 12), (x + 40, 300 + i * 10)]),
            fill=(236, 236, 232),
            width=int(9 * s * hi),
        )
        md.line(pts([(x, 262 + i * 12), (x + 40, 300 + i * 10)]), fill=255, width=int(9 * s * hi))
    ov = np.asarray(over.resize((w, h), Image.LANCZOS), np.float32)
    om = np.asarray(mask.resize((w, h), Image.LANCZOS), np.float32)[..., None] / 255 * up[..., None]
    shade = 0.62 + 0.45 * ndl[..., None]
    colour = colour * (1 - om) + ov * shade * om
    rubber = np.array([214, 204, 188], np.float32)  # a cream sole, a shade off the backdrop
    yy = np.arange(h, dtype=np.float32)[:, None, None]
    band = np.clip((yy - 515 * s) / (70 * s), 0, 1)
    sole_col = rubber * (0.98 - 0.28 * band)
    line = np.exp(-(((yy - 552 * s) / (1.6 * s)) ** 2)) * 0.18
    sole_col = sole_col * (1 - line)
    colour = colour * (1 - so[..., None]) + sole_col * so[..., None]
    _shadow(colour, 520 * s, 584 * s, 410 * s, 20 * s, 0.35)
    colour = (
        colour * (1 - alpha[..., None])
        + np.where(alpha[..., None] > 0, colour, 0) * alpha[..., None]
    )
    return _finish(colour, alpha)


def box(size: int = 1024) -> Shot:
    rng = np.random.default_rng(4)
    w, h = int(size * 0.85), size
    img = _backdrop(w, h, (236, 236, 236), rng)
    s = size / 1024
    front = np.float32([[200, 330], [560, 360], [560, 880], [200, 840]]) * s
    side = np.float32([[560, 360], [700, 310], [700, 800], [560, 880]]) * s
    top = np.float32([[200, 330], [350, 280], [700, 310], [560, 360]]) * s
    _shadow(img, 460 * s, 860 * s, 300 * s, 40 * s, 0.4)
    art = Image.new("RGB", (360, 520), (196, 72, 58))
    d = ImageDraw.Draw(art)
    d.rectangle([0, 360, 360, 520], fill=(244, 236, 220))
    font = ImageFont.truetype(FONT, 54)
    small = ImageFont.truetype(FONT, 20)
    d.text((40, 120), "TERRA", fill=(250, 244, 230), font=font)
    d.text((40, 190), "clay face mask", fill=(250, 230, 210), font=small)
    d.text((40, 420), "100 g  ·  natural", fill=(120, 60, 48), font=small)
    art_np = np.asarray(art, np.float32)
    alpha = np.zeros(img.shape[:2], np.float32)
    for quad, shade, tex in ((front, 0.97, art_np), (side, 0.7, None), (top, 1.08, None)):
        mask = np.zeros(img.shape[:2], np.float32)
        cv2.fillConvexPoly(mask, (quad * 4).astype(np.int32), 1.0, cv2.LINE_AA, shift=2)
        if tex is not None:
            src = np.float32([[0, 0], [359, 0], [359, 519], [0, 519]])
            m = cv2.getPerspectiveTransform(src, quad)
            face = cv2.warpPerspective(tex, m, (w, h), flags=cv2.INTER_LINEAR)
        else:
            face = np.broadcast_to(np.array([196, 72, 58], np.float32), img.shape).copy()
        yy = np.arange(h, dtype=np.float32)[:, None, None] / h
        face = face * shade * (1.04 - 0.1 * yy)
        img = img * (1 - mask[..., None]) + face * mask[..., None]
        alpha = np.maximum(alpha, mask)
    return _finish(img, alpha)


def jar(size: int = 1024) -> Shot:
    rng = np.random.default_rng(5)
    w, h = size, int(size * 0.85)
    img = _backdrop(w, h, (246, 246, 244), rng)
    alpha = np.zeros((h, w), np.float32)
    s = size / 1024
    cx, base_y = w / 2, h * 0.8
    _shadow(img, cx, base_y + 4 * s, 250 * s, 40 * s, 0.22)
    white = np.array([244, 243, 240], np.float32)

    def porcelain(angle: np.ndarray, height: np.ndarray, ndl: np.ndarray) -> np.ndarray:
        return white * (0.74 + 0.3 * ndl[..., None])

    body = [(0, 220), (10, 236), (200, 240), (214, 232)]
    _revolve(img, alpha, cx, base_y, [(a * s, b * s) for a, b in body], porcelain, gloss=0.15)
    lid = [(214, 244), (222, 250), (330, 250), (336, 244)]

    def lid_mat(angle: np.ndarray, height: np.ndarray, ndl: np.ndarray) -> np.ndarray:
        return np.array([236, 232, 226], np.float32) * (0.72 + 0.3 * ndl[..., None])

    _revolve(
        img,
        alpha,
        cx,
        base_y,
        [(a * s, b * s) for a, b in lid],
        lid_mat,
        gloss=0.2,
        lid=(246, 244, 240),
    )
    return _finish(img, alpha)


def busy(size: int = 1024) -> Shot:
    """The bottle photographed in a kitchen: a brick wall and a wooden counter behind it."""
    from skimage import data

    h, w = size, int(size * 0.75)
    brick = np.asarray(data.brick(), np.float32)
    brick = cv2.resize(brick, (w, h))[..., None] * np.array([1.0, 0.78, 0.62])
    counter = np.zeros((h, w, 3), np.float32)
    yy = np.arange(h)[:, None]
    stripes = 0.5 + 0.5 * np.sin(yy / 6.0 + np.sin(np.arange(w)[None, :] / 40.0))
    counter[:] = np.array([150, 104, 66]) * (0.8 + 0.2 * stripes[..., None])
    horizon = int(h * 0.62)
    backdrop = np.concatenate([brick[:horizon], counter[horizon:]], axis=0).astype(np.float32)
    plant = np.zeros((h, w), np.float32)
    rng = np.random.default_rng(7)
    for _ in range(30):
        cv2.ellipse(
            plant,
            (int(rng.uniform(0, w * 0.3)), int(rng.uniform(h * 0.2, h * 0.55))),
            (int(rng.uniform(20, 60)), int(rng.uniform(8, 18))),
            rng.uniform(0, 180),
            0,
            360,
            1.0,
            -1,
        )
    backdrop = backdrop * (1 - plant[..., None]) + np.array([60, 110, 50]) * plant[..., None]
    return bottle(size, backdrop)


def coffee() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.coffee())


def _finish(img: np.ndarray, alpha: np.ndarray) -> Shot:
    """The photo (its backdrop stays: background removal finds the product) and the product's
    true alpha, for measuring a cut-out."""
    img = cv2.GaussianBlur(img, (0, 0), 0.6)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), np.clip(alpha, 0, 1)


def shot_with_alpha(kind: str, size: int = 1024) -> Shot:
    """(photo, true alpha); the alpha is None for the real photograph (coffee)."""
    if kind == "coffee":
        return coffee(), None
    return {"bottle": bottle, "mug": mug, "shoe": shoe, "box": box, "jar": jar, "busy": busy}[kind](
        size
    )


def shot(kind: str, size: int = 1024) -> np.ndarray:
    return shot_with_alpha(kind, size)[0]

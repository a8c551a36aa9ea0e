"""Generated edit tasks with known truth (issue 12): display type on designs (erase-text), objects
to erase from textured or graded backdrops (erase), and crops to expand back to their picture
(outpaint). Everything is drawn here from numpy, OpenCV and the fonts shipped in `static/fonts`;
nothing is downloaded. Each task keeps the truth the operation should reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"
WORDS = ("SALE", "HELLO", "STAY WILD", "GOOD VIBES", "OPEN", "COFFEE", "SUMMER 24", "NEW", "LOVE")
SCENES = ("sky", "gradient", "paper", "fabric", "flat", "grass")


@dataclass
class TextTask:
    name: str
    image: np.ndarray  # RGB
    text: np.ndarray  # bool: the type's pixels


@dataclass
class EraseTask:
    name: str
    image: np.ndarray  # RGB with the object
    mask: np.ndarray  # bool: what to erase (the object, a little overpainted)
    truth: np.ndarray  # RGB: the backdrop without the object
    colour: tuple[int, int, int]  # the object's colour (must not bleed into the fill)


@dataclass
class ExpandTask:
    name: str
    image: np.ndarray  # the crop to expand
    margins: tuple[int, int, int, int]  # top, right, bottom, left
    truth: np.ndarray  # the picture the crop was cut from


def _font(size: int) -> ImageFont.FreeTypeFont:
    faces = sorted(FONTS.glob("*.ttf"))
    return ImageFont.truetype(str(faces[size % len(faces)]), size)


def scene(kind: str, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A backdrop people photograph or design on, as float32 RGB."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "sky":
        top, low = (
            rng.uniform([40, 90, 170], [90, 150, 230]),
            rng.uniform([170, 200, 230], [230, 235, 250]),
        )
        t = (yy / h)[..., None]
        img = top * (1 - t) + low * t
        clouds = cv2.GaussianBlur(
            rng.normal(0, 1, (h // 16 + 1, w // 16 + 1)).astype(np.float32), (0, 0), 1.2
        )
        clouds = cv2.resize(clouds, (w, h), interpolation=cv2.INTER_CUBIC)
        img += np.clip(clouds * 40, 0, None)[..., None] * (1 - t * 0.5)
    elif kind == "gradient":
        a, b = rng.uniform(30, 240, 3), rng.uniform(30, 240, 3)
        ang = rng.uniform(0, np.pi)
        t = (xx * np.cos(ang) + yy * np.sin(ang)) / (w * abs(np.cos(ang)) + h * abs(np.sin(ang)))
        t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
        img = a * (1 - t[..., None]) + b * t[..., None]
    elif kind == "paper":
        tone = rng.uniform(200, 245, 3)
        fibre = cv2.GaussianBlur(
            rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), sigmaX=5, sigmaY=0.8
        )
        img = tone + (fibre / (fibre.std() + 1e-6) * 7)[..., None]
    elif kind == "fabric":
        period = rng.uniform(6, 10)
        weave = np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period)
        tone = rng.uniform(60, 200, 3)
        img = tone + (weave * 16)[..., None]
    elif kind == "grass":
        base = np.array([60, 120, 50], np.float32) * rng.uniform(0.8, 1.2)
        blades = cv2.GaussianBlur(
            rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), sigmaX=0.7, sigmaY=3
        )
        img = base + (blades / (blades.std() + 1e-6) * 18)[..., None] * np.array([0.6, 1.0, 0.5])
    else:  # flat art: two colour fields and a diagonal band
        img = np.ones((h, w, 3), np.float32) * rng.uniform(40, 230, 3)
        band = (xx + yy * rng.uniform(0.3, 1.0)) % (w * 0.9) < w * 0.3
        img[band] = rng.uniform(40, 230, 3)
    return img.astype(np.float32)


def text_task(index: int, size: int = 640) -> TextTask:
    """A design with display type: big, bold, on colour, sometimes outlined or rotated."""
    rng = np.random.default_rng(700 + index)
    bg = scene(SCENES[index % len(SCENES)], size, size, rng)
    # A bold shape or two, as designs have (not text: must not be erased).
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    cx, cy, r = (
        size * rng.uniform(0.3, 0.7),
        size * rng.uniform(0.3, 0.7),
        size * rng.uniform(0.12, 0.25),
    )
    draw.ellipse(
        (cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v) for v in rng.integers(0, 255, 3))
    )
    word = WORDS[index % len(WORDS)]
    cap = int(size * rng.uniform(0.08, 0.22))  # display sizes: 50–140 px on a 640 design
    font = _font(cap)
    layer = Image.new("L", (size, size), 0)
    ld = ImageDraw.Draw(layer)
    tw = ld.textlength(word, font=font)
    while tw > size * 0.9 and cap > 20:
        cap = int(cap * 0.85)
        font = _font(cap)
        tw = ld.textlength(word, font=font)
    x, y = (
        rng.uniform(size * 0.05, max(size * 0.06, size - tw - size * 0.05)),
        rng.uniform(size * 0.05, size * 0.8 - cap),
    )
    stroke = int(cap * 0.06) if index % 3 == 0 else 0
    ld.text((x, y), word, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
    if index % 4 == 1:
        layer = layer.rotate(
            rng.uniform(-12, 12),
            resample=Image.Resampling.BICUBIC,
            center=(x + tw / 2, y + cap / 2),
        )
    mean = np.asarray(img, np.float32).reshape(-1, 3).mean(0)
    ink = (20, 20, 24) if mean.mean() > 128 else (250, 248, 240)
    if index % 5 == 2:
        ink = tuple(int(v) for v in 255 - mean)  # complementary colour type
    text_img = Image.new("RGB", (size, size), ink)
    if index % 6 == 3:  # a drop shadow under the type
        shadow = layer.filter(__import__("PIL.ImageFilter", fromlist=["x"]).GaussianBlur(3))
        img.paste((0, 0, 0), (4, 5), shadow.point(lambda v: v * 0.5))
    img.paste(text_img, (0, 0), layer)
    arr = np.asarray(img).copy()
    noise = rng.normal(0, 1.5, arr.shape)
    return TextTask(
        f"t{index:02d}-{SCENES[index % len(SCENES)]}-{word.replace(' ', '_')}",
        np.clip(arr + noise, 0, 255).astype(np.uint8),
        np.asarray(layer) > 96,
    )


def erase_task(index: int, size: int = 512) -> EraseTask:
    """A saturated object on a backdrop, painted over a little generously, as users do."""
    rng = np.random.default_rng(800 + index)
    kind = SCENES[index % len(SCENES)]
    truth = np.clip(scene(kind, size, size, rng), 0, 255).astype(np.uint8)
    colour = tuple(
        int(v) for v in rng.choice([[220, 30, 40], [30, 60, 220], [240, 200, 20], [150, 40, 180]])
    )
    obj = np.zeros((size, size), np.uint8)
    cx, cy = int(size * rng.uniform(0.35, 0.65)), int(size * rng.uniform(0.35, 0.65))
    r = int(size * rng.uniform(0.08, 0.16))
    if index % 2:
        cv2.circle(obj, (cx, cy), r, 255, -1, cv2.LINE_AA)
    else:
        cv2.rectangle(
            obj, (cx - r, cy - int(r * 0.6)), (cx + r, cy + int(r * 0.6)), 255, -1, cv2.LINE_AA
        )
    # Soft edges (a photo's object is antialiased and a little blurred): a tightly painted mask
    # leaves its colour fringe just outside, the classic source of smears.
    soft = cv2.GaussianBlur(obj.astype(np.float32), (0, 0), 1.5)
    a = soft[..., None] / 255
    image = truth * (1 - a) + np.array(colour, np.float32) * a
    tight = index % 2 == 0
    pad = 1 if tight else int(size * 0.015)
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pad + 1, 2 * pad + 1))
    mask = cv2.dilate((obj > 127).astype(np.uint8), grow) > 0
    if index % 3 == 0:
        # A second object right beside the painted area (it stays; it must not leak in either).
        other = np.zeros((size, size), np.uint8)
        ys, xs = np.nonzero(mask)
        x0 = int(xs.max()) + 1
        x1 = min(size - 1, x0 + int(size * 0.12))
        cv2.rectangle(other, (x0, int(ys.min())), (x1, int(ys.max())), 255, -1)
        oc = np.array([20, 150, 60], np.float32)
        ao = cv2.GaussianBlur(other.astype(np.float32), (0, 0), 1.0)[..., None] / 255
        image = image * (1 - ao) + oc * ao
        truth = np.clip(truth * (1 - ao) + oc * ao, 0, 255).astype(np.uint8)
    image = np.clip(image, 0, 255).astype(np.uint8)
    name = f"e{index:02d}-{kind}{'-tight' if tight else ''}"
    return EraseTask(name, image, mask, truth, colour)


def expand_task(index: int, size: int = 512) -> ExpandTask:
    """A crop of a picture; expanding it back should continue the picture, not mirror it."""
    rng = np.random.default_rng(900 + index)
    kind = SCENES[index % len(SCENES)]
    full = scene(kind, size, size, rng)
    if kind in ("sky", "grass", "paper"):
        # A horizon: ground under sky (or a table edge under paper).
        horizon = int(size * rng.uniform(0.55, 0.75))
        ground = scene("grass" if kind != "grass" else "paper", size, size, rng)
        full[horizon:] = ground[horizon:]
    truth = np.clip(full, 0, 255).astype(np.uint8)
    side = rng.integers(0, 3)
    if side == 0:  # widen to 16:9-ish
        left = right = int(size * 0.2)
        margins = (0, right, 0, left)
    elif side == 1:  # taller
        top = bottom = int(size * 0.2)
        margins = (top, 0, bottom, 0)
    else:
        margins = (int(size * 0.15), int(size * 0.15), int(size * 0.15), int(size * 0.15))
    t, r, b, lft = margins
    return ExpandTask(
        f"x{index:02d}-{kind}", truth[t : size - b, lft : size - r].copy(), margins, truth
    )


def lowpass_mae(a: np.ndarray, b: np.ndarray, mask: np.ndarray, sigma: float = 4.0) -> float:
    """Mean absolute error of the blurred images over `mask`: the structure (gradients, bands,
    horizons) without penalising texture that is plausible but not pixel-identical."""
    fa = cv2.GaussianBlur(a.astype(np.float32), (0, 0), sigma)
    fb = cv2.GaussianBlur(b.astype(np.float32), (0, 0), sigma)
    return float(np.abs(fa - fb)[mask].mean())


def texture_ratio(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Detail energy of the fill over the truth's, in the masked area: ~1 is right, ≪ 1 a smear."""

    def energy(x: np.ndarray) -> float:
        g = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).astype(np.float32)
        hp = g - cv2.GaussianBlur(g, (0, 0), 2.0)
        return float(np.abs(hp)[mask].mean())

    return energy(a) / max(energy(b), 1e-3)


def bleed_share(
    fill: np.ndarray, truth: np.ndarray, colour: tuple[int, int, int], mask: np.ndarray
) -> float:
    """Share of the filled pixels that took the erased object's colour (nearer to it than to the
    backdrop that belongs there)."""
    f = fill[mask].astype(np.float32)
    t = truth[mask].astype(np.float32)
    to_obj = np.linalg.norm(f - np.array(colour, np.float32), axis=1)
    to_truth = np.linalg.norm(f - t, axis=1)
    return float(((to_obj < to_truth) & (to_obj < 90)).mean())


def smear_share(fill: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    """Share of the filled pixels whose blurred colour is visibly off the truth's (more than 24
    levels in a channel): smears, ghosts of the erased object, a neighbour's colour leaking in."""
    fa = cv2.GaussianBlur(fill.astype(np.float32), (0, 0), 2.0)
    fb = cv2.GaussianBlur(truth.astype(np.float32), (0, 0), 2.0)
    return float((np.abs(fa - fb).max(axis=2) > 24)[mask].mean())


def blockiness(fill: np.ndarray, mask: np.ndarray, run: int = 24) -> float:
    """Hard straight seams in a fill (the edges of copied square tiles), measured on the fill.

    Between every two neighbouring rows of the area (and columns) the step is averaged along
    the row over `run` pixels, as it is (a seam between a lighter and a darker tile) and as its
    magnitude (a seam between two unrelated patches of grain). Texture and noise average out
    over the run; a straight seam does not, and stands above the median of the rows around it.
    Each kind gives the 99th percentile of that excess over the area's mean absolute step (so
    grain and contrast do not count); the score is their mean. The hole's outline counts (a fill
    that does not meet its surroundings is a seam too): the area is the mask grown by 3 px. A
    real straight edge in the picture (a horizon) scores as well, so compare with the truth
    (`blockiness(truth, mask)`): a seamless fill scores about what the truth does."""
    g = cv2.cvtColor(fill, cv2.COLOR_RGB2GRAY).astype(np.float32)
    area = cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    scores = []
    for signed in (False, True):
        # A signed step is measured on a lightly blurred copy: grain is not a brightness step.
        src = cv2.GaussianBlur(g, (0, 0), 1.0) if signed else g
        seams, level = [], []
        for img, inside in ((src, area), (src.T.copy(), area.T.copy())):
            step = np.diff(img, axis=0)  # row y+1 minus row y
            along_step = step if signed else np.abs(step)
            ok = (inside[:-1] & inside[1:]).astype(np.float32)
            along = np.abs(cv2.blur(along_step * ok, (run, 1), borderType=cv2.BORDER_CONSTANT))
            full = cv2.blur(ok, (run, 1), borderType=cv2.BORDER_CONSTANT) > 0.999
            excess = np.clip(along - cv2.medianBlur(along, 5), 0, None)[full]
            seams.append(excess)
            level.append(np.abs(step)[ok > 0])
        seam, lev = np.concatenate(seams), np.concatenate(level)
        if seam.size:
            scores.append(float(np.percentile(seam, 99)) / max(float(lev.mean()), 0.5))
    return float(np.mean(scores)) if scores else 0.0

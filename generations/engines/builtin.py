"""`builtin:procedural`: a deterministic procedural renderer. It is not a neural model.

It turns a prompt into design art with classical drawing: a palette from colour words, a
background and motifs chosen by the seed, and any quoted text set as real typography. The same
prompt, size and seed always give the same pixels.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import re
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from generations.engines.base import (
    Capability,
    Engine,
    EngineImage,
    GenerationRequest,
    ProgressFn,
)
from generations.engines.registry import register_engine

COLOUR_WORDS: dict[str, tuple[int, int, int]] = {
    "red": (214, 48, 49),
    "crimson": (178, 34, 52),
    "orange": (243, 130, 35),
    "amber": (255, 176, 0),
    "yellow": (250, 211, 60),
    "gold": (212, 175, 55),
    "lime": (166, 206, 57),
    "green": (46, 160, 90),
    "olive": (128, 128, 60),
    "mint": (152, 230, 190),
    "teal": (0, 128, 128),
    "cyan": (40, 200, 220),
    "turquoise": (64, 224, 208),
    "blue": (40, 90, 200),
    "navy": (20, 33, 80),
    "indigo": (75, 0, 130),
    "purple": (128, 60, 170),
    "violet": (143, 94, 206),
    "lavender": (190, 170, 230),
    "pink": (240, 120, 170),
    "magenta": (210, 40, 160),
    "brown": (120, 78, 45),
    "beige": (232, 216, 186),
    "cream": (250, 242, 220),
    "white": (248, 248, 245),
    "black": (18, 18, 22),
    "grey": (128, 128, 132),
    "gray": (128, 128, 132),
    "silver": (190, 192, 198),
    "coral": (255, 120, 100),
    "peach": (255, 200, 160),
    "rose": (230, 90, 120),
    "sky": (130, 190, 240),
    "forest": (34, 90, 50),
    "sand": (220, 196, 150),
    "charcoal": (54, 57, 63),
}
MOOD_PALETTES: dict[str, list[tuple[int, int, int]]] = {
    "sunset": [(255, 94, 77), (255, 168, 76), (120, 60, 140), (40, 30, 70)],
    "ocean": [(10, 60, 110), (30, 130, 170), (120, 200, 220), (240, 250, 250)],
    "forest": [(30, 60, 40), (60, 110, 60), (150, 180, 100), (235, 230, 200)],
    "pastel": [(255, 209, 220), (200, 230, 255), (210, 245, 210), (255, 245, 200)],
    "neon": [(255, 0, 128), (0, 255, 200), (120, 0, 255), (15, 10, 30)],
    "vintage": [(220, 190, 140), (170, 90, 60), (70, 90, 80), (245, 235, 210)],
    "minimal": [(245, 245, 242), (30, 30, 30), (200, 200, 200), (120, 120, 120)],
    "autumn": [(200, 90, 30), (230, 160, 50), (120, 50, 30), (250, 230, 200)],
    "winter": [(220, 235, 250), (150, 180, 220), (60, 80, 120), (255, 255, 255)],
}
MOTIFS = ("circles", "mountains", "waves", "stripes", "stars", "grid", "rays", "blobs")
MOTIF_WORDS: dict[str, str] = {
    "circle": "circles",
    "dot": "circles",
    "bubble": "circles",
    "mountain": "mountains",
    "peak": "mountains",
    "hill": "mountains",
    "wave": "waves",
    "ocean": "waves",
    "sea": "waves",
    "water": "waves",
    "stripe": "stripes",
    "line": "stripes",
    "star": "stars",
    "night": "stars",
    "space": "stars",
    "grid": "grid",
    "geometric": "grid",
    "sun": "rays",
    "ray": "rays",
    "burst": "rays",
    "blob": "blobs",
    "organic": "blobs",
    "abstract": "blobs",
    "flower": "blobs",
}
FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts"
SYSTEM_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def palette_for(prompt: str, negative: str, rng: random.Random) -> list[tuple[int, int, int]]:
    avoid = {_stem(w) for w in _words(negative)}
    colours = [COLOUR_WORDS[w] for w in _words(prompt) if w in COLOUR_WORDS and w not in avoid]
    for word in _words(prompt):
        if word in MOOD_PALETTES and word not in avoid:
            colours.extend(MOOD_PALETTES[word])
    if not colours:
        names = [n for n in MOOD_PALETTES if n not in avoid]
        colours = list(MOOD_PALETTES[rng.choice(names or list(MOOD_PALETTES))])
    avoided = [COLOUR_WORDS[w] for w in avoid if w in COLOUR_WORDS]
    colours = [c for c in colours if all(_distance(c, a) > 60 for a in avoided)] or [
        (128, 128, 128)
    ]
    while len(colours) < 4:
        base = colours[len(colours) % len(colours)]
        shade = 0.55 if len(colours) % 2 else 1.35
        colours.append(tuple(min(255, int(v * shade)) for v in base))  # type: ignore[arg-type]
    return colours


def _distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return math.dist(a, b)


def motifs_for(prompt: str, negative: str, rng: random.Random) -> list[str]:
    avoid = {MOTIF_WORDS.get(_stem(w), _stem(w)) for w in _words(negative)}
    chosen = []
    for word in _words(prompt):
        motif = MOTIF_WORDS.get(_stem(word))
        if motif and motif not in avoid and motif not in chosen:
            chosen.append(motif)
    allowed = [m for m in MOTIFS if m not in avoid]
    if not chosen and allowed:
        chosen = rng.sample(allowed, k=min(2, len(allowed)))
    return chosen


def quoted_text(prompt: str) -> str:
    match = re.search(r"[\"“']([^\"”']{1,80})[\"”']", prompt)
    return match.group(1).strip() if match else ""


def _font(size: int, serif: bool) -> ImageFont.FreeTypeFont:
    name = "DejaVuSerif-Bold.ttf" if serif else "DejaVuSans-Bold.ttf"
    for folder in (FONT_DIR, SYSTEM_FONT_DIR):
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size)


SOFTEN = ImageFilter.Kernel((3, 3), (1, 4, 1, 4, 16, 4, 1, 4, 1))


def render(prompt: str, width: int, height: int, seed: int, negative: str = "") -> Image.Image:
    rng = random.Random(seed)
    colours = palette_for(prompt, negative, rng)
    rng.shuffle(colours)
    motifs = motifs_for(prompt, negative, rng)
    # Work at a bounded size then resize: keeps 4k renders fast and motifs proportional.
    scale = min(1.0, 1024 / max(width, height))
    w, h = max(16, int(width * scale)), max(16, int(height * scale))
    img = _gradient(w, h, colours[0], colours[1], rng.uniform(0, math.pi))
    draw = ImageDraw.Draw(img, "RGBA")
    for motif in motifs:
        _MOTIF_PAINTERS[motif](draw, w, h, colours, rng)
    # A 3×3 Gaussian (σ≈0.6) softens the polygon edges; as a fixed kernel it costs a third of
    # GaussianBlur(0.6) at 1024² (bench/bench_jobs.py).
    img = img.filter(SOFTEN)
    text = quoted_text(prompt)
    if text:
        _set_text(img, text, colours, rng)
    if (w, h) != (width, height):
        img = img.resize((width, height), Image.Resampling.LANCZOS)
    return img


def _gradient(w: int, h: int, a: tuple, b: tuple, angle: float) -> Image.Image:
    import numpy as np

    # Position along the gradient axis, quantised to 256 steps, then one lookup table per
    # channel: the same picture as blending in float per pixel, at a fraction of the cost.
    xs = np.linspace(0.0, 1.0, w, dtype=np.float32) * np.float32(math.cos(angle))
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32) * np.float32(math.sin(angle))
    lo = float(xs.min() + ys.min())
    span = max(float(xs.max() + ys.max()) - lo, 1e-6)
    t = ((ys[:, None] + xs[None, :] - np.float32(lo)) * np.float32(255 / span)).round()
    ramp = Image.fromarray(t.clip(0, 255).astype(np.uint8), "L")
    return Image.merge(
        "RGB",
        [ramp.point([round(a[c] + (b[c] - a[c]) * i / 255) for i in range(256)]) for c in range(3)],
    )


def _rgba(c: tuple, alpha: int) -> tuple[int, int, int, int]:
    return (c[0], c[1], c[2], alpha)


def _circles(draw, w, h, colours, rng):  # type: ignore[no-untyped-def]
    for _ in range(rng.randint(5, 12)):
        r = rng.uniform(0.05, 0.25) * min(w, h)
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=_rgba(rng.choice(colours[1:]), rng.randint(90, 200))
        )


def _mountains(draw, w, h, colours, rng):  # type: ignore[no-untyped-def]
    for layer in range(3):
        base = h * (0.55 + 0.15 * layer)
        points = [(0, h)]
        x = 0.0
        while x < w:
            points.append((x, base - rng.uniform(0.05, 0.3) * h / (layer + 1)))
            x += rng.uniform(0.1, 0.25) * w
        points += [(w, base), (w, h)]
        draw.polygon(points, fill=_rgba(colours[(layer + 2) % len(colours)], 230))


def _waves(draw, w, h, colours, rng):  # type: ignore[no-untyped-def]
    for i in range(6):
        y0 = h * (0.4 + i * 0.1)
        amp, freq, phase = h * rng.uniform(0.02, 0.05), rng.uniform(1.5, 4), rng.uniform(0, 6.3)
        pts = [
            (x, y0 + amp * math.sin(phase + freq * 2 * math.pi * x / w)) for x in range(0, w + 8, 8)
        ]
        draw.polygon([*pts, (w, h), (0, h)], fill=_rgba(colours[(i % 3) + 1], 110))


def _stripes(draw, w, h, colours, rng):  # type: ignore[no-untyped-def]
    n = rng.randint(5, 12)
    for i in range(n):
        if i % 2:
            continue
        x0 = w * i / n
        draw.polygon(
            [(x0, 0), (x0 + w / n, 0), (x0 + w / n - w * 0.3, h), (x0 - w * 0.3, h)],
            fill=_rgba(colours[2 + i % 2], 120),
        )


def _stars(draw, w, h, colours, rng):  # type: ignore[no-untyped-def]
    for _ in range(rng.randint(40, 120)):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.5, 2.5) * max(w, h) / 512
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_rgba(colours[-1], 230))


def _grid(draw, w, h, colours, rng):  # type: ignore[no-untyped-def]
    step = int(min(w, h) / rng.randint(6, 12))
    for x in range(0, w, step):
        for y in range(0, h, step):
            if rng.random() < 0.35:
                draw.rectangle(
                    (x + 3, y + 3, x + step - 3, y + step - 3),
                    fill=_rgba(rng.choice(colours[1:]), 150),
                )


def _rays(draw, w, h, colours, rng):  # type: ignore[no-untyped-def]
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.2, 0.5) * h
    n = rng.randint(12, 24)
    for i in range(0, n, 2):
        a0, a1 = 2 * math.pi * i / n, 2 * math.pi * (i + 1) / n
        far = 2 * max(w, h)
        draw.polygon(
            [
                (cx, cy),
                (cx + far * math.cos(a0), cy + far * math.sin(a0)),
                (cx + far * math.cos(a1), cy + far * math.sin(a1)),
            ],
            fill=_rgba(colours[2], 70),
        )
    r = min(w, h) * 0.12
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_rgba(colours[3], 255))


def _blobs(draw, w, h, colours, rng):  # type: ignore[no-untyped-def]
    for _ in range(rng.randint(3, 6)):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.1, 0.3) * min(w, h)
        k = rng.randint(5, 9)
        pts = []
        for i in range(k * 4):
            a = 2 * math.pi * i / (k * 4)
            rr = r * (1 + 0.25 * math.sin(a * k / 2 + rng.uniform(0, 0.5)))
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        draw.polygon(pts, fill=_rgba(rng.choice(colours[1:]), 170))


_MOTIF_PAINTERS = {
    "circles": _circles,
    "mountains": _mountains,
    "waves": _waves,
    "stripes": _stripes,
    "stars": _stars,
    "grid": _grid,
    "rays": _rays,
    "blobs": _blobs,
}


def _set_text(img: Image.Image, text: str, colours: list, rng: random.Random) -> None:
    w, h = img.size
    draw = ImageDraw.Draw(img, "RGBA")
    serif = rng.random() < 0.5
    size = int(h * 0.16)
    font = _font(size, serif)
    while size > 8 and draw.textlength(text, font=font) > w * 0.86:
        size = int(size * 0.9)
        font = _font(size, serif)
    box = draw.textbbox((0, 0), text, font=font)
    tw, th = box[2] - box[0], box[3] - box[1]
    x, y = (w - tw) / 2 - box[0], h * rng.uniform(0.38, 0.5) - th / 2 - box[1]
    bg_lum = sum(img.getpixel((w // 2, h // 2))[:3]) / 3
    fg = (20, 20, 24) if bg_lum > 140 else (250, 250, 246)
    pad = size * 0.35
    draw.rounded_rectangle(
        (x + box[0] - pad, y + box[1] - pad, x + box[2] + pad, y + box[3] + pad),
        radius=pad,
        fill=(*((250, 250, 246) if fg[0] < 100 else (20, 20, 24)), 140),
    )
    draw.text((x, y), text, font=font, fill=fg)


def seed_for(prompt: str, seed: int | None, index: int) -> int:
    if seed is None:
        seed = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big")
    return (seed + index) % (2**31)


@register_engine
class ProceduralEngine(Engine):
    name = "builtin"
    capabilities = frozenset({Capability.TEXT_TO_IMAGE})

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        out = []
        for i in range(request.count):
            progress(int(100 * i / request.count), f"rendering image {i + 1} of {request.count}")
            seed = seed_for(request.prompt, request.seed, i)
            img = render(
                request.prompt, request.width, request.height, seed, request.negative_prompt
            )
            buf = io.BytesIO()
            img.save(buf, "PNG", optimize=False, compress_level=1)
            out.append(EngineImage(buf.getvalue(), "image/png", img.width, img.height, seed=seed))
        progress(100, "rendered")
        return out

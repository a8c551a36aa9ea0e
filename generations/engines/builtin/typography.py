"""Real type: the bundled faces, fitting text to a box, legible colours, text on an arc, ribbons."""

from __future__ import annotations

import math
import random
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from generations.engines.builtin.palettes import Palette, _luminance, _mix, _near, contrast
from generations.engines.builtin.vocabulary import RGB

FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts"


SYSTEM_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


FONTS = {
    "sans": "DejaVuSans-Bold.ttf",
    "serif": "DejaVuSerif-Bold.ttf",
    "condensed": "DejaVuSansCondensed-Bold.ttf",
    "light": "DejaVuSans-ExtraLight.ttf",
}


# Loaded font objects cannot be pickled into a shared cache; a local memo of files that never change.
@lru_cache(maxsize=64)
def _font(kind: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = FONTS.get(kind, FONTS["sans"])
    for folder in (FONT_DIR, SYSTEM_FONT_DIR):
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), max(4, size))
    return ImageFont.load_default(max(4, size))


def _balance(words: list[str], n: int) -> list[str]:
    """Split words into n lines of similar length (greedy on characters)."""
    total = sum(len(w) for w in words) + len(words) - 1
    lines: list[str] = []
    cur: list[str] = []
    for i, w in enumerate(words):
        cur.append(w)
        remaining_lines = n - len(lines) - 1
        if (
            remaining_lines > 0
            and len(" ".join(cur)) >= total / n * 0.92
            and len(words) - i - 1 >= remaining_lines
        ):
            lines.append(" ".join(cur))
            cur = []
    if cur:
        lines.append(" ".join(cur))
    return lines


def fit_text(
    text: str, kind: str, box_w: float, box_h: float, max_lines: int = 3
) -> tuple[int, list[str]]:
    """The largest font size (and line breaks) that sets `text` inside box_w × box_h."""
    words = text.split() or [text]
    probe = _font(kind, 100)
    best = (0, [text])
    for n in range(1, min(max_lines, len(words)) + 1):
        lines = _balance(words, n)
        widest = max(probe.getlength(line) for line in lines) or 1
        size = int(min(box_w * 100 / widest, box_h / (len(lines) * 1.12)))
        if size > best[0]:
            best = (size, lines)
    return max(4, best[0]), best[1]


def _text_colours(region_colour: RGB, pal: Palette, prefer: list[RGB]) -> tuple[RGB, RGB | None]:
    """A fill with real contrast against the region, and a stroke colour if it needs help."""
    for c in prefer:
        if contrast(c, region_colour) >= 4.5:
            return c, None
    candidates = [
        c
        for c in (pal.dark, pal.light, (20, 20, 24), (250, 250, 246))
        if not any(_near(c, a) for a in pal.avoid)
    ] or [pal.dark, pal.light]
    fill = max(candidates, key=lambda c: contrast(c, region_colour))
    return fill, None if contrast(fill, region_colour) >= 4.5 else (
        pal.dark if _luminance(fill) > 0.5 else pal.light
    )


def _mean_colour(img: Image.Image, box: tuple[float, float, float, float]) -> RGB:
    x0, y0, x1, y1 = (int(v) for v in box)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(img.width, max(x1, x0 + 1)), min(img.height, max(y1, y0 + 1))
    small = img.crop((x0, y0, x1, y1)).convert("RGB").resize((1, 1), Image.Resampling.BOX)
    return small.getpixel((0, 0))  # type: ignore[return-value]


def set_text(
    img: Image.Image,
    text: str,
    box: tuple[float, float, float, float],
    kind: str,
    pal: Palette,
    prefer: list[RGB],
    *,
    max_lines: int = 3,
    stroke: float = 0.0,
    shadow: RGB | None = None,
    max_size: float | None = None,
) -> None:
    x0, y0, x1, y1 = box
    size, lines = fit_text(text, kind, x1 - x0, y1 - y0, max_lines)
    if max_size:
        size = min(size, int(max_size))
    font = _font(kind, size)
    fill, auto_stroke = _text_colours(_mean_colour(img, box), pal, prefer)
    sw = round(size * stroke) if stroke else (max(1, round(size * 0.06)) if auto_stroke else 0)
    stroke_fill = auto_stroke or (pal.dark if _luminance(fill) > 0.5 else pal.light)
    draw = ImageDraw.Draw(img)
    lh = size * 1.12
    cy = (y0 + y1) / 2 - lh * (len(lines) - 1) / 2
    cx = (x0 + x1) / 2
    for i, line in enumerate(lines):
        y = cy + i * lh
        if shadow:
            off = max(1, size * 0.06)
            draw.text(
                (cx + off, y + off),
                line,
                font=font,
                fill=shadow,
                anchor="mm",
                stroke_width=sw,
                stroke_fill=shadow,
            )
        draw.text(
            (cx, y),
            line,
            font=font,
            fill=fill,
            anchor="mm",
            stroke_width=sw,
            stroke_fill=stroke_fill,
        )


def arc_text(
    img: Image.Image,
    text: str,
    cx: float,
    cy: float,
    radius: float,
    size: int,
    kind: str,
    fill: RGB,
    *,
    bottom: bool = False,
) -> None:
    """Set text along a circle (top arc reads left to right; bottom arc too, upright)."""
    font = _font(kind, size)
    widths = [font.getlength(ch) * 1.08 for ch in text]
    total = sum(widths) / radius
    angle = (-math.pi / 2 - total / 2) if not bottom else (math.pi / 2 + total / 2)
    tile = int(size * 1.35)
    for ch, w in zip(text, widths, strict=True):
        da = w / radius
        mid = angle + (da / 2 if not bottom else -da / 2)
        if ch.strip():
            glyph = Image.new("L", (tile, tile), 0)
            ImageDraw.Draw(glyph).text((tile / 2, tile / 2), ch, font=font, fill=255, anchor="mm")
            rot = (
                -math.degrees(mid + math.pi / 2) if not bottom else -math.degrees(mid - math.pi / 2)
            )
            glyph = glyph.rotate(rot, resample=Image.Resampling.BILINEAR)
            gx, gy = cx + radius * math.cos(mid), cy + radius * math.sin(mid)
            img.paste(
                fill,
                (round(gx - tile / 2), round(gy - tile / 2)),
                glyph,
            )
        angle += da if not bottom else -da


def _case(text: str, kind: str, rng: random.Random) -> str:
    return text.upper() if kind in ("condensed", "serif") and len(text) <= 40 else text


def _ribbon(
    img: Image.Image, text: str, cx: float, cy: float, bw: float, bh: float, pal: Palette, kind: str
) -> None:
    draw = ImageDraw.Draw(img)
    x0, x1, y0, y1 = cx - bw / 2, cx + bw / 2, cy - bh / 2, cy + bh / 2
    tail = bh * 0.7
    for side in (-1, 1):
        ex = x0 if side < 0 else x1
        draw.polygon(
            [
                (ex, y0 + bh * 0.2),
                (ex + side * tail, y0 + bh * 0.2),
                (ex + side * tail * 0.6, (y0 + y1) / 2 + bh * 0.2),
                (ex + side * tail, y1 + bh * 0.2),
                (ex, y1 + bh * 0.2),
            ],
            fill=_mix(pal.primary, pal.dark, 0.35),
        )
    draw.rectangle((x0, y0, x1, y1), fill=pal.primary)
    set_text(
        img,
        text,
        (x0 + bh * 0.3, y0 + bh * 0.12, x1 - bh * 0.3, y1 - bh * 0.12),
        kind,
        pal,
        [pal.light, pal.dark],
        max_lines=1,
    )

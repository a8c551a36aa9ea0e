"""Canvas helpers the compositions share: backdrops, gradients, subject layers, die-cuts, halftone,
glow, and where subjects and text go."""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFilter

from generations.engines.builtin import icons
from generations.engines.builtin.design import Design
from generations.engines.builtin.palettes import (
    _allowed,
    _is_neutral,
    _luminance,
    _mix,
    _roles,
    contrast,
)
from generations.engines.builtin.vocabulary import GROUNDED, RGB
from generations.engines.procedural_shapes import (
    GROUND_SUBJECTS,
    MAIN_ROLE,
    SKY_SUBJECTS,
    SUBJECTS,
    Pen,
)
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    np = lazy_module("numpy")


def _upscale(arr: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2  # OpenCV's SIMD bilinear upscale is several times faster than Pillow's here

    return cv2.resize(arr, (w, h), interpolation=cv2.INTER_LINEAR)


def _vertical_gradient(w: int, h: int, top: RGB, bottom: RGB) -> Image.Image:
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    col = (
        (np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t)
        .round()
        .astype(np.uint8)
    )
    # A one-pixel-wide column stretched sideways: Pillow's nearest resize is a plain row copy.
    column = Image.fromarray(np.ascontiguousarray(col[:, None, :]), "RGB")
    return column.resize((w, h), Image.Resampling.NEAREST)


def _radial(
    w: int, h: int, inner: RGB, outer: RGB, cx: float = 0.5, cy: float = 0.45
) -> Image.Image:
    sw, sh = (128, max(2, round(128 * h / w))) if w >= h else (max(2, round(128 * w / h)), 128)
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    d = np.sqrt(
        ((xs / max(sw - 1, 1)) - cx) ** 2 * (w / max(w, h)) ** 2
        + ((ys / max(sh - 1, 1)) - cy) ** 2 * (h / max(w, h)) ** 2
    )
    t = np.clip(d / 0.75, 0, 1)[..., None]
    arr = np.array(inner, np.float32) * (1 - t) + np.array(outer, np.float32) * t
    return Image.fromarray(_upscale(arr.astype(np.uint8), w, h), "RGB")


def _backdrop(
    w: int, h: int, colour: RGB, d: Design, rng: random.Random, *, strength: float = 1.0
) -> Image.Image:
    flat = d.line and "neon" not in d.styles
    if "gradient" in d.avoid_styles or "minimal" in d.styles or flat or "flat" in d.styles:
        return Image.new("RGB", (w, h), colour)
    kind = rng.choice(("vertical", "radial", "flat"))
    if "gradient" in d.styles or "neon" in d.styles:
        kind = "radial" if "neon" in d.styles else "vertical"
    other = _mix(
        colour,
        d.palette.secondary if _luminance(colour) > 0.3 else d.palette.primary,
        0.22 * strength,
    )
    if kind == "vertical":
        return _vertical_gradient(
            w, h, _mix(colour, (255, 255, 255), 0.15 if _luminance(colour) > 0.3 else 0.0), other
        )
    if kind == "radial":
        return _radial(
            w, h, _mix(colour, (255, 255, 255), 0.25) if _luminance(colour) > 0.3 else other, colour
        )
    return Image.new("RGB", (w, h), colour)


def _draw_subjects(
    img: Image.Image,
    subjects: list[tuple[str, float, float, float, float]],
    d: Design,
    rng: random.Random,
    *,
    stroke: float = 0.0,
    offset: tuple[float, float] = (0.0, 0.0),
) -> None:
    roles = _roles(d.palette, d.named)
    if subjects and not d.line and img.mode == "RGB":
        # Details drawn in the dark role (trunks, pupils) must not vanish into a dark backdrop.
        _, cx, cy, r, _ = subjects[-1]
        x = int(min(max(cx - r - offset[0], 0), img.width - 1))
        y = int(min(max(cy - r - offset[1], 0), img.height - 1))
        under = img.getpixel((x, y))[:3]  # type: ignore[index]
        if contrast(roles["d"], under) < 1.6:
            roles["d"] = _mix(d.palette.light, d.palette.dark, 0.45)
            roles["ds"] = roles["d"]
    if "neon" in d.styles:
        stroke = stroke * 1.5 if stroke else 0.0
    for name, cx, cy, r, rot in subjects:
        if name.startswith(icons.PREFIX):
            icons.draw_icon(
                img,
                name[len(icons.PREFIX) :],
                cx - offset[0],
                cy - offset[1],
                r,
                rotate=rot,
                recolour=icon_recolour(name, d),
                line=d.line,
                ink=roles["ink"],
                paper=roles["paper"],
                stroke=max(1, round(stroke or r * 0.035)),
            )
            continue
        own = d.colours.get(name)
        sub_roles = roles
        if own is not None and not d.line:
            # "a golden moon": the subject's main colour is the one named for it.
            main = MAIN_ROLE.get(name, "p")
            own = _allowed(own, list(d.palette.avoid))
            sub_roles = {**roles, main: own, main + "s": _mix(own, d.palette.dark, 0.28)}
        pen = Pen(
            img,
            cx - offset[0],
            cy - offset[1],
            r,
            sub_roles,
            line=d.line,
            stroke=stroke,
            rotate=rot,
        )
        SUBJECTS[name](pen, rng)


def icon_recolour(name: str, d: Design) -> icons.Recolour:
    """The colours an icon subject is drawn in: its own named colour (or, for the hero when the
    prompt's colours went to no subject, the palette's lead), the style words, and never a colour
    the negative prompt keeps out."""
    icon = name[len(icons.PREFIX) :]
    pal = d.palette
    target = d.colours.get(name)
    if target is None and d.named and not d.colours and d.subjects and name == d.subjects[0]:
        target = pal.primary
    base: icons.Recolour = icons.recolour_to(icon, target) if target is not None else (lambda c: c)
    styles = set(d.styles)
    if all(_is_neutral(c) for c in (pal.primary, pal.secondary, pal.accent)) and d.named:
        styles.add("monochrome")  # "black and white": the drawing in the palette's greys
    recolour = icons.styled(base, styles, pal.light, pal.dark)
    avoid = list(pal.avoid)
    if not avoid:
        return recolour
    return lambda c: _allowed(recolour(c), avoid)


def in_sky(name: str) -> bool:
    """Whether a subject belongs in the sky of a scene (sun, moon, birds, balloons, planes)."""
    if name.startswith(icons.PREFIX):
        return icons.is_sky(name[len(icons.PREFIX) :])
    return name in SKY_SUBJECTS


def on_ground(name: str) -> bool:
    if name.startswith(icons.PREFIX):
        return not in_sky(name)
    return name in GROUND_SUBJECTS


def main_colour(name: str, d: Design, roles: dict[str, RGB]) -> RGB:
    """The colour that covers most of a subject as drawn (compositions keep backdrops off it)."""
    if name.startswith(icons.PREFIX):
        return icon_recolour(name, d)(icons.dominant(name[len(icons.PREFIX) :]))
    return d.colours.get(name) or roles[MAIN_ROLE.get(name, "p")]


def _subject_layer(
    canvas: tuple[int, int],
    subjects: list[tuple[str, float, float, float, float]],
    d: Design,
    rng: random.Random,
    *,
    stroke: float = 0.0,
    pad: float = 0.0,
    clear: RGB = (255, 255, 255),
) -> tuple[Image.Image, tuple[int, int]]:
    """The subjects on a transparent layer cropped to their bounds (cheap masks and composites)."""
    x0 = max(0, int(min(cx - r * 1.1 for _, cx, _, r, _ in subjects) - pad))
    y0 = max(0, int(min(cy - r * 1.1 for _, _, cy, r, _ in subjects) - pad))
    x1 = min(canvas[0], int(max(cx + r * 1.1 for _, cx, _, r, _ in subjects) + pad) + 1)
    y1 = min(canvas[1], int(max(cy + r * 1.1 for _, _, cy, r, _ in subjects) + pad) + 1)
    # Transparent white, so a downsampled edge fades toward the sticker border, not toward black.
    layer = Image.new("RGBA", (max(1, x1 - x0), max(1, y1 - y0)), (*clear, 0))
    _draw_subjects(layer, subjects, d, rng, stroke=stroke, offset=(x0, y0))
    return layer, (x0, y0)


def _halftone(
    img: Image.Image,
    colour: RGB,
    step: int,
    rng: random.Random,
    box: tuple[int, int, int, int] | None = None,
) -> None:
    draw = ImageDraw.Draw(img)
    w, h = img.size
    x0, y0, x1, y1 = box or (0, 0, w, h)
    for yi, y in enumerate(range(y0, y1 + step, step)):
        t = (y - y0) / max(1, y1 - y0)
        r = step * 0.42 * t
        if r < 0.6:
            continue
        off = step / 2 if yi % 2 else 0
        for x in range(int(x0 - off), x1 + step, step):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)


def _die_cut(
    img: Image.Image,
    layer: Image.Image,
    layer_alpha: Image.Image,
    origin: tuple[int, int],
    border: int,
    colour: RGB,
    shadow: RGB | None,
) -> None:
    """Paste a sticker: the subject on a solid border following its silhouette, with a soft shadow."""
    import cv2

    alpha = np.asarray(layer_alpha)
    k = 4  # grow the silhouette at quarter resolution: smooth outlines and cheap on a 2048² canvas
    small = cv2.resize(
        alpha,
        (max(1, alpha.shape[1] // k), max(1, alpha.shape[0] // k)),
        interpolation=cv2.INTER_AREA,
    )
    rad = max(1, border // k)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rad + 1, 2 * rad + 1))
    grown = cv2.GaussianBlur(cv2.dilate(small, kernel), (0, 0), max(0.8, rad * 0.25))
    full = cv2.resize(grown, (alpha.shape[1], alpha.shape[0]), interpolation=cv2.INTER_LINEAR)
    mask = Image.fromarray(np.clip((full.astype(np.int16) - 96) * 4, 0, 255).astype(np.uint8), "L")
    if shadow:
        soft = cv2.GaussianBlur(grown, (0, 0), max(1.0, rad * 0.6))
        soft = cv2.resize(
            (soft * 0.45).astype(np.uint8),
            (alpha.shape[1], alpha.shape[0]),
            interpolation=cv2.INTER_LINEAR,
        )
        img.paste(shadow, (origin[0], origin[1] + max(2, border // 2)), Image.fromarray(soft, "L"))
    img.paste(colour, origin, mask)
    img.paste(layer, origin, layer_alpha)


def _layout(
    w: int, h: int, has_text: bool, text_share: float = 0.3
) -> tuple[tuple[float, float, float], tuple[float, float, float, float]]:
    """Where the subject (cx, cy, r) and the text box go for this aspect ratio."""
    m = min(w, h)
    if not has_text:
        return (w / 2, h / 2, m * 0.36), (0, 0, 0, 0)
    aspect = w / h
    if aspect >= 1.7:  # wide banner: subject left, text right
        r = h * 0.34
        cx = min(w * 0.3, h * 0.6)
        return (cx, h / 2, r), (cx + r * 1.3, h * 0.18, w - h * 0.15, h * 0.82)
    if aspect <= 0.6:  # tall: subject above, text below
        r = w * 0.36
        return (w / 2, h * 0.36, r), (
            w * 0.08,
            h * 0.36 + r * 1.25,
            w * 0.92,
            min(h * 0.9, h * 0.36 + r * 1.25 + w * 0.8),
        )
    r = m * (0.5 - text_share) * 0.82
    cy = h * (0.5 - text_share / 2) - m * 0.02
    return (w / 2, cy, r), (w * 0.08, cy + r * 1.12, w * 0.92, h * 0.93)


def _arrange(
    subjects: list[str],
    cx: float,
    cy: float,
    r: float,
    rng: random.Random,
    plural: frozenset[str] = frozenset(),
) -> list[tuple[str, float, float, float, float]]:
    """One hero subject, or a hero with one or two companions tucked beside it."""
    if (
        len(subjects) == 1
        and subjects[0] in plural
        and (
            subjects[0] in GROUNDED | {"flower", "cat", "mushroom"}
            or subjects[0].startswith(icons.PREFIX)
        )
    ):
        # "pine trees": a hero with two smaller ones at its sides.
        name = subjects[0]
        return [
            (name, cx - r * 0.62, cy + r * 0.3, r * 0.6, 0.0),
            (name, cx + r * 0.62, cy + r * 0.3, r * 0.6, 0.0),
            (name, cx, cy, r * 0.9, 0.0),
        ]
    if len(subjects) == 1:
        return [(subjects[0], cx, cy, r, 0.0)]
    # A ground subject makes the better hero; sun, moon and stars fit in the sky beside it.
    ordered = sorted(subjects, key=in_sky)
    hero, rest = ordered[0], ordered[1:3]
    out = []
    hero_x, hero_r = cx, r * 0.82
    # Icon drawings fill their box edge to edge: beside a hero they need room, not an overlap.
    roomy = any(n.startswith(icons.PREFIX) and not in_sky(n) for n in [hero, *rest])
    grounded = [n for n in rest if not in_sky(n)]
    if roomy and len(grounded) == 1:
        side = -1 if rest.index(grounded[0]) == 0 else 1
        hero_x, hero_r = cx - side * r * 0.2, r * 0.74
    for i, name in enumerate(rest):
        side = -1 if i == 0 else 1
        if in_sky(name):
            out.append((name, cx + side * r * 0.62, cy - r * 0.62, r * 0.38, 0.0))
        elif roomy:
            out.append((name, cx + side * r * 0.78, cy + r * 0.5, r * 0.4, 0.0))
        else:
            out.append((name, cx + side * r * 0.72, cy + r * 0.45, r * 0.42, 0.0))
    return [
        *[o for o in out if in_sky(o[0])],
        (hero, hero_x, cy + r * 0.05, hero_r, 0.0),
        *[o for o in out if not in_sky(o[0])],
    ]


def _glow(img: Image.Image, cx: float, cy: float, r: float, colour: RGB) -> Image.Image:
    """A soft neon halo behind the subject, blurred at 1/8 scale to stay cheap."""
    w, h = img.size
    k = 8
    small = Image.new("L", (max(1, w // k), max(1, h // k)), 0)
    ImageDraw.Draw(small).ellipse(
        ((cx - r) / k, (cy - r) / k, (cx + r) / k, (cy + r) / k), fill=150
    )
    halo = Image.fromarray(
        _upscale(np.asarray(small.filter(ImageFilter.GaussianBlur(max(1.0, r / k * 0.45)))), w, h),
        "L",
    )
    return Image.composite(Image.new("RGB", (w, h), colour), img, halo)


def _disc_band(cx: float, cy: float, R: float, ya: float, yb: float) -> list[tuple[float, float]]:
    """The part of a disc between two horizontal lines, as a polygon."""
    ya, yb = max(ya, cy - R), min(yb, cy + R)
    steps = 8
    left, right = [], []
    for i in range(steps + 1):
        y = ya + (yb - ya) * i / steps
        half = math.sqrt(max(0.0, R * R - (y - cy) ** 2))
        left.append((cx - half, y))
        right.append((cx + half, y))
    return left + right[::-1]


def _backdrop_strip(img: Image.Image, cx: float, y0: float, y1: float):  # type: ignore[no-untyped-def]
    """The backdrop colour at a height, sampled beside the disc before it is painted."""
    x = int(max(0, min(img.width - 1, cx - min(img.width, img.height) * 0.49)))
    samples = {
        y: img.getpixel((x, y)) for y in range(max(0, int(y0)), min(img.height, int(y1) + 1), 8)
    }

    def colour(ya: float, yb: float) -> RGB:
        y = int((ya + yb) / 2)
        key = min(samples, key=lambda k: abs(k - y)) if samples else None
        return samples[key][:3] if key is not None else (0, 0, 0)  # type: ignore[index]

    return colour


def _ridge(
    w: int, h: int, base: float, amp: float, rng: random.Random, peaks: int
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """A mountain range silhouette: evenly spread peaks with shoulders, and where the peaks are."""
    spacing = w / peaks
    pts = [(0.0, float(h)), (0.0, base - amp * rng.uniform(0.1, 0.35))]
    tops = []
    for i in range(peaks):
        x = (i + 0.5) * spacing + rng.uniform(-0.25, 0.25) * spacing
        top = base - amp * rng.uniform(0.55, 1.0)
        valley_x = x - spacing * rng.uniform(0.4, 0.55)
        pts.append((valley_x, base - amp * rng.uniform(0.05, 0.3)))
        pts.append((x - spacing * 0.18, top + amp * rng.uniform(0.15, 0.3)))
        pts.append((x, top))
        pts.append((x + spacing * 0.2, top + amp * rng.uniform(0.2, 0.35)))
        tops.append((x, top))
    pts.append((float(w), base - amp * rng.uniform(0.1, 0.45)))
    pts.append((float(w), float(h)))
    return pts, tops

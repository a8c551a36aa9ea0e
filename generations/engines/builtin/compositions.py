"""The compositions (formats): emblem, badge, poster, sticker, sticker sheet, pattern, scene and
slogan. Each draws a whole design on a canvas from a `Design` and the seed's random stream."""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw

from generations.engines.builtin.canvas import (
    _arrange,
    _backdrop,
    _backdrop_strip,
    _die_cut,
    _disc_band,
    _draw_subjects,
    _glow,
    _halftone,
    _layout,
    _ridge,
    _subject_layer,
    _vertical_gradient,
    in_sky,
    main_colour,
    on_ground,
)
from generations.engines.builtin.design import Design, _avoid_subjects
from generations.engines.builtin.palettes import _allowed, _luminance, _mix, _roles, contrast
from generations.engines.builtin.typography import (
    _balance,
    _case,
    _font,
    _ribbon,
    _text_colours,
    arc_text,
    set_text,
)
from generations.engines.builtin.vocabulary import GROUNDED, OWN_GROUND
from generations.engines.procedural_shapes import star_pts


def _compose_emblem(w: int, h: int, d: Design, rng: random.Random) -> Image.Image:
    pal = d.palette
    img = _backdrop(w, h, pal.bg, d, rng)
    (cx, cy, r), tbox = _layout(w, h, bool(d.text))
    draw = ImageDraw.Draw(img)
    if not d.line:
        spot = (
            _mix(pal.secondary, pal.bg, 0.72)
            if _luminance(pal.bg) > 0.3
            else _mix(pal.secondary, pal.bg, 0.6)
        )
        shape = rng.choice(("circle", "blob", "arch"))
        if shape == "circle":
            draw.ellipse((cx - r * 1.08, cy - r * 1.08, cx + r * 1.08, cy + r * 1.08), fill=spot)
        elif shape == "arch":
            draw.rounded_rectangle(
                (cx - r * 0.95, cy - r * 1.1, cx + r * 0.95, cy + r * 1.0),
                radius=r * 0.95,
                fill=spot,
            )
        else:
            pts = []
            k, ph = rng.randint(4, 7), rng.uniform(0, 6.28)
            for i in range(72):
                a = 2 * math.pi * i / 72
                rr = r * (1.02 + 0.09 * math.sin(a * k + ph) + 0.05 * math.sin(a * 3 - ph))
                pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
            draw.polygon(pts, fill=spot)
        if "halftone" in d.styles:
            _halftone(
                img,
                _mix(spot, pal.secondary, 0.5),
                max(6, int(r / 9)),
                rng,
                (int(cx - r), int(cy), int(cx + r), int(cy + r)),
            )
        # Sprinkles: small stars and dots around the subject, a staple of flat illustration.
        for _ in range(rng.randint(4, 8)):
            a = rng.uniform(0, 2 * math.pi)
            dist = r * rng.uniform(1.2, 1.45)
            x, y = cx + dist * math.cos(a), cy + dist * math.sin(a)
            s = r * rng.uniform(0.04, 0.08)
            colour = rng.choice((pal.accent, pal.primary, pal.secondary))
            if rng.random() < 0.5:
                draw.polygon(star_pts(x, y, s, 0.45, 4), fill=colour)
            else:
                draw.ellipse((x - s * 0.5, y - s * 0.5, x + s * 0.5, y + s * 0.5), fill=colour)
    if "neon" in d.styles and not d.line:
        img = _glow(img, cx, cy, r, pal.primary)
    _draw_subjects(img, _arrange(d.subjects, cx, cy, r, rng, d.plural), d, rng, stroke=r * 0.028)
    if d.line and d.subjects and d.subjects[0] in GROUNDED - OWN_GROUND:
        ImageDraw.Draw(img).line(
            (cx - r * 1.05, cy + r * 0.76, cx + r * 1.05, cy + r * 0.76),
            fill=pal.dark,
            width=max(1, round(r * 0.028)),
        )
    if d.text:
        kind = (
            "light"
            if "minimal" in d.styles or d.line
            else rng.choice(("sans", "condensed", "serif"))
        )
        set_text(
            img,
            _case(d.text, kind, rng),
            tbox,
            kind,
            pal,
            [pal.dark, pal.primary],
            max_size=r * 0.55,
        )
    return img


def _compose_badge(w: int, h: int, d: Design, rng: random.Random) -> Image.Image:
    pal = d.palette
    img = _backdrop(w, h, pal.bg, d, rng, strength=0.5)
    m = min(w, h)
    R = m * 0.46
    cx, cy = w / 2, h / 2
    if w / h > 1.7 and d.text:
        cx = h * 0.55
    draw = ImageDraw.Draw(img)
    ring_col = pal.dark if not d.line else pal.bg
    inner = pal.light if _luminance(pal.bg) < 0.3 else _mix(pal.bg, (255, 255, 255), 0.5)
    if d.line:
        inner = pal.bg
    sw = max(1, round(m * 0.006))
    if d.line:
        draw.ellipse((cx - R, cy - R, cx + R, cy + R), outline=pal.dark, width=sw * 2)
        draw.ellipse(
            (cx - R * 0.76, cy - R * 0.76, cx + R * 0.76, cy + R * 0.76),
            outline=pal.dark,
            width=sw * 2,
        )
    else:
        if "shadow" not in d.avoid_styles:
            off = R * 0.04
            draw.ellipse(
                (cx - R + off, cy - R + off, cx + R + off, cy + R + off),
                fill=_mix(pal.bg, pal.dark, 0.25),
            )
        edge = rng.choice(("round", "seal", "dots"))
        if edge == "seal":  # a scalloped seal edge
            bumps = 40
            pts = [
                (
                    cx + R * (0.97 + 0.03 * math.cos(bumps * t)) * math.cos(t),
                    cy + R * (0.97 + 0.03 * math.cos(bumps * t)) * math.sin(t),
                )
                for t in (2 * math.pi * i / (bumps * 6) for i in range(bumps * 6))
            ]
            draw.polygon(pts, fill=ring_col)
        else:
            draw.ellipse((cx - R, cy - R, cx + R, cy + R), fill=ring_col)
        if edge == "dots":
            dot = R * 0.012
            for i in range(80):
                t = 2 * math.pi * i / 80
                x, y = cx + R * 0.965 * math.cos(t), cy + R * 0.965 * math.sin(t)
                draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=inner)
        else:
            draw.ellipse(
                (cx - R * 0.92, cy - R * 0.92, cx + R * 0.92, cy + R * 0.92),
                outline=inner,
                width=max(1, round(R * 0.012)),
            )
        draw.ellipse((cx - R * 0.76, cy - R * 0.76, cx + R * 0.76, cy + R * 0.76), fill=inner)
    # The inner disc holds a small scene: sky, hero subject, ground, clipped to the circle.
    ri = R * 0.74
    box = (round(cx - ri), round(cy - ri), round(cx + ri), round(cy + ri))
    size = (box[2] - box[0], box[3] - box[1])
    scene = Image.new("RGB", size, inner)
    sd = ImageDraw.Draw(scene)
    if not d.line:
        sky = _vertical_gradient(
            size[0],
            size[1],
            _mix(pal.accent, pal.light, 0.55),
            _mix(pal.secondary, pal.light, 0.35),
        )
        scene.paste(sky)
        # A low sun behind the subject; the seed moves it, sizes it and may band it.
        sr = ri * rng.uniform(0.22, 0.36)
        sx = size[0] * rng.uniform(0.3, 0.7)
        sy = size[1] * rng.uniform(0.3, 0.45)
        sun = _mix(pal.accent, pal.light, 0.2)
        sd.ellipse((sx - sr, sy - sr, sx + sr, sy + sr), fill=sun)
        if rng.random() < 0.5:
            for i in range(4):
                y = sy + sr * (0.2 + i * 0.22)
                sd.rectangle(
                    (sx - sr, y, sx + sr, y + sr * 0.05 * (i + 1)),
                    fill=_mix(pal.accent, pal.light, 0.55),
                )
    hero = d.subjects[0]
    _draw_subjects(
        scene,
        _arrange(d.subjects, size[0] / 2, size[1] * 0.55, ri * 0.62, rng, d.plural),
        d,
        rng,
        stroke=ri * 0.02,
    )
    if not d.line and hero not in ("wave",):
        amp, freq, phase = rng.uniform(0.0, 0.04), rng.uniform(3, 8), rng.uniform(0, 6.3)
        ground = (
            [(0, size[1] * 0.86)]
            + [
                (x, size[1] * (0.84 + amp * math.sin(x / size[0] * freq + phase)))
                for x in range(0, size[0] + 8, 8)
            ]
            + [(size[0], size[1]), (0, size[1])]
        )
        sd.polygon(ground, fill=pal.dark)
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size[0] - 1, size[1] - 1), fill=255)
    img.paste(scene, box[:2], mask)
    if d.line:
        draw.ellipse((cx - ri, cy - ri, cx + ri, cy + ri), outline=pal.dark, width=sw * 2)
    # Ring text: quoted text on the top arc, stars at the sides.
    text_col = inner if not d.line else pal.dark
    kind = (
        "serif" if d.styles & {"vintage", "retro"} else rng.choice(("sans", "serif", "condensed"))
    )
    wide = w / h > 1.7
    if d.text and not wide:
        t = d.text.upper()
        ring_r = R * 0.85
        size_px = int(R * 0.16)
        font = _font(kind, size_px)
        if font.getlength(t) * 1.08 > ring_r * math.pi * 0.95:
            size_px = max(6, int(size_px * ring_r * math.pi * 0.95 / (font.getlength(t) * 1.08)))
        if size_px >= R * 0.07:
            arc_text(img, t, cx, cy, ring_r, size_px, kind, text_col)
        else:
            _ribbon(img, t, cx, cy + R * 0.62, R * 1.25, R * 0.3, pal, kind)
    for side in (-1, 1):
        draw.polygon(star_pts(cx + side * R * 0.855, cy, R * 0.05, 0.45), fill=text_col)
    if not d.text or w / h > 1.7:
        pass
    if d.text and w / h > 1.7:
        set_text(
            img,
            d.text.upper(),
            (cx + R * 1.15, h * 0.2, w - h * 0.12, h * 0.8),
            kind,
            pal,
            [pal.dark, pal.primary],
        )
    return img


def _compose_poster(w: int, h: int, d: Design, rng: random.Random) -> Image.Image:
    pal = d.palette
    dark_bg = rng.random() < 0.5 and "minimal" not in d.styles and "neon" not in d.styles
    bg = pal.dark if dark_bg else pal.bg
    img = _backdrop(w, h, bg, d, rng)
    draw = ImageDraw.Draw(img)
    m = min(w, h)
    band = h * 0.26 if d.text else 0.0
    if w / h > 1.7 and d.text:
        band = 0.0
    cx, cy = w / 2, (h - band) * 0.52
    r = min(w, h - band) * 0.4
    if w / h > 1.7 and d.text:
        cx, r = w * 0.3, h * 0.38
        cy = h / 2
    # The retro sun: a big disc behind the subject with bands cut through its lower half.
    roles = _roles(pal, d.named)
    subject_cols = [bg, *(main_colour(name, d, roles) for name in d.subjects[:3])]
    candidates = (
        pal.accent,
        pal.secondary,
        pal.light,
        pal.primary,
        _mix(pal.accent, pal.light, 0.5),
        _mix(pal.secondary, pal.light, 0.55),
        _mix(pal.primary, pal.dark, 0.5),
    )
    sun_col = max(
        candidates,
        key=lambda c: min(math.dist(c, bg) * 0.8, *(math.dist(c, o) for o in subject_cols[1:])),
    )
    sky = _backdrop_strip(img, cx, cy - r * 1.05, cy + r * 1.05)
    draw.ellipse((cx - r * 1.05, cy - r * 1.05, cx + r * 1.05, cy + r * 1.05), fill=sun_col)
    if d.styles & {"retro", "vintage", "neon"} or rng.random() < 0.5:
        # Repaint the disc as bands so the gaps show the real backdrop, gradient and all.
        R = r * 1.05
        cuts = [
            (cy + r * (0.15 + i * 0.16), cy + r * (0.15 + i * 0.16) + r * 0.02 * (i + 1))
            for i in range(6)
        ]
        edges = [cy - R] + [v for c in cuts for v in c] + [cy + R]
        for ya, yb in zip(edges[::2], edges[1::2], strict=True):
            draw.polygon(_disc_band(cx, cy, R, ya, yb), fill=sun_col)
        for ya, yb in cuts:
            draw.polygon(_disc_band(cx, cy, R, ya, yb), fill=sky(ya, yb))
    elif "halftone" in d.styles or rng.random() < 0.5:
        _halftone(
            img, _mix(bg, sun_col, 0.45), max(6, int(m / 40)), rng, (0, int(cy), w, int(h - band))
        )
        draw.ellipse((cx - r * 1.05, cy - r * 1.05, cx + r * 1.05, cy + r * 1.05), fill=sun_col)
    if "neon" in d.styles and not d.line:
        img = _glow(img, cx, cy + r * 0.1, r * 0.85, pal.secondary)
        draw = ImageDraw.Draw(img)
    _draw_subjects(
        img,
        _arrange(d.subjects, cx, cy + r * 0.1, r * 0.85, rng, d.plural),
        d,
        rng,
        stroke=r * 0.03,
    )
    frame = "frame" not in d.avoid_styles
    if frame:
        inset = m * 0.035
        draw.rectangle(
            (inset, inset, w - inset, h - inset),
            outline=pal.light if dark_bg else pal.dark,
            width=max(1, round(m * 0.006)),
        )
    if d.text:
        kind = "serif" if "vintage" in d.styles else "condensed"
        if band:
            draw.rectangle(
                (0, h - band, w, h),
                fill=pal.primary if rng.random() < 0.5 else (pal.light if dark_bg else pal.dark),
            )
            if frame:
                inset = m * 0.035
                draw.rectangle(
                    (inset, inset, w - inset, h - inset),
                    outline=pal.light if dark_bg else pal.dark,
                    width=max(1, round(m * 0.006)),
                )
            set_text(
                img,
                d.text.upper(),
                (w * 0.08, h - band * 0.86, w * 0.92, h - band * 0.2),
                kind,
                pal,
                [pal.light, pal.dark, bg],
                max_lines=2,
            )
        else:
            set_text(
                img,
                d.text.upper(),
                (w * 0.55, h * 0.15, w * 0.94, h * 0.85),
                kind,
                pal,
                [pal.light, pal.accent, pal.dark],
            )
    return img


def _compose_sticker(w: int, h: int, d: Design, rng: random.Random) -> Image.Image:
    pal = d.palette
    bg = _mix(pal.bg, (255, 255, 255), 0.35) if _luminance(pal.bg) > 0.3 else pal.bg
    f = d.ss
    # Masks and composites are the costly part: the backdrop and die-cut work at output size,
    # only the subject layer is drawn at the supersampled size.
    img = Image.new("RGB", (max(1, w // f), max(1, h // f)), bg)
    extreme = w / h >= 1.7 or w / h <= 0.6
    # The label rides on the sticker, so only extreme ratios need room for text beside it.
    (cx, cy, r), tbox = _layout(w, h, bool(d.text) and extreme, text_share=0.24)
    if d.text and not extreme:
        cy -= r * 0.1
    border = max(2, round(r * 0.09))
    entries = _arrange(d.subjects, cx, cy, r, rng, d.plural)
    layer, (ox, oy) = _subject_layer(
        (w, h),
        entries,
        d,
        rng,
        stroke=r * 0.03,
        pad=border * 3,
        clear=_allowed((255, 255, 255), list(pal.avoid)) if not d.line else pal.bg,
    )
    if d.text and not (w / h >= 1.7 or w / h <= 0.6):
        # The text sits on the sticker itself as a bold label overlapping the subject's base.
        lw, lh = r * 1.9, r * 0.42
        lx, ly = cx - lw / 2 - ox, cy + r * 0.78 - oy
        label = ImageDraw.Draw(layer)
        label.rounded_rectangle(
            (lx, ly, lx + lw, ly + lh), radius=lh * 0.3, fill=(*pal.primary, 255)
        )
    white = _allowed((255, 255, 255), list(pal.avoid)) if not d.line else pal.bg
    # Split colour and alpha: Pillow resizes RGBA through premultiplied copies, which costs more
    # than the whole rest of the sticker; a transparent-white layer needs no premultiplying.
    colour, alpha = layer.convert("RGB"), layer.getchannel("A")
    if f > 1:
        colour, alpha = colour.reduce(f), alpha.reduce(f)
        ox, oy, border = ox // f, oy // f, max(1, border // f)
        w, h, cx, cy, r = img.width, img.height, cx / f, cy / f, r / f
        tbox = tuple(v / f for v in tbox)  # type: ignore[assignment]
    _die_cut(
        img,
        colour,
        alpha,
        (ox, oy),
        border,
        white,
        None if "shadow" in d.avoid_styles else _mix(bg, pal.dark, 0.6),
    )
    if d.text:
        kind = rng.choice(("sans", "condensed"))
        if not (w / h >= 1.7 or w / h <= 0.6):
            lw, lh = r * 1.9, r * 0.42
            lx, ly = cx - lw / 2, cy + r * 0.78
            set_text(
                img,
                _case(d.text, "condensed", rng),
                (lx + lh * 0.25, ly + lh * 0.1, lx + lw - lh * 0.25, ly + lh * 0.9),
                kind,
                pal,
                [pal.light, pal.dark],
                max_lines=2,
            )
        else:
            set_text(img, d.text, tbox, kind, pal, [pal.dark, pal.primary], stroke=0.0)
    return img


SHEET_FILLERS = (
    "heart",
    "star",
    "flower",
    "leaf",
    "sun",
    "moon",
    "cloud",
    "lightning",
    "mushroom",
    "planet",
)


def _compose_sheet(w: int, h: int, d: Design, rng: random.Random) -> Image.Image:
    """A sticker sheet: a grid of die-cut stickers, the named subjects first, then seed picks."""
    pal = d.palette
    bg = _mix(pal.bg, (255, 255, 255), 0.35) if _luminance(pal.bg) > 0.3 else pal.bg
    f = d.ss
    img = Image.new("RGB", (max(1, w // f), max(1, h // f)), bg)
    aspect = w / h
    cols = max(1, min(4, round(2 * aspect))) if aspect >= 1 else 2 if aspect > 0.4 else 1
    rows = max(1, min(4, round(cols / aspect)))
    cells = cols * rows
    avoid = _avoid_subjects(d)
    fillers = [s for s in SHEET_FILLERS if s not in avoid and s not in d.subjects]
    rng.shuffle(fillers)
    names = (list(d.subjects) + fillers) or ["abstract"]
    cw, ch = w / cols, h / rows
    r = min(cw, ch) * 0.36
    white = _allowed((255, 255, 255), list(pal.avoid)) if not d.line else pal.bg
    shadow = None if "shadow" in d.avoid_styles else _mix(bg, pal.dark, 0.6)
    text_cell = cells - 1 if d.text and cells > 1 else -1
    for i in range(cells):
        cx = (i % cols + 0.5) * cw + rng.uniform(-0.06, 0.06) * cw
        cy = (i // cols + 0.5) * ch + rng.uniform(-0.06, 0.06) * ch
        border = max(2, round(r * 0.1))
        if i == text_cell:
            # The slogan as its own sticker: a bold label with the same die-cut border.
            lw, lh = min(cw * 0.86, r * 2.6), r * 1.1
            layer = Image.new("RGBA", (int(lw + border * 6), int(lh + border * 6)), (*white, 0))
            ImageDraw.Draw(layer).rounded_rectangle(
                (border * 3, border * 3, border * 3 + lw, border * 3 + lh),
                radius=lh * 0.25,
                fill=(*pal.primary, 255),
            )
            ox, oy = int(cx - lw / 2 - border * 3), int(cy - lh / 2 - border * 3)
        else:
            name = names[i % len(names)]
            rot = rng.uniform(-0.25, 0.25)
            layer, (ox, oy) = _subject_layer(
                (w, h),
                [(name, cx, cy, r, rot)],
                d,
                rng,
                stroke=r * 0.035,
                pad=border * 3,
                clear=white,
            )
        colour, alpha = layer.convert("RGB"), layer.getchannel("A")
        if f > 1:
            colour, alpha = colour.reduce(f), alpha.reduce(f)
        _die_cut(img, colour, alpha, (ox // f, oy // f), max(1, border // f), white, shadow)
        if i == text_cell:
            box = ((cx - lw / 2) / f, (cy - lh / 2) / f, (cx + lw / 2) / f, (cy + lh / 2) / f)
            pad = lh * 0.15 / f
            set_text(
                img,
                d.text.upper(),
                (box[0] + pad, box[1] + pad, box[2] - pad, box[3] - pad),
                "condensed",
                pal,
                [pal.light, pal.dark],
                max_lines=3,
            )
    return img


def _compose_pattern(w: int, h: int, d: Design, rng: random.Random) -> Image.Image:
    pal = d.palette
    img = Image.new("RGB", (w, h), pal.bg)
    m = min(w, h)
    cols = rng.choice((3, 4, 5)) if w >= h else 3
    step = max(w, h) / (cols * max(w, h) / m) if False else m / cols
    r = step * 0.3
    subjects = d.subjects
    entries = []
    rows = int(h / step) + 2
    ncols = int(w / step) + 2
    jitter = rng.random() < 0.5
    for j in range(-1, rows):
        for i in range(-1, ncols):
            x = (i + (0.5 if j % 2 else 0.0)) * step + step / 2
            y = j * step + step / 2
            name = subjects[(i + j * 2) % len(subjects)]
            rot = rng.uniform(-0.35, 0.35) if jitter else 0.0
            entries.append((name, x, y, r, rot))
    draw = ImageDraw.Draw(img)
    filler = _mix(pal.bg, pal.accent, 0.55)
    for j in range(-1, rows):
        for i in range(-1, ncols):
            x = (i + (0.0 if j % 2 else 0.5)) * step + step / 2
            y = j * step + step / 2 + step * 0.0
            s = step * 0.06
            if (i + j) % 2:
                draw.polygon(star_pts(x, y, s * 1.4, 0.45, 4), fill=filler)
            else:
                draw.ellipse((x - s * 0.6, y - s * 0.6, x + s * 0.6, y + s * 0.6), fill=filler)
    _draw_subjects(img, entries, d, rng, stroke=r * 0.04)
    if d.text:
        kind = "serif" if d.styles & {"vintage", "retro"} else "sans"
        tw, th = w * 0.7, min(h * 0.3, m * 0.3)
        x0, y0 = (w - tw) / 2, (h - th) / 2
        ImageDraw.Draw(img).rounded_rectangle(
            (x0, y0, x0 + tw, y0 + th),
            radius=th * 0.2,
            fill=pal.light,
            outline=pal.dark,
            width=max(1, round(m * 0.006)),
        )
        set_text(
            img,
            d.text,
            (x0 + th * 0.2, y0 + th * 0.12, x0 + tw - th * 0.2, y0 + th * 0.88),
            kind,
            pal,
            [pal.dark, pal.primary],
        )
    return img


def _compose_scene(w: int, h: int, d: Design, rng: random.Random) -> Image.Image:
    pal = d.palette
    night = (
        "moon" in d.subjects
        or "star" in d.subjects
        or "planet" in d.subjects
        or _luminance(pal.bg) < 0.2
    )
    if d.line:
        img = Image.new("RGB", (w, h), pal.bg)
    else:
        top = pal.dark if night else _mix(pal.bg, pal.secondary, 0.25)
        bottom = _mix(pal.secondary, pal.bg, 0.6) if night else _mix(pal.accent, pal.bg, 0.45)
        img = (
            _vertical_gradient(w, h, top, bottom)
            if "gradient" not in d.avoid_styles
            else Image.new("RGB", (w, h), top)
        )
    draw = ImageDraw.Draw(img)
    m = min(w, h)
    text_top = h * 0.08 if d.text else 0
    horizon = h * (0.62 if d.text else 0.58)
    sw = max(1, round(m * 0.005))
    if night and not d.line:
        for _ in range(int(60 * w * h / (m * m))):
            x, y, s = (
                rng.uniform(0, w),
                rng.uniform(0, horizon * 0.8),
                m * rng.uniform(0.002, 0.006),
            )
            draw.ellipse((x - s, y - s, x + s, y + s), fill=pal.light)
    sky = [s for s in d.subjects if in_sky(s)]
    ground = [s for s in d.subjects if on_ground(s)]
    has_water = "wave" in d.subjects
    disc = "moon" if night and "sun" not in sky else "sun"
    if "sun" in d.avoid_styles or (disc not in d.subjects and disc in _avoid_subjects(d)):
        disc = ""
    sx, sy, sr = (
        w * rng.uniform(0.3, 0.7),
        horizon - m * rng.uniform(0.12, 0.28),
        m * rng.uniform(0.1, 0.15),
    )
    if disc and disc not in sky:
        if d.line:
            draw.ellipse((sx - sr, sy - sr, sx + sr, sy + sr), outline=pal.dark, width=sw)
        else:
            draw.ellipse(
                (sx - sr * 1.5, sy - sr * 1.5, sx + sr * 1.5, sy + sr * 1.5),
                fill=_mix(
                    pal.accent, img.getpixel((int(min(w - 1, sx)), int(max(0, sy - sr * 1.5)))), 0.6
                ),
            )
            draw.ellipse(
                (sx - sr, sy - sr, sx + sr, sy + sr),
                fill=pal.light if disc == "moon" else _mix(pal.accent, (255, 255, 255), 0.2),
            )
    sky_entries = []
    for i, name in enumerate(sky):
        if name in ("sun", "moon"):
            sky_entries.append((name, sx, sy, sr * 1.3, 0.0))
        else:
            sky_entries.append(
                (
                    name,
                    w * (0.2 + 0.6 * ((i * 0.37 + rng.random()) % 1)),
                    horizon * rng.uniform(0.3, 0.5),
                    m * 0.09,
                    0.0,
                )
            )
    if sky_entries:
        _draw_subjects(img, sky_entries, d, rng)
    # Mountain ranges: far ones pale (atmospheric perspective), near ones dark.
    ranges = 3 if "mountain" in d.subjects or not (ground or has_water) else 2
    for k in range(ranges):
        t = (k + 1) / (ranges + 1)
        col = _mix(
            _mix(pal.primary, pal.dark, t * 0.8),
            img.getpixel((w // 2, max(0, int(horizon - m * 0.3)))),
            0.55 * (1 - t),
        )
        base = horizon + k * m * 0.05
        pts, tops = _ridge(w, h, base, m * (0.32 - k * 0.07), rng, max(2, round(2.2 * w / m)))
        if d.line:
            draw.polygon(pts, fill=pal.bg)  # paper fill: nearer ranges hide the farther lines
            draw.line(pts[1:-1], fill=pal.dark, width=sw, joint="curve")
        else:
            draw.polygon(pts, fill=col)
            if k == 0 and "mountain" in d.subjects:
                for j, (x, y) in enumerate(pts):
                    if (x, y) not in tops:
                        continue
                    # A snowcap that follows both slopes down to a zigzag hem.
                    (lx, ly), (rx, ry) = pts[j - 1], pts[j + 1]
                    f = 0.5
                    left, right = (
                        (x + (lx - x) * f, y + (ly - y) * f),
                        (x + (rx - x) * f, y + (ry - y) * f),
                    )
                    mid_y = (left[1] + right[1]) / 2
                    hem = [
                        (left[0] + (right[0] - left[0]) * 0.3, mid_y - (mid_y - y) * 0.25),
                        (left[0] + (right[0] - left[0]) * 0.5, mid_y + (mid_y - y) * 0.05),
                        (left[0] + (right[0] - left[0]) * 0.7, mid_y - (mid_y - y) * 0.2),
                    ]
                    draw.polygon([(x, y), left, *hem, right], fill=pal.light)
    ground_y = horizon + ranges * m * 0.05 + m * 0.05
    if has_water:
        wy = ground_y
        water = _mix(pal.secondary, pal.dark, 0.3)
        if d.line:
            draw.rectangle((0, wy, w, h), fill=pal.bg)
            for i in range(5):
                y = wy + i * m * 0.04
                draw.line(
                    [(x, y + m * 0.008 * math.sin(x / m * 30 + i)) for x in range(0, w + 8, 8)],
                    fill=pal.dark,
                    width=sw,
                )
        else:
            draw.rectangle((0, wy, w, h), fill=water)
            if disc:
                for i in range(8):
                    y = wy + (i + 0.5) * (h - wy) / 9
                    half = sr * (1.1 - i * 0.1)
                    draw.rounded_rectangle(
                        (sx - half, y, sx + half, y + m * 0.012),
                        radius=m * 0.006,
                        fill=_mix(pal.accent, water, 0.35 + i * 0.07),
                    )
    else:
        hill = (
            [(0, h)]
            + [
                (x, ground_y + m * 0.04 * math.sin(x / w * math.pi * 1.5 + 0.5))
                for x in range(0, w + 16, 16)
            ]
            + [(w, h)]
        )
        if d.line:
            draw.line(hill[1:-1], fill=pal.dark, width=sw)
        else:
            draw.polygon(hill, fill=_mix(pal.primary, pal.dark, 0.75))
    if ground and not has_water:
        entries = []
        n = max(
            len(ground),
            rng.randint(2, 4) if ground[0] in ("pine", "tree", "cactus", "palm", "flower") else 1,
        )
        for i in range(n):
            name = ground[i % len(ground)]
            scale = m * (0.16 if i == 0 else rng.uniform(0.08, 0.12))
            x = w * (0.5 + (0 if i == 0 else rng.choice((-1, 1)) * rng.uniform(0.18, 0.42)))
            entries.append((name, x, ground_y + m * 0.04 - scale * 0.9, scale, 0.0))
        entries.sort(key=lambda e: e[3])
        _draw_subjects(img, entries, d, rng)
    if d.text:
        kind = (
            "serif"
            if d.styles & {"vintage", "retro"}
            else rng.choice(("condensed", "sans", "serif"))
        )
        set_text(
            img,
            _case(d.text, "condensed", rng),
            (w * 0.08, text_top, w * 0.92, horizon - m * 0.34),
            kind,
            pal,
            [pal.light, pal.dark],
            max_lines=2,
            shadow=None,
        )
    return img


def _compose_slogan(w: int, h: int, d: Design, rng: random.Random) -> Image.Image:
    pal = d.palette
    dark = rng.random() < 0.4 and not d.line
    bg = pal.dark if dark else pal.bg
    img = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(img)
    m = min(w, h)
    icon_r = m * 0.16
    wide = w / h >= 1.7
    if wide:
        cx, cy = h * 0.55, h / 2
        tbox = (h * 1.05, h * 0.15, w - h * 0.12, h * 0.85)
        icon_r = h * 0.3
    else:
        cx, cy = w / 2, h * 0.22
        tbox = (w * 0.08, h * 0.38, w * 0.92, h * 0.82)
    kind = "serif" if d.styles & {"vintage", "retro"} else "condensed"
    prefer = [pal.primary, pal.light, pal.accent] if dark else [pal.dark, pal.primary]
    words = d.text.upper().split()
    layout = "stack" if wide else rng.choice(("stack", "arched", "lockup"))
    if layout == "arched" and len(words) >= 2 and len(d.text) <= 30:
        # Varsity: the first words arch over the icon, the last word sits big below it.
        head, tail = " ".join(words[:-1]), words[-1]
        cy = h * 0.42
        icon_r = m * 0.2
        _draw_subjects(
            img, _arrange(d.subjects, cx, cy, icon_r, rng, d.plural), d, rng, stroke=icon_r * 0.04
        )
        ring = icon_r * 1.55
        size = int(
            min(
                m * 0.1,
                ring * math.pi * 0.8 / max(1.0, _font(kind, 100).getlength(head) / 100 * 1.08),
            )
        )
        fill, _ = _text_colours(bg, pal, prefer)
        arc_text(img, head, cx, cy, ring, max(6, size), kind, fill)
        set_text(
            img,
            tail,
            (w * 0.1, cy + icon_r * 1.45, w * 0.9, h * 0.9),
            kind,
            pal,
            prefer,
            max_lines=1,
        )
        return img
    _draw_subjects(
        img, _arrange(d.subjects, cx, cy, icon_r, rng, d.plural), d, rng, stroke=icon_r * 0.04
    )
    if layout == "lockup" and len(words) >= 2:
        # A typographic lockup: each line fills the width on its own, colours alternate.
        lines = _balance(words, min(3, len(words)))
        x0, y0, x1, y1 = tbox
        sizes = []
        for line in lines:
            fit = (x1 - x0) * 100 / max(1.0, _font(kind, 100).getlength(line))
            sizes.append(min(fit, (y1 - y0) / len(lines) * 1.1))
        total = sum(sizes) * 1.02
        scale = min(1.0, (y1 - y0) / total)
        y = (y0 + y1) / 2 - total * scale / 2
        colours = [
            c
            for c in (pal.primary, pal.accent, pal.secondary, pal.light, pal.dark)
            if contrast(c, bg) >= 3
        ]
        colours = colours or [_text_colours(bg, pal, prefer)[0]]
        for i, (line, sz) in enumerate(zip(lines, sizes, strict=True)):
            sz *= scale
            font = _font(kind, max(4, int(sz)))
            draw.text(
                ((x0 + x1) / 2, y + sz * 0.51),
                line,
                font=font,
                fill=colours[i % len(colours)],
                anchor="mm",
            )
            y += sz * 1.02
        return img
    set_text(
        img,
        d.text.upper(),
        tbox,
        kind,
        pal,
        prefer,
        max_lines=3,
        shadow=_mix(pal.accent, bg, 0.3) if not d.line and rng.random() < 0.6 else None,
    )
    if not wide:
        y = h * 0.88
        lw = max(1, round(m * 0.008))
        draw.line((w * 0.3, y, w * 0.45, y), fill=pal.accent if not d.line else pal.dark, width=lw)
        draw.line((w * 0.55, y, w * 0.7, y), fill=pal.accent if not d.line else pal.dark, width=lw)
        draw.polygon(
            star_pts(w / 2, y, m * 0.02, 0.45), fill=pal.accent if not d.line else pal.dark
        )
    return img


COMPOSERS = {
    "emblem": _compose_emblem,
    "badge": _compose_badge,
    "poster": _compose_poster,
    "sticker": _compose_sticker,
    "pattern": _compose_pattern,
    "scene": _compose_scene,
    "slogan": _compose_slogan,
    "sheet": _compose_sheet,
}


def _compose_subjectless(w: int, h: int, d: Design, rng: random.Random) -> Image.Image:
    img = _backdrop(w, h, d.palette.bg, d, rng)
    if d.text:
        set_text(
            img,
            d.text,
            (w * 0.08, h * 0.2, w * 0.92, h * 0.8),
            "sans",
            d.palette,
            [d.palette.dark, d.palette.primary],
        )
    return img

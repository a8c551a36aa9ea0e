"""Colour: designed palettes, colour arithmetic, and the palette a prompt asks for (named colours,
moods, "X on Y", styles, colours the negative prompt keeps out)."""

from __future__ import annotations

import colorsys
import math
import random
import re
from dataclasses import dataclass, replace

from generations.engines.builtin.vocabulary import (
    COLOUR_WORDS,
    RGB,
    _avoided_colours,
    _styles,
    _words,
)


@dataclass(frozen=True)
class Palette:
    """Roles, not a bag of colours: backdrop, three inks for shapes, a dark and a light."""

    bg: RGB
    primary: RGB
    secondary: RGB
    accent: RGB
    dark: RGB
    light: RGB
    avoid: tuple[RGB, ...] = ()  # colours the negative prompt named: fixed inks keep off them too

    def as_list(self) -> list[RGB]:
        return [self.bg, self.primary, self.secondary, self.accent, self.dark, self.light]


# Curated designer palettes (bg, primary, secondary, accent, dark, light). Moods pick one by name;
# prompts without colour words get one chosen by the seed.
CURATED: dict[str, Palette] = {
    "retro": Palette(
        (244, 233, 216),
        (231, 111, 81),
        (42, 157, 143),
        (233, 196, 106),
        (38, 70, 83),
        (252, 247, 238),
    ),
    "nordic": Palette(
        (236, 239, 244),
        (94, 129, 172),
        (143, 188, 187),
        (235, 203, 139),
        (46, 52, 64),
        (255, 255, 255),
    ),
    "forest": Palette(
        (233, 237, 222),
        (52, 104, 75),
        (134, 167, 108),
        (221, 161, 94),
        (32, 44, 38),
        (250, 248, 240),
    ),
    "candy": Palette(
        (255, 241, 245),
        (255, 107, 153),
        (118, 199, 230),
        (255, 209, 102),
        (60, 40, 80),
        (255, 255, 255),
    ),
    "midnight": Palette(
        (24, 30, 58), (245, 180, 80), (84, 110, 190), (240, 98, 110), (12, 14, 28), (240, 236, 220)
    ),
    "midcentury": Palette(
        (241, 229, 205),
        (209, 96, 52),
        (43, 115, 114),
        (232, 177, 58),
        (45, 40, 36),
        (252, 246, 233),
    ),
    "ocean": Palette(
        (224, 242, 246),
        (23, 105, 170),
        (72, 182, 199),
        (255, 160, 122),
        (12, 40, 70),
        (255, 255, 255),
    ),
    "pop": Palette(
        (255, 214, 10), (230, 57, 70), (29, 53, 87), (69, 123, 157), (20, 20, 30), (255, 255, 255)
    ),
    "earthy": Palette(
        (245, 235, 224),
        (166, 99, 64),
        (107, 112, 92),
        (221, 190, 130),
        (55, 42, 35),
        (255, 250, 242),
    ),
    "lavender": Palette(
        (243, 238, 250),
        (126, 87, 194),
        (240, 150, 180),
        (255, 200, 110),
        (40, 30, 70),
        (255, 255, 255),
    ),
    "mint": Palette(
        (230, 248, 240), (42, 157, 143), (38, 70, 83), (244, 162, 97), (20, 45, 50), (255, 255, 255)
    ),
    "noir": Palette(
        (22, 22, 26), (240, 238, 230), (120, 120, 128), (230, 190, 90), (8, 8, 10), (250, 250, 245)
    ),
}


MOOD_PALETTES: dict[str, Palette] = {
    "sunset": Palette(
        (255, 214, 170),
        (255, 94, 77),
        (120, 60, 140),
        (255, 168, 76),
        (40, 30, 70),
        (255, 244, 230),
    ),
    "sunrise": Palette(
        (255, 228, 196),
        (255, 130, 92),
        (94, 96, 160),
        (255, 200, 90),
        (40, 36, 80),
        (255, 248, 236),
    ),
    "ocean": CURATED["ocean"],
    "forest": CURATED["forest"],
    "pastel": Palette(
        (253, 246, 240),
        (255, 179, 198),
        (168, 216, 234),
        (255, 222, 160),
        (90, 80, 110),
        (255, 255, 255),
    ),
    "neon": Palette(
        (14, 10, 32), (255, 0, 128), (0, 240, 220), (255, 230, 0), (6, 4, 16), (250, 250, 255)
    ),
    "cyberpunk": Palette(
        (14, 10, 32), (255, 0, 170), (0, 230, 255), (250, 240, 60), (6, 4, 16), (250, 250, 255)
    ),
    "vintage": Palette(
        (242, 232, 210), (190, 80, 50), (60, 100, 95), (218, 170, 80), (50, 40, 34), (250, 244, 228)
    ),
    "retro": CURATED["retro"],
    "autumn": Palette(
        (250, 236, 214), (200, 90, 30), (120, 50, 30), (230, 160, 50), (50, 30, 20), (255, 248, 236)
    ),
    "winter": Palette(
        (228, 238, 248),
        (70, 110, 170),
        (150, 180, 220),
        (230, 240, 250),
        (30, 45, 80),
        (255, 255, 255),
    ),
    "desert": Palette(
        (246, 226, 196),
        (204, 102, 68),
        (96, 140, 100),
        (236, 176, 90),
        (70, 40, 30),
        (255, 246, 230),
    ),
    "tropical": Palette(
        (255, 243, 214),
        (0, 150, 136),
        (255, 111, 97),
        (255, 200, 60),
        (20, 60, 60),
        (255, 255, 250),
    ),
    "candy": CURATED["candy"],
    "earthy": CURATED["earthy"],
    "monochrome": Palette(
        (245, 245, 242), (30, 30, 32), (120, 120, 124), (30, 30, 32), (12, 12, 14), (255, 255, 255)
    ),
}


def _hsv(c: RGB) -> tuple[float, float, float]:
    return colorsys.rgb_to_hsv(c[0] / 255, c[1] / 255, c[2] / 255)


def _rgb(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, max(0.0, min(1.0, s)), max(0.0, min(1.0, v)))
    return (round(r * 255), round(g * 255), round(b * 255))


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _luminance(c: RGB) -> float:
    def lin(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])


def contrast(a: RGB, b: RGB) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _near(c: RGB, avoid: RGB) -> bool:
    """Whether `c` reads as the avoided colour: close in RGB, or the same hue family."""
    if math.dist(c, avoid) < 110:
        return True
    h1, s1, v1 = _hsv(c)
    h2, s2, v2 = _hsv(avoid)
    if s2 < 0.25:  # a neutral: black, white, grey
        return s1 < 0.2 and abs(v1 - v2) < 0.22
    dh = min(abs(h1 - h2), 1 - abs(h1 - h2))
    return dh < 0.06 and s1 > 0.3 and v1 > 0.3


def _allowed(c: RGB, avoid: list[RGB], rng_h: float = 0.11) -> RGB:
    """`c`, or the nearest hue rotation (then a neutral) that is not near an avoided colour."""
    if not any(_near(c, a) for a in avoid):
        return c
    h, s, v = _hsv(c)
    for step in range(1, 9):
        for sign in (1, -1):
            cand = _rgb(h + sign * step * rng_h, max(s, 0.45), max(v, 0.45))
            if not any(_near(cand, a) for a in avoid):
                return cand
    for v2 in (0.1, 0.95, 0.5, 0.3, 0.75):
        cand = _rgb(0, 0, v2)
        if not any(_near(cand, a) for a in avoid):
            return cand
    return c


def _on_pair(prompt: str) -> tuple[str, str] | None:
    m = re.search(r"\b([a-z]+) on (?:a |an )?([a-z]+)\b", prompt.lower())
    if m and m.group(1) in COLOUR_WORDS and m.group(2) in COLOUR_WORDS:
        return m.group(1), m.group(2)
    return None


def _is_neutral(c: RGB) -> bool:
    return _hsv(c)[1] < 0.15


def palette_for(prompt: str, negative: str, rng: random.Random) -> list[RGB]:
    """Backwards-compatible list form: [bg, primary, secondary, accent, dark, light]."""
    return _palette(prompt, negative, _styles(prompt), rng).as_list()


def _palette(prompt: str, negative: str, styles: set[str], rng: random.Random) -> Palette:
    words = _words(prompt)
    avoid_names = _avoided_colours(negative)
    avoid = [COLOUR_WORDS[n] for n in avoid_names]
    named = [COLOUR_WORDS[w] for w in words if w in COLOUR_WORDS and w not in avoid_names]
    named = list(dict.fromkeys(named))
    moods = [MOOD_PALETTES[w] for w in words if w in MOOD_PALETTES and w not in avoid_names]
    base = moods[0] if moods else CURATED[rng.choice(sorted(CURATED))]
    pair = _on_pair(prompt)
    line = "line" in styles

    if pair and pair[0] not in avoid_names and pair[1] not in avoid_names:
        ink, paper = COLOUR_WORDS[pair[0]], COLOUR_WORDS[pair[1]]
        others = [c for c in named if c not in (ink, paper)]
        p = others[0] if others else ink
        s = others[1] if len(others) > 1 else (ink if line else _mix(ink, paper, 0.45))
        a = others[2] if len(others) > 2 else (ink if line else _mix(p, paper, 0.25))
        pal = Palette(
            paper,
            p,
            s,
            a,
            ink,
            paper if _luminance(paper) > 0.5 else _mix(paper, (255, 255, 255), 0.9),
        )
    elif named:
        chromatic = [c for c in named if not _is_neutral(c)]
        neutrals = [c for c in named if _is_neutral(c)]
        if chromatic:
            p = chromatic[0]
            h, sat, val = _hsv(p)
            scheme = rng.choice((0.5, 0.08, 0.42, 0.33, -0.08))
            s = (
                chromatic[1]
                if len(chromatic) > 1
                else _rgb(h + scheme, max(0.35, sat * 0.85), min(0.9, max(0.45, val)))
            )
            a = (
                chromatic[2]
                if len(chromatic) > 2
                else _rgb(h - scheme * 0.5 + 0.5, min(0.75, max(0.5, sat)), 0.88)
            )
            dark = next((c for c in neutrals if _luminance(c) < 0.1), _rgb(h, 0.55, 0.18))
            light = next((c for c in neutrals if _luminance(c) > 0.6), _rgb(h, 0.06, 0.99))
            if neutrals:
                bg = neutrals[-1] if len(neutrals) else light
            else:
                bg = rng.choice(
                    (_rgb(h, 0.07, 0.97), _rgb(h, 0.1, 0.96), (245, 238, 224), _rgb(h, 0.45, 0.16))
                )
        else:  # only neutrals: a monochrome design
            ordered = sorted(neutrals, key=_luminance)
            dark, light = ordered[0], ordered[-1]
            bg = light if len(ordered) == 1 or rng.random() < 0.7 else dark
            if len(ordered) == 1:
                bg = (245, 245, 242) if _luminance(dark) < 0.5 else (24, 24, 28)
            p = dark if bg == light or (len(ordered) == 1 and _luminance(bg) > 0.5) else light
            s = _mix(p, bg, 0.45)
            a = p
        pal = Palette(bg, p, s, a, dark, light)
    else:
        pal = base

    if "pastel" in styles:
        pal = Palette(
            _rgb(_hsv(pal.bg)[0], 0.06, 0.99),
            *(
                _rgb(h, min(s, 0.38), max(v, 0.9))
                for h, s, v in map(_hsv, (pal.primary, pal.secondary, pal.accent))
            ),
            _rgb(_hsv(pal.dark)[0], 0.3, 0.38),
            (255, 255, 255),
        )
    if "neon" in styles:
        # Neon tubes: saturated hues (neutrals get classic pink, cyan, yellow) on a near-black.
        hues = [
            _hsv(c)[0] if _hsv(c)[1] > 0.15 else fallback
            for c, fallback in zip(
                (pal.primary, pal.secondary, pal.accent), (0.92, 0.5, 0.15), strict=True
            )
        ]
        tubes = [_rgb(hh, 0.85, 1.0) for hh in hues]
        pal = Palette(
            _rgb(hues[0] + 0.6, 0.7, 0.08),
            *tubes,
            tubes[0] if line else (6, 4, 14),
            (250, 250, 255),
        )
    if styles & {"vintage", "retro"} and not named and not moods:
        pal = MOOD_PALETTES["vintage"] if "vintage" in styles else CURATED["retro"]
    if line and not pair and "neon" not in styles:
        ink = pal.dark if _luminance(pal.dark) < 0.1 else (20, 20, 24)
        if named and not _is_neutral(named[0]) and _luminance(named[0]) < 0.4:
            ink = named[0]
        paper = pal.bg if _luminance(pal.bg) > 0.75 else (250, 250, 247)
        pal = Palette(paper, ink, ink, ink, ink, paper)

    if avoid:
        pal = Palette(*(_allowed(c, avoid) for c in pal.as_list()))
    # Shapes must read against the backdrop.
    if contrast(pal.primary, pal.bg) < 1.5:
        bg = (
            _rgb(_hsv(pal.primary)[0], 0.5, 0.16)
            if _luminance(pal.primary) > 0.3
            else _rgb(_hsv(pal.primary)[0], 0.05, 0.98)
        )
        pal = Palette(_allowed(bg, avoid), *pal.as_list()[1:])
    return replace(pal, avoid=tuple(avoid))


def _roles(pal: Palette, named: bool = False) -> dict[str, RGB]:
    greenish = [
        c
        for c in (pal.secondary, pal.primary, pal.accent)
        if 0.2 < _hsv(c)[0] < 0.5 and _hsv(c)[1] > 0.25
    ]
    g = greenish[0] if greenish else pal.secondary
    out = {
        "p": pal.primary,
        "s": pal.secondary,
        "a": pal.accent,
        "d": pal.dark,
        "l": pal.light,
        "g": g,
        "ink": pal.dark,
        "paper": pal.bg,
        "bgk": pal.bg,
    }
    # The hero colour of naturally golden subjects (sun, star, bolt, crown, flame).
    out["h"] = pal.primary if named else pal.accent
    for k in ("p", "s", "a", "g", "h"):
        out[k + "s"] = _mix(out[k], pal.dark, 0.28)
    out["ls"] = _mix(pal.light, pal.dark, 0.15)
    out["ds"] = pal.dark
    return out

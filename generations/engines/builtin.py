"""`builtin:procedural`: a deterministic procedural renderer. It is not a neural model.

It reads a prompt for colour words, subject words, style words and composition words, then draws
flat vector design art with classical 2D drawing (Pillow polygons, supersampled for antialiasing):
a palette built from the colour words, a composition and details chosen by the seed, subjects from
`procedural_shapes`, and any quoted text set as real typography. The same prompt, negative prompt,
size and seed always give the same bytes. See docs/engines-builtin.md.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import random
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from generations.engines.base import (
    Capability,
    Engine,
    EngineImage,
    GenerationRequest,
    ProgressFn,
)
from generations.engines.procedural_shapes import (
    GROUND_SUBJECTS,
    MAIN_ROLE,
    SKY_SUBJECTS,
    SUBJECTS,
    Pen,
    star_pts,
)
from generations.engines.registry import register_engine

RGB = tuple[int, int, int]

COLOUR_WORDS: dict[str, RGB] = {
    "red": (214, 48, 49),
    "crimson": (178, 34, 52),
    "scarlet": (230, 40, 30),
    "orange": (243, 130, 35),
    "amber": (255, 176, 0),
    "yellow": (250, 211, 60),
    "mustard": (214, 170, 40),
    "gold": (212, 175, 55),
    "golden": (212, 175, 55),
    "lime": (166, 206, 57),
    "green": (46, 160, 90),
    "olive": (128, 128, 60),
    "sage": (156, 175, 136),
    "mint": (152, 230, 190),
    "emerald": (20, 140, 90),
    "teal": (0, 128, 128),
    "cyan": (40, 200, 220),
    "turquoise": (64, 224, 208),
    "aqua": (80, 220, 230),
    "blue": (40, 90, 200),
    "cobalt": (0, 71, 171),
    "navy": (20, 33, 80),
    "indigo": (75, 0, 130),
    "purple": (128, 60, 170),
    "violet": (143, 94, 206),
    "lavender": (190, 170, 230),
    "lilac": (200, 162, 200),
    "pink": (240, 120, 170),
    "magenta": (210, 40, 160),
    "fuchsia": (230, 50, 180),
    "brown": (120, 78, 45),
    "tan": (210, 180, 140),
    "beige": (232, 216, 186),
    "cream": (250, 242, 220),
    "ivory": (252, 248, 232),
    "white": (248, 248, 245),
    "black": (18, 18, 22),
    "grey": (128, 128, 132),
    "gray": (128, 128, 132),
    "silver": (190, 192, 198),
    "charcoal": (54, 57, 63),
    "coral": (255, 120, 100),
    "salmon": (250, 140, 115),
    "peach": (255, 200, 160),
    "rose": (230, 90, 120),
    "burgundy": (128, 0, 32),
    "maroon": (120, 20, 40),
    "sky": (130, 190, 240),
    "forest": (34, 90, 50),
    "sand": (220, 196, 150),
    "terracotta": (204, 102, 68),
    "rust": (183, 65, 14),
}


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

SUBJECT_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ["mountain", "peak", "hill", "alps", "summit", "hiking", "hike", "alpine"], "mountain"
    ),
    **dict.fromkeys(["sun", "sunny", "sunshine", "sunrise", "sunset", "summer", "sunburst"], "sun"),
    **dict.fromkeys(["moon", "lunar", "crescent", "night"], "moon"),
    **dict.fromkeys(["wave", "ocean", "sea", "surf", "surfing", "water", "lake", "river"], "wave"),
    **dict.fromkeys(
        ["pine", "forest", "fir", "evergreen", "christmas", "wood", "woods", "camping"], "pine"
    ),
    **dict.fromkeys(["tree", "oak", "garden"], "tree"),
    **dict.fromkeys(["palm", "tropical", "beach", "island"], "palm"),
    **dict.fromkeys(["cactus", "cacti", "desert", "succulent"], "cactus"),
    **dict.fromkeys(
        ["flower", "floral", "daisy", "blossom", "bloom", "tulip", "spring", "botanical"], "flower"
    ),
    **dict.fromkeys(["heart", "love", "valentine"], "heart"),
    **dict.fromkeys(["star", "starry", "celestial"], "star"),
    **dict.fromkeys(["cat", "kitten", "kitty", "meow", "feline"], "cat"),
    **dict.fromkeys(["coffee", "cup", "mug", "latte", "espresso", "cafe", "tea"], "coffee"),
    **dict.fromkeys(["cabin", "house", "home", "cottage", "hut", "barn"], "cabin"),
    **dict.fromkeys(
        ["planet", "saturn", "space", "galaxy", "cosmic", "universe", "astronaut"], "planet"
    ),
    **dict.fromkeys(["lightning", "bolt", "thunder", "electric", "storm", "energy"], "lightning"),
    **dict.fromkeys(["leaf", "leaves", "plant", "nature", "eco", "vegan"], "leaf"),
    **dict.fromkeys(["rocket", "launch", "spaceship"], "rocket"),
    **dict.fromkeys(["cloud", "cloudy", "weather", "dream"], "cloud"),
    **dict.fromkeys(["drop", "raindrop", "rain", "droplet"], "drop"),
    **dict.fromkeys(["fish", "fishing", "koi", "aquarium"], "fish"),
    **dict.fromkeys(["bird", "sparrow", "swallow", "robin"], "bird"),
    **dict.fromkeys(["mushroom", "fungi", "toadstool", "shroom"], "mushroom"),
    **dict.fromkeys(["gem", "diamond", "crystal", "jewel"], "gem"),
    **dict.fromkeys(["crown", "king", "queen", "royal", "princess"], "crown"),
    **dict.fromkeys(["anchor", "nautical", "sailor", "marine"], "anchor"),
    **dict.fromkeys(["eye", "vision", "mystic"], "eye"),
    **dict.fromkeys(["music", "musical", "note", "melody", "song"], "note"),
    **dict.fromkeys(["paw", "dog", "puppy", "pet"], "paw"),
    **dict.fromkeys(["snow", "snowflake", "winter", "frost", "ice"], "snowflake"),
    **dict.fromkeys(["fire", "flame", "hot", "burn", "campfire"], "flame"),
    **dict.fromkeys(["skull", "halloween", "spooky", "pirate"], "skull"),
    **dict.fromkeys(["abstract", "shape", "geometry", "bauhaus"], "abstract"),
}
SUBJECT_WORDS.update({name: name for name in SUBJECTS})
COMPOUND_HEADS = frozenset({"tree", "cup", "mug", "drop", "flake", "bolt"})
# Kept for callers of the first version: the drawable subjects are the motifs.
MOTIFS = tuple(SUBJECTS)
MOTIF_WORDS = SUBJECT_WORDS

STYLE_WORDS: dict[str, str] = {
    **dict.fromkeys(["minimal", "minimalist", "minimalistic", "simple", "clean"], "minimal"),
    **dict.fromkeys(["retro", "seventies", "groovy"], "retro"),
    **dict.fromkeys(["vintage", "antique", "classic", "old", "heritage"], "vintage"),
    **dict.fromkeys(["neon", "glow", "glowing", "cyberpunk", "synthwave", "vaporwave"], "neon"),
    **dict.fromkeys(["pastel", "soft", "kawaii", "cute"], "pastel"),
    **dict.fromkeys(
        ["line", "lineart", "outline", "outlined", "linework", "sketch", "contour"], "line"
    ),
    **dict.fromkeys(["flat", "vector"], "flat"),
    **dict.fromkeys(["grunge", "distressed", "worn", "grungy", "rough"], "grunge"),
    **dict.fromkeys(["halftone", "comic", "pop"], "halftone"),
    **dict.fromkeys(["geometric", "bauhaus"], "geometric"),
    **dict.fromkeys(["watercolor", "watercolour", "painted", "dreamy"], "watercolor"),
    **dict.fromkeys(
        ["grain", "grainy", "texture", "textured", "noise", "risograph", "riso"], "grain"
    ),
    **dict.fromkeys(["gradient"], "gradient"),
    **dict.fromkeys(
        [
            "text",
            "typography",
            "words",
            "letters",
            "lettering",
            "watermark",
            "caption",
            "title",
            "font",
            "signature",
        ],
        "text",
    ),
    **dict.fromkeys(["border", "frame", "ring"], "frame"),
    **dict.fromkeys(["shadow", "shadows"], "shadow"),
}
COMPOSITION_WORDS: dict[str, str] = {
    **dict.fromkeys(["sticker", "decal", "diecut", "die"], "sticker"),
    **dict.fromkeys(["stickers", "sheet", "pack", "decals"], "sheet"),
    **dict.fromkeys(
        ["badge", "emblem", "patch", "pin", "crest", "seal", "logo", "insignia", "stamp"], "badge"
    ),
    **dict.fromkeys(
        [
            "pattern",
            "seamless",
            "fabric",
            "wallpaper",
            "repeat",
            "repeating",
            "tile",
            "tiled",
            "textile",
            "wrapping",
        ],
        "pattern",
    ),
    **dict.fromkeys(["poster", "print", "flyer", "cover", "postcard"], "poster"),
    **dict.fromkeys(
        [
            "landscape",
            "scene",
            "scenery",
            "valley",
            "horizon",
            "vista",
            "lake",
            "sunrise",
            "sunset",
        ],
        "scene",
    ),
    **dict.fromkeys(["shirt", "tshirt", "tee", "slogan", "quote", "typographic"], "slogan"),
    **dict.fromkeys(["icon", "illustration", "mascot", "spot"], "emblem"),
}
COMPOSITIONS = ("emblem", "badge", "poster", "sticker", "pattern", "scene", "slogan", "sheet")
# Subjects that stand on the ground: a line drawing gives them a ground stroke.
GROUNDED = frozenset({"mountain", "pine", "tree", "cabin", "cactus", "palm", "mushroom"})
OWN_GROUND = frozenset({"mountain"})  # subjects whose line drawing has its own ground stroke
LANDSCAPE_SUBJECTS = frozenset(
    {"mountain", "wave", "pine", "tree", "palm", "cactus", "cabin", "sun", "moon"}
)

FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts"
SYSTEM_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {
    "sans": "DejaVuSans-Bold.ttf",
    "serif": "DejaVuSerif-Bold.ttf",
    "condensed": "DejaVuSansCondensed-Bold.ttf",
    "light": "DejaVuSans-ExtraLight.ttf",
}
WORK_LONG_SIDE = 4096  # the supersampled canvas never exceeds this; 4k outputs are drawn 1:1


# --- reading the prompt -------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(
        r"[a-z]+", re.sub(r"[\"“”][^\"“”]*[\"“”]", " ", text.lower().replace("t-shirt", "tshirt"))
    )


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 and not word.endswith("ss") else word


def _lookup(word: str, table: dict[str, str]) -> str | None:
    return (
        table.get(word)
        or table.get(_stem(word))
        or (table.get(word[:-2]) if word.endswith("es") else None)
    )


def quoted_text(prompt: str) -> str:
    match = re.search(r"[\"“]([^\"”]{1,80})[\"”]", prompt) or re.search(
        r"(?:^|\s)'([^']{1,80})'(?:\s|$|[.,!?])", prompt
    )
    return match.group(1).strip() if match else ""


@dataclass
class Design:
    """Everything the prompt and negative prompt decided, before the seed adds its choices."""

    text: str
    subjects: list[str]
    styles: set[str]
    avoid_styles: set[str]
    compositions: list[str]
    avoid_compositions: set[str]
    line: bool
    palette: Palette
    notes: dict[str, str] = field(default_factory=dict)
    ss: int = 1  # the supersampling factor of the canvas the composers draw on
    named: bool = False  # the prompt named colours: they lead, even on sun and star shapes
    plural: frozenset[str] = frozenset()  # subjects named in the plural ("pine trees")


def _avoided_colours(negative: str) -> list[str]:
    return [
        w
        for w in (_stem(x) if _stem(x) in COLOUR_WORDS else x for x in _words(negative))
        if w in COLOUR_WORDS
    ]


def motifs_for(prompt: str, negative: str, rng: random.Random) -> list[str]:
    """The subjects to draw, in prompt order, minus those the negative prompt names.

    With no subject word the seed picks one (the abstract geometry is one of the choices).
    """
    avoid = {s for w in _words(negative) if (s := _lookup(w, SUBJECT_WORDS))}
    chosen: list[str] = []
    previous: str | None = None
    for word in _words(prompt):
        subject = _lookup(word, SUBJECT_WORDS)
        # "palm tree", "pine trees", "coffee cup": the head noun only refines the word before it.
        compound = previous is not None and _stem(word) in COMPOUND_HEADS
        previous = subject
        if subject and not compound and subject not in avoid and subject not in chosen:
            chosen.append(subject)
    if not chosen:
        pool = [
            s
            for s in (
                "abstract",
                "abstract",
                "star",
                "heart",
                "flower",
                "mountain",
                "sun",
                "leaf",
                "planet",
                "wave",
            )
            if s not in avoid
        ]
        chosen = [rng.choice(pool)] if pool else []
    return chosen


# --- colour -------------------------------------------------------------------------------------


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


def _styles(prompt: str) -> set[str]:
    words = _words(prompt)
    styles = {s for w in words if (s := _lookup(w, STYLE_WORDS))}
    text = " ".join(words)
    if re.search(r"\bline (drawing|art|illustration|work)\b|\bdrawn\b|\bink\b", text):
        styles.add("line")
    if "drawing" in words and ("black" in words or "pen" in words or "pencil" in words):
        styles.add("line")
    return styles - {"text", "frame", "shadow", "gradient", "grain"} | (
        styles & {"gradient", "grain"}
    )


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


# --- text ---------------------------------------------------------------------------------------


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


# --- canvas helpers -----------------------------------------------------------------------------


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
        pen = Pen(
            img, cx - offset[0], cy - offset[1], r, roles, line=d.line, stroke=stroke, rotate=rot
        )
        SUBJECTS[name](pen, rng)


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


# --- compositions -------------------------------------------------------------------------------


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
        and subjects[0] in GROUNDED | {"flower", "cat", "mushroom"}
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
    ordered = sorted(subjects, key=lambda s: s in SKY_SUBJECTS)
    hero, rest = ordered[0], ordered[1:3]
    out = []
    for i, name in enumerate(rest):
        side = -1 if i == 0 else 1
        if name in SKY_SUBJECTS:
            out.append((name, cx + side * r * 0.62, cy - r * 0.62, r * 0.38, 0.0))
        else:
            out.append((name, cx + side * r * 0.72, cy + r * 0.45, r * 0.42, 0.0))
    return [
        *[o for o in out if o[0] in SKY_SUBJECTS],
        (hero, cx, cy + r * 0.05, r * 0.82, 0.0),
        *[o for o in out if o[0] not in SKY_SUBJECTS],
    ]


def _case(text: str, kind: str, rng: random.Random) -> str:
    return text.upper() if kind in ("condensed", "serif") and len(text) <= 40 else text


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
    subject_cols = [bg, *(roles[MAIN_ROLE.get(name, "p")] for name in d.subjects[:3])]
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
    sky = [s for s in d.subjects if s in SKY_SUBJECTS]
    ground = [s for s in d.subjects if s in GROUND_SUBJECTS]
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


def _avoid_subjects(d: Design) -> set[str]:
    return set(d.notes.get("avoid_subjects", "").split())


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


# --- finishing ----------------------------------------------------------------------------------


def _bloom(img: Image.Image) -> Image.Image:
    """Neon glow: bright strokes bleed light around them (blurred at 1/4 scale, added back)."""
    import cv2

    arr = np.asarray(img)
    h, w = arr.shape[:2]
    k = 4
    small = cv2.resize(arr, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
    bright = cv2.subtract(small, np.full_like(small, 40))
    glow = cv2.GaussianBlur(bright, (0, 0), max(1.0, min(w, h) / k / 60))
    glow = cv2.resize(glow, (w, h), interpolation=cv2.INTER_LINEAR)
    return Image.fromarray(cv2.addWeighted(arr, 1.0, glow, 1.6, 0), "RGB")


def _finish(img: Image.Image, d: Design, seed: int) -> Image.Image:
    """Print textures at output resolution: grain, distressing, vignette.

    Noise comes from a small seeded tile repeated over the image: it reads as film grain, and PNG's
    deflate finds the repeats, so a grainy 1024² image still encodes fast and small.
    """
    import cv2

    styles = d.styles
    grain = bool(styles & {"vintage", "retro", "grunge", "grain"}) and "grain" not in d.avoid_styles
    grunge = "grunge" in styles and "grain" not in d.avoid_styles
    vignette = bool(styles & {"neon", "vintage"}) and (not d.line or "neon" in styles)
    if "neon" in styles:
        img = _bloom(img)
    watercolor = "watercolor" in styles and not d.line
    if not (grain or grunge or vignette or watercolor):
        return img
    w, h = img.size
    gen = np.random.default_rng(seed)
    arr = np.asarray(img).copy()
    ty, tx = 89, 97
    reps = (h // ty + 1, w // tx + 1)
    if watercolor:
        # Soft pigment edges and blotchy paper: blur a little, then modulate by slow noise.
        arr = cv2.GaussianBlur(arr, (0, 0), max(0.6, min(w, h) / 600))
        field = gen.random((max(2, h // 48), max(2, w // 48)), dtype=np.float32)
        small = ((0.93 + 0.09 * field) * 200).clip(0, 255).astype(np.uint8)
        tint = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        arr = cv2.multiply(arr, cv2.merge([tint, tint, tint]), scale=1 / 200)
    if grunge:
        blobs = gen.random((max(2, h // 24), max(2, w // 24)), dtype=np.float32)
        blob = cv2.resize(blobs, (w, h), interpolation=cv2.INTER_LINEAR)
        speck = cv2.repeat(gen.random((ty, tx), dtype=np.float32), *reps)[:h, :w]
        # Wear shows as the paper colour, taken from the corner (the backdrop under the print).
        mask = (blob * 0.55 + speck * 0.45) > 0.76
        arr[mask] = arr[0, 0]
    if vignette:
        g = np.mgrid[0:32, 0:32].astype(np.float32) / 31 - 0.5
        v = 1 - 0.4 * np.clip((g[0] ** 2 + g[1] ** 2) * 2.2 - 0.15, 0, 1)
        vig = cv2.resize((v * 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
        arr = cv2.multiply(arr, cv2.merge([vig, vig, vig]), scale=1 / 255)
    if grain:
        # Sparse specks rather than dense noise: the print texture survives, PNG stays small.
        tile = gen.integers(-20, 21, size=(ty, tx), dtype=np.int16)
        tile[gen.random((ty, tx)) > 0.06] = 0
        up_t = np.clip(tile, 0, None).astype(np.uint8)
        down_t = np.clip(-tile, 0, None).astype(np.uint8)
        up = cv2.repeat(cv2.merge([up_t, up_t, up_t]), *reps)[:h, :w]
        down = cv2.repeat(cv2.merge([down_t, down_t, down_t]), *reps)[:h, :w]
        arr = cv2.subtract(cv2.add(arr, up), down)
    return Image.fromarray(arr, "RGB")


# --- entry points -------------------------------------------------------------------------------


def _plural_subjects(words: list[str]) -> frozenset[str]:
    out: set[str] = set()
    previous: str | None = None
    for word in words:
        subject = _lookup(word, SUBJECT_WORDS)
        plural = word.endswith("s") and _stem(word) != word
        if plural and previous and _stem(word) in COMPOUND_HEADS:
            out.add(previous)
        elif plural and subject:
            out.add(subject)
        previous = subject
    return frozenset(out)


def design_for(prompt: str, negative: str, rng: random.Random) -> Design:
    styles = _styles(prompt)
    avoid_words = _words(negative)
    avoid_styles = {s for w in avoid_words if (s := _lookup(w, STYLE_WORDS))}
    if re.search(r"\bline (drawing|art)\b", negative.lower()):
        avoid_styles.add("line")
    styles -= avoid_styles
    if "neon" in styles and "line" not in avoid_styles:
        styles.add("line")  # neon signs are glowing line drawings
    avoid_compositions = {c for w in avoid_words if (c := _lookup(w, COMPOSITION_WORDS))}
    words = _words(prompt)
    compositions = [
        c for w in words if (c := _lookup(w, COMPOSITION_WORDS)) and c not in avoid_compositions
    ]
    palette = _palette(prompt, negative, styles, rng)
    subjects = motifs_for(prompt, negative, rng)
    named_subject = any(_lookup(w, SUBJECT_WORDS) for w in _words(prompt))
    if "geometric" in styles and not named_subject and "abstract" not in _words(negative):
        subjects = ["abstract"]
    text = "" if "text" in avoid_styles else quoted_text(prompt)
    avoid_subjects = {s for w in avoid_words if (s := _lookup(w, SUBJECT_WORDS))}
    if not subjects:
        subjects = ["abstract"] if "abstract" not in avoid_subjects else []
    d = Design(
        text=text,
        subjects=subjects,
        styles=styles,
        avoid_styles=avoid_styles,
        compositions=compositions,
        avoid_compositions=avoid_compositions,
        line="line" in styles,
        palette=palette,
        notes={"avoid_subjects": " ".join(sorted(avoid_subjects))},
        named=any(w in COLOUR_WORDS for w in _words(prompt)),
        plural=_plural_subjects(words),
    )
    return d


def _choose_composition(d: Design, rng: random.Random) -> str:
    # A named format (sticker, badge, pattern, poster, t-shirt) beats a scene word like "sunset".
    # "sticker sheet" is a sheet, and a sheet is the most specific format of all.
    ordered = sorted(
        d.compositions, key=lambda c: 0 if c == "sheet" else 2 if c in ("scene", "emblem") else 1
    )
    for c in ordered:
        if c == "slogan" and not d.text:
            continue
        if c == "scene" and d.line and not (set(d.subjects) & LANDSCAPE_SUBJECTS):
            continue
        return c
    if d.line and "neon" in d.styles:
        pool = ["emblem", "badge", "poster"] + (["slogan", "slogan"] if d.text else [])
    elif d.line:
        # A minimalist line drawing is just the drawing: no badge rings around it.
        pool = ["emblem"] if "minimal" in d.styles else ["emblem", "emblem", "badge"]
    else:
        pool = ["emblem", "badge", "poster", "sticker", "emblem"]
        if set(d.subjects) & LANDSCAPE_SUBJECTS:
            pool += ["scene", "scene"]
        if d.text:
            pool += ["slogan", "slogan"]
        else:
            pool += ["pattern"]
    pool = [c for c in pool if c not in d.avoid_compositions] or ["emblem"]
    return rng.choice(pool)


def render(prompt: str, width: int, height: int, seed: int, negative: str = "") -> Image.Image:
    """Draw the design for `prompt` at width × height. Pure: same arguments, same pixels."""
    rng = random.Random(seed)
    d = design_for(prompt, negative, rng)
    if not d.subjects:
        d.subjects = ["abstract"] if "abstract" not in _avoid_subjects(d) else []
    composition = _choose_composition(d, rng)
    long_side = max(width, height)
    ss = 2 if long_side <= 1024 else 1
    scale = min(ss, WORK_LONG_SIDE / long_side)
    cw, ch = max(16, round(width * scale)), max(16, round(height * scale))
    d.ss = 2 if scale == 2 else 1
    if not d.subjects:  # everything was negated: typography and colour only
        d.subjects = []
        img = _compose_subjectless(cw, ch, d, rng)
    else:
        img = COMPOSERS[composition](cw, ch, d, rng)
    work = (max(1, round(cw / ss)), max(1, round(ch / ss))) if ss > 1 else (cw, ch)
    if img.size == (work[0] * 2, work[1] * 2):
        img = img.reduce(2)
    elif img.size != work:
        img = img.resize(work, Image.Resampling.LANCZOS)
    img = _finish(img, d, seed)
    if img.size != (width, height):
        img = img.resize((width, height), Image.Resampling.LANCZOS)
    return img


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


def seed_for(prompt: str, seed: int | None, index: int) -> int:
    if seed is None:
        seed = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big")
    return (seed + index) % (2**31)


def encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False, compress_level=1)
    return buf.getvalue()


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
            out.append(EngineImage(encode_png(img), "image/png", img.width, img.height, seed=seed))
        progress(100, "rendered")
        return out

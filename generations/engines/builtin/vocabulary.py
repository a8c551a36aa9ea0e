"""The words the procedural engine reads: colours, subjects, styles and formats, and how a prompt
is cut into words (stems, plurals, quoted text)."""

from __future__ import annotations

import re

from generations.engines.procedural_shapes import SUBJECTS

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


SUBJECT_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ["mountain", "peak", "hill", "alps", "summit", "hiking", "hike", "alpine"], "mountain"
    ),
    **dict.fromkeys(["sun", "sunny", "sunshine", "sunrise", "sunset", "summer", "sunburst"], "sun"),
    **dict.fromkeys(["moon", "lunar", "crescent", "night"], "moon"),
    **dict.fromkeys(["wave", "ocean", "sea", "surf", "surfing", "water", "lake", "river"], "wave"),
    **dict.fromkeys(["pine", "forest", "fir", "evergreen", "christmas", "wood", "woods"], "pine"),
    **dict.fromkeys(["tree", "oak", "garden"], "tree"),
    **dict.fromkeys(["palm", "tropical", "beach", "island"], "palm"),
    **dict.fromkeys(["cactus", "cacti", "desert", "succulent"], "cactus"),
    **dict.fromkeys(
        ["flower", "floral", "daisy", "blossom", "bloom", "tulip", "spring", "botanical"], "flower"
    ),
    **dict.fromkeys(["heart", "love", "valentine"], "heart"),
    **dict.fromkeys(["star", "starry", "celestial"], "star"),
    **dict.fromkeys(["cat", "kitten", "kitty", "meow", "feline"], "cat"),
    **dict.fromkeys(["coffee", "cup", "mug", "latte", "espresso", "cafe"], "coffee"),
    **dict.fromkeys(["cabin", "house", "home", "cottage", "hut", "barn"], "cabin"),
    **dict.fromkeys(["planet", "saturn", "space", "galaxy", "cosmic", "universe"], "planet"),
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
    **dict.fromkeys(["paw", "pet", "pawprint"], "paw"),
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


def _avoided_colours(negative: str) -> list[str]:
    return [
        w
        for w in (_stem(x) if _stem(x) in COLOUR_WORDS else x for x in _words(negative))
        if w in COLOUR_WORDS
    ]


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

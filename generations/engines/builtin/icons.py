"""The drawn-subject vocabulary: about 1,600 Fluent Emoji Flat drawings (MIT), indexed by name,
keywords and synonyms, and drawn as vector shapes in the prompt's colours.

The data is `data/icons.npz`, built once from the icon set by `icon_build.py` (polylines in 1/64
units of the set's 32-unit box, colours, fill rules) and committed with its licence in
`LICENSES/`. Nothing is fetched at run time. `find(word)` answers which drawing a word names;
`draw_icon()` fills the shapes with OpenCV (antialiased, even-odd or nonzero as the SVG said)
onto a Pillow image, recoloured by a `Recolour` and optionally as a line drawing.
"""

from __future__ import annotations

import colorsys
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")

RGB = tuple[int, int, int]
DATA = Path(__file__).parent / "data" / "icons.npz"
PREFIX = "icon:"
SUBPIXEL = 4  # OpenCV's fixed-point shift: polygon vertices at 1/16 px

# Words that name an icon better than its own name or keywords do (everyday product-art nouns
# the emoji names miss). Keys are lemmas; values are icon names.
SYNONYMS: dict[str, str] = {
    "retriever": "dog",
    "labrador": "dog",
    "puppy": "dog",
    "pup": "dog",
    "doggy": "dog",
    "corgi": "dog",
    "beagle": "dog",
    "husky": "dog",
    "terrier": "dog",
    "kitty": "cat",
    "kitten": "cat",
    "bunny": "rabbit",
    "hare": "rabbit",
    "pony": "horse",
    "stallion": "horse",
    "foal": "horse",
    "bee": "honeybee",
    "bumblebee": "honeybee",
    "ladybird": "lady-beetle",
    "ladybug": "lady-beetle",
    "beetle": "beetle",
    "bug": "bug",
    "insect": "bug",
    "moth": "butterfly",
    "dinosaur": "sauropod",
    "dino": "sauropod",
    "brontosaurus": "sauropod",
    "trex": "t-rex",
    "tyrannosaurus": "t-rex",
    "piggy": "pig",
    "hog": "pig",
    "chick": "baby-chick",
    "hen": "chicken",
    "rooster": "rooster",
    "duckling": "duck",
    "swan": "swan",
    "goose": "goose",
    "orca": "whale",
    "killer whale": "whale",
    "seal": "seal",
    "walrus": "seal",
    "sealion": "seal",
    "jellyfish": "jellyfish",
    "octopi": "octopus",
    "squid": "squid",
    "lobster": "lobster",
    "crab": "crab",
    "shrimp": "shrimp",
    "prawn": "shrimp",
    "tortoise": "turtle",
    "lizard": "lizard",
    "gecko": "lizard",
    "chameleon": "lizard",
    "iguana": "lizard",
    "snake": "snake",
    "serpent": "snake",
    "cobra": "snake",
    "python": "snake",
    "frog": "frog",
    "toad": "frog",
    "owl": "owl",
    "eagle": "eagle",
    "hawk": "eagle",
    "falcon": "eagle",
    "parrot": "parrot",
    "macaw": "parrot",
    "flamingo": "flamingo",
    "peacock": "peacock",
    "penguin": "penguin",
    "dove": "dove",
    "pigeon": "dove",
    "raven": "blackbird",
    "crow": "blackbird",
    "blackbird": "blackbird",
    "bear": "bear",
    "grizzly": "bear",
    "teddy": "teddy-bear",
    "panda": "panda",
    "koala": "koala",
    "sloth": "sloth",
    "otter": "otter",
    "beaver": "beaver",
    "raccoon": "raccoon",
    "hedgehog": "hedgehog",
    "porcupine": "hedgehog",
    "squirrel": "chipmunk",
    "chipmunk": "chipmunk",
    "mouse": "mouse",
    "rat": "rat",
    "hamster": "hamster",
    "lion": "lion",
    "tiger": "tiger",
    "leopard": "leopard",
    "cheetah": "leopard",
    "jaguar": "leopard",
    "deer": "deer",
    "reindeer": "deer",
    "stag": "deer",
    "moose": "moose",
    "elk": "moose",
    "cow": "cow",
    "bull": "ox",
    "calf": "cow",
    "ox": "ox",
    "buffalo": "water-buffalo",
    "bison": "bison",
    "sheep": "ewe",
    "lamb": "ewe",
    "ram": "ram",
    "goat": "goat",
    "llama": "llama",
    "alpaca": "llama",
    "camel": "two-hump-camel",
    "giraffe": "giraffe",
    "zebra": "zebra",
    "elephant": "elephant",
    "rhino": "rhinoceros",
    "hippo": "hippopotamus",
    "kangaroo": "kangaroo",
    "monkey": "monkey",
    "ape": "gorilla",
    "chimp": "monkey",
    "chimpanzee": "monkey",
    "gorilla": "gorilla",
    "orangutan": "orangutan",
    "wolf": "wolf",
    "coyote": "wolf",
    "fox": "fox",
    "unicorn": "unicorn",
    "dragon": "dragon",
    "fairy": "woman-fairy",
    "ghost": "ghost",
    "alien": "alien",
    "robot": "robot",
    "zombie": "person-zombie",
    "vampire": "person-vampire",
    "wizard": "man-mage",
    "witch": "woman-mage",
    "ninja": "ninja",
    "clown": "clown-face",
    "santa": "santa-claus",
    "snowman": "snowman",
    "pumpkin": "jack-o-lantern",
    "jackolantern": "jack-o-lantern",
    # Food and drink
    "apple": "red-apple",
    "pear": "pear",
    "peach": "peach",
    "cherry": "cherries",
    "strawberry": "strawberry",
    "blueberry": "blueberries",
    "berry": "strawberry",
    "grape": "grapes",
    "lemon": "lemon",
    "lime": "lemon",
    "orange": "tangerine",
    "tangerine": "tangerine",
    "mandarin": "tangerine",
    "citrus": "lemon",
    "banana": "banana",
    "pineapple": "pineapple",
    "mango": "mango",
    "coconut": "coconut",
    "kiwi": "kiwi-fruit",
    "melon": "melon",
    "watermelon": "watermelon",
    "avocado": "avocado",
    "tomato": "tomato",
    "carrot": "carrot",
    "corn": "ear-of-corn",
    "broccoli": "broccoli",
    "cucumber": "cucumber",
    "pickle": "cucumber",
    "chili": "hot-pepper",
    "chilli": "hot-pepper",
    "pepper": "bell-pepper",
    "jalapeno": "hot-pepper",
    "eggplant": "eggplant",
    "aubergine": "eggplant",
    "potato": "potato",
    "garlic": "garlic",
    "onion": "onion",
    "ginger": "ginger-root",
    "bread": "bread",
    "loaf": "bread",
    "baguette": "baguette-bread",
    "croissant": "croissant",
    "bagel": "bagel",
    "pretzel": "pretzel",
    "pancake": "pancakes",
    "waffle": "waffle",
    "cheese": "cheese-wedge",
    "egg": "egg",
    "bacon": "bacon",
    "burger": "hamburger",
    "hamburger": "hamburger",
    "cheeseburger": "hamburger",
    "fries": "french-fries",
    "pizza": "pizza",
    "hotdog": "hot-dog",
    "sandwich": "sandwich",
    "taco": "taco",
    "burrito": "burrito",
    "sushi": "sushi",
    "ramen": "steaming-bowl",
    "noodle": "steaming-bowl",
    "pho": "steaming-bowl",
    "soup": "pot-of-food",
    "rice": "cooked-rice",
    "curry": "curry-rice",
    "spaghetti": "spaghetti",
    "pasta": "spaghetti",
    "dumpling": "dumpling",
    "popcorn": "popcorn",
    "salad": "green-salad",
    "steak": "cut-of-meat",
    "meat": "cut-of-meat",
    "drumstick": "poultry-leg",
    "icecream": "soft-ice-cream",
    "ice cream": "soft-ice-cream",
    "gelato": "ice-cream",
    "cone": "soft-ice-cream",
    "cake": "shortcake",
    "birthday": "birthday-cake",
    "cupcake": "cupcake",
    "muffin": "cupcake",
    "cookie": "cookie",
    "biscuit": "cookie",
    "donut": "doughnut",
    "doughnut": "doughnut",
    "pie": "pie",
    "chocolate": "chocolate-bar",
    "candy": "candy",
    "sweet": "candy",
    "lollipop": "lollipop",
    "honey": "honey-pot",
    "milk": "glass-of-milk",
    "juice": "beverage-box",
    "smoothie": "bubble-tea",
    "boba": "bubble-tea",
    "tea": "teacup-without-handle",
    "teapot": "teapot",
    "beer": "beer-mug",
    "wine": "wine-glass",
    "cocktail": "cocktail-glass",
    "martini": "cocktail-glass",
    "champagne": "bottle-with-popping-cork",
    "whiskey": "tumbler-glass",
    "whisky": "tumbler-glass",
    "soda": "cup-with-straw",
    # Objects, places, hobbies
    "bike": "bicycle",
    "bicycle": "bicycle",
    "cycling": "bicycle",
    "cyclist": "bicycle",
    "motorbike": "motorcycle",
    "scooter": "motor-scooter",
    "car": "automobile",
    "auto": "automobile",
    "truck": "delivery-truck",
    "bus": "bus",
    "train": "locomotive",
    "tram": "tram",
    "plane": "airplane",
    "aeroplane": "airplane",
    "airplane": "airplane",
    "jet": "airplane",
    "helicopter": "helicopter",
    "boat": "sailboat",
    "sailboat": "sailboat",
    "yacht": "sailboat",
    "ship": "ship",
    "canoe": "canoe",
    "kayak": "canoe",
    "balloon": "balloon",
    "kite": "kite",
    "ufo": "flying-saucer",
    "tent": "camping",
    "campsite": "camping",
    "castle": "castle",
    "volcano": "volcano",
    "island": "desert-island",
    "city": "cityscape",
    "skyline": "cityscape",
    "bridge": "bridge-at-night",
    "church": "church",
    "temple": "hindu-temple",
    "school": "school",
    "hospital": "hospital",
    "rainbow": "rainbow",
    "umbrella": "umbrella",
    "guitar": "guitar",
    "piano": "musical-keyboard",
    "keyboard": "keyboard",
    "drum": "drum",
    "violin": "violin",
    "trumpet": "trumpet",
    "saxophone": "saxophone",
    "microphone": "microphone",
    "headphone": "headphone",
    "camera": "camera",
    "photography": "camera-with-flash",
    "book": "closed-book",
    "reading": "open-book",
    "library": "books",
    "pencil": "pencil",
    "pen": "pen",
    "paintbrush": "paintbrush",
    "painting": "artist-palette",
    "art": "artist-palette",
    "scissors": "scissors",
    "key": "key",
    "lock": "locked",
    "lamp": "light-bulb",
    "bulb": "light-bulb",
    "idea": "light-bulb",
    "candle": "candle",
    "clock": "alarm-clock",
    "watch": "watch",
    "hourglass": "hourglass-done",
    "phone": "mobile-phone",
    "smartphone": "mobile-phone",
    "laptop": "laptop",
    "computer": "desktop-computer",
    "gamer": "video-game",
    "gaming": "video-game",
    "controller": "video-game",
    "joystick": "joystick",
    "dice": "game-die",
    "die": "game-die",
    "chess": "chess-pawn",
    "puzzle": "puzzle-piece",
    "gift": "wrapped-gift",
    "present": "wrapped-gift",
    "trophy": "trophy",
    "medal": "sports-medal",
    "football": "soccer-ball",
    "soccer": "soccer-ball",
    "basketball": "basketball",
    "baseball": "baseball",
    "tennis": "tennis",
    "golf": "flag-in-hole",
    "bowling": "bowling",
    "volleyball": "volleyball",
    "rugby": "rugby-football",
    "hockey": "ice-hockey",
    "skateboard": "skateboard",
    "skateboarding": "skateboard",
    "skate": "ice-skate",
    "ski": "skis",
    "skiing": "skis",
    "snowboard": "snowboarder",
    "yoga": "person-in-lotus-position",
    "meditation": "person-in-lotus-position",
    "gym": "person-lifting-weights",
    "fitness": "person-lifting-weights",
    "workout": "person-lifting-weights",
    "running": "person-running",
    "runner": "person-running",
    "swimming": "person-swimming",
    "dance": "woman-dancing",
    "dancing": "woman-dancing",
    "diamond": "gem-stone",
    "ring": "ring",
    "necklace": "prayer-beads",
    "dress": "dress",
    "shirt": "t-shirt",
    "hat": "billed-cap",
    "cap": "billed-cap",
    "sneaker": "running-shoe",
    "shoe": "running-shoe",
    "boot": "hiking-boot",
    "sock": "socks",
    "glasses": "glasses",
    "sunglasses": "sunglasses",
    "bag": "handbag",
    "purse": "purse",
    "backpack": "backpack",
    "suitcase": "luggage",
    "travel": "luggage",
    "map": "world-map",
    "compass": "compass",
    "globe": "globe-showing-europe-africa",
    "earth": "globe-showing-europe-africa",
    "world": "globe-showing-americas",
    "hammer": "hammer",
    "wrench": "wrench",
    "tool": "hammer-and-wrench",
    "axe": "axe",
    "sword": "dagger",
    "shield": "shield",
    "bow": "bow-and-arrow",
    "arrow": "bow-and-arrow",
    "magnet": "magnet",
    "bell": "bell",
    "balloons": "balloon",
    "party": "party-popper",
    "confetti": "confetti-ball",
    "firework": "fireworks",
    "money": "money-bag",
    "coin": "coin",
    "dollar": "dollar-banknote",
    "cactus": "cactus",
    "rose": "rose",
    "sunflower": "sunflower",
    "tulip": "tulip",
    "lotus": "lotus",
    "hibiscus": "hibiscus",
    "cherry blossom": "cherry-blossom",
    "sakura": "cherry-blossom",
    "bouquet": "bouquet",
    "clover": "four-leaf-clover",
    "shamrock": "shamrock",
    "seedling": "seedling",
    "sprout": "seedling",
    "herb": "herb",
    "houseplant": "potted-plant",
    "bonsai": "potted-plant",
    "woman": "woman",
    "girl": "girl",
    "lady": "woman",
    "man": "man",
    "boy": "boy",
    "guy": "man",
    "baby": "baby",
    "child": "child",
    "kid": "child",
    "chef": "cook",
    "cook": "cook",
    "teacher": "teacher",
    "doctor": "health-worker",
    "nurse": "health-worker",
    "firefighter": "firefighter",
    "farmer": "farmer",
    "astronaut": "astronaut",
    "superhero": "woman-superhero",
    "princess": "princess",
    "prince": "prince",
    "tooth": "tooth",
    "brain": "brain",
    "hand": "waving-hand",
    "smile": "smiling-face-with-smiling-eyes",
    "smiley": "grinning-face",
    "emoji": "grinning-face",
    "feather": "feather",
    "shell": "spiral-shell",
    "seashell": "spiral-shell",
    "coral": "coral",
    "wing": "wing",
    "web": "spider-web",
    "spider": "spider",
    "scorpion": "scorpion",
    "ant": "ant",
    "snail": "snail",
    "worm": "worm",
    "shark": "shark",
    "dolphin": "dolphin",
    "whale": "spouting-whale",
    "octopus": "octopus",
    "pufferfish": "blowfish",
    "goldfish": "tropical-fish",
    "camping": "camping",
    "campfire": "fire",
    "hummingbird": "bird",
    "bulldog": "dog",
    "poodle": "poodle",
    "boxing": "boxing-glove",
    "lantern": "red-paper-lantern",
    "baking": "bread",
    "baker": "bread",
    "gardening": "seedling",
    "garden": "seedling",
    "surfboard": "person-surfing",
    "moon": "crescent-moon",
    "tree": "deciduous-tree",
    "ball": "soccer-ball",
    "bonfire": "fire",
}

# Adjectives, verbs and filler that name no subject: not drawn and not reported as unknown.
FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "with",
        "and",
        "or",
        "in",
        "on",
        "under",
        "over",
        "above",
        "below",
        "beside",
        "behind",
        "near",
        "by",
        "at",
        "for",
        "from",
        "to",
        "into",
        "onto",
        "its",
        "it",
        "is",
        "are",
        "be",
        "being",
        "this",
        "that",
        "these",
        "those",
        "some",
        "any",
        "my",
        "your",
        "our",
        "their",
        "his",
        "her",
        "me",
        "we",
        "you",
        "they",
        "i",
        "very",
        "really",
        "so",
        "too",
        "just",
        "only",
        "also",
        "please",
        "make",
        "create",
        "design",
        "designs",
        "draw",
        "drawing",
        "drawn",
        "render",
        "image",
        "images",
        "picture",
        "pictures",
        "photo",
        "art",
        "artwork",
        "style",
        "styled",
        "looking",
        "look",
        "looks",
        "like",
        "made",
        "using",
        "use",
        "new",
        "old",
        "big",
        "small",
        "little",
        "tiny",
        "huge",
        "large",
        "giant",
        "beautiful",
        "pretty",
        "nice",
        "lovely",
        "cool",
        "awesome",
        "amazing",
        "fun",
        "funny",
        "happy",
        "sad",
        "cute",
        "adorable",
        "sweet",
        "elegant",
        "modern",
        "fancy",
        "fresh",
        "high",
        "quality",
        "detailed",
        "hd",
        "4k",
        "8k",
        "best",
        "good",
        "great",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "many",
        "few",
        "several",
        "lots",
        "lot",
        "set",
        "kind",
        "type",
        "full",
        "half",
        "playing",
        "play",
        "plays",
        "holding",
        "holds",
        "sitting",
        "sits",
        "standing",
        "stands",
        "flying",
        "jumping",
        "walking",
        "eating",
        "wearing",
        "smiling",
        "sleeping",
        "looking",
        "riding",
        "carrying",
        "colors",
        "colours",
        "tones",
        "shades",
        "theme",
        "themed",
        "tattoo",
        "clipart",
        "vector",
        "version",
        "background",
        "foreground",
        "front",
        "back",
        "side",
        "top",
        "bottom",
        "left",
        "right",
        "center",
        "centre",
        "middle",
        "while",
        "during",
        "between",
        "around",
        "through",
        "across",
        "against",
        "light",
        "dark",
        "bright",
        "pale",
        "deep",
        "vivid",
        "muted",
        "colorful",
        "colourful",
        "portrait",
        "closeup",
        "close",
        "up",
        "view",
        "shot",
        "scene",
    ]
)


@dataclass(frozen=True)
class Icon:
    name: str
    category: str
    keywords: tuple[str, ...]
    shapes: tuple[tuple[int, int, int, int], ...]  # (rgba, winding, stroke, first subpath) ...


@dataclass(frozen=True)
class IconSet:
    source: str
    icons: dict[str, Icon]
    points: np.ndarray
    sub_start: np.ndarray
    sub_len: np.ndarray
    shape_rows: np.ndarray
    shape_range: dict[str, tuple[int, int]]


# One copy per process: the data ships with the code and never changes while it runs, so a module
# memo is both correct and faster than Django's cache (which would pickle 2 MB of arrays).
@lru_cache(maxsize=1)
def icon_set() -> IconSet:
    with np.load(DATA, allow_pickle=False) as z:
        header = json.loads(bytes(z["header"]).decode())
        points = z["points"]
        sub_len = z["subpaths"].astype(np.int64)
        shape_rows = z["shapes"]
    sub_start = np.concatenate([[0], np.cumsum(sub_len)[:-1]]) if len(sub_len) else sub_len
    icons, ranges = {}, {}
    for entry in header["icons"]:
        icons[entry["name"]] = Icon(entry["name"], entry["category"], tuple(entry["keywords"]), ())
        ranges[entry["name"]] = (entry["shapes"][0], entry["shapes"][1])
    return IconSet(header["source"], icons, points, sub_start, sub_len, shape_rows, ranges)


# --- finding the icon a word names ---------------------------------------------------------------

CATEGORY_RANK = {
    "Animals & Nature": 0,
    "Food & Drink": 0,
    "Objects": 1,
    "Travel & Places": 1,
    "Activities": 1,
    "People & Body": 2,
    "Symbols": 3,
    "Smileys & Emotion": 3,
    "Flags": 4,
}
# Names that are faces or signs of a thing that also has a drawing of its own ("cat-face" vs
# "cat"): the thing wins for a plain noun.
_WEAK_NAME = re.compile(r"-face$|^flag-|-button|-sign$|-symbol$|-mark$")


def lemmas(word: str) -> list[str]:
    """The word and the singular forms it may be (no dictionary: plural endings only)."""
    out = [word]
    if len(word) > 3 and word.endswith("ies"):
        out.append(word[:-3] + "y")
    if len(word) > 3 and word.endswith("ves"):
        out += [word[:-3] + "f", word[:-3] + "fe"]
    if len(word) > 3 and word.endswith("es"):
        out.append(word[:-2])
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        out.append(word[:-1])
    return out


@lru_cache(maxsize=1)  # built from icon_set(), which never changes: a local memo like it
def _index() -> dict[str, tuple[tuple[str, float], ...]]:
    """phrase → (icon name, score), best first. Phrases are names, name heads and keywords."""
    scored: dict[str, dict[str, float]] = {}

    def add(phrase: str, name: str, score: float) -> None:
        slot = scored.setdefault(phrase, {})
        slot[name] = max(slot.get(name, 0.0), score)

    for icon in icon_set().icons.values():
        name = icon.name
        words = name.split("-")
        weak = 20 if _WEAK_NAME.search(name) else 0
        rank = CATEGORY_RANK.get(icon.category, 3) * 3
        add(" ".join(words), name, 100 - weak - rank)
        if len(words) > 1:
            add(words[-1], name, 62 - weak - rank - len(words))  # "red apple" → apple
            if words[-1] == "face":
                add(words[0], name, 55 - rank)  # "fox face" → fox, below a real fox
        for pos, kw in enumerate(icon.keywords[1:]):
            add(kw, name, 40 - min(pos, 15) - weak - rank)
    for word, name in SYNONYMS.items():
        if name in icon_set().icons:
            add(word, name, 200)
    return {
        phrase: tuple((n, names[n]) for n in sorted(names, key=lambda n: (-names[n], len(n), n)))
        for phrase, names in scored.items()
    }


def find(phrase: str) -> str | None:
    """The icon a word or phrase names, or None: the best hit over the word and its singulars
    ("dumplings" is a keyword of the moon-viewing emoji, but "dumpling" names the dumpling)."""
    idx = _index()
    words = phrase.lower().split()
    if not words:
        return None
    hits = [
        best[0] for last in lemmas(words[-1]) if (best := idx.get(" ".join([*words[:-1], last])))
    ]
    if not hits:
        return None
    return min(hits, key=lambda hit: (-hit[1], len(hit[0]), hit[0]))[0]


def find_phrase(phrase: str) -> str | None:
    """Like `find` for a phrase of two or more words; None unless the phrase itself is indexed."""
    return find(phrase) if " " in phrase.strip() else None


def find_loosely(word: str) -> str | None:
    """`find`, then the word with a doer or activity ending removed ("skateboarder", "knitting")."""
    hit = find(word)
    if hit:
        return hit
    for suffix in ("ing", "ers", "er", "ists", "ist"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            for candidate in (stem, stem + "e", stem[:-1] if stem[-1:] == stem[-2:-1] else ""):
                if candidate and (hit := find(candidate)):
                    return hit
    return None


def known(name: str) -> bool:
    return name in icon_set().icons


# Where a drawing sits in a scene: in the sky, or on the ground.
_SKY = re.compile(
    r"sun|moon|star|cloud|comet|rainbow|airplane|rocket|helicopter|satellite|saucer|balloon|"
    r"kite|parachute|bird|eagle|dove|bat$|butterfly|bee$|honeybee|fireworks|sparkles|"
    r"milky-way|ringed-planet|snowflake|lightning|phoenix|wing|feather"
)


def is_sky(name: str) -> bool:
    return bool(_SKY.search(name))


# --- recolouring ---------------------------------------------------------------------------------


def _hsv(c: RGB) -> tuple[float, float, float]:
    return colorsys.rgb_to_hsv(c[0] / 255, c[1] / 255, c[2] / 255)


def _rgb(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, max(0.0, min(1.0, s)), max(0.0, min(1.0, v)))
    return (round(r * 255), round(g * 255), round(b * 255))


def _lum(c: RGB) -> float:
    return (0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]) / 255


Recolour = Callable[[RGB], RGB]


@lru_cache(maxsize=512)  # static data per icon; a memo, like icon_set()
def shape_colours(name: str) -> list[tuple[RGB, float]]:
    """The icon's fill colours with the share of the box each covers (painted area, overlaps
    counted): the dominant colour is what a colour word in the prompt should repaint."""
    s = icon_set()
    first, count = s.shape_range[name]
    areas: dict[RGB, float] = {}
    for row in s.shape_rows[first : first + count]:
        rgba, _, stroke, sub0, nsub = (int(v) for v in row)
        if stroke:
            continue
        colour = ((rgba >> 24) & 255, (rgba >> 16) & 255, (rgba >> 8) & 255)
        area = 0.0
        for k in range(sub0, sub0 + nsub):
            p = s.points[s.sub_start[k] : s.sub_start[k] + s.sub_len[k]].astype(np.float64)
            area += (
                abs(
                    float(
                        np.dot(p[:, 0], np.roll(p[:, 1], -1))
                        - np.dot(p[:, 1], np.roll(p[:, 0], -1))
                    )
                )
                / 2
            )
        areas[colour] = areas.get(colour, 0.0) + area / (32 * 64) ** 2
    return sorted(areas.items(), key=lambda kv: -kv[1])


def dominant(name: str) -> RGB:
    """The colour a viewer names the drawing by: the largest chromatic fill (else the largest)."""
    colours = shape_colours(name)
    chromatic = [(c, a) for c, a in colours if _hsv(c)[1] > 0.25 and 0.12 < _lum(c) < 0.95]
    return (chromatic or colours or [((128, 128, 128), 1.0)])[0][0]


def recolour_to(name: str, target: RGB) -> Recolour:
    """Repaint the drawing's dominant hue family with `target`, keeping its light and shade.

    Colours of the dominant hue (within ~40°) move to the target's hue; their saturation and
    value keep their ratio to the dominant colour's, so a shaded side stays darker and a
    highlight lighter. Neutrals and colours of other hues (a strawberry's green leaves, a fox's
    white chest) are left as drawn.
    """
    dh, ds, dv = _hsv(dominant(name))
    th, ts, tv = _hsv(target)
    target_neutral = ts < 0.15

    def apply(c: RGB) -> RGB:
        h, s, v = _hsv(c)
        diff = min(abs(h - dh), 1 - abs(h - dh))
        if s < max(0.18, ds * 0.45) or diff > 0.11:
            return c
        if target_neutral:  # "a white cat", "a black bird": keep the light and shade in grey
            return _rgb(0, 0, max(0.0, min(1.0, tv + (v - dv) * 0.8)))
        return _rgb(th + (h - dh) * 0.5, ts * s / max(ds, 0.05), tv * v / max(dv, 0.05))

    return apply


def styled(base: Recolour, styles: set[str], paper: RGB, dark: RGB) -> Recolour:
    """Style words applied on top of a recolouring: pastel, vintage/retro, monochrome."""
    if "pastel" in styles:
        inner = base

        def pastel(c: RGB) -> RGB:
            h, s, v = _hsv(inner(c))
            return _rgb(h, s * 0.55, 0.55 + v * 0.45) if s > 0.1 else _rgb(h, s, 0.4 + v * 0.6)

        return pastel
    if styles & {"vintage", "retro"}:
        inner = base

        def muted(c: RGB) -> RGB:
            r, g, b = inner(c)
            h, s, v = _hsv((r, g, b))
            warm = _rgb(h, s * 0.72, v * 0.94)
            return tuple(round(warm[i] * 0.88 + paper[i] * 0.12) for i in range(3))  # type: ignore[return-value]

        return muted
    if "monochrome" in styles:
        lo, hi = _lum(dark), _lum(paper)

        def mono(c: RGB) -> RGB:
            t = _lum(base(c))
            t = (t - lo) / max(hi - lo, 0.05) if hi > lo else t
            t = max(0.0, min(1.0, t))
            return tuple(round(dark[i] + (paper[i] - dark[i]) * t) for i in range(3))  # type: ignore[return-value]

        return mono
    return base


# --- drawing -------------------------------------------------------------------------------------


def draw_icon(
    img: Image.Image,
    name: str,
    cx: float,
    cy: float,
    r: float,
    *,
    rotate: float = 0.0,
    recolour: Recolour = lambda c: c,
    line: bool = False,
    ink: RGB = (20, 20, 24),
    paper: RGB = (250, 250, 247),
    stroke: int = 2,
    flip: bool = False,
) -> None:
    """Draw icon `name` centred at (cx, cy), its 32-unit box spanning 2r, onto `img` in place."""
    s = icon_set()
    first, count = s.shape_range[name]
    scale = r / (16 * 64)  # stored units → px
    ca, sa = math.cos(rotate), math.sin(rotate)
    box_r = r * 1.5 + stroke
    x0, y0 = max(0, int(cx - box_r)), max(0, int(cy - box_r))
    x1, y1 = min(img.width, int(cx + box_r) + 2), min(img.height, int(cy + box_r) + 2)
    if x1 <= x0 or y1 <= y0:
        return
    region = img.crop((x0, y0, x1, y1))
    one = 1 << SUBPIXEL
    min_area = (16 * 64) ** 2 * 4 * 0.004  # line drawings skip specks (highlights, glints)
    for row in s.shape_rows[first : first + count]:
        rgba, winding, width, sub0, nsub = (int(v) for v in row)
        pts = []
        area = 0.0
        for k in range(sub0, sub0 + nsub):
            p = s.points[s.sub_start[k] : s.sub_start[k] + s.sub_len[k]].astype(np.float64) - 1024
            if flip:
                p[:, 0] = -p[:, 0]
            if line:
                area += (
                    abs(
                        float(
                            np.dot(p[:, 0], np.roll(p[:, 1], -1))
                            - np.dot(p[:, 1], np.roll(p[:, 0], -1))
                        )
                    )
                    / 2
                )
            x = (p[:, 0] * ca - p[:, 1] * sa) * scale + cx - x0
            y = (p[:, 0] * sa + p[:, 1] * ca) * scale + cy - y0
            pts.append(np.stack([x, y], axis=1))
        if line and not width and area < min_area:
            continue
        # Work in the shape's own box: most shapes are small, and masks cost by area.
        pad = (stroke if line else max(1, round(width * scale))) + 2
        allp = np.concatenate(pts)
        sx0 = max(0, int(allp[:, 0].min()) - pad)
        sy0 = max(0, int(allp[:, 1].min()) - pad)
        sx1 = min(region.width, int(allp[:, 0].max()) + pad + 1)
        sy1 = min(region.height, int(allp[:, 1].max()) + pad + 1)
        if sx1 <= sx0 or sy1 <= sy0:
            continue
        polys = [np.round((q - (sx0, sy0)) * one).astype(np.int32) for q in pts]
        mask = np.zeros((sy1 - sy0, sx1 - sx0), np.uint8)
        colour = ((rgba >> 24) & 255, (rgba >> 16) & 255, (rgba >> 8) & 255)
        alpha = rgba & 255
        if width:
            thickness = max(1, round(width * scale)) if not line else stroke
            cv2.polylines(mask, polys, False, 255, thickness, cv2.LINE_AA, SUBPIXEL)
            fill = ink if line else recolour(colour)
        elif line:
            _fill(mask, polys, winding)
            region.paste(paper, (sx0, sy0), Image.fromarray(mask, "L"))
            mask[:] = 0
            cv2.polylines(mask, polys, True, 255, stroke, cv2.LINE_AA, SUBPIXEL)
            fill = ink
        else:
            _fill(mask, polys, winding)
            fill = recolour(colour)
        if alpha < 255:
            mask = (mask.astype(np.uint16) * alpha // 255).astype(np.uint8)
        paint = fill if img.mode == "RGB" else (*fill, 255)
        region.paste(paint, (sx0, sy0), Image.fromarray(mask, "L"))
    img.paste(region, (x0, y0))


def _fill(mask: np.ndarray, polys: list[np.ndarray], winding: int) -> None:
    if not winding:
        cv2.fillPoly(mask, polys, 255, cv2.LINE_AA, SUBPIXEL)
        return
    # Nonzero rule: each subpath adds its direction's sign; filled where the sum is not zero.
    acc = np.zeros(mask.shape, np.int16)
    one = np.zeros(mask.shape, np.uint8)
    for poly in polys:
        if len(poly) < 3:
            continue
        x, y = poly[:, 0].astype(np.float64), poly[:, 1].astype(np.float64)
        signed = float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
        one[:] = 0
        cv2.fillPoly(one, [poly], 1, cv2.LINE_8, SUBPIXEL)
        acc += one.astype(np.int16) * (1 if signed > 0 else -1)
    mask[acc != 0] = 255

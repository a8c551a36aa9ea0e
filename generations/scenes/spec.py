"""What a scene prompt asks for, as plain values: the surface and its colour, the backdrop, the
light (direction, softness, mood), the camera height and the props.

`parse_scene` reads a prompt with a fixed vocabulary (no language model): words it knows set a
field, words it does not know are ignored and listed, so a caller can show what was understood.
Explicit choices (a preset's surface or light) override what the prompt says.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from generations.engines.builtin import COLOUR_WORDS

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Surface:
    key: str
    label: str
    colour: RGB  # default albedo (sRGB)
    gloss: float  # 0 matte … 1 mirror-like: strength of the product's reflection
    backdrop: str  # "wall" (a table against a wall) | "sweep" (seamless cove) | "gradient"
    wall: RGB  # default wall / backdrop colour


SURFACES: dict[str, Surface] = {
    s.key: s
    for s in (
        Surface("marble", "Marble", (234, 231, 226), 0.6, "wall", (226, 222, 216)),
        Surface("wood", "Wood", (176, 132, 92), 0.12, "wall", (228, 222, 212)),
        Surface("concrete", "Concrete", (168, 166, 161), 0.0, "wall", (200, 198, 194)),
        Surface("linen", "Linen", (222, 211, 192), 0.0, "wall", (232, 226, 216)),
        Surface("terrazzo", "Terrazzo", (230, 224, 216), 0.3, "wall", (224, 218, 210)),
        Surface("paper", "Paper sweep", (236, 233, 228), 0.0, "sweep", (236, 233, 228)),
        Surface("studio", "Gradient studio backdrop", (205, 200, 194), 0.0, "gradient", (205, 200, 194)),
        Surface("slate", "Slate", (74, 76, 80), 0.15, "wall", (120, 118, 116)),
        Surface("acrylic", "Glossy acrylic", (242, 242, 242), 1.0, "sweep", (242, 242, 242)),
    )
}  # fmt: skip

SURFACE_WORDS: dict[str, str] = {
    "marble": "marble",
    "marbled": "marble",
    "wood": "wood",
    "wooden": "wood",
    "oak": "wood",
    "walnut": "wood",
    "timber": "wood",
    "teak": "wood",
    "birch": "wood",
    "pine": "wood",
    "concrete": "concrete",
    "cement": "concrete",
    "plaster": "concrete",
    "linen": "linen",
    "fabric": "linen",
    "cloth": "linen",
    "cotton": "linen",
    "tablecloth": "linen",
    "terrazzo": "terrazzo",
    "paper": "paper",
    "seamless": "paper",
    "sweep": "paper",
    "gradient": "studio",
    "studio": "studio",
    "slate": "slate",
    "stone": "slate",
    "granite": "slate",
    "acrylic": "acrylic",
    "glass": "acrylic",
    "mirror": "acrylic",
    "plexiglass": "acrylic",
}
WOOD_TONES: dict[str, RGB] = {
    "walnut": (104, 70, 48),
    "dark": (96, 64, 44),
    "teak": (140, 96, 60),
    "oak": (186, 146, 104),
    "birch": (222, 196, 158),
    "pine": (214, 180, 130),
    "light": (220, 192, 150),
    "pale": (226, 202, 164),
    "bleached": (228, 214, 192),
}
MARBLE_TONES: dict[str, RGB] = {"black": (34, 34, 38), "dark": (46, 46, 50)}

# Nouns that name where a colour goes ("sage green backdrop", "pink marble", "blue spheres").
BACKDROP_NOUNS = frozenset(
    {"background", "backdrop", "wall", "walls", "sweep", "backdrops", "backgrounds", "set"}
)
SURFACE_NOUNS = frozenset(
    {"table", "tabletop", "surface", "floor", "counter", "countertop", "slab", "tray", "board"}
) | frozenset(SURFACE_WORDS)
PROP_WORDS: dict[str, str] = {
    "podium": "podium",
    "pedestal": "podium",
    "plinth": "podium",
    "platform": "podium",
    "riser": "podium",
    "stand": "podium",
    "sphere": "spheres",
    "spheres": "spheres",
    "ball": "spheres",
    "balls": "spheres",
    "orb": "spheres",
    "orbs": "spheres",
    "cube": "blocks",
    "cubes": "blocks",
    "block": "blocks",
    "blocks": "blocks",
    "geometric": "blocks",
    "pebble": "pebbles",
    "pebbles": "pebbles",
    "stones": "pebbles",
    "rocks": "pebbles",
    "arch": "arch",
    "arches": "arch",
}
MINIMAL_WORDS = frozenset({"minimalist", "minimal", "clean", "simple", "plain", "empty", "bare"})

# Light: (mood key, softness 0 hard … 1 very soft). Later words refine earlier ones.
LIGHT_WORDS: dict[str, str] = {
    "soft": "soft",
    "diffused": "soft",
    "diffuse": "soft",
    "gentle": "soft",
    "natural": "natural",
    "daylight": "natural",
    "window": "natural",
    "morning": "natural",
    "dramatic": "dramatic",
    "moody": "dramatic",
    "dark": "dramatic",
    "chiaroscuro": "dramatic",
    "noir": "dramatic",
    "backlit": "backlit",
    "backlight": "backlit",
    "backlighting": "backlit",
    "rim": "backlit",
    "silhouette": "backlit",
    "golden": "golden",
    "sunset": "golden",
    "sunlight": "golden",
    "sunny": "golden",
    "sun": "golden",
    "warm": "warm",
    "hard": "hard",
    "harsh": "hard",
    "direct": "hard",
    "crisp": "hard",
    "bright": "bright",
    "airy": "bright",
    "high-key": "bright",
    "studio": "studio",
    "softbox": "studio",
    "cool": "cool",
    "overcast": "cool",
    "cold": "cool",
}
# exposure: where the brighter part of the set (its 80th percentile) lands after exposure.
MOODS: dict[str, dict[str, Any]] = {
    # elevation (degrees above the horizon), softness, key/ambient intensity, colour temperature
    "studio": {
        "elevation": 48,
        "softness": 0.7,
        "key": 1.0,
        "ambient": 0.42,
        "warmth": 0.0,
        "exposure": 0.8,
    },
    "soft": {
        "elevation": 42,
        "softness": 0.85,
        "key": 0.9,
        "ambient": 0.5,
        "warmth": 0.05,
        "exposure": 0.82,
    },
    "natural": {
        "elevation": 32,
        "softness": 0.7,
        "key": 1.0,
        "ambient": 0.42,
        "warmth": 0.12,
        "exposure": 0.8,
    },
    "dramatic": {
        "elevation": 24,
        "softness": 0.12,
        "key": 1.35,
        "ambient": 0.1,
        "warmth": 0.05,
        "exposure": 0.42,
    },
    "backlit": {
        "elevation": 28,
        "softness": 0.45,
        "key": 1.25,
        "ambient": 0.32,
        "warmth": 0.1,
        "exposure": 0.95,
    },
    "golden": {
        "elevation": 16,
        "softness": 0.2,
        "key": 1.9,
        "ambient": 0.22,
        "warmth": 0.75,
        "exposure": 0.78,
    },
    "hard": {
        "elevation": 40,
        "softness": 0.08,
        "key": 1.1,
        "ambient": 0.3,
        "warmth": 0.0,
        "exposure": 0.78,
    },
    "bright": {
        "elevation": 55,
        "softness": 0.85,
        "key": 0.85,
        "ambient": 0.65,
        "warmth": 0.0,
        "exposure": 0.92,
    },
    "cool": {
        "elevation": 40,
        "softness": 0.75,
        "key": 0.9,
        "ambient": 0.45,
        "warmth": -0.5,
        "exposure": 0.78,
    },
}
LIGHT_CHOICES = tuple(MOODS)
# When a prompt names several moods, the most specific wins ("soft dramatic" is dramatic, softened).
MOOD_PRIORITY = (
    "dramatic",
    "backlit",
    "golden",
    "natural",
    "studio",
    "hard",
    "cool",
    "bright",
    "soft",
)
SIDES = ("left", "right", "front", "back", "top")
CAMERAS = ("low", "eye", "high", "top")
GOBOS = ("", "window", "leaves", "blinds")
PROP_KINDS = ("podium", "spheres", "blocks", "pebbles", "arch")

CAMERA_PHRASES: list[tuple[str, str]] = [
    ("flat lay", "top"),
    ("flatlay", "top"),
    ("top down", "top"),
    ("top-down", "top"),
    ("bird's eye", "top"),
    ("birds eye", "top"),
    ("overhead shot", "top"),
    ("overhead view", "top"),
    ("low angle", "low"),
    ("low-angle", "low"),
    ("hero shot", "low"),
    ("worm's eye", "low"),
    ("eye level", "eye"),
    ("eye-level", "eye"),
    ("straight on", "eye"),
    ("straight-on", "eye"),
    ("high angle", "high"),
    ("high-angle", "high"),
    ("shot from above", "high"),
    ("seen from above", "high"),
    ("three quarter", "high"),
    ("45 degree", "high"),
]
GOBO_PHRASES: list[tuple[str, str]] = [
    ("leaf shadow", "leaves"),
    ("leaves shadow", "leaves"),
    ("palm shadow", "leaves"),
    ("foliage", "leaves"),
    ("dappled", "leaves"),
    ("leaves", "leaves"),
    ("plant shadow", "leaves"),
    ("window shadow", "window"),
    ("window light", "window"),
    ("window frame", "window"),
    ("blinds", "blinds"),
    ("venetian", "blinds"),
    ("stripes of light", "blinds"),
]
SIDE_PHRASES: list[tuple[str, str]] = [
    ("from the left", "left"),
    ("from left", "left"),
    ("left side", "left"),
    ("light left", "left"),
    ("from the right", "right"),
    ("from right", "right"),
    ("right side", "right"),
    ("light right", "right"),
    ("from behind", "back"),
    ("behind the product", "back"),
    ("from the back", "back"),
    ("from the front", "front"),
    ("front light", "front"),
    ("from above", "top"),
    ("overhead light", "top"),
    ("top light", "top"),
]


@dataclass(frozen=True)
class Prop:
    kind: str
    colour: RGB | None = None


@dataclass(frozen=True)
class SceneSpec:
    surface: str = "marble"
    surface_colour: RGB | None = None  # None: the surface's own colour
    backdrop_colour: RGB | None = None  # None: the surface's wall colour
    light: str = "soft"  # a MOODS key
    side: str = ""  # SIDES or "" (chosen per variant)
    softness: float | None = None  # None: the mood's
    warmth: float | None = None  # -1 cool … 1 warm; None: the mood's
    camera: str = "eye"
    gobo: str = ""
    props: tuple[Prop, ...] = ()
    minimal: bool = False
    glossy: bool | None = None  # None: the surface's gloss
    # The words that named the colours ("sage green"), for people reading the summary.
    surface_colour_name: str = ""
    backdrop_colour_name: str = ""
    understood: tuple[str, ...] = field(default_factory=tuple)
    ignored: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["props"] = [{"kind": p.kind, "colour": p.colour} for p in self.props]
        return out

    def summary(self) -> str:
        """One line for people: "marble (white) · soft light from the left · eye-level camera"."""
        surf = SURFACES[self.surface].label.lower()
        if self.surface_colour is not None:
            surf += f" ({self.surface_colour_name or colour_name(self.surface_colour)})"
        parts = [surf]
        if self.backdrop_colour is not None:
            parts.append(
                f"{self.backdrop_colour_name or colour_name(self.backdrop_colour)} backdrop"
            )
        light = f"{self.light} light"
        if self.side:
            light += " from above" if self.side == "top" else f" from the {self.side}"
        parts.append(light)
        if self.gobo:
            parts.append(
                {"window": "window shadows", "leaves": "leaf shadows"}.get(
                    self.gobo, "shadows of blinds"
                )
            )
        parts.append(
            {"low": "low", "eye": "eye-level", "high": "high", "top": "top-down"}[self.camera]
            + " camera"
        )
        if self.props:
            parts.append(", ".join(sorted({p.kind for p in self.props})))
        return " · ".join(parts)


STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "with",
        "on",
        "in",
        "of",
        "to",
        "for",
        "at",
        "by",
        "from",
        "into",
        "onto",
        "its",
        "it",
        "is",
        "be",
        "this",
        "that",
        "as",
        "or",
        "place",
        "put",
        "show",
        "product",
        "photo",
        "image",
        "picture",
        "shot",
        "scene",
        "lighting",
        "light",
        "lit",
        "background",
        "very",
        "some",
        "few",
        "two",
        "three",
        "hour",
        "shadow",
        "shadows",
        "lighting",
        "lights",
        "angle",
        "camera",
        "view",
        "tone",
        "tones",
        "style",
        "aesthetic",
        "editorial",
        "luxury",
        "premium",
        "elegant",
        "modern",
        "beautiful",
        "high",
        "quality",
        "professional",
        "photography",
        "realistic",
    ]
)
MODIFIERS = {
    "light": "light",
    "pale": "light",
    "pastel": "pastel",
    "soft": "pastel",
    "dusty": "muted",
    "muted": "muted",
    "dark": "dark",
    "deep": "dark",
    "rich": "dark",
    "bold": "vivid",
    "vivid": "vivid",
    "bright": "vivid",
    "neon": "vivid",
}


def _tokens(text: str) -> list[str]:
    """Words, with punctuation kept as "," so a word never modifies one across a comma
    ("studio light, sage backdrop" is not a light sage)."""
    return [
        t if t[0].isalpha() else "," for t in re.findall(r"[a-z][a-z'\-]*|[,.;:!?]", text.lower())
    ]


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _muted(c: RGB, amount: float) -> RGB:
    grey = round(sum(c) / 3)
    return _mix(c, (grey, grey, grey), amount)


def apply_modifier(colour: RGB, modifier: str) -> RGB:
    if modifier == "light":
        return _mix(colour, (255, 255, 255), 0.45)
    if modifier == "pastel":
        return _mix(_muted(colour, 0.25), (255, 255, 255), 0.55)
    if modifier == "muted":
        return _muted(_mix(colour, (200, 200, 200), 0.15), 0.45)
    if modifier == "dark":
        return _mix(colour, (0, 0, 0), 0.45)
    return colour


def photographic(colour: RGB) -> RGB:
    """Painted walls and paper photograph softer than a swatch: a little less saturated."""
    return _muted(colour, 0.18)


def colour_name(colour: RGB) -> str:
    best = min(
        COLOUR_WORDS,
        key=lambda n: sum((a - b) ** 2 for a, b in zip(COLOUR_WORDS[n], colour, strict=True)),
    )
    return best


def _colour_phrases(tokens: list[str]) -> list[tuple[int, int, RGB, bool]]:
    """(start, end, colour, vivid) for each colour phrase: [modifier] colour [colour]."""
    out = []
    i = 0
    while i < len(tokens):
        word = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if word in ("golden", "gold") and nxt in ("hour", "light", "lighting", "sun", "sunlight"):
            i += 1  # golden hour is a light, not a colour
            continue
        if word in COLOUR_WORDS:
            start = i
            modifier = MODIFIERS.get(tokens[i - 1], "") if i > 0 else ""
            # "light"/"soft"/"dark" before a colour modify it; elsewhere they describe the light.
            if modifier:
                start = i - 1
            colour = COLOUR_WORDS[word]
            end = i + 1
            # "sage green", "dusty rose pink": the first colour word is the head.
            while end < len(tokens) and tokens[end] in COLOUR_WORDS:
                end += 1
            out.append((start, end, apply_modifier(colour, modifier), modifier == "vivid"))
            i = end
        else:
            i += 1
    return out


def parse_scene(prompt: str, **overrides: Any) -> SceneSpec:
    """A SceneSpec from a prompt; keyword overrides (surface, light, side, camera, gobo,
    surface_colour, backdrop_colour) win over what the prompt says."""
    tokens = _tokens(prompt)
    text = " ".join(t for t in tokens if t != ",")
    understood: list[str] = []
    used: set[int] = set()

    surface = ""
    surface_idx = -1
    for i, word in enumerate(tokens):
        key = SURFACE_WORDS.get(word)
        if key is None:
            continue
        # "studio lighting" is light, not the gradient backdrop; "window light" too.
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if word == "studio" and nxt in ("light", "lighting", "lights", "shot"):
            continue
        if word == "stone" and nxt in ("s",):
            continue
        if not surface:
            surface, surface_idx = key, i
            understood.append(word)
        used.add(i)

    surface_colour: RGB | None = None
    backdrop_colour: RGB | None = None
    surface_name = backdrop_name = ""
    prop_colours: dict[str, RGB] = {}
    loose: list[tuple[RGB, str]] = []
    for start, end, colour, vivid in _colour_phrases(tokens):
        used.update(range(start, end))
        phrase = " ".join(tokens[start:end])
        understood.append(phrase)
        target = ""
        for word in tokens[end : end + 3]:
            if word in BACKDROP_NOUNS:
                target = "backdrop"
            elif word in PROP_WORDS:
                target = PROP_WORDS[word]
            elif word in SURFACE_NOUNS:
                target = "surface"
            if target:
                break
        if target == "surface" and surface_colour is None:
            # Wood and marble tones have their own words ("walnut", "black marble").
            if surface == "wood" and tokens[start] in WOOD_TONES:
                continue
            surface_colour, surface_name = colour, phrase
        elif target == "backdrop" and backdrop_colour is None:
            backdrop_colour = colour if vivid else photographic(colour)
            backdrop_name = phrase
        elif target in PROP_KINDS:
            prop_colours.setdefault(target, colour)
        else:
            loose.append((colour if vivid else photographic(colour), phrase))

    # Tones of a surface named by their own word: "walnut table", "black marble".
    if surface == "wood":
        # The surface word itself ("walnut") or the word just before it ("dark wood").
        for word in (tokens[surface_idx], tokens[surface_idx - 1] if surface_idx else ""):
            if word in WOOD_TONES:
                surface_colour, surface_name = WOOD_TONES[word], word
                understood.append(word)
                break
    if surface == "marble" and surface_idx > 0 and tokens[surface_idx - 1] in MARBLE_TONES:
        surface_colour = MARBLE_TONES[tokens[surface_idx - 1]]
        surface_name = tokens[surface_idx - 1]

    moods: list[str] = []
    for i, word in enumerate(tokens):
        mood = LIGHT_WORDS.get(word)
        if mood is None or i in used:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if word in ("dark", "light") and (nxt in SURFACE_NOUNS or nxt in WOOD_TONES):
            continue  # "dark wood" is a tone, not a mood
        if word == "window" and nxt in ("shadow", "shadows", "frame"):
            continue
        moods.append(mood)
        understood.append(word)
        used.add(i)
    real = [m for m in moods if m != "warm"]
    light = min(real, key=MOOD_PRIORITY.index) if real else ""
    softness: float | None = None
    if "soft" in moods and light not in ("soft", "bright"):
        softness = 0.85
    elif "hard" in moods and light != "hard":
        softness = 0.1
    warmth: float | None = None
    if ("golden" in moods or "warm" in moods) and light != "golden":
        warmth = 0.45
    elif "cool" in moods and light != "cool":
        warmth = -0.4

    side = ""
    for phrase, value in SIDE_PHRASES:
        if phrase in text:
            side = value
            understood.append(phrase)
            break
    if light == "backlit" and not side:
        side = "back"
    camera = ""
    for phrase, value in CAMERA_PHRASES:
        if phrase in text:
            camera = value
            understood.append(phrase)
            break
    gobo = ""
    for phrase, value in GOBO_PHRASES:
        if phrase in text:
            gobo = value
            understood.append(phrase)
            break
    if light == "natural" and not gobo and "window" in tokens:
        gobo = "window"

    props: list[Prop] = []
    for i, word in enumerate(tokens):
        kind = PROP_WORDS.get(word)
        if kind is None or any(p.kind == kind for p in props):
            continue
        if word == "stand" and i > 0 and tokens[i - 1] not in ("a", "small", "round", "on"):
            continue
        props.append(Prop(kind, prop_colours.get(kind)))
        understood.append(word)
        used.add(i)
    minimal = any(w in MINIMAL_WORDS for w in tokens)
    if minimal:
        understood.append(next(w for w in tokens if w in MINIMAL_WORDS))

    if loose:
        if backdrop_colour is None:
            backdrop_colour, backdrop_name = loose.pop(0)
        props = [
            Prop(p.kind, p.colour if p.colour is not None or not loose else loose.pop(0)[0])
            for p in props
        ]
        if surface_colour is None and loose and surface in ("paper", "studio", "acrylic"):
            surface_colour, surface_name = loose.pop(0)

    known = set(SURFACE_WORDS) | set(LIGHT_WORDS) | set(PROP_WORDS) | set(COLOUR_WORDS)
    known |= BACKDROP_NOUNS | SURFACE_NOUNS | MINIMAL_WORDS | set(MODIFIERS) | set(WOOD_TONES)
    phrase_words = {w for p, _ in CAMERA_PHRASES + GOBO_PHRASES + SIDE_PHRASES for w in p.split()}
    ignored = sorted(
        {
            w
            for w in tokens
            if w not in known and w not in STOP and w not in phrase_words and w != ","
        }
    )

    spec = SceneSpec(
        surface=surface or _default_surface(light, backdrop_colour),
        surface_colour=surface_colour,
        backdrop_colour=backdrop_colour,
        surface_colour_name=surface_name,
        backdrop_colour_name=backdrop_name,
        light=light or "soft",
        side=side,
        softness=softness,
        warmth=warmth,
        camera=camera or "eye",
        gobo=gobo,
        props=tuple(props),
        minimal=minimal,
        understood=tuple(dict.fromkeys(understood)),
        ignored=tuple(ignored[:40]),
    )
    return with_overrides(spec, **overrides)


def _default_surface(light: str, backdrop: RGB | None) -> str:
    # Without a named surface: a coloured backdrop reads as a paper sweep in that colour,
    # a dramatic scene as slate, anything else as the neutral studio gradient.
    if backdrop is not None:
        return "paper"
    if light == "dramatic":
        return "slate"
    return "studio"


def with_overrides(spec: SceneSpec, **overrides: Any) -> SceneSpec:
    """Apply explicit choices (a preset's or a form's); blank values leave the prompt's."""
    changes: dict[str, Any] = {}
    for name in ("surface", "light", "side", "camera", "gobo"):
        value = overrides.get(name)
        if value:
            allowed = {
                "surface": SURFACES,
                "light": MOODS,
                "side": SIDES,
                "camera": CAMERAS,
                "gobo": GOBOS,
            }[name]
            if value not in allowed:
                raise ValueError(f"{name} must be one of: {', '.join(v for v in allowed if v)}.")
            changes[name] = value
    for name in ("surface_colour", "backdrop_colour"):
        value = overrides.get(name)
        if value:
            changes[name] = parse_colour(value)
            changes[f"{name}_name"] = str(value) if isinstance(value, str) else ""
    if overrides.get("softness") is not None:
        changes["softness"] = max(0.0, min(1.0, float(overrides["softness"])))
    return replace(spec, **changes) if changes else spec


def parse_colour(value: Any) -> RGB:
    """ "#aabbcc", "sage", [r, g, b] → RGB."""
    if isinstance(value, list | tuple) and len(value) == 3:
        return tuple(max(0, min(255, int(v))) for v in value)  # type: ignore[return-value]
    text = str(value).strip().lower()
    if re.fullmatch(r"#?[0-9a-f]{6}", text):
        text = text.lstrip("#")
        return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))
    if text in COLOUR_WORDS:
        return COLOUR_WORDS[text]
    raise ValueError(f"Unknown colour {value!r}: use a colour name or #rrggbb.")

"""Which subjects a prompt names, which colour each was given, and which words named nothing.

Two vocabularies: the hand-drawn procedural subjects (`procedural_shapes`, about forty, drawn for
our scenes and line art) win for their own words; every other noun is looked up among the icon
drawings (`icons`, about 1,600), first as a phrase ("ice cream", "hot dog"), then as a word.
A colour word binds to the subject right after it ("a teal fox under a golden moon": teal fox,
golden moon). Words that are neither subjects nor known colour, style, format or filler words
are reported as unrecognised, so the user learns what was not drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generations.engines.builtin import icons
from generations.engines.builtin.palettes import MOOD_PALETTES
from generations.engines.builtin.vocabulary import (
    COLOUR_WORDS,
    COMPOSITION_WORDS,
    COMPOUND_HEADS,
    RGB,
    STYLE_WORDS,
    SUBJECT_WORDS,
    _lookup,
    _stem,
    _words,
)

# Colour words that are also things ("a rose", "an orange"): a thing when an article or a colour
# comes before it and no noun follows.
NOUN_COLOURS = frozenset(
    {"orange", "peach", "lime", "rose", "coral", "salmon", "lavender", "olive", "mint", "cream"}
)
# Mood or style words that are also things people draw: a thing unless a noun follows.
THINGS = frozenset({"candy", "ring"})
ARTICLES = frozenset({"a", "an", "the", "one", "two", "three", "some", "of", "with", "and"})
# Words after which a pending colour no longer belongs to the next subject.
BREAKS = frozenset(
    {"of", "with", "on", "under", "over", "above", "below", "beside", "behind", "near", "in"}
)
# Words that say how a line drawing is made ("pencil sketch", "ink drawing"), not what it shows.
MEDIA = frozenset({"pen", "pencil", "ink", "marker", "charcoal", "crayon"})
MEDIA_NOUNS = frozenset({"drawing", "sketch", "art", "illustration", "style", "lineart"})


# Words that describe how a picture looks or is shot, not what it shows: never "not drawn".
DESCRIPTIVE = frozenset(
    [
        "professional",
        "natural",
        "realistic",
        "photorealistic",
        "cinematic",
        "dramatic",
        "glossy",
        "matte",
        "minimal",
        "minimalist",
        "simple",
        "clean",
        "sharp",
        "soft",
        "warm",
        "shiny",
        "textured",
        "handmade",
        "stylish",
        "luxury",
        "luxurious",
        "premium",
        "classic",
        "cozy",
        "cosy",
        "rustic",
        "organic",
        "abstract",
        "colourful",
        "colorful",
        "vibrant",
        "subtle",
        "gentle",
        "bold",
        "dynamic",
        "calm",
        "peaceful",
        "serene",
        "magical",
        "mystical",
        "epic",
        "iconic",
        "whimsical",
        "quirky",
        "trendy",
        "contemporary",
        "traditional",
        "festive",
        "lighting",
        "lit",
        "lights",
        "photography",
        "photographic",
        "shot",
        "closeup",
        "close",
        "view",
        "angle",
        "scene",
        "composition",
        "portrait",
        "aesthetic",
        "gorgeous",
        "stunning",
        "lush",
        "flat",
        "smooth",
        "glowing",
        "shimmering",
        "sparkling",
        "detailed",
        "intricate",
        "ornate",
        "elegant",
        "graceful",
        "charming",
        "playful",
        "dreamy",
        "moody",
        "atmospheric",
        "ambient",
        "golden-hour",
        "sunlit",
        "candid",
        "editorial",
        "commercial",
        "product",
    ]
)


def _colour_word(word: str) -> str | None:
    if word in COLOUR_WORDS:
        return word
    return _stem(word) if _stem(word) in COLOUR_WORDS else None


def _known_word(word: str) -> bool:
    if word in THINGS:
        return False
    return bool(
        word in icons.FILLER
        or word in DESCRIPTIVE
        or _lookup(word, STYLE_WORDS)
        or _lookup(word, COMPOSITION_WORDS)
        or word in MOOD_PALETTES
        or word in ("tshirt", "line", "drawing", "art")
    )


@dataclass
class Reading:
    subjects: list[str] = field(default_factory=list)  # procedural names and "icon:<name>"
    colours: dict[str, RGB] = field(default_factory=dict)  # subject → the colour named for it
    plural: set[str] = field(default_factory=set)
    unrecognized: list[str] = field(default_factory=list)


def _subject_for(word: str) -> str | None:
    """The subject one word names: a procedural subject, else an icon, else None."""
    proc = _lookup(word, SUBJECT_WORDS)
    if proc:
        return proc
    hit = icons.find_loosely(word)
    return icons.PREFIX + hit if hit else None


def read_subjects(text: str) -> Reading:
    """Subjects in prompt order (each once), their bound colours, plurals, unrecognised words."""
    words = _words(text)
    out = Reading()
    pending: RGB | None = None
    previous: str | None = None  # the procedural subject named by the word before
    i = 0

    def add(subject: str, plural: bool) -> None:
        nonlocal pending
        if subject not in out.subjects:
            out.subjects.append(subject)
        if pending is not None and subject not in out.colours:
            out.colours[subject] = pending
        if plural:
            out.plural.add(subject)
        pending = None

    while i < len(words):
        word = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        # Phrases first: "ice cream" is a dessert, not ice; "palm tree" stays one palm.
        taken = 0
        for n in (3, 2):
            phrase = words[i : i + n]
            if len(phrase) < n or _known_word(phrase[0]) or _colour_word(phrase[0]):
                continue
            if _lookup(phrase[0], SUBJECT_WORDS) and _stem(phrase[1]) in COMPOUND_HEADS:
                continue
            hit = icons.find_phrase(" ".join(phrase))
            if hit:
                add(icons.PREFIX + hit, _stem(phrase[-1]) != phrase[-1])
                taken = n
                break
        if taken:
            previous = None
            i += taken
            continue
        i += 1
        colour = _colour_word(word)
        ends_phrase = not nxt or _known_word(nxt) or nxt in BREAKS
        is_thing = bool(
            (colour in NOUN_COLOURS or word in THINGS)
            and (i < 2 or words[i - 2] in ARTICLES or _colour_word(words[i - 2]))
            and ends_phrase
        ) or bool(colour and _lookup(word, SUBJECT_WORDS) and ends_phrase)
        if colour and not is_thing:
            pending = COLOUR_WORDS[colour]
            previous = None
            continue
        if word in MEDIA and (nxt in MEDIA_NOUNS or _lookup(nxt, STYLE_WORDS) == "line"):
            continue
        plural = word.endswith("s") and _stem(word) != word
        proc = _lookup(word, SUBJECT_WORDS)
        if proc and not is_thing:
            # "palm tree", "pine trees", "coffee cup": the head noun only refines the word before.
            if previous is not None and _stem(word) in COMPOUND_HEADS:
                if plural:
                    out.plural.add(previous)
                continue
            add(proc, plural)
            previous = proc
            continue
        previous = None
        if _known_word(word) and not is_thing:
            if word in BREAKS:
                pending = None
            continue
        subject = _subject_for(word)
        if subject:
            add(subject, plural)
        elif len(word) > 1 and word not in out.unrecognized:
            out.unrecognized.append(word)
    return out


def avoided_subjects(negative: str) -> set[str]:
    """Subjects the negative prompt names, by any of their words (a "kitten" removes the cat)."""
    reading = read_subjects(negative)
    return set(reading.subjects)

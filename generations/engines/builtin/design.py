"""Reading a prompt into a `Design`: subjects, styles, formats, palette and text, before the seed
makes its choices; and choosing the composition."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from generations.engines.builtin.palettes import Palette, _palette
from generations.engines.builtin.subjects import avoided_subjects, read_subjects
from generations.engines.builtin.vocabulary import (
    COLOUR_WORDS,
    COMPOSITION_WORDS,
    LANDSCAPE_SUBJECTS,
    RGB,
    STYLE_WORDS,
    _lookup,
    _styles,
    _words,
    quoted_text,
)


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
    colours: dict[str, RGB] = field(default_factory=dict)  # "a teal fox": the fox's own colour
    unrecognized: list[str] = field(default_factory=list)  # prompt words that named nothing


FALLBACK_SUBJECTS = (
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


def motifs_for(prompt: str, negative: str, rng: random.Random) -> list[str]:
    """The subjects to draw, in prompt order, minus those the negative prompt names.

    With no subject word the seed picks one (the abstract geometry is one of the choices).
    """
    avoid = avoided_subjects(negative)
    chosen = [s for s in read_subjects(prompt).subjects if s not in avoid]
    if not chosen:
        pool = [s for s in FALLBACK_SUBJECTS if s not in avoid]
        chosen = [rng.choice(pool)] if pool else []
    return chosen


def _avoid_subjects(d: Design) -> set[str]:
    return set(d.notes.get("avoid_subjects", "").split())


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
    reading = read_subjects(prompt)
    subjects = motifs_for(prompt, negative, rng)
    if "geometric" in styles and not reading.subjects and "abstract" not in _words(negative):
        subjects = ["abstract"]
    text = "" if "text" in avoid_styles else quoted_text(prompt)
    avoid_subjects = avoided_subjects(negative)
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
        plural=frozenset(reading.plural),
        colours={k: v for k, v in reading.colours.items() if k in subjects},
        unrecognized=reading.unrecognized,
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

"""`builtin:procedural`: a deterministic procedural renderer. It is not a neural model.

It reads a prompt for colour words, subject words, style words and composition words, then draws
flat vector design art with classical 2D drawing (Pillow polygons, supersampled for antialiasing):
a palette built from the colour words, a composition and details chosen by the seed, subjects from
`procedural_shapes`, and any quoted text set as real typography. The same prompt, negative prompt,
size and seed always give the same bytes. See docs/engines-builtin.md.

The parts live in their own modules: `vocabulary` (the words it reads), `palettes` (colour),
`typography` (type), `design` (a prompt read into a `Design`), `canvas` (shared drawing helpers),
`compositions` (the formats), `finishing` (print textures) and `engine` (render, encode, the
registered engine). This module re-exports what callers and tests use, so
`from generations.engines import builtin` keeps working.
"""

from __future__ import annotations

from generations.engines.builtin.canvas import (
    _arrange,
    _backdrop,
    _draw_subjects,
    _layout,
    _subject_layer,
)
from generations.engines.builtin.compositions import COMPOSERS, SHEET_FILLERS
from generations.engines.builtin.design import (
    Design,
    _choose_composition,
    design_for,
    motifs_for,
)
from generations.engines.builtin.engine import (
    WORK_LONG_SIDE,
    ProceduralEngine,
    encode_png,
    render,
    seed_for,
)
from generations.engines.builtin.finishing import _finish
from generations.engines.builtin.palettes import (
    CURATED,
    MOOD_PALETTES,
    Palette,
    _palette,
    contrast,
    palette_for,
)
from generations.engines.builtin.typography import FONTS, _font, arc_text, fit_text, set_text
from generations.engines.builtin.vocabulary import (
    COLOUR_WORDS,
    COMPOSITION_WORDS,
    COMPOSITIONS,
    MOTIF_WORDS,
    MOTIFS,
    RGB,
    STYLE_WORDS,
    SUBJECT_WORDS,
    quoted_text,
)

__all__ = [
    "COLOUR_WORDS",
    "COMPOSERS",
    "COMPOSITIONS",
    "COMPOSITION_WORDS",
    "CURATED",
    "FONTS",
    "MOOD_PALETTES",
    "MOTIFS",
    "MOTIF_WORDS",
    "RGB",
    "SHEET_FILLERS",
    "STYLE_WORDS",
    "SUBJECT_WORDS",
    "WORK_LONG_SIDE",
    "Design",
    "Palette",
    "ProceduralEngine",
    "_arrange",
    "_backdrop",
    "_choose_composition",
    "_draw_subjects",
    "_finish",
    "_font",
    "_layout",
    "_palette",
    "_subject_layer",
    "arc_text",
    "contrast",
    "design_for",
    "encode_png",
    "fit_text",
    "motifs_for",
    "palette_for",
    "quoted_text",
    "render",
    "seed_for",
    "set_text",
]

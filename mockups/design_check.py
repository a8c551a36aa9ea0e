"""What the mockup editor tells a designer about a design on a product before it is printed:
whether it carries a solid background that would print as a box, how much transparent margin is
trimmed, and whether it has enough pixels for the print size."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import cache

from generations.loader import ImageRejected, load_image
from generations.models import Asset
from mockups import render as renderer
from mockups import trim
from mockups.models import ProductTemplate
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    np = lazy_module("numpy")

# The long side of each catalog product's print area, in inches (typical print-on-demand sizes).
PRINT_LONG_SIDE_IN: dict[str, float] = {
    "tshirt": 15.0,
    "hoodie": 13.0,
    "tote": 15.0,
    "mug": 8.5,
    "poster-framed": 24.0,
    "sticker": 4.0,
    "phone-case": 6.0,
    "canvas": 20.0,
}
DEFAULT_LONG_SIDE_IN = 12.0  # a shop's own product photo: no size is known
# Below these pixels per inch a print looks soft, then visibly blurry.
SOFT_PPI = 150
BLURRY_PPI = 75
# Products printed edge to edge, where a design's own background is the point.
FULL_BLEED_TAGS = frozenset({"poster", "canvas", "wall", "phone"})
# A border this uniform (RGB standard deviation, 0–255) reads as a solid backdrop.
SOLID_BORDER_STD = 14.0


@dataclass
class DesignFacts:
    width: int  # the design as placed (transparent margins trimmed), full-size pixels
    height: int
    trimmed: bool  # transparent margins were trimmed
    transparent: bool  # the design has see-through pixels
    solid_background: bool  # opaque, with a uniform border: a backdrop, not part of the design


def design_facts(asset: Asset) -> DesignFacts:
    """Facts about a library image, cached by its content hash (files never change)."""
    key = f"design-facts:v1:{asset.sha256}"
    cached = cache.get(key)
    if cached:
        return DesignFacts(**cached)
    facts = _measure(asset)
    cache.set(key, asdict(facts), 7 * 24 * 3600)
    return facts


def _measure(asset: Asset) -> DesignFacts:
    fallback = DesignFacts(asset.width, asset.height, False, False, False)
    try:
        with asset.file.open("rb") as fh:
            image = load_image(fh.read()).image
    except (OSError, ImageRejected):
        return fallback
    trimmed, box = trim.trim(image)
    if trim.has_alpha(image):
        alpha = np.asarray(image.convert("RGBA").getchannel("A"))
        transparent = bool((alpha < 250).any())
    else:
        transparent = False
    solid = False
    if not transparent:
        rgb = np.asarray(image.convert("RGB"), np.float32)
        ring = max(2, round(min(rgb.shape[:2]) * 0.02))
        border = np.concatenate(
            [
                rgb[:ring].reshape(-1, 3),
                rgb[-ring:].reshape(-1, 3),
                rgb[:, :ring].reshape(-1, 3),
                rgb[:, -ring:].reshape(-1, 3),
            ]
        )
        solid = float(border.std(axis=0).max()) < SOLID_BORDER_STD
    w, h = (trimmed.width, trimmed.height) if box else (asset.width, asset.height)
    return DesignFacts(w, h, box is not None, transparent, solid)


def print_long_side(template: ProductTemplate) -> tuple[float, bool]:
    """The print area's long side in inches, and whether that size is known (catalog)."""
    if template.builtin in PRINT_LONG_SIDE_IN:
        return PRINT_LONG_SIDE_IN[template.builtin], True
    return DEFAULT_LONG_SIDE_IN, False


def is_full_bleed(template: ProductTemplate) -> bool:
    words = set((template.tags or "").lower().split()) | {template.slug}
    return bool(words & FULL_BLEED_TAGS) or any(w.startswith("poster") for w in words)


def pixels_per_inch(
    template: ProductTemplate, facts: DesignFacts, placement: renderer.Placement
) -> tuple[int, float]:
    """The design's pixels per printed inch as placed, and the print's long side in inches."""
    flat = renderer.flat_size(template.print_area)
    m = renderer.placement_matrix(placement, (facts.width, facts.height), flat)
    flat_per_source = max(float(np.hypot(m[0, 0], m[1, 0])), float(np.hypot(m[0, 1], m[1, 1])))
    long_in, _known = print_long_side(template)
    inches_per_flat = long_in / max(flat)
    ppi = 1.0 / max(flat_per_source * inches_per_flat, 1e-9)
    return round(ppi), long_in


def warnings_for(
    template: ProductTemplate, facts: DesignFacts, placement: renderer.Placement
) -> list[dict[str, Any]]:
    """What to tell the designer, most important first."""
    out: list[dict[str, Any]] = []
    if facts.solid_background and not is_full_bleed(template):
        out.append({"kind": "background"})
    ppi, long_in = pixels_per_inch(template, facts, placement)
    if ppi < SOFT_PPI:
        _long, known = print_long_side(template)
        out.append(
            {
                "kind": "resolution",
                "ppi": ppi,
                "blurry": ppi < BLURRY_PPI,
                "inches": f"{long_in:g}",
                "known": known,
            }
        )
    return out


def geometry(
    template: ProductTemplate, facts: DesignFacts, placement: renderer.Placement
) -> dict[str, Any]:
    """What the editor's drag handles need: the product photo's canonical size, the print area
    in it, the flat print area, the design's placed size and its placement."""
    flat = renderer.flat_size(template.print_area)
    return {
        "canvas": [template.width or 1200, template.height or 1200],
        "area": template.print_area,
        "flat": [round(flat[0], 2), round(flat[1], 2)],
        "source": [facts.width, facts.height],
        "placement": placement.normalised(),
    }

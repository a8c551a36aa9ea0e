"""Prepared designs: a copy of each design a mockup has used, kept in the form that is fastest to
read back, so that a new mockup of it does not decode the original again.

A photo-like 1024-px PNG takes 30+ ms to decode (zlib and PNG filters over incompressible
pixels) and a mockup shows it at half that size or less. When a render decodes a design, the
decoded, trimmed pixels are also downscaled to the next size step at or above what that render
needed and stored raw: a 24-byte header and the RGB or RGBA bytes, so reading it back is one
copy. Later renders that need no more pixels than it holds start from it (a larger one replaces
it when a render needs more). Keyed by the shop and the content's sha256 beside the render cache,
indexed by `RenderCacheEntry` rows: counted in the shop's budget and evicted with its renders.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.files.storage import default_storage

from mockups import rendercache
from mockups.models import RenderCacheEntry
from studio.lazymodules import lazy_module
from studio.models import Shop

if TYPE_CHECKING:
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    np = lazy_module("numpy")

MAGIC = b"MKD1"
# magic, width, height, channels, full-size width, full-size height (of the trimmed design)
HEADER = struct.Struct("<4sIIBII3x")
# Longest sides a prepared design is kept at: the smallest step at or above what a render needs.
STEPS = (256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096)


@dataclass(frozen=True)
class PreparedDesign:
    pixels: np.ndarray  # (h, w, 3 or 4) uint8, read-only when read back from storage
    full_size: tuple[int, int]  # the trimmed design's size in the original's pixels

    def covers(self, size: tuple[int, int]) -> bool:
        """Whether it holds at least `size` (width, height) pixels' worth of detail."""
        h, w = self.pixels.shape[:2]
        return (w, h) == self.full_size or (w >= size[0] and h >= size[1])


def name_for(shop: Shop, sha256: str) -> str:
    # Beside the shops' render folders, under a name no shop slug can take (slugs have no dot),
    # so that the orphan sweeper walks it like theirs (files without a row are removed).
    return f"{rendercache.PREFIX}/.designs/{shop.slug}/{sha256}.px"


def step_for(needed: tuple[int, int], have: tuple[int, int]) -> tuple[int, int]:
    """The size to keep: aspect kept, longest side the step at or above `needed`'s, never more
    than the `have` pixels available."""
    longest = max(needed)
    step = next((s for s in STEPS if s >= longest), longest)
    if step >= max(have):
        return have
    k = step / max(have)
    return (max(round(have[0] * k), needed[0], 1), max(round(have[1] * k), needed[1], 1))


def encode(pixels: np.ndarray, full_size: tuple[int, int]) -> bytes:
    h, w, c = pixels.shape
    return HEADER.pack(MAGIC, w, h, c, *full_size) + np.ascontiguousarray(pixels).tobytes()


def decode(data: bytes) -> PreparedDesign | None:
    """The prepared design in `data`, or None when it is not one (truncated, another format)."""
    if len(data) < HEADER.size:
        return None
    magic, w, h, c, fw, fh = HEADER.unpack_from(data)
    if magic != MAGIC or c not in (3, 4) or len(data) != HEADER.size + w * h * c:
        return None
    pixels = np.frombuffer(data, np.uint8, offset=HEADER.size).reshape(h, w, c)
    return PreparedDesign(pixels, (fw, fh))


def read(shop: Shop, sha256: str) -> PreparedDesign | None:
    if not sha256:
        return None
    return decode(rendercache.read(name_for(shop, sha256)))


def keep(shop: Shop, sha256: str, pixels: np.ndarray, full_size: tuple[int, int]) -> None:
    """Store `pixels` (already at its step) as the shop's prepared copy of the design, replacing
    a smaller one. Free: the render that made it is what the shop pays for."""
    if not sha256:
        return
    name = name_for(shop, sha256)
    if default_storage.exists(name):  # smaller than needed, or it would have been used
        RenderCacheEntry.objects.filter(name=name).delete()
        default_storage.delete(name)
    rendercache.store(shop, name, encode(pixels, full_size), cents=0, memo="")

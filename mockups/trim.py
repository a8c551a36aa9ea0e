"""Transparent margins are trimmed off a design before it is placed, so a cut-out fills the print
area instead of printing small inside an invisible box.

The renderer fits the *trimmed* design (contain / cover / stretch, then scale and position), so
a background-removal result of a 1024² picture whose subject covers the middle half prints at
the same size as the subject cut out by hand.
"""

from __future__ import annotations

from collections import OrderedDict

from PIL import Image

# Part of every mockup's cache key: renders made before trimming are not served again.
TRIM_VERSION = 1
# Alpha at or below this counts as empty (matting haze, the last pixels of a soft shadow).
ALPHA_FLOOR = 8
# Margins thinner than this share of the side are kept: nothing visible would change.
MIN_MARGIN = 0.01

# sha256 → trimmed size in the design's full-size pixels, for the renderer's warm-source lookup.
_SIZES: OrderedDict[str, tuple[int, int]] = OrderedDict()
_SIZES_MAX = 4096


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def content_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The box (x0, y0, x1, y1) of the visible pixels when transparent margins are worth
    trimming, else None (no alpha, nothing visible, or margins too thin to matter)."""
    if not has_alpha(image):
        return None
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    alpha = rgba.getchannel("A").point(lambda a: 255 if a > ALPHA_FLOOR else 0)
    box = alpha.getbbox()
    if box is None:
        return None
    w, h = image.size
    x0, y0, x1, y1 = box
    if max(x0, w - x1) <= MIN_MARGIN * w and max(y0, h - y1) <= MIN_MARGIN * h:
        return None
    return box


def trim(image: Image.Image) -> tuple[Image.Image, tuple[int, int, int, int] | None]:
    """The design cropped to its visible pixels, and the box it was cropped to (or None)."""
    box = content_box(image)
    if box is None:
        return image, None
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    return rgba.crop(box), box


def remember(sha256: str, size: tuple[int, int]) -> None:
    if not sha256:
        return
    _SIZES[sha256] = size
    _SIZES.move_to_end(sha256)
    while len(_SIZES) > _SIZES_MAX:
        _SIZES.popitem(last=False)


def known_size(sha256: str, default: tuple[int, int]) -> tuple[int, int]:
    """A design's size as the renderer places it (trimmed), once it has been decoded."""
    return _SIZES.get(sha256, default)

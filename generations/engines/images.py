"""Small image conversions the remote engines need before sending pixels to a provider."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from generations.engines.base import EngineError
from generations.loader import ImageRejected, load_image


def _load(data: bytes, what: str) -> Image.Image:
    try:
        return load_image(data).image
    except ImageRejected as exc:
        raise EngineError(f"The {what} cannot be used: {exc}") from exc


def as_png(data: bytes, what: str = "image") -> bytes:
    """Re-encode any accepted input as PNG (providers accept PNG everywhere)."""
    img = _load(data, what)
    if img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = img.convert("RGBA" if "A" in img.mode or "transparency" in img.info else "RGB")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def mask_l(mask: bytes, size: tuple[int, int]) -> Image.Image:
    """Our mask convention (white = the region to act on) as an L image of `size`."""
    img = _load(mask, "mask")
    if img.mode in ("RGBA", "LA") and img.getchannel("A").getextrema()[0] < 255:
        # A mask drawn as opaque strokes on transparency: the strokes are the region.
        img = img.getchannel("A")
    img = img.convert("L")
    if img.size != size:
        img = img.resize(size, Image.Resampling.NEAREST)
    return img


def mask_png(mask: bytes, size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    mask_l(mask, size).save(buf, "PNG")
    return buf.getvalue()


def transparent_mask_png(image: bytes, mask: bytes) -> bytes:
    """OpenAI's mask: the image with alpha 0 where it should be edited (our white)."""
    img = _load(image, "image").convert("RGBA")
    region = mask_l(mask, img.size)
    img.putalpha(ImageOps.invert(region))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    return _load(data, "image").size

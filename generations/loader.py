"""The one image loader: every decoded image passes here, under byte, pixel and format limits.

Every mode it accepts is normalised before anything else sees the pixels: callers get L, RGB
or RGBA only (palette, 1-bit, 16/32-bit greyscale, float, CMYK, YCbCr and LA become one of
those), so no operation downstream meets a mode Pillow cannot resize, reduce or save.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    np = lazy_module("numpy")

FORMAT_CONTENT_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}
DEFAULT_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})
ACCEPTED_MODES = frozenset(
    {"1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "YCbCr", "PA"}
)
# What every loaded image is converted to (see normalise_mode).
NORMAL_MODES = frozenset({"L", "RGB", "RGBA"})
EXIF_ORIENTATION = 0x0112
SWAPS_AXES = frozenset({5, 6, 7, 8})  # orientations that turn the image by 90°


class ImageRejected(ValueError):
    """The bytes are not an image this studio accepts; the message says why, for the user."""


@dataclass(frozen=True)
class LoadedImage:
    # Decoded, EXIF orientation applied; smaller than width × height only when the caller
    # passed `scale` and the format can decode at a reduced size (JPEG).
    image: Image.Image
    format: str
    content_type: str
    width: int  # the image's full size, after EXIF orientation
    height: int


def load_image(
    data: bytes,
    *,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    formats: frozenset[str] = DEFAULT_FORMATS,
    scale: Callable[[int, int], float] | None = None,
) -> LoadedImage:
    """Decode `data` under the limits, or raise ImageRejected.

    `scale(width, height)`, given the full size after orientation, says what fraction of it the
    caller will use (≤ 1). A JPEG is then decoded by libjpeg's DCT scaling at the smallest of
    1/2, 1/4, 1/8 that still gives at least that many pixels (`Image.draft`): a 40 MP photo
    shown at 1000 px never exists at full size. The limits are checked on the header's full
    size first, whatever the decode size.
    """
    max_bytes = max_bytes or settings.IMAGE_MAX_BYTES
    max_pixels = max_pixels or settings.IMAGE_MAX_PIXELS
    if not data:
        raise ImageRejected("The file is empty.")
    if len(data) > max_bytes:
        raise ImageRejected(f"The file is {len(data):,} bytes; the limit is {max_bytes:,} bytes.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data), formats=list(formats))
            fmt = probe.format or ""
            width, height = probe.size
            # Check the header's size before decoding a single pixel: this stops bombs.
            if width <= 0 or height <= 0:
                raise ImageRejected("The image has no pixels.")
            if width * height > max_pixels:
                raise ImageRejected(
                    f"The image is {width}×{height} ({width * height:,} pixels); "
                    f"the limit is {max_pixels:,} pixels."
                )
            if probe.mode not in ACCEPTED_MODES:
                raise ImageRejected(f"Unsupported colour mode {probe.mode}.")
            if scale is not None:
                _draft(probe, scale)
            probe.load()
    except ImageRejected:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        allowed = ", ".join(sorted(formats))
        if isinstance(exc, UnidentifiedImageError):
            raise ImageRejected(f"This is not an image in an accepted format ({allowed}).") from exc
        raise ImageRejected("The image is too large to decode safely.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(f"The image is corrupt or truncated ({exc}).") from exc
    # In place: a copy of a 40 MP image would double peak memory for nothing.
    image = probe
    swapped = _orientation(image) in SWAPS_AXES
    ImageOps.exif_transpose(image, in_place=True)
    try:
        image = normalise_mode(image)
    except (OSError, ValueError) as exc:
        raise ImageRejected(f"The image's colour data cannot be read ({exc}).") from exc
    return LoadedImage(
        image,
        fmt,
        FORMAT_CONTENT_TYPES.get(fmt, "application/octet-stream"),
        height if swapped else width,
        width if swapped else height,
    )


def made_image(data: bytes, image: Image.Image, content_type: str) -> LoadedImage:
    """What load_image(data) returns, for bytes our own code just encoded losslessly from
    `image` (an operation's output): the limits are checked, the decode is skipped. Never for
    bytes a user or a remote service sent; those go through load_image."""
    formats = {v: k for k, v in FORMAT_CONTENT_TYPES.items()}
    fmt = formats.get(content_type)
    if fmt is None or image.mode not in NORMAL_MODES:
        raise ValueError(f"made_image: {content_type} in mode {image.mode} is not a loader result")
    max_bytes, max_pixels = settings.IMAGE_MAX_BYTES, settings.IMAGE_MAX_PIXELS
    width, height = image.size
    if len(data) > max_bytes:
        raise ImageRejected(f"The file is {len(data):,} bytes; the limit is {max_bytes:,} bytes.")
    if width * height > max_pixels:
        raise ImageRejected(
            f"The image is {width}×{height} ({width * height:,} pixels); "
            f"the limit is {max_pixels:,} pixels."
        )
    return LoadedImage(image, fmt, content_type, width, height)


def normalise_mode(image: Image.Image) -> Image.Image:
    """The image in L, RGB or RGBA, keeping transparency where the source has any."""
    mode = image.mode
    if mode in NORMAL_MODES:
        return image
    if mode == "1":
        return image.convert("L")
    if mode in ("P", "PA"):
        transparent = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if transparent else "RGB")
    if mode == "LA":
        return image.convert("RGBA")
    if mode in ("CMYK", "YCbCr"):
        return image.convert("RGB")
    if mode.startswith(("I", "F")):
        return _deep_grey_to_l(image)
    return image.convert("RGBA" if "A" in image.getbands() else "RGB")


def _deep_grey_to_l(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer and float greyscale to 8 bits, by the range the mode can hold
    (a 16-bit PNG's 0-65535 becomes 0-255; Pillow's own convert would clip it instead)."""
    arr = np.asarray(image)
    if image.mode == "F":
        grey = np.clip(arr, 0.0, 255.0)
    else:
        # I;16 variants hold 0-65535; "I" (32-bit) is how Pillow opens 16-bit PNGs too.
        grey = np.clip(arr.astype(np.float32), 0.0, 65535.0) / 257.0
    return Image.fromarray(np.rint(grey).astype(np.uint8), "L")


def _draft(probe: Image.Image, scale: Callable[[int, int], float]) -> None:
    """Ask the decoder for a reduced size (only JPEG can); the header's size is unchanged."""
    if probe.format != "JPEG":
        return
    width, height = probe.size
    turned = _orientation(probe) in SWAPS_AXES
    fraction = scale(height, width) if turned else scale(width, height)
    if fraction < 0.5:
        # draft picks the largest reduction whose result is still at least this size.
        probe.draft(None, (math.ceil(width * fraction), math.ceil(height * fraction)))


def _orientation(image: Image.Image) -> int | None:
    return image.getexif().get(EXIF_ORIENTATION)

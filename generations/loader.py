"""The one image loader: every decoded image passes here, under byte, pixel and format limits."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

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


class ImageRejected(ValueError):
    """The bytes are not an image this studio accepts; the message says why, for the user."""


@dataclass(frozen=True)
class LoadedImage:
    image: Image.Image  # decoded, EXIF orientation applied
    format: str
    content_type: str
    width: int
    height: int


def load_image(
    data: bytes,
    *,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    formats: frozenset[str] = DEFAULT_FORMATS,
) -> LoadedImage:
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
    ImageOps.exif_transpose(image, in_place=True)
    return LoadedImage(
        image,
        fmt,
        FORMAT_CONTENT_TYPES.get(fmt, "application/octet-stream"),
        image.width,
        image.height,
    )

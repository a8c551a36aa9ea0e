"""Shared conversions: PIL ↔ numpy, masks, encoding, and small filters the operations share."""

from __future__ import annotations

import io
import zlib
from typing import TYPE_CHECKING

from PIL import Image

from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")

MASK_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA"})


class OperationInputError(ValueError):
    """The input cannot be processed by this operation; the message is for the user."""


def to_rgb(image: Image.Image) -> np.ndarray:
    """Any loader-accepted mode → uint8 RGB (alpha composited onto white)."""
    if image.mode in ("I;16", "I", "F"):
        arr = np.asarray(image, dtype=np.float32)
        hi = float(arr.max()) or 1.0
        image = Image.fromarray(np.clip(arr * (255.0 / hi), 0, 255).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))


def alpha_of(image: Image.Image) -> np.ndarray | None:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return np.asarray(image.convert("RGBA"))[..., 3]
    return None


def mask_from_image(image: Image.Image) -> np.ndarray:
    """A mask picture → bool array, True where white (the region to act on).

    Transparent pixels of an RGBA/LA mask count as black, so a painter's transparent canvas with
    white strokes works as well as a black-and-white PNG.
    """
    if image.mode not in MASK_MODES:
        raise OperationInputError(
            f"Unsupported mask mode {image.mode}: send a black-and-white PNG (L, RGB or RGBA)."
        )
    grey = np.asarray(image.convert("L"), dtype=np.uint8)
    alpha = alpha_of(image)
    if alpha is not None:
        grey = (grey.astype(np.uint16) * alpha // 255).astype(np.uint8)
    return grey >= 128


# zlib level 2: on 1024 px photos and cut-outs level 3 took up to twice as long for files 1-3 %
# smaller, level 6 (Pillow's default) three to five times as long (docs/benchmarks.md).
PNG_COMPRESS_LEVEL = 2
# zlib's run-length strategy (Z_RLE): on 1024 px cut-outs and photos the files came out 17-20 %
# smaller than with the default strategy at level 2 (smaller than level 6's too), in the same
# time or a little less (measured, docs/benchmarks.md, issue 18 "Third session").
PNG_COMPRESS_TYPE = zlib.Z_RLE


def clear_transparent(array: np.ndarray) -> np.ndarray:
    """An RGBA array with the colour of fully transparent pixels set to 0 (a copy if any).

    Invisible either way, but a cut-out keeps its backdrop's noisy colours there, which made the
    PNG several times slower to encode and larger (and leaks the backdrop to anyone who looks).
    """
    if array.ndim != 3 or array.shape[2] != 4:
        return array
    hidden = array[..., 3] == 0
    if not hidden.any():
        return array
    if array.dtype != np.uint8:
        cleared = array.copy()
        cleared[hidden] = 0
        return cleared
    # A pixel's four channels read as one uint32 and chosen whole: the boolean-indexed
    # assignment above took ~20 ms on a 1024² cut-out, this ~2 ms.
    pixels = np.ascontiguousarray(array).view(np.uint32).reshape(array.shape[:2])
    return np.where(hidden, np.uint32(0), pixels).view(np.uint8).reshape(array.shape)


def encode_png(array: np.ndarray, *, cleared: bool = False) -> bytes:
    """PNG bytes of an L, RGB or RGBA array (`cleared`: clear_transparent was already applied)."""
    if not cleared:
        array = clear_transparent(array)
    buf = io.BytesIO()
    pil_image(array).save(
        buf, "PNG", compress_level=PNG_COMPRESS_LEVEL, compress_type=PNG_COMPRESS_TYPE
    )
    return buf.getvalue()


def pil_image(array: np.ndarray) -> Image.Image:
    """An L, RGB or RGBA uint8 array as a Pillow image (what its PNG decodes to)."""
    mode = "L" if array.ndim == 2 else {3: "RGB", 4: "RGBA"}[array.shape[2]]
    return Image.fromarray(np.ascontiguousarray(array), mode)


def encode_mask_png(mask: np.ndarray) -> bytes:
    return encode_png(np.where(mask, 255, 0).astype(np.uint8))


def resize_long(array: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """Downscale so the long side is at most `long_side`; returns (array, scale applied)."""
    h, w = array.shape[:2]
    scale = min(1.0, long_side / max(h, w))
    if scale >= 1.0:
        return array, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(array, size, interpolation=cv2.INTER_AREA), scale


def box_filter(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def guided_filter(
    guide: np.ndarray, src: np.ndarray, r: int, eps: float, subsample: int = 1
) -> np.ndarray:
    """He et al.'s guided filter with a grey guide (float32 in [0, 1]): edge-aware smoothing.

    With subsample > 1 it is the "fast guided filter": the linear coefficients are computed on
    a reduced copy and enlarged, which cuts time and memory by subsample² at little cost.
    """
    if subsample > 1:
        h, w = guide.shape[:2]
        size = (max(1, w // subsample), max(1, h // subsample))
        g_small = cv2.resize(guide, size, interpolation=cv2.INTER_AREA)
        s_small = cv2.resize(src, size, interpolation=cv2.INTER_AREA)
        rs = max(1, r // subsample)
        mean_i = box_filter(g_small, rs)
        mean_p = box_filter(s_small, rs)
        var_i = box_filter(g_small * g_small, rs) - mean_i * mean_i
        a = (box_filter(g_small * s_small, rs) - mean_i * mean_p) / (var_i + eps)
        b = mean_p - a * mean_i
        a = cv2.resize(box_filter(a, rs), (w, h), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(box_filter(b, rs), (w, h), interpolation=cv2.INTER_LINEAR)
        return a * guide + b
    mean_i = box_filter(guide, r)
    mean_p = box_filter(src, r)
    corr_ip = box_filter(guide * src, r)
    var_i = box_filter(guide * guide, r) - mean_i * mean_i
    a = (corr_ip - mean_i * mean_p) / (var_i + eps)
    b = mean_p - a * mean_i
    return box_filter(a, r) * guide + box_filter(b, r)


def bbox_of(mask: np.ndarray) -> list[int] | None:
    """[x1, y1, x2, y2] (x2, y2 exclusive) of the True pixels, or None."""
    rows, cols = np.any(mask, axis=1), np.any(mask, axis=0)
    if not rows.any():
        return None
    ys, xs = np.flatnonzero(rows), np.flatnonzero(cols)
    return [int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1]


def luminance(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def changed_pixels(before: bytes | Image.Image, after: bytes | Image.Image) -> int | None:
    """How many pixels an operation visibly changed (any channel, alpha included, by more than
    a rounding step), or None when the two images cannot be compared (another size, a video).
    An output whose every pixel is the input's changed nothing a user paid for.

    Each side is encoded bytes (decoded by the loader here) or a picture already decoded or
    made (the job's input as the engine read it, an output the engine encoded losslessly)."""
    from generations.loader import ImageRejected, load_image

    try:
        a = before if isinstance(before, Image.Image) else load_image(before).image
        b = after if isinstance(after, Image.Image) else load_image(after).image
    except ImageRejected:
        return None
    if a.size != b.size:
        return None
    x = np.ascontiguousarray(a.convert("RGBA"))
    y = np.ascontiguousarray(b.convert("RGBA"))
    # On uint8 (cv2.absdiff does not wrap), not int16 copies: it runs after every operation, and
    # on a 1024² cut-out the int16 version took about as long as the cut-out itself. A pixel's
    # four channel flags, read as one uint32, are non-zero when any channel moved.
    moved = cv2.absdiff(x, y) > 2
    return int(np.count_nonzero(moved.view(np.uint32)))


def no_op_threshold(pixels: int, mask_pixels: int | None) -> int:
    """Fewer changed pixels than this is "nothing": 0.1 % of the image (at least 64 pixels; an
    erase-text that touched 54 pixels of a poster did not erase its type), or a fifth of a
    painted mask when that is smaller (erasing a speck the user painted over is real work)."""
    limit = max(64, round(0.001 * pixels))
    if mask_pixels:
        limit = min(limit, max(1, mask_pixels // 5))
    return limit

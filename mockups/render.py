"""The mockup renderer: place a design in a template's print area, warp, shade, encode.

Per template (id, version) and output width everything that does not depend on the design is
computed once and kept in an in-process LRU (`prepare`): the scaled photo per colour variant,
the print area's bounding box, mask, shading and highlight crops, and a map from every output
pixel in that box to flat print-area coordinates (perspective or cylinder, plus displacement).
A render is then: downscale the source early, one affine `cv2.transform` of the map for the
placement, one `cv2.remap`, a few float ops in the box, and the encode.
"""

from __future__ import annotations

import io
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from PIL import Image, features

from mockups.layers import TemplateLayers
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")

FITS = ("contain", "cover", "stretch")
FORMATS: dict[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}
if features.check("avif"):
    FORMATS["avif"] = "image/avif"
FORMAT_ALIASES = {"jpeg": "jpg"}
JPEG_QUALITY = 88
WEBP_QUALITY = 85
OUTSIDE = -1.0e5  # flat coordinate for output pixels outside the print area


class RenderError(ValueError):
    """The parameters cannot be rendered; the message is for the user (a 400)."""


@dataclass(frozen=True)
class Placement:
    fit: str = "contain"
    x: float = 0.5  # design centre, as a fraction of the print area
    y: float = 0.5
    scale: float = 1.0
    rotate: float = 0.0  # degrees, clockwise

    def normalised(self) -> dict[str, Any]:
        return {
            "fit": self.fit,
            "x": round(self.x, 4),
            "y": round(self.y, 4),
            "scale": round(self.scale, 4),
            "rotate": round(self.rotate, 2),
        }


@dataclass(frozen=True)
class TemplateSpec:
    """What the renderer needs from a ProductTemplate (no ORM in this module)."""

    key: str  # unique per template row, e.g. its id
    version: int
    print_area: dict[str, Any]
    variants: list[dict[str, str]]
    load_layers: Callable[[], TemplateLayers] = field(compare=False, hash=False)


@dataclass
class Prepared:
    width: int
    height: int
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 in output pixels
    flat: tuple[float, float]  # flat print-area size in output pixels
    uv: np.ndarray  # (bh, bw, 2) float32 flat coordinates per box pixel
    mask: np.ndarray  # (bh, bw) float32 print mask / 255 (turns 8-bit alpha into 0…1 coverage)
    shade: np.ndarray  # (bh, bw, 1) float32
    highlight: np.ndarray  # (bh, bw) float32
    # The shading and highlights of a design pixel, precomputed for `compose`'s one formula
    # (rgb · shade · (1 - highlight) + 255 · highlight) and repeated over the three channels:
    # numpy broadcasting a last axis of 1 against 3 runs an inner loop of length 3 (3× slower).
    shade3: np.ndarray  # (bh, bw, 3) float32, shade · (1 - highlight)
    highlight3: np.ndarray  # (bh, bw, 3) float32, 255 · highlight
    base: np.ndarray  # (H, W, 3) uint8 neutral
    tint_mask: np.ndarray | None
    full_highlight: np.ndarray
    alpha: np.ndarray | None
    die_cut: int
    variant_bases: dict[str, np.ndarray] = field(default_factory=dict)


def nbytes(value: Any) -> int:
    """The numpy (and bytes) memory a cached value holds, counted through dataclasses, dicts
    and sequences; other objects count as 0."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(nbytes(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return sum(nbytes(getattr(value, name)) for name in value.__dataclass_fields__)
    if isinstance(value, Image.Image):
        return value.width * value.height * len(value.getbands())
    return 0


class LRU:
    """A small thread-safe LRU bounded by entries and, optionally, by the bytes its values hold;
    values are computed outside the lock. Sizes are measured again on every put, because some
    values grow after they are cached (a prepared width builds its colour variants lazily)."""

    def __init__(self, capacity: int, max_bytes: int | None = None) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def total_bytes(self) -> int:
        with self.lock:
            return sum(nbytes(v) for v in self.data.values())

    def get(self, key: Any) -> Any:
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.capacity:
                self.data.popitem(last=False)
            if self.max_bytes is not None:
                sizes = [nbytes(v) for v in self.data.values()]
                total = sum(sizes)
                # Oldest first; the entry just put always stays (a render needs it now).
                while total > self.max_bytes and len(self.data) > 1:
                    self.data.popitem(last=False)
                    total -= sizes.pop(0)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


# Sizes bound memory: canonical layers are ~45 MB (1200², float), a prepared width up to ~40 MB
# at 1200 px with every colour variant built (catalog: 19–41 MB; the 3-channel shade and
# highlight crops add 3–9 MB of that, for a 2× faster composite); decoded designs are already
# downscaled (≤ a few MB).
# MOCKUP_CACHE_MB (default 256) caps what one process keeps of prepared widths and decoded
# designs together; the entry counts cap them too. In-process on purpose: arrays of tens of MB
# that Django's cache would pickle and ship on every render (rendered files are cached in storage).
_CACHE_BYTES = int(float(settings.MOCKUP_CACHE_MB) * 1024 * 1024)
LAYERS = LRU(4)  # canonical layers per (template, version); only needed to prepare a width
PREPARED = LRU(24, max_bytes=_CACHE_BYTES * 3 // 4)  # per (template, version, width)
SOURCES = LRU(32, max_bytes=_CACHE_BYTES // 4)  # early-downscaled designs per (sha256, scale)


def template_layers(spec: TemplateSpec) -> TemplateLayers:
    key = (spec.key, spec.version)
    layers = LAYERS.get(key)
    if layers is None:
        layers = spec.load_layers()
        LAYERS.put(key, layers)
    return layers


# --- geometry ----------------------------------------------------------------------------------------


def flat_size(print_area: dict[str, Any], k: float = 1.0) -> tuple[float, float]:
    """The unwarped print area's width and height (canonical pixels × k)."""
    if print_area["type"] == "cylinder":
        theta = math.radians(print_area["span_deg"])
        w = print_area["radius"] * 2 * theta
        h = print_area["bottom"] - print_area["top"]
        return w * k, h * k
    p = np.asarray(print_area["points"], np.float64)
    w = (np.linalg.norm(p[1] - p[0]) + np.linalg.norm(p[2] - p[3])) / 2
    h = (np.linalg.norm(p[3] - p[0]) + np.linalg.norm(p[2] - p[1])) / 2
    return float(w) * k, float(h) * k


def print_bbox(
    print_area: dict[str, Any], k: float, size: tuple[int, int]
) -> tuple[int, int, int, int]:
    W, H = size
    if print_area["type"] == "cylinder":
        p = print_area
        theta = math.radians(p["span_deg"])
        half = p["radius"] * math.sin(theta)
        x0, x1 = p["cx"] - half, p["cx"] + half
        y0, y1 = p["top"], p["bottom"] + p["ry"]
    else:
        pts = np.asarray(print_area["points"], np.float64)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
    pad = 2 + (print_area.get("die_cut", 0) * 2.5 if print_area.get("die_cut") else 0)
    return (
        max(math.floor(x0 * k - pad), 0),
        max(math.floor(y0 * k - pad), 0),
        min(math.ceil(x1 * k + pad) + 1, W),
        min(math.ceil(y1 * k + pad) + 1, H),
    )


def flat_coordinates(
    print_area: dict[str, Any], k: float, bbox: tuple[int, int, int, int], disp: np.ndarray | None
) -> np.ndarray:
    """For every output pixel in `bbox`: where it lies on the flat print area (output pixels)."""
    x0, y0, x1, y1 = bbox
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    xs += 0.5
    ys += 0.5  # pixel centres
    if disp is not None:
        xs = xs + disp[..., 0]
        ys = ys + disp[..., 1]
    fw, fh = flat_size(print_area, k)
    if print_area["type"] == "cylinder":
        p = print_area
        theta_max = math.radians(p["span_deg"])
        s = (xs - p["cx"] * k) / (p["radius"] * k)
        visible = np.abs(s) <= math.sin(theta_max)
        theta = np.arcsin(np.clip(s, -1, 1))
        u = (theta + theta_max) / (2 * theta_max) * fw
        v = (ys - p["ry"] * k * np.cos(theta) - p["top"] * k) / ((p["bottom"] - p["top"]) * k) * fh
        u = np.where(visible, u, OUTSIDE)
        return np.dstack([u, v]).astype(np.float32)
    quad = np.float32(print_area["points"]) * k
    flat = np.float32([[0, 0], [fw, 0], [fw, fh], [0, fh]])
    to_flat = cv2.getPerspectiveTransform(quad, flat)
    pts = np.dstack([xs, ys]).reshape(-1, 1, 2)
    uv = cv2.perspectiveTransform(pts, to_flat).reshape(ys.shape[0], ys.shape[1], 2)
    return uv.astype(np.float32)


def _resize(a: np.ndarray, size: tuple[int, int], interpolation: int | None = None) -> np.ndarray:
    if (a.shape[1], a.shape[0]) == size:
        return a
    if interpolation is None:  # not a default argument: cv2 is imported on first use
        interpolation = cv2.INTER_AREA
    return cv2.resize(a, size, interpolation=interpolation)


def prepare(spec: TemplateSpec, width: int) -> Prepared:
    key = (spec.key, spec.version, width)
    prepared = PREPARED.get(key)
    if prepared is not None:
        return prepared
    layers = template_layers(spec)
    cw, ch = layers.size
    k = width / cw
    height = max(round(ch * k), 1)
    size = (width, height)
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    base = _resize(layers.base, size, interp)
    bbox = print_bbox(spec.print_area, k, size)
    x0, y0, x1, y1 = bbox

    def crop(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(_resize(a, size, interp)[y0:y1, x0:x1])

    disp = None
    if layers.displacement is not None:
        disp = crop(layers.displacement) * np.float32(k)
    uv = flat_coordinates(spec.print_area, k, bbox, disp)
    die_cut = round(spec.print_area.get("die_cut", 0) * k)
    mask = crop(layers.print_mask)
    if die_cut:
        mask = np.ones_like(mask)  # the die-cut border may leave the print area
    highlight = crop(layers.highlight).astype(np.float32)
    shade = crop(layers.shading).astype(np.float32)
    prepared = Prepared(
        width=width,
        height=height,
        bbox=bbox,
        flat=flat_size(spec.print_area, k),
        uv=uv,
        mask=(mask / 255.0).astype(np.float32),
        shade=shade[..., None],
        highlight=highlight,
        shade3=cv2.merge([shade * (1 - highlight)] * 3),
        highlight3=cv2.merge([highlight * 255] * 3),
        base=base,
        tint_mask=None if layers.tint_mask is None else _resize(layers.tint_mask, size, interp),
        full_highlight=_resize(layers.highlight, size, interp),
        alpha=None if layers.alpha is None else _resize(layers.alpha, size, interp),
        die_cut=die_cut,
    )
    PREPARED.put(key, prepared)
    return prepared


def _hex_rgb(value: str) -> np.ndarray:
    value = value.lstrip("#")
    return np.float32([int(value[i : i + 2], 16) for i in (0, 2, 4)]) / 255.0


def variant_base(prepared: Prepared, spec: TemplateSpec, variant: str) -> np.ndarray:
    """The photo in a variant's colour: multiply the neutral product, then re-add its sheen."""
    cached = prepared.variant_bases.get(variant)
    if cached is not None:
        return cached
    colour = next((v["color"] for v in spec.variants if v["key"] == variant), None)
    if colour is None or prepared.tint_mask is None:
        prepared.variant_bases[variant] = prepared.base
        return prepared.base
    c = _hex_rgb(colour)
    base = prepared.base.astype(np.float32) / 255.0
    tinted = base * c
    sheen = (prepared.full_highlight * 0.4)[..., None] * (1 - c)
    tinted = 1 - (1 - tinted) * (1 - sheen)
    t = prepared.tint_mask[..., None]
    out = np.clip((base * (1 - t) + tinted * t) * 255 + 0.5, 0, 255).astype(np.uint8)
    prepared.variant_bases[variant] = out
    return out


def placement_matrix(
    placement: Placement, source: tuple[int, int], flat: tuple[float, float]
) -> np.ndarray:
    """2×3 affine: source pixel → flat print-area coordinates."""
    sw, sh = source
    fw, fh = flat
    if placement.fit == "stretch":
        sx, sy = fw / sw, fh / sh
    else:
        pick = min if placement.fit == "contain" else max
        sx = sy = pick(fw / sw, fh / sh)
    sx *= placement.scale
    sy *= placement.scale
    a = math.radians(placement.rotate)
    cos, sin = math.cos(a), math.sin(a)
    cx, cy = placement.x * fw, placement.y * fh
    # T(centre) · R · S · T(-source centre)
    m = np.array(
        [
            [cos * sx, -sin * sy, 0.0],
            [sin * sx, cos * sy, 0.0],
        ]
    )
    m[:, 2] = [cx, cy] - m[:, :2] @ np.array([sw / 2, sh / 2])
    return m


def source_scale(placement: Placement, source: tuple[int, int], flat: tuple[float, float]) -> float:
    """How many flat pixels one source pixel covers (the larger axis), for early downscaling."""
    m = placement_matrix(placement, source, flat)
    return float(max(np.hypot(m[0, 0], m[1, 0]), np.hypot(m[0, 1], m[1, 1])))


def prepare_source(
    image: Image.Image, max_scale: float, full_size: tuple[int, int] | None = None
) -> np.ndarray:
    """RGBA uint8 array of the design, downscaled as early as possible to what will be seen.

    `max_scale` is relative to `full_size`, the design's size before any reduction in the
    decoder (default: the image's own size).
    """
    size = source_size(image.size, max_scale, full_size)
    return source_array(reduced_array(image, size), size)


def source_size(
    have: tuple[int, int], max_scale: float, full_size: tuple[int, int] | None = None
) -> tuple[int, int]:
    """The (width, height) a design is downscaled to: `max_scale` of its full size, or the
    `have` pixels as they are when that is (nearly) all of them."""
    fw, fh = full_size or have
    if max_scale >= 0.98 and have == (fw, fh):
        return have
    return (max(round(fw * max_scale), 1), max(round(fh * max_scale), 1))


def reduced_array(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """The image as an RGB or RGBA array on its way to `size`: a large one is first shrunk by
    an integer `reduce` while still a PIL image, so a 40 MP source never exists as an array at
    full size; smaller ones go to OpenCV as they are."""
    if size[0] < image.width and image.width * image.height > 4_000_000:
        factor = image.width // size[0]
        if factor >= 2:
            image = image.reduce(factor)
    if image.mode not in ("RGBA", "RGB"):
        image = image.convert("RGBA")
    return np.asarray(image)


def source_array(
    arr: np.ndarray, size: tuple[int, int], *, rgba: bool = True, prefiltered: bool = False
) -> np.ndarray:
    """An RGB(A) uint8 array resized to `size` (width, height), as contiguous RGBA (or with
    the channels it has, `rgba=False`). `prefiltered`: `arr` was already box-filtered down to
    less than 2× the size (a prepared design), so a bilinear step suffices."""
    if (arr.shape[1], arr.shape[0]) != size:
        # INTER_AREA is fast only for whole factors, and fastest by far (SIMD) for exactly 2×:
        # halve by 2×2 box averages while the result stays at least the target size (an odd
        # last row or column is dropped: sub-pixel), then finish with a bilinear step of < 2×.
        # A non-whole INTER_AREA straight from 1024 px cost 4 ms; this costs 0.4 ms.
        interp = cv2.INTER_LINEAR if prefiltered else cv2.INTER_AREA
        while arr.shape[1] >= 2 * size[0] and arr.shape[0] >= 2 * size[1]:
            even = arr[: arr.shape[0] // 2 * 2, : arr.shape[1] // 2 * 2]
            arr = cv2.resize(even, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
            interp = cv2.INTER_LINEAR
        arr = _resize(arr, size, interp)
    if rgba and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2RGBA)
    return np.ascontiguousarray(arr)


@dataclass
class Rendered:
    data: bytes
    content_type: str
    width: int
    height: int


def compose(
    spec: TemplateSpec,
    source: np.ndarray,
    *,
    width: int,
    variant: str = "",
    placement: Placement = Placement(),
    transparent: bool = False,
) -> np.ndarray:
    """The mockup as an RGB (or RGBA when transparent) uint8 array."""
    prepared = prepare(spec, width)
    base = variant_base(prepared, spec, variant)
    x0, y0, x1, y1 = prepared.bbox
    m = placement_matrix(placement, (source.shape[1], source.shape[0]), prepared.flat)
    inverse = cv2.invertAffineTransform(m)
    inverse[:, 2] -= 0.5  # continuous coordinates → remap's pixel-centre indices
    src_map = cv2.transform(prepared.uv, inverse)
    warped = cv2.remap(
        source, src_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    # In 0…255 units throughout, in place where possible: the box is ~100k pixels, so each
    # temporary array or extra pass costs about as much as the arithmetic itself.
    a = warped[..., 3] * prepared.mask  # coverage 0…1
    rgb = cv2.multiply(cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB), prepared.shade3, dtype=cv2.CV_32F)
    rgb += prepared.highlight3  # multiply by the shading, then screen the highlights
    out = base.copy()
    region = out[y0:y1, x0:x1].astype(np.float32)
    out_alpha = None
    if prepared.die_cut:
        region, a, cut_alpha = _die_cut(region, a, prepared)
        if transparent:
            out_alpha = np.zeros(out.shape[:2], np.float32)
            out_alpha[y0:y1, x0:x1] = cut_alpha
    rgb -= region
    rgb *= cv2.merge([a, a, a])
    region += rgb  # region + (rgb - region) · a
    out[y0:y1, x0:x1] = cv2.convertScaleAbs(region)  # rounds and saturates
    if transparent:
        if out_alpha is None:
            out_alpha = (
                prepared.alpha.copy()
                if prepared.alpha is not None
                else np.zeros(out.shape[:2], np.float32)
            )
            out_alpha[y0:y1, x0:x1] = np.maximum(out_alpha[y0:y1, x0:x1], a)
        return np.dstack([out, (out_alpha * 255 + 0.5).astype(np.uint8)])
    return out


def _die_cut(
    region: np.ndarray, a: np.ndarray, prepared: Prepared
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A white vinyl border grown from the design's alpha, with a drop shadow under it.

    `region` is the photo in the box in 0…255 units; `a` the design's coverage (0…1).
    """
    b = prepared.die_cut
    hard = (a > 0.3).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * b + 1, 2 * b + 1))
    grown = cv2.dilate(hard, kernel)
    border = cv2.GaussianBlur(grown.astype(np.float32), (0, 0), 0.8)
    shift = np.float32([[1, 0, b * 0.35], [0, 1, b * 0.55]])
    shadow = cv2.warpAffine(border, shift, (border.shape[1], border.shape[0]))
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(b * 0.5, 1.0)) * 0.45
    region = region * (1 - shadow[..., None])
    vinyl = np.float32(0.975 * 255) * prepared.shade
    region = region + (vinyl - region) * border[..., None]
    sheen = prepared.highlight[..., None] * border[..., None]
    region = 255 - (255 - region) * (1 - sheen)
    return region, a * border, np.maximum(border, shadow)


def encode(pixels: np.ndarray, fmt: str) -> tuple[bytes, str]:
    has_alpha = pixels.ndim == 3 and pixels.shape[2] == 4
    if fmt == "avif":
        buf = io.BytesIO()
        Image.fromarray(pixels, "RGBA" if has_alpha else "RGB").save(
            buf, "AVIF", quality=60, speed=8
        )
        return buf.getvalue(), FORMATS[fmt]
    bgr = cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA if has_alpha else cv2.COLOR_RGB2BGR)
    if fmt == "jpg":
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    elif fmt == "png":
        ok, data = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    elif fmt == "webp":
        ok, data = cv2.imencode(".webp", bgr, [cv2.IMWRITE_WEBP_QUALITY, WEBP_QUALITY])
    else:
        raise RenderError(f"Unknown format {fmt!r}.")
    if not ok:
        raise RenderError(f"Could not encode {fmt}.")
    return data.tobytes(), FORMATS[fmt]


def render(
    spec: TemplateSpec,
    source: np.ndarray,
    *,
    width: int,
    fmt: str = "jpg",
    variant: str = "",
    placement: Placement = Placement(),
    transparent: bool = False,
) -> Rendered:
    pixels = compose(
        spec, source, width=width, variant=variant, placement=placement, transparent=transparent
    )
    data, content_type = encode(pixels, fmt)
    return Rendered(data, content_type, pixels.shape[1], pixels.shape[0])

"""Procedural, seamlessly tiling surface textures: marble, wood planks, concrete, linen,
terrazzo, paper, plaster, slate.

Every tile is TILE² sRGB pixels covering a stated width of the world in centimetres, built from
noise synthesised in the frequency domain (so it wraps at the edges by construction), and
mip-mapped for sampling at a distance. Tiles are cached per process: the first variant of a
surface pays for its texture, the others reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
    import scipy.fft
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")
    scipy = lazy_module("scipy", "fft")

TILE = 1024
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Texture:
    levels: tuple[np.ndarray, ...]  # uint8 sRGB mip levels, TILE², TILE/2², …
    width_cm: float  # how much of the world one tile covers
    relief: np.ndarray | None = None  # float32 TILE² shading multiplier (linen wrinkles)


def spectral_noise(
    n: int,
    beta: float,
    rng: np.random.Generator,
    *,
    stretch: tuple[float, float] = (1.0, 1.0),
    low: float = 1.0,
    high: float | None = None,
) -> np.ndarray:
    """Zero-mean, unit-variance noise with a 1/f^beta spectrum that tiles seamlessly.

    `stretch` (sx, sy): features come out sx times longer along x and sy times along y (wood
    fibres run along x with sx ≫ 1); `low`/`high` are band limits in cycles per tile.
    """
    fy = (np.fft.fftfreq(n) * n).astype(np.float32)[:, None]
    fx = (np.fft.rfftfreq(n) * n).astype(np.float32)[None, :]
    k = np.sqrt((fx * stretch[0]) ** 2 + (fy * stretch[1]) ** 2)
    amp = np.zeros_like(k)
    band = k >= low
    if high is not None:
        band &= k <= high
    amp[band] = k[band] ** (-beta / 2.0)
    spectrum = scipy.fft.rfft2(rng.standard_normal((n, n), dtype=np.float32)) * amp
    out = scipy.fft.irfft2(spectrum, s=(n, n)).astype(np.float32)
    out -= out.mean()
    out /= out.std() + 1e-8
    return out


def _to_u8(rgb: np.ndarray) -> np.ndarray:
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _mips(tile: np.ndarray) -> tuple[np.ndarray, ...]:
    levels = [tile]
    while levels[-1].shape[0] > 64:
        levels.append(cv2.pyrDown(levels[-1], borderType=cv2.BORDER_WRAP))
    return tuple(levels)


def _c(colour: RGB) -> np.ndarray:
    return np.array(colour, np.float32) / 255.0


def _lum(colour: RGB) -> float:
    return (0.2126 * colour[0] + 0.7152 * colour[1] + 0.0722 * colour[2]) / 255.0


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    ax = np.arange(n, dtype=np.float32) / n
    return ax[None, :], ax[:, None]


def marble(colour: RGB, seed: int) -> np.ndarray:
    """Veins are zero crossings of smooth, domain-warped noise: continuous meandering lines of
    varying width with a soft halo, over a faintly clouded base."""
    rng = np.random.default_rng(seed)
    n = TILE
    warp_x = spectral_noise(n, 4.0, rng, low=1)
    warp_y = spectral_noise(n, 4.0, rng, low=1)
    field = spectral_noise(n, 4.4, rng, stretch=(1.8, 1.0), low=1)
    fine_field = spectral_noise(n, 3.2, rng, low=2)
    clouds = spectral_noise(n, 2.8, rng, low=1)
    # Domain warp: read the fields at displaced coordinates (wrapping keeps the tile seamless).
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    mx = np.mod(xx + 40.0 * warp_x, n)
    my = np.mod(yy + 40.0 * warp_y, n)
    field = cv2.remap(field, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    fine_field = cv2.remap(fine_field, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    width = 0.07 * np.exp(0.5 * spectral_noise(n, 3.0, rng, low=1))
    main = np.exp(-((field / width) ** 2))
    halo = 0.4 * np.exp(-((field / (width * 4)) ** 2))
    fine = np.exp(-((fine_field / 0.025) ** 2)) * np.clip(0.6 + 0.5 * clouds, 0, 1)
    base = _c(colour)
    if _lum(colour) < 0.35:
        vein_colour = np.array([0.62, 0.61, 0.58], np.float32)
    elif colour[1] > colour[0] + 10:  # green marble: darker green veins
        vein_colour = base * 0.5
    else:
        vein_colour = np.array([0.56, 0.56, 0.58], np.float32)
    strength = np.clip(0.5 * main + halo * 0.45 + 0.14 * fine, 0, 0.8)[..., None]
    cloud = (1.0 + 0.03 * clouds)[..., None]
    return _to_u8(base * cloud * (1 - strength) + vein_colour * strength)


def wood(colour: RGB, seed: int) -> np.ndarray:
    """Planks along x: per-board tint, growth rings bent by stretched noise, fibres, seams."""
    rng = np.random.default_rng(seed)
    n = TILE
    boards = 8
    rings = spectral_noise(n, 2.6, rng, stretch=(14.0, 1.0), low=1)
    fibres = spectral_noise(n, 0.8, rng, stretch=(30.0, 1.0), low=8)
    knots = spectral_noise(n, 3.0, rng, low=2)
    y = np.arange(n, dtype=np.float32)[:, None]
    board = np.minimum((y * boards / n).astype(np.int64), boards - 1)
    phase = rng.uniform(0, 1, boards).astype(np.float32)[board]
    tint = rng.uniform(0.9, 1.1, boards).astype(np.float32)[board]
    # Different boards show different stretches of the grain: shift the noise per board.
    shift = (rng.integers(0, n, boards))[board[:, 0]]
    rows = np.arange(n)[:, None]
    cols = (np.arange(n)[None, :] + shift[:, None]) % n
    r = rings[rows, cols]
    f = fibres[rows, cols]
    k = knots[rows, cols]
    stripes = 0.5 + 0.5 * np.sin(2 * np.pi * (y * 40 / n + phase + 0.9 * r + 0.15 * k))
    stripes = stripes**3
    base = _c(colour)
    dark = base * 0.62
    tone = (0.5 * stripes + 0.12 * np.clip(f, -2, 2))[..., None]
    rgb = (base * (1 - tone) + dark * tone) * tint[..., None]
    rgb *= (1.0 + 0.03 * spectral_noise(n, 2.0, rng, low=1))[..., None]
    # Seams between boards and one butt joint per board.
    edge = (y * boards / n) % 1.0
    seam = np.exp(-((np.minimum(edge, 1 - edge) * n / boards / 1.4) ** 2))
    rgb *= (1 - 0.45 * seam)[..., None]
    for b in range(boards):
        x0 = int(rng.integers(0, n))
        y0, y1 = int(b * n / boards), int((b + 1) * n / boards)
        xs = (np.arange(x0 - 2, x0 + 3)) % n
        rgb[y0:y1, xs] *= 0.72
    return _to_u8(rgb)


def concrete(colour: RGB, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = TILE
    blotch = spectral_noise(n, 2.8, rng, low=1)
    mid = spectral_noise(n, 1.6, rng, low=4)
    grain = spectral_noise(n, 0.3, rng, low=64)
    trowel = spectral_noise(n, 2.4, rng, stretch=(4.0, 1.0), low=2)
    shade = 1 + 0.07 * blotch + 0.03 * mid + 0.035 * grain + 0.03 * trowel
    rgb = _c(colour) * shade[..., None]
    tile = _to_u8(rgb)
    # Pores: small dark pits, some with a lighter rim.
    for _ in range(int(n * n / 6000)):
        x, y = (int(v) for v in rng.integers(0, n, 2))
        r = int(rng.choice([1, 1, 1, 1, 2]))
        k = rng.uniform(0.55, 0.8)
        shade_pit = tuple(int(c * k) for c in colour)
        cv2.circle(tile, (x, y), r, shade_pit, -1, lineType=cv2.LINE_AA)
    return tile


def linen(colour: RGB, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = TILE
    pitch = n / 256  # threads per tile (tiles because 256 is whole)
    u, v = _grid(n)
    slub_warp = spectral_noise(n, 1.5, rng, stretch=(1.0, 24.0), low=1)  # long along y
    slub_weft = spectral_noise(n, 1.5, rng, stretch=(24.0, 1.0), low=1)
    warp = 0.5 + 0.5 * np.cos(2 * np.pi * u * n / pitch)
    weft = 0.5 + 0.5 * np.cos(2 * np.pi * v * n / pitch)
    over = (np.floor(u * n / pitch) + np.floor(v * n / pitch)) % 2  # plain weave: over, under
    weave = np.where(over > 0, 0.65 * warp + 0.35 * weft, 0.35 * warp + 0.65 * weft)
    threads = 0.86 + 0.14 * weave + 0.05 * np.clip(slub_warp * warp + slub_weft * weft, -2, 2)
    hue = rng.uniform(-0.015, 0.015, 3).astype(np.float32)
    rgb = (_c(colour) + hue) * threads[..., None]
    wrinkles = spectral_noise(n, 3.4, rng, stretch=(1.0, 1.6), low=1)
    relief = (1.0 + 0.05 * wrinkles).astype(np.float32)
    return _to_u8(rgb), relief


def terrazzo(colour: RGB, chips: tuple[RGB, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = TILE
    base = _c(colour) * (1 + 0.02 * spectral_noise(n, 1.2, rng, low=4))[..., None]
    tile = _to_u8(base)
    for _ in range(int(n * n / 1100)):
        size = float(np.clip(rng.lognormal(np.log(9), 0.55), 3, 48))
        cx, cy = rng.uniform(0, n, 2)
        k = int(rng.integers(5, 9))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = size * rng.uniform(0.55, 1.0, k)
        pts = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1)
        chip = chips[int(rng.integers(0, len(chips)))]
        k_shade = rng.uniform(0.9, 1.06)
        shade = tuple(int(np.clip(c * k_shade, 0, 255)) for c in chip)
        for dx in (-n, 0, n):  # drawn where it wraps too, so the tile stays seamless
            for dy in (-n, 0, n):
                shifted = np.add(pts, (dx, dy)) * 4
                if shifted.max() < 0 or shifted.min() > 4 * n:
                    continue
                cv2.fillPoly(tile, [shifted.astype(np.int32)], shade, cv2.LINE_AA, shift=2)
    return tile


def paper(colour: RGB, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = TILE
    fibre = spectral_noise(n, 1.0, rng, low=16)
    soft = spectral_noise(n, 2.8, rng, low=1)
    return _to_u8(_c(colour) * (1 + 0.008 * fibre + 0.012 * soft)[..., None])


def plaster(colour: RGB, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = TILE
    soft = spectral_noise(n, 2.6, rng, low=1)
    fine = spectral_noise(n, 1.2, rng, low=16)
    return _to_u8(_c(colour) * (1 + 0.012 * soft + 0.006 * fine)[..., None])


def slate(colour: RGB, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = TILE
    layers = spectral_noise(n, 2.2, rng, stretch=(6.0, 1.0), low=1)
    blotch = spectral_noise(n, 2.6, rng, low=1)
    grain = spectral_noise(n, 0.5, rng, low=32)
    shade = 1 + 0.09 * layers + 0.06 * blotch + 0.04 * grain
    flecks = np.clip(spectral_noise(n, 0.2, rng, low=128) - 2.6, 0, 1) * 0.35
    return _to_u8(_c(colour) * shade[..., None] + flecks[..., None])


def plain(colour: RGB, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return _to_u8(_c(colour) * (1 + 0.004 * spectral_noise(TILE, 1.0, rng, low=8))[..., None])


# World width one tile covers (cm): chosen so a tile pixel is about an output pixel where the
# product stands in a typical framing (≈ 25–35 px/cm at 1024 px).
WIDTHS = {
    "marble": 70.0,
    "wood": 110.0,
    "concrete": 45.0,
    "linen": 38.0,
    "terrazzo": 60.0,
    "paper": 60.0,
    "plaster": 80.0,
    "slate": 60.0,
    "plain": 60.0,
}


def terrazzo_chips(base: RGB, accent: RGB | None) -> tuple[RGB, ...]:
    chips: list[RGB] = [(248, 246, 242), (62, 60, 60), (150, 146, 140), (196, 180, 160)]
    if accent is not None:
        chips += [accent, accent, tuple(int(c * 0.8) for c in accent)]  # type: ignore[list-item]
    else:
        chips += [(218, 150, 130), (120, 150, 140), (226, 196, 120)]
    return tuple(chips)


# Deterministic in its arguments and large (mip-mapped arrays): a local memo, never shared.
@lru_cache(maxsize=12)
def texture(kind: str, colour: RGB, seed: int = 0, accent: RGB | None = None) -> Texture:
    relief = None
    if kind == "marble":
        tile = marble(colour, seed)
    elif kind == "wood":
        tile = wood(colour, seed)
    elif kind == "concrete":
        tile = concrete(colour, seed)
    elif kind == "linen":
        tile, relief = linen(colour, seed)
    elif kind == "terrazzo":
        tile = terrazzo(colour, terrazzo_chips(colour, accent), seed)
    elif kind == "paper":
        tile = paper(colour, seed)
    elif kind == "plaster":
        tile = plaster(colour, seed)
    elif kind == "slate":
        tile = slate(colour, seed)
    else:
        tile = plain(colour, seed)
        kind = "plain"
    return Texture(_mips(tile), WIDTHS[kind], relief)


def sample(
    tex: Texture, u_cm: np.ndarray, v_cm: np.ndarray, footprint: np.ndarray | float
) -> np.ndarray:
    """Bilinear, mip-mapped lookup: u/v in cm (H×W), `footprint` = world cm per output pixel,
    one value per row (H×1) or a scalar; returns uint8 sRGB H×W×3. Each row blends the two mip
    levels around its footprint, and each level is read only for the rows that use it."""
    scale = TILE / tex.width_cm
    rows = u_cm.shape[0]
    fp = np.broadcast_to(np.asarray(footprint, np.float32).reshape(-1, 1)[:, 0], (rows,))
    top = len(tex.levels) - 1
    lod = np.clip(np.log2(np.maximum(fp * scale, 1.0)), 0, top).astype(np.float32)
    lo = np.floor(lod).astype(np.int64)
    frac = lod - lo
    out = np.zeros((*u_cm.shape, 3), np.float32)
    x = u_cm * np.float32(scale)
    y = v_cm * np.float32(scale)
    for level in range(top + 1):
        weight = np.where(lo == level, 1 - frac, 0) + np.where(
            np.minimum(lo + 1, top) == level, frac, 0
        )
        used = np.flatnonzero(weight > 1e-3)
        if used.size == 0:
            continue
        r0, r1 = int(used[0]), int(used[-1]) + 1
        img = tex.levels[level]
        size = img.shape[0]
        f = np.float32(size / TILE)
        xs = np.mod(x[r0:r1] * f, size).astype(np.float32)
        ys = np.mod(y[r0:r1] * f, size).astype(np.float32)
        got = cv2.remap(img, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
        out[r0:r1] += got * weight[r0:r1, None, None].astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)

"""The scene compositor: a small deferred renderer in numpy that builds the set around a product
cut-out and photographs it.

World units are centimetres; y is up, the camera sits at (0, h, 0) looking along +z with a level
lens (vertical lines stay vertical, as with a shift lens), so the depth of the floor, the cove and
the wall depends on the image row only. The product is a billboard standing on the support with
its base centred at B; its real height is taken as PRODUCT_HEIGHT_CM, which sets the scale of
everything else. The perspective is solved from the product's own base: a round base seen from
above is an ellipse whose minor/major ratio equals (height of the camera above the base) /
(distance to it), so the horizon goes where that ratio says.

Per pixel the renderer knows a 3-D point, a normal and an albedo (floor, cove, wall and props);
light is a key (direction, softness, colour, falloff from its distance, an optional gobo pattern)
plus a coloured ambient term with occlusion. Shadows: the product's is ray-cast against its
silhouette as seen from the light (penumbra growing with the distance to the occluder, so it is
sharp at the contact and soft further out), props' are analytic. Glossy supports reflect the
product (Fresnel-weighted, fading and blurring with distance). The product is white-balanced
against the backdrop it was shot on, relit with normals inflated from its silhouette, wrapped in
a little of the scene's light at its edges, and the whole frame shares one depth of field,
tone curve, vignette and grain.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from generations.scenes import textures
from generations.scenes.product import Cutout
from generations.scenes.spec import MOODS, SURFACES, Prop, SceneSpec
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")

PRODUCT_HEIGHT_CM = 18.0
_ENC_STEPS = 4096


# Built on first use, not at import: numpy is imported lazily (studio/lazymodules.py).
@functools.cache
def _luma() -> np.ndarray:
    return np.array([0.2126, 0.7152, 0.0722], np.float32)


@functools.cache
def _srgb_tables() -> tuple[np.ndarray, np.ndarray]:
    """sRGB ↔ linear lookup tables: u8 → linear, and 4096 linear steps → sRGB (0..255)."""
    u = np.arange(256) / 255.0
    to_lin = np.where(u <= 0.04045, u / 12.92, ((u + 0.055) / 1.055) ** 2.4).astype(np.float32)
    x = np.linspace(0, 1, _ENC_STEPS, dtype=np.float64)
    to_srgb = np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055) * 255.0
    return to_lin, to_srgb.astype(np.float32)


def to_linear(u8: np.ndarray) -> np.ndarray:
    return _srgb_tables()[0][u8]


def to_srgb(linear: np.ndarray) -> np.ndarray:
    idx = np.clip(linear * (_ENC_STEPS - 1) + 0.5, 0, _ENC_STEPS - 1).astype(np.int32)
    return _srgb_tables()[1][idx]


def _rgb(colour: tuple[int, int, int]) -> np.ndarray:
    return to_linear(np.array(colour, np.uint8))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) + 1e-9)


# --- variants -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """What changes between the variants of one request: framing, camera, light, set dressing."""

    x_frac: float  # where the product's base centre sits, share of the width
    size: float  # product height, share of the frame height
    floor_frac: float  # contact row, share of the frame height
    horizon: float  # horizon height above the base, in product heights
    azimuth: float  # degrees: 0 = light from the camera, ±90 = from the side, 180 = from behind
    elevation: float  # degrees above the horizon
    gap_cm: float  # product base to backdrop
    texture_shift: tuple[float, float]
    texture_turn: float  # degrees the floor texture is turned
    prop_seed: int
    index: int = 0


CAMERA_HORIZON = {"low": 0.5, "eye": 1.15, "high": 2.2, "top": 0.0}
# Camera height / distance to the product for each camera word. The set is shot at least this
# high, but never more than BOOST above the angle the product photo itself was taken from (its
# base ellipse says which), so the product still sits on the surface rather than tipping back.
CAMERA_RATIO = {"low": 0.07, "eye": 0.2, "high": 0.36, "top": 1.0}
BOOST = 0.1


def plan_layouts(spec: SceneSpec, count: int, seed: int, aspect: float) -> list[Layout]:
    """`count` genuinely different takes of the same scene: centred, off-centre left and right,
    closer and wider, with the light moved and the set rearranged, deterministic in `seed`."""
    rng = np.random.default_rng(seed)
    mood = MOODS[spec.light]
    side_azimuth = {"left": -50.0, "right": 50.0, "front": -12.0, "back": 165.0, "top": -30.0}
    # Light from the front quarter throws the shadow back and across, where the camera sees it.
    default_azimuth = {"natural": 52.0, "dramatic": 58.0, "golden": 48.0, "hard": 40.0}
    if spec.side:
        base_az = side_azimuth[spec.side]
    else:
        base_az = default_azimuth.get(spec.light, 36.0) * (-1.0 if rng.random() < 0.5 else 1.0)
    base_el = float(mood["elevation"]) + (35.0 if spec.side == "top" else 0.0)
    wide = aspect > 1.2
    tall = aspect < 0.85
    # (x, size, horizon scale, azimuth change, elevation change, gap scale)
    takes = [
        (0.5, 0.56, 1.0, 0.0, 0.0, 1.0),
        (0.36 if wide else 0.42, 0.5, 1.15, 22.0, -6.0, 1.3),
        (0.62 if wide else 0.57, 0.64, 0.85, -18.0, 8.0, 0.8),
        (0.5, 0.44, 1.35, 35.0, -4.0, 1.6),
    ]
    out = []
    for i in range(count):
        x, size, hz, d_az, d_el, gap = takes[i % len(takes)]
        if tall:
            size *= 0.9
        az = base_az + (d_az if base_az <= 0 else -d_az) * (0.4 if spec.side else 1.0)
        if spec.side == "back":
            az = base_az + d_az * 0.5
        out.append(
            Layout(
                x_frac=x,
                size=size,
                floor_frac=0.86 if spec.camera != "low" else 0.9,
                horizon=CAMERA_HORIZON[spec.camera] * hz,
                azimuth=az,
                elevation=float(np.clip(base_el + d_el, 8.0, 80.0)),
                gap_cm=float(rng.uniform(60, 90) * gap),
                texture_shift=(float(rng.uniform(0, 500)), float(rng.uniform(0, 500))),
                texture_turn=float(rng.choice([0.0, 0.0, 90.0]) + rng.uniform(-8, 8))
                if spec.surface in ("wood", "linen")
                else float(rng.uniform(0, 360)),
                prop_seed=int(rng.integers(0, 2**31)),
                index=i,
            )
        )
    return out


# --- the camera and the set ----------------------------------------------------------------------


@dataclass
class Camera:
    width: int
    height: int
    f: float  # focal length in pixels
    cx: float
    cy: float  # horizon row (principal point: the lens is level)
    h: float  # camera height, cm

    def rays(self) -> tuple[np.ndarray, np.ndarray]:
        """Per column dx, per row dy of the ray direction (dz = 1)."""
        dx = (np.arange(self.width, dtype=np.float32) + 0.5 - self.cx) / self.f
        dy = -(np.arange(self.height, dtype=np.float32) + 0.5 - self.cy) / self.f
        return dx, dy

    def project(self, p: np.ndarray) -> tuple[float, float]:
        return (
            self.cx + self.f * p[0] / p[2],
            self.cy - self.f * (p[1] - self.h) / p[2],
        )


@dataclass
class GBuffer:
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    nx: np.ndarray
    ny: np.ndarray
    nz: np.ndarray
    albedo: np.ndarray  # linear RGB
    gloss: np.ndarray
    kind: np.ndarray  # 0 floor, 1 cove, 2 wall, 3+ props
    ao: np.ndarray
    footprint: np.ndarray  # world cm per pixel (for mip and blur)


@dataclass
class PlacedProp:
    kind: str
    centre: np.ndarray  # world
    radius: float
    height: float = 0.0
    turn: float = 0.0
    colour: np.ndarray = field(default_factory=lambda: np.ones(3, np.float32))
    flatten: float = 1.0


def _texture_for(surface: str, colour: tuple[int, int, int], accent: Any, seed: int) -> Any:
    kind = {"studio": "plain", "acrylic": "plain"}.get(surface, surface)
    return textures.texture(kind, tuple(colour), seed % 3, accent)  # type: ignore[arg-type]


def _floor_geometry(
    cam: Camera, backdrop: str, wall_z: float, cove: float
) -> dict[str, np.ndarray]:
    """Per image row: depth, height, normal, kind and the unfolded texture coordinate."""
    _dx, dy = cam.rays()
    n = cam.height
    z = np.full(n, wall_z, np.float32)
    y = np.zeros(n, np.float32)
    ny = np.zeros(n, np.float32)
    nz = np.full(n, -1.0, np.float32)
    kind = np.full(n, 2, np.int8)
    v = np.zeros(n, np.float32)
    down = dy < -1e-6
    z_floor = np.where(down, cam.h / np.maximum(-dy, 1e-6), np.inf)
    on_floor = z_floor <= (wall_z if backdrop == "wall" else wall_z - cove)
    z[on_floor] = z_floor[on_floor]
    ny[on_floor], nz[on_floor], kind[on_floor] = 1.0, 0.0, 0
    v[on_floor] = z_floor[on_floor]
    rest = ~on_floor
    if backdrop != "wall":
        # Quarter cylinder (axis along x) joining floor and wall: centre (y = R, z = wall − R).
        zc, yc, r = wall_z - cove, cove, cove
        a = 1 + dy * dy
        b = 2 * (-zc + dy * (cam.h - yc))
        c = zc * zc + (cam.h - yc) ** 2 - r * r
        disc = b * b - 4 * a * c
        s = (-b + np.sqrt(np.maximum(disc, 0))) / (2 * a)  # the far intersection: the inside
        yy = cam.h + s * dy
        hit = rest & (disc >= 0) & (s >= zc) & (yy <= yc) & (yy >= -1e-3)
        z[hit], y[hit], kind[hit] = s[hit], yy[hit], 1
        ny[hit] = (yc - yy[hit]) / r
        nz[hit] = (zc - s[hit]) / r
        ang = np.arctan2(s[hit] - zc, yc - yy[hit])
        v[hit] = zc + r * ang
        rest &= ~hit
    wall_rows = rest
    y[wall_rows] = cam.h + wall_z * dy[wall_rows]
    if backdrop == "wall":
        v[wall_rows] = y[wall_rows]
    else:
        v[wall_rows] = wall_z - cove + cove * math.pi / 2 + (y[wall_rows] - cove)
    # Footprint of a pixel in cm: across × along the surface, geometric mean for the mip level.
    across = z / cam.f
    along = np.where(kind == 0, z * z / (cam.f * max(cam.h, 1e-3)), z / cam.f)
    along = np.where(kind == 1, np.minimum(along, z * z / (cam.f * max(cam.h, 1e-3))), along)
    footprint = np.sqrt(across * np.minimum(along, across * 12))
    return {"z": z, "y": y, "ny": ny, "nz": nz, "kind": kind, "v": v, "fp": footprint}


def _gbuffer(
    cam: Camera,
    spec: SceneSpec,
    layout: Layout,
    wall_z: float,
    cove: float,
    backdrop: str,
    floor_colour: tuple[int, int, int],
    wall_colour: tuple[int, int, int],
    seed: int,
) -> GBuffer:
    rows = _floor_geometry(cam, backdrop, wall_z, cove)
    w, h = cam.width, cam.height
    dx, _dy = cam.rays()
    z = np.broadcast_to(rows["z"][:, None], (h, w))
    px = dx[None, :] * z
    py = np.broadcast_to(rows["y"][:, None], (h, w)).copy()
    pz = z.copy()
    kind = np.broadcast_to(rows["kind"][:, None], (h, w)).copy()
    albedo = np.empty((h, w, 3), np.float32)
    surface = SURFACES[spec.surface]
    accent = spec.props[0].colour if spec.props else spec.backdrop_colour
    floor_tex = _texture_for(spec.surface, floor_colour, accent, seed)
    turn = math.radians(layout.texture_turn)
    cs, sn = math.cos(turn), math.sin(turn)
    su, sv = layout.texture_shift
    fp_rows = rows["fp"]
    one_sheet = backdrop != "wall"  # a sweep: floor, cove and wall are one sheet of paper
    floor_rows = np.flatnonzero(rows["kind"] == 0) if not one_sheet else np.arange(h)
    if one_sheet:
        floor_rows = np.flatnonzero(rows["kind"] >= 0)
    if floor_rows.size:
        r0, r1 = int(floor_rows[0]), int(floor_rows[-1]) + 1
        sub_x = px[r0:r1]
        sub_v = np.broadcast_to(rows["v"][r0:r1, None], sub_x.shape)
        if one_sheet:
            u, v = sub_x + su, sub_v + sv
        else:
            u = cs * sub_x - sn * sub_v + su
            v = sn * sub_x + cs * sub_v + sv
        got = textures.sample(floor_tex, u, v, fp_rows[r0:r1, None])
        albedo[r0:r1] = to_linear(got)
        if floor_tex.relief is not None:
            scale = textures.TILE / floor_tex.width_cm
            relief = cv2.remap(
                floor_tex.relief,
                np.mod(u * scale, textures.TILE).astype(np.float32),
                np.mod(v * scale, textures.TILE).astype(np.float32),
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_WRAP,
            )
            albedo[r0:r1] *= relief[..., None]
    if not one_sheet:
        wall_rows = np.flatnonzero(rows["kind"] == 2)
        if wall_rows.size:
            r0, r1 = int(wall_rows[0]), int(wall_rows[-1]) + 1
            wall_tex = textures.texture("plaster", tuple(wall_colour), seed % 3)  # type: ignore[arg-type]
            sub_x = px[r0:r1]
            sub_v = np.broadcast_to(rows["v"][r0:r1, None], sub_x.shape)
            got = textures.sample(wall_tex, sub_x + su * 0.3, sub_v, fp_rows[r0:r1, None])
            albedo[r0:r1] = to_linear(got)
    gloss = np.where(kind == 0, np.float32(_gloss(spec)), np.float32(0)).astype(np.float32)
    if one_sheet and surface.gloss > 0:
        gloss = np.where(kind <= 1, np.float32(_gloss(spec)), np.float32(0)).astype(np.float32)
    ao = np.ones((h, w), np.float32)
    if backdrop == "wall":
        # The corner where the table meets the wall collects less light.
        dist = np.where(kind == 0, wall_z - pz, py)
        ao = (1 - 0.3 * np.exp(-np.maximum(dist, 0) / 6.0)).astype(np.float32)
    return GBuffer(
        px=px.astype(np.float32),
        py=py,
        pz=pz,
        nx=np.zeros((h, w), np.float32),
        ny=np.broadcast_to(rows["ny"][:, None], (h, w)).copy(),
        nz=np.broadcast_to(rows["nz"][:, None], (h, w)).copy(),
        albedo=albedo,
        gloss=gloss,
        kind=kind,
        ao=ao,
        footprint=np.broadcast_to(fp_rows[:, None], (h, w)),
    )


def _gloss(spec: SceneSpec) -> float:
    if spec.glossy is not None:
        return 0.7 if spec.glossy else 0.0
    return SURFACES[spec.surface].gloss


# --- props -----------------------------------------------------------------------------------------


def _box(cam: Camera, prop: PlacedProp, pad: float = 1.15) -> tuple[int, int, int, int] | None:
    """Screen rectangle that holds a prop (x1, y1, x2, y2), or None when it is off screen."""
    c = prop.centre
    r = prop.radius * pad
    top = prop.height if prop.kind in ("podium", "block") else c[1] + r
    corners = [
        np.array([c[0] + sx * r, yy, c[2] + sz * r], np.float32)
        for sx in (-1, 1)
        for sz in (-1, 1)
        for yy in (0.0, top)
    ]
    pts = [cam.project(p) for p in corners if p[2] > 1.0]
    if not pts:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x1, x2 = max(0, int(min(xs)) - 2), min(cam.width, int(max(xs)) + 3)
    y1, y2 = max(0, int(min(ys)) - 2), min(cam.height, int(max(ys)) + 3)
    if x2 <= x1 or y2 <= y1:
        return None
    return x1, y1, x2, y2


def _draw_prop(cam: Camera, g: GBuffer, prop: PlacedProp, ident: int, albedo_of: Any) -> None:
    box = _box(cam, prop)
    if box is None:
        return
    x1, y1, x2, y2 = box
    dx, dy = cam.rays()
    rx = np.broadcast_to(dx[None, x1:x2], (y2 - y1, x2 - x1))
    ry = np.broadcast_to(dy[y1:y2, None], (y2 - y1, x2 - x1))
    o = np.array([0.0, cam.h, 0.0], np.float32)
    c = prop.centre
    if prop.kind in ("sphere", "pebble"):
        # Ray against an ellipsoid (radii r, r·flatten, r): scale y to make it a sphere.
        fl = prop.flatten
        ox, oy, oz = o[0] - c[0], (o[1] - c[1]) / fl, o[2] - c[2]
        ryy = ry / fl
        a = rx * rx + ryy * ryy + 1.0
        b = 2 * (rx * ox + ryy * oy + oz)
        cc = ox * ox + oy * oy + oz * oz - prop.radius**2
        disc = b * b - 4 * a * cc
        s = (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a)
        hit = (disc > 0) & (s > 0)
        hx, hy, hz = s * rx, cam.h + s * ry, s
        nx, ny, nz = (hx - c[0]), (hy - c[1]) / (fl * fl), (hz - c[2])
    elif prop.kind == "podium":
        # Vertical cylinder: its side, then its top disc.
        ox, oz = -c[0], -c[2]
        a = rx * rx + 1.0
        b = 2 * (rx * ox + oz)
        cc = ox * ox + oz * oz - prop.radius**2
        disc = b * b - 4 * a * cc
        s_side = (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a)
        y_side = cam.h + s_side * ry
        side = (disc > 0) & (s_side > 0) & (y_side >= 0) & (y_side <= prop.height)
        with np.errstate(divide="ignore", invalid="ignore"):
            s_top = np.where(ry < 0, (prop.height - cam.h) / ry, -1)
        tx, tz = s_top * rx - c[0], s_top - c[2]
        top = (s_top > 0) & (tx * tx + tz * tz <= prop.radius**2)
        use_top = top & (~side | (s_top < s_side))
        s = np.where(use_top, s_top, s_side)
        hit = side | top
        hx, hy, hz = s * rx, cam.h + s * ry, s
        nx = np.where(use_top, 0.0, hx - c[0])
        ny = np.where(use_top, 1.0, 0.0)
        nz = np.where(use_top, 0.0, hz - c[2])
    else:  # block: a box turned about y, resting on the floor
        turn = math.radians(prop.turn)
        cs, sn = math.cos(turn), math.sin(turn)
        lx0, lz0 = cs * (-c[0]) + sn * (-c[2]), -sn * (-c[0]) + cs * (-c[2])
        ldx, ldz = cs * rx + sn * 1.0, -sn * rx + cs * 1.0
        half = prop.radius
        t_lo = np.full(rx.shape, -np.inf, np.float32)
        t_hi = np.full(rx.shape, np.inf, np.float32)
        axis_hit = np.zeros(rx.shape, np.int8)
        for ax, (orig, d, lo, hi) in enumerate(
            (
                (lx0, ldx, -half, half),
                (cam.h, ry, 0.0, prop.height),
                (lz0, ldz, -half, half),
            )
        ):
            with np.errstate(divide="ignore", invalid="ignore"):
                t1 = (lo - orig) / d
                t2 = (hi - orig) / d
            near = np.minimum(t1, t2)
            far = np.maximum(t1, t2)
            axis_hit = np.where(near > t_lo, ax, axis_hit)
            t_lo = np.maximum(t_lo, near)
            t_hi = np.minimum(t_hi, far)
        hit = (t_hi >= t_lo) & (t_lo > 0)
        s = t_lo
        hx, hy, hz = s * rx, cam.h + s * ry, s
        ldir = np.where(axis_hit == 0, np.sign(-ldx), 0.0)
        ndir = np.where(axis_hit == 2, np.sign(-ldz), 0.0)
        nx = cs * ldir - sn * ndir
        nz = sn * ldir + cs * ndir
        ny = np.where(axis_hit == 1, 1.0, 0.0)
    hit &= s < g.pz[y1:y2, x1:x2]
    if not hit.any():
        return
    norm = np.sqrt(nx * nx + ny * ny + nz * nz) + 1e-9
    sel = (slice(y1, y2), slice(x1, x2))
    for arr, val in (
        (g.px, hx),
        (g.py, hy),
        (g.pz, hz),
        (g.nx, nx / norm),
        (g.ny, ny / norm),
        (g.nz, nz / norm),
    ):
        arr[sel] = np.where(hit, val, arr[sel])
    g.kind[sel] = np.where(hit, ident, g.kind[sel])
    g.gloss[sel] = np.where(hit, 0.0, g.gloss[sel])
    g.ao[sel] = np.where(hit, 1.0, g.ao[sel])
    col = albedo_of(prop, hx, hy, hz)
    g.albedo[sel] = np.where(hit[..., None], col, g.albedo[sel])


def _prop_shadow(
    g: GBuffer, prop: PlacedProp, light: np.ndarray, spread: float, region: tuple[slice, slice]
) -> np.ndarray:
    """Soft shadow of an analytic prop on the G-buffer points in `region` (0 lit … 1 dark)."""
    px, py, pz = g.px[region], g.py[region], g.pz[region]
    c = prop.centre
    lx, ly, lz = light
    if prop.kind in ("sphere", "pebble"):
        wx, wy, wz = c[0] - px, (c[1] - py) / prop.flatten, c[2] - pz
        lyy = ly / prop.flatten
        ll = math.sqrt(lx * lx + lyy * lyy + lz * lz)
        t = (wx * lx + wy * lyy + wz * lz) / ll
        d2 = wx * wx + wy * wy + wz * wz - t * t
        d = np.sqrt(np.maximum(d2, 0))
        pen = spread * np.maximum(t, 0) + 0.3
        occ = np.clip((prop.radius + pen - d) / (2 * pen), 0, 1)
        return np.where(t > 0, occ, 0).astype(np.float32)
    # Podium and block: their footprint extruded, tested where the ray reaches their height.
    hl = math.hypot(lx, lz) + 1e-9
    wx, wz = c[0] - px, c[2] - pz
    t_h = (wx * lx + wz * lz) / hl  # along the horizontal direction to the light
    d = np.abs(wx * lz - wz * lx) / hl
    y_at = py + t_h / hl * ly
    pen = spread * np.maximum(t_h, 0) + 0.3
    occ = np.clip((prop.radius + pen - d) / (2 * pen), 0, 1)
    occ *= np.clip((prop.height + pen - y_at) / (2 * pen), 0, 1)
    return np.where(t_h > -prop.radius * 0.5, occ, 0).astype(np.float32)


def _prop_ao(g: GBuffer, prop: PlacedProp, region: tuple[slice, slice]) -> np.ndarray:
    """Ambient occlusion of the floor around a prop's footprint."""
    dx = g.px[region] - prop.centre[0]
    dz = g.pz[region] - prop.centre[2]
    r = np.sqrt(dx * dx + dz * dz)
    on_floor = g.py[region] < 0.5
    if prop.kind in ("sphere", "pebble"):
        k = (prop.radius**2 / (r * r + prop.radius**2)) ** 1.5
        return np.where(on_floor, 1 - 0.75 * k, 1).astype(np.float32)
    edge = np.maximum(r - prop.radius, 0)
    return np.where(on_floor, 1 - 0.45 * np.exp(-edge / (0.25 * prop.radius + 1)), 1).astype(
        np.float32
    )


# --- blur helpers ------------------------------------------------------------------------------


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; large sigmas run on a reduced copy (same look, a fraction of the time)."""
    if sigma < 0.3:
        return img
    factor = 1
    while sigma / factor > 2.5 and min(img.shape[:2]) // (factor * 2) > 16:
        factor *= 2
    if factor == 1:
        return cv2.GaussianBlur(img, (0, 0), sigma)
    h, w = img.shape[:2]
    small = cv2.resize(img, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _by_radius(img: np.ndarray, radius: np.ndarray, sigmas: tuple[float, ...]) -> np.ndarray:
    """Per-pixel blur: blend the two stack levels around each pixel's wanted sigma. Levels no
    pixel asks for are never computed."""
    top = float(np.max(radius)) if radius.size else 0.0
    wanted = [i for i, s in enumerate(sigmas) if i == 0 or sigmas[i - 1] < top]
    sig = np.asarray(sigmas, np.float32)
    levels = np.interp(radius, sig, np.arange(len(sigmas), dtype=np.float32)).astype(np.float32)
    out = None
    for i in wanted:
        layer = _blur(img, sigmas[i])
        weight = np.maximum(1 - np.abs(levels - i), 0)
        if img.ndim == 3:
            weight = weight[..., None]
        out = layer * weight if out is None else out + layer * weight
    return out if out is not None else img


# --- the product ---------------------------------------------------------------------------------


@dataclass
class PlacedProduct:
    rgba: np.ndarray  # linear premultiplied RGB + alpha (float32), placed at (x0, y0)
    x0: int
    y0: int
    contact_x: float  # frame pixels
    contact_y: float
    base_a: float  # half width of the base ellipse, pixels
    base_b: float
    height_px: float


def _place_product(
    cut: Cutout, scale: float, contact_x: float, contact_y: float, ratio: float
) -> PlacedProduct:
    rgba = cut.rgba
    h, w = rgba.shape[:2]
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    lin = to_linear(rgba[..., :3])
    alpha = rgba[..., 3].astype(np.float32) / 255.0
    # Resample premultiplied colour so the edge never picks up the removed backdrop.
    premul = np.dstack([lin * alpha[..., None], alpha])
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    premul = np.clip(cv2.resize(premul, (nw, nh), interpolation=interp), 0, None)
    premul[..., 3] = np.clip(premul[..., 3], 0, 1)
    premul[..., :3] = np.minimum(premul[..., :3], premul[..., 3:4])
    x0 = round(contact_x - cut.contact_x * scale)
    y0 = round(contact_y - cut.contact_y * scale)
    a = cut.base_half_width * scale
    solid_h = (cut.contact_y - cut.top) * scale
    return PlacedProduct(premul, x0, y0, contact_x, contact_y, a, a * ratio, solid_h)


def _paste(
    frame_shape: tuple[int, int], prod: PlacedProduct
) -> tuple[np.ndarray, tuple[slice, slice], tuple[slice, slice]]:
    """The product's alpha on the whole frame, and matching slices (frame, product)."""
    h, w = frame_shape
    ph, pw = prod.rgba.shape[:2]
    fx1, fy1 = max(0, prod.x0), max(0, prod.y0)
    fx2, fy2 = min(w, prod.x0 + pw), min(h, prod.y0 + ph)
    px1, py1 = fx1 - prod.x0, fy1 - prod.y0
    frame_sel = (slice(fy1, fy2), slice(fx1, fx2))
    prod_sel = (slice(py1, py1 + fy2 - fy1), slice(px1, px1 + fx2 - fx1))
    alpha = np.zeros((h, w), np.float32)
    alpha[frame_sel] = prod.rgba[prod_sel][..., 3]
    return alpha, frame_sel, prod_sel


def _normals_from_silhouette(
    alpha: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Screen-space normals of the silhouette "inflated" into a rounded solid (x right, y up,
    z towards the camera): they tilt outwards near the outline and face the camera inside."""
    solid = (alpha > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(solid, cv2.DIST_L2, 5)
    ys, xs = np.nonzero(solid)
    if xs.size == 0:
        z = np.zeros_like(alpha)
        return z, z, np.ones_like(alpha), z
    # A rounded profile whose radius is about a third of the product's smaller half-size.
    r = max(3.0, 0.33 * min(xs.max() - xs.min(), ys.max() - ys.min()) / 2)
    d = np.minimum(dist, r)
    height = np.sqrt(np.maximum(d * (2 * r - d), 0)).astype(np.float32)
    height = cv2.GaussianBlur(height, (0, 0), max(1.0, r * 0.08))
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    nx, ny, nz = -gx, gy, np.ones_like(height)
    norm = np.sqrt(nx * nx + ny * ny + nz * nz)
    return nx / norm, ny / norm, nz / norm, dist


# --- rendering --------------------------------------------------------------------------------------


@dataclass
class Light:
    direction: np.ndarray  # unit, towards the light
    position: np.ndarray
    distance: float
    colour: np.ndarray  # linear RGB × intensity
    ambient: np.ndarray
    spread: float  # tan of the light's angular radius: penumbra per cm of distance
    gobo: str


def _light(spec: SceneSpec, layout: Layout, target: np.ndarray) -> Light:
    mood = MOODS[spec.light]
    warmth = spec.warmth if spec.warmth is not None else float(mood["warmth"])
    softness = spec.softness if spec.softness is not None else float(mood["softness"])
    az, el = math.radians(layout.azimuth), math.radians(layout.elevation)
    direction = np.array(
        [math.sin(az) * math.cos(el), math.sin(el), -math.cos(az) * math.cos(el)], np.float32
    )
    warm = np.array([1.0, 0.84, 0.62], np.float32)
    cool = np.array([0.82, 0.9, 1.0], np.float32)
    tint = warm if warmth >= 0 else cool
    colour = (1 - abs(warmth)) * np.ones(3, np.float32) + abs(warmth) * tint
    colour = colour / float(colour @ _luma())
    # Sky fill is a little cooler than a warm key (and the other way round).
    ambient_tint = np.ones(3, np.float32) + 0.12 * (np.array([-1.0, 0.0, 1.2]) * max(warmth, 0))
    ambient_tint = ambient_tint / float(ambient_tint @ _luma())
    distance = 140.0 if spec.light != "golden" else 600.0
    return Light(
        direction=direction,
        position=target + direction * distance,
        distance=distance,
        colour=colour * float(mood["key"]),
        ambient=ambient_tint.astype(np.float32) * float(mood["ambient"]),
        spread=0.02 + 0.2 * softness,
        gobo=spec.gobo,
    )


def _gobo(kind: str, a: np.ndarray, b: np.ndarray, blur_cm: float, seed: int) -> np.ndarray:
    """Light let through a window, blinds or foliage, as seen on a plane across the beam
    (a, b: cm across and up). 1 = open."""
    if kind == "window":
        pane_w, pane_h, bar = 34.0, 46.0, 4.0
        fa = np.abs(((a + 11.0) % pane_w) - pane_w / 2)  # distance from the pane's centre
        fb = np.abs(((b + 7.0) % pane_h) - pane_h / 2)
        soft = max(blur_cm, 0.5)
        open_a = np.clip((pane_w / 2 - bar / 2 - fa) / soft + 0.5, 0, 1)
        open_b = np.clip((pane_h / 2 - bar / 2 - fb) / soft + 0.5, 0, 1)
        frame = np.clip((60.0 - np.abs(a)) / (3 * soft) + 0.5, 0, 1)
        return (0.12 + 0.88 * open_a * open_b * frame).astype(np.float32)
    if kind == "blinds":
        period = 7.0
        fb = np.abs((b % period) - period / 2)
        return (0.15 + 0.85 * np.clip((period * 0.3 - fb) / max(blur_cm, 0.4) + 0.5, 0, 1)).astype(
            np.float32
        )
    if kind == "leaves":
        tile = _leaf_tile(seed % 4)
        size = tile.shape[0]
        scale = size / 90.0  # the tile covers 90 cm of foliage
        sharp = cv2.remap(
            tile,
            np.mod(a * scale, size).astype(np.float32),
            np.mod(b * scale, size).astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_WRAP,
        )
        return np.clip(sharp, 0, 1)
    return np.ones_like(a, dtype=np.float32)


# Deterministic tiles computed from a seed: a local memo (a shared cache would pickle MBs of arrays).
_LEAVES: dict[int, np.ndarray] = {}


def _leaf_tile(seed: int) -> np.ndarray:
    """A tile of leaf shadows (1 = light): sprigs of pointed leaves along curved stems."""
    if seed in _LEAVES:
        return _LEAVES[seed]
    rng = np.random.default_rng(seed + 77)
    n = 512
    img = np.ones((n, n), np.float32)
    for _ in range(9):
        x, y = rng.uniform(0, n, 2)
        ang = rng.uniform(0, 2 * np.pi)
        bend = rng.uniform(-0.01, 0.01)
        for step in range(28):
            ang += bend
            x += math.cos(ang) * 9
            y += math.sin(ang) * 9
            if step % 2 == 0:
                for sign in (-1, 1):
                    la = ang + sign * rng.uniform(0.6, 1.0)
                    length = rng.uniform(26, 46)
                    width = length * rng.uniform(0.22, 0.32)
                    cxl = x + math.cos(la) * length * 0.55
                    cyl = y + math.sin(la) * length * 0.55
                    for dx in (-n, 0, n):
                        for dy in (-n, 0, n):
                            cv2.ellipse(
                                img,
                                (int((cxl + dx) * 4), int((cyl + dy) * 4)),
                                (int(length * 2), int(width * 2)),
                                math.degrees(la),
                                0,
                                360,
                                0.0,
                                -1,
                                cv2.LINE_AA,
                                shift=2,
                            )
    img = cv2.GaussianBlur(img, (0, 0), 2.5)
    _LEAVES[seed] = 0.08 + 0.92 * img
    return _LEAVES[seed]


def render(
    cut: Cutout, spec: SceneSpec, width: int, height: int, layout: Layout, seed: int = 0
) -> tuple[np.ndarray, dict[str, Any]]:
    """One variant: an sRGB uint8 H×W×3 photograph, and what was done (for the job's record)."""
    if spec.camera == "top":
        return _render_flat_lay(cut, spec, width, height, layout, seed)
    w, h = width, height
    surface = SURFACES[spec.surface]
    floor_colour = spec.surface_colour or surface.colour
    backdrop = surface.backdrop
    wall_colour = spec.backdrop_colour or (floor_colour if backdrop != "wall" else surface.wall)
    if backdrop != "wall" and spec.backdrop_colour is not None and spec.surface_colour is None:
        floor_colour = spec.backdrop_colour  # one sheet: a coloured sweep is coloured throughout
    rng = np.random.default_rng(layout.prop_seed)

    # --- framing and camera, solved from the product's base ---
    solid_h = max(cut.contact_y - cut.top, 1.0)
    target_h = layout.size * h
    podium = next((p for p in spec.props if p.kind == "podium"), None)
    scale = min(target_h / solid_h, 0.55 * w / max(cut.rgba.shape[1], 1))
    if podium is not None:
        scale *= 0.82  # room for the podium under the product
    wanted = CAMERA_RATIO[spec.camera]
    if cut.base_ratio is not None:
        ratio = float(np.clip(wanted, cut.base_ratio, cut.base_ratio + BOOST))
    else:
        ratio = wanted
    a_px = cut.base_half_width * scale
    b_px = a_px * ratio
    contact_x = layout.x_frac * w
    contact_y = layout.floor_frac * h
    if podium is not None:
        contact_y -= 0.15 * h  # the podium's side shows below the product
    ellipse_y = contact_y - b_px
    product_px = solid_h * scale
    horizon_y = ellipse_y - layout.horizon * product_px
    big = float(max(w, h))
    f = (ellipse_y - horizon_y) / max(ratio, 1e-3)
    f = float(np.clip(f, 0.9 * big, 6.0 * big))
    horizon_y = ellipse_y - ratio * f
    ppc = product_px / PRODUCT_HEIGHT_CM  # pixels per cm at the product
    depth = f / ppc
    base_y = 0.0
    if podium is not None:
        # As tall as fits between the product and the bottom of the frame.
        room_cm = (0.96 * h - contact_y) / ppc
        base_y = float(np.clip(rng.uniform(6.0, 10.0), 2.5, 0.7 * room_cm))
    cam = Camera(width=w, height=h, f=f, cx=w / 2.0, cy=horizon_y, h=ratio * depth + base_y)
    base = np.array([(contact_x - cam.cx) / f * depth, base_y, depth], np.float32)
    wall_z = depth + layout.gap_cm
    cove = 0.55 * layout.gap_cm

    g = _gbuffer(cam, spec, layout, wall_z, cove, backdrop, floor_colour, wall_colour, seed)

    # --- props ---
    props = _arrange_props(spec, cam, base, a_px / ppc, ppc, rng, podium, wall_z)
    for i, prop in enumerate(props):
        _draw_prop(cam, g, prop, 3 + i, _prop_albedo(spec, floor_colour, seed))
    if any(p.kind == "arch" for p in spec.props) and backdrop == "wall":
        _paint_arch(g, base, spec, wall_colour, rng)

    # --- light ---
    light = _light(spec, layout, base + np.array([0, 0.4 * PRODUCT_HEIGHT_CM, 0], np.float32))
    lx = light.position[0] - g.px
    ly = light.position[1] - g.py
    lz = light.position[2] - g.pz
    dist2 = lx * lx + ly * ly + lz * lz
    inv = 1.0 / np.sqrt(dist2)
    ndl = np.maximum((g.nx * lx + g.ny * ly + g.nz * lz) * inv, 0)
    falloff = np.minimum(light.distance**2 / dist2, 2.0)
    key = ndl * falloff
    if light.gobo:
        e1 = _unit(np.cross(light.direction, np.array([0, 1, 0], np.float32)))
        e2 = np.cross(e1, light.direction)
        rx, ry, rz = g.px - base[0], g.py - base[1], g.pz - base[2]
        ga = rx * e1[0] + ry * e1[1] + rz * e1[2]
        gb = rx * e2[0] + ry * e2[1] + rz * e2[2]
        # The pattern's edges soften with the distance from the window or plant to the set.
        key = key * _gobo(light.gobo, ga, gb, 1.0 + 30 * light.spread, seed)

    # --- the product's shadow, ray-cast against its silhouette as the light sees it ---
    prod = _place_product(cut, scale, contact_x, contact_y, ratio)
    alpha_frame, frame_sel, prod_sel = _paste((h, w), prod)
    shadow = _product_shadow(g, cam, base, light, alpha_frame, prod, ppc)
    visibility = 1.0 - shadow
    region = (slice(0, h), slice(0, w))
    for i, prop in enumerate(props):
        # A prop's own shading comes from its normals; its shadow falls on everything else.
        others = g.kind != 3 + i
        visibility *= 1.0 - _prop_shadow(g, prop, light.direction, light.spread, region) * others
        g.ao *= np.where(others, _prop_ao(g, prop, region), 1.0)
    depth_ratio = 1.0 if cut.base_ratio is not None else 0.7  # round base, or a box-like one
    contact = _contact_occlusion(g, cam, base, a_px / ppc, a_px / ppc * depth_ratio)
    contact = np.maximum(contact, _contact_line(alpha_frame, prod))
    ambient_occ = g.ao * (1 - contact)
    key = key * visibility * (1 - 0.35 * contact)
    if backdrop != "wall":
        # On a sweep the photographer flags the key off the backdrop; it is lit on its own.
        key = key * np.where(g.kind == 2, 0.3, np.where(g.kind == 1, 0.6, 1.0)).astype(np.float32)

    hemi = 0.72 + 0.28 * g.ny
    irradiance = key[..., None] * light.colour + (ambient_occ * hemi)[..., None] * light.ambient
    # The backdrop gets its own soft light (as photographers light it), brighter on the key's side.
    backdrop_light = ((g.kind == 1) * 0.5 + (g.kind == 2) * 1.0).astype(np.float32)
    if spec.light == "backlit":
        # Light from behind: the backdrop glows behind the product.
        gx = (g.px - base[0]) / 40.0
        gy = (g.py - base[1] - PRODUCT_HEIGHT_CM * 0.7) / 30.0
        backdrop_light = backdrop_light * (1.0 + 2.6 * np.exp(-(gx * gx + gy * gy)))
    side_gradient = np.clip(
        0.75 + 0.25 * np.tanh((g.px - base[0]) * np.sign(light.direction[0]) / 60.0), 0, 1
    )
    backdrop_level = {"dramatic": 0.12, "golden": 0.25}.get(spec.light, 0.38)
    irradiance += (backdrop_level * backdrop_light * side_gradient * g.ao)[..., None] * (
        light.colour / max(float(light.colour @ _luma()), 1e-3)
    )
    if backdrop == "gradient":
        # A background light: a soft pool on the backdrop behind the product.
        dxp = (g.px - base[0]) / 60.0
        dyp = (g.py - (base[1] + PRODUCT_HEIGHT_CM * 0.9)) / 45.0
        pool = np.exp(-(dxp * dxp + dyp * dyp)) * (g.kind <= 2)
        irradiance += (0.55 * pool)[..., None] * np.ones(3, np.float32)
    radiance = g.albedo * irradiance
    # Expose the set for the mood: the brighter part of the frame lands at the mood's level.
    sample_luma = radiance[::8, ::8] @ _luma()
    exposure = float(
        np.clip(MOODS[spec.light]["exposure"] / max(np.percentile(sample_luma, 80), 1e-3), 0.6, 1.8)
    )
    radiance *= exposure

    # --- glossy support: a faint sheen of the backdrop, and the product's reflection ---
    if g.gloss.max() > 0:
        _reflect(radiance, g, cam, prod, frame_sel, prod_sel, light)

    # --- depth of field: focused on the product ---
    coc = 26.0 * big / 1024.0 * np.abs(1.0 - depth / np.maximum(g.pz, 1.0))
    radiance = _by_radius(radiance, np.minimum(coc, 20.0), (0.0, 1.5, 3.5, 7.0, 14.0, 20.0))

    # --- the product: white balance, relight, light wrap, composite ---
    product_rgb = _relight(prod, cut, light, spec, base, ppc, seed) * exposure
    frame = radiance
    region = frame[frame_sel]
    a = prod.rgba[prod_sel][..., 3:4]
    wrap_src = _blur(radiance, 6.0)[frame_sel]
    edge = np.clip(a - cv2.erode(a[..., 0], np.ones((3, 3), np.uint8))[..., None], 0, 1)
    wrapped = product_rgb[prod_sel] + 0.15 * edge * wrap_src * a
    frame[frame_sel] = region * (1 - a) + wrapped

    image = _finish(frame, spec, layout, seed)
    info = {
        "variant": layout.index,
        "surface": spec.surface,
        "light": spec.light,
        "light_azimuth": round(layout.azimuth, 1),
        "light_elevation": round(layout.elevation, 1),
        "camera": spec.camera,
        "focal_px": round(f, 1),
        "horizon_row": round(horizon_y, 1),
        "base_ratio": round(ratio, 3),
        "props": [p.kind for p in props],
    }
    return image, info


def _product_shadow(
    g: GBuffer,
    cam: Camera,
    base: np.ndarray,
    light: Light,
    alpha: np.ndarray,
    prod: PlacedProduct,
    ppc: float,
) -> np.ndarray:
    """Where the product blocks the key light. The silhouette stands on the base, turned to
    face the light (what the light "sees" is taken to be what the camera sees)."""
    L = light.direction
    horiz = np.array([L[0], 0.0, L[2]], np.float32)
    if np.linalg.norm(horiz) < 0.05:
        horiz = np.array([0.0, 0.0, -1.0], np.float32)
    n_h = _unit(horiz)
    u_axis = np.cross(n_h, np.array([0.0, 1.0, 0.0], np.float32))
    denom = float(n_h @ L)
    if denom < 1e-3:
        denom = 1e-3
    t = ((base[0] - g.px) * n_h[0] + (base[1] - g.py) * n_h[1] + (base[2] - g.pz) * n_h[2]) / denom
    qx = g.px + t * L[0] - base[0]
    qy = g.py + t * L[1] - base[1]
    qz = g.pz + t * L[2] - base[2]
    u = qx * u_axis[0] + qz * u_axis[2]
    map_x = (prod.contact_x + u * ppc).astype(np.float32)
    map_y = (prod.contact_y - prod.base_b - qy * ppc).astype(np.float32)
    hard = cv2.remap(alpha, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    hard = np.where((t > 0) & (qy > -0.5), hard, 0).astype(np.float32)
    found = np.nonzero(hard > 0.002)
    if found[0].size == 0:
        return hard
    # Blur only around where the shadow falls (plus the widest penumbra).
    pad = 100
    h, w = hard.shape
    y1, y2 = max(0, found[0].min() - pad), min(h, found[0].max() + pad)
    x1, x2 = max(0, found[1].min() - pad), min(w, found[1].max() + pad)
    sel = (slice(y1, y2), slice(x1, x2))
    # Penumbra in pixels where the shadow lands: the light's spread times the distance to the
    # occluder, seen at that depth.
    pen = light.spread * np.maximum(t[sel], 0) * cam.f / np.maximum(g.pz[sel], 1.0) * 0.4
    out = np.zeros_like(hard)
    out[sel] = _by_radius(hard[sel], np.minimum(pen, 40.0), (0.0, 2.0, 5.0, 12.0, 24.0, 40.0))
    return out


def _contact_occlusion(
    g: GBuffer, cam: Camera, base: np.ndarray, radius_x: float, radius_z: float
) -> np.ndarray:
    """Ambient occlusion where the base meets its support, in world space: a dark core right at
    the base and a wider, softer falloff (a few centimetres), shaped like the footprint."""
    h, w = g.px.shape
    out = np.zeros((h, w), np.float32)
    reach = 4.0 * max(radius_x, radius_z, 0.5)
    corners = [
        cam.project(base + np.array([sx * reach, 0, sz * reach], np.float32))
        for sx in (-1, 1)
        for sz in (-1, 1)
    ]
    x1 = max(0, int(min(c[0] for c in corners)) - 2)
    x2 = min(w, int(max(c[0] for c in corners)) + 3)
    y1 = max(0, int(min(c[1] for c in corners)) - 2)
    y2 = min(h, int(max(c[1] for c in corners)) + 3)
    if x2 <= x1 or y2 <= y1:
        return out
    sel = (slice(y1, y2), slice(x1, x2))
    ex = (g.px[sel] - base[0]) / max(radius_x, 0.5)
    ez = (g.pz[sel] - base[2]) / max(radius_z, 0.5)
    rr = np.sqrt(ex * ex + ez * ez)
    near = (np.abs(g.py[sel] - base[1]) < 0.6) & (rr < 4.0)
    # Distance outside the footprint, in cm along the floor.
    gap = np.maximum(rr - 1.0, 0) * max(radius_x, 0.5)
    core = np.exp(-gap / 0.5)
    wide = np.exp(-gap / (0.7 * radius_x + 2.0))
    occ = np.clip(0.65 * core + 0.4 * wide, 0, 0.92) * near
    out[sel] = occ
    return out


def _contact_line(alpha: np.ndarray, prod: PlacedProduct) -> np.ndarray:
    """The dark line right under the base, in the picture: where the silhouette's lower edge
    meets the support, the support sees almost no sky. Only near the contact row, so an
    overhang (a handle, a raised toe) casts none."""
    h = alpha.shape[0]
    reach = max(2, round(0.012 * prod.height_px))
    top = max(0, int(prod.contact_y - 2 * prod.base_b - reach))
    bottom = min(h, int(prod.contact_y + 3 * reach) + 1)
    out = np.zeros_like(alpha)
    if bottom <= top:
        return out
    band = alpha[top:bottom]
    acc = np.zeros_like(band)
    for k in range(1, 2 * reach + 1):
        shifted = np.zeros_like(band)
        shifted[k:] = band[:-k]
        acc = np.maximum(acc, np.clip(shifted - band, 0, 1) * np.exp(-(k - 1) / reach))
    out[top:bottom] = cv2.GaussianBlur(acc, (0, 0), max(0.8, reach / 3)) * 0.7
    return out


def _reflect(
    radiance: np.ndarray,
    g: GBuffer,
    cam: Camera,
    prod: PlacedProduct,
    frame_sel: tuple[slice, slice],
    prod_sel: tuple[slice, slice],
    light: Light,
) -> None:
    h, w = radiance.shape[:2]
    _dx, dy = cam.rays()
    # Schlick's Fresnel term for the view angle on a horizontal surface (per row: the lens is
    # level, so the angle barely changes across a row).
    cos_t = np.abs(dy)[:, None] / np.sqrt(1 + dy[:, None] ** 2)
    fresnel = (0.04 + 0.96 * (1 - cos_t) ** 5).astype(np.float32)
    strength = g.gloss * fresnel
    # Sheen: the backdrop's brightness mirrored in the polish.
    wall_rows = np.flatnonzero(g.kind[:, w // 2] == 2)
    if wall_rows.size:
        sheen = radiance[wall_rows].reshape(-1, 3).mean(axis=0)
        radiance += (strength * 0.35)[..., None] * sheen
    # The product mirrored about its contact line.
    ph, pw = prod.rgba.shape[:2]
    mirror = prod.rgba[::-1]
    line = round(prod.contact_y)
    top = line  # mirrored image starts at the contact line
    # Row of the flipped image that lands on the line (the product's own row there, mirrored).
    start_row = max(0, ph - 1 - (line - prod.y0))
    rows = min(h - top, ph - start_row)
    if rows <= 0:
        return
    x1, x2 = max(0, prod.x0), min(w, prod.x0 + pw)
    src = mirror[start_row : start_row + rows, x1 - prod.x0 : x2 - prod.x0]
    dist = np.arange(rows, dtype=np.float32)[:, None] / max(prod.height_px, 1.0)
    fade = np.exp(-dist / 0.18)[..., None]
    sharp = src * fade
    soft = _blur(src, 4.0) * fade
    mix = np.clip(dist * 3.0, 0, 1)[..., None]
    refl = sharp * (1 - mix) + soft * mix
    k = strength[top : top + rows, x1:x2, None]
    support = (g.kind[top : top + rows, x1:x2] <= 1) | (g.ny[top : top + rows, x1:x2] > 0.9)
    k = k * support[..., None]
    # The product as lit, roughly (its relit colour is not known yet), a little darker: the
    # underside the mirror shows gets less light than the front.
    lit = (light.colour * 0.55 + light.ambient) * 0.8
    region = radiance[top : top + rows, x1:x2]
    radiance[top : top + rows, x1:x2] = region * (1 - k * refl[..., 3:4]) + k * refl[..., :3] * lit


def _relight(
    prod: PlacedProduct,
    cut: Cutout,
    light: Light,
    spec: SceneSpec,
    base: np.ndarray,
    ppc: float,
    seed: int,
) -> np.ndarray:
    """The product's premultiplied linear colour, matched to the scene: the source backdrop's
    colour cast removed, the scene's key and ambient colour and direction applied over its own
    shading, its exposure set by how much light reaches it, and a rim where light comes from
    behind."""
    rgba = prod.rgba
    premul = rgba[..., :3]
    alpha = rgba[..., 3]
    cast = np.array(cut.cast, np.float32)
    rgb = premul / (cast**0.85)
    nx, ny, nz, dist = _normals_from_silhouette(alpha)
    L = light.direction
    # Camera space → world: x right, y up, z towards the camera = −world z.
    ndl = nx * L[0] + ny * L[1] - nz * L[2]
    diffuse = np.maximum(ndl, 0)
    mood = MOODS[spec.light]
    key_level = float(light.colour @ _luma())
    amb_level = float(light.ambient @ _luma())
    # A studio shot on white is lit roughly like this; the ratio is how the scene differs.
    reference = 0.55 * 1.0 + 0.42
    shading = (
        diffuse[..., None] * light.colour + light.ambient * (0.75 + 0.25 * ny)[..., None]
    ) / reference
    strength = {"dramatic": 0.5, "golden": 0.5, "backlit": 0.7}.get(spec.light, 0.35)
    scene_level = (0.55 * key_level + amb_level) / reference
    exposure = float(np.clip(scene_level, 0.55, 1.1)) ** 0.5
    # The camera is balanced for daylight, as the set is: a warm or cool light tints the whole
    # product, not only its lit side.
    tint = light.colour / max(key_level, 1e-3)
    out = rgb * exposure * ((1 - strength) + strength * shading) * (0.45 + 0.55 * tint)
    if light.gobo:
        # The window or foliage pattern falls across the product as well.
        hh, ww = alpha.shape
        ys, xs = np.mgrid[0:hh, 0:ww].astype(np.float32)
        u = (xs + prod.x0 - prod.contact_x) / ppc
        v = (prod.contact_y - (ys + prod.y0)) / ppc
        e1 = _unit(np.cross(L, np.array([0, 1, 0], np.float32)))
        e2 = np.cross(e1, L)
        ga = u * e1[0] + v * e1[1]
        gb = u * e2[0] + v * e2[1]
        pattern = _gobo(light.gobo, ga, gb, 1.0 + 30 * light.spread, seed)
        out *= (1 - strength + strength * pattern)[..., None]
    if L[2] > 0.2:
        # Backlight: a band along the outline catches the light, brightest on the edges that
        # face where the light is (in the picture), more so on a light or glossy surface.
        band = np.exp(-dist / max(1.2, 0.011 * prod.height_px)) * alpha
        toward = np.array([L[0], L[1]], np.float32)
        toward /= float(np.linalg.norm(toward)) + 1e-6
        flat = np.sqrt(nx * nx + ny * ny) + 1e-6
        facing = np.clip((nx * toward[0] + ny * toward[1]) / flat, -1, 1)
        albedo = np.clip(rgb.mean(axis=2) / np.maximum(alpha, 1e-3), 0, 1)
        rim = band * (0.2 + 0.8 * ((facing + 1) / 2) ** 3) * (0.2 + 0.8 * albedo)
        out += (0.9 * float(mood["key"]) * rim)[..., None] * light.colour
    return np.minimum(out, alpha[..., None] * 4.0)


@functools.cache
def _tone_lut() -> np.ndarray:
    """Linear light (0 … 4, 8192 steps) → sRGB 0–255: identity up to 0.8, then a soft
    shoulder that rolls highlights off towards white instead of clipping them."""
    x = np.linspace(0, 4, 8192, dtype=np.float64)
    knee = 0.8
    y = np.where(x > knee, knee + (1 - knee) * (1 - np.exp(-(x - knee) / (1 - knee))), x)
    y = np.clip(y, 0, 1)
    return (
        np.where(y <= 0.0031308, y * 12.92, 1.055 * y ** (1 / 2.4) - 0.055).astype(np.float32) * 255
    )


def _finish(linear: np.ndarray, spec: SceneSpec, layout: Layout, seed: int) -> np.ndarray:
    """Vignette, tone curve and sRGB in one table lookup, then film grain."""
    h, w = linear.shape[:2]
    yy = (np.arange(h, dtype=np.float32)[:, None] - h / 2) / (h / 2)
    xx = (np.arange(w, dtype=np.float32)[None, :] - w / 2) / (w / 2)
    strength = 0.22 if spec.light == "dramatic" else 0.12
    vignette = 1 - strength * np.clip((xx * xx + yy * yy) / 2, 0, 1) ** 1.2
    index = linear * (vignette * np.float32(8191 / 4))[..., None]
    np.clip(index, 0, 8191, out=index)
    srgb = _tone_lut()[index.astype(np.int32)]
    rng = np.random.default_rng(seed * 31 + layout.index)
    grain = _grain(h, w, rng)[..., None]
    srgb += grain * (np.float32(3.0) - srgb * np.float32(1.4 / 255))
    srgb += 0.5
    np.clip(srgb, 0, 255, out=srgb)
    return srgb.astype(np.uint8)


# Deterministic noise tiles by size: a local memo, like _LEAVES.
_GRAIN: dict[int, np.ndarray] = {}


def _grain(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Fine film grain: a cached 512² tile of blurred noise, rolled per variant."""
    if 0 not in _GRAIN:
        tile = np.random.default_rng(5).standard_normal((512, 512), dtype=np.float32)
        tile = cv2.GaussianBlur(tile, (0, 0), 0.6)
        _GRAIN[0] = tile / tile.std()
    tile = np.roll(_GRAIN[0], (int(rng.integers(0, 512)), int(rng.integers(0, 512))), (0, 1))
    reps = (h // 512 + 1, w // 512 + 1)
    return np.tile(tile, reps)[:h, :w]


# --- set dressing ------------------------------------------------------------------------------------


def _arrange_props(
    spec: SceneSpec,
    cam: Camera,
    base: np.ndarray,
    base_half_cm: float,
    ppc: float,
    rng: np.random.Generator,
    podium: Prop | None,
    wall_z: float,
) -> list[PlacedProp]:
    """Place the props the prompt names beside and behind the product, never in front of it:
    each tries a few spots (the preferred side first, close in, then further back) and takes the
    first that is inside the frame, clear of the product and of the props already placed."""
    out: list[PlacedProp] = []
    palette = _prop_palette(spec)
    side = -1.0 if cam.project(base)[0] > cam.width * 0.5 else 1.0
    if rng.random() < 0.3:
        side = -side
    half_w = max(base_half_cm, 2.0)
    if podium is not None:
        radius = max(half_w * 1.5, 6.0)
        out.append(
            PlacedProp(
                "podium",
                np.array([base[0], 0.0, base[2]], np.float32),
                radius,
                height=float(base[1]),
                colour=_rgb(podium.colour) if podium.colour else palette[0],
            )
        )
    footprint = out[0].radius if out else half_w
    centre_x = cam.project(base)[0]

    def place(prop: PlacedProp, lateral: float) -> bool:
        """Try spots for `prop` (its centre's y and size already set); True when placed."""
        r = prop.radius
        for sgn in (side, -side):
            for dz, gap in ((2.0, 0.4), (9.0, 0.2), (18.0, 0.0), (30.0, -0.3)):
                x = base[0] + sgn * (footprint + r * (1.0 + gap) + lateral)
                z = min(base[2] + dz + r, wall_z - r - 1.0)
                prop.centre = np.array([x, prop.centre[1], z], np.float32)
                if not _in_frame(cam, prop):
                    continue
                px, _py = cam.project(prop.centre)
                r_px = r * cam.f / max(z, 1.0)
                # Clear of the product in the picture (a prop behind may hide a little of it).
                if abs(px - centre_x) < half_w * ppc * 0.9 + r_px * 0.4:
                    continue
                if any(
                    math.dist((x, z), (o.centre[0], o.centre[2])) < r + o.radius + 0.5 for o in out
                ):
                    continue
                out.append(prop)
                return True
        return False

    for prop in spec.props:
        colour = _rgb(prop.colour) if prop.colour else None
        if prop.kind == "spheres":
            for i in range(int(rng.integers(1, 3))):
                r = PRODUCT_HEIGHT_CM * float(rng.uniform(0.13, 0.24)) * (0.7 if i else 1.0)
                place(
                    PlacedProp(
                        "sphere",
                        np.array([0.0, r, 0.0], np.float32),
                        r,
                        colour=colour if colour is not None else palette[(1 + i) % len(palette)],
                    ),
                    float(rng.uniform(0, 3)),
                )
        elif prop.kind == "blocks":
            for i in range(int(rng.integers(1, 3))):
                half = PRODUCT_HEIGHT_CM * float(rng.uniform(0.12, 0.2))
                place(
                    PlacedProp(
                        "block",
                        np.zeros(3, np.float32),
                        half,
                        height=half * float(rng.uniform(1.2, 2.4)),
                        turn=float(rng.uniform(10, 40)),
                        colour=colour if colour is not None else palette[(2 + i) % len(palette)],
                    ),
                    float(rng.uniform(0, 4)),
                )
        elif prop.kind == "pebbles":
            for _i in range(int(rng.integers(3, 6))):
                r = float(rng.uniform(1.2, 2.8))
                flat = float(rng.uniform(0.45, 0.7))
                grey = float(rng.uniform(0.35, 0.85))
                tone = np.array([grey, grey * 0.97, grey * 0.92], np.float32)
                place(
                    PlacedProp(
                        "pebble",
                        np.array([0.0, r * flat, 0.0], np.float32),
                        r,
                        flatten=flat,
                        colour=colour
                        if colour is not None
                        else to_linear((tone * 255).astype(np.uint8)),
                    ),
                    float(rng.uniform(0, 6)),
                )
    return out


def _in_frame(cam: Camera, prop: PlacedProp) -> bool:
    x, y = cam.project(prop.centre)
    r = prop.radius * cam.f / max(float(prop.centre[2]), 1.0)
    return 0.03 * cam.width + r <= x <= 0.97 * cam.width - r and y <= 0.98 * cam.height


def _prop_palette(spec: SceneSpec) -> list[np.ndarray]:
    base = spec.backdrop_colour or SURFACES[spec.surface].wall
    r, gg, b = base
    # Tones of the backdrop: lighter, darker, and a warm neutral, so props belong to the set.
    tones = [
        tuple(int(min(255, c * 1.08 + 12)) for c in (r, gg, b)),
        tuple(int(c * 0.82) for c in (r, gg, b)),
        (222, 206, 186),
        tuple(int(c * 0.66) for c in (r, gg, b)),
    ]
    return [_rgb(t) for t in tones]  # type: ignore[arg-type]


def _prop_albedo(spec: SceneSpec, floor_colour: tuple[int, int, int], seed: int) -> Any:
    def albedo(prop: PlacedProp, hx: np.ndarray, hy: np.ndarray, hz: np.ndarray) -> np.ndarray:
        col = np.broadcast_to(prop.colour, (*hx.shape, 3)).astype(np.float32)
        if prop.kind in ("podium", "block") and spec.surface in ("terrazzo", "marble", "concrete"):
            # Plinths in the set's own stone read as one family: the top shows the stone's
            # face, the side is unrolled around the axis.
            tex = _texture_for(spec.surface, prop_tone(prop.colour), None, seed + 1)
            on_top = hy >= prop.height - 0.05
            around = np.arctan2(hx - prop.centre[0], hz - prop.centre[2]) * prop.radius
            u = np.where(on_top, hx, around + 50.0)
            v = np.where(on_top, hz, hy + 80.0)
            return to_linear(textures.sample(tex, u, v, np.float32(0.05)))
        return col

    return albedo


def prop_tone(colour: np.ndarray) -> tuple[int, int, int]:
    srgb = to_srgb(np.asarray(colour, np.float32))
    return tuple(int(v) for v in srgb)  # type: ignore[return-value]


def _paint_arch(
    g: GBuffer,
    base: np.ndarray,
    spec: SceneSpec,
    wall: tuple[int, int, int],
    rng: np.random.Generator,
) -> None:
    """An arch painted on the wall behind the product (a favourite of product sets)."""
    colour = next((p.colour for p in spec.props if p.kind == "arch" and p.colour), None)
    tone = _rgb(colour) if colour else _rgb(tuple(int(c * 0.86) for c in wall))  # type: ignore[arg-type]
    width = float(rng.uniform(34, 46))
    centre = base[0] + float(rng.uniform(-6, 6))
    straight = float(rng.uniform(26, 36))
    du = g.px - centre
    inside = (np.abs(du) <= width / 2) & (g.py <= straight)
    inside |= (du * du + (g.py - straight) ** 2) <= (width / 2) ** 2
    inside &= g.kind == 2
    g.albedo[inside] = tone


# --- flat lay ----------------------------------------------------------------------------------------


def _render_flat_lay(
    cut: Cutout, spec: SceneSpec, width: int, height: int, layout: Layout, seed: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """Top-down: the surface fills the frame and the product lies on it, with a drop shadow
    cast by its thickness along the light."""
    w, h = width, height
    surface = SURFACES[spec.surface]
    colour = spec.surface_colour or (
        spec.backdrop_colour
        if surface.backdrop != "wall" and spec.backdrop_colour
        else surface.colour
    )
    solid_h = max(cut.contact_y - cut.top, 1.0)
    scale = min(layout.size * 1.15 * h / solid_h, 0.62 * w / max(cut.rgba.shape[1], 1))
    ppc = solid_h * scale / PRODUCT_HEIGHT_CM
    tex = _texture_for(spec.surface, colour, None, seed)
    xs = (np.arange(w, dtype=np.float32)[None, :] - w / 2) / ppc
    ys = (np.arange(h, dtype=np.float32)[:, None] - h / 2) / ppc
    turn = math.radians(layout.texture_turn)
    u = math.cos(turn) * xs - math.sin(turn) * ys + layout.texture_shift[0]
    v = math.sin(turn) * xs + math.cos(turn) * ys + layout.texture_shift[1]
    albedo = to_linear(textures.sample(tex, u, v, np.float32(1.0 / ppc)))
    if tex.relief is not None:
        scale_t = textures.TILE / tex.width_cm
        albedo *= cv2.remap(
            tex.relief,
            np.mod(u * scale_t, textures.TILE).astype(np.float32),
            np.mod(v * scale_t, textures.TILE).astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_WRAP,
        )[..., None]
    target = np.array([0.0, 0.0, 0.0], np.float32)
    light = _light(spec, layout, target)
    L = light.direction
    # Image plane = floor (x right, y down = −z in the light's frame).
    key = np.full((h, w), max(L[1], 0.05), np.float32)
    # Falloff across the frame from the light's foot.
    foot_x = L[0] / max(L[1], 0.2) * 60 * ppc + w / 2
    foot_y = L[2] / max(L[1], 0.2) * 60 * ppc + h / 2
    dd = ((np.arange(w)[None, :] - foot_x) ** 2 + (np.arange(h)[:, None] - foot_y) ** 2) / (
        1.2 * max(w, h)
    ) ** 2
    key = key * (1.15 - 0.35 * np.clip(dd, 0, 1)).astype(np.float32)
    if light.gobo:
        key *= _gobo(
            light.gobo, xs * np.ones_like(ys), ys * np.ones_like(xs), 1.0 + 30 * light.spread, seed
        )
    cx, cy = layout.x_frac * w, 0.5 * h
    prod = _place_product(cut, scale, cx, cy + solid_h * scale / 2, 0.0)
    alpha, frame_sel, prod_sel = _paste((h, w), prod)
    thickness = 1.6  # cm the product stands off the surface
    shift = np.array([-L[0], L[2]]) / max(L[1], 0.15) * thickness * ppc
    m = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    drop = cv2.warpAffine(alpha, m, (w, h))
    drop = _blur(drop, 1.5 + 18 * light.spread)
    contact = _blur(alpha, 2.0)
    visibility = 1 - 0.85 * drop
    irradiance = (key * visibility)[..., None] * light.colour + (
        (1 - 0.35 * contact) * (1 - 0.3 * drop)
    )[..., None] * light.ambient * 1.1
    frame = albedo * irradiance
    product_rgb = _relight(prod, cut, light, spec, np.zeros(3, np.float32), ppc, seed)
    a = prod.rgba[prod_sel][..., 3:4]
    frame[frame_sel] = frame[frame_sel] * (1 - a) + product_rgb[prod_sel]
    image = _finish(frame, spec, layout, seed)
    return image, {
        "variant": layout.index,
        "surface": spec.surface,
        "light": spec.light,
        "camera": "top",
        "props": [],
    }

"""Drawable subjects for the procedural engine: flat vector illustrations built from polygons.

Each subject is drawn in a unit box (-1..1, y down) through a `Pen`, which maps unit coordinates
to the canvas and decides how a shape looks: filled with palette roles (flat illustration) or as
ink outlines on paper (line drawing). Shading shapes are skipped in line mode.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw

RGB = tuple[int, int, int]
Point = tuple[float, float]


class Pen:
    """Draws unit-box shapes onto an RGBA layer in one of two looks: flat fill or line drawing."""

    def __init__(
        self,
        layer: Image.Image,
        cx: float,
        cy: float,
        r: float,
        colours: dict[str, RGB],
        *,
        line: bool = False,
        stroke: float = 0.0,
        rotate: float = 0.0,
    ) -> None:
        self.draw = ImageDraw.Draw(layer)
        self.rgba = layer.mode == "RGBA"
        self.cx, self.cy, self.r = cx, cy, r
        self.colours = colours
        self.line = line
        self.sw = max(1, round(stroke or r * 0.035))
        self.cos, self.sin = math.cos(rotate), math.sin(rotate)

    def p(self, x: float, y: float) -> Point:
        x, y = x * self.cos - y * self.sin, x * self.sin + y * self.cos
        return (self.cx + x * self.r, self.cy + y * self.r)

    def col(self, role: str) -> tuple[int, ...]:
        c = self.colours[role]
        return (c[0], c[1], c[2], 255) if self.rgba else c

    @property
    def ink(self) -> tuple[int, ...]:
        return self.col("ink")

    @property
    def paper(self) -> tuple[int, ...]:
        return self.col("paper")

    def poly(self, pts: Sequence[Point], role: str, *, shade: bool = False) -> None:
        if shade and self.line:
            return
        xy = [self.p(x, y) for x, y in pts]
        if self.line:
            self.draw.polygon(xy, fill=self.paper)
            self._closed(xy)
        else:
            self.draw.polygon(xy, fill=self.col(role))

    def _closed(self, xy: list[Point]) -> None:
        self.draw.line([*xy, xy[0], xy[1]], fill=self.ink, width=self.sw, joint="curve")

    def ellipse(
        self, x: float, y: float, rx: float, ry: float, role: str, *, shade: bool = False
    ) -> None:
        if shade and self.line:
            return
        if self.cos != 1.0:
            self.poly(ellipse_pts(x, y, rx, ry), role, shade=shade)
            return
        (x0, y0), (x1, y1) = self.p(x - rx, y - ry), self.p(x + rx, y + ry)
        box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        if self.line:
            self.draw.ellipse(box, fill=self.paper, outline=self.ink, width=self.sw)
        else:
            self.draw.ellipse(box, fill=self.col(role))

    def ring(self, x: float, y: float, rx: float, ry: float, width: float, role: str) -> None:
        """An elliptical band (a handle, an eyelet) that leaves its middle untouched."""
        (x0, y0), (x1, y1) = self.p(x - rx, y - ry), self.p(x + rx, y + ry)
        box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        w = max(1, round(width * self.r))
        if self.line:
            self.draw.ellipse(box, outline=self.ink, width=self.sw)
            inset = w
            inner = (box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset)
            if inner[2] > inner[0] and inner[3] > inner[1]:
                self.draw.ellipse(inner, outline=self.ink, width=self.sw)
        else:
            self.draw.ellipse(box, outline=self.col(role), width=w)

    def stroke(self, pts: Sequence[Point], role: str, width: float) -> None:
        """An open line with round caps; `width` is in unit-box units."""
        xy = [self.p(x, y) for x, y in pts]
        w = self.sw if self.line else max(1, round(width * self.r))
        fill = self.ink if self.line else self.col(role)
        self.draw.line(xy, fill=fill, width=w, joint="curve")
        for x, y in (xy[0], xy[-1]):
            self.draw.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=fill)

    def rect(self, x0: float, y0: float, x1: float, y1: float, role: str, **kw: bool) -> None:
        self.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], role, **kw)


def ellipse_pts(
    x: float, y: float, rx: float, ry: float, angle: float = 0.0, n: int = 36
) -> list[Point]:
    ca, sa = math.cos(angle), math.sin(angle)
    out = []
    for i in range(n):
        t = 2 * math.pi * i / n
        ex, ey = rx * math.cos(t), ry * math.sin(t)
        out.append((x + ex * ca - ey * sa, y + ex * sa + ey * ca))
    return out


def arc_pts(x: float, y: float, r: float, a0: float, a1: float, n: int = 24) -> list[Point]:
    return [
        (x + r * math.cos(a0 + (a1 - a0) * i / n), y + r * math.sin(a0 + (a1 - a0) * i / n))
        for i in range(n + 1)
    ]


def star_pts(x: float, y: float, r: float, inner: float, k: int = 5) -> list[Point]:
    pts = []
    for i in range(2 * k):
        a = -math.pi / 2 + math.pi * i / k
        rr = r if i % 2 == 0 else r * inner
        pts.append((x + rr * math.cos(a), y + rr * math.sin(a)))
    return pts


# --- subjects -----------------------------------------------------------------------------------


def mountain(p: Pen, rng: random.Random) -> None:
    back = [(-0.2, 0.75), (0.45, -0.35), (1.0, 0.75)]
    p.poly(back, "s")
    p.poly([(0.45, -0.35), (1.0, 0.75), (0.62, 0.75)], "ss", shade=True)
    front = [(-1.0, 0.75), (-0.2, -0.8), (0.55, 0.75)]
    p.poly(front, "p")
    p.poly([(-0.2, -0.8), (0.55, 0.75), (0.05, 0.75)], "ps", shade=True)
    cap = [(-0.2, -0.8), (0.02, -0.38), (-0.08, -0.3), (-0.2, -0.42), (-0.3, -0.28), (-0.43, -0.36)]
    p.poly(cap, "l")
    if p.line:
        p.stroke([(-1.05, 0.75), (1.05, 0.75)], "d", 0.02)


def sun(p: Pen, rng: random.Random) -> None:
    n = 12
    for i in range(n):
        a = 2 * math.pi * i / n
        tip, half = 0.98, math.pi / n * 0.45
        pts = [
            (0.62 * math.cos(a - half), 0.62 * math.sin(a - half)),
            (tip * math.cos(a), tip * math.sin(a)),
            (0.62 * math.cos(a + half), 0.62 * math.sin(a + half)),
        ]
        if p.line:
            p.stroke([(0.66 * math.cos(a), 0.66 * math.sin(a)), pts[1]], "h", 0.04)
        else:
            p.poly(pts, "h")
    p.ellipse(0, 0, 0.55, 0.55, "h")
    p.ellipse(0.08, 0.08, 0.47, 0.47, "hs", shade=True)
    p.ellipse(-0.04, -0.04, 0.45, 0.45, "h", shade=True)


def _crescent() -> list[Point]:
    a0, a1 = math.radians(-70), math.radians(-290)
    outer = [
        (0.9 * math.cos(a0 + (a1 - a0) * i / 30), 0.9 * math.sin(a0 + (a1 - a0) * i / 30))
        for i in range(31)
    ]
    ex, ey = outer[-1]
    inner = []
    for i in range(1, 30):
        t = i / 30
        inner.append((ex - 0.62 * math.sin(math.pi * t), ey - 2 * ey * t))
    return outer + inner


def moon(p: Pen, rng: random.Random) -> None:
    p.poly(_crescent(), "h")
    for x, y, r in ((-0.55, -0.1, 0.1), (-0.4, 0.35, 0.07), (-0.62, 0.3, 0.05)):
        p.ellipse(x, y, r, r, "hs", shade=True)


def wave(p: Pen, rng: random.Random) -> None:
    """Seigaiha: overlapping fans of concentric arcs, the classic wave mark."""
    fans = [(-0.5, 0.15), (0.5, 0.15), (0.0, 0.55), (-1.0, 0.55), (1.0, 0.55)]
    rings = [(0.5, "p"), (0.4, "l"), (0.31, "s"), (0.22, "l"), (0.13, "p")]
    for fx, fy in fans:
        for rr, role in rings:
            # Half discs, clipped to the unit box so the outer fans do not spill.
            pts = [
                (max(-1.0, min(1.0, fx + rr * math.cos(a))), fy + rr * math.sin(a))
                for a in (math.pi + math.pi * i / 24 for i in range(25))
            ]
            p.poly(pts, role)


def pine(p: Pen, rng: random.Random) -> None:
    p.rect(-0.08, 0.6, 0.08, 0.95, "d")
    tiers = [(0.7, 0.58, -0.05), (0.55, 0.2, -0.4), (0.4, -0.15, -0.9)]
    for half, base, top in tiers:
        p.poly([(-half, base), (0, top), (half, base)], "p")
        p.poly([(0, top), (half, base), (0, base)], "ps", shade=True)


def tree(p: Pen, rng: random.Random) -> None:
    p.poly([(-0.08, 0.95), (-0.05, 0.1), (0.05, 0.1), (0.1, 0.95)], "d")
    p.stroke([(0.0, 0.35), (0.25, 0.1)], "d", 0.05)
    for x, y, r in ((-0.35, -0.05, 0.4), (0.35, -0.05, 0.4), (0.0, -0.45, 0.5)):
        p.ellipse(x, y, r, r, "p")
    p.ellipse(0.3, 0.0, 0.3, 0.3, "ps", shade=True)
    p.ellipse(-0.15, -0.55, 0.15, 0.15, "l", shade=True)


def palm(p: Pen, rng: random.Random) -> None:
    trunk = [(0.1 + 0.18 * (t / 10) ** 2, 0.95 - 1.3 * t / 10) for t in range(11)]
    p.stroke(trunk, "d", 0.09)
    tx, ty = trunk[-1]
    for ang in (-2.7, -2.1, -1.5, -0.9, -0.35, 0.3):
        pts, back = [], []
        for i in range(9):
            t = i / 8
            ax = tx + 0.75 * t * math.cos(ang)
            ay = ty + 0.75 * t * math.sin(ang) + 0.35 * t * t
            w = 0.1 * math.sin(math.pi * t)
            pts.append((ax - w * math.sin(ang), ay + w * math.cos(ang)))
            back.append((ax + w * math.sin(ang), ay - w * math.cos(ang)))
        p.poly(pts + back[::-1], "g")
    p.ellipse(tx, ty + 0.05, 0.07, 0.07, "a")


def cactus(p: Pen, rng: random.Random) -> None:
    def bar(x0: float, y0: float, x1: float, y1: float, role: str) -> None:
        r = min(x1 - x0, y1 - y0) / 2
        pts = arc_pts(x0 + r, y0 + r, r, math.pi, 1.5 * math.pi, 8) + arc_pts(
            x1 - r, y0 + r, r, 1.5 * math.pi, 2 * math.pi, 8
        )
        pts += [(x1, y1), (x0, y1)]
        p.poly(pts, role)

    bar(-0.72, -0.3, -0.48, 0.25, "p")
    bar(-0.72, 0.05, -0.1, 0.3, "p")
    bar(0.48, -0.5, 0.72, 0.05, "p")
    bar(0.1, -0.18, 0.72, 0.07, "p")
    bar(-0.22, -0.85, 0.22, 0.62, "p")
    p.rect(0.02, -0.6, 0.22, 0.62, "ps", shade=True)
    if not p.line:
        for x in (-0.1, 0.1):
            p.stroke([(x, -0.6), (x, 0.55)], "ps", 0.02)
    p.poly([(-0.45, 0.55), (0.45, 0.55), (0.35, 0.98), (-0.35, 0.98)], "a")
    p.rect(-0.5, 0.5, 0.5, 0.64, "as")
    p.ellipse(0.0, -0.88, 0.1, 0.07, "a")


def flower(p: Pen, rng: random.Random) -> None:
    p.stroke([(0.0, 0.2), (0.02, 0.95)], "g", 0.05)
    p.poly(ellipse_pts(0.22, 0.62, 0.22, 0.08, -0.5), "g")
    p.poly(ellipse_pts(-0.2, 0.72, 0.2, 0.07, 0.5), "g")
    n = 8
    for i in range(n):
        a = 2 * math.pi * i / n
        p.poly(ellipse_pts(0.32 * math.cos(a), -0.2 + 0.32 * math.sin(a), 0.3, 0.14, a, 20), "p")
    for i in range(n):
        a = 2 * math.pi * (i + 0.5) / n
        p.poly(
            ellipse_pts(0.2 * math.cos(a), -0.2 + 0.2 * math.sin(a), 0.2, 0.1, a, 16),
            "ps",
            shade=True,
        )
    p.ellipse(0, -0.2, 0.17, 0.17, "a")


def _heart_pts(s: float = 0.9, dy: float = 0.0) -> list[Point]:
    pts = []
    for i in range(48):
        t = 2 * math.pi * i / 48
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((x / 17 * s, -y / 17 * s + dy))
    return pts


def heart(p: Pen, rng: random.Random) -> None:
    p.poly(_heart_pts(0.95, 0.05), "p")
    p.poly([(x, y) for x, y in _heart_pts(0.95, 0.05) if x >= 0] + [(0, 0.9)], "ps", shade=True)
    p.poly(ellipse_pts(-0.45, -0.35, 0.16, 0.08, -0.7), "l", shade=True)


def star(p: Pen, rng: random.Random) -> None:
    pts = star_pts(0, 0.05, 0.98, 0.45)
    p.poly(pts, "h")
    if not p.line:
        for i in range(0, 10, 2):
            p.poly([(0, 0.05), pts[i], pts[(i + 1) % 10]], "hs")


def cat(p: Pen, rng: random.Random) -> None:
    tail = [(0.3 + 0.42 * math.sin(t / 10 * 2.2), 0.9 - 0.75 * t / 10) for t in range(11)]
    p.stroke(tail, "p", 0.14)
    p.poly([*ellipse_pts(0.0, 0.45, 0.5, 0.5, 0, 40)[10:31], (-0.45, 0.95), (0.45, 0.95)], "p")
    p.ellipse(0.0, 0.45, 0.48, 0.5, "p")
    p.ellipse(0.0, -0.35, 0.4, 0.36, "p")
    p.poly([(-0.38, -0.45), (-0.34, -0.95), (-0.08, -0.66)], "p")
    p.poly([(0.38, -0.45), (0.34, -0.95), (0.08, -0.66)], "p")
    p.poly([(-0.33, -0.55), (-0.31, -0.82), (-0.15, -0.64)], "a", shade=True)
    p.poly([(0.33, -0.55), (0.31, -0.82), (0.15, -0.64)], "a", shade=True)
    for x in (-0.16, 0.16):
        p.poly(ellipse_pts(x, -0.38, 0.08, 0.1), "l")
        p.poly(ellipse_pts(x, -0.38, 0.025, 0.08), "d")
    p.poly([(-0.05, -0.23), (0.05, -0.23), (0.0, -0.18)], "a")
    if not p.line:
        for s in (-1, 1):
            p.stroke([(s * 0.12, -0.2), (s * 0.5, -0.25)], "l", 0.012)
            p.stroke([(s * 0.12, -0.17), (s * 0.48, -0.12)], "l", 0.012)


def coffee(p: Pen, rng: random.Random) -> None:
    p.ellipse(0.0, 0.82, 0.85, 0.13, "s")
    p.ring(0.55, 0.22, 0.25, 0.22, 0.11, "p")
    body = (
        [(-0.65, -0.2), (0.65, -0.2), (0.62, 0.3)]
        + [
            (0.62 * math.cos(a), 0.3 + 0.48 * math.sin(a))
            for a in (i * math.pi / 16 for i in range(17))
        ]
        + [(-0.62, 0.3)]
    )
    p.poly(body, "p")
    p.poly([(0.3, -0.2), (0.65, -0.2), (0.62, 0.3), (0.4, 0.7), (0.3, 0.72)], "ps", shade=True)
    p.ellipse(0.0, -0.2, 0.65, 0.1, "ps")
    p.ellipse(0.0, -0.19, 0.56, 0.07, "d")
    for x in (-0.25, 0.0, 0.25):
        p.stroke([(x + 0.06 * math.sin(t), -0.35 - t * 0.1) for t in range(6)], "ls", 0.04)
    p.poly(_heart_pts(0.18, 0.25), "l")


def cabin(p: Pen, rng: random.Random) -> None:
    p.rect(0.35, -0.75, 0.52, -0.25, "d")
    p.rect(-0.7, -0.1, 0.7, 0.85, "p")
    if not p.line:
        for i in range(1, 7):
            y = -0.1 + 0.95 * i / 7
            p.stroke([(-0.68, y), (0.68, y)], "ps", 0.015)
    p.poly([(-0.92, 0.0), (0.0, -0.78), (0.92, 0.0)], "s")
    p.poly([(0.0, -0.78), (0.92, 0.0), (0.0, 0.0)], "ss", shade=True)
    p.rect(-0.15, 0.3, 0.15, 0.85, "d")
    for x in (-0.5, 0.33):
        p.rect(x, 0.2, x + 0.2, 0.45, "a")
        p.stroke([(x + 0.1, 0.2), (x + 0.1, 0.45)], "d", 0.02)


def planet(p: Pen, rng: random.Random) -> None:
    ring = ellipse_pts(0, 0, 0.98, 0.26, -0.35, 48)
    back = [pt for pt in ring if (pt[1] + pt[0] * math.tan(0.35)) < 0]
    front = [pt for pt in ring if (pt[1] + pt[0] * math.tan(0.35)) >= 0]
    p.stroke(back, "a", 0.07)
    p.ellipse(0, 0, 0.58, 0.58, "p")
    p.poly([*arc_pts(0, 0, 0.58, -0.4, math.pi * 0.85, 24), (0.1, 0.1)], "ps", shade=True)
    p.poly(ellipse_pts(-0.18, -0.18, 0.22, 0.07, -0.35), "s", shade=True)
    p.poly(ellipse_pts(0.05, 0.2, 0.3, 0.06, -0.35), "s", shade=True)
    front.sort(key=lambda pt: pt[0])
    p.stroke(front, "a", 0.07)


def lightning(p: Pen, rng: random.Random) -> None:
    pts = [
        (0.15, -0.98),
        (-0.55, 0.12),
        (-0.05, 0.12),
        (-0.25, 0.98),
        (0.55, -0.2),
        (0.05, -0.2),
        (0.35, -0.98),
    ]
    p.poly(pts, "h")
    p.poly(
        [(0.15, -0.98), (0.35, -0.98), (0.05, -0.2), (0.55, -0.2), (-0.25, 0.98), (-0.05, 0.12)],
        "hs",
        shade=True,
    )


def leaf(p: Pen, rng: random.Random) -> None:
    left = [
        (-0.75 + 1.5 * t / 16, 0.75 - 1.5 * t / 16 - 0.45 * math.sin(math.pi * t / 16))
        for t in range(17)
    ]
    right = [
        (-0.75 + 1.5 * t / 16, 0.75 - 1.5 * t / 16 + 0.45 * math.sin(math.pi * t / 16))
        for t in range(17)
    ]
    p.poly(left + right[::-1], "g")
    p.poly(right, "gs", shade=True)
    p.stroke([(-0.95, 0.95), (0.6, -0.6)], "l" if not p.line else "d", 0.03)
    for t in (0.25, 0.45, 0.65):
        x, y = -0.75 + 1.5 * t, 0.75 - 1.5 * t
        p.stroke([(x, y), (x - 0.02, y - 0.28)], "l", 0.02)
        p.stroke([(x, y), (x + 0.28, y + 0.02)], "l", 0.02)


def rocket(p: Pen, rng: random.Random) -> None:
    p.poly([(-0.12, 0.6), (0.0, 1.0), (0.12, 0.6)], "a")
    p.poly([(-0.07, 0.6), (0.0, 0.82), (0.07, 0.6)], "l")
    p.poly([(-0.25, 0.2), (-0.55, 0.55), (-0.5, 0.75), (-0.2, 0.55)], "s")
    p.poly([(0.25, 0.2), (0.55, 0.55), (0.5, 0.75), (0.2, 0.55)], "s")
    body = [(0.0, -0.98)] + [
        (0.28 * math.sin(math.pi * t / 20) ** 0.7, -0.98 + 1.6 * t / 20) for t in range(1, 21)
    ]
    body += [(-x, y) for x, y in body[::-1][:-1]]
    p.poly(body, "l")
    p.poly([(0.0, -0.98)] + [pt for pt in body if pt[0] > 0.05] + [(0.05, 0.62)], "ls", shade=True)
    p.poly([(x, y) for x, y in body if y < -0.55], "p")
    p.ellipse(0, -0.15, 0.14, 0.14, "s")
    p.ellipse(0, -0.15, 0.09, 0.09, "a")
    p.rect(-0.05, 0.2, 0.05, 0.62, "s")


def cloud(p: Pen, rng: random.Random) -> None:
    puffs = ((-0.5, 0.2, 0.3), (-0.05, -0.1, 0.45), (0.5, 0.15, 0.35))
    if p.line:
        pts = arc_pts(-0.5, 0.2, 0.3, math.pi * 0.5, math.pi * 1.35, 10)
        pts += arc_pts(-0.05, -0.1, 0.45, math.pi * 1.1, math.pi * 1.9, 14)
        pts += arc_pts(0.5, 0.15, 0.35, math.pi * 1.4, math.pi * 2.5, 12)
        p.poly(pts, "l")
        return
    for x, y, r in puffs:
        p.ellipse(x, y, r, r, "s")
    p.rect(-0.5, 0.2, 0.5, 0.5, "s")
    for x, y, r in puffs:  # a lit top edge on each puff
        p.ellipse(x - r * 0.12, y - r * 0.12, r * 0.78, r * 0.78, "l", shade=True)
    p.rect(-0.5, 0.36, 0.5, 0.5, "ss", shade=True)


def drop(p: Pen, rng: random.Random) -> None:
    pts = [(0, -0.95)] + [
        (0.55 * math.cos(a), 0.35 + 0.55 * math.sin(a))
        for a in (math.radians(-25 + 230 * i / 30) for i in range(31))
    ]
    p.poly(pts, "s")
    p.poly(ellipse_pts(-0.22, 0.35, 0.07, 0.2, 0.3), "l", shade=True)


def fish(p: Pen, rng: random.Random) -> None:
    p.poly([(0.45, 0.0), (0.95, -0.42), (0.85, 0.0), (0.95, 0.42)], "a")
    body = [(-0.85, 0.0)] + [
        (-0.85 + 1.4 * t / 20, -0.5 * math.sin(math.pi * t / 20) ** 0.8) for t in range(1, 20)
    ]
    body += [(0.55, 0.0)] + [(x, -y) for x, y in body[:0:-1]]
    p.poly(body, "p")
    p.poly([(-0.1, -0.45), (0.15, -0.72), (0.3, -0.35)], "a")
    p.poly([x for x in body if x[1] > 0] + [(0.55, 0.0)], "ps", shade=True)
    p.ellipse(-0.5, -0.08, 0.08, 0.08, "l")
    p.ellipse(-0.5, -0.08, 0.04, 0.04, "d")
    p.stroke(arc_pts(-0.35, 0.0, 0.25, -0.8, 0.8, 8), "ps", 0.025)


def bird(p: Pen, rng: random.Random) -> None:
    p.poly([(0.35, 0.15), (0.95, 0.0), (0.85, 0.3)], "s")
    p.poly(ellipse_pts(0.0, 0.15, 0.5, 0.33), "p")
    p.ellipse(-0.45, -0.18, 0.28, 0.28, "p")
    p.poly([(-0.7, -0.25), (-0.95, -0.12), (-0.68, -0.1)], "a")
    p.poly([(-0.2, 0.05), (0.4, -0.75), (0.45, -0.1)], "s")
    p.poly(ellipse_pts(-0.1, 0.3, 0.35, 0.15, 0.1), "l", shade=True)
    p.ellipse(-0.5, -0.24, 0.05, 0.05, "d")
    p.stroke([(-0.1, 0.45), (-0.15, 0.75)], "d", 0.03)
    p.stroke([(0.1, 0.45), (0.08, 0.75)], "d", 0.03)


def mushroom(p: Pen, rng: random.Random) -> None:
    p.poly([(-0.22, 0.0), (0.22, 0.0), (0.3, 0.9), (-0.3, 0.9)], "l")
    p.poly([(0.08, 0.0), (0.22, 0.0), (0.3, 0.9), (0.12, 0.9)], "ls", shade=True)
    cap = arc_pts(0, 0.05, 0.9, math.pi, 2 * math.pi, 30)
    p.poly([(x, 0.05 + (y - 0.05) * 0.95) for x, y in cap], "a")
    for x, y, r in (
        (-0.45, -0.2, 0.12),
        (0.0, -0.55, 0.14),
        (0.45, -0.25, 0.1),
        (0.15, -0.15, 0.07),
    ):
        p.ellipse(x, y, r, r * 0.85, "l")


def gem(p: Pen, rng: random.Random) -> None:
    top = [(-0.9, -0.25), (-0.5, -0.7), (0.5, -0.7), (0.9, -0.25)]
    p.poly([*top, (0.0, 0.9)], "s")
    p.poly([(-0.5, -0.7), (-0.2, -0.25), (0.2, -0.25), (0.5, -0.7)], "l", shade=True)
    p.poly([(-0.9, -0.25), (0.0, 0.9), (-0.2, -0.25)], "ss", shade=True)
    p.poly([(0.2, -0.25), (0.0, 0.9), (0.9, -0.25)], "ls", shade=True)
    if p.line:
        p.stroke([(-0.9, -0.25), (0.9, -0.25)], "d", 0.02)
        p.stroke([(-0.5, -0.7), (-0.2, -0.25), (0.0, 0.9), (0.2, -0.25), (0.5, -0.7)], "d", 0.02)


def crown(p: Pen, rng: random.Random) -> None:
    pts = [
        (-0.85, 0.55),
        (-0.95, -0.5),
        (-0.45, -0.05),
        (0.0, -0.75),
        (0.45, -0.05),
        (0.95, -0.5),
        (0.85, 0.55),
    ]
    p.poly(pts, "h")
    p.poly([(0.0, -0.75), (0.45, -0.05), (0.95, -0.5), (0.85, 0.55), (0.0, 0.55)], "hs", shade=True)
    p.rect(-0.88, 0.5, 0.88, 0.75, "hs")
    for x, y in ((-0.95, -0.55), (0.0, -0.8), (0.95, -0.55)):
        p.ellipse(x, y, 0.09, 0.09, "p")
    for x in (-0.45, 0.0, 0.45):
        p.ellipse(x, 0.25, 0.09, 0.11, "s")


def anchor(p: Pen, rng: random.Random) -> None:
    p.stroke([(0, -0.55), (0, 0.85)], "p", 0.12)
    p.stroke([(-0.4, -0.35), (0.4, -0.35)], "p", 0.1)
    p.stroke(arc_pts(0, 0.15, 0.72, 0.15 * math.pi, 0.85 * math.pi, 20), "p", 0.12)
    p.poly([(-0.85, 0.15), (-0.55, 0.3), (-0.8, 0.45)], "p")
    p.poly([(0.85, 0.15), (0.55, 0.3), (0.8, 0.45)], "p")
    p.ring(0, -0.75, 0.2, 0.2, 0.1, "p")


def eye(p: Pen, rng: random.Random) -> None:
    top = arc_pts(0, 0.9, 1.25, math.radians(-135), math.radians(-45), 20)
    bottom = arc_pts(0, -0.9, 1.25, math.radians(45), math.radians(135), 20)
    p.poly(top + bottom, "l")
    p.ellipse(0, 0, 0.36, 0.36, "s")
    p.ellipse(0, 0, 0.17, 0.17, "d")
    p.ellipse(-0.1, -0.1, 0.06, 0.06, "l")
    for i in range(5):
        a = math.radians(-130 + i * 20)
        x, y = 1.25 * math.cos(a), 0.9 + 1.25 * math.sin(a)
        p.stroke([(x, y), (x * 1.1, y - 0.15)], "d", 0.035)


def note(p: Pen, rng: random.Random) -> None:
    for x in (-0.55, 0.35):
        p.poly(ellipse_pts(x, 0.6, 0.25, 0.18, -0.4), "p")
        p.stroke([(x + 0.22, 0.55), (x + 0.22, -0.65)], "p", 0.08)
    p.poly([(-0.37, -0.65), (0.61, -0.9), (0.61, -0.65), (-0.37, -0.4)], "p")


def paw(p: Pen, rng: random.Random) -> None:
    p.poly(
        [
            (0.0, 0.05),
            (0.45, 0.3),
            (0.55, 0.65),
            (0.3, 0.85),
            (0.0, 0.75),
            (-0.3, 0.85),
            (-0.55, 0.65),
            (-0.45, 0.3),
        ],
        "p",
    )
    for x, y, a in (
        (-0.7, -0.05, 0.5),
        (-0.27, -0.45, 0.15),
        (0.27, -0.45, -0.15),
        (0.7, -0.05, -0.5),
    ):
        p.poly(ellipse_pts(x, y, 0.17, 0.24, a), "p")


def snowflake(p: Pen, rng: random.Random) -> None:
    for i in range(6):
        a = math.pi * i / 3 - math.pi / 2
        ca, sa = math.cos(a), math.sin(a)
        p.stroke([(0, 0), (0.95 * ca, 0.95 * sa)], "s", 0.07)
        for d in (0.45, 0.7):
            bx, by = d * ca, d * sa
            for s in (-1, 1):
                b = a + s * math.pi / 4
                p.stroke([(bx, by), (bx + 0.25 * math.cos(b), by + 0.25 * math.sin(b))], "s", 0.06)
    p.poly(star_pts(0, 0, 0.2, 0.55, 6), "l")


def smooth(pts: Sequence[Point], iterations: int = 2) -> list[Point]:
    """Chaikin corner cutting on a closed outline: hand-placed points become flowing curves."""
    out = list(pts)
    for _ in range(iterations):
        nxt: list[Point] = []
        for i, (x0, y0) in enumerate(out):
            x1, y1 = out[(i + 1) % len(out)]
            nxt += [
                (0.75 * x0 + 0.25 * x1, 0.75 * y0 + 0.25 * y1),
                (0.25 * x0 + 0.75 * x1, 0.25 * y0 + 0.75 * y1),
            ]
        out = nxt
    return out


FLAME = [
    (0.0, -1.0),
    (0.2, -0.62),
    (0.38, -0.38),
    (0.52, -0.66),
    (0.66, -0.22),
    (0.66, 0.22),
    (0.52, 0.58),
    (0.26, 0.8),
    (0.0, 0.86),
    (-0.26, 0.8),
    (-0.52, 0.58),
    (-0.66, 0.22),
    (-0.62, -0.18),
    (-0.46, -0.46),
    (-0.38, -0.18),
    (-0.22, -0.55),
]


def flame(p: Pen, rng: random.Random) -> None:
    def scaled(k: float) -> list[Point]:
        return smooth([(x * k, 0.86 - (0.86 - y) * k) for x, y in FLAME])

    p.poly(scaled(1.0), "h")
    p.poly(scaled(0.66), "p")
    p.poly(scaled(0.34), "l")


def skull(p: Pen, rng: random.Random) -> None:
    p.rect(-0.35, 0.35, 0.35, 0.85, "l")
    p.ellipse(0, -0.15, 0.72, 0.68, "l")
    # Shade: a crescent along the right of the cranium, and the right of the jaw.
    outer = [
        (0.72 * math.cos(t), -0.15 + 0.68 * math.sin(t))
        for t in (math.radians(-75 + 150 * i / 20) for i in range(21))
    ]
    inner = [
        (0.1 + 0.58 * math.cos(t), -0.15 + 0.6 * math.sin(t))
        for t in (math.radians(75 - 150 * i / 20) for i in range(21))
    ]
    p.poly(outer + inner, "ls", shade=True)
    p.rect(0.15, 0.45, 0.35, 0.85, "ls", shade=True)
    for x in (-0.3, 0.3):
        p.ellipse(x, 0.0, 0.2, 0.19, "d")
    p.poly([(0, 0.22), (-0.1, 0.42), (0.1, 0.42)], "d")
    for x in (-0.2, 0.0, 0.2):
        p.stroke([(x, 0.62), (x, 0.85)], "d", 0.035)


def abstract(p: Pen, rng: random.Random) -> None:
    """Bauhaus-style geometry: the fallback when the prompt names no drawable subject."""
    p.rect(-0.9, -0.9, 0.1, 0.1, "s")
    p.poly([*arc_pts(0.1, 0.1, 0.8, math.pi, 1.5 * math.pi, 20), (0.1, 0.1)], "p")
    p.ellipse(0.45, -0.45, 0.4, 0.4, "a")
    p.poly([(-0.9, 0.9), (0.1, 0.9), (-0.4, 0.2)], "d")
    p.poly([*arc_pts(0.5, 0.9, 0.45, math.pi, 2 * math.pi, 20)], "p")
    p.ellipse(-0.4, -0.4, 0.15, 0.15, "l")
    if not p.line:
        for i in range(4):
            y = 0.2 + i * 0.09
            p.stroke([(0.15, y), (0.9, y)], "s", 0.03)


SUBJECTS: dict[str, Callable[[Pen, random.Random], None]] = {
    "mountain": mountain,
    "sun": sun,
    "moon": moon,
    "wave": wave,
    "pine": pine,
    "tree": tree,
    "palm": palm,
    "cactus": cactus,
    "flower": flower,
    "heart": heart,
    "star": star,
    "cat": cat,
    "coffee": coffee,
    "cabin": cabin,
    "planet": planet,
    "lightning": lightning,
    "leaf": leaf,
    "rocket": rocket,
    "cloud": cloud,
    "drop": drop,
    "fish": fish,
    "bird": bird,
    "mushroom": mushroom,
    "gem": gem,
    "crown": crown,
    "anchor": anchor,
    "eye": eye,
    "note": note,
    "paw": paw,
    "snowflake": snowflake,
    "flame": flame,
    "skull": skull,
    "abstract": abstract,
}
# Where a subject sits in a landscape scene.
SKY_SUBJECTS = frozenset(
    {"sun", "moon", "planet", "star", "cloud", "bird", "rocket", "lightning", "snowflake"}
)
GROUND_SUBJECTS = frozenset(
    {"pine", "tree", "palm", "cactus", "cabin", "mushroom", "flower", "cat"}
)
# The palette role that covers most of each subject (compositions keep backdrops away from it).
MAIN_ROLE = {
    "sun": "h",
    "star": "h",
    "lightning": "h",
    "crown": "h",
    "flame": "h",
    "moon": "h",
    "cloud": "s",
    "rocket": "l",
    "skull": "l",
    "eye": "l",
    "mushroom": "a",
    "drop": "s",
    "gem": "s",
    "snowflake": "s",
    "leaf": "g",
    "palm": "g",
}

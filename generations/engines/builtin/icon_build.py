"""Build `data/icons.npz` (the drawn-subject vocabulary) from the Fluent Emoji Flat SVGs.

Run once when the icon set is updated, not at run time; the output is committed:

    npm pack @iconify-json/fluent-emoji-flat emojilib   # in a scratch directory, then untar both
    python -m generations.engines.builtin.icon_build <fluent-emoji-flat dir> <emojilib dir>

The SVGs are parsed here (paths, circles, ellipses, rects, groups with transforms, `<use>`,
gradient fills taken as their mean stop colour), every curve and arc is flattened to a polyline
within 1/50 of a unit of the 32-unit box, and the points are stored as int16 in 1/64 units. What
is left is plain numbers: the renderer (`icons.py`) needs no SVG library. Keywords come from
emojilib (MIT), names and categories from the icon set. Skin-tone variants are dropped (the
default tone stays). Licences: `LICENSES/`.
"""

from __future__ import annotations

import json
import math
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")

SCALE = 64  # stored units per icon unit (the box is 32 units)
TOL = 0.02  # flattening tolerance in icon units
TONES = ("-dark", "-light", "-medium", "-medium-dark", "-medium-light")
OUT = Path(__file__).parent / "data" / "icons.npz"

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
NUMBER = re.compile(r"[-+]?(?:\d*\.\d+|\d+\.?)(?:[eE][-+]?\d+)?")


def _mul(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + c * b2,
        b * a2 + d * b2,
        a * c2 + c * d2,
        b * c2 + d * d2,
        a * e2 + c * f2 + e,
        b * e2 + d * f2 + f,
    )


def parse_transform(text: str) -> Matrix:
    m = IDENTITY
    for name, args in re.findall(r"(\w+)\s*\(([^)]*)\)", text or ""):
        v = [float(x) for x in NUMBER.findall(args)]
        if name == "matrix":
            t = tuple(v[:6])
        elif name == "translate":
            t = (1, 0, 0, 1, v[0], v[1] if len(v) > 1 else 0)
        elif name == "scale":
            t = (v[0], 0, 0, v[1] if len(v) > 1 else v[0], 0, 0)
        elif name == "rotate":
            a = math.radians(v[0])
            cx, cy = (v[1], v[2]) if len(v) > 2 else (0, 0)
            ca, sa = math.cos(a), math.sin(a)
            t = (ca, sa, -sa, ca, cx - ca * cx + sa * cy, cy - sa * cx - ca * cy)
        else:
            raise ValueError(f"transform {name}")
        m = _mul(m, t)  # type: ignore[arg-type]
    return m


class _Cursor:
    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0

    def skip(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n,":
            self.i += 1

    def command(self) -> str | None:
        self.skip()
        if self.i < len(self.s) and self.s[self.i].isalpha():
            self.i += 1
            return self.s[self.i - 1]
        return None

    def more(self) -> bool:
        self.skip()
        return self.i < len(self.s) and not self.s[self.i].isalpha()

    def number(self) -> float:
        self.skip()
        m = NUMBER.match(self.s, self.i)
        if not m:
            raise ValueError(f"number expected at {self.s[self.i : self.i + 12]!r}")
        self.i = m.end()
        return float(m.group())

    def flag(self) -> bool:
        self.skip()
        ch = self.s[self.i]
        self.i += 1
        return ch == "1"


def _cubic(p0, p1, p2, p3) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    dd = max(
        math.hypot(p0[0] - 2 * p1[0] + p2[0], p0[1] - 2 * p1[1] + p2[1]),
        math.hypot(p1[0] - 2 * p2[0] + p3[0], p1[1] - 2 * p2[1] + p3[1]),
    )
    n = max(1, math.ceil(math.sqrt(0.75 * dd / TOL)))
    out = []
    for k in range(1, n + 1):
        t = k / n
        u = 1 - t
        out.append(
            (
                u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
                u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
            )
        )
    return out


def _arc(p0, rx, ry, phi, large, sweep, p1) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    """SVG's endpoint arc as a polyline (the spec's centre parameterisation, F.6.5)."""
    if rx == 0 or ry == 0 or p0 == p1:
        return [p1]
    rx, ry = abs(rx), abs(ry)
    cp, sp = math.cos(math.radians(phi)), math.sin(math.radians(phi))
    dx, dy = (p0[0] - p1[0]) / 2, (p0[1] - p1[1]) / 2
    x1, y1 = cp * dx + sp * dy, -sp * dx + cp * dy
    lam = x1 * x1 / (rx * rx) + y1 * y1 / (ry * ry)
    if lam > 1:
        rx, ry = rx * math.sqrt(lam), ry * math.sqrt(lam)
    num = rx * rx * ry * ry - rx * rx * y1 * y1 - ry * ry * x1 * x1
    den = rx * rx * y1 * y1 + ry * ry * x1 * x1
    co = math.sqrt(max(0.0, num / den)) if den else 0.0
    if large == sweep:
        co = -co
    cxp, cyp = co * rx * y1 / ry, -co * ry * x1 / rx
    cx = cp * cxp - sp * cyp + (p0[0] + p1[0]) / 2
    cy = sp * cxp + cp * cyp + (p0[1] + p1[1]) / 2

    def ang(ux: float, uy: float, vx: float, vy: float) -> float:
        a = math.atan2(ux * vy - uy * vx, ux * vx + uy * vy)
        return a

    t1 = ang(1, 0, (x1 - cxp) / rx, (y1 - cyp) / ry)
    dt = ang((x1 - cxp) / rx, (y1 - cyp) / ry, (-x1 - cxp) / rx, (-y1 - cyp) / ry)
    if not sweep and dt > 0:
        dt -= 2 * math.pi
    elif sweep and dt < 0:
        dt += 2 * math.pi
    r = max(rx, ry)
    n = max(2, math.ceil(abs(dt) / (2 * math.acos(max(-1.0, 1 - TOL / max(r, TOL))))))
    out = []
    for k in range(1, n + 1):
        t = t1 + dt * k / n
        x, y = rx * math.cos(t), ry * math.sin(t)
        out.append((cp * x - sp * y + cx, sp * x + cp * y + cy))
    out[-1] = p1
    return out


def parse_path(d: str) -> list[list[tuple[float, float]]]:
    """Subpaths of an SVG path as flattened polylines (closed or not, fill treats all as closed)."""
    cur = _Cursor(d)
    subs: list[list[tuple[float, float]]] = []
    pts: list[tuple[float, float]] = []
    x = y = sx = sy = 0.0
    last_ctrl: tuple[float, float] | None = None
    last_cmd = ""
    cmd = cur.command()
    while cmd:
        rel = cmd.islower()
        c = cmd.upper()
        while True:
            ox, oy = (x, y) if rel else (0.0, 0.0)
            if c == "M":
                if len(pts) > 1:
                    subs.append(pts)
                x, y = cur.number() + ox, cur.number() + oy
                sx, sy = x, y
                pts = [(x, y)]
                c = "L"  # further pairs are line-tos
            elif c == "L":
                x, y = cur.number() + ox, cur.number() + oy
                pts.append((x, y))
            elif c == "H":
                x = cur.number() + ox
                pts.append((x, y))
            elif c == "V":
                y = cur.number() + oy
                pts.append((x, y))
            elif c in "CS":
                if c == "C":
                    c1 = (cur.number() + ox, cur.number() + oy)
                else:
                    c1 = (
                        (2 * x - last_ctrl[0], 2 * y - last_ctrl[1])
                        if last_ctrl and last_cmd in "CS"
                        else (x, y)
                    )
                c2 = (cur.number() + ox, cur.number() + oy)
                end = (cur.number() + ox, cur.number() + oy)
                pts += _cubic((x, y), c1, c2, end)
                last_ctrl = c2
                x, y = end
            elif c in "QT":
                if c == "Q":
                    q = (cur.number() + ox, cur.number() + oy)
                else:
                    q = (
                        (2 * x - last_ctrl[0], 2 * y - last_ctrl[1])
                        if last_ctrl and last_cmd in "QT"
                        else (x, y)
                    )
                end = (cur.number() + ox, cur.number() + oy)
                c1 = (x + 2 / 3 * (q[0] - x), y + 2 / 3 * (q[1] - y))
                c2 = (end[0] + 2 / 3 * (q[0] - end[0]), end[1] + 2 / 3 * (q[1] - end[1]))
                pts += _cubic((x, y), c1, c2, end)
                last_ctrl = q
                x, y = end
            elif c == "A":
                rx, ry, phi = cur.number(), cur.number(), cur.number()
                large, sweep = cur.flag(), cur.flag()
                end = (cur.number() + ox, cur.number() + oy)
                pts += _arc((x, y), rx, ry, phi, large, sweep, end)
                x, y = end
            elif c == "Z":
                if len(pts) > 1:
                    subs.append(pts)
                pts = [(sx, sy)]
                x, y = sx, sy
            else:
                raise ValueError(f"path command {cmd}")
            if c not in "CSQT":
                last_ctrl = None
            last_cmd = c
            if c == "Z" or not cur.more():
                break
        cmd = cur.command()
    if len(pts) > 1:
        subs.append(pts)
    return subs


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> list[tuple[float, float]]:
    n = max(12, math.ceil(2 * math.pi / (2 * math.acos(max(-1.0, 1 - TOL / max(rx, ry, TOL))))))
    return [
        (cx + rx * math.cos(2 * math.pi * k / n), cy + ry * math.sin(2 * math.pi * k / n))
        for k in range(n)
    ]


def _colour(value: str, defs: dict[str, ET.Element]) -> tuple[int, int, int] | None:
    value = (value or "").strip()
    if not value or value == "none":
        return None
    if value.startswith("url("):
        grad = defs.get(value[5:-1])
        stops = (
            [s.get("stop-color", "#000") for s in grad.iter() if s.tag == "stop"] if grad else []
        )
        cols = [c for c in (_colour(s, defs) for s in stops) if c]
        if not cols:
            return None
        return tuple(round(sum(c[i] for c in cols) / len(cols)) for i in range(3))  # type: ignore[return-value]
    if value == "white" or value == "#fff":
        return (255, 255, 255)
    if value == "black":
        return (0, 0, 0)
    if value.startswith("#"):
        h = value[1:]
        if len(h) == 3:
            h = "".join(ch * 2 for ch in h)
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    raise ValueError(f"colour {value}")


def icon_shapes(body: str) -> list[dict]:
    """Shapes in paint order: {rgba, evenodd, stroke (width or 0), subpaths}."""
    # A build-time tool run by a developer on the vendored icon package, never on user input.
    root = ET.fromstring(f'<svg xmlns:xlink="x">{body}</svg>')  # noqa: S314
    defs = {el.get("id"): el for el in root.iter() if el.get("id")}
    shapes: list[dict] = []

    def walk(el: ET.Element, m: Matrix, fill: str, opacity: float, in_defs: bool) -> None:
        tag = el.tag
        if tag in ("defs", "clipPath", "linearGradient", "radialGradient", "filter", "mask"):
            return
        m = _mul(m, parse_transform(el.get("transform", "")))
        fill = el.get("fill", fill)
        opacity *= float(el.get("opacity", 1)) * float(el.get("fill-opacity", 1))
        if tag == "use":
            ref = defs.get((el.get("href") or el.get("{x}href") or "")[1:])
            if ref is not None:
                walk(ref, m, fill, opacity, False)
            return
        subs: list[list[tuple[float, float]]] = []
        if tag == "path":
            subs = parse_path(el.get("d", ""))
        elif tag == "circle":
            r = float(el.get("r", 0))
            subs = [_ellipse(float(el.get("cx", 0)), float(el.get("cy", 0)), r, r)]
        elif tag == "ellipse":
            subs = [
                _ellipse(
                    float(el.get("cx", 0)),
                    float(el.get("cy", 0)),
                    float(el.get("rx", 0)),
                    float(el.get("ry", 0)),
                )
            ]
        elif tag == "rect":
            x0, y0 = float(el.get("x", 0)), float(el.get("y", 0))
            w, h = float(el.get("width", 0)), float(el.get("height", 0))
            rx = float(el.get("rx", el.get("ry", 0)))
            if rx:
                rx = min(rx, w / 2, h / 2)
                subs = [
                    parse_path(
                        f"M{x0 + rx} {y0}H{x0 + w - rx}A{rx} {rx} 0 0 1 {x0 + w} {y0 + rx}"
                        f"V{y0 + h - rx}A{rx} {rx} 0 0 1 {x0 + w - rx} {y0 + h}H{x0 + rx}"
                        f"A{rx} {rx} 0 0 1 {x0} {y0 + h - rx}V{y0 + rx}A{rx} {rx} 0 0 1 {x0 + rx} {y0}Z"
                    )[0]
                ]
            else:
                subs = [[(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)]]
        elif tag in ("g", "svg"):
            for child in el:
                walk(child, m, fill, opacity, in_defs)
            return
        else:
            return
        a, b, c, d, e, f = m
        subs = [[(a * x + c * y + e, b * x + d * y + f) for x, y in sp] for sp in subs]
        stroke = _colour(el.get("stroke", ""), defs)
        colour = _colour(fill, defs) if fill != "none" else None
        if colour and subs:
            shapes.append(
                {
                    "rgba": (*colour, round(255 * opacity)),
                    "evenodd": el.get("fill-rule") == "evenodd",
                    "stroke": 0.0,
                    "subpaths": subs,
                }
            )
        if stroke and subs:
            width = float(el.get("stroke-width", 1)) * math.sqrt(abs(a * d - b * c))
            shapes.append(
                {
                    "rgba": (*stroke, round(255 * opacity)),
                    "evenodd": False,
                    "stroke": width,
                    "subpaths": subs,
                }
            )

    for child in root:
        walk(child, IDENTITY, "#000", 1.0, False)
    return shapes


def winding_fill(subpaths: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """SVG's nonzero rule: sum each subpath's fill signed by its direction (OpenCV fills even-odd)."""
    acc = np.zeros(shape, np.int16)
    one = np.zeros(shape, np.uint8)
    for sp in subpaths:
        if len(sp) < 3:
            continue
        x, y = sp[:, 0].astype(np.float64), sp[:, 1].astype(np.float64)
        area = float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
        one[:] = 0
        cv2.fillPoly(one, [sp.astype(np.int32)], 1)
        acc += one.astype(np.int16) * (1 if area > 0 else -1)
    return acc != 0


def _needs_winding(subpaths: list[list[tuple[float, float]]], evenodd: bool) -> bool:
    """Whether OpenCV's even-odd fill would differ from the nonzero fill SVG asks for."""
    if evenodd or len(subpaths) < 2:
        return False
    k = 8  # 256 px for the 32-unit box: enough to see an overlap
    polys = [np.round(np.asarray(sp) * k).astype(np.int32) for sp in subpaths if len(sp) > 2]
    even = np.zeros((256, 256), np.uint8)
    cv2.fillPoly(even, polys, 1)
    return bool(((even > 0) != winding_fill(polys, (256, 256))).sum() > 4)


def keywords_for(name: str, char: str, emojilib: dict[str, list[str]]) -> list[str]:
    words = [w for w in emojilib.get(char, []) if w]
    return list(dict.fromkeys([name.replace("-", " "), *(w.replace("_", " ") for w in words)]))


def build(fluent_dir: Path, emojilib_dir: Path, out: Path = OUT) -> dict:
    icons = json.loads((fluent_dir / "icons.json").read_text())
    chars = json.loads((fluent_dir / "chars.json").read_text())
    meta = json.loads((fluent_dir / "metadata.json").read_text())
    info = json.loads((fluent_dir / "info.json").read_text())
    version = json.loads((fluent_dir / "package.json").read_text())["version"]
    emojilib = json.loads((emojilib_dir / "dist" / "emoji-en-US.json").read_text())
    lib_version = json.loads((emojilib_dir / "package.json").read_text())["version"]
    category = {n: cat for cat, names in meta["categories"].items() for n in names}
    char_of = {}
    for hexes, name in chars.items():
        char_of.setdefault(name, "".join(chr(int(h, 16)) for h in hexes.split("-")))
    names = sorted(icons["icons"])
    keep = [
        n for n in names if not any(n.endswith(t) and n[: -len(t)] in icons["icons"] for t in TONES)
    ]
    index, points, sub_len, shape_rows = [], [], [], []
    for name in keep:
        shapes = icon_shapes(icons["icons"][name]["body"])
        first_shape = len(shape_rows)
        for s in shapes:
            first_sub = len(sub_len)
            for sp in s["subpaths"]:
                q = np.round(np.asarray(sp, np.float64) * SCALE).astype(np.int16)
                points.append(q)
                sub_len.append(len(q))
            r, g, b, a = s["rgba"]
            shape_rows.append(
                (
                    (r << 24) | (g << 16) | (b << 8) | a,
                    int(_needs_winding(s["subpaths"], s["evenodd"])),
                    round(s["stroke"] * SCALE),
                    first_sub,
                    len(sub_len) - first_sub,
                )
            )
        index.append(
            {
                "name": name,
                "category": category.get(name, ""),
                "keywords": keywords_for(name, char_of.get(name, ""), emojilib),
                "shapes": [first_shape, len(shape_rows) - first_shape],
            }
        )
    header = {
        "source": f"Fluent Emoji Flat {version} ({info['author']['url']}), MIT; keywords: emojilib "
        f"{lib_version}, MIT",
        "scale": SCALE,
        "box": 32,
        "icons": index,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        header=np.frombuffer(json.dumps(header, separators=(",", ":")).encode(), np.uint8),
        points=np.concatenate(points) if points else np.zeros((0, 2), np.int16),
        subpaths=np.asarray(sub_len, np.uint32),
        shapes=np.asarray(shape_rows, np.int64),
    )
    return {"icons": len(index), "shapes": len(shape_rows), "points": int(sum(sub_len))}


if __name__ == "__main__":
    print(build(Path(sys.argv[1]), Path(sys.argv[2])))

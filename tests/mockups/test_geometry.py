"""Renderer geometry: perspective corners land on the print area; the cylinder wrap is symmetric."""

from __future__ import annotations

import numpy as np
import pytest

from mockups.layers import TemplateLayers
from mockups.render import Placement, TemplateSpec, compose, placement_matrix, prepare_source
from tests.mockups.conftest import checkerboard

SIZE = 400
QUAD = [[60.0, 50.0], [330.0, 85.0], [310.0, 350.0], [75.0, 320.0]]


def flat_spec(print_area: dict, key: str) -> TemplateSpec:
    def load() -> TemplateLayers:
        return TemplateLayers(
            base=np.full((SIZE, SIZE, 3), 128, np.uint8),
            print_mask=np.ones((SIZE, SIZE), np.float32),
            shading=np.ones((SIZE, SIZE), np.float32),
            highlight=np.zeros((SIZE, SIZE), np.float32),
        )

    return TemplateSpec(key, 1, print_area, [], load)


def colour_pixels(img: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    diff = np.abs(img.astype(int) - np.array(rgb)).max(axis=2)
    ys, xs = np.nonzero(diff < 60)
    return np.stack([xs + 0.5, ys + 0.5], axis=1)  # pixel centres


def test_it_puts_checkerboard_corners_on_the_print_area_corners():
    spec = flat_spec({"type": "quad", "points": QUAD}, "geom-quad")
    source = prepare_source(checkerboard(256, 8), 1.0)
    out = compose(spec, source, width=SIZE, placement=Placement(fit="stretch"), transparent=True)
    rgb, alpha = out[..., :3], out[..., 3]
    ys, xs = np.nonzero(alpha > 0)
    centres = np.stack([xs + 0.5, ys + 0.5], axis=1)
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    for corner, colour in zip(QUAD, colours, strict=True):
        # The painted region reaches the print-area corner: a covered pixel within 1 px of it...
        dist = np.hypot(centres[:, 0] - corner[0], centres[:, 1] - corner[1])
        assert dist.min() <= 1.0, (corner, dist.min())
        # ...and it is the checkerboard's own corner cell that lands there.
        assert len(colour_pixels(rgb, colour)) > 50
        near = colour_pixels(rgb, colour)
        assert np.hypot(near[:, 0] - corner[0], near[:, 1] - corner[1]).min() <= 2.0
    # Nothing is painted beyond the quad: no covered pixel lies more than 1 px outside it.
    import cv2

    outside = cv2.pointPolygonTest
    poly = np.float32(QUAD).reshape(-1, 1, 2)
    worst = min(outside(poly, (float(x), float(y)), True) for x, y in centres[::7])
    assert worst >= -1.0


def test_it_keeps_the_centre_on_the_diagonals_intersection():
    spec = flat_spec({"type": "quad", "points": QUAD}, "geom-quad-centre")
    board = checkerboard(256, 2)  # a 2×2 board: the centre is where four cells meet
    out = compose(spec, prepare_source(board, 1.0), width=SIZE, placement=Placement(fit="stretch"))
    p = np.array(QUAD)
    # Intersection of the diagonals (perspective maps the centre there).
    d1, d2 = p[2] - p[0], p[3] - p[1]

    def cross(a, b):
        return a[0] * b[1] - a[1] * b[0]

    t = cross(p[1] - p[0], d2) / cross(d1, d2)
    cx, cy = p[0] + t * d1
    red = colour_pixels(out, (255, 0, 0))  # top-left cell ends at the centre
    assert np.min(np.hypot(red[:, 0] - cx, red[:, 1] - cy)) <= 1.5


def test_it_wraps_a_symmetric_design_symmetrically_around_a_cylinder():
    area = {
        "type": "cylinder",
        "cx": 200.0,
        "radius": 150.0,
        "top": 80.0,
        "bottom": 300.0,
        "ry": 30.0,
        "span_deg": 70.0,
    }
    spec = flat_spec(area, "geom-cylinder")
    stripes = np.zeros((120, 240, 3), np.uint8)
    for x in range(240):
        stripes[:, x] = (255, 0, 0) if (min(x, 239 - x) // 15) % 2 else (0, 0, 255)
    from PIL import Image

    source = prepare_source(Image.fromarray(stripes), 1.0)
    out = compose(spec, source, width=SIZE, placement=Placement(fit="stretch")).astype(int)
    mirrored = out[:, ::-1]
    assert np.abs(out - mirrored).mean() < 1.5
    # ...and it really wraps: stripes near the edges are narrower than at the centre.
    row = out[200, :, 0] > 128
    edges = np.flatnonzero(np.diff(row.astype(int)))
    widths = np.diff(edges)
    assert widths.min() < widths.max() * 0.6


@pytest.mark.parametrize("fit", ["contain", "cover", "stretch"])
def test_it_centres_the_design_for_every_fit(fit):
    m = placement_matrix(Placement(fit=fit), (200, 100), (300.0, 300.0))
    centre = m @ np.array([100, 50, 1.0])
    assert np.allclose(centre, [150, 150])
    scale_x, scale_y = np.hypot(*m[:, 0]), np.hypot(*m[:, 1])
    expected = {"contain": (1.5, 1.5), "cover": (3.0, 3.0), "stretch": (1.5, 3.0)}[fit]
    assert np.allclose((scale_x, scale_y), expected)


def test_it_rotates_and_moves_the_design():
    m = placement_matrix(Placement(x=0.25, y=0.75, rotate=90), (100, 100), (400.0, 400.0))
    # The source's top-left corner goes to the top-right after a 90° clockwise turn.
    x, y = m @ np.array([0, 0, 1.0])
    assert np.allclose((x, y), (100 + 200, 300 - 200))


def test_it_downscales_a_huge_source_early():
    from PIL import Image

    big = Image.new("RGB", (4000, 3000), (10, 20, 30))
    arr = prepare_source(big, 0.1)
    assert arr.shape == (300, 400, 4)


@pytest.mark.parametrize(
    ("size", "scale"), [((1024, 1024), 1 / 3), ((1023, 1021), 0.26), ((999, 700), 0.6)]
)
def test_it_downscales_to_the_size_it_shows_at_and_keeps_colours(size, scale):
    from PIL import Image

    # Fine 1-px stripes would alias to pure colours (100 off) if pixels were skipped, not
    # averaged; a box of 1.67 px (scale 0.6) leaves ±20.
    w, h = size
    stripes = np.zeros((h, w, 4), np.uint8)
    stripes[:, ::2] = (200, 40, 0, 255)
    stripes[:, 1::2] = (0, 40, 200, 255)
    arr = prepare_source(Image.fromarray(stripes), scale)
    assert arr.shape == (max(round(h * scale), 1), max(round(w * scale), 1), 4)
    assert arr.flags.c_contiguous
    inner = arr[2:-2, 2:-2].reshape(-1, 4).astype(int)
    assert np.abs(inner - [100, 40, 100, 255]).max() <= 25

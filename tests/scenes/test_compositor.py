"""The offline scene compositor measured on pictures: the cut-out (plain, pale-on-white and busy
backdrops), the base's perspective, and properties a photograph must have — a shadow on the side
away from the light, a reflection only on glossy surfaces, the product's colour following the
light's, a rim when backlit, props where the prompt asks, different takes per variant."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from bench import productshots
from generations.engines.base import GenerationRequest
from generations.scenes import product as product_module
from generations.scenes.engine import SceneEngine
from generations.scenes.product import Cutout, ProductError, plausible, prepare_product
from generations.scenes.render import plan_layouts, render
from generations.scenes.spec import parse_scene

SIZE = 256


def cylinder(ratio: float, colour: tuple[int, int, int] = (200, 40, 40)) -> np.ndarray:
    """An RGBA cut-out of an upright cylinder seen from above: its base is an ellipse with this
    minor/major ratio."""
    h, w = 300, 200
    alpha = np.zeros((h, w), np.uint8)
    a = 60
    b = max(1, round(a * ratio))
    cv2.rectangle(alpha, (100 - a, 60), (100 + a, 250), 255, -1)
    cv2.ellipse(alpha, (100, 250), (a, b), 0, 0, 180, 255, -1)
    cv2.ellipse(alpha, (100, 60), (a, b), 0, 180, 360, 255, -1)
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:] = colour
    shade = np.linspace(0.7, 1.0, w, dtype=np.float32)[None, :, None]
    rgb = (rgb * shade).astype(np.uint8)
    return np.dstack([rgb, alpha])


@pytest.fixture(scope="module")
def cut() -> Cutout:
    return prepare_product(cylinder(0.2))


def luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], np.float32)


def one(cut: Cutout, prompt: str, *, variant: int = 0, w: int = SIZE, h: int = SIZE, **kw: str):
    spec = parse_scene(prompt, **kw)
    layout = plan_layouts(spec, variant + 1, 3, w / h)[variant]
    return render(cut, spec, w, h, layout, 3)


# --- the product -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", [0.15, 0.3])
def test_it_measures_the_base_ellipse(ratio: float) -> None:
    cut = prepare_product(cylinder(ratio))
    assert cut.had_alpha and cut.cast == (1.0, 1.0, 1.0)
    assert cut.base_ratio == pytest.approx(ratio, abs=0.05)
    assert cut.base_half_width == pytest.approx(60, abs=3)


def test_a_flat_bottom_has_no_ellipse() -> None:
    rgba = np.zeros((200, 200, 4), np.uint8)
    rgba[40:180, 50:150] = (30, 90, 160, 255)
    cut = prepare_product(rgba)
    assert cut.base_ratio is None and cut.contact_y == pytest.approx(cut.rgba.shape[0] - 5, abs=1)


def test_it_rejects_an_image_without_a_product() -> None:
    with pytest.raises(ProductError, match="No single product"):
        prepare_product(np.full((200, 200, 3), 240, np.uint8))


def test_plausible_rejects_fragments_and_slivers() -> None:
    alpha = np.zeros((200, 200), np.uint8)
    alpha[50:150, 60:140] = 255
    assert plausible(alpha)
    scattered = np.zeros((200, 200), np.uint8)
    for y in range(10, 190, 30):
        scattered[y : y + 8, (y % 150) + 5 : (y % 150) + 20] = 255
    assert not plausible(scattered)
    ring = np.zeros((200, 200), np.uint8)
    cv2.ellipse(ring, (100, 100), (80, 30), 0, 200, 340, 255, 6)
    assert not plausible(ring)


@pytest.mark.parametrize(("kind", "floor"), [("bottle", 0.9), ("jar", 0.9), ("busy", 0.85)])
def test_it_cuts_products_out_on_plain_pale_and_busy_backdrops(kind: str, floor: float) -> None:
    """The pale jar on a white sweep (where background removal alone bites into the lit side)
    and the bottle in front of a brick wall (where the border says nothing) both come out
    whole: intersection over union with the drawn product's true alpha."""
    photo, truth = productshots.shot_with_alpha(kind, 384)
    rgba, busy = product_module._cut(photo)
    assert busy == (kind == "busy")
    got = rgba[..., 3] >= 128
    want = truth >= 0.5
    iou = (got & want).sum() / (got | want).sum()
    assert iou >= floor, iou


# --- the photograph ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aspect", "size"), [((1, 1), (256, 256)), ((16, 9), (256, 144)), ((3, 4), (192, 256))]
)
def test_it_renders_each_aspect_ratio(
    cut: Cutout, aspect: tuple[int, int], size: tuple[int, int]
) -> None:
    image, info = one(cut, "on oak", w=size[0], h=size[1])
    assert image.shape == (size[1], size[0], 3) and image.dtype == np.uint8
    assert info["surface"] == "wood"


def test_it_is_deterministic_in_its_seed(cut: Cutout) -> None:
    a, _ = one(cut, "on white marble, soft light")
    b, _ = one(cut, "on white marble, soft light")
    assert np.array_equal(a, b)


def test_variants_are_different_takes(cut: Cutout) -> None:
    spec = parse_scene("on concrete with pebbles")
    layouts = plan_layouts(spec, 4, 11, 1.0)
    assert len({(lay.x_frac, lay.size, lay.azimuth) for lay in layouts}) == 4
    images = [render(cut, spec, SIZE, SIZE, lay, 11)[0] for lay in layouts]
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(luma(images[i]) - luma(images[j])).mean() > 3


def _floor_beside(image: np.ndarray, info: dict, side: int) -> float:
    """Mean brightness of the floor in a band beside the product's base (side -1 left, +1 right)."""
    h, w = image.shape[:2]
    row = int(0.86 * h)
    x = w // 2 + side * int(0.28 * w)
    return float(luma(image[row - 12 : row - 2, x - 14 : x + 14]).mean())


def test_the_cast_shadow_falls_away_from_the_light(cut: Cutout) -> None:
    lit_left, info = one(cut, "on white paper, hard light from the left")
    lit_right, _ = one(cut, "on white paper, hard light from the right")
    # Light from the left: the shadow darkens the floor on the right, and the other way round.
    assert _floor_beside(lit_left, info, +1) < _floor_beside(lit_left, info, -1) - 8
    assert _floor_beside(lit_right, info, -1) < _floor_beside(lit_right, info, +1) - 8


def test_the_contact_is_darker_than_the_open_floor(cut: Cutout) -> None:
    image, _ = one(cut, "on white paper, soft light from the front")
    h, w = image.shape[:2]
    contact_row = int(0.86 * h)
    below = luma(image[contact_row + 1 : contact_row + 4, w // 2 - 10 : w // 2 + 10]).mean()
    open_floor = luma(image[contact_row + 1 : contact_row + 4, 10:40]).mean()
    assert below < open_floor - 6


def test_only_a_glossy_surface_reflects_the_product() -> None:
    """A red product on white acrylic (glossy) and on white paper (matte), same light: below
    the contact line the acrylic turns red, the paper does not."""
    cut = prepare_product(cylinder(0.2, (210, 20, 20)))

    def redness(prompt: str) -> float:
        image, _ = one(cut, prompt, surface_colour="white")
        h, w = image.shape[:2]
        band = image[int(0.86 * h) + 3 : int(0.86 * h) + 12, w // 2 - 15 : w // 2 + 15].astype(
            float
        )
        return float((band[..., 0] - band[..., 1]).mean())

    assert redness("glossy acrylic, studio light") > redness("white paper sweep, studio light") + 10


def _product_colour(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return image[int(0.45 * h) : int(0.7 * h), w // 2 - 12 : w // 2 + 12].reshape(-1, 3).mean(0)


def test_the_product_takes_the_colour_of_the_light() -> None:
    cut = prepare_product(cylinder(0.2, (180, 180, 180)))
    warm = _product_colour(one(cut, "on concrete, golden hour")[0])
    cool = _product_colour(one(cut, "on concrete, cool overcast light")[0])
    assert warm[0] / warm[2] > cool[0] / cool[2] + 0.15


def test_backlight_puts_a_rim_on_the_outline(cut: Cutout) -> None:
    def rim_contrast(prompt: str) -> float:
        """The brighter of the two outlines against the product's middle."""
        image, _ = one(cut, prompt)
        h, w = image.shape[:2]
        rows = luma(image[int(0.5 * h) : int(0.7 * h)])
        edges = [rows[:, w // 2 + s * 36 : w // 2 + s * 36 + 3].mean() for s in (-1, 1)]
        return float(max(edges) - rows[:, w // 2 - 4 : w // 2 + 4].mean())

    assert (
        rim_contrast("on slate, backlit") > rim_contrast("on slate, soft light from the front") + 5
    )


def test_props_appear_in_the_colour_asked_for(cut: Cutout) -> None:
    def blue_pixels(prompt: str) -> int:
        image = one(cut, prompt)[0].astype(int)
        return int(((image[..., 2] - image[..., 0] > 60) & (image[..., 2] > 90)).sum())

    assert blue_pixels("on white paper with blue spheres") > 100
    assert blue_pixels("on white paper") == 0


def test_a_podium_lifts_the_product(cut: Cutout) -> None:
    plain, _ = one(cut, "terrazzo")
    raised, info = one(cut, "terrazzo with a podium")
    assert info["props"][0] == "podium"
    # The podium's side shows under the product: the rows below the product differ.
    h = plain.shape[0]
    assert np.abs(luma(plain[int(0.75 * h) :]) - luma(raised[int(0.75 * h) :])).mean() > 5


def test_dramatic_is_darker_than_bright(cut: Cutout) -> None:
    dark = luma(one(cut, "on slate, dramatic")[0]).mean()
    bright = luma(one(cut, "on white paper, bright airy light")[0]).mean()
    assert dark < bright - 60


def test_a_flat_lay_is_seen_from_above(cut: Cutout) -> None:
    image, info = one(cut, "flat lay on linen")
    assert info["camera"] == "top" and image.shape == (SIZE, SIZE, 3)


# --- the engine --------------------------------------------------------------------------------------------


def test_the_engine_makes_jpeg_variants_of_the_requested_size() -> None:
    buf = io.BytesIO()
    Image.fromarray(cylinder(0.2)).save(buf, "PNG")
    stages: list[str] = []
    images = SceneEngine().generate(
        GenerationRequest(
            prompt="on oak with pebbles, golden hour",
            width=320,
            height=240,
            count=3,
            seed=5,
            init_image=buf.getvalue(),
        ),
        lambda percent, stage: stages.append(stage),
    )
    assert [(i.width, i.height, i.content_type, i.seed) for i in images] == [
        (320, 240, "image/jpeg", s) for s in (5, 6, 7)
    ]
    for img in images:
        assert Image.open(io.BytesIO(img.data)).size == (320, 240)
    assert images[0].metadata["understood"] == ["oak", "golden", "pebbles"]
    assert "photographing variant 3 of 3" in stages

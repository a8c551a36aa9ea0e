"""Transparent margins trimmed before placing; what the editor says about backgrounds and
resolution."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from generations.library import upload_asset
from mockups import actions, design_check, products, trim
from mockups import render as renderer
from tests.mockups.conftest import checkerboard, encode

pytestmark = pytest.mark.django_db


def framed(size: int = 400, inner: int = 100, alpha: bool = True) -> Image.Image:
    image = Image.new("RGBA" if alpha else "RGB", (size, size), (0, 0, 0, 0) if alpha else "white")
    lo = (size - inner) // 2
    ImageDraw.Draw(image).rectangle((lo, lo + 10, lo + inner - 1, lo + inner - 1), fill="red")
    return image


def test_it_trims_transparent_margins():
    image = framed()
    cropped, box = trim.trim(image)
    assert box == (150, 160, 250, 250) and cropped.size == (100, 90)


@pytest.mark.parametrize(
    "image",
    [
        framed(alpha=False),  # no alpha
        Image.new("RGBA", (50, 50), (0, 0, 0, 0)),  # nothing visible
        checkerboard(64, 8, alpha=True),  # opaque to the edges
    ],
)
def test_it_handles_designs_with_nothing_to_trim(image):
    assert trim.trim(image) == (image, None)


def test_it_renders_a_design_with_margins_like_the_same_design_cropped(shop, user):
    """GIVEN a cut-out whose visible part is a quarter of its width THEN its mockup equals the
    mockup of the cut-out cropped by hand (it used to print a quarter as wide)."""
    loose = upload_asset(shop, encode(framed()), user=user, filename="loose.png")
    tight = upload_asset(shop, encode(trim.trim(framed())[0]), user=user, filename="tight.png")
    template = products.find_template(shop, "poster-framed")
    spec = products.spec_for(template)
    query = actions.parse_query({"w": "400"}, template)
    rendered = []
    for asset in (loose, tight):
        with asset.file.open("rb") as fh:
            source = actions.load_source(fh.read(), spec=spec, query=query, sha256=asset.sha256)
        rendered.append(renderer.compose(spec, source, width=400).astype(int))
    assert np.abs(rendered[0] - rendered[1]).max() <= 2
    assert trim.known_size(loose.sha256, (0, 0)) == (100, 90)


def test_it_keys_cached_renders_by_the_trim_version(shop):
    template = products.find_template(shop, "tshirt")
    query = actions.parse_query({}, template)
    key = actions.cache_key(template, "a" * 64, query)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(trim, "TRIM_VERSION", trim.TRIM_VERSION + 1)
        assert actions.cache_key(template, "a" * 64, query) != key


def badge_png(size: int, backdrop: tuple[int, int, int] | None = (240, 232, 214)) -> bytes:
    if backdrop is None:
        image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    else:
        image = Image.new("RGB", (size, size), backdrop)
    ImageDraw.Draw(image).ellipse((size // 4, size // 4, size * 3 // 4, size * 3 // 4), fill="teal")
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def test_it_tells_a_solid_background_from_a_picture(shop, user):
    solid = upload_asset(shop, badge_png(300), user=user)
    cut = upload_asset(shop, badge_png(300, None), user=user)
    noisy = Image.fromarray(np.random.default_rng(1).integers(0, 255, (120, 120, 3), np.uint8))
    photo = upload_asset(shop, encode(noisy), user=user)
    assert design_check.design_facts(solid).solid_background
    facts = design_check.design_facts(cut)
    assert not facts.solid_background and facts.transparent and facts.trimmed
    assert (facts.width, facts.height) == (151, 151)
    assert not design_check.design_facts(photo).solid_background


def test_it_warns_about_backgrounds_only_where_they_print_as_a_box(shop, user):
    solid = design_check.design_facts(upload_asset(shop, badge_png(3000), user=user))
    placement = renderer.Placement()
    tee = products.find_template(shop, "tshirt")
    poster = products.find_template(shop, "poster-framed")
    assert [w["kind"] for w in design_check.warnings_for(tee, solid, placement)] == ["background"]
    assert design_check.warnings_for(poster, solid, placement) == []


def test_it_works_out_pixels_per_inch_for_the_print_size(shop, user):
    tee = products.find_template(shop, "tshirt")
    facts = design_check.DesignFacts(1024, 1024, False, False, False)
    ppi, inches = design_check.pixels_per_inch(tee, facts, renderer.Placement())
    # The tee's print area is 15 in on its long side and wider than half of that: a square
    # design fitted inside is limited by the width.
    fw, fh = renderer.flat_size(tee.print_area)
    assert inches == 15.0 and ppi == round(1024 / (15.0 * min(fw, fh) / max(fw, fh)))
    half, _ = design_check.pixels_per_inch(tee, facts, renderer.Placement(scale=0.5))
    assert half == pytest.approx(ppi * 2, abs=1)
    warning = design_check.warnings_for(tee, facts, renderer.Placement())
    assert warning[0]["kind"] == "resolution" and warning[0]["ppi"] == ppi
    assert design_check.warnings_for(tee, facts, renderer.Placement(scale=0.3)) == []

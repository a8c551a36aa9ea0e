"""The product catalog search the design chat uses: by words (built-in and the shop's own
templates) and by what a design suits; colour words pick a variant."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mockups.products import (
    create_shop_template,
    design_traits,
    find_template,
    pick_variant,
    search_products,
)
from studio.models import Shop

pytestmark = pytest.mark.django_db


def design(width: int, height: int, *, cutout: bool = False, colour: int = 60) -> Image.Image:
    """A flat design; a cut-out is a centred shape on transparency, half the image wide."""
    if not cutout:
        return Image.new("RGB", (width, height), (colour, colour, colour))
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[height // 4 : height * 3 // 4, width // 4 : width * 3 // 4] = (colour, colour, colour, 255)
    return Image.fromarray(rgba, "RGBA")


def slugs(matches: list) -> list[str]:
    return [m.template.slug for m in matches]


def photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (220, 210, 200)).save(buf, "JPEG")
    return buf.getvalue()


def test_it_finds_products_by_their_words(shop: Shop) -> None:
    assert slugs(search_products(shop, "mug")) == ["mug"]
    assert slugs(search_products(shop, "a coffee cup")) == ["mug"]  # a tag
    assert slugs(search_products(shop, "tee")) == ["tshirt"]
    assert slugs(search_products(shop, "phone case"))[0] == "phone-case"
    assert search_products(shop, "throw pillow") == []


def test_it_finds_the_shops_own_products(shop: Shop, make_user: Shop) -> None:
    from studio.models import Membership

    pillow = create_shop_template(shop, name="Throw pillow", tags="cushion sofa", photo=photo())
    [match] = search_products(shop, "pillow")
    assert match.template == pillow and "one of the shop's own products" in match.reasons
    assert slugs(search_products(shop, "cushion")) == [pillow.slug]
    other = Membership.objects.get(user=make_user("other@example.com")).shop
    assert search_products(other, "pillow") == []  # another shop's template is not there


def test_a_shop_template_with_a_catalog_slug_replaces_it(shop: Shop) -> None:
    own = create_shop_template(shop, name="Mug", tags="our mug", photo=photo())
    assert own.slug == "mug"  # taken before the catalog row was installed
    assert find_template(shop, "mug") == own
    assert [m.template for m in search_products(shop, "mug")] == [own]


def test_it_ranks_by_what_suits_a_design(shop: Shop) -> None:
    cut = design_traits(design(512, 512, cutout=True))
    assert cut.transparent and cut.content_fraction == (0.5, 0.5)
    assert cut.fill_scale() == 1.64
    assert slugs(search_products(shop, design=cut))[0] == "sticker"
    tall = design_traits(design(400, 860))
    assert not tall.transparent and tall.fill_scale() == 1.0
    assert slugs(search_products(shop, design=tall))[0] == "phone-case"
    poster = design_traits(design(580, 1000))
    assert slugs(search_products(shop, design=poster))[0] == "poster-framed"


def test_words_win_over_what_suits(shop: Shop) -> None:
    cut = design_traits(design(512, 512, cutout=True))
    [match] = search_products(shop, "hoodie", design=cut)
    assert match.template.slug == "hoodie" and match.suits > 0


def test_it_picks_a_variant_with_contrast_or_by_colour(shop: Shop) -> None:
    light = design_traits(design(512, 512, cutout=True, colour=245))
    tee = search_products(shop, "tshirt", design=light)[0]
    assert (
        tee.template.slug == "tshirt" and tee.variant == "black"
    )  # a light design on a dark shirt
    assert any("contrasts" in r for r in tee.reasons)
    tee = search_products(shop, "tshirt", design=light, colour="red")[0]
    assert tee.variant == "red"


@pytest.mark.parametrize(
    ("colour", "variant"),
    [("", "white"), ("black", "black"), ("grey", "heather"), ("gray", "heather"),
     ("navy", "navy"), ("blue", "navy"), ("crimson", "red"), ("chartreuse-ish", "white")],
)  # fmt: skip
def test_it_picks_variants_by_colour_words(shop: Shop, colour: str, variant: str) -> None:
    assert pick_variant(find_template(shop, "tshirt"), colour) == variant


def test_a_product_without_variants_has_none(shop: Shop) -> None:
    assert pick_variant(find_template(shop, "mug"), "black") == ""

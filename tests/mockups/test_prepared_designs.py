"""Prepared designs (mockups/designs.py): a design's first render keeps a raw, downscaled copy,
and later renders that need no more pixels start from it instead of decoding the original."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import numpy as np
import pytest
from PIL import Image

from generations.loader import load_image
from mockups import actions, designs
from mockups import render as renderer
from mockups.models import RenderCacheEntry
from tests.mockups.conftest import asset_url, checkerboard, encode


def noisy(size: int = 600, seed: int = 1) -> Image.Image:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    base = np.dstack([xx * 255 // size, yy * 255 // size, (xx + yy) * 127 // size])
    pixels = base + rng.normal(0, 10, (size, size, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def get(client, template="tshirt", **params):
    return client.get(f"/m/{template}?" + urlencode(params))


def test_it_keeps_the_size_step_above_the_need():
    assert designs.step_for((300, 200), (1024, 768)) == (384, 288)
    assert designs.step_for((520, 520), (1024, 1024)) == (768, 768)
    assert designs.step_for((900, 900), (1024, 1024)) == (1024, 1024)  # all there is
    assert designs.step_for((100, 400), (300, 1200)) == (128, 512)
    # Rounding never leaves fewer pixels than needed.
    w, h = designs.step_for((511, 3), (2000, 11))
    assert w >= 511 and h >= 3


def test_it_reads_back_what_it_wrote_and_refuses_anything_else():
    pixels = np.arange(5 * 7 * 4, dtype=np.uint8).reshape(5, 7, 4)
    data = designs.encode(pixels, (70, 50))
    design = designs.decode(data)
    assert design is not None and design.full_size == (70, 50)
    assert np.array_equal(design.pixels, pixels)
    assert designs.decode(data[:-1]) is None
    assert designs.decode(b"XXXX" + data[4:]) is None
    assert designs.decode(b"") is None


def test_it_covers_a_size_when_it_holds_that_many_pixels_or_all_of_them():
    small = designs.PreparedDesign(np.zeros((100, 200, 3), np.uint8), (800, 400))
    assert small.covers((200, 100)) and small.covers((150, 75))
    assert not small.covers((201, 100))
    whole = designs.PreparedDesign(np.zeros((100, 200, 3), np.uint8), (200, 100))
    assert whole.covers((200, 100))


@pytest.mark.django_db
def test_the_first_render_keeps_a_prepared_copy_and_the_next_ones_start_from_it(
    client, shop, user, decodes
):
    from generations.library import upload_asset

    asset = upload_asset(shop, encode(noisy(1024)), user=user)
    params = {"asset": asset_url(asset), "shop": shop.slug, "w": 1024}
    first = get(client, **params)
    assert first.status_code == 200 and decodes == [(1024, 1024)]
    name = designs.name_for(shop, asset.sha256)
    entry = RenderCacheEntry.objects.get(name=name)  # indexed: budgeted, evicted, swept
    kept = designs.read(shop, asset.sha256)
    assert kept is not None and kept.full_size == (1024, 1024)
    h, w, c = kept.pixels.shape
    assert w == h and w in designs.STEPS and w < 1024 and c == 3  # no alpha: RGB
    assert entry.bytes == designs.HEADER.size + w * h * c
    for x in ("0.45", "0.55"):  # new placements, nothing decoded in this process
        renderer.SOURCES.clear()
        r = get(client, **params, x=x)
        assert r.status_code == 200 and r["X-Mockup-Cache"] == "miss"
        assert "design;dur=" in r["Server-Timing"] and "decode;dur=" not in r["Server-Timing"]
        assert r["X-Cost-Cents"] == "1"  # still a fresh render, charged like one
    assert decodes == [(1024, 1024)]


@pytest.mark.django_db
def test_a_render_from_the_prepared_copy_looks_like_one_from_the_original(client, shop, user):
    from generations.library import upload_asset

    asset = upload_asset(shop, encode(noisy(1024, seed=5)), user=user)
    params = {"asset": asset_url(asset), "shop": shop.slug, "w": 1024, "fmt": "png"}
    get(client, **params, x="0.3")  # keeps the prepared copy
    renderer.SOURCES.clear()
    from_copy = get(client, **params)
    # The same mockup rendered straight from the original, the way renders were made before.
    template = actions.find_template(shop, "tshirt")
    spec = actions.spec_for(template)
    query = actions.parse_query({"w": "1024", "fmt": "png"}, template)
    image = load_image(encode(noisy(1024, seed=5))).image
    scale = renderer.source_scale(query.placement, image.size, renderer.prepare(spec, 1024).flat)
    source = renderer.prepare_source(image, min(scale * 1.25, 1.0))
    direct = renderer.render(spec, source, width=1024, fmt="png", variant=query.variant)
    a = np.asarray(Image.open(io.BytesIO(from_copy.content)).convert("RGB"), np.int16)
    b = np.asarray(Image.open(io.BytesIO(direct.data)).convert("RGB"), np.int16)
    diff = np.abs(a - b)
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) < 16


@pytest.mark.django_db
def test_a_render_that_needs_more_pixels_decodes_again_and_keeps_a_larger_copy(
    client, shop, user, decodes
):
    from generations.library import upload_asset

    asset = upload_asset(shop, encode(noisy(1024)), user=user)
    params = {"asset": asset_url(asset), "shop": shop.slug}
    get(client, **params, w=256)
    small = designs.read(shop, asset.sha256)
    renderer.SOURCES.clear()
    r = get(client, **params, w=1024, scale=2)
    assert r.status_code == 200 and len(decodes) == 2
    large = designs.read(shop, asset.sha256)
    assert large.pixels.shape[0] > small.pixels.shape[0]
    assert RenderCacheEntry.objects.filter(name=designs.name_for(shop, asset.sha256)).count() == 1


@pytest.mark.django_db
def test_a_trimmed_cutout_keeps_its_trimmed_size(client, shop, user, decodes):
    from generations.library import upload_asset

    board = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    board.paste(checkerboard(200, alpha=True), (100, 50))
    asset = upload_asset(shop, encode(board), user=user)
    params = {"asset": asset_url(asset), "shop": shop.slug, "w": 512, "fmt": "png"}
    first = get(client, **params)
    assert designs.read(shop, asset.sha256).full_size == (200, 200)
    renderer.SOURCES.clear()
    again = get(client, **params, x="0.5001")  # the same placement, a new URL
    assert len(decodes) == 1
    a = np.asarray(Image.open(io.BytesIO(first.content)).convert("RGB"), np.int16)
    b = np.asarray(Image.open(io.BytesIO(again.content)).convert("RGB"), np.int16)
    assert np.abs(a - b).mean() < 0.5


@pytest.mark.django_db
def test_another_shop_never_reads_this_shops_copy(client, shop, user, make_user, decodes):
    from generations.library import upload_asset
    from studio.models import Membership

    data = encode(noisy(300))
    mine = upload_asset(shop, data, user=user)
    get(client, asset=asset_url(mine), shop=shop.slug, w=512)
    other_user = make_user("other@example.com")
    other = Membership.objects.get(user=other_user).shop
    assert designs.read(other, mine.sha256) is None
    assert designs.name_for(other, mine.sha256) != designs.name_for(shop, mine.sha256)


@pytest.mark.django_db
def test_a_prerender_uses_and_keeps_the_prepared_copy(shop, user, decodes):
    from generations.library import upload_asset

    asset = upload_asset(shop, encode(noisy(800)), user=user)
    template = actions.find_template(shop, "mug")
    actions.prerender_mockup(shop, template, asset, {"w": 640})
    assert designs.read(shop, asset.sha256) is not None
    renderer.SOURCES.clear()
    actions.prerender_mockup(shop, template, asset, {"w": 640, "x": 0.4})
    assert len(decodes) == 1

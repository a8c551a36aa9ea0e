"""The mockup editor in a browser: choose a design and a product, drag the design into place,
see the print area, get told about solid backgrounds and low resolution, cut the background out
in one click, and copy a mockup URL that renders.

Jobs (the one-click background removal, a generation) run in this process with `execute_job`.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from django.utils import timezone
from PIL import Image, ImageDraw

from generations import actions
from generations.library import upload_asset
from generations.models import Asset, Job
from studio.models import Membership
from tests.browser.conftest import in_viewport, no_horizontal_overflow, shot
from tests.mockups.conftest import checkerboard, encode

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREVIEW_LOADED = (
    "() => { const i = document.querySelector('#mockup-preview');"
    " return i && i.complete && i.naturalWidth > 0; }"
)


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def badge(size: int = 900) -> bytes:
    """A design as generators draw it: a teal disc on a solid cream backdrop (no alpha)."""
    image = Image.new("RGB", (size, size), (244, 236, 220))
    ImageDraw.Draw(image).ellipse(
        (size * 0.2, size * 0.2, size * 0.8, size * 0.8), fill=(20, 130, 140)
    )
    return png(image)


def cutout_with_margins(size: int = 800, square: int = 200) -> bytes:
    """A transparent design whose visible part (a red square) is a quarter of its width."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    lo = (size - square) // 2
    ImageDraw.Draw(image).rectangle((lo, lo, lo + square - 1, lo + square - 1), fill=(220, 30, 30))
    return png(image)


@pytest.fixture
def owner(make_user):
    user = make_user("editor@example.com")
    return user, Membership.objects.get(user=user).shop


def preview_params(page) -> dict[str, str]:
    src = page.locator("#mockup-preview").get_attribute("src")
    return {k: v[0] for k, v in parse_qs(urlparse(src).query).items()} | {
        "_path": urlparse(src).path
    }


def chosen_design(page) -> str:
    return page.locator("#designs input[name=asset]:checked").get_attribute("value")


def test_it_places_an_asset_and_the_copied_url_renders(signed_in, owner, settings):
    """GIVEN an owner with one library image WHEN they pick a product and move the design
    THEN the HTMX preview changes, and the copied mockup URL answers with an image."""
    user, shop = owner
    asset = upload_asset(shop, encode(checkerboard(128, 4)), user=user, filename="board.png")
    page = signed_in(user)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/mockups/?asset={asset.id}")
    page.wait_for_function(PREVIEW_LOADED)
    first_src = page.locator("#mockup-preview").get_attribute("src")
    assert "/m/" in first_src

    page.get_by_label("Ceramic mug 11oz").check()
    page.wait_for_function(
        "() => document.querySelector('#mockup-preview').src.includes('/m/mug?')"
    )
    page.wait_for_function(PREVIEW_LOADED)

    page.locator("#x").fill("0.3")
    page.locator("#scale").fill("0.6")
    page.locator("#scale").dispatch_event("change")
    page.wait_for_function(
        "() => { const s = document.querySelector('#mockup-preview').src;"
        " return s.includes('x=0.3') && s.includes('scale=0.6'); }"
    )
    page.wait_for_function(PREVIEW_LOADED)
    page.get_by_role("button", name="Copy URL").click()
    page.get_by_role("button", name="Copied").wait_for()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == page.locator("#mockup-url").input_value()
    assert "sig=" in copied and "x=0.3" in copied
    page.goto(f"/mockups/sheet/?asset={asset.id}")
    page.wait_for_load_state("networkidle")
    shot(page, "mockup-sheet")
    response = page.goto(copied)
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    assert "total;dur=" in response.headers["server-timing"]


def test_it_handles_a_click_on_a_product_without_changing_the_design(signed_in, owner):
    """GIVEN a library of 30 designs WHEN the "Ceramic mug 11oz" chip is clicked with the mouse
    THEN the product becomes the mug and the design stays: the picker's hidden radio buttons
    stay inside their scroll box (they used to lie over the product chips and take the click)."""
    user, shop = owner
    for i in range(30):
        upload_asset(shop, encode(checkerboard(64 + i, 4)), user=user, filename=f"d{i}.png")
    page = signed_in(user)
    page.goto("/mockups/?template=tote")
    page.wait_for_function(PREVIEW_LOADED)
    design = chosen_design(page)
    chip = page.locator("label.chip", has_text="Ceramic mug 11oz")
    box = chip.bounding_box()
    hit = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('label')?.textContent.trim()",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert hit == "Ceramic mug 11oz"
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "() => document.querySelector('#mockup-preview').src.includes('/m/mug?')"
    )
    assert chosen_design(page) == design
    # Every radio of the picker lies inside the picker's box.
    outside = page.evaluate(
        """() => { const pick = document.querySelector('#designs').getBoundingClientRect();
          return [...document.querySelectorAll('#designs input')].filter(i => {
            const r = i.getBoundingClientRect();
            return r.width && (r.left < pick.left - 1 || r.right > pick.right + 1
              || r.top < pick.top - 1 || r.bottom > pick.bottom + 1 + i.closest('#designs').scrollHeight);
          }).length; }"""
    )
    assert outside == 0


def test_it_handles_search_and_paging_over_the_whole_library(signed_in, owner):
    """GIVEN 60 images, the oldest one a quokka WHEN the picker is paged and searched THEN "More
    designs" brings older ones and the search finds the quokka (only the newest 48 were shown)."""
    user, shop = owner
    quokka = upload_asset(shop, encode(checkerboard(80, 4)), user=user, filename="q.png")
    Asset.objects.filter(pk=quokka.pk).update(
        prompt="a quokka on a skateboard",
        search_text="a quokka on a skateboard",
        created_at=timezone.now() - timedelta(days=30),
    )
    for i in range(59):
        upload_asset(shop, encode(checkerboard(64 + i, 4)), user=user, filename=f"d{i}.png")
    page = signed_in(user)
    page.goto("/mockups/")
    page.wait_for_function(PREVIEW_LOADED)
    picks = page.locator("#designs input[name=asset]")
    assert picks.count() == 24
    page.get_by_role("link", name="More designs").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#designs input[name=asset]').length == 48"
    )
    page.get_by_role("link", name="More designs").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#designs input[name=asset]').length == 60"
    )
    assert page.get_by_role("link", name="More designs").count() == 0

    page.get_by_label("Search your designs").fill("quokka")
    page.wait_for_function(
        "() => document.querySelectorAll('#designs input[name=asset]').length == 1"
    )
    page.locator("#designs label.pick").click()
    page.wait_for_function(
        f"() => document.querySelector('#mockup-preview').alt.includes('quokka')"
        f" && document.querySelector('#mockup-url').value.includes('{quokka.id.hex}')"
    )
    shot(page, "mockup-editor-picker-search")


def test_it_handles_put_on_a_product_from_the_asset_page_library_and_results(signed_in, owner):
    """GIVEN a generated image WHEN "Put on a product" is used from its job card, its library tile
    and its page THEN each opens the editor with that image chosen."""
    user, shop = owner
    job = actions.submit_generation(
        shop, actions.GenerationSpec(prompt="a teal cat under a moon", count=1), user=user
    )
    actions.execute_job(str(job.id))
    made = job.outputs.get()
    older = upload_asset(shop, encode(checkerboard(96, 4)), user=user, filename="other.png")
    Asset.objects.filter(pk=older.pk).update(created_at=timezone.now() + timedelta(seconds=5))
    page = signed_in(user)

    page.goto("/")
    page.locator(f"#job-{job.id} .thumb-actions a").click()
    page.wait_for_url(re.compile(rf".*/mockups/\?asset={made.id}"))
    assert chosen_design(page) == str(made.id)

    page.goto("/library/")
    tile = page.locator("#asset-grid .tile", has=page.locator(f'a[href="/library/{made.id}/"]'))
    tile.hover()
    tile.get_by_role("link", name="Put on a product").click()
    page.wait_for_url(re.compile(rf".*/mockups/\?asset={made.id}"))
    assert chosen_design(page) == str(made.id)

    page.goto(f"/library/{made.id}/")
    page.get_by_role("link", name="Put on a product").click()
    page.wait_for_url(re.compile(rf".*/mockups/\?asset={made.id}"))
    assert chosen_design(page) == str(made.id)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_it_handles_dragging_and_resizing_the_design_over_print_area_guides(signed_in, owner, size):
    """GIVEN the editor WHEN the design's outline is dragged and its corner handle pulled THEN the
    sliders follow and the preview re-renders there; the print area is outlined."""
    user, shop = owner
    asset = upload_asset(shop, encode(checkerboard(512, 8)), user=user, filename="b.png")
    page = signed_in(user, size)
    page.goto(f"/mockups/?asset={asset.id}&template=tshirt")
    page.wait_for_function(PREVIEW_LOADED)
    stage = page.locator("[data-stage]").bounding_box()
    area = page.locator(".guides .print-area").bounding_box()
    assert area["width"] > 20 and area["height"] > 20
    assert stage["x"] <= area["x"] and area["x"] + area["width"] <= stage["x"] + stage["width"] + 1
    assert page.locator(".guides .print-area-label").text_content() == "Print area"

    design = page.locator(".guides .design-box")
    box = design.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - area["width"] * 0.2, cy + area["height"] * 0.1, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "() => { const s = document.querySelector('#mockup-preview').src;"
        " return s.includes('x=0.') && s.includes('y=0.'); }"
    )
    params = preview_params(page)
    assert 0.2 <= float(params["x"]) <= 0.4 and 0.55 <= float(params["y"]) <= 0.7
    assert float(page.locator("#x").input_value()) == pytest.approx(float(params["x"]), abs=0.011)
    page.wait_for_function(PREVIEW_LOADED)

    handle = page.locator(".guides .resize-handle").bounding_box()
    hx, hy = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(hx, hy)
    page.mouse.down()
    page.mouse.move(hx - (hx - cx) * 0.5, hy - (hy - cy) * 0.5, steps=8)
    page.mouse.up()
    page.wait_for_function("() => document.querySelector('#mockup-preview').src.includes('scale=')")
    assert float(preview_params(page)["scale"]) < 0.9
    page.wait_for_function(PREVIEW_LOADED)
    assert no_horizontal_overflow(page)
    assert in_viewport(page, page.locator("#mockup-preview")) or size == "phone"
    shot(page, f"mockup-editor-{size}")


def test_it_suggests_removing_a_solid_background_and_does_it_in_one_click(signed_in, owner):
    """GIVEN a design on a solid backdrop on a T-shirt THEN the editor says it would print as a
    box; WHEN "Remove background first" is clicked THEN a background-removal job runs and the
    editor comes back with the cut-out on the same product."""
    user, shop = owner
    asset = upload_asset(shop, badge(), user=user, filename="badge.png")
    page = signed_in(user)
    page.goto(f"/mockups/?asset={asset.id}&template=tshirt&variant=navy")
    page.wait_for_function(PREVIEW_LOADED)
    warning = page.locator('[data-warning="background"]')
    assert "solid background" in warning.inner_text()
    shot(page, "mockup-editor-background-warning")
    warning.get_by_role("button", name=re.compile("Remove background first")).click()
    page.locator("#bg-status progress").wait_for()
    job = Job.objects.get(kind="remove-background")
    assert job.input_asset_id == asset.id and job.cost_cents == 1
    actions.execute_job(str(job.id))
    cutout = Asset.objects.get(parent=asset)
    page.wait_for_url(re.compile(rf".*asset={cutout.id}.*"), timeout=30_000)
    page.wait_for_function(PREVIEW_LOADED)
    assert chosen_design(page) == str(cutout.id)
    assert "template=tshirt" in page.url and "variant=navy" in page.url
    assert page.locator('[data-warning="background"]').count() == 0
    assert "Remove background" in cutout.caption


def red_share(data: bytes) -> tuple[float, float]:
    """The red design's width and height as shares of the rendered image."""
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    red = (pixels[..., 0] > 150) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
    ys, xs = np.nonzero(red)
    assert xs.size, "no red design on the mockup"
    return (xs.max() - xs.min() + 1) / pixels.shape[1], (ys.max() - ys.min() + 1) / pixels.shape[0]


def test_it_trims_transparent_margins_so_a_cutout_fills_the_print_area(signed_in, owner):
    """GIVEN a transparent PNG whose visible part is a quarter of its width WHEN it is put on a
    poster THEN it fills the print area (it used to print a quarter as wide)."""
    user, shop = owner
    asset = upload_asset(shop, cutout_with_margins(), user=user, filename="cutout.png")
    page = signed_in(user)
    page.goto(f"/mockups/?asset={asset.id}&template=poster-framed")
    page.wait_for_function(PREVIEW_LOADED)
    assert page.get_by_text("Transparent margins are trimmed").is_visible()
    src = page.locator("#mockup-preview").get_attribute("src")
    width, _height = red_share(page.request.get(src).body())
    area = page.locator(".guides .print-area").bounding_box()
    stage = page.locator("[data-stage]").bounding_box()
    area_share = min(area["width"], area["height"]) / stage["width"]
    assert width >= 0.85 * area_share, (width, area_share)


def test_it_warns_when_the_design_has_too_few_pixels_for_the_print(signed_in, owner):
    user, shop = owner
    small = upload_asset(shop, badge(240), user=user, filename="tiny.png")
    page = signed_in(user)
    page.goto(f"/mockups/?asset={small.id}&template=tshirt")
    page.wait_for_function(PREVIEW_LOADED)
    warning = page.locator('[data-warning="resolution"]')
    assert "pixels per inch" in warning.inner_text() and "15-inch" in warning.inner_text()
    # The same design made small enough prints sharp.
    page.locator("#scale").fill("0.1")
    page.locator("#scale").dispatch_event("change")
    page.wait_for_function(
        "() => document.querySelector('#mockup-preview').src.includes('scale=0.1')"
    )
    assert page.locator('[data-warning="resolution"]').count() == 0

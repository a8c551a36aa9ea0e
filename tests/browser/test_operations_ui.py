"""The asset page's edit results: before/after over a checkerboard, detection boxes drawn on the
picture, past edits in a compact history, and derived images captioned and found by their
source's words."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.utils import timezone
from PIL import Image

from generations import operations
from generations.actions import execute_job
from generations.library import store_asset, upload_asset
from generations.models import Asset, Job
from studio.models import Membership
from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLUE = (40, 90, 220)


def png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def owner(make_user):
    user = make_user("ops-ui@example.com")
    return user, Membership.objects.get(user=user).shop


def source_and_cutout(shop, user) -> tuple[Asset, Asset]:
    """A red square on blue, and its cut-out (the square on transparency), as lineage."""
    rgb = np.zeros((300, 400, 3), np.uint8)
    rgb[:] = BLUE
    rgb[100:200, 150:250] = (230, 40, 40)
    source = upload_asset(shop, png(rgb), user=user, filename="square.png")
    Asset.objects.filter(pk=source.pk).update(prompt="a red square on blue")
    source.refresh_from_db()
    rgba = np.zeros((300, 400, 4), np.uint8)
    rgba[100:200, 150:250] = (230, 40, 40, 255)
    cutout = store_asset(
        shop,
        png(rgba),
        kind=Asset.Kind.DERIVED,
        user=user,
        parent=source,
        parameters={
            "operation": "remove-background",
            "operation_label": "Remove background",
            "source_prompt": source.prompt,
        },
    )
    return source, cutout


def pixel(image: Image.Image, fx: float, fy: float) -> tuple[int, int, int]:
    return image.getpixel((int(image.width * fx), int(image.height * fy)))[:3]


def is_blue(rgb: tuple[int, int, int]) -> bool:
    return abs(rgb[0] - BLUE[0]) < 30 and abs(rgb[1] - BLUE[1]) < 30 and abs(rgb[2] - BLUE[2]) < 30


def test_it_shows_a_transparent_result_over_a_checkerboard_in_before_after(signed_in, owner):
    """GIVEN a background-removal result WHEN its before/after is shown THEN the "after" side
    shows the checkerboard where the result is transparent, not the original underneath (which
    made the slider show no change)."""
    user, shop = owner
    _source, cutout = source_and_cutout(shop, user)
    page = signed_in(user)
    page.goto(f"/library/{cutout.id}/")
    compare = page.locator("[data-compare]")
    compare.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-compare] img')].every(i => i.complete)"
    )
    image = Image.open(io.BytesIO(compare.screenshot())).convert("RGB")
    assert is_blue(pixel(image, 0.1, 0.5)), pixel(image, 0.1, 0.5)  # before: the original
    after = [pixel(image, 0.9, y) for y in (0.3, 0.5, 0.9)]  # (the "After" label sits at the top)
    assert not any(is_blue(p) for p in after), after  # after: never the original
    assert all(min(p) > 150 for p in after), after  # …but the light checkerboard
    # Moving the slider moves the split.
    compare.locator(".compare-range").fill("90")
    image = Image.open(io.BytesIO(compare.screenshot())).convert("RGB")
    assert is_blue(pixel(image, 0.8, 0.5))
    shot(page, "asset-before-after")


def test_it_draws_detected_objects_on_the_picture(signed_in, owner):
    """GIVEN a finished object detection WHEN the image's page opens THEN a numbered box is drawn
    on the picture for each object, and choosing an object in the list highlights its box."""
    user, shop = owner
    source, _cutout = source_and_cutout(shop, user)
    objects = [
        {"bbox": [150, 100, 250, 200], "accuracy": 0.93, "object_type": "object"},
        {"bbox": [10, 20, 90, 120], "accuracy": 0.41, "object_type": "object"},
    ]
    Job.objects.create(
        shop=shop,
        kind="detect-objects",
        status=Job.Status.COMPLETED,
        input_asset=source,
        result={"operation": "detect-objects", "detected_objects": objects},
        finished_at=timezone.now(),
    )
    page = signed_in(user)
    page.goto(f"/library/{source.id}/")
    image = page.locator(".stage-img img").bounding_box()
    rects = page.locator("svg.detections rect[data-detection]")
    assert rects.count() == 2
    for rect, obj in zip(rects.all(), objects, strict=True):
        box = rect.bounding_box()
        x1, y1, x2, _y2 = obj["bbox"]
        assert box["x"] - image["x"] == pytest.approx(x1 / 400 * image["width"], abs=3)
        assert box["y"] - image["y"] == pytest.approx(y1 / 300 * image["height"], abs=3)
        assert box["width"] == pytest.approx((x2 - x1) / 400 * image["width"], abs=3)
    assert page.locator(".detection-tag").all_inner_texts() == ["1", "2"]
    page.get_by_label("Object 2 · 41% sure").check()
    assert rects.nth(1).get_attribute("class") == "chosen"
    assert rects.nth(0).get_attribute("class") in (None, "")
    shot(page, "asset-detections")


def test_it_keeps_past_edits_in_a_compact_history(signed_in, owner):
    """GIVEN twelve finished edits of an image WHEN its page opens THEN they are one line each in
    a closed "History" (the page used to grow a full card for every past edit)."""
    user, shop = owner
    source, cutout = source_and_cutout(shop, user)
    for i in range(12):
        job = Job.objects.create(
            shop=shop,
            kind="sketch" if i % 2 else "restore",
            status=Job.Status.COMPLETED,
            input_asset=source,
            cost_cents=1,
            finished_at=timezone.now(),
        )
        if i == 0:
            Asset.objects.filter(pk=cutout.pk).update(job=job)
    page = signed_in(user)
    page.goto(f"/library/{source.id}/")
    assert page.locator(".operations .job-card").count() == 0
    history = page.locator("#op-history")
    assert history.get_attribute("open") is None
    assert "12 earlier edits" in history.locator("summary").inner_text()
    history.locator("summary").click()
    lines = history.locator("li")
    assert lines.count() == 12
    assert max(line.bounding_box()["height"] for line in lines.all()) < 60
    shot(page, "asset-history")


def test_it_captions_and_finds_derived_images_by_their_source(signed_in, owner):
    """GIVEN a generated-looking image WHEN its background is removed THEN the cut-out is
    captioned with the operation and the source's prompt, and library search finds it by
    either (it used to be captioned "Derived" and found by nothing)."""
    user, shop = owner
    rgb = np.full((160, 200, 3), (245, 235, 215), np.uint8)
    rgb[40:120, 60:140] = (20, 130, 140)
    source = upload_asset(shop, png(rgb), user=user, filename="teal.png")
    Asset.objects.filter(pk=source.pk).update(
        prompt="a quokka on a skateboard", search_text="a quokka on a skateboard"
    )
    source.refresh_from_db()
    job = operations.submit_operation(shop, source, "remove-background", {}, user)
    execute_job(str(job.id))
    cutout = Asset.objects.get(parent=source)
    page = signed_in(user)
    page.goto("/library/?q=quokka")
    captions = page.locator("#asset-grid .caption").all_inner_texts()
    assert sorted(captions) == sorted(
        ["a quokka on a skateboard", "Remove background: a quokka on a skateboard"]
    )
    page.goto("/library/?q=remove+background")
    assert page.locator("#asset-grid .tile").count() == 1
    page.goto(f"/library/{cutout.id}/")
    assert page.locator("h1").inner_text() == "Remove background: a quokka on a skateboard"
    shot(page, "asset-derived")

"""Paint a mask over a blemish in the browser, erase it, and see the result and its lineage.

A real Celery worker subprocess runs the job on the configured broker, the page is served by
live_server, and Chromium is driven by Playwright.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.test import Client
from PIL import Image

from generations.library import upload_asset
from generations.models import Asset, Job
from studio.models import Membership
from tests.conftest import skip_or_fail

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def worker(start_worker: Any) -> Any:
    """A real worker subprocess on the configured broker, sharing the test database
    (tests/support/worker_fixtures.py)."""
    return start_worker(pool="solo")


@pytest.fixture
def browser_page() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser.new_context(viewport={"width": 1280, "height": 1000})
        finally:
            browser.close()


def test_it_erases_a_painted_region_end_to_end(
    live_server, worker, browser_page, make_user, monkeypatch
):
    # Playwright's sync API keeps an event loop in this thread; the ORM calls here are sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    user = make_user("painter@example.com")
    shop = Membership.objects.get(user=user).shop
    picture = np.full((200, 240, 3), (60, 130, 190), np.uint8)
    picture[80:120, 100:140] = (240, 30, 30)  # the blemish
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, "PNG")
    asset = upload_asset(shop, buf.getvalue(), user=user)

    client = Client()
    client.force_login(user)
    session = client.session
    session["current_shop_id"] = shop.id
    session.save()
    context = browser_page
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/library/{asset.id}/")

    # Paint over the red square: canvas coordinates scale from image pixels to screen pixels.
    page.get_by_text("Paint a mask").click()
    canvas = page.locator("[data-painter] canvas")
    box = canvas.bounding_box()
    sx, sy = box["width"] / 240, box["height"] / 200
    page.fill("[data-brush-size]", "40")
    page.mouse.move(box["x"] + 95 * sx, box["y"] + 85 * sy)
    page.mouse.down()
    for y in range(85, 120, 6):
        page.mouse.move(box["x"] + 95 * sx, box["y"] + y * sy, steps=2)
        page.mouse.move(box["x"] + 145 * sx, box["y"] + y * sy, steps=6)
    page.mouse.up()

    page.click("#op-erase summary")
    page.click("#op-erase button.primary")
    done = page.wait_for_selector("#op-result-erase .job-card.status-completed", timeout=60_000)
    assert "Erase" in done.inner_text() or "erase" in done.inner_text().lower()

    job = Job.objects.get(kind="erase")
    assert job.status == Job.Status.COMPLETED, job.error
    result = Asset.objects.get(parent=asset)
    with result.file.open("rb") as fh:
        pixels = np.asarray(Image.open(fh).convert("RGB")).astype(int)
    assert np.abs(pixels[80:120, 100:140] - (60, 130, 190)).max() <= 12  # the blemish is gone

    # The result's page: before/after slider and the lineage strip pointing at the parent.
    page.click("#op-result-erase .job-card.status-completed .thumbs a")
    page.wait_for_url(f"**/library/{result.id}/")
    assert page.locator("[data-compare] .compare-range").count() == 1
    lineage = page.locator("section.lineage")
    assert lineage.locator(f'a[href="/library/{asset.id}/"]').count() == 1
    page.goto(f"{live_server.url}/library/{asset.id}/")
    assert page.locator(f'section.lineage a[href="/library/{result.id}/"]').count() == 1
    assert "erase" in page.locator("section.lineage").inner_text().lower()

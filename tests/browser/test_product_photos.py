"""Browser test: the Product photos page end to end. Upload a product photo, choose a preset,
watch the job card fill with two variants (HTMX polling while a REAL Celery worker runs the
offline compositor), find them in the library, and send one to the mockup editor.

Playwright drives Debian's Chromium (/usr/bin/chromium) against pytest-django's live server; the
worker subprocess shares the test database and media root (tests/support/worker_fixtures.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.api.test_seed_004 import product_photo
from tests.conftest import skip_or_fail

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture
def worker(start_worker: Any) -> Any:
    return start_worker(pool="solo")


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright (Python) is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def shot(page: Any, name: str) -> None:
    if os.environ.get("STUDIO_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["STUDIO_SCREENSHOTS"], name), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_it_handles_upload_preset_live_variants_and_sending_to_a_mockup(
    browser: Any, live_server: Any, worker: Any, make_user: Any, tmp_path: Path
) -> None:
    """GIVEN a shop owner with an empty library WHEN they upload a product photo on Product
    photos, pick the "Marble in window light" preset and ask for 2 variants THEN the job card
    appears at once, polls until the worker has finished, and shows two photographs; both are
    in the library as children of the upload; "Mockup or listing" opens the mockup editor on
    the chosen variant."""
    from generations.models import Asset, Job
    from studio.models import Membership

    user = make_user("photos@example.com")
    shop = Membership.objects.get(user=user).shop
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    photo = tmp_path / "serum-bottle.png"
    photo.write_bytes(product_photo())

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Product photos").click()
    page.wait_for_url(re.compile(r".*/product-photos/$"))
    assert page.get_by_role("heading", name="Product photos").is_visible()
    page.get_by_text("Your library has no images yet").wait_for()

    page.get_by_label("…or upload a product photo").set_input_files(str(photo))
    page.get_by_label("Preset").select_option(label="Marble in window light")
    page.get_by_label("Variants").fill("2")
    page.get_by_role("button", name="Photograph it").click()

    card = page.locator("#scene-jobs .scene-card").first
    card.wait_for()
    assert card.get_attribute("data-status") in ("queued", "active", "completed")
    page.locator('#scene-jobs .scene-card[data-status="completed"]').wait_for(timeout=120_000)
    images = card.locator(".variants img")
    assert images.count() == 2
    for i in range(2):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth === 1024")
    assert "Set: marble" in card.inner_text()
    shot(page, "product-photos.png")

    job = Job.objects.get(shop=shop)
    assert job.status == Job.Status.COMPLETED and job.kind == "scene" and job.source == "web"
    upload = Asset.objects.get(shop=shop, kind=Asset.Kind.UPLOAD)
    variants = list(Asset.objects.filter(job=job).order_by("created_at", "id"))
    assert len(variants) == 2 and all(v.parent_id == upload.id for v in variants)

    # The variants are in the library.
    page.get_by_role("link", name="Library", exact=True).click()
    page.locator("#asset-grid .tile").nth(2).wait_for()
    assert page.locator("#asset-grid .tile").count() == 3

    # Send the first variant to the mockup editor.
    page.go_back()
    page.locator("#scene-jobs .scene-card").first.get_by_role(
        "link", name="Mockup or listing"
    ).first.click()
    page.wait_for_url(re.compile(rf".*/mockups/\?asset={variants[0].id}"))
    page.locator("#mockup-preview").wait_for()
    page.wait_for_function(
        "() => { const i = document.querySelector('#mockup-preview'); "
        "return i.complete && i.naturalWidth > 0; }"
    )
    assert variants[0].id.hex in page.locator("#mockup-preview").get_attribute("src").replace(
        "-", ""
    )
    page.get_by_text("Sell it: create a listing with a buy link").wait_for()

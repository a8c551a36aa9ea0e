"""Browser test: open the mockup editor, place an asset, watch the preview change, open the URL.

Playwright drives Debian's Chromium (/usr/bin/chromium; never a downloaded browser) against
pytest-django's live server.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail
from tests.mockups.conftest import checkerboard, encode

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself are still synchronous, so Django's async-safety check must be told so.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [pytest.mark.browser]


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright (Python) is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def loaded(page: Any, selector: str) -> bool:
    return page.locator(selector).evaluate("img => img.complete && img.naturalWidth > 0")


@pytest.mark.django_db(transaction=True)
def test_it_places_an_asset_and_the_copied_url_renders(live_server, browser, make_user, settings):
    """GIVEN an owner with one library image WHEN they pick a product and move the design
    THEN the HTMX preview changes, and the copied mockup URL answers with an image."""
    from django.test import Client

    from generations.library import upload_asset
    from studio.models import Membership

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = make_user("browser-owner@example.com")
    shop = Membership.objects.get(user=user).shop
    asset = upload_asset(shop, encode(checkerboard(128, 4)), user=user, filename="board.png")
    client = Client()
    client.force_login(user)
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie, "url": live_server.url}]
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(30_000)

    page.goto(f"{live_server.url}/mockups/?asset={asset.id}")
    page.locator("#mockup-preview").wait_for()
    page.wait_for_function(
        "() => { const i = document.querySelector('#mockup-preview'); return i.complete && i.naturalWidth > 0; }"
    )
    first_src = page.locator("#mockup-preview").get_attribute("src")
    assert "/m/tshirt?" in first_src or "/m/" in first_src

    # Pick the mug: HTMX swaps in a new preview of the mug.
    page.get_by_label("Ceramic mug 11oz").check()
    page.wait_for_function(
        "() => document.querySelector('#mockup-preview').src.includes('/m/mug?')"
    )
    page.wait_for_function(
        "() => { const i = document.querySelector('#mockup-preview'); return i.complete && i.naturalWidth > 0; }"
    )
    mug_src = page.locator("#mockup-preview").get_attribute("src")
    assert mug_src != first_src

    # Move the design left and scale it down: the preview follows.
    page.locator("#x").fill("0.3")
    page.locator("#scale").fill("0.6")
    page.locator("#scale").dispatch_event("change")
    page.wait_for_function(
        "() => { const s = document.querySelector('#mockup-preview').src; return s.includes('x=0.3') && s.includes('scale=0.6'); }"
    )
    page.wait_for_function("() => document.querySelector('#mockup-preview').complete")
    assert loaded(page, "#mockup-preview")

    shot(page, "mockup-editor.png")
    # Copy the URL with the button, then open what was copied.
    page.get_by_role("button", name="Copy URL").click()
    page.get_by_role("button", name="Copied").wait_for()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == page.locator("#mockup-url").input_value()
    assert "sig=" in copied and "x=0.3" in copied
    page.goto(f"{live_server.url}/mockups/sheet/?asset={asset.id}")
    page.wait_for_load_state("networkidle")
    shot(page, "mockup-sheet.png")
    response = page.goto(copied)
    assert response.status == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert "total;dur=" in response.headers["server-timing"]
    context.close()


def shot(page: Any, name: str) -> None:
    if os.environ.get("STUDIO_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["STUDIO_SCREENSHOTS"], name), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_an_owner_drags_print_area_corners_with_a_live_preview(
    live_server, browser, make_user, settings
):
    """GIVEN an uploaded product photo WHEN the owner drags a corner THEN the hidden corners
    field and the live preview follow, and saving bumps the template's version."""
    from django.test import Client

    from mockups import products
    from mockups.models import ProductTemplate
    from studio.models import Membership

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = make_user("browser-templates@example.com")
    shop = Membership.objects.get(user=user).shop
    template = products.create_shop_template(
        shop, name="Board", tags="test", photo=encode(checkerboard(400, 8))
    )
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
    page.goto(f"{live_server.url}/mockups/templates/{template.id}/")
    page.wait_for_function(
        "() => { const i = document.querySelector('#printarea-preview'); return i.complete && i.naturalWidth > 0; }"
    )
    before_src = page.locator("#printarea-preview").get_attribute("src")
    before_points = page.locator("#id_points").input_value()
    handle = page.locator(".printarea .corner").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] - 60, box["y"] - 50, steps=5)
    page.mouse.up()
    page.wait_for_function(
        f"() => document.querySelector('#printarea-preview').src !== {before_src!r} && document.querySelector('#printarea-preview').src.includes('points=')"
    )
    page.wait_for_function(
        "() => { const i = document.querySelector('#printarea-preview'); return i.complete && i.naturalWidth > 0; }"
    )
    after_points = page.locator("#id_points").input_value()
    assert after_points != before_points
    shot(page, "mockup-template-edit.png")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    template.refresh_from_db()
    assert template.version == 2
    assert template.print_area["points"][0][0] < 120  # moved left from 0.3 × 400
    assert ProductTemplate.objects.filter(shop=shop).count() == 1
    context.close()

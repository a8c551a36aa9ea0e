"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium, never a downloaded
browser) against pytest-django's live server, at a desktop (1280 px) and a phone (390 px) size.

Every test may save screenshots with `shot(page, name)`: they land in tests/browser/screenshots/
(ignored by git) or in $STUDIO_SCREENSHOTS, so whoever changes a page can look at it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from studio.models import Membership
from tests.conftest import skip_or_fail

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
SHOTS = Path(os.environ.get("STUDIO_SCREENSHOTS") or Path(__file__).parent / "screenshots")


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes are
    # still synchronous, so Django's async-safety check is told so (for these tests only).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
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


def shot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot for people to look at (not compared by any test)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def signed_in(browser: Any, live_server: Any) -> Callable[..., Any]:
    """`signed_in(user, size="desktop", **context options)`: a page of a browser context logged
    in as `user` (through a session cookie), in the user's first shop; relative URLs go to the
    live server."""
    contexts: list[Any] = []

    def make(user: Any, size: str = "desktop", **options: Any) -> Any:
        client = Client()
        client.force_login(user)
        shop = Membership.objects.filter(user=user).order_by("id").first()
        if shop is not None:
            session = client.session
            session["current_shop_id"] = shop.shop_id
            session.save()
        context = browser.new_context(viewport=SIZES[size], base_url=live_server.url, **options)
        contexts.append(context)
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
        return page

    yield make
    for context in contexts:
        context.close()


def in_viewport(page: Any, locator: Any) -> bool:
    """Whether the element's box lies (at least half) inside the visible part of the page."""
    box = locator.bounding_box()
    if box is None:
        return False
    height = page.viewport_size["height"]
    visible = min(box["y"] + box["height"], height) - max(box["y"], 0)
    return visible >= min(box["height"], height) / 2


def no_horizontal_overflow(page: Any) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"
    )


def wait_in_viewport(page: Any, locator: Any, timeout: float = 5000) -> bool:
    """Wait (smooth scrolling takes a moment on a busy machine) until the element is in view."""
    handle = locator.element_handle()
    try:
        page.wait_for_function(
            """el => { const r = el.getBoundingClientRect(), h = window.innerHeight;
                 const seen = Math.min(r.bottom, h) - Math.max(r.top, 0);
                 return seen >= Math.min(r.height, h) / 2; }""",
            arg=handle,
            timeout=timeout,
        )
    except Exception:  # the assertion that follows reports where it was
        return in_viewport(page, locator)
    return True

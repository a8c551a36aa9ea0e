"""Browser test: sign up, generate two images, watch the job card finish, find them in the library.

Playwright drives Debian's Chromium (/usr/bin/chromium; never a downloaded browser) against
pytest-django's live server. The job runs on a REAL Celery worker started in this process
(`start_worker`, solo pool) on the configured broker: a private filesystem queue by default,
Redis when CELERY_BROKER_URL says so. Worker and live server share the test database.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

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
WORD = "quokkaflute"  # a distinctive word to find the images by

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def celery_worker(start_worker: Any) -> Any:
    """A real worker subprocess on the configured broker, sharing the test database."""
    return start_worker(pool="solo")


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


@pytest.mark.django_db(transaction=True)
def test_it_handles_sign_up_generate_and_find_in_library(browser, live_server, celery_worker):
    """GIVEN a new visitor WHEN they sign up and generate 2 images THEN the live job card
    finishes with both images, and the library search finds them by a word of the prompt."""
    from generations.models import Asset, Job

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    base = live_server.url

    page.goto(f"{base}/accounts/signup/")
    page.get_by_label("Email").fill("browser@example.com")
    page.get_by_label("Password").fill("a-long-passphrase-42")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("heading", name="Generate").is_visible()
    assert page.get_by_role("heading", name="What will you create today?").is_visible()

    page.get_by_label("Prompt", exact=True).fill(f'a teal {WORD} on an orange poster "HI"')
    page.get_by_label("Count").fill("2")
    page.get_by_label("Aspect ratio").select_option("1:1")
    page.get_by_role("button", name="Generate", exact=True).click()

    # HTMX puts the job card on the page; it polls until the worker finishes the job.
    card = page.locator("#jobs .job-card").first
    card.wait_for()
    page.locator('#jobs .job-card[data-status="completed"]').wait_for(timeout=60_000)
    images = card.locator(".thumbs img")
    assert images.count() == 2
    for i in range(2):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
    if os.environ.get("STUDIO_SCREENSHOTS"):
        page.screenshot(
            path=os.environ["STUDIO_SCREENSHOTS"] + "/flow-dashboard.png", full_page=True
        )

    job = Job.objects.get()
    assert job.status == Job.Status.COMPLETED and job.source == "web"
    assert Asset.objects.filter(job=job).count() == 2

    page.get_by_role("link", name="Library").click()
    page.get_by_role("searchbox", name="Search").fill(WORD)
    page.get_by_role("searchbox", name="Search").press("Enter")
    page.wait_for_url(re.compile(rf".*q={WORD}.*"))
    tiles = page.locator("#asset-grid .tile")
    tiles.first.wait_for()
    assert tiles.count() == 2
    assert all(WORD in t for t in tiles.locator(".caption").all_inner_texts())
    assert page.locator("#asset-grid img").first.evaluate("img => img.naturalWidth > 0")

    # A word that is not in the prompt finds nothing.
    page.get_by_role("searchbox", name="Search").fill("notinanyprompt")
    page.get_by_role("searchbox", name="Search").press("Enter")
    page.get_by_text("Nothing matches these filters.").wait_for()
    assert settings.MEDIA_ROOT  # files were written under the test's media root


@pytest.mark.django_db(transaction=True)
def test_it_handles_a_preset_chosen_with_htmx(browser, live_server, celery_worker, make_user):
    """GIVEN a preset WHEN it is chosen THEN its fields appear (HTMX); a missing variable comes
    back inline (a 422 swapped into the form) and, once filled in, the job completes."""
    from generations.models import Job, Preset

    user = make_user("preset@example.com", password="a-long-passphrase-42")
    Preset.objects.create(
        shop=user.memberships.get().shop,
        name="Badge",
        template='a {{colour}} badge of {{subject}}, "{{caption}}"',
        variables=[
            {"key": "subject", "label": "Subject", "required": True, "type": "text"},
            {"key": "colour", "label": "Colour", "default": "teal", "type": "text"},
            {"key": "caption", "label": "Caption", "default": "ok", "type": "text"},
        ],
        aspect_ratio="4:5",
    )
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("preset@example.com")
    page.get_by_label("Password").fill("a-long-passphrase-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_label("Preset").select_option(label="Badge")
    subject = page.get_by_label("Subject")
    subject.wait_for()
    assert page.get_by_label("Colour").input_value() == "teal"
    assert not page.get_by_role("button", name="Show fields").is_visible()  # no-JS only

    # Skip the browser's own required-field check to see the server's answer.
    page.evaluate("document.getElementById('prompt-form').noValidate = true")
    page.get_by_role("button", name="Generate", exact=True).click()
    page.get_by_role("alert").filter(has_text="Missing required variable: Subject").wait_for()
    assert not Job.objects.exists()

    page.get_by_label("Subject").fill("a wombat")
    page.get_by_role("button", name="Generate", exact=True).click()
    page.locator('#jobs .job-card[data-status="completed"]').wait_for(timeout=60_000)
    job = Job.objects.get()
    assert job.params["prompt"] == 'a teal badge of a wombat, "ok"'
    assert (job.params["width"], job.params["height"]) == (816, 1024)  # 4:5, multiples of 8
    # The form came back out of band without the error.
    assert page.get_by_role("alert").count() == 0

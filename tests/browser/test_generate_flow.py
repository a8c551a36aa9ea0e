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
from django.db import connections

from tests.conftest import skip_or_fail

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself are still synchronous, so its async-safety check must be told so.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

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
def celery_worker(tmp_path: Path) -> Iterator[Any]:
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    import generations.tasks  # noqa: F401 - registers the tasks before the app is finalized
    from studio.celery import app

    saved = app.conf.broker_transport_options
    if app.conf.broker_url.startswith("filesystem"):
        # A private queue, so no other worker on this machine (make run) takes our messages.
        queue = tmp_path / "broker"
        for sub in ("queue", "processed"):
            (queue / sub).mkdir(parents=True)
        # The Django-namespaced key is the one Celery reads (config_from_object, CELERY_*).
        app.conf["CELERY_BROKER_TRANSPORT_OPTIONS"] = {
            **saved,
            "data_folder_in": str(queue / "queue"),
            "data_folder_out": str(queue / "queue"),
            "processed_folder": str(queue / "processed"),
            "polling_interval": 0.1,
        }
    app.close()  # drop pooled connections made with the old options

    def close_connections(**_: Any) -> None:
        # The worker thread's own database connections must not outlive the test database.
        connections.close_all()

    task_postrun.connect(close_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as w:
            assert "generations.tasks.run_job" in app.tasks
            yield w
    finally:
        task_postrun.disconnect(close_connections)
        app.conf["CELERY_BROKER_TRANSPORT_OPTIONS"] = saved
        app.close()


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


@pytest.mark.django_db(transaction=True)
def test_it_handles_sign_up_generate_and_find_in_library(live_server, celery_worker, browser):
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

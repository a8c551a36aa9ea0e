"""A moderator walks the queue in Chromium: logs in to the admin, sees large previews, approves a
waiting image, hides a reported one with a reason, and the hidden image's mockup URL stops
rendering. Support opens a job's investigation page.

Images are made by the offline procedural engine (inline, no worker). With STUDIO_SCREENSHOTS set,
the pages are saved there (docs/screenshots/admin-*.png come from this test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group

from generations import actions, moderation
from generations.models import Asset, Job
from studio.staff import MODERATORS, SUPPORT
from tests.conftest import skip_or_fail

pytestmark = [pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "staff-password-2026"


@pytest.fixture
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


def shot(page: Any, name: str) -> None:
    if os.environ.get("STUDIO_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["STUDIO_SCREENSHOTS"], name), full_page=True)


def staff_user(django_user_model: Any, email: str, group: str) -> Any:
    user = django_user_model.objects.create_user(email, email, PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def generate(shop: Any, user: Any, prompt: str, seed: int, *, public: bool = True) -> Job:
    spec = actions.GenerationSpec(
        prompt=prompt, seed=seed, resolution="low", is_public=public, aspect_ratio="1:1"
    )
    job = actions.submit_generation(shop, spec, user=user)
    return actions.execute_job(str(job.id))


def go(page: Any) -> None:
    """Press the action bar's Go and wait for the page it leads to (with its messages)."""
    with page.expect_navigation():
        page.click("button[name=index]")


def log_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


@pytest.mark.django_db(transaction=True)
def test_a_moderator_walks_the_queue(
    live_server, browser, make_user, django_user_model, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    maya = make_user("maya@nightshade.example")
    nightshade = maya.memberships.get().shop
    nightshade.name = "Nightshade Tees"
    nightshade.gallery_requires_review = True
    nightshade.save()
    leo = make_user("leo@pixelpals.example")
    pixel = leo.memberships.get().shop
    pixel.name = "Pixel Pals"
    pixel.save()
    moth = generate(
        nightshade, maya, "a glowing moth over a crescent moon, linocut style", 11
    ).outputs.get()
    generate(nightshade, maya, "skull made of roses, neon pink and teal, t-shirt print", 12)
    cat = generate(pixel, leo, "cute pixel art cat eating ramen, 8-bit sticker", 21).outputs.get()
    generate(pixel, leo, "pixel knight with a heart shield, sticker", 22)
    assert moth.moderation == "pending" and cat.is_public
    for i, note in enumerate(["This is my character Ramen Cat, copied pixel for pixel.", ""]):
        moderation.report_asset(
            cat.id, reporter=make_user(f"visitor{i}@example.com"), reason="copyright", note=note
        )
    staff_user(django_user_model, "mod@example.com", MODERATORS)
    from mockups import signing

    mockup = f"{live_server.url}/m/tshirt?" + signing.signed_query(  # new shops sign
        pixel, "/m/tshirt", {"asset": live_server.url + cat.file.url, "shop": pixel.slug, "w": 400}
    )

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    assert page.goto(mockup).status == 200  # the reported image is on a t-shirt today
    log_in(page, live_server.url, "mod@example.com")
    page.click("text=Moderation queue")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3  # two waiting for review, one reported (first)
    assert "Ramen Cat" in rows.first.inner_text()
    previews = page.locator(".queue-preview img")
    for i in range(previews.count()):
        previews.nth(i).scroll_into_view_if_needed()  # they load lazily
        page.wait_for_function(
            "img => img.complete && img.naturalWidth >= 240", arg=previews.nth(i).element_handle()
        )
        assert previews.nth(i).bounding_box()["width"] >= 200  # a large preview, not a thumbnail
    shot(page, "admin-queue.png")

    # Approve the moth: tick its row, choose the action, Go.
    rows.filter(has_text="glowing moth").locator("input.action-select").check()
    page.select_option("select[name=action]", "approve")
    go(page)
    assert "Approved 1 item." in page.locator("ul.messagelist").inner_text()

    # Hiding without a reason is refused; with one it goes through.
    page.locator("#result_list tbody tr", has_text="Ramen Cat").locator(
        "input.action-select"
    ).check()
    page.select_option("select[name=action]", "hide")
    go(page)
    assert "Give a reason" in page.locator("ul.messagelist").inner_text()
    page.locator("#result_list tbody tr", has_text="Ramen Cat").locator(
        "input.action-select"
    ).check()
    page.fill("input[name=reason]", "Copies another artist's character (two copyright reports).")
    page.select_option("select[name=action]", "hide")
    go(page)
    assert "Hid 1 item." in page.locator("ul.messagelist").inner_text()
    assert page.locator("#result_list tbody tr").count() == 1  # the skull still waits
    shot(page, "admin-queue-after.png")

    moth.refresh_from_db()
    cat.refresh_from_db()
    assert (moth.moderation, moth.is_public) == ("approved", True)
    assert (cat.moderation, cat.is_public) == ("hidden", False)
    # The hidden image's mockup URL stops rendering; the gallery no longer lists it.
    # (Asked of the server: the browser may answer from its own cache, as the URL was served
    # immutable; only the server can stop rendering it.)
    response = page.request.get(mockup)
    assert response.status == 410 and response.json()["error"]["code"] == "asset_hidden"
    page.goto(f"{live_server.url}/gallery/")
    gallery = page.locator("main").inner_text()
    assert (
        "glowing moth" in gallery and "Ramen Cat" not in gallery and "pixel art cat" not in gallery
    )
    context.close()


@pytest.mark.django_db(transaction=True)
def test_support_opens_a_job_investigation_page(
    live_server, browser, make_user, django_user_model, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ines = make_user("ines@aurora.example")
    shop = ines.memberships.get().shop
    shop.name = "Aurora Prints"
    shop.save()
    spec = actions.GenerationSpec(
        prompt="northern lights over snowy pines, poster", seed=31, count=2, resolution="low"
    )
    job = actions.submit_generation(shop, spec, user=ines)
    # First attempt: the engine is unavailable and the job is retried; the second completes.
    claimed = actions.claim_job(str(job.id))
    actions.requeue_job(claimed, "fal answered 503: upstream overloaded", attempt=claimed.attempts)
    actions.execute_job(str(job.id))
    assert Job.objects.get(id=job.id).status == "completed"
    staff_user(django_user_model, "support@example.com", SUPPORT)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, "support@example.com")
    page.goto(f"{live_server.url}/admin/generations/job/?shop={shop.slug}")
    page.click(f"text={str(job.id)[:8]}")
    page.wait_for_selector("text=Attempts and timings")
    body = page.locator("#content").inner_text()
    assert "fal answered 503" in body and "Failed, retried" in body and "Completed" in body
    assert "northern lights over snowy pines" in body and "Waited in the queue" in body
    outputs = page.locator(".studio-outputs img")
    assert outputs.count() == 2
    for i in range(2):
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=outputs.nth(i).element_handle()
        )
    shot(page, "admin-job.png")
    # The job page links to its shop's investigation page.
    page.click("text=Aurora Prints")
    page.wait_for_selector("text=Investigate Aurora Prints")
    shot(page, "admin-shop.png")
    assert Asset.objects.filter(job=job).count() == 2
    context.close()

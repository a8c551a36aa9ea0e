"""Every click answers where the user is: a refused edit says why and keeps saying it, a started
job's card appears next to the button, buttons are busy while their request runs, and a double
click (or a resent form) makes one job and one charge.

No worker runs here: a submitted job stays queued, which is all these pages need to show.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from generations.library import upload_asset
from generations.models import Job
from studio.models import LedgerEntry, Membership
from tests.browser.conftest import in_viewport, shot, wait_in_viewport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def picture(width: int = 240, height: int = 180) -> bytes:
    pixels = np.full((height, width, 3), (40, 120, 200), np.uint8)
    pixels[60:120, 80:160] = (230, 60, 40)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def owner_asset(make_user):
    user = make_user("feedback@example.com")
    shop = Membership.objects.get(user=user).shop
    return user, shop, upload_asset(shop, picture(), user=user, filename="square.png")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_it_rejects_an_edit_without_its_mask_and_keeps_the_reason(signed_in, owner_asset, size):
    """GIVEN an image WHEN Erase is sent with nothing painted THEN the 422's reason shows under
    the Erase button and is still there later (static/js/operations.js used to empty it)."""
    user, _shop, asset = owner_asset
    page = signed_in(user, size)
    page.goto(f"/library/{asset.id}/")
    page.click("#op-erase summary")
    page.click("#op-erase button.primary")
    reason = page.locator("#op-error-erase")
    reason.get_by_text("Erase needs a mask: paint the region first.").wait_for()
    page.wait_for_timeout(1500)  # the old script emptied it right after the swap
    assert reason.inner_text().strip().endswith("Erase needs a mask: paint the region first.")
    assert in_viewport(page, reason)
    assert not Job.objects.exists()
    shot(page, f"asset-refused-edit-{size}")
    # The next edit sent clears it.
    page.click("#op-sketch summary")
    page.click("#op-sketch button.primary")
    page.locator("#op-result-sketch .job-card").wait_for()
    assert reason.inner_text().strip() == ""


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_it_handles_a_started_edit_with_its_card_in_view(signed_in, owner_asset, size):
    """GIVEN the asset page WHEN the last tool on the page (Image → video) is started THEN its
    job card appears right under that button, on screen, with a toast; the button was busy."""
    user, _shop, asset = owner_asset
    page = signed_in(user, size)
    page.goto(f"/library/{asset.id}/")
    page.click("#op-video summary")
    button = page.locator("#op-video button.primary")
    button.scroll_into_view_if_needed()
    # Slow the answer down a little to see the button busy while its request runs.
    page.route(
        "**/operations/video/",
        lambda route: (page.wait_for_timeout(400), route.continue_()),
    )
    button.click()
    assert button.is_disabled()
    card = page.locator("#op-result-video .job-card")
    card.wait_for()
    assert wait_in_viewport(page, card), card.bounding_box()
    assert page.locator("#toasts .toast").filter(has_text="Image → video started").count() == 1
    assert not button.is_disabled()
    shot(page, f"asset-started-edit-{size}")


def test_it_handles_a_double_click_as_one_job_and_one_charge(signed_in, owner_asset):
    """GIVEN the asset page WHEN "Image → video · 25¢" is double-clicked THEN one job is made and
    25¢ charged once (it used to make two jobs and charge 50¢)."""
    user, shop, asset = owner_asset
    page = signed_in(user)
    page.goto(f"/library/{asset.id}/")
    page.click("#op-video summary")
    page.locator("#op-video button.primary").dblclick()
    page.locator("#op-result-video .job-card").wait_for()
    page.wait_for_timeout(800)
    assert Job.objects.filter(kind="video").count() == 1
    charges = LedgerEntry.objects.filter(shop=shop, kind="charge")
    assert [c.amount_cents for c in charges] == [-25]
    # A second, deliberate click afterwards is a new job: the form got a fresh token.
    first = page.locator("#op-result-video .job-card").get_attribute("id")
    page.locator("#op-video button.primary").click()
    page.wait_for_function(
        "n => document.querySelector('#op-result-video .job-card').id !== n", arg=first
    )
    assert Job.objects.filter(kind="video").count() == 2
    # The first card went on polling without taking the result box with it.
    page.wait_for_timeout(1500)
    assert page.locator("#op-result-video > .job-card").count() == 1


def test_it_handles_a_resent_form_without_javascript_as_one_job(signed_in, owner_asset):
    """GIVEN JavaScript off WHEN the Generate form is sent twice (double click, or the browser
    resending it) THEN one job and one charge; the second answer shows the first job."""
    user, shop, _asset = owner_asset
    page = signed_in(user, java_script_enabled=False)
    page.goto("/")
    page.get_by_label("Prompt", exact=True).fill("a teal cat under a moon")
    page.get_by_label("Count").fill("2")
    # Send the same form (same one-time token) twice, as a double click does.
    form = page.locator("#prompt-form")
    data = {
        el.get_attribute("name"): el.input_value()
        for el in form.locator("input[name], textarea[name], select[name]").all()
        if el.get_attribute("type") != "submit"
    }
    first = page.request.post("/generate/", form=data, max_redirects=0)
    second = page.request.post("/generate/", form=data, max_redirects=0)
    assert first.status == 302 and second.status == 302
    assert first.headers["location"] == second.headers["location"]
    assert Job.objects.count() == 1
    assert LedgerEntry.objects.filter(shop=shop, kind="charge").count() == 1
    page.goto(f"{second.headers['location']}")
    assert page.get_by_text("That request was sent twice; it runs once, here.").is_visible()


def test_it_handles_a_double_click_on_generate(signed_in, owner_asset):
    user, shop, _asset = owner_asset
    page = signed_in(user, "phone")
    page.goto("/")
    page.get_by_label("Prompt", exact=True).fill("pink flowers and leaves, seamless pattern")
    page.get_by_role("button", name="Generate", exact=True).dblclick()
    card = page.locator("#jobs .job-card").first
    card.wait_for()
    page.wait_for_timeout(800)
    assert Job.objects.count() == 1
    assert LedgerEntry.objects.filter(shop=shop, kind="charge").count() == 1
    # On a phone the form is long: the new card is brought into view.
    assert wait_in_viewport(page, card), card.bounding_box()
    shot(page, "create-after-generate-phone")

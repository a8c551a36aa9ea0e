"""The mockup editor's pages: the design picker's search and pages, its warnings, and the
one-click background removal; the asset page's edit forms answering in their own boxes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from generations import actions
from generations.models import Asset, Job
from studio.models import LedgerEntry, Role
from tests.mockups.test_design_checks import badge_png
from tests.pagekit import make_asset

pytestmark = pytest.mark.django_db

TOKEN = "feedfacefeedfacefeedfacefeedface"


def test_it_handles_the_design_picker_pages_and_search(owner_client, shop, user):
    oldest = make_asset(
        shop, user, prompt="a quokka", created_at=timezone.now() - timedelta(days=9)
    )
    for i in range(30):
        make_asset(shop, user, prompt=f"design {i}")
    html = owner_client.get(reverse("mockup_editor"), {"asset": str(oldest.id)}).content.decode()
    # The chosen design is offered although it is older than the first page.
    picks = re.findall(r'type="radio" name="asset" value="([0-9a-f-]+)"', html)
    assert picks[0] == str(oldest.id) and len(picks) == 25
    more = re.search(r'hx-get="(/mockups/designs/\?[^"]+)"', html).group(1).replace("&amp;", "&")
    page = owner_client.get(more).content.decode()
    # The rest of the 31, without the chosen one again.
    assert len(re.findall(r'type="radio" name="asset"', page)) == 6
    assert str(oldest.id) not in re.findall(r'type="radio" name="asset" value="([0-9a-f-]+)"', page)
    found = owner_client.get(reverse("mockup_designs"), {"design_q": "quokka"}).content.decode()
    assert re.findall(r'type="radio" name="asset" value="([0-9a-f-]+)"', found) == [str(oldest.id)]
    nothing = owner_client.get(reverse("mockup_designs"), {"design_q": "zebra"}).content.decode()
    assert "No design matches" in nothing


def test_it_rejects_another_shops_design_in_the_picker(owner_client, make_user):
    other = make_user("other@example.com")
    theirs = make_asset(other.memberships.get().shop, other, prompt="theirs")
    html = owner_client.get(reverse("mockup_editor"), {"asset": str(theirs.id)}).content.decode()
    assert str(theirs.id) not in html


def test_it_handles_one_click_background_removal(owner_client, shop, user):
    asset = Asset.objects.get(
        pk=actions.store_asset(shop, badge_png(200), kind="upload", user=user).pk
    )
    editor = owner_client.get(
        reverse("mockup_editor"), {"asset": str(asset.id), "template": "tshirt"}
    )
    assert 'data-warning="background"' in editor.content.decode()
    post = {"asset": str(asset.id), "submit_token": TOKEN, "template": "tshirt", "x": "0.4"}
    started = owner_client.post(reverse("mockup_remove_background"), post, HTTP_HX_REQUEST="true")
    assert started.status_code == 200 and "Removing the background" in started.content.decode()
    again = owner_client.post(reverse("mockup_remove_background"), post, HTTP_HX_REQUEST="true")
    assert again.status_code == 200
    job = Job.objects.get(kind="remove-background")  # one job for the double click
    assert LedgerEntry.objects.filter(job=job, kind="charge").count() == 1
    poll = reverse("mockup_background_job", args=[job.id]) + "?template=tshirt&x=0.4"
    assert (
        'hx-trigger="every 1s"' in owner_client.get(poll, HTTP_HX_REQUEST="true").content.decode()
    )
    actions.execute_job(str(job.id))
    cutout = Asset.objects.get(parent=asset)
    done = owner_client.get(poll, HTTP_HX_REQUEST="true")
    assert done["HX-Redirect"] == f"/mockups/?template=tshirt&x=0.4&asset={cutout.id}"
    after = owner_client.get(done["HX-Redirect"]).content.decode()
    assert 'data-warning="background"' not in after and "Transparent margins are trimmed" in after


def test_it_rejects_background_removal_by_a_viewer_or_for_another_shop(
    shop, user, add_member, client_for, make_user, owner_client
):
    asset = make_asset(shop, user)
    viewer = client_for(add_member(shop, Role.VIEWER), shop)
    url = reverse("mockup_remove_background")
    assert viewer.post(url, {"asset": str(asset.id)}).status_code == 403
    other = make_user("other@example.com")
    theirs = make_asset(other.memberships.get().shop, other)
    assert owner_client.post(url, {"asset": str(theirs.id)}).status_code == 404
    assert not Job.objects.exists()


def test_it_handles_one_click_background_removal_without_javascript(owner_client, shop, user):
    asset = make_asset(shop, user)
    response = owner_client.post(
        reverse("mockup_remove_background"), {"asset": str(asset.id), "submit_token": TOKEN}
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.id}/"


def test_it_handles_a_refused_edit_in_the_forms_own_box(owner_client, shop, user):
    asset = make_asset(shop, user)
    url = reverse("asset_operation", args=[asset.id, "erase"])
    response = owner_client.post(
        url, {"submit_token": TOKEN}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="op-result-erase"
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#op-error-erase"
    assert "Erase needs a mask" in response.content.decode()
    # A forged target name never reaches the page as a selector.
    forged = owner_client.post(
        url, {}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET='op-result-x"><script>'
    )
    assert forged["HX-Retarget"] == "#op-error-erase"


def test_it_handles_a_started_edit_with_its_card_and_a_fresh_token(owner_client, shop, user):
    asset = make_asset(shop, user)
    url = reverse("asset_operation", args=[asset.id, "sketch"])
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "op-result-sketch"}
    first = owner_client.post(url, {"submit_token": TOKEN}, **headers)
    html = first.content.decode()
    job = Job.objects.get()
    assert f'id="job-{job.id}"' in html and "data-new" in html
    token = re.search(r'id="token-sketch" value="([0-9a-f]{32})" hx-swap-oob="true"', html)
    assert token and token.group(1) != TOKEN
    assert "Sketch started" in first["HX-Trigger"]
    second = owner_client.post(url, {"submit_token": TOKEN}, **headers)
    assert "sent twice" in second["HX-Trigger"] and Job.objects.count() == 1
    owner_client.post(url, {"submit_token": token.group(1)}, **headers)
    assert Job.objects.count() == 2


def test_it_handles_the_asset_page_history_and_detections(owner_client, shop, user):
    asset = make_asset(shop, user)
    Job.objects.create(
        shop=shop,
        kind="detect-objects",
        status="completed",
        input_asset=asset,
        result={"detected_objects": [{"bbox": [1, 2, 10, 12], "accuracy": 0.5}]},
    )
    running = Job.objects.create(shop=shop, kind="sketch", input_asset=asset)
    html = owner_client.get(reverse("asset_detail", args=[asset.id])).content.decode()
    assert html.count("data-detection=") == 1 and "Object 1 · 50% sure" in html
    assert f'id="job-{running.id}"' in html  # running edits stay live cards
    assert "History · 1 earlier edit" in html

"""Reports of public images: signed-in users only, one open report per user and image, a rate
limit per user, and resolution by the moderation decision."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from generations import moderation
from generations.models import AssetReport
from tests.pagekit import make_asset

pytestmark = pytest.mark.django_db


def report(client, asset, reason="spam", note=""):
    return client.post(
        reverse("gallery_report", args=[asset.id]), {"reason": reason, "note": note}, follow=True
    )


@pytest.fixture
def reporter(make_user, client_for):
    return client_for(make_user("reporter@example.com"))


def test_it_handles_a_report_from_a_signed_in_user(shop, user, reporter):
    asset = make_asset(shop, user, is_public=True)
    page = reporter.get(reverse("gallery_detail", args=[asset.id])).content.decode()
    assert "Report this image" in page and 'name="reason"' in page
    response = report(reporter, asset, "copyright", "This is my drawing from 2019.")
    assert "Thank you: staff will review this image." in response.content.decode()
    saved = AssetReport.objects.get()
    assert (saved.asset, saved.reason, saved.note, saved.status) == (
        asset,
        "copyright",
        "This is my drawing from 2019.",
        "open",
    )
    assert saved.reporter.email == "reporter@example.com"


def test_it_rejects_reports_from_visitors(shop, user):
    asset = make_asset(shop, user, is_public=True)
    page = Client().get(reverse("gallery_detail", args=[asset.id])).content.decode()
    assert "Log in</a> to report this image" in page
    response = Client().post(reverse("gallery_report", args=[asset.id]), {"reason": "spam"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not AssetReport.objects.exists()


def test_it_rejects_bad_reports(shop, user, reporter):
    public = make_asset(shop, user, is_public=True)
    private = make_asset(shop, user)
    assert "Choose why you are reporting" in report(reporter, public, "boring").content.decode()
    assert "longer than 1000" in report(reporter, public, "other", "x" * 1001).content.decode()
    assert report(reporter, private).status_code == 404
    assert reporter.get(reverse("gallery_report", args=[public.id])).status_code == 405
    assert not AssetReport.objects.exists()


def test_it_rejects_a_second_open_report_by_the_same_user(shop, user, reporter):
    asset = make_asset(shop, user, is_public=True)
    report(reporter, asset)
    again = report(reporter, asset, "hate")
    assert "You already reported this image" in again.content.decode()
    assert AssetReport.objects.count() == 1


def test_it_rejects_reports_over_the_rate_limit(
    settings, shop, user, reporter, make_user, client_for
):
    settings.REPORTS_PER_HOUR = 2
    assets = [make_asset(shop, user, prompt=f"p{i}", is_public=True) for i in range(3)]
    report(reporter, assets[0])
    report(reporter, assets[1])
    refused = report(reporter, assets[2])
    assert "You have sent 2 reports in the last hour" in refused.content.decode()
    assert AssetReport.objects.count() == 2
    # The limit is per user: someone else may still report.
    other = client_for(make_user("second@example.com"))
    report(other, assets[2])
    assert AssetReport.objects.filter(asset=assets[2]).count() == 1


def test_it_handles_reports_resolved_by_decisions(shop, user, moderator, make_user):
    asset = make_asset(shop, user, is_public=True)
    first = moderation.report_asset(asset.id, reporter=make_user("a@example.com"), reason="spam")
    moderation.approve([asset], by=moderator, reason="Not spam.")
    first.refresh_from_db()
    assert first.status == AssetReport.Status.DISMISSED and first.resolved_by == moderator
    # A later report opens it again for review; a hide upholds it.
    second = moderation.report_asset(asset.id, reporter=make_user("b@example.com"), reason="hate")
    moderation.hide([asset], by=moderator, reason="Hateful symbol in the corner.")
    second.refresh_from_db()
    assert second.status == AssetReport.Status.UPHELD
    with pytest.raises(moderation.ReportRefused) as refused:
        moderation.report_asset(asset.id, reporter=make_user("c@example.com"), reason="spam")
    assert refused.value.status == 404  # hidden: no longer a public image

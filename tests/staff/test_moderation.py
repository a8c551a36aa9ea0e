"""Moderation states: publishing with and without review, approve / reject / hide, what the owner
sees and is told, and the audit rows every decision writes."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from generations import actions, moderation
from generations.library import set_public
from generations.models import Asset, AssetReport
from studio.models import AuditEntry
from tests.pagekit import make_asset, make_job

pytestmark = pytest.mark.django_db

M = Asset.Moderation


def state(asset):
    asset.refresh_from_db()
    return asset.moderation, asset.is_public


def test_it_handles_publishing_without_review(shop, user):
    asset = make_asset(shop, user)
    set_public(asset, True)
    assert state(asset) == (M.UNREVIEWED, True)
    set_public(asset, False)
    assert state(asset) == (M.UNREVIEWED, False)


def test_it_handles_the_site_policy_sending_publications_to_review(settings, shop, user):
    settings.GALLERY_REQUIRES_REVIEW = True
    asset = make_asset(shop, user)
    set_public(asset, True)
    assert state(asset) == (M.PENDING, False)
    # Withdrawing before anyone looked at it makes it a plain private image again.
    set_public(asset, False)
    assert state(asset) == (M.UNREVIEWED, False)


def test_it_handles_the_shop_policy_for_new_assets(shop, user):
    shop.gallery_requires_review = True
    shop.save()
    asset = make_asset(shop, user, is_public=True)  # e.g. a job submitted with is_public
    assert state(asset) == (M.PENDING, False)


def test_it_handles_a_generation_asked_public_under_review(shop, user):
    shop.gallery_requires_review = True
    shop.save()
    job = make_job(shop, user, is_public=True)
    actions.execute_job(str(job.id))
    out = job.outputs.get()
    assert (out.moderation, out.is_public) == (M.PENDING, False)


def test_it_handles_approving_a_pending_image(
    shop, user, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    shop.gallery_requires_review = True
    shop.save()
    asset = make_asset(shop, user, prompt="a lighthouse at dusk", is_public=True)
    assert not Client().get(reverse("gallery")).content.decode().count("a lighthouse at dusk")
    with django_capture_on_commit_callbacks(execute=True):
        decision = moderation.approve([asset], by=moderator)
    assert decision.changed == [asset] and not decision.skipped
    assert state(asset) == (M.APPROVED, True)
    assert "a lighthouse at dusk" in Client().get(reverse("gallery")).content.decode()
    # An approved image goes public again without another review.
    set_public(asset, False)
    set_public(asset, True)
    assert state(asset) == (M.APPROVED, True)
    assert mailoutbox and mailoutbox[0].to == [user.email]
    assert "Approved for the public gallery" in mailoutbox[0].subject


def test_it_handles_rejecting_with_a_reason_the_owner_sees(
    owner_client, shop, user, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    asset = make_asset(shop, user, is_public=True)
    with django_capture_on_commit_callbacks(execute=True):
        moderation.reject(
            [asset], by=moderator, reason="Shows a real person's face without consent."
        )
    assert state(asset) == (M.REJECTED, False)
    html = owner_client.get(reverse("asset_detail", args=[asset.id])).content.decode()
    assert "Staff did not approve this image for the public gallery." in html
    assert "real person&#x27;s face without consent" in html
    assert "Publish to the gallery" not in html
    # Publishing again is refused with the same reason.
    response = owner_client.post(
        reverse("asset_public", args=[asset.id]), {"is_public": "1"}, follow=True
    )
    assert (
        "did not approve this image for the gallery: Shows a real person"
        in response.content.decode()
    )
    assert state(asset) == (M.REJECTED, False)
    assert "face without consent" in mailoutbox[0].body


def test_it_rejects_a_rejection_without_a_reason(shop, user, moderator):
    asset = make_asset(shop, user, is_public=True)
    with pytest.raises(moderation.ModerationError):
        moderation.reject([asset], by=moderator, reason="  ")
    with pytest.raises(moderation.ModerationError):
        moderation.hide([asset], by=moderator, reason="")
    assert state(asset) == (M.UNREVIEWED, True)
    assert not AuditEntry.objects.exists()


def test_it_handles_hiding_and_restoring(shop, user, moderator):
    asset = make_asset(shop, user, is_public=True)
    moderation.hide([asset], by=moderator, reason="Trademark of another company.")
    assert state(asset) == (M.HIDDEN, False)
    with pytest.raises(moderation.PublishRefused, match="Staff hid this image"):
        set_public(asset, True)
    # Hiding twice is reported, not repeated.
    again = moderation.hide([asset], by=moderator, reason="again")
    assert again.skipped == [(asset, "already hidden")] and not again.changed
    # Approving restores it privately: the owner decides whether to publish it again.
    moderation.approve([asset], by=moderator, reason="The company agreed.")
    assert state(asset) == (M.APPROVED, False)
    set_public(asset, True)
    assert state(asset) == (M.APPROVED, True)


def test_it_handles_bulk_publishing_under_review_from_the_library(
    owner_client, shop, user, moderator
):
    shop.gallery_requires_review = True
    shop.save()
    fresh = make_asset(shop, user, prompt="fresh")
    rejected = make_asset(shop, user, prompt="rejected")
    moderation.reject([rejected], by=moderator, reason="Blurry watermark.")
    response = owner_client.post(
        reverse("library_bulk"),
        {"action": "public", "ids": [str(fresh.id), str(rejected.id)]},
        follow=True,
    )
    html = response.content.decode()
    assert "1 item waiting for staff review" in html
    assert "1 item not published: Staff did not approve" in html
    assert state(fresh) == (M.PENDING, False) and state(rejected) == (M.REJECTED, False)
    library = owner_client.get(reverse("library")).content.decode()
    assert "in review" in library and "not approved" in library


def test_it_handles_audit_rows_for_every_decision(shop, user, moderator):
    a, b = make_asset(shop, user, is_public=True), make_asset(shop, user, is_public=True)
    AssetReport.objects.create(asset=a, reporter=user, reason="spam")
    moderation.hide([a, b], by=moderator, reason="Scam link in the image.")
    moderation.approve([b], by=moderator, reason="Mistake: b is fine.")
    rows = list(AuditEntry.objects.order_by("id"))
    assert [r.action for r in rows] == ["asset.hide", "asset.hide", "asset.approve"]
    first = next(r for r in rows if r.target_id == str(a.pk))
    assert first.actor == moderator and first.actor_label.startswith("mod@example.com")
    assert first.shop_id == shop.id and first.reason == "Scam link in the image."
    assert first.before == {"moderation": "unreviewed", "is_public": True, "moderation_reason": ""}
    assert first.after["moderation"] == "hidden" and first.after["reports_resolved"] == 1
    assert rows[2].before["moderation"] == "hidden" and rows[2].after["moderation"] == "approved"
    assert AssetReport.objects.get().status == AssetReport.Status.UPHELD


def test_it_rejects_reading_a_hidden_file_without_membership(
    owner_client, shop, user, moderator, make_user
):
    asset = make_asset(shop, user, is_public=True)
    assert Client().get(asset.file.url).status_code == 200
    moderation.hide([asset], by=moderator, reason="Nudity.")
    for url in (asset.file.url, asset.thumbnail.url):
        assert Client().get(url).status_code == 404
        member = owner_client.get(url)
        assert member.status_code == 200 and member["Cache-Control"] == "private, no-store"
    for name in ("gallery_detail", "public_asset_file", "public_asset_thumb"):
        assert Client().get(reverse(name, args=[asset.id])).status_code == 404
    staff = Client()
    staff.force_login(moderator)
    assert staff.get(asset.thumbnail.url).status_code == 200  # the queue shows hidden previews
    # A signed-in member of another shop is a stranger here.
    stranger = Client()
    stranger.force_login(make_user("stranger@example.com"))
    assert stranger.get(asset.file.url).status_code == 404


def test_it_handles_copies_of_a_hidden_image_going_to_review(shop, user, moderator):
    from generations.library import upload_asset
    from tests.conftest import png_bytes

    data = png_bytes(40, 40, (10, 200, 90))
    original = upload_asset(shop, data, user=user)
    moderation.hide([original], by=moderator, reason="Counterfeit.")
    copy = upload_asset(shop, data, user=user)  # the same bytes uploaded again
    set_public(copy, True)
    assert state(copy) == (M.PENDING, False)
    # Other images of the shop are published as usual (no review policy).
    fresh = make_asset(shop, user, is_public=True)
    assert state(fresh) == (M.UNREVIEWED, True)
    # An image derived from the hidden one (an operation's output) waits for review too.
    derived = make_asset(shop, user, kind=Asset.Kind.DERIVED, parent=original, is_public=True)
    assert state(derived) == (M.PENDING, False)

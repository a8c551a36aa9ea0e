"""The admin as staff use it: the moderation queue and its bulk decisions, the investigation pages,
the groups' permissions (a moderator cannot touch money), read-only ledger and audit trail, and the
staff actions with consequences (revoke, suspend, rate limit, refund, credit)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from generations import actions, moderation
from generations.models import Asset, AssetReport, Job, PriceRule
from studio import actions as studio_actions
from studio import apikeys
from studio.models import ApiKey, AuditEntry, AuditEntryImmutable, LedgerEntry
from studio.staff import MODERATORS, STAFF_GROUPS, SUPPORT
from tests.pagekit import make_asset, make_job

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:generations_moderationitem_changelist")


def act(client, url, action, objects, **extra):
    data = {"action": action, "_selected_action": [str(o.pk) for o in objects], **extra}
    return client.post(url, data, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- groups and permissions -----------------------------------------------------------------------


def test_it_handles_the_staff_groups_with_exactly_their_permissions():
    for name, perms in STAFF_GROUPS.items():
        group = Group.objects.get(name=name)
        have = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert have == set(perms), name
    money = {"studio.view_ledgerentry", "studio.grant_credits", "generations.view_job"}
    assert not money & set(STAFF_GROUPS[MODERATORS])
    assert "generations.moderate_asset" not in STAFF_GROUPS[SUPPORT]


def test_it_rejects_money_for_a_moderator(mod_client, moderator, shop):
    assert mod_client.get(reverse("admin:studio_ledgerentry_changelist")).status_code == 403
    assert mod_client.get(reverse("admin:generations_job_changelist")).status_code == 403
    page = mod_client.get(reverse("admin:studio_shop_change", args=[shop.pk])).content.decode()
    assert (
        "Wallet cents" not in page and "Plan budget" not in page and "View as this shop" not in page
    )
    listing = mod_client.get(reverse("admin:studio_shop_changelist")).content.decode()
    assert "grant_credit" not in listing and "set_plan_budget" not in listing
    response = act(
        mod_client,
        reverse("admin:studio_shop_changelist"),
        "grant_credit",
        [shop],
        reason="please",
        amount="5000",
    )
    assert response.status_code == 200
    shop.refresh_from_db()
    assert shop.wallet_cents == 0 and not LedgerEntry.objects.filter(kind="staff_credit").exists()


def test_it_rejects_non_staff_and_staff_without_a_group(client_for, user, make_staff):
    assert client_for(user).get(QUEUE).status_code == 302  # to the admin login
    bare = make_staff("bare@example.com")
    from tests.staff.conftest import logged_in

    assert logged_in(bare).get(QUEUE).status_code == 403


# --- the queue ----------------------------------------------------------------------------------------


@pytest.fixture
def queue_items(shop, user, make_user):
    shop.gallery_requires_review = True
    shop.save()
    pending = make_asset(shop, user, prompt="a pending poster of a fox", is_public=True)
    other = make_user("other@example.com").memberships.get().shop
    reported = make_asset(other, None, prompt="a reported sticker", is_public=True)
    moderation.report_asset(
        reported.id, reporter=make_user("r@example.com"), reason="copyright", note="My artwork."
    )
    quiet = make_asset(other, None, prompt="a quiet public image", is_public=True)
    return {"pending": pending, "reported": reported, "quiet": quiet}


def test_it_handles_the_queue_page(mod_client, queue_items):
    response = mod_client.get(QUEUE)
    html = response.content.decode()
    assert response.status_code == 200
    assert "a pending poster of a fox" in html and "a reported sticker" in html
    assert "a quiet public image" not in html  # nothing to decide about it
    assert (
        "Waiting for review" in html and "Copyright or trademark" in html and "My artwork." in html
    )
    assert "review required" in html and "in the gallery" in html  # the shop and its history
    assert 'class="queue-preview"' in html
    assert queue_items["pending"].thumbnail.url in html
    # Reported images come first.
    assert html.index("a reported sticker") < html.index("a pending poster of a fox")
    assert 'name="reason"' in html and "2 images" in html
    everything = mod_client.get(QUEUE, {"queue": "all"}).content.decode()
    assert "a quiet public image" in everything


def test_it_handles_bulk_decisions_from_the_queue(mod_client, moderator, queue_items):
    pending, reported = queue_items["pending"], queue_items["reported"]
    refused = act(mod_client, QUEUE, "hide", [reported])
    assert "Give a reason" in " ".join(messages_of(refused))
    assert Asset.objects.get(pk=reported.pk).moderation == "unreviewed"

    approved = act(mod_client, QUEUE, "approve", [pending])
    assert "Approved 1 item." in messages_of(approved)
    hidden = act(mod_client, QUEUE, "hide", [reported], reason="Copied from r@example.com's shop.")
    assert "Hid 1 item." in messages_of(hidden)

    pending.refresh_from_db()
    reported.refresh_from_db()
    assert (pending.moderation, pending.is_public) == ("approved", True)
    assert (reported.moderation, reported.is_public) == ("hidden", False)
    assert reported.moderation_reason == "Copied from r@example.com's shop."
    assert AssetReport.objects.get().status == "upheld"
    assert list(AuditEntry.objects.order_by("id").values_list("action", "actor")) == [
        ("asset.approve", moderator.pk),
        ("asset.hide", moderator.pk),
    ]
    assert "Nothing to decide here." in mod_client.get(QUEUE).content.decode()
    hidden_list = mod_client.get(QUEUE, {"queue": "hidden"}).content.decode()
    assert "a reported sticker" in hidden_list


def test_it_rejects_queue_decisions_by_support(support_client, queue_items):
    assert support_client.get(QUEUE).status_code == 403
    response = act(
        support_client,
        reverse("admin:generations_asset_changelist"),
        "hide",
        [queue_items["reported"]],
        reason="x",
    )
    assert Asset.objects.get(pk=queue_items["reported"].pk).moderation == "unreviewed"
    assert response.status_code == 200


# --- investigation pages -------------------------------------------------------------------------------


def test_it_handles_the_job_investigation_page(support_client, shop, user):
    job = make_job(shop, user, prompt="a paper crane", seed=7)
    claimed = actions.claim_job(str(job.id))
    actions.requeue_job(claimed, "Replicate answered 503", attempt=claimed.attempts)
    actions.execute_job(str(job.id))
    job.refresh_from_db()
    assert job.status == "completed" and job.attempts == 2
    html = support_client.get(
        reverse("admin:generations_job_change", args=[job.pk])
    ).content.decode()
    assert "&quot;prompt&quot;: &quot;a paper crane&quot;" in html  # parameters
    assert "Failed, retried" in html and "Replicate answered 503" in html and "Completed" in html
    assert "Waited in the queue" in html and "last started" in html  # timings
    assert 'alt="output 1"' in html and "seed 7" in html  # outputs
    assert "Charge" in html and "Left to refund" in html  # money, for support
    assert reverse("admin:studio_shop_change", args=[shop.pk]) in html


def test_it_handles_filters_on_the_investigation_lists(support_client, shop, user, make_user):
    make_job(shop, user, prompt="mine")
    other = make_user("b@example.com")
    make_job(other.memberships.get().shop, other, prompt="theirs")
    url = reverse("admin:generations_job_changelist")
    for query in ({"shop": shop.slug}, {"shop": str(shop.pk)}, {"user": "owner@"}):
        response = support_client.get(url, query)
        assert response.status_code == 200
        assert response.context["cl"].result_count == 1, query
    for query in (
        {"status__exact": "queued", "kind__exact": "generate"},
        {"engine__exact": "builtin"},
        {"created_at__gte": "2000-01-01T00:00:00+00:00"},
    ):
        assert support_client.get(url, query).status_code == 200
    ledger = support_client.get(reverse("admin:studio_ledgerentry_changelist"), {"shop": shop.slug})
    assert ledger.context["cl"].result_count == 1
    shop_page = support_client.get(
        reverse("admin:studio_shop_change", args=[shop.pk])
    ).content.decode()
    assert f"?shop={shop.slug}" in shop_page and "View as this shop" in shop_page


# --- read-only rows ----------------------------------------------------------------------------------


def test_it_rejects_edits_of_ledger_rows_and_audit_entries(root_client, shop, root):
    entry = studio_actions.staff_credit(shop, 250, by=root, reason="test credit")
    audit_row = AuditEntry.objects.get()
    for model, obj in (("studio_ledgerentry", entry), ("studio_auditentry", audit_row)):
        change = reverse(f"admin:{model}_change", args=[obj.pk])
        page = root_client.get(change)
        assert page.status_code == 200 and '<input type="submit"' not in page.content.decode()
        assert (
            root_client.post(change, {"amount_cents": "1", "reason": "edited"}).status_code == 403
        )
        assert root_client.get(reverse(f"admin:{model}_delete", args=[obj.pk])).status_code == 403
        assert root_client.get(reverse(f"admin:{model}_add")).status_code == 403
    entry.refresh_from_db()
    audit_row.refresh_from_db()
    assert entry.amount_cents == 250 and audit_row.reason == "test credit"
    with pytest.raises(AuditEntryImmutable):
        audit_row.save()
    with pytest.raises(AuditEntryImmutable):
        audit_row.delete()
    assert AuditEntry.objects.count() == 1


def test_it_handles_the_audit_trail_page(root_client, shop, root, support):
    from studio import suspension

    suspension.suspend_shops([shop], by=support, reason="fraud check")
    response = root_client.get(reverse("admin:studio_auditentry_changelist"), {"actor": "support@"})
    assert response.context["cl"].result_count == 1
    row = AuditEntry.objects.get()
    html = root_client.get(
        reverse("admin:studio_auditentry_change", args=[row.pk])
    ).content.decode()
    assert "fraud check" in html and "suspension_reason" in html and "support@example.com" in html


# --- staff actions with consequences ------------------------------------------------------------------


def test_it_handles_revoking_a_key_from_the_admin(support_client, shop):
    minted = apikeys.create_api_key(shop, scopes=["ai:generate"])
    url = reverse("admin:studio_apikey_changelist")
    assert apikeys.authenticate(minted.raw) is not None
    assert "Give a reason" in " ".join(
        messages_of(act(support_client, url, "revoke", [minted.api_key]))
    )
    response = act(support_client, url, "revoke", [minted.api_key], reason="Key leaked on GitHub.")
    assert "Revoked 1 key(s)." in messages_of(response)
    assert apikeys.authenticate(minted.raw) is None
    again = act(support_client, url, "revoke", [minted.api_key], reason="again")
    assert any("already revoked" in m for m in messages_of(again))
    row = AuditEntry.objects.get(action="apikey.revoke")
    assert row.reason == "Key leaked on GitHub." and row.after["revoked_at"]
    assert ApiKey.objects.get().revoked_at is not None


def test_it_handles_suspension_and_rate_limits_from_the_admin(support_client, mod_client, shop):
    url = reverse("admin:studio_shop_changelist")
    act(mod_client, url, "suspend", [shop], reason="spam")
    shop.refresh_from_db()
    assert shop.suspended_at is None  # moderators cannot suspend
    response = act(support_client, url, "suspend", [shop], reason="Card testing.")
    assert "Suspended 1 shop(s); 0 already were." in messages_of(response)
    response = act(
        support_client, url, "override_rate_limit", [shop], reason="Launch day.", amount="600"
    )
    assert "API rate limit set to 600 for 1 shop(s)." in messages_of(response)
    shop.refresh_from_db()
    assert shop.suspended_at is not None and shop.api_rate_limit_per_minute == 600
    assert shop.suspension_reason == "Card testing."
    actions_done = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions_done == ["shop.suspend", "shop.rate_limit"]


def test_it_handles_a_staff_refund_and_its_limit(support_client, shop, user):
    job = make_job(shop, user, count=2)  # charged 2¢
    url = reverse("admin:generations_job_changelist")
    too_much = act(support_client, url, "refund", [job], reason="slow", amount="3")
    assert "has 2¢ of its charge left to refund; 3¢ is too much" in " ".join(messages_of(too_much))
    ok = act(
        support_client, url, "refund", [job], reason="Engine returned blank images.", amount="2"
    )
    assert "Refunded $0.02" in " ".join(messages_of(ok))
    entry = LedgerEntry.objects.get(kind="staff_refund")
    assert (entry.job_id, entry.amount_cents, entry.wallet_cents) == (job.id, 2, 2)
    shop.refresh_from_db()
    assert shop.wallet_cents == 2
    assert studio_actions.refundable_cents(job) == 0
    row = AuditEntry.objects.get(action="ledger.staff_refund")
    assert row.target_id == str(job.id) and row.after["ledger_entry"] == entry.pk


def test_it_rejects_a_credit_that_makes_the_wallet_negative(shop, support):
    with pytest.raises(studio_actions.StaffActionError, match="negative"):
        studio_actions.staff_credit(shop, -1, by=support, reason="undo")
    studio_actions.staff_credit(shop, 300, by=support, reason="goodwill")
    studio_actions.staff_credit(shop, -300, by=support, reason="goodwill given twice by mistake")
    shop.refresh_from_db()
    assert shop.wallet_cents == 0
    assert list(LedgerEntry.objects.order_by("id").values_list("amount_cents", flat=True)) == [
        300,
        -300,
    ]


def test_it_handles_audit_rows_for_plain_admin_edits(root_client, root):
    rule = PriceRule.objects.create(model="builtin:procedural", cents_per_output=2)
    url = reverse("admin:generations_pricerule_change", args=[rule.pk])
    response = root_client.post(
        url,
        {
            "engine": "",
            "model": "builtin:procedural",
            "resolution": "",
            "kind": "",
            "cents_per_output": "5",
        },
    )
    assert response.status_code == 302
    row = AuditEntry.objects.get()
    assert (row.action, row.actor, row.before, row.after) == (
        "admin.change",
        root,
        {"cents_per_output": 2},
        {"cents_per_output": 5},
    )


def test_it_handles_retrying_with_the_reason_kept(support_client, support, shop, user):
    failed = make_job(shop, user)
    actions.fail_job(failed, "engine down")
    act(
        support_client,
        reverse("admin:generations_job_changelist"),
        "retry_jobs",
        [failed],
        reason="Engine is back.",
    )
    row = AuditEntry.objects.get(action="job.retry")
    new = Job.objects.get(source="admin-retry")
    assert row.actor == support and row.reason == "Engine is back."
    assert row.after["new_job"] == str(new.id) and row.before["error"] == "engine down"

"""The staff admin: every changelist, add and change page loads; job actions retry and cancel.

The staff review features (queue, groups, view-as, audit) are tested in tests/staff/."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from generations import actions
from generations.models import Job, PriceRule
from studio import actions as studio_actions
from studio.models import LedgerEntry
from tests.pagekit import make_asset, make_job, make_preset

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "x" * 12)
    client.force_login(superuser)
    return client


@pytest.fixture
def one_of_each(shop, user):
    asset = make_asset(shop, user, prompt="admin preview")
    job = make_job(shop, user)
    studio_actions.invite_member(shop, email="i@example.com", role="viewer", invited_by=user)
    PriceRule.objects.create(model="builtin:procedural", cents_per_output=2)
    make_preset(shop)
    return {"asset": asset, "job": job}


def test_it_handles_every_changelist_add_and_change_page(staff_client, one_of_each):
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = staff_client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200, info
        add = staff_client.get(reverse("admin:{}_{}_add".format(*info)))
        expected_add = 200 if model_admin.has_add_permission(changelist.wsgi_request) else 403
        assert add.status_code == expected_add, info
        obj = model._default_manager.first()
        if obj is not None:
            change = staff_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            assert change.status_code == 200, info


def test_it_handles_filters_and_search(staff_client, one_of_each):
    url = reverse("admin:generations_job_changelist")
    for query in (
        {"status__exact": "queued"},
        {"kind__exact": "generate"},
        {"engine__exact": "builtin"},
        {"q": "shop"},
    ):
        assert staff_client.get(url, query).status_code == 200
    url = reverse("admin:generations_asset_changelist")
    for query in ({"kind__exact": "generated"}, {"is_public__exact": "0"}, {"q": "preview"}):
        assert staff_client.get(url, query).status_code == 200


def test_it_handles_asset_thumbnail_previews(staff_client, one_of_each):
    asset = one_of_each["asset"]
    html = staff_client.get(reverse("admin:generations_asset_changelist")).content.decode()
    assert f'<img src="{asset.thumbnail.url}"' in html
    html = staff_client.get(
        reverse("admin:generations_asset_change", args=[asset.pk])
    ).content.decode()
    assert f'<img src="{asset.file.url}" style="max-height:480px' in html


def test_it_handles_job_output_previews(staff_client, shop, user):
    job = make_job(shop, user, count=2, width=64, height=64)
    Job.objects.filter(id=job.id).update(status="queued")
    actions.execute_job(str(job.id))
    html = staff_client.get(reverse("admin:generations_job_change", args=[job.pk])).content.decode()
    assert html.count('alt="output ') == 2


def run_action(staff_client, action, jobs, reason="customer ticket 42"):
    return staff_client.post(
        reverse("admin:generations_job_changelist"),
        {"action": action, "_selected_action": [str(j.pk) for j in jobs], "reason": reason},
        follow=True,
    )


def test_it_handles_the_cancel_action(staff_client, shop, user):
    queued = make_job(shop, user)
    done = make_job(shop, user)
    actions.cancel_job(done)
    response = run_action(staff_client, "cancel_jobs", [queued, done])
    html = response.content.decode()
    assert "Canceled 1 job(s)." in html
    # The job that could not be canceled is named with the reason.
    assert f"Not done for {done}: This job is already canceled." in html
    queued.refresh_from_db()
    assert queued.status == Job.Status.CANCELED
    assert queued.stage == "canceled by staff: customer ticket 42"
    assert LedgerEntry.objects.filter(job=queued, kind="refund").count() == 1


def test_it_handles_the_retry_action(staff_client, shop, user, django_capture_on_commit_callbacks):
    failed = make_job(shop, user, prompt="retry me")
    actions.fail_job(failed, "engine down")
    queued = make_job(shop, user)
    with django_capture_on_commit_callbacks() as callbacks:
        response = run_action(staff_client, "retry_jobs", [failed, queued])
    html = response.content.decode()
    assert "Re-submitted 1 job(s) as new jobs." in html
    assert f"Not done for {queued}: it is queued; only failed or canceled jobs are retried" in html
    retry = Job.objects.get(source="admin-retry")
    assert retry.params["prompt"] == "retry me" and retry.status == Job.Status.QUEUED
    assert LedgerEntry.objects.filter(job=retry, kind="charge").count() == 1
    assert len(callbacks) == 1  # enqueued after commit


def test_it_rejects_a_retry_the_shop_cannot_pay(staff_client, shop, user):
    failed = make_job(shop, user)
    actions.fail_job(failed, "engine down")
    shop.plan_budget_cents = 0
    shop.save()
    response = run_action(staff_client, "retry_jobs", [failed])
    assert f"Not done for {failed}: Not enough credits" in response.content.decode()
    assert not Job.objects.filter(source="admin-retry").exists()


def test_it_rejects_non_staff(owner_client):
    response = owner_client.get(reverse("admin:generations_job_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_it_rejects_ledger_edits(staff_client, shop):
    entry = studio_actions.grant_credits(shop, wallet_cents=5)
    url = reverse("admin:studio_ledgerentry_change", args=[entry.pk])
    staff_client.post(url, {"amount_cents": "999999"})
    entry.refresh_from_db()
    assert entry.amount_cents == 5
    assert (
        staff_client.get(reverse("admin:studio_ledgerentry_delete", args=[entry.pk])).status_code
        == 403
    )


def test_it_handles_wallet_credit_through_the_ledger(staff_client, shop):
    response = staff_client.post(
        reverse("admin:studio_shop_changelist"),
        {
            "action": "grant_credit",
            "_selected_action": [str(shop.pk)],
            "reason": "goodwill after the outage",
            "amount": "1000",
        },
        follow=True,
    )
    assert "$10.00 credited (a new ledger entry)." in response.content.decode()
    shop.refresh_from_db()
    assert shop.wallet_cents == 1000
    entry = LedgerEntry.objects.get(shop=shop)
    assert (entry.kind, entry.amount_cents) == ("staff_credit", 1000)
    assert entry.memo == "staff: goodwill after the outage"
    # The balance fields are not editable in the change form.
    html = staff_client.get(reverse("admin:studio_shop_change", args=[shop.pk])).content.decode()
    assert 'name="wallet_cents"' not in html and 'name="plan_budget_cents"' not in html
    assert 'name="name"' in html


def test_it_saves_a_model_name_with_its_price_and_serves_it(staff_client, settings):
    """GIVEN staff adding a model name in the admin WHEN saved THEN the catalogue serves it (the
    row reached the engines as plain values) and its price is the model's PriceRule."""
    from generations.engines import registry

    settings.REPLICATE_API_TOKEN = "r8"
    response = staff_client.post(
        reverse("admin:generations_modelconfig_add"),
        {
            "name": "house-sdxl",
            "engine": "replicate",
            "provider_model": "me/sdxl",
            "capabilities": '["text-to-image"]',
            "label": "House SDXL",
            "description": "",
            "enabled": "on",
            "max_count": "2",
            "price_cents": "9",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    spec, _ = registry.resolve("house-sdxl")
    assert (spec.engine, spec.provider_model, spec.label, spec.max_count) == (
        "replicate",
        "me/sdxl",
        "House SDXL",
        2,
    )
    assert PriceRule.objects.get(model="house-sdxl", engine="", kind="").cents_per_output == 9

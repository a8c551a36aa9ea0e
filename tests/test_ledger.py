"""Credits: plan budget first then wallet, monthly roll-over, refunds go back where they came from."""

from __future__ import annotations

import pytest
from django.db import transaction

from generations.models import Job
from studio.actions import InsufficientCredits, charge, grant_credits, refund
from studio.models import LedgerEntry

pytestmark = pytest.mark.django_db


def make_job(shop):
    return Job.objects.create(shop=shop, kind="generate", cost_cents=0)


def test_it_rolls_the_plan_budget_over_each_month(shop):
    shop.plan_budget_cents, shop.plan_used_cents, shop.plan_period = 10, 10, "2001-01"
    shop.save()
    with transaction.atomic():
        entry = charge(shop, 4, job=make_job(shop))
    shop.refresh_from_db()
    assert entry.plan_cents == -4
    assert shop.plan_used_cents == 4 and shop.plan_period != "2001-01"


def test_insufficient_credits_changes_nothing(shop):
    shop.plan_budget_cents, shop.wallet_cents = 1, 1
    shop.save()
    with pytest.raises(InsufficientCredits) as err, transaction.atomic():
        charge(shop, 3, job=make_job(shop))
    assert (err.value.required_cents, err.value.available_cents) == (3, 2)
    shop.refresh_from_db()
    assert (shop.plan_used_cents, shop.wallet_cents) == (0, 1)
    assert not LedgerEntry.objects.exists()


def test_a_refund_returns_wallet_money_first_and_only_once(shop):
    shop.plan_budget_cents, shop.wallet_cents = 2, 5
    shop.save()
    job = make_job(shop)
    with transaction.atomic():
        charge(shop, 6, job=job)
    with transaction.atomic():
        first = refund(job, 3)
        second = refund(job, 3)
    assert (first.wallet_cents, first.plan_cents) == (3, 0)
    assert second is None
    shop.refresh_from_db()
    assert (shop.wallet_cents, shop.plan_used_cents) == (4, 2)


def test_a_refund_after_the_month_ended_goes_to_the_wallet(shop):
    shop.plan_budget_cents = 10
    shop.save()
    job = make_job(shop)
    with transaction.atomic():
        charge(shop, 5, job=job)
    LedgerEntry.objects.filter(job=job).update(period="2001-01")
    with transaction.atomic():
        entry = refund(job, 5)
    assert (entry.plan_cents, entry.wallet_cents) == (0, 5)


def test_refund_is_capped_at_the_charge(shop):
    job = make_job(shop)
    with transaction.atomic():
        charge(shop, 2, job=job)
        entry = refund(job, 50)
    assert entry.amount_cents == 2


def test_grants_and_topups_are_recorded(shop):
    grant_credits(shop, wallet_cents=700, memo="top-up")
    shop.refresh_from_db()
    assert shop.wallet_cents == 700
    assert LedgerEntry.objects.get(kind="topup").amount_cents == 700

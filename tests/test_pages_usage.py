"""The usage page: balance, plan versus wallet, and the ledger."""

from __future__ import annotations

import pytest
from django.urls import reverse

from generations import actions
from studio import actions as studio_actions
from studio.models import Role
from tests.pagekit import make_job

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.OWNER, Role.DESIGNER, Role.VIEWER])
def test_it_handles_the_usage_page_for_each_role(role, shop, user, add_member, client_for):
    studio_actions.grant_credits(shop, wallet_cents=250, memo="welcome top-up")
    job = make_job(shop, user, count=3)
    actions.cancel_job(job, reason="changed my mind")
    response = client_for(add_member(shop, role), shop).get(reverse("usage"))
    html = response.content.decode()
    assert response.status_code == 200
    # New shops have a $5.00 plan; 3 cents were charged then refunded.
    assert "$7.50" in html  # available: plan 5.00 + wallet 2.50
    assert "$2.50" in html and "welcome top-up" in html
    assert "−$0.03" in html and "changed my mind" in html
    assert reverse("job_detail", args=[job.id]) in html


def test_it_handles_plan_and_wallet_split(owner_client, shop, user):
    shop.plan_budget_cents = 2
    shop.save()
    studio_actions.grant_credits(shop, wallet_cents=100)
    make_job(shop, user, count=3)
    html = owner_client.get(reverse("usage")).content.decode()
    assert "$0.02 used of $0.02" in html
    assert "$0.99" in html  # wallet after paying the third cent


def test_it_handles_ledger_pages(owner_client, shop):
    for i in range(60):
        studio_actions.grant_credits(shop, wallet_cents=1, memo=f"grant {i}")
    first = owner_client.get(reverse("usage")).content.decode()
    assert "Page 1 of 2" in first and "grant 59" in first and "grant 5<" not in first
    second = owner_client.get(reverse("usage"), {"page": "2"}).content.decode()
    assert "grant 0<" in second
    assert owner_client.get(reverse("usage"), {"page": "junk"}).status_code == 200

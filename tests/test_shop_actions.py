"""Shop actions the owner's pages call: settings, revoking an invitation, and plan usage."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studio import actions, apikeys
from studio.models import Invitation, Role, Shop
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_it_updates_the_shop_settings(shop: Shop) -> None:
    actions.update_shop_settings(
        shop, name="Renamed", default_model="builtin:procedural", api_rate_limit_per_minute=30
    )
    shop.refresh_from_db()
    assert (shop.name, shop.default_model, shop.api_rate_limit_per_minute) == (
        "Renamed",
        "builtin:procedural",
        30,
    )


def test_it_forgets_the_shops_cached_keys_again_after_commit(
    shop: Shop, django_capture_on_commit_callbacks
) -> None:
    minted = apikeys.create_api_key(shop, scopes=list(apikeys.SCOPES), name="ci")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.update_shop_settings(
            shop, name=shop.name, default_model="", api_rate_limit_per_minute=7
        )
        assert apikeys.authenticate(minted.raw) is not None  # a lookup before the commit
    assert any(e.shop_id == shop.pk for e in apikeys._cache.values())
    for callback in callbacks:
        callback()
    assert not any(e.shop_id == shop.pk for e in apikeys._cache.values())


def test_it_revokes_an_invitation_so_its_link_stops_working(shop: Shop, user) -> None:
    sent = actions.invite_member(shop, email="new@example.com", role=Role.DESIGNER, invited_by=user)
    token = sent.url.rstrip("/").rsplit("/", 1)[-1]
    assert actions.lookup_invitation(token) is not None
    actions.revoke_invitation(sent.invitation)
    assert not Invitation.objects.filter(shop=shop).exists()
    assert actions.lookup_invitation(token) is None


def test_plan_used_is_one_figure_on_the_page_and_in_the_api(shop: Shop, user, client_for) -> None:
    """GIVEN a shop that spent 300 of its plan this month, then staff lowered the budget to 200,
    THEN the usage page and /v0/usage both report 300 used and 0 remaining."""
    actions.charge(shop, 300)
    Shop.objects.filter(pk=shop.pk).update(plan_budget_cents=200)
    shop.refresh_from_db()
    assert shop.plan_used_in() == 300
    assert shop.plan_used_in("1999-01") == 0
    assert shop.plan_remaining_cents() == 0

    html = client_for(user, shop).get(reverse("usage")).content.decode()
    assert "$3.00 used of $2.00" in html

    minted = apikeys.create_api_key(shop, scopes=list(apikeys.SCOPES), name="usage")
    body = ApiClient(minted.raw).get("/v0/usage").json()
    assert body["data"]["credits"]["planUsed"] == 300
    assert body["data"]["credits"]["planRemaining"] == 0

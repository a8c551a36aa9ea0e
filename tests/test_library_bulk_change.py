"""library.bulk_change: the action behind the library's bulk delete / publish / unpublish."""

from __future__ import annotations

import pytest

from generations.library import BULK_LIMIT, bulk_change
from generations.models import Asset
from studio.models import Membership, Role
from tests.pagekit import make_asset

pytestmark = pytest.mark.django_db


def test_it_acts_only_on_a_designers_own_items(shop, user, add_member):
    designer = add_member(shop, Role.DESIGNER)
    own = make_asset(shop, designer, prompt="mine")
    theirs = make_asset(shop, user, prompt="the owner's")
    outcome = bulk_change(shop, [own.id, theirs.id], "delete", by=designer, manage_all=False)
    assert outcome.changed == [own] and outcome.skipped == 1
    assert list(Asset.objects.filter(shop=shop)) == [theirs]


def test_an_owner_publishes_every_item(shop, user, add_member):
    designer = add_member(shop, Role.DESIGNER)
    assets = [make_asset(shop, designer), make_asset(shop, user)]
    outcome = bulk_change(shop, [a.id for a in assets], "public", by=user, manage_all=True)
    assert outcome.skipped == 0 and len(outcome.publication.published) == 2
    assert Asset.objects.filter(shop=shop, is_public=True).count() == 2
    outcome = bulk_change(shop, [assets[0].id], "private", by=user, manage_all=True)
    assert outcome.publication.private == [assets[0]]
    assert list(Asset.objects.filter(shop=shop, is_public=True)) == [assets[1]]


def test_it_ignores_another_shops_ids(shop, user, make_user):
    rival = make_user("rival@example.com")
    rival_shop = Membership.objects.get(user=rival).shop
    theirs = make_asset(rival_shop, rival)
    outcome = bulk_change(shop, [theirs.id], "delete", by=user, manage_all=True)
    assert outcome.changed == [] and outcome.skipped == 0
    assert Asset.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize(("action", "count"), [("archive", 1), ("delete", BULK_LIMIT + 1)])
def test_it_rejects_unknown_actions_and_too_many_ids(shop, user, action, count):
    asset = make_asset(shop, user)
    with pytest.raises(ValueError, match=r"bulk action|at a time"):
        bulk_change(shop, [asset.id] * count, action, by=user, manage_all=True)
    assert Asset.objects.filter(pk=asset.pk).exists()
